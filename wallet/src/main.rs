//! `coldgate-wallet`: the protected wallet service and its operator commands.

#![forbid(unsafe_code)]

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use coldgate_wallet::server;
use coldgate_wallet::{store, Config, Decided, Operator, Store, Wallet, LISTENING, PASSPHRASE_ENV};
use zeroize::Zeroizing;

/// coldgate's protected wallet: keys, spending policy, client authentication, durable store.
///
/// Every command reads the TOML config given with --config (listen address, store path,
/// limits, argon2 cost, policy; see the crate docs for an example). Commands that open the
/// store's secrets need the operator's passphrase: from --passphrase-file FILE, or else from
/// the environment variable COLDGATE_WALLET_PASSPHRASE. `held list` and `backup` need none.
/// Operator commands work while `serve` runs (the store is SQLite in WAL mode).
#[derive(Parser, Debug)]
#[command(name = "coldgate-wallet", version)]
struct Cli {
    /// The wallet's TOML configuration file.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// File whose content (one trailing newline removed) is the store's passphrase. Without
    /// it, the passphrase is read from COLDGATE_WALLET_PASSPHRASE.
    #[arg(long, value_name = "FILE", global = true)]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a new, empty store at the config's store path (never over an existing file),
    /// with the config's [kdf] cost and the passphrase.
    Init,
    /// Serve JSON-RPC 2.0 over HTTP (POST /) at the config's listen address. Prints
    /// "coldgate-wallet listening on ADDR" on stdout once ready (port 0 picks a free port).
    Serve,
    /// Manage the clients allowed to send requests.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage the operators who approve or deny held payments.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// List, approve or deny payments held by the policy's hold threshold.
    #[command(subcommand)]
    Held(HeldCommand),
    /// Check the audit log's hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy the live store to a new file with SQLite's online backup (the service may keep
    /// running). A copy is restored by pointing a config's store path at it.
    Backup {
        /// Where to write the copy (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a backup to the config's store path (which must not exist), without reopening
    /// old counters: the restored store refuses every counter at or below a floor (default:
    /// the wall clock in microseconds, which coldgate clients' counters never fall behind), so
    /// frames sent after the backup was taken cannot be replayed against it.
    Restore {
        /// The backup written by `backup --out`.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The counter floor (default: now, in microseconds since the Unix epoch).
        #[arg(long, value_name = "N")]
        counter_floor: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
enum OperatorCommand {
    /// Register operator NAME with a fresh 32-byte credential from the OS's randomness,
    /// written in hex to FILE (created with mode 0600; it must not exist). The store keeps
    /// only a keyed MAC of it. Operators are never removed.
    Add {
        /// The operator's name, as it appears in the audit log (1 to 64 of a-z, 0-9, . _ -).
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Where to write the operator's hex credential.
        #[arg(long, value_name = "FILE")]
        credential_out: PathBuf,
    },
}

/// Who is deciding a held payment.
#[derive(clap::Args, Debug)]
struct OperatorArgs {
    /// The operator's name.
    #[arg(long, value_name = "NAME")]
    operator: String,
    /// The operator's credential file (from `operator add --credential-out`).
    #[arg(long, value_name = "FILE")]
    credential: PathBuf,
}

#[derive(Subcommand, Debug)]
enum ClientCommand {
    /// Register client ID with a fresh 32-byte secret from the OS's randomness. The secret is
    /// stored sealed in the wallet and written, in hex, to FILE (created with mode 0600; it
    /// must not exist) for the client. Client ids are never reused or removed.
    Add {
        /// The client's id (1..=4294967295, as on the wire).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        id: u32,
        /// Where to write the client's hex secret.
        #[arg(long, value_name = "FILE")]
        secret_out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum HeldCommand {
    /// Print the held payments, one per line, oldest first.
    List,
    /// Approve a held payment as one operator. Once the policy's min_approvers distinct
    /// operators approved, it is signed and the client's PAYMENT_STATUS returns the signature.
    Approve {
        /// The payment's reference (its SIGN_PAYMENT counter, as returned in HELD).
        #[arg(value_name = "REF")]
        reference: u64,
        /// The client that asked for the payment.
        #[arg(long, value_name = "ID")]
        client: u32,
        #[command(flatten)]
        who: OperatorArgs,
    },
    /// Refuse a held payment as one operator (one deny ends it): PAYMENT_STATUS then answers
    /// REJECT denied.
    Deny {
        /// The payment's reference (its SIGN_PAYMENT counter, as returned in HELD).
        #[arg(value_name = "REF")]
        reference: u64,
        /// The client that asked for the payment.
        #[arg(long, value_name = "ID")]
        client: u32,
        #[command(flatten)]
        who: OperatorArgs,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Verify every link of the audit chain; exits 1 and names the entry when one was edited,
    /// inserted or removed. Prints the entry count and head link (keep it to detect truncation).
    Verify,
}

fn passphrase(file: Option<&Path>) -> Result<Zeroizing<Vec<u8>>> {
    let mut p = match file {
        Some(f) => Zeroizing::new(
            std::fs::read(f).with_context(|| format!("reading passphrase file {}", f.display()))?,
        ),
        None => match std::env::var_os(PASSPHRASE_ENV) {
            Some(v) => Zeroizing::new(v.into_encoded_bytes()),
            None => bail!("no passphrase: give --passphrase-file FILE or set {PASSPHRASE_ENV}"),
        },
    };
    if p.last() == Some(&b'\n') {
        p.pop();
        if p.last() == Some(&b'\r') {
            p.pop();
        }
    }
    if p.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(p)
}

fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    let hex = Zeroizing::new(hex::encode(secret));
    f.write_all(hex.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

/// Reads a 32-byte hex secret file (a client secret or an operator credential).
fn read_hex32(path: &Path) -> Result<Zeroizing<[u8; 32]>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim_end_matches(['\n', '\r']), &mut out[..])
        .with_context(|| format!("{}: expected 64 hex digits", path.display()))?;
    Ok(out)
}

fn valid_operator_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// A store error with what it means for signing when the store cannot be written.
fn explain(e: coldgate_wallet::StoreError) -> anyhow::Error {
    match e.unwritable() {
        Some(why) => anyhow::anyhow!("{why}: nothing was signed or recorded ({e})"),
        None => e.into(),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let config_path = cli
        .config
        .context("--config FILE is required (the wallet's TOML configuration)")?;
    let config = Config::load(&config_path)?;
    let pass = || passphrase(cli.passphrase_file.as_deref());
    let open = || -> Result<Store> {
        Store::open(&config.store, &pass()?)
            .with_context(|| format!("opening store {}", config.store.display()))
    };
    let now = server::now();
    match cli.command {
        Command::Init => {
            Store::init(&config.store, &pass()?, &config.kdf, now)
                .with_context(|| format!("creating store {}", config.store.display()))?;
            println!("created store {}", config.store.display());
        }
        Command::Serve => {
            let passphrase = pass()?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let (addr, metrics, serving) = server::bind(&config, &passphrase).await?;
                println!("{LISTENING}{addr}");
                std::io::stdout().flush()?;
                if let Some(at) = config.metrics {
                    serve_metrics(at, metrics, config.store.clone()).await?;
                }
                serving.await?;
                Ok::<_, anyhow::Error>(())
            })?;
        }
        Command::Client(ClientCommand::Add { id, secret_out }) => {
            let mut store = open()?;
            let secret = Zeroizing::new(coldgate_wallet::vault::random::<32>()?);
            // The file first: if the store refuses (e.g. the id exists), the file is removed;
            // the other order could leave a registered client whose secret nobody has.
            write_secret(&secret_out, &secret)?;
            let added = (|| {
                let t = store.begin()?;
                t.add_client(id, &secret, now)?;
                t.commit()
            })();
            if let Err(e) = added {
                let _ = std::fs::remove_file(&secret_out);
                return Err(explain(e)).with_context(|| format!("adding client {id}"));
            }
            println!(
                "added client {id}; secret written to {}",
                secret_out.display()
            );
        }
        Command::Operator(OperatorCommand::Add {
            name,
            credential_out,
        }) => {
            if !valid_operator_name(&name) {
                bail!("operator name {name:?}: 1 to 64 of a-z, 0-9, '.', '_', '-'");
            }
            let mut store = open()?;
            let credential = Zeroizing::new(coldgate_wallet::vault::random::<32>()?);
            write_secret(&credential_out, &credential)?;
            let added = (|| {
                let t = store.begin()?;
                t.add_operator(&name, &credential, now)?;
                t.commit()
            })();
            if let Err(e) = added {
                let _ = std::fs::remove_file(&credential_out);
                return Err(explain(e)).with_context(|| format!("adding operator {name}"));
            }
            println!(
                "added operator {name}; credential written to {}",
                credential_out.display()
            );
        }
        Command::Restore {
            from,
            counter_floor,
        } => {
            let floor = counter_floor.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_micros() as u64)
                    .unwrap_or(0)
            });
            store::restore(&from, &config.store, &pass()?, floor, now)
                .map_err(explain)
                .with_context(|| {
                    format!("restoring {} to {}", from.display(), config.store.display())
                })?;
            println!(
                "restored {} to {}; counters at or below {floor} are refused",
                from.display(),
                config.store.display()
            );
        }
        Command::Held(HeldCommand::List) => {
            let held = store::held_without_passphrase(&config.store)?;
            if held.is_empty() {
                println!("no held payments");
            }
            for h in held {
                let p = &h.payment;
                let destination =
                    coldgate_tx::address::destination_address(&p.destination, config.network)
                        .map_or_else(|| hex::encode(p.destination), |a| a.to_string());
                println!(
                    "client={} reference={} key_id={} amount={} change={} fee={} destination={} txid={} vout={} created={}",
                    h.client_id, h.reference, p.key_id, p.amount, p.change, h.fee,
                    destination, coldgate_tx::txid_to_explorer(&p.txid), p.vout, h.created
                );
            }
        }
        Command::Held(HeldCommand::Approve {
            reference,
            client,
            who,
        }) => {
            let credential = read_hex32(&who.credential)?;
            let operator = Operator {
                name: &who.operator,
                credential: &credential,
            };
            let mut wallet = Wallet::new(open()?, config.policy.clone());
            match wallet
                .approve(&operator, client, reference, now)
                .map_err(explain)?
            {
                Decided::Signed(sig) => println!(
                    "approved by {}: client {client} reference {reference} signed {}",
                    who.operator,
                    hex::encode(sig)
                ),
                Decided::Approved { approvals, needed } => println!(
                    "approved by {}: client {client} reference {reference} has {approvals} of {needed} approvals; not signed yet",
                    who.operator
                ),
                Decided::Denied => bail!("approval did not sign"),
            }
        }
        Command::Held(HeldCommand::Deny {
            reference,
            client,
            who,
        }) => {
            let credential = read_hex32(&who.credential)?;
            let operator = Operator {
                name: &who.operator,
                credential: &credential,
            };
            let mut wallet = Wallet::new(open()?, config.policy.clone());
            wallet
                .deny(&operator, client, reference, now)
                .map_err(explain)?;
            println!(
                "denied by {}: client {client} reference {reference}",
                who.operator
            );
        }
        Command::Audit(AuditCommand::Verify) => match open()?.verify_audit()? {
            Ok(report) => println!(
                "audit chain ok: {} entries, head {}",
                report.entries,
                hex::encode(report.head)
            ),
            Err(broken) => {
                println!("{broken}");
                return Ok(ExitCode::from(1));
            }
        },
        Command::Backup { out } => {
            let pages = store::backup(&config.store, &out)?;
            println!(
                "backed up {} to {} ({pages} pages)",
                config.store.display(),
                out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the `/metrics` and `/health` listener after the wallet's own address is printed
/// (tools read that line first). Health fails while the store refuses writes.
async fn serve_metrics(
    at: std::net::SocketAddr,
    metrics: std::sync::Arc<coldgate_wallet::metrics::Metrics>,
    store: PathBuf,
) -> Result<()> {
    use coldgate_ops::listener::{self, Health, HealthFn};
    let mut registry = prometheus_client::registry::Registry::with_prefix("coldgate_wallet");
    metrics.register(&mut registry);
    let health: HealthFn = std::sync::Arc::new(move || Health {
        ok: metrics.store_writable(),
        detail: serde_json::json!({
            "store": store.display().to_string(),
            "store_writable": metrics.store_writable(),
        }),
    });
    let l = listener::bind("coldgate-wallet", &at.to_string()).await?;
    tokio::spawn(listener::serve(l, std::sync::Arc::new(registry), health));
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("coldgate-wallet: {e:#}");
            ExitCode::from(2)
        }
    }
}
