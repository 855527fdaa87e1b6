//! The board top in rust-hdl's simulator, through its UART pins at 12.5 Mbaud (8 clocks per
//! bit): a valid request crosses to the trusted side, a broken one comes back as a NOTICE, and
//! the status port sends counter snapshots.

use coldgate_hdl::board::{divisor, ColdgateBoard, STATUS_LEN, STATUS_SYNC};
use coldgate_hdl::harness::golden_lane;
use coldgate_spec::field::{header, FRAME_LEN};
use coldgate_spec::vectors::{patched, sealed, Event};
use coldgate_spec::{Body, LaneId};
use rust_hdl::prelude::*;

const BAUD: u32 = 12_500_000;

struct Board {
    b: ColdgateBoard,
    div: usize,
}

/// A software 8N1 receiver watching one pin, sampling in the middle of each bit.
#[derive(Default)]
struct Rx {
    count: Option<usize>,
    bits: Vec<bool>,
    out: Vec<u8>,
}

impl Rx {
    fn clock(&mut self, line: bool, div: usize) {
        match self.count {
            None if !line => {
                self.count = Some(0);
                self.bits.clear();
            }
            None => {}
            Some(c) => {
                let c = c + 1;
                self.count = Some(c);
                if c % div == div / 2 {
                    self.bits.push(line);
                    if self.bits.len() == 10 {
                        assert!(!self.bits[0] && self.bits[9], "framing error");
                        let byte = (0..8).fold(0u8, |b, i| b | (u8::from(self.bits[1 + i]) << i));
                        self.out.push(byte);
                        self.count = None;
                    }
                }
            }
        }
    }
}

impl Board {
    fn new() -> Board {
        let mut b = ColdgateBoard::new(BAUD).unwrap();
        b.connect_all();
        b.rst_n.next = true;
        b.untrusted_rx.next = true;
        b.trusted_rx.next = true;
        let mut board = Board {
            b,
            div: usize::from(divisor(BAUD).unwrap()),
        };
        board.settle();
        board
    }

    fn settle(&mut self) {
        assert!(simulate(&mut self.b, 1000), "board did not settle");
    }

    /// One clock; returns (untrusted_tx, trusted_tx, status_tx) before the edge.
    fn cycle(&mut self, u_rx: bool, t_rx: bool) -> (bool, bool, bool) {
        self.b.clock.next = Clock::from(false);
        self.b.untrusted_rx.next = u_rx;
        self.b.trusted_rx.next = t_rx;
        self.settle();
        let out = (
            self.b.untrusted_tx.val(),
            self.b.trusted_tx.val(),
            self.b.status_tx.val(),
        );
        self.b.clock.next = Clock::from(true);
        self.settle();
        out
    }

    /// Sends `bytes` into the untrusted side and runs `extra` more clocks; returns what left
    /// on the untrusted, trusted and status sides.
    fn run(&mut self, bytes: &[u8], extra: usize) -> [Vec<u8>; 3] {
        let mut line = vec![];
        for &b in bytes {
            line.push(false);
            line.extend((0..8).map(|i| b >> i & 1 == 1));
            line.push(true);
        }
        let mut rx: [Rx; 3] = Default::default();
        let total = line.len() * self.div + extra;
        for n in 0..total {
            let bit = line.get(n / self.div).copied().unwrap_or(true);
            let (u, t, s) = self.cycle(bit, true);
            rx[0].clock(u, self.div);
            rx[1].clock(t, self.div);
            rx[2].clock(s, self.div);
        }
        rx.map(|r| r.out)
    }
}

#[test]
fn frames_cross_the_board_uarts() {
    let mut board = Board::new();
    let good = sealed(5, Body::NewKey);
    let bad = patched(good, header::VERSION, &[2]);
    let input = [&good[..], &bad[..]].concat();
    let [u, t, s] = board.run(&input, 2 * FRAME_LEN * 10 * board.div);

    let events: Vec<Event> = input.iter().map(|&b| Event::Byte(b)).collect();
    let golden = golden_lane(LaneId::Request, &events);
    assert_eq!(
        t, golden.passed,
        "the valid request reaches the trusted side"
    );
    assert_eq!(u, golden.notices, "the broken one comes back as a NOTICE");
    assert_eq!(golden.passed.len(), FRAME_LEN);
    assert_eq!(golden.notices.len(), FRAME_LEN);

    // The status port repeats snapshots; the last whole one counts one pass, one drop.
    let start = s
        .windows(STATUS_LEN)
        .rposition(|w| w[..2] == STATUS_SYNC)
        .expect("a whole status snapshot");
    let snap = &s[start + 2..start + STATUS_LEN];
    let counter = |i: usize| u32::from_le_bytes(snap[4 * i..4 * i + 4].try_into().unwrap());
    let req: Vec<u32> = (0..7).map(counter).collect();
    assert_eq!(req[..], golden.counters[..]);
    assert!((7..14).all(|i| counter(i) == 0));
}

#[test]
fn baud_rates_are_checked() {
    assert_eq!(divisor(12_500_000), Ok(8));
    assert_eq!(divisor(coldgate_spec::config::DEFAULT_BAUD), Ok(33));
    assert!(divisor(0).is_err());
    assert!(
        divisor(50_000_000).is_err(),
        "two clocks per bit is too few"
    );
    assert!(divisor(1_000).is_err(), "divisor wider than the counter");
    assert!(
        divisor(40_000_000).is_err(),
        "2.5 clocks per bit is inexact"
    );
}
