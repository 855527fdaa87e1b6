//! What the wallet tells Prometheus: requests by type and outcome, how long the wallet took to
//! decide each one, and whether its store still takes writes.
//!
//! Outcomes are the answer frame's type, and for a REJECT its reason, so an operator sees a
//! policy limit being hit or a client sending bad tags without reading the audit log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use coldgate_spec::{Body, Frame, RejectReason};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabel {
    /// The request's message type (`sign_payment`, ...).
    pub method: String,
    /// The answer's type (`signature`, `held`, ...) or `reject:REASON`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    pub method: String,
}

fn decision_histogram() -> Histogram {
    // 50 µs to about 3 s: a getpubkey is tens of µs, a signature with its fsync a few ms.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the wallet keeps; shared by the HTTP front and the metrics listener.
pub struct Metrics {
    pub requests: Family<RequestLabel, Counter>,
    pub decision_seconds: Family<MethodLabel, Histogram, fn() -> Histogram>,
    /// 1 while the store takes writes; 0 after a request was refused as `store_unavailable`.
    pub store_writable: Gauge,
    writable: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            requests: Family::default(),
            decision_seconds: Family::new_with_constructor(decision_histogram),
            store_writable: Gauge::default(),
            writable: AtomicBool::new(true),
        };
        m.store_writable.set(1);
        m
    }
}

/// The outcome label of an answer frame.
pub fn outcome(answer: &Frame) -> String {
    match &answer.body {
        Body::Reject { reason } => format!("reject:{}", reason.name()),
        body => body.msg_type().name().to_string(),
    }
}

impl Metrics {
    /// Counts one decided request.
    pub fn observe(&self, request: &Frame, answer: &Frame, took: Duration) {
        let method = request.body.msg_type().name().to_string();
        self.requests
            .get_or_create(&RequestLabel {
                method: method.clone(),
                outcome: outcome(answer),
            })
            .inc();
        self.decision_seconds
            .get_or_create(&MethodLabel { method })
            .observe(took.as_secs_f64());
        let writable = !matches!(
            answer.body,
            Body::Reject {
                reason: RejectReason::StoreUnavailable
            }
        );
        self.writable.store(writable, Ordering::Relaxed);
        self.store_writable.set(i64::from(writable));
    }

    /// False after the last request was refused because the store could not be written.
    pub fn store_writable(&self) -> bool {
        self.writable.load(Ordering::Relaxed)
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "requests",
            "Requests by message type and outcome (answer type or reject reason)",
            self.requests.clone(),
        );
        registry.register(
            "decision_seconds",
            "Time from a request's body to its committed answer",
            self.decision_seconds.clone(),
        );
        registry.register(
            "store_writable",
            "1 while the store takes writes",
            self.store_writable.clone(),
        );
    }
}
