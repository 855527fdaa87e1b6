//! Property tests: random streams through rust-hdl's simulation of the core, compared with
//! the golden model on both sides (passes, NOTICEs, counters).
//!
//! Streams mix valid frames of every type, frames with fields at and around their limits,
//! mutated frames (with the CRC fixed, so a rule fails, or not), truncated frames, garbage
//! rich in magic bytes and refill ticks, on both lanes at once, at full rate or with idle
//! insertion on the inputs and backpressure on the outputs.

use coldgate_hdl::harness::{check_against_golden, drive, DriveConfig, Pattern};
use coldgate_hdl::RustHdlPair;
use coldgate_spec::field::{CRC, FRAME_LEN, MAGIC};
use coldgate_spec::vectors::Event;
use coldgate_spec::{
    checksum, config, Body, DropReason, Frame, LaneId, Notice, Payment, RejectReason,
};
use proptest::prelude::*;

fn id32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()]
}

fn id64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()]
}

fn amount() -> impl Strategy<Value = u64> {
    let c = config::SIGN_AMOUNT_CEILING;
    let m = config::MAX_MONEY;
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(c - 1),
        Just(c),
        Just(c + 1),
        Just(m),
        Just(m + 1),
        0..2 * c,
        any::<u64>()
    ]
}

fn body() -> impl Strategy<Value = Body> {
    let payment = (
        id32(),
        any::<[u8; 32]>(),
        any::<u32>(),
        amount(),
        any::<[u8; 32]>(),
        amount(),
        amount(),
    )
        .prop_map(
            |(key_id, txid, vout, input_amount, destination, amount, change)| {
                Body::SignPayment(Payment {
                    key_id,
                    txid,
                    vout,
                    input_amount,
                    destination,
                    amount,
                    change,
                })
            },
        );
    prop_oneof![
        Just(Body::NewKey),
        id32().prop_map(|key_id| Body::GetPubkey { key_id }),
        payment,
        id64().prop_map(|reference| Body::PaymentStatus { reference }),
        (id32(), any::<[u8; 32]>()).prop_map(|(key_id, key)| Body::Pubkey { key_id, key }),
        (id32(), any::<[u8; 32]>(), id64()).prop_map(|(key_id, s, reference)| Body::Signature {
            key_id,
            signature: [s, s].concat().try_into().unwrap(),
            reference
        }),
        id64().prop_map(|reference| Body::Held { reference }),
        (0..RejectReason::ALL.len()).prop_map(|i| Body::Reject {
            reason: RejectReason::ALL[i]
        }),
        Just(Body::Notice(Notice {
            reason: DropReason::BadCrc,
            field: 0,
            lane: LaneId::Request,
            readable: false,
        })),
    ]
}

/// A frame with a correct CRC, its fields as generated (often valid, sometimes at or past a
/// limit).
fn frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![3 => Just(7u32), 1 => id32()],
        prop_oneof![3 => 1..1000u64, 1 => id64()],
        body(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(client_id, counter, body, tag)| {
            Frame {
                client_id,
                counter,
                body,
                tag,
            }
            .encode_unchecked()
            .to_vec()
        })
}

fn fix_crc(f: &mut [u8]) {
    let crc = checksum::checksum(&f[..CRC.start]);
    f[CRC].copy_from_slice(&crc.to_le_bytes());
}

#[derive(Clone, Debug)]
enum Piece {
    Frame(Vec<u8>),
    Tick,
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        6 => frame().prop_map(Piece::Frame),
        // One byte changed, CRC fixed: the rule of that byte decides.
        2 => (frame(), 0..FRAME_LEN, 1..=255u8).prop_map(|(mut f, at, x)| {
            f[at] ^= x;
            fix_crc(&mut f);
            Piece::Frame(f)
        }),
        // One bit flipped, CRC not fixed.
        1 => (frame(), 0..FRAME_LEN, 0..8u8).prop_map(|(mut f, at, bit)| {
            f[at] ^= 1 << bit;
            Piece::Frame(f)
        }),
        1 => (frame(), 0..FRAME_LEN).prop_map(|(mut f, n)| {
            f.truncate(n);
            Piece::Frame(f)
        }),
        1 => prop::collection::vec(
            prop_oneof![Just(MAGIC[0]), Just(MAGIC[1]), Just(MAGIC[2]), Just(MAGIC[3]), any::<u8>()],
            0..24
        )
        .prop_map(Piece::Frame),
        1 => Just(Piece::Tick),
    ]
}

fn events(pieces: &[Piece]) -> Vec<Event> {
    let mut out = vec![];
    for p in pieces {
        match p {
            Piece::Frame(f) => out.extend(f.iter().map(|&b| Event::Byte(b))),
            Piece::Tick => out.push(Event::Tick),
        }
    }
    out
}

/// A pacing pattern that is on at most some of the time (never stuck on).
fn pattern() -> impl Strategy<Value = Pattern> {
    prop_oneof![
        2 => Just(Pattern::never()),
        1 => (2..6usize).prop_map(Pattern::one_in),
        1 => prop::collection::vec(any::<bool>(), 1..8).prop_map(|mut v| {
            v.push(false);
            Pattern(v)
        }),
    ]
}

fn run(u: &[Piece], t: &[Piece], cfg: DriveConfig) -> Result<(), TestCaseError> {
    let (u, t) = (events(u), events(t));
    let cfg = cfg.with_budget_for(u.len() + t.len());
    let mut dut = RustHdlPair::new();
    let out = drive(&mut dut, &u, &t, &cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
    check_against_golden(&out, &u, &t).map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Both lanes at full rate, outputs always ready: frames leave back to back.
    #[test]
    fn both_lanes_full_rate(
        u in prop::collection::vec(piece(), 0..7),
        t in prop::collection::vec(piece(), 0..7),
    ) {
        run(&u, &t, DriveConfig::default())?;
    }

    /// Idle cycles on the inputs and backpressure on the outputs.
    #[test]
    fn both_lanes_paced(
        u in prop::collection::vec(piece(), 0..7),
        t in prop::collection::vec(piece(), 0..7),
        u_idle in pattern(),
        t_idle in pattern(),
        u_stall in pattern(),
        t_stall in pattern(),
    ) {
        let cfg = DriveConfig {
            u_in_idle: u_idle,
            t_in_idle: t_idle,
            u_out_stall: u_stall,
            t_out_stall: t_stall,
            ..DriveConfig::default()
        };
        run(&u, &t, cfg)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// More request frames than the bucket holds, with refill ticks at random points (often
    /// right before a frame's last byte, where the verdict and the tick are a clock apart) and
    /// a slow trusted side: the token bucket against the golden model.
    #[test]
    fn token_bucket(
        ticks in prop::collection::vec(
            (
                prop_oneof![
                    3 => (config::RATE_BURST as usize - 1)..(config::RATE_BURST as usize + 8),
                    1 => 0..(config::RATE_BURST as usize + 8),
                ],
                prop_oneof![2 => Just(FRAME_LEN - 1), 1 => 0..FRAME_LEN],
            ),
            0..10,
        ),
    ) {
        let newkey = Frame { client_id: 7, counter: 1, body: Body::NewKey, tag: [0; 32] }
            .encode_unchecked()
            .to_vec();
        let mut u = vec![];
        for i in 0..config::RATE_BURST as usize + 8 {
            for (j, &b) in newkey.iter().enumerate() {
                for _ in ticks.iter().filter(|&&t| t == (i, j)) {
                    u.push(Event::Tick);
                }
                u.push(Event::Byte(b));
            }
        }
        let cfg = DriveConfig { t_out_stall: Pattern::one_in(3), ..DriveConfig::default() }
            .with_budget_for(u.len());
        let mut dut = RustHdlPair::new();
        let out = drive(&mut dut, &u, &[], &cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_against_golden(&out, &u, &[]).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
