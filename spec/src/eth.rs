//! The Ethernet layer of the network appliance: one coldgate frame per Ethernet II frame.
//!
//! ```text
//!  on the wire (GMII: one byte per 125 MHz clock while rx_dv / tx_en is high)
//!  +----------+-----+---------+---------+-----------+---------------------+-------+ - - - - +
//!  | preamble | SFD | dst MAC | src MAC | EtherType | coldgate frame      | FCS   |  gap    |
//!  | 55 x 7   | d5  | 6       | 6       | 88 b5     | FRAME_LEN bytes     | 4, LE | >= 12   |
//!  +----------+-----+---------+---------+-----------+---------------------+-------+ - - - - +
//!                   |<-------------------- MAC frame (FCS over all before it) ---->|
//! ```
//!
//! Each port serves exactly one peer: it accepts only frames addressed to its own MAC **and**
//! sent from its peer's MAC (so a second device on either network cannot inject frames),
//! with EtherType [`ETHERTYPE`], a good FCS and exactly [`FRAME_LEN`] bytes of payload. The
//! payload of an accepted frame goes to the port's lane, as if it had arrived on a UART.
//! Everything else is dropped by the Ethernet layer and counted per [`EthDrop`] reason; the
//! lanes never see it and no NOTICE answers it.
//!
//! # Receive, precisely (the [`golden`] model and the logic)
//!
//! A *burst* is a run of clocks with a byte (rx_dv high). Per burst:
//!
//! * **Preamble.** Any number of `0x55` bytes, then the SFD `0xd5` (PHYs may shorten the
//!   preamble, so its length is not checked). Any other byte before the SFD, or a burst that
//!   ends before it, is [`EthDrop::BadPreamble`].
//! * **MAC frame.** The bytes after the SFD up to the burst's end, `n` of them. Checked in this
//!   order when the burst ends, the first that applies names the drop:
//!   `n < MIN_FRAME` [`EthDrop::Runt`]; `n > MAX_FRAME` [`EthDrop::Giant`]; FCS (the
//!   register after all `n` bytes must equal the CRC residue) [`EthDrop::BadFcs`];
//!   destination is not the port's MAC [`EthDrop::NotForUs`] (broadcast, multicast and other
//!   unicast alike); source is not the port's peer [`EthDrop::ForeignSource`]; EtherType
//!   [`EthDrop::ForeignEthertype`]; `n != MAC_FRAME_LEN` [`EthDrop::BadLength`] (a payload
//!   shorter or longer than one coldgate frame). Otherwise the frame is accepted.
//! * **FCS gates the lane.** The logic writes the payload into a receive slot as it arrives
//!   and releases the slot to the lane only once the whole burst has passed the checks
//!   above: the lane never sees a byte of a frame whose FCS turns out bad, so it never
//!   stores, passes or NOTICEs it. (The lane's own store-and-forward then holds the payload
//!   again until its coldgate CRC and rules pass.) In the model this is simply: the payload
//!   is pushed into the golden lane when the burst ends.
//! * **The lane's framing.** The lane sees the accepted payloads back to back, exactly as it
//!   would see them on a UART, and finds the coldgate frame by its magic as always. A payload
//!   that is one valid coldgate frame is one lane frame. A payload the lane drops early
//!   leaves the lane hunting in the rest of that payload; should the rest hold the magic,
//!   the lane's next frame starts there and takes its tail from the next payload of the same
//!   port. Since a port accepts only its one peer's frames, only that peer's own next frame
//!   can be lost this way (the golden model's resynchronisation bound), and the composite
//!   still has to pass every rule and the CRC, and the wallet's tag check.
//! * **No room.** The logic holds [`RX_SLOTS`] accepted payloads per port. A frame that
//!   starts while all are waiting for the lane is [`EthDrop::Overrun`] when it would have
//!   been accepted (the network has no flow control). It happens only when a port's output
//!   is asked for more than line rate (for example a peer whose frames all come back as
//!   NOTICEs while the other peer's frames pass to the same port); the model, which has no
//!   time, never overruns, and the tests keep the load where the logic must not either.
//!
//! # Transmit
//!
//! Every frame a lane sends towards a port (a pass from the other port, or a NOTICE for a
//! frame that came in on this port) leaves as [`wire_frame`]: preamble, SFD, the peer's MAC
//! as destination, the port's own MAC as source, [`ETHERTYPE`], the payload and a fresh FCS,
//! followed by at least [`MIN_GAP`] idle clocks: [`WIRE_BYTES`] clocks per frame at line
//! rate.

use crate::checksum;
use crate::field::FRAME_LEN;

/// IEEE 802 local experimental EtherType 1.
pub const ETHERTYPE: u16 = 0x88B5;
/// Preamble byte and the start-of-frame delimiter.
pub const PREAMBLE_BYTE: u8 = 0x55;
pub const SFD: u8 = 0xD5;
/// Preamble bytes the transmitter sends before the SFD.
pub const PREAMBLE_LEN: usize = 7;
/// Minimum idle clocks (bytes) between two frames the transmitter sends.
pub const MIN_GAP: usize = 12;
/// FCS width.
pub const FCS_LEN: usize = 4;
/// Shortest and longest MAC frame (destination to FCS) that Ethernet allows.
pub const MIN_FRAME: usize = 64;
pub const MAX_FRAME: usize = 1518;

/// Byte ranges of the MAC frame (from the destination MAC on).
pub mod field {
    use core::ops::Range;

    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    /// The coldgate frame.
    pub const PAYLOAD: Range<usize> = ETHERTYPE.end..ETHERTYPE.end + crate::FRAME_LEN;
    pub const fn fcs() -> Range<usize> {
        PAYLOAD.end..PAYLOAD.end + super::FCS_LEN
    }
}

/// Header bytes before the payload.
pub const HEADER_LEN: usize = field::PAYLOAD.start;
/// The MAC frame of one coldgate frame: header, payload, FCS.
pub const MAC_FRAME_LEN: usize = field::fcs().end;
/// Clocks one frame takes on the wire at line rate: preamble, SFD, MAC frame, minimum gap.
pub const WIRE_BYTES: usize = PREAMBLE_LEN + 1 + MAC_FRAME_LEN + MIN_GAP;
/// The GMII clock of a gigabit port.
pub const GMII_HZ: u32 = 125_000_000;
/// Receive slots per port in the logic (each holds one accepted payload).
pub const RX_SLOTS: usize = 4;

const _: () = assert!(
    FRAME_LEN >= 46,
    "no padding: the payload fills the minimum frame"
);
const _: () = assert!(MAC_FRAME_LEN >= MIN_FRAME && MAC_FRAME_LEN <= MAX_FRAME);
const _: () = assert!(WIRE_BYTES == 190);

/// Frames per second one port carries at line rate (657,894 and a fraction).
pub fn line_rate_frames_per_s() -> f64 {
    GMII_HZ as f64 / WIRE_BYTES as f64
}

/// A MAC address.
pub type Mac = [u8; 6];

/// One of the appliance's two Ethernet ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EthPort {
    /// Untrusted network: converter-in. Feeds the request lane; sends responses and request
    /// NOTICEs.
    U = 0,
    /// Trusted network: converter-out and the wallet. Feeds the response lane; sends
    /// requests and response NOTICEs.
    T = 1,
}

impl EthPort {
    pub const BOTH: [EthPort; 2] = [EthPort::U, EthPort::T];

    pub fn name(self) -> &'static str {
        match self {
            EthPort::U => "u",
            EthPort::T => "t",
        }
    }

    /// The lane this port's frames go into.
    pub fn lane(self) -> crate::LaneId {
        match self {
            EthPort::U => crate::LaneId::Request,
            EthPort::T => crate::LaneId::Response,
        }
    }

    pub fn other(self) -> EthPort {
        match self {
            EthPort::U => EthPort::T,
            EthPort::T => EthPort::U,
        }
    }

    /// This port's MACs (fixed when the bitstream is built).
    pub fn config(self) -> PortConfig {
        match self {
            EthPort::U => PORT_U,
            EthPort::T => PORT_T,
        }
    }
}

/// A port's addresses: its own, and the one peer it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortConfig {
    pub own: Mac,
    pub peer: Mac,
}

/// Locally administered unicast addresses (`02:...`), "c0 1d" for coldgate.
pub const PORT_U: PortConfig = PortConfig {
    own: [0x02, 0xc0, 0x1d, 0x00, 0x00, 0x01],
    peer: [0x02, 0xc0, 0x1d, 0x00, 0x01, 0x01],
};
pub const PORT_T: PortConfig = PortConfig {
    own: [0x02, 0xc0, 0x1d, 0x00, 0x00, 0x02],
    peer: [0x02, 0xc0, 0x1d, 0x00, 0x01, 0x02],
};

const fn unicast_local(m: Mac) -> bool {
    m[0] & 0x01 == 0 && m[0] & 0x02 != 0
}
const _: () = assert!(
    unicast_local(PORT_U.own)
        && unicast_local(PORT_U.peer)
        && unicast_local(PORT_T.own)
        && unicast_local(PORT_T.peer)
);

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_text(m: &Mac) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Why the Ethernet layer dropped a burst. Values index the per-port counters (after
/// `accepted`, index 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum EthDrop {
    BadPreamble = 1,
    Runt = 2,
    Giant = 3,
    BadFcs = 4,
    NotForUs = 5,
    ForeignSource = 6,
    ForeignEthertype = 7,
    BadLength = 8,
    Overrun = 9,
}

impl EthDrop {
    pub const ALL: [EthDrop; 9] = [
        EthDrop::BadPreamble,
        EthDrop::Runt,
        EthDrop::Giant,
        EthDrop::BadFcs,
        EthDrop::NotForUs,
        EthDrop::ForeignSource,
        EthDrop::ForeignEthertype,
        EthDrop::BadLength,
        EthDrop::Overrun,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EthDrop::BadPreamble => "bad_preamble",
            EthDrop::Runt => "runt",
            EthDrop::Giant => "giant",
            EthDrop::BadFcs => "bad_fcs",
            EthDrop::NotForUs => "not_for_us",
            EthDrop::ForeignSource => "foreign_source",
            EthDrop::ForeignEthertype => "foreign_ethertype",
            EthDrop::BadLength => "bad_length",
            EthDrop::Overrun => "overrun",
        }
    }

    fn text(self) -> &'static str {
        match self {
            EthDrop::BadPreamble => "a byte other than 0x55 before the SFD, or no SFD",
            EthDrop::Runt => "MAC frame shorter than 64 bytes",
            EthDrop::Giant => "MAC frame longer than 1518 bytes",
            EthDrop::BadFcs => "FCS does not match",
            EthDrop::NotForUs => "destination is not the port's MAC",
            EthDrop::ForeignSource => "source is not the port's peer",
            EthDrop::ForeignEthertype => "EtherType is not 0x88b5",
            EthDrop::BadLength => "payload is not exactly one coldgate frame",
            EthDrop::Overrun => "no receive slot free (logic only)",
        }
    }
}

/// Per-port counter names, in counter-index order: `accepted`, each [`EthDrop`] by value,
/// then `sent` (frames transmitted). Verilog ports are `<port>_eth_count_<name>`.
pub const COUNTER_NAMES: [&str; EthDrop::ALL.len() + 2] = [
    "accepted",
    "bad_preamble",
    "runt",
    "giant",
    "bad_fcs",
    "not_for_us",
    "foreign_source",
    "foreign_ethertype",
    "bad_length",
    "overrun",
    "sent",
];
/// Index of `sent` in [`COUNTER_NAMES`].
pub const SENT: usize = EthDrop::ALL.len() + 1;

const _: () = {
    let mut i = 0;
    while i < EthDrop::ALL.len() {
        assert!(EthDrop::ALL[i] as usize == i + 1);
        i += 1;
    }
};

/// One port's Ethernet counters, wrapping at 2^32, in [`COUNTER_NAMES`] order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortCounters(pub [u32; COUNTER_NAMES.len()]);

impl PortCounters {
    pub fn accepted(&self) -> u32 {
        self.0[0]
    }
    pub fn dropped(&self, r: EthDrop) -> u32 {
        self.0[r as usize]
    }
    pub fn sent(&self) -> u32 {
        self.0[SENT]
    }
    fn bump(&mut self, i: usize) {
        self.0[i] = self.0[i].wrapping_add(1);
    }
}

/// The MAC frame (destination to FCS) of `payload`, with its FCS.
pub fn mac_frame(dst: &Mac, src: &Mac, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(HEADER_LEN + payload.len() + FCS_LEN);
    f.extend_from_slice(dst);
    f.extend_from_slice(src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    let fcs = checksum::checksum(&f);
    f.extend_from_slice(&fcs.to_le_bytes());
    f
}

/// Preamble and SFD in front of a MAC frame: the bytes of one burst.
pub fn burst(mac_frame: &[u8]) -> Vec<u8> {
    let mut b = vec![PREAMBLE_BYTE; PREAMBLE_LEN];
    b.push(SFD);
    b.extend_from_slice(mac_frame);
    b
}

/// The burst `port` transmits for `payload`: to its peer, from its own MAC.
pub fn wire_frame(port: EthPort, payload: &[u8; FRAME_LEN]) -> Vec<u8> {
    let c = port.config();
    burst(&mac_frame(&c.peer, &c.own, ETHERTYPE, payload))
}

/// The burst `port` accepts for `payload`: from its peer, to its own MAC.
pub fn frame_to(port: EthPort, payload: &[u8]) -> Vec<u8> {
    let c = port.config();
    burst(&mac_frame(&c.own, &c.peer, ETHERTYPE, payload))
}

pub mod golden {
    //! The Ethernet layer around the golden lane pair, clock by clock at GMII level.

    use super::*;
    use crate::codec::Wire;
    use crate::golden::{LanePair, Verdict};
    use crate::LaneId;

    /// What one receive burst came to.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum RxVerdict {
        Accept(Box<Wire>),
        Drop(EthDrop),
    }

    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Rx {
        Idle,
        Preamble,
        /// After the SFD: the MAC frame's bytes (kept up to `MAX_FRAME + 1`) and its count.
        Data(Vec<u8>, usize),
        /// Wrong preamble: wait for the burst to end.
        Bad,
    }

    /// One port's receiver: bursts in, verdicts out.
    #[derive(Clone, Debug)]
    pub struct PortRx {
        config: PortConfig,
        state: Rx,
    }

    impl PortRx {
        pub fn new(config: PortConfig) -> PortRx {
            PortRx {
                config,
                state: Rx::Idle,
            }
        }

        /// One clock: the byte on the GMII receive pins, if rx_dv is high. A verdict comes on
        /// the first clock without a byte after a burst.
        pub fn clock(&mut self, rx: Option<u8>) -> Option<RxVerdict> {
            let state = std::mem::replace(&mut self.state, Rx::Idle);
            let (next, verdict) = match (state, rx) {
                (Rx::Idle, None) => (Rx::Idle, None),
                (Rx::Idle | Rx::Preamble, Some(PREAMBLE_BYTE)) => (Rx::Preamble, None),
                (Rx::Idle | Rx::Preamble, Some(SFD)) => (Rx::Data(Vec::new(), 0), None),
                (Rx::Idle | Rx::Preamble | Rx::Bad, Some(_)) => (Rx::Bad, None),
                (Rx::Preamble | Rx::Bad, None) => {
                    (Rx::Idle, Some(RxVerdict::Drop(EthDrop::BadPreamble)))
                }
                (Rx::Data(mut buf, n), Some(b)) => {
                    if buf.len() <= MAX_FRAME {
                        buf.push(b);
                    }
                    (Rx::Data(buf, n + 1), None)
                }
                (Rx::Data(buf, n), None) => (Rx::Idle, Some(self.decide(&buf, n))),
            };
            self.state = next;
            verdict
        }

        fn decide(&self, f: &[u8], n: usize) -> RxVerdict {
            use RxVerdict::Drop;
            if n < MIN_FRAME {
                return Drop(EthDrop::Runt);
            }
            if n > MAX_FRAME {
                return Drop(EthDrop::Giant);
            }
            let reg = f
                .iter()
                .fold(checksum::INIT, |r, &b| checksum::update_register(r, b));
            if reg != checksum::RESIDUE {
                return Drop(EthDrop::BadFcs);
            }
            if f[field::DST] != self.config.own {
                return Drop(EthDrop::NotForUs);
            }
            if f[field::SRC] != self.config.peer {
                return Drop(EthDrop::ForeignSource);
            }
            if f[field::ETHERTYPE] != ETHERTYPE.to_be_bytes() {
                return Drop(EthDrop::ForeignEthertype);
            }
            if n != MAC_FRAME_LEN {
                return Drop(EthDrop::BadLength);
            }
            let payload: Wire = f[field::PAYLOAD].try_into().expect("FRAME_LEN bytes");
            RxVerdict::Accept(Box::new(payload))
        }
    }

    /// A frame leaving a port, by the lane that sent it.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct TxFrame {
        pub lane: LaneId,
        /// A NOTICE (else a frame that passed).
        pub notice: bool,
        pub payload: Box<Wire>,
    }

    /// Ethernet counters of both ports.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct EthCounters {
        pub ports: [PortCounters; 2],
    }

    /// The appliance's Ethernet layer with its lane pair.
    #[derive(Clone, Debug)]
    pub struct EthModel {
        rx: [PortRx; 2],
        pub lanes: LanePair,
        counters: EthCounters,
        out: [Vec<TxFrame>; 2],
    }

    impl Default for EthModel {
        fn default() -> Self {
            EthModel {
                rx: [PortRx::new(PORT_U), PortRx::new(PORT_T)],
                lanes: LanePair::default(),
                counters: EthCounters::default(),
                out: [vec![], vec![]],
            }
        }
    }

    impl EthModel {
        /// One clock on both ports (index 0 = U, 1 = T).
        pub fn clock(&mut self, rx: [Option<u8>; 2]) {
            for port in EthPort::BOTH {
                let i = port as usize;
                match self.rx[i].clock(rx[i]) {
                    None => {}
                    Some(RxVerdict::Drop(r)) => self.counters.ports[i].bump(r as usize),
                    Some(RxVerdict::Accept(p)) => {
                        self.counters.ports[i].bump(0);
                        self.feed_lane(port, &p[..]);
                    }
                }
            }
        }

        /// Many clocks; `rx[i]` per port, the shorter padded with idle clocks.
        pub fn run(&mut self, u: &[Option<u8>], t: &[Option<u8>]) {
            for k in 0..u.len().max(t.len()) {
                self.clock([u.get(k).copied().flatten(), t.get(k).copied().flatten()]);
            }
        }

        /// A refill tick of the request lane's token bucket.
        pub fn tick(&mut self) {
            self.lanes.request.tick();
            self.lanes.response.tick();
        }

        fn feed_lane(&mut self, port: EthPort, payload: &[u8]) {
            let lane = port.lane();
            for &b in payload {
                let verdict = self.lanes.lane_mut(lane).push(b);
                let (to, notice, frame) = match verdict {
                    None => continue,
                    Some(Verdict::Pass(w)) => (port.other(), false, w),
                    Some(Verdict::Drop(d)) => (port, true, Box::new(d.frame)),
                };
                self.counters.ports[to as usize].bump(SENT);
                self.out[to as usize].push(TxFrame {
                    lane,
                    notice,
                    payload: frame,
                });
            }
        }

        /// The frames that left `port` so far, in the order each lane sent them (the two
        /// lanes' frames interleave on a port in an order that depends on timing).
        pub fn out(&self, port: EthPort) -> &[TxFrame] {
            &self.out[port as usize]
        }

        pub fn counters(&self) -> EthCounters {
            self.counters
        }
    }
}

/// FRAME.md's Ethernet section.
pub fn frame_md_section() -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Ethernet (the network appliance)\n\n\
         Generated from `spec/src/eth.rs`. Each of the appliance's two gigabit ports carries one \
         coldgate frame per Ethernet II frame, handled in logic (GMII, one byte per 125 MHz \
         clock): no VLAN tag, no padding, no IP, no ARP.\n\n\
         | bytes | field | value |\n|---|---|---|\n\
         | {PREAMBLE_LEN} | preamble | `0x{PREAMBLE_BYTE:02x}` each (any number accepted) |\n\
         | 1 | SFD | `0x{SFD:02x}` |\n\
         | {} | destination MAC | the receiving port's own MAC |\n\
         | {} | source MAC | the receiving port's one peer |\n\
         | {} | EtherType | `0x{ETHERTYPE:04x}` (IEEE local experimental) |\n\
         | {FRAME_LEN} | payload | exactly one coldgate frame |\n\
         | {FCS_LEN} | FCS | CRC-32/ISO-HDLC (the frame trailer's CRC) of destination to \
         payload, little-endian; the register after the FCS equals `0x{:08x}` |\n\
         | >= {MIN_GAP} | gap | idle clocks after each frame sent |\n\n\
         A frame is {MAC_FRAME_LEN} bytes from destination to FCS and {WIRE_BYTES} clocks on \
         the wire at line rate: {:.0} frames/s per port at {} MHz.\n\n\
         | port | network | own MAC | peer MAC | feeds |\n|---|---|---|---|---|",
        field::DST.len(),
        field::SRC.len(),
        field::ETHERTYPE.len(),
        checksum::RESIDUE,
        line_rate_frames_per_s(),
        GMII_HZ / 1_000_000,
    );
    for port in EthPort::BOTH {
        let c = port.config();
        let _ = writeln!(
            s,
            "| `{}` | {} | `{}` | `{}` | {} lane |",
            port.name(),
            match port {
                EthPort::U => "untrusted (converter-in)",
                EthPort::T => "trusted (converter-out, wallet)",
            },
            mac_text(&c.own),
            mac_text(&c.peer),
            port.lane().name()
        );
    }
    let _ = writeln!(
        s,
        "\nA port accepts a frame only when, checked in this order, its MAC frame is at least \
         {MIN_FRAME} and at most {MAX_FRAME} bytes, its FCS is good, it is addressed to the \
         port, comes from the port's peer, has the EtherType above and carries exactly \
         {FRAME_LEN} bytes. The first check that fails names the drop; dropped frames are \
         counted per port and reason and get no NOTICE:\n\n\
         | counter | reason |\n|---|---|"
    );
    for r in EthDrop::ALL {
        let _ = writeln!(s, "| `{}` | {} |", r.name(), r.text());
    }
    s.push_str(
        "\nThe payload of an accepted frame reaches the lane only after the whole frame, FCS \
         included, has passed (store and forward in the Ethernet receiver), so a lane never \
         acts on a frame whose FCS is bad. A lane's passes leave the other port and its \
         NOTICEs leave the port the frame came in on, each rebuilt with that port's own header \
         (destination its peer, source its own MAC) and a fresh FCS. The lane finds the frame \
         in the payloads as on a UART (by its magic); see the module documentation of \
         `spec/src/eth.rs` for the exact model, including what a payload the lane drops early \
         can do to the next one of the same peer.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::golden::*;
    use super::*;
    use crate::codec::Wire;
    use crate::golden::Lane;
    use crate::LaneConfig;

    fn sample(lane: crate::LaneId) -> Wire {
        use crate::codec::{Body, Frame};
        let body = match lane {
            crate::LaneId::Request => Body::GetPubkey { key_id: 7 },
            crate::LaneId::Response => Body::Pubkey {
                key_id: 7,
                key: [0x11; 32],
            },
        };
        let f = Frame {
            client_id: 3,
            counter: 9,
            body,
            tag: [0x42; 32],
        };
        f.encode().expect("valid frame")[..].try_into().unwrap()
    }

    fn bursts(model: &mut EthModel, port: EthPort, bursts: &[Vec<u8>]) {
        let mut stream = vec![];
        for b in bursts {
            stream.extend(b.iter().map(|&x| Some(x)));
            stream.extend([None; MIN_GAP]);
        }
        let idle = vec![None; stream.len()];
        match port {
            EthPort::U => model.run(&stream, &idle),
            EthPort::T => model.run(&idle, &stream),
        }
    }

    #[test]
    fn sizes_and_line_rate() {
        assert_eq!(HEADER_LEN, 14);
        assert_eq!(MAC_FRAME_LEN, 170);
        assert_eq!(WIRE_BYTES, 190);
        assert_eq!(line_rate_frames_per_s().floor() as u64, 657_894);
    }

    #[test]
    fn fcs_is_the_catalog_crc_and_leaves_the_residue() {
        let p = sample(crate::LaneId::Request);
        let f = mac_frame(&PORT_U.own, &PORT_U.peer, ETHERTYPE, &p);
        assert_eq!(f.len(), MAC_FRAME_LEN);
        let reg = f
            .iter()
            .fold(checksum::INIT, |r, &b| checksum::update_register(r, b));
        assert_eq!(reg, checksum::RESIDUE);
        assert_eq!(
            u32::from_le_bytes(f[field::fcs()].try_into().unwrap()),
            checksum::checksum(&f[..field::PAYLOAD.end])
        );
    }

    #[test]
    fn a_valid_request_passes_to_t_with_t_header() {
        let mut m = EthModel::default();
        let p = sample(crate::LaneId::Request);
        bursts(&mut m, EthPort::U, &[frame_to(EthPort::U, &p)]);
        assert_eq!(m.counters().ports[0].accepted(), 1);
        let out = m.out(EthPort::T);
        assert_eq!(out.len(), 1);
        assert!(!out[0].notice);
        assert_eq!(*out[0].payload, p);
        let w = wire_frame(EthPort::T, &out[0].payload);
        assert_eq!(&w[8..14], &PORT_T.peer);
        assert_eq!(&w[14..20], &PORT_T.own);
        assert_eq!(m.counters().ports[1].sent(), 1);
        assert!(m.out(EthPort::U).is_empty());
    }

    #[test]
    fn each_drop_reason_in_its_order() {
        let p = sample(crate::LaneId::Request);
        let c = PORT_U;
        let good = mac_frame(&c.own, &c.peer, ETHERTYPE, &p);
        let mut bad_fcs = good.clone();
        bad_fcs[40] ^= 1;
        let mut bad_fcs_and_dst = bad_fcs.clone();
        bad_fcs_and_dst[0] = 0xff;
        let broadcast = mac_frame(&[0xff; 6], &c.peer, ETHERTYPE, &p);
        let other_src = mac_frame(&c.own, &PORT_T.peer, ETHERTYPE, &p);
        let arp = mac_frame(&c.own, &c.peer, 0x0806, &p);
        let short = mac_frame(&c.own, &c.peer, ETHERTYPE, &p[..151]);
        let long = mac_frame(&c.own, &c.peer, ETHERTYPE, &[&p[..], &[0]].concat());
        let runt = mac_frame(&c.own, &c.peer, ETHERTYPE, &p[..46 - 1]);
        let giant = mac_frame(&c.own, &c.peer, ETHERTYPE, &[0u8; 1501]);
        let max = mac_frame(&c.own, &c.peer, ETHERTYPE, &[0u8; 1500]);
        let cases: Vec<(Vec<u8>, Option<EthDrop>)> = vec![
            (burst(&good), None),
            (burst(&bad_fcs), Some(EthDrop::BadFcs)),
            (burst(&bad_fcs_and_dst), Some(EthDrop::BadFcs)),
            (burst(&broadcast), Some(EthDrop::NotForUs)),
            (burst(&other_src), Some(EthDrop::ForeignSource)),
            (burst(&arp), Some(EthDrop::ForeignEthertype)),
            (burst(&short), Some(EthDrop::BadLength)),
            (burst(&long), Some(EthDrop::BadLength)),
            (burst(&max), Some(EthDrop::BadLength)),
            (burst(&runt), Some(EthDrop::Runt)),
            (burst(&giant), Some(EthDrop::Giant)),
            (good.clone(), Some(EthDrop::BadPreamble)),
            ([&[SFD][..], &good].concat(), None),
            (vec![PREAMBLE_BYTE; 3], Some(EthDrop::BadPreamble)),
        ];
        for (bytes, want) in cases {
            let mut rx = PortRx::new(c);
            let mut got = None;
            for b in bytes.iter().map(|&b| Some(b)).chain([None]) {
                if let Some(v) = rx.clock(b) {
                    assert!(got.is_none());
                    got = Some(v);
                }
            }
            let got = got.expect("a verdict at the end of every burst");
            match want {
                None => assert_eq!(got, RxVerdict::Accept(Box::new(p))),
                Some(r) => assert_eq!(got, RxVerdict::Drop(r), "{} bytes", bytes.len()),
            }
        }
    }

    #[test]
    fn dropped_ethernet_frames_never_reach_the_lane() {
        let p = sample(crate::LaneId::Request);
        let mut bad = frame_to(EthPort::U, &p);
        let last = bad.len() - 1;
        bad[last] ^= 0x80;
        let mut m = EthModel::default();
        bursts(&mut m, EthPort::U, &[bad.clone(), bad]);
        assert_eq!(m.counters().ports[0].dropped(EthDrop::BadFcs), 2);
        assert_eq!(*m.lanes.request.counters(), Default::default());
        assert!(m.out(EthPort::U).is_empty() && m.out(EthPort::T).is_empty());
    }

    #[test]
    fn a_lane_drop_is_noticed_on_the_same_port() {
        let mut p = sample(crate::LaneId::Response);
        p[crate::field::TAG.start] ^= 1; // the CRC no longer matches
        let mut m = EthModel::default();
        bursts(&mut m, EthPort::T, &[frame_to(EthPort::T, &p)]);
        let out = m.out(EthPort::T);
        assert_eq!(out.len(), 1);
        assert!(out[0].notice);
        let mut lane = Lane::new(LaneConfig::RESPONSE);
        let v = lane.push_all(&p);
        match &v[..] {
            [crate::Verdict::Drop(d)] => assert_eq!(*out[0].payload, d.frame),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.counters().ports[1].sent(), 1);
    }

    fn verdict(port: EthPort, burst: &[u8]) -> RxVerdict {
        let mut rx = PortRx::new(port.config());
        let mut got = None;
        for b in burst.iter().map(|&b| Some(b)).chain([None]) {
            if let Some(v) = rx.clock(b) {
                got = Some(v);
            }
        }
        got.expect("a verdict after every burst")
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any payload of exactly one frame, correctly framed, is accepted unchanged; any
        /// single bit flipped in its MAC frame is caught (a CRC-32 catches every 1-bit error),
        /// as `bad_fcs` since the FCS is checked before the header.
        #[test]
        fn framed_payloads_pass_and_every_bit_flip_is_caught(
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), FRAME_LEN),
            bit in 0..MAC_FRAME_LEN * 8,
            t in proptest::prelude::any::<bool>(),
        ) {
            let port = if t { EthPort::T } else { EthPort::U };
            let b = frame_to(port, &payload);
            let want: Wire = payload[..].try_into().unwrap();
            proptest::prop_assert_eq!(verdict(port, &b), RxVerdict::Accept(Box::new(want)));
            let mut flipped = b.clone();
            flipped[PREAMBLE_LEN + 1 + bit / 8] ^= 1 << (bit % 8);
            proptest::prop_assert_eq!(verdict(port, &flipped), RxVerdict::Drop(EthDrop::BadFcs));
            // The other port's frame is not for this one.
            proptest::prop_assert_eq!(
                verdict(port.other(), &b),
                RxVerdict::Drop(EthDrop::NotForUs)
            );
        }
    }

    #[test]
    fn frame_md_names_every_reason_and_mac() {
        let s = frame_md_section();
        for r in EthDrop::ALL {
            assert!(s.contains(r.name()));
        }
        assert!(s.contains(&mac_text(&PORT_U.own)) && s.contains(&mac_text(&PORT_T.peer)));
        assert!(s.contains("0x88b5"));
    }
}
