//! One RGMII port's generated Verilog in Verilator, with the ECP5 primitive models: RGMII
//! nibbles on both edges of the PHY's clock in, through the input delays and DDR registers,
//! the store-and-forward clock crossing into the core clock, GMII looped back to transmit,
//! out through the DDR output registers. Every frame must come out whole and in order, at
//! clock ratios from -0.5% to +0.5% (far beyond Ethernet's 100 ppm, so a few thousand
//! frames' worth of drift happens in a short run) and at wide ratios, with frames the PHY
//! flagged as errored dropped and counted, and giants cut at `MAX_FRAME`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use coldgate_hdl::flow::VERILATOR_WAIVERS;
use coldgate_hdl::rgmii::cdc::{MAX_FRAME, OUT_GAP};
use coldgate_hdl::rgmii::RgmiiPort;
use rust_hdl::prelude::*;

/// Idle pattern: the PHY's in-band status between frames (RGMII 2.0): link up, 1000 Mbit/s,
/// full duplex, on both edges.
const IDLE_STATUS: u8 = 0xDD;
/// Clocks of the PHY's RXC from its pin to the DDR registers (ECP5 pin and global clock
/// network). The FPGA's 2 ns data delay is chosen against it: with it, the rising edge
/// samples the nibble the PHY sent at the rising edge, mid-eye. An assumption of this model,
/// stated here; on silicon RX_DELAY_PS is the knob.
const CLOCK_PATH_NS: f64 = 4.0;

/// One receive clock's worth of what the PHY sends.
#[derive(Clone, Copy)]
struct Event {
    dv: bool,
    er: bool,
    data: u8,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic stimulus, reproducible from the seed in a failure.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A run's stimulus and what must come out of it.
struct Stimulus {
    events: Vec<Event>,
    expected: Vec<Vec<u8>>,
    errored: usize,
}

/// `frames` frames of random length (preamble included) and random bytes, `gap` idle
/// clocks after each; every `error_every`-th frame (if any) gets RX_ER on one byte.
fn stimulus(
    seed: u64,
    frames: usize,
    lens: (u64, u64),
    gap: usize,
    error_every: usize,
) -> Stimulus {
    let mut rng = Rng(seed | 1);
    let mut s = Stimulus {
        events: vec![],
        expected: vec![],
        errored: 0,
    };
    let idle = Event {
        dv: false,
        er: false,
        data: IDLE_STATUS,
    };
    s.events.extend(std::iter::repeat_n(idle, 16));
    for f in 0..frames {
        let len = (lens.0 + rng.below(lens.1 - lens.0 + 1)) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let bad = error_every > 0 && f % error_every == error_every - 1;
        let bad_at = rng.below(len as u64) as usize;
        for (i, &b) in bytes.iter().enumerate() {
            s.events.push(Event {
                dv: true,
                er: bad && i == bad_at,
                data: b,
            });
        }
        s.events.extend(std::iter::repeat_n(idle, gap));
        if bad {
            s.errored += 1;
        } else {
            s.expected
                .push(bytes[..len.min(MAX_FRAME as usize)].to_vec());
        }
    }
    s.events.extend(std::iter::repeat_n(idle, 64));
    s
}

const TESTBENCH: &str = r#"
module tb;
  real core_half = 4.0, rxc_half = 4.0, rxc_phase = 1.3, clock_path = 4.0;
  integer n_events = 0, i = 0, gap = 0, frames_seen = 0, min_gap = 1000000, n_dropped = 0, n_errored = 0;
  reg clock = 0, phy_rxc = 0, reset = 1;
  wire rxc;
  reg rx_ctl = 0;
  reg [3:0] rxd = 0;
  wire txc, tx_ctl, rx_dv, running, link_gbit, dropped, errored;
  wire [3:0] txd;
  wire [7:0] rx_data;
  reg [9:0] ev [0:65535];
  string stim;
  assign #(clock_path) rxc = phy_rxc;
  coldgate_rgmii_port dut(.rxc(rxc), .rx_ctl(rx_ctl), .rxd(rxd), .txc(txc), .tx_ctl(tx_ctl),
    .txd(txd), .clock(clock), .reset(reset), .rx_data(rx_data), .rx_dv(rx_dv),
    .tx_data(rx_data), .tx_en(rx_dv), .running(running), .link_gbit(link_gbit),
    .dropped(dropped), .errored(errored));
  initial begin
    if (!$value$plusargs("events=%d", n_events)) $fatal(1, "no +events");
    void'($value$plusargs("core_half=%f", core_half));
    void'($value$plusargs("rxc_half=%f", rxc_half));
    void'($value$plusargs("rxc_phase=%f", rxc_phase));
    void'($value$plusargs("clock_path=%f", clock_path));
    if (!$value$plusargs("stim=%s", stim)) $fatal(1, "no +stim");
    $readmemh(stim, ev);
  end
  always #(core_half) clock = ~clock;
  initial begin #(rxc_phase); forever #(rxc_half) phy_rxc = ~phy_rxc; end
  // Reset for a while with both clocks running, then wait for the FIFO to report running
  // before the PHY sends anything.
  initial begin #400; @(posedge clock) reset = 0; end
  // The PHY: edge-aligned RGMII. Rising edge: data[3:0], RX_DV; falling: data[7:4], RX_DV^RX_ER.
  always @(phy_rxc) begin
    if (running && i < n_events) begin
      if (phy_rxc) begin
        rxd <= ev[i][3:0]; rx_ctl <= ev[i][8];
      end else begin
        rxd <= ev[i][7:4]; rx_ctl <= ev[i][8] ^ ev[i][9];
        i <= i + 1;
      end
    end else begin
      rxd <= 4'hD; rx_ctl <= 0;
    end
  end
  // The transmit PHY samples 2 ns after each TXC edge (its own TX delay).
  reg [3:0] lo;
  reg en_lo, in_frame = 0;
  always @(posedge txc) begin #2; lo = txd; en_lo = tx_ctl; end
  always @(negedge txc) begin
    #2;
    if (en_lo) begin
      if (tx_ctl != en_lo) $display("X tx_er");
      $write("%02x", {txd, lo}); in_frame = 1;
    end else if (in_frame) begin
      $display(""); in_frame = 0;
    end
  end
  // The core side: idle clocks between frames, and the drop pulses.
  always @(posedge clock) begin
    if (rx_dv) begin
      if (gap > 0) begin
        if (frames_seen > 0 && gap < min_gap) min_gap = gap;
        frames_seen = frames_seen + 1;
      end
      gap = 0;
    end else gap = gap + 1;
    if (dropped) n_dropped = n_dropped + 1;
    if (errored) n_errored = n_errored + 1;
    if (i >= n_events && gap > 200) begin
      $display("%sS %0d %0d %0d %0d", in_frame ? "\n" : "", min_gap, link_gbit, n_dropped, n_errored);
      $finish;
    end
  end
endmodule
"#;

/// What a run printed.
#[derive(Debug, Default)]
struct Outcome {
    frames: Vec<Vec<u8>>,
    dropped: usize,
    errored: usize,
    min_gap: usize,
    link_gbit: bool,
}

/// The testbench, built once for all tests of this file (in cargo's scratch directory for
/// integration tests, so nothing is left in /tmp).
fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rgmii_verilator");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        build(&dir);
        dir
    })
}

fn build(dir: &Path) {
    let mut port = RgmiiPort::default();
    for s in [&mut port.rx_ctl, &mut port.reset, &mut port.tx_en] {
        s.connect();
    }
    port.rxc.connect();
    port.rxd.connect();
    port.clock.connect();
    port.tx_data.connect();
    port.connect_all();
    let verilog = coldgate_hdl::verilog::generate(&port, "coldgate_rgmii_port");
    for (name, text) in [
        ("port.v", verilog.as_str()),
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
        .args(["coldgate.vlt", "models.v", "port.v", "tb.sv", "-o", "tb"])
        .output()
        .expect("verilator runs (Debian package verilator)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(s: &Stimulus, rxc_period: f64, core_period: f64) -> Outcome {
    run_with_clock_path(s, rxc_period, core_period, CLOCK_PATH_NS)
}

fn run_with_clock_path(
    s: &Stimulus,
    rxc_period: f64,
    core_period: f64,
    clock_path_ns: f64,
) -> Outcome {
    let dir = built();
    let mut hex = String::new();
    for e in &s.events {
        let w = u16::from(e.data) | (u16::from(e.dv) << 8) | (u16::from(e.er) << 9);
        let _ = writeln!(hex, "{w:03x}");
    }
    static RUN: AtomicU32 = AtomicU32::new(0);
    let stim = format!("stim{}.hex", RUN.fetch_add(1, Ordering::Relaxed));
    std::fs::write(dir.join(&stim), hex).unwrap();
    let out = Command::new(dir.join("obj_dir/tb"))
        .current_dir(dir)
        .arg(format!("+stim={stim}"))
        .arg(format!("+events={}", s.events.len()))
        .arg(format!("+rxc_half={}", rxc_period / 2.0))
        .arg(format!("+core_half={}", core_period / 2.0))
        .arg(format!("+clock_path={clock_path_ns}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let mut o = Outcome::default();
    let mut summary = false;
    for line in text.lines() {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["S", gap, link, dropped, errored] => {
                o.min_gap = gap.parse().unwrap();
                o.link_gbit = link == "1";
                o.dropped = dropped.parse().unwrap();
                o.errored = errored.parse().unwrap();
                summary = true;
            }
            [hex] if hex.len() % 2 == 0 && hex.bytes().all(|c| c.is_ascii_hexdigit()) => {
                o.frames.push(
                    (0..hex.len())
                        .step_by(2)
                        .map(|k| u8::from_str_radix(&hex[k..k + 2], 16).unwrap())
                        .collect(),
                );
            }
            ["-", _, "Verilog", "$finish"] => {}
            _ => panic!("unexpected testbench line {line:?}"),
        }
    }
    assert!(summary, "the run did not finish: {text}");
    o
}

fn assert_intact(o: &Outcome, s: &Stimulus, what: &str) {
    assert_eq!(o.dropped, 0, "{what}: frames dropped for lack of room");
    assert_eq!(o.errored, s.errored, "{what}: errored frames counted");
    assert_eq!(o.frames.len(), s.expected.len(), "{what}: frame count");
    for (k, (got, want)) in o.frames.iter().zip(&s.expected).enumerate() {
        assert_eq!(got, want, "{what}: frame {k}");
    }
    assert!(o.min_gap >= OUT_GAP as usize, "{what}: gap {}", o.min_gap);
    assert!(o.link_gbit, "{what}: in-band status not read");
}

/// Frames of a coldgate Ethernet frame's size and around it, back to back at the shortest
/// gap a receiver can see (8 byte times), with the PHY's clock slower, equal and faster than
/// the core's, and errored frames among them.
#[test]
fn frames_cross_intact_at_drifting_clock_ratios() {
    let s = stimulus(0x5eed_0001, 150, (60, 200), 8, 10);
    for (rxc, what) in [
        (8.0 * 1.005, "rxc 0.5% slow"),
        (8.0, "rxc equal"),
        (8.0 / 1.005, "rxc 0.5% fast"),
    ] {
        let o = run(&s, rxc, 8.0);
        assert_intact(&o, &s, what);
    }
}

/// Unrelated clocks far apart: a PHY clock much slower than the core, and a core slower than
/// the PHY with frames spaced so that it keeps up; a giant cut at `MAX_FRAME`.
#[test]
fn frames_cross_intact_at_wide_clock_ratios() {
    let mut s = stimulus(0x5eed_0002, 40, (20, 300), 12, 7);
    let giant = stimulus(0x5eed_0003, 1, (2_100, 2_100), 12, 0);
    s.events.extend(&giant.events);
    s.expected.extend(giant.expected);
    assert_eq!(s.expected.last().unwrap().len(), MAX_FRAME as usize);
    let o = run(&s, 8.0 * 2.7, 8.0);
    assert_intact(&o, &s, "rxc at 46 MHz, core 125 MHz");
    let spaced = stimulus(0x5eed_0004, 40, (20, 300), 400, 7);
    let o = run(&spaced, 8.0, 8.0 * 1.6);
    assert_intact(&o, &spaced, "rxc 125 MHz, core 78 MHz");
}

/// A PHY clock far faster than the core with frames back to back: the FIFO fills, and then
/// whole frames are dropped and counted, never cut; what comes out is whole frames in order.
#[test]
fn a_full_fifo_drops_whole_frames_and_counts_them() {
    let s = stimulus(0x5eed_0005, 60, (400, 600), 8, 0);
    let o = run(&s, 8.0, 8.0 * 2.0);
    assert!(
        o.dropped > 0,
        "nothing was dropped: the test did not fill the FIFO"
    );
    assert_eq!(o.frames.len() + o.dropped, s.expected.len());
    let mut want = s.expected.iter();
    for got in &o.frames {
        assert!(
            want.any(|w| w == got),
            "a frame came out that is not a whole input frame, in order"
        );
    }
}

/// The receive timing matters and the test sees it: with a clock path of 0.5 ns the 2 ns data
/// delay puts the rising edge on the previous falling-edge nibble, and frames come out wrong.
#[test]
fn nibbles_sampled_off_the_eye_are_caught() {
    let s = stimulus(0x5eed_0006, 10, (60, 100), 12, 0);
    let o = run_with_clock_path(&s, 8.0, 8.0, 0.5);
    assert_ne!(o.frames, s.expected);
}
