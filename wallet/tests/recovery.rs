//! A lost answer recovered without a second signature, M-of-N approvals by named operators,
//! and a restored backup that refuses a captured frame.

mod common;

use coldgate_spec::{Body, Frame, RejectReason};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use coldgate_spec::json::to_json;
use coldgate_wallet::{Decided, Operator, Policy, StoreError};
use common::*;

fn tight() -> Policy {
    // Two payments a day per client, two approvals for held payments.
    let mut p = Policy::new(1_000_000, 500_000, 10_000, 3_000_000, 2, 5_000_000, 8, 3)
        .with_min_approvers(2);
    p.validate().unwrap();
    p
}

fn ledger_rows(local: &Local) -> i64 {
    let conn = rusqlite::Connection::open(local.scratch.path("w.db")).unwrap();
    conn.query_row("SELECT COUNT(*) FROM payments", [], |r| r.get(0))
        .unwrap()
}

fn audit_events(local: &Local, event: &str) -> Vec<serde_json::Value> {
    let conn = rusqlite::Connection::open(local.scratch.path("w.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT event FROM audit ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.unwrap()).unwrap())
        .filter(|v| v["event"] == event)
        .collect();
    rows
}

#[test]
fn a_resent_payment_gets_its_recorded_outcome_without_a_second_signature() {
    let mut local = Local::new("recall", tight());
    let mut a = local.add_client(1);
    let mut b = local.add_client(2);
    let (k, pk) = local.new_key(&mut a);
    let p = payment(k, 20_000, 0);
    // The first answer is "lost": the client only knows it sent counter `first`.
    let Body::Signature {
        signature,
        reference,
        ..
    } = local.call(&mut a, Body::SignPayment(p), T0)
    else {
        panic!("not signed")
    };
    let first = a.counter;
    assert_eq!(reference, first);
    // Re-sent with a new counter: the same signature and reference, nothing new recorded.
    for i in 1..=3 {
        assert_eq!(
            local.call(&mut a, Body::SignPayment(p), T0 + i),
            Body::Signature {
                key_id: k,
                signature,
                reference: first
            }
        );
    }
    coldgate_tx::verify(&pk, &p, &signature).unwrap();
    assert_eq!(ledger_rows(&local), 1);
    assert_eq!(audit_events(&local, "payment").len(), 4);
    // Counted once: the client's second payment of the day still fits (limit 2)...
    assert!(matches!(
        local.call(&mut a, Body::SignPayment(payment(k, 20_000, 0)), T0 + 5),
        Body::Signature { .. }
    ));
    // ...and its third does not.
    assert_eq!(
        local.call(&mut a, Body::SignPayment(payment(k, 20_000, 0)), T0 + 6),
        Body::Reject {
            reason: RejectReason::ClientDailyCount
        }
    );
    // PAYMENT_STATUS by reference works for a signed payment too.
    assert_eq!(
        local.call(&mut a, Body::PaymentStatus { reference: first }, T0 + 7),
        Body::Signature {
            key_id: k,
            signature,
            reference: first
        }
    );
    // Another client sending the same payment fields gets nothing of a's: the key is a's.
    assert_eq!(
        local.call(&mut b, Body::SignPayment(p), T0 + 8),
        Body::Reject {
            reason: RejectReason::ForeignKey
        }
    );
    // A payment differing in one field (the change) is another payment.
    let mut q = p;
    q.change = 5_000;
    q.input_amount += 5_000;
    assert_eq!(
        local.call(&mut a, Body::SignPayment(q), T0 + 9),
        Body::Reject {
            reason: RejectReason::ClientDailyCount
        }
    );
}

#[test]
fn held_and_denied_payments_are_recalled_too() {
    let mut local = Local::new("recall-held", tight());
    let mut a = local.add_client(1);
    let (k, _) = local.new_key(&mut a);
    local.add_operator("alice");
    let big = payment(k, 600_000, 0);
    let Body::Held { reference } = local.call(&mut a, Body::SignPayment(big), T0) else {
        panic!("not held")
    };
    assert_eq!(
        local.call(&mut a, Body::SignPayment(big), T0 + 1),
        Body::Held { reference }
    );
    local.deny("alice", 1, reference, T0 + 2).unwrap();
    assert_eq!(
        local.call(&mut a, Body::SignPayment(big), T0 + 3),
        Body::Reject {
            reason: RejectReason::Denied
        }
    );
    assert_eq!(ledger_rows(&local), 1);
}

#[test]
fn m_of_n_operators_sign_a_held_payment_and_one_deny_ends_it() {
    let mut local = Local::new("approvals", tight());
    let mut a = local.add_client(1);
    let (k, pk) = local.new_key(&mut a);
    for name in ["alice", "bob", "carol"] {
        local.add_operator(name);
    }
    let big = payment(k, 600_000, 0);
    let Body::Held { reference } = local.call(&mut a, Body::SignPayment(big), T0) else {
        panic!("not held")
    };
    // A wrong credential, or a name nobody registered, changes nothing.
    let wrong = Operator {
        name: "alice",
        credential: &[0; 32],
    };
    assert!(matches!(
        local.wallet.approve(&wrong, 1, reference, T0),
        Err(StoreError::BadOperator(_))
    ));
    assert!(matches!(
        local.approve("mallory", 1, reference, T0),
        Err(StoreError::BadOperator(_))
    ));
    assert_eq!(
        local.approve("alice", 1, reference, T0 + 1).unwrap(),
        Decided::Approved {
            approvals: 1,
            needed: 2
        }
    );
    // The same operator twice is still one approval.
    assert!(matches!(
        local.approve("alice", 1, reference, T0 + 2),
        Err(StoreError::AlreadyDecided { .. })
    ));
    assert_eq!(
        local.call(&mut a, Body::PaymentStatus { reference }, T0 + 3),
        Body::Held { reference }
    );
    let Decided::Signed(signature) = local.approve("bob", 1, reference, T0 + 4).unwrap() else {
        panic!("second approval did not sign")
    };
    coldgate_tx::verify(&pk, &big, &signature).unwrap();
    assert_eq!(
        local.call(&mut a, Body::PaymentStatus { reference }, T0 + 5),
        Body::Signature {
            key_id: k,
            signature,
            reference
        }
    );
    // One approval, then a deny: denied, whatever the approvals so far.
    let other = payment(k, 700_000, 0);
    let Body::Held { reference: r2 } = local.call(&mut a, Body::SignPayment(other), T0) else {
        panic!("not held")
    };
    local.approve("carol", 1, r2, T0 + 6).unwrap();
    assert_eq!(local.deny("bob", 1, r2, T0 + 7).unwrap(), Decided::Denied);
    assert!(matches!(
        local.approve("alice", 1, r2, T0 + 8),
        Err(StoreError::NotHeld { .. })
    ));
    assert_eq!(
        local.call(&mut a, Body::PaymentStatus { reference: r2 }, T0 + 9),
        Body::Reject {
            reason: RejectReason::Denied
        }
    );
    // Every decision is in the audit log, by name.
    let approvals: Vec<String> = audit_events(&local, "approval")
        .iter()
        .map(|e| format!("{}:{}", e["operator"], e["reference"]))
        .collect();
    assert_eq!(
        approvals,
        [
            format!("\"alice\":{reference}"),
            format!("\"bob\":{reference}"),
            format!("\"carol\":{r2}")
        ]
    );
    assert_eq!(audit_events(&local, "approved").len(), 1);
    let denied = audit_events(&local, "denied");
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["operator"], "bob");
    assert!(local.wallet.store().verify_audit().unwrap().is_ok());
}

#[test]
fn a_restored_backup_refuses_a_frame_captured_after_the_backup() {
    let site = Site::new("restore", POLICY_TOML);
    let mut a = site.add_client(1);
    // Counters as coldgate clients make them: the clock in microseconds.
    a.counter = 1_700_000_000_000_000;
    let server = site.serve();
    let (k, _) = {
        let f = a.frame(Body::NewKey);
        match a.check(&f, &rpc(server.addr, &f).unwrap()) {
            Body::Pubkey { key_id, key } => (key_id, key),
            other => panic!("{other:?}"),
        }
    };
    let copy = site.scratch.path("copy.db");
    site.ok(&["backup", "--out", copy.to_str().unwrap()]);
    // After the backup: a payment, whose frame an attacker captured.
    let captured: Frame = a.frame(Body::SignPayment(payment(k, 30_000, 0)));
    assert!(matches!(
        a.check(&captured, &rpc(server.addr, &captured).unwrap()),
        Body::Signature { .. }
    ));
    drop(server);

    // Without a floor (the old advice: point the config at the copy), the capture replays.
    let naive = site.scratch.path("naive.toml");
    std::fs::write(&naive, config_text("naive.db", POLICY_TOML)).unwrap();
    std::fs::copy(&copy, site.scratch.path("naive.db")).unwrap();
    {
        let s = Server::start(&naive);
        assert!(matches!(
            a.check(&captured, &rpc(s.addr, &captured).unwrap()),
            Body::Signature { .. }
        ));
    }

    // `restore` records a floor (here: the clock after the capture) that every counter must
    // exceed.
    let restored = site.scratch.path("restored.toml");
    std::fs::write(&restored, config_text("restored.db", POLICY_TOML)).unwrap();
    let floor = a.counter + 1_000;
    let out = cli_with(
        &restored,
        &[
            "restore",
            "--from",
            copy.to_str().unwrap(),
            "--counter-floor",
            &floor.to_string(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("at or below {floor}")));
    let s = Server::start(&restored);
    assert_eq!(
        a.check(&captured, &rpc(s.addr, &captured).unwrap()),
        Body::Reject {
            reason: RejectReason::StaleCounter
        }
    );
    // The client's next counter (its clock moved on) is accepted, and signs.
    a.counter = floor;
    assert!(matches!(
        call(s.addr, &mut a, Body::SignPayment(payment(k, 31_000, 0))),
        Body::Signature { .. }
    ));
    drop(s);
    // The restore is in the audit log, and the chain holds.
    let verify = cli_with(&restored, &["audit", "verify"]);
    assert!(String::from_utf8_lossy(&verify.stdout).starts_with("audit chain ok"));
    // Restoring over an existing store is refused.
    assert!(
        !cli_with(&restored, &["restore", "--from", copy.to_str().unwrap()])
            .status
            .success()
    );
}

/// Reads one HTTP/1.1 response with a Content-Length body: status line, headers, body.
fn read_response(r: &mut BufReader<TcpStream>) -> (String, Vec<String>, String) {
    let mut status = String::new();
    r.read_line(&mut status).unwrap();
    let mut headers = Vec::new();
    let mut len = 0;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
        headers.push(line);
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (
        status.trim_end().to_string(),
        headers,
        String::from_utf8(body).unwrap(),
    )
}

#[test]
fn http_front_echoes_ids_byte_for_byte_keeps_alive_and_names_its_method() {
    let site = Site::new("http", POLICY_TOML);
    let mut a = site.add_client(1);
    let server = site.serve();
    let stream = TcpStream::connect(server.addr).unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let post = |w: &mut TcpStream, body: &str| {
        write!(
            w,
            "POST / HTTP/1.1\r\nHost: wallet\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    };
    // Three requests on one connection (keep-alive): ids beyond u64, with a fraction and an
    // exponent, and a string, each come back exactly as written.
    for id in ["18446744073709551617", "1.50", "-0.0e-7", "\"x\\u00e9\""] {
        let f = a.frame(Body::NewKey);
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"getnewkey","params":{}}}"#,
            to_json(&f)
        );
        post(&mut w, &body);
        let (status, _, answer) = read_response(&mut r);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            answer.starts_with(&format!(r#"{{"jsonrpc":"2.0","id":{id},"result":"#)),
            "{answer}"
        );
    }
    // In a batch too, with a notification (no answer) between two calls.
    let (f1, f2, f3) = (
        a.frame(Body::NewKey),
        a.frame(Body::NewKey),
        a.frame(Body::NewKey),
    );
    let batch = format!(
        r#"[{{"jsonrpc":"2.0","id":99999999999999999999,"method":"getnewkey","params":{}}},
            {{"jsonrpc":"2.0","method":"getnewkey","params":{}}},
            {{"jsonrpc":"2.0","id":1.5E300,"method":"getnewkey","params":{}}}]"#,
        to_json(&f1),
        to_json(&f2),
        to_json(&f3)
    );
    post(&mut w, &batch);
    let (_, _, answer) = read_response(&mut r);
    let ids: Vec<&str> = answer
        .match_indices(r#""id":"#)
        .map(|(i, _)| answer[i + 5..].split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["99999999999999999999", "1.5E300"], "{answer}");
    // Any other method: 405 with Allow: POST, on the same connection.
    write!(w, "GET / HTTP/1.1\r\nHost: wallet\r\n\r\n").unwrap();
    let (status, headers, _) = read_response(&mut r);
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert!(
        headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("allow: POST")),
        "{headers:?}"
    );
}
