//! Lattice ECP5 primitives as rust-hdl black boxes: the DDR input and output registers
//! (`IDDRX1F`, `ODDRX1F`), the fixed input delay (`DELAYG`) and the PLL (`EHXPLLL`).
//!
//! Each block's Verilog instantiates the primitive by its vendor name and declares nothing
//! else: yosys `synth_ecp5` knows these cells. What a simulator needs instead are the
//! behavioural models in [`SIM_MODELS`] (written for this crate from Lattice's descriptions
//! in TN1265 "ECP5 High-Speed I/O Interface" and TN1263 "ECP5 sysCLOCK PLL"), which a
//! Verilator run compiles beside the design, and [`BLACKBOXES`], the empty declarations a
//! plain `yosys` check (without `synth_ecp5`'s cell library) needs.
//!
//! The rust-hdl `update` of each block follows the same model where rust-hdl's simulator can
//! express it (edges of one clock); the PLL's frequency change it cannot, see [`Pll`].

use rust_hdl::prelude::*;

/// Behavioural Verilog models of the primitives, for Verilator (`--timing`, delays in ns).
pub const SIM_MODELS: &str = include_str!("models.v");

/// Empty `(* blackbox *)` declarations of the primitives, for a yosys run without the ECP5
/// cell library (rust-hdl's `yosys_validate`).
pub const BLACKBOXES: &str = "\
(* blackbox *) module IDDRX1F(input D, input SCLK, input RST, output Q0, output Q1); endmodule
(* blackbox *) module ODDRX1F(input D0, input D1, input SCLK, input RST, output Q); endmodule
(* blackbox *) module DELAYG(input A, output Z); parameter DEL_MODE = \"USER_DEFINED\"; parameter DEL_VALUE = 0; endmodule
(* blackbox *) module EHXPLLL(input CLKI, input CLKFB, input RST, input STDBY, input PHASESEL0, input PHASESEL1, input PHASEDIR, input PHASESTEP, input PHASELOADREG, input PLLWAKESYNC, input ENCLKOP, output CLKOP, output CLKINTFB, output LOCK);
  parameter PLLRST_ENA = \"DISABLED\"; parameter INTFB_WAKE = \"DISABLED\"; parameter STDBY_ENABLE = \"DISABLED\";
  parameter DPHASE_SOURCE = \"DISABLED\"; parameter OUTDIVIDER_MUXA = \"DIVA\"; parameter OUTDIVIDER_MUXB = \"DIVB\";
  parameter OUTDIVIDER_MUXC = \"DIVC\"; parameter OUTDIVIDER_MUXD = \"DIVD\"; parameter CLKI_DIV = 1;
  parameter CLKOP_ENABLE = \"ENABLED\"; parameter CLKOP_DIV = 8; parameter CLKOP_CPHASE = 0; parameter CLKOP_FPHASE = 0;
  parameter FEEDBK_PATH = \"CLKOP\"; parameter CLKFB_DIV = 1;
endmodule
";

/// One `DELAYG` tap, picoseconds (ECP5 data sheet, input delay cell).
pub const DELAY_TAP_PS: u32 = 25;
/// Taps a `DELAYG` takes (its `DEL_VALUE` is 7 bits).
pub const DELAY_MAX_TAPS: u32 = 127;

/// `N` input pins through `DELAYG` then `IDDRX1F`, all clocked by `clock`: on every rising
/// edge `rise` gets what the pins held at the previous rising edge and `fall` what they held
/// at the falling edge after it (one clock of latency, as the primitive has).
#[derive(LogicBlock)]
pub struct DdrIn<const N: usize> {
    pub clock: Signal<In, Clock>,
    pub pins: Signal<In, Bits<N>>,
    pub rise: Signal<Out, Bits<N>>,
    pub fall: Signal<Out, Bits<N>>,
    _delay_taps: u32,
    _sampled_rise: Bits<N>,
    _sampled_fall: Bits<N>,
}

impl<const N: usize> DdrIn<N> {
    /// Pins delayed by `delay_ps` (rounded down to whole taps) before they are sampled.
    ///
    /// # Panics
    /// If the delay needs more taps than `DELAYG` has: a design constant out of range.
    pub fn new(delay_ps: u32) -> Self {
        let taps = delay_ps / DELAY_TAP_PS;
        assert!(taps <= DELAY_MAX_TAPS, "{delay_ps} ps is beyond DELAYG");
        DdrIn {
            clock: Default::default(),
            pins: Default::default(),
            rise: Default::default(),
            fall: Default::default(),
            _delay_taps: taps,
            _sampled_rise: Default::default(),
            _sampled_fall: Default::default(),
        }
    }
}

impl<const N: usize> Logic for DdrIn<N> {
    fn update(&mut self) {
        // rust-hdl's simulator has no delays: the pins are taken as already centred.
        if self.clock.pos_edge() {
            self.rise.next = self._sampled_rise;
            self.fall.next = self._sampled_fall;
            self._sampled_rise = self.pins.val();
        }
        if self.clock.neg_edge() {
            self._sampled_fall = self.pins.val();
        }
    }

    fn connect(&mut self) {
        self.rise.connect();
        self.fall.connect();
    }

    fn hdl(&self) -> Verilog {
        let code = (0..N)
            .map(|i| {
                format!(
                    "wire delayed_{i};\n\
                     DELAYG #(.DEL_MODE(\"USER_DEFINED\"), .DEL_VALUE({taps})) delay_{i}(.A(pins[{i}]), .Z(delayed_{i}));\n\
                     IDDRX1F ddr_{i}(.D(delayed_{i}), .SCLK(clock), .RST(1'b0), .Q0(rise[{i}]), .Q1(fall[{i}]));\n",
                    taps = self._delay_taps
                )
            })
            .collect();
        Verilog::Wrapper(Wrapper {
            code,
            cores: String::new(),
        })
    }
}

/// `N` output pins through `ODDRX1F` clocked by `clock`: what `rise` and `fall` hold at a
/// rising edge leaves during the high and then the low half of the clock that follows.
#[derive(LogicBlock, Default)]
pub struct DdrOut<const N: usize> {
    pub clock: Signal<In, Clock>,
    pub rise: Signal<In, Bits<N>>,
    pub fall: Signal<In, Bits<N>>,
    pub pins: Signal<Out, Bits<N>>,
    _held_fall: Bits<N>,
}

impl<const N: usize> Logic for DdrOut<N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.pins.next = self.rise.val();
            self._held_fall = self.fall.val();
        }
        if self.clock.neg_edge() {
            self.pins.next = self._held_fall;
        }
    }

    fn connect(&mut self) {
        self.pins.connect();
    }

    fn hdl(&self) -> Verilog {
        let code = (0..N)
            .map(|i| {
                format!(
                    "ODDRX1F ddr_{i}(.D0(rise[{i}]), .D1(fall[{i}]), .SCLK(clock), .RST(1'b0), .Q(pins[{i}]));\n"
                )
            })
            .collect();
        Verilog::Wrapper(Wrapper {
            code,
            cores: String::new(),
        })
    }
}

/// Divider settings of [`Pll`]: `f_out = f_in * feedback_div / input_div`, with the VCO at
/// `f_out * output_div` (TN1263: the feedback is taken from CLKOP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PllDividers {
    pub input_div: u32,
    pub feedback_div: u32,
    pub output_div: u32,
}

/// VCO range of the ECP5 PLL, MHz (data sheet).
pub const PLL_VCO_MHZ: (u32, u32) = (400, 800);
/// Phase-detector input range, MHz.
pub const PLL_PFD_MHZ: (u32, u32) = (10, 400);

impl PllDividers {
    /// Exact dividers for `in_mhz` to `out_mhz` (integer MHz), the VCO nearest the middle of
    /// its range; `None` when no setting gives the frequency exactly.
    pub fn exact(in_mhz: u32, out_mhz: u32) -> Option<PllDividers> {
        let mid = (PLL_VCO_MHZ.0 + PLL_VCO_MHZ.1) / 2;
        (1..=128)
            .flat_map(|i| (1..=80).map(move |f| (i, f)))
            .filter(|&(i, f)| in_mhz * f == out_mhz * i)
            .filter(|&(i, _)| (PLL_PFD_MHZ.0..=PLL_PFD_MHZ.1).contains(&(in_mhz / i)))
            .flat_map(|(i, f)| (1..=128).map(move |o| (i, f, o)))
            .filter(|&(_, _, o)| (PLL_VCO_MHZ.0..=PLL_VCO_MHZ.1).contains(&(out_mhz * o)))
            .min_by_key(|&(i, _, o)| ((out_mhz * o).abs_diff(mid), i))
            .map(|(input_div, feedback_div, output_div)| PllDividers {
                input_div,
                feedback_div,
                output_div,
            })
    }
}

/// The `EHXPLLL` PLL, output CLKOP fed back into itself. `locked` is the PLL's LOCK.
///
/// rust-hdl's simulator cannot make a new frequency, so there `clock_out` follows
/// `clock_in` and `locked` is high; the Verilog model in [`SIM_MODELS`] measures CLKI and
/// runs CLKOP at the divided frequency, raising LOCK after a few input periods.
#[derive(LogicBlock)]
pub struct Pll {
    pub clock_in: Signal<In, Clock>,
    pub clock_out: Signal<Out, Clock>,
    pub locked: Signal<Out, Bit>,
    _dividers: PllDividers,
    _in_mhz: u32,
    _out_mhz: u32,
}

impl Pll {
    /// A PLL making `out_mhz` from `in_mhz`.
    ///
    /// # Panics
    /// If no divider setting makes exactly `out_mhz` (a design constant).
    pub fn new(in_mhz: u32, out_mhz: u32) -> Pll {
        let dividers = PllDividers::exact(in_mhz, out_mhz)
            .unwrap_or_else(|| panic!("the ECP5 PLL cannot make {out_mhz} MHz from {in_mhz} MHz"));
        Pll {
            clock_in: Default::default(),
            clock_out: Default::default(),
            locked: Default::default(),
            _dividers: dividers,
            _in_mhz: in_mhz,
            _out_mhz: out_mhz,
        }
    }

    pub fn dividers(&self) -> PllDividers {
        self._dividers
    }
}

impl Logic for Pll {
    fn update(&mut self) {
        self.clock_out.next = self.clock_in.val();
        self.locked.next = true;
    }

    fn connect(&mut self) {
        self.clock_out.connect();
        self.locked.connect();
    }

    fn hdl(&self) -> Verilog {
        let d = self._dividers;
        // CLKOP_CPHASE is the output divider minus one: no phase shift (what ecppll writes).
        let code = format!(
            "(* FREQUENCY_PIN_CLKI=\"{fin}\" *) (* FREQUENCY_PIN_CLKOP=\"{fout}\" *)\n\
             (* ICP_CURRENT=\"12\" *) (* LPF_RESISTOR=\"8\" *) (* MFG_ENABLE_FILTEROPAMP=\"1\" *) (* MFG_GMCREF_SEL=\"2\" *)\n\
             EHXPLLL #(.PLLRST_ENA(\"DISABLED\"), .INTFB_WAKE(\"DISABLED\"), .STDBY_ENABLE(\"DISABLED\"),\n\
             \x20 .DPHASE_SOURCE(\"DISABLED\"), .OUTDIVIDER_MUXA(\"DIVA\"), .OUTDIVIDER_MUXB(\"DIVB\"),\n\
             \x20 .OUTDIVIDER_MUXC(\"DIVC\"), .OUTDIVIDER_MUXD(\"DIVD\"), .CLKI_DIV({i}), .CLKOP_ENABLE(\"ENABLED\"),\n\
             \x20 .CLKOP_DIV({o}), .CLKOP_CPHASE({cphase}), .CLKOP_FPHASE(0), .FEEDBK_PATH(\"CLKOP\"), .CLKFB_DIV({f}))\n\
             pll(.RST(1'b0), .STDBY(1'b0), .CLKI(clock_in), .CLKOP(clock_out), .CLKFB(clock_out),\n\
             \x20 .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1), .PHASESTEP(1'b1), .PHASELOADREG(1'b1),\n\
             \x20 .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0), .LOCK(locked));\n",
            fin = self._in_mhz,
            fout = self._out_mhz,
            i = d.input_div,
            f = d.feedback_div,
            o = d.output_div,
            cphase = d.output_div - 1,
        );
        Verilog::Wrapper(Wrapper {
            code,
            cores: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate<U: Block>(name: &str, uut: &mut U) {
        uut.connect_all();
        check_all(uut).unwrap();
        let v = generate_verilog(uut) + BLACKBOXES;
        yosys_validate(name, &v).unwrap();
    }

    #[test]
    fn ddr_in_checks_and_validates() {
        let mut uut = DdrIn::<5>::new(2_000);
        uut.clock.connect();
        uut.pins.connect();
        validate("cg_ecp5_ddr_in", &mut uut);
        let v = generate_verilog(&uut);
        // 2 ns at 25 ps a tap.
        assert_eq!(v.matches(".DEL_VALUE(80)").count(), 5, "{v}");
    }

    #[test]
    fn ddr_out_checks_and_validates() {
        let mut uut = DdrOut::<5>::default();
        uut.clock.connect();
        uut.rise.connect();
        uut.fall.connect();
        validate("cg_ecp5_ddr_out", &mut uut);
    }

    #[test]
    fn pll_checks_and_validates() {
        let mut uut = Pll::new(25, 125);
        uut.clock_in.connect();
        validate("cg_ecp5_pll", &mut uut);
    }

    #[test]
    fn pll_dividers_are_exact_and_in_range() {
        // What Lattice's and prjtrellis' ecppll choose for the board: 25 -> 125 MHz, VCO 625.
        assert_eq!(
            PllDividers::exact(25, 125),
            Some(PllDividers {
                input_div: 1,
                feedback_div: 5,
                output_div: 5
            })
        );
        let d = PllDividers::exact(25, 150).unwrap();
        assert_eq!(25 * d.feedback_div, 150 * d.input_div);
        assert!((400..=800).contains(&(150 * d.output_div)));
        assert_eq!(PllDividers::exact(25, 7), None);
    }
}
