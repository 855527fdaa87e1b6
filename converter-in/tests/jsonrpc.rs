//! converter-in as a real process on loopback: JSON-RPC errors, limits, link failures and the
//! verifier's NOTICE path (the appliance side here runs the spec's golden lane model).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use coldgate_converter_in::rpc::{self, post, Endpoint};
use coldgate_link::{Link, LinkEvent, LinkOptions, LinkSpec, Role};
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::golden::{LanePair, Verdict};
use coldgate_spec::json::to_json;
use coldgate_spec::vectors::{sample_payment, SECRET};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATIENCE: Duration = Duration::from_secs(20);

/// A converter-in process, killed when dropped.
struct ConverterIn {
    child: Child,
    endpoint: Endpoint,
}

impl Drop for ConverterIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(link: &str, extra: &[&str]) -> ConverterIn {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldgate-converter-in"))
        .args(["--listen", "127.0.0.1:0", "--link", link])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn converter-in");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("address at the end of the line");
    ConverterIn {
        child,
        endpoint: url.parse().expect("endpoint"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

async fn raw_call(c: &ConverterIn, body: &str) -> (u16, Option<Value>) {
    let (status, bytes) = post(&c.endpoint, body.as_bytes().to_vec(), PATIENCE)
        .await
        .expect("http answer");
    let v = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).expect("JSON body"));
    (status.as_u16(), v)
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {v}"))
}

fn request(counter: u64, body: Body) -> Value {
    to_json(&Frame::sealed(9, counter, body, &SECRET).expect("valid request"))
}

fn call_body(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// A well-formed call must still get a JSON-RPC answer (here: the link is down).
async fn still_serving(c: &ConverterIn) {
    let (status, v) = raw_call(c, &call_body(77, "getnewkey", request(1, Body::NewKey))).await;
    assert_eq!(status, 200);
    let v = v.expect("answer");
    assert_eq!(v["id"], 77);
    assert_eq!(error_code(&v), rpc::LINK_DOWN);
}

#[tokio::test]
async fn protocol_errors_get_the_standard_codes_and_the_server_keeps_serving() {
    let c = start(
        &format!("tcp:127.0.0.1:{}", free_port()),
        &["--max-body", "4096"],
    );

    let cases: Vec<(&str, String, i64)> = vec![
        (
            "malformed JSON",
            "{\"jsonrpc\": \"2.0\", \"id\": 1,".into(),
            rpc::PARSE_ERROR,
        ),
        ("not an object", "42".into(), rpc::INVALID_REQUEST),
        ("empty batch", "[]".into(), rpc::INVALID_REQUEST),
        (
            "wrong version",
            json!({"jsonrpc": "1.0", "id": 1, "method": "getnewkey", "params": {}}).to_string(),
            rpc::INVALID_REQUEST,
        ),
        (
            "method is a number",
            json!({"jsonrpc": "2.0", "id": 1, "method": 5}).to_string(),
            rpc::INVALID_REQUEST,
        ),
        (
            "id is an object",
            json!({"jsonrpc": "2.0", "id": {"a": 1}, "method": "getnewkey"}).to_string(),
            rpc::INVALID_REQUEST,
        ),
        (
            "unknown method",
            call_body(1, "dumpprivkey", json!({})),
            rpc::METHOD_NOT_FOUND,
        ),
        (
            "params is an array",
            call_body(1, "getnewkey", json!([request(1, Body::NewKey)])),
            rpc::INVALID_PARAMS,
        ),
        (
            "amount is a string",
            {
                let mut p = request(2, Body::SignPayment(sample_payment()));
                p["amount"] = json!("30000");
                call_body(1, "signpayment", p)
            },
            rpc::INVALID_PARAMS,
        ),
        (
            "amount above the hardware ceiling",
            {
                let mut p = request(2, Body::SignPayment(sample_payment()));
                p["amount"] = json!(coldgate_spec::config::SIGN_AMOUNT_CEILING + 1);
                call_body(1, "signpayment", p)
            },
            rpc::INVALID_PARAMS,
        ),
        (
            "unknown member",
            {
                let mut p = request(3, Body::NewKey);
                p["note"] = json!("x");
                call_body(1, "getnewkey", p)
            },
            rpc::INVALID_PARAMS,
        ),
        (
            "method and frame type disagree",
            call_body(1, "signpayment", request(4, Body::NewKey)),
            rpc::INVALID_PARAMS,
        ),
        (
            "answer type as a request",
            call_body(
                1,
                "getpubkey",
                request(
                    5,
                    Body::Pubkey {
                        key_id: 1,
                        key: [3; 32],
                    },
                ),
            ),
            rpc::INVALID_PARAMS,
        ),
    ];
    for (name, body, code) in cases {
        let (status, v) = raw_call(&c, &body).await;
        assert_eq!(status, 200, "{name}");
        let v = v.unwrap_or_else(|| panic!("{name}: no body"));
        assert_eq!(error_code(&v), code, "{name}: {v}");
        assert_eq!(v["jsonrpc"], "2.0", "{name}");
        still_serving(&c).await;
    }

    // A body over the limit is refused before it is parsed.
    let huge = format!("[{}]", vec!["1"; 10_000].join(","));
    let (status, v) = raw_call(&c, &huge).await;
    assert_eq!(status, 413);
    assert_eq!(error_code(&v.expect("error body")), rpc::INVALID_REQUEST);
    still_serving(&c).await;

    // Same without a Content-Length: a chunked body is cut off at the limit.
    let mut s = tokio::net::TcpStream::connect(&c.endpoint.authority)
        .await
        .expect("connect");
    let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    s.write_all(head.as_bytes()).await.expect("head");
    let chunk = format!("1000\r\n{}\r\n", "[".repeat(0x1000));
    for _ in 0..4 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(PATIENCE, s.read(&mut answer))
        .await
        .expect("answer in time")
        .expect("read");
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    still_serving(&c).await;

    // Not POST.
    let mut s = tokio::net::TcpStream::connect(&c.endpoint.authority)
        .await
        .expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut answer))
        .await
        .expect("in time")
        .expect("read");
    assert!(answer.starts_with(b"HTTP/1.1 405"));
    still_serving(&c).await;
}

#[tokio::test]
async fn batches_answer_each_call_in_order_and_skip_notifications() {
    let c = start(
        &format!("tcp:127.0.0.1:{}", free_port()),
        &["--max-batch", "3"],
    );
    let batch = json!([
        {"jsonrpc": "2.0", "id": "a", "method": "nosuch"},
        {"jsonrpc": "2.0", "method": "getnewkey", "params": request(1, Body::NewKey)},
        {"jsonrpc": "2.0", "id": 2, "method": "getnewkey", "params": request(2, Body::NewKey)},
    ]);
    let (status, v) = raw_call(&c, &batch.to_string()).await;
    assert_eq!(status, 200);
    let v = v.expect("answers");
    let answers = v.as_array().expect("array");
    assert_eq!(answers.len(), 2, "{v}");
    assert_eq!(answers[0]["id"], "a");
    assert_eq!(error_code(&answers[0]), rpc::METHOD_NOT_FOUND);
    assert_eq!(answers[1]["id"], 2);
    assert_eq!(error_code(&answers[1]), rpc::LINK_DOWN);

    let only_notifications = json!([
        {"jsonrpc": "2.0", "method": "getnewkey", "params": request(3, Body::NewKey)},
    ]);
    let (status, v) = raw_call(&c, &only_notifications.to_string()).await;
    assert_eq!((status, v), (204, None));

    let too_many = json!([1, 2, 3, 4]);
    let (_, v) = raw_call(&c, &too_many.to_string()).await;
    assert_eq!(error_code(&v.expect("error")), rpc::INVALID_REQUEST);
    still_serving(&c).await;
}

/// The appliance side of a test: the golden lane pair on a real tcp link. Request frames that
/// pass go nowhere (no wallet here); NOTICEs go back to converter-in.
async fn golden_appliance(link: &mut Link, passed: tokio::sync::mpsc::Sender<Frame>) {
    let mut lanes = LanePair::default();
    let writer = link.writer();
    while let Some(ev) = link.recv().await {
        if let LinkEvent::Data(bytes) = ev {
            for v in lanes.request.push_all(&bytes) {
                match v {
                    Verdict::Pass(w) => {
                        let f = Frame::decode(&w[..]).expect("passed frames decode");
                        let _ = passed.send(f).await;
                    }
                    Verdict::Drop(d) => {
                        let _ = writer.write_frame(&d.frame).await;
                    }
                }
            }
        }
    }
}

async fn appliance_link() -> (Link, String) {
    let spec: LinkSpec = "tcp:127.0.0.1:0".parse().expect("spec");
    let link = Link::open(&spec, Role::Appliance, LinkOptions::named("test-appliance"))
        .await
        .expect("listen");
    let addr = link.local_addr().expect("addr");
    (link, format!("tcp:{addr}"))
}

/// Calls until the converter has connected to the appliance (link-down answers before that).
async fn call_when_linked(c: &ConverterIn, body: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (_, v) = raw_call(c, body).await;
        let v = v.expect("answer");
        if v["error"]["code"] != json!(rpc::LINK_DOWN) || tokio::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn unanswered_calls_time_out_and_duplicates_are_refused() {
    let (mut link, spec) = appliance_link().await;
    let (tx, mut passed) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move { golden_appliance(&mut link, tx).await });
    let c = start(&spec, &["--call-timeout-ms", "300"]);

    let v = call_when_linked(&c, &call_body(1, "getnewkey", request(1, Body::NewKey))).await;
    assert_eq!(error_code(&v), rpc::TIMEOUT, "{v}");
    let f = tokio::time::timeout(PATIENCE, passed.recv())
        .await
        .expect("in time")
        .expect("frame");
    assert_eq!((f.client_id, f.counter, f.body), (9, 1, Body::NewKey));
    assert!(
        f.verify(&SECRET),
        "an honest converter forwards the frame unchanged"
    );

    // Two calls with one counter at once: the second is refused while the first waits.
    let body = call_body(2, "getnewkey", request(2, Body::NewKey));
    let (a, b) = tokio::join!(raw_call(&c, &body), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        raw_call(&c, &body).await
    });
    let codes = [error_code(&a.1.expect("a")), error_code(&b.1.expect("b"))];
    assert!(codes.contains(&rpc::IN_FLIGHT), "{codes:?}");
    assert!(codes.contains(&rpc::TIMEOUT), "{codes:?}");
}

#[tokio::test]
async fn hostile_injection_is_dropped_by_the_verifier_with_a_notice() {
    let (mut link, spec) = appliance_link().await;
    let (tx, mut passed) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move { golden_appliance(&mut link, tx).await });
    let c = start(&spec, &["--hostile", "inject"]);

    let payment = request(5, Body::SignPayment(sample_payment()));
    let v = call_when_linked(&c, &call_body(1, "signpayment", payment)).await;
    assert_eq!(error_code(&v), rpc::DROPPED, "{v}");
    let notice = &v["error"]["data"];
    assert_eq!(notice["type"], "notice");
    assert_eq!(notice["reason"], "bad_crc");
    assert_eq!(notice["lane"], "request");
    assert_eq!(
        (notice["client_id"].clone(), notice["counter"].clone()),
        (json!(9), json!(5))
    );
    assert!(v["error"]["message"]
        .as_str()
        .expect("message")
        .contains("field crc"));
    assert!(passed.try_recv().is_err(), "nothing passed the verifier");
}

#[tokio::test]
async fn hostile_mutation_passes_the_verifier_but_breaks_the_tag() {
    let (mut link, spec) = appliance_link().await;
    let (tx, mut passed) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move { golden_appliance(&mut link, tx).await });
    let c = start(&spec, &["--hostile", "mutate", "--call-timeout-ms", "300"]);

    let v = call_when_linked(
        &c,
        &call_body(
            1,
            "signpayment",
            request(6, Body::SignPayment(sample_payment())),
        ),
    )
    .await;
    assert_eq!(error_code(&v), rpc::TIMEOUT, "{v}");
    let f = tokio::time::timeout(PATIENCE, passed.recv())
        .await
        .expect("in time")
        .expect("frame");
    match f.body {
        Body::SignPayment(p) => {
            assert_eq!(
                p.destination,
                coldgate_converter_in::hostile::ATTACKER_DESTINATION
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(!f.verify(&SECRET), "the wallet's tag check will refuse it");
}

#[tokio::test]
async fn an_idle_connection_cannot_hold_the_only_slot() {
    let c = start(
        &format!("tcp:127.0.0.1:{}", free_port()),
        &["--max-connections", "1", "--read-timeout-ms", "300"],
    );
    // A client that connects and never sends a request (slowloris) takes the only slot...
    let mut idle = tokio::net::TcpStream::connect(&c.endpoint.authority)
        .await
        .expect("connect");
    idle.write_all(b"POST / HTTP/1.1\r\n")
        .await
        .expect("partial head");
    // ...until its read time runs out; then the next call is served.
    still_serving(&c).await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, idle.read_to_end(&mut rest)).await;
}

#[tokio::test]
async fn converter_in_reconnects_after_the_appliance_restarts() {
    let port = free_port();
    let spec: LinkSpec = format!("tcp:127.0.0.1:{port}").parse().expect("spec");
    let c = start(&spec.to_string(), &["--call-timeout-ms", "300"]);
    for counter in [1u64, 2] {
        let mut tries = 0;
        let mut link = loop {
            match Link::open(&spec, Role::Appliance, LinkOptions::named("test-appliance")).await {
                Ok(l) => break l,
                // The previous listener closes asynchronously.
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("listen: {e}"),
            }
        };
        let (tx, mut passed) = tokio::sync::mpsc::channel(4);
        let lanes = tokio::spawn(async move { golden_appliance(&mut link, tx).await });
        let v = call_when_linked(
            &c,
            &call_body(counter, "getnewkey", request(counter, Body::NewKey)),
        )
        .await;
        assert_eq!(error_code(&v), rpc::TIMEOUT, "{v}");
        let f = tokio::time::timeout(PATIENCE, passed.recv())
            .await
            .expect("in time")
            .expect("frame");
        assert_eq!(f.counter, counter);
        lanes.abort();
        let _ = lanes.await;
    }
}
