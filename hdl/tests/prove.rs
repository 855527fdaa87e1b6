//! The formal proof runs: yosys lowers each check's generated lane Verilog and monitor to
//! AIGER, ABC checks it. CI runs the real engines on the real lanes at depths that fit its
//! budget: an unbounded PDR proof, covers up to a whole frame deep (a drop reason, a CRC
//! drop at the frame's last byte, a frame leaving the pass output), both mutants (an
//! inverted rule, a wrong restart offset) caught. The deep run (`coldgate-hdl prove --json`,
//! 320 clocks) is manual; its figures are in the README.

use coldgate_hdl::prove::{self, check, mutant::Mutation, Kind, Limits, Property};
use coldgate_spec::LaneId;

fn find(lane: LaneId, name: &str) -> Property {
    prove::properties(lane)
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no property {name}"))
}

fn limits(depth: u32, pdr_seconds: u32) -> Limits {
    Limits {
        depth,
        seconds: 600,
        pdr_seconds,
    }
}

/// PDR proves it for every depth: while the first header obeys every rule, no drop counts.
#[test]
fn no_false_drop_is_proved_unbounded() {
    let o = check(
        &find(LaneId::Request, "request.header_no_false_drop"),
        limits(8, 300),
    )
    .expect("prover runs");
    assert_eq!((o.result, o.engine), ("proved", "pdr"), "{o:?}");
}

/// The bounded check alone (no PDR) holds to the depth asked for.
#[test]
fn notice_hold_holds_bounded() {
    let o = check(
        &find(LaneId::Response, "response.notice_held_while_stalled"),
        limits(40, 0),
    )
    .expect("prover runs");
    assert_eq!(
        (o.result, o.depth, o.engine),
        ("holds", 40, "bmc3"),
        "{o:?}"
    );
}

#[test]
fn a_bad_const_drop_is_reachable() {
    let o = check(
        &find(LaneId::Request, "request.cover_bad_const"),
        limits(20, 0),
    )
    .expect("prover runs");
    assert_eq!(o.result, "reached", "{o:?}");
}

/// A CRC drop needs a whole frame (all 152 bytes obeying the rules) from reset.
#[test]
fn a_bad_crc_drop_is_reachable() {
    let o = check(
        &find(LaneId::Request, "request.cover_bad_crc"),
        limits(200, 0),
    )
    .expect("prover runs");
    assert_eq!(o.result, "reached", "{o:?}");
    assert!(o.depth >= 152, "a CRC verdict before a whole frame: {o:?}");
}

/// A frame leaves the pass output whole: in (152 clocks), decided, then out (152 more).
#[test]
fn a_frame_passes() {
    let o = check(
        &find(LaneId::Response, "response.cover_pass"),
        limits(320, 0),
    )
    .expect("prover runs");
    assert_eq!(o.result, "reached", "{o:?}");
    assert!(o.depth >= 2 * 152, "a frame out before it was in: {o:?}");
}

#[test]
fn mutants_are_caught() {
    for (m, depth) in [(Mutation::InvertedRule, 12), (Mutation::WrongRestart, 12)] {
        let mut p = find(LaneId::Request, &format!("request.mutant_{}", m.name()));
        assert_eq!(p.kind, Kind::Mutant);
        // The property that catches both at a shallow depth (the others need deeper runs).
        p.against = vec!["PROP_HEADER_NO_FALSE_DROP".to_string()];
        let o = check(&p, limits(depth, 0)).expect("prover runs");
        assert_eq!(o.result, "caught", "{o:?}");
    }
}

#[test]
fn the_json_has_every_field() {
    let o = prove::Outcome {
        name: "request.x".into(),
        kind: Kind::Cover,
        depth: 3,
        result: "unreached",
        seconds: 1.0,
        engine: "bmc3",
        by: None,
        note: None,
    };
    let j = prove::to_json(&[o]);
    assert_eq!(j["all_hold"], false);
    for k in ["name", "kind", "depth", "result", "seconds"] {
        assert!(j["properties"][0].get(k).is_some(), "{k}");
    }
}

/// Each mutation still finds its text in the lane's Verilog.
#[test]
fn mutations_apply() {
    for lane in LaneId::ALL {
        let v = prove::lane_verilog(lane);
        for m in Mutation::ALL {
            let mutated = m.apply(&v).expect("applies");
            assert_ne!(mutated, v);
        }
    }
}
