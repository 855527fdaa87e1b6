#[test]
fn scratch() {
    std::fs::write("/tmp/cg_pair.v", coldgate_hdl::pair_verilog()).unwrap();
}
