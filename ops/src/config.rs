//! `gateway.toml`: the whole gateway in one file.
//!
//! ```toml
//! [converter_in]
//! listen = "127.0.0.1:7100"
//! links = ["tcp:127.0.0.1:7101", "tcp:127.0.0.1:7111"]   # one per appliance
//! metrics = "127.0.0.1:9100"
//! cookie = "/run/coldgate-converter-in/.cookie"           # optional HTTP Basic auth
//!
//! [converter_out]
//! links = ["tcp:127.0.0.1:7102", "tcp:127.0.0.1:7112"]
//! wallet = "http://127.0.0.1:7103"
//! metrics = "127.0.0.1:9101"
//!
//! [appliance.a]
//! backend = "verilator"
//! untrusted = "tcp:127.0.0.1:7101"
//! trusted = "tcp:127.0.0.1:7102"
//! metrics = "127.0.0.1:9102"
//!
//! [wallet]
//! config = "/etc/coldgate/wallet.toml"   # the wallet's own file: store, listen, policy
//! ```
//!
//! Every key is optional; unknown keys are refused (a misspelt limit must not silently fall
//! back to its default). Link specs are checked when the file is read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use coldgate_link::LinkSpec;
use serde::Deserialize;

/// Why `gateway.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    #[serde(default)]
    pub converter_in: ConverterIn,
    #[serde(default)]
    pub converter_out: ConverterOut,
    /// Appliances by instance name (`coldgate-appliance@NAME` in `deploy/`).
    #[serde(default)]
    pub appliance: BTreeMap<String, Appliance>,
    #[serde(default)]
    pub wallet: Wallet,
}

/// `[converter_in]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConverterIn {
    pub listen: Option<String>,
    /// Links to the appliances' untrusted sides; calls fail over between them.
    pub links: Option<Vec<String>>,
    pub metrics: Option<String>,
    pub baud: Option<u32>,
    pub max_body: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_per_peer: Option<usize>,
    pub max_batch: Option<usize>,
    pub max_pending: Option<usize>,
    /// Calls waiting for a verifier token.
    pub queue: Option<usize>,
    pub call_timeout_ms: Option<u64>,
    pub header_timeout_ms: Option<u64>,
    pub read_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub keep_alive_requests: Option<u32>,
    /// The verifier's token bucket, when it differs from spec/'s (a board built otherwise).
    pub rate_burst: Option<u32>,
    pub rate_refill_per_s: Option<u32>,
    /// Writes a bitcoind-style `.cookie` here at start and accepts it.
    pub cookie: Option<PathBuf>,
    /// bitcoind-style `USER:SALT$HASH` lines.
    #[serde(default)]
    pub rpcauth: Vec<String>,
}

/// `[converter_out]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConverterOut {
    /// Links to the appliances' trusted sides.
    pub links: Option<Vec<String>>,
    pub wallet: Option<String>,
    pub metrics: Option<String>,
    pub baud: Option<u32>,
    pub call_timeout_ms: Option<u64>,
    /// Wallet calls in flight at once (one client's calls always one after another).
    pub max_in_flight: Option<usize>,
}

/// `[appliance.NAME]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appliance {
    pub backend: Option<String>,
    pub untrusted: Option<String>,
    pub trusted: Option<String>,
    pub metrics: Option<String>,
    pub endpoints_file: Option<PathBuf>,
    pub board_untrusted: Option<String>,
    pub board_trusted: Option<String>,
    pub board_status: Option<String>,
    pub board_baud: Option<u32>,
    pub stats_every_s: Option<f64>,
}

/// `[wallet]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wallet {
    /// The wallet's own configuration file (store, listen address, policy).
    pub config: Option<PathBuf>,
}

fn check_links(path: &str, what: &str, links: Option<&Vec<String>>) -> Result<(), ConfigError> {
    for l in links.into_iter().flatten() {
        l.parse::<LinkSpec>().map_err(|e| ConfigError::Invalid {
            path: path.to_string(),
            message: format!("{what}: {l:?}: {e}"),
        })?;
    }
    if links.is_some_and(Vec::is_empty) {
        return Err(ConfigError::Invalid {
            path: path.to_string(),
            message: format!("{what}: at least one link"),
        });
    }
    Ok(())
}

impl GatewayFile {
    /// Parses the text of a `gateway.toml`; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<GatewayFile, ConfigError> {
        let g: GatewayFile = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        check_links(path, "converter_in.links", g.converter_in.links.as_ref())?;
        check_links(path, "converter_out.links", g.converter_out.links.as_ref())?;
        for (name, a) in &g.appliance {
            let sides = [a.untrusted.clone(), a.trusted.clone()];
            let present: Vec<String> = sides.into_iter().flatten().collect();
            check_links(
                path,
                &format!("appliance.{name}"),
                Some(&present).filter(|v| !v.is_empty()),
            )?;
        }
        Ok(g)
    }

    /// Reads and checks a `gateway.toml`.
    pub fn load(path: &Path) -> Result<GatewayFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        GatewayFile::parse(&text, &path.display().to_string())
    }

    /// Reads the file when one is given; the defaults otherwise.
    pub fn load_or_default(path: Option<&Path>) -> Result<GatewayFile, ConfigError> {
        path.map_or_else(|| Ok(GatewayFile::default()), GatewayFile::load)
    }

    /// One appliance's section.
    pub fn appliance(&self, name: &str) -> Result<Appliance, ConfigError> {
        self.appliance
            .get(name)
            .cloned()
            .ok_or_else(|| ConfigError::Invalid {
                path: "gateway.toml".into(),
                message: format!(
                    "no [appliance.{name}] section (have: {})",
                    self.appliance
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

impl Appliance {
    /// The section as `coldgate-appliance` options (`--untrusted SPEC`, ...).
    pub fn to_args(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push((format!("--{k}"), v));
            }
        };
        put("backend", self.backend.clone());
        put("untrusted", self.untrusted.clone());
        put("trusted", self.trusted.clone());
        put("metrics", self.metrics.clone());
        put(
            "pty-paths",
            self.endpoints_file
                .as_ref()
                .map(|p| p.display().to_string()),
        );
        put("board-untrusted", self.board_untrusted.clone());
        put("board-trusted", self.board_trusted.clone());
        put("board-status", self.board_status.clone());
        put("board-baud", self.board_baud.map(|b| b.to_string()));
        put("stats-every", self.stats_every_s.map(|s| s.to_string()));
        out
    }
}

/// A command line with `--gateway FILE --instance NAME` replaced by the options of
/// `[appliance.NAME]`; options given on the command line itself win. Without `--gateway` the
/// command line is returned as it is.
pub fn appliance_argv(
    argv: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Vec<std::ffi::OsString>, ConfigError> {
    let argv: Vec<std::ffi::OsString> = argv.into_iter().collect();
    let mut kept = Vec::new();
    let (mut file, mut instance) = (None, None);
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        let text = a.to_string_lossy().to_string();
        let (key, inline) = match text.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (text.clone(), None),
        };
        let slot = match key.as_str() {
            "--gateway" => &mut file,
            "--instance" => &mut instance,
            _ => {
                kept.push(a);
                continue;
            }
        };
        *slot = inline.or_else(|| it.next().map(|v| v.to_string_lossy().to_string()));
    }
    let Some(file) = file else {
        return Ok(kept);
    };
    let name = instance.unwrap_or_else(|| "a".to_string());
    let section = GatewayFile::load(Path::new(&file))?.appliance(&name)?;
    let given: Vec<String> = kept
        .iter()
        .map(|a| {
            a.to_string_lossy()
                .split('=')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    for (k, v) in section.to_args() {
        if !given.contains(&k) {
            kept.push(k.into());
            kept.push(v.into());
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_in_deploy_parses() {
        let text = include_str!("../../deploy/gateway.toml");
        let g = GatewayFile::parse(text, "deploy/gateway.toml").expect("valid");
        assert_eq!(g.converter_in.links.as_ref().map(Vec::len), Some(2));
        assert_eq!(g.converter_out.links.as_ref().map(Vec::len), Some(2));
        assert_eq!(g.appliance.len(), 2);
        assert!(g.appliance("a").is_ok());
        assert!(g.appliance("z").is_err());
        assert!(g.wallet.config.is_some());
    }

    #[test]
    fn an_appliance_instance_becomes_its_command_line() {
        let dir = std::env::temp_dir().join(format!("coldgate-ops-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("gateway.toml");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/gateway.toml"),
            &file,
        )
        .expect("copy");
        let argv = |v: &[&str]| -> Vec<std::ffi::OsString> { v.iter().map(Into::into).collect() };
        let got = appliance_argv(argv(&[
            "coldgate-appliance",
            "--gateway",
            file.to_str().expect("utf-8"),
            "--instance=b",
            "--backend",
            "golden",
        ]))
        .expect("expanded");
        let got: Vec<String> = got.iter().map(|a| a.to_string_lossy().into()).collect();
        assert_eq!(
            got,
            [
                "coldgate-appliance",
                "--backend",
                "golden",
                "--untrusted",
                "tcp:127.0.0.1:7111",
                "--trusted",
                "tcp:127.0.0.1:7112",
                "--metrics",
                "127.0.0.1:9103",
            ]
        );
        let plain = argv(&["coldgate-appliance", "--untrusted", "pty"]);
        assert_eq!(appliance_argv(plain.clone()).expect("as is"), plain);
        let missing = argv(&[
            "x",
            "--gateway",
            file.to_str().expect("utf-8"),
            "--instance",
            "z",
        ]);
        assert!(appliance_argv(missing).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn mistakes_are_refused_with_their_place() {
        let typo = "[converter_in]\nmax_conections = 5\n";
        let e = GatewayFile::parse(typo, "g.toml").expect_err("unknown key");
        assert!(e.to_string().contains("max_conections"), "{e}");
        let bad_link = "[converter_out]\nlinks = [\"tcp:nowhere\"]\n";
        let e = GatewayFile::parse(bad_link, "g.toml").expect_err("bad link");
        assert!(e.to_string().contains("converter_out.links"), "{e}");
        let none = "[converter_in]\nlinks = []\n";
        assert!(GatewayFile::parse(none, "g.toml").is_err());
        let wrong_type = "[converter_in]\nqueue = \"lots\"\n";
        assert!(GatewayFile::parse(wrong_type, "g.toml").is_err());
        assert!(GatewayFile::parse("", "g.toml").is_ok());
    }
}
