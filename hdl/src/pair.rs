//! The lane-pair core `coldgate_pair`: the request lane, the response lane and two merges,
//! with the flat port list of [`crate::harness`].

use coldgate_spec::LaneConfig;
use rust_hdl::prelude::*;

use crate::lane::{LaneCore, COUNTER_BITS};
use crate::merge::FrameMerge;

/// Field names are the Verilog port names of `coldgate_pair` (see [`crate::harness`]).
#[derive(LogicBlock)]
pub struct ColdgatePair {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub tick: Signal<In, Bit>,
    pub u_in_data: Signal<In, Bits<8>>,
    pub u_in_valid: Signal<In, Bit>,
    pub u_in_ready: Signal<Out, Bit>,
    pub u_out_data: Signal<Out, Bits<8>>,
    pub u_out_valid: Signal<Out, Bit>,
    pub u_out_ready: Signal<In, Bit>,
    pub t_in_data: Signal<In, Bits<8>>,
    pub t_in_valid: Signal<In, Bit>,
    pub t_in_ready: Signal<Out, Bit>,
    pub t_out_data: Signal<Out, Bits<8>>,
    pub t_out_valid: Signal<Out, Bit>,
    pub t_out_ready: Signal<In, Bit>,
    pub req_count_passed: Signal<Out, Bits<COUNTER_BITS>>,
    pub req_count_bad_const: Signal<Out, Bits<COUNTER_BITS>>,
    pub req_count_not_in_set: Signal<Out, Bits<COUNTER_BITS>>,
    pub req_count_out_of_range: Signal<Out, Bits<COUNTER_BITS>>,
    pub req_count_reserved_nonzero: Signal<Out, Bits<COUNTER_BITS>>,
    pub req_count_bad_crc: Signal<Out, Bits<COUNTER_BITS>>,
    pub req_count_rate_limited: Signal<Out, Bits<COUNTER_BITS>>,
    pub resp_count_passed: Signal<Out, Bits<COUNTER_BITS>>,
    pub resp_count_bad_const: Signal<Out, Bits<COUNTER_BITS>>,
    pub resp_count_not_in_set: Signal<Out, Bits<COUNTER_BITS>>,
    pub resp_count_out_of_range: Signal<Out, Bits<COUNTER_BITS>>,
    pub resp_count_reserved_nonzero: Signal<Out, Bits<COUNTER_BITS>>,
    pub resp_count_bad_crc: Signal<Out, Bits<COUNTER_BITS>>,
    pub resp_count_rate_limited: Signal<Out, Bits<COUNTER_BITS>>,
    /// Client to wallet: rate limited, fed from `u_in`, passes to `t_out`.
    pub request: LaneCore,
    /// Wallet to client: fed from `t_in`, passes to `u_out`.
    pub response: LaneCore,
    /// `u_out`: response passes and request NOTICEs.
    u_merge: FrameMerge,
    /// `t_out`: request passes and response NOTICEs.
    t_merge: FrameMerge,
}

impl Default for ColdgatePair {
    fn default() -> Self {
        Self::new()
    }
}

impl ColdgatePair {
    pub fn new() -> ColdgatePair {
        let mut p = ColdgatePair {
            clock: Default::default(),
            reset: Default::default(),
            tick: Default::default(),
            u_in_data: Default::default(),
            u_in_valid: Default::default(),
            u_in_ready: Default::default(),
            u_out_data: Default::default(),
            u_out_valid: Default::default(),
            u_out_ready: Default::default(),
            t_in_data: Default::default(),
            t_in_valid: Default::default(),
            t_in_ready: Default::default(),
            t_out_data: Default::default(),
            t_out_valid: Default::default(),
            t_out_ready: Default::default(),
            req_count_passed: Default::default(),
            req_count_bad_const: Default::default(),
            req_count_not_in_set: Default::default(),
            req_count_out_of_range: Default::default(),
            req_count_reserved_nonzero: Default::default(),
            req_count_bad_crc: Default::default(),
            req_count_rate_limited: Default::default(),
            resp_count_passed: Default::default(),
            resp_count_bad_const: Default::default(),
            resp_count_not_in_set: Default::default(),
            resp_count_out_of_range: Default::default(),
            resp_count_reserved_nonzero: Default::default(),
            resp_count_bad_crc: Default::default(),
            resp_count_rate_limited: Default::default(),
            request: LaneCore::new(LaneConfig::REQUEST),
            response: LaneCore::new(LaneConfig::RESPONSE),
            u_merge: Default::default(),
            t_merge: Default::default(),
        };
        // Top-level inputs are driven from outside the design.
        p.clock.connect();
        p.reset.connect();
        p.tick.connect();
        p.u_in_data.connect();
        p.u_in_valid.connect();
        p.u_out_ready.connect();
        p.t_in_data.connect();
        p.t_in_valid.connect();
        p.t_out_ready.connect();
        p
    }
}

impl Logic for ColdgatePair {
    #[hdl_gen]
    fn update(&mut self) {
        self.request.clock.next = self.clock.val();
        self.response.clock.next = self.clock.val();
        self.u_merge.clock.next = self.clock.val();
        self.t_merge.clock.next = self.clock.val();
        self.request.reset.next = self.reset.val();
        self.response.reset.next = self.reset.val();
        self.u_merge.reset.next = self.reset.val();
        self.t_merge.reset.next = self.reset.val();
        self.request.tick.next = self.tick.val();
        self.response.tick.next = self.tick.val();

        self.request.in_data.next = self.u_in_data.val();
        self.request.in_valid.next = self.u_in_valid.val();
        self.u_in_ready.next = self.request.in_ready.val();
        self.response.in_data.next = self.t_in_data.val();
        self.response.in_valid.next = self.t_in_valid.val();
        self.t_in_ready.next = self.response.in_ready.val();

        // u_out: response passes (a) and request NOTICEs (b).
        self.u_merge.a_data.next = self.response.pass_data.val();
        self.u_merge.a_valid.next = self.response.pass_valid.val();
        self.u_merge.a_last.next = self.response.pass_last.val();
        self.response.pass_ready.next = self.u_merge.a_ready.val();
        self.u_merge.b_data.next = self.request.notice_data.val();
        self.u_merge.b_valid.next = self.request.notice_valid.val();
        self.u_merge.b_last.next = self.request.notice_last.val();
        self.request.notice_ready.next = self.u_merge.b_ready.val();
        self.u_out_data.next = self.u_merge.out_data.val();
        self.u_out_valid.next = self.u_merge.out_valid.val();
        self.u_merge.out_ready.next = self.u_out_ready.val();

        // t_out: request passes (a) and response NOTICEs (b).
        self.t_merge.a_data.next = self.request.pass_data.val();
        self.t_merge.a_valid.next = self.request.pass_valid.val();
        self.t_merge.a_last.next = self.request.pass_last.val();
        self.request.pass_ready.next = self.t_merge.a_ready.val();
        self.t_merge.b_data.next = self.response.notice_data.val();
        self.t_merge.b_valid.next = self.response.notice_valid.val();
        self.t_merge.b_last.next = self.response.notice_last.val();
        self.response.notice_ready.next = self.t_merge.b_ready.val();
        self.t_out_data.next = self.t_merge.out_data.val();
        self.t_out_valid.next = self.t_merge.out_valid.val();
        self.t_merge.out_ready.next = self.t_out_ready.val();

        self.req_count_passed.next = self.request.count_passed.val();
        self.req_count_bad_const.next = self.request.count_bad_const.val();
        self.req_count_not_in_set.next = self.request.count_not_in_set.val();
        self.req_count_out_of_range.next = self.request.count_out_of_range.val();
        self.req_count_reserved_nonzero.next = self.request.count_reserved_nonzero.val();
        self.req_count_bad_crc.next = self.request.count_bad_crc.val();
        self.req_count_rate_limited.next = self.request.count_rate_limited.val();
        self.resp_count_passed.next = self.response.count_passed.val();
        self.resp_count_bad_const.next = self.response.count_bad_const.val();
        self.resp_count_not_in_set.next = self.response.count_not_in_set.val();
        self.resp_count_out_of_range.next = self.response.count_out_of_range.val();
        self.resp_count_reserved_nonzero.next = self.response.count_reserved_nonzero.val();
        self.resp_count_bad_crc.next = self.response.count_bad_crc.val();
        self.resp_count_rate_limited.next = self.response.count_rate_limited.val();
    }
}
