//! The field table: every byte of every frame, its offset, width and rule.
//!
//! This module is the single source of truth for the wire format. The codec, the golden
//! verifier, `FRAME.md` and the hardware generator (coldgate-hdl) all read it; no offset,
//! width or limit is written anywhere else.
//!
//! Every frame, in both directions, is exactly [`FRAME_LEN`] bytes:
//!
//! ```text
//!  0               4       5       6               8
//! +---------------+-------+-------+---------------+
//! |     magic     |version| type  |   reserved    |
//! +---------------+-------+-------+---------------+
//!  8                      12                      20
//! +-----------------------+-----------------------+
//! |  client id (u32 BE)   |    counter (u64 BE)   |
//! +-----------------------+-----------------------+
//!  20                                            116
//! +-----------------------------------------------+
//! |   body: per-type fields, the rest reserved    |
//! +-----------------------------------------------+
//!  116                                           148       152
//! +-----------------------------------------------+---------+
//! |  tag: HMAC-SHA256(secret, bytes 0..116)       | CRC-32  |
//! +-----------------------------------------------+---------+
//! ```
//!
//! Integers are big-endian, so that logic can compare them against a limit one byte per clock,
//! most significant byte first. The CRC alone is little-endian, as in Ethernet: that makes the
//! CRC register after the whole frame equal the catalog's constant residue, which is what the
//! logic compares against.

use core::ops::Range;

use crate::config;
use crate::message::{DropReason, LaneId, MsgType, RejectReason};

/// A byte range inside a frame.
pub type Field = Range<usize>;

/// The four bytes that open every frame. Hunting relies on them being pairwise distinct: after
/// a mismatch, the only byte that can restart a match is the one that failed (see `golden`).
pub const MAGIC: [u8; 4] = [0xC0, 0x1D, 0x6A, 0x7E];
/// Wire format version carried in every frame.
pub const VERSION: u8 = 1;

/// Offsets shared by every message type.
pub mod header {
    use super::Field;
    pub const MAGIC: Field = 0..4;
    pub const VERSION: Field = 4..5;
    pub const MSG_TYPE: Field = 5..6;
    pub const RESERVED: Field = 6..8;
    pub const CLIENT_ID: Field = 8..12;
    pub const COUNTER: Field = 12..20;
    /// Header length, derived from its last field.
    pub const LEN: usize = COUNTER.end;
}

/// The region every message type lays its own fields into.
pub const BODY: Field = header::LEN..header::LEN + 96;
/// The authentication tag: HMAC-SHA256 over every byte before it.
pub const TAG: Field = BODY.end..BODY.end + 32;
/// The trailer: CRC-32/ISO-HDLC over every byte before it, little-endian.
pub const CRC: Field = TAG.end..TAG.end + 4;
/// Length of every frame in both directions, derived from the last field.
pub const FRAME_LEN: usize = CRC.end;

/// Body layouts, one module per message type. Offsets are absolute (from the frame start).
pub mod body {
    use super::{Field, BODY};
    const fn at(start: usize, width: usize) -> Field {
        start..start + width
    }
    pub mod get_pubkey {
        use super::*;
        pub const KEY_ID: Field = at(BODY.start, 4);
    }
    pub mod sign_payment {
        use super::*;
        pub const KEY_ID: Field = at(BODY.start, 4);
        /// Txid of the output being spent, in transaction (internal) byte order on the wire;
        /// its JSON form and everything a person reads or types use explorer order.
        pub const TXID: Field = at(KEY_ID.end, 32);
        pub const VOUT: Field = at(TXID.end, 4);
        pub const INPUT_AMOUNT: Field = at(VOUT.end, 8);
        /// BIP-340 x-only key of the destination's P2TR output.
        pub const DESTINATION: Field = at(INPUT_AMOUNT.end, 32);
        pub const AMOUNT: Field = at(DESTINATION.end, 8);
        pub const CHANGE: Field = at(AMOUNT.end, 8);
    }
    pub mod payment_status {
        use super::*;
        pub const REFERENCE: Field = at(BODY.start, 8);
    }
    pub mod pubkey {
        use super::*;
        pub const KEY_ID: Field = at(BODY.start, 4);
        pub const KEY: Field = at(KEY_ID.end, 32);
    }
    pub mod signature {
        use super::*;
        pub const KEY_ID: Field = at(BODY.start, 4);
        pub const SIGNATURE: Field = at(KEY_ID.end, 64);
        /// The payment's reference (its first SIGN_PAYMENT's counter), so a client that
        /// re-sent a payment whose answer was lost learns which ledger entry it is.
        pub const REFERENCE: Field = at(SIGNATURE.end, 8);
    }
    pub mod held {
        use super::*;
        pub const REFERENCE: Field = at(BODY.start, 8);
    }
    pub mod reject {
        use super::*;
        pub const REASON: Field = at(BODY.start, 1);
    }
    pub mod notice {
        use super::*;
        pub const REASON: Field = at(BODY.start, 1);
        /// Index, in the dropped frame's field list, of the field that broke its rule
        /// ([`crate::NO_FIELD`] when the drop was not about one field).
        pub const FIELD: Field = at(REASON.end, 1);
        pub const LANE: Field = at(FIELD.end, 1);
        /// Bit 0: the dropped frame's client id and counter were readable and are in the header.
        pub const FLAGS: Field = at(LANE.end, 1);
    }
}

// The widest body must fit, and the trailer must end the frame within the 256-byte limit.
const _: () = assert!(body::sign_payment::CHANGE.end == BODY.end);
const _: () = assert!(body::signature::REFERENCE.end <= BODY.end);
const _: () = assert!(FRAME_LEN <= 256);
const _: () = assert!(
    MAGIC[0] != MAGIC[1]
        && MAGIC[0] != MAGIC[2]
        && MAGIC[0] != MAGIC[3]
        && MAGIC[1] != MAGIC[2]
        && MAGIC[1] != MAGIC[3]
        && MAGIC[2] != MAGIC[3]
);

/// `FIELD` value in a NOTICE when the drop was not caused by one field (e.g. rate limit).
pub const NO_FIELD: u8 = 0xFF;
/// NOTICE flag: the header of the dropped frame was readable.
pub const NOTICE_FLAG_READABLE: u8 = 1;

/// What a field's bytes must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Exactly these bytes.
    Const(&'static [u8]),
    /// One byte from a closed set. Sets are contiguous in v1, so logic checks them with two
    /// comparators (enforced by [`byte_rules`]).
    OneOf(&'static [u8]),
    /// A big-endian unsigned integer within `min..=max` (widths 1 to 8).
    Range { min: u64, max: u64 },
    /// Reserved: every byte zero.
    Zero,
    /// Any bytes (keys, signatures, tags).
    Any,
    /// The CRC trailer, checked over the whole frame.
    Crc,
}

impl Rule {
    /// The drop reason for a byte that breaks this rule.
    pub fn drop_reason(&self) -> DropReason {
        match self {
            Rule::Const(_) => DropReason::BadConst,
            Rule::OneOf(_) => DropReason::NotInSet,
            Rule::Range { .. } => DropReason::OutOfRange,
            Rule::Zero => DropReason::ReservedNonZero,
            Rule::Any | Rule::Crc => DropReason::BadCrc,
        }
    }
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub field: Field,
    pub rule: Rule,
}

const fn def(name: &'static str, field: Field, rule: Rule) -> FieldDef {
    FieldDef { name, field, rule }
}

const U32_ID: Rule = Rule::Range {
    min: 1,
    max: u32::MAX as u64,
};
const U64_ID: Rule = Rule::Range {
    min: 1,
    max: u64::MAX,
};

/// The closed set of message types a lane accepts at `header::MSG_TYPE`.
pub fn lane_types(lane: LaneId) -> &'static [u8] {
    const REQ: [u8; 4] = [
        MsgType::NewKey as u8,
        MsgType::GetPubkey as u8,
        MsgType::SignPayment as u8,
        MsgType::PaymentStatus as u8,
    ];
    const RESP: [u8; 4] = [
        MsgType::Pubkey as u8,
        MsgType::Signature as u8,
        MsgType::Held as u8,
        MsgType::Reject as u8,
    ];
    match lane {
        LaneId::Request => &REQ,
        LaneId::Response => &RESP,
    }
}

/// Every message type, for decoding (the NOTICE only ever comes from the verifier).
pub const ALL_TYPES: [u8; 9] = [
    MsgType::NewKey as u8,
    MsgType::GetPubkey as u8,
    MsgType::SignPayment as u8,
    MsgType::PaymentStatus as u8,
    MsgType::Pubkey as u8,
    MsgType::Signature as u8,
    MsgType::Held as u8,
    MsgType::Reject as u8,
    MsgType::Notice as u8,
];

const REJECT_REASONS: [u8; RejectReason::ALL.len()] = {
    let mut out = [0u8; RejectReason::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = RejectReason::ALL[i] as u8;
        i += 1;
    }
    out
};

const DROP_REASONS: [u8; DropReason::ALL.len()] = {
    let mut out = [0u8; DropReason::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = DropReason::ALL[i] as u8;
        i += 1;
    }
    out
};

const LANES: [u8; 2] = [LaneId::Request as u8, LaneId::Response as u8];

/// The rows every type shares, with the message-type rule of the given set.
fn header_fields(types: &'static [u8], ids: Rule) -> [FieldDef; 6] {
    [
        def("magic", header::MAGIC, Rule::Const(&MAGIC)),
        def("version", header::VERSION, Rule::Const(&[VERSION])),
        def("msg_type", header::MSG_TYPE, Rule::OneOf(types)),
        def("reserved", header::RESERVED, Rule::Zero),
        def("client_id", header::CLIENT_ID, ids),
        def(
            "counter",
            header::COUNTER,
            if ids == Rule::Any { Rule::Any } else { U64_ID },
        ),
    ]
}

/// The declared body fields of a message type (reserved gaps are filled in by [`fields`]).
pub fn body_fields(t: MsgType) -> Vec<FieldDef> {
    use body::*;
    let amount = Rule::Range {
        min: 1,
        max: config::MAX_MONEY,
    };
    match t {
        MsgType::NewKey => vec![],
        MsgType::GetPubkey => vec![def("key_id", get_pubkey::KEY_ID, U32_ID)],
        MsgType::SignPayment => vec![
            def("key_id", sign_payment::KEY_ID, U32_ID),
            def("txid", sign_payment::TXID, Rule::Any),
            def("vout", sign_payment::VOUT, Rule::Any),
            def("input_amount", sign_payment::INPUT_AMOUNT, amount),
            def("destination", sign_payment::DESTINATION, Rule::Any),
            // The hardware ceiling: no software on either side can raise it.
            def(
                "amount",
                sign_payment::AMOUNT,
                Rule::Range {
                    min: 1,
                    max: config::SIGN_AMOUNT_CEILING,
                },
            ),
            def(
                "change",
                sign_payment::CHANGE,
                Rule::Range {
                    min: 0,
                    max: config::MAX_MONEY,
                },
            ),
        ],
        MsgType::PaymentStatus => vec![def("reference", payment_status::REFERENCE, U64_ID)],
        MsgType::Pubkey => vec![
            def("key_id", pubkey::KEY_ID, U32_ID),
            def("key", pubkey::KEY, Rule::Any),
        ],
        MsgType::Signature => vec![
            def("key_id", signature::KEY_ID, U32_ID),
            def("signature", signature::SIGNATURE, Rule::Any),
            def("reference", signature::REFERENCE, U64_ID),
        ],
        MsgType::Held => vec![def("reference", held::REFERENCE, U64_ID)],
        MsgType::Reject => vec![def("reason", reject::REASON, Rule::OneOf(&REJECT_REASONS))],
        MsgType::Notice => vec![
            def("reason", notice::REASON, Rule::OneOf(&DROP_REASONS)),
            def("field", notice::FIELD, Rule::Any),
            def("lane", notice::LANE, Rule::OneOf(&LANES)),
            def(
                "flags",
                notice::FLAGS,
                Rule::Range {
                    min: 0,
                    max: NOTICE_FLAG_READABLE as u64,
                },
            ),
        ],
    }
}

/// The complete field list of a message type as seen by a lane (or by the decoder when `lane`
/// is `None`): header, body, reserved gaps, tag and CRC, covering `0..FRAME_LEN` exactly.
/// Field indices in this list are the `FIELD` numbers that NOTICE frames report. Built once,
/// so decoding allocates nothing.
pub fn fields(lane: Option<LaneId>, t: MsgType) -> &'static [FieldDef] {
    static TABLES: std::sync::OnceLock<Vec<Vec<FieldDef>>> = std::sync::OnceLock::new();
    let lanes = [None, Some(LaneId::Request), Some(LaneId::Response)];
    let tables = TABLES.get_or_init(|| {
        lanes
            .iter()
            .flat_map(|&l| MsgType::ALL.iter().map(move |&t| build_fields(l, t)))
            .collect()
    });
    let l = lanes.iter().position(|&x| x == lane).expect("every lane");
    let i = MsgType::ALL
        .iter()
        .position(|&x| x == t)
        .expect("every type");
    &tables[l * MsgType::ALL.len() + i]
}

fn build_fields(lane: Option<LaneId>, t: MsgType) -> Vec<FieldDef> {
    let types = match lane {
        Some(l) => lane_types(l),
        None => &ALL_TYPES,
    };
    // The verifier itself writes NOTICEs for unreadable frames with a zero client id and
    // counter, and has no secret, so its tag is zero.
    let notice = t == MsgType::Notice;
    let mut out = header_fields(types, if notice { Rule::Any } else { U32_ID }).to_vec();
    let mut at = header::LEN;
    for f in body_fields(t) {
        if f.field.start > at {
            out.push(def("reserved", at..f.field.start, Rule::Zero));
        }
        at = f.field.end;
        out.push(f);
    }
    if at < BODY.end {
        out.push(def("reserved", at..BODY.end, Rule::Zero));
    }
    out.push(def("tag", TAG, if notice { Rule::Zero } else { Rule::Any }));
    out.push(def("crc", CRC, Rule::Crc));
    out
}

/// What logic checks at one byte offset: the field-level rule lowered to one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRule {
    pub kind: ByteKind,
    /// Const: the expected byte. OneOf: the lowest member. Range: the byte of `min`.
    pub a: u8,
    /// OneOf: the highest member. Range: the byte of `max`.
    pub b: u8,
    /// First byte of its field (range comparisons restart here).
    pub first: bool,
    /// Last byte of its field.
    pub last: bool,
    /// Index of the field in [`fields`].
    pub field: u8,
}

/// Kinds of byte check, numbered for the hardware ROM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ByteKind {
    Any = 0,
    Const = 1,
    OneOf = 2,
    Range = 3,
    Zero = 4,
    Crc = 5,
}

/// The byte rules of one message type on one lane, offset by offset.
///
/// Panics if the table breaks a v1 constraint (a non-contiguous set, a range wider than
/// 8 bytes): the table is static, so the tests catch that, never input.
pub fn byte_rules(lane: LaneId, t: MsgType) -> [ByteRule; FRAME_LEN] {
    let mut out = [ByteRule {
        kind: ByteKind::Any,
        a: 0,
        b: 0,
        first: false,
        last: false,
        field: 0,
    }; FRAME_LEN];
    for (index, f) in fields(Some(lane), t).iter().enumerate() {
        let width = f.field.len();
        for (i, offset) in f.field.clone().enumerate() {
            let (kind, a, b) = match f.rule {
                Rule::Any => (ByteKind::Any, 0, 0),
                Rule::Crc => (ByteKind::Crc, 0, 0),
                Rule::Zero => (ByteKind::Zero, 0, 0),
                Rule::Const(bytes) => (ByteKind::Const, bytes[i], 0),
                Rule::OneOf(set) => {
                    let (lo, hi) = contiguous(set);
                    (ByteKind::OneOf, lo, hi)
                }
                Rule::Range { min, max } => {
                    assert!(width <= 8, "range field {} wider than 8 bytes", f.name);
                    let shift = 8 * (width - 1 - i);
                    (ByteKind::Range, (min >> shift) as u8, (max >> shift) as u8)
                }
            };
            out[offset] = ByteRule {
                kind,
                a,
                b,
                first: i == 0,
                last: i + 1 == width,
                field: index as u8,
            };
        }
    }
    out
}

/// Lowest and highest member of a closed set, which must be contiguous.
pub fn contiguous(set: &[u8]) -> (u8, u8) {
    let lo = *set.iter().min().expect("empty set");
    let hi = *set.iter().max().expect("empty set");
    assert_eq!(
        (hi - lo) as usize + 1,
        set.len(),
        "closed sets must be contiguous in v1"
    );
    (lo, hi)
}

/// Reads a big-endian unsigned integer field (width at most 8).
pub fn read_be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64)
}
