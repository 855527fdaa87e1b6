//! coldgate-sim: the verifier's lane pair behind one [`Backend`] interface, run by the golden
//! model, rust-hdl's simulator, Verilator (through a small C++ binding built by `build.rs`) or
//! a real board; the differential tests between them; and the `coldgate-appliance` process.
//!
//! Unsafe code lives only in the private FFI module, next to the C++ shim it calls.

#![deny(unsafe_code)]

pub mod appliance;
pub mod backend;
pub mod board;
pub mod clocked;
#[allow(unsafe_code)]
mod ffi;
pub mod frames;
pub mod golden;
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
