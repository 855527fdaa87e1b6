//! JSON-RPC 2.0 as coldgate speaks it, on both of its HTTP hops (client to converter-in,
//! converter-out to wallet): methods, error codes, and a small strict HTTP client.
//!
//! # Methods
//!
//! | method | request frame `type` | answers |
//! |---|---|---|
//! | `getnewkey` | `new_key` | `pubkey` |
//! | `getpubkey` | `get_pubkey` | `pubkey` |
//! | `signpayment` | `sign_payment` | `signature`, `held`, or a REJECT |
//! | `paymentstatus` | `payment_status` | `signature`, `held`, or a REJECT |
//!
//! `params` is ONE object: the request frame's JSON form (`coldgate_spec::json`), already
//! tagged by the client. The result is the answer frame's JSON form, tagged by the wallet.
//!
//! # Errors
//!
//! The standard codes ([`PARSE_ERROR`], [`INVALID_REQUEST`], [`METHOD_NOT_FOUND`],
//! [`INVALID_PARAMS`], [`INTERNAL_ERROR`]) and coldgate's own, each documented on its constant.
//! A HELD answer is a *result* (type `held`), not an error: the request is valid and waits for
//! an operator; `paymentstatus` with its reference fetches the outcome later.

use std::time::Duration;

use bytes::Bytes;
use coldgate_spec::MsgType;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method as HttpMethod, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object (or a batch is empty or too large, or the body
/// is too large).
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// `params` is not one object that is a valid request frame of the method's type.
pub const INVALID_PARAMS: i64 = -32602;
/// A fault of the server itself.
pub const INTERNAL_ERROR: i64 = -32603;

/// The wallet refused the request. `data` is the wallet's REJECT frame (JSON form), tagged with
/// the client's secret, so the client can check that the refusal really is the wallet's.
pub const REJECTED: i64 = -32001;
/// The verifier dropped the frame. `data` is its NOTICE frame (JSON form: reason, field index,
/// lane). NOTICEs carry no tag: the verifier holds no secret.
pub const DROPPED: i64 = -32002;
/// No answer came back within the call time limit. The request may still have been executed:
/// ask again with a new counter (`paymentstatus` for a payment that was held).
pub const TIMEOUT: i64 = -32003;
/// No link to an appliance is up (`data.sent` is false: nothing was sent), or the call's link
/// was lost while it waited (`data.sent` is true: the request may have reached the wallet, so
/// recover its outcome with a new counter, e.g. `paymentstatus`). Either way it comes at once,
/// not after the call time limit.
pub const LINK_DOWN: i64 = -32004;
/// A call with the same client id and counter is already waiting for its answer.
pub const IN_FLIGHT: i64 = -32005;
/// The queue of calls waiting for the verifier's rate limit (or for answers) is full; nothing
/// was sent. Try again later.
pub const OVERLOADED: i64 = -32006;

/// A JSON-RPC method of coldgate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    GetNewKey,
    GetPubkey,
    SignPayment,
    PaymentStatus,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::GetNewKey,
        Method::GetPubkey,
        Method::SignPayment,
        Method::PaymentStatus,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::GetNewKey => "getnewkey",
            Method::GetPubkey => "getpubkey",
            Method::SignPayment => "signpayment",
            Method::PaymentStatus => "paymentstatus",
        }
    }

    pub fn from_name(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The request frame type the method carries.
    pub fn msg_type(self) -> MsgType {
        match self {
            Method::GetNewKey => MsgType::NewKey,
            Method::GetPubkey => MsgType::GetPubkey,
            Method::SignPayment => MsgType::SignPayment,
            Method::PaymentStatus => MsgType::PaymentStatus,
        }
    }

    /// The method of a request frame type.
    pub fn for_type(t: MsgType) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.msg_type() == t)
    }

    /// Answer types the wallet may give to this method (REJECT is always possible).
    pub fn answers(self) -> &'static [MsgType] {
        match self {
            Method::GetNewKey | Method::GetPubkey => &[MsgType::Pubkey, MsgType::Reject],
            Method::SignPayment | Method::PaymentStatus => {
                &[MsgType::Signature, MsgType::Held, MsgType::Reject]
            }
        }
    }
}

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }

    pub fn to_json(&self) -> Value {
        let mut e = json!({ "code": self.code, "message": self.message });
        if let Some(d) = &self.data {
            e["data"] = d.clone();
        }
        e
    }

    /// Reads an error object; `None` when it is not one.
    pub fn from_json(v: &Value) -> Option<RpcError> {
        let o = v.as_object()?;
        Some(RpcError {
            code: o.get("code")?.as_i64()?,
            message: o.get("message")?.as_str()?.to_string(),
            data: o.get("data").cloned(),
        })
    }
}

/// A success response.
pub fn ok_response(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// An error response.
pub fn error_response(id: &Value, e: &RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() })
}

/// Largest response body the client accepts.
pub const MAX_RESPONSE: usize = 1 << 20;

/// Where a JSON-RPC server listens: `http://HOST:PORT[/PATH]` or `HOST:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `HOST:PORT`.
    pub authority: String,
    pub path: String,
}

impl std::str::FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Endpoint, String> {
        if s.starts_with("https://") {
            return Err(format!(
                "{s}: only plain http on a private link is supported"
            ));
        }
        let rest = s.strip_prefix("http://").unwrap_or(s);
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let Some((host, port)) = authority.rsplit_once(':') else {
            return Err(format!("{s}: expected http://HOST:PORT"));
        };
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(format!("{s}: expected http://HOST:PORT"));
        }
        Ok(Endpoint {
            authority: authority.to_string(),
            path: path.to_string(),
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority, self.path)
    }
}

/// Why a call got no JSON-RPC answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The I/O error is in the message, not the error's source, so that a report walking
    /// the chain does not print it twice.
    #[error("connecting to {endpoint}: {error}")]
    Connect {
        endpoint: String,
        error: std::io::Error,
    },
    #[error("http: {0}")]
    Http(String),
    #[error("http status {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the answer is not a JSON-RPC response: {0}")]
    Malformed(String),
    #[error(transparent)]
    Rpc(#[from] RpcError),
}

/// POSTs a JSON body and returns the status and body (one connection per call: the hops are
/// local and calls are rare, and no connection state can leak from one call to the next).
pub async fn post(
    endpoint: &Endpoint,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), CallError> {
    let work = async {
        let stream = TcpStream::connect(&endpoint.authority)
            .await
            .map_err(|error| CallError::Connect {
                endpoint: endpoint.to_string(),
                error,
            })?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| CallError::Http(e.to_string()))?;
        let conn = tokio::spawn(conn);
        let request = Request::builder()
            .method(HttpMethod::POST)
            .uri(&endpoint.path)
            .header(HOST, &endpoint.authority)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| CallError::Http(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| CallError::Http(e.to_string()))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| CallError::Http(e.to_string()))?
            .to_bytes();
        conn.abort();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| CallError::Timeout(timeout))?
}

/// Calls one method; the result, or the server's error as [`CallError::Rpc`].
pub async fn call(
    endpoint: &Endpoint,
    method: &str,
    params: Value,
    id: u64,
    timeout: Duration,
) -> Result<Value, CallError> {
    let (status, body) = post(endpoint, request_body(method, params, id), timeout).await?;
    read_answer(status, &body, id)
}

/// The body of a call: one JSON-RPC request object.
pub fn request_body(method: &str, params: Value, id: u64) -> Vec<u8> {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
        .to_string()
        .into_bytes()
}

/// The result of a call from the HTTP answer to request `id`, or why there is none.
pub fn read_answer(status: StatusCode, body: &[u8], id: u64) -> Result<Value, CallError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| CallError::Status {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    })?;
    parse_response(&v, id)
}

/// Checks a response object against the request id.
pub fn parse_response(v: &Value, id: u64) -> Result<Value, CallError> {
    let o = v
        .as_object()
        .ok_or_else(|| CallError::Malformed("not an object".into()))?;
    if o.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(CallError::Malformed("jsonrpc is not \"2.0\"".into()));
    }
    // A server that could not read the id answers with null; only then is another id fine.
    match o.get("id") {
        Some(got) if got == &json!(id) => {}
        Some(Value::Null) if o.contains_key("error") => {}
        other => {
            return Err(CallError::Malformed(format!(
                "id {other:?} does not match the request's {id}"
            )))
        }
    }
    match (o.get("result"), o.get("error")) {
        (Some(r), None) => Ok(r.clone()),
        (None, Some(e)) => Err(RpcError::from_json(e)
            .ok_or_else(|| CallError::Malformed("error is not an error object".into()))?
            .into()),
        _ => Err(CallError::Malformed(
            "exactly one of result and error is required".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_map_to_request_types_both_ways() {
        for m in Method::ALL {
            assert_eq!(Method::from_name(m.name()), Some(m));
            assert_eq!(Method::for_type(m.msg_type()), Some(m));
            assert!(m.msg_type().is_request());
        }
        assert_eq!(Method::from_name("getNewKey"), None);
        assert_eq!(Method::for_type(MsgType::Pubkey), None);
    }

    #[test]
    fn endpoints_parse_strictly() {
        let e: Endpoint = "http://127.0.0.1:7100".parse().expect("valid");
        assert_eq!(e.authority, "127.0.0.1:7100");
        assert_eq!(e.path, "/");
        let e: Endpoint = "localhost:1/rpc".parse().expect("valid");
        assert_eq!(e.path, "/rpc");
        assert!("https://x:1".parse::<Endpoint>().is_err());
        assert!("http://x".parse::<Endpoint>().is_err());
        assert!("http://:80".parse::<Endpoint>().is_err());
        assert!("http://x:port".parse::<Endpoint>().is_err());
    }

    #[test]
    fn responses_are_checked_against_the_request() {
        let ok = json!({"jsonrpc": "2.0", "id": 4, "result": {"a": 1}});
        assert_eq!(parse_response(&ok, 4).expect("ok"), json!({"a": 1}));
        assert!(matches!(
            parse_response(&ok, 5),
            Err(CallError::Malformed(_))
        ));
        let err = error_response(&json!(null), &RpcError::new(PARSE_ERROR, "bad"));
        match parse_response(&err, 9) {
            Err(CallError::Rpc(e)) => assert_eq!(e.code, PARSE_ERROR),
            other => panic!("{other:?}"),
        }
        let both =
            json!({"jsonrpc": "2.0", "id": 1, "result": 1, "error": {"code": 1, "message": ""}});
        assert!(matches!(
            parse_response(&both, 1),
            Err(CallError::Malformed(_))
        ));
        let old = json!({"jsonrpc": "1.0", "id": 1, "result": 1});
        assert!(matches!(
            parse_response(&old, 1),
            Err(CallError::Malformed(_))
        ));
    }
}
