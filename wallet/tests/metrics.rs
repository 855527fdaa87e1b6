//! The wallet's health and metrics listener, on the real binary: requests are counted by type
//! and outcome (a REJECT by its reason), and `/health` reports the store.

mod common;

use std::net::{SocketAddr, TcpListener};

use coldgate_spec::Body;
use common::*;

/// A loopback port that was free a moment ago.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// GET on the metrics listener, which starts just after the wallet prints its address.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    for _ in 0..200 {
        if let Ok((status, body)) = http(addr, "GET", path, b"") {
            return (status, String::from_utf8(body).unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("metrics listener {addr} never answered");
}

#[test]
fn requests_are_counted_by_type_and_outcome() {
    let site = Site::new("metrics", POLICY_TOML);
    let metrics = free_port();
    let text = std::fs::read_to_string(&site.config).unwrap().replacen(
        "listen = \"127.0.0.1:0\"\n",
        &format!("listen = \"127.0.0.1:0\"\nmetrics = \"{metrics}\"\n"),
        1,
    );
    std::fs::write(&site.config, text).unwrap();
    let mut client = site.add_client(7);
    let server = site.serve();

    assert!(matches!(
        call(server.addr, &mut client, Body::NewKey),
        Body::Pubkey { .. }
    ));
    // A key that does not exist: refused, and counted under its reason.
    assert!(matches!(
        call(server.addr, &mut client, Body::GetPubkey { key_id: 9 }),
        Body::Reject { .. }
    ));

    let (status, text) = get(metrics, "/metrics");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains(r#"coldgate_wallet_requests_total{method="new_key",outcome="pubkey"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"coldgate_wallet_requests_total{method="get_pubkey",outcome="reject:unknown_key"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"coldgate_wallet_decision_seconds_count{method="new_key"} 1"#),
        "{text}"
    );
    assert!(text.contains("coldgate_wallet_store_writable 1"), "{text}");

    let (status, text) = get(metrics, "/health");
    assert_eq!(status, 200, "{text}");
    let health: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(health["ok"], true);
    assert_eq!(health["detail"]["store_writable"], true);
}
