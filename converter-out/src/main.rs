//! `coldgate-converter-out`: verified frames in from the appliance, wallet JSON-RPC out.

#![forbid(unsafe_code)]

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use coldgate_converter_in::rpc::Endpoint;
use coldgate_link::{FrameLink, Link, LinkOptions, LinkSpec, Role};

/// coldgate converter-out: carries the frames the verifier passed to the wallet's JSON-RPC and
/// the wallet's answer frames back.
#[derive(Parser, Debug)]
#[command(name = "coldgate-converter-out", version)]
struct Args {
    /// Link to the appliance's trusted side: tcp:HOST:PORT, serial:PATH or file:PATH.
    #[arg(long, default_value = "tcp:127.0.0.1:7102")]
    link: LinkSpec,
    /// The wallet's JSON-RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:7103")]
    wallet: Endpoint,
    /// Serial line rate for serial: links.
    #[arg(long, default_value_t = coldgate_spec::config::DEFAULT_BAUD)]
    baud: u32,
    /// Longest wait for one wallet call, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    call_timeout_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    coldgate_link::log::init("info");
    let args = Args::parse();
    if args.link == LinkSpec::Pty {
        anyhow::bail!("converter-out opens the appliance's pty slave with serial:PATH");
    }
    let options = LinkOptions {
        baud: args.baud,
        ..LinkOptions::named("trusted")
    };
    let link = Link::open(&args.link, Role::Peer, options)
        .await
        .with_context(|| format!("opening {}", args.link))?;
    tracing::info!(link = %args.link, wallet = %args.wallet, "converter-out running");
    let timeout = Duration::from_millis(args.call_timeout_ms);
    tokio::select! {
        _ = coldgate_converter_out::run(FrameLink::new(link), args.wallet, timeout) => {}
        _ = coldgate_link::signal::shutdown() => tracing::info!("stopping"),
    }
    Ok(())
}
