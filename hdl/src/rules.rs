//! ROM images of a lane, generated from coldgate-spec's field table at construction time.
//!
//! Nothing here restates an offset or a limit: the rule ROM is `field::byte_rules` lowered to
//! one 32-bit word per (message type, offset), and the NOTICE template is laid out from the
//! named ranges of `field::header`, `field::body::notice`, `field::TAG` and `field::CRC`.
//!
//! Rule word layout (bit ranges; the lane's kernel decodes the same positions):
//!
//! ```text
//!  31    30  29      28       27  26    25..23  22..21  20..16  15..8  7..0
//! type  end capture readable crc first  reason  check   field   b      a
//! ```
//!
//! * `check`: 0 none (any byte), 1 equal to `a`, 2 within `a..=b` (closed set), 3 range byte
//!   (compared most significant byte first, restarting at `first`). A reserved byte is an
//!   equality check against 0.
//! * `reason`: the [`DropReason`] value when the check fails, 0 for the magic bytes (a
//!   mismatch there is hunting, not a drop).
//! * `crc`: the byte belongs to the CRC trailer; `end`: the last byte of the frame;
//!   `readable`: a drop at this byte reports the header (spec's `golden::header_readable`:
//!   every header byte has arrived, this one included); `capture`: the byte is part of
//!   the client id or counter, which the lane keeps for a NOTICE; `type`: the message type byte.
//!
//! The ROM address is `{type index, offset}` with the type index the low two bits of the
//! message type: a lane's four types are contiguous, so their low bits are distinct.

use std::collections::BTreeMap;

use coldgate_spec::field::{self, body, header, ByteKind, CRC, FRAME_LEN, MAGIC, TAG};
use coldgate_spec::{golden, DropReason, LaneId, MsgType};
use rust_hdl::prelude::{Bits, ToBits};

/// Bits of a frame offset (every offset fits: spec asserts `FRAME_LEN <= 256`).
pub const OFFSET_BITS: usize = 8;
/// Bits of the type index in a rule address.
pub const TYPE_BITS: usize = 2;
/// Rule ROM address width.
pub const RULE_ADDR_BITS: usize = TYPE_BITS + OFFSET_BITS;

pub const RULE_A: usize = 0;
pub const RULE_B: usize = 8;
pub const RULE_FIELD: usize = 16;
pub const RULE_FIELD_BITS: usize = 5;
pub const RULE_CHECK: usize = 21;
pub const RULE_REASON: usize = 23;
pub const RULE_FIRST: usize = 26;
pub const RULE_CRC: usize = 27;
pub const RULE_READABLE: usize = 28;
pub const RULE_CAPTURE: usize = 29;
pub const RULE_END: usize = 30;
pub const RULE_TYPE: usize = 31;

pub const CHECK_NONE: u32 = 0;
pub const CHECK_EQ: u32 = 1;
pub const CHECK_SET: u32 = 2;
pub const CHECK_RANGE: u32 = 3;

/// NOTICE template word: `[7:0]` constant byte, `[10:8]` source, `[11]` last byte.
pub const NOTICE_CONST: usize = 0;
pub const NOTICE_SRC: usize = 8;
pub const NOTICE_LAST: usize = 11;

/// Where a NOTICE byte comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum NoticeSource {
    /// The template's constant byte.
    Const = 0,
    /// The dropped frame's client id / counter (zero when unreadable), most significant first.
    Header = 1,
    Reason = 2,
    Field = 3,
    /// The template's constant (the readable flag) when readable, else zero.
    Flags = 4,
    /// The running CRC, complemented, least significant byte first.
    Crc = 5,
}

/// Bits of the captured client id and counter.
pub const HDR_BITS: usize = 8 * (header::COUNTER.end - header::CLIENT_ID.start);
const _: () = assert!(header::CLIENT_ID.end == header::COUNTER.start);

// The lane's rule ROM reads three bytes ahead of the byte being checked (see `lane`): the
// row of the type byte's own type is used only from three bytes after it, inside the
// header, whose rows all types share.
const _: () = assert!(header::MSG_TYPE.start + 3 < header::LEN);

/// The low two bits of each of `lane`'s message types, which index the rule ROM.
pub fn type_index(t: u8) -> u32 {
    u32::from(t) & ((1 << TYPE_BITS) - 1)
}

/// One rule word per (type index, offset) of `lane`.
///
/// Panics if the table breaks an assumption the logic is built on; the table is static, so
/// the crate's tests catch that, never input.
pub fn rule_words(lane: LaneId) -> Vec<(u32, u32)> {
    let types = field::lane_types(lane);
    assert!(
        types.len() <= 1 << TYPE_BITS,
        "more lane types than the ROM indexes"
    );
    let mut seen = [false; 1 << TYPE_BITS];
    for &t in types {
        let i = type_index(t) as usize;
        assert!(!seen[i], "lane types must differ in their low bits");
        seen[i] = true;
    }
    let first_rules = field::byte_rules(lane, MsgType::from_u8(types[0]).expect("lane type"));
    let mut out = vec![];
    for slot in 0..(1u32 << TYPE_BITS) {
        // Unused indices (fewer than four types) repeat the first type: the type byte that
        // would select them fails its set rule and drops the frame before they are read.
        let t = types
            .iter()
            .copied()
            .find(|&t| type_index(t) == slot)
            .unwrap_or(types[0]);
        let rules = field::byte_rules(lane, MsgType::from_u8(t).expect("lane type"));
        for (offset, rule) in rules.iter().enumerate() {
            if offset < header::LEN {
                // The lane's block RAM reads three bytes ahead, so rows must agree until
                // after the type byte's offset plus three; the whole header is shared.
                assert_eq!(*rule, first_rules[offset], "header rules differ by type");
            }
            if offset + 1 == FRAME_LEN {
                // The verdict at the last byte does not wait for the rule comparators.
                assert_eq!(rule.kind, ByteKind::Crc, "the last byte must be CRC");
            }
            assert!(
                u32::from(rule.field) < (1 << RULE_FIELD_BITS),
                "field index too wide"
            );
            let hunting = offset < MAGIC.len();
            if hunting {
                assert_eq!(rule.kind, ByteKind::Const, "magic bytes must be constant");
            }
            let (check, a, b, reason) = match rule.kind {
                ByteKind::Any | ByteKind::Crc => (CHECK_NONE, 0, 0, 0),
                ByteKind::Const => (
                    CHECK_EQ,
                    rule.a,
                    0,
                    if hunting {
                        0
                    } else {
                        DropReason::BadConst as u32
                    },
                ),
                ByteKind::Zero => (CHECK_EQ, 0, 0, DropReason::ReservedNonZero as u32),
                ByteKind::OneOf => (CHECK_SET, rule.a, rule.b, DropReason::NotInSet as u32),
                ByteKind::Range => (CHECK_RANGE, rule.a, rule.b, DropReason::OutOfRange as u32),
            };
            let flag = |cond: bool, bit: usize| u32::from(cond) << bit;
            let word = u32::from(a) << RULE_A
                | u32::from(b) << RULE_B
                | u32::from(rule.field) << RULE_FIELD
                | check << RULE_CHECK
                | reason << RULE_REASON
                | flag(rule.first, RULE_FIRST)
                | flag(rule.kind == ByteKind::Crc, RULE_CRC)
                | flag(golden::header_readable(offset), RULE_READABLE)
                | flag(
                    (header::CLIENT_ID.start..header::COUNTER.end).contains(&offset),
                    RULE_CAPTURE,
                )
                | flag(offset + 1 == FRAME_LEN, RULE_END)
                | flag(offset == header::MSG_TYPE.start, RULE_TYPE);
            out.push(((slot << OFFSET_BITS) | offset as u32, word));
        }
        // Rows past the frame: the lane's block RAM reads up to three bytes ahead, so at the
        // end of every frame the port shows offsets FRAME_LEN and FRAME_LEN + 1. Their word is zero (no check, no reason,
        // no flag), so every address the port can take holds a value: no X reaches the rule,
        // verdict or counter registers in a four-state simulator, and a formal tool sees a
        // constant ROM instead of arbitrary rows.
        for offset in FRAME_LEN..1 << OFFSET_BITS {
            out.push(((slot << OFFSET_BITS) | offset as u32, PAST_FRAME_WORD));
        }
    }
    out
}

/// The rule word of every ROM row past a frame's last byte (see [`rule_words`]).
pub const PAST_FRAME_WORD: u32 = 0;

/// The rule ROM of `lane` as rust-hdl's ROM contents.
pub fn rule_rom(lane: LaneId) -> BTreeMap<Bits<RULE_ADDR_BITS>, Bits<32>> {
    rule_words(lane)
        .into_iter()
        .map(|(addr, word)| (addr.to_bits(), word.to_bits()))
        .collect()
}

/// The NOTICE template of `lane`: one word per offset of a NOTICE frame.
pub fn notice_words(lane: LaneId) -> Vec<(u32, u32)> {
    use NoticeSource as S;
    let n = &body::notice::REASON;
    let mut out = vec![];
    for offset in 0..FRAME_LEN {
        let inside = |r: &field::Field| r.contains(&offset);
        let (src, value): (NoticeSource, u8) = if inside(&header::MAGIC) {
            (S::Const, MAGIC[offset - header::MAGIC.start])
        } else if inside(&header::VERSION) {
            (S::Const, field::VERSION)
        } else if inside(&header::MSG_TYPE) {
            (S::Const, MsgType::Notice as u8)
        } else if inside(&header::CLIENT_ID) || inside(&header::COUNTER) {
            (S::Header, 0)
        } else if inside(n) {
            (S::Reason, 0)
        } else if inside(&body::notice::FIELD) {
            (S::Field, 0)
        } else if inside(&body::notice::LANE) {
            (S::Const, lane as u8)
        } else if inside(&body::notice::FLAGS) {
            (S::Flags, coldgate_spec::golden::notice_flags(true))
        } else if inside(&CRC) {
            (S::Crc, 0)
        } else {
            // Reserved header and body bytes, and the tag: the verifier holds no secret.
            debug_assert!(inside(&header::RESERVED) || offset >= n.start || inside(&TAG));
            (S::Const, 0)
        };
        let word = u32::from(value) << NOTICE_CONST
            | (src as u32) << NOTICE_SRC
            | u32::from(offset + 1 == FRAME_LEN) << NOTICE_LAST;
        out.push((offset as u32, word));
    }
    out
}

/// The NOTICE template of `lane` as rust-hdl's ROM contents.
pub fn notice_rom(lane: LaneId) -> BTreeMap<Bits<OFFSET_BITS>, Bits<16>> {
    notice_words(lane)
        .into_iter()
        .map(|(addr, word)| (addr.to_bits(), word.to_bits()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lane_type_has_a_full_row() {
        for lane in LaneId::ALL {
            let words = rule_words(lane);
            // Every address of the read port holds a word (the X-free core).
            assert_eq!(words.len(), 1 << RULE_ADDR_BITS);
            let mut addrs: Vec<u32> = words.iter().map(|w| w.0).collect();
            addrs.sort_unstable();
            addrs.dedup();
            assert_eq!(addrs, (0..1 << RULE_ADDR_BITS).collect::<Vec<u32>>());
            for &t in field::lane_types(lane) {
                let rules = field::byte_rules(lane, MsgType::from_u8(t).unwrap());
                for (offset, rule) in rules.iter().enumerate() {
                    let addr = type_index(t) << OFFSET_BITS | offset as u32;
                    let word = words.iter().find(|w| w.0 == addr).unwrap().1;
                    assert_eq!((word >> RULE_FIELD) & 31, u32::from(rule.field));
                    assert_eq!(word >> RULE_FIRST & 1 == 1, rule.first);
                }
            }
        }
    }
}
