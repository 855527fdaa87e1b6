//! What a PHY does between a host's Ethernet frames and the GMII pins: on the way in, padding,
//! FCS, preamble, SFD and the inter-frame gap; on the way out, cutting the transmit bytes
//! into bursts and checking and stripping preamble, SFD and FCS.
//!
//! Host frames are what a TAP or a packet socket carries: destination MAC to payload, no FCS.
//! Bursts are what the wire carries while `rx_dv`/`tx_en` is high: preamble, SFD, the MAC
//! frame and its FCS.

use std::collections::VecDeque;

use coldgate_spec::checksum;
use coldgate_spec::eth::{self, FCS_LEN, MIN_FRAME, MIN_GAP, PREAMBLE_BYTE, PREAMBLE_LEN, SFD};

/// Shortest host frame a NIC sends: shorter ones are padded with zeros up to it.
pub const MIN_HOST_FRAME: usize = MIN_FRAME - FCS_LEN;

/// The burst a NIC puts on the wire for a host frame: padded, FCS appended, preamble and SFD
/// in front.
pub fn burst_of(host_frame: &[u8]) -> Vec<u8> {
    let mut f = host_frame.to_vec();
    if f.len() < MIN_HOST_FRAME {
        f.resize(MIN_HOST_FRAME, 0);
    }
    let fcs = checksum::checksum(&f);
    f.extend_from_slice(&fcs.to_le_bytes());
    eth::burst(&f)
}

/// Why a transmitted burst is not a well-formed Ethernet frame (the logic's fault: counted
/// and logged, never handed to a host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BurstError {
    #[error("the burst does not start with a preamble and SFD")]
    Preamble,
    #[error("the MAC frame is {0} bytes, shorter than 64")]
    Short(usize),
    #[error("the FCS does not match")]
    Fcs,
}

/// The host frame inside a burst: preamble and SFD checked and removed, FCS checked and
/// removed.
pub fn host_frame_of(burst: &[u8]) -> Result<&[u8], BurstError> {
    let sfd = burst
        .iter()
        .position(|&b| b != PREAMBLE_BYTE)
        .ok_or(BurstError::Preamble)?;
    if burst[sfd] != SFD {
        return Err(BurstError::Preamble);
    }
    let mac = &burst[sfd + 1..];
    if mac.len() < MIN_FRAME {
        return Err(BurstError::Short(mac.len()));
    }
    let reg = mac
        .iter()
        .fold(checksum::INIT, |r, &b| checksum::update_register(r, b));
    if reg != checksum::RESIDUE {
        return Err(BurstError::Fcs);
    }
    Ok(&mac[..mac.len() - FCS_LEN])
}

/// Bursts waiting to go onto one port's receive pins, one byte per clock, each followed by
/// at least [`MIN_GAP`] idle clocks. Bounded: a host that sends faster than the simulated
/// wire carries loses frames here, as a NIC's transmit ring would.
#[derive(Debug)]
pub struct RxFeed {
    queue: VecDeque<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    gap: usize,
    capacity: usize,
    /// Bursts refused because the queue was full.
    pub overflow: u64,
}

impl RxFeed {
    pub fn new(capacity: usize) -> RxFeed {
        RxFeed {
            queue: VecDeque::new(),
            current: Vec::new(),
            at: 0,
            gap: 0,
            capacity,
            overflow: 0,
        }
    }

    /// Queues a burst; false (and counted) when the queue is full.
    pub fn push(&mut self, burst: Vec<u8>) -> bool {
        if self.queue.len() >= self.capacity {
            self.overflow += 1;
            return false;
        }
        self.queue.push_back(burst);
        true
    }

    /// Bursts queued and not yet started.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Nothing queued, nothing on the wire, the gap done.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && self.at >= self.current.len() && self.gap == 0
    }

    /// The byte on the receive pins this clock (`None`: rx_dv low).
    pub fn clock(&mut self) -> Option<u8> {
        if self.at < self.current.len() {
            let b = self.current[self.at];
            self.at += 1;
            if self.at == self.current.len() {
                self.gap = MIN_GAP;
            }
            return Some(b);
        }
        if self.gap > 0 {
            self.gap -= 1;
            return None;
        }
        let next = self.queue.pop_front()?;
        self.current = next;
        self.at = 0;
        if self.current.is_empty() {
            return None;
        }
        self.clock()
    }
}

/// Cuts one port's transmit bytes into bursts.
#[derive(Debug, Default)]
pub struct TxCollect {
    burst: Vec<u8>,
}

/// Longest burst kept: a giant's preamble, SFD and 1518-byte MAC frame, and some slack. A
/// longer one (a logic fault) is cut there, and fails its FCS check.
const MAX_BURST: usize = PREAMBLE_LEN + 1 + eth::MAX_FRAME + 64;

impl TxCollect {
    /// One clock of `tx_en`/`txd`; a whole burst when `tx_en` falls.
    pub fn clock(&mut self, tx: Option<u8>) -> Option<Vec<u8>> {
        match tx {
            Some(b) => {
                if self.burst.len() < MAX_BURST {
                    self.burst.push(b);
                }
                None
            }
            None if self.burst.is_empty() => None,
            None => Some(std::mem::take(&mut self.burst)),
        }
    }

    /// True while a burst is being transmitted.
    pub fn busy(&self) -> bool {
        !self.burst.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::eth::{frame_to, EthPort, WIRE_BYTES};
    use coldgate_spec::FRAME_LEN;
    use proptest::prelude::*;

    #[test]
    fn a_host_frame_becomes_the_spec_burst_and_back() {
        let payload = [0x3c; FRAME_LEN];
        let spec_burst = frame_to(EthPort::U, &payload);
        let host = host_frame_of(&spec_burst).expect("well formed").to_vec();
        assert_eq!(burst_of(&host), spec_burst);
        assert_eq!(&host[eth::HEADER_LEN..], &payload[..]);
    }

    #[test]
    fn short_frames_are_padded_like_a_nic_does() {
        let b = burst_of(&[1, 2, 3]);
        assert_eq!(b.len(), PREAMBLE_LEN + 1 + MIN_FRAME);
        let host = host_frame_of(&b).expect("padded frame is well formed");
        assert_eq!(host.len(), MIN_HOST_FRAME);
        assert_eq!(&host[..3], &[1, 2, 3]);
    }

    #[test]
    fn broken_bursts_are_named() {
        let good = burst_of(&[7; 100]);
        let mut fcs = good.clone();
        *fcs.last_mut().expect("byte") ^= 1;
        assert_eq!(host_frame_of(&fcs), Err(BurstError::Fcs));
        assert_eq!(host_frame_of(&good[1..60]), Err(BurstError::Short(52)));
        assert_eq!(host_frame_of(&[0x55; 8]), Err(BurstError::Preamble));
        let mut pre = good;
        pre[3] = 0x54;
        assert_eq!(host_frame_of(&pre), Err(BurstError::Preamble));
    }

    #[test]
    fn back_to_back_frames_take_wire_bytes_clocks_each() {
        let mut feed = RxFeed::new(8);
        let b = frame_to(EthPort::T, &[9; FRAME_LEN]);
        for _ in 0..3 {
            assert!(feed.push(b.clone()));
        }
        let mut clocks = Vec::new();
        while !feed.idle() {
            clocks.push(feed.clock());
        }
        assert_eq!(clocks.len(), 3 * WIRE_BYTES);
        let bytes: Vec<u8> = clocks.iter().flatten().copied().collect();
        assert_eq!(bytes, [b.clone(), b.clone(), b].concat());
    }

    #[test]
    fn a_full_feed_refuses_and_counts() {
        let mut feed = RxFeed::new(1);
        assert!(feed.push(vec![1]));
        assert!(!feed.push(vec![2]));
        assert_eq!(feed.overflow, 1);
    }

    proptest! {
        #[test]
        fn collect_returns_each_burst_whole(
            bursts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..6),
            gaps in proptest::collection::vec(1usize..20, 6),
        ) {
            let mut c = TxCollect::default();
            let mut got = Vec::new();
            for (b, g) in bursts.iter().zip(&gaps) {
                for &x in b {
                    prop_assert!(c.clock(Some(x)).is_none());
                }
                for k in 0..*g {
                    let r = c.clock(None);
                    prop_assert_eq!(r.is_some(), k == 0);
                    got.extend(r);
                }
            }
            prop_assert_eq!(got, bursts);
        }
    }
}
