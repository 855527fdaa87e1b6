//! The golden model of one verifier lane: exactly what the logic must do, byte by byte.
//!
//! A lane sees a stream of bytes and refill ticks and produces two streams of whole frames:
//! the frames that passed (towards the far side) and NOTICE frames for the frames it dropped
//! (back towards the side they came from). The hardware is compared with this model on both
//! streams and on every counter.
//!
//! # Behaviour, precisely
//!
//! * **Hunting.** Outside a frame the lane looks for [`MAGIC`]. Its bytes are pairwise
//!   distinct, so on a mismatch the failing byte itself is the only possible new start: the
//!   lane restarts with one matched byte if it equals `MAGIC[0]`, else with none. Bytes skipped
//!   while hunting are not frames: they produce no NOTICE and no counter.
//! * **In a frame.** Once the four magic bytes match, the frame has started. Every following
//!   byte is checked against its [`ByteRule`] the moment it arrives; the message type (offset
//!   5) selects the rules for offsets 6 and later. A range field is compared most significant
//!   byte first and fails at the first byte that decides it is out of range.
//! * **Drop at a rule.** The first byte that breaks a rule drops the frame at once (reason
//!   from the rule kind, field index from the table) and the lane resumes hunting **with that
//!   same byte** (so a frame that starts right where garbage failed is found).
//! * **End of frame.** At the last byte (offset `FRAME_LEN - 1`) the CRC register must equal
//!   the catalog residue, else the frame is dropped as `bad_crc`. Then, on a rate-limited lane,
//!   a token is taken; with none left it is dropped as `rate_limited`. Otherwise it passes.
//!   Either way the lane resumes hunting with the **next** byte.
//! * **NOTICE.** A drop emits one NOTICE frame: the dropped frame's client id and counter in
//!   its header when every header byte had arrived, the deciding byte included (the drop is at
//!   or after [`READABLE_FROM`], the header's last byte; flag `readable`), else zeros; a frame
//!   dropped at its last header byte (a zero counter) so reports the header as received; reason, field
//!   index ([`NO_FIELD`] for `rate_limited`, the CRC field's index for `bad_crc`) and lane in
//!   its body; a zero tag (the verifier holds no secret) and a valid CRC.
//! * **Tokens.** A rate-limited lane starts full (`burst` tokens). Each [`Lane::tick`] adds one,
//!   up to `burst`. When a tick and a frame end fall on the same clock, the frame is decided
//!   first, then the tick applies.
//! * **Counters.** One per drop reason and one for passed frames, wrapping at 2^32.
//!
//! Resynchronisation, as a property: a frame the lane locks onto inside garbage ends at most
//! `FRAME_LEN - 1` bytes after the garbage does, so after any garbage followed by valid frames
//! (whose bytes after offset 0 never contain the magic), every valid frame that starts at
//! least `FRAME_LEN - 1` bytes after the garbage ends passes: at most one frame is lost.

use crate::codec::{Body, Frame, Notice, Wire};
use crate::config::LaneConfig;
use crate::field::{
    byte_rules, header, ByteKind, ByteRule, FRAME_LEN, MAGIC, NOTICE_FLAG_READABLE, NO_FIELD,
};
use crate::message::{DropReason, LaneId, MsgType};
use crate::{checksum, field};

/// Per-lane counters, as the board exposes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub passed: u32,
    /// Indexed by `DropReason as usize - 1`.
    pub dropped: [u32; DropReason::ALL.len()],
}

impl Counters {
    pub fn dropped(&self, r: DropReason) -> u32 {
        self.dropped[r as usize - 1]
    }
    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().map(|&c| c as u64).sum()
    }
}

/// What a lane decided about one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The frame passed and leaves on the far side.
    Pass(Box<Wire>),
    /// The frame was dropped; the NOTICE leaves on the side it came from.
    Drop(Box<Dropped>),
}

/// A dropped frame's NOTICE, typed and as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub notice: Notice,
    /// Client id and counter of the dropped frame, when readable.
    pub client_id: u32,
    pub counter: u64,
    /// Offset of the byte at which the frame was dropped.
    pub at: usize,
    pub frame: Wire,
}

/// A range comparison in progress, most significant byte first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Equal,
    Decided,
}

/// One lane of the verifier.
#[derive(Clone, Debug)]
pub struct Lane {
    config: LaneConfig,
    /// Byte rules per message type of this lane, indexed by `type - first type`.
    rules: Vec<[ByteRule; FRAME_LEN]>,
    first_type: u8,
    /// Magic bytes matched while hunting.
    matched: usize,
    /// Offset of the next byte when in a frame (`None` while hunting).
    pos: Option<usize>,
    type_index: usize,
    buf: Wire,
    crc: u32,
    /// Range comparison against the field's minimum and maximum.
    lo: Cmp,
    hi: Cmp,
    tokens: u32,
    counters: Counters,
}

impl Lane {
    pub fn new(config: LaneConfig) -> Lane {
        let types = field::lane_types(config.lane);
        let (first_type, _) = field::contiguous(types);
        let rules = types
            .iter()
            .map(|&t| byte_rules(config.lane, MsgType::from_u8(t).expect("lane type")))
            .collect();
        Lane {
            config,
            rules,
            first_type,
            matched: 0,
            pos: None,
            type_index: 0,
            buf: [0; FRAME_LEN],
            crc: checksum::INIT,
            lo: Cmp::Equal,
            hi: Cmp::Equal,
            tokens: config.rate_burst.unwrap_or(0),
            counters: Counters::default(),
        }
    }

    pub fn config(&self) -> LaneConfig {
        self.config
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Tokens left in the bucket (0 on a lane without rate limit).
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    /// True while the lane is inside a frame.
    pub fn in_frame(&self) -> bool {
        self.pos.is_some()
    }

    /// One refill tick of the token bucket.
    pub fn tick(&mut self) {
        if let Some(burst) = self.config.rate_burst {
            self.tokens = (self.tokens + 1).min(burst);
        }
    }

    /// Feeds one byte; returns a verdict when this byte ends or drops a frame.
    pub fn push(&mut self, b: u8) -> Option<Verdict> {
        let Some(pos) = self.pos else {
            self.hunt(b);
            return None;
        };
        self.buf[pos] = b;
        self.crc = checksum::update_register(self.crc, b);
        if pos == header::MSG_TYPE.start {
            // The header rule (checked below) guarantees the index is in range on success.
            self.type_index = b.wrapping_sub(self.first_type) as usize;
        }
        let rule = self.rules[self.type_index.min(self.rules.len() - 1)][pos];
        if let Some(reason) = self.check(rule, b) {
            let verdict = self.drop(reason, rule.field, pos);
            self.pos = None;
            self.hunt(b);
            return Some(verdict);
        }
        if pos + 1 < FRAME_LEN {
            self.pos = Some(pos + 1);
            return None;
        }
        self.pos = None;
        self.matched = 0;
        if self.crc != checksum::RESIDUE {
            return Some(self.drop(DropReason::BadCrc, rule.field, pos));
        }
        if self.config.rate_burst.is_some() {
            if self.tokens == 0 {
                return Some(self.drop(DropReason::RateLimited, NO_FIELD, pos));
            }
            self.tokens -= 1;
        }
        self.counters.passed = self.counters.passed.wrapping_add(1);
        Some(Verdict::Pass(Box::new(self.buf)))
    }

    /// Feeds many bytes, collecting verdicts.
    pub fn push_all(&mut self, bytes: &[u8]) -> Vec<Verdict> {
        bytes.iter().filter_map(|&b| self.push(b)).collect()
    }

    fn hunt(&mut self, b: u8) {
        if b == MAGIC[self.matched] {
            self.matched += 1;
        } else {
            self.matched = usize::from(b == MAGIC[0]);
        }
        if self.matched == MAGIC.len() {
            self.matched = 0;
            self.pos = Some(MAGIC.len());
            self.buf[..MAGIC.len()].copy_from_slice(&MAGIC);
            self.crc = MAGIC
                .iter()
                .fold(checksum::INIT, |r, &m| checksum::update_register(r, m));
        }
    }

    /// The reason byte `b` breaks `rule`, if it does.
    fn check(&mut self, rule: ByteRule, b: u8) -> Option<DropReason> {
        match rule.kind {
            ByteKind::Any | ByteKind::Crc => None,
            ByteKind::Const => (b != rule.a).then_some(DropReason::BadConst),
            ByteKind::Zero => (b != 0).then_some(DropReason::ReservedNonZero),
            ByteKind::OneOf => (b < rule.a || b > rule.b).then_some(DropReason::NotInSet),
            ByteKind::Range => {
                if rule.first {
                    self.lo = Cmp::Equal;
                    self.hi = Cmp::Equal;
                }
                let below = self.lo == Cmp::Equal && b < rule.a;
                let above = self.hi == Cmp::Equal && b > rule.b;
                if self.lo == Cmp::Equal && b > rule.a {
                    self.lo = Cmp::Decided;
                }
                if self.hi == Cmp::Equal && b < rule.b {
                    self.hi = Cmp::Decided;
                }
                (below || above).then_some(DropReason::OutOfRange)
            }
        }
    }

    fn drop(&mut self, reason: DropReason, field: u8, at: usize) -> Verdict {
        let i = reason as usize - 1;
        self.counters.dropped[i] = self.counters.dropped[i].wrapping_add(1);
        let readable = header_readable(at);
        let (client_id, counter) = if readable {
            (
                field::read_be(&self.buf[header::CLIENT_ID]) as u32,
                field::read_be(&self.buf[header::COUNTER]),
            )
        } else {
            (0, 0)
        };
        let notice = Notice {
            reason,
            field,
            lane: self.config.lane,
            readable,
        };
        let frame = notice_frame(client_id, counter, notice);
        Verdict::Drop(Box::new(Dropped {
            notice,
            client_id,
            counter,
            at,
            frame,
        }))
    }
}

/// The NOTICE frame the verifier writes for a drop.
pub fn notice_frame(client_id: u32, counter: u64, notice: Notice) -> Wire {
    debug_assert!(notice.readable || (client_id == 0 && counter == 0));
    let f = Frame {
        client_id,
        counter,
        body: Body::Notice(notice),
        tag: [0; 32],
    };
    // A NOTICE's fields are all within their rules by construction; encode without the
    // decoder's check so the model never depends on it.
    f.encode_unchecked()[..]
        .try_into()
        .expect("FRAME_LEN bytes")
}

/// First drop offset whose NOTICE carries the dropped frame's client id and counter: the
/// header's last byte. By then every header byte has arrived (the deciding one included), so
/// the header is reported exactly as received, even when that last byte is what failed.
pub const READABLE_FROM: usize = header::LEN - 1;

/// Whether a frame dropped at offset `at` has a readable header (the NOTICE's `readable`
/// flag). The one rule that the golden model, the logic's rule ROM and FRAME.md all read.
pub const fn header_readable(at: usize) -> bool {
    at >= READABLE_FROM
}

/// Flag byte of a NOTICE (kept here so logic generators read it from one place).
pub const fn notice_flags(readable: bool) -> u8 {
    if readable {
        NOTICE_FLAG_READABLE
    } else {
        0
    }
}

/// A lane pair as the appliance runs it: requests one way, responses the other.
#[derive(Clone, Debug)]
pub struct LanePair {
    pub request: Lane,
    pub response: Lane,
}

impl Default for LanePair {
    fn default() -> Self {
        LanePair {
            request: Lane::new(LaneConfig::REQUEST),
            response: Lane::new(LaneConfig::RESPONSE),
        }
    }
}

impl LanePair {
    pub fn lane_mut(&mut self, lane: LaneId) -> &mut Lane {
        match lane {
            LaneId::Request => &mut self.request,
            LaneId::Response => &mut self.response,
        }
    }
}
