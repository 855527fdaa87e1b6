//! What converter-in tells Prometheus: calls and errors by code, latency, the pacing queue,
//! waiting calls, each link's state, and the front door's connections.
//!
//! Served on a listener of its own (`coldgate_ops::listener`), never on the JSON-RPC port, so a
//! scrape needs no access to the client-facing side and a flood there cannot hide the numbers.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The JSON-RPC error code (`-32004`), as Prometheus labels are strings.
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LinkLabel {
    pub link: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

type HistogramFamily = Family<MethodLabel, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 100 us to about 26 s: a loopback call, and a call that waited out a full queue.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 19))
}

/// Every metric converter-in keeps.
pub struct Metrics {
    /// Calls answered, by method (errors included).
    pub calls: Family<MethodLabel, Counter>,
    /// Calls answered with a JSON-RPC error, by code.
    pub errors: Family<CodeLabel, Counter>,
    /// Seconds from a call's arrival to its answer, by method.
    pub latency: HistogramFamily,
    /// Calls waiting for a verifier token (the pacing queue).
    pub queue_depth: Gauge,
    /// Calls sent and waiting for their answer frame.
    pub waiting: Gauge,
    /// 1 while a link to an appliance is up.
    pub link_up: Family<LinkLabel, Gauge>,
    /// Frames written on each link.
    pub frames_sent: Family<LinkLabel, Counter>,
    /// Calls that lost their link while waiting (answered -32004 at once).
    pub calls_lost_with_link: Family<LinkLabel, Counter>,
    /// Open client connections.
    pub connections: Gauge,
    /// Connections closed by the front door, by reason (per-peer cap, evicted idle, idle
    /// timeout, request count reached).
    pub connections_closed: Family<ReasonLabel, Counter>,
    /// Requests refused by HTTP authentication.
    pub unauthorized: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            calls: Family::default(),
            errors: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            queue_depth: Gauge::default(),
            waiting: Gauge::default(),
            link_up: Family::default(),
            frames_sent: Family::default(),
            calls_lost_with_link: Family::default(),
            connections: Gauge::default(),
            connections_closed: Family::default(),
            unauthorized: Counter::default(),
        }
    }
}

impl Metrics {
    /// Adds every metric to `registry` (names get the registry's prefix).
    pub fn register(&self, registry: &mut Registry) {
        registry.register("calls", "JSON-RPC calls answered", self.calls.clone());
        registry.register(
            "call_errors",
            "JSON-RPC calls answered with an error, by code",
            self.errors.clone(),
        );
        registry.register(
            "call_seconds",
            "Time from a call's arrival to its answer",
            self.latency.clone(),
        );
        registry.register(
            "queue_depth",
            "Calls waiting for a verifier token",
            self.queue_depth.clone(),
        );
        registry.register(
            "waiting_calls",
            "Calls sent and waiting for their answer frame",
            self.waiting.clone(),
        );
        registry.register(
            "link_up",
            "1 while the link to an appliance is up",
            self.link_up.clone(),
        );
        registry.register(
            "frames_sent",
            "Request frames written on each link",
            self.frames_sent.clone(),
        );
        registry.register(
            "calls_lost_with_link",
            "Calls whose link went down while they waited",
            self.calls_lost_with_link.clone(),
        );
        registry.register(
            "connections",
            "Open client connections",
            self.connections.clone(),
        );
        registry.register(
            "connections_closed",
            "Client connections closed by the front door, by reason",
            self.connections_closed.clone(),
        );
        registry.register(
            "unauthorized",
            "HTTP requests refused by authentication",
            self.unauthorized.clone(),
        );
    }

    pub fn closed(&self, reason: &str) {
        self.connections_closed
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn link(&self, link: &str) -> LinkLabel {
        LinkLabel {
            link: link.to_string(),
        }
    }
}
