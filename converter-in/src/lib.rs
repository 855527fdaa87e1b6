//! converter-in: the client-facing side of the coldgate gateway.
//!
//! It serves JSON-RPC 2.0 over HTTP ([`rpc`] documents methods and error codes), turns each
//! call's `params` (the client's tagged request frame, JSON form) into a frame with
//! `coldgate_spec::json::from_json` (so every wire rule is checked before anything is sent),
//! writes it on its link to the appliance's untrusted side, and answers the call with the
//! frame that comes back for the same client id and counter: the wallet's answer, or the
//! verifier's NOTICE when it dropped the frame.
//!
//! converter-in holds no secret. Compromised, it can delay or drop calls, nothing more: it
//! cannot forge a tag, and the verifier and the wallet refuse whatever it alters or replays.
//! [`hostile`] makes it misbehave on purpose, for tests and the demo.
//!
//! * [`gateway::Gateway`]: link side: pacing to the verifier's token bucket, several links
//!   with failover, pending calls keyed by client id and counter;
//! * [`server`]: HTTP side, the hardened front door ([`server::Limits`], [`server::dispatch`],
//!   [`server::serve`]); [`auth`]: optional HTTP Basic authentication;
//! * [`metrics`]: what it tells Prometheus;
//! * [`rpc`]: the JSON-RPC vocabulary and a strict HTTP client that converter-out and the
//!   client reuse.

#![forbid(unsafe_code)]

pub mod auth;
pub mod gateway;
pub mod hostile;
pub mod metrics;
pub mod rpc;
pub mod server;
