//! `coldgate_eth` in rust-hdl's own simulator, clock by clock, so a test can hold it against
//! the Verilated model and the golden model on the same GMII streams (rust-hdl's Verilog has
//! disagreed with its simulator before; a design is trusted when both agree).

use rust_hdl::prelude::*;

use super::top::ColdgateEth;

/// Settling passes allowed per half cycle (as for the pair, see `crate::sim`).
const MAX_SETTLE: usize = 1_000;

/// The Ethernet top simulated by rust-hdl.
pub struct RustHdlEth {
    top: ColdgateEth,
}

impl Default for RustHdlEth {
    fn default() -> Self {
        Self::new()
    }
}

fn pins(b: Option<u8>) -> (Bits<8>, bool) {
    match b {
        Some(b) => (b.to_bits(), true),
        None => (Bits::default(), false),
    }
}

impl RustHdlEth {
    /// A fresh top after four clocks of reset.
    pub fn new() -> RustHdlEth {
        let mut top = ColdgateEth::new();
        top.connect_all();
        let mut e = RustHdlEth { top };
        e.settle();
        for _ in 0..4 {
            e.cycle([None, None], false, true);
        }
        e
    }

    /// # Panics
    /// If the logic does not settle: a combinational loop, a bug in the design.
    fn settle(&mut self) {
        assert!(
            simulate(&mut self.top, MAX_SETTLE),
            "coldgate_eth did not settle: combinational loop"
        );
    }

    fn cycle(&mut self, rx: [Option<u8>; 2], tick: bool, reset: bool) -> [Option<u8>; 2] {
        let t = &mut self.top;
        t.clock.next = Clock::from(false);
        t.reset.next = reset;
        t.tick.next = tick;
        (t.u_rxd.next, t.u_rx_dv.next) = pins(rx[0]);
        (t.t_rxd.next, t.t_rx_dv.next) = pins(rx[1]);
        self.settle();
        let t = &self.top;
        let out = [
            t.u_tx_en.val().then(|| t.u_txd.val().to_u8()),
            t.t_tx_en.val().then(|| t.t_txd.val().to_u8()),
        ];
        self.top.clock.next = Clock::from(true);
        self.settle();
        out
    }

    /// One clock, as `coldgate_sim::eth::EthTop::clock`: the byte each port receives (None =
    /// rx_dv low) in, the byte each port transmits out; index 0 = U, 1 = T.
    pub fn clock(&mut self, rx: [Option<u8>; 2], tick: bool) -> [Option<u8>; 2] {
        self.cycle(rx, tick, false)
    }

    /// The Ethernet counters of port U then port T, in
    /// `coldgate_spec::eth::COUNTER_NAMES` order.
    pub fn eth_counters(&self) -> [[u32; coldgate_spec::eth::COUNTER_NAMES.len()]; 2] {
        let t = &self.top;
        let c = |s: &Signal<Out, Bits<32>>| s.val().to_u32();
        [
            [
                c(&t.u_eth_count_accepted),
                c(&t.u_eth_count_bad_preamble),
                c(&t.u_eth_count_runt),
                c(&t.u_eth_count_giant),
                c(&t.u_eth_count_bad_fcs),
                c(&t.u_eth_count_not_for_us),
                c(&t.u_eth_count_foreign_source),
                c(&t.u_eth_count_foreign_ethertype),
                c(&t.u_eth_count_bad_length),
                c(&t.u_eth_count_overrun),
                c(&t.u_eth_count_sent),
            ],
            [
                c(&t.t_eth_count_accepted),
                c(&t.t_eth_count_bad_preamble),
                c(&t.t_eth_count_runt),
                c(&t.t_eth_count_giant),
                c(&t.t_eth_count_bad_fcs),
                c(&t.t_eth_count_not_for_us),
                c(&t.t_eth_count_foreign_source),
                c(&t.t_eth_count_foreign_ethertype),
                c(&t.t_eth_count_bad_length),
                c(&t.t_eth_count_overrun),
                c(&t.t_eth_count_sent),
            ],
        ]
    }
}
