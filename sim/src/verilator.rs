//! The generated Verilog in Verilator: a batched backend (many clocks per FFI call) and a
//! single-clock [`PairClock`] for differential tests against the batched path and rust-hdl.

use std::path::{Path, PathBuf};

use coldgate_hdl::harness::{PairClock, PairIn, PairOut, COUNTER_NAMES};

use crate::backend::{Backend, BackendError, BackendKind, Output, PairCounters, Schedule, Side};
use crate::clocked::{Pending, RESET_CYCLES};
use crate::ffi::{Batch, CgPairIn, CgTick, PairModel};
pub use crate::ffi::{BoardModel, BoardPins};

/// The UART rate the Verilated board top was generated for: build.rs passes this same spec
/// constant to `coldgate_hdl::board_verilog` (clocks per bit: `coldgate_hdl::board::divisor`).
pub const BOARD_MODEL_BAUD: u32 = coldgate_spec::config::DEFAULT_BAUD;

/// Cycles per FFI call before the Rust side checks for progress.
const CHUNK_CYCLES: u64 = 1 << 20;

fn lanes(flat: &[u32; crate::ffi::N_COUNTERS]) -> [[u32; COUNTER_NAMES.len()]; 2] {
    let mut out = [[0; COUNTER_NAMES.len()]; 2];
    let (req, resp) = flat.split_at(COUNTER_NAMES.len());
    out[0].copy_from_slice(req);
    out[1].copy_from_slice(resp);
    out
}

fn model(vcd: Option<&Path>) -> Result<PairModel, BackendError> {
    PairModel::new(vcd).ok_or_else(|| BackendError::Model(vcd.map(Path::to_path_buf)))
}

/// The Verilated core clocked one cycle per call (slow: one FFI call per clock).
pub struct VerilatorClock {
    model: PairModel,
}

impl VerilatorClock {
    /// A fresh model, optionally tracing to a VCD file.
    pub fn new(vcd: Option<&Path>) -> Result<Self, BackendError> {
        Ok(VerilatorClock { model: model(vcd)? })
    }
}

impl PairClock for VerilatorClock {
    fn cycle(&mut self, i: &PairIn) -> PairOut {
        let o = self.model.cycle(&CgPairIn {
            reset: i.reset.into(),
            tick: i.tick.into(),
            u_in_valid: i.u_in.is_some().into(),
            u_in_data: i.u_in.unwrap_or(0),
            u_out_ready: i.u_out_ready.into(),
            t_in_valid: i.t_in.is_some().into(),
            t_in_data: i.t_in.unwrap_or(0),
            t_out_ready: i.t_out_ready.into(),
        });
        PairOut {
            u_in_ready: o.u_in_ready != 0,
            u_out: (o.u_out_valid != 0).then_some(o.u_out_data),
            t_in_ready: o.t_in_ready != 0,
            t_out: (o.t_out_valid != 0).then_some(o.t_out_data),
            counters: lanes(&o.counters),
        }
    }
}

/// The Verilated core run in batches: each [`Backend::advance`] is one FFI call per
/// `CHUNK_CYCLES` clocks, whatever the number of bytes.
pub struct VerilatorBackend {
    model: PairModel,
    schedule: Schedule,
    pending: Pending,
    ticks: Vec<CgTick>,
    counters: PairCounters,
    cycles: u64,
    vcd: Option<PathBuf>,
}

impl VerilatorBackend {
    pub fn new(schedule: Schedule, vcd: Option<&Path>) -> Result<Self, BackendError> {
        schedule.validate()?;
        let mut model = model(vcd)?;
        model.reset(RESET_CYCLES);
        Ok(VerilatorBackend {
            model,
            schedule,
            pending: Pending::default(),
            ticks: vec![],
            counters: PairCounters::default(),
            cycles: u64::from(RESET_CYCLES),
            vcd: vcd.map(Path::to_path_buf),
        })
    }

    /// Cycles run since the model was created.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Where this model traces to, if it does.
    pub fn vcd(&self) -> Option<&Path> {
        self.vcd.as_deref()
    }
}

impl Backend for VerilatorBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Verilator
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
        loop {
            self.ticks.clear();
            self.ticks
                .extend(self.pending.ticks.iter().map(|&(u, t)| CgTick {
                    u: u as u64,
                    t: t as u64,
                }));
            let batch = Batch {
                u_in: &self.pending.u,
                t_in: &self.pending.t,
                ticks: &self.ticks,
                u_in_mask: s.u_in_mask,
                t_in_mask: s.t_in_mask,
                u_out_mask: s.u_out_mask,
                t_out_mask: s.t_out_mask,
                tick_settle: s.tick_settle,
                drain_cycles: s.drain_cycles,
                max_cycles: CHUNK_CYCLES,
            };
            let before = (out.untrusted.len(), out.trusted.len());
            let r = self
                .model
                .run(&batch, &mut out.untrusted, &mut out.trusted)
                .map_err(BackendError::Schedule)?;
            self.cycles += r.cycles;
            self.counters = PairCounters::from_ports(&lanes(&r.counters));
            self.pending
                .consume(r.u_consumed, r.t_consumed, r.ticks_done);
            if r.complete {
                return Ok(out);
            }
            let progressed = r.u_consumed + r.t_consumed + r.ticks_done > 0
                || (out.untrusted.len(), out.trusted.len()) != before;
            if !progressed {
                return Err(BackendError::Stalled {
                    backend: BackendKind::Verilator,
                    cycles: r.cycles,
                    untrusted: self.pending.u.len(),
                    trusted: self.pending.t.len(),
                });
            }
        }
    }

    fn counters(&self) -> Result<PairCounters, BackendError> {
        Ok(self.counters)
    }
}

/// Output bytes of `n` copies of `frame` through the plain C++ loop (the bench's baseline).
pub fn raw_cxx_bench(frame: &[u8], n: u64) -> u64 {
    crate::ffi::raw_bench(frame, n)
}
