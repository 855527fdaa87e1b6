//! RGMII, the four-bit double-data-rate link between the FPGA and a gigabit PHY, and the
//! crossing of received frames from the PHY's clock into the core's.
//!
//! ```text
//!  PHY RXC ──────────────┐ (rx clock domain)            (core clock domain, 125 MHz PLL)
//!  RX_CTL,RXD[3:0] ─ DELAYG 2 ns ─ IDDRX1F ─ RgmiiRx ── FrameCdc ══ GMII rx ──> core
//!  PHY TXC <── ODDRX1F(1,0) ─┐
//!  TX_CTL,TXD[3:0] <─ ODDRX1F ─ RgmiiTx <══ GMII tx ── core
//! ```
//!
//! * [`RgmiiRx`]: nibbles on both edges of RXC to GMII bytes (data, dv, er) in the RX clock
//!   domain. The PHY sends data edge-aligned with RXC, so the FPGA delays the data pins about
//!   2 ns (`DELAYG`) to sample mid-eye.
//! * [`RgmiiTx`]: GMII bytes to nibbles on both edges, and TXC, all from the core clock. The
//!   B50612D delays TX by itself (its power-on default), so the FPGA adds no delay on TX.
//! * [`FrameCdc`]: each PHY's receive clock is its link partner's, up to 100 ppm (plus our
//!   oscillator's tolerance) off the core clock: a store-and-forward FIFO with Gray-coded
//!   pointers hands over whole frames only.

pub mod cdc;
pub mod port;
pub mod rx;
pub mod tx;

pub use cdc::FrameCdc;
pub use port::RgmiiPort;
pub use rx::RgmiiRx;
pub use tx::RgmiiTx;

/// Delay the FPGA adds to RGMII receive data, picoseconds: the RGMII specification's
/// clock-to-data skew for a receiver (1 to 2.6 ns), as LiteX's ECP5 RGMII PHY uses.
pub const RX_DELAY_PS: u32 = 2_000;
