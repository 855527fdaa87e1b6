//! The whole Colorlight top's generated Verilog in Verilator, with the ECP5 primitive models:
//! the 25 MHz oscillator through the PLL model, the reset sequencer, and two PHYs sending
//! RGMII (nibbles on both edges, their clocks 0.3% either side of the core's) with frames
//! back to back at the minimum gap on both ports at once. Valid requests and responses,
//! frames with a bad FCS, a foreign EtherType, a wrong destination, and coldgate frames a
//! lane drops. What leaves each port's RGMII pins must be exactly what the golden Ethernet
//! model (`coldgate_spec::eth::golden`) sends on that port, with that port's header and a
//! fresh FCS; the LED must light once both ports run with a gigabit link.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use coldgate_hdl::boards::colorlight::{files, status_counter_names, BoardTiming, MODULE};
use coldgate_hdl::boards::status::{STATUS_LEN, STATUS_SYNC};
use coldgate_hdl::flow::VERILATOR_WAIVERS;
use coldgate_spec::eth::golden::EthModel;
use coldgate_spec::eth::{self, EthPort};
use coldgate_spec::field::{header, FRAME_LEN};
use coldgate_spec::vectors::{patched, sealed};
use coldgate_spec::Body;

/// Clocks per bit of the status line in this test.
const STATUS_DIVISOR: u16 = 4;

/// The PHYs' in-band status between frames: link up, 1000 Mbit/s, full duplex.
const IDLE_STATUS: u8 = 0xDD;

const TESTBENCH: &str = r#"
module tb;
  integer u_n = 0, t_n = 0, u_i = 0, t_i = 0, idle = 0;
  reg clk25 = 0, u_phy = 0, t_phy = 0;
  wire u_rxc, t_rxc;
  reg u_rx_ctl = 0, t_rx_ctl = 0;
  reg [3:0] u_rxd = 4'hD, t_rxd = 4'hD;
  wire led_n, phy_rst_n, status_tx, u_txc, u_tx_ctl, t_txc, t_tx_ctl;
  wire [3:0] u_txd, t_txd;
  reg [9:0] u_ev [0:65535];
  reg [9:0] t_ev [0:65535];
  reg go = 0;
  real u_half = 4.0, t_half = 4.0;
  // The RXC pin to the DDR registers (see rgmii_verilator.rs).
  assign #4 u_rxc = u_phy;
  assign #4 t_rxc = t_phy;
  coldgate_colorlight dut(.clk25(clk25), .rst_n(1'b1), .led_n(led_n), .phy_rst_n(phy_rst_n), .status_tx(status_tx),
    .u_rxc(u_rxc), .u_rx_ctl(u_rx_ctl), .u_rxd(u_rxd), .u_txc(u_txc), .u_tx_ctl(u_tx_ctl), .u_txd(u_txd),
    .t_rxc(t_rxc), .t_rx_ctl(t_rx_ctl), .t_rxd(t_rxd), .t_txc(t_txc), .t_tx_ctl(t_tx_ctl), .t_txd(t_txd));
  initial begin
    if (!$value$plusargs("u_n=%d", u_n)) $fatal(1, "no +u_n");
    if (!$value$plusargs("t_n=%d", t_n)) $fatal(1, "no +t_n");
    void'($value$plusargs("u_half=%f", u_half));
    void'($value$plusargs("t_half=%f", t_half));
    $readmemh("u.hex", u_ev);
    $readmemh("t.hex", t_ev);
  end
  always #20 clk25 = ~clk25;
  initial forever #(u_half) u_phy = ~u_phy;
  initial begin #1.7; forever #(t_half) t_phy = ~t_phy; end
  // The PHYs send only once the LED says both ports run with a gigabit link.
  initial begin
    wait (phy_rst_n == 1'b1);
    wait (led_n == 1'b0);
    $display("READY");
    go = 1;
  end
  always @(u_phy) begin
    if (go && u_i < u_n) begin
      if (u_phy) begin u_rxd <= u_ev[u_i][3:0]; u_rx_ctl <= u_ev[u_i][8]; end
      else begin u_rxd <= u_ev[u_i][7:4]; u_rx_ctl <= u_ev[u_i][8] ^ u_ev[u_i][9]; u_i <= u_i + 1; end
    end else begin u_rxd <= 4'hD; u_rx_ctl <= 0; end
  end
  always @(t_phy) begin
    if (go && t_i < t_n) begin
      if (t_phy) begin t_rxd <= t_ev[t_i][3:0]; t_rx_ctl <= t_ev[t_i][8]; end
      else begin t_rxd <= t_ev[t_i][7:4]; t_rx_ctl <= t_ev[t_i][8] ^ t_ev[t_i][9]; t_i <= t_i + 1; end
    end else begin t_rxd <= 4'hD; t_rx_ctl <= 0; end
  end
  // The PHYs' transmit side: sample 2 ns after each TXC edge; one line per burst.
  reg [3:0] u_lo, t_lo;
  reg u_en, t_en, u_in = 0, t_in = 0;
  // Each burst is printed whole when it ends: the two ports send at the same time.
  string u_buf = "", t_buf = "";
  always @(posedge u_txc) begin #2; u_lo = u_txd; u_en = u_tx_ctl; end
  always @(negedge u_txc) begin
    #2;
    if (u_en) begin
      u_buf = {u_buf, $sformatf("%02x", {u_txd, u_lo})}; u_in = 1;
    end else if (u_in) begin $display("U %s", u_buf); u_buf = ""; u_in = 0; end
  end
  always @(posedge t_txc) begin #2; t_lo = t_txd; t_en = t_tx_ctl; end
  always @(negedge t_txc) begin
    #2;
    if (t_en) begin
      t_buf = {t_buf, $sformatf("%02x", {t_txd, t_lo})}; t_in = 1;
    end else if (t_in) begin $display("T %s", t_buf); t_buf = ""; t_in = 0; end
  end
  // The status line, every change with its time in ns.
  always @(status_tx) $display("S %0d %b", $rtoi($realtime), status_tx);
  // Ends 4000 transmit clocks after the last byte in and out, plus two status snapshots.
  reg done = 0;
  always @(posedge u_txc) begin
    if (go && u_i >= u_n && t_i >= t_n && !u_en && !t_en) idle = idle + 1; else idle = 0;
    if (idle > 4000 && !done) begin
      done = 1;
      $display("LED %b", led_n);
      #120000;
      $display("E %0d", $rtoi($realtime));
      $finish;
    end
  end
  initial begin #1000000; $display("TIMEOUT"); $finish; end
endmodule
"#;

/// GMII bursts of one port, `gap` idle clocks after each: what the model takes, and the
/// testbench's events (idle clocks carry the in-band status).
fn stream(bursts: &[Vec<u8>], gap: usize) -> (Vec<Option<u8>>, String) {
    let mut clocks = vec![None; 16];
    for b in bursts {
        clocks.extend(b.iter().map(|&x| Some(x)));
        clocks.extend(std::iter::repeat_n(None, gap));
    }
    let mut hex = String::new();
    for c in &clocks {
        let w = match c {
            Some(b) => 0x100 | u16::from(*b),
            None => u16::from(IDLE_STATUS),
        };
        let _ = writeln!(hex, "{w:03x}");
    }
    (clocks, hex)
}

fn build(dir: &Path) {
    // A short reset sequence (the board's 15 ms would be two million clocks) and a fast
    // status line (the board's 3 Mbaud snapshot takes 544 us).
    let timing = BoardTiming {
        phy_reset_clocks: 64,
        settle_clocks: 128,
        status_divisor: STATUS_DIVISOR,
    };
    let (verilog, _) = files(timing, None);
    for (name, text) in [
        ("top.v", verilog.as_str()),
        ("models.v", coldgate_hdl::ecp5::SIM_MODELS),
        ("coldgate.vlt", VERILATOR_WAIVERS),
        ("tb.sv", TESTBENCH),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let out = Command::new("verilator")
        .current_dir(dir)
        .args(["--binary", "--timing", "--timescale", "1ns/1ps"])
        .args(["-Wno-lint", "-Wno-style", "--top-module", "tb"])
        .args(["coldgate.vlt", "models.v", "top.v", "tb.sv", "-o", "tb"])
        .output()
        .expect("verilator runs (Debian package verilator)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|k| u8::from_str_radix(&h[k..k + 2], 16).unwrap())
        .collect()
}

#[test]
fn both_ports_at_line_rate_through_rgmii_match_the_golden_model() {
    assert_eq!(MODULE, "coldgate_colorlight");
    // Port U: requests to the wallet; T: its responses.
    let request = |n: u64| sealed(n, Body::NewKey);
    let response = |n: u64| sealed(n, Body::Held { reference: n });
    let mut bad_fcs = eth::frame_to(EthPort::U, &request(90));
    *bad_fcs.last_mut().unwrap() ^= 0x40;
    let foreign_type = eth::burst(&eth::mac_frame(
        &EthPort::U.config().own,
        &EthPort::U.config().peer,
        0x0800,
        &request(91),
    ));
    let mut wrong_dst = eth::frame_to(EthPort::T, &response(92));
    wrong_dst[8] = 0xff;
    let lane_drop = patched(request(7), header::VERSION, &[2]);
    let u_bursts = vec![
        eth::frame_to(EthPort::U, &request(1)),
        eth::frame_to(EthPort::U, &request(2)),
        bad_fcs,
        eth::frame_to(EthPort::U, &request(3)),
        foreign_type,
        eth::frame_to(EthPort::U, &lane_drop),
        eth::frame_to(EthPort::U, &request(4)),
    ];
    let t_bursts = vec![
        eth::frame_to(EthPort::T, &response(1)),
        wrong_dst,
        eth::frame_to(EthPort::T, &response(2)),
        eth::frame_to(EthPort::T, &response(3)),
        eth::frame_to(EthPort::T, &response(4)),
    ];
    let (u_clocks, u_hex) = stream(&u_bursts, eth::MIN_GAP);
    let (t_clocks, t_hex) = stream(&t_bursts, eth::MIN_GAP);

    let mut model = EthModel::default();
    model.run(&u_clocks, &t_clocks);
    let expect = |port: EthPort| {
        let mut v: Vec<Vec<u8>> = model
            .out(port)
            .iter()
            .map(|f| {
                let p: &[u8; FRAME_LEN] = &f.payload;
                eth::wire_frame(port, p)
            })
            .collect();
        v.sort();
        v
    };
    let (want_u, want_t) = (expect(EthPort::U), expect(EthPort::T));
    // The stimulus means something: passes both ways and a NOTICE back out of U.
    assert_eq!(want_t.len(), 4);
    assert_eq!(want_u.len(), 5);

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("colorlight_verilator");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    build(&dir);
    std::fs::write(dir.join("u.hex"), u_hex).unwrap();
    std::fs::write(dir.join("t.hex"), t_hex).unwrap();
    let out = Command::new(dir.join("obj_dir/tb"))
        .current_dir(&dir)
        .arg(format!("+u_n={}", u_clocks.len()))
        .arg(format!("+t_n={}", t_clocks.len()))
        // PHY U 0.3% slower than the core, PHY T 0.3% faster.
        .arg(format!("+u_half={}", 4.0 * 1.003))
        .arg(format!("+t_half={}", 4.0 / 1.003))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("READY"), "the LED never lit: {text}");
    assert!(!text.contains("TIMEOUT"), "{text}");
    let (mut got_u, mut got_t) = (vec![], vec![]);
    for line in text.lines() {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["U", h] => got_u.push(hex_bytes(h)),
            ["T", h] => got_t.push(hex_bytes(h)),
            _ => {}
        }
    }
    got_u.sort();
    got_t.sort();
    assert_eq!(got_t, want_t, "port T");
    assert_eq!(got_u, want_u, "port U");
    // A drop turns the LED off for about 67 ms: at the end (microseconds later) it is off.
    assert!(text.contains("LED 1"), "{text}");

    // The last whole status snapshot holds every counter as the golden model counts them.
    let changes: Vec<(f64, bool)> = text
        .lines()
        .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            ["S", t, v] => Some((t.parse().unwrap(), v == "1")),
            _ => None,
        })
        .collect();
    let end: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("E ").map(|t| t.parse().unwrap()))
        .expect("the run's end time");
    let bytes = uart_bytes(&changes, end, f64::from(STATUS_DIVISOR) * 8.0);
    let start = bytes
        .windows(STATUS_LEN)
        .rposition(|w| w[..2] == STATUS_SYNC)
        .expect("a whole status snapshot");
    let snap = &bytes[start + 2..start + STATUS_LEN];
    let got: Vec<u32> = snap
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let mut want = vec![];
    for lane in [&model.lanes.request, &model.lanes.response] {
        want.push(lane.counters().passed);
        want.extend(lane.counters().dropped);
    }
    for p in model.counters().ports {
        want.extend(p.0);
    }
    want.extend([0, 0, 0, 0]);
    let names = status_counter_names();
    for (k, name) in names.iter().enumerate() {
        assert_eq!(got[k], want[k], "status counter {name}");
    }
}

/// Bytes on an 8N1 line from its changes (time in ns, level) up to `end`, `bit_ns` a bit,
/// sampled in the middle of each bit.
fn uart_bytes(changes: &[(f64, bool)], end: f64, bit_ns: f64) -> Vec<u8> {
    let level = |t: f64| {
        changes
            .iter()
            .take_while(|c| c.0 <= t)
            .last()
            .is_none_or(|c| c.1)
    };
    let mut out = vec![];
    let mut k = 0;
    while k < changes.len() {
        let (t0, v) = changes[k];
        k += 1;
        if v || !level(t0 - 1.0) {
            continue;
        }
        // A falling edge from idle: a start bit.
        if t0 + 10.0 * bit_ns > end {
            break;
        }
        let mid = |i: usize| level(t0 + (i as f64 + 0.5) * bit_ns);
        assert!(!mid(0) && mid(9), "framing error at {t0} ns");
        out.push((0..8).fold(0u8, |b, i| b | (u8::from(mid(1 + i)) << i)));
        while k < changes.len() && changes[k].0 < t0 + 9.5 * bit_ns {
            k += 1;
        }
    }
    out
}
