//! The Ethernet appliance without a board: `coldgate-appliance --board colorlight`.
//!
//! The Ethernet top's logic runs clock by clock at GMII level ([`core`]: the Verilated
//! `coldgate_eth`, or spec's golden Ethernet model), and each of its two ports is bridged to
//! the host ([`host`]): a TAP interface (the host sees an ordinary network interface with the
//! appliance port behind it), a UDP virtual wire that carries whole bursts, or both. The
//! bridge plays the PHYs and the far NICs ([`gmii`]): a host frame goes onto the receive pins
//! padded, with its FCS, preamble, SFD and a minimum gap after it; what the port transmits is
//! cut into bursts, checked (preamble, SFD, FCS) and handed to the host without them.
//!
//! ```text
//!   host: converter-in                                              host: converter-out
//!   eth:tapu ── TAP tapu ─┐                                  ┌─ TAP tapt ── eth:tapt
//!                         ├─ GMII port U ─[ coldgate_eth ]─ GMII port T ─┤
//!   (hostile: udp wire) ──┘                                  └── (udp wire)
//! ```
//!
//! Pacing: while anything is on its way (queued input, a burst going in or out, or fewer than
//! [`DRAIN_CLOCKS`] clocks since the last byte), the bridge clocks the logic in batches as fast
//! as it can; then it sleeps until the host sends something. A simulated clock is not a real
//! 8 ns, so the logic's line rate is measured in clocks (the `eth` bench), not here. The
//! request lane's refill tick follows wall-clock time at `RATE_REFILL_HZ`, applied between
//! batches, at most a full bucket at once (further ticks would be no-ops).

pub mod core;
pub mod gmii;
pub mod host;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use coldgate_spec::config::{RATE_BURST, RATE_REFILL_HZ};
use coldgate_spec::eth::{EthPort, HEADER_LEN, WIRE_BYTES};
use coldgate_spec::FRAME_LEN;

use self::core::{EthCore, EthCoreKind};
use self::gmii::{burst_of, host_frame_of, RxFeed, TxCollect};
use self::host::{HostIn, HostPort, Tap, UdpWire};
use crate::backend::Side;
use crate::frames::classify;

/// Clocks per batch while busy.
const BATCH: usize = 2048;
/// Clocks the bridge keeps running after the last byte in or out before it sleeps: well over
/// a frame's way through the logic (receive slot, lane store and forward, transmit), so
/// nothing is left inside it.
pub const DRAIN_CLOCKS: u64 = 32 * WIRE_BYTES as u64;
/// Bursts queued per port before the host's further frames are dropped (as by a NIC).
const FEED_CAPACITY: usize = 512;
/// Host inputs the readers may queue for the bridge thread.
const INPUT_QUEUE: usize = 1024;

/// Everything the Ethernet appliance needs to start.
#[derive(Clone, Debug)]
pub struct EthApplianceConfig {
    pub core: EthCoreKind,
    /// TAP interface per port (index 0 = U), created by the appliance.
    pub taps: [Option<String>; 2],
    /// UDP virtual wire per port: the address to bind.
    pub udp: [Option<SocketAddr>; 2],
    /// Where to write `SIDE tap NAME` / `SIDE udp ADDR` lines once every port is ready.
    pub endpoints_file: Option<PathBuf>,
    pub stats_every: Duration,
}

impl EthApplianceConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        for port in EthPort::BOTH {
            let i = port as usize;
            if self.taps[i].is_none() && self.udp[i].is_none() {
                anyhow::bail!(
                    "port {} needs --tap-{} NAME or --udp-{} ADDR",
                    port.name(),
                    port.name(),
                    port.name()
                );
            }
        }
        if let [Some(u), Some(t)] = &self.taps {
            if u == t {
                anyhow::bail!("both ports on TAP {u}: each port needs its own interface");
            }
        }
        if self.stats_every.is_zero() {
            anyhow::bail!("the counter log interval must be positive");
        }
        Ok(())
    }
}

/// The side of the UART appliance each port stands for (for logs and endpoint lines).
pub fn side_of(port: EthPort) -> Side {
    match port {
        EthPort::U => Side::Untrusted,
        EthPort::T => Side::Trusted,
    }
}

/// What the bridge counts beside the core's counters.
#[derive(Clone, Copy, Debug, Default)]
struct BridgeStats {
    /// Host frames and bursts put on each port's wire.
    fed: [u64; 2],
    /// Bursts each port transmitted, and those that were not well-formed (a logic fault).
    bursts: [u64; 2],
    malformed: [u64; 2],
}

struct Bridge {
    core: Box<dyn EthCore>,
    ports: [HostPort; 2],
    feeds: [RxFeed; 2],
    collect: [TxCollect; 2],
    quiet: u64,
    stats: BridgeStats,
    start: Instant,
    ticks_done: u64,
}

impl Bridge {
    fn busy(&self) -> bool {
        self.quiet < DRAIN_CLOCKS || self.feeds.iter().any(|f| !f.idle())
    }

    fn input(&mut self, m: HostIn) {
        let (port, burst) = match m {
            HostIn::Frame(port, f) => (port, burst_of(&f)),
            HostIn::Burst(port, b) => (port, b),
        };
        let i = port as usize;
        if self.feeds[i].push(burst) {
            self.stats.fed[i] += 1;
        } else {
            tracing::warn!(
                port = port.name(),
                dropped = self.feeds[i].overflow,
                "host sends faster than the simulated wire; frame dropped"
            );
        }
        self.quiet = 0;
    }

    /// Refill ticks due by wall-clock time.
    fn ticks(&mut self) {
        let due = (self.start.elapsed().as_secs_f64() * f64::from(RATE_REFILL_HZ)) as u64;
        let new = due
            .saturating_sub(self.ticks_done)
            .min(u64::from(RATE_BURST));
        for _ in 0..new {
            self.core.tick();
        }
        self.ticks_done = due.max(self.ticks_done);
    }

    /// Runs one batch of clocks.
    fn batch(&mut self, rx: &mut Vec<[Option<u8>; 2]>, tx: &mut Vec<[Option<u8>; 2]>) {
        rx.clear();
        tx.clear();
        for _ in 0..BATCH {
            rx.push([self.feeds[0].clock(), self.feeds[1].clock()]);
        }
        self.core.run(rx, tx);
        for (r, t) in rx.iter().zip(tx.iter()) {
            if r.iter().chain(t.iter()).any(Option::is_some) {
                self.quiet = 0;
            } else {
                self.quiet += 1;
            }
            for port in EthPort::BOTH {
                let i = port as usize;
                if let Some(burst) = self.collect[i].clock(t[i]) {
                    self.deliver(port, &burst);
                }
            }
        }
    }

    /// Hands a transmitted burst to the port's host side.
    fn deliver(&mut self, port: EthPort, burst: &[u8]) {
        let i = port as usize;
        self.stats.bursts[i] += 1;
        let host_frame = match host_frame_of(burst) {
            Ok(f) => f,
            Err(e) => {
                self.stats.malformed[i] += 1;
                tracing::error!(port = port.name(), error = %e, len = burst.len(), "the logic sent a malformed burst; not delivered");
                return;
            }
        };
        if let Some(payload) = host_frame.get(HEADER_LEN..) {
            if let Ok(wire) = <&[u8; FRAME_LEN]>::try_from(payload) {
                crate::appliance::log_frame(side_of(port), &classify(wire));
            }
        }
        let hp = &self.ports[i];
        if let Some(tap) = &hp.tap {
            if let Err(e) = tap.send(host_frame) {
                tracing::warn!(port = port.name(), tap = %tap.name, error = %e, "TAP write failed; frame lost");
            }
        }
        if let Some(udp) = &hp.udp {
            if let Err(e) = udp.send(burst) {
                tracing::warn!(port = port.name(), error = %e, "udp wire write failed; burst lost");
            }
        }
    }

    fn log_counters(&self, when: &str) {
        let s = self.stats;
        tracing::info!(
            backend = self.core.kind(),
            fed_u = s.fed[0],
            fed_t = s.fed[1],
            malformed_u = s.malformed[0],
            malformed_t = s.malformed[1],
            "{when} counters: {}",
            self.core.counters().text()
        );
    }
}

/// The bridge thread: owns the core, turns host input and time into clocks and host output.
fn bridge(
    kind: EthCoreKind,
    ports: [HostPort; 2],
    input: Receiver<HostIn>,
    stop: Arc<AtomicBool>,
    stats_every: Duration,
) -> anyhow::Result<()> {
    let core = kind.build()?;
    tracing::info!(backend = core.kind(), "Ethernet core ready");
    let mut b = Bridge {
        core,
        ports,
        feeds: [RxFeed::new(FEED_CAPACITY), RxFeed::new(FEED_CAPACITY)],
        collect: [TxCollect::default(), TxCollect::default()],
        quiet: DRAIN_CLOCKS,
        stats: BridgeStats::default(),
        start: Instant::now(),
        ticks_done: 0,
    };
    let (mut rx, mut tx) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
    let mut last_stats = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if !b.busy() {
            // Asleep until the host sends something (or it is time for the stats line).
            let wait = stats_every
                .saturating_sub(last_stats.elapsed())
                .clamp(Duration::from_millis(1), Duration::from_millis(100));
            match input.recv_timeout(wait) {
                Ok(m) => b.input(m),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Whatever else is waiting, bounded so that output keeps flowing under load.
        for _ in 0..INPUT_QUEUE {
            match input.try_recv() {
                Ok(m) => b.input(m),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
            }
        }
        if b.busy() {
            b.ticks();
            b.batch(&mut rx, &mut tx);
        }
        if last_stats.elapsed() >= stats_every {
            last_stats = Instant::now();
            b.log_counters("live");
        }
    }
    b.log_counters("final");
    Ok(())
}

fn endpoint_lines(ports: &[HostPort; 2]) -> anyhow::Result<String> {
    let mut s = String::new();
    for port in EthPort::BOTH {
        let hp = &ports[port as usize];
        let side = side_of(port);
        if let Some(t) = &hp.tap {
            let _ = writeln!(s, "{side} tap {}", t.name);
        }
        if let Some(u) = &hp.udp {
            let _ = writeln!(s, "{side} udp {}", u.local_addr()?);
        }
    }
    Ok(s)
}

/// Runs the Ethernet appliance until `shutdown` resolves or the bridge fails.
pub async fn run(
    cfg: EthApplianceConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    cfg.validate()?;
    let mut ports = [HostPort::default(), HostPort::default()];
    for port in EthPort::BOTH {
        let i = port as usize;
        if let Some(name) = &cfg.taps[i] {
            ports[i].tap = Some(Tap::create(name)?);
        }
        if let Some(addr) = cfg.udp[i] {
            ports[i].udp = Some(UdpWire::bind(addr)?);
        }
    }
    let endpoints = endpoint_lines(&ports)?;
    for line in endpoints.lines() {
        tracing::info!(endpoint = line, "port open");
    }
    let (to_bridge, input) = sync_channel(INPUT_QUEUE);
    let stop = Arc::new(AtomicBool::new(false));
    for port in EthPort::BOTH {
        let hp = &ports[port as usize];
        if let Some(t) = &hp.tap {
            t.spawn_reader(port, to_bridge.clone(), Arc::clone(&stop))?;
        }
        if let Some(u) = &hp.udp {
            u.spawn_reader(port, to_bridge.clone(), Arc::clone(&stop))?;
        }
    }
    drop(to_bridge);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let (kind, every, stop2) = (cfg.core, cfg.stats_every, Arc::clone(&stop));
    let worker = std::thread::Builder::new()
        .name("eth-bridge".into())
        .spawn(move || {
            let r = bridge(kind, ports, input, stop2, every);
            let _ = done_tx.send(());
            r
        })
        .context("starting the bridge thread")?;
    // Written once the core is being built and every port is open: a peer may start now.
    if let Some(path) = &cfg.endpoints_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &endpoints)
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tokio::pin!(shutdown);
    let outcome = tokio::select! {
        () = &mut shutdown => {
            tracing::info!("shutting down");
            Ok(())
        }
        _ = done_rx => Err(anyhow::anyhow!("the bridge stopped")),
    };
    stop.store(true, Ordering::Relaxed);
    let worked = tokio::task::spawn_blocking(move || worker.join())
        .await
        .context("joining the bridge thread")?;
    match worked {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("the bridge thread panicked"),
    }
    outcome
}
