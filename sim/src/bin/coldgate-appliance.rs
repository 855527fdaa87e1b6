//! `coldgate-appliance`: the verifier without a board. Runs one backend and exposes the
//! untrusted and the trusted side as links, exactly as a board's two UARTs would be.
//!
//! ```text
//! coldgate-appliance --untrusted tcp:127.0.0.1:7101 --trusted pty --backend verilator \
//!     --pty-paths /tmp/coldgate.endpoints
//! coldgate-appliance --gateway /etc/coldgate/gateway.toml --instance a   # [appliance.a]
//! ```
//!
//! With `--board colorlight` it is the Ethernet appliance instead: the Ethernet top's logic
//! with each port bridged to a TAP interface and/or a UDP virtual wire
//! (`coldgate_sim::ethernet`):
//!
//! ```text
//! coldgate-appliance --board colorlight --tap-u cgu0 --tap-t cgt0 [--udp-u 127.0.0.1:0]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use coldgate_link::LinkSpec;
use coldgate_sim::appliance::{self, ApplianceConfig};
use coldgate_sim::ethernet::{self, core::EthCoreKind, EthApplianceConfig};
use coldgate_sim::BackendKind;

#[derive(Parser, Debug)]
#[command(
    name = "coldgate-appliance",
    about = "The coldgate verifier behind two links"
)]
struct Args {
    /// Link towards the network side (converter-in): tcp:HOST:PORT, pty, serial:PATH, file:PATH.
    #[arg(long, required_unless_present = "board")]
    untrusted: Option<LinkSpec>,
    /// Link towards the wallet side (converter-out).
    #[arg(long, required_unless_present = "board")]
    trusted: Option<LinkSpec>,
    /// What runs the lanes: golden, rusthdl, verilator or board (with --board colorlight:
    /// golden or verilator).
    #[arg(long, default_value = "verilator")]
    backend: String,
    /// `colorlight`: the Ethernet appliance (the Colorlight 5A-75B's logic, GMII level), its
    /// ports bridged to --tap-u/--tap-t interfaces and/or --udp-u/--udp-t virtual wires.
    #[arg(long, value_parser = ["colorlight"])]
    board: Option<String>,
    /// TAP interface the appliance creates for port U (untrusted network; needs root).
    #[arg(long, requires = "board")]
    tap_u: Option<String>,
    /// TAP interface for port T (trusted network).
    #[arg(long, requires = "board")]
    tap_t: Option<String>,
    /// UDP virtual wire for port U: binds ADDR; one datagram is one burst as on the wire
    /// (preamble, SFD, frame, FCS); bursts from port U go to the last sender. No privileges.
    #[arg(long, requires = "board")]
    udp_u: Option<SocketAddr>,
    /// UDP virtual wire for port T.
    #[arg(long, requires = "board")]
    udp_t: Option<SocketAddr>,
    /// Writes `SIDE KIND ADDRESS` lines (pty slave paths, bound tcp addresses; TAP names and
    /// bound udp wires with --board colorlight) here.
    #[arg(long)]
    pty_paths: Option<PathBuf>,
    /// Traces every signal of the Verilator model to this VCD file (large; for debugging).
    #[arg(long)]
    vcd: Option<PathBuf>,
    /// The board's untrusted-side UART (board backend).
    #[arg(long)]
    board_untrusted: Option<String>,
    /// The board's trusted-side UART (board backend).
    #[arg(long)]
    board_trusted: Option<String>,
    /// The board's status UART, which repeats counter snapshots (optional; without it the
    /// appliance counts the verdicts it sees).
    #[arg(long)]
    board_status: Option<String>,
    /// UART rate of the board.
    #[arg(long, default_value_t = coldgate_spec::config::DEFAULT_BAUD)]
    board_baud: u32,
    /// Seconds between live counter lines (and metrics updates).
    #[arg(long, default_value_t = 5.0)]
    stats_every: f64,
    /// Address of the health and metrics listener (`/health`, `/metrics`: the verifier's
    /// counters per lane and verdict).
    #[arg(long)]
    metrics: Option<String>,
}

fn parse_backend(s: &str) -> Result<BackendKind, String> {
    BackendKind::from_name(s)
        .ok_or_else(|| format!("{s:?}: expected golden, rusthdl, verilator or board"))
}

fn main() -> anyhow::Result<()> {
    coldgate_link::log::init("info");
    // `--gateway FILE --instance NAME`: the options of `[appliance.NAME]` in gateway.toml.
    let args = Args::parse_from(coldgate_ops::config::appliance_argv(std::env::args_os())?);
    let metrics = args.metrics.clone();
    if !(args.stats_every.is_finite() && args.stats_every > 0.0) {
        anyhow::bail!("--stats-every must be a positive number of seconds");
    }
    let stats_every = Duration::from_secs_f64(args.stats_every);
    if args.board.is_some() {
        let core = EthCoreKind::from_name(&args.backend).ok_or_else(|| {
            anyhow::anyhow!(
                "{:?}: the Ethernet appliance runs golden or verilator",
                args.backend
            )
        })?;
        if args.untrusted.is_some() || args.trusted.is_some() {
            anyhow::bail!("--board colorlight takes --tap-u/--tap-t/--udp-u/--udp-t, not links");
        }
        let cfg = EthApplianceConfig {
            core,
            taps: [args.tap_u, args.tap_t],
            udp: [args.udp_u, args.udp_t],
            endpoints_file: args.pty_paths,
            stats_every,
        };
        let rt = tokio::runtime::Runtime::new()?;
        return rt.block_on(ethernet::run(cfg, coldgate_link::signal::shutdown()));
    }
    let (Some(untrusted), Some(trusted)) = (args.untrusted, args.trusted) else {
        anyhow::bail!("--untrusted and --trusted are required without --board");
    };
    let cfg = ApplianceConfig {
        untrusted,
        trusted,
        backend: parse_backend(&args.backend).map_err(anyhow::Error::msg)?,
        endpoints_file: args.pty_paths,
        vcd: args.vcd,
        board_untrusted: args.board_untrusted,
        board_trusted: args.board_trusted,
        board_status: args.board_status,
        board_baud: args.board_baud,
        stats_every,
    };
    // The links' tasks on one thread (the backend has its own): a frame's way through this
    // process is then one hand-off to the backend and one back, with no wake-up of another
    // runtime worker in between.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        if let Some(addr) = &metrics {
            let listener = coldgate_ops::listener::bind("coldgate-appliance", addr).await?;
            let (registry, health) = coldgate_sim::metrics::appliance_registry();
            tokio::spawn(coldgate_ops::listener::serve(listener, registry, health));
        }
        appliance::run(cfg, coldgate_link::signal::shutdown()).await
    })
}
