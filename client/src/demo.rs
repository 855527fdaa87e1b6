//! `coldgate demo`: the whole gateway on loopback, and a client session through it.
//!
//! It starts coldgate-wallet, coldgate-appliance, coldgate-converter-out and
//! coldgate-converter-in as separate processes (found next to the `coldgate` executable, so
//! run `cargo build --release` first), then walks one client through six steps and prints, for
//! each, the trace every hop logged for that request's counter:
//!
//! 1. a new key;
//! 2. a payment within policy, whose signature the client verifies;
//! 3. a payment over the wallet's per-payment maximum: REJECT;
//! 4. a payment over the confirmation threshold: HELD, approved with the operator CLI, then
//!    signed (fetched with `status`);
//! 5. converter-in replaced by a hostile one that rewrites the destination: the verifier passes
//!    the frame (every rule holds), the wallet's tag check refuses it;
//! 6. converter-in injecting a malformed frame: the verifier drops it and sends a NOTICE.
//!
//! It fails (non-zero exit) when any step behaves otherwise, and stops every process it
//! started in every case (the [`Procs`] guard).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use coldgate_converter_in::rpc::{self, CallError};
use coldgate_spec::codec::Payment;
use coldgate_spec::{DropReason, RejectReason};
use coldgate_tx::bitcoin::secp256k1::{Keypair, SecretKey};

use crate::procs::{self, LogTail, Procs};
use crate::session::{read_secret, Client, ClientConfig, ClientError, Exchange, Outcome};

/// Which link kind the converters use to reach the appliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoLink {
    Tcp,
    Pty,
    File,
    /// Raw Ethernet: the appliance's ports are TAP interfaces in a private network namespace
    /// the demo makes (root), the converters use `eth:` links on them.
    Eth,
}

/// How to run the demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// `auto` (verilator when installed, else rusthdl), `verilator`, `rusthdl` or `golden`.
    pub backend: String,
    pub link: DemoLink,
    /// Where the binaries are (default: next to this executable).
    pub bin_dir: Option<PathBuf>,
    /// Working directory for the store, secrets and logs (default: a fresh temporary one,
    /// removed after a successful run).
    pub work_dir: Option<PathBuf>,
    /// Prints the hop-by-hop trace of every step.
    pub trace: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            backend: "auto".into(),
            link: DemoLink::Tcp,
            bin_dir: None,
            work_dir: None,
            trace: true,
        }
    }
}

/// What each step showed.
#[derive(Debug, Default)]
pub struct DemoReport {
    pub backend: String,
    pub steps: Vec<String>,
}

/// The client the demo registers.
pub const CLIENT_ID: u32 = 1;
/// The operator the demo registers (the policy asks one approval).
pub const OPERATOR: &str = "demo-operator";
/// The demo's network: regtest addresses.
pub const NETWORK: coldgate_tx::bitcoin::Network = coldgate_tx::bitcoin::Network::Regtest;
const PASSPHRASE: &str = "coldgate demo passphrase (not a secret)";
const PATIENCE: Duration = Duration::from_secs(60);

/// The wallet's policy in the demo (satoshis).
const MAX_PAYMENT: u64 = 100_000_000;
const HOLD_ABOVE: u64 = 10_000_000;

fn wallet_config(store: &Path) -> String {
    format!(
        r#"network = "regtest"
listen = "127.0.0.1:0"
store = "{store}"

[kdf]
memory_kib = 19456
iterations = 2
parallelism = 1

[policy]
max_payment = {MAX_PAYMENT}
hold_above = {HOLD_ABOVE}
max_fee = 100000
client_daily_amount = 2000000000
client_daily_count = 100
service_daily_amount = 2000000000
service_daily_count = 1000
max_keys_per_client = 10
"#,
        store = store.display()
    )
}

/// A destination the demo pays: the x-only key of a fixed, well-known secret.
pub fn destination() -> Result<[u8; 32]> {
    let sk = SecretKey::from_slice(&[0x42; 32]).context("demo destination key")?;
    let kp = Keypair::from_secret_key(coldgate_tx::secp(), &sk);
    Ok(kp.x_only_public_key().0.serialize())
}

/// A payment from `key_id` spending a fixed fake outpoint (`vout` tells payments apart).
pub fn payment(key_id: u32, vout: u32, input: u64, amount: u64, fee: u64) -> Result<Payment> {
    Ok(Payment {
        key_id,
        txid: [0x5e; 32],
        vout,
        input_amount: input,
        destination: destination()?,
        amount,
        change: amount
            .checked_add(fee)
            .and_then(|out| input.checked_sub(out))
            .ok_or_else(|| anyhow!("amount and fee exceed the input"))?,
    })
}

fn btc(sat: u64) -> String {
    format!("{}.{:08} BTC", sat / 100_000_000, sat % 100_000_000)
}

/// The four binaries.
struct Bins {
    wallet: PathBuf,
    appliance: PathBuf,
    converter_in: PathBuf,
    converter_out: PathBuf,
}

impl Bins {
    fn locate(dir: &Path) -> Result<Bins> {
        Ok(Bins {
            wallet: procs::binary(dir, "coldgate-wallet")?,
            appliance: procs::binary(dir, "coldgate-appliance")?,
            converter_in: procs::binary(dir, "coldgate-converter-in")?,
            converter_out: procs::binary(dir, "coldgate-converter-out")?,
        })
    }
}

/// The running gateway: wallet, appliance, converter-out and (usually) converter-in, each its
/// own process; all are stopped when this is dropped.
pub struct Gateway {
    pub procs: Procs,
    bins: Bins,
    work: PathBuf,
    /// converter-in's links to each appliance's untrusted side (the first appliance's first),
    /// and its current process name.
    untrusted: Vec<String>,
    converter_in: String,
    endpoint: rpc::Endpoint,
    /// The wallet's JSON-RPC address (converter-out's peer).
    wallet_url: String,
    backend: String,
    /// converter-out's links to each appliance's trusted side, in the same order.
    trusted: Vec<String>,
    tails: Vec<(String, LogTail)>,
}

fn wallet_cmd(bins: &Bins, config: &Path, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new(&bins.wallet)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("COLDGATE_WALLET_PASSPHRASE", PASSPHRASE)
        .env("NO_COLOR", "1")
        .output()
        .with_context(|| format!("running coldgate-wallet {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "coldgate-wallet {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The backend `choice` stands for (`auto`: verilator when installed, else rusthdl).
pub fn backend(choice: &str) -> Result<String> {
    Ok(match choice {
        "auto" if procs::on_path("verilator") => "verilator".into(),
        "auto" => "rusthdl".into(),
        "verilator" | "rusthdl" | "golden" => choice.into(),
        other => bail!("unknown backend {other:?}: expected auto, verilator, rusthdl or golden"),
    })
}

impl Gateway {
    /// Starts every process in `work` (which must exist) and registers client [`CLIENT_ID`].
    pub async fn start(opts: &DemoOptions, work: &Path, backend: &str) -> Result<Gateway> {
        let bin_dir = match &opts.bin_dir {
            Some(d) => d.clone(),
            None => procs::own_dir()?,
        };
        let bins = Bins::locate(&bin_dir)?;
        let mut procs = Procs::new(&work.join("logs"))?;
        let pass: &[(&str, &OsStr)] = &[("COLDGATE_WALLET_PASSPHRASE", OsStr::new(PASSPHRASE))];

        let config = work.join("wallet.toml");
        std::fs::write(&config, wallet_config(&work.join("wallet.db")))?;
        wallet_cmd(&bins, &config, &["init"])?;
        let secret = work.join(format!("client-{CLIENT_ID}.secret"));
        wallet_cmd(
            &bins,
            &config,
            &[
                "client",
                "add",
                "--id",
                &CLIENT_ID.to_string(),
                "--secret-out",
                &secret.display().to_string(),
            ],
        )?;
        let credential = work.join(format!("operator-{OPERATOR}.credential"));
        wallet_cmd(
            &bins,
            &config,
            &[
                "operator",
                "add",
                "--name",
                OPERATOR,
                "--credential-out",
                &credential.display().to_string(),
            ],
        )?;
        let config_arg = config.display().to_string();
        procs.spawn(
            "wallet",
            &bins.wallet,
            ["--config", &config_arg, "serve"],
            pass,
        )?;
        let wallet_addr = procs
            .wait_line("wallet", "coldgate-wallet listening on ", PATIENCE)
            .await?;

        let endpoints = work.join("appliance.endpoints");
        let (u_spec, t_spec) = match opts.link {
            DemoLink::Eth => (format!("eth:{TAP_U}"), format!("eth:{TAP_T}")),
            DemoLink::Tcp => ("tcp:127.0.0.1:0".to_string(), "tcp:127.0.0.1:0".to_string()),
            DemoLink::Pty => ("pty".to_string(), "pty".to_string()),
            DemoLink::File => (
                format!("file:{}", work.join("untrusted").display()),
                format!("file:{}", work.join("trusted").display()),
            ),
        };
        let endpoints_arg = endpoints.display().to_string();
        let appliance_args: Vec<&str> = if opts.link == DemoLink::Eth {
            // Port U also gets a UDP virtual wire: a second station on the untrusted segment,
            // for hostile bursts (bad FCS, runts) a NIC would never send.
            vec![
                "--board",
                "colorlight",
                "--backend",
                backend,
                "--tap-u",
                TAP_U,
                "--tap-t",
                TAP_T,
                "--udp-u",
                "127.0.0.1:0",
            ]
        } else {
            vec![
                "--backend",
                backend,
                "--untrusted",
                &u_spec,
                "--trusted",
                &t_spec,
            ]
        };
        procs.spawn(
            "appliance",
            &bins.appliance,
            appliance_args
                .into_iter()
                .chain(["--pty-paths", &endpoints_arg]),
            &[],
        )?;
        let (untrusted, trusted) = if opts.link == DemoLink::File {
            (u_spec, t_spec)
        } else if opts.link == DemoLink::Eth {
            // The TAPs exist once the appliance has written its endpoints.
            procs.wait_file("appliance", &endpoints, PATIENCE).await?;
            (u_spec, t_spec)
        } else {
            let text = procs.wait_file("appliance", &endpoints, PATIENCE).await?;
            (
                endpoint_link(&text, "untrusted")?,
                endpoint_link(&text, "trusted")?,
            )
        };

        let wallet_url = format!("http://{wallet_addr}");
        procs.spawn(
            "converter-out",
            &bins.converter_out,
            ["--link", &trusted, "--wallet", &wallet_url],
            &[],
        )?;
        let mut g = Gateway {
            procs,
            bins,
            work: work.to_path_buf(),
            untrusted: vec![untrusted],
            converter_in: String::new(),
            endpoint: "127.0.0.1:1".parse().map_err(|e: String| anyhow!(e))?,
            wallet_url,
            backend: backend.to_string(),
            trusted: vec![trusted],
            tails: Vec::new(),
        };
        g.start_converter_in("off").await?;
        for name in ["wallet", "appliance", "converter-out"] {
            g.tails
                .push((name.to_string(), LogTail::new(g.procs.log(name))));
        }
        Ok(g)
    }

    /// Where each process listens and logs, for people.
    pub fn layout(&self) -> String {
        format!(
            "  wallet         {}  (policy: at most {} per payment, held above {})\n\
             \x20 appliance      backend {}; untrusted side {}, trusted side {}\n\
             \x20 converter-out  {} <-> {}\n\
             \x20 converter-in   {} <-> {}\n\
             \x20 logs           {} (a temporary one is removed after a successful run)",
            self.wallet_url,
            btc(MAX_PAYMENT),
            btc(HOLD_ABOVE),
            self.backend,
            self.untrusted.join(" "),
            self.trusted.join(" "),
            self.trusted.join(" "),
            self.wallet_url,
            self.endpoint,
            self.untrusted.join(" "),
            self.work.join("logs").display()
        )
    }

    /// The appliance port U's UDP virtual wire (`--link eth` only): one datagram is one burst
    /// as on the wire, from a second station on the untrusted network.
    pub fn eth_wire_u(&self) -> Result<std::net::SocketAddr> {
        let path = self.work.join("appliance.endpoints");
        let text = std::fs::read_to_string(&path)?;
        text.lines()
            .find_map(|l| l.strip_prefix("untrusted udp "))
            .ok_or_else(|| anyhow!("no udp wire in {}:\n{text}", path.display()))?
            .trim()
            .parse()
            .context("the udp wire's address")
    }

    /// The wallet's configuration file (its policy included).
    pub fn wallet_config(&self) -> PathBuf {
        self.work.join("wallet.toml")
    }

    /// The wallet's JSON-RPC address, as converter-out calls it.
    pub fn wallet_url(&self) -> &str {
        &self.wallet_url
    }

    /// The link spec a converter-in uses to reach the appliance's untrusted side.
    pub fn untrusted(&self) -> &str {
        &self.untrusted[0]
    }

    /// converter-in's JSON-RPC endpoint.
    pub fn endpoint(&self) -> &rpc::Endpoint {
        &self.endpoint
    }

    /// The demo client's secret file.
    pub fn secret_path(&self) -> PathBuf {
        self.work.join(format!("client-{CLIENT_ID}.secret"))
    }

    /// A client session through the current converter-in (one open at a time per state file).
    pub fn client(&self) -> Result<Client> {
        Ok(Client::open(ClientConfig {
            endpoint: self.endpoint.clone(),
            client_id: CLIENT_ID,
            secret: read_secret(&self.secret_path())?,
            state_path: self.work.join(format!("client-{CLIENT_ID}.state.json")),
            timeout: Duration::from_secs(20),
            network: NETWORK,
        })?)
    }

    /// Registers one more client with the wallet (`coldgate-wallet client add`); its secret
    /// goes to [`Gateway::secret_path_of`]. For benches and tests with many clients.
    pub fn add_client(&self, id: u32) -> Result<()> {
        let secret = self.secret_path_of(id);
        wallet_cmd(
            &self.bins,
            &self.wallet_config(),
            &[
                "client",
                "add",
                "--id",
                &id.to_string(),
                "--secret-out",
                &secret.display().to_string(),
            ],
        )?;
        Ok(())
    }

    /// Client `id`'s secret file.
    pub fn secret_path_of(&self, id: u32) -> PathBuf {
        self.work.join(format!("client-{id}.secret"))
    }

    /// Client `id`'s state file.
    pub fn state_path_of(&self, id: u32) -> PathBuf {
        self.work.join(format!("client-{id}.state.json"))
    }

    /// A session of client `id` (registered at start or with [`Gateway::add_client`]).
    pub fn client_as(&self, id: u32) -> Result<Client> {
        Ok(Client::open(ClientConfig {
            endpoint: self.endpoint.clone(),
            client_id: id,
            secret: read_secret(&self.secret_path_of(id))?,
            state_path: self.state_path_of(id),
            timeout: Duration::from_secs(20),
            network: NETWORK,
        })?)
    }

    /// The demo operator's credential file.
    pub fn operator_credential(&self) -> PathBuf {
        self.work.join(format!("operator-{OPERATOR}.credential"))
    }

    /// The operator approves a held payment with `coldgate-wallet held approve`.
    pub fn approve(&self, reference: u64) -> Result<String> {
        wallet_cmd(
            &self.bins,
            &self.wallet_config(),
            &[
                "held",
                "approve",
                &reference.to_string(),
                "--client",
                &CLIENT_ID.to_string(),
                "--operator",
                OPERATOR,
                "--credential",
                &self.operator_credential().display().to_string(),
            ],
        )
    }

    /// Stops converter-in (a test may then take its place on the untrusted link).
    pub fn stop_converter_in(&mut self) {
        if !self.converter_in.is_empty() {
            self.procs.stop(&self.converter_in);
            self.converter_in.clear();
        }
    }

    /// (Re)starts converter-in, honest (`off`) or in a hostile mode (`mutate`, `replay`,
    /// `inject`).
    pub async fn start_converter_in(&mut self, hostile: &str) -> Result<()> {
        self.stop_converter_in();
        let name = if hostile == "off" {
            "converter-in".to_string()
        } else {
            format!("converter-in-hostile-{hostile}")
        };
        self.procs.stop(&name);
        let args = ["--listen", "127.0.0.1:0", "--hostile", hostile]
            .into_iter()
            .map(String::from)
            .chain(links_args(&self.untrusted));
        self.procs
            .spawn(&name, &self.bins.converter_in, args, &[])?;
        let url = self
            .procs
            .wait_line(&name, "coldgate-converter-in listening on ", PATIENCE)
            .await?;
        self.endpoint = url.parse().map_err(|e: String| anyhow!(e))?;
        let log = self.procs.log(&name);
        self.tails.retain(|(n, _)| !n.starts_with("converter-in"));
        self.tails.insert(0, (name.clone(), LogTail::new(log)));
        self.converter_in = name;
        Ok(())
    }

    /// Runs `coldgate-wallet --config WALLET.toml ARGS...` (e.g. `audit verify`); its stdout.
    pub fn wallet_cli(&self, args: &[&str]) -> Result<String> {
        wallet_cmd(&self.bins, &self.wallet_config(), args)
    }

    /// Kills one of the gateway's processes with SIGKILL, as a crash would, and starts it
    /// again on the same addresses (so its peers reconnect to it): `wallet`, `appliance`
    /// (or `appliance-N` of [`Gateway::add_appliance`]), `converter-out` or `converter-in`.
    pub async fn crash_and_restart(&mut self, name: &str) -> Result<()> {
        if let Some(i) = self.appliance_index(name) {
            self.procs.kill(name)?;
            let (u, t) = (self.untrusted[i].clone(), self.trusted[i].clone());
            return self.spawn_appliance(name, &u, &t).await.map(|_| ());
        }
        self.procs.kill(name)?;
        match name {
            "wallet" => {
                // Same port as before: converter-out keeps calling the address it was given.
                let config = self.wallet_config();
                let text = std::fs::read_to_string(&config)?;
                let addr = self.wallet_url.trim_start_matches("http://").to_string();
                let fixed =
                    text.replace("listen = \"127.0.0.1:0\"", &format!("listen = \"{addr}\""));
                std::fs::write(&config, fixed)?;
                let config_arg = config.display().to_string();
                let pass: &[(&str, &OsStr)] =
                    &[("COLDGATE_WALLET_PASSPHRASE", OsStr::new(PASSPHRASE))];
                self.procs.spawn(
                    "wallet",
                    &self.bins.wallet,
                    ["--config", &config_arg, "serve"],
                    pass,
                )?;
                self.procs
                    .wait_line("wallet", "coldgate-wallet listening on ", PATIENCE)
                    .await?;
            }
            "converter-out" => self.spawn_converter_out()?,
            "converter-in" => {
                let listen = self.endpoint.authority.clone();
                let name = self.converter_in.clone();
                let args = ["--listen".to_string(), listen]
                    .into_iter()
                    .chain(links_args(&self.untrusted));
                self.procs
                    .spawn(&name, &self.bins.converter_in, args, &[])?;
                self.procs
                    .wait_line(&name, "coldgate-converter-in listening on ", PATIENCE)
                    .await?;
            }
            other => bail!("no process {other} to restart"),
        }
        Ok(())
    }

    /// Starts one more appliance on fresh tcp ports (tcp links only) and restarts both
    /// converters with a link to every appliance, as an operator adds a second appliance for
    /// failover: converter-in sends each call on a healthy link, converter-out answers on the
    /// link a request came in on. Returns the new appliance's process name (`appliance-2`, ...)
    /// for [`Gateway::crash_and_restart`] or `procs.kill`.
    pub async fn add_appliance(&mut self) -> Result<String> {
        let tcp = |spec: &String| spec.starts_with("tcp:");
        if !(self.untrusted.iter().all(tcp) && self.trusted.iter().all(tcp)) {
            bail!("several appliances need tcp links");
        }
        let name = format!("appliance-{}", self.untrusted.len() + 1);
        let text = self
            .spawn_appliance(&name, "tcp:127.0.0.1:0", "tcp:127.0.0.1:0")
            .await?;
        self.untrusted.push(endpoint_link(&text, "untrusted")?);
        self.trusted.push(endpoint_link(&text, "trusted")?);
        self.procs.stop("converter-out");
        self.spawn_converter_out()?;
        self.start_converter_in("off").await?;
        self.tails
            .push((name.clone(), LogTail::new(self.procs.log(&name))));
        Ok(name)
    }

    /// Which appliance (`appliance` is the first, `appliance-N` the N-th) `name` is, if any.
    fn appliance_index(&self, name: &str) -> Option<usize> {
        let i = match name.strip_prefix("appliance") {
            Some("") => 0,
            Some(n) => n.strip_prefix('-')?.parse::<usize>().ok()?.checked_sub(1)?,
            None => return None,
        };
        (i < self.untrusted.len()).then_some(i)
    }

    /// Starts appliance `name` with its sides on `untrusted` and `trusted` (restarted on the
    /// same tcp addresses, its peers reconnect); returns its endpoints file's text once written.
    async fn spawn_appliance(
        &mut self,
        name: &str,
        untrusted: &str,
        trusted: &str,
    ) -> Result<String> {
        let tcp = |spec: &str| spec.starts_with("tcp:");
        if !(tcp(untrusted) && tcp(trusted)) {
            bail!("restarting an appliance on the same addresses needs tcp links");
        }
        let endpoints = self.work.join(format!("{name}.endpoints"));
        let _ = std::fs::remove_file(&endpoints);
        let endpoints_arg = endpoints.display().to_string();
        self.procs.spawn(
            name,
            &self.bins.appliance,
            [
                "--backend",
                &self.backend,
                "--untrusted",
                untrusted,
                "--trusted",
                trusted,
                "--pty-paths",
                &endpoints_arg,
            ],
            &[],
        )?;
        self.procs.wait_file(name, &endpoints, PATIENCE).await
    }

    /// Starts converter-out with a link to every appliance's trusted side.
    fn spawn_converter_out(&mut self) -> Result<()> {
        let args = ["--wallet".to_string(), self.wallet_url.clone()]
            .into_iter()
            .chain(links_args(&self.trusted));
        self.procs
            .spawn("converter-out", &self.bins.converter_out, args, &[])?;
        Ok(())
    }

    /// Every new log line of every hop that mentions one of `counters`, in time order.
    fn hops(&mut self, counters: &[u64]) -> Vec<String> {
        let mut lines: Vec<(String, String, String)> = Vec::new();
        for (name, tail) in &mut self.tails {
            for l in tail.new_lines() {
                if counters.iter().any(|c| mentions_counter(&l, *c)) {
                    let (ts, rest) = split_log_line(&l);
                    lines.push((ts, name.clone(), rest));
                }
            }
        }
        lines.sort();
        lines
            .into_iter()
            .map(|(_, name, rest)| format!("    {name:<28} {rest}"))
            .collect()
    }
}

/// `--link L` for each of `links`.
fn links_args(links: &[String]) -> impl Iterator<Item = String> + '_ {
    links.iter().flat_map(|l| ["--link".to_string(), l.clone()])
}

/// The link spec a converter uses for side `name` (`untrusted`, `trusted`) of an appliance,
/// from the endpoints file it wrote.
fn endpoint_link(text: &str, name: &str) -> Result<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .ok_or_else(|| anyhow!("the appliance reported no {name} endpoint:\n{text}"))?;
    let mut parts = line.split_whitespace().skip(1);
    match (parts.next(), parts.next()) {
        (Some("tcp"), Some(addr)) => Ok(format!("tcp:{addr}")),
        (Some("pty"), Some(path)) => Ok(format!("serial:{path}")),
        _ => bail!("unexpected endpoint line {line:?}"),
    }
}

fn mentions_counter(line: &str, counter: u64) -> bool {
    let needle = format!("counter={counter}");
    line.match_indices(&needle).any(|(i, _)| {
        !line[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// `(timestamp, level + message + fields)` of a tracing line, without the module path.
fn split_log_line(line: &str) -> (String, String) {
    let mut parts = line.splitn(4, ' ').filter(|p| !p.is_empty());
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let ts = parts.next().unwrap_or("").to_string();
    if words.len() >= 3 && words[2].ends_with(':') {
        let level = words[1];
        words.drain(..3);
        return (ts, format!("{level:<5} {}", words.join(" ")));
    }
    (ts, line.to_string())
}

/// Runs the demo. The processes are stopped when this returns, whatever happened.
pub async fn run(opts: DemoOptions) -> Result<DemoReport> {
    let backend = backend(&opts.backend)?;
    let (work, temporary) = match &opts.work_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("coldgate-demo-{}", std::process::id())),
            true,
        ),
    };
    if work.exists() && std::fs::read_dir(&work)?.next().is_some() {
        bail!(
            "{} is not empty: the demo needs a fresh working directory",
            work.display()
        );
    }
    std::fs::create_dir_all(&work)?;
    println!("coldgate demo: the gateway on loopback, each part its own process");
    let result = if opts.link == DemoLink::Eth {
        in_private_netns(opts.clone(), work.clone(), backend.clone()).await
    } else {
        session(&opts, &work, &backend).await
    };
    match &result {
        Ok(_) if temporary => {
            let _ = std::fs::remove_dir_all(&work);
        }
        Ok(_) => {}
        Err(_) => eprintln!("logs kept in {}", work.join("logs").display()),
    }
    result
}

/// The TAP interfaces of `--link eth` (names are per namespace, so fixed ones do not clash).
pub const TAP_U: &str = "cgu0";
pub const TAP_T: &str = "cgt0";

/// Runs the session in a new network namespace (needs root; fails otherwise): the TAPs,
/// every process the demo starts and every frame they send stay inside it, and the namespace
/// goes away with its last process.
async fn in_private_netns(opts: DemoOptions, work: PathBuf, backend: String) -> Result<DemoReport> {
    println!("(in a private network namespace: TAP {TAP_U} = port U, TAP {TAP_T} = port T)");
    tokio::task::spawn_blocking(move || {
        coldgate_link::netns::isolated(move || async move { session(&opts, &work, &backend).await })
    })
    .await
    .context("the network namespace's thread")?
    .context("the Ethernet demo runs in a private network namespace")?
}

async fn session(opts: &DemoOptions, work: &Path, backend: &str) -> Result<DemoReport> {
    let mut g = Gateway::start(opts, work, backend).await?;
    println!("{}", g.layout());
    let mut client = g.client()?;
    let mut report = DemoReport {
        backend: backend.to_string(),
        steps: Vec::new(),
    };

    // 1. A new key.
    title(1, "a new key");
    let x = until_linked(&mut g, &mut client, |c| Box::pin(c.new_key())).await?;
    let key_id = match x.outcome {
        Outcome::Key { key_id, .. } => key_id,
        _ => bail!("step 1: expected a key, got: {}", x.outcome),
    };
    show(&mut g, opts, &x);
    // Where coins for this key go (its BIP-86 output key's address), and its descriptor.
    let info = client.key_info(key_id)?;
    println!("     {}", info.to_string().replace('\n', "\n     "));
    report.steps.push(format!("new key {key_id}"));

    // 2. Within policy: signed, signature verified.
    let p = payment(key_id, 0, 1_000_000, 250_000, 10_000)?;
    title(2, &format!("pay {} (within policy)", btc(p.amount)));
    let x = client.sign_payment(p).await?;
    if !matches!(x.outcome, Outcome::Signed { .. }) {
        bail!("step 2: expected a verified signature, got: {}", x.outcome);
    }
    show(&mut g, opts, &x);
    report.steps.push(x.outcome.to_string());

    // 3. Over the per-payment maximum: REJECT.
    let p = payment(key_id, 1, 300_000_000, 2 * MAX_PAYMENT, 10_000)?;
    title(
        3,
        &format!(
            "pay {} (over the {} per-payment maximum)",
            btc(p.amount),
            btc(MAX_PAYMENT)
        ),
    );
    let x = client.sign_payment(p).await?;
    expect_reject(&x, RejectReason::OverPaymentMax, 3)?;
    show(&mut g, opts, &x);
    report.steps.push(x.outcome.to_string());

    // 4. Over the confirmation threshold: HELD, approved by the operator, then signed.
    let p = payment(key_id, 2, 30_000_000, 2 * HOLD_ABOVE, 10_000)?;
    title(
        4,
        &format!(
            "pay {} (over the {} confirmation threshold)",
            btc(p.amount),
            btc(HOLD_ABOVE)
        ),
    );
    let x = client.sign_payment(p).await?;
    let reference = match x.outcome {
        Outcome::Held { reference } => reference,
        _ => bail!("step 4: expected HELD, got: {}", x.outcome),
    };
    show(&mut g, opts, &x);
    let cmd = format!(
        "coldgate-wallet held approve {reference} --client {CLIENT_ID} --operator {OPERATOR} --credential FILE"
    );
    let said = g.approve(reference)?;
    println!("  operator: {cmd}\n    -> {said}");
    let y = client.status(reference).await?;
    if !matches!(y.outcome, Outcome::Signed { .. }) {
        bail!(
            "step 4: expected the approved payment's signature, got: {}",
            y.outcome
        );
    }
    show(&mut g, opts, &y);
    report
        .steps
        .push(format!("held as {reference}, approved, {}", y.outcome));

    // 5. A hostile converter-in rewrites the destination: the wallet's tag check refuses it.
    title(
        5,
        "converter-in replaced by a hostile one that rewrites the payment's destination",
    );
    g.start_converter_in("mutate").await?;
    client = reconnect(client, &g)?;
    let p = payment(key_id, 3, 1_000_000, 250_000, 10_000)?;
    let x = until_linked(&mut g, &mut client, move |c| Box::pin(c.sign_payment(p))).await?;
    if matches!(x.outcome, Outcome::Signed { .. }) {
        bail!("step 5: a hostile converter obtained a signature");
    }
    expect_reject(&x, RejectReason::BadTag, 5)?;
    show(&mut g, opts, &x);
    report.steps.push(x.outcome.to_string());

    // 6. A malformed frame: the verifier drops it and says so.
    title(6, "converter-in injecting a malformed frame (broken CRC)");
    g.start_converter_in("inject").await?;
    client = reconnect(client, &g)?;
    let p = payment(key_id, 4, 1_000_000, 250_000, 10_000)?;
    let x = until_linked(&mut g, &mut client, move |c| Box::pin(c.sign_payment(p))).await?;
    match x.outcome {
        Outcome::Dropped { notice, .. } if notice.reason == DropReason::BadCrc => {}
        _ => bail!("step 6: expected a NOTICE bad_crc, got: {}", x.outcome),
    }
    show(&mut g, opts, &x);
    report.steps.push(x.outcome.to_string());

    g.procs.check_alive()?;
    println!("\ndemo passed: all 6 steps behaved as expected (backend {backend})");
    Ok(report)
}

/// The same client state with converter-in's new address (the lock is released first).
fn reconnect(client: Client, g: &Gateway) -> Result<Client> {
    drop(client);
    g.client()
}

/// A boxed client call, for [`until_linked`].
pub type CallFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Exchange, ClientError>> + 'a>>;

/// Retries while converter-in has not reached the appliance yet (each try uses a new counter).
pub async fn until_linked(
    g: &mut Gateway,
    client: &mut Client,
    call: impl for<'c> Fn(&'c mut Client) -> CallFuture<'c>,
) -> Result<Exchange> {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        match call(client).await {
            Err(ClientError::Call(CallError::Rpc(e)))
                if e.code == rpc::LINK_DOWN && std::time::Instant::now() < deadline =>
            {
                g.procs.check_alive()?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return Ok(other?),
        }
    }
}

fn expect_reject(x: &Exchange, want: RejectReason, step: usize) -> Result<()> {
    match x.outcome {
        Outcome::Rejected { reason } if reason == want => Ok(()),
        _ => bail!("step {step}: expected REJECT {want}, got: {}", x.outcome),
    }
}

fn title(n: usize, what: &str) {
    println!("\n[{n}] {what}");
}

fn show(g: &mut Gateway, opts: &DemoOptions, x: &Exchange) {
    println!(
        "    {:<28} {} counter={} (tagged with the client's secret)",
        "client",
        x.method.name(),
        x.request.counter
    );
    if opts.trace {
        for line in g.hops(&[x.request.counter]) {
            println!("{line}");
        }
    }
    println!("  => {}", x.outcome);
}
