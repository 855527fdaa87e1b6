//! Shared by converter-in's process tests: converter-in as a real process, and an appliance
//! stand-in on a real tcp link: the spec's golden lane pair (its request lane refilled from the
//! wall clock as the appliance does) in front of a wallet stand-in that answers `getpubkey`
//! and, like the wallet, refuses a counter that is not above the client's last one.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coldgate_converter_in::rpc::{post, Endpoint};
use coldgate_link::{Link, LinkEvent, LinkOptions, LinkSpec, Role};
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::config::{RATE_BURST, RATE_REFILL_HZ};
use coldgate_spec::golden::{LanePair, Verdict};
use coldgate_spec::json::to_json;
use coldgate_spec::vectors::SECRET;
use coldgate_spec::{DropReason, RejectReason};
use serde_json::{json, Value};

/// A safety net only: no test decides anything by time.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A converter-in process, killed when dropped.
pub struct ConverterIn {
    pub child: Child,
    pub endpoint: Endpoint,
    /// The metrics listener, when `--metrics` was given.
    pub metrics: Option<String>,
}

impl Drop for ConverterIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(links: &[&str], extra: &[&str]) -> ConverterIn {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldgate-converter-in"));
    cmd.args(["--listen", "127.0.0.1:0"]);
    for l in links {
        cmd.args(["--link", l]);
    }
    let mut child = cmd
        .args(["--metrics", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn converter-in");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut read = || {
        let mut line = String::new();
        out.read_line(&mut line).expect("a line");
        line.trim().rsplit(' ').next().expect("address").to_string()
    };
    let url = read();
    let metrics = read();
    ConverterIn {
        child,
        endpoint: url.parse().expect("endpoint"),
        metrics: Some(metrics),
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn request(client: u32, counter: u64) -> Value {
    to_json(&Frame::sealed(client, counter, Body::GetPubkey { key_id: 1 }, &SECRET).expect("valid"))
}

pub fn call_body(id: u64, client: u32, counter: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "getpubkey", "params": request(client, counter)})
}

/// POSTs a body on a new connection; the status and the JSON answer.
pub async fn call(c: &ConverterIn, body: &str) -> (u16, Option<Value>) {
    let (status, bytes) = post(&c.endpoint, body.as_bytes().to_vec(), PATIENCE)
        .await
        .expect("an HTTP answer");
    let v = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).expect("JSON body"));
    (status.as_u16(), v)
}

pub fn code(v: &Value) -> Option<i64> {
    v["error"]["code"].as_i64()
}

/// GETs a path of the metrics listener (`/health`, `/metrics`): status and body.
pub async fn scrape(c: &ConverterIn, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = c
        .metrics
        .as_ref()
        .expect("metrics")
        .trim_start_matches("http://")
        .to_string();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut text = String::new();
    tokio::time::timeout(PATIENCE, s.read_to_string(&mut text))
        .await
        .expect("in time")
        .expect("read");
    let status = text[9..12].parse().expect("status");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// What an appliance stand-in saw.
#[derive(Default)]
pub struct Seen {
    /// Requests the verifier passed.
    pub passed: AtomicUsize,
    /// Requests the verifier dropped as `rate_limited`.
    pub rate_limited: AtomicUsize,
    /// Requests the wallet stand-in refused as `stale_counter`.
    pub stale: AtomicUsize,
}

/// The golden lane pair and a wallet stand-in on a tcp link, until dropped.
pub struct FakeAppliance {
    pub spec: String,
    pub seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAppliance {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAppliance {
    /// `answer`: false for a wallet that never answers (the verifier still passes frames).
    pub async fn start(answer: bool) -> FakeAppliance {
        let spec: LinkSpec = "tcp:127.0.0.1:0".parse().expect("spec");
        let link = Link::open(&spec, Role::Appliance, LinkOptions::named("test-appliance"))
            .await
            .expect("listen");
        let spec = format!("tcp:{}", link.local_addr().expect("addr"));
        let seen = Arc::new(Seen::default());
        let task = tokio::spawn(serve(link, answer, Arc::clone(&seen)));
        FakeAppliance { spec, seen, task }
    }

    /// Stops it: its listener and connection close, as when the process is killed.
    pub async fn kill(mut self) {
        self.task.abort();
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

async fn serve(mut link: Link, answer: bool, seen: Arc<Seen>) {
    let writer = link.writer();
    let mut lanes = LanePair::default();
    let start = Instant::now();
    let mut ticks = 0u64;
    let mut last: HashMap<u32, u64> = HashMap::new();
    while let Some(ev) = link.recv().await {
        let LinkEvent::Data(bytes) = ev else { continue };
        // Refill ticks from the wall clock, as coldgate-appliance hands them to its backend.
        let due = (start.elapsed().as_secs_f64() * f64::from(RATE_REFILL_HZ)) as u64;
        for _ in ticks..due.min(ticks + u64::from(RATE_BURST)) {
            lanes.request.tick();
        }
        ticks = due;
        for v in lanes.request.push_all(&bytes) {
            let out = match v {
                Verdict::Drop(d) => {
                    if d.notice.reason == DropReason::RateLimited {
                        seen.rate_limited.fetch_add(1, Ordering::SeqCst);
                    }
                    d.frame
                }
                Verdict::Pass(w) => {
                    seen.passed.fetch_add(1, Ordering::SeqCst);
                    if !answer {
                        continue;
                    }
                    let f = Frame::decode(&w[..]).expect("passed frames decode");
                    let prev = last.entry(f.client_id).or_insert(0);
                    let body = if f.counter > *prev {
                        *prev = f.counter;
                        Body::Pubkey {
                            key_id: 1,
                            key: [7; 32],
                        }
                    } else {
                        seen.stale.fetch_add(1, Ordering::SeqCst);
                        Body::Reject {
                            reason: RejectReason::StaleCounter,
                        }
                    };
                    let a = Frame::sealed(f.client_id, f.counter, body, &SECRET)
                        .and_then(|a| a.to_wire())
                        .expect("answer");
                    match lanes.response.push_all(&a).pop() {
                        Some(Verdict::Pass(w)) => *w,
                        other => panic!("the response lane refused an answer: {other:?}"),
                    }
                }
            };
            let _ = writer.write_frame(&out).await;
        }
    }
}

/// Waits (safety net: [`PATIENCE`]) until `/health` lists `link` as `up`.
pub async fn wait_link(c: &ConverterIn, link: &str, up: bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, body) = scrape(c, "/health").await;
        let v: Value = serde_json::from_str(&body).expect("health JSON");
        let state = v["detail"]["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["link"] == link)
            .map(|l| l["up"] == true);
        if state == Some(up) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "link {link} never became up={up}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of one sample in a Prometheus text exposition (0 when absent).
pub fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}
