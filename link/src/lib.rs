//! Byte links between coldgate's converters and the appliance (or a board).
//!
//! A link is one byte pipe over one medium, named by a [`LinkSpec`] string:
//!
//! | spec | [`Role::Appliance`] (serves) | [`Role::Peer`] (converters) |
//! |---|---|---|
//! | `tcp:HOST:PORT` | listens; one peer at a time, further peers are closed at once; re-accepts after a disconnect | connects; reconnects with exponential backoff |
//! | `pty` | creates a pseudo-terminal pair in raw mode, logs the slave path (and writes it to [`LinkOptions::pty_path_file`]) | not allowed: open the slave path with `serial:` |
//! | `serial:PATH` | opens the device (a UART or a pty slave) at [`LinkOptions::baud`] in a blocking thread, reopens after errors | same |
//! | `file:PATH` | tails `PATH.in`, appends to `PATH.out` | appends to `PATH.in`, tails `PATH.out` |
//! | `eth:IFACE[,port=u\|t][,local=MAC][,peer=MAC]` | not allowed: `coldgate-appliance --board colorlight` bridges TAPs | a raw packet socket on IFACE (needs `CAP_NET_RAW`): one coldgate frame per Ethernet II frame of EtherType 0x88B5 between its MAC and the appliance port's ([`eth`]) |
//!
//! File links carry frames on removable media to an air-gapped side: both files are
//! append-only, each write is flushed to the medium (`fsync`), and a reader starts at the
//! beginning of the file it tails (replayed frames are refused by the wallet's counters).
//!
//! # API
//!
//! ```no_run
//! # async fn demo() -> Result<(), coldgate_link::LinkError> {
//! use coldgate_link::{FrameEvent, FrameLink, Link, LinkOptions, Role};
//! let spec = "tcp:127.0.0.1:7101".parse()?;
//! let link = Link::open(&spec, Role::Peer, LinkOptions::named("untrusted")).await?;
//! let mut frames = FrameLink::new(link);
//! let writer = frames.writer(); // Clone + Send: many tasks may write
//! while let Some(ev) = frames.recv().await {
//!     match ev {
//!         FrameEvent::Frame(wire) => { let _ = writer.write_frame(&wire).await; }
//!         FrameEvent::Invalid(e) => tracing::warn!(%e, "bad candidate"),
//!         FrameEvent::Up { .. } | FrameEvent::Down { .. } => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! * [`Link::open`] sets the medium up (binding, pty creation and file creation errors come back
//!   at once) and spawns a driver task that keeps it up; it must run inside a tokio runtime.
//! * [`Link::recv`] yields [`LinkEvent`]s: `Up` when a peer/device/file is there, `Data` chunks
//!   (at most [`READ_CHUNK`] bytes, raw: the appliance feeds them to its verifier as they
//!   are), `Down` when it went away. `None` means the driver has stopped for good.
//! * [`LinkWriter::write`] queues bytes for the current connection; it fails with
//!   [`LinkError::Down`] while there is none, so a caller can answer at once instead of
//!   waiting. A write that cannot complete within [`LinkOptions::write_timeout`] ends a
//!   connection (tcp, serial) or is discarded (pty, whose peer may simply not be reading).
//! * [`FrameLink`] puts a validating [`FrameSplitter`] on top of a link for the converters:
//!   whole decoded-valid frames, invalid candidates as errors, the splitter reset on every
//!   `Up`/`Down` so bytes of two connections are never joined.
//!
//! Every buffer is bounded: the event queue ([`EVENT_QUEUE`] chunks), the write queue
//! ([`WRITE_QUEUE`] writes) and the splitter (one frame). A slow consumer slows the reader
//! (backpressure), it never grows memory.

#![forbid(unsafe_code)]

pub mod eth;
mod file;
pub mod log;
pub mod netns;
mod pty;
mod serial;
pub mod signal;
mod spec;
pub mod split;
mod stream;
mod tcp;
mod threads;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use coldgate_spec::codec::{DecodeError, Wire};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use spec::{LinkSpec, SpecError};
pub use split::{FrameSplitter, SplitStats};

/// Largest chunk a link reads at once.
pub const READ_CHUNK: usize = 4096;
/// Chunks a link buffers for a slow consumer before it stops reading.
pub const EVENT_QUEUE: usize = 64;
/// Writes a link buffers before [`LinkWriter::write`] waits.
pub const WRITE_QUEUE: usize = 64;

/// Which end of a link this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The appliance (or board) side: serves.
    Appliance,
    /// A converter: connects to the appliance.
    Peer,
}

/// Knobs of a link; [`LinkOptions::named`] gives sensible defaults.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// Names the link in logs (e.g. `untrusted`, `trusted`).
    pub name: String,
    /// Serial line rate.
    pub baud: u32,
    /// Where an appliance writes the slave path of a `pty` link (for scripts and tests).
    pub pty_path_file: Option<PathBuf>,
    /// First and longest wait between reconnection attempts.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How often a file link looks for appended bytes.
    pub poll: Duration,
    /// Longest a single write may take before the connection is considered stuck.
    pub write_timeout: Duration,
}

impl LinkOptions {
    pub fn named(name: impl Into<String>) -> LinkOptions {
        LinkOptions {
            name: name.into(),
            baud: coldgate_spec::config::DEFAULT_BAUD,
            pty_path_file: None,
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            poll: Duration::from_millis(20),
            write_timeout: Duration::from_secs(2),
        }
    }
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions::named("link")
    }
}

/// What happens on a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// A peer, device or file is there; `peer` says which.
    Up { peer: String },
    /// Bytes as they arrived.
    Data(Bytes),
    /// The peer or device went away; the driver is trying again.
    Down { reason: String },
}

/// Why a link could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{spec} cannot be used in the {role:?} role: {why}")]
    Role {
        spec: LinkSpec,
        role: Role,
        why: &'static str,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "eth:{iface} needs CAP_NET_RAW to open a raw packet socket: run it as root, or grant \
         the binary the capability (setcap cap_net_raw+ep PATH)"
    )]
    NeedsNetRaw { iface: String },
    #[error("eth:{iface}: no such network interface (have: {have})")]
    EthNoInterface { iface: String, have: String },
    #[error(
        "eth:{iface}: which appliance port? add ,port=u or ,port=t (a link named {name:?} \
         has no default; `untrusted` is U, `trusted` is T)"
    )]
    EthPort { iface: String, name: String },
    #[error("creating a pseudo-terminal: {0}")]
    Pty(#[from] nix::Error),
    #[error("the link is down (no peer connected)")]
    Down,
    #[error("the link has stopped")]
    Closed,
}

pub(crate) fn io_error(what: impl Into<String>, source: std::io::Error) -> LinkError {
    LinkError::Io {
        what: what.into(),
        source,
    }
}

/// The ends a driver task works with.
pub(crate) struct Plumbing {
    pub name: String,
    pub events: mpsc::Sender<LinkEvent>,
    pub writes: mpsc::Receiver<Bytes>,
    pub up: watch::Sender<bool>,
}

impl Plumbing {
    /// Reports a new connection. False when the link's owner is gone.
    pub async fn up(&self, peer: String) -> bool {
        tracing::info!(link = %self.name, %peer, "link up");
        self.up.send_replace(true);
        self.events.send(LinkEvent::Up { peer }).await.is_ok()
    }

    /// Reports a lost connection. False when the link's owner is gone.
    pub async fn down(&self, reason: String) -> bool {
        tracing::warn!(link = %self.name, %reason, "link down");
        self.up.send_replace(false);
        self.events.send(LinkEvent::Down { reason }).await.is_ok()
    }

    /// Waits `delay` while discarding writes: nobody would receive them, and writers were
    /// told the link is down.
    pub async fn idle(&mut self, delay: Duration) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return !self.events.is_closed(),
                w = self.writes.recv() => match w {
                    Some(b) => tracing::debug!(link = %self.name, bytes = b.len(), "discarded a write while down"),
                    None => return false,
                },
            }
        }
    }
}

/// Exponential backoff between reconnection attempts.
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(o: &LinkOptions) -> Backoff {
        Backoff {
            min: o.backoff_min,
            max: o.backoff_max.max(o.backoff_min),
            next: o.backoff_min,
        }
    }
    pub fn reset(&mut self) {
        self.next = self.min;
    }
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}

/// Aborts the driver when the link is dropped.
struct Driver(JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One open link. Dropping it stops its driver.
pub struct Link {
    spec: LinkSpec,
    role: Role,
    events: mpsc::Receiver<LinkEvent>,
    writer: LinkWriter,
    pty_path: Option<PathBuf>,
    local_addr: Option<SocketAddr>,
    _driver: Driver,
}

/// The sending half of a link; cheap to clone.
#[derive(Clone, Debug)]
pub struct LinkWriter {
    tx: mpsc::Sender<Bytes>,
    up: watch::Receiver<bool>,
}

impl LinkWriter {
    /// True while a peer (device, file) is there.
    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Queues bytes for the current connection.
    pub async fn write(&self, bytes: Bytes) -> Result<(), LinkError> {
        if !self.is_up() {
            return Err(LinkError::Down);
        }
        self.tx.send(bytes).await.map_err(|_| LinkError::Closed)
    }

    /// Queues one frame.
    pub async fn write_frame(&self, wire: &Wire) -> Result<(), LinkError> {
        self.write(Bytes::copy_from_slice(wire)).await
    }

    /// Waits until the link is up (or has stopped, which is an error).
    pub async fn wait_up(&self) -> Result<(), LinkError> {
        let mut up = self.up.clone();
        up.wait_for(|&u| u).await.map_err(|_| LinkError::Closed)?;
        Ok(())
    }
}

impl Link {
    /// Opens a link and starts its driver task (needs a tokio runtime).
    pub async fn open(
        spec: &LinkSpec,
        role: Role,
        options: LinkOptions,
    ) -> Result<Link, LinkError> {
        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        let (writes_tx, writes) = mpsc::channel(WRITE_QUEUE);
        let (up_tx, up_rx) = watch::channel(false);
        let plumbing = Plumbing {
            name: options.name.clone(),
            events: events_tx,
            writes,
            up: up_tx,
        };
        let mut pty_path = None;
        let mut local_addr = None;
        let task = match (spec, role) {
            (LinkSpec::Tcp { .. }, Role::Appliance) => {
                let (addr, task) = tcp::serve(spec, plumbing, options).await?;
                local_addr = Some(addr);
                task
            }
            (LinkSpec::Tcp { .. }, Role::Peer) => tcp::connect(spec, plumbing, options)?,
            (LinkSpec::Pty, Role::Appliance) => {
                let (path, task) = pty::serve(plumbing, options)?;
                pty_path = Some(path);
                task
            }
            (LinkSpec::Pty, Role::Peer) => {
                return Err(LinkError::Role {
                    spec: spec.clone(),
                    role,
                    why: "the appliance creates the pty; open its slave path with serial:",
                })
            }
            (LinkSpec::Serial(path), _) => serial::run(path.clone(), plumbing, options),
            (LinkSpec::File(path), role) => file::run(path, role, plumbing, options).await?,
            (LinkSpec::Eth(_), Role::Appliance) => {
                return Err(LinkError::Role {
                    spec: spec.clone(),
                    role,
                    why: "the Ethernet appliance bridges TAP interfaces itself \
                          (coldgate-appliance --board colorlight)",
                })
            }
            (LinkSpec::Eth(eth), Role::Peer) => eth::run(eth, plumbing, options)?,
        };
        Ok(Link {
            spec: spec.clone(),
            role,
            events,
            writer: LinkWriter {
                tx: writes_tx,
                up: up_rx,
            },
            pty_path,
            local_addr,
            _driver: Driver(task),
        })
    }

    /// The next event; `None` once the driver has stopped for good.
    pub async fn recv(&mut self) -> Option<LinkEvent> {
        self.events.recv().await
    }

    pub fn writer(&self) -> LinkWriter {
        self.writer.clone()
    }

    pub fn spec(&self) -> &LinkSpec {
        &self.spec
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The slave path of an appliance's `pty` link.
    pub fn pty_path(&self) -> Option<&Path> {
        self.pty_path.as_deref()
    }

    /// The bound address of an appliance's `tcp` link (useful with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }
}

/// A converter's links to its appliances could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("opening {spec}")]
pub struct OpenError {
    pub spec: LinkSpec,
    #[source]
    pub source: LinkError,
}

/// Opens a converter's links to its appliances (the [`Role::Peer`] end) as frame links, in
/// order. Each is named `name` when it is the only one and `name-{i}` among several, so logs
/// and metrics tell them apart; `baud` is for serial links.
pub async fn open_peers(
    specs: &[LinkSpec],
    name: &str,
    baud: u32,
) -> Result<Vec<FrameLink>, OpenError> {
    let mut links = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let options = LinkOptions {
            baud,
            ..LinkOptions::named(if specs.len() == 1 {
                name.to_string()
            } else {
                format!("{name}-{i}")
            })
        };
        let link = Link::open(spec, Role::Peer, options)
            .await
            .map_err(|source| OpenError {
                spec: spec.clone(),
                source,
            })?;
        links.push(FrameLink::new(link));
    }
    Ok(links)
}

/// What a [`FrameLink`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameEvent {
    Up {
        peer: String,
    },
    Down {
        reason: String,
    },
    /// A candidate that decodes (every wire rule and the CRC hold); the tag is not checked.
    Frame(Box<Wire>),
    /// A candidate that does not decode; the splitter already resumed hunting inside it.
    Invalid(DecodeError),
}

/// A link read as frames.
pub struct FrameLink {
    link: Link,
    splitter: FrameSplitter,
    ready: VecDeque<FrameEvent>,
}

impl FrameLink {
    pub fn new(link: Link) -> FrameLink {
        FrameLink {
            link,
            splitter: FrameSplitter::validating(),
            ready: VecDeque::new(),
        }
    }

    /// The next frame or connection change; `None` once the link has stopped.
    pub async fn recv(&mut self) -> Option<FrameEvent> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Some(ev);
            }
            match self.link.recv().await? {
                LinkEvent::Up { peer } => {
                    self.splitter.reset();
                    return Some(FrameEvent::Up { peer });
                }
                LinkEvent::Down { reason } => {
                    self.splitter.reset();
                    return Some(FrameEvent::Down { reason });
                }
                LinkEvent::Data(bytes) => {
                    // At most READ_CHUNK results per chunk, so `ready` stays bounded.
                    let ready = &mut self.ready;
                    self.splitter.push(&bytes, &mut |r| {
                        ready.push_back(match r {
                            Ok(w) => FrameEvent::Frame(Box::new(w)),
                            Err(e) => FrameEvent::Invalid(e),
                        })
                    });
                }
            }
        }
    }

    pub fn writer(&self) -> LinkWriter {
        self.link.writer()
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    pub fn stats(&self) -> SplitStats {
        self.splitter.stats()
    }
}
