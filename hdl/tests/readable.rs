//! Which header bytes make a NOTICE "readable": one rule in spec
//! (`golden::header_readable`), read by the golden model and by the lane's rule ROM. A frame
//! dropped at its last header byte (a zero counter, offset `header::LEN - 1`) has had every
//! header byte arrive, so its NOTICE carries the client id and counter as received; one
//! dropped a byte earlier does not.

use coldgate_hdl::harness::{check_against_golden, drive, DriveConfig};
use coldgate_hdl::RustHdlPair;
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::field::{header, NOTICE_FLAG_READABLE};
use coldgate_spec::golden::{header_readable, Lane, Verdict, READABLE_FROM};
use coldgate_spec::vectors::{patched, sealed, Event};
use coldgate_spec::{DropReason, LaneConfig, FRAME_LEN};

/// A request whose counter is zero: it breaks its range at the counter's last byte.
fn zero_counter() -> [u8; FRAME_LEN] {
    patched(
        sealed(7, Body::GetPubkey { key_id: 1 }),
        header::COUNTER,
        &[0; 8],
    )
}

/// A request whose client id is zero: it breaks its range at the client id's last byte.
fn zero_client() -> [u8; FRAME_LEN] {
    patched(
        sealed(7, Body::GetPubkey { key_id: 1 }),
        header::CLIENT_ID,
        &[0; 4],
    )
}

#[test]
fn the_rule_is_the_headers_last_byte() {
    assert_eq!(READABLE_FROM, header::LEN - 1);
    assert!(header_readable(header::COUNTER.end - 1));
    assert!(!header_readable(header::COUNTER.end - 2));
}

#[test]
fn golden_reports_the_header_of_a_frame_dropped_at_its_last_header_byte() {
    let frame = zero_counter();
    let mut lane = Lane::new(LaneConfig::REQUEST);
    let verdicts = lane.push_all(&frame);
    let Some(Verdict::Drop(d)) = verdicts.first() else {
        panic!("not dropped: {verdicts:?}");
    };
    assert_eq!(d.at, header::LEN - 1);
    assert_eq!(d.notice.reason, DropReason::OutOfRange);
    assert!(d.notice.readable);
    let notice = Frame::decode(&d.frame).expect("a NOTICE decodes");
    assert_eq!(notice.client_id, d.client_id);
    assert_ne!(d.client_id, 0);
    assert_eq!(&d.frame[header::CLIENT_ID], &frame[header::CLIENT_ID]);
    assert_eq!(&d.frame[header::COUNTER], &[0; 8]);
    assert_eq!(
        d.frame[coldgate_spec::field::body::notice::FLAGS.start],
        NOTICE_FLAG_READABLE
    );
}

#[test]
fn golden_hides_the_header_of_a_frame_dropped_before() {
    let mut lane = Lane::new(LaneConfig::REQUEST);
    let verdicts = lane.push_all(&zero_client());
    let Some(Verdict::Drop(d)) = verdicts.first() else {
        panic!("not dropped: {verdicts:?}");
    };
    assert_eq!(d.at, header::CLIENT_ID.end - 1);
    assert!(!d.notice.readable);
    assert_eq!(
        &d.frame[header::CLIENT_ID.start..header::COUNTER.end],
        &[0; 12]
    );
}

/// The logic (rust-hdl's simulation of the core) writes the same NOTICEs as the golden
/// model for both cases, back to back with a valid frame after each.
#[test]
fn logic_agrees_at_and_before_the_last_header_byte() {
    let good = sealed(8, Body::GetPubkey { key_id: 2 });
    let bytes: Vec<u8> = [zero_counter(), good, zero_client(), good]
        .iter()
        .flat_map(|f| f.to_vec())
        .collect();
    let u: Vec<Event> = bytes.into_iter().map(Event::Byte).collect();
    let cfg = DriveConfig::default().with_budget_for(u.len());
    let mut dut = RustHdlPair::new();
    let run = drive(&mut dut, &u, &[], &cfg).expect("run");
    check_against_golden(&run, &u, &[]).expect("logic agrees with golden");
    // The first NOTICE (towards the untrusted side) is the readable one.
    assert_eq!(
        run.u_out[coldgate_spec::field::body::notice::FLAGS.start],
        NOTICE_FLAG_READABLE
    );
    assert_eq!(
        &run.u_out[header::CLIENT_ID],
        &zero_counter()[header::CLIENT_ID]
    );
}
