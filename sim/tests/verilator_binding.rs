//! The Verilator binding itself: tracing, schedule validation, and batches that stop and
//! resume anywhere (mid-frame, between a frame and its tick).

use coldgate_sim::frames::split_notices;
use coldgate_sim::{Backend, BackendError, Schedule, Side, VerilatorBackend};
use coldgate_spec::vectors::{sample_payment, sealed};
use coldgate_spec::{Body, FRAME_LEN};

#[test]
fn vcd_trace_names_the_core_ports() {
    let dir = std::env::temp_dir().join(format!("coldgate-sim-vcd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("pair.vcd");
    {
        let mut b = VerilatorBackend::new(Schedule::default(), Some(&path)).expect("traced model");
        assert_eq!(b.vcd(), Some(path.as_path()));
        let frame = sealed(1, Body::SignPayment(sample_payment()));
        b.push(Side::Untrusted, &frame).expect("push");
        let out = b.advance().expect("advance");
        assert_eq!(out.trusted, frame.to_vec());
    }
    let vcd = std::fs::read_to_string(&path).expect("trace written");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(vcd.contains("$enddefinitions"), "a VCD header");
    assert!(vcd.contains("$timescale 1ns $end"), "times in ns");
    for port in ["u_in_data", "t_out_valid", "req_count_passed", "tick"] {
        assert!(vcd.contains(port), "{port} is traced");
    }
}

#[test]
fn unwritable_trace_is_an_error() {
    let err = VerilatorBackend::new(
        Schedule::default(),
        Some(std::path::Path::new("/nonexistent-dir/coldgate.vcd")),
    )
    .err()
    .expect("no such directory");
    assert!(matches!(err, BackendError::Model(Some(_))), "{err}");
}

#[test]
fn schedules_that_cannot_move_a_byte_are_refused() {
    let stuck = Schedule {
        t_out_mask: 0,
        ..Schedule::default()
    };
    assert!(matches!(
        VerilatorBackend::new(stuck, None),
        Err(BackendError::Schedule(_))
    ));
    let short = Schedule {
        drain_cycles: 8,
        ..Schedule::default()
    };
    assert!(matches!(
        VerilatorBackend::new(short, None),
        Err(BackendError::Schedule(_))
    ));
}

/// A frame split over many batches, byte by byte, with a tick between batches, comes out
/// whole; the counters see one pass.
#[test]
fn batches_resume_mid_frame() {
    let mut b = VerilatorBackend::new(Schedule::default(), None).expect("model");
    let frame = sealed(2, Body::SignPayment(sample_payment()));
    let mut out = coldgate_sim::Output::default();
    for (i, byte) in frame.iter().enumerate() {
        b.push(Side::Untrusted, &[*byte]).expect("push");
        if i % 50 == 0 {
            b.tick();
        }
        out.append(b.advance().expect("advance"));
    }
    assert_eq!(out.trusted, frame.to_vec());
    assert!(out.untrusted.is_empty());
    let c = b.counters().expect("counters");
    assert_eq!(c.request.passed, 1);
    assert_eq!(c.request.total_dropped(), 0);
    let (notices, passed, partial) = split_notices(&out.trusted);
    assert_eq!((notices.len(), passed.len(), partial), (0, FRAME_LEN, 0));
}
