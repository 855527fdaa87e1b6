//! Line rate: both ports saturated with valid frames at the minimum gap, both directions at
//! once, in the Verilated Ethernet top. Asserts exact frame counts, zero loss and the
//! spacing of every frame sent (cycles, not time), and prints the figure.

mod eth_common;

use coldgate_sim::eth::{EthPort, EthTop};
use coldgate_spec::eth::{EthDrop, GMII_HZ, MIN_GAP, WIRE_BYTES};
use eth_common::*;

/// Frames per port: enough that any start-up effect is a small part of the run.
const FRAMES: usize = 2_000;

#[test]
fn both_ports_carry_line_rate_in_both_directions() {
    let mut s = Streams::default();
    let mut sent_in: [Vec<coldgate_spec::Wire>; 2] = Default::default();
    for port in EthPort::BOTH {
        for i in 0..FRAMES {
            let p = valid_payload(port, 7, i as u64 + 1, i as u8);
            let b = to_port(port, &p);
            assert_eq!(b.len() + MIN_GAP, WIRE_BYTES);
            s.burst(port, &b, MIN_GAP);
            sent_in[port as usize].push(p);
        }
    }
    let mut clocks = s.clocks(4 * WIRE_BYTES);
    // One refill tick per frame time keeps the request lane's bucket full: this test is
    // about the Ethernet layer's rate, not the lane's policy.
    for (k, c) in clocks.iter_mut().enumerate() {
        c.tick = k % WIRE_BYTES == 0;
    }
    let mut top = EthTop::new();
    let sent = run_top(&mut top, &clocks);
    let c = top.counters();
    for port in EthPort::BOTH {
        let pc = c.port(port);
        assert_eq!(pc.accepted() as usize, FRAMES, "{port:?} accepted");
        for r in EthDrop::ALL {
            assert_eq!(pc.dropped(r), 0, "{port:?} {}", r.name());
        }
        assert_eq!(pc.sent() as usize, FRAMES, "{port:?} sent");
        // Every frame that came in on one port left the other, in order, unchanged.
        let out = &sent[port.other() as usize];
        assert_eq!(out.passes, sent_in[port as usize], "frames from {port:?}");
        assert!(out.notices.is_empty());
    }
    assert_eq!(c.request.passed as usize, FRAMES);
    assert_eq!(c.response.passed as usize, FRAMES);
    assert_eq!(c.request.total_dropped() + c.response.total_dropped(), 0);

    // Once a port has started sending, it sends one frame every WIRE_BYTES clocks.
    for port in EthPort::BOTH {
        let starts = &sent[port as usize].starts;
        let spacing: Vec<u64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            spacing.iter().all(|&d| d == WIRE_BYTES as u64),
            "{port:?}: spacing from {} to {} clocks",
            spacing.iter().min().unwrap(),
            spacing.iter().max().unwrap()
        );
        let cycles_per_frame = (starts[FRAMES - 1] - starts[0]) as f64 / (FRAMES - 1) as f64;
        println!(
            "line rate, port {}: {FRAMES} frames in, {FRAMES} out, 0 lost, \
             {cycles_per_frame:.3} cycles per frame (wire bytes per frame {WIRE_BYTES}), \
             {:.0} frames/s at {} MHz, latency first frame in -> out {} cycles",
            port.name(),
            f64::from(GMII_HZ) / cycles_per_frame,
            GMII_HZ / 1_000_000,
            starts[0]
        );
    }
}
