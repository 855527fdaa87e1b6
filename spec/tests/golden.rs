//! Golden verifier properties: bit flips, rule soundness, resynchronisation, table and vectors.

use coldgate_spec::field::{self, header, ByteKind, Rule, FRAME_LEN, MAGIC};
use coldgate_spec::vectors::{self, sealed, Event};
use coldgate_spec::{
    codec, config, Body, DropReason, Frame, Lane, LaneConfig, LaneId, MsgType, Verdict,
};
use proptest::prelude::*;

fn sample(i: usize) -> (LaneId, Body) {
    let bodies = vectors::sample_bodies();
    let (_, b) = bodies[i % bodies.len()];
    let lane = if b.msg_type().is_request() {
        LaneId::Request
    } else {
        LaneId::Response
    };
    (lane, b)
}

fn unlimited(lane: LaneId) -> Lane {
    Lane::new(LaneConfig {
        rate_burst: None,
        ..LaneConfig::for_lane(lane)
    })
}

/// The reason a frame must be dropped with, derived from the codec's field-by-field check,
/// or `None` when a flip in the magic means it is not even recognised as a frame.
fn expected_drop(lane: LaneId, at: usize, w: &[u8]) -> Option<DropReason> {
    if at < MAGIC.len() {
        return None;
    }
    codec::check(Some(lane), w)
        .expect_err("a flipped frame cannot stay valid")
        .drop_reason()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every single-bit flip of a valid frame is dropped, with the reason of the first rule
    /// the flipped frame breaks (the CRC when it breaks none); a magic flip is not a frame.
    #[test]
    fn every_bit_flip_is_dropped_with_the_right_reason(i in 0..8usize, counter in 1..1000u64) {
        let (lane_id, body) = sample(i);
        let w = sealed(counter, body);
        for at in 0..FRAME_LEN {
            for bit in 0..8 {
                let mut m = w;
                m[at] ^= 1 << bit;
                let mut lane = unlimited(lane_id);
                let verdicts = lane.push_all(&m);
                let expected = expected_drop(lane_id, at, &m);
                match expected {
                    None => prop_assert!(
                        verdicts.iter().all(|v| !matches!(v, Verdict::Pass(_))),
                        "flip at {} passed", at
                    ),
                    Some(reason) => {
                        let Some(Verdict::Drop(d)) = verdicts.first() else {
                            return Err(TestCaseError::fail(format!("flip at {at}.{bit}: {verdicts:?}")));
                        };
                        prop_assert_eq!(d.notice.reason, reason, "flip at {}.{}", at, bit);
                        prop_assert_eq!(lane.counters().passed, 0);
                    }
                }
            }
        }
    }

    /// No byte stream ever makes a lane pass a frame that breaks a rule, and every pass is
    /// exactly one valid frame of the lane's direction.
    #[test]
    fn passed_frames_always_obey_every_rule(
        lane_req in any::<bool>(),
        chunks in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..40).prop_map(|g| g),
                (0..8usize, 1..50u64).prop_map(|(i, c)| sealed(c, sample(i).1).to_vec()),
                (0..8usize, 1..50u64, 0..FRAME_LEN, any::<u8>()).prop_map(|(i, c, at, v)| {
                    let mut w = sealed(c, sample(i).1).to_vec();
                    w[at] = v;
                    w
                }),
                (0..8usize, 1..50u64, 0..FRAME_LEN).prop_map(|(i, c, n)| sealed(c, sample(i).1)[..n].to_vec()),
            ],
            1..12,
        ),
    ) {
        let lane_id = if lane_req { LaneId::Request } else { LaneId::Response };
        let mut lane = Lane::new(LaneConfig::for_lane(lane_id));
        let stream: Vec<u8> = chunks.concat();
        let mut passes = 0u32;
        let mut drops = 0u64;
        for v in lane.push_all(&stream) {
            match v {
                Verdict::Pass(w) => {
                    passes += 1;
                    let t = codec::check(Some(lane_id), &w[..]);
                    prop_assert!(t.is_ok(), "passed a frame breaking a rule: {:?}", t);
                    let f = Frame::decode(&w[..]).expect("passed frames decode");
                    prop_assert_eq!(f.body.msg_type().is_request(), lane_req);
                }
                Verdict::Drop(d) => {
                    drops += 1;
                    let n = Frame::decode(&d.frame).expect("notice decodes");
                    prop_assert_eq!(n.body, Body::Notice(d.notice));
                    prop_assert_eq!(d.notice.lane, lane_id);
                }
            }
        }
        prop_assert_eq!(lane.counters().passed, passes);
        prop_assert_eq!(lane.counters().total_dropped(), drops);
    }

    /// The lane agrees with the codec on any frame-length window that opens with the magic:
    /// it passes exactly the frames the codec accepts for that lane, and drops the others for
    /// the reason and field the codec names.
    #[test]
    fn lane_agrees_with_codec(
        i in 0..8usize,
        edits in proptest::collection::vec((4..FRAME_LEN, any::<u8>()), 0..3),
        fix_crc in any::<bool>(),
        lane_req in any::<bool>(),
    ) {
        let lane_id = if lane_req { LaneId::Request } else { LaneId::Response };
        let mut w = sealed(5, sample(i).1);
        for (at, v) in edits {
            w[at] = v;
        }
        if fix_crc {
            w = vectors::patched(w, 0..0, &[]);
        }
        let mut lane = unlimited(lane_id);
        let verdicts = lane.push_all(&w);
        match codec::check(Some(lane_id), &w) {
            Ok(_) => prop_assert!(matches!(verdicts.as_slice(), [Verdict::Pass(p)] if p[..] == w[..])),
            Err(e) => {
                let Some(Verdict::Drop(d)) = verdicts.first() else {
                    return Err(TestCaseError::fail(format!("codec says {e}, lane says {verdicts:?}")));
                };
                prop_assert_eq!(Some(d.notice.reason), e.drop_reason());
                if let codec::DecodeError::Field { index, .. } = e {
                    prop_assert_eq!(d.notice.field, index);
                }
            }
        }
    }

    /// After any garbage, every valid frame that starts at least one frame length after the
    /// garbage began passes (frames here never contain the magic after offset 0).
    #[test]
    fn resynchronises_within_one_frame_length(
        garbage in proptest::collection::vec(any::<u8>(), 0..3 * FRAME_LEN),
        prefix in (0..8usize, 0..FRAME_LEN),
        count in 2..5usize,
    ) {
        // Garbage may end in a truncated frame, the hardest case for resynchronisation.
        let mut stream = garbage.clone();
        stream.extend_from_slice(&sealed(1, sample(prefix.0).1)[..prefix.1]);
        let start = stream.len();
        let mut starts = vec![];
        for c in 0..count {
            starts.push(stream.len());
            stream.extend_from_slice(&sealed(100 + c as u64, Body::NewKey));
        }
        for &s in &starts {
            let frame = &stream[s..s + FRAME_LEN];
            prop_assume!(!frame.windows(MAGIC.len()).skip(1).any(|w| w == MAGIC));
        }
        let mut lane = unlimited(LaneId::Request);
        let mut passed_at = vec![];
        for (n, &b) in stream.iter().enumerate() {
            if let Some(Verdict::Pass(_)) = lane.push(b) {
                passed_at.push(n + 1 - FRAME_LEN);
            }
        }
        // Any frame the lane locked onto inside the garbage started before `start`, so it
        // ended by `start + FRAME_LEN - 2`: hunting is back by `start + FRAME_LEN - 1`.
        for &s in &starts {
            if s >= start + FRAME_LEN - 1 {
                prop_assert!(passed_at.contains(&s), "frame at {} lost; passed {:?}", s, passed_at);
            }
        }
    }
}

#[test]
fn token_bucket_limits_and_refills() {
    let mut lane = Lane::new(LaneConfig::REQUEST);
    let w = sealed(1, Body::NewKey);
    let burst = config::RATE_BURST;
    for _ in 0..burst {
        assert!(matches!(lane.push_all(&w).as_slice(), [Verdict::Pass(_)]));
    }
    match lane.push_all(&w).as_slice() {
        [Verdict::Drop(d)] => {
            assert_eq!(d.notice.reason, DropReason::RateLimited);
            assert_eq!(d.notice.field, field::NO_FIELD);
            assert!(d.notice.readable);
        }
        v => panic!("expected a rate-limit drop, got {v:?}"),
    }
    lane.tick();
    assert!(matches!(lane.push_all(&w).as_slice(), [Verdict::Pass(_)]));
    for _ in 0..2 * burst {
        lane.tick();
    }
    assert_eq!(lane.tokens(), burst, "ticks saturate at the burst");
    // The response lane has no bucket.
    let mut resp = Lane::new(LaneConfig::RESPONSE);
    let r = sealed(1, Body::Held { reference: 1 });
    for _ in 0..2 * burst {
        assert!(matches!(resp.push_all(&r).as_slice(), [Verdict::Pass(_)]));
    }
}

#[test]
fn unreadable_drops_report_zero_header() {
    let mut w = sealed(77, Body::NewKey);
    w[header::VERSION.start] = 3;
    let mut lane = unlimited(LaneId::Request);
    let verdicts = lane.push_all(&w[..6]);
    let [Verdict::Drop(d)] = verdicts.as_slice() else {
        panic!("expected one drop, got {verdicts:?}")
    };
    assert_eq!(d.notice.reason, DropReason::BadConst);
    assert!(!d.notice.readable);
    assert_eq!(
        (d.client_id, d.counter, d.at),
        (0, 0, header::VERSION.start)
    );
}

#[test]
fn every_table_covers_the_frame_exactly() {
    for lane in [None, Some(LaneId::Request), Some(LaneId::Response)] {
        for t in MsgType::ALL {
            let fields = field::fields(lane, t);
            let mut at = 0;
            for f in fields {
                assert_eq!(f.field.start, at, "{t} {}: gap or overlap", f.name);
                assert!(!f.field.is_empty());
                if let Rule::Const(b) = f.rule {
                    assert_eq!(b.len(), f.field.len());
                }
                at = f.field.end;
            }
            assert_eq!(at, FRAME_LEN);
            assert!(fields.len() < field::NO_FIELD as usize);
        }
    }
    // Lowering succeeds (sets contiguous, ranges within 8 bytes) for every lane type.
    for lane in [LaneId::Request, LaneId::Response] {
        for &t in field::lane_types(lane) {
            let rules = field::byte_rules(lane, MsgType::from_u8(t).expect("type"));
            assert_eq!(rules[FRAME_LEN - 1].kind, ByteKind::Crc);
            assert!(rules[FRAME_LEN - 1].last);
        }
    }
}

#[test]
fn frame_md_matches_the_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("FRAME.md");
    let committed = std::fs::read_to_string(&path).expect("spec/FRAME.md exists");
    assert!(
        committed == coldgate_spec::doc::frame_md(),
        "spec/FRAME.md is stale: run `cargo run -p coldgate-spec -- frame-md > spec/FRAME.md`"
    );
}

#[test]
fn committed_vectors_match_the_model() {
    let dir = vectors::dir();
    let lane = std::fs::read_to_string(dir.join("lane.txt")).expect("lane.txt");
    let frames = std::fs::read_to_string(dir.join("frames.txt")).expect("frames.txt");
    let stale = "spec/vectors is stale: run `cargo run -p coldgate-spec -- vectors`";
    assert!(lane == vectors::lane_txt(), "{stale}");
    assert!(frames == vectors::frames_txt(), "{stale}");
    // The parser reads back exactly the generated cases, and replaying them gives the verdicts.
    let parsed = vectors::parse_lane_txt(&lane).expect("lane.txt parses");
    assert_eq!(parsed, vectors::lane_cases());
    for case in &parsed {
        let (expected, passed, notices) = vectors::run(case.lane, &case.input);
        assert_eq!(expected, case.expected, "{}", case.name);
        assert_eq!(passed, case.passed, "{}", case.name);
        assert_eq!(notices, case.notices, "{}", case.name);
        assert!(!case.expected.is_empty(), "{} decides something", case.name);
    }
    assert!(parsed.iter().any(|c| c.input.contains(&Event::Tick)
        && c.expected
            .iter()
            .any(|e| e.starts_with("drop:rate_limited"))));
    assert!(vectors::parse_lane_txt("x request zz pass - -").is_none());
}

/// A frame that starts on the very byte where a partial frame broke a rule is found: the lane
/// re-examines the failing byte as a possible magic start.
#[test]
fn frame_starting_where_a_partial_frame_failed_passes() {
    let w = sealed(1, Body::NewKey);
    let rules = field::byte_rules(LaneId::Request, MsgType::NewKey);
    let mut checked = 0;
    for k in MAGIC.len()..FRAME_LEN {
        let r = rules[k];
        let rejects_magic0 = match r.kind {
            ByteKind::Const => r.a != MAGIC[0],
            ByteKind::Zero => true,
            ByteKind::OneOf => MAGIC[0] < r.a || MAGIC[0] > r.b,
            _ => false,
        };
        if !rejects_magic0 {
            continue;
        }
        let mut lane = unlimited(LaneId::Request);
        let mut stream = w[..k].to_vec();
        stream.extend_from_slice(&w);
        let verdicts = lane.push_all(&stream);
        assert!(
            matches!(verdicts.as_slice(), [Verdict::Drop(_), Verdict::Pass(p)] if p[..] == w[..]),
            "prefix of {k} bytes: {verdicts:?}"
        );
        checked += 1;
    }
    assert!(checked > 90, "covers the header and the reserved body");
}
