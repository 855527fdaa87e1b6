//! The board top (`coldgate_board`, both UARTs and the status UART around the core) in
//! Verilator, driven at the pins. The test is the USB-serial adapter: it writes 8N1 bits on
//! the rx pins with the adapter's own bit timing (3 Mbaud from its clock, not the board's
//! divisor, so the board's receiver sees the usual fraction of a percent of rate error) and
//! decodes the tx pins the same way.

use coldgate_hdl::board::STATUS_LEN;
use coldgate_sim::board::StatusParser;
use coldgate_sim::frames::{classify, split_notices, OutFrame};
use coldgate_sim::verilator::{BoardModel, BOARD_MODEL_BAUD};
use coldgate_sim::PairCounters;
use coldgate_spec::config::CLOCK_HZ;
use coldgate_spec::vectors::{sample_bodies, sample_payment, sealed};
use coldgate_spec::{field, Body, DropReason, LaneId, FRAME_LEN};

/// Clocks per bit as the adapter times them (fractional).
fn bit_clocks() -> f64 {
    f64::from(CLOCK_HZ) / f64::from(BOARD_MODEL_BAUD)
}

/// 8N1 levels for `bytes`, one per clock, bit edges placed at the adapter's exact rate.
fn uart_encode(bytes: &[u8], idle_bits: usize) -> Vec<u8> {
    let mut bits = vec![1u8; idle_bits];
    for &b in bytes {
        bits.push(0);
        bits.extend((0..8).map(|i| (b >> i) & 1));
        bits.push(1);
    }
    let p = bit_clocks();
    let clocks = (bits.len() as f64 * p).ceil() as usize;
    (0..clocks)
        .map(|c| bits[((c as f64 / p) as usize).min(bits.len() - 1)])
        .collect()
}

/// What an 8N1 receiver sampling at the middle of each bit reads from `levels`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Decoded {
    bytes: Vec<u8>,
    /// Bytes whose stop bit was low.
    framing_errors: usize,
}

fn uart_decode(levels: &[u8]) -> Decoded {
    let p = bit_clocks();
    let mut out = Decoded::default();
    let mut c = 1;
    while c < levels.len() {
        if !(levels[c - 1] == 1 && levels[c] == 0) {
            c += 1;
            continue;
        }
        let sample = |bit: usize| levels.get(c + ((bit as f64 + 0.5) * p) as usize).copied();
        let Some(stop) = sample(9) else { break };
        if sample(0) == Some(0) {
            let mut byte = 0u8;
            for i in 0..8 {
                byte |= sample(1 + i).unwrap_or(1) << i;
            }
            if stop == 1 {
                out.bytes.push(byte);
            } else {
                out.framing_errors += 1;
            }
        }
        // Resume hunting for the next start bit from the middle of the stop bit.
        c += (9.5 * p) as usize;
    }
    out
}

/// The board and everything its output pins did so far.
struct Bench {
    board: BoardModel,
    u_tx: Vec<u8>,
    t_tx: Vec<u8>,
    s_tx: Vec<u8>,
    leds: u8,
}

impl Bench {
    fn new() -> Bench {
        let mut board = BoardModel::new(None).expect("board model");
        // Press and release the reset button.
        let n = 16;
        let rst: Vec<u8> = (0..n).map(|i| u8::from(i >= n / 2)).collect();
        board
            .run(Some(&rst), &vec![1; n], &vec![1; n])
            .expect("equal lengths");
        Bench {
            board,
            u_tx: vec![],
            t_tx: vec![],
            s_tx: vec![],
            leds: 0,
        }
    }

    fn run(&mut self, mut u_rx: Vec<u8>, mut t_rx: Vec<u8>) {
        let n = u_rx.len().max(t_rx.len());
        u_rx.resize(n, 1);
        t_rx.resize(n, 1);
        let pins = self.board.run(None, &u_rx, &t_rx).expect("equal lengths");
        self.u_tx.extend(pins.untrusted_tx);
        self.t_tx.extend(pins.trusted_tx);
        self.s_tx.extend(pins.status_tx);
        self.leds = pins.leds;
    }

    /// Idles until both data outputs decode to `u` and `t` whole frames.
    fn until_frames(&mut self, u: usize, t: usize) -> (Decoded, Decoded) {
        let chunk = (FRAME_LEN as f64 * 10.0 * bit_clocks()) as usize;
        for _ in 0..64 {
            let (du, dt) = (uart_decode(&self.u_tx), uart_decode(&self.t_tx));
            if du.bytes.len() >= u * FRAME_LEN && dt.bytes.len() >= t * FRAME_LEN {
                // One more frame time: nothing else may follow.
                self.run(vec![1; chunk], vec![1; chunk]);
                return (uart_decode(&self.u_tx), uart_decode(&self.t_tx));
            }
            self.run(vec![1; chunk], vec![1; chunk]);
        }
        panic!("the board never sent {u} and {t} frames");
    }

    /// The newest confirmed counter snapshot on the status UART.
    fn last_status(&self) -> PairCounters {
        let mut p = StatusParser::default();
        p.push(&uart_decode(&self.s_tx).bytes);
        p.latest().expect("a whole status snapshot")
    }
}

#[test]
fn uart_codec_round_trips() {
    let bytes: Vec<u8> = (0..=255).collect();
    let d = uart_decode(&uart_encode(&bytes, 3));
    assert_eq!(
        d,
        Decoded {
            bytes,
            framing_errors: 0
        }
    );
}

#[test]
fn frames_through_the_board_pins() {
    let mut bench = Bench::new();
    let request = sealed(21, Body::SignPayment(sample_payment()));
    let mut broken = sealed(22, Body::SignPayment(sample_payment()));
    broken[field::CRC.start] ^= 0x10;
    let response = sealed(23, sample_bodies()[5].1);
    bench.run(
        uart_encode(&[&request[..], &broken[..]].concat(), 4),
        uart_encode(&response, 4),
    );
    let (u, t) = bench.until_frames(2, 1);
    assert_eq!((u.framing_errors, t.framing_errors), (0, 0));

    // Trusted side: exactly the request, byte for byte.
    assert_eq!(t.bytes, request.to_vec());

    // Untrusted side: the response, and the NOTICE for the broken request.
    let (notices, passed, partial) = split_notices(&u.bytes);
    assert_eq!(partial, 0);
    assert_eq!(passed, response.to_vec());
    let notice: coldgate_spec::Wire = notices.try_into().expect("one NOTICE");
    match classify(&notice) {
        OutFrame::Notice {
            notice,
            client_id,
            counter,
        } => {
            assert_eq!(notice.reason, DropReason::BadCrc);
            assert_eq!(notice.lane, LaneId::Request);
            assert_eq!((client_id, counter), (7, 22));
        }
        other => panic!("expected a NOTICE, got {other:?}"),
    }

    // The status UART reports the same verdicts.
    let snapshot_clocks = (STATUS_LEN as f64 * 10.0 * bit_clocks()) as usize;
    bench.run(vec![1; 2 * snapshot_clocks], vec![1; 2 * snapshot_clocks]);
    let status = bench.last_status();
    assert_eq!(status.request.passed, 1, "{status:?}");
    assert_eq!(status.request.dropped(DropReason::BadCrc), 1, "{status:?}");
    assert_eq!(status.request.total_dropped(), 1, "{status:?}");
    assert_eq!(status.response.passed, 1, "{status:?}");
    assert_eq!(status.response.total_dropped(), 0, "{status:?}");
}
