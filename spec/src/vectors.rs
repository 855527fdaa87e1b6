//! Shared test vectors: valid and invalid frames with the verdicts the verifier must give.
//!
//! `cargo run -p coldgate-spec -- vectors` writes `spec/vectors/lane.txt` and
//! `spec/vectors/frames.txt`; a test regenerates them and fails when the committed files
//! differ, and every hardware test replays the lane cases. The format is plain text so an
//! implementation in another language can test itself:
//!
//! * `lane.txt`, one case per line: `name lane input expected passed notices`, separated by a
//!   single space. `input` is hex, with `t` where a refill tick falls between bytes.
//!   `expected` is a comma list of `pass` or `drop:REASON:FIELD`. `passed` and `notices` are the
//!   hex of the frames leaving on each side, concatenated (`-` when none).
//! * `frames.txt`, one frame per line: `name secret frame result`, where `result` is `ok:TYPE`
//!   (the tag verifies with `secret`) or `err:REASON` (the drop reason a decoder reports).

use std::fmt::Write;

use crate::auth::Secret;
use crate::codec::{Body, Frame, Payment, Wire};
use crate::config::{self, LaneConfig};
use crate::field::{self, body, header, FRAME_LEN};
use crate::golden::{Lane, Verdict};
use crate::message::{LaneId, RejectReason};

/// One element of a lane's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Byte(u8),
    Tick,
}

/// A lane vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneCase {
    pub name: String,
    pub lane: LaneId,
    pub input: Vec<Event>,
    /// `pass` or `drop:REASON:FIELD`, in order.
    pub expected: Vec<String>,
    pub passed: Vec<u8>,
    pub notices: Vec<u8>,
}

/// The secret used by every vector.
pub const SECRET: Secret = [0x5a; 32];
const CLIENT: u32 = 7;

/// A sample payment within every rule.
pub fn sample_payment() -> Payment {
    Payment {
        key_id: 1,
        txid: [0x11; 32],
        vout: 0,
        input_amount: 50_000,
        destination: [0x22; 32],
        amount: 30_000,
        change: 19_000,
    }
}

/// One valid, tagged frame of every type a peer may send.
pub fn sample_bodies() -> Vec<(&'static str, Body)> {
    vec![
        ("new_key", Body::NewKey),
        ("get_pubkey", Body::GetPubkey { key_id: 1 }),
        ("sign_payment", Body::SignPayment(sample_payment())),
        ("payment_status", Body::PaymentStatus { reference: 3 }),
        (
            "pubkey",
            Body::Pubkey {
                key_id: 1,
                key: [0x33; 32],
            },
        ),
        (
            "signature",
            Body::Signature {
                key_id: 1,
                signature: [0x44; 64],
                reference: 3,
            },
        ),
        ("held", Body::Held { reference: 3 }),
        (
            "reject",
            Body::Reject {
                reason: RejectReason::OverPaymentMax,
            },
        ),
    ]
}

/// A valid frame with the vectors' secret.
pub fn sealed(counter: u64, body: Body) -> Wire {
    Frame::sealed(CLIENT, counter, body, &SECRET)
        .and_then(|f| f.to_wire())
        .expect("sample frames are valid")
}

/// Rewrites one byte range and fixes the CRC (so the rule, not the CRC, is what fails).
pub fn patched(mut w: Wire, at: core::ops::Range<usize>, bytes: &[u8]) -> Wire {
    w[at].copy_from_slice(bytes);
    let crc = crate::checksum::checksum(&w[..field::CRC.start]);
    w[field::CRC].copy_from_slice(&crc.to_le_bytes());
    w
}

fn bytes(chunks: &[&[u8]]) -> Vec<Event> {
    chunks
        .iter()
        .flat_map(|c| c.iter().map(|&b| Event::Byte(b)))
        .collect()
}

/// Runs events through a golden lane: (expected, passed bytes, notice bytes).
pub fn run(lane: LaneId, input: &[Event]) -> (Vec<String>, Vec<u8>, Vec<u8>) {
    let mut l = Lane::new(LaneConfig::for_lane(lane));
    let (mut expected, mut passed, mut notices) = (vec![], vec![], vec![]);
    for e in input {
        let v = match e {
            Event::Tick => {
                l.tick();
                None
            }
            Event::Byte(b) => l.push(*b),
        };
        match v {
            Some(Verdict::Pass(w)) => {
                expected.push("pass".to_string());
                passed.extend_from_slice(&w[..]);
            }
            Some(Verdict::Drop(d)) => {
                expected.push(format!("drop:{}:{}", d.notice.reason, d.notice.field));
                notices.extend_from_slice(&d.frame);
            }
            None => {}
        }
    }
    (expected, passed, notices)
}

fn case(name: &str, lane: LaneId, input: Vec<Event>) -> LaneCase {
    let (expected, passed, notices) = run(lane, &input);
    LaneCase {
        name: name.to_string(),
        lane,
        input,
        expected,
        passed,
        notices,
    }
}

/// Every lane vector.
pub fn lane_cases() -> Vec<LaneCase> {
    use LaneId::*;
    let mut out = vec![];
    let samples = sample_bodies();
    for (i, (name, b)) in samples.iter().enumerate() {
        let w = sealed(i as u64 + 1, *b);
        let lane = if b.msg_type().is_request() {
            Request
        } else {
            Response
        };
        let other = if lane == Request { Response } else { Request };
        out.push(case(&format!("valid_{name}"), lane, bytes(&[&w])));
        out.push(case(&format!("wrong_lane_{name}"), other, bytes(&[&w])));
    }
    let pay = sealed(9, Body::SignPayment(sample_payment()));
    let newkey = sealed(10, Body::NewKey);
    let over = {
        let mut p = sample_payment();
        p.amount = config::SIGN_AMOUNT_CEILING + 1;
        p.input_amount = p.amount + 1000;
        p.change = 0;
        Frame {
            client_id: CLIENT,
            counter: 11,
            body: Body::SignPayment(p),
            tag: [0; 32],
        }
        .encode_unchecked()
    };
    let at_ceiling = {
        let mut p = sample_payment();
        p.amount = config::SIGN_AMOUNT_CEILING;
        p.input_amount = p.amount + 1000;
        p.change = 0;
        sealed(12, Body::SignPayment(p))
    };
    let mut bad_crc = pay;
    bad_crc[field::CRC.start] ^= 1;
    let mut flipped_body = pay;
    flipped_body[body::sign_payment::TXID.start] ^= 0x80;
    let cases: Vec<(&str, LaneId, Vec<Event>)> = vec![
        (
            "bad_version",
            Request,
            bytes(&[&patched(pay, header::VERSION, &[2])]),
        ),
        (
            "reserved_header_nonzero",
            Request,
            bytes(&[&patched(pay, header::RESERVED, &[0, 1])]),
        ),
        (
            "client_id_zero",
            Request,
            bytes(&[&patched(pay, header::CLIENT_ID, &[0; 4])]),
        ),
        (
            "counter_zero",
            Request,
            bytes(&[&patched(pay, header::COUNTER, &[0; 8])]),
        ),
        ("amount_over_ceiling", Request, bytes(&[&over[..], &newkey])),
        ("amount_at_ceiling", Request, bytes(&[&at_ceiling])),
        (
            "amount_zero",
            Request,
            bytes(&[&patched(pay, body::sign_payment::AMOUNT, &[0; 8])]),
        ),
        (
            "key_id_zero",
            Request,
            bytes(&[&patched(pay, body::sign_payment::KEY_ID, &[0; 4])]),
        ),
        (
            "new_key_body_nonzero",
            Request,
            bytes(&[&patched(newkey, body::get_pubkey::KEY_ID, &[0, 0, 0, 1])]),
        ),
        ("bad_crc", Request, bytes(&[&bad_crc, &newkey])),
        ("flipped_body_bit", Request, bytes(&[&flipped_body])),
        (
            "garbage_then_frame",
            Request,
            bytes(&[&[0x00, 0xC0, 0x1D, 0xC0, 0x1D, 0x6A, 0x00, 0xFF], &pay]),
        ),
        (
            "split_magic_restart",
            Request,
            bytes(&[&[0xC0, 0x1D, 0x6A], &newkey]),
        ),
        (
            "truncated_then_frames",
            Request,
            bytes(&[&pay[..60], &newkey, &pay]),
        ),
        ("back_to_back", Request, bytes(&[&pay, &newkey, &pay])),
        (
            "notice_injected",
            Response,
            bytes(&[&crate::golden::notice_frame(
                0,
                0,
                crate::Notice {
                    reason: crate::DropReason::BadCrc,
                    field: 0,
                    lane: Request,
                    readable: false,
                },
            )]),
        ),
        (
            "reject_reason_outside_set",
            Response,
            bytes(&[&patched(
                sealed(
                    13,
                    Body::Reject {
                        reason: RejectReason::Denied,
                    },
                ),
                body::reject::REASON,
                &[0xEE],
            )]),
        ),
    ];
    for (name, lane, input) in cases {
        out.push(case(name, lane, input));
    }
    // The token bucket: a burst of one more frame than it holds, then a tick refills one.
    let burst = config::RATE_BURST as usize;
    let mut input = vec![];
    for _ in 0..=burst {
        input.extend(bytes(&[&newkey]));
    }
    input.push(Event::Tick);
    input.extend(bytes(&[&newkey]));
    out.push(case("rate_limit_burst_then_tick", Request, input));
    out
}

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s == "-" {
        return Some(vec![]);
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `lane.txt`.
pub fn lane_txt() -> String {
    let mut out =
        String::from("# name lane input expected passed notices (see spec/src/vectors.rs)\n");
    for c in lane_cases() {
        let mut input = String::new();
        for e in &c.input {
            match e {
                Event::Byte(b) => {
                    let _ = write!(input, "{b:02x}");
                }
                Event::Tick => input.push('t'),
            }
        }
        let _ = writeln!(
            out,
            "{} {} {} {} {} {}",
            c.name,
            c.lane,
            input,
            c.expected.join(","),
            hex(&c.passed),
            hex(&c.notices)
        );
    }
    out
}

/// Parses an input column: hex byte pairs, `t` for a tick.
fn parse_events(s: &str) -> Option<Vec<Event>> {
    let mut out = vec![];
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('t') {
            out.push(Event::Tick);
            rest = r;
        } else {
            out.push(Event::Byte(u8::from_str_radix(rest.get(..2)?, 16).ok()?));
            rest = &rest[2..];
        }
    }
    Some(out)
}

/// Parses `lane.txt`; `None` on a malformed line.
pub fn parse_lane_txt(text: &str) -> Option<Vec<LaneCase>> {
    let mut out = vec![];
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let parts: Vec<&str> = line.split(' ').collect();
        let [name, lane, input, expected, passed, notices] = parts[..] else {
            return None;
        };
        let events = parse_events(input)?;
        out.push(LaneCase {
            name: name.to_string(),
            lane: LaneId::from_name(lane)?,
            input: events,
            expected: expected
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            passed: unhex(passed)?,
            notices: unhex(notices)?,
        });
    }
    Some(out)
}

/// `frames.txt`.
pub fn frames_txt() -> String {
    let mut out = String::from("# name secret frame result (see spec/src/vectors.rs)\n");
    let mut rows: Vec<(String, Vec<u8>)> = sample_bodies()
        .into_iter()
        .enumerate()
        .map(|(i, (n, b))| (n.to_string(), sealed(i as u64 + 1, b).to_vec()))
        .collect();
    let pay = sealed(9, Body::SignPayment(sample_payment()));
    rows.push(("short".into(), pay[..FRAME_LEN - 1].to_vec()));
    rows.push(("long".into(), [&pay[..], &[0]].concat()));
    let mut bad = pay;
    bad[field::TAG.start] ^= 1;
    rows.push((
        "tag_altered_crc_fixed".into(),
        patched(bad, 0..0, &[]).to_vec(),
    ));
    rows.push((
        "amount_over_ceiling".into(),
        patched(
            pay,
            body::sign_payment::AMOUNT,
            &(config::SIGN_AMOUNT_CEILING + 1).to_be_bytes(),
        )
        .to_vec(),
    ));
    for (name, bytes) in rows {
        let result = match Frame::decode(&bytes) {
            Ok(f) if f.verify(&SECRET) => format!("ok:{}", f.body.msg_type()),
            Ok(_) => "err:bad_tag".to_string(),
            Err(e) => format!(
                "err:{}",
                e.drop_reason().map(|r| r.name()).unwrap_or("length")
            ),
        };
        let _ = writeln!(out, "{name} {} {} {result}", hex(&SECRET), hex(&bytes));
    }
    out
}

/// Where the committed vector files live.
pub fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}
