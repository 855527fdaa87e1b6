//! The host side of each Ethernet port: a Linux TAP interface, a UDP "virtual wire", or both
//! on the same port (a hub: both hear what the port sends, both may send to it).
//!
//! * TAP: the appliance creates the interface (needs `CAP_NET_ADMIN`) and brings it up; the
//!   host then has an ordinary network interface with the appliance port behind it. TAP
//!   frames carry no preamble and no FCS: the bridge adds and strips them ([`super::gmii`]).
//! * UDP: one datagram is one burst exactly as on the wire (preamble, SFD, MAC frame, FCS),
//!   so a sender can put anything on the wire, a bad FCS or a runt included. The appliance
//!   answers the address that last sent it a datagram. Needs no privileges.
//!
//! Each input runs a reader thread with a short timeout (so it notices the stop flag) that
//! hands what it reads to the bridge thread; the bridge thread writes outputs itself.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use coldgate_spec::eth::EthPort;

/// How long a reader waits before it looks at the stop flag again.
const READ_TIMEOUT: Duration = Duration::from_millis(100);
/// Largest frame or burst read (a jumbo-free Ethernet frame fits with room to spare).
const READ_BUF: usize = 4096;

/// What the readers hand the bridge.
#[derive(Debug)]
pub enum HostIn {
    /// A host frame from a TAP (destination MAC to payload, no FCS).
    Frame(EthPort, Vec<u8>),
    /// A whole burst from a virtual wire.
    Burst(EthPort, Vec<u8>),
}

/// A port's TAP interface.
pub struct Tap {
    pub name: String,
    device: Arc<tun::Device>,
}

impl Tap {
    /// Creates the interface and brings it up.
    pub fn create(name: &str) -> anyhow::Result<Tap> {
        let mut config = tun::Configuration::default();
        config.tun_name(name).layer(tun::Layer::L2).up();
        let device = tun::create(&config).map_err(|e| {
            anyhow::anyhow!(
                "creating TAP interface {name}: {e} (this needs CAP_NET_ADMIN and /dev/net/tun: \
                 run as root, or use the unprivileged --udp-u/--udp-t virtual wire)"
            )
        })?;
        Ok(Tap {
            name: name.to_string(),
            device: Arc::new(device),
        })
    }

    /// Hands the port's transmitted frames to the host.
    pub fn send(&self, host_frame: &[u8]) -> std::io::Result<()> {
        self.device.send(host_frame).map(|_| ())
    }

    /// Starts the thread reading what the host sends into the port.
    pub fn spawn_reader(
        &self,
        port: EthPort,
        to_bridge: SyncSender<HostIn>,
        stop: Arc<AtomicBool>,
    ) -> anyhow::Result<()> {
        let device = Arc::clone(&self.device);
        let name = self.name.clone();
        std::thread::Builder::new()
            .name(format!("tap-{name}"))
            .spawn(move || {
                let mut buf = vec![0u8; READ_BUF];
                while !stop.load(Ordering::Relaxed) {
                    match device.recv_timeout(&mut buf, READ_TIMEOUT) {
                        Ok(n) => {
                            if to_bridge
                                .send(HostIn::Frame(port, buf[..n].to_vec()))
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            tracing::error!(tap = %name, error = %e, "TAP read failed; port input stops");
                            return;
                        }
                    }
                }
            })
            .context("starting a TAP reader")?;
        Ok(())
    }
}

/// A port's UDP virtual wire.
pub struct UdpWire {
    socket: UdpSocket,
    /// Who last sent a burst: where the port's bursts go.
    peer: Arc<Mutex<Option<SocketAddr>>>,
}

impl UdpWire {
    pub fn bind(addr: SocketAddr) -> anyhow::Result<UdpWire> {
        let socket = UdpSocket::bind(addr).with_context(|| format!("binding udp {addr}"))?;
        socket.set_read_timeout(Some(READ_TIMEOUT))?;
        Ok(UdpWire {
            socket,
            peer: Arc::new(Mutex::new(None)),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sends a burst to the last sender, if any (a wire nobody listens on loses it).
    pub fn send(&self, burst: &[u8]) -> std::io::Result<()> {
        let peer = *self.peer.lock().unwrap_or_else(|p| p.into_inner());
        match peer {
            Some(p) => self.socket.send_to(burst, p).map(|_| ()),
            None => Ok(()),
        }
    }

    pub fn spawn_reader(
        &self,
        port: EthPort,
        to_bridge: SyncSender<HostIn>,
        stop: Arc<AtomicBool>,
    ) -> anyhow::Result<()> {
        let socket = self.socket.try_clone()?;
        let peer = Arc::clone(&self.peer);
        std::thread::Builder::new()
            .name(format!("udp-{}", port.name()))
            .spawn(move || {
                let mut buf = vec![0u8; READ_BUF];
                while !stop.load(Ordering::Relaxed) {
                    match socket.recv_from(&mut buf) {
                        Ok((n, from)) => {
                            *peer.lock().unwrap_or_else(|p| p.into_inner()) = Some(from);
                            if to_bridge
                                .send(HostIn::Burst(port, buf[..n].to_vec()))
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock
                                    | std::io::ErrorKind::TimedOut
                                    | std::io::ErrorKind::Interrupted
                            ) => {}
                        Err(e) => {
                            tracing::error!(port = port.name(), error = %e, "udp wire read failed; port input stops");
                            return;
                        }
                    }
                }
            })
            .context("starting a udp wire reader")?;
        Ok(())
    }
}

/// Everything attached to one port.
#[derive(Default)]
pub struct HostPort {
    pub tap: Option<Tap>,
    pub udp: Option<UdpWire>,
}
