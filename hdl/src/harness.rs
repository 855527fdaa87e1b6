//! The pin-level contract of the lane-pair core, shared by every way of running it
//! (rust-hdl's simulator here, Verilator in coldgate-sim, a board through its UARTs).
//!
//! The generated core is the Verilog module `coldgate_pair` with these flat ports (all
//! synchronous to `clock`, rising edge; `reset` active high, synchronous):
//!
//! ```text
//! input  clock, reset, tick                     tick: one-cycle token-bucket refill pulse
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
