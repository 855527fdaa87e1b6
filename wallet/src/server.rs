//! HTTP/1.1 front of the wallet: `POST /` with a JSON-RPC body, nothing else.
//!
//! Bounded everywhere an unauthenticated peer could make it grow: connections (beyond
//! `max_connections` they are closed at once), header and body time, body size (413). The
//! wallet itself is one `Mutex`: requests are handled one at a time on a blocking thread,
//! which is also the order SQLite would impose on writers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::metrics::Metrics;
use crate::rpc;
use crate::service::Wallet;
use crate::store::Timestamp;

/// Limits of the HTTP front.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub request_timeout: Duration,
}

/// The wall clock, in seconds since the Unix epoch.
pub fn now() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as Timestamp)
        .unwrap_or(0)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r
}

async fn respond(
    req: Request<Incoming>,
    wallet: Arc<Mutex<Wallet>>,
    limits: Limits,
    metrics: Arc<Metrics>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/" {
        return Ok(plain(StatusCode::NOT_FOUND, "not found: POST / only\n"));
    }
    if req.method() != Method::POST {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: POST / only\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return Ok(r);
    }
    let body = Limited::new(req.into_body(), limits.max_body_bytes);
    let bytes = match tokio::time::timeout(limits.request_timeout, body.collect()).await {
        Err(_) => return Ok(plain(StatusCode::REQUEST_TIMEOUT, "body too slow\n")),
        Ok(Err(e)) => {
            return Ok(if e.is::<http_body_util::LengthLimitError>() {
                plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n")
            } else {
                plain(StatusCode::BAD_REQUEST, "body could not be read\n")
            })
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    let answer = tokio::task::spawn_blocking(move || {
        // A panic while holding the lock cannot leave a half-done request behind: the SQLite
        // transaction rolls back when dropped. So a poisoned lock is still safe to use.
        let mut w = wallet.lock().unwrap_or_else(|p| p.into_inner());
        rpc::respond(&bytes, |frame| {
            let started = std::time::Instant::now();
            let answer = w.handle(frame, now());
            metrics.observe(frame, &answer, started.elapsed());
            answer
        })
    })
    .await;
    Ok(match answer {
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "request failed\n"),
        Ok(None) => plain(StatusCode::NO_CONTENT, ""),
        Ok(Some(text)) => {
            let mut r = Response::new(Full::new(Bytes::from(text)));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
    })
}

const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Serves until the listener fails. Each response leaves only after the wallet committed it.
pub async fn serve(
    listener: TcpListener,
    wallet: Wallet,
    limits: Limits,
    metrics: Arc<Metrics>,
) -> std::io::Result<()> {
    let wallet = Arc::new(Mutex::new(wallet));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: wait instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; closing");
            // One non-blocking write, so the peer learns why; never waits on a slow peer.
            let _ = stream.try_write(BUSY);
            drop(stream);
            continue;
        };
        let wallet = wallet.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let svc = service_fn(move |req| respond(req, wallet.clone(), limits, metrics.clone()));
            // Keep-alive (hyper's default, made explicit): converter-out reuses its connection;
            // an idle one is closed by the header timeout.
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(true)
                .header_read_timeout(limits.request_timeout)
                .max_buf_size(limits.max_body_bytes.max(8192))
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

/// Opens the store, binds the config's listen address and returns the bound address, the
/// metrics the server keeps, and the future that serves (what `coldgate-wallet serve` runs; a
/// demo may run it in-process).
pub async fn bind(
    config: &crate::Config,
    passphrase: &[u8],
) -> Result<
    (
        SocketAddr,
        Arc<Metrics>,
        impl std::future::Future<Output = std::io::Result<()>>,
    ),
    BindError,
> {
    let mut store = crate::Store::open(&config.store, passphrase).map_err(|source| match source
        .unwritable()
    {
        Some(why) => BindError::Unwritable {
            path: config.store.clone(),
            why,
            source,
        },
        None => BindError::Store {
            path: config.store.clone(),
            source,
        },
    })?;
    // Fail closed from the start: a store that cannot take a write (read-only file, full
    // disk) would have to refuse every request, so the wallet does not start on it.
    store
        .probe_writable(now(), "serving")
        .map_err(|source| BindError::Unwritable {
            path: config.store.clone(),
            why: source.unwritable().unwrap_or("the store refused a write"),
            source,
        })?;
    let wallet = Wallet::new(store, config.policy.clone());
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| BindError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| BindError::Listen {
        addr: config.listen,
        source,
    })?;
    if !is_loopback(&addr) {
        tracing::warn!(%addr, "listening beyond loopback: converter-out should be the only peer");
    }
    let limits = Limits {
        max_body_bytes: config.max_body_bytes,
        max_connections: config.max_connections,
        request_timeout: Duration::from_secs(config.request_timeout_secs),
    };
    let metrics = Arc::new(Metrics::default());
    Ok((
        addr,
        metrics.clone(),
        serve(listener, wallet, limits, metrics),
    ))
}

/// Why the wallet could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("opening store {path}: {source}")]
    Store {
        path: std::path::PathBuf,
        source: crate::StoreError,
    },
    #[error("store {path} cannot be written ({why}): refusing to serve, nothing could be signed or recorded: {source}")]
    Unwritable {
        path: std::path::PathBuf,
        why: &'static str,
        source: crate::StoreError,
    },
    #[error("binding {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// True for loopback listen addresses (the wallet warns when asked to listen elsewhere).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
