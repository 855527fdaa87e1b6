#[test]
fn scratch() {
    std::fs::write("/tmp/cg_pair.v", coldgate_hdl::pair_verilog()).unwrap();
    std::fs::write("/tmp/cg_board.v", coldgate_hdl::board_verilog(3_000_000)).unwrap();
    std::fs::write("/tmp/cg_board.pcf", coldgate_hdl::verilog::board_pcf(3_000_000).unwrap()).unwrap();
}
