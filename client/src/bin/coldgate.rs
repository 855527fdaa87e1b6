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
    /// Print the answer frame's JSON form instead of a sentence.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    call: Call,
}

#[derive(Subcommand, Debug)]
enum Call {
    /// Ask the wallet for a new key.
    NewKey,
    /// Fetch the public key of one of this client's keys.
    Pubkey {
        #[arg(long)]
        key_id: u32,
    },
    /// Ask for a payment to be signed; the signature is verified before it is printed.
    SignPayment {
        #[arg(long)]
        key_id: u32,
        /// Txid of the output being spent, as block explorers show it (it is reversed into
        /// the frame's internal byte order).
        #[arg(long)]
        txid: String,
        #[arg(long)]
        vout: u32,
        /// Value of the output being spent, in satoshis.
        #[arg(long)]
        input_amount: u64,
        /// The destination's x-only P2TR output key, 64 hex digits.
        #[arg(long)]
        destination: String,
        /// Satoshis to pay.
        #[arg(long)]
        amount: u64,
        /// Satoshis back to the key's own address (the rest is the fee).
        #[arg(long)]
        change: u64,
    },
    /// Ask what became of a held payment.
    Status {
        #[arg(long)]
        reference: u64,
    },
}

fn hex32(what: &str, s: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| anyhow!("{what}: expected 64 hex digits"))?;
    Ok(out)
}

async fn client(a: ClientArgs) -> Result<ExitCode> {
    let secret = read_secret(&a.secret)?;
    let mut c = Client::open(ClientConfig {
        endpoint: a.url,
        client_id: a.client_id,
        secret,
        state_path: a.state,
        timeout: Duration::from_millis(a.timeout_ms),
    })?;
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
            let mut txid = hex32("--txid", &txid)?;
            txid.reverse();
            c.sign_payment(Payment {
                key_id,
                txid,
                vout,
                input_amount,
                destination: hex32("--destination", &destination)?,
                amount,
                change,
            })
            .await?
        }
        Call::Status { reference } => c.status(reference).await?,
    };
    if a.json {
        println!("{}", coldgate_spec::json::to_json(&x.answer));
    } else {
        println!("{}", x.outcome);
        if let Outcome::Signed { signature, tx, .. } = &x.outcome {
            println!("signature {}", hex::encode(signature));
            println!(
                "transaction {}",
                coldgate_tx::bitcoin::consensus::encode::serialize_hex(tx)
            );
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
