//! The whole gateway, end to end: real processes on loopback, started exactly as `coldgate demo`
//! starts them (coldgate-client's [`Gateway`]), against the wallet called directly, at several
//! concurrencies (many clients, each with its own connection per call).
//!
//! * gateway: the Rust client through converter-in, the appliance (the demo's backend
//!   choice), converter-out and the wallet, and back the same way;
//! * direct: the same requests of the same clients, tagged the same way, sent straight to the
//!   wallet's JSON-RPC endpoint with converter-out's own call ([`coldgate_converter_out::answer`]).
//!
//! On both paths the client opens a connection per call (as `coldgate client` does); behind
//! converter-in, converter-out keeps its connections to the wallet alive.
//!
//! Both paths do the client's share of the work: a durable counter reservation in the
//! client's state file (an fsync), a fresh tag, and a check of the answer's tag (and, for a
//! payment, of its signature). At each concurrency `c`, clients 1..=c each run a loop of calls
//! for the round's time; the paths run in alternating rounds so a change in machine load hits
//! both. Throughput is calls over the wall time of the round (until the last call ended).
//!
//! Every request frame takes one of the verifier's tokens (bucket of `RATE_BURST`, refilled at
//! `RATE_REFILL_HZ`), so the gateway can never exceed the refill rate for long: the JSON says
//! what that bound allows (`verifier_bound_vs_direct`) beside what was measured.
//!
//! `signpayment` runs the same way with a few payments per client at each concurrency, within
//! the demo policy's rolling 24-hour limits on a fresh store (each payment its own outpoint).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use coldgate_client::demo::{self, until_linked, DemoLink, DemoOptions, Gateway, CLIENT_ID};
use coldgate_client::procs::stop_signal;
use coldgate_client::state::State;
use coldgate_client::{read_secret, Outcome};
use coldgate_converter_in::rpc::Endpoint;
use coldgate_spec::auth::Secret;
use coldgate_spec::codec::{Body, Frame, Payment};
use coldgate_spec::config::{RATE_BURST, RATE_REFILL_HZ};
use serde_json::{json, Value};

use crate::measure::percentile;

/// Concurrency levels measured.
pub const LEVELS: [usize; 3] = [1, 8, 64];
/// Rounds per path and level: each runs `seconds / ROUNDS`, alternating with the other path.
const ROUNDS: u32 = 2;
/// How long one call may take before it counts as an error.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// Payments per client and path at each level (client 1 takes part in all three: 2 x (30 +
/// 10 + 4) = 88 stays under the demo policy's 100 a day; 732 in all under the service's 1,000).
const PAYMENTS: [u32; 3] = [30, 10, 4];

/// The payment the sign phase repeats (satoshis): the demo's own within-policy payment.
const PAY_INPUT: u64 = 1_000_000;
const PAY_AMOUNT: u64 = 250_000;
const PAY_FEE: u64 = 10_000;

/// How to run the suite.
pub struct Options {
    pub seconds: f64,
    /// `auto` (the demo's choice: verilator when installed, else rusthdl), or a backend name.
    pub backend: String,
    /// Where the gateway's binaries are (default: next to this executable).
    pub bin_dir: Option<PathBuf>,
}

/// What one path measured at one level.
#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    /// Wall time of its rounds, summed.
    wall: Duration,
    errors: u64,
    first_error: Option<String>,
}

impl Samples {
    fn calls_per_s(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    fn sorted_us(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .latencies
            .iter()
            .map(|d| d.as_secs_f64() * 1e6)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn absorb(&mut self, r: Worker) {
        self.latencies.extend(r.latencies);
        self.errors += r.errors;
        if self.first_error.is_none() {
            self.first_error = r.first_error;
        }
    }
}

/// One client's loop.
#[derive(Default)]
struct Worker {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Worker {
    fn record(&mut self, t: Instant, r: Result<()>) {
        match r {
            Ok(()) => self.latencies.push(t.elapsed()),
            Err(e) => {
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(format!("{e:#}"));
                }
            }
        }
    }
}

/// The latency distributions and the throughput curve the plots are drawn from.
pub struct Latencies {
    pub backend: String,
    /// Microseconds, sorted.
    pub series: Vec<(String, Vec<f64>)>,
    /// (name, [(concurrency, calls per second)]).
    pub throughput: Vec<(String, Vec<(usize, f64)>)>,
}

/// Runs the suite; every process it started is stopped before this returns, whatever happened.
pub fn run(opts: &Options) -> Result<(Value, Latencies)> {
    let backend = demo::backend(&opts.backend)?;
    let work = std::env::temp_dir().join(format!("coldgate-bench-e2e-{}", std::process::id()));
    if work.exists() {
        bail!("{} already exists: remove it first", work.display());
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    // Clients block on their state file's fsync: enough threads that 64 of them overlap.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(8)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // A signal drops the measurement's future, and with it the Gateway, which stops every
    // process it started.
    let result = runtime.block_on(async {
        tokio::select! {
            r = measure(opts, &work, &backend) => r,
            s = stop_signal() => Err(anyhow!("e2e stopped: {s}")),
        }
    });
    match &result {
        Ok(_) => {
            let _ = std::fs::remove_dir_all(&work);
        }
        Err(_) => eprintln!("gateway logs kept in {}", work.join("logs").display()),
    }
    result
}

/// What a client needs for the direct path.
#[derive(Clone)]
struct Who {
    id: u32,
    secret: Secret,
    state: PathBuf,
    key_id: u32,
    key: [u8; 32],
}

async fn measure(opts: &Options, work: &Path, backend: &str) -> Result<(Value, Latencies)> {
    let demo_opts = DemoOptions {
        backend: backend.to_string(),
        link: DemoLink::Tcp,
        bin_dir: opts.bin_dir.clone(),
        work_dir: Some(work.to_path_buf()),
        trace: false,
    };
    let mut g = Gateway::start(&demo_opts, work, backend).await?;
    let wallet: Endpoint = g
        .wallet_url()
        .parse()
        .map_err(|e: String| anyhow!("wallet endpoint: {e}"))?;

    // Clients 1..=64, each with a key of its own.
    let most = LEVELS.iter().copied().max().unwrap_or(1) as u32;
    let mut whos = Vec::new();
    for id in 1..=most {
        if id != CLIENT_ID {
            g.add_client(id)?;
        }
        let mut c = g.client_as(id)?;
        let x = until_linked(&mut g, &mut c, |c| Box::pin(c.new_key())).await?;
        let Outcome::Key { key_id, key } = x.outcome else {
            bail!("client {id}: new key: expected a key, got: {}", x.outcome);
        };
        whos.push(Who {
            id,
            secret: read_secret(&g.secret_path_of(id))?,
            state: g.state_path_of(id),
            key_id,
            key,
        });
    }

    let mut levels = Vec::new();
    let mut sign_levels = Vec::new();
    let mut series = Vec::new();
    let mut curves: HashMap<&str, Vec<(usize, f64)>> = HashMap::new();
    for (li, &c) in LEVELS.iter().enumerate() {
        let who = &whos[..c];
        let round = Duration::from_secs_f64(opts.seconds / f64::from(ROUNDS));
        let (mut gw, mut direct) = (Samples::default(), Samples::default());
        for r in 0..ROUNDS {
            // Warm-up: a first short round per path, not counted.
            if r == 0 {
                gateway_round(&g, who, Duration::from_millis(100), Call::Pubkey).await?;
                direct_round(&wallet, who, Duration::from_millis(100), Call::Pubkey).await?;
            }
            gateway_round(&g, who, round, Call::Pubkey)
                .await?
                .into(&mut gw);
            direct_round(&wallet, who, round, Call::Pubkey)
                .await?
                .into(&mut direct);
        }
        let level = level_json(c, "getpubkey", &gw, &direct)?;
        eprintln!("e2e getpubkey c={c}: {level}");
        levels.push(level);
        curves
            .entry("gateway getpubkey")
            .or_default()
            .push((c, gw.calls_per_s()));
        curves
            .entry("direct getpubkey")
            .or_default()
            .push((c, direct.calls_per_s()));
        if c == 1 || c == 64 {
            series.push((format!("gateway getpubkey c={c}"), gw.sorted_us()));
            series.push((format!("direct getpubkey c={c}"), direct.sorted_us()));
        }

        // Payments: a fixed number per client and path, each its own outpoint.
        let n = PAYMENTS[li];
        let base = li as u32 * 1000;
        let mut sg = Samples::default();
        let mut sd = Samples::default();
        gateway_round(&g, who, Duration::ZERO, Call::Sign { first: base, n })
            .await?
            .into(&mut sg);
        direct_round(
            &wallet,
            who,
            Duration::ZERO,
            Call::Sign {
                first: base + 500,
                n,
            },
        )
        .await?
        .into(&mut sd);
        let level = level_json(c, "signpayment", &sg, &sd)?;
        eprintln!("e2e signpayment c={c}: {level}");
        sign_levels.push(level);
        curves
            .entry("gateway signpayment")
            .or_default()
            .push((c, sg.calls_per_s()));
        curves
            .entry("direct signpayment")
            .or_default()
            .push((c, sd.calls_per_s()));
    }
    g.procs.check_alive()?;
    drop(g);

    let out = json!({
        "backend": backend,
        "link": "tcp",
        "method": "getpubkey",
        "by_concurrency": levels,
        "sign_by_concurrency": sign_levels,
        "rounds": ROUNDS,
        "seconds_per_level_and_path": opts.seconds,
        "verifier_rate_burst": RATE_BURST,
        "verifier_rate_refill_per_s": RATE_REFILL_HZ,
        "payments_per_client_and_path": PAYMENTS,
        "gateway_log": std::env::var("COLDGATE_DEMO_LOG").unwrap_or_else(|_| "info".into()),
        // Client state files and the wallet's store live here (fsync latency is in both paths).
        "work_dir": work.display().to_string(),
    });
    let mut throughput: Vec<(String, Vec<(usize, f64)>)> = curves
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    throughput.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((
        out,
        Latencies {
            backend: backend.to_string(),
            series,
            throughput,
        },
    ))
}

/// One level's JSON object.
fn level_json(c: usize, method: &str, gw: &Samples, direct: &Samples) -> Result<Value> {
    if gw.latencies.is_empty() || direct.latencies.is_empty() {
        bail!(
            "{method} at concurrency {c}: no call succeeded (gateway: {:?}; direct: {:?})",
            gw.first_error,
            direct.first_error
        );
    }
    let (g_us, d_us) = (gw.sorted_us(), direct.sorted_us());
    let ratio = gw.calls_per_s() / direct.calls_per_s();
    // The best the gateway can do for long: the verifier's refill rate.
    let bound = (f64::from(RATE_REFILL_HZ) / direct.calls_per_s()).min(1.0);
    let (g50, d50) = (percentile(&g_us, 50.0), percentile(&d_us, 50.0));
    Ok(json!({
        "concurrency": c,
        "method": method,
        "gateway_calls_per_s": gw.calls_per_s(),
        "direct_calls_per_s": direct.calls_per_s(),
        "gateway_vs_direct": ratio,
        "verifier_bound_vs_direct": bound,
        "gateway_p50_us": g50,
        "direct_p50_us": d50,
        "added_p50_us": g50.zip(d50).map(|(g, d)| g - d),
        "gateway_p99_us": percentile(&g_us, 99.0),
        "direct_p99_us": percentile(&d_us, 99.0),
        "gateway_calls": g_us.len(),
        "direct_calls": d_us.len(),
        "errors": gw.errors + direct.errors,
        "first_error": gw.first_error.clone().or_else(|| direct.first_error.clone()),
    }))
}

#[derive(Clone, Copy)]
enum Call {
    /// getpubkey in a loop for the round's time.
    Pubkey,
    /// `n` payments, outpoints `first..first + n`.
    Sign { first: u32, n: u32 },
}

/// A round's results and its wall time.
struct Round {
    workers: Vec<Worker>,
    wall: Duration,
}

impl Round {
    fn into(self, s: &mut Samples) {
        s.wall += self.wall;
        for w in self.workers {
            s.absorb(w);
        }
    }
}

/// Whether a worker that started at `start` goes on.
fn more(call: Call, start: Instant, round: Duration, made: u32) -> bool {
    match call {
        Call::Pubkey => start.elapsed() < round || made == 0,
        Call::Sign { n, .. } => made < n,
    }
}

async fn gateway_round(g: &Gateway, who: &[Who], round: Duration, call: Call) -> Result<Round> {
    let mut set = tokio::task::JoinSet::new();
    let start = Instant::now();
    for w in who {
        let mut client = g.client_as(w.id)?;
        let (key_id, key) = (w.key_id, w.key);
        set.spawn(async move {
            let mut r = Worker::default();
            let mut made = 0u32;
            while more(call, start, round, made) {
                let t = Instant::now();
                let result = match call {
                    Call::Pubkey => client
                        .pubkey(key_id)
                        .await
                        .map_err(Into::into)
                        .and_then(|x| match x.outcome {
                            Outcome::Key {
                                key_id: k,
                                key: got,
                            } if k == key_id && got == key => Ok(()),
                            other => Err(anyhow!("getpubkey: expected key {key_id}, got: {other}")),
                        }),
                    Call::Sign { first, .. } => match pay(key_id, first + made) {
                        Ok(p) => client
                            .sign_payment(p)
                            .await
                            .map_err(Into::into)
                            .and_then(|x| match x.outcome {
                                Outcome::Signed { .. } => Ok(()),
                                other => Err(anyhow!(
                                    "signpayment: expected a verified signature, got: {other}"
                                )),
                            }),
                        Err(e) => Err(e),
                    },
                };
                r.record(t, result);
                made += 1;
            }
            r
        });
    }
    let workers = set.join_all().await;
    Ok(Round {
        workers,
        wall: start.elapsed(),
    })
}

/// How long converter-out's idle keep-alive connections to the wallet can outlive the
/// gateway's last call (its pool closes them after `DEFAULT_IDLE`, swept every half of it).
/// They hold some of the wallet's connection slots meanwhile, which the direct path's clients
/// (at 64, as many as the wallet takes) would otherwise find taken.
const POOL_SETTLE: Duration =
    Duration::from_millis(coldgate_converter_out::pool::DEFAULT_IDLE.as_millis() as u64 * 2);

async fn direct_round(
    wallet: &Endpoint,
    who: &[Who],
    round: Duration,
    call: Call,
) -> Result<Round> {
    // Every direct round follows a gateway round: the wallet's slots are free again first.
    tokio::time::sleep(POOL_SETTLE).await;
    let mut set = tokio::task::JoinSet::new();
    let start = Instant::now();
    for (i, w) in who.iter().enumerate() {
        let mut state = State::open(&w.state, w.id)?;
        let (w, wallet) = (w.clone(), wallet.clone());
        set.spawn(async move {
            let mut r = Worker::default();
            let mut made = 0u32;
            // Distinct JSON-RPC ids per worker, as converter-out's would be.
            let mut id = (i as u64) << 32;
            while more(call, start, round, made) {
                id += 1;
                let t = Instant::now();
                let result = match call {
                    Call::Pubkey => direct_pubkey(&wallet, &w, &mut state, id).await,
                    Call::Sign { first, .. } => {
                        direct_sign(&wallet, &w, &mut state, id, first + made).await
                    }
                };
                r.record(t, result);
                made += 1;
            }
            r
        });
    }
    let workers = set.join_all().await;
    Ok(Round {
        workers,
        wall: start.elapsed(),
    })
}

fn pay(key_id: u32, vout: u32) -> Result<Payment> {
    demo::payment(key_id, vout, PAY_INPUT, PAY_AMOUNT, PAY_FEE)
}

/// One request as the client would make it, sent as converter-out sends a verified frame; the
/// answer's tag is checked.
async fn direct_call(
    wallet: &Endpoint,
    w: &Who,
    state: &mut State,
    id: u64,
    body: Body,
) -> Result<Frame> {
    let counter = state.reserve_counter()?;
    if let Body::SignPayment(p) = &body {
        state.remember_held(counter, p)?;
    }
    let request =
        Frame::sealed(w.id, counter, body, &w.secret).map_err(|e| anyhow!("sealing: {e}"))?;
    let wire = coldgate_converter_out::answer(&request, wallet, id, CALL_TIMEOUT).await?;
    let answer = Frame::decode(&wire[..]).map_err(|e| anyhow!("wallet answer: {e}"))?;
    if !answer.verify(&w.secret) {
        bail!("the wallet's answer tag does not verify");
    }
    Ok(answer)
}

async fn direct_pubkey(wallet: &Endpoint, w: &Who, state: &mut State, id: u64) -> Result<()> {
    let answer = direct_call(wallet, w, state, id, Body::GetPubkey { key_id: w.key_id }).await?;
    match answer.body {
        Body::Pubkey { key_id, key } if key_id == w.key_id && key == w.key => {
            coldgate_tx::parse_key(&key).map_err(|e| anyhow!("{e}"))?;
            state.remember_key(key_id, &key)?;
            Ok(())
        }
        other => bail!(
            "direct getpubkey: expected key {}, got a {} frame",
            w.key_id,
            other.msg_type()
        ),
    }
}

async fn direct_sign(
    wallet: &Endpoint,
    w: &Who,
    state: &mut State,
    id: u64,
    vout: u32,
) -> Result<()> {
    let p = pay(w.key_id, vout)?;
    let answer = direct_call(wallet, w, state, id, Body::SignPayment(p)).await?;
    match answer.body {
        Body::Signature {
            key_id, signature, ..
        } if key_id == w.key_id => {
            let internal = coldgate_tx::parse_key(&w.key).map_err(|e| anyhow!("{e}"))?;
            coldgate_tx::signed_tx(&internal, &p, &signature)
                .map_err(|e| anyhow!("direct signpayment: signature refused: {e}"))?;
            state.forget_held(answer.counter)?;
            Ok(())
        }
        other => bail!(
            "direct signpayment: expected a signature, got a {} frame",
            other.msg_type()
        ),
    }
}

/// Writes throughput against concurrency, one line per path and method (log-log).
pub fn plot_throughput(lat: &Latencies, path: &Path) -> Result<()> {
    use plotters::prelude::*;

    let ys = lat
        .throughput
        .iter()
        .flat_map(|(_, v)| v.iter().map(|p| p.1));
    let (lo, hi) = ys.fold((f64::INFINITY, 0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
    if !(lo.is_finite() && lo > 0.0) {
        bail!("no throughput to plot");
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = hi.max(f64::from(RATE_REFILL_HZ)) * 1.5;
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    let fail = |e: &dyn std::fmt::Display| anyhow!("plotting {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "coldgate end to end: throughput vs concurrency (appliance backend {})",
                lat.backend
            ),
            ("sans-serif", 24),
        )
        .margin(20)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d((0.8f64..80f64).log_scale(), (lo..hi).log_scale())
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("concurrent clients (log scale)")
        .y_desc("calls per second (log scale)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()
        .map_err(|e| fail(&e))?;
    let colours = [RED, BLUE, GREEN, MAGENTA];
    for ((name, v), colour) in lat.throughput.iter().zip(colours) {
        let points: Vec<(f64, f64)> = v.iter().map(|&(c, y)| (c as f64, y)).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, colour.filled())),
            )
            .map_err(|e| fail(&e))?;
    }
    let refill = f64::from(RATE_REFILL_HZ);
    chart
        .draw_series(LineSeries::new(
            [(0.8, refill), (80.0, refill)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| fail(&e))?
        .label(format!("verifier refill: {RATE_REFILL_HZ} frames/s"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

/// Writes the latency distributions as a CDF, one line per path, on a log time axis.
pub fn plot(lat: &Latencies, path: &Path) -> Result<()> {
    use plotters::prelude::*;

    let all = lat.series.iter().flat_map(|(_, v)| v.iter().copied());
    let (lo, hi) = all.fold((f64::INFINITY, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    if !(lo.is_finite() && lo > 0.0 && hi >= lo) {
        bail!("no latencies to plot");
    }
    // The axis starts at a power of ten: plotters labels a log axis from the first one in range.
    let lo = 10f64.powf(lo.log10().floor());
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    let fail = |e: &dyn std::fmt::Display| anyhow!("plotting {}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "coldgate end to end: latency per call (appliance backend {})",
                lat.backend
            ),
            ("sans-serif", 26),
        )
        .margin(20)
        .x_label_area_size(56)
        .y_label_area_size(68)
        .build_cartesian_2d((lo..hi * 1.25).log_scale(), 0f64..1f64)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("latency (microseconds, log scale)")
        .y_desc("fraction of calls at or below")
        .x_label_formatter(&|us| format!("{us:.0}"))
        .y_label_formatter(&|f| format!("{f:.1}"))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()
        .map_err(|e| fail(&e))?;
    let colours = [RED, BLUE, GREEN, MAGENTA];
    for ((name, v), colour) in lat.series.iter().zip(colours) {
        let n = v.len() as f64;
        let label = format!(
            "{name}: {} calls, p50 {:.0} us, p99 {:.0} us",
            v.len(),
            percentile(v, 50.0).unwrap_or(f64::NAN),
            percentile(v, 99.0).unwrap_or(f64::NAN)
        );
        let points = v.iter().enumerate().map(|(i, &x)| (x, (i + 1) as f64 / n));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_stay_within_the_demo_policy() {
        // Client 1 pays at every level, on both paths: the demo's 100 a day must hold.
        let client_one: u32 = PAYMENTS.iter().map(|n| 2 * n).sum();
        assert!(client_one <= 100, "{client_one}");
        let all: u32 = PAYMENTS
            .iter()
            .zip(LEVELS)
            .map(|(n, c)| 2 * n * c as u32)
            .sum();
        assert!(all <= 1000, "{all}");
        // Outpoints never repeat for one client: levels 1000 apart, paths 500 apart.
        assert!(PAYMENTS.iter().all(|&n| n < 500));
    }
}
