//! The board backend's serial path over real pseudo-terminals. The test plays the board: it
//! holds the pty masters and runs the golden model between them, so everything the backend
//! does (opening the devices, 8N1 raw mode, writing, polling what arrived) is the code path a
//! real Alchitry Cu sees.

use std::time::{Duration, Instant};

mod common;

use coldgate_sim::frames::{classify, OutFrame};
use coldgate_sim::{Backend, BackendError, BackendKind, BoardBackend, Output, Side};
use coldgate_spec::vectors::{sample_payment, sealed};
use coldgate_spec::{field, Body, DropReason, FRAME_LEN};
use common::{fake_board, pty};

const PATIENCE: Duration = Duration::from_secs(60);

/// Polls the backend until `side` has received a whole frame.
fn frame_on(b: &mut BoardBackend, got: &mut Output, side: Side) -> [u8; FRAME_LEN] {
    let deadline = Instant::now() + PATIENCE;
    while got.side(side).len() < FRAME_LEN {
        assert!(Instant::now() < deadline, "no frame on the {side} side");
        got.append(b.advance().expect("advance"));
        std::thread::sleep(Duration::from_millis(2));
    }
    let frame: Vec<u8> = got.side_mut(side).drain(..FRAME_LEN).collect();
    frame.try_into().expect("one frame")
}

#[test]
fn board_backend_over_serial_devices() {
    let (u_master, _u_slave, u_path) = pty();
    let (t_master, _t_slave, t_path) = pty();
    fake_board(u_master, t_master);
    let mut b = BoardBackend::open(&u_path, &t_path, coldgate_spec::config::DEFAULT_BAUD)
        .expect("open the board's UARTs");
    assert_eq!(b.kind(), BackendKind::Board);
    assert!(matches!(
        b.counters(),
        Err(BackendError::CountersUnavailable(BackendKind::Board))
    ));
    let mut got = Output::default();

    let request = sealed(3, Body::SignPayment(sample_payment()));
    b.push(Side::Untrusted, &request).expect("write");
    assert_eq!(frame_on(&mut b, &mut got, Side::Trusted), request);

    let mut broken = sealed(4, Body::SignPayment(sample_payment()));
    broken[field::CRC.start] ^= 0x80;
    b.push(Side::Untrusted, &broken).expect("write");
    match classify(&frame_on(&mut b, &mut got, Side::Untrusted)) {
        OutFrame::Notice {
            notice, counter, ..
        } => {
            assert_eq!(notice.reason, DropReason::BadCrc);
            assert_eq!(counter, 4);
        }
        other => panic!("expected a NOTICE, got {other:?}"),
    }
    assert!(got.is_empty(), "nothing else arrived: {got:?}");
}

/// With the status UART open, counters come from the board's snapshots.
#[test]
fn board_counters_from_the_status_uart() {
    use coldgate_hdl::board::STATUS_SYNC;
    use coldgate_hdl::harness::COUNTER_NAMES;
    use std::io::Write;

    let (u_master, _u_slave, u_path) = pty();
    let (t_master, _t_slave, t_path) = pty();
    let (mut s_master, _s_slave, s_path) = pty();
    fake_board(u_master, t_master);
    let mut b = BoardBackend::open_with_status(
        &u_path,
        &t_path,
        Some(&s_path),
        coldgate_spec::config::DEFAULT_BAUD,
    )
    .expect("open the board's UARTs");
    assert!(b.counters().is_err(), "no snapshot yet");
    let mut snapshot = STATUS_SYNC.to_vec();
    for i in 0..2 * COUNTER_NAMES.len() as u32 {
        snapshot.extend_from_slice(&(i * 10).to_le_bytes());
    }
    // Two snapshots: the first is confirmed by the second's sync.
    s_master
        .write_all(&[&snapshot[..], &snapshot[..]].concat())
        .expect("status bytes");
    let deadline = Instant::now() + PATIENCE;
    let c = loop {
        b.advance().expect("advance");
        if let Ok(c) = b.counters() {
            break c;
        }
        assert!(Instant::now() < deadline, "no snapshot parsed");
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(c.request.passed, 0);
    assert_eq!(c.request.dropped(DropReason::BadConst), 10);
    assert_eq!(c.response.passed, 10 * COUNTER_NAMES.len() as u32);
}

#[test]
fn board_backend_reports_a_missing_device() {
    let err = BoardBackend::open("/dev/coldgate-no-such-uart", "/dev/null", 9600)
        .err()
        .expect("opening a missing device fails");
    assert!(
        err.to_string().contains("/dev/coldgate-no-such-uart"),
        "{err}"
    );
}
