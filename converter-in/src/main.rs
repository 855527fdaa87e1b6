//! `coldgate-converter-in`: JSON-RPC 2.0 over HTTP in, frames out to the appliance.

#![forbid(unsafe_code)]

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use coldgate_converter_in::gateway::Gateway;
use coldgate_converter_in::hostile::Hostile;
use coldgate_converter_in::server::{self, Limits};
use coldgate_link::{FrameLink, Link, LinkOptions, LinkSpec, Role};

/// coldgate converter-in: serves the client's JSON-RPC calls and carries them as frames to the
/// appliance's untrusted side.
#[derive(Parser, Debug)]
#[command(name = "coldgate-converter-in", version)]
struct Args {
    /// Address to serve JSON-RPC on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:7100")]
    listen: String,
    /// Link to the appliance's untrusted side: tcp:HOST:PORT, serial:PATH or file:PATH.
    #[arg(long, default_value = "tcp:127.0.0.1:7101")]
    link: LinkSpec,
    /// Serial line rate for serial: links.
    #[arg(long, default_value_t = coldgate_spec::config::DEFAULT_BAUD)]
    baud: u32,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_body: usize,
    /// Connections served at once.
    #[arg(long, default_value_t = 64)]
    max_connections: usize,
    /// Largest batch of calls.
    #[arg(long, default_value_t = 16)]
    max_batch: usize,
    /// Calls waiting for answers at once.
    #[arg(long, default_value_t = 256)]
    max_pending: usize,
    /// Longest wait for an answer frame, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    call_timeout_ms: u64,
    /// Longest time to read a request's headers or body, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    read_timeout_ms: u64,
    /// FOR TESTS AND THE DEMO ONLY: behave like a compromised converter (see the hostile
    /// module: mutate a field, replay an earlier frame, inject a malformed frame).
    #[arg(long, value_enum, default_value_t = Hostile::Off)]
    hostile: Hostile,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    coldgate_link::log::init("info");
    let args = Args::parse();
    if args.link == LinkSpec::Pty {
        anyhow::bail!("converter-in opens the appliance's pty slave with serial:PATH");
    }
    if args.hostile != Hostile::Off {
        tracing::warn!(mode = ?args.hostile, "HOSTILE MODE: this converter misbehaves on purpose");
    }
    let options = LinkOptions {
        baud: args.baud,
        ..LinkOptions::named("untrusted")
    };
    let link = Link::open(&args.link, Role::Peer, options)
        .await
        .with_context(|| format!("opening {}", args.link))?;
    let gateway = Gateway::start(FrameLink::new(link), args.max_pending, args.hostile);
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("local address")?;
    tracing::info!(%addr, link = %args.link, "serving JSON-RPC");
    // Scripts and tests read this line to learn the port.
    println!("coldgate-converter-in listening on http://{addr}");
    let limits = Limits {
        max_body: args.max_body,
        max_connections: args.max_connections,
        max_batch: args.max_batch,
        call_timeout: Duration::from_millis(args.call_timeout_ms),
        read_timeout: Duration::from_millis(args.read_timeout_ms),
        ..Limits::default()
    };
    tokio::select! {
        _ = server::serve(listener, gateway, limits) => {}
        _ = coldgate_link::signal::shutdown() => tracing::info!("stopping"),
    }
    Ok(())
}
