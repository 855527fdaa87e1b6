//! JSON-RPC 2.0: the wallet's four methods, each taking one request frame in its JSON form.
//!
//! | method | `params.type` | result (`type`) |
//! |---|---|---|
//! | `getnewkey` | `new_key` | `pubkey` or `reject` |
//! | `getpubkey` | `get_pubkey` | `pubkey` or `reject` |
//! | `signpayment` | `sign_payment` | `signature`, `held` or `reject` |
//! | `paymentstatus` | `payment_status` | `signature`, `held` or `reject` |
//!
//! `params` is one object (never an array): the frame's JSON form from
//! [`coldgate_spec::json`]. It is rebuilt with `from_json`, which checks every wire rule, then
//! handed to the wallet. Refusals by the wallet (bad tag, stale counter, policy) are results
//! (REJECT frames); JSON-RPC errors are only for input that is not a request at all.
//! Notifications (no `id`) are carried out and get no response; batches are answered in order.
//!
//! Ids are echoed byte for byte ([`respond`]): `18446744073709551617` or `1.50` come back as
//! written, not as the nearest double, since a caller matches answers to calls by them.

use coldgate_spec::json::{from_json, to_json};
use coldgate_spec::{Frame, MsgType};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// The method that carries each request type.
pub const METHODS: [(&str, MsgType); 4] = [
    ("getnewkey", MsgType::NewKey),
    ("getpubkey", MsgType::GetPubkey),
    ("signpayment", MsgType::SignPayment),
    ("paymentstatus", MsgType::PaymentStatus),
];

/// The message type a method carries.
pub fn method_type(method: &str) -> Option<MsgType> {
    METHODS.iter().find(|(m, _)| *m == method).map(|(_, t)| *t)
}

/// The method that carries a request type.
pub fn type_method(t: MsgType) -> Option<&'static str> {
    METHODS.iter().find(|(_, x)| *x == t).map(|(m, _)| *m)
}

fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}})
}

/// Answers an HTTP body with the response's JSON text, every id exactly as the request wrote
/// it. `None` means no response at all (only notifications).
pub fn respond(body: &[u8], mut wallet: impl FnMut(&Frame) -> Frame) -> Option<String> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Some(error(Value::Null, PARSE_ERROR, format!("parse error: {e}")).to_string())
        }
    };
    match v {
        Value::Array(batch) => {
            if batch.is_empty() {
                return Some(error(Value::Null, INVALID_REQUEST, "empty batch").to_string());
            }
            // The same body again, each member as its raw text (it parsed above).
            let raws: Vec<&RawValue> = serde_json::from_slice(body).unwrap_or_default();
            let out: Vec<String> = batch
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let answer = handle_one(r, &mut wallet)?;
                    Some(with_raw_id(&answer, raws.get(i).and_then(|r| raw_id(r))))
                })
                .collect();
            (!out.is_empty()).then(|| format!("[{}]", out.join(",")))
        }
        single => {
            let answer = handle_one(&single, &mut wallet)?;
            let raw = serde_json::from_slice::<&RawValue>(body).ok();
            Some(with_raw_id(&answer, raw.and_then(raw_id)))
        }
    }
}

/// The raw text of a request's id, when it is an id this layer answers with (string, number
/// or null); requests without one get `None` (notifications, or ids answered with null).
fn raw_id(request: &RawValue) -> Option<&RawValue> {
    #[derive(Deserialize)]
    struct IdOnly<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
    }
    let id = serde_json::from_str::<IdOnly<'_>>(request.get()).ok()?.id?;
    matches!(
        serde_json::from_str::<Value>(id.get()),
        Ok(Value::String(_) | Value::Number(_) | Value::Null)
    )
    .then_some(id)
}

/// One answer object as text, its `id` replaced by the request's raw id text.
fn with_raw_id(answer: &Value, raw: Option<&RawValue>) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        jsonrpc: &'a Value,
        id: &'a RawValue,
        #[serde(flatten)]
        rest: Map<String, Value>,
    }
    let (Some(raw), Some(o)) = (raw, answer.as_object()) else {
        return answer.to_string();
    };
    // An answer with a null id (a request whose id was unusable) keeps its null.
    if o.get("id").is_none_or(Value::is_null) {
        return answer.to_string();
    }
    let mut rest = o.clone();
    rest.remove("id");
    let jsonrpc = rest.remove("jsonrpc").unwrap_or(Value::Null);
    serde_json::to_string(&Out {
        jsonrpc: &jsonrpc,
        id: raw,
        rest,
    })
    .unwrap_or_else(|_| answer.to_string())
}

/// Answers an HTTP body as a JSON value (ids as parsed: see [`respond`] for the byte-exact
/// echo). `None` means no response at all (only notifications).
pub fn handle_body(body: &[u8], mut wallet: impl FnMut(&Frame) -> Frame) -> Option<Value> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some(error(Value::Null, PARSE_ERROR, format!("parse error: {e}"))),
    };
    match v {
        Value::Array(batch) => {
            if batch.is_empty() {
                return Some(error(Value::Null, INVALID_REQUEST, "empty batch"));
            }
            let out: Vec<Value> = batch
                .iter()
                .filter_map(|r| handle_one(r, &mut wallet))
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        single => handle_one(&single, &mut wallet),
    }
}

/// The request's id when it has a valid one; `Err` carries the id to answer an error with.
fn request_id(o: &Map<String, Value>) -> Result<Option<Value>, Value> {
    match o.get("id") {
        None => Ok(None),
        Some(id @ (Value::String(_) | Value::Number(_) | Value::Null)) => Ok(Some(id.clone())),
        Some(_) => Err(Value::Null),
    }
}

fn handle_one(v: &Value, wallet: &mut impl FnMut(&Frame) -> Frame) -> Option<Value> {
    let Some(o) = v.as_object() else {
        return Some(error(
            Value::Null,
            INVALID_REQUEST,
            "a request must be an object",
        ));
    };
    let id = match request_id(o) {
        Ok(id) => id,
        Err(null) => {
            return Some(error(
                null,
                INVALID_REQUEST,
                "id must be a string, a number or null",
            ))
        }
    };
    let answer_id = id.clone().unwrap_or(Value::Null);
    let invalid = |message: String| Some(error(answer_id.clone(), INVALID_REQUEST, message));
    if o.get("jsonrpc") != Some(&json!("2.0")) {
        return invalid("jsonrpc must be \"2.0\"".into());
    }
    if let Some(k) = o
        .keys()
        .find(|k| !matches!(k.as_str(), "jsonrpc" | "method" | "params" | "id"))
    {
        return invalid(format!("unknown member {k:?}"));
    }
    let Some(method) = o.get("method").and_then(Value::as_str) else {
        return invalid("method must be a string".into());
    };
    // From here on the request is well formed: a notification gets no error either.
    let reply = |r: Value| id.as_ref().map(|_| r);
    let Some(t) = method_type(method) else {
        return reply(error(
            answer_id.clone(),
            METHOD_NOT_FOUND,
            format!(
                "method {method:?} not found; methods: {}",
                METHODS.map(|(m, _)| m).join(", ")
            ),
        ));
    };
    let params_error = |message: String| reply(error(answer_id.clone(), INVALID_PARAMS, message));
    let Some(params) = o.get("params").and_then(Value::as_object) else {
        return params_error("params must be one object: the request frame's JSON form".into());
    };
    match params.get("type").and_then(Value::as_str) {
        None => return params_error("params.type: missing or not a string".into()),
        Some(ty) if ty != t.name() => {
            return params_error(format!(
                "params.type: {ty:?} does not match method {method} (expects {:?})",
                t.name()
            ))
        }
        Some(_) => {}
    }
    let frame = match from_json(&Value::Object(params.clone())) {
        Ok(f) => f,
        Err(e) => return params_error(format!("params.{e}")),
    };
    let response = wallet(&frame);
    reply(json!({"jsonrpc": "2.0", "id": answer_id, "result": to_json(&response)}))
}
