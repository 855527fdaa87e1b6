//! Verilog text of the core and the board top.

use rust_hdl::prelude::*;

use crate::pair::ColdgatePair;

/// Name of the core module (the harness's contract).
pub const PAIR_MODULE: &str = "coldgate_pair";
/// Name of the Ethernet top (the pair between two GMII ports).
pub const ETH_MODULE: &str = "coldgate_eth";
/// Name of the board top module.
pub const BOARD_MODULE: &str = "coldgate_board";

/// Verilog of `uut` with its top module named `name`; sub-modules are named
/// `<name>$<path>` by rust-hdl, so they never collide across tops.
///
/// # Panics
/// If rust-hdl's design checks fail (an unconnected or doubly driven signal): a bug in this
/// crate's design, never a consequence of input. The crate's tests generate every top.
pub fn generate<U: Block>(uut: &U, name: &str) -> String {
    if let Err(e) = check_all(uut) {
        panic!("{name} fails rust-hdl's design checks: {e:?}");
    }
    let mut defines = ModuleDefines::default();
    uut.accept(name, &mut defines);
    defines.defines()
}

/// The lane-pair core, module `coldgate_pair`, ports as in [`crate::harness`].
pub fn pair_verilog() -> String {
    let mut uut = ColdgatePair::new();
    uut.connect_all();
    generate(&uut, PAIR_MODULE)
}

/// The Ethernet top, module `coldgate_eth`, ports as in [`crate::eth::top::ColdgateEth`].
pub fn eth_verilog() -> String {
    let mut uut = crate::eth::top::ColdgateEth::new();
    uut.connect_all();
    generate(&uut, ETH_MODULE)
}

/// The board top, module `coldgate_board`, for `baud` on its UARTs (see [`crate::board`]).
///
/// # Panics
/// If `baud` is not usable at the board clock; [`try_board_verilog`] returns the reason
/// instead (the CLI uses it). [`config::DEFAULT_BAUD`](coldgate_spec::config::DEFAULT_BAUD)
/// and 12.5 Mbaud are usable.
pub fn board_verilog(baud: u32) -> String {
    match try_board_verilog(baud) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// The board top's Verilog, or why `baud` cannot be used.
pub fn try_board_verilog(baud: u32) -> Result<String, crate::board::BaudError> {
    crate::board::board_files(baud).map(|(v, _)| v)
}

/// The board's pin constraints for nextpnr (`--pcf`).
pub fn board_pcf(baud: u32) -> Result<String, crate::board::BaudError> {
    crate::board::board_files(baud).map(|(_, p)| p)
}
