//! What converter-out tells Prometheus: wallet calls by method and outcome, their latency,
//! calls in flight, each link's state, and NOTICEs the verifier sent about our answers.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::Unanswered;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabel {
    pub method: String,
    /// `answered`, or why not (`wallet_error`, `timeout`, `unreachable`, `bad_answer`).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LinkLabel {
    pub link: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 19))
}

/// Every metric converter-out keeps.
pub struct Metrics {
    pub calls: Family<CallLabel, Counter>,
    pub latency: Family<MethodLabel, Histogram, fn() -> Histogram>,
    pub in_flight: Gauge,
    pub link_up: Family<LinkLabel, Gauge>,
    pub notices: Counter,
    /// Connections opened to the wallet (kept alive and reused between calls).
    pub wallet_connections: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            calls: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            in_flight: Gauge::default(),
            link_up: Family::default(),
            notices: Counter::default(),
            wallet_connections: Counter::default(),
        }
    }
}

impl Metrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "wallet_calls",
            "Wallet calls by method and outcome",
            self.calls.clone(),
        );
        registry.register(
            "wallet_call_seconds",
            "Wallet call latency",
            self.latency.clone(),
        );
        registry.register(
            "in_flight",
            "Wallet calls in flight",
            self.in_flight.clone(),
        );
        registry.register(
            "link_up",
            "1 while the link to an appliance is up",
            self.link_up.clone(),
        );
        registry.register(
            "answer_notices",
            "NOTICEs: the verifier dropped one of the wallet's answers",
            self.notices.clone(),
        );
        registry.register(
            "wallet_connections_opened",
            "Connections opened to the wallet (kept alive between calls)",
            self.wallet_connections.clone(),
        );
    }

    pub fn link(&self, link: &str) -> LinkLabel {
        LinkLabel {
            link: link.to_string(),
        }
    }

    pub fn observe(&self, method: &str, took: Duration, failure: Option<&Unanswered>) {
        use coldgate_converter_in::rpc::CallError;
        let outcome = match failure {
            None => "answered",
            Some(Unanswered::Call(CallError::Timeout(_))) => "timeout",
            Some(Unanswered::Call(CallError::Connect { .. })) => "unreachable",
            Some(Unanswered::Call(CallError::Rpc(_))) => "wallet_error",
            Some(_) => "bad_answer",
        };
        self.calls
            .get_or_create(&CallLabel {
                method: method.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&MethodLabel {
                method: method.to_string(),
            })
            .observe(took.as_secs_f64());
    }
}
