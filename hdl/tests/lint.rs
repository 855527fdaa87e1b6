//! `verilator --lint-only -Wall` on every generated file, with only the waivers in
//! `flow::VERILATOR_WAIVERS` (what rust-hdl's generator always emits).

use std::path::Path;
use std::process::Command;

use coldgate_hdl::flow::{write_verilog, WorkDir};
use coldgate_spec::config;

fn lint(dir: &Path, files: &[&str], top: &str) {
    let out = Command::new("verilator")
        .current_dir(dir)
        .args(["--lint-only", "-Wall", "--top-module", top, "coldgate.vlt"])
        .args(files)
        .output()
        .expect("verilator runs (Debian package verilator)");
    assert!(
        out.status.success(),
        "{top}: verilator lint failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_generated_file_is_lint_clean() {
    let work = WorkDir::new().unwrap();
    for baud in [config::DEFAULT_BAUD, 12_500_000] {
        let written = write_verilog(work.path(), baud).unwrap();
        assert_eq!(written.len(), 6);
        lint(work.path(), &["coldgate_pair.v"], "coldgate_pair");
        lint(work.path(), &["coldgate_eth.v"], "coldgate_eth");
        lint(work.path(), &["coldgate_board.v"], "coldgate_board");
        lint(
            work.path(),
            &["coldgate_pair.v", "coldgate_pair_probe.v"],
            "coldgate_pair_probe",
        );
    }
}

/// The Colorlight top (board, RGMII, clock-domain crossings, the Ethernet core), against
/// empty declarations of the ECP5 primitives it instantiates.
#[test]
fn the_colorlight_top_is_lint_clean() {
    let work = WorkDir::new().unwrap();
    let written = coldgate_hdl::flow_ecp5::write_verilog(work.path()).unwrap();
    assert!(written.iter().any(|p| p.ends_with("coldgate_colorlight.v")));
    std::fs::write(
        work.path().join("ecp5_blackboxes.v"),
        coldgate_hdl::ecp5::BLACKBOXES,
    )
    .unwrap();
    // Two more waivers, for this top only: the primitives' declarations are empty (every
    // port unused or undriven); the PLL's internal feedback output (`CLKINTFB`) is left
    // open, its feedback being `CLKOP` (`FEEDBK_PATH = "CLKOP"`).
    let waivers = format!(
        "{}lint_off -file \"*ecp5_blackboxes.v\"\n\
         lint_off -rule PINMISSING -file \"*coldgate_colorlight.v\" -match \"*CLKINTFB*\"\n",
        coldgate_hdl::flow::VERILATOR_WAIVERS
    );
    std::fs::write(work.path().join("coldgate.vlt"), waivers).unwrap();
    lint(
        work.path(),
        &["ecp5_blackboxes.v", "coldgate_colorlight.v"],
        "coldgate_colorlight",
    );
}

#[test]
fn waivers_are_few_and_explained() {
    let rules: Vec<&str> = coldgate_hdl::flow::VERILATOR_WAIVERS
        .lines()
        .filter(|l| l.starts_with("lint_off"))
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    for (i, line) in coldgate_hdl::flow::VERILATOR_WAIVERS.lines().enumerate() {
        if line.starts_with("lint_off") {
            let before = coldgate_hdl::flow::VERILATOR_WAIVERS
                .lines()
                .nth(i - 1)
                .unwrap();
            assert!(before.starts_with("//"), "waiver without a reason: {line}");
        }
    }
}
