//! Differential: the generated Verilog in Verilator against the golden model, on the same
//! two-lane script (bytes per side, refill ticks, batch boundaries, handshake masks; see
//! `coldgate_fuzz::parse`). Each side's NOTICEs and passed frames, in order, and every counter
//! must be equal. Only the Rust side is instrumented for coverage (the Verilated C++ is not),
//! so the golden model's branches guide the search.
#![no_main]

use coldgate_fuzz::{parse, Op};
use coldgate_sim::frames::split_notices;
use coldgate_sim::{Backend, GoldenBackend, Output, Schedule, Side, VerilatorBackend};
use coldgate_spec::LaneId;
use libfuzzer_sys::fuzz_target;

/// Bytes per input at most, so one input stays a fraction of a second.
const MAX_BYTES: usize = 1 << 14;

fn side(lane: LaneId) -> Side {
    match lane {
        LaneId::Request => Side::Untrusted,
        LaneId::Response => Side::Trusted,
    }
}

/// (NOTICEs, passes) per side and the counters.
type Seen = (
    (Vec<u8>, Vec<u8>),
    (Vec<u8>, Vec<u8>),
    coldgate_sim::PairCounters,
);

fn run(b: &mut dyn Backend, ops: &[Op]) -> Seen {
    let mut out = Output::default();
    for op in ops {
        match op {
            Op::Bytes(lane, bytes) => b.push(side(*lane), bytes).expect("push"),
            Op::Tick => b.tick(),
            Op::Advance => out.append(b.advance().expect("advance")),
        }
    }
    out.append(b.advance().expect("advance"));
    let split = |s: Side| {
        let (n, p, partial) = split_notices(out.side(s));
        assert_eq!(
            partial,
            0,
            "{} left a partial frame on the {s} side",
            b.kind()
        );
        (n, p)
    };
    (
        split(Side::Untrusted),
        split(Side::Trusted),
        b.counters().expect("simulated counters"),
    )
}

fuzz_target!(|data: &[u8]| {
    let (m, ops) = parse(data);
    let bytes: usize = ops
        .iter()
        .map(|op| match op {
            Op::Bytes(_, b) => b.len(),
            _ => 0,
        })
        .sum();
    if bytes > MAX_BYTES {
        return;
    }
    let schedule = Schedule {
        u_in_mask: m.u_in,
        t_in_mask: m.t_in,
        u_out_mask: m.u_out,
        t_out_mask: m.t_out,
        ..Schedule::default()
    };
    let want = run(&mut GoldenBackend::new(), &ops);
    let mut v = VerilatorBackend::new(schedule, None).expect("Verilator model");
    let got = run(&mut v, &ops);
    assert_eq!(got.0 .0, want.0 .0, "NOTICEs to the untrusted side");
    assert_eq!(got.0 .1, want.0 .1, "passes to the untrusted side");
    assert_eq!(got.1 .0, want.1 .0, "NOTICEs to the trusted side");
    assert_eq!(got.1 .1, want.1 .1, "passes to the trusted side");
    assert_eq!(got.2, want.2, "counters");
});
