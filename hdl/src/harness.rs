//! The pin-level contract of the lane-pair core, shared by every way of running it
//! (rust-hdl's simulator here, Verilator in coldgate-sim, a board through its UARTs).
//!
//! The generated core is the Verilog module `coldgate_pair` with these flat ports (all
//! synchronous to `clock`, rising edge; `reset` active high, synchronous):
//!
//! ```text
//! input  clock, reset, tick                     tick: one-cycle token-bucket refill pulse
//!                                               (reset must be applied after power-up)
//! input  [7:0] u_in_data,  input u_in_valid,  output u_in_ready    untrusted side -> request lane
//! output [7:0] u_out_data, output u_out_valid, input u_out_ready   -> untrusted side (responses + request-lane NOTICEs)
//! input  [7:0] t_in_data,  input t_in_valid,  output t_in_ready    trusted side -> response lane
//! output [7:0] t_out_data, output t_out_valid, input t_out_ready   -> trusted side (requests + response-lane NOTICEs)
//! output [31:0] req_count_<name>, resp_count_<name>   for <name> in COUNTER_NAMES
//! ```
//!
//! A byte moves on a cycle where valid and ready are both high. Frames on an output are never
//! interleaved: each side's output is a sequence of whole frames, passes and NOTICEs mixed in
//! an order that depends on timing; NOTICEs are told apart by their message type.

use coldgate_spec::DropReason;

/// Counter port suffixes, in counter-index order: `passed`, then each drop reason by value.
pub const COUNTER_NAMES: [&str; 1 + DropReason::ALL.len()] = [
    "passed",
    "bad_const",
    "not_in_set",
    "out_of_range",
    "reserved_nonzero",
    "bad_crc",
    "rate_limited",
];

/// What the environment drives during one clock cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairIn {
    pub reset: bool,
    pub tick: bool,
    /// `Some(byte)` drives `u_in_valid` high with that byte.
    pub u_in: Option<u8>,
    pub u_out_ready: bool,
    pub t_in: Option<u8>,
    pub t_out_ready: bool,
}

/// What the core shows during that cycle, before the clock edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairOut {
    pub u_in_ready: bool,
    /// `Some(byte)` when `u_out_valid` is high.
    pub u_out: Option<u8>,
    pub t_in_ready: bool,
    pub t_out: Option<u8>,
    /// `[lane][counter]`: lane 0 request, 1 response; counter index as in [`COUNTER_NAMES`].
    pub counters: [[u32; COUNTER_NAMES.len()]; 2],
}

/// Anything that runs the core one clock at a time: apply `i`, settle, sample the outputs,
/// then take the rising edge. Returns the sampled outputs.
pub trait PairClock {
    fn cycle(&mut self, i: &PairIn) -> PairOut;
}

// ---------------------------------------------------------------------------------------------
// Stream driver: feeds event streams through any `PairClock` and collects what leaves.
// ---------------------------------------------------------------------------------------------

use coldgate_spec::field::{header, FRAME_LEN};
use coldgate_spec::golden::{Counters, Lane, Verdict};
use coldgate_spec::vectors::Event;
use coldgate_spec::{LaneConfig, LaneId, MsgType};

/// Number of counters per lane, as in [`COUNTER_NAMES`].
pub const COUNTERS: usize = COUNTER_NAMES.len();

/// A repeating on/off pattern, one entry per clock cycle (`true` = idle on an input, stall on
/// an output). An empty pattern is never on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pattern(pub Vec<bool>);

impl Pattern {
    /// Never idle, never stalled: full rate.
    pub fn never() -> Pattern {
        Pattern(vec![])
    }

    /// On one cycle out of every `period` (never when `period` is 0).
    pub fn one_in(period: usize) -> Pattern {
        if period == 0 {
            return Pattern::never();
        }
        let mut v = vec![false; period];
        v[period - 1] = true;
        Pattern(v)
    }

    /// Whether the pattern is on at `cycle`.
    pub fn at(&self, cycle: u64) -> bool {
        if self.0.is_empty() {
            return false;
        }
        self.0[(cycle % self.0.len() as u64) as usize]
    }
}

/// How the driver paces the two sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveConfig {
    /// Cycles with `reset` high before the first byte.
    pub reset_cycles: u32,
    /// Idle insertion on `u_in` / `t_in`: an idle cycle offers no byte.
    pub u_in_idle: Pattern,
    pub t_in_idle: Pattern,
    /// Backpressure on `u_out` / `t_out`: a stalled cycle holds ready low.
    pub u_out_stall: Pattern,
    pub t_out_stall: Pattern,
    /// After both inputs are consumed, the run ends once neither output has shown valid for
    /// this many consecutive cycles.
    pub quiet_cycles: u32,
    /// Hard bound on the run; exceeding it is a [`DriveError::Timeout`].
    pub max_cycles: u64,
}

impl Default for DriveConfig {
    fn default() -> Self {
        DriveConfig {
            reset_cycles: 2,
            u_in_idle: Pattern::never(),
            t_in_idle: Pattern::never(),
            u_out_stall: Pattern::never(),
            t_out_stall: Pattern::never(),
            quiet_cycles: 32,
            max_cycles: 10_000_000,
        }
    }
}

impl DriveConfig {
    /// A bound on cycles that is generous for `bytes` input bytes under these patterns: every
    /// input byte can cause at most one NOTICE frame on an output.
    pub fn with_budget_for(mut self, bytes: usize) -> Self {
        let worst = (bytes as u64 + 1) * (FRAME_LEN as u64 + 8) * 4 + 10_000;
        self.max_cycles = worst;
        self
    }
}

/// What came out of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriveResult {
    /// Bytes that left on `u_out` (towards the untrusted side), in order.
    pub u_out: Vec<u8>,
    /// Bytes that left on `t_out` (towards the trusted side), in order.
    pub t_out: Vec<u8>,
    /// Counters on the last cycle, `[lane][counter]` as in [`PairOut::counters`].
    pub counters: [[u32; COUNTERS]; 2],
    /// Clock cycles the run took, reset included.
    pub cycles: u64,
}

/// Why a run or a comparison failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DriveError {
    #[error("run exceeded {0} cycles (inputs left: u {1}, t {2})")]
    Timeout(u64, usize, usize),
    #[error("{side} output is {len} bytes, not a whole number of {FRAME_LEN}-byte frames")]
    PartialFrame { side: &'static str, len: usize },
    #[error("{what} differs from the golden model: {detail}")]
    Mismatch { what: String, detail: String },
}

/// Runs `u_events` into `u_in` (the request lane) and `t_events` into `t_in` (the response
/// lane) until both are consumed and the outputs are quiet.
///
/// Tick semantics, matching [`coldgate_spec::golden::Lane::tick`]: a [`Event::Tick`] in the
/// `u` stream pulses `tick` for one cycle on which `u_in` offers no byte, after the previous
/// byte transferred and before the next one does, so the refill lands exactly between those
/// two bytes as in the golden model. The response lane has no token bucket, so a `Tick` in the
/// `t` stream only idles `t_in` for one cycle and does not pulse `tick` (pulsing it would
/// refill the request lane at a point the `u` stream does not specify).
pub fn drive<C: PairClock + ?Sized>(
    dut: &mut C,
    u_events: &[Event],
    t_events: &[Event],
    cfg: &DriveConfig,
) -> Result<DriveResult, DriveError> {
    let mut res = DriveResult::default();
    let mut cycle: u64 = 0;
    for _ in 0..cfg.reset_cycles {
        let o = dut.cycle(&PairIn {
            reset: true,
            ..PairIn::default()
        });
        res.counters = o.counters;
        cycle += 1;
    }
    let (mut ui, mut ti) = (0usize, 0usize);
    let mut quiet = 0u32;
    loop {
        if ui >= u_events.len() && ti >= t_events.len() && quiet >= cfg.quiet_cycles {
            break;
        }
        if cycle >= cfg.max_cycles {
            return Err(DriveError::Timeout(
                cfg.max_cycles,
                u_events.len() - ui.min(u_events.len()),
                t_events.len() - ti.min(t_events.len()),
            ));
        }
        let mut input = PairIn {
            u_out_ready: !cfg.u_out_stall.at(cycle),
            t_out_ready: !cfg.t_out_stall.at(cycle),
            ..PairIn::default()
        };
        let mut u_tick = false;
        match u_events.get(ui) {
            Some(Event::Tick) => {
                input.tick = true;
                u_tick = true;
            }
            Some(Event::Byte(b)) if !cfg.u_in_idle.at(cycle) => input.u_in = Some(*b),
            _ => {}
        }
        let mut t_tick = false;
        match t_events.get(ti) {
            Some(Event::Tick) => t_tick = true,
            Some(Event::Byte(b)) if !cfg.t_in_idle.at(cycle) => input.t_in = Some(*b),
            _ => {}
        }
        let out = dut.cycle(&input);
        cycle += 1;
        if u_tick || (input.u_in.is_some() && out.u_in_ready) {
            ui += 1;
        }
        if t_tick || (input.t_in.is_some() && out.t_in_ready) {
            ti += 1;
        }
        if let (Some(b), true) = (out.u_out, input.u_out_ready) {
            res.u_out.push(b);
        }
        if let (Some(b), true) = (out.t_out, input.t_out_ready) {
            res.t_out.push(b);
        }
        let inputs_left = ui < u_events.len() || ti < t_events.len();
        if inputs_left || out.u_out.is_some() || out.t_out.is_some() {
            quiet = 0;
        } else {
            quiet = quiet.saturating_add(1);
        }
        res.counters = out.counters;
    }
    res.cycles = cycle;
    Ok(res)
}

/// One side's output split by message type: frames a lane passed, and NOTICE frames.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SideFrames {
    /// Passed frames, concatenated in order.
    pub passed: Vec<u8>,
    /// NOTICE frames, concatenated in order.
    pub notices: Vec<u8>,
}

/// Splits one side's output into passed frames and NOTICEs. A lane never passes a NOTICE
/// (its type is in neither lane's set), so the message type tells them apart.
pub fn split_side(side: &'static str, bytes: &[u8]) -> Result<SideFrames, DriveError> {
    if bytes.len() % FRAME_LEN != 0 {
        return Err(DriveError::PartialFrame {
            side,
            len: bytes.len(),
        });
    }
    let mut out = SideFrames::default();
    for f in bytes.chunks(FRAME_LEN) {
        if f[header::MSG_TYPE.start] == MsgType::Notice as u8 {
            out.notices.extend_from_slice(f);
        } else {
            out.passed.extend_from_slice(f);
        }
    }
    Ok(out)
}

/// What the golden model says one lane produces for a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaneExpectation {
    /// Frames passed to the far side, concatenated.
    pub passed: Vec<u8>,
    /// NOTICE frames sent back to the near side, concatenated.
    pub notices: Vec<u8>,
    pub counters: [u32; COUNTERS],
}

/// Golden-model counters in the harness's counter order.
pub fn counter_array(c: &Counters) -> [u32; COUNTERS] {
    let mut out = [0u32; COUNTERS];
    out[0] = c.passed;
    out[1..].copy_from_slice(&c.dropped);
    out
}

/// Runs `events` through the golden lane `lane`.
pub fn golden_lane(lane: LaneId, events: &[Event]) -> LaneExpectation {
    let mut l = Lane::new(LaneConfig::for_lane(lane));
    let mut exp = LaneExpectation::default();
    for e in events {
        let verdict = match e {
            Event::Tick => {
                l.tick();
                None
            }
            Event::Byte(b) => l.push(*b),
        };
        match verdict {
            Some(Verdict::Pass(w)) => exp.passed.extend_from_slice(&w[..]),
            Some(Verdict::Drop(d)) => exp.notices.extend_from_slice(&d.frame),
            None => {}
        }
    }
    exp.counters = counter_array(l.counters());
    exp
}

/// Compares a run with the golden model of both lanes: each side's passed frames, each side's
/// NOTICEs and every counter. The error names the first difference.
pub fn check_against_golden(
    run: &DriveResult,
    u_events: &[Event],
    t_events: &[Event],
) -> Result<(), DriveError> {
    let req = golden_lane(LaneId::Request, u_events);
    let resp = golden_lane(LaneId::Response, t_events);
    let u = split_side("u_out", &run.u_out)?;
    let t = split_side("t_out", &run.t_out)?;
    same_bytes("request-lane passes (t_out)", &t.passed, &req.passed)?;
    same_bytes("request-lane NOTICEs (u_out)", &u.notices, &req.notices)?;
    same_bytes("response-lane passes (u_out)", &u.passed, &resp.passed)?;
    same_bytes("response-lane NOTICEs (t_out)", &t.notices, &resp.notices)?;
    for (lane, exp) in [(0usize, &req.counters), (1, &resp.counters)] {
        for (i, name) in COUNTER_NAMES.iter().enumerate() {
            if run.counters[lane][i] != exp[i] {
                return Err(DriveError::Mismatch {
                    what: format!("{} counter {name}", ["req", "resp"][lane]),
                    detail: format!("got {}, golden {}", run.counters[lane][i], exp[i]),
                });
            }
        }
    }
    Ok(())
}

fn same_bytes(what: &str, got: &[u8], want: &[u8]) -> Result<(), DriveError> {
    if got == want {
        return Ok(());
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    Err(DriveError::Mismatch {
        what: what.to_string(),
        detail: format!(
            "{} bytes vs golden {}; first difference at byte {at} (frame {}, offset {}): got {:?}, golden {:?}",
            got.len(),
            want.len(),
            at / FRAME_LEN,
            at % FRAME_LEN,
            got.get(at),
            want.get(at)
        ),
    })
}

/// Direction of a core port, seen from the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortDir {
    Input,
    Output,
}

/// One flat port of `coldgate_pair`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub width: u32,
    pub dir: PortDir,
}

/// The flat port list of `coldgate_pair` as documented at the top of this module, `clock`
/// first, counters last (request lane, then response lane, each in [`COUNTER_NAMES`] order).
pub fn pair_ports() -> Vec<Port> {
    use PortDir::{Input as I, Output as O};
    let p = |name: &str, width: u32, dir: PortDir| Port {
        name: name.to_string(),
        width,
        dir,
    };
    let mut v = vec![
        p("clock", 1, I),
        p("reset", 1, I),
        p("tick", 1, I),
        p("u_in_data", 8, I),
        p("u_in_valid", 1, I),
        p("u_in_ready", 1, O),
        p("u_out_data", 8, O),
        p("u_out_valid", 1, O),
        p("u_out_ready", 1, I),
        p("t_in_data", 8, I),
        p("t_in_valid", 1, I),
        p("t_in_ready", 1, O),
        p("t_out_data", 8, O),
        p("t_out_valid", 1, O),
        p("t_out_ready", 1, I),
    ];
    for lane in ["req", "resp"] {
        for name in COUNTER_NAMES {
            v.push(p(&format!("{lane}_count_{name}"), 32, O));
        }
    }
    v
}
