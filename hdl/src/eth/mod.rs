//! The network appliance's Ethernet layer at GMII level (one byte per 125 MHz clock), board
//! independent: the board top (RGMII, clock-domain crossing) wraps [`top::ColdgateEth`].
//!
//! ```text
//!  U PHY --GMII--> EthRx(U) --payloads--> +----------------+ --> EthTx(T) --GMII--> T PHY
//!                                         |  ColdgatePair  |
//!  U PHY <--GMII-- EthTx(U) <--frames---- +----------------+ <-- EthRx(T) <--GMII-- T PHY
//! ```
//!
//! * [`rx`]: preamble/SFD, header and length checks, FCS in logic, receive slots that release a
//!   payload to the lane only after its FCS passed, per-reason drop counters;
//! * [`tx`]: two frame slots, preamble, SFD, the port's header, payload, fresh FCS, gap;
//! * [`top`]: `coldgate_eth`, both ports around the lane pair;
//! * [`sim`]: `coldgate_eth` in rust-hdl's simulator, clock by clock.
//!
//! Every number (MACs, EtherType, lengths, CRC) comes from `coldgate_spec::eth`; the
//! behaviour is `coldgate_spec::eth::golden`.

pub mod rx;
pub mod sim;
pub mod top;
pub mod tx;

use coldgate_spec::eth::{self, EthPort};
use coldgate_spec::FRAME_LEN;

/// Width of a MAC frame byte count: up to `MAX_FRAME + 1` (saturating).
pub const LEN_BITS: usize = 11;
const _: () = assert!(eth::MAX_FRAME < (1 << LEN_BITS) - 1);
/// Offset bits of one payload slot (256 bytes, of which `FRAME_LEN` are used).
pub const SLOT_OFFSET_BITS: usize = 8;
const _: () = assert!(FRAME_LEN <= 1 << SLOT_OFFSET_BITS);
// The kernels write slot addresses as `slot << 8 | offset`.
const _: () = assert!(SLOT_OFFSET_BITS == 8);

/// The header bytes `port` expects from its peer (destination = its own MAC, source = the
/// peer's, EtherType), as a ROM image indexed by MAC frame offset.
pub fn rx_header(port: EthPort) -> Vec<u8> {
    let c = port.config();
    header(&c.own, &c.peer)
}

/// Preamble, SFD and the header `port` sends (destination = its peer, source = its own MAC).
pub fn tx_prefix(port: EthPort) -> Vec<u8> {
    let c = port.config();
    let mut p = vec![eth::PREAMBLE_BYTE; eth::PREAMBLE_LEN];
    p.push(eth::SFD);
    p.extend(header(&c.peer, &c.own));
    p
}

fn header(dst: &eth::Mac, src: &eth::Mac) -> Vec<u8> {
    let mut h = dst.to_vec();
    h.extend_from_slice(src);
    h.extend_from_slice(&eth::ETHERTYPE.to_be_bytes());
    assert_eq!(h.len(), eth::HEADER_LEN);
    h
}
