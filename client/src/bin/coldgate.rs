//! `coldgate`: the client command line and the end-to-end demo.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use coldgate_client::demo::{self, DemoLink, DemoOptions};
use coldgate_client::procs::stop_signal;
use coldgate_client::{read_secret, Client, ClientConfig, Outcome};
use coldgate_converter_in::rpc::Endpoint;
use coldgate_spec::codec::Payment;
use coldgate_tx::bitcoin::psbt::Psbt;
use coldgate_tx::bitcoin::Network;

/// coldgate: a hardware logic verifier between a hot wallet and the network.
#[derive(Parser, Debug)]
#[command(name = "coldgate", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Talk to the wallet through converter-in, as one client.
    Client(ClientArgs),
    /// Start the whole gateway on loopback and walk a client session through it, hop by hop.
    /// The binaries must be built first (`cargo build --release`): they are looked for next
    /// to this executable.
    Demo {
        /// Verifier backend: auto (verilator when installed, else rusthdl), verilator,
        /// rusthdl or golden.
        #[arg(long, default_value = "auto")]
        backend: String,
        /// Link kind between the converters and the appliance.
        #[arg(long, value_enum, default_value_t = DemoLink::Tcp)]
        link: DemoLink,
        /// Directory holding the coldgate binaries (default: this executable's).
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// Working directory (store, secrets, logs); must be new or empty. Default: a
        /// temporary directory, removed after a successful run.
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Print only each step's outcome, not the per-hop trace.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Parser, Debug)]
struct ClientArgs {
    /// converter-in's JSON-RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:7100")]
    url: Endpoint,
    /// This client's id, as registered with `coldgate-wallet client add --id N`.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    client_id: u32,
    /// The hex secret file written by `coldgate-wallet client add --secret-out FILE`.
    #[arg(long)]
    secret: PathBuf,
    /// This client's state file (counter, keys, held payments); created when missing.
    #[arg(long)]
    state: PathBuf,
    /// Longest wait for an answer, in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    timeout_ms: u64,
    /// The Bitcoin network: mainnet, testnet, testnet4, signet or regtest. Addresses are
    /// shown for it and destinations must be its addresses.
    #[arg(long, default_value = "mainnet", value_parser = parse_network)]
    network: Network,
    /// Print JSON instead of sentences: the answer frame's JSON form, plus `address` and
    /// `descriptor` for a key, `tx` (hex), `txid` and `reference` for a signed payment, and
    /// `psbt` (the file written) for sign-psbt.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    call: Call,
}

#[derive(Subcommand, Debug)]
enum Call {
    /// Ask the wallet for a new key; prints its address (send coins there) and its tr()
    /// descriptor (for a watch-only wallet's importdescriptors).
    NewKey,
    /// Fetch the public key of one of this client's keys, with its address and descriptor.
    Pubkey {
        #[arg(long)]
        key_id: u32,
    },
    /// Ask for a payment to be signed; the signature is verified before it is printed.
    SignPayment {
        #[arg(long)]
        key_id: u32,
        /// Txid of the output being spent, as block explorers and Bitcoin Core show it (the
        /// one byte order coldgate shows and reads everywhere).
        #[arg(long)]
        txid: String,
        #[arg(long)]
        vout: u32,
        /// Value of the output being spent, in satoshis.
        #[arg(long)]
        input_amount: u64,
        /// The destination: a P2TR (bech32m) address of --network.
        #[arg(long)]
        destination: String,
        /// Satoshis to pay.
        #[arg(long)]
        amount: u64,
        /// Satoshis back to the key's own address (the rest is the fee).
        #[arg(long)]
        change: u64,
    },
    /// Ask what became of a payment (held, or sent and its answer lost).
    Status {
        #[arg(long)]
        reference: u64,
    },
    /// Sign a BIP-174 PSBT with one P2TR input of one of this client's keys and one or two
    /// outputs (destination, then change to the same key): checked against the fixed shape,
    /// sent as SIGN_PAYMENT, and written back with tap_key_sig and the final witness, ready
    /// for finalizepsbt / sendrawtransaction. Binary or base64 input.
    SignPsbt {
        /// The PSBT file.
        #[arg(value_name = "IN.psbt")]
        input: PathBuf,
        /// Where to write the signed PSBT (default: IN.psbt with .signed.psbt), in the input's
        /// form (binary or base64).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn parse_network(s: &str) -> Result<Network, String> {
    coldgate_tx::address::parse_network(s).map_err(|e| e.to_string())
}

/// Reads a PSBT file, binary (BIP-174 magic) or base64 text; says which.
fn read_psbt(path: &std::path::Path) -> Result<(Psbt, bool)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(b"psbt\xff") {
        let p = Psbt::deserialize(&bytes)
            .map_err(|e| anyhow!("{}: not a PSBT: {e}", path.display()))?;
        return Ok((p, true));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("{}: neither a binary nor a base64 PSBT", path.display()))?;
    let p: Psbt = text
        .trim()
        .parse()
        .map_err(|e| anyhow!("{}: not a PSBT: {e}", path.display()))?;
    Ok((p, false))
}

async fn client(a: ClientArgs) -> Result<ExitCode> {
    let secret = read_secret(&a.secret)?;
    let mut c = Client::open(ClientConfig {
        endpoint: a.url,
        client_id: a.client_id,
        secret,
        state_path: a.state,
        timeout: Duration::from_millis(a.timeout_ms),
        network: a.network,
    })?;
    let mut psbt_out = None;
    let x = match a.call {
        Call::NewKey => c.new_key().await?,
        Call::Pubkey { key_id } => c.pubkey(key_id).await?,
        Call::SignPayment {
            key_id,
            txid,
            vout,
            input_amount,
            destination,
            amount,
            change,
        } => {
            let txid = coldgate_tx::txid_from_explorer(&txid)
                .ok_or_else(|| anyhow!("--txid: expected 64 hex digits (explorer order)"))?;
            let destination = c.destination(&destination).context("--destination")?;
            c.sign_payment(Payment {
                key_id,
                txid,
                vout,
                input_amount,
                destination,
                amount,
                change,
            })
            .await?
        }
        Call::Status { reference } => c.status(reference).await?,
        Call::SignPsbt { input, out } => {
            let (mut psbt, binary) = read_psbt(&input)?;
            let x = c.sign_psbt(&mut psbt).await?;
            if matches!(x.outcome, Outcome::Signed { .. }) {
                let out = out.unwrap_or_else(|| input.with_extension("signed.psbt"));
                let body = if binary {
                    psbt.serialize()
                } else {
                    format!("{psbt}\n").into_bytes()
                };
                std::fs::write(&out, body).with_context(|| format!("writing {}", out.display()))?;
                psbt_out = Some(out);
            }
            x
        }
    };
    let key_info = match x.outcome {
        Outcome::Key { key_id, key } => {
            Some(coldgate_client::KeyInfo::new(key_id, &key, c.network())?)
        }
        _ => None,
    };
    if a.json {
        let mut v = coldgate_spec::json::to_json(&x.answer);
        if let Some(k) = &key_info {
            v["address"] = k.address.clone().into();
            v["descriptor"] = k.descriptor.clone().into();
        }
        if let Outcome::Signed { tx, reference, .. } = &x.outcome {
            v["txid"] = tx.compute_txid().to_string().into();
            v["tx"] = coldgate_tx::bitcoin::consensus::encode::serialize_hex(tx).into();
            v["reference"] = (*reference).into();
        }
        if let Some(p) = &psbt_out {
            v["psbt"] = p.display().to_string().into();
        }
        println!("{v}");
    } else {
        println!("{}", x.outcome);
        if let Some(k) = &key_info {
            println!("{k}");
        }
        if let Outcome::Signed { signature, tx, .. } = &x.outcome {
            println!("signature {}", hex::encode(signature));
            println!(
                "transaction {}",
                coldgate_tx::bitcoin::consensus::encode::serialize_hex(tx)
            );
        }
        if let Some(p) = &psbt_out {
            println!("signed PSBT written to {}", p.display());
        }
    }
    Ok(match x.outcome {
        Outcome::Key { .. } | Outcome::Signed { .. } | Outcome::Held { .. } => ExitCode::SUCCESS,
        Outcome::Rejected { .. } => ExitCode::from(3),
        Outcome::Dropped { .. } => ExitCode::from(4),
    })
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Client(a) => client(a).await,
        Command::Demo {
            backend,
            link,
            bin_dir,
            work_dir,
            quiet,
        } => {
            let opts = DemoOptions {
                backend,
                link,
                bin_dir,
                work_dir,
                trace: !quiet,
            };
            // A signal drops the demo's future, whose guard stops every process it started.
            tokio::select! {
                r = demo::run(opts) => r.map(|_| ExitCode::SUCCESS),
                s = stop_signal() => Err(anyhow!("{s}")).context("demo stopped"),
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("coldgate: {e:#}");
            ExitCode::from(1)
        }
    }
}
