//! rust-hdl's own checks on every block: `check_all` (connections, no writes to inputs, no
//! combinational loops) and `yosys_validate` (the Verilog reads back, no latches, no
//! undriven wires). Each under its own name, so parallel tests do not share a directory.

use coldgate_hdl::board::ColdgateBoard;
use coldgate_hdl::crc::CrcByte;
use coldgate_hdl::fifo::ByteFifo;
use coldgate_hdl::lane::LaneCore;
use coldgate_hdl::merge::FrameMerge;
use coldgate_hdl::pair::ColdgatePair;
use coldgate_hdl::queue::ByteQueue;
use coldgate_hdl::uart::{UartRx, UartTx};
use coldgate_spec::{config, LaneConfig};
use rust_hdl::prelude::*;

fn validate<B: Block>(mut uut: B, name: &str) {
    uut.connect_all();
    check_all(&uut).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let verilog = generate_verilog(&uut);
    let prefix = format!("coldgate_{name}_{}", std::process::id());
    let result = yosys_validate(&prefix, &verilog);
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&prefix));
    result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
}

/// Marks a block's inputs as driven from outside, as a top level's are.
macro_rules! inputs {
    ($b:ident, $($f:ident),*) => { $( $b.$f.connect(); )* };
}

fn lane(config: LaneConfig, name: &str) {
    let mut l = LaneCore::new(config);
    inputs!(
        l,
        clock,
        reset,
        tick,
        in_data,
        in_valid,
        pass_ready,
        notice_ready
    );
    validate(l, name);
}

#[test]
fn request_lane() {
    lane(LaneConfig::REQUEST, "request_lane");
}

#[test]
fn response_lane() {
    lane(LaneConfig::RESPONSE, "response_lane");
}

#[test]
fn merge() {
    let mut m = FrameMerge::default();
    inputs!(m, clock, reset, a_data, a_valid, a_last, b_data, b_valid, b_last, out_ready);
    validate(m, "merge");
}

#[test]
fn queue_fifo_and_crc() {
    let mut q = ByteQueue::default();
    inputs!(q, clock, reset, push, in_data, in_last, out_ready);
    validate(q, "queue");
    let mut f = ByteFifo::default();
    inputs!(f, clock, reset, write, data_in, out_ready);
    validate(f, "fifo");
    let mut c = CrcByte::default();
    inputs!(c, state, data);
    validate(c, "crc");
}

#[test]
fn uarts() {
    let mut tx = UartTx::new(8);
    inputs!(tx, clock, reset, data, valid);
    validate(tx, "uart_tx");
    let mut rx = UartRx::new(8);
    inputs!(rx, clock, reset, rx);
    validate(rx, "uart_rx");
}

#[test]
fn pair_and_board() {
    validate(ColdgatePair::new(), "pair");
    validate(ColdgateBoard::new(config::DEFAULT_BAUD).unwrap(), "board");
}
