//! What an operator of coldgate touches.
//!
//! * [`config`]: `gateway.toml`, one file describing the whole gateway (links, ports, limits,
//!   the wallet's own config file). Each service reads its own section with `--gateway FILE`
//!   (the appliance also names its instance); options given on the command line win over the
//!   file, and the file over the built-in defaults.
//! * [`listener`]: the health and Prometheus metrics endpoints every service serves on a
//!   listener of its own, apart from the traffic it carries.

#![forbid(unsafe_code)]

pub mod config;
pub mod listener;
