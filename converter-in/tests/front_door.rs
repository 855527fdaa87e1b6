//! Issue 13, reproduced and kept: idle connections at the connection limit made every call wait
//! for the header timeout, and slow senders starved a prober. Now the front door accepts first
//! and applies its limits after: an idle or slow peer never holds another peer's place.
//!
//! Head and idle limits are set far beyond the safety net here, so a call can only be answered
//! because the front door made room, never because a slow peer timed out.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use coldgate_converter_in::rpc;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const FOREVER: &str = "600000";

/// A connection from a chosen loopback address (another "peer").
async fn connect_from(ip: [u8; 4], to: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((ip, 0)))
        .expect("bind a loopback source address");
    socket
        .connect(to.parse().expect("address"))
        .await
        .expect("connect")
}

/// True while the server has not closed `s` (a closed socket reads EOF at once).
async fn still_open(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(1), s.read(&mut b))
        .await
        .is_err()
}

fn no_link() -> String {
    format!("tcp:127.0.0.1:{}", free_port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_at_the_limit_do_not_delay_calls() {
    let c = start(
        &[&no_link()],
        &[
            "--max-connections",
            "64",
            "--max-per-peer",
            "1000",
            "--header-timeout-ms",
            FOREVER,
            "--idle-timeout-ms",
            FOREVER,
        ],
    );
    // 64 connections that never send a byte: the whole connection limit.
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(
            TcpStream::connect(&c.endpoint.authority)
                .await
                .expect("connect"),
        );
    }
    // Each call is answered (link down: no appliance here) although 64 idle peers came first;
    // each new connection evicts the oldest idle one.
    for id in 0..20 {
        let (status, v) = call(&c, &call_body(id, 1, id + 1).to_string()).await;
        assert_eq!(status, 200);
        assert_eq!(code(&v.expect("answer")), Some(rpc::LINK_DOWN));
    }
    let mut open = 0;
    for s in &mut idle {
        open += usize::from(still_open(s).await);
    }
    assert!(
        open >= 64 - 20,
        "only the oldest idle connections were evicted ({open} open)"
    );
    let (_, metrics) = scrape(&c, "/metrics").await;
    let evicted = metric(
        &metrics,
        "coldgate_converter_in_connections_closed_total{reason=\"evicted\"}",
    );
    assert!((1.0..=20.0).contains(&evicted), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_slow_senders_from_one_peer_do_not_slow_another() {
    let c = start(
        &[&no_link()],
        &[
            "--max-per-peer",
            "16",
            "--header-timeout-ms",
            FOREVER,
            "--idle-timeout-ms",
            FOREVER,
        ],
    );
    // 100 slowloris connections from 127.0.0.2, each sending its head a byte at a time.
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut s = connect_from([127, 0, 0, 2], &c.endpoint.authority).await;
        let _ = s.write_all(b"P").await;
        slow.push(s);
    }
    let dribble = tokio::spawn(async move {
        for b in b"OST / HTTP/1.1\r\n".iter().cycle() {
            for s in &mut slow {
                let _ = s.write_all(&[*b]).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    // Meanwhile a prober from 127.0.0.1 makes 30 calls; every one is answered.
    for id in 0..30 {
        let (status, v) = call(&c, &call_body(id, 1, id + 1).to_string()).await;
        assert_eq!(status, 200);
        assert_eq!(code(&v.expect("answer")), Some(rpc::LINK_DOWN));
    }
    dribble.abort();
    // The slow peer held at most 16 places: each of its connections beyond them closed its
    // own oldest one (counted as each evicted connection ends).
    let sample = "coldgate_converter_in_connections_closed_total{reason=\"per_peer_cap\"}";
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (_, metrics) = scrape(&c, "/metrics").await;
        let closed = metric(&metrics, sample);
        if closed == 84.0 {
            break;
        }
        assert!(
            closed < 84.0 && std::time::Instant::now() < deadline,
            "{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends one request on an open connection and reads one answer (Content-Length framed).
async fn exchange(s: &mut TcpStream, body: &str, extra: &str) -> (u16, String, String) {
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(PATIENCE, s.read(&mut chunk))
            .await
            .expect("in time")
            .expect("read");
        assert!(
            n > 0,
            "closed before an answer: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().expect("length"))
                })
                .unwrap_or(0);
            if rest.len() >= len {
                let status = head[9..12].parse().expect("status");
                return (status, head.to_string(), rest[..len].to_string());
            }
        }
    }
}

#[tokio::test]
async fn keep_alive_carries_requests_up_to_its_count_then_closes() {
    let c = start(&[&no_link()], &["--keep-alive-requests", "3"]);
    let mut s = TcpStream::connect(&c.endpoint.authority)
        .await
        .expect("connect");
    for id in 1..=3u64 {
        let (status, head, body) = exchange(&mut s, &call_body(id, 1, id).to_string(), "").await;
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(v["id"], id);
        let closing = head.to_ascii_lowercase().contains("connection: close");
        assert_eq!(closing, id == 3, "{head}");
    }
    let mut rest = Vec::new();
    let n = tokio::time::timeout(PATIENCE, s.read_to_end(&mut rest))
        .await
        .expect("closed in time")
        .expect("read");
    assert_eq!(n, 0, "nothing after the last answer");
}

#[tokio::test]
async fn http_basic_authentication_keeps_strangers_out() {
    let dir = std::env::temp_dir().join(format!("coldgate-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cookie = dir.join(".cookie");
    let (line, password) = coldgate_converter_in::auth::rpcauth_line("alice").expect("line");
    let c = start(
        &[&no_link()],
        &[
            "--cookie",
            cookie.to_str().expect("utf-8"),
            "--rpcauth",
            &line,
        ],
    );
    let basic = |user: &str, pass: &str| {
        use base64::Engine as _;
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!("Authorization: Basic {b}\r\n")
    };
    let body = call_body(5, 1, 1).to_string();
    let mut s = TcpStream::connect(&c.endpoint.authority)
        .await
        .expect("connect");
    let (status, head, _) = exchange(&mut s, &body, "").await;
    assert_eq!(status, 401);
    assert!(
        head.contains("www-authenticate: Basic realm=\"jsonrpc\""),
        "{head}"
    );
    let (status, _, _) = exchange(&mut s, &body, &basic("alice", "wrong")).await;
    assert_eq!(status, 401);
    let (status, _, answer) = exchange(&mut s, &body, &basic("alice", &password)).await;
    assert_eq!(status, 200, "{answer}");
    let text = std::fs::read_to_string(&cookie).expect("cookie written");
    let (user, pass) = text.split_once(':').expect("user:password");
    let (status, _, answer) = exchange(&mut s, &body, &basic(user, pass)).await;
    assert_eq!(status, 200, "{answer}");
    let v: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(code(&v), Some(rpc::LINK_DOWN));
    let _ = std::fs::remove_dir_all(&dir);
}
