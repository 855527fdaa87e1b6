//! The Verilated Ethernet top against the spec's golden Ethernet model at GMII level: every
//! frame each port sends and every counter, for directed mixes and proptest streams of valid
//! frames, frames a lane drops, and every kind of frame the Ethernet layer drops.

mod eth_common;

use coldgate_sim::eth::{EthPort, EthTop};
use coldgate_spec::eth::{EthDrop, PortConfig, MIN_GAP, WIRE_BYTES};
use eth_common::*;
use proptest::prelude::*;

/// One burst a peer (or someone else on its network) sends.
#[derive(Clone, Debug)]
enum Item {
    /// A valid coldgate frame, correctly framed.
    Valid { key: u8 },
    /// A valid frame with one byte changed: the lane drops it (rule or CRC) and NOTICEs.
    LaneBad { key: u8, at: usize, xor: u8 },
    /// Random payload bytes, correctly framed: the lane hunts through them.
    Garbage(Vec<u8>),
    /// A frame the Ethernet layer drops, and why.
    EthBad(EthBad, u8, usize),
}

#[derive(Clone, Copy, Debug)]
enum EthBad {
    Fcs,
    Broadcast,
    Multicast,
    OtherUnicast,
    ForeignSource,
    Arp,
    Ipv6,
    Lldp,
    Short,
    Long,
    Runt,
    Giant,
    Preamble,
    Truncated,
}

const ETH_BAD: [EthBad; 14] = [
    EthBad::Fcs,
    EthBad::Broadcast,
    EthBad::Multicast,
    EthBad::OtherUnicast,
    EthBad::ForeignSource,
    EthBad::Arp,
    EthBad::Ipv6,
    EthBad::Lldp,
    EthBad::Short,
    EthBad::Long,
    EthBad::Runt,
    EthBad::Giant,
    EthBad::Preamble,
    EthBad::Truncated,
];

/// The burst for `item` on `port`, and whether the Ethernet layer accepts it (so its output
/// needs a frame's time on a transmit port).
fn burst(port: EthPort, item: &Item, seq: u64) -> (Vec<u8>, bool) {
    let PortConfig { own, peer } = port.config();
    let payload = |key| valid_payload(port, 1 + u32::from(key), seq, key);
    match item {
        Item::Valid { key } => (to_port(port, &payload(*key)), true),
        Item::LaneBad { key, at, xor } => {
            let mut p = payload(*key);
            p[*at % p.len()] ^= (*xor).max(1);
            (to_port(port, &p), true)
        }
        Item::Garbage(g) => (to_port(port, g), true),
        Item::EthBad(kind, x, n) => {
            let p = payload(*x);
            let b = match kind {
                EthBad::Fcs => {
                    let mut b = to_port(port, &p);
                    let i = 8 + n % (b.len() - 8);
                    b[i] ^= x.max(&1);
                    b
                }
                EthBad::Broadcast => ethernet([0xff; 6], peer, 0x88b5, &p),
                EthBad::Multicast => ethernet([0x01, 0x00, 0x5e, 0, 0, 1], peer, 0x88b5, &p),
                EthBad::OtherUnicast => {
                    let mut dst = own;
                    dst[5] ^= x.max(&1);
                    ethernet(dst, peer, 0x88b5, &p)
                }
                EthBad::ForeignSource => {
                    let mut src = peer;
                    src[3] ^= x.max(&1);
                    ethernet(own, src, 0x88b5, &p)
                }
                EthBad::Arp => ethernet(own, peer, 0x0806, &p),
                EthBad::Ipv6 => ethernet(own, peer, 0x86dd, &p),
                EthBad::Lldp => ethernet(own, peer, 0x88cc, &p),
                EthBad::Short => to_port(port, &p[..46 + n % 106]),
                EthBad::Long => to_port(port, &[&p[..], &vec![*x; 1 + n % 64]].concat()),
                EthBad::Runt => to_port(port, &p[..n % 46]),
                EthBad::Giant => to_port(port, &vec![*x; 1501 + n % 64]),
                EthBad::Preamble => {
                    let mut b = to_port(port, &p);
                    b[n % 8] = if *x == 0x55 || *x == 0xd5 { 0 } else { *x };
                    b
                }
                EthBad::Truncated => {
                    let b = to_port(port, &p);
                    b[..1 + n % (b.len() - 1)].to_vec()
                }
            };
            (b, false)
        }
    }
}

/// Appends `items` to `port`'s stream. An accepted frame gets two frames' time on the wire
/// (it and its gap): its lane's output, a pass to the far port or a NOTICE back, then never
/// asks a transmit port for more than line rate even when the other port's frames all
/// come out on the same port, so no frame may be lost. Dropped frames get `extra` clocks
/// after the minimum gap.
fn lay_out(streams: &mut Streams, port: EthPort, items: &[(Item, usize)]) {
    for (seq, (item, extra)) in items.iter().enumerate() {
        let (b, accepted) = burst(port, item, seq as u64 + 1);
        let gap = if accepted {
            2 * WIRE_BYTES - b.len()
        } else {
            MIN_GAP + extra
        };
        streams.burst(port, &b, gap);
    }
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => any::<u8>().prop_map(|key| Item::Valid { key }),
        2 => (any::<u8>(), 0..152usize, any::<u8>())
            .prop_map(|(key, at, xor)| Item::LaneBad { key, at, xor }),
        1 => proptest::collection::vec(any::<u8>(), 152).prop_map(Item::Garbage),
        4 => (proptest::sample::select(&ETH_BAD[..]), any::<u8>(), any::<usize>())
            .prop_map(|(k, x, n)| Item::EthBad(k, x, n)),
    ]
}

fn items() -> impl Strategy<Value = Vec<(Item, usize)>> {
    proptest::collection::vec((item(), 0..40usize), 0..24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Both ports at once, everything compared with the golden model.
    #[test]
    fn streams_match_the_golden_model(u in items(), t in items(), t_delay in 0..400usize) {
        let mut s = Streams::default();
        lay_out(&mut s, EthPort::U, &u);
        s.pad_to(EthPort::T, t_delay);
        lay_out(&mut s, EthPort::T, &t);
        let (_, model) = compare(&s);
        for port in EthPort::BOTH {
            prop_assert_eq!(model.counters().ports[port as usize].dropped(EthDrop::Overrun), 0);
        }
    }
}

/// Valid frames back to back at the minimum gap on both ports at once, with one frame of
/// every kind the Ethernet layer drops between them: none of the valid frames is lost and
/// each drop is counted under its reason.
#[test]
fn every_drop_reason_between_valid_frames_at_the_minimum_gap() {
    let mut s = Streams::default();
    let mut valid = [0u32; 2];
    for port in EthPort::BOTH {
        for (i, kind) in ETH_BAD.iter().enumerate() {
            let (b, ok) = burst(port, &Item::Valid { key: i as u8 }, 2 * i as u64 + 1);
            assert!(ok);
            s.burst(port, &b, MIN_GAP);
            valid[port as usize] += 1;
            let (b, ok) = burst(port, &Item::EthBad(*kind, 0x33, 7 + i), 2 * i as u64 + 2);
            assert!(!ok);
            s.burst(port, &b, MIN_GAP);
        }
    }
    let (sent, model) = compare(&s);
    for port in EthPort::BOTH {
        let c = model.counters().ports[port as usize];
        assert_eq!(c.accepted(), valid[port as usize]);
        // Every reason but overrun (logic only) is hit; the three wrong destinations and
        // the three foreign EtherTypes count together.
        for r in EthDrop::ALL {
            let want = match r {
                EthDrop::Overrun => 0,
                EthDrop::NotForUs | EthDrop::ForeignEthertype => 3,
                // A wrong preamble byte and a burst cut short before its SFD.
                EthDrop::BadPreamble => 1,
                _ => 1,
            };
            assert!(
                c.dropped(r) >= want,
                "{port:?} {}: {}",
                r.name(),
                c.dropped(r)
            );
        }
        // Every valid frame came out of the far port.
        assert_eq!(
            sent[port.other() as usize].passes.len(),
            valid[port as usize] as usize
        );
        assert!(sent[port as usize].notices.is_empty());
    }
}

/// A frame whose FCS is bad never reaches the lane: not stored, not passed, not NOTICEd,
/// and the valid frame right behind it passes.
#[test]
fn a_bad_fcs_frame_never_reaches_the_lane() {
    let mut s = Streams::default();
    let p = valid_payload(EthPort::U, 9, 1, 1);
    let mut bad = to_port(EthPort::U, &p);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    s.burst(EthPort::U, &bad, MIN_GAP);
    s.burst(
        EthPort::U,
        &to_port(EthPort::U, &valid_payload(EthPort::U, 9, 2, 1)),
        MIN_GAP,
    );
    let (sent, _) = compare(&s);
    assert_eq!(sent[EthPort::T as usize].passes.len(), 1);
    assert_eq!(
        sent[EthPort::T as usize].passes[0][..],
        valid_payload(EthPort::U, 9, 2, 1)[..]
    );
    assert!(sent[EthPort::U as usize].notices.is_empty());
    let mut top = EthTop::new();
    let _ = run_top(&mut top, &s.clocks(2_000));
    let c = top.counters();
    assert_eq!(c.port(EthPort::U).dropped(EthDrop::BadFcs), 1);
    assert_eq!(c.request.passed, 1);
    assert_eq!(c.request.total_dropped(), 0);
}

/// Overload: port U's frames all come back as NOTICEs while port T's all pass to U, both at
/// line rate, so port U is asked for twice what it can send. Frames that find no receive
/// slot are counted as overrun; nothing else is lost, nothing sent is malformed, and every
/// counter adds up.
#[test]
fn overload_is_counted_as_overrun_and_nothing_else_is_lost() {
    const N: usize = 300;
    let mut s = Streams::default();
    let mut responses = vec![];
    for i in 0..N {
        let mut bad = valid_payload(EthPort::U, 5, i as u64 + 1, i as u8);
        bad[coldgate_spec::field::TAG.start] ^= 1; // the frame's CRC fails in the lane
        s.burst(EthPort::U, &to_port(EthPort::U, &bad), MIN_GAP);
        let ok = valid_payload(EthPort::T, 5, i as u64 + 1, i as u8);
        s.burst(EthPort::T, &to_port(EthPort::T, &ok), MIN_GAP);
        responses.push(ok);
    }
    let mut top = EthTop::new();
    let sent = run_top(&mut top, &s.clocks(8 * WIRE_BYTES + 2_000));
    let c = top.counters();
    let (u, t) = (c.port(EthPort::U), c.port(EthPort::T));
    for pc in [u, t] {
        assert_eq!(
            pc.accepted() + pc.dropped(EthDrop::Overrun),
            N as u32,
            "every frame accepted or counted as overrun"
        );
    }
    assert!(
        u.dropped(EthDrop::Overrun) + t.dropped(EthDrop::Overrun) > 0,
        "twice line rate must overrun"
    );
    // Every accepted frame was decided by its lane, and every decision left its port.
    assert_eq!(
        c.request.passed as u64 + c.request.total_dropped(),
        u64::from(u.accepted())
    );
    assert_eq!(c.request.passed, 0);
    assert_eq!(
        c.response.passed as u64 + c.response.total_dropped(),
        u64::from(t.accepted())
    );
    assert_eq!(c.response.total_dropped(), 0);
    let (u_out, t_out) = (&sent[EthPort::U as usize], &sent[EthPort::T as usize]);
    assert_eq!(u.sent() as usize, u_out.passes.len() + u_out.notices.len());
    assert_eq!(u_out.notices.len() as u64, c.request.total_dropped());
    assert_eq!(u_out.passes.len() as u32, c.response.passed);
    assert!(t_out.passes.is_empty() && t_out.notices.is_empty() && t.sent() == 0);
    // The responses that got through are the ones sent, in order, unchanged.
    let mut rest = responses.iter();
    for p in &u_out.passes {
        assert!(
            rest.any(|r| r == p),
            "a pass out of U that T never sent, or out of order"
        );
    }
}
