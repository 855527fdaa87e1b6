//! `coldgate-hdl`: Verilog, synthesis figures and the bitstream of the coldgate verifier.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use coldgate_hdl::{flow, flow_ecp5};
use coldgate_spec::config;

#[derive(Parser)]
#[command(
    name = "coldgate-hdl",
    about = "The coldgate verifier's logic: Verilog, iCE40 and ECP5 flows"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Which board's top and flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Board {
    /// Alchitry Cu (iCE40-HX8K): two UARTs; yosys, nextpnr-ice40, icepack.
    Alchitry,
    /// Colorlight 5A-75B rev 7.0 (ECP5-25F): two gigabit Ethernet ports; yosys,
    /// nextpnr-ecp5, ecppack.
    Colorlight,
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
        /// `colorlight` writes coldgate_colorlight.v, its .lpf and the ECP5 simulation
        /// models instead.
        #[arg(long, value_enum, default_value_t = Board::Alchitry)]
        board: Board,
    },
    /// Synthesise and place the core and the board top; print the figures.
    Synth {
        /// Print JSON (the only format).
        #[arg(long)]
        json: bool,
        /// UART rate of the Alchitry top.
        #[arg(long, default_value_t = config::DEFAULT_BAUD)]
        baud: u32,
        #[arg(long, value_enum, default_value_t = Board::Alchitry)]
        board: Board,
        /// nextpnr placement seed (Colorlight).
        #[arg(long, default_value_t = 1)]
        seed: u32,
    },
    /// Formal proof of each lane's drop rules (yosys to AIGER, ABC): safety by PDR (unbounded)
    /// or bounded model checking from reset, covers, mutants; exits non-zero unless every one
    /// is as it must be.
    Prove(coldgate_hdl::prove::ProveArgs),
    /// Build the bitstream: Alchitry Cu (.bin) or Colorlight 5A-75B (.bit).
    Bitstream {
        #[arg(long)]
        out: PathBuf,
        /// UART rate of the Alchitry top.
        #[arg(long, default_value_t = config::DEFAULT_BAUD)]
        baud: u32,
        #[arg(long, value_enum, default_value_t = Board::Alchitry)]
        board: Board,
        /// nextpnr placement seed (Colorlight).
        #[arg(long, default_value_t = 1)]
        seed: u32,
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
        Cmd::Verilog { out, baud, board } => {
            let written = match board {
                Board::Alchitry => flow::write_verilog(&out, baud)?,
                Board::Colorlight => flow_ecp5::write_verilog(&out)?,
            };
            for p in written {
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
        Cmd::Synth {
            json: _,
            board: Board::Colorlight,
            seed,
            ..
        } => {
            println!("{}", flow_ecp5::synth_report(seed)?.to_json());
        }
        Cmd::Synth {
            json: _,
            baud,
            board: Board::Alchitry,
            ..
        } => {
            let report = flow::synth_report(baud)?;
            println!("{}", report.to_json());
        }
        Cmd::Prove(args) => coldgate_hdl::prove::run_cli(&args)?,
        Cmd::Bitstream {
            out,
            board: Board::Colorlight,
            seed,
            ..
        } => {
            let r = flow_ecp5::bitstream(seed, &out)?;
            eprintln!(
                "{}: {} LUTs, {} block RAMs, core {:.2} MHz, RGMII {:.2} MHz (seed {})",
                out.display(),
                r.luts,
                r.ebr,
                r.core_fmax_mhz,
                r.rgmii_fmax_mhz,
                r.seed
            );
        }
        Cmd::Bitstream {
            out,
            baud,
            board: Board::Alchitry,
            ..
        } => {
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
