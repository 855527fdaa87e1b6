//! coldgate-sim: the verifier's lane pair behind one [`Backend`] interface, run by the golden
//! model, rust-hdl's simulator, Verilator (through a small C++ binding built by `build.rs`) or
//! a real board; the differential tests between them; and the `coldgate-appliance` process.
//!
//! Unsafe code lives only in the private FFI module, next to the C++ shim it calls.
//!
//! * [`Backend`]: push bytes per [`Side`], [`Backend::tick`], [`Backend::advance`] to collect
//!   the bytes leaving each side, [`Backend::counters`];
//! * [`GoldenBackend`], [`rusthdl_backend`], [`VerilatorBackend`] (batched: one FFI call runs
//!   a whole batch of clocks), [`BoardBackend`] (serial ports; counters only through the
//!   board's status UART);
//! * [`ClockedBackend`] drives any `coldgate_hdl::harness::PairClock` with the same cycle
//!   schedule as the C++ batch loop ([`Schedule`]: idle insertion, backpressure, tick settle);
//! * [`verilator::BoardModel`]: the board top with its UARTs, pin by pin;
//! * [`appliance`]: what `coldgate-appliance` runs;
//! * [`eth::EthTop`]: the Ethernet top `coldgate_eth` at GMII level, clock by clock or batched.
//!
//! ```text
//! coldgate-appliance --backend verilator --untrusted tcp:127.0.0.1:7101 --trusted pty \
//!     --pty-paths /tmp/endpoints      # lines: "untrusted tcp 127.0.0.1:7101", "trusted pty /dev/pts/3"
//! coldgate-appliance --backend board --untrusted pty --trusted pty \
//!     --board-untrusted /dev/ttyUSB0 --board-trusted /dev/ttyUSB1 [--board-status /dev/ttyUSB2]
//! ```

#![deny(unsafe_code)]

pub mod appliance;
pub mod backend;
pub mod board;
pub mod clocked;
pub mod eth;
pub mod ethernet;
#[allow(unsafe_code)]
mod ffi;
pub mod frames;
pub mod golden;
pub mod metrics;
pub mod verilator;

pub use backend::{Backend, BackendError, BackendKind, Output, PairCounters, Schedule, Side};
pub use board::BoardBackend;
pub use clocked::ClockedBackend;
pub use golden::GoldenBackend;
pub use verilator::{VerilatorBackend, VerilatorClock};

/// The generated logic in rust-hdl's simulator, behind the same schedule as Verilator.
pub fn rusthdl_backend(
    schedule: Schedule,
) -> Result<ClockedBackend<coldgate_hdl::RustHdlPair>, BackendError> {
    ClockedBackend::new(
        coldgate_hdl::RustHdlPair::new(),
        BackendKind::RustHdl,
        schedule,
    )
}
