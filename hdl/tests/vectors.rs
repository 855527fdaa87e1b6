//! Every shared lane vector through rust-hdl's simulation of the core, against the golden model.

use coldgate_hdl::harness::{check_against_golden, drive, DriveConfig};
use coldgate_hdl::RustHdlPair;
use coldgate_spec::vectors::lane_cases;
use coldgate_spec::LaneId;

#[test]
fn lane_cases_match_golden() {
    for case in lane_cases() {
        let mut dut = RustHdlPair::new();
        let (u, t) = match case.lane {
            LaneId::Request => (case.input.clone(), vec![]),
            LaneId::Response => (vec![], case.input.clone()),
        };
        let cfg = DriveConfig::default().with_budget_for(case.input.len());
        let run = drive(&mut dut, &u, &t, &cfg).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        if let Err(e) = check_against_golden(&run, &u, &t) {
            panic!("{}: {e}", case.name);
        }
        eprintln!("{}: {} cycles ok", case.name, run.cycles);
    }
}
