//! The formal proof runs: yosys and yosys-smtbmc (z3) on each check's generated Verilog and
//! monitor. At CI depth (a few header bytes from reset) it shows that a lane counts no drop
//! while the header obeys the rules, that a drop reason is reachable (non-vacuity), and that
//! both mutants (an inverted rule, a wrong restart offset) are caught. The deep runs
//! (`coldgate-hdl prove --depth N`) are manual; see the report in the README.

use coldgate_hdl::prove::{self, check, mutant::Mutation, Kind, Property};
use coldgate_spec::LaneId;

fn find(name: &str) -> Property {
    prove::properties(LaneId::Request)
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no property {name}"))
}

#[test]
fn no_false_drop_holds_from_reset() {
    let o = check(&find("request.header_no_false_drop"), 8).expect("prover runs");
    assert_eq!(o.result, "holds", "{o:?}");
}

#[test]
fn a_bad_const_drop_is_reachable() {
    let o = check(&find("request.cover_bad_const"), 9).expect("prover runs");
    assert_eq!(o.result, "reached", "{o:?}");
}

#[test]
fn mutants_are_caught() {
    for (m, depth) in [(Mutation::InvertedRule, 10), (Mutation::WrongRestart, 10)] {
        let mut p = find(&format!("request.mutant_{}", m.name()));
        assert_eq!(p.kind, Kind::Mutant);
        // The property that catches both at a shallow depth (the others need deeper runs).
        p.against = vec!["PROP_HEADER_NO_FALSE_DROP".to_string()];
        let o = check(&p, depth).expect("prover runs");
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
        by: None,
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
