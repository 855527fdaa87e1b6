//! `coldgate-converter-in`: JSON-RPC 2.0 over HTTP in, frames out to the appliances.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use coldgate_converter_in::auth::{self, Auth};
use coldgate_converter_in::gateway::{Gateway, GatewayConfig, Pacing};
use coldgate_converter_in::hostile::Hostile;
use coldgate_converter_in::metrics::Metrics;
use coldgate_converter_in::server::{self, Limits};
use coldgate_link::LinkSpec;
use coldgate_ops::config::GatewayFile;
use coldgate_ops::listener::{self, Health};

/// coldgate converter-in: serves the client's JSON-RPC calls and carries them as frames to the
/// appliances' untrusted sides. Every option may also come from `--gateway` (section
/// `[converter_in]`); the command line wins. Defaults are in brackets.
#[derive(Parser, Debug)]
#[command(name = "coldgate-converter-in", version)]
struct Args {
    /// The gateway's config file (gateway.toml); this process reads `[converter_in]`.
    #[arg(long)]
    gateway: Option<PathBuf>,
    /// Address to serve JSON-RPC on (port 0 picks a free port; the address is printed)
    /// [127.0.0.1:7100].
    #[arg(long)]
    listen: Option<String>,
    /// A link to an appliance's untrusted side: tcp:HOST:PORT, serial:PATH or file:PATH.
    /// Repeat for several appliances: calls fail over between them [tcp:127.0.0.1:7101].
    #[arg(long)]
    link: Vec<LinkSpec>,
    /// Address of the health and metrics listener (`/health`, `/metrics`) [none].
    #[arg(long)]
    metrics: Option<String>,
    /// Serial line rate for serial: links.
    #[arg(long)]
    baud: Option<u32>,
    /// Largest request body in bytes [65536].
    #[arg(long)]
    max_body: Option<usize>,
    /// Connections open at once; beyond it a new one evicts the oldest idle one [256].
    #[arg(long)]
    max_connections: Option<usize>,
    /// Connections open at once from one peer address [64].
    #[arg(long)]
    max_per_peer: Option<usize>,
    /// Largest batch of calls [16].
    #[arg(long)]
    max_batch: Option<usize>,
    /// Calls waiting for answers at once [256].
    #[arg(long)]
    max_pending: Option<usize>,
    /// Calls waiting for a verifier token at once; beyond it, -32006 at once [256].
    #[arg(long)]
    queue: Option<usize>,
    /// Longest wait for an answer frame, queue time included, in milliseconds [10000].
    #[arg(long)]
    call_timeout_ms: Option<u64>,
    /// Longest time to receive a request's head, in milliseconds [2000].
    #[arg(long)]
    header_timeout_ms: Option<u64>,
    /// Longest time to receive a request's body, in milliseconds [5000].
    #[arg(long)]
    read_timeout_ms: Option<u64>,
    /// Longest a keep-alive connection may idle, in milliseconds [5000].
    #[arg(long)]
    idle_timeout_ms: Option<u64>,
    /// Requests one connection may carry [1000].
    #[arg(long)]
    keep_alive_requests: Option<u32>,
    /// The verifier's token bucket depth [spec: RATE_BURST].
    #[arg(long)]
    rate_burst: Option<u32>,
    /// The verifier's refill, tokens per second [spec: RATE_REFILL_HZ].
    #[arg(long)]
    rate_refill_per_s: Option<u32>,
    /// Require HTTP Basic authentication; write a bitcoind-style cookie file here.
    #[arg(long)]
    cookie: Option<PathBuf>,
    /// Require HTTP Basic authentication; accept this `USER:SALT$HASH` line (repeatable).
    #[arg(long)]
    rpcauth: Vec<String>,
    /// Print a new rpcauth line and its password for USER, then exit.
    #[arg(long, value_name = "USER")]
    new_rpcauth: Option<String>,
    /// FOR TESTS AND THE DEMO ONLY: behave like a compromised converter (see the hostile
    /// module: mutate a field, replay an earlier frame, inject a malformed frame).
    #[arg(long, value_enum, default_value_t = Hostile::Off)]
    hostile: Hostile,
}

fn ms(v: Option<u64>, file: Option<u64>, default: Duration) -> Duration {
    v.or(file).map_or(default, Duration::from_millis)
}

fn main() -> anyhow::Result<()> {
    // One thread: a call's hops inside this process (HTTP front, queue, pacer, links) are task switches, not
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
    if let Some(user) = &args.new_rpcauth {
        let (line, password) = auth::rpcauth_line(user)?;
        println!("rpcauth = [\"{line}\"]\npassword: {password}");
        return Ok(());
    }
    let file = GatewayFile::load_or_default(args.gateway.as_deref())?.converter_in;
    let links: Vec<LinkSpec> = if !args.link.is_empty() {
        args.link.clone()
    } else if let Some(l) = &file.links {
        l.iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .context("converter_in.links")?
    } else {
        vec!["tcp:127.0.0.1:7101".parse()?]
    };
    if links.contains(&LinkSpec::Pty) {
        anyhow::bail!("converter-in opens the appliance's pty slave with serial:PATH");
    }
    if args.hostile != Hostile::Off {
        tracing::warn!(mode = ?args.hostile, "HOSTILE MODE: this converter misbehaves on purpose");
    }
    let d = Limits::default();
    let limits = Limits {
        max_body: args.max_body.or(file.max_body).unwrap_or(d.max_body),
        max_connections: args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(d.max_connections),
        max_per_peer: args
            .max_per_peer
            .or(file.max_per_peer)
            .unwrap_or(d.max_per_peer),
        max_batch: args.max_batch.or(file.max_batch).unwrap_or(d.max_batch),
        call_timeout: ms(args.call_timeout_ms, file.call_timeout_ms, d.call_timeout),
        header_timeout: ms(
            args.header_timeout_ms,
            file.header_timeout_ms,
            d.header_timeout,
        ),
        read_timeout: ms(args.read_timeout_ms, file.read_timeout_ms, d.read_timeout),
        idle_timeout: ms(args.idle_timeout_ms, file.idle_timeout_ms, d.idle_timeout),
        keep_alive_requests: args
            .keep_alive_requests
            .or(file.keep_alive_requests)
            .unwrap_or(d.keep_alive_requests),
        ..d
    };
    let p = Pacing::default();
    let gd = GatewayConfig::default();
    let config = GatewayConfig {
        max_pending: args
            .max_pending
            .or(file.max_pending)
            .unwrap_or(gd.max_pending),
        queue: args.queue.or(file.queue).unwrap_or(gd.queue),
        pacing: Pacing {
            burst: args.rate_burst.or(file.rate_burst).unwrap_or(p.burst),
            refill_per_s: args
                .rate_refill_per_s
                .or(file.rate_refill_per_s)
                .unwrap_or(p.refill_per_s),
        },
        hostile: args.hostile,
    };
    let mut auth = Auth::default();
    for line in args.rpcauth.iter().chain(&file.rpcauth) {
        auth.add_rpcauth(line)?;
    }
    if let Some(cookie) = args.cookie.as_ref().or(file.cookie.as_ref()) {
        auth.add_cookie(cookie)?;
        tracing::info!(cookie = %cookie.display(), "HTTP Basic authentication: cookie written");
    }

    let baud = args
        .baud
        .or(file.baud)
        .unwrap_or(coldgate_spec::config::DEFAULT_BAUD);
    let frame_links = coldgate_link::open_peers(&links, "untrusted", baud).await?;
    let metrics = Arc::new(Metrics::default());
    let gateway = Gateway::start(frame_links, config, Arc::clone(&metrics));

    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:7100".into());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr().context("local address")?;
    let names: Vec<String> = links.iter().map(ToString::to_string).collect();
    tracing::info!(%addr, links = %names.join(","), "serving JSON-RPC");
    // Scripts and tests read this line to learn the port.
    println!("coldgate-converter-in listening on http://{addr}");
    if let Some(addr) = args.metrics.as_ref().or(file.metrics.as_ref()) {
        let mut registry =
            prometheus_client::registry::Registry::with_prefix("coldgate_converter_in");
        metrics.register(&mut registry);
        let g = Arc::clone(&gateway);
        let health: listener::HealthFn = Arc::new(move || {
            let links = g.links();
            Health {
                ok: links.iter().any(|(_, up)| *up),
                detail: serde_json::json!({
                    "links": links.iter().map(|(l, up)| serde_json::json!({"link": l, "up": up})).collect::<Vec<_>>(),
                    "waiting": g.waiting(),
                }),
            }
        });
        let l = listener::bind("coldgate-converter-in", addr).await?;
        tokio::spawn(listener::serve(l, Arc::new(registry), health));
    }

    tokio::select! {
        _ = server::serve(listener, gateway, limits, Some(auth)) => {}
        _ = coldgate_link::signal::shutdown() => tracing::info!("stopping"),
    }
    Ok(())
}
