//! The HTTP side: JSON-RPC 2.0 over HTTP POST, with limits on body size, batch size,
//! concurrent connections and time.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::json::{from_json, to_json};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method as HttpMethod, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::gateway::{CallFailure, Gateway};
use crate::rpc::{self, error_response, ok_response, Method, RpcError};

/// Limits of the HTTP side.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body; larger ones get HTTP 413 and [`rpc::INVALID_REQUEST`].
    pub max_body: usize,
    /// Connections served at once; more wait in the listen backlog. Each connection carries
    /// one request (no keep-alive), so a slot is held for one request at most.
    pub max_connections: usize,
    /// Largest batch.
    pub max_batch: usize,
    /// Longest wait for the answer frame of one call.
    pub call_timeout: Duration,
    /// Longest time to receive a request's headers, and then its body.
    pub read_timeout: Duration,
    /// Longest life of one connection (keep-alive included).
    pub connection_lifetime: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 * 1024,
            max_connections: 64,
            max_batch: 16,
            call_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(300),
        }
    }
}

fn invalid_request(msg: impl Into<String>) -> RpcError {
    RpcError::new(rpc::INVALID_REQUEST, msg)
}

/// Answers one HTTP body: `None` when it held only notifications.
pub async fn dispatch(gateway: &Arc<Gateway>, limits: &Limits, body: &[u8]) -> Option<Value> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let e = RpcError::new(rpc::PARSE_ERROR, format!("invalid JSON: {e}"));
            return Some(error_response(&Value::Null, &e));
        }
    };
    match v {
        Value::Array(calls) => {
            if calls.is_empty() {
                return Some(error_response(
                    &Value::Null,
                    &invalid_request("empty batch"),
                ));
            }
            if calls.len() > limits.max_batch {
                let e = invalid_request(format!(
                    "batch of {} calls exceeds the limit of {}",
                    calls.len(),
                    limits.max_batch
                ));
                return Some(error_response(&Value::Null, &e));
            }
            // Calls of a batch run concurrently; answers keep the batch's order.
            let mut tasks = Vec::with_capacity(calls.len());
            for call in calls {
                let (g, l) = (Arc::clone(gateway), limits.clone());
                tasks.push(tokio::spawn(async move { handle_call(&g, &l, call).await }));
            }
            let mut out = Vec::new();
            for t in tasks {
                match t.await {
                    Ok(Some(r)) => out.push(r),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "batch call task failed");
                        let e = RpcError::new(rpc::INTERNAL_ERROR, "internal error");
                        out.push(error_response(&Value::Null, &e));
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        call => handle_call(gateway, limits, call).await,
    }
}

/// One call object; `None` for a notification (which is still carried out).
async fn handle_call(gateway: &Arc<Gateway>, limits: &Limits, call: Value) -> Option<Value> {
    let Value::Object(o) = call else {
        let e = invalid_request("a request must be an object");
        return Some(error_response(&Value::Null, &e));
    };
    let id = match o.get("id") {
        None => None,
        Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => Some(id.clone()),
        Some(_) => {
            let e = invalid_request("id must be a string, a number or null");
            return Some(error_response(&Value::Null, &e));
        }
    };
    let reply = |r: Result<Value, RpcError>| {
        let id = id.clone()?;
        Some(match r {
            Ok(v) => ok_response(&id, v),
            Err(e) => error_response(&id, &e),
        })
    };
    if o.get("jsonrpc") != Some(&json!("2.0")) {
        // Without a valid envelope the id cannot be trusted to be meant as one: answer anyway.
        let e = invalid_request("jsonrpc must be \"2.0\"");
        return Some(error_response(id.as_ref().unwrap_or(&Value::Null), &e));
    }
    let Some(name) = o.get("method").and_then(Value::as_str) else {
        let e = invalid_request("method must be a string");
        return Some(error_response(id.as_ref().unwrap_or(&Value::Null), &e));
    };
    let Some(method) = Method::from_name(name) else {
        let e = RpcError::new(
            rpc::METHOD_NOT_FOUND,
            format!("unknown method {name:?}: expected getnewkey, getpubkey, signpayment or paymentstatus"),
        );
        return reply(Err(e));
    };
    let frame = match request_frame(method, o.get("params")) {
        Ok(f) => f,
        Err(e) => return reply(Err(e)),
    };
    reply(forward(gateway, limits, method, frame).await)
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

/// Sends the frame and turns the answer frame into the call's result or error.
async fn forward(
    gateway: &Gateway,
    limits: &Limits,
    method: Method,
    frame: Frame,
) -> Result<Value, RpcError> {
    let answer = gateway
        .call(frame, limits.call_timeout)
        .await
        .map_err(|f| match f {
            CallFailure::Timeout(_) => RpcError::new(rpc::TIMEOUT, f.to_string()),
            CallFailure::LinkDown => RpcError::new(rpc::LINK_DOWN, f.to_string()),
            CallFailure::InFlight(..) => RpcError::new(rpc::IN_FLIGHT, f.to_string()),
            CallFailure::Overloaded(_) => RpcError::new(rpc::OVERLOADED, f.to_string()),
            CallFailure::Unencodable(_) => RpcError::new(rpc::INVALID_PARAMS, f.to_string()),
        })?;
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

fn respond(status: StatusCode, body: Option<Value>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status);
    let body = match body {
        Some(v) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    builder
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn too_large(limits: &Limits) -> Response<Full<Bytes>> {
    let e = invalid_request(format!("body exceeds {} bytes", limits.max_body));
    respond(
        StatusCode::PAYLOAD_TOO_LARGE,
        Some(error_response(&Value::Null, &e)),
    )
}

async fn handle_http(
    gateway: Arc<Gateway>,
    limits: Arc<Limits>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    if req.method() != HttpMethod::POST {
        let e = invalid_request("JSON-RPC calls are HTTP POST requests");
        let mut r = respond(
            StatusCode::METHOD_NOT_ALLOWED,
            Some(error_response(&Value::Null, &e)),
        );
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return Ok(r);
    }
    // Refuse a declared oversize body before reading any of it.
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return Ok(too_large(&limits));
    }
    let body = Limited::new(req.into_body(), limits.max_body);
    let body = match tokio::time::timeout(limits.read_timeout, body.collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Ok(too_large(&limits)),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "request body failed");
            let e = invalid_request("the request body could not be read");
            return Ok(respond(
                StatusCode::BAD_REQUEST,
                Some(error_response(&Value::Null, &e)),
            ));
        }
        Err(_) => {
            let e = invalid_request("the request body took too long");
            return Ok(respond(
                StatusCode::REQUEST_TIMEOUT,
                Some(error_response(&Value::Null, &e)),
            ));
        }
    };
    Ok(match dispatch(&gateway, &limits, &body).await {
        Some(v) => respond(StatusCode::OK, Some(v)),
        None => respond(StatusCode::NO_CONTENT, None),
    })
}

/// Serves JSON-RPC on `listener` for ever.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>, limits: Limits) {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // Take a slot before accepting, so excess clients wait in the backlog instead of
        // holding memory here.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (gateway, limits) = (Arc::clone(&gateway), Arc::clone(&limits));
        tokio::spawn(async move {
            let _slot = slot;
            let lifetime = limits.connection_lifetime;
            let read_timeout = limits.read_timeout;
            let service =
                service_fn(move |req| handle_http(Arc::clone(&gateway), Arc::clone(&limits), req));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                // One request per connection: an idle keep-alive connection would hold a slot
                // with no time limit but the connection lifetime.
                .keep_alive(false)
                .max_buf_size(16 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            match tokio::time::timeout(lifetime, conn).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "connection ended"),
                Err(_) => tracing::debug!(%peer, "connection closed at its lifetime limit"),
            }
        });
    }
}
