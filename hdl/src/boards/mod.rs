//! Board tops that wrap a board-independent core. The Alchitry Cu (UARTs around
//! `coldgate_pair`) is still [`crate::board`].
//!
//! * [`colorlight`]: the Colorlight 5A-75B (ECP5), two gigabit Ethernet ports around
//!   `coldgate_eth`;
//! * [`status`]: its counter snapshots on a UART pin.

pub mod colorlight;
pub mod status;
