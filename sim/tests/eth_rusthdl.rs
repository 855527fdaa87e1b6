//! `coldgate_eth` in rust-hdl's simulator and in Verilator, clock by clock on the same GMII
//! streams: both must send the same byte on the same clock on both ports and end with the
//! same counters, and both must match the golden Ethernet model (rust-hdl's Verilog has
//! disagreed with its simulator before). rust-hdl's simulator is slow, so the stream is
//! short: one frame of each kind per port.

mod eth_common;

use coldgate_hdl::eth::sim::RustHdlEth;
use coldgate_sim::eth::{EthPort, EthTop};
use coldgate_spec::eth::MIN_GAP;
use eth_common::*;

#[test]
fn rust_hdl_and_verilator_agree_clock_by_clock() {
    let mut s = Streams::default();
    for port in EthPort::BOTH {
        let p = valid_payload(port, 3, 1, 1);
        s.burst(port, &to_port(port, &p), MIN_GAP);
        // Dropped by the Ethernet layer: bad FCS, then foreign EtherType.
        let mut bad = to_port(port, &p);
        bad[40] ^= 4;
        s.burst(port, &bad, MIN_GAP);
        let cfg = port.config();
        s.burst(port, &ethernet(cfg.own, cfg.peer, 0x0806, &p), MIN_GAP);
        // Dropped by the lane (its CRC): a NOTICE back.
        let mut lane_bad = valid_payload(port, 3, 2, 2);
        lane_bad[coldgate_spec::field::TAG.start] ^= 1;
        s.burst(port, &to_port(port, &lane_bad), MIN_GAP);
        s.burst(port, &to_port(port, &valid_payload(port, 3, 3, 3)), MIN_GAP);
    }
    let clocks = s.clocks(1_200);
    let mut hdl = RustHdlEth::new();
    let mut vlt = EthTop::new();
    let from_vlt = vlt.run(&clocks);
    for (k, c) in clocks.iter().enumerate() {
        let got = hdl.clock(c.rx, c.tick);
        assert_eq!(got, from_vlt[k], "clock {k}: rust-hdl vs Verilator");
    }
    let vc = vlt.counters();
    assert_eq!(hdl.eth_counters(), [vc.ports[0].0, vc.ports[1].0]);
    // And both against the golden model (a fresh Verilated run of the same stream).
    let (sent, _) = compare(&s);
    for port in EthPort::BOTH {
        assert_eq!(
            sent[port as usize].passes.len(),
            2,
            "{port:?}: both valid frames pass"
        );
        assert_eq!(sent[port as usize].notices.len(), 1, "{port:?}: one NOTICE");
    }
}
