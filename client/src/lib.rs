//! The coldgate client: a library, the `coldgate client ...` commands and `coldgate demo`.
//!
//! * [`session::Client`] keeps the client's secret and state, builds tagged request frames,
//!   calls converter-in's JSON-RPC and checks every answer (echo, tag, type) and every
//!   signature (with coldgate-tx, against the key the wallet gave it, over the payment it
//!   asked for);
//! * [`state::State`] is the local state file: the never-repeating counter (persisted before
//!   use, write-then-rename with fsync, under a lock), known keys and held payments;
//! * [`procs`] starts and always stops the gateway's processes; [`demo`] runs the whole
//!   gateway on loopback and walks a client session through it, hop by hop.
//!
//! Another language can do what this crate does from the spec's vectors
//! (`spec/vectors/frames.txt`): HMAC-SHA256 over bytes `0..116` with the client's secret, the
//! JSON form from `coldgate_spec::json`, and the methods of `coldgate_converter_in::rpc`.

// Denied, not forbidden: `procs` makes one audited exception (PR_SET_PDEATHSIG before exec).
#![deny(unsafe_code)]

pub mod demo;
pub mod procs;
pub mod session;
pub mod state;

pub use session::{read_secret, Client, ClientConfig, ClientError, Exchange, KeyInfo, Outcome};
