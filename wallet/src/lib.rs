//! coldgate's protected wallet: keys, spending policy, client authentication, durable store.
//!
//! One frame from a client reaches the wallet as a JSON-RPC request ([`rpc`]) over HTTP
//! ([`server`]); [`service::Wallet`] authenticates it (HMAC tag, strictly increasing counter),
//! applies the [`policy`] to the transaction it builds itself (`coldgate-tx`), commits every
//! effect to the [`store`] in one transaction and only then answers with a tagged frame.
//! Secrets at rest are sealed under keys derived from the operator's passphrase ([`vault`]).
//!
//! The binary `coldgate-wallet` wraps all of it (`--help` documents every option):
//!
//! ```sh
//! export COLDGATE_WALLET_PASSPHRASE='...'        # or --passphrase-file FILE on every command
//! coldgate-wallet --config wallet.toml init
//! coldgate-wallet --config wallet.toml client add --id 1 --secret-out client1.secret
//! coldgate-wallet --config wallet.toml serve     # prints "coldgate-wallet listening on ADDR"
//! coldgate-wallet --config wallet.toml held list
//! coldgate-wallet --config wallet.toml held approve 17 --client 1   # or: held deny 17 --client 1
//! coldgate-wallet --config wallet.toml audit verify
//! coldgate-wallet --config wallet.toml backup --out copy.db         # online, no passphrase
//! ```

#![forbid(unsafe_code)]

pub mod config;
pub mod metrics;
pub mod policy;
pub mod rpc;
pub mod server;
pub mod service;
pub mod store;
pub mod vault;

pub use config::Config;
pub use policy::{Decision, FeeRate, Policy, Usage, Window, WINDOW_SECS};
pub use service::{Decided, Operator, Wallet};
pub use store::{PaymentRecord, PaymentStatus, Store, StoreError, Timestamp};
pub use vault::KdfParams;

/// Environment variable holding the store's passphrase when `--passphrase-file` is not given.
pub const PASSPHRASE_ENV: &str = "COLDGATE_WALLET_PASSPHRASE";
/// The line `serve` prints on stdout once it accepts connections (followed by the address).
pub const LISTENING: &str = "coldgate-wallet listening on ";
