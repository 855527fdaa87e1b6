//! coldgate's hardware verifier in rust-hdl.
//!
//! * [`lane`]: one verifier lane (the golden model in logic, one byte per clock);
//! * [`pair`]: the core `coldgate_pair`: both lanes and the frame-atomic output merges;
//! * [`eth`]: the Ethernet layer at GMII level and `coldgate_eth`, the pair between two ports;
//! * [`board`]: the Alchitry Cu top `coldgate_board` with its two UARTs;
//! * [`harness`]: the core's pin contract, and a stream driver for any way of running it;
//! * [`sim`]: rust-hdl's simulator behind that contract;
//! * [`verilog`] and [`flow`]: Verilog text and the yosys / nextpnr / icepack flow.
//!
//! Every offset, limit and constant comes from coldgate-spec; the ROMs are generated from its
//! field table when a lane is constructed ([`rules`]).

#![forbid(unsafe_code)]

pub mod board;
pub mod boards;
pub mod crc;
pub mod ecp5;
pub mod eth;
pub mod fifo;
pub mod flow;
pub mod flow_ecp5;
pub mod harness;
pub mod lane;
pub mod merge;
pub mod pair;
pub mod prove;
pub mod queue;
pub mod rgmii;
pub mod rules;
pub mod sim;
pub mod uart;

pub use sim::RustHdlPair;
pub mod verilog;

pub use verilog::{board_verilog, eth_verilog, pair_verilog, try_board_verilog};
