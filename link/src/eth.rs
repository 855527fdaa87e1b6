//! `eth:IFACE`: coldgate frames in raw Ethernet II frames on one network interface.
//!
//! The appliance's Ethernet ports each serve one peer: a frame goes from the peer's MAC (this
//! link's *local* MAC) to the port's MAC (this link's *peer* MAC) with EtherType
//! [`ETHERTYPE`], and carries exactly one coldgate frame as its payload. Everything else on
//! the interface (ARP, IPv6, broadcasts, frames for other stations, other lengths) is ignored
//! here, and counted at debug level.
//!
//! The socket is an `AF_PACKET` raw socket bound to the interface (through `pnet_datalink`,
//! so this crate keeps `forbid(unsafe_code)`); opening one needs `CAP_NET_RAW`, and without
//! it [`Link::open`](crate::Link::open) fails with [`LinkError::NeedsNetRaw`](crate::LinkError).
//! Frames are read in a blocking thread with a short timeout, the same way serial devices are
//! (`crate::threads`): no frame is ever joined with another, since each read returns one
//! payload.
//!
//! A write is cut where coldgate frames start ([`next_piece`]): each frame (the magic and
//! the [`FRAME_LEN`] bytes it starts) is one Ethernet frame, and bytes that are no frame
//! (what a hostile converter may send between frames) go as Ethernet frames of their own,
//! which the appliance drops for their length, as a lane would skip them on a UART. The
//! kernel sends no FCS: the NIC (or the TAP's far end) adds it.
//!
//! Spec form: `eth:IFACE[,port=u|t][,local=MAC][,peer=MAC]`. Without `port=`, the port is
//! taken from the link's name (`untrusted` is U, `trusted` is T, which converter-in and
//! converter-out use); the MACs default to that port's peer and own MAC from spec.

use core::fmt;
use core::str::FromStr;
use std::io::{self, Read, Write};
use std::time::Duration;

use coldgate_spec::{FRAME_LEN, MAGIC};
use pnet_datalink::{Channel, DataLinkReceiver, DataLinkSender, NetworkInterface};
use tokio::task::JoinHandle;

use crate::stream::{End, Stall};
use crate::{threads, Backoff, LinkError, LinkOptions, Plumbing, SpecError};

use coldgate_spec::eth::field;
pub use coldgate_spec::eth::{EthPort, ETHERTYPE, HEADER_LEN};

/// An Ethernet frame carrying one coldgate frame, without FCS (as sockets and TAPs see it).
pub const ETH_FRAME_LEN: usize = HEADER_LEN + FRAME_LEN;

/// A 48-bit MAC address, read and written as `02:c0:1d:00:00:01`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mac(pub coldgate_spec::eth::Mac);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    /// The appliance port's own MAC.
    pub fn of_port(port: EthPort) -> Mac {
        Mac(port.config().own)
    }

    /// The one station `port` serves.
    pub fn peer_of(port: EthPort) -> Mac {
        Mac(port.config().peer)
    }
}

impl FromStr for Mac {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Mac, SpecError> {
        let bad = || SpecError::Mac(s.to_string());
        let mut m = [0u8; 6];
        let mut parts = s.split(':');
        for b in &mut m {
            let p = parts.next().ok_or_else(bad)?;
            if p.len() != 2 {
                return Err(bad());
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Mac(m))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&coldgate_spec::eth::mac_text(&self.0))
    }
}

/// The port a link named like converter-in's (`untrusted`) or converter-out's (`trusted`)
/// link reaches.
pub fn port_of_link(name: &str) -> Option<EthPort> {
    match name {
        "untrusted" => Some(EthPort::U),
        "trusted" => Some(EthPort::T),
        _ => None,
    }
}

/// `eth:IFACE[,port=u|t][,local=MAC][,peer=MAC]`, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EthSpec {
    pub iface: String,
    pub port: Option<EthPort>,
    pub local: Option<Mac>,
    pub peer: Option<Mac>,
}

impl EthSpec {
    /// Parses what follows `eth:`.
    pub(crate) fn parse(rest: &str) -> Result<EthSpec, SpecError> {
        let mut parts = rest.split(',');
        let iface = parts.next().unwrap_or_default();
        // Linux interface names: 1..=15 bytes, no '/', no whitespace.
        if iface.is_empty()
            || iface.len() > 15
            || iface.contains(|c: char| c == '/' || c.is_whitespace())
        {
            return Err(SpecError::EthInterface(rest.to_string()));
        }
        let mut spec = EthSpec {
            iface: iface.to_string(),
            port: None,
            local: None,
            peer: None,
        };
        for p in parts {
            match p.split_once('=') {
                Some(("port", "u" | "U")) => spec.port = Some(EthPort::U),
                Some(("port", "t" | "T")) => spec.port = Some(EthPort::T),
                Some(("local", m)) => spec.local = Some(m.parse()?),
                Some(("peer", m)) => spec.peer = Some(m.parse()?),
                _ => return Err(SpecError::EthOption(p.to_string())),
            }
        }
        Ok(spec)
    }

    /// `(local, peer)` MACs for a link named `name`.
    pub fn macs(&self, name: &str) -> Result<(Mac, Mac), LinkError> {
        let port = self.port.or_else(|| port_of_link(name));
        let local = self.local.or(port.map(Mac::peer_of));
        let peer = self.peer.or(port.map(Mac::of_port));
        match (local, peer) {
            (Some(l), Some(p)) => Ok((l, p)),
            _ => Err(LinkError::EthPort {
                iface: self.iface.clone(),
                name: name.to_string(),
            }),
        }
    }
}

impl fmt::Display for EthSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "eth:{}", self.iface)?;
        if let Some(p) = self.port {
            write!(f, ",port={}", p.name())?;
        }
        if let Some(m) = self.local {
            write!(f, ",local={m}")?;
        }
        if let Some(m) = self.peer {
            write!(f, ",peer={m}")?;
        }
        Ok(())
    }
}

/// Why a frame on the interface is not for this link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// Shorter than an Ethernet header.
    Runt,
    /// Not the coldgate EtherType (ARP, IP, LLDP, ...).
    OtherType,
    /// Addressed to another station (or broadcast, multicast).
    NotForUs,
    /// Not sent by the appliance port this link talks to.
    OtherSource,
    /// The coldgate EtherType, but the payload is not exactly one frame.
    BadLength,
}

/// The coldgate frame inside `frame` (an Ethernet II frame without FCS), if it went from
/// `from` to `to`.
pub fn payload(frame: &[u8], to: Mac, from: Mac) -> Result<&[u8], Ignored> {
    if frame.len() < HEADER_LEN {
        return Err(Ignored::Runt);
    }
    if frame[field::ETHERTYPE] != ETHERTYPE.to_be_bytes() {
        return Err(Ignored::OtherType);
    }
    if frame[field::DST] != to.0 {
        return Err(Ignored::NotForUs);
    }
    if frame[field::SRC] != from.0 {
        return Err(Ignored::OtherSource);
    }
    // Sockets see no FCS; a short frame padded to 60 bytes would still be the wrong length.
    let body = &frame[HEADER_LEN..];
    if body.len() != FRAME_LEN {
        return Err(Ignored::BadLength);
    }
    Ok(body)
}

/// An Ethernet II frame (no FCS) from `src` to `dst` carrying `body`.
pub fn frame(dst: Mac, src: Mac, body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(HEADER_LEN + body.len());
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&ETHERTYPE.to_be_bytes());
    f.extend_from_slice(body);
    debug_assert_eq!(f.get(field::ETHERTYPE), Some(&ETHERTYPE.to_be_bytes()[..]));
    f
}

/// What a link read sees: frames from the peer to us, one coldgate frame per read.
struct EthReader {
    rx: Box<dyn DataLinkReceiver>,
    local: Mac,
    peer: Mac,
    name: String,
    ignored: u64,
}

impl Read for EthReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // Times out after READ_TIMEOUT with `TimedOut`, as `threads` expects.
            let f = self.rx.next()?;
            match payload(f, self.local, self.peer) {
                Ok(body) => {
                    let n = body.len().min(buf.len());
                    buf[..n].copy_from_slice(&body[..n]);
                    return Ok(n);
                }
                Err(why) => {
                    self.ignored += 1;
                    // Our own frames come back as outgoing copies: not worth a line.
                    if f.get(field::SRC) != Some(&self.local.0[..]) {
                        tracing::debug!(link = %self.name, ?why, len = f.len(), ignored = self.ignored, "frame ignored");
                    }
                }
            }
        }
    }
}

/// Length of the first Ethernet payload of `bytes`: a whole frame when they start with the
/// magic, else the bytes before the next magic; never more than [`FRAME_LEN`].
pub fn next_piece(bytes: &[u8]) -> usize {
    let start = bytes.windows(MAGIC.len()).position(|w| w == MAGIC);
    match start {
        Some(0) | None => bytes.len(),
        Some(p) => p,
    }
    .min(FRAME_LEN)
}

/// What a link write does: one Ethernet frame per coldgate frame.
struct EthWriter {
    tx: Box<dyn DataLinkSender>,
    local: Mac,
    peer: Mac,
}

impl Write for EthWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = next_piece(buf);
        if n == 0 {
            return Ok(0);
        }
        let f = frame(self.peer, self.local, &buf[..n]);
        match self.tx.send_to(&f, None) {
            Some(Ok(())) => Ok(n),
            Some(Err(e)) => Err(e),
            None => Err(io::Error::other("the packet socket refused the frame")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The interface named `iface`.
fn interface(iface: &str) -> Result<NetworkInterface, LinkError> {
    let all = pnet_datalink::interfaces();
    let names: Vec<String> = all.iter().map(|i| i.name.clone()).collect();
    all.into_iter()
        .find(|i| i.name == iface)
        .ok_or_else(|| LinkError::EthNoInterface {
            iface: iface.to_string(),
            have: names.join(", "),
        })
}

/// Opens a packet socket on `iface`: frames to `local` are read, frames are sent from it.
fn open(
    iface: &str,
    local: Mac,
    peer: Mac,
    name: &str,
) -> Result<(EthReader, EthWriter), LinkError> {
    let ni = interface(iface)?;
    let own = ni.mac.map(|m| Mac(m.octets()));
    let config = pnet_datalink::Config {
        read_timeout: Some(threads::READ_TIMEOUT),
        write_timeout: Some(Duration::from_secs(1)),
        // Frames to a MAC the interface does not own are filtered by a real NIC unless it is
        // promiscuous; a TAP or veth delivers them either way.
        promiscuous: own != Some(local),
        ..Default::default()
    };
    let channel = pnet_datalink::channel(&ni, config).map_err(|e| {
        if e.kind() == io::ErrorKind::PermissionDenied {
            LinkError::NeedsNetRaw {
                iface: iface.to_string(),
            }
        } else {
            crate::io_error(format!("opening a packet socket on {iface}"), e)
        }
    })?;
    let Channel::Ethernet(tx, rx) = channel else {
        return Err(crate::io_error(
            format!("opening a packet socket on {iface}"),
            io::Error::other("not an Ethernet channel"),
        ));
    };
    Ok((
        EthReader {
            rx,
            local,
            peer,
            name: name.to_string(),
            ignored: 0,
        },
        EthWriter { tx, local, peer },
    ))
}

/// Opens the socket now (a missing interface or capability is an error at start-up) and runs
/// the link in a task, reopening with backoff when the interface goes away.
pub(crate) fn run(
    spec: &EthSpec,
    mut p: Plumbing,
    o: LinkOptions,
) -> Result<JoinHandle<()>, LinkError> {
    let (local, peer) = spec.macs(&o.name)?;
    let iface = spec.iface.clone();
    let first = open(&iface, local, peer, &p.name)?;
    Ok(tokio::spawn(async move {
        let mut backoff = Backoff::new(&o);
        let mut next = Some(first);
        let mut reported = false;
        loop {
            let opened = match next.take() {
                Some(s) => Ok(s),
                None => {
                    let (i, n) = (iface.clone(), p.name.clone());
                    match tokio::task::spawn_blocking(move || open(&i, local, peer, &n)).await {
                        Ok(r) => r,
                        Err(e) => Err(LinkError::Io {
                            what: "packet socket open task".into(),
                            source: io::Error::other(e.to_string()),
                        }),
                    }
                }
            };
            match opened {
                Ok((reader, writer)) => {
                    backoff.reset();
                    reported = false;
                    if !p.up(format!("{iface} {local} <-> {peer}")).await {
                        return;
                    }
                    // A raw socket accepts or fails a frame at once; a stall means the
                    // interface is gone.
                    let end = threads::session(
                        reader,
                        writer,
                        &mut p,
                        o.write_timeout,
                        Stall::Disconnect,
                    )
                    .await;
                    let End::Lost(reason) = end else { return };
                    if !p.down(reason).await {
                        return;
                    }
                }
                Err(e) => {
                    if !reported {
                        tracing::warn!(link = %p.name, %iface, error = %e, "cannot open the interface; retrying");
                        reported = true;
                    }
                }
            }
            if !p.idle(backoff.next_delay()).await {
                return;
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_and_print() {
        let m: Mac = "02:c0:1d:00:00:0a".parse().expect("mac");
        assert_eq!(m.0, [2, 0xc0, 0x1d, 0, 0, 10]);
        assert_eq!(m.to_string(), "02:c0:1d:00:00:0a");
        for bad in [
            "",
            "02:c0:1d:00:00",
            "02:c0:1d:00:00:0a:01",
            "2:c0:1d:00:00:0a",
            "zz:c0:1d:00:00:0a",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn spec_options_and_defaults() {
        let s = EthSpec::parse("veth0").expect("spec");
        assert_eq!(
            s.macs("untrusted").expect("u"),
            (Mac::peer_of(EthPort::U), Mac::of_port(EthPort::U))
        );
        assert_eq!(
            s.macs("trusted").expect("t"),
            (Mac::peer_of(EthPort::T), Mac::of_port(EthPort::T))
        );
        assert!(matches!(s.macs("hostile"), Err(LinkError::EthPort { .. })));
        let s = EthSpec::parse("tapx,port=t,local=02:00:00:00:00:09").expect("spec");
        assert_eq!(
            s.macs("anything").expect("t"),
            (Mac([2, 0, 0, 0, 0, 9]), Mac::of_port(EthPort::T))
        );
        assert!(EthSpec::parse("").is_err());
        assert!(EthSpec::parse("a/b").is_err());
        assert!(EthSpec::parse("sixteen-chars-xx").is_err());
        assert!(EthSpec::parse("veth0,port=x").is_err());
        assert!(EthSpec::parse("veth0,mtu=9000").is_err());
    }

    #[test]
    fn writes_are_cut_where_frames_start() {
        let mut f = [0u8; FRAME_LEN];
        f[..MAGIC.len()].copy_from_slice(&MAGIC);
        assert_eq!(next_piece(&f), FRAME_LEN);
        let two = [f, f].concat();
        assert_eq!(next_piece(&two), FRAME_LEN);
        let garbage_then_frame = [&[1u8, 2, 3][..], &f].concat();
        assert_eq!(next_piece(&garbage_then_frame), 3);
        assert_eq!(next_piece(&garbage_then_frame[3..]), FRAME_LEN);
        assert_eq!(next_piece(&[9u8; 400]), FRAME_LEN);
        assert_eq!(next_piece(&f[..10]), 10);
        assert_eq!(next_piece(&[]), 0);
    }

    #[test]
    fn payload_takes_only_frames_from_the_peer_to_us() {
        let (us, them) = (Mac::peer_of(EthPort::U), Mac::of_port(EthPort::U));
        let body = [0x5a; FRAME_LEN];
        let good = frame(us, them, &body);
        assert_eq!(good.len(), ETH_FRAME_LEN);
        assert_eq!(payload(&good, us, them), Ok(&body[..]));
        assert_eq!(payload(&good[..13], us, them), Err(Ignored::Runt));
        assert_eq!(
            payload(&good[..good.len() - 1], us, them),
            Err(Ignored::BadLength)
        );
        assert_eq!(
            payload(&frame(Mac::BROADCAST, them, &body), us, them),
            Err(Ignored::NotForUs)
        );
        assert_eq!(
            payload(&frame(us, us, &body), us, them),
            Err(Ignored::OtherSource)
        );
        let mut arp = good.clone();
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        assert_eq!(payload(&arp, us, them), Err(Ignored::OtherType));
        // Our own outgoing frames, seen again by the socket, are not read back.
        assert_eq!(
            payload(&frame(them, us, &body), us, them),
            Err(Ignored::NotForUs)
        );
    }
}
