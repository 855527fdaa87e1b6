//! Keep-alive connections to the wallet's JSON-RPC endpoint.
//!
//! A connection per call costs a connect, an accept and a connection task on the wallet on
//! every call; the wallet keeps HTTP/1.1 connections alive, so the pool keeps the ones it
//! left open and reuses the most recently used one. At most [`PoolConfig::max_idle`] wait
//! idle (one per call in flight is all that can be in use at once).
//!
//! **Never sent twice.** A request goes out again, on another connection, only when hyper
//! hands it back unsent: the pooled connection turned out to be closed before any byte of the
//! request was written. Once some of it may have been written, a failure is the call's
//! failure, reported as [`CallError::Http`] and never retried here: the wallet may have acted
//! on it, and the same frame sent again would meet its own counter (a REJECT for a read, the
//! recorded outcome for a payment). The client recovers such an outcome with a new counter
//! (`paymentstatus`), as for any lost answer.
//!
//! **Idle limit.** An idle connection is closed after [`PoolConfig::idle`] (by the next call
//! or by [`WalletPool::spawn_reaper`]'s sweep), well before the wallet closes it (its request timeout runs while a connection waits for a request, one
//! second at least), so the pool does not hand out a connection the wallet is closing at that
//! very moment; a connection closed meanwhile anyway (the wallet restarted) is noticed before
//! the request is written and replaced.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use coldgate_converter_in::rpc::{self, CallError, Endpoint};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Method as HttpMethod, Request};
use hyper_util::rt::TokioIo;
use prometheus_client::metrics::counter::Counter;
use serde_json::Value;
use tokio::net::TcpStream;

/// How the pool keeps connections.
#[derive(Clone, Copy, Debug)]
pub struct PoolConfig {
    /// Idle connections kept at most.
    pub max_idle: usize,
    /// Longest an idle connection is kept.
    pub idle: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_idle: 64,
            idle: DEFAULT_IDLE,
        }
    }
}

/// Half the shortest request timeout the wallet accepts (1 s): the wallet closes a connection
/// that waits that long for a request.
pub const DEFAULT_IDLE: Duration = Duration::from_millis(500);

/// One idle connection: its request sender (dropping it closes the connection).
struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

/// Keep-alive connections to one wallet endpoint.
pub struct WalletPool {
    endpoint: Endpoint,
    config: PoolConfig,
    /// Most recently used last.
    idle: Mutex<Vec<Idle>>,
    /// Connections opened, for the metrics.
    opened: Counter,
}

impl WalletPool {
    pub fn new(endpoint: Endpoint, config: PoolConfig) -> WalletPool {
        WalletPool {
            endpoint,
            config,
            idle: Mutex::new(Vec::new()),
            opened: Counter::default(),
        }
    }

    /// Counts each connection opened on `counter` (a metric) from now on.
    pub fn count_connections_on(mut self, counter: Counter) -> WalletPool {
        self.opened = counter;
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Connections opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.opened.get()
    }

    /// Idle connections kept now (closed ones and those past the idle limit are dropped
    /// first).
    pub fn idle_connections(&self) -> usize {
        let mut idle = self.lock();
        self.prune(&mut idle);
        idle.len()
    }

    fn prune(&self, idle: &mut Vec<Idle>) {
        let limit = self.config.idle;
        idle.retain(|c| c.since.elapsed() < limit && !c.sender.is_closed());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // Only pushes and pops happen under the lock: a poisoned list is still a list.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recently used idle connection that is not too old; older ones are dropped.
    fn take(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.lock();
        self.prune(&mut idle);
        idle.pop().map(|c| c.sender)
    }

    fn put_back(&self, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self.lock();
        if idle.len() < self.config.max_idle {
            idle.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, CallError> {
        let stream = TcpStream::connect(&self.endpoint.authority)
            .await
            .map_err(|error| CallError::Connect {
                endpoint: self.endpoint.to_string(),
                error,
            })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| CallError::Http(e.to_string()))?;
        self.opened.inc();
        // Ends when the connection closes or its sender is dropped.
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "wallet connection ended");
            }
        });
        Ok(sender)
    }

    fn request(&self, body: Bytes) -> Result<Request<Full<Bytes>>, CallError> {
        Request::builder()
            .method(HttpMethod::POST)
            .uri(&self.endpoint.path)
            .header(HOST, &self.endpoint.authority)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_LENGTH, body.len())
            .body(Full::new(body))
            .map_err(|e| CallError::Http(e.to_string()))
    }

    /// POSTs `body` and returns the status and body of the answer.
    pub async fn post(
        &self,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(hyper::StatusCode, Bytes), CallError> {
        // A timeout drops the exchange and with it its connection (never put back half-used).
        tokio::time::timeout(timeout, self.exchange(Bytes::from(body)))
            .await
            .map_err(|_| CallError::Timeout(timeout))?
    }

    async fn exchange(&self, body: Bytes) -> Result<(hyper::StatusCode, Bytes), CallError> {
        let mut request = self.request(body)?;
        loop {
            let (mut sender, pooled) = match self.take() {
                Some(s) => (s, true),
                None => (self.connect().await?, false),
            };
            if let Err(e) = sender.ready().await {
                if pooled {
                    continue; // closed while idle: nothing was written on it
                }
                return Err(CallError::Http(e.to_string()));
            }
            let response = match sender.try_send_request(request).await {
                Ok(r) => r,
                Err(mut e) => match e.take_message() {
                    // Handed back unsent: no byte of it reached the wallet.
                    Some(unsent) if pooled => {
                        tracing::debug!(error = %e.error(), "pooled wallet connection closed; sending on another");
                        request = unsent;
                        continue;
                    }
                    _ => {
                        return Err(CallError::Http(format!(
                            "{} (the request may have reached the wallet; not sent again)",
                            e.error()
                        )))
                    }
                },
            };
            let status = response.status();
            let body = Limited::new(response.into_body(), rpc::MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| CallError::Http(e.to_string()))?
                .to_bytes();
            // Whole answer read: the connection is free again (hyper closes it if the wallet
            // said `Connection: close`; `take` then finds it closed).
            self.put_back(sender);
            return Ok((status, body));
        }
    }

    /// Closes idle connections past the idle limit every half limit, for as long as the pool
    /// lives, so a quiet converter-out does not hold the wallet's connection slots (the
    /// wallet takes a fixed number of connections and sheds the rest).
    pub fn spawn_reaper(pool: &Arc<WalletPool>) {
        let weak = Arc::downgrade(pool);
        let every = (pool.config.idle / 2).max(Duration::from_millis(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(pool) = weak.upgrade() else { return };
                pool.idle_connections();
            }
        });
    }

    /// Calls one method on the wallet; the result, or the wallet's error as [`CallError::Rpc`].
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        id: u64,
        timeout: Duration,
    ) -> Result<Value, CallError> {
        let (status, body) = self
            .post(rpc::request_body(method, params, id), timeout)
            .await?;
        rpc::read_answer(status, &body, id)
    }
}
