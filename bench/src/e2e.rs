//! The whole gateway, end to end: real processes on loopback, started exactly as `coldgate demo`
//! starts them (coldgate-client's [`Gateway`]), against the wallet called directly.
//!
//! * gateway: `getpubkey` from the Rust client through converter-in, the appliance (the demo's
//!   backend choice), converter-out and the wallet, and back the same way;
//! * direct: the same request for the same client, tagged the same way, sent straight to the
//!   wallet's JSON-RPC endpoint with converter-out's own call ([`coldgate_converter_out::answer`]).
//!
//! Both paths do the client's share of the work: a durable counter reservation and the key
//! bookkeeping in the client's state file (each an fsync), a fresh tag, and a check of the
//! answer's tag. So the difference between them is what the gateway adds: two converters, the
//! appliance (the verifier's two lanes and its two links) and one more JSON-RPC hop (every hop
//! opens one TCP connection per call). The paths run in alternating rounds so a change in
//! machine load hits both.
//!
//! Payments (`signpayment` within policy, signature verified by the client) are measured through
//! the gateway too, but only as many as the wallet's rolling 24-hour limits of the demo's policy
//! allow on a fresh store; the JSON says how many and which limit bounded them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use coldgate_client::demo::{self, until_linked, DemoLink, DemoOptions, Gateway, CLIENT_ID};
use coldgate_client::procs::stop_signal;
use coldgate_client::state::State;
use coldgate_client::{read_secret, Client, Outcome};
use coldgate_converter_in::rpc::Endpoint;
use coldgate_spec::auth::Secret;
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::config::RATE_REFILL_HZ;
use coldgate_wallet::Policy;
use serde_json::{json, Map, Value};

use crate::measure::percentile;

/// Rounds per path: each path runs `seconds / ROUNDS` per round, alternating with the other.
const ROUNDS: u32 = 4;
/// Calls per path before the first measured round (connections, page cache, the model's first
/// frames).
const WARMUP: usize = 8;
/// Fewest measured calls per path and round, so the p99 rests on a few hundred samples even
/// with a short `--seconds`.
const MIN_ROUND_CALLS: usize = 50;
/// How long one call may take before the run fails.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

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

/// What one path measured.
#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    /// Time spent in measured calls of this path, summed over its rounds.
    busy: Duration,
}

impl Samples {
    fn record(&mut self, took: Duration) {
        self.latencies.push(took);
        self.busy += took;
    }

    fn calls_per_s(&self) -> f64 {
        self.latencies.len() as f64 / self.busy.as_secs_f64()
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
}

/// The latency distributions a plot is drawn from (microseconds, sorted).
pub struct Latencies {
    pub backend: String,
    pub series: Vec<(String, Vec<f64>)>,
}

/// Runs the suite; every process it started is stopped before this returns, whatever happened.
pub fn run(opts: &Options) -> Result<(Value, Latencies)> {
    let backend = demo::backend(&opts.backend)?;
    let work = std::env::temp_dir().join(format!("coldgate-bench-e2e-{}", std::process::id()));
    if work.exists() {
        bail!("{} already exists: remove it first", work.display());
    }
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
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
    let secret = read_secret(&g.secret_path())?;
    let policy = coldgate_wallet::Config::load(&g.wallet_config())
        .context("reading the gateway's wallet config")?
        .policy;

    let mut client = g.client()?;
    let x = until_linked(&mut g, &mut client, |c| Box::pin(c.new_key())).await?;
    let (key_id, key) = match x.outcome {
        Outcome::Key { key_id, key } => (key_id, key),
        other => bail!("new key: expected a key, got: {other}"),
    };
    let state_path = client.state().path().to_path_buf();
    let mut direct = Direct {
        wallet,
        secret,
        key_id,
        key,
        id: 0,
    };

    let mut gateway = Samples::default();
    let mut straight = Samples::default();
    let round = Duration::from_secs_f64(opts.seconds / f64::from(ROUNDS));
    // The client's state file takes one holder at a time: the session and the direct path
    // hand it over between rounds.
    let mut session = Some(client);
    for r in 0..ROUNDS {
        let client = match &mut session {
            Some(c) => c,
            None => session.insert(g.client()?),
        };
        if r == 0 {
            for _ in 0..WARMUP {
                pubkey_through_gateway(client, key_id, key).await?;
            }
        }
        let (start, mut n) = (Instant::now(), 0);
        while more(start, round, n) {
            let t = Instant::now();
            pubkey_through_gateway(client, key_id, key).await?;
            gateway.record(t.elapsed());
            n += 1;
        }
        session = None;

        let mut state = State::open(&state_path, CLIENT_ID)?;
        if r == 0 {
            for _ in 0..WARMUP {
                direct.pubkey(&mut state).await?;
            }
        }
        let (start, mut n) = (Instant::now(), 0);
        while more(start, round, n) {
            let t = Instant::now();
            direct.pubkey(&mut state).await?;
            straight.record(t.elapsed());
            n += 1;
        }
    }

    let mut client = g.client()?;
    let sign = sign_phase(&mut client, &policy, key_id, opts.seconds).await?;
    drop(client);
    g.procs.check_alive()?;
    drop(g);

    let (g_us, d_us) = (gateway.sorted_us(), straight.sorted_us());
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("backend", json!(backend));
    put("link", json!("tcp"));
    put("gateway_calls_per_s", json!(gateway.calls_per_s()));
    put("direct_calls_per_s", json!(straight.calls_per_s()));
    put(
        "gateway_vs_direct",
        json!(gateway.calls_per_s() / straight.calls_per_s()),
    );
    put("gateway_p50_us", json!(percentile(&g_us, 50.0)));
    put("gateway_p99_us", json!(percentile(&g_us, 99.0)));
    put("direct_p50_us", json!(percentile(&d_us, 50.0)));
    put("direct_p99_us", json!(percentile(&d_us, 99.0)));
    put("gateway_calls", json!(g_us.len()));
    put("direct_calls", json!(d_us.len()));
    put("method", json!("getpubkey"));
    put("rounds", json!(ROUNDS));
    put("warmup_calls", json!(WARMUP));
    put("verifier_rate_refill_per_s", json!(RATE_REFILL_HZ));
    put(
        "gateway_log",
        json!(std::env::var("COLDGATE_DEMO_LOG").unwrap_or_else(|_| "info".into())),
    );
    let mut series = vec![
        ("gateway getpubkey".to_string(), g_us),
        ("direct getpubkey".to_string(), d_us),
    ];
    match sign {
        Signed::Measured {
            samples,
            budget,
            limit,
        } => {
            let s_us = samples.sorted_us();
            put("sign_calls_per_s", json!(samples.calls_per_s()));
            put("sign_p50_us", json!(percentile(&s_us, 50.0)));
            put("sign_p99_us", json!(percentile(&s_us, 99.0)));
            put("sign_calls", json!(s_us.len()));
            put("sign_budget", json!(budget));
            put("sign_budget_from", json!(limit));
            put("sign_amount_sat", json!(PAY_AMOUNT));
            series.push(("gateway signpayment".to_string(), s_us));
        }
        Signed::Skipped(why) => put("sign_skipped", json!(why)),
    }
    Ok((
        Value::Object(out),
        Latencies {
            backend: backend.to_string(),
            series,
        },
    ))
}

/// Whether a round that started at `start` and made `n` calls goes on: until its time is up,
/// and at least [`MIN_ROUND_CALLS`] calls.
fn more(start: Instant, budget: Duration, n: usize) -> bool {
    start.elapsed() < budget || n < MIN_ROUND_CALLS
}

async fn pubkey_through_gateway(client: &mut Client, key_id: u32, key: [u8; 32]) -> Result<()> {
    let x = client.pubkey(key_id).await?;
    match x.outcome {
        Outcome::Key {
            key_id: k,
            key: got,
        } if k == key_id && got == key => Ok(()),
        other => bail!("getpubkey through the gateway: expected key {key_id}, got: {other}"),
    }
}

/// The direct path: the wallet's endpoint and what the client knows, with converter-out's call.
struct Direct {
    wallet: Endpoint,
    secret: Secret,
    key_id: u32,
    key: [u8; 32],
    id: u64,
}

impl Direct {
    /// One `getpubkey` as the client would make it, sent as converter-out sends a verified
    /// frame; the answer is checked and remembered as the client does.
    async fn pubkey(&mut self, state: &mut State) -> Result<()> {
        let counter = state.reserve_counter()?;
        let request = Frame::sealed(
            CLIENT_ID,
            counter,
            Body::GetPubkey {
                key_id: self.key_id,
            },
            &self.secret,
        )
        .map_err(|e| anyhow!("sealing getpubkey: {e}"))?;
        self.id = self.id.wrapping_add(1);
        let wire =
            coldgate_converter_out::answer(&request, &self.wallet, self.id, CALL_TIMEOUT).await?;
        let answer = Frame::decode(&wire[..]).map_err(|e| anyhow!("wallet answer: {e}"))?;
        if !answer.verify(&self.secret) {
            bail!("direct getpubkey: the wallet's answer tag does not verify");
        }
        match answer.body {
            Body::Pubkey { key_id, key } if key_id == self.key_id && key == self.key => {
                state.remember_key(key_id, &key)?;
                Ok(())
            }
            other => bail!(
                "direct getpubkey: expected key {}, got a {} frame",
                self.key_id,
                other.msg_type()
            ),
        }
    }
}

enum Signed {
    Measured {
        samples: Samples,
        budget: u64,
        limit: String,
    },
    Skipped(String),
}

/// How many within-policy payments of `amount` a fresh store allows, and the limit that says so.
fn sign_budget(policy: &Policy, amount: u64, fee: u64) -> Result<(u64, String), String> {
    if amount > policy.max_payment || amount > policy.hold_above {
        return Err(format!(
            "the policy holds or rejects a {amount} sat payment (max_payment {}, hold_above {})",
            policy.max_payment, policy.hold_above
        ));
    }
    if fee > policy.max_fee {
        return Err(format!(
            "the policy rejects a {fee} sat fee (max_fee {})",
            policy.max_fee
        ));
    }
    let limits = [
        ("policy.client_daily_count", policy.client_daily_count),
        ("policy.service_daily_count", policy.service_daily_count),
        (
            "policy.client_daily_amount",
            policy.client_daily_amount / amount,
        ),
        (
            "policy.service_daily_amount",
            policy.service_daily_amount / amount,
        ),
    ];
    let (name, n) = limits
        .into_iter()
        .min_by_key(|(_, n)| *n)
        .ok_or_else(|| "no limits".to_string())?;
    if n == 0 {
        return Err(format!("{name} allows no payment"));
    }
    Ok((n, format!("{name} (rolling 24 h, fresh store)")))
}

async fn sign_phase(
    client: &mut Client,
    policy: &Policy,
    key_id: u32,
    seconds: f64,
) -> Result<Signed> {
    let (budget, limit) = match sign_budget(policy, PAY_AMOUNT, PAY_FEE) {
        Ok(b) => b,
        Err(why) => return Ok(Signed::Skipped(why)),
    };
    let mut samples = Samples::default();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut made = 0u64;
    while made < budget && Instant::now() < deadline {
        // Each payment spends its own (fake) outpoint.
        let vout = u32::try_from(made).context("more payments than outpoints")?;
        let p = demo::payment(key_id, vout, PAY_INPUT, PAY_AMOUNT, PAY_FEE)?;
        let t = Instant::now();
        let x = client.sign_payment(p).await?;
        samples.record(t.elapsed());
        if !matches!(x.outcome, Outcome::Signed { .. }) {
            bail!(
                "signpayment {vout} through the gateway: expected a verified signature, got: {}",
                x.outcome
            );
        }
        made += 1;
    }
    Ok(Signed::Measured {
        samples,
        budget,
        limit,
    })
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
    let colours = [RED, BLUE, GREEN];
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

    fn demo_like() -> Policy {
        Policy::new(
            100_000_000,
            10_000_000,
            100_000,
            2_000_000_000,
            100,
            2_000_000_000,
            1000,
            10,
        )
    }

    #[test]
    fn budget_is_the_tightest_rolling_limit() {
        let (n, limit) = sign_budget(&demo_like(), 250_000, 10_000).unwrap();
        assert_eq!(n, 100);
        assert!(limit.starts_with("policy.client_daily_count "), "{limit}");
        // A small daily amount binds before the count does.
        let tight = Policy::new(
            100_000_000,
            10_000_000,
            100_000,
            1_000_000,
            100,
            2_000_000_000,
            1000,
            10,
        );
        let (n, limit) = sign_budget(&tight, 250_000, 10_000).unwrap();
        assert_eq!(n, 4);
        assert!(limit.starts_with("policy.client_daily_amount "), "{limit}");
    }

    #[test]
    fn payments_the_policy_would_hold_or_reject_are_not_measured() {
        assert!(sign_budget(&demo_like(), 20_000_000, 10_000).is_err());
        assert!(sign_budget(&demo_like(), 250_000, 200_000).is_err());
    }
}
