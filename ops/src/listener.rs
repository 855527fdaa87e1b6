//! The health and metrics listener: `GET /metrics` (Prometheus text format) and `GET /health`
//! (200 when the service can do its job, 503 otherwise, with a JSON body saying why).
//!
//! It runs on its own address, apart from the traffic the service carries: scraping needs no
//! access to the client-facing port, and a flood there does not hide the numbers.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use serde_json::Value;
use tokio::net::TcpListener;

/// What `/health` says.
#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    /// The service can do its job (e.g. at least one link is up).
    pub ok: bool,
    /// Details for people, e.g. each link's state.
    pub detail: Value,
}

/// Computes the service's health at request time.
pub type HealthFn = Arc<dyn Fn() -> Health + Send + Sync>;

/// Content type of the Prometheus text format the registry encodes.
const METRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn reply(status: StatusCode, kind: &'static str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, kind)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn answer(
    req: &Request<Incoming>,
    registry: &Registry,
    health: &HealthFn,
) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    match req.uri().path() {
        "/metrics" => {
            let mut text = String::new();
            match prometheus_client::encoding::text::encode(&mut text, registry) {
                Ok(()) => reply(StatusCode::OK, METRICS_TYPE, text),
                Err(e) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("encoding metrics: {e}\n"),
                ),
            }
        }
        "/health" => {
            let h = health();
            let status = if h.ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let body = serde_json::json!({"ok": h.ok, "detail": h.detail}).to_string() + "\n";
            reply(status, "application/json", body)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "try /metrics or /health\n".into(),
        ),
    }
}

/// Binds `addr` and prints `NAME metrics listening on http://ADDR` (scripts and tests read it).
pub async fn bind(name: &str, addr: &str) -> anyhow::Result<TcpListener> {
    use anyhow::Context as _;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics listener {addr}"))?;
    let local = listener.local_addr().context("metrics address")?;
    tracing::info!(%local, "serving /metrics and /health");
    // Not println!: a service whose stdout was closed (its starter read the first line and
    // left) must not panic here.
    use std::io::Write as _;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{name} metrics listening on http://{local}");
    let _ = out.flush();
    Ok(listener)
}

/// Serves `/metrics` and `/health` for ever (one request per connection, a short head timeout).
pub async fn serve(listener: TcpListener, registry: Arc<Registry>, health: HealthFn) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (registry, health) = (Arc::clone(&registry), Arc::clone(&health));
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let r = answer(&req, &registry, &health);
                async move { Ok::<_, std::convert::Infallible>(r) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(2))
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
        });
    }
}
