//! The board top fits the iCE40-HX8K: yosys synthesises it and nextpnr places and routes it
//! with its pin constraints. No timing assertion (speed is measured by `coldgate-hdl synth`).

use coldgate_hdl::flow::{self, WorkDir, HX8K_BRAMS, HX8K_LOGIC_CELLS};
use coldgate_spec::config;

#[test]
fn board_top_fits_the_hx8k() {
    let work = WorkDir::new().unwrap();
    let (verilog, pcf) = coldgate_hdl::board::board_files(config::DEFAULT_BAUD).unwrap();
    work.write("coldgate_board.v", &verilog).unwrap();
    work.write("coldgate_board.pcf", &pcf).unwrap();
    let json = flow::synthesize(work.path(), &["coldgate_board.v"], "coldgate_board").unwrap();
    let log =
        flow::place_and_route(work.path(), &json, Some("coldgate_board.pcf"), 100, None).unwrap();
    let r = flow::parse_nextpnr(&log).unwrap();
    assert!(
        r.logic_cells > 0 && r.logic_cells <= HX8K_LOGIC_CELLS,
        "{r:?}"
    );
    // Two lanes: each a rule ROM and a store in block RAM.
    assert!(r.brams >= 4 && r.brams <= HX8K_BRAMS, "{r:?}");
}
