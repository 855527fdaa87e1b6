//! The same streams through the golden model, rust-hdl's simulator and Verilator (batched
//! from C++, and clocked from Rust) must give the same bytes and counters.
//!
//! Output order between passes and NOTICEs on one side depends on timing, so each side's
//! output is split into its NOTICE frames and its passed frames, and each subsequence is
//! compared with the golden model's, byte for byte, together with every counter.

use coldgate_hdl::harness::{self, DriveConfig, Pattern};
use coldgate_sim::frames::split_notices;
use coldgate_sim::{
    Backend, BackendKind, ClockedBackend, GoldenBackend, PairCounters, Schedule, Side,
    VerilatorBackend, VerilatorClock,
};
use coldgate_spec::vectors::{lane_cases, patched, sample_bodies, sealed, Event};
use coldgate_spec::{field, LaneId, FRAME_LEN, MAGIC};
use proptest::prelude::*;

/// One step of a test stream.
#[derive(Clone, Debug)]
enum Op {
    Bytes(Side, Vec<u8>),
    Tick,
    /// Run what was pushed so far (a batch boundary).
    Advance,
}

/// What the golden model says both lanes produce.
#[derive(Debug, PartialEq, Eq)]
struct Expect {
    /// (NOTICEs, passes) leaving each side.
    untrusted: (Vec<u8>, Vec<u8>),
    trusted: (Vec<u8>, Vec<u8>),
    counters: PairCounters,
}

/// Per-side event streams in the harness's form (a tick belongs to the untrusted stream).
fn events(ops: &[Op]) -> (Vec<Event>, Vec<Event>) {
    let (mut u, mut t) = (vec![], vec![]);
    for op in ops {
        match op {
            Op::Bytes(Side::Untrusted, b) => u.extend(b.iter().map(|&x| Event::Byte(x))),
            Op::Bytes(Side::Trusted, b) => t.extend(b.iter().map(|&x| Event::Byte(x))),
            Op::Tick => u.push(Event::Tick),
            Op::Advance => {}
        }
    }
    (u, t)
}

fn expect(ops: &[Op]) -> Expect {
    let (u, t) = events(ops);
    let req = harness::golden_lane(LaneId::Request, &u);
    let resp = harness::golden_lane(LaneId::Response, &t);
    let lane = |c: [u32; harness::COUNTERS]| {
        let mut dropped = [0; coldgate_spec::DropReason::ALL.len()];
        dropped.copy_from_slice(&c[1..]);
        coldgate_spec::Counters {
            passed: c[0],
            dropped,
        }
    };
    Expect {
        untrusted: (req.notices, resp.passed),
        trusted: (resp.notices, req.passed),
        counters: PairCounters {
            request: lane(req.counters),
            response: lane(resp.counters),
        },
    }
}

/// Runs ops through a backend and reads the result in [`Expect`]'s form.
fn run(b: &mut dyn Backend, ops: &[Op]) -> Expect {
    let mut out = coldgate_sim::Output::default();
    for op in ops {
        match op {
            Op::Bytes(side, bytes) => b.push(*side, bytes).expect("push"),
            Op::Tick => b.tick(),
            Op::Advance => out.append(b.advance().expect("advance")),
        }
    }
    out.append(b.advance().expect("advance"));
    let split = |side| {
        let (n, p, partial) = split_notices(out.side(side));
        assert_eq!(
            partial,
            0,
            "{} left a partial frame on the {side} side",
            b.kind()
        );
        (n, p)
    };
    Expect {
        untrusted: split(Side::Untrusted),
        trusted: split(Side::Trusted),
        counters: b.counters().expect("simulated counters"),
    }
}

fn check(b: &mut dyn Backend, ops: &[Op]) -> Result<(), TestCaseError> {
    let want = expect(ops);
    let got = run(b, ops);
    let kind = b.kind();
    prop_assert_eq!(
        &got.untrusted.0,
        &want.untrusted.0,
        "{}: NOTICEs to untrusted",
        kind
    );
    prop_assert_eq!(
        &got.untrusted.1,
        &want.untrusted.1,
        "{}: passes to untrusted",
        kind
    );
    prop_assert_eq!(
        &got.trusted.0,
        &want.trusted.0,
        "{}: NOTICEs to trusted",
        kind
    );
    prop_assert_eq!(
        &got.trusted.1,
        &want.trusted.1,
        "{}: passes to trusted",
        kind
    );
    prop_assert_eq!(got.counters, want.counters, "{}: counters", kind);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Stream generation
// ---------------------------------------------------------------------------------------

fn valid() -> impl Strategy<Value = Vec<u8>> {
    let n = sample_bodies().len();
    (0..n, 1u64..1 << 40).prop_map(|(i, counter)| sealed(counter, sample_bodies()[i].1).to_vec())
}

/// Frames of every type, broken every way a peer can break them, garbage and fragments.
fn chunk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => valid(),
        // One byte flipped: a rule or the CRC breaks.
        2 => (valid(), 0..FRAME_LEN, 1u8..=255).prop_map(|(mut w, i, x)| {
            w[i] ^= x;
            w
        }),
        // One byte rewritten with the CRC fixed, so the rule is what fails.
        2 => (valid(), field::header::MAGIC.end..field::CRC.start, any::<u8>()).prop_map(|(w, i, x)| {
            let w: coldgate_spec::Wire = w.try_into().expect("frame");
            patched(w, i..i + 1, &[x]).to_vec()
        }),
        // A whole field at its extreme, CRC fixed: ids, counters and amounts out of range.
        2 => (valid(), 0..4usize, any::<bool>()).prop_map(|(w, f, high)| {
            let w: coldgate_spec::Wire = w.try_into().expect("frame");
            let at = [
                field::header::CLIENT_ID,
                field::header::COUNTER,
                field::body::sign_payment::KEY_ID,
                field::body::sign_payment::AMOUNT,
            ][f]
                .clone();
            let fill = vec![if high { 0xFF } else { 0x00 }; at.len()];
            patched(w, at, &fill).to_vec()
        }),
        // Truncated.
        1 => (valid(), 0..FRAME_LEN).prop_map(|(w, n)| w[..n].to_vec()),
        // Garbage, sometimes starting like a frame.
        1 => (0..=MAGIC.len(), proptest::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(k, g)| [&MAGIC[..k], &g[..]].concat()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), chunk()).prop_map(|(u, c)| {
            Op::Bytes(if u { Side::Untrusted } else { Side::Trusted }, c)
        }),
        1 => Just(Op::Tick),
        1 => Just(Op::Advance),
    ]
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..max)
}

/// Idle insertion and backpressure: random masks, sometimes full rate.
fn schedule() -> impl Strategy<Value = Schedule> {
    let mask = prop_oneof![2 => Just(u32::MAX), 1 => any::<u32>().prop_map(|m| m | 1)];
    (mask.clone(), mask.clone(), mask.clone(), mask, 0u32..4).prop_map(|(a, b, c, d, settle)| {
        Schedule {
            u_in_mask: a,
            t_in_mask: b,
            u_out_mask: c,
            t_out_mask: d,
            tick_settle: settle,
            ..Schedule::default()
        }
    })
}

/// A burst that empties the request lane's bucket, so ticks decide verdicts.
fn rate_limit_ops() -> Vec<Op> {
    let burst = coldgate_spec::config::RATE_BURST as usize;
    let frame = sealed(5, sample_bodies()[0].1).to_vec();
    let mut ops = vec![];
    for i in 0..burst + 3 {
        ops.push(Op::Bytes(Side::Untrusted, frame.clone()));
        if i % 20 == 19 {
            ops.push(Op::Advance);
        }
    }
    ops.extend([Op::Tick, Op::Tick]);
    for _ in 0..3 {
        ops.push(Op::Bytes(Side::Untrusted, frame.clone()));
    }
    ops
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn golden_backend_matches_golden_lanes(ops in ops(12)) {
        check(&mut GoldenBackend::new(), &ops)?;
    }

    #[test]
    fn verilator_batched_matches_golden(ops in ops(12), s in schedule()) {
        check(&mut VerilatorBackend::new(s, None).expect("model"), &ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The Rust driver over the single-cycle binding must agree with the C++ batch loop.
    #[test]
    fn verilator_clocked_matches_golden(ops in ops(8), s in schedule()) {
        let clock = VerilatorClock::new(None).expect("model");
        check(&mut ClockedBackend::new(clock, BackendKind::Verilator, s).expect("backend"), &ops)?;
    }

    /// The HDL crate's own stream driver over the Verilated core.
    #[test]
    fn verilator_under_hdl_driver_matches_golden(
        ops in ops(8),
        // Periods of the harness's idle/stall patterns: 0 is never, 1 would be always.
        idle in prop_oneof![Just(0usize), 2usize..6],
        stall in prop_oneof![Just(0usize), 2usize..6],
    ) {
        let (u, t) = events(&ops);
        let cfg = DriveConfig {
            u_in_idle: Pattern::one_in(idle),
            t_in_idle: Pattern::one_in(stall),
            u_out_stall: Pattern::one_in(stall),
            t_out_stall: Pattern::one_in(idle),
            ..DriveConfig::default()
        }
        .with_budget_for(u.len() + t.len());
        let mut clock = VerilatorClock::new(None).expect("model");
        let r = harness::drive(&mut clock, &u, &t, &cfg).expect("drive");
        harness::check_against_golden(&r, &u, &t).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

proptest! {
    // rust-hdl's simulator is slow: few, short streams. Every case still covers both sides.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rusthdl_matches_golden(ops in ops(10), s in schedule()) {
        check(&mut coldgate_sim::rusthdl_backend(s).expect("backend"), &ops)?;
    }
}

#[test]
fn rate_limit_through_every_backend() {
    let ops = rate_limit_ops();
    let want = expect(&ops);
    let limited = want
        .counters
        .request
        .dropped(coldgate_spec::DropReason::RateLimited);
    assert!(limited > 0, "the stream empties the bucket");
    let mut backends: Vec<Box<dyn Backend>> = vec![
        Box::new(GoldenBackend::new()),
        Box::new(VerilatorBackend::new(Schedule::default(), None).expect("model")),
        Box::new(
            ClockedBackend::new(
                VerilatorClock::new(None).expect("model"),
                BackendKind::Verilator,
                Schedule::default(),
            )
            .expect("backend"),
        ),
        Box::new(coldgate_sim::rusthdl_backend(Schedule::default()).expect("backend")),
    ];
    for b in &mut backends {
        assert_eq!(run(b.as_mut(), &ops), want, "{}", b.kind());
    }
}

/// Every shared lane vector through Verilator: verdict bytes on the right sides, counters.
#[test]
fn lane_vectors_through_verilator() {
    for case in lane_cases() {
        let side = Side::of_input_lane(case.lane);
        let mut ops = vec![];
        for e in &case.input {
            match e {
                Event::Byte(b) => ops.push(Op::Bytes(side, vec![*b])),
                Event::Tick => ops.push(Op::Tick),
            }
        }
        let mut b = VerilatorBackend::new(Schedule::default(), None).expect("model");
        let got = run(&mut b, &ops);
        let (notices, passed) = match side {
            Side::Untrusted => (&got.untrusted.0, &got.trusted.1),
            Side::Trusted => (&got.trusted.0, &got.untrusted.1),
        };
        assert_eq!(notices, &case.notices, "{}: NOTICEs", case.name);
        assert_eq!(passed, &case.passed, "{}: passes", case.name);
        let c = got.counters.lane(case.lane);
        let verdicts = case.expected.len() as u64;
        assert_eq!(
            u64::from(c.passed) + c.total_dropped(),
            verdicts,
            "{}: one counter step per verdict",
            case.name
        );
        let passes = case.expected.iter().filter(|v| *v == "pass").count() as u32;
        assert_eq!(c.passed, passes, "{}: passed counter", case.name);
        for v in case.expected.iter().filter(|v| v.starts_with("drop:")) {
            let reason = v.split(':').nth(1).expect("drop:REASON:FIELD");
            let r = coldgate_spec::DropReason::from_name(reason).expect("known reason");
            assert!(c.dropped(r) > 0, "{}: {reason} counter", case.name);
        }
    }
}

/// The generated streams reach every verdict the lanes can give without a full bucket's
/// worth of frames (rate limiting has its own test above), on both lanes.
#[test]
fn streams_cover_every_verdict() {
    use coldgate_spec::DropReason;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut total = PairCounters::default();
    for _ in 0..200 {
        let ops = ops(12).new_tree(&mut runner).expect("sample").current();
        let c = expect(&ops).counters;
        for (sum, lane) in [
            (&mut total.request, c.request),
            (&mut total.response, c.response),
        ] {
            sum.passed += lane.passed;
            for (s, d) in sum.dropped.iter_mut().zip(lane.dropped) {
                *s += d;
            }
        }
    }
    for lane in [total.request, total.response] {
        assert!(lane.passed > 0, "{total:?}");
        for r in DropReason::ALL {
            if r != DropReason::RateLimited {
                assert!(lane.dropped(r) > 0, "no {r} in {total:?}");
            }
        }
    }
}
