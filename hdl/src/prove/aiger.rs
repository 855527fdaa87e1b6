//! Lowering a proof run to an and-inverter graph: yosys reads the lane's Verilog and the
//! monitor with one property's define and writes AIGER for ABC ([`super::abc`]).
//!
//! What the lowering keeps free, so a proof covers every case:
//! * every input of the monitor's top (byte, valid, readies, tick) in every clock;
//! * every flip-flop without an initial value (the lane's data registers, which reset leaves
//!   alone) and every row of the store without one (all but offset 0 of each slot, which
//!   holds `MAGIC[0]` from configuration as on the FPGA): `write_aiger -zinit` turns each
//!   into a zero-initialised latch fed from an extra input in the first clock;
//! * any undefined value left in the netlist (`setundef -anyseq`: a new free value each clock).
//!
//! The store is mapped to latches (`memory_map`), the rule ROM and NOTICE template to logic.
//! Each property is lowered alone, so the graph is only that property's cone of logic.

use std::path::{Path, PathBuf};

use crate::flow::{self, FlowError};

use super::monitor;

/// File names inside a run's directory.
pub const LANE_V: &str = "lane.v";
pub const MONITOR_SV: &str = "monitor.sv";
pub const AIG: &str = "prove.aig";

/// The yosys script that lowers `lane.v` and `monitor.sv` with `define` set.
pub fn script(define: &str) -> String {
    format!(
        "read_verilog {LANE_V}\n\
         read_verilog -sv -formal -D{define} {MONITOR_SV}\n\
         prep -flatten -top {top}\n\
         memory_nordff\n\
         memory_map\n\
         opt -fast -nodffe -nosdff\n\
         async2sync\n\
         opt_clean\n\
         setundef -undriven -anyseq\n\
         techmap\n\
         opt -fast -nodffe -nosdff\n\
         dffunmap\n\
         abc -g AND -fast\n\
         opt_clean\n\
         write_aiger -zinit {AIG}\n",
        top = monitor::TOP
    )
}

/// Writes the lane's Verilog and the monitor into `dir`, lowers them with `define`; the AIGER
/// file's path. `dir` must be otherwise empty of these names.
pub fn lower(
    dir: &Path,
    lane_v: &str,
    monitor_sv: &str,
    define: &str,
) -> Result<PathBuf, FlowError> {
    flow::write_file(&dir.join(LANE_V), lane_v)?;
    flow::write_file(&dir.join(MONITOR_SV), monitor_sv)?;
    flow::write_file(&dir.join("lower.ys"), &script(define))?;
    flow::run("yosys", &["-q", "lower.ys"], dir)?;
    let aig = dir.join(AIG);
    // The header line counts the bad-state properties: a lowering that lost the assertions
    // would prove anything.
    let text = std::fs::read(&aig).map_err(|source| FlowError::Io {
        path: aig.clone(),
        source,
    })?;
    let header = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(header);
    let bad: u32 = header
        .split_whitespace()
        .nth(6)
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    if bad == 0 {
        return Err(FlowError::Failed {
            tool: "yosys",
            status: format!("no assertion for {define} in the AIGER file"),
            tail: header.to_string(),
        });
    }
    keep(dir, define)?;
    Ok(aig)
}

/// With `COLDGATE_PROVE_KEEP=DIR`, copies each lowering's files to `DIR/DEFINE-N/` for a look
/// or a rerun of ABC by hand.
fn keep(dir: &Path, define: &str) -> Result<(), FlowError> {
    let Some(root) = std::env::var_os("COLDGATE_PROVE_KEEP") else {
        return Ok(());
    };
    let root = Path::new(&root);
    let mut n = 0;
    let to = loop {
        let to = root.join(format!("{define}-{n}"));
        if !to.exists() {
            break to;
        }
        n += 1;
    };
    let io = |path: &Path, source| FlowError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(&to).map_err(|e| io(&to, e))?;
    for name in [LANE_V, MONITOR_SV, "lower.ys", AIG] {
        std::fs::copy(dir.join(name), to.join(name)).map_err(|e| io(&to, e))?;
    }
    Ok(())
}
