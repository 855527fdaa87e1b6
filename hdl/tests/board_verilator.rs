//! The generated board Verilog, not rust-hdl's model of it, through Verilator: frames sent
//! into both UARTs at 12.5 Mbaud leave as the golden model says, and the status port reports
//! the counters. (rust-hdl's simulator and its Verilog have disagreed before; this runs the
//! Verilog itself.)

use std::fmt::Write as _;
use std::process::Command;

use coldgate_hdl::board::{divisor, STATUS_LEN, STATUS_SYNC};
use coldgate_hdl::flow::{WorkDir, VERILATOR_WAIVERS};
use coldgate_hdl::harness::golden_lane;
use coldgate_spec::field::{header, CRC, FRAME_LEN};
use coldgate_spec::vectors::{patched, sealed, Event};
use coldgate_spec::{Body, LaneId};

const BAUD: u32 = 12_500_000;

/// A testbench that shifts `u` into `untrusted_rx` and `t` into `trusted_rx` (8N1, `div`
/// clocks per bit) and prints every change of the three output lines with its clock number.
fn testbench(u: &[u8], t: &[u8], div: usize, cycles: usize) -> String {
    let mem = |name: &str, bytes: &[u8]| {
        let mut s = format!(
            "  reg [7:0] {name} [0:{}];\n  initial begin\n",
            bytes.len().max(1) - 1
        );
        for (i, b) in bytes.iter().enumerate() {
            let _ = writeln!(s, "    {name}[{i}] = 8'h{b:02x};");
        }
        s + "  end\n"
    };
    format!(
        "module tb;\n\
         \x20 reg clock = 0;\n\
         \x20 reg u_rx = 1, t_rx = 1;\n\
         \x20 wire u_tx, t_tx, s_tx;\n\
         \x20 wire [7:0] leds;\n\
         \x20 coldgate_board dut(.clock(clock), .rst_n(1'b1), .untrusted_rx(u_rx), .untrusted_tx(u_tx),\n\
         \x20   .trusted_rx(t_rx), .trusted_tx(t_tx), .status_tx(s_tx), .leds(leds));\n\
         {}{}\
         \x20 integer n, bit_i, byte_i;\n\
         \x20 reg [2:0] last;\n\
         \x20 initial begin\n\
         \x20   last = 3'b111;\n\
         \x20   for (n = 0; n < {cycles}; n = n + 1) begin\n\
         \x20     bit_i = (n / {div}) % 10; byte_i = n / ({div} * 10);\n\
         \x20     u_rx = (byte_i >= {ul}) ? 1 : (bit_i == 0) ? 0 : (bit_i == 9) ? 1 : um[byte_i][bit_i - 1];\n\
         \x20     t_rx = (byte_i >= {tl}) ? 1 : (bit_i == 0) ? 0 : (bit_i == 9) ? 1 : tm[byte_i][bit_i - 1];\n\
         \x20     #5 clock = 1; #5 clock = 0;\n\
         \x20     if ({{u_tx, t_tx, s_tx}} != last) begin\n\
         \x20       $display(\"%0d %b%b%b\", n, u_tx, t_tx, s_tx);\n\
         \x20       last = {{u_tx, t_tx, s_tx}};\n\
         \x20     end\n\
         \x20   end\n\
         \x20   $finish;\n\
         \x20 end\n\
         endmodule\n",
        mem("um", u),
        mem("tm", t),
        ul = u.len(),
        tl = t.len(),
    )
}

/// Bytes on one line from its change trace, sampling each bit in its middle.
fn decode(changes: &[(usize, bool)], cycles: usize, div: usize) -> Vec<u8> {
    let mut level = vec![true; cycles];
    for w in 0..changes.len() {
        let (at, v) = changes[w];
        let end = changes.get(w + 1).map_or(cycles, |c| c.0);
        for l in &mut level[at.min(cycles)..end.min(cycles)] {
            *l = v;
        }
    }
    let mut out = vec![];
    let mut n = 0;
    while n + 10 * div <= cycles {
        if level[n] {
            n += 1;
            continue;
        }
        let mid = |k: usize| level[n + k * div + div / 2];
        assert!(!mid(0) && mid(9), "framing error at clock {n}");
        out.push((0..8).fold(0u8, |b, i| b | (u8::from(mid(1 + i)) << i)));
        n += 10 * div - div / 2;
    }
    out
}

/// Runs the board Verilog with `u` and `t` sent into its two UARTs back to back, and checks
/// both outputs and the status counters against the golden lanes.
fn check_board(u: &[u8], t: &[u8]) {
    let div = usize::from(divisor(BAUD).unwrap());
    // Each output carries one lane's passes and the other's NOTICEs: room for both, and for
    // a last status snapshot.
    let cycles = (u.len() + t.len() + 3 * FRAME_LEN) * 10 * div;

    let work = WorkDir::new().unwrap();
    work.write("coldgate_board.v", &coldgate_hdl::board_verilog(BAUD))
        .unwrap();
    work.write("coldgate.vlt", VERILATOR_WAIVERS).unwrap();
    work.write("tb.sv", &testbench(u, t, div, cycles)).unwrap();
    let build = Command::new("verilator")
        .current_dir(work.path())
        .args([
            "--binary",
            "--timing",
            "-Wno-lint",
            "-Wno-style",
            "--top-module",
            "tb",
        ])
        .args(["coldgate.vlt", "coldgate_board.v", "tb.sv", "-o", "tb"])
        .output()
        .expect("verilator runs");
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let run = Command::new(work.path().join("obj_dir/tb"))
        .output()
        .unwrap();
    assert!(run.status.success());
    let mut lines: [Vec<(usize, bool)>; 3] = Default::default();
    for l in String::from_utf8_lossy(&run.stdout).lines() {
        let Some((n, bits)) = l.split_once(' ') else {
            continue;
        };
        let (Ok(n), 3) = (n.parse::<usize>(), bits.len()) else {
            continue;
        };
        for (i, c) in bits.chars().enumerate() {
            lines[i].push((n, c == '1'));
        }
    }
    let [u_tx, t_tx, s_tx] = lines.map(|c| decode(&c, cycles, div));

    let ev = |b: &[u8]| b.iter().map(|&x| Event::Byte(x)).collect::<Vec<_>>();
    let req = golden_lane(LaneId::Request, &ev(u));
    let resp = golden_lane(LaneId::Response, &ev(t));
    let split =
        |side: &'static str, bytes: &[u8]| coldgate_hdl::harness::split_side(side, bytes).unwrap();
    let (us, ts) = (split("u_out", &u_tx), split("t_out", &t_tx));
    assert_eq!(ts.passed, req.passed);
    assert_eq!(us.notices, req.notices);
    assert_eq!(us.passed, resp.passed);
    assert_eq!(ts.notices, resp.notices);

    let start = s_tx
        .windows(STATUS_LEN)
        .rposition(|w| w[..2] == STATUS_SYNC)
        .expect("a whole status snapshot");
    let snap = &s_tx[start + 2..start + STATUS_LEN];
    let counter = |i: usize| u32::from_le_bytes(snap[4 * i..4 * i + 4].try_into().unwrap());
    let got: Vec<u32> = (0..14).map(counter).collect();
    assert_eq!(got[..7], req.counters[..]);
    assert_eq!(got[7..], resp.counters[..]);
}

#[test]
fn board_verilog_moves_frames_like_the_golden_model() {
    let good = sealed(5, Body::NewKey);
    let bad = patched(good, header::VERSION, &[2]);
    let reply = sealed(6, Body::Held { reference: 3 });
    let bad_reply = patched(reply, header::RESERVED, &[0, 9]);
    check_board(
        &[&good[..], &bad[..]].concat(),
        &[&bad_reply[..], &reply[..]].concat(),
    );
}

/// A frame dropped at its last byte makes the lane hold its input while the NOTICE leaves at
/// the UART's pace; the frames right behind it must wait in the receive FIFO, not be lost.
#[test]
fn frames_right_behind_a_late_drop_are_not_lost() {
    let good = sealed(5, Body::NewKey);
    let mut bad_crc = good;
    bad_crc[CRC.start] ^= 1;
    let next = sealed(6, Body::NewKey);
    let reply = sealed(6, Body::Held { reference: 3 });
    let mut bad_reply = reply;
    bad_reply[CRC.end - 1] ^= 0x80;
    let u = [&bad_crc[..], &good[..], &bad_crc[..], &next[..]].concat();
    let t = [&bad_reply[..], &reply[..], &reply[..]].concat();
    check_board(&u, &t);
}
