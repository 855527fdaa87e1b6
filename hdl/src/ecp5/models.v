// Behavioural models of the ECP5 primitives coldgate instantiates, for Verilator (--timing,
// time unit 1 ns). Written for coldgate from Lattice's descriptions (TN1265, TN1263); they
// model what the design relies on, not every mode of the silicon.

// Input delay: DEL_VALUE taps of 25 ps (USER_DEFINED mode).
module DELAYG(input A, output Z);
  parameter DEL_MODE = "USER_DEFINED";
  parameter DEL_VALUE = 0;
  assign #(DEL_VALUE * 0.025) Z = A;
endmodule

// DDR input register: D sampled on the rising edge (Q0) and on the falling edge after it
// (Q1); both leave together on the next rising edge.
module IDDRX1F(input D, input SCLK, input RST, output reg Q0, output reg Q1);
  reg at_rise, at_fall;
  always @(posedge SCLK) begin
    Q0 <= RST ? 1'b0 : at_rise;
    Q1 <= RST ? 1'b0 : at_fall;
    at_rise <= D;
  end
  always @(negedge SCLK) at_fall <= D;
endmodule

// DDR output register: D0 and D1 taken on the rising edge; D0 leaves while SCLK is high,
// D1 while it is low.
module ODDRX1F(input D0, input D1, input SCLK, input RST, output Q);
  reg high_half, low_half, low_next;
  always @(posedge SCLK) begin
    high_half <= RST ? 1'b0 : D0;
    low_next <= RST ? 1'b0 : D1;
  end
  always @(negedge SCLK) low_half <= low_next;
  assign Q = SCLK ? high_half : low_half;
endmodule

// PLL, feedback from CLKOP: CLKOP runs at CLKI * CLKFB_DIV / CLKI_DIV. The model measures
// the period of CLKI, then runs CLKOP at the divided period; LOCK rises after 16 input
// periods of measurement.
module EHXPLLL(input CLKI, input CLKFB, input RST, input STDBY, input PHASESEL0, input PHASESEL1,
               input PHASEDIR, input PHASESTEP, input PHASELOADREG, input PLLWAKESYNC,
               input ENCLKOP, output reg CLKOP, output CLKINTFB, output reg LOCK);
  parameter PLLRST_ENA = "DISABLED";
  parameter INTFB_WAKE = "DISABLED";
  parameter STDBY_ENABLE = "DISABLED";
  parameter DPHASE_SOURCE = "DISABLED";
  parameter OUTDIVIDER_MUXA = "DIVA";
  parameter OUTDIVIDER_MUXB = "DIVB";
  parameter OUTDIVIDER_MUXC = "DIVC";
  parameter OUTDIVIDER_MUXD = "DIVD";
  parameter CLKI_DIV = 1;
  parameter CLKOP_ENABLE = "ENABLED";
  parameter CLKOP_DIV = 8;
  parameter CLKOP_CPHASE = 0;
  parameter CLKOP_FPHASE = 0;
  parameter FEEDBK_PATH = "CLKOP";
  parameter CLKFB_DIV = 1;
  assign CLKINTFB = 1'b0;
  realtime last_edge = 0.0, period = 0.0;
  integer edges = 0;
  initial begin
    CLKOP = 1'b0;
    LOCK = 1'b0;
  end
  always @(posedge CLKI) begin
    if (edges > 0) period = $realtime - last_edge;
    last_edge = $realtime;
    edges = edges + 1;
    if (edges == 16) LOCK = 1'b1;
  end
  initial begin
    wait (edges >= 2);
    forever begin
      #(period * CLKI_DIV / CLKFB_DIV / 2.0) CLKOP = ~CLKOP;
    end
  end
endmodule
