//! The golden backend: coldgate-spec's lane model, with each side's output merged frame by
//! frame (a verdict's frame is appended whole, so frames never interleave, as on the core).

use coldgate_spec::{LanePair, Verdict};

use crate::backend::{Backend, BackendError, BackendKind, Output, PairCounters, Side};

#[derive(Clone, Debug, Default)]
pub struct GoldenBackend {
    pair: LanePair,
    out: Output,
}

impl GoldenBackend {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Backend for GoldenBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Golden
    }

    fn push(&mut self, side: Side, bytes: &[u8]) -> Result<(), BackendError> {
        let lane = self.pair.lane_mut(side.input_lane());
        for &b in bytes {
            match lane.push(b) {
                Some(Verdict::Pass(w)) => {
                    let far = match side {
                        Side::Untrusted => Side::Trusted,
                        Side::Trusted => Side::Untrusted,
                    };
                    self.out.side_mut(far).extend_from_slice(&w[..]);
                }
                Some(Verdict::Drop(d)) => self.out.side_mut(side).extend_from_slice(&d.frame),
                None => {}
            }
        }
        Ok(())
    }

    fn tick(&mut self) {
        self.pair.request.tick();
        self.pair.response.tick();
    }

    fn advance(&mut self) -> Result<Output, BackendError> {
        Ok(std::mem::take(&mut self.out))
    }

    fn counters(&self) -> Result<PairCounters, BackendError> {
        Ok(PairCounters {
            request: *self.pair.request.counters(),
            response: *self.pair.response.counters(),
        })
    }
}
