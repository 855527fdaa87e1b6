//! The HTTP side: JSON-RPC 2.0 over HTTP POST.
//!
//! The front door accepts every connection first and applies its limits afterwards, so a
//! waiting peer never sits in the kernel's backlog where nothing can be done about it:
//!
//! * at most [`Limits::max_per_peer`] connections per peer address: a new one evicts that
//!   peer's oldest connection that has no request in progress (idle, or still sending its
//!   head), and is closed at once only when all of that peer's connections are busy;
//! * at most [`Limits::max_connections`] in all, the same way over every peer;
//! * a request head must be complete within [`Limits::header_timeout`], its body within
//!   [`Limits::read_timeout`]; a keep-alive connection idle for [`Limits::idle_timeout`] is
//!   closed, and one that has carried [`Limits::keep_alive_requests`] requests is closed after
//!   the last answer.
//!
//! So an idle or slow peer holds at most its own connections, never another peer's place.
//! Ids are echoed byte for byte (`18446744073709551617` stays as written). Optional HTTP Basic
//! authentication ([`crate::auth`]) is checked before a body is read.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::json::{from_json, to_json};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method as HttpMethod, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::auth::Auth;
use crate::gateway::{CallFailure, Gateway, Ticket};
use crate::metrics::{CodeLabel, MethodLabel};
use crate::rpc::{self, Method, RpcError};

/// Limits of the HTTP side.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body; larger ones get HTTP 413 and [`rpc::INVALID_REQUEST`].
    pub max_body: usize,
    /// Connections open at once (see the module doc for what happens beyond).
    pub max_connections: usize,
    /// Connections open at once from one peer address.
    pub max_per_peer: usize,
    /// Largest batch.
    pub max_batch: usize,
    /// Longest wait for the answer frame of one call (time in the pacing queue included).
    pub call_timeout: Duration,
    /// Longest time to receive a request's head.
    pub header_timeout: Duration,
    /// Longest time to receive a request's body.
    pub read_timeout: Duration,
    /// Longest a keep-alive connection may sit without a request in progress.
    pub idle_timeout: Duration,
    /// Requests one connection may carry; the last answer closes it.
    pub keep_alive_requests: u32,
    /// Longest life of one connection.
    pub connection_lifetime: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 * 1024,
            max_connections: 256,
            max_per_peer: 64,
            max_batch: 16,
            call_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(5),
            keep_alive_requests: 1000,
            connection_lifetime: Duration::from_secs(300),
        }
    }
}

fn invalid_request(msg: impl Into<String>) -> RpcError {
    RpcError::new(rpc::INVALID_REQUEST, msg)
}

/// `null`, for answers to calls whose id could not be read.
fn null_id() -> Box<RawValue> {
    RawValue::from_string("null".into()).expect("null is JSON")
}

/// A response object, the id copied as the client wrote it.
fn response_text(id: &RawValue, r: Result<Value, RpcError>) -> String {
    #[derive(serde::Serialize)]
    struct Response<'a> {
        jsonrpc: &'static str,
        id: &'a RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<Value>,
    }
    let (result, error) = match r {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_json())),
    };
    serde_json::to_string(&Response {
        jsonrpc: "2.0",
        id,
        result,
        error,
    })
    .unwrap_or_else(|_| {
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}"#.into()
    })
}

fn error_text(id: Option<&RawValue>, e: RpcError) -> String {
    match id {
        Some(id) => response_text(id, Err(e)),
        None => response_text(&null_id(), Err(e)),
    }
}

/// One call of a body, once its frame is queued or its answer is known.
enum Started {
    /// Answered without the link (or a notification that failed before sending).
    Done(Option<String>),
    /// Queued for the verifier.
    Sent {
        id: Option<Box<RawValue>>,
        method: Method,
        ticket: Ticket,
        at: Instant,
    },
}

/// Answers one HTTP body: `None` when it held only notifications. Calls are queued in the
/// body's order before any answer is awaited, so a batch keeps its counters in order.
pub async fn dispatch(gateway: &Arc<Gateway>, limits: &Limits, body: &[u8]) -> Option<String> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let e = RpcError::new(rpc::PARSE_ERROR, format!("invalid JSON: {e}"));
            return Some(error_text(None, e));
        }
    };
    let deadline = Instant::now() + limits.call_timeout;
    match v {
        Value::Array(calls) => {
            if calls.is_empty() {
                return Some(error_text(None, invalid_request("empty batch")));
            }
            if calls.len() > limits.max_batch {
                let e = invalid_request(format!(
                    "batch of {} calls exceeds the limit of {}",
                    calls.len(),
                    limits.max_batch
                ));
                return Some(error_text(None, e));
            }
            // The same grammar parsed again, keeping each element's text: ids are echoed as
            // written.
            let raws: Vec<Box<RawValue>> = serde_json::from_slice(body).unwrap_or_default();
            let started: Vec<Started> = calls
                .into_iter()
                .enumerate()
                .map(|(i, call)| {
                    let id = raws.get(i).and_then(|r| raw_id(r.get()));
                    start_call(gateway, call, id)
                })
                .collect();
            let mut out = Vec::new();
            for s in started {
                if let Some(text) = finish(gateway, s, deadline).await {
                    out.push(text);
                }
            }
            (!out.is_empty()).then(|| format!("[{}]", out.join(",")))
        }
        call => {
            let id = std::str::from_utf8(body).ok().and_then(raw_id);
            let s = start_call(gateway, call, id);
            finish(gateway, s, deadline).await
        }
    }
}

/// The text of a call object's `id` member, when it has one (`null` included).
fn raw_id(call: &str) -> Option<Box<RawValue>> {
    // Duplicate keys: the last one wins, as in `Value`.
    let members: HashMap<String, Box<RawValue>> = serde_json::from_str(call).ok()?;
    members.into_iter().find(|(k, _)| k == "id").map(|(_, v)| v)
}

/// Checks one call object and queues its frame.
fn start_call(gateway: &Arc<Gateway>, call: Value, raw: Option<Box<RawValue>>) -> Started {
    let Value::Object(o) = call else {
        let e = invalid_request("a request must be an object");
        return Started::Done(Some(error_text(None, e)));
    };
    let id = match o.get("id") {
        None => None,
        Some(Value::Null | Value::Number(_) | Value::String(_)) => {
            Some(raw.unwrap_or_else(null_id))
        }
        Some(_) => {
            let e = invalid_request("id must be a string, a number or null");
            return Started::Done(Some(error_text(None, e)));
        }
    };
    if o.get("jsonrpc") != Some(&json!("2.0")) {
        // Without a valid envelope the id cannot be trusted to be meant as one: answer anyway.
        let e = invalid_request("jsonrpc must be \"2.0\"");
        return Started::Done(Some(error_text(id.as_deref(), e)));
    }
    let Some(name) = o.get("method").and_then(Value::as_str) else {
        let e = invalid_request("method must be a string");
        return Started::Done(Some(error_text(id.as_deref(), e)));
    };
    let reply_err = |e: RpcError| {
        count_error(gateway, e.code);
        Started::Done(id.as_deref().map(|id| response_text(id, Err(e))))
    };
    let Some(method) = Method::from_name(name) else {
        return reply_err(RpcError::new(
            rpc::METHOD_NOT_FOUND,
            format!("unknown method {name:?}: expected getnewkey, getpubkey, signpayment or paymentstatus"),
        ));
    };
    let frame = match request_frame(method, o.get("params")) {
        Ok(f) => f,
        Err(e) => return reply_err(e),
    };
    match gateway.submit(&frame) {
        Ok(ticket) => Started::Sent {
            id,
            method,
            ticket,
            at: Instant::now(),
        },
        Err(f) => {
            record(gateway, method, Duration::ZERO);
            reply_err(failure_error(f))
        }
    }
}

fn count_error(gateway: &Gateway, code: i64) {
    gateway
        .metrics()
        .errors
        .get_or_create(&CodeLabel {
            code: code.to_string(),
        })
        .inc();
}

fn record(gateway: &Gateway, method: Method, took: Duration) {
    let label = MethodLabel {
        method: method.name().to_string(),
    };
    let m = gateway.metrics();
    m.calls.get_or_create(&label).inc();
    m.latency.get_or_create(&label).observe(took.as_secs_f64());
}

/// Waits for a queued call's answer frame and turns it into the call's response.
async fn finish(gateway: &Gateway, s: Started, deadline: Instant) -> Option<String> {
    let (id, method, ticket, at) = match s {
        Started::Done(text) => return text,
        Started::Sent {
            id,
            method,
            ticket,
            at,
        } => (id, method, ticket, at),
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let r = match ticket.answer(left).await {
        Ok(answer) => answer_result(method, answer),
        Err(f) => Err(failure_error(f)),
    };
    record(gateway, method, at.elapsed());
    if let Err(e) = &r {
        count_error(gateway, e.code);
    }
    id.as_deref().map(|id| response_text(id, r))
}

fn failure_error(f: CallFailure) -> RpcError {
    match &f {
        CallFailure::Timeout(_) => RpcError::new(rpc::TIMEOUT, f.to_string()),
        CallFailure::LinkDown => {
            RpcError::new(rpc::LINK_DOWN, f.to_string()).with_data(json!({"sent": false}))
        }
        CallFailure::LinkLost(_) => {
            RpcError::new(rpc::LINK_DOWN, f.to_string()).with_data(json!({"sent": true}))
        }
        CallFailure::InFlight(..) => RpcError::new(rpc::IN_FLIGHT, f.to_string()),
        CallFailure::Overloaded(_) => RpcError::new(rpc::OVERLOADED, f.to_string()),
        CallFailure::Unencodable(_) => RpcError::new(rpc::INVALID_PARAMS, f.to_string()),
    }
}

/// The request frame in `params`, with every wire rule checked.
fn request_frame(method: Method, params: Option<&Value>) -> Result<Frame, RpcError> {
    let params = match params {
        Some(p @ Value::Object(_)) => p,
        _ => {
            return Err(RpcError::new(
                rpc::INVALID_PARAMS,
                "params must be one object: the tagged request frame",
            ))
        }
    };
    let frame = from_json(params)
        .map_err(|e| RpcError::new(rpc::INVALID_PARAMS, format!("request frame: {e}")))?;
    let t = frame.body.msg_type();
    if t != method.msg_type() {
        return Err(RpcError::new(
            rpc::INVALID_PARAMS,
            format!(
                "{} carries type {}, not {t}",
                method.name(),
                method.msg_type()
            ),
        ));
    }
    Ok(frame)
}

/// The answer frame as the call's result or error.
fn answer_result(method: Method, answer: Frame) -> Result<Value, RpcError> {
    match answer.body {
        Body::Reject { reason } => Err(RpcError::new(
            rpc::REJECTED,
            format!("rejected by the wallet: {reason}"),
        )
        .with_data(to_json(&answer))),
        Body::Notice(n) => {
            let field = coldgate_spec::field::fields(Some(n.lane), method.msg_type())
                .get(n.field as usize)
                .map(|f| f.name)
                .unwrap_or("-");
            Err(RpcError::new(
                rpc::DROPPED,
                format!(
                    "dropped by the verifier on the {} lane: {} (field {field})",
                    n.lane, n.reason
                ),
            )
            .with_data(to_json(&answer)))
        }
        // Other answers go back as they are: only the client can check their tag.
        _ => Ok(to_json(&answer)),
    }
}

fn respond(status: StatusCode, body: Option<String>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    let body = match body {
        Some(text) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            Bytes::from(text)
        }
        None => Bytes::new(),
    };
    builder
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn too_large(limits: &Limits) -> Response<Full<Bytes>> {
    let e = invalid_request(format!("body exceeds {} bytes", limits.max_body));
    respond(StatusCode::PAYLOAD_TOO_LARGE, Some(error_text(None, e)))
}

/// Everything a connection's requests need.
struct Door {
    gateway: Arc<Gateway>,
    limits: Limits,
    auth: Option<Auth>,
    conns: Mutex<Conns>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Conns {
    next: u64,
    open: BTreeMap<u64, Arc<Conn>>,
    per_peer: HashMap<IpAddr, usize>,
}

/// One open connection, as the front door sees it.
struct Conn {
    peer: IpAddr,
    /// A request is being read or answered.
    busy: AtomicBool,
    /// Chosen for eviction (it may take a moment to go): 0, or why ([`EVICTED`],
    /// [`EVICTED_PEER`]).
    evicted: AtomicU8,
    evict: Notify,
    served: AtomicU32,
    /// When the connection last finished a request (or opened).
    last: Mutex<Instant>,
}

/// Evicted to stay within the connection limit.
const EVICTED: u8 = 1;
/// Evicted to stay within its peer's connection cap.
const EVICTED_PEER: u8 = 2;

impl Conn {
    fn evict(&self, why: u8) {
        self.evicted.store(why, Ordering::Relaxed);
        self.evict.notify_one();
    }
}

impl Door {
    fn lock(&self) -> std::sync::MutexGuard<'_, Conns> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new connection, or says why it is closed at once. Beyond a limit, the
    /// oldest connection without a request in progress makes room (its peer's own, for the
    /// per-peer cap); only when every candidate is busy is the new one refused.
    fn admit(&self, peer: IpAddr) -> Result<(u64, Arc<Conn>), &'static str> {
        let mut c = self.lock();
        let evictable =
            |x: &Conn| !x.busy.load(Ordering::Relaxed) && x.evicted.load(Ordering::Relaxed) == 0;
        let peer_live = c
            .open
            .values()
            .filter(|x| x.peer == peer && x.evicted.load(Ordering::Relaxed) == 0)
            .count();
        if peer_live >= self.limits.max_per_peer.max(1) {
            match c.open.values().find(|x| x.peer == peer && evictable(x)) {
                Some(v) => v.evict(EVICTED_PEER),
                None => return Err("per_peer_busy"),
            }
        }
        let live = c
            .open
            .values()
            .filter(|x| x.evicted.load(Ordering::Relaxed) == 0)
            .count();
        if live >= self.limits.max_connections.max(1) {
            match c.open.values().find(|x| evictable(x)) {
                Some(v) => v.evict(EVICTED),
                None => return Err("all_busy"),
            }
        }
        let conn = Arc::new(Conn {
            peer,
            busy: AtomicBool::new(false),
            evicted: AtomicU8::new(0),
            evict: Notify::new(),
            served: AtomicU32::new(0),
            last: Mutex::new(Instant::now()),
        });
        c.next += 1;
        let id = c.next;
        c.open.insert(id, Arc::clone(&conn));
        *c.per_peer.entry(peer).or_insert(0) += 1;
        Ok((id, conn))
    }

    fn leave(&self, id: u64) {
        let mut c = self.lock();
        if let Some(conn) = c.open.remove(&id) {
            if let Some(n) = c.per_peer.get_mut(&conn.peer) {
                *n -= 1;
                if *n == 0 {
                    c.per_peer.remove(&conn.peer);
                }
            }
        }
    }
}

/// Clears a connection's busy mark however its request ends.
struct Busy<'a>(&'a Conn);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        *self.0.last.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.0.busy.store(false, Ordering::Relaxed);
    }
}

async fn handle_http(
    door: Arc<Door>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    conn.busy.store(true, Ordering::Relaxed);
    let _busy = Busy(&conn);
    let served = conn.served.fetch_add(1, Ordering::Relaxed) + 1;
    let mut r = answer_http(&door, req).await;
    if served >= door.limits.keep_alive_requests.max(1) {
        door.gateway.metrics().closed("request_count");
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(r)
}

async fn answer_http(door: &Door, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let limits = &door.limits;
    if let Some(auth) = &door.auth {
        if !auth.check(req.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes)) {
            door.gateway.metrics().unauthorized.inc();
            let mut r = respond(StatusCode::UNAUTHORIZED, None);
            r.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"jsonrpc\""),
            );
            return r;
        }
    }
    if req.method() != HttpMethod::POST {
        let e = invalid_request("JSON-RPC calls are HTTP POST requests");
        let mut r = respond(StatusCode::METHOD_NOT_ALLOWED, Some(error_text(None, e)));
        r.headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    // Refuse a declared oversize body before reading any of it.
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return too_large(limits);
    }
    let body = Limited::new(req.into_body(), limits.max_body);
    let body = match tokio::time::timeout(limits.read_timeout, body.collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(limits),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "request body failed");
            let e = invalid_request("the request body could not be read");
            return respond(StatusCode::BAD_REQUEST, Some(error_text(None, e)));
        }
        Err(_) => {
            let e = invalid_request("the request body took too long");
            return respond(StatusCode::REQUEST_TIMEOUT, Some(error_text(None, e)));
        }
    };
    match dispatch(&door.gateway, limits, &body).await {
        Some(text) => respond(StatusCode::OK, Some(text)),
        None => respond(StatusCode::NO_CONTENT, None),
    }
}

/// Serves JSON-RPC on `listener` for ever. `auth`: `None` or empty for no authentication.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    limits: Limits,
    auth: Option<Auth>,
) {
    let door = Arc::new(Door {
        gateway,
        limits,
        auth: auth.filter(|a| !a.is_empty()),
        conns: Mutex::new(Conns::default()),
    });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors, most likely: wait rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let metrics = Arc::clone(door.gateway.metrics());
        let (id, conn) = match door.admit(peer.ip()) {
            Ok(c) => c,
            Err(reason) => {
                tracing::debug!(%peer, reason, "connection refused");
                metrics.closed(reason);
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        metrics.connections.inc();
        let door = Arc::clone(&door);
        tokio::spawn(async move {
            let end = connection(&door, &conn, stream).await;
            if let Some(reason) = end {
                metrics.closed(reason);
                tracing::debug!(%peer, reason, "connection closed by the front door");
            }
            door.leave(id);
            metrics.connections.dec();
        });
    }
}

/// Serves one connection; the front door's reason when it closed it.
async fn connection(
    door: &Arc<Door>,
    conn: &Arc<Conn>,
    stream: tokio::net::TcpStream,
) -> Option<&'static str> {
    let limits = &door.limits;
    let service = {
        let (door, conn) = (Arc::clone(door), Arc::clone(conn));
        service_fn(move |req| handle_http(Arc::clone(&door), Arc::clone(&conn), req))
    };
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(16 * 1024)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(served);
    let lifetime = tokio::time::sleep(limits.connection_lifetime);
    tokio::pin!(lifetime);
    loop {
        // While a request is in progress the idle clock does not run: look again later.
        let idle_end = if conn.busy.load(Ordering::Relaxed) {
            Instant::now() + limits.idle_timeout
        } else {
            *conn.last.lock().unwrap_or_else(|p| p.into_inner()) + limits.idle_timeout
        };
        tokio::select! {
            r = &mut served => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended");
                }
                return None;
            }
            () = conn.evict.notified() => {
                return Some(if conn.evicted.load(Ordering::Relaxed) == EVICTED_PEER {
                    "per_peer_cap"
                } else {
                    "evicted"
                });
            }
            () = &mut lifetime => return Some("lifetime"),
            () = tokio::time::sleep_until(idle_end) => {
                let idle = !conn.busy.load(Ordering::Relaxed)
                    && conn.last.lock().unwrap_or_else(|p| p.into_inner()).elapsed() >= limits.idle_timeout;
                if idle {
                    return Some("idle");
                }
            }
        }
    }
}
