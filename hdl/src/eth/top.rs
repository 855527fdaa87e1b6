//! `coldgate_eth`: the lane pair between two GMII ports, with every counter as a port.

use coldgate_spec::eth::EthPort;
use rust_hdl::prelude::*;

use super::rx::{ByteSkid, EthRx};
use super::tx::EthTx;
use crate::lane::COUNTER_BITS;
use crate::pair::ColdgatePair;

/// The Ethernet top at GMII level, one clock domain (125 MHz); the board wraps it with its
/// RGMII and clock-domain crossing. Port U is the untrusted network (converter-in): its
/// frames feed the request lane, and it sends responses and request NOTICEs. Port T is the
/// trusted network (converter-out, wallet): its frames feed the response lane, and it sends
/// requests and response NOTICEs.
///
/// Status: every counter is an output port, `req_count_*` / `resp_count_*` as on
/// `coldgate_pair` and `<port>_eth_count_<name>` for `coldgate_spec::eth::COUNTER_NAMES`, so
/// a board can put them on a status UART or LEDs and a simulation reads them directly. No
/// status frame is sent on either network.
#[derive(LogicBlock)]
pub struct ColdgateEth {
    pub clock: Signal<In, Clock>,
    /// Synchronous, active high; needed after power-up.
    pub reset: Signal<In, Bit>,
    /// The request lane's token-bucket refill pulse (one clock).
    pub tick: Signal<In, Bit>,
    /// GMII of port U.
    pub u_rx_dv: Signal<In, Bit>,
    pub u_rxd: Signal<In, Bits<8>>,
    pub u_tx_en: Signal<Out, Bit>,
    pub u_txd: Signal<Out, Bits<8>>,
    /// GMII of port T.
    pub t_rx_dv: Signal<In, Bit>,
    pub t_rxd: Signal<In, Bits<8>>,
    pub t_tx_en: Signal<Out, Bit>,
    pub t_txd: Signal<Out, Bits<8>>,
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
    pub u_eth_count_accepted: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_bad_preamble: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_runt: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_giant: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_bad_fcs: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_not_for_us: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_foreign_source: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_foreign_ethertype: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_bad_length: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_overrun: Signal<Out, Bits<COUNTER_BITS>>,
    pub u_eth_count_sent: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_accepted: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_bad_preamble: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_runt: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_giant: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_bad_fcs: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_not_for_us: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_foreign_source: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_foreign_ethertype: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_bad_length: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_overrun: Signal<Out, Bits<COUNTER_BITS>>,
    pub t_eth_count_sent: Signal<Out, Bits<COUNTER_BITS>>,
    /// The reset, through a register per kind of block, one after the other: each block's
    /// reset net then starts from a flip-flop placed among its own flip-flops, rather than
    /// one net spanning the chip. (A chain, because yosys merges flip-flops with the same
    /// input.) The receivers leave reset a clock after `reset` falls, the transmitters two,
    /// the lanes three; nothing reaches a lane or a transmitter sooner than a whole frame
    /// after a receiver starts.
    rst_rx: DFF<Bit>,
    rst_tx: DFF<Bit>,
    rst_pair: DFF<Bit>,
    /// A two-byte queue between each receiver and its lane: the receiver's own queue sits
    /// by its block RAM, this one by the lane, so neither the lane's comparators nor the
    /// receiver's read start from a register across the chip.
    u_in_q: ByteSkid,
    t_in_q: ByteSkid,
    pair: ColdgatePair,
    u_rx: EthRx,
    u_tx: EthTx,
    t_rx: EthRx,
    t_tx: EthTx,
}

impl Default for ColdgateEth {
    fn default() -> Self {
        Self::new()
    }
}

impl ColdgateEth {
    pub fn new() -> ColdgateEth {
        let mut e = ColdgateEth {
            clock: Default::default(),
            reset: Default::default(),
            tick: Default::default(),
            u_rx_dv: Default::default(),
            u_rxd: Default::default(),
            u_tx_en: Default::default(),
            u_txd: Default::default(),
            t_rx_dv: Default::default(),
            t_rxd: Default::default(),
            t_tx_en: Default::default(),
            t_txd: Default::default(),
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
            u_eth_count_accepted: Default::default(),
            u_eth_count_bad_preamble: Default::default(),
            u_eth_count_runt: Default::default(),
            u_eth_count_giant: Default::default(),
            u_eth_count_bad_fcs: Default::default(),
            u_eth_count_not_for_us: Default::default(),
            u_eth_count_foreign_source: Default::default(),
            u_eth_count_foreign_ethertype: Default::default(),
            u_eth_count_bad_length: Default::default(),
            u_eth_count_overrun: Default::default(),
            u_eth_count_sent: Default::default(),
            t_eth_count_accepted: Default::default(),
            t_eth_count_bad_preamble: Default::default(),
            t_eth_count_runt: Default::default(),
            t_eth_count_giant: Default::default(),
            t_eth_count_bad_fcs: Default::default(),
            t_eth_count_not_for_us: Default::default(),
            t_eth_count_foreign_source: Default::default(),
            t_eth_count_foreign_ethertype: Default::default(),
            t_eth_count_bad_length: Default::default(),
            t_eth_count_overrun: Default::default(),
            t_eth_count_sent: Default::default(),
            rst_rx: Default::default(),
            rst_tx: Default::default(),
            rst_pair: Default::default(),
            u_in_q: Default::default(),
            t_in_q: Default::default(),
            pair: ColdgatePair::new(),
            u_rx: EthRx::new(EthPort::U),
            u_tx: EthTx::new(EthPort::U),
            t_rx: EthRx::new(EthPort::T),
            t_tx: EthTx::new(EthPort::T),
        };
        // Top-level inputs are driven from outside the design.
        e.clock.connect();
        e.reset.connect();
        e.tick.connect();
        e.u_rx_dv.connect();
        e.u_rxd.connect();
        e.t_rx_dv.connect();
        e.t_rxd.connect();
        e
    }
}

impl Logic for ColdgateEth {
    #[hdl_gen]
    fn update(&mut self) {
        self.pair.clock.next = self.clock.val();
        self.u_rx.clock.next = self.clock.val();
        self.u_tx.clock.next = self.clock.val();
        self.t_rx.clock.next = self.clock.val();
        self.t_tx.clock.next = self.clock.val();
        dff_setup!(self, clock, rst_rx, rst_tx, rst_pair);
        self.rst_rx.d.next = self.reset.val();
        self.rst_tx.d.next = self.rst_rx.q.val();
        self.rst_pair.d.next = self.rst_tx.q.val();
        self.pair.reset.next = self.rst_pair.q.val();
        self.u_rx.reset.next = self.rst_rx.q.val();
        self.u_tx.reset.next = self.rst_tx.q.val();
        self.t_rx.reset.next = self.rst_rx.q.val();
        self.t_tx.reset.next = self.rst_tx.q.val();
        self.pair.tick.next = self.tick.val();

        // U: GMII in -> request lane; u_out (responses, request NOTICEs) -> GMII out.
        self.u_rx.rx_dv.next = self.u_rx_dv.val();
        self.u_rx.rxd.next = self.u_rxd.val();
        self.u_in_q.clock.next = self.clock.val();
        self.u_in_q.reset.next = self.rst_rx.q.val();
        self.u_in_q.push.next = self.u_rx.out_valid.val() & self.u_in_q.room.val();
        self.u_in_q.in_data.next = self.u_rx.out_data.val();
        self.u_rx.out_ready.next = self.u_in_q.room.val();
        self.pair.u_in_data.next = self.u_in_q.out_data.val();
        self.pair.u_in_valid.next = self.u_in_q.out_valid.val();
        self.u_in_q.out_ready.next = self.pair.u_in_ready.val();
        self.u_tx.in_data.next = self.pair.u_out_data.val();
        self.u_tx.in_valid.next = self.pair.u_out_valid.val();
        self.pair.u_out_ready.next = self.u_tx.in_ready.val();
        self.u_tx_en.next = self.u_tx.tx_en.val();
        self.u_txd.next = self.u_tx.txd.val();

        // T: GMII in -> response lane; t_out (requests, response NOTICEs) -> GMII out.
        self.t_rx.rx_dv.next = self.t_rx_dv.val();
        self.t_rx.rxd.next = self.t_rxd.val();
        self.t_in_q.clock.next = self.clock.val();
        self.t_in_q.reset.next = self.rst_rx.q.val();
        self.t_in_q.push.next = self.t_rx.out_valid.val() & self.t_in_q.room.val();
        self.t_in_q.in_data.next = self.t_rx.out_data.val();
        self.t_rx.out_ready.next = self.t_in_q.room.val();
        self.pair.t_in_data.next = self.t_in_q.out_data.val();
        self.pair.t_in_valid.next = self.t_in_q.out_valid.val();
        self.t_in_q.out_ready.next = self.pair.t_in_ready.val();
        self.t_tx.in_data.next = self.pair.t_out_data.val();
        self.t_tx.in_valid.next = self.pair.t_out_valid.val();
        self.pair.t_out_ready.next = self.t_tx.in_ready.val();
        self.t_tx_en.next = self.t_tx.tx_en.val();
        self.t_txd.next = self.t_tx.txd.val();

        self.req_count_passed.next = self.pair.req_count_passed.val();
        self.req_count_bad_const.next = self.pair.req_count_bad_const.val();
        self.req_count_not_in_set.next = self.pair.req_count_not_in_set.val();
        self.req_count_out_of_range.next = self.pair.req_count_out_of_range.val();
        self.req_count_reserved_nonzero.next = self.pair.req_count_reserved_nonzero.val();
        self.req_count_bad_crc.next = self.pair.req_count_bad_crc.val();
        self.req_count_rate_limited.next = self.pair.req_count_rate_limited.val();
        self.resp_count_passed.next = self.pair.resp_count_passed.val();
        self.resp_count_bad_const.next = self.pair.resp_count_bad_const.val();
        self.resp_count_not_in_set.next = self.pair.resp_count_not_in_set.val();
        self.resp_count_out_of_range.next = self.pair.resp_count_out_of_range.val();
        self.resp_count_reserved_nonzero.next = self.pair.resp_count_reserved_nonzero.val();
        self.resp_count_bad_crc.next = self.pair.resp_count_bad_crc.val();
        self.resp_count_rate_limited.next = self.pair.resp_count_rate_limited.val();
        self.u_eth_count_accepted.next = self.u_rx.count_accepted.val();
        self.u_eth_count_bad_preamble.next = self.u_rx.count_bad_preamble.val();
        self.u_eth_count_runt.next = self.u_rx.count_runt.val();
        self.u_eth_count_giant.next = self.u_rx.count_giant.val();
        self.u_eth_count_bad_fcs.next = self.u_rx.count_bad_fcs.val();
        self.u_eth_count_not_for_us.next = self.u_rx.count_not_for_us.val();
        self.u_eth_count_foreign_source.next = self.u_rx.count_foreign_source.val();
        self.u_eth_count_foreign_ethertype.next = self.u_rx.count_foreign_ethertype.val();
        self.u_eth_count_bad_length.next = self.u_rx.count_bad_length.val();
        self.u_eth_count_overrun.next = self.u_rx.count_overrun.val();
        self.u_eth_count_sent.next = self.u_tx.count_sent.val();
        self.t_eth_count_accepted.next = self.t_rx.count_accepted.val();
        self.t_eth_count_bad_preamble.next = self.t_rx.count_bad_preamble.val();
        self.t_eth_count_runt.next = self.t_rx.count_runt.val();
        self.t_eth_count_giant.next = self.t_rx.count_giant.val();
        self.t_eth_count_bad_fcs.next = self.t_rx.count_bad_fcs.val();
        self.t_eth_count_not_for_us.next = self.t_rx.count_not_for_us.val();
        self.t_eth_count_foreign_source.next = self.t_rx.count_foreign_source.val();
        self.t_eth_count_foreign_ethertype.next = self.t_rx.count_foreign_ethertype.val();
        self.t_eth_count_bad_length.next = self.t_rx.count_bad_length.val();
        self.t_eth_count_overrun.next = self.t_rx.count_overrun.val();
        self.t_eth_count_sent.next = self.t_tx.count_sent.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coldgate_eth_checks_and_validates() {
        let mut uut = ColdgateEth::new();
        uut.connect_all();
        check_all(&uut).unwrap();
        let name = format!("coldgate_eth_top_{}", std::process::id());
        let r = yosys_validate(&name, &generate_verilog(&uut));
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&name));
        r.unwrap();
    }
}
