//! The Colorlight top fits the LFE5U-25F: yosys `synth_ecp5`, then nextpnr-ecp5 places and
//! routes it with its LPF (from scripts/setup.sh's venv). No timing assertion: speed is
//! measured by `coldgate-hdl synth --board colorlight --json --seed N`.

use coldgate_hdl::boards::colorlight::{files, BoardTiming};
use coldgate_hdl::flow::WorkDir;
use coldgate_hdl::flow_ecp5::{self, ECP5_25K_EBRS, ECP5_25K_LUTS};

#[test]
fn colorlight_top_fits_the_ecp5_25k_within_half_its_luts() {
    let work = WorkDir::new().unwrap();
    let (verilog, lpf) = files(BoardTiming::BOARD, Some(flow_ecp5::CORE_TARGET_MHZ));
    let json = flow_ecp5::synthesize(&work, &verilog).unwrap();
    let r = flow_ecp5::place_and_route(&work, &json, &lpf, 1, None).unwrap();
    assert!(r.luts > 0 && r.luts <= ECP5_25K_LUTS / 2, "{r:?}");
    // Two receive FIFOs, and the core's lane stores and ROMs, in block RAM.
    assert!(r.ebr >= 4 && r.ebr <= ECP5_25K_EBRS, "{r:?}");
    // The core clock and both RGMII receive clocks were timed.
    assert_eq!(r.clocks.len(), 3, "{r:?}");
}
