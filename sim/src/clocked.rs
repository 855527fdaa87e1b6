//! A backend over any core that runs one clock at a time ([`PairClock`]): rust-hdl's
//! simulator, or the Verilator model clocked from Rust. The cycle schedule is the one the C++
//! shim's batched loop applies (`csrc/pair_shim.cpp`), so the two can be compared directly.

use coldgate_hdl::harness::{PairClock, PairIn, PairOut};

use crate::backend::{Backend, BackendError, BackendKind, Output, PairCounters, Schedule, Side};

/// Reset cycles at start-up: the core's reset is synchronous, one edge would do.
pub const RESET_CYCLES: u32 = 4;

/// Idle cycles, with input still pending, after which a core counts as stalled.
const STALL_CYCLES: u32 = 1 << 14;

/// Bytes pushed but not yet accepted by the core, and ticks at their positions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pending {
    pub u: Vec<u8>,
    pub t: Vec<u8>,
    /// (untrusted bytes before it, trusted bytes before it), non-decreasing.
    pub ticks: Vec<(usize, usize)>,
}

impl Pending {
    pub fn push(&mut self, side: Side, bytes: &[u8]) {
        match side {
            Side::Untrusted => self.u.extend_from_slice(bytes),
            Side::Trusted => self.t.extend_from_slice(bytes),
        }
    }

    pub fn tick(&mut self) {
        self.ticks.push((self.u.len(), self.t.len()));
    }

    /// Forgets what the core consumed, moving the remaining ticks' positions along.
    pub fn consume(&mut self, u: usize, t: usize, ticks: usize) {
        self.u.drain(..u.min(self.u.len()));
        self.t.drain(..t.min(self.t.len()));
        self.ticks.drain(..ticks.min(self.ticks.len()));
        for p in &mut self.ticks {
            p.0 = p.0.saturating_sub(u);
            p.1 = p.1.saturating_sub(t);
        }
    }
}

fn bit(mask: u32, cycle: u64) -> bool {
    (mask >> (cycle % 32)) & 1 == 1
}

/// A lane pair run one clock at a time.
pub struct ClockedBackend<C: PairClock> {
    clock: C,
    kind: BackendKind,
    schedule: Schedule,
    /// Cycles since the core was created, for the schedule's masks.
    cycle: u64,
    pending: Pending,
    counters: PairCounters,
}

impl<C: PairClock> ClockedBackend<C> {
    /// Resets the core and wraps it. `kind` names it in logs and errors.
    pub fn new(clock: C, kind: BackendKind, schedule: Schedule) -> Result<Self, BackendError> {
        schedule.validate()?;
        let mut b = ClockedBackend {
            clock,
            kind,
            schedule,
            cycle: 0,
            pending: Pending::default(),
            counters: PairCounters::default(),
        };
        for _ in 0..RESET_CYCLES {
            b.step(&PairIn {
                reset: true,
                u_out_ready: true,
                t_out_ready: true,
                ..PairIn::default()
            });
        }
        Ok(b)
    }

    /// The wrapped core, e.g. to look at it after a run.
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// Cycles run since the core was created.
    pub fn cycles(&self) -> u64 {
        self.cycle
    }

    fn step(&mut self, i: &PairIn) -> PairOut {
        let o = self.clock.cycle(i);
        self.cycle += 1;
        o
    }
}

impl<C: PairClock> Backend for ClockedBackend<C> {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    fn push(&mut self, side: Side, bytes: &[u8]) -> Result<(), BackendError> {
        self.pending.push(side, bytes);
        Ok(())
    }

    fn tick(&mut self) {
        self.pending.tick();
    }

    fn advance(&mut self) -> Result<Output, BackendError> {
        let s = self.schedule;
        let mut out = Output::default();
        let (mut up, mut tp, mut ti) = (0usize, 0usize, 0usize);
        let (mut idle, mut settled) = (0u32, 0u32);
        let p = std::mem::take(&mut self.pending);
        loop {
            let inputs_done = up == p.u.len() && tp == p.t.len() && ti == p.ticks.len();
            if inputs_done && idle >= s.drain_cycles {
                break;
            }
            if !inputs_done && idle >= STALL_CYCLES {
                let stalled = BackendError::Stalled {
                    backend: self.kind,
                    cycles: u64::from(idle),
                    untrusted: p.u.len() - up,
                    trusted: p.t.len() - tp,
                };
                self.pending = p;
                self.pending.consume(up, tp, ti);
                return Err(stalled);
            }
            let (mut u_limit, mut t_limit) = (p.u.len(), p.t.len());
            let mut tick = false;
            if let Some(&(tu, tt)) = p.ticks.get(ti) {
                (u_limit, t_limit) = (tu, tt);
                if up == tu && tp == tt {
                    tick = settled >= s.tick_settle;
                    settled += 1;
                }
            }
            let c = self.cycle;
            let u_in = (up < u_limit && bit(s.u_in_mask, c)).then(|| p.u[up]);
            let t_in = (tp < t_limit && bit(s.t_in_mask, c)).then(|| p.t[tp]);
            let u_out_ready = bit(s.u_out_mask, c);
            let t_out_ready = bit(s.t_out_mask, c);
            let o = self.step(&PairIn {
                reset: false,
                tick,
                u_in,
                u_out_ready,
                t_in,
                t_out_ready,
            });
            let mut moved = tick;
            if u_in.is_some() && o.u_in_ready {
                up += 1;
                moved = true;
            }
            if t_in.is_some() && o.t_in_ready {
                tp += 1;
                moved = true;
            }
            if let (true, Some(b)) = (u_out_ready, o.u_out) {
                out.untrusted.push(b);
                moved = true;
            }
            if let (true, Some(b)) = (t_out_ready, o.t_out) {
                out.trusted.push(b);
                moved = true;
            }
            if tick {
                ti += 1;
                settled = 0;
            }
            idle = if moved { 0 } else { idle + 1 };
            self.counters = PairCounters::from_ports(&o.counters);
        }
        Ok(out)
    }

    fn counters(&self) -> Result<PairCounters, BackendError> {
        Ok(self.counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consuming_moves_tick_positions_along() {
        let mut p = Pending::default();
        p.push(Side::Untrusted, &[1, 2, 3]);
        p.tick();
        p.push(Side::Trusted, &[9]);
        p.push(Side::Untrusted, &[4]);
        p.tick();
        assert_eq!(p.ticks, vec![(3, 0), (4, 1)]);
        p.consume(3, 0, 1);
        assert_eq!((p.u.as_slice(), p.t.as_slice()), (&[4][..], &[9][..]));
        assert_eq!(p.ticks, vec![(1, 1)]);
    }
}
