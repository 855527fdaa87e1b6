//! Every shared lane vector through rust-hdl's simulation of the core, against the golden
//! model, and the core's line rate.

use coldgate_hdl::harness::{check_against_golden, drive, DriveConfig, Pattern};
use coldgate_hdl::RustHdlPair;
use coldgate_spec::vectors::lane_cases;
use coldgate_spec::LaneId;

#[test]
fn lane_cases_match_golden() {
    for case in lane_cases() {
        let (u, t) = match case.lane {
            LaneId::Request => (case.input.clone(), vec![]),
            LaneId::Response => (vec![], case.input.clone()),
        };
        // At full rate, then with idle cycles on the inputs and backpressure on the outputs.
        let paced = DriveConfig {
            u_in_idle: Pattern::one_in(3),
            t_in_idle: Pattern::one_in(4),
            u_out_stall: Pattern(vec![true, false, false, true, false]),
            t_out_stall: Pattern::one_in(2),
            ..DriveConfig::default()
        };
        for cfg in [DriveConfig::default(), paced] {
            let cfg = cfg.with_budget_for(case.input.len());
            let mut dut = RustHdlPair::new();
            let run =
                drive(&mut dut, &u, &t, &cfg).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            if let Err(e) = check_against_golden(&run, &u, &t) {
                panic!("{}: {e}", case.name);
            }
        }
    }
}

/// Line rate: back-to-back valid frames on both lanes are accepted one byte per clock with no
/// idle cycle, and leave one byte per clock with no gap between frames.
#[test]
fn back_to_back_frames_at_one_byte_per_clock() {
    use coldgate_hdl::harness::{PairClock, PairIn};
    use coldgate_spec::vectors::{sample_bodies, sealed};
    use coldgate_spec::FRAME_LEN;

    const FRAMES: usize = 6;
    let stream = |request: bool| -> Vec<u8> {
        let bodies: Vec<_> = sample_bodies()
            .into_iter()
            .filter(|(_, b)| b.msg_type().is_request() == request)
            .collect();
        (0..FRAMES)
            .flat_map(|i| sealed(i as u64 + 1, bodies[i % bodies.len()].1).to_vec())
            .collect()
    };
    let (u, t) = (stream(true), stream(false));
    let mut dut = RustHdlPair::new();
    dut.cycle(&PairIn {
        reset: true,
        ..PairIn::default()
    });
    let (mut u_seen, mut t_seen) = (vec![], vec![]);
    for i in 0..u.len() + 2 * FRAME_LEN {
        let o = dut.cycle(&PairIn {
            u_in: u.get(i).copied(),
            t_in: t.get(i).copied(),
            u_out_ready: true,
            t_out_ready: true,
            ..PairIn::default()
        });
        if i < u.len() {
            assert!(o.u_in_ready && o.t_in_ready, "input stalled at byte {i}");
        }
        u_seen.push(o.u_out);
        t_seen.push(o.t_out);
    }
    for (seen, want) in [(&t_seen, &u), (&u_seen, &t)] {
        let first = seen.iter().position(Option::is_some).expect("output");
        let run: Vec<u8> = seen[first..first + want.len()]
            .iter()
            .map(|b| b.expect("no gap in the output"))
            .collect();
        assert_eq!(&run, want);
        // Store and forward: a frame leaves only after its last byte arrived.
        assert!(first >= FRAME_LEN);
    }
}
