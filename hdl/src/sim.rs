//! rust-hdl's own simulator behind the [`PairClock`] harness.
//!
//! rust-hdl's `Simulation` runs testbenches as closures on threads; the harness needs a model
//! it can step from a plain loop instead. `Block::update_all` evaluates every kernel once and
//! latches each signal's `next` into its value, and `has_changed` says whether anything moved,
//! so repeating it until nothing changes settles the combinational logic; a clock edge is a
//! change of the top-level clock followed by the same settling (DFFs and memories act on the
//! settled rising edge).

use rust_hdl::prelude::*;

use crate::harness::{PairClock, PairIn, PairOut};
use crate::pair::ColdgatePair;

/// Settling passes allowed per half cycle. The design's deepest chain of hierarchy and
/// combinational kernels settles in far fewer; running out means a combinational loop.
const MAX_SETTLE: usize = 1_000;

/// The lane-pair core simulated by rust-hdl.
pub struct RustHdlPair {
    top: ColdgatePair,
}

impl Default for RustHdlPair {
    fn default() -> Self {
        Self::new()
    }
}

impl RustHdlPair {
    /// A core in its configuration state (equal to its reset state), clock low.
    pub fn new() -> RustHdlPair {
        let mut top = ColdgatePair::new();
        top.connect_all();
        let mut p = RustHdlPair { top };
        p.settle();
        p
    }

    /// Read-only access to the simulated design (for probing internals in tests).
    pub fn design(&self) -> &ColdgatePair {
        &self.top
    }

    /// # Panics
    /// If the logic does not settle: a combinational loop, a bug in this crate's design.
    fn settle(&mut self) {
        assert!(
            simulate(&mut self.top, MAX_SETTLE),
            "coldgate_pair did not settle: combinational loop"
        );
    }
}

fn byte(b: Option<u8>) -> (Bits<8>, bool) {
    match b {
        Some(b) => (b.to_bits(), true),
        None => (Bits::default(), false),
    }
}

fn sample(b: Bits<8>, valid: bool) -> Option<u8> {
    valid.then(|| b.to_u8())
}

impl PairClock for RustHdlPair {
    fn cycle(&mut self, i: &PairIn) -> PairOut {
        let t = &mut self.top;
        t.clock.next = Clock::from(false);
        t.reset.next = i.reset;
        t.tick.next = i.tick;
        (t.u_in_data.next, t.u_in_valid.next) = byte(i.u_in);
        (t.t_in_data.next, t.t_in_valid.next) = byte(i.t_in);
        t.u_out_ready.next = i.u_out_ready;
        t.t_out_ready.next = i.t_out_ready;
        self.settle();
        let t = &self.top;
        let c = |s: &Signal<Out, Bits<32>>| s.val().to_u32();
        let out = PairOut {
            u_in_ready: t.u_in_ready.val(),
            u_out: sample(t.u_out_data.val(), t.u_out_valid.val()),
            t_in_ready: t.t_in_ready.val(),
            t_out: sample(t.t_out_data.val(), t.t_out_valid.val()),
            counters: [
                [
                    c(&t.req_count_passed),
                    c(&t.req_count_bad_const),
                    c(&t.req_count_not_in_set),
                    c(&t.req_count_out_of_range),
                    c(&t.req_count_reserved_nonzero),
                    c(&t.req_count_bad_crc),
                    c(&t.req_count_rate_limited),
                ],
                [
                    c(&t.resp_count_passed),
                    c(&t.resp_count_bad_const),
                    c(&t.resp_count_not_in_set),
                    c(&t.resp_count_out_of_range),
                    c(&t.resp_count_reserved_nonzero),
                    c(&t.resp_count_bad_crc),
                    c(&t.resp_count_rate_limited),
                ],
            ],
        };
        self.top.clock.next = Clock::from(true);
        self.settle();
        out
    }
}
