//! Typed frames: encode with `bytes`, decode with `nom`, every rule from the field table.
//!
//! Decoding is two-phase: the table-driven [`check`] says which field broke which rule
//! without allocating, then nom reads the typed values out of bytes already known to be valid.

use bytes::{BufMut, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u32, be_u64, be_u8};
use nom::IResult;

use crate::auth::{self, Secret, Tag};
use crate::checksum;
use crate::field::{self, header, read_be, FieldDef, Rule, BODY, CRC, FRAME_LEN, TAG};
use crate::message::{DropReason, LaneId, MsgType, RejectReason};

/// One frame on the wire.
pub type Wire = [u8; FRAME_LEN];

/// A payment as the client asks for it and the wallet signs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Payment {
    pub key_id: u32,
    /// Txid of the output being spent, in transaction (internal) byte order.
    pub txid: [u8; 32],
    pub vout: u32,
    /// Value of the output being spent, in satoshis.
    pub input_amount: u64,
    /// x-only key of the destination's P2TR output.
    pub destination: [u8; 32],
    pub amount: u64,
    /// Returned to the spending key's own address.
    pub change: u64,
}

impl Payment {
    /// Input minus outputs, or `None` when the outputs exceed the input.
    pub fn fee(&self) -> Option<u64> {
        self.input_amount
            .checked_sub(self.amount)?
            .checked_sub(self.change)
    }
}

/// What the verifier says about a frame it dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Notice {
    pub reason: DropReason,
    /// Index of the offending field in the dropped frame's field list, or [`field::NO_FIELD`].
    pub field: u8,
    pub lane: LaneId,
    /// The dropped frame's client id and counter are in the header (else both are zero).
    pub readable: bool,
}

/// The typed content of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Body {
    NewKey,
    GetPubkey {
        key_id: u32,
    },
    SignPayment(Payment),
    PaymentStatus {
        reference: u64,
    },
    Pubkey {
        key_id: u32,
        key: [u8; 32],
    },
    /// `reference` names the ledger entry (the counter of the payment's first SIGN_PAYMENT).
    Signature {
        key_id: u32,
        signature: [u8; 64],
        reference: u64,
    },
    Held {
        reference: u64,
    },
    Reject {
        reason: RejectReason,
    },
    Notice(Notice),
}

impl Body {
    pub fn msg_type(&self) -> MsgType {
        match self {
            Body::NewKey => MsgType::NewKey,
            Body::GetPubkey { .. } => MsgType::GetPubkey,
            Body::SignPayment(_) => MsgType::SignPayment,
            Body::PaymentStatus { .. } => MsgType::PaymentStatus,
            Body::Pubkey { .. } => MsgType::Pubkey,
            Body::Signature { .. } => MsgType::Signature,
            Body::Held { .. } => MsgType::Held,
            Body::Reject { .. } => MsgType::Reject,
            Body::Notice(_) => MsgType::Notice,
        }
    }
}

/// A decoded frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub client_id: u32,
    /// Strictly increasing per client for requests; a response echoes its request's counter.
    pub counter: u64,
    pub body: Body,
    pub tag: Tag,
}

/// Why bytes are not a valid frame: the field, its offset and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame is {got} bytes, every frame is exactly {FRAME_LEN}")]
    Length { got: usize },
    #[error("field {field} at offset {offset}: {problem}")]
    Field {
        field: &'static str,
        /// Index of the field in the type's field list (as NOTICEs report it).
        index: u8,
        offset: usize,
        problem: Problem,
    },
    #[error("crc: frame carries {stored:#010x}, bytes give {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
}

impl DecodeError {
    /// The drop reason the verifier gives a frame with this error.
    pub fn drop_reason(&self) -> Option<DropReason> {
        match self {
            DecodeError::Length { .. } => None,
            DecodeError::Crc { .. } => Some(DropReason::BadCrc),
            DecodeError::Field { problem, .. } => Some(match problem {
                Problem::NotConst { .. } => DropReason::BadConst,
                Problem::NotInSet { .. } => DropReason::NotInSet,
                Problem::OutOfRange { .. } => DropReason::OutOfRange,
                Problem::NonZero => DropReason::ReservedNonZero,
            }),
        }
    }
}

/// What was wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("expected {expected:02x?}, got {got:02x?}")]
    NotConst { expected: Vec<u8>, got: Vec<u8> },
    #[error("{got:#04x} is not one of {set:02x?}")]
    NotInSet { got: u8, set: Vec<u8> },
    #[error("{got} is outside {min}..={max}")]
    OutOfRange { got: u64, min: u64, max: u64 },
    #[error("reserved bytes must be zero")]
    NonZero,
}

/// Why a frame could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode: {0}")]
pub struct EncodeError(#[from] pub DecodeError);

fn field_error(index: usize, f: &FieldDef, problem: Problem) -> DecodeError {
    DecodeError::Field {
        field: f.name,
        index: index as u8,
        offset: f.field.start,
        problem,
    }
}

/// Checks one field against its rule (the CRC rule is checked over the whole frame instead).
pub fn check_field(index: usize, f: &FieldDef, bytes: &[u8]) -> Result<(), DecodeError> {
    let got = &bytes[f.field.clone()];
    let problem = match f.rule {
        Rule::Any | Rule::Crc => None,
        Rule::Const(expected) => (got != expected).then(|| Problem::NotConst {
            expected: expected.to_vec(),
            got: got.to_vec(),
        }),
        Rule::OneOf(set) => (!set.contains(&got[0])).then(|| Problem::NotInSet {
            got: got[0],
            set: set.to_vec(),
        }),
        Rule::Range { min, max } => {
            let v = read_be(got);
            (v < min || v > max).then_some(Problem::OutOfRange { got: v, min, max })
        }
        Rule::Zero => got.iter().any(|&b| b != 0).then_some(Problem::NonZero),
    };
    match problem {
        Some(p) => Err(field_error(index, f, p)),
        None => Ok(()),
    }
}

/// Phase one: checks every field rule of `bytes` in offset order, then the CRC, as seen by
/// `lane` (or by any reader when `None`). Returns the message type. Allocates nothing on
/// success.
pub fn check(lane: Option<LaneId>, bytes: &[u8]) -> Result<MsgType, DecodeError> {
    if bytes.len() != FRAME_LEN {
        return Err(DecodeError::Length { got: bytes.len() });
    }
    // The header rules before the type do not depend on it; check them with any type's list.
    let head = field::fields(lane, MsgType::NewKey);
    for (i, f) in head.iter().enumerate().take(3) {
        check_field(i, f, bytes)?;
    }
    let t = MsgType::from_u8(bytes[header::MSG_TYPE.start]).expect("type passed its set rule");
    for (i, f) in field::fields(lane, t).iter().enumerate().skip(3) {
        check_field(i, f, bytes)?;
    }
    let stored = u32::from_le_bytes(bytes[CRC].try_into().expect("4 bytes"));
    let computed = checksum::checksum(&bytes[..CRC.start]);
    if stored != computed {
        return Err(DecodeError::Crc { stored, computed });
    }
    Ok(t)
}

fn array<const N: usize>(i: &[u8]) -> IResult<&[u8], [u8; N]> {
    let (i, b) = take(N)(i)?;
    Ok((i, b.try_into().expect("take(N) yields N bytes")))
}

fn payment(i: &[u8]) -> IResult<&[u8], Payment> {
    let (i, key_id) = be_u32(i)?;
    let (i, txid) = array::<32>(i)?;
    let (i, vout) = be_u32(i)?;
    let (i, input_amount) = be_u64(i)?;
    let (i, destination) = array::<32>(i)?;
    let (i, amount) = be_u64(i)?;
    let (i, change) = be_u64(i)?;
    Ok((
        i,
        Payment {
            key_id,
            txid,
            vout,
            input_amount,
            destination,
            amount,
            change,
        },
    ))
}

fn body(t: MsgType, i: &[u8]) -> IResult<&[u8], Body> {
    Ok(match t {
        MsgType::NewKey => (i, Body::NewKey),
        MsgType::GetPubkey => {
            let (i, key_id) = be_u32(i)?;
            (i, Body::GetPubkey { key_id })
        }
        MsgType::SignPayment => {
            let (i, p) = payment(i)?;
            (i, Body::SignPayment(p))
        }
        MsgType::PaymentStatus | MsgType::Held => {
            let (i, reference) = be_u64(i)?;
            let b = if t == MsgType::Held {
                Body::Held { reference }
            } else {
                Body::PaymentStatus { reference }
            };
            (i, b)
        }
        MsgType::Pubkey => {
            let (i, key_id) = be_u32(i)?;
            let (i, key) = array::<32>(i)?;
            (i, Body::Pubkey { key_id, key })
        }
        MsgType::Signature => {
            let (i, key_id) = be_u32(i)?;
            let (i, signature) = array::<64>(i)?;
            let (i, reference) = be_u64(i)?;
            (
                i,
                Body::Signature {
                    key_id,
                    signature,
                    reference,
                },
            )
        }
        MsgType::Reject => {
            let (i, r) = be_u8(i)?;
            let reason = RejectReason::from_u8(r).expect("reason passed its set rule");
            (i, Body::Reject { reason })
        }
        MsgType::Notice => {
            let (i, r) = be_u8(i)?;
            let (i, field) = be_u8(i)?;
            let (i, lane) = be_u8(i)?;
            let (i, flags) = be_u8(i)?;
            let notice = Notice {
                reason: DropReason::from_u8(r).expect("reason passed its set rule"),
                field,
                lane: LaneId::from_u8(lane).expect("lane passed its set rule"),
                readable: flags & field::NOTICE_FLAG_READABLE != 0,
            };
            (i, Body::Notice(notice))
        }
    })
}

impl Frame {
    /// Decodes exactly one frame. Trailing or missing bytes, any broken rule and a bad CRC
    /// are errors naming the field; nothing here panics on input.
    pub fn decode(bytes: &[u8]) -> Result<Frame, DecodeError> {
        let t = check(None, bytes)?;
        let parsed: IResult<&[u8], (u32, u64, Body)> = (|| {
            let (_, client_id) = be_u32(&bytes[header::CLIENT_ID])?;
            let (_, counter) = be_u64(&bytes[header::COUNTER])?;
            let (_, b) = body(t, &bytes[BODY])?;
            Ok((&[][..], (client_id, counter, b)))
        })();
        // `check` has validated every length and value nom reads, so this cannot fail.
        let (_, (client_id, counter, body)) = parsed.expect("checked frame parses");
        Ok(Frame {
            client_id,
            counter,
            body,
            tag: bytes[TAG].try_into().expect("32 bytes"),
        })
    }

    /// The frame's bytes with its CRC. Refuses to encode a frame that breaks a rule.
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        let bytes = self.encode_unchecked();
        check(None, &bytes)?;
        Ok(bytes)
    }

    /// The frame's bytes as a fixed array (see [`Frame::encode`]).
    pub fn to_wire(&self) -> Result<Wire, EncodeError> {
        Ok(self.encode()?[..].try_into().expect("FRAME_LEN bytes"))
    }

    /// The bytes without rule checks (tests use it to build frames that break rules).
    pub fn encode_unchecked(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(FRAME_LEN);
        b.put_slice(&field::MAGIC);
        b.put_u8(field::VERSION);
        b.put_u8(self.body.msg_type() as u8);
        b.put_bytes(0, header::RESERVED.len());
        b.put_u32(self.client_id);
        b.put_u64(self.counter);
        match self.body {
            Body::NewKey => {}
            Body::GetPubkey { key_id } => b.put_u32(key_id),
            Body::SignPayment(p) => {
                b.put_u32(p.key_id);
                b.put_slice(&p.txid);
                b.put_u32(p.vout);
                b.put_u64(p.input_amount);
                b.put_slice(&p.destination);
                b.put_u64(p.amount);
                b.put_u64(p.change);
            }
            Body::PaymentStatus { reference } | Body::Held { reference } => b.put_u64(reference),
            Body::Pubkey { key_id, key } => {
                b.put_u32(key_id);
                b.put_slice(&key);
            }
            Body::Signature {
                key_id,
                signature,
                reference,
            } => {
                b.put_u32(key_id);
                b.put_slice(&signature);
                b.put_u64(reference);
            }
            Body::Reject { reason } => b.put_u8(reason as u8),
            Body::Notice(n) => {
                b.put_u8(n.reason as u8);
                b.put_u8(n.field);
                b.put_u8(n.lane as u8);
                b.put_u8(if n.readable {
                    field::NOTICE_FLAG_READABLE
                } else {
                    0
                });
            }
        }
        b.put_bytes(0, TAG.start - b.len());
        b.put_slice(&self.tag);
        let crc = checksum::checksum(&b);
        b.put_u32_le(crc);
        debug_assert_eq!(b.len(), FRAME_LEN);
        b.freeze()
    }

    /// A frame tagged with `secret`: what a client sends, or the wallet answers.
    pub fn sealed(
        client_id: u32,
        counter: u64,
        body: Body,
        secret: &Secret,
    ) -> Result<Frame, EncodeError> {
        let mut f = Frame {
            client_id,
            counter,
            body,
            tag: [0; 32],
        };
        f.tag = auth::tag(secret, &f.encode_unchecked());
        f.encode()?;
        Ok(f)
    }

    /// True when the tag is `secret`'s over this frame's bytes.
    pub fn verify(&self, secret: &Secret) -> bool {
        auth::verify(secret, &self.encode_unchecked())
    }
}
