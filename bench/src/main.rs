//! coldgate's benchmarks. Every suite prints one JSON object with `--json`, and reports speed
//! as ratios against a baseline measured in the same run, never as a pass/fail.
//!
//! `cargo run --release -p coldgate-bench -- <suite> --json [--plot DIR]`
//!
//! `e2e` starts the whole gateway as `coldgate demo` does, so every coldgate binary must be
//! built first, next to this one: `cargo build --release`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use serde_json::Value;

mod e2e;
mod eth;
mod golden;
mod measure;
mod sim;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Suite {
    /// The golden software verifier against a plain CRC pass over the same bytes.
    Golden,
    /// The Verilated core through coldgate-sim's batched API, against a plain C++ loop.
    Sim,
    /// Calls through the whole gateway (real processes on loopback), against the same calls
    /// sent straight to the wallet.
    E2e,
    /// The Ethernet appliance: line rate in clocks, its simulation cost against the pair
    /// core, and calls through `eth:` links against tcp links (root: a network namespace).
    Eth,
}

impl Suite {
    fn name(self) -> &'static str {
        match self {
            Suite::Golden => "golden",
            Suite::Sim => "sim",
            Suite::E2e => "e2e",
            Suite::Eth => "eth",
        }
    }
}

#[derive(Parser)]
#[command(about = "coldgate benchmarks")]
struct Args {
    suite: Suite,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Seconds each measurement runs for (e2e: per concurrency level and path).
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Also write the result as DIR/<suite>.json, and the suite's plots (e2e: DIR/e2e-latency.svg
    /// and DIR/e2e-concurrency.svg, throughput against concurrency).
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
    /// e2e: the appliance's backend (`auto`: verilator when installed, else rusthdl, as the demo).
    #[arg(long, default_value = "auto")]
    backend: String,
    /// e2e: where the gateway's binaries are (default: next to this executable).
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
}

fn run(args: &Args) -> Result<Value> {
    if let Some(dir) = &args.plot {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let result = match args.suite {
        Suite::Golden => golden::run(args.seconds),
        Suite::Sim => sim::run(args.seconds),
        Suite::Eth => eth::run(args.seconds, args.bin_dir.clone())?,
        Suite::E2e => {
            let (result, latencies) = e2e::run(&e2e::Options {
                seconds: args.seconds,
                backend: args.backend.clone(),
                bin_dir: args.bin_dir.clone(),
            })?;
            if let Some(dir) = &args.plot {
                e2e::plot(&latencies, &dir.join("e2e-latency.svg"))?;
                e2e::plot_throughput(&latencies, &dir.join("e2e-concurrency.svg"))?;
            }
            result
        }
    };
    if let Some(dir) = &args.plot {
        let path = dir.join(format!("{}.json", args.suite.name()));
        let text = serde_json::to_string_pretty(&result)? + "\n";
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(result)
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        eprintln!("--seconds must be a positive number of seconds");
        return ExitCode::FAILURE;
    }
    let result = match run(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("coldgate-bench {}: {e:#}", args.suite.name());
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        println!("{result}");
    } else {
        for (k, v) in result.as_object().into_iter().flatten() {
            println!("{k:<32} {v}");
        }
    }
    ExitCode::SUCCESS
}
