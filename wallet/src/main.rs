//! `coldgate-wallet`: the protected wallet service and its operator commands.

#![forbid(unsafe_code)]

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use coldgate_wallet::server;
use coldgate_wallet::{store, Config, Decided, Store, Wallet, LISTENING, PASSPHRASE_ENV};
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
    /// Sign a held payment: the client's PAYMENT_STATUS then returns the signature.
    Approve {
        /// The payment's reference (its SIGN_PAYMENT counter, as returned in HELD).
        #[arg(value_name = "REF")]
        reference: u64,
        /// The client that asked for the payment.
        #[arg(long, value_name = "ID")]
        client: u32,
    },
    /// Refuse a held payment: PAYMENT_STATUS then answers REJECT denied.
    Deny {
        /// The payment's reference (its SIGN_PAYMENT counter, as returned in HELD).
        #[arg(value_name = "REF")]
        reference: u64,
        /// The client that asked for the payment.
        #[arg(long, value_name = "ID")]
        client: u32,
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
                let (addr, serving) = server::bind(&config, &passphrase).await?;
                println!("{LISTENING}{addr}");
                std::io::stdout().flush()?;
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
                return Err(e).with_context(|| format!("adding client {id}"));
            }
            println!(
                "added client {id}; secret written to {}",
                secret_out.display()
            );
        }
        Command::Held(HeldCommand::List) => {
            let held = store::held_without_passphrase(&config.store)?;
            if held.is_empty() {
                println!("no held payments");
            }
            for h in held {
                let p = &h.payment;
                println!(
                    "client={} reference={} key_id={} amount={} change={} fee={} destination={} txid={} vout={} created={}",
                    h.client_id, h.reference, p.key_id, p.amount, p.change, h.fee,
                    hex::encode(p.destination), hex::encode(p.txid), p.vout, h.created
                );
            }
        }
        Command::Held(HeldCommand::Approve { reference, client }) => {
            let mut wallet = Wallet::new(open()?, config.policy.clone());
            match wallet.approve(client, reference, now)? {
                Decided::Signed(sig) => println!(
                    "approved: client {client} reference {reference} signed {}",
                    hex::encode(sig)
                ),
                Decided::Denied => bail!("approval did not sign"),
            }
        }
        Command::Held(HeldCommand::Deny { reference, client }) => {
            let mut wallet = Wallet::new(open()?, config.policy.clone());
            wallet.deny(client, reference, now)?;
            println!("denied: client {client} reference {reference}");
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
