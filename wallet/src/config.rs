//! The wallet's TOML configuration file.
//!
//! ```toml
//! network = "mainnet"              # mainnet, testnet, testnet4, signet or regtest
//! listen = "127.0.0.1:7300"        # loopback by default: converter-out is the only peer
//! store = "wallet.db"              # relative paths are relative to this file's directory
//! max_body_bytes = 65536           # larger HTTP bodies get 413
//! max_connections = 64             # further connections are closed at once
//! request_timeout_secs = 10        # to send the headers, and then the body
//!
//! [kdf]                            # argon2id cost, used by `init` only (stored in the store)
//! memory_kib = 65536
//! iterations = 3
//! parallelism = 1
//!
//! [policy]                         # amounts in satoshis
//! max_payment = 100000000          # <= the wire's SIGN_AMOUNT_CEILING
//! hold_above = 10000000            # larger payments wait for an operator
//! max_fee = 100000
//! min_fee_rate = 1                 # sat/vB over the exact vsize (111 vB, 154 with change)
//! max_fee_rate = 1000              # sat/vB
//! client_daily_amount = 500000000  # rolling 24 hours, per client
//! client_daily_count = 100
//! service_daily_amount = 2000000000
//! service_daily_count = 1000
//! max_keys_per_client = 1000
//! # client_lifetime_amount = 10000000000      # optional: total ever signed or held per client
//! # service_lifetime_amount = 100000000000    # optional: total ever, every client
//! min_approvers = 1                # distinct operators who approve a held payment
//! # destinations = ["bc1p...", ...]           # optional allowlist: P2TR addresses (or hex keys)
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bitcoin::Network;
use serde::{Deserialize, Deserializer};

use crate::policy::{Policy, PolicyError};
use crate::vault::KdfParams;

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7300))
}
fn default_max_body() -> usize {
    64 * 1024
}
fn default_max_connections() -> usize {
    64
}
fn default_timeout() -> u64 {
    10
}
fn default_network() -> Network {
    Network::Bitcoin
}
fn network<'de, D: Deserializer<'de>>(d: D) -> Result<Network, D::Error> {
    let s = String::deserialize(d)?;
    coldgate_tx::address::parse_network(&s).map_err(serde::de::Error::custom)
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Bitcoin network: how addresses in the allowlist are read and how destinations are
    /// shown to operators.
    #[serde(default = "default_network", deserialize_with = "network")]
    pub network: Network,
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Address of the health and metrics listener (`/health`, `/metrics`); none by default.
    #[serde(default)]
    pub metrics: Option<SocketAddr>,
    pub store: PathBuf,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    #[serde(default)]
    pub kdf: KdfParams,
    pub policy: Policy,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {source}")]
    Policy { path: PathBuf, source: PolicyError },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut c = Config::parse_at(&text, path)?;
        if c.store.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            c.store = base.join(&c.store);
        }
        Ok(c)
    }

    /// Parses and validates config text (store paths stay as written).
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_at(text, Path::new("<config>"))
    }

    fn parse_at(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let path = path.to_owned();
        let mut c: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.clone(),
            source: Box::new(e),
        })?;
        c.policy
            .validate_for(c.network)
            .map_err(|source| ConfigError::Policy {
                path: path.clone(),
                source,
            })?;
        let invalid = |problem: &str| ConfigError::Invalid {
            path: path.clone(),
            problem: problem.to_string(),
        };
        if c.max_body_bytes == 0 {
            return Err(invalid("max_body_bytes must be at least 1"));
        }
        if c.max_connections == 0 {
            return Err(invalid("max_connections must be at least 1"));
        }
        if c.request_timeout_secs == 0 {
            return Err(invalid("request_timeout_secs must be at least 1"));
        }
        Ok(c)
    }
}
