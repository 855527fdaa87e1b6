//! The frame side of converter-in: paces request frames to the verifier's token bucket, sends
//! each on a healthy link to an appliance, and hands each answer (or the verifier's NOTICE) to
//! the call waiting for it, matched by client id and counter.
//!
//! * **Order.** Calls are submitted synchronously ([`Gateway::submit`]) into one FIFO queue and
//!   leave it in that order; a client's calls go to one link (its "home", `client_id mod
//!   links`, while that link is up), and behind each link one appliance and one converter-out
//!   keep the order. So a client's counters reach the wallet in the order it sent them, the
//!   calls of one batch included.
//! * **Pacing.** The request lane passes bursts of [`RATE_BURST`] frames refilled at
//!   [`RATE_REFILL_HZ`]; anything beyond is dropped as `rate_limited`. The pacer keeps one
//!   bucket per link with the same refill and a slightly smaller depth, so it never sends a
//!   frame the verifier would drop for rate. Calls wait for a token in a bounded queue; when
//!   the queue is full a call is refused at once ([`CallFailure::Overloaded`]).
//! * **Fail fast.** When a link goes down, every call waiting on it is answered
//!   [`CallFailure::LinkLost`] at once, and new calls go to another link that is up; with none
//!   up, [`CallFailure::LinkDown`] at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use coldgate_link::{FrameEvent, FrameLink, LinkWriter};
use coldgate_spec::codec::{Body, Frame, Wire};
use coldgate_spec::config::{RATE_BURST, RATE_REFILL_HZ};
use coldgate_spec::MsgType;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::hostile::Hostile;
use crate::metrics::Metrics;

/// Who a frame belongs to: answers echo their request's client id and counter.
pub type CallKey = (u32, u64);

/// How a call ended without an answer frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("no link to an appliance is up; nothing was sent")]
    LinkDown,
    #[error("the link to the appliance ({0}) was lost while the call waited; the request may have reached the wallet")]
    LinkLost(String),
    #[error("a call with client id {0} and counter {1} is already waiting")]
    InFlight(u32, u64),
    #[error("overloaded: {0}")]
    Overloaded(String),
    #[error("the request does not encode: {0}")]
    Unencodable(String),
}

/// How converter-in paces frames to each appliance's request lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pacing {
    /// The verifier's bucket depth.
    pub burst: u32,
    /// The verifier's refill, tokens per second.
    pub refill_per_s: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            burst: RATE_BURST,
            refill_per_s: RATE_REFILL_HZ,
        }
    }
}

impl Pacing {
    /// Tokens converter-in allows itself: the verifier counts whole refill ticks from its own
    /// start while this bucket refills continuously from another start, so a few tokens are
    /// kept back to absorb the phase difference.
    pub fn depth(&self) -> f64 {
        let margin = (self.burst / 16).max(1);
        f64::from(self.burst.saturating_sub(margin).max(1))
    }
}

/// Limits of the frame side.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Calls sent and waiting for answers at once.
    pub max_pending: usize,
    /// Calls waiting for a token at once; more are refused with [`CallFailure::Overloaded`].
    pub queue: usize,
    pub pacing: Pacing,
    pub hostile: Hostile,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            max_pending: 256,
            queue: 256,
            pacing: Pacing::default(),
            hostile: Hostile::Off,
        }
    }
}

/// One waiting call.
struct Waiter {
    /// The request type, to name the field a NOTICE points at.
    msg_type: MsgType,
    /// The link it was sent on (`None` while it waits for a token).
    link: Option<usize>,
    answer: oneshot::Sender<Result<Frame, CallFailure>>,
}

/// A call on its way to the pacer.
struct Outgoing {
    key: CallKey,
    /// The client whose home link it prefers (the real one, even when a hostile replay sends
    /// another client's frame).
    client_id: u32,
    bytes: Bytes,
}

/// One link to an appliance.
struct Route {
    name: String,
    writer: LinkWriter,
}

/// State shared by the HTTP side, the pacer and the link readers.
pub struct Gateway {
    routes: Vec<Route>,
    pending: Mutex<HashMap<CallKey, Waiter>>,
    queue: mpsc::Sender<Outgoing>,
    config: GatewayConfig,
    metrics: Arc<Metrics>,
    /// Frames already sent, for the hostile replay mode only.
    history: Mutex<VecDeque<Wire>>,
}

/// A submitted call: its place in the queue is taken; [`Ticket::answer`] waits for the answer.
/// Dropping it withdraws the call (a queued call is then never sent).
pub struct Ticket {
    gateway: Arc<Gateway>,
    key: CallKey,
    rx: Option<oneshot::Receiver<Result<Frame, CallFailure>>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.gateway.lock_pending().remove(&self.key).is_some() {
            self.gateway.metrics.waiting.dec();
        }
    }
}

impl Ticket {
    /// The answer frame (a wallet answer or a NOTICE), or why there is none.
    pub async fn answer(mut self, timeout: Duration) -> Result<Frame, CallFailure> {
        let Some(rx) = self.rx.take() else {
            return Err(CallFailure::LinkDown);
        };
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(r)) => r,
            // Removed without an answer: only a link loss does that.
            Ok(Err(_)) => Err(CallFailure::LinkLost("unknown".into())),
            Err(_) => Err(CallFailure::Timeout(timeout)),
        }
    }
}

impl Gateway {
    /// Starts the pacer and one reader per link, and returns the gateway.
    pub fn start(
        links: Vec<FrameLink>,
        config: GatewayConfig,
        metrics: Arc<Metrics>,
    ) -> Arc<Gateway> {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let routes = links
            .iter()
            .map(|l| Route {
                name: l.link().spec().to_string(),
                writer: l.writer(),
            })
            .collect();
        let gateway = Arc::new(Gateway {
            routes,
            pending: Mutex::new(HashMap::new()),
            queue: tx,
            config,
            metrics,
            history: Mutex::new(VecDeque::new()),
        });
        for (i, link) in links.into_iter().enumerate() {
            let route = &gateway.routes[i].name;
            gateway
                .metrics
                .link_up
                .get_or_create(&gateway.metrics.link(route))
                .set(0);
            tokio::spawn(read_answers(link, i, Arc::clone(&gateway)));
        }
        tokio::spawn(pace(rx, Arc::downgrade(&gateway)));
        gateway
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<CallKey, Waiter>> {
        // A panic while holding the map cannot leave it inconsistent (single inserts and
        // removes), so a poisoned lock is still usable.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True while at least one link to an appliance is up.
    pub fn link_up(&self) -> bool {
        self.routes.iter().any(|r| r.writer.is_up())
    }

    /// Each link's spec and whether it is up.
    pub fn links(&self) -> Vec<(String, bool)> {
        self.routes
            .iter()
            .map(|r| (r.name.clone(), r.writer.is_up()))
            .collect()
    }

    /// Calls submitted and not yet answered (queued or sent).
    pub fn waiting(&self) -> usize {
        self.lock_pending().len()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Sends a request frame and waits for its answer frame: a wallet answer or a NOTICE.
    pub async fn call(
        self: &Arc<Self>,
        request: Frame,
        timeout: Duration,
    ) -> Result<Frame, CallFailure> {
        self.submit(&request)?.answer(timeout).await
    }

    /// Queues a request frame behind every call submitted before it. Refuses at once when no
    /// link is up, the same call is already waiting, or the queue is full.
    pub fn submit(self: &Arc<Self>, request: &Frame) -> Result<Ticket, CallFailure> {
        let wire = request
            .to_wire()
            .map_err(|e| CallFailure::Unencodable(e.to_string()))?;
        if !self.link_up() {
            return Err(CallFailure::LinkDown);
        }
        let (bytes, key) = self.hostile_rewrite(request, &wire);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.lock_pending();
            if pending.contains_key(&key) {
                return Err(CallFailure::InFlight(key.0, key.1));
            }
            if pending.len() >= self.config.max_pending {
                return Err(CallFailure::Overloaded(format!(
                    "{} calls are already waiting",
                    pending.len()
                )));
            }
            let out = Outgoing {
                key,
                client_id: request.client_id,
                bytes,
            };
            // Under the lock, so queue order is submission order.
            if self.queue.try_send(out).is_err() {
                return Err(CallFailure::Overloaded(format!(
                    "{} calls are already queued for the verifier",
                    self.config.queue
                )));
            }
            pending.insert(
                key,
                Waiter {
                    msg_type: request.body.msg_type(),
                    link: None,
                    answer: tx,
                },
            );
        }
        self.metrics.queue_depth.inc();
        self.metrics.waiting.inc();
        Ok(Ticket {
            gateway: Arc::clone(self),
            key,
            rx: Some(rx),
        })
    }

    /// The link a client's call goes on: its home link when up, else the next one up.
    fn pick(&self, client_id: u32) -> Option<usize> {
        let n = self.routes.len();
        if n == 0 {
            return None;
        }
        let home = client_id as usize % n;
        (0..n)
            .map(|k| (home + k) % n)
            .find(|&i| self.routes[i].writer.is_up())
    }

    /// Ends a call without an answer frame.
    fn fail(&self, key: CallKey, why: CallFailure) {
        if let Some(w) = self.lock_pending().remove(&key) {
            self.metrics.waiting.dec();
            let _ = w.answer.send(Err(why));
        }
    }

    /// Ends every call sent on link `i`: the link is gone, so their answers cannot come.
    fn lose_link(&self, i: usize) {
        let lost: Vec<Waiter> = {
            let mut pending = self.lock_pending();
            let keys: Vec<CallKey> = pending
                .iter()
                .filter(|(_, w)| w.link == Some(i))
                .map(|(k, _)| *k)
                .collect();
            keys.iter().filter_map(|k| pending.remove(k)).collect()
        };
        if lost.is_empty() {
            return;
        }
        let name = &self.routes[i].name;
        tracing::warn!(link = %name, calls = lost.len(), "link lost: answering its waiting calls at once");
        let label = self.metrics.link(name);
        for w in lost {
            self.metrics.waiting.dec();
            self.metrics
                .calls_lost_with_link
                .get_or_create(&label)
                .inc();
            let _ = w.answer.send(Err(CallFailure::LinkLost(name.clone())));
        }
    }

    /// Marks a queued call as sent on link `i`; false when it was withdrawn meanwhile.
    fn mark_sent(&self, key: CallKey, i: usize) -> bool {
        match self.lock_pending().get_mut(&key) {
            Some(w) => {
                w.link = Some(i);
                true
            }
            None => false,
        }
    }

    /// What actually goes on the link, and the key its answer will carry.
    fn hostile_rewrite(&self, request: &Frame, wire: &Wire) -> (Bytes, CallKey) {
        let key = (request.client_id, request.counter);
        match self.config.hostile {
            Hostile::Off => (Bytes::copy_from_slice(wire), key),
            Hostile::Mutate => {
                let altered = crate::hostile::mutate(request);
                tracing::warn!(
                    hostile = "mutate",
                    client_id = key.0,
                    counter = key.1,
                    "HOSTILE: altered a field of the client's frame (CRC kept valid)"
                );
                (Bytes::copy_from_slice(&altered), key)
            }
            Hostile::Inject => {
                let mut out = BytesMut::new();
                out.extend_from_slice(&crate::hostile::GARBAGE);
                out.extend_from_slice(&crate::hostile::break_crc(wire));
                tracing::warn!(
                    hostile = "inject",
                    client_id = key.0,
                    counter = key.1,
                    "HOSTILE: injected garbage and a malformed frame"
                );
                (out.freeze(), key)
            }
            Hostile::Replay => {
                let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
                let earlier = history.front().copied();
                history.push_back(*wire);
                while history.len() > 16 {
                    history.pop_front();
                }
                match earlier.and_then(|w| Frame::decode(&w).ok().map(|f| (w, f))) {
                    Some((w, f)) => {
                        tracing::warn!(
                            hostile = "replay",
                            client_id = f.client_id,
                            counter = f.counter,
                            "HOSTILE: replayed an earlier frame instead of the client's"
                        );
                        (Bytes::copy_from_slice(&w), (f.client_id, f.counter))
                    }
                    None => (Bytes::copy_from_slice(wire), key),
                }
            }
        }
    }

    fn deliver(&self, frame: Frame) {
        let key = (frame.client_id, frame.counter);
        let waiter = self.lock_pending().remove(&key);
        match waiter {
            Some(w) => {
                self.metrics.waiting.dec();
                if let Body::Notice(n) = frame.body {
                    let field = coldgate_spec::field::fields(Some(n.lane), w.msg_type)
                        .get(n.field as usize)
                        .map(|f| f.name)
                        .unwrap_or("-");
                    tracing::warn!(client_id = key.0, counter = key.1, reason = %n.reason, field, hop = "verifier -> converter-in", "request dropped by the verifier");
                } else {
                    tracing::info!(client_id = key.0, counter = key.1, r#type = %frame.body.msg_type(), hop = "verifier -> converter-in", "answer frame received");
                }
                // The call may have timed out just now; then nobody listens any more.
                let _ = w.answer.send(Ok(frame));
            }
            None => tracing::warn!(
                client_id = key.0,
                counter = key.1,
                r#type = %frame.body.msg_type(),
                "answer for no waiting call (late, replayed or not ours); ignored"
            ),
        }
    }
}

/// A token bucket that refills continuously.
struct Bucket {
    tokens: f64,
    depth: f64,
    per_s: f64,
    last: Instant,
}

impl Bucket {
    fn new(p: &Pacing) -> Bucket {
        Bucket {
            tokens: p.depth(),
            depth: p.depth(),
            per_s: f64::from(p.refill_per_s.max(1)),
            last: Instant::now(),
        }
    }

    /// Waits for one token and takes it.
    async fn take(&mut self) {
        loop {
            let now = Instant::now();
            let earned = now.duration_since(self.last).as_secs_f64() * self.per_s;
            self.tokens = (self.tokens + earned).min(self.depth);
            self.last = now;
            if self.tokens >= 1.0 {
                self.tokens -= 1.0;
                return;
            }
            let wait = (1.0 - self.tokens) / self.per_s;
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

/// Takes queued calls in order, waits for a token of the chosen link, and writes the frame.
async fn pace(mut queue: mpsc::Receiver<Outgoing>, gateway: Weak<Gateway>) {
    let mut buckets: Vec<Bucket> = Vec::new();
    while let Some(out) = queue.recv().await {
        let Some(g) = gateway.upgrade() else { return };
        g.metrics.queue_depth.dec();
        if buckets.is_empty() {
            buckets = g
                .routes
                .iter()
                .map(|_| Bucket::new(&g.config.pacing))
                .collect();
        }
        if !g.lock_pending().contains_key(&out.key) {
            continue; // withdrawn while queued
        }
        let Some(i) = g.pick(out.client_id) else {
            g.fail(out.key, CallFailure::LinkDown);
            continue;
        };
        buckets[i].take().await;
        if !g.mark_sent(out.key, i) {
            continue;
        }
        let route = &g.routes[i];
        // Down or stopped: nothing was sent.
        if route.writer.write(out.bytes).await.is_err() {
            g.fail(out.key, CallFailure::LinkDown);
            continue;
        }
        g.metrics
            .frames_sent
            .get_or_create(&g.metrics.link(&route.name))
            .inc();
        tracing::info!(
            client_id = out.key.0,
            counter = out.key.1,
            link = %route.name,
            hop = "converter-in -> verifier",
            "request frame sent"
        );
    }
}

async fn read_answers(mut link: FrameLink, i: usize, gateway: Arc<Gateway>) {
    let name = gateway.routes[i].name.clone();
    let up = gateway
        .metrics
        .link_up
        .get_or_create(&gateway.metrics.link(&name))
        .clone();
    while let Some(ev) = link.recv().await {
        match ev {
            FrameEvent::Frame(wire) => match Frame::decode(&wire[..]) {
                Ok(frame) => match frame.body {
                    Body::Notice(n) if !n.readable => tracing::warn!(
                        reason = %n.reason, field = n.field,
                        "the verifier dropped a frame whose header was unreadable; no call to match"
                    ),
                    _ if frame.body.msg_type().is_request() => tracing::warn!(
                        r#type = %frame.body.msg_type(),
                        "request frame arrived from the appliance; ignored"
                    ),
                    _ => gateway.deliver(frame),
                },
                Err(e) => tracing::warn!(error = %e, "undecodable frame from the appliance"),
            },
            FrameEvent::Invalid(e) => {
                tracing::warn!(error = %e, "invalid bytes from the appliance skipped")
            }
            FrameEvent::Up { peer } => {
                up.set(1);
                tracing::info!(link = %name, %peer, "connected to the appliance")
            }
            FrameEvent::Down { reason } => {
                up.set(0);
                tracing::warn!(link = %name, %reason, "lost the appliance; reconnecting");
                gateway.lose_link(i);
            }
        }
    }
    up.set(0);
    gateway.lose_link(i);
    tracing::error!(link = %name, "the appliance link stopped");
}
