//! The frame side of converter-in: sends request frames on the link to the appliance and hands
//! each answer (or the verifier's NOTICE) to the call waiting for it, matched by client id and
//! counter.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use coldgate_link::{FrameEvent, FrameLink, LinkWriter};
use coldgate_spec::codec::{Body, Frame, Wire};
use coldgate_spec::MsgType;
use tokio::sync::oneshot;

use crate::hostile::Hostile;

/// Who a frame belongs to: answers echo their request's client id and counter.
pub type CallKey = (u32, u64);

/// How a call ended without an answer frame.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the link to the appliance is down")]
    LinkDown,
    #[error("a call with client id {0} and counter {1} is already waiting")]
    InFlight(u32, u64),
    #[error("{0} calls are already waiting")]
    Overloaded(usize),
    #[error("the request does not encode: {0}")]
    Unencodable(String),
}

/// One waiting call.
struct Waiter {
    /// The request type, to name the field a NOTICE points at.
    msg_type: MsgType,
    answer: oneshot::Sender<Frame>,
}

/// State shared by the HTTP side and the link reader.
pub struct Gateway {
    writer: LinkWriter,
    pending: Mutex<HashMap<CallKey, Waiter>>,
    max_pending: usize,
    hostile: Hostile,
    /// Frames already sent, for the hostile replay mode only.
    history: Mutex<VecDeque<Wire>>,
}

/// Removes a call's entry however the call ends (answer, timeout, or the HTTP side going away).
struct PendingGuard<'a> {
    gateway: &'a Gateway,
    key: CallKey,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.gateway.lock_pending().remove(&self.key);
    }
}

impl Gateway {
    /// Starts reading answers from `link` and returns the gateway.
    pub fn start(link: FrameLink, max_pending: usize, hostile: Hostile) -> Arc<Gateway> {
        let gateway = Arc::new(Gateway {
            writer: link.writer(),
            pending: Mutex::new(HashMap::new()),
            max_pending,
            hostile,
            history: Mutex::new(VecDeque::new()),
        });
        tokio::spawn(read_answers(link, Arc::clone(&gateway)));
        gateway
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<CallKey, Waiter>> {
        // A panic while holding the map cannot leave it inconsistent (single inserts and
        // removes), so a poisoned lock is still usable.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True while the link to the appliance is up.
    pub fn link_up(&self) -> bool {
        self.writer.is_up()
    }

    /// Calls waiting for answers.
    pub fn waiting(&self) -> usize {
        self.lock_pending().len()
    }

    /// Sends a request frame and waits for its answer frame: a wallet answer or a NOTICE.
    pub async fn call(&self, request: Frame, timeout: Duration) -> Result<Frame, CallFailure> {
        let wire = request
            .to_wire()
            .map_err(|e| CallFailure::Unencodable(e.to_string()))?;
        let (bytes, key) = self.hostile_rewrite(&request, &wire);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.lock_pending();
            if pending.contains_key(&key) {
                return Err(CallFailure::InFlight(key.0, key.1));
            }
            if pending.len() >= self.max_pending {
                return Err(CallFailure::Overloaded(pending.len()));
            }
            pending.insert(
                key,
                Waiter {
                    msg_type: request.body.msg_type(),
                    answer: tx,
                },
            );
        }
        let _guard = PendingGuard { gateway: self, key };
        // Down or stopped: either way nothing was sent.
        if self.writer.write(bytes).await.is_err() {
            return Err(CallFailure::LinkDown);
        }
        tracing::info!(
            client_id = request.client_id,
            counter = request.counter,
            r#type = %request.body.msg_type(),
            hop = "converter-in -> verifier",
            "request frame sent"
        );
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) | Err(_) => Err(CallFailure::Timeout(timeout)),
        }
    }

    /// What actually goes on the link, and the key its answer will carry.
    fn hostile_rewrite(&self, request: &Frame, wire: &Wire) -> (Bytes, CallKey) {
        let key = (request.client_id, request.counter);
        match self.hostile {
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
                let _ = w.answer.send(frame);
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

async fn read_answers(mut link: FrameLink, gateway: Arc<Gateway>) {
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
            FrameEvent::Up { peer } => tracing::info!(%peer, "connected to the appliance"),
            FrameEvent::Down { reason } => {
                tracing::warn!(%reason, "lost the appliance; reconnecting")
            }
        }
    }
    tracing::error!("the appliance link stopped");
}
