//! coldgate's benchmarks. Every suite prints one JSON object with `--json`, and reports speed
//! as ratios against a baseline measured in the same run, never as a pass/fail.
//!
//! `cargo run --release -p coldgate-bench -- <suite> --json`

use clap::{Parser, ValueEnum};
use serde_json::Value;

mod golden;
mod measure;
mod sim;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Suite {
    /// The golden software verifier against a plain CRC pass over the same bytes.
    Golden,
    /// The Verilated core through coldgate-sim's batched API, against a plain C++ loop.
    Sim,
}

#[derive(Parser)]
#[command(about = "coldgate benchmarks")]
struct Args {
    suite: Suite,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Seconds each measurement runs for.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
}

fn main() {
    let args = Args::parse();
    let result: Value = match args.suite {
        Suite::Golden => golden::run(args.seconds),
        Suite::Sim => sim::run(args.seconds),
    };
    if args.json {
        println!("{result}");
    } else {
        for (k, v) in result.as_object().into_iter().flatten() {
            println!("{k:<32} {v}");
        }
    }
}
