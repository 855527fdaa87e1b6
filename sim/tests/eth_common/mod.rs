//! Shared by the Ethernet tests: frames built with etherparse and the crc crate (not with
//! the spec's own helpers, so the spec's framing is checked against a second source), the
//! golden Ethernet model, and the comparison of what the Verilated top sent with it.

#![allow(dead_code)]

use coldgate_sim::eth::{tx_payload, BurstCollector, EthIn, EthPort, EthTop};
use coldgate_spec::codec::Wire;
use coldgate_spec::eth::golden::EthModel;
use coldgate_spec::eth::{self, PortConfig};
use coldgate_spec::{Body, Frame, MsgType};
use etherparse::{EtherType, Ethernet2Header};

pub const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Preamble, SFD, header, payload and FCS, as a PHY would deliver them.
pub fn ethernet(dst: [u8; 6], src: [u8; 6], ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let header = Ethernet2Header {
        source: src,
        destination: dst,
        ether_type: EtherType(ether_type),
    };
    let mut mac = header.to_bytes().to_vec();
    mac.extend_from_slice(payload);
    let fcs = CRC.checksum(&mac);
    mac.extend_from_slice(&fcs.to_le_bytes());
    let mut burst = vec![0x55; 7];
    burst.push(0xd5);
    burst.extend(mac);
    burst
}

/// A frame `port` accepts, carrying `payload`.
pub fn to_port(port: EthPort, payload: &[u8]) -> Vec<u8> {
    let PortConfig { own, peer } = port.config();
    ethernet(own, peer, 0x88b5, payload)
}

/// A valid coldgate frame for the lane `port` feeds.
pub fn valid_payload(port: EthPort, client_id: u32, counter: u64, key: u8) -> Wire {
    let body = match port {
        EthPort::U => Body::GetPubkey {
            key_id: 1 + u32::from(key),
        },
        EthPort::T => Body::Pubkey {
            key_id: 1 + u32::from(key),
            key: [key; 32],
        },
    };
    let f = Frame {
        client_id,
        counter,
        body,
        tag: [key ^ 0x5a; 32],
    };
    f.encode().expect("valid frame")[..]
        .try_into()
        .expect("FRAME_LEN")
}

/// Per-port GMII streams, built burst by burst.
#[derive(Clone, Debug, Default)]
pub struct Streams {
    pub rx: [Vec<Option<u8>>; 2],
}

impl Streams {
    /// A burst on `port`, then `gap` idle clocks.
    pub fn burst(&mut self, port: EthPort, bytes: &[u8], gap: usize) {
        let s = &mut self.rx[port as usize];
        s.extend(bytes.iter().map(|&b| Some(b)));
        s.extend(std::iter::repeat_n(None, gap));
    }

    /// Idle clocks on `port` until it has `len` clocks.
    pub fn pad_to(&mut self, port: EthPort, len: usize) {
        let s = &mut self.rx[port as usize];
        if s.len() < len {
            s.resize(len, None);
        }
    }

    pub fn len(&self) -> usize {
        self.rx[0].len().max(self.rx[1].len())
    }

    /// Clocks for the top, followed by `drain` idle clocks.
    pub fn clocks(&self, drain: usize) -> Vec<EthIn> {
        (0..self.len() + drain)
            .map(|k| EthIn {
                rx: [
                    self.rx[0].get(k).copied().flatten(),
                    self.rx[1].get(k).copied().flatten(),
                ],
                tick: false,
            })
            .collect()
    }
}

/// What one port sent: its frames' payloads, passes and NOTICEs apart (the two lanes'
/// frames interleave on a port by timing), and every burst's start clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub passes: Vec<Wire>,
    pub notices: Vec<Wire>,
    pub starts: Vec<u64>,
}

fn is_notice(w: &Wire) -> bool {
    w[coldgate_spec::field::header::MSG_TYPE.start] == MsgType::Notice as u8
}

/// Runs `clocks` through `top` and reads both ports' output: every burst must be the spec's
/// frame for its payload, with at least the minimum gap between bursts.
pub fn run_top(top: &mut EthTop, clocks: &[EthIn]) -> [Sent; 2] {
    let mut coll = [BurstCollector::default(), BurstCollector::default()];
    for chunk in clocks.chunks(4096) {
        for out in top.run(chunk) {
            coll[0].push(out[0]);
            coll[1].push(out[1]);
        }
    }
    let mut sent = [Sent::default(), Sent::default()];
    for port in EthPort::BOTH {
        let c = &mut coll[port as usize];
        assert!(!c.in_burst(), "port {port:?} still sending after the drain");
        let s = &mut sent[port as usize];
        let mut prev_end: Option<u64> = None;
        for b in c.take() {
            if let Some(end) = prev_end {
                assert!(
                    b.start - end >= eth::MIN_GAP as u64,
                    "port {port:?}: gap of {} clocks before the burst at {}",
                    b.start - end,
                    b.start
                );
            }
            prev_end = Some(b.start + b.bytes.len() as u64);
            let p = tx_payload(port, &b.bytes)
                .unwrap_or_else(|e| panic!("port {port:?} burst at {}: {e}", b.start));
            // A second, independent check of the header and FCS.
            let (h, rest) = Ethernet2Header::from_slice(&b.bytes[8..]).expect("header");
            assert_eq!(h.destination, port.config().peer);
            assert_eq!(h.source, port.config().own);
            assert_eq!(h.ether_type, EtherType(0x88b5));
            assert_eq!(rest.len(), coldgate_spec::FRAME_LEN + 4);
            let fcs = u32::from_le_bytes(rest[coldgate_spec::FRAME_LEN..].try_into().unwrap());
            assert_eq!(
                fcs,
                CRC.checksum(&b.bytes[8..8 + 14 + coldgate_spec::FRAME_LEN])
            );
            if is_notice(&p) {
                s.notices.push(p);
            } else {
                s.passes.push(p);
            }
            s.starts.push(b.start);
        }
    }
    sent
}

/// The golden model's output, in the same shape (without start clocks).
pub fn golden_sent(model: &EthModel) -> [Sent; 2] {
    let mut sent = [Sent::default(), Sent::default()];
    for port in EthPort::BOTH {
        for f in model.out(port) {
            let s = &mut sent[port as usize];
            if f.notice {
                s.notices.push(*f.payload);
            } else {
                s.passes.push(*f.payload);
            }
        }
    }
    sent
}

/// Runs `streams` through the golden model and a fresh Verilated top and asserts that both
/// sent the same frames on each port and that every counter agrees. Returns the top's
/// output and the model.
pub fn compare(streams: &Streams) -> ([Sent; 2], EthModel) {
    let mut model = EthModel::default();
    model.run(&streams.rx[0], &streams.rx[1]);
    // A frame's way through both lanes' stores and a transmit slot takes well under 2,000
    // clocks; the drain leaves room for several queued frames.
    let mut top = EthTop::new();
    let sent = run_top(&mut top, &streams.clocks(8 * eth::WIRE_BYTES + 2_000));
    let want = golden_sent(&model);
    for port in EthPort::BOTH {
        let (got, want) = (&sent[port as usize], &want[port as usize]);
        assert_eq!(got.passes, want.passes, "passes out of port {port:?}");
        assert_eq!(got.notices, want.notices, "NOTICEs out of port {port:?}");
    }
    let c = top.counters();
    assert_eq!(
        c.request,
        *model.lanes.request.counters(),
        "request lane counters"
    );
    assert_eq!(
        c.response,
        *model.lanes.response.counters(),
        "response lane counters"
    );
    assert_eq!(c.ports, model.counters().ports, "Ethernet counters");
    (sent, model)
}
