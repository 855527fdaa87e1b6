//! `coldgate-hdl`: Verilog, synthesis figures and the bitstream of the coldgate verifier.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use coldgate_hdl::flow;
use coldgate_spec::config;

#[derive(Parser)]
#[command(
    name = "coldgate-hdl",
    about = "The coldgate verifier's logic: Verilog and iCE40 flow"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write coldgate_pair.v, coldgate_eth.v, coldgate_board.v, coldgate_board.pcf (and the
    /// probe and lint waivers) into DIR; print the Ethernet ports' MACs.
    Verilog {
        #[arg(long)]
        out: PathBuf,
        /// UART rate of the board top.
        #[arg(long, default_value_t = config::DEFAULT_BAUD)]
        baud: u32,
    },
    /// Synthesise and place the core and the board top; print the figures.
    Synth {
        /// Print JSON (the only format).
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = config::DEFAULT_BAUD)]
        baud: u32,
    },
    /// Build the Alchitry Cu bitstream (.bin).
    Bitstream {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = config::DEFAULT_BAUD)]
        baud: u32,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldgate-hdl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), flow::FlowError> {
    match cli.command {
        Cmd::Verilog { out, baud } => {
            for p in flow::write_verilog(&out, baud)? {
                println!("{}", p.display());
            }
            // The Ethernet ports' addresses are fixed in the logic: say which.
            for port in coldgate_spec::eth::EthPort::BOTH {
                let c = port.config();
                eprintln!(
                    "coldgate_eth port {}: own MAC {}, peer MAC {}",
                    port.name(),
                    coldgate_spec::eth::mac_text(&c.own),
                    coldgate_spec::eth::mac_text(&c.peer)
                );
            }
        }
        Cmd::Synth { json: _, baud } => {
            let report = flow::synth_report(baud)?;
            println!("{}", report.to_json());
        }
        Cmd::Bitstream { out, baud } => {
            let r = flow::bitstream(baud, &out)?;
            eprintln!(
                "{}: {} logic cells, {} block RAMs, {:.2} MHz max",
                out.display(),
                r.logic_cells,
                r.brams,
                r.fmax_mhz
            );
        }
    }
    Ok(())
}
