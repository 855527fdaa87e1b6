//! `coldgate-appliance`: the verifier without a board. Runs one backend and exposes the
//! untrusted and the trusted side as links, exactly as a board's two UARTs would be.
//!
//! ```text
//! coldgate-appliance --untrusted tcp:127.0.0.1:7101 --trusted pty --backend verilator \
//!     --pty-paths /tmp/coldgate.endpoints
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use coldgate_link::LinkSpec;
use coldgate_sim::appliance::{self, ApplianceConfig};
use coldgate_sim::BackendKind;

#[derive(Parser, Debug)]
#[command(
    name = "coldgate-appliance",
    about = "The coldgate verifier behind two links"
)]
struct Args {
    /// Link towards the network side (converter-in): tcp:HOST:PORT, pty, serial:PATH, file:PATH.
    #[arg(long)]
    untrusted: LinkSpec,
    /// Link towards the wallet side (converter-out).
    #[arg(long)]
    trusted: LinkSpec,
    /// What runs the lanes: golden, rusthdl, verilator or board.
    #[arg(long, default_value = "verilator", value_parser = parse_backend)]
    backend: BackendKind,
    /// Writes `SIDE KIND ADDRESS` lines (pty slave paths, bound tcp addresses) here.
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
    /// Seconds between live counter lines.
    #[arg(long, default_value_t = 5.0)]
    stats_every: f64,
}

fn parse_backend(s: &str) -> Result<BackendKind, String> {
    BackendKind::from_name(s)
        .ok_or_else(|| format!("{s:?}: expected golden, rusthdl, verilator or board"))
}

fn main() -> anyhow::Result<()> {
    coldgate_link::log::init("info");
    let args = Args::parse();
    if !(args.stats_every.is_finite() && args.stats_every > 0.0) {
        anyhow::bail!("--stats-every must be a positive number of seconds");
    }
    let cfg = ApplianceConfig {
        untrusted: args.untrusted,
        trusted: args.trusted,
        backend: args.backend,
        endpoints_file: args.pty_paths,
        vcd: args.vcd,
        board_untrusted: args.board_untrusted,
        board_trusted: args.board_trusted,
        board_status: args.board_status,
        board_baud: args.board_baud,
        stats_every: Duration::from_secs_f64(args.stats_every),
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(appliance::run(cfg, coldgate_link::signal::shutdown()))
}
