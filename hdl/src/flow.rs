//! The iCE40 flow: yosys (`synth_ice40`), nextpnr-ice40 (HX8K, cb132) and icepack, run as
//! real processes in a scratch directory, and what their logs say.
//!
//! The core alone has more ports (about 490 bits, mostly counters) than the package has
//! pins, so its clock rate and size are measured on a probe, `coldgate_pair_probe`: every
//! core input comes from a serial-in shift register and every output is loaded into a
//! parallel-in serial-out shift register, so the probe has four pins, no core logic is
//! optimised away, and every path that starts or ends at a core port is a register-to-register
//! path that counts towards the clock rate. The core's logic cells are the probe's minus one
//! cell per probe register bit (each is one flip-flop, with a two-way choice in front of the
//! output ones): an estimate, reported beside the probe's own count.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::harness::{pair_ports, PortDir};
use crate::verilog::{BOARD_MODULE, PAIR_MODULE};

/// Name of the measurement wrapper around the core.
pub const PROBE_MODULE: &str = "coldgate_pair_probe";
/// nextpnr's timing target for the core, MHz: one lane at 1 Gbit/s.
pub const CORE_TARGET_MHZ: u32 = 125;
/// Logic cells of the iCE40-HX8K.
pub const HX8K_LOGIC_CELLS: u32 = 7_680;
/// 4-kbit block RAMs of the iCE40-HX8K.
pub const HX8K_BRAMS: u32 = 32;

/// Why a flow step failed.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("cannot run {tool}: {source} (is it installed? Debian packages yosys, nextpnr-ice40, fpga-icestorm)")]
    Spawn {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}); last lines of its output:\n{tail}")]
    Failed {
        tool: &'static str,
        status: String,
        tail: String,
    },
    #[error("nextpnr's log has no {0}")]
    Report(&'static str),
    #[error("the board top closes timing at {fmax_mhz:.2} MHz, below its {clock_mhz} MHz clock: no bitstream written (try another nextpnr seed or a shorter path)")]
    Timing { fmax_mhz: f64, clock_mhz: u32 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Baud(#[from] crate::board::BaudError),
}

/// A scratch directory, removed when dropped.
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    pub fn new() -> Result<WorkDir, FlowError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("coldgate-hdl-{}-{n}", std::process::id()));
        std::fs::create_dir(&path).map_err(|source| FlowError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(WorkDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `text` to `name` inside the directory.
    pub fn write(&self, name: &str, text: &str) -> Result<PathBuf, FlowError> {
        write_file(&self.path.join(name), text)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub(crate) fn write_file(path: &Path, text: &str) -> Result<PathBuf, FlowError> {
    std::fs::write(path, text).map_err(|source| FlowError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(path.to_path_buf())
}

/// Runs `tool` with `args` in `dir`; its combined output on success.
pub fn run(tool: &'static str, args: &[&str], dir: &Path) -> Result<String, FlowError> {
    run_program(tool, Path::new(tool), args, dir)
}

/// Runs the program at `path` (named `tool` in errors) with `args` in `dir`; its combined
/// output on success.
pub fn run_program(
    tool: &'static str,
    path: &Path,
    args: &[&str],
    dir: &Path,
) -> Result<String, FlowError> {
    let out = Command::new(path)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|source| FlowError::Spawn { tool, source })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        return Err(FlowError::Failed {
            tool,
            status: out.status.to_string(),
            tail,
        });
    }
    Ok(text)
}

/// The probe around the core (see the module doc).
pub fn probe_verilog() -> String {
    let ports = pair_ports();
    let ins: Vec<_> = ports
        .iter()
        .filter(|p| p.dir == PortDir::Input && p.name != "clock")
        .collect();
    let outs: Vec<_> = ports.iter().filter(|p| p.dir == PortDir::Output).collect();
    let n: u32 = ins.iter().map(|p| p.width).sum();
    let m: u32 = outs.iter().map(|p| p.width).sum();
    let mut v = String::new();
    let _ = writeln!(
        v,
        "// Measurement wrapper: the core's ports through shift registers (coldgate_hdl::flow).\n\
         module {PROBE_MODULE}(input clock, input si, input load, output so);\n\
         \x20 reg [{}:0] isr;\n\
         \x20 always @(posedge clock) isr <= {{isr[{}:0], si}};",
        n - 1,
        n - 2
    );
    let mut conns = vec![".clock(clock)".to_string()];
    let mut at = 0;
    for p in &ins {
        conns.push(format!(".{}(isr[{}:{}])", p.name, at + p.width - 1, at));
        at += p.width;
    }
    for p in &outs {
        let _ = writeln!(v, "  wire [{}:0] o_{};", p.width - 1, p.name);
        conns.push(format!(".{}(o_{})", p.name, p.name));
    }
    let _ = writeln!(v, "  {PAIR_MODULE} core({});", conns.join(", "));
    let all: Vec<String> = outs.iter().map(|p| format!("o_{}", p.name)).collect();
    let _ = writeln!(
        v,
        "  reg [{}:0] osr;\n\
         \x20 always @(posedge clock) osr <= load ? {{{}}} : {{osr[{}:0], 1'b0}};\n\
         \x20 assign so = osr[{}];\n\
         endmodule",
        m - 1,
        all.join(", "),
        m - 2,
        m - 1
    );
    v
}

/// Register bits the probe adds around the core.
pub fn probe_overhead_cells() -> u32 {
    pair_ports()
        .iter()
        .filter(|p| p.name != "clock")
        .map(|p| p.width)
        .sum()
}

/// What nextpnr reported for one design.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PnrReport {
    /// Post-route maximum frequency of the clock, MHz.
    pub fmax_mhz: f64,
    pub logic_cells: u32,
    pub brams: u32,
}

fn used(log: &str, cell: &'static str) -> Result<u32, FlowError> {
    log.lines()
        .filter_map(|l| l.split_once(&format!("{cell}:")))
        .filter_map(|(_, rest)| rest.split('/').next()?.trim().parse().ok())
        .next_back()
        .ok_or(FlowError::Report(cell))
}

/// Reads utilisation and the post-route (last reported) maximum frequency from nextpnr's log.
pub fn parse_nextpnr(log: &str) -> Result<PnrReport, FlowError> {
    let fmax_mhz = log
        .lines()
        .filter(|l| l.contains("Max frequency for clock"))
        .filter_map(|l| {
            let after = l.rsplit_once("': ")?.1;
            after.split_whitespace().next()?.parse::<f64>().ok()
        })
        .next_back()
        .ok_or(FlowError::Report("maximum frequency"))?;
    Ok(PnrReport {
        fmax_mhz,
        logic_cells: used(log, "ICESTORM_LC")?,
        brams: used(log, "ICESTORM_RAM")?,
    })
}

/// yosys `synth_ice40` of `files` with top `top`, writing `<top>.json` in `dir`.
pub fn synthesize(dir: &Path, files: &[&str], top: &str) -> Result<String, FlowError> {
    let json = format!("{top}.json");
    let script = format!("synth_ice40 -top {top} -json {json}");
    let mut args = vec!["-q", "-p", &script];
    args.extend_from_slice(files);
    run("yosys", &args, dir)?;
    Ok(json)
}

/// nextpnr-ice40 on a synthesised design; returns its log (timing may fail: the log says by
/// how much, which is what is measured).
pub fn place_and_route(
    dir: &Path,
    json: &str,
    pcf: Option<&str>,
    freq_mhz: u32,
    asc: Option<&str>,
) -> Result<String, FlowError> {
    let freq = freq_mhz.to_string();
    let mut args = vec![
        "--hx8k",
        "--package",
        "cb132",
        "--json",
        json,
        "--freq",
        &freq,
        "--timing-allow-fail",
        "--seed",
        "1",
    ];
    match pcf {
        Some(p) => args.extend_from_slice(&["--pcf", p]),
        None => args.push("--pcf-allow-unconstrained"),
    }
    if let Some(a) = asc {
        args.extend_from_slice(&["--asc", a]);
    }
    run("nextpnr-ice40", &args, dir)
}

/// Synthesis figures of the core and the board top.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthReport {
    pub core: PnrReport,
    /// The probe's own cells (core plus its shift registers).
    pub probe_logic_cells: u32,
    /// Estimated cells of the core alone.
    pub core_logic_cells: u32,
    pub board: PnrReport,
    pub baud: u32,
}

impl SynthReport {
    /// Bytes each lane moves per clock.
    pub const BYTES_PER_CLOCK: u32 = 1;

    /// The figures as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let round = |x: f64| (x * 100.0).round() / 100.0;
        serde_json::json!({
            "fmax_mhz": round(self.core.fmax_mhz),
            "logic_cells": self.core_logic_cells,
            "logic_cells_probe": self.probe_logic_cells,
            "logic_cells_total": self.board.logic_cells,
            "logic_cells_device": HX8K_LOGIC_CELLS,
            "brams": self.board.brams,
            "brams_core": self.core.brams,
            "board_fmax_mhz": round(self.board.fmax_mhz),
            "board_clock_mhz": coldgate_spec::config::CLOCK_HZ / 1_000_000,
            "baud": self.baud,
            "bytes_per_clock": Self::BYTES_PER_CLOCK,
            "lane_mbit_per_s": round(self.core.fmax_mhz * 8.0 * f64::from(Self::BYTES_PER_CLOCK)),
        })
    }
}

/// Runs the whole measurement: the core through its probe at [`CORE_TARGET_MHZ`], and the
/// board top with its pin constraints at the board clock.
pub fn synth_report(baud: u32) -> Result<SynthReport, FlowError> {
    let work = WorkDir::new()?;
    let dir = work.path();
    work.write("coldgate_pair.v", &crate::pair_verilog())?;
    work.write("coldgate_pair_probe.v", &probe_verilog())?;
    let json = synthesize(
        dir,
        &["coldgate_pair.v", "coldgate_pair_probe.v"],
        PROBE_MODULE,
    )?;
    let core = parse_nextpnr(&place_and_route(dir, &json, None, CORE_TARGET_MHZ, None)?)?;
    let board = board_pnr(&work, baud, None)?;
    Ok(SynthReport {
        core,
        probe_logic_cells: core.logic_cells,
        core_logic_cells: core.logic_cells.saturating_sub(probe_overhead_cells()),
        board,
        baud,
    })
}

fn board_pnr(work: &WorkDir, baud: u32, asc: Option<&str>) -> Result<PnrReport, FlowError> {
    let (verilog, pcf) = crate::board::board_files(baud)?;
    work.write("coldgate_board.v", &verilog)?;
    work.write("coldgate_board.pcf", &pcf)?;
    let json = synthesize(work.path(), &["coldgate_board.v"], BOARD_MODULE)?;
    parse_nextpnr(&place_and_route(
        work.path(),
        &json,
        Some("coldgate_board.pcf"),
        board_clock_mhz(),
        asc,
    )?)
}

/// The board's clock, MHz.
fn board_clock_mhz() -> u32 {
    coldgate_spec::config::CLOCK_HZ / 1_000_000
}

/// A board bitstream is only worth writing if its logic keeps up with the board's clock: a
/// verifier that misses timing checks frames wrongly.
pub fn check_board_timing(report: &PnrReport) -> Result<(), FlowError> {
    let clock_mhz = board_clock_mhz();
    if report.fmax_mhz < f64::from(clock_mhz) {
        return Err(FlowError::Timing {
            fmax_mhz: report.fmax_mhz,
            clock_mhz,
        });
    }
    Ok(())
}

/// Builds the board's bitstream at `baud` and writes it to `out`; returns the board's figures.
/// Refuses (and writes nothing) when the placed design misses the board's clock.
pub fn bitstream(baud: u32, out: &Path) -> Result<PnrReport, FlowError> {
    let work = WorkDir::new()?;
    let report = board_pnr(&work, baud, Some("coldgate_board.asc"))?;
    check_board_timing(&report)?;
    run(
        "icepack",
        &["coldgate_board.asc", "coldgate_board.bin"],
        work.path(),
    )?;
    std::fs::copy(work.path().join("coldgate_board.bin"), out).map_err(|source| FlowError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(report)
}

/// Verilator configuration with the lint waivers for what rust-hdl's generator always emits.
pub const VERILATOR_WAIVERS: &str = "`verilator_config\n\
// rust-hdl writes integer literals as 32-bit constants and casts as masks (x & N'hFF..),\n\
// so operand widths differ from their targets throughout; the values are the same.\n\
lint_off -rule WIDTH\n\
// rust-hdl puts every sub-module in the one file of its top module.\n\
lint_off -rule DECLFILENAME\n";

/// Writes the core, the board top at `baud`, its pin constraints, the probe and the lint
/// waivers into `dir`; returns the paths written.
pub fn write_verilog(dir: &Path, baud: u32) -> Result<Vec<PathBuf>, FlowError> {
    let (board, pcf) = crate::board::board_files(baud)?;
    std::fs::create_dir_all(dir).map_err(|source| FlowError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(vec![
        write_file(&dir.join("coldgate_pair.v"), &crate::pair_verilog())?,
        write_file(&dir.join("coldgate_eth.v"), &crate::eth_verilog())?,
        write_file(&dir.join("coldgate_board.v"), &board)?,
        write_file(&dir.join("coldgate_board.pcf"), &pcf)?,
        write_file(&dir.join("coldgate_pair_probe.v"), &probe_verilog())?,
        write_file(&dir.join("coldgate.vlt"), VERILATOR_WAIVERS)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_board_that_misses_its_clock_gets_no_bitstream() {
        let log = |mhz: &str| {
            format!(
                "Info: \t         ICESTORM_LC:  2708/ 7680    35%\n\
                 Info: \t        ICESTORM_RAM:    22/   32    68%\n\
                 Info: Max frequency for clock 'clock$SB_IO_IN_$glb_clk': {mhz} MHz (PASS at 100.00 MHz)\n"
            )
        };
        let slow = parse_nextpnr(&log("97.24")).unwrap();
        assert!(matches!(
            check_board_timing(&slow),
            Err(FlowError::Timing { clock_mhz: 100, .. })
        ));
        let fast = parse_nextpnr(&log("128.39")).unwrap();
        assert!(check_board_timing(&fast).is_ok());
    }

    #[test]
    fn reads_the_post_route_figures() {
        let log = "Info: Device utilisation:\n\
            Info: \t         ICESTORM_LC:  2531/ 7680    32%\n\
            Info: \t        ICESTORM_RAM:    20/   32    62%\n\
            Info: Max frequency for clock 'clock$SB_IO_IN_$glb_clk': 94.31 MHz (FAIL at 100.00 MHz)\n\
            Info: Max frequency for clock 'clock$SB_IO_IN_$glb_clk': 103.07 MHz (PASS at 100.00 MHz)\n";
        let r = parse_nextpnr(log).unwrap();
        assert_eq!(r.logic_cells, 2531);
        assert_eq!(r.brams, 20);
        assert!((r.fmax_mhz - 103.07).abs() < 1e-9);
        assert!(matches!(
            parse_nextpnr("nothing"),
            Err(FlowError::Report(_))
        ));
    }

    #[test]
    fn probe_has_four_pins_and_every_core_port() {
        let v = probe_verilog();
        assert!(
            v.contains("module coldgate_pair_probe(input clock, input si, input load, output so);")
        );
        for p in pair_ports() {
            assert!(
                v.contains(&format!(".{}(", p.name)),
                "{} not connected",
                p.name
            );
        }
        assert_eq!(probe_overhead_cells(), 22 + 468);
    }
}
