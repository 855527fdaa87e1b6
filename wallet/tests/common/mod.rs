//! Shared test fixtures: scratch directories, configs, clients that seal frames, a raw HTTP
//! client, and the `coldgate-wallet` process.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bitcoin::key::{Keypair, XOnlyPublicKey};
use bitcoin::secp256k1::SecretKey;
use coldgate_spec::json::{from_json, to_json};
use coldgate_spec::{Body, Frame, Payment};
use coldgate_wallet::{KdfParams, Operator, Policy, Store, Wallet};
use serde_json::{json, Value};

pub const PASSPHRASE: &str = "correct horse battery staple";
/// Fast argon2 for tests (the default is 64 MiB, 3 passes).
pub const FAST_KDF: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};
pub const T0: i64 = 1_700_000_000;

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "coldgate-wallet-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The policy most tests use (amounts in sat).
pub fn policy() -> Policy {
    let mut p = Policy::new(
        1_000_000, // max_payment
        500_000,   // hold_above
        10_000,    // max_fee
        3_000_000, // client_daily_amount
        5,         // client_daily_count
        5_000_000, // service_daily_amount
        8,         // service_daily_count
        3,         // max_keys_per_client
    );
    p.validate().unwrap();
    p
}

/// A config file for the binary, with `policy` as TOML lines.
pub fn config_text(store: &str, policy: &str) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\nstore = \"{store}\"\nmax_body_bytes = 16384\nmax_connections = 32\n\
         [kdf]\nmemory_kib = {}\niterations = {}\nparallelism = {}\n[policy]\n{policy}\n",
        FAST_KDF.memory_kib, FAST_KDF.iterations, FAST_KDF.parallelism
    )
}

pub const POLICY_TOML: &str = "max_payment = 1000000\nhold_above = 500000\nmax_fee = 10000\n\
client_daily_amount = 3000000\nclient_daily_count = 5\nservice_daily_amount = 5000000\n\
service_daily_count = 8\nmax_keys_per_client = 3";

/// A client: id, secret, and the next counter.
#[derive(Clone)]
pub struct Client {
    pub id: u32,
    pub secret: [u8; 32],
    pub counter: u64,
}

impl Client {
    pub fn new(id: u32, secret: [u8; 32]) -> Client {
        Client {
            id,
            secret,
            counter: 0,
        }
    }
    /// The next request frame, sealed with this client's secret.
    pub fn frame(&mut self, body: Body) -> Frame {
        self.counter += 1;
        Frame::sealed(self.id, self.counter, body, &self.secret).unwrap()
    }
    /// Checks a response is this client's: tagged with its secret, echoing id and counter.
    pub fn check(&self, request: &Frame, response: &Frame) -> Body {
        assert_eq!(response.client_id, request.client_id);
        assert_eq!(response.counter, request.counter);
        assert!(response.verify(&self.secret), "response tag: {response:?}");
        response.body
    }
}

/// A wallet in this process over a real store file, with the time given per request.
pub struct Local {
    pub scratch: Scratch,
    pub wallet: Wallet,
}

impl Local {
    pub fn new(name: &str, policy: Policy) -> Local {
        let scratch = Scratch::new(name);
        let store =
            Store::init(&scratch.path("w.db"), PASSPHRASE.as_bytes(), &FAST_KDF, T0).unwrap();
        Local {
            scratch,
            wallet: Wallet::new(store, policy),
        }
    }
    pub fn add_client(&mut self, id: u32) -> Client {
        let secret: [u8; 32] = std::array::from_fn(|i| (i as u8) ^ (id as u8).wrapping_mul(37));
        let t = self.wallet.store_mut().begin().unwrap();
        t.add_client(id, &secret, T0).unwrap();
        t.commit().unwrap();
        Client::new(id, secret)
    }
    /// Sends `body` as `client`'s next request at `now`; checks the response's seal.
    pub fn call(&mut self, client: &mut Client, body: Body, now: i64) -> Body {
        let f = client.frame(body);
        let r = self.wallet.handle(&f, now);
        client.check(&f, &r)
    }
    /// Registers an operator; returns its credential.
    pub fn add_operator(&mut self, name: &str) -> [u8; 32] {
        let credential: [u8; 32] = std::array::from_fn(|i| (i as u8) ^ name.len() as u8 ^ 0x5c);
        let t = self.wallet.store_mut().begin().unwrap();
        t.add_operator(name, &credential, T0).unwrap();
        t.commit().unwrap();
        credential
    }
    /// Approves as `name` (registered with [`Local::add_operator`]).
    pub fn approve(
        &mut self,
        name: &str,
        client_id: u32,
        reference: u64,
        now: i64,
    ) -> Result<coldgate_wallet::Decided, coldgate_wallet::StoreError> {
        let credential: [u8; 32] = std::array::from_fn(|i| (i as u8) ^ name.len() as u8 ^ 0x5c);
        let op = Operator {
            name,
            credential: &credential,
        };
        self.wallet.approve(&op, client_id, reference, now)
    }
    /// Denies as `name`.
    pub fn deny(
        &mut self,
        name: &str,
        client_id: u32,
        reference: u64,
        now: i64,
    ) -> Result<coldgate_wallet::Decided, coldgate_wallet::StoreError> {
        let credential: [u8; 32] = std::array::from_fn(|i| (i as u8) ^ name.len() as u8 ^ 0x5c);
        let op = Operator {
            name,
            credential: &credential,
        };
        self.wallet.deny(&op, client_id, reference, now)
    }
    pub fn new_key(&mut self, client: &mut Client) -> (u32, XOnlyPublicKey) {
        match self.call(client, Body::NewKey, T0) {
            Body::Pubkey { key_id, key } => (key_id, XOnlyPublicKey::from_slice(&key).unwrap()),
            other => panic!("new key: {other:?}"),
        }
    }
}

pub fn keypair(seed: u8) -> Keypair {
    let mut b = [seed; 32];
    b[0] = 0x11;
    Keypair::from_secret_key(coldgate_tx::secp(), &SecretKey::from_slice(&b).unwrap())
}

/// A valid destination (an x-only point).
pub fn destination(seed: u8) -> [u8; 32] {
    keypair(seed).x_only_public_key().0.serialize()
}

/// A payment of `amount` with 1 000 sat fee and `change` back, spending an outpoint no
/// earlier call used (the same payment twice is one payment to the wallet: see `recall`).
pub fn payment(key_id: u32, amount: u64, change: u64) -> Payment {
    static VOUT: AtomicU32 = AtomicU32::new(1);
    Payment {
        key_id,
        txid: [0xab; 32],
        vout: VOUT.fetch_add(1, Ordering::SeqCst) % coldgate_tx::VOUT_LIMIT,
        input_amount: amount + change + 1_000,
        destination: destination(0x42),
        amount,
        change,
    }
}

/// One HTTP/1.1 POST (or any method) with `Connection: close`; returns status and body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: wallet\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let status_line = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    Ok((status, raw[split + 4..].to_vec()))
}

/// POSTs a JSON value; returns the parsed JSON answer (or Null for an empty body).
pub fn post(addr: SocketAddr, v: &Value) -> std::io::Result<(u16, Value)> {
    let (status, body) = http(addr, "POST", "/", v.to_string().as_bytes())?;
    let v = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(std::io::Error::other)?
    };
    Ok((status, v))
}

/// The JSON-RPC request carrying `frame`.
pub fn rpc_request(frame: &Frame, id: u64) -> Value {
    let method = coldgate_wallet::rpc::type_method(frame.body.msg_type()).unwrap();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": to_json(frame)})
}

/// Sends `frame` over JSON-RPC; returns the response frame.
pub fn rpc(addr: SocketAddr, frame: &Frame) -> std::io::Result<Frame> {
    let (status, v) = post(addr, &rpc_request(frame, frame.counter))?;
    if status != 200 {
        return Err(std::io::Error::other(format!("HTTP {status}: {v}")));
    }
    let result = v
        .get("result")
        .ok_or_else(|| std::io::Error::other(format!("no result: {v}")))?;
    from_json(result).map_err(std::io::Error::other)
}

/// Calls over JSON-RPC as `client` and checks the response's seal.
pub fn call(addr: SocketAddr, client: &mut Client, body: Body) -> Body {
    let f = client.frame(body);
    let r = rpc(addr, &f).unwrap();
    client.check(&f, &r)
}

/// The wallet binary's files in a scratch directory.
pub struct Site {
    pub scratch: Scratch,
    pub config: PathBuf,
}

impl Site {
    /// Writes a config and runs `init`.
    pub fn new(name: &str, policy_toml: &str) -> Site {
        let scratch = Scratch::new(name);
        let config = scratch.path("wallet.toml");
        std::fs::write(&config, config_text("wallet.db", policy_toml)).unwrap();
        let site = Site { scratch, config };
        site.ok(&["init"]);
        site
    }
    pub fn store(&self) -> PathBuf {
        self.scratch.path("wallet.db")
    }
    /// Runs `coldgate-wallet --config <config> ARGS` with the passphrase in the environment.
    pub fn cli(&self, args: &[&str]) -> Output {
        cli_with(&self.config, args)
    }
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
    /// `client add`: returns the client with the secret the wallet wrote.
    pub fn add_client(&self, id: u32) -> Client {
        let file = self.scratch.path(&format!("client{id}.secret"));
        self.ok(&[
            "client",
            "add",
            "--id",
            &id.to_string(),
            "--secret-out",
            file.to_str().unwrap(),
        ]);
        let hex = std::fs::read_to_string(&file).unwrap();
        Client::new(id, hex::decode(hex.trim()).unwrap().try_into().unwrap())
    }
    /// `operator add`: returns the credential file.
    pub fn add_operator(&self, name: &str) -> PathBuf {
        let file = self.scratch.path(&format!("{name}.credential"));
        self.ok(&[
            "operator",
            "add",
            "--name",
            name,
            "--credential-out",
            file.to_str().unwrap(),
        ]);
        file
    }
    pub fn serve(&self) -> Server {
        Server::start(&self.config)
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_coldgate-wallet")
}

pub fn cli_with(config: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .env(coldgate_wallet::PASSPHRASE_ENV, PASSPHRASE)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// A running `coldgate-wallet serve`; killed (SIGKILL) on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub fn start(config: &Path) -> Server {
        let mut child = Command::new(bin())
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env(coldgate_wallet::PASSPHRASE_ENV, PASSPHRASE)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix(coldgate_wallet::LISTENING)
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Server { child, addr }
    }
    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}
