//! The JSON form of a frame, shared by the client, both converters and the wallet's JSON-RPC.
//!
//! Field names are the table's; byte strings are lower-case hex; the message type is `type`.
//! The one exception to "hex of the wire bytes" is `txid`: it is written in explorer order
//! (the byte order block explorers and Bitcoin Core's RPC show, the wire's bytes reversed), so
//! a person copies a txid into a request exactly as they read it anywhere else.
//! Converting JSON to a frame checks every rule, so a converter can only ever emit frames the
//! verifier would pass (the tag, which it cannot compute, still decides at the wallet).

use serde_json::{json, Map, Value};

use crate::codec::{Body, Frame, Notice, Payment};
use crate::message::{DropReason, LaneId, MsgType, RejectReason};

/// Why a JSON object is not a frame: names the member and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{member}: {problem}")]
pub struct JsonError {
    pub member: String,
    pub problem: String,
}

fn err(member: &str, problem: impl Into<String>) -> JsonError {
    JsonError {
        member: member.to_string(),
        problem: problem.into(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A txid as people read it (block explorers, Bitcoin Core's RPC): the wire's bytes reversed.
fn hex_reversed(b: &[u8; 32]) -> String {
    let mut r = *b;
    r.reverse();
    hex(&r)
}

fn reversed<const N: usize>(mut b: [u8; N]) -> [u8; N] {
    b.reverse();
    b
}

fn get<'a>(o: &'a Map<String, Value>, k: &str) -> Result<&'a Value, JsonError> {
    o.get(k).ok_or_else(|| err(k, "missing"))
}

fn uint(o: &Map<String, Value>, k: &str, max: u64) -> Result<u64, JsonError> {
    let v = get(o, k)?
        .as_u64()
        .ok_or_else(|| err(k, "expected an unsigned integer"))?;
    if v > max {
        return Err(err(k, format!("{v} exceeds {max}")));
    }
    Ok(v)
}

fn bytes<const N: usize>(o: &Map<String, Value>, k: &str) -> Result<[u8; N], JsonError> {
    let s = get(o, k)?
        .as_str()
        .ok_or_else(|| err(k, "expected a hex string"))?;
    if s.len() != 2 * N || !s.is_ascii() {
        return Err(err(k, format!("expected {} hex digits", 2 * N)));
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| err(k, "not hexadecimal"))?;
    }
    Ok(out)
}

fn named<T>(o: &Map<String, Value>, k: &str, f: fn(&str) -> Option<T>) -> Result<T, JsonError> {
    let s = get(o, k)?
        .as_str()
        .ok_or_else(|| err(k, "expected a name"))?;
    f(s).ok_or_else(|| err(k, format!("unknown value {s:?}")))
}

/// The JSON object of a frame.
pub fn to_json(f: &Frame) -> Value {
    let mut v = json!({
        "type": f.body.msg_type().name(),
        "client_id": f.client_id,
        "counter": f.counter,
        "tag": hex(&f.tag),
    });
    let o = v.as_object_mut().expect("object");
    let mut put = |k: &str, val: Value| {
        o.insert(k.to_string(), val);
    };
    match f.body {
        Body::NewKey => {}
        Body::GetPubkey { key_id } => put("key_id", json!(key_id)),
        Body::SignPayment(p) => {
            put("key_id", json!(p.key_id));
            put("txid", json!(hex_reversed(&p.txid)));
            put("vout", json!(p.vout));
            put("input_amount", json!(p.input_amount));
            put("destination", json!(hex(&p.destination)));
            put("amount", json!(p.amount));
            put("change", json!(p.change));
        }
        Body::PaymentStatus { reference } | Body::Held { reference } => {
            put("reference", json!(reference))
        }
        Body::Pubkey { key_id, key } => {
            put("key_id", json!(key_id));
            put("key", json!(hex(&key)));
        }
        Body::Signature {
            key_id,
            signature,
            reference,
        } => {
            put("key_id", json!(key_id));
            put("signature", json!(hex(&signature)));
            put("reference", json!(reference));
        }
        Body::Reject { reason } => put("reason", json!(reason.name())),
        Body::Notice(n) => {
            put("reason", json!(n.reason.name()));
            put("field", json!(n.field));
            put("lane", json!(n.lane.name()));
            put("readable", json!(n.readable));
        }
    }
    v
}

/// The body of a message type from a JSON object (header members are read by [`from_json`]).
pub fn body_from_json(t: MsgType, o: &Map<String, Value>) -> Result<Body, JsonError> {
    let u32max = u32::MAX as u64;
    Ok(match t {
        MsgType::NewKey => Body::NewKey,
        MsgType::GetPubkey => Body::GetPubkey {
            key_id: uint(o, "key_id", u32max)? as u32,
        },
        MsgType::SignPayment => Body::SignPayment(Payment {
            key_id: uint(o, "key_id", u32max)? as u32,
            txid: reversed(bytes(o, "txid")?),
            vout: uint(o, "vout", u32max)? as u32,
            input_amount: uint(o, "input_amount", u64::MAX)?,
            destination: bytes(o, "destination")?,
            amount: uint(o, "amount", u64::MAX)?,
            change: uint(o, "change", u64::MAX)?,
        }),
        MsgType::PaymentStatus => Body::PaymentStatus {
            reference: uint(o, "reference", u64::MAX)?,
        },
        MsgType::Held => Body::Held {
            reference: uint(o, "reference", u64::MAX)?,
        },
        MsgType::Pubkey => Body::Pubkey {
            key_id: uint(o, "key_id", u32max)? as u32,
            key: bytes(o, "key")?,
        },
        MsgType::Signature => Body::Signature {
            key_id: uint(o, "key_id", u32max)? as u32,
            signature: bytes(o, "signature")?,
            reference: uint(o, "reference", u64::MAX)?,
        },
        MsgType::Reject => Body::Reject {
            reason: named(o, "reason", RejectReason::from_name)?,
        },
        MsgType::Notice => Body::Notice(Notice {
            reason: named(o, "reason", DropReason::from_name)?,
            field: uint(o, "field", u8::MAX as u64)? as u8,
            lane: named(o, "lane", LaneId::from_name)?,
            readable: get(o, "readable")?
                .as_bool()
                .ok_or_else(|| err("readable", "expected a boolean"))?,
        }),
    })
}

/// A frame from its JSON object. Every member is checked, then every wire rule (so the
/// result always encodes); unknown members are refused.
pub fn from_json(v: &Value) -> Result<Frame, JsonError> {
    let o = v
        .as_object()
        .ok_or_else(|| err("frame", "expected an object"))?;
    let t = named(o, "type", MsgType::from_name)?;
    let frame = Frame {
        client_id: uint(o, "client_id", u32::MAX as u64)? as u32,
        counter: uint(o, "counter", u64::MAX)?,
        body: body_from_json(t, o)?,
        tag: bytes(o, "tag")?,
    };
    let known = to_json(&frame);
    if let Some(extra) = o
        .keys()
        .find(|k| !known.as_object().expect("object").contains_key(*k))
    {
        return Err(err(extra, "unknown member"));
    }
    frame.encode().map_err(|e| err("frame", e.0.to_string()))?;
    Ok(frame)
}
