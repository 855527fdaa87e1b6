//! converter-out: the wallet-facing side of the coldgate gateway.
//!
//! It reads the frames the verifier passed (the appliance's trusted side), calls the wallet's
//! JSON-RPC with each request frame's JSON form as `params` (methods and codes in
//! [`coldgate_converter_in::rpc`]), checks that the wallet's result is an answer frame for the
//! same client id and counter, and writes that frame back to the appliance, whose response
//! lane checks it on its way to the client.
//!
//! One client's requests are handled one after another, in arrival order, so the wallet sees
//! each client's counters in the order the client sent them; different clients' requests run
//! concurrently, at most [`Config::max_in_flight`] at once, on keep-alive connections to the
//! wallet ([`pool`]: a request is never sent twice). It may serve several links (one
//! per appliance); each answer goes back on the link its request came from. A request the
//! wallet does not answer in time,
//! or answers with something that is not a frame, gets no answer frame: converter-out cannot
//! tag one, and the client's call times out. NOTICEs from the response lane (the verifier
//! dropped one of our answers) and anything else it cannot map are logged.

#![forbid(unsafe_code)]

pub mod metrics;
pub mod pool;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coldgate_converter_in::rpc::{self, CallError, Endpoint, Method};
use coldgate_link::{FrameEvent, FrameLink, LinkWriter};
use coldgate_spec::codec::{Body, Frame, Wire};
use coldgate_spec::json::{from_json, to_json};
use serde_json::Value;

pub use pool::{PoolConfig, WalletPool};

/// Why a request got no answer frame.
#[derive(Debug, thiserror::Error)]
pub enum Unanswered {
    #[error("a {0} frame is not a request")]
    NotARequest(coldgate_spec::MsgType),
    /// The cause is in the message and deliberately not the error's source, so that a report
    /// walking the chain (`{:#}`) does not print it twice.
    #[error("wallet call failed: {0}")]
    Call(CallError),
    #[error("wallet result is not a frame: {0}")]
    NotAFrame(String),
    #[error("wallet answered {got} to a {method} call")]
    WrongType {
        method: &'static str,
        got: coldgate_spec::MsgType,
    },
    #[error(
        "wallet answer is for client {got_client} counter {got_counter}, not {client} {counter}"
    )]
    WrongCall {
        client: u32,
        counter: u64,
        got_client: u32,
        got_counter: u64,
    },
    #[error("answer frame does not encode: {0}")]
    Encode(String),
}

impl From<CallError> for Unanswered {
    fn from(e: CallError) -> Unanswered {
        Unanswered::Call(e)
    }
}

/// The wallet's answer frame for one verified request frame, on a connection of its own (a
/// client calling the wallet directly does the same; converter-out itself uses
/// [`answer_pooled`]).
pub async fn answer(
    request: &Frame,
    wallet: &Endpoint,
    id: u64,
    timeout: Duration,
) -> Result<Wire, Unanswered> {
    let method = calling(request)?;
    let result = rpc::call(wallet, method.name(), to_json(request), id, timeout).await?;
    answer_frame(request, method, &result)
}

/// The wallet's answer frame for one verified request frame, on a keep-alive connection of
/// `pool`.
pub async fn answer_pooled(
    request: &Frame,
    pool: &WalletPool,
    id: u64,
    timeout: Duration,
) -> Result<Wire, Unanswered> {
    let method = calling(request)?;
    let result = pool
        .call(method.name(), to_json(request), id, timeout)
        .await?;
    answer_frame(request, method, &result)
}

/// The method a request frame calls (logged as the hop to the wallet).
fn calling(request: &Frame) -> Result<Method, Unanswered> {
    let t = request.body.msg_type();
    let method = Method::for_type(t).ok_or(Unanswered::NotARequest(t))?;
    tracing::info!(
        client_id = request.client_id,
        counter = request.counter,
        method = method.name(),
        hop = "converter-out -> wallet",
        "calling the wallet"
    );
    Ok(method)
}

/// The wallet's result as the answer frame to `request`, checked to be one.
fn answer_frame(request: &Frame, method: Method, result: &Value) -> Result<Wire, Unanswered> {
    let frame = from_json(result).map_err(|e| Unanswered::NotAFrame(e.to_string()))?;
    let got = frame.body.msg_type();
    if !method.answers().contains(&got) {
        return Err(Unanswered::WrongType {
            method: method.name(),
            got,
        });
    }
    if (frame.client_id, frame.counter) != (request.client_id, request.counter) {
        return Err(Unanswered::WrongCall {
            client: request.client_id,
            counter: request.counter,
            got_client: frame.client_id,
            got_counter: frame.counter,
        });
    }
    frame
        .to_wire()
        .map_err(|e| Unanswered::Encode(e.to_string()))
}

/// How converter-out calls the wallet.
#[derive(Clone, Debug)]
pub struct Config {
    pub wallet: Endpoint,
    /// Longest wait for one wallet call.
    pub timeout: Duration,
    /// Wallet calls in flight at once (one client's calls are never concurrent).
    pub max_in_flight: usize,
    /// Keep-alive connections to the wallet.
    pub pool: PoolConfig,
}

/// Keeps each client's requests in order while different clients run concurrently: every
/// request waits for the one before it from the same client.
#[derive(Default)]
struct Chains {
    /// Per client: the sequence number of its latest request and a receiver that resolves
    /// when that request is done.
    tails: HashMap<u32, (u64, tokio::sync::watch::Receiver<bool>)>,
    next: u64,
}

/// Shared by every link's reader.
struct Dispatcher {
    config: Config,
    pool: Arc<WalletPool>,
    chains: Mutex<Chains>,
    slots: Arc<tokio::sync::Semaphore>,
    metrics: Arc<metrics::Metrics>,
    id: std::sync::atomic::AtomicU64,
}

impl Dispatcher {
    fn lock(&self) -> std::sync::MutexGuard<'_, Chains> {
        self.chains.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Joins the client's chain: the previous request's "done" signal, this one's sender,
    /// and its sequence number.
    fn join(
        &self,
        client: u32,
    ) -> (
        Option<tokio::sync::watch::Receiver<bool>>,
        tokio::sync::watch::Sender<bool>,
        u64,
    ) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut c = self.lock();
        c.next += 1;
        let seq = c.next;
        let prev = c.tails.insert(client, (seq, rx)).map(|(_, r)| r);
        (prev, tx, seq)
    }

    /// Forgets the client's chain when this request was its last one.
    fn leave(&self, client: u32, seq: u64) {
        let mut c = self.lock();
        if c.tails.get(&client).is_some_and(|(s, _)| *s == seq) {
            c.tails.remove(&client);
        }
    }
}

/// Serves one trusted link until it stops (the single-link form of [`serve`]).
pub async fn run(link: FrameLink, wallet: Endpoint, timeout: Duration) {
    let config = Config {
        wallet,
        timeout,
        max_in_flight: 64,
        pool: PoolConfig::default(),
    };
    serve(vec![link], config, Arc::new(metrics::Metrics::default())).await
}

/// Serves every trusted link until all have stopped.
pub async fn serve(links: Vec<FrameLink>, config: Config, metrics: Arc<metrics::Metrics>) {
    let pool = WalletPool::new(
        config.wallet.clone(),
        PoolConfig {
            max_idle: config.pool.max_idle.min(config.max_in_flight.max(1)),
            ..config.pool
        },
    )
    .count_connections_on(metrics.wallet_connections.clone());
    let pool = Arc::new(pool);
    WalletPool::spawn_reaper(&pool);
    let d = Arc::new(Dispatcher {
        slots: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight.max(1))),
        config,
        pool,
        chains: Mutex::new(Chains::default()),
        metrics,
        id: std::sync::atomic::AtomicU64::new(0),
    });
    let mut readers = tokio::task::JoinSet::new();
    for link in links {
        readers.spawn(read_link(link, Arc::clone(&d)));
    }
    while readers.join_next().await.is_some() {}
}

async fn read_link(mut link: FrameLink, d: Arc<Dispatcher>) {
    let writer = link.writer();
    let name = link.link().spec().to_string();
    let up = d
        .metrics
        .link_up
        .get_or_create(&d.metrics.link(&name))
        .clone();
    up.set(0);
    while let Some(ev) = link.recv().await {
        let wire = match ev {
            FrameEvent::Frame(w) => w,
            FrameEvent::Invalid(e) => {
                tracing::warn!(error = %e, "invalid bytes from the appliance skipped");
                continue;
            }
            FrameEvent::Up { peer } => {
                up.set(1);
                tracing::info!(link = %name, %peer, "connected to the appliance");
                continue;
            }
            FrameEvent::Down { reason } => {
                up.set(0);
                tracing::warn!(link = %name, %reason, "lost the appliance; reconnecting");
                continue;
            }
        };
        let frame = match Frame::decode(&wire[..]) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable frame from the appliance");
                continue;
            }
        };
        if let Body::Notice(n) = frame.body {
            d.metrics.notices.inc();
            tracing::warn!(
                client_id = frame.client_id,
                counter = frame.counter,
                reason = %n.reason,
                field = n.field,
                lane = %n.lane,
                readable = n.readable,
                "the verifier dropped one of the wallet's answers"
            );
            continue;
        }
        tracing::info!(
            client_id = frame.client_id,
            counter = frame.counter,
            r#type = %frame.body.msg_type(),
            hop = "verifier -> converter-out",
            "verified request frame received"
        );
        // Taken here, in arrival order, so the head of every client's chain holds a slot.
        let Ok(slot) = Arc::clone(&d.slots).acquire_owned().await else {
            return;
        };
        let (prev, done, seq) = d.join(frame.client_id);
        let (d2, writer) = (Arc::clone(&d), writer.clone());
        tokio::spawn(async move {
            if let Some(mut prev) = prev {
                // Resolves when the previous request finishes (or its task is gone).
                let _ = prev.wait_for(|done| *done).await;
            }
            d2.metrics.in_flight.inc();
            handle(&d2, &frame, &writer).await;
            d2.metrics.in_flight.dec();
            let _ = done.send(true);
            d2.leave(frame.client_id, seq);
            drop(slot);
        });
    }
    up.set(0);
    tracing::error!(link = %name, "the appliance link stopped");
}

/// Calls the wallet for one verified request and writes its answer frame back.
async fn handle(d: &Dispatcher, frame: &Frame, writer: &LinkWriter) {
    let id = d.id.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let started = Instant::now();
    let method = Method::for_type(frame.body.msg_type()).map_or("-", Method::name);
    let result = answer_pooled(frame, &d.pool, id, d.config.timeout).await;
    d.metrics
        .observe(method, started.elapsed(), result.as_ref().err());
    match result {
        Ok(answer) => {
            let t = coldgate_spec::MsgType::from_u8(
                answer[coldgate_spec::field::header::MSG_TYPE.start],
            )
            .map(|t| t.name())
            .unwrap_or("-");
            match writer.write_frame(&answer).await {
                Ok(()) => tracing::info!(
                    client_id = frame.client_id,
                    counter = frame.counter,
                    r#type = t,
                    hop = "converter-out -> verifier",
                    "answer frame sent"
                ),
                Err(e) => tracing::error!(
                    client_id = frame.client_id,
                    counter = frame.counter,
                    error = %e,
                    "answer lost: the link is down"
                ),
            }
        }
        Err(e) => tracing::error!(
            client_id = frame.client_id,
            counter = frame.counter,
            error = %e,
            "no answer frame for this request"
        ),
    }
}
