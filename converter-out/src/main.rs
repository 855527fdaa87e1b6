//! `coldgate-converter-out`: verified frames in from the appliances, wallet JSON-RPC out.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use coldgate_converter_in::rpc::Endpoint;
use coldgate_converter_out::metrics::Metrics;
use coldgate_converter_out::Config;
use coldgate_link::LinkSpec;
use coldgate_ops::config::GatewayFile;
use coldgate_ops::listener::{self, Health};

/// coldgate converter-out: carries the frames the verifier passed to the wallet's JSON-RPC and
/// the wallet's answer frames back. Every option may also come from `--gateway` (section
/// `[converter_out]`); the command line wins. Defaults are in brackets.
#[derive(Parser, Debug)]
#[command(name = "coldgate-converter-out", version)]
struct Args {
    /// The gateway's config file (gateway.toml); this process reads `[converter_out]`.
    #[arg(long)]
    gateway: Option<PathBuf>,
    /// A link to an appliance's trusted side: tcp:HOST:PORT, serial:PATH or file:PATH.
    /// Repeat for several appliances [tcp:127.0.0.1:7102].
    #[arg(long)]
    link: Vec<LinkSpec>,
    /// The wallet's JSON-RPC endpoint [http://127.0.0.1:7103].
    #[arg(long)]
    wallet: Option<Endpoint>,
    /// Address of the health and metrics listener (`/health`, `/metrics`) [none].
    #[arg(long)]
    metrics: Option<String>,
    /// Serial line rate for serial: links.
    #[arg(long)]
    baud: Option<u32>,
    /// Longest wait for one wallet call, in milliseconds [10000].
    #[arg(long)]
    call_timeout_ms: Option<u64>,
    /// Wallet calls in flight at once; one client's calls never overlap [64].
    #[arg(long)]
    max_in_flight: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    // One thread: a call's hops inside this process (links, dispatcher, wallet connections) are task switches, not
    // wake-ups of other threads, which cost more than the work itself (measured in bench/:
    // the e2e suite's added p50). The work per call is small and bounded by the verifier's rate.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    coldgate_link::log::init("info");
    let args = Args::parse();
    let file = GatewayFile::load_or_default(args.gateway.as_deref())?.converter_out;
    let links: Vec<LinkSpec> = if !args.link.is_empty() {
        args.link.clone()
    } else if let Some(l) = &file.links {
        l.iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .context("converter_out.links")?
    } else {
        vec!["tcp:127.0.0.1:7102".parse()?]
    };
    if links.contains(&LinkSpec::Pty) {
        anyhow::bail!("converter-out opens the appliance's pty slave with serial:PATH");
    }
    let wallet = match (args.wallet, &file.wallet) {
        (Some(w), _) => w,
        (None, Some(w)) => w
            .parse()
            .map_err(|e: String| anyhow::anyhow!("converter_out.wallet: {e}"))?,
        (None, None) => "http://127.0.0.1:7103"
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?,
    };
    let baud = args
        .baud
        .or(file.baud)
        .unwrap_or(coldgate_spec::config::DEFAULT_BAUD);
    let frame_links = coldgate_link::open_peers(&links, "trusted", baud).await?;
    let names: Vec<String> = links.iter().map(ToString::to_string).collect();
    tracing::info!(links = %names.join(","), %wallet, "converter-out running");
    let config = Config {
        wallet,
        timeout: Duration::from_millis(
            args.call_timeout_ms
                .or(file.call_timeout_ms)
                .unwrap_or(10_000),
        ),
        max_in_flight: args.max_in_flight.or(file.max_in_flight).unwrap_or(64),
        pool: coldgate_converter_out::PoolConfig::default(),
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = args.metrics.as_ref().or(file.metrics.as_ref()) {
        let mut registry =
            prometheus_client::registry::Registry::with_prefix("coldgate_converter_out");
        metrics.register(&mut registry);
        let writers: Vec<(String, coldgate_link::LinkWriter)> = frame_links
            .iter()
            .map(|l| (l.link().spec().to_string(), l.writer()))
            .collect();
        let health: listener::HealthFn = Arc::new(move || Health {
            ok: writers.iter().any(|(_, w)| w.is_up()),
            detail: serde_json::json!({
                "links": writers.iter().map(|(l, w)| serde_json::json!({"link": l, "up": w.is_up()})).collect::<Vec<_>>(),
            }),
        });
        let l = listener::bind("coldgate-converter-out", addr).await?;
        tokio::spawn(listener::serve(l, Arc::new(registry), health));
    }
    tokio::select! {
        _ = coldgate_converter_out::serve(frame_links, config, metrics) => {}
        _ = coldgate_link::signal::shutdown() => tracing::info!("stopping"),
    }
    Ok(())
}
