//! The appliance's `/metrics`: the verifier's own counters, per lane and verdict (passed, or
//! dropped with each reason), as the core (or, for a board without a status UART, the wire)
//! reports them at every counter line. They are 32-bit and wrap, so they are exported as
//! gauges; `rate()` copes with a wrap like with a restart.

use std::sync::Arc;
use std::time::Duration;

use coldgate_ops::listener::{Health, HealthFn};
use coldgate_spec::{DropReason, LaneId};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::appliance::latest_counters;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabel {
    pub lane: String,
    /// `passed`, or the drop reason (`bad_crc`, `rate_limited`, ...).
    pub verdict: String,
}

/// A registry with the verifier's counters (refreshed every second from the last counter
/// line) and a health check that is good once the backend has reported counters. Must be
/// called inside a tokio runtime.
pub fn appliance_registry() -> (Arc<Registry>, HealthFn) {
    let frames: Family<VerdictLabel, Gauge> = Family::default();
    let mut registry = Registry::with_prefix("coldgate_appliance");
    registry.register(
        "verifier_frames",
        "The verifier's frame counters per lane and verdict (32-bit, wrapping)",
        frames.clone(),
    );
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let Some(c) = latest_counters() else { continue };
            for lane in LaneId::ALL {
                let l = c.lane(lane);
                let label = |verdict: &str| VerdictLabel {
                    lane: lane.to_string(),
                    verdict: verdict.to_string(),
                };
                frames
                    .get_or_create(&label("passed"))
                    .set(i64::from(l.passed));
                for r in DropReason::ALL {
                    frames
                        .get_or_create(&label(r.name()))
                        .set(i64::from(l.dropped(r)));
                }
            }
        }
    });
    let health: HealthFn = Arc::new(|| {
        let c = latest_counters();
        Health {
            ok: c.is_some(),
            detail: serde_json::json!({
                "counters": c.map(|c| crate::appliance::format_counters(&c)),
            }),
        }
    });
    (Arc::new(registry), health)
}
