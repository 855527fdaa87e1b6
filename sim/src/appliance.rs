//! The virtual appliance: one backend behind two links, exactly where a board would sit.
//!
//! Bytes from the untrusted link enter the request lane, bytes from the trusted link the
//! response lane; whatever the backend emits on a side goes out on that side's link. The
//! backend runs on its own thread (a Verilated model stays on the thread that made it), fed
//! by the link tasks through a channel. Refill ticks for simulated backends come from the
//! [`TickClock`]: each chunk is stamped when its link task receives it, and the ticks due by
//! that arrival (at [`RATE_REFILL_HZ`], counted from the first byte received) are placed
//! before it. So where a tick falls depends only on the bytes and the pauses between them,
//! never on how fast the backend runs: the golden model and Verilator give the same verdicts.
//!
//! Every frame leaving the appliance is logged as a verdict, and counters are logged every
//! `stats_every` and at shutdown (from the backend, or as counted on the wire for a board).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use coldgate_link::{Link, LinkEvent, LinkOptions, LinkSpec, LinkWriter, Role};
use coldgate_spec::config::{RATE_BURST, RATE_REFILL_HZ};
use coldgate_spec::{DropReason, LaneId, MsgType};
use tokio::sync::mpsc;

use crate::backend::{Backend, BackendKind, PairCounters, Schedule, Side};
use crate::frames::{classify, FrameSplitter, OutFrame};

/// Everything the appliance needs to start.
#[derive(Clone, Debug)]
pub struct ApplianceConfig {
    pub untrusted: LinkSpec,
    pub trusted: LinkSpec,
    pub backend: BackendKind,
    /// Where to write `SIDE KIND ADDRESS` lines for pty slave paths and bound tcp addresses,
    /// once both links are open (written whole, then renamed into place).
    pub endpoints_file: Option<PathBuf>,
    /// VCD trace of the Verilator model.
    pub vcd: Option<PathBuf>,
    /// The board's UART devices (board backend only).
    pub board_untrusted: Option<String>,
    pub board_trusted: Option<String>,
    /// The board's status UART (optional): counter snapshots.
    pub board_status: Option<String>,
    pub board_baud: u32,
    pub stats_every: Duration,
}

/// Link chunks handed to the backend per batch at most.
const MAX_CHUNKS_PER_BATCH: usize = 256;

enum Input {
    /// Bytes from a side, stamped when the link task received them.
    Bytes(Side, Bytes, Instant),
    Stop,
}

/// Refill ticks for a simulated backend, placed by the arrival time of its input.
///
/// A board ticks every `CLOCK_HZ / RATE_REFILL_HZ` clocks of its own. A simulated backend has
/// no such clock (it runs when there is input), and the time at which the worker gets around
/// to a chunk depends on how long the backend took with the previous ones: Verilator lags the
/// golden model by milliseconds after a burst, and ticks counted at processing time fell
/// later in the stream, letting several more frames through. Ticks are therefore counted
/// from arrival stamps: before a chunk that arrived at `t`, every tick due in
/// `(last chunk's arrival, t]` is applied, at most a full bucket's worth (more would find
/// the bucket full). The clock starts at the first chunk; before it the bucket is full, so
/// earlier ticks could change nothing.
#[derive(Clone, Debug, Default)]
pub struct TickClock {
    epoch: Option<Instant>,
    done: u64,
}

impl TickClock {
    pub fn new() -> TickClock {
        TickClock::default()
    }

    /// Ticks to apply before a chunk that arrived at `at`. Stamps from the two sides may
    /// reach the worker slightly out of order; a stamp earlier than one already seen adds
    /// no tick.
    pub fn before(&mut self, at: Instant) -> u32 {
        let epoch = *self.epoch.get_or_insert(at);
        let nanos = at.saturating_duration_since(epoch).as_nanos();
        let due = (nanos * u128::from(RATE_REFILL_HZ) / 1_000_000_000) as u64;
        let new = due.saturating_sub(self.done);
        self.done = self.done.max(due);
        new.min(u64::from(RATE_BURST)) as u32
    }
}

/// Hands one stamped chunk to a backend: the ticks due by its arrival first, then its bytes.
pub fn feed(
    backend: &mut dyn Backend,
    clock: &mut TickClock,
    side: Side,
    bytes: &[u8],
    at: Instant,
) -> Result<(), crate::BackendError> {
    if backend.kind().host_ticks() {
        for _ in 0..clock.before(at) {
            backend.tick();
        }
    }
    backend.push(side, bytes)
}

/// Creates the backend on the worker thread.
fn make_backend(cfg: &ApplianceConfig) -> anyhow::Result<Box<dyn Backend>> {
    Ok(match cfg.backend {
        BackendKind::Golden => Box::new(crate::GoldenBackend::new()),
        BackendKind::Verilator => Box::new(crate::VerilatorBackend::new(
            Schedule::default(),
            cfg.vcd.as_deref(),
        )?),
        BackendKind::RustHdl => Box::new(crate::rusthdl_backend(Schedule::default())?),
        BackendKind::Board => {
            let (Some(u), Some(t)) = (&cfg.board_untrusted, &cfg.board_trusted) else {
                anyhow::bail!("the board backend needs --board-untrusted and --board-trusted");
            };
            Box::new(crate::BoardBackend::open_with_status(
                u,
                t,
                cfg.board_status.as_deref(),
                cfg.board_baud,
            )?)
        }
    })
}

/// Counters as seen on the wire: what a board's verdicts say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observed(pub PairCounters);

impl Observed {
    fn count(&mut self, side: Side, f: &OutFrame) {
        match f {
            OutFrame::Passed { .. } => {
                // A pass leaves on the far side of the lane it crossed.
                let lane = match side {
                    Side::Untrusted => &mut self.0.response,
                    Side::Trusted => &mut self.0.request,
                };
                lane.passed = lane.passed.wrapping_add(1);
            }
            OutFrame::Notice { notice, .. } => {
                let lane = match notice.lane {
                    LaneId::Request => &mut self.0.request,
                    LaneId::Response => &mut self.0.response,
                };
                let i = notice.reason as usize - 1;
                lane.dropped[i] = lane.dropped[i].wrapping_add(1);
            }
            OutFrame::Malformed => {}
        }
    }
}

/// The counters last logged (every `stats_every`), for the metrics listener.
static LATEST: std::sync::Mutex<Option<PairCounters>> = std::sync::Mutex::new(None);

fn publish(c: PairCounters) {
    *LATEST.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
}

/// The verifier's counters as last logged; `None` before the first counter line.
pub fn latest_counters() -> Option<PairCounters> {
    *LATEST.lock().unwrap_or_else(|p| p.into_inner())
}

/// `request: passed 3 bad_crc 1; response: passed 2` (zero drop counters left out).
pub fn format_counters(c: &PairCounters) -> String {
    let mut s = String::new();
    for (i, lane) in LaneId::ALL.into_iter().enumerate() {
        let l = c.lane(lane);
        let _ = write!(
            s,
            "{}{lane}: passed {}",
            if i > 0 { "; " } else { "" },
            l.passed
        );
        for r in DropReason::ALL {
            if l.dropped(r) > 0 {
                let _ = write!(s, " {r} {}", l.dropped(r));
            }
        }
    }
    s
}

/// Logs a frame leaving the appliance on `side` (the Ethernet appliance logs the same way).
pub(crate) fn log_frame(side: Side, f: &OutFrame) {
    match *f {
        OutFrame::Passed {
            msg_type,
            client_id,
            counter,
        } => {
            let name = MsgType::from_u8(msg_type).map_or("unknown", MsgType::name);
            tracing::info!(verdict = "pass", to = %side, msg_type = name, client_id, counter, "frame passed");
        }
        OutFrame::Notice {
            notice,
            client_id,
            counter,
        } => {
            tracing::warn!(
                verdict = "drop",
                to = %side,
                lane = %notice.lane,
                reason = %notice.reason,
                field = notice.field,
                readable = notice.readable,
                client_id,
                counter,
                "frame dropped: NOTICE sent back"
            );
        }
        OutFrame::Malformed => tracing::error!(to = %side, "backend emitted an undecodable NOTICE"),
    }
}

/// The worker: owns the backend, turns input and time into output.
fn worker(
    cfg: ApplianceConfig,
    rx: std_mpsc::Receiver<Input>,
    out: mpsc::UnboundedSender<(Side, Vec<u8>)>,
) -> anyhow::Result<()> {
    let mut backend = make_backend(&cfg)?;
    let kind = backend.kind();
    tracing::info!(backend = %kind, "backend ready");
    let host_ticks = kind.host_ticks();
    // Simulated backends wake only for input or the stats line; a board's UARTs are polled.
    let poll = if host_ticks {
        cfg.stats_every
    } else {
        Duration::from_millis(1)
    };
    let mut clock = TickClock::new();
    let mut splitters = [FrameSplitter::default(), FrameSplitter::default()];
    let mut observed = Observed::default();
    let mut last_stats = Instant::now();
    let log_counters = |backend: &dyn Backend, observed: &Observed, when: &str| match backend
        .counters()
    {
        Ok(c) => {
            publish(c);
            tracing::info!(backend = %kind, source = "core", "{when} counters: {}", format_counters(&c))
        }
        Err(e) => {
            publish(observed.0);
            tracing::info!(backend = %kind, source = "wire", note = %e, "{when} counters: {}", format_counters(&observed.0))
        }
    };
    let mut stop = false;
    while !stop {
        let mut got_input = false;
        let wait = poll.min(cfg.stats_every.saturating_sub(last_stats.elapsed()));
        let first = match rx.recv_timeout(wait.max(Duration::from_micros(100))) {
            Ok(m) => Some(m),
            Err(std_mpsc::RecvTimeoutError::Timeout) => None,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => Some(Input::Stop),
        };
        // Bounded, so a peer that never pauses still gets its output.
        let more = std::iter::from_fn(|| rx.try_recv().ok()).take(MAX_CHUNKS_PER_BATCH);
        for m in first.into_iter().chain(more) {
            match m {
                Input::Stop => stop = true,
                Input::Bytes(side, b, at) => {
                    feed(backend.as_mut(), &mut clock, side, &b, at)?;
                    got_input = true;
                }
            }
        }
        if got_input || !host_ticks {
            let o = backend.advance()?;
            // Sent first, logged after: a log line's write is not on the frames' way out.
            for side in Side::BOTH {
                let bytes = o.side(side);
                if !bytes.is_empty() && out.send((side, bytes.to_vec())).is_err() {
                    stop = true;
                }
            }
            for side in Side::BOTH {
                let bytes = o.side(side);
                if bytes.is_empty() {
                    continue;
                }
                for w in splitters[side as usize].push(bytes) {
                    let f = classify(&w);
                    observed.count(side, &f);
                    log_frame(side, &f);
                }
            }
        }
        if last_stats.elapsed() >= cfg.stats_every {
            last_stats = Instant::now();
            log_counters(backend.as_ref(), &observed, "live");
        }
    }
    log_counters(backend.as_ref(), &observed, "final");
    Ok(())
}

async fn open_link(spec: &LinkSpec, side: Side) -> anyhow::Result<Link> {
    Link::open(spec, Role::Appliance, LinkOptions::named(side.name()))
        .await
        .with_context(|| format!("opening the {side} link {spec}"))
}

fn endpoint_lines(links: &[(Side, &Link)]) -> String {
    let mut s = String::new();
    for (side, link) in links {
        if let Some(p) = link.pty_path() {
            let _ = writeln!(s, "{side} pty {}", p.display());
        }
        if let Some(a) = link.local_addr() {
            let _ = writeln!(s, "{side} tcp {a}");
        }
    }
    s
}

impl ApplianceConfig {
    /// Refuses option combinations that cannot work, before any link is opened.
    pub fn validate(&self) -> anyhow::Result<()> {
        let board = self.backend == BackendKind::Board;
        if board && (self.board_untrusted.is_none() || self.board_trusted.is_none()) {
            anyhow::bail!("the board backend needs --board-untrusted and --board-trusted");
        }
        if !board
            && (self.board_untrusted.is_some()
                || self.board_trusted.is_some()
                || self.board_status.is_some())
        {
            anyhow::bail!("--board-* options need --backend board");
        }
        if self.vcd.is_some() && self.backend != BackendKind::Verilator {
            anyhow::bail!("--vcd needs --backend verilator");
        }
        if self.stats_every.is_zero() {
            anyhow::bail!("the counter log interval must be positive");
        }
        Ok(())
    }
}

/// Runs the appliance until `shutdown` resolves or a link or the backend fails.
pub async fn run(
    cfg: ApplianceConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    cfg.validate()?;
    let u_link = open_link(&cfg.untrusted, Side::Untrusted).await?;
    let t_link = open_link(&cfg.trusted, Side::Trusted).await?;
    let endpoints = endpoint_lines(&[(Side::Untrusted, &u_link), (Side::Trusted, &t_link)]);
    for line in endpoints.lines() {
        tracing::info!(endpoint = line, "link open");
    }
    if let Some(path) = &cfg.endpoints_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &endpoints)
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let writers: [LinkWriter; 2] = [u_link.writer(), t_link.writer()];

    let (in_tx, in_rx) = std_mpsc::channel();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<(Side, Vec<u8>)>();
    let worker_cfg = cfg.clone();
    let worker = std::thread::Builder::new()
        .name("backend".into())
        .spawn(move || worker(worker_cfg, in_rx, out_tx))
        .context("starting the backend thread")?;

    let mut readers = tokio::task::JoinSet::new();
    for (side, mut link) in [(Side::Untrusted, u_link), (Side::Trusted, t_link)] {
        let tx = in_tx.clone();
        readers.spawn(async move {
            while let Some(ev) = link.recv().await {
                match ev {
                    LinkEvent::Data(b) => {
                        if tx.send(Input::Bytes(side, b, Instant::now())).is_err() {
                            break;
                        }
                    }
                    LinkEvent::Up { peer } => tracing::info!(%side, %peer, "peer connected"),
                    LinkEvent::Down { reason } => tracing::info!(%side, %reason, "peer gone"),
                }
            }
            side
        });
    }
    // Ends when the worker does (it holds the only sender).
    let mut forward = tokio::spawn(async move {
        while let Some((side, bytes)) = out_rx.recv().await {
            let n = bytes.len();
            if let Err(e) = writers[side as usize].write(Bytes::from(bytes)).await {
                tracing::warn!(%side, bytes = n, error = %e, "output not delivered");
            }
        }
    });

    tokio::pin!(shutdown);
    let outcome = tokio::select! {
        () = &mut shutdown => {
            tracing::info!("shutting down");
            Ok(())
        }
        Some(side) = readers.join_next() => {
            Err(anyhow::anyhow!("the {} link stopped", side.unwrap_or(Side::Untrusted)))
        }
        _ = &mut forward => Err(anyhow::anyhow!("the backend stopped")),
    };
    // Stops the worker, which logs the final counters; its result outranks the links'.
    let _ = in_tx.send(Input::Stop);
    readers.abort_all();
    let worked = tokio::task::spawn_blocking(move || worker.join())
        .await
        .context("joining the backend thread")?;
    forward.abort();
    match worked {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("the backend thread panicked"),
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::golden::notice_frame;
    use coldgate_spec::vectors::{sample_bodies, sealed};
    use coldgate_spec::Notice;

    fn config(backend: BackendKind) -> ApplianceConfig {
        ApplianceConfig {
            untrusted: LinkSpec::Pty,
            trusted: LinkSpec::Pty,
            backend,
            endpoints_file: None,
            vcd: None,
            board_untrusted: None,
            board_trusted: None,
            board_status: None,
            board_baud: coldgate_spec::config::DEFAULT_BAUD,
            stats_every: Duration::from_secs(1),
        }
    }

    #[test]
    fn impossible_option_sets_are_refused() {
        assert!(config(BackendKind::Verilator).validate().is_ok());
        assert!(config(BackendKind::Board).validate().is_err());
        let board = ApplianceConfig {
            board_untrusted: Some("/dev/ttyUSB0".into()),
            board_trusted: Some("/dev/ttyUSB1".into()),
            ..config(BackendKind::Board)
        };
        assert!(board.validate().is_ok());
        let stray = ApplianceConfig {
            board_status: Some("/dev/ttyUSB2".into()),
            ..config(BackendKind::Golden)
        };
        assert!(stray.validate().is_err());
        let vcd = ApplianceConfig {
            vcd: Some("/tmp/x.vcd".into()),
            ..config(BackendKind::RustHdl)
        };
        assert!(vcd.validate().is_err());
    }

    #[test]
    fn ticks_follow_arrival_stamps_from_the_first_chunk() {
        let t0 = Instant::now();
        let period = Duration::from_secs(1) / RATE_REFILL_HZ;
        let mut c = TickClock::new();
        // The first chunk starts the clock; ticks before it could only find a full bucket.
        assert_eq!(c.before(t0 + period * 1000), 0);
        let t0 = t0 + period * 1000;
        assert_eq!(c.before(t0 + period / 2), 0);
        assert_eq!(c.before(t0 + period * 3 + period / 2), 3);
        // A stamp from the other side that reached the worker late adds nothing.
        assert_eq!(c.before(t0 + period * 2), 0);
        assert_eq!(c.before(t0 + period * 4), 1);
        // A long pause: a full bucket's worth, the rest would be lost on a full bucket anyway.
        assert_eq!(c.before(t0 + period * 10_000), RATE_BURST);
        assert_eq!(c.before(t0 + period * 10_001), 1);
    }

    /// The same stamped chunks through the golden model and Verilator (which takes far longer
    /// per chunk) place the same ticks and give the same output and counters.
    #[test]
    fn stamped_bursts_get_the_same_verdicts_from_golden_and_verilator() {
        let t0 = Instant::now();
        let period = Duration::from_secs(1) / RATE_REFILL_HZ;
        let (_, body) = sample_bodies()[0];
        let burst = RATE_BURST as u64;
        // (arrival in periods, frames), each burst cut into link-sized chunks.
        let plan = [
            (0u32, burst + burst / 2),
            (burst as u32 / 4, burst / 2),
            (300, 2 * burst),
        ];
        let mut chunks = vec![];
        let mut counter = 0;
        for (at, n) in plan {
            let bytes: Vec<u8> = (0..n)
                .flat_map(|_| {
                    counter += 1;
                    sealed(counter, body)
                })
                .collect();
            for (i, c) in bytes.chunks(coldgate_link::READ_CHUNK).enumerate() {
                // Chunks of one burst arrive microseconds apart.
                let stamp = t0 + period * at + period / 2 + Duration::from_micros(i as u64 * 20);
                chunks.push((c.to_vec(), stamp));
            }
        }
        let run = |b: &mut dyn Backend| {
            let mut clock = TickClock::new();
            let mut out = crate::Output::default();
            for (bytes, at) in &chunks {
                feed(b, &mut clock, Side::Untrusted, bytes, *at).expect("feed");
                out.append(b.advance().expect("advance"));
            }
            (out, b.counters().expect("counters"))
        };
        let golden = run(&mut crate::GoldenBackend::new());
        let verilator = run(
            &mut crate::VerilatorBackend::new(crate::Schedule::default(), None).expect("model"),
        );
        assert_eq!(verilator.1, golden.1);
        assert_eq!(verilator.0, golden.0);
        // The first burst empties the bucket, the short pause refills a quarter of it, the
        // long one all of it.
        let b = burst as u32;
        assert_eq!(golden.1.request.passed, b + b / 4 + b);
        assert_eq!(
            golden.1.request.dropped(DropReason::RateLimited),
            b / 2 + b / 4 + b
        );
    }

    #[test]
    fn wire_counters_follow_the_frames_seen() {
        let mut o = Observed::default();
        let (_, request) = sample_bodies()[0];
        o.count(Side::Trusted, &classify(&sealed(1, request)));
        o.count(Side::Untrusted, &classify(&sealed(2, sample_bodies()[5].1)));
        let notice = Notice {
            reason: DropReason::BadCrc,
            field: 9,
            lane: LaneId::Request,
            readable: false,
        };
        o.count(Side::Untrusted, &classify(&notice_frame(0, 0, notice)));
        assert_eq!(
            format_counters(&o.0),
            "request: passed 1 bad_crc 1; response: passed 1"
        );
    }
}
