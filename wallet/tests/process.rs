//! The `coldgate-wallet` binary as a real process on a real socket and store file: JSON-RPC
//! errors, the operator CLI while serving, libbitcoinconsensus on its signatures, kill -9
//! under load, the audit chain, and online backup.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bitcoin::consensus::encode::serialize;
use bitcoin::key::XOnlyPublicKey;
use coldgate_spec::json::to_json;
use coldgate_spec::{Body, Frame, Payment, RejectReason};
use coldgate_wallet::rpc::{INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR};
use common::*;
use serde_json::{json, Value};

fn new_key(addr: SocketAddr, c: &mut Client) -> (u32, XOnlyPublicKey) {
    match call(addr, c, Body::NewKey) {
        Body::Pubkey { key_id, key } => (key_id, XOnlyPublicKey::from_slice(&key).unwrap()),
        other => panic!("{other:?}"),
    }
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error in {v}"))
}

#[test]
fn malformed_json_rpc_gets_the_right_codes_and_the_server_keeps_serving() {
    let site = Site::new("rpc", POLICY_TOML);
    let mut a = site.add_client(1);
    let server = site.serve();
    let addr = server.addr;
    let good = a.frame(Body::NewKey);
    let params = to_json(&good);
    let with = |member: &str, value: Value| {
        let mut p = params.clone();
        p[member] = value;
        p
    };
    let req = |method: &str, params: Value| json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<u8>, i64, &str)> = vec![
        ("not json", b"{\"jsonrpc\": ".to_vec(), PARSE_ERROR, "parse error"),
        ("binary", vec![0xff, 0xfe, 0], PARSE_ERROR, "parse error"),
        ("empty batch", b"[]".to_vec(), INVALID_REQUEST, "empty batch"),
        ("a number", b"42".to_vec(), INVALID_REQUEST, "object"),
        ("no jsonrpc", json!({"id": 1, "method": "getnewkey", "params": params}).to_string().into(), INVALID_REQUEST, "jsonrpc"),
        ("jsonrpc 1.0", json!({"jsonrpc": "1.0", "id": 1, "method": "getnewkey", "params": params}).to_string().into(), INVALID_REQUEST, "jsonrpc"),
        ("method not a string", json!({"jsonrpc": "2.0", "id": 1, "method": 3, "params": params}).to_string().into(), INVALID_REQUEST, "method"),
        ("id an object", json!({"jsonrpc": "2.0", "id": {}, "method": "getnewkey", "params": params}).to_string().into(), INVALID_REQUEST, "id"),
        ("extra member", json!({"jsonrpc": "2.0", "id": 1, "method": "getnewkey", "params": params, "x": 1}).to_string().into(), INVALID_REQUEST, "\"x\""),
        ("unknown method", req("sendtoaddress", params.clone()).to_string().into(), METHOD_NOT_FOUND, "sendtoaddress"),
        ("params an array", req("getnewkey", json!([params])).to_string().into(), INVALID_PARAMS, "one object"),
        ("no params", json!({"jsonrpc": "2.0", "id": 1, "method": "getnewkey"}).to_string().into(), INVALID_PARAMS, "one object"),
        ("type mismatch", req("signpayment", params.clone()).to_string().into(), INVALID_PARAMS, "does not match method signpayment"),
        ("type missing", req("getnewkey", { let mut p = params.clone(); p.as_object_mut().unwrap().remove("type"); p }).to_string().into(), INVALID_PARAMS, "params.type"),
        ("counter zero (wire rule)", req("getnewkey", with("counter", json!(0))).to_string().into(), INVALID_PARAMS, "counter"),
        ("client id too wide", req("getnewkey", with("client_id", json!(1u64 << 32))).to_string().into(), INVALID_PARAMS, "client_id"),
        ("tag not hex", req("getnewkey", with("tag", json!("zz".repeat(32)))).to_string().into(), INVALID_PARAMS, "tag"),
        ("unknown frame member", req("getnewkey", with("key_id", json!(1))).to_string().into(), INVALID_PARAMS, "key_id"),
        ("amount over the wire ceiling", req("signpayment", {
            let f = Frame { client_id: 1, counter: 5, tag: [0; 32], body: Body::SignPayment(payment(1, 1, 0)) };
            let mut p = to_json(&f);
            p["amount"] = json!(coldgate_spec::config::SIGN_AMOUNT_CEILING + 1);
            p
        }).to_string().into(), INVALID_PARAMS, "amount"),
    ];
    for (name, body, code, text) in cases {
        let (status, raw) = http(addr, "POST", "/", &body).unwrap();
        assert_eq!(status, 200, "{name}");
        let v: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(error_code(&v), code, "{name}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(text),
            "{name}: {v}"
        );
        assert_eq!(v["jsonrpc"], "2.0");
    }
    // HTTP-level refusals.
    assert_eq!(http(addr, "GET", "/", b"").unwrap().0, 405);
    assert_eq!(http(addr, "POST", "/other", b"{}").unwrap().0, 404);
    assert_eq!(http(addr, "POST", "/", &vec![b' '; 20_000]).unwrap().0, 413);
    // Garbage that is not HTTP at all, and a connection dropped mid-body.
    {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"\x16\x03\x01 hello not http\r\n\r\n").unwrap();
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"js")
            .unwrap();
    }
    // A notification is carried out and answered with nothing; a batch in order, errors inline.
    let note = json!({"jsonrpc": "2.0", "method": "getnewkey", "params": params});
    let (status, v) = post(addr, &note).unwrap();
    assert_eq!((status, v), (204, Value::Null));
    let second = a.frame(Body::GetPubkey { key_id: 1 });
    let batch = json!([rpc_request(&second, 1), {"jsonrpc": "2.0", "id": 2, "method": "nope", "params": {}}, note]);
    let (status, v) = post(addr, &batch).unwrap();
    assert_eq!(status, 200);
    let answers = v.as_array().unwrap();
    assert_eq!(answers.len(), 2, "{v}");
    assert_eq!(answers[0]["id"], 1);
    assert_eq!(answers[0]["result"]["type"], "pubkey", "{v}");
    assert_eq!(error_code(&answers[1]), METHOD_NOT_FOUND);
    // The notification's replay inside the batch was refused as stale (its counter was used).
    assert!(matches!(
        call(addr, &mut a, Body::GetPubkey { key_id: 1 }),
        Body::Pubkey { key_id: 1, .. }
    ));
}

/// Runs libbitcoinconsensus (Bitcoin Core 26, taproot) on the wallet's signed transaction.
fn consensus_check(
    internal: &XOnlyPublicKey,
    p: &Payment,
    signature: &[u8; 64],
) -> Result<(), String> {
    let tx = coldgate_tx::signed_tx(internal, p, signature).map_err(|e| e.to_string())?;
    let spent = coldgate_tx::prevout(internal, p);
    let script = spent.script_pubkey.as_bytes();
    let utxos = [bitcoinconsensus::Utxo {
        script_pubkey: script.as_ptr(),
        script_pubkey_len: script.len() as u32,
        value: spent.value.to_sat() as i64,
    }];
    bitcoinconsensus::verify_with_flags(
        script,
        spent.value.to_sat(),
        &serialize(&tx),
        Some(&utxos),
        0,
        bitcoinconsensus::VERIFY_ALL_PRE_TAPROOT | bitcoinconsensus::VERIFY_TAPROOT,
    )
    .map_err(|e| format!("{e:?}"))
}

#[test]
fn operator_decides_held_payments_while_serving_and_signatures_pass_libbitcoinconsensus() {
    let site = Site::new("held", POLICY_TOML);
    let mut a = site.add_client(1);
    let server = site.serve();
    let addr = server.addr;
    let (k, pk) = new_key(addr, &mut a);
    let small = payment(k, 40_000, 20_000);
    let Body::Signature { signature, .. } = call(addr, &mut a, Body::SignPayment(small)) else {
        panic!("small payment not signed")
    };
    consensus_check(&pk, &small, &signature).unwrap();
    // The same signature on any other payment fails the independent verifier.
    let other = Payment {
        amount: small.amount + 1,
        input_amount: small.input_amount + 1,
        ..small
    };
    assert!(consensus_check(&pk, &other, &signature).is_err());

    let big = payment(k, 700_000, 0);
    let approve_ref = a.counter + 1;
    assert_eq!(
        call(addr, &mut a, Body::SignPayment(big)),
        Body::Held {
            reference: approve_ref
        }
    );
    let deny_ref = a.counter + 1;
    let big2 = payment(k, 700_000, 0);
    assert_eq!(
        call(addr, &mut a, Body::SignPayment(big2)),
        Body::Held {
            reference: deny_ref
        }
    );
    let list = site.ok(&["held", "list"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(
        list.contains(&format!(
            "client=1 reference={approve_ref} key_id={k} amount=700000"
        )),
        "{list}"
    );
    assert_eq!(
        call(
            addr,
            &mut a,
            Body::PaymentStatus {
                reference: approve_ref
            }
        ),
        Body::Held {
            reference: approve_ref
        }
    );
    let cred = site.add_operator("carol");
    let cred = cred.to_str().unwrap();
    let who = ["--operator", "carol", "--credential", cred];
    site.ok(&[
        &["held", "approve", &approve_ref.to_string(), "--client", "1"][..],
        &who,
    ]
    .concat());
    site.ok(&[
        &["held", "deny", &deny_ref.to_string(), "--client", "1"][..],
        &who,
    ]
    .concat());
    let Body::Signature { signature, .. } = call(
        addr,
        &mut a,
        Body::PaymentStatus {
            reference: approve_ref,
        },
    ) else {
        panic!("approved payment has no signature")
    };
    consensus_check(&pk, &big, &signature).unwrap();
    assert_eq!(
        call(
            addr,
            &mut a,
            Body::PaymentStatus {
                reference: deny_ref
            }
        ),
        Body::Reject {
            reason: RejectReason::Denied
        }
    );
    // Deciding twice, or a reference that was never held, fails with a message and exit code.
    let again = site.cli(
        &[
            &["held", "approve", &approve_ref.to_string(), "--client", "1"][..],
            &who,
        ]
        .concat(),
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no held payment"));
    assert_eq!(site.ok(&["held", "list"]).trim(), "no held payments");
    // A wrong passphrase opens nothing.
    let wrong = std::process::Command::new(bin())
        .args([
            "--config",
            site.config.to_str().unwrap(),
            "held",
            "deny",
            "1",
            "--client",
            "1",
        ])
        .args(who)
        .env(coldgate_wallet::PASSPHRASE_ENV, "wrong")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
}

#[test]
fn audit_chain_verifies_and_detects_an_edited_row() {
    let site = Site::new("audit", POLICY_TOML);
    let mut a = site.add_client(1);
    {
        let server = site.serve();
        let (k, _) = new_key(server.addr, &mut a);
        call(
            server.addr,
            &mut a,
            Body::SignPayment(payment(k, 10_000, 0)),
        );
        call(
            server.addr,
            &mut a,
            Body::SignPayment(payment(k, 2_000_000, 0)),
        );
    }
    let out = site.ok(&["audit", "verify"]);
    // Created, client added, serving (the start's write probe), key, signed, rejected.
    assert!(out.starts_with("audit chain ok: 6 entries"), "{out}");
    // The passphrase from a file (its trailing newline dropped) instead of the environment.
    let pass_file = site.scratch.path("passphrase");
    std::fs::write(&pass_file, format!("{PASSPHRASE}\n")).unwrap();
    let from_file = std::process::Command::new(bin())
        .args(["--config", site.config.to_str().unwrap()])
        .args([
            "--passphrase-file",
            pass_file.to_str().unwrap(),
            "audit",
            "verify",
        ])
        .env_remove(coldgate_wallet::PASSPHRASE_ENV)
        .output()
        .unwrap();
    assert_eq!(from_file.stdout, out.as_bytes());
    let none = std::process::Command::new(bin())
        .args(["--config", site.config.to_str().unwrap(), "audit", "verify"])
        .env_remove(coldgate_wallet::PASSPHRASE_ENV)
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no passphrase"));
    let conn = rusqlite::Connection::open(site.store()).unwrap();
    // Somebody with the file drops the guard and makes the refused payment look signed.
    conn.execute_batch(
        "DROP TRIGGER audit_append_only_u; \
         UPDATE audit SET event = replace(event, '\"rejected\"', '\"signed\"') WHERE seq = 6;",
    )
    .unwrap();
    assert_eq!(conn.changes(), 1);
    let edited = site.cli(&["audit", "verify"]);
    assert_eq!(edited.status.code(), Some(1));
    let text = String::from_utf8_lossy(&edited.stdout);
    assert!(
        text.contains("broken at seq 6") && text.contains("edited"),
        "{text}"
    );
    // Removing an entry from the middle is found too (after undoing the edit).
    conn.execute_batch(
        "UPDATE audit SET event = replace(event, '\"signed\"', '\"rejected\"') WHERE seq = 6; \
         DROP TRIGGER audit_append_only_d; DELETE FROM audit WHERE seq = 3;",
    )
    .unwrap();
    let removed = site.cli(&["audit", "verify"]);
    assert_eq!(removed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&removed.stdout).contains("broken at seq 4"));
}

#[test]
fn kill_9_under_load_loses_nothing_acknowledged() {
    const CLIENTS: u32 = 4;
    const PER_CLIENT: u64 = 12;
    let policy = format!(
        "max_payment = 1000000\nhold_above = 1000000\nmax_fee = 10000\nclient_daily_amount = 1000000000\n\
         client_daily_count = {PER_CLIENT}\nservice_daily_amount = 1000000000\nservice_daily_count = 1000\n\
         max_keys_per_client = 1000"
    );
    let site = Site::new("kill9", &policy);
    let clients: Vec<Client> = (1..=CLIENTS).map(|id| site.add_client(id)).collect();
    let mut server = site.serve();
    let addr = server.addr;

    /// What a client saw acknowledged before the kill.
    #[derive(Default)]
    struct Acked {
        keys: Vec<(u32, [u8; 32])>,
        signed: Vec<(u64, Payment, [u8; 64], XOnlyPublicKey)>,
        frames: Vec<Frame>,
        /// The kill cut this client off (rather than it running out of work).
        cut_off: bool,
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            let (stop, acks) = (stop.clone(), acks.clone());
            std::thread::spawn(move || {
                let mut seen = Acked::default();
                // Bounded: at most 200 requests per client, and it ends at the first failure.
                for _ in 0..100 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let f = c.frame(Body::NewKey);
                    let Ok(r) = rpc(addr, &f) else {
                        seen.cut_off = true;
                        break;
                    };
                    let Body::Pubkey { key_id, key } = c.check(&f, &r) else {
                        panic!("{r:?}")
                    };
                    seen.keys.push((key_id, key));
                    seen.frames.push(f);
                    acks.fetch_add(1, Ordering::SeqCst);
                    let p = Payment {
                        amount: 1_000 + key_id as u64,
                        input_amount: 2_000 + key_id as u64,
                        ..payment(key_id, 0, 0)
                    };
                    let f = c.frame(Body::SignPayment(p));
                    let Ok(r) = rpc(addr, &f) else {
                        seen.cut_off = true;
                        break;
                    };
                    match c.check(&f, &r) {
                        Body::Signature { signature, .. } => {
                            let pk = XOnlyPublicKey::from_slice(&key).unwrap();
                            seen.signed.push((f.counter, p, signature, pk));
                        }
                        Body::Reject {
                            reason: RejectReason::ClientDailyCount,
                        } => {}
                        other => panic!("{other:?}"),
                    }
                    seen.frames.push(f);
                    acks.fetch_add(1, Ordering::SeqCst);
                }
                (c, seen)
            })
        })
        .collect();
    // Kill while every worker is mid-stream.
    while acks.load(Ordering::SeqCst) < 40 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.kill9();
    stop.store(true, Ordering::SeqCst);
    let results: Vec<(Client, Acked)> = workers.into_iter().map(|w| w.join().unwrap()).collect();

    assert!(
        results.iter().any(|(_, seen)| seen.cut_off),
        "the kill came after the load ended"
    );
    let server = site.serve();
    let addr = server.addr;
    let mut total_acked_signed = 0;
    for (mut c, seen) in results {
        // Every acknowledged key is there with the same public key, for its owner.
        for &(key_id, key) in &seen.keys {
            assert_eq!(
                call(addr, &mut c, Body::GetPubkey { key_id }),
                Body::Pubkey { key_id, key }
            );
        }
        // Every acknowledged signature is in the ledger, and still verifies.
        for (reference, p, signature, pk) in &seen.signed {
            assert_eq!(
                call(
                    addr,
                    &mut c,
                    Body::PaymentStatus {
                        reference: *reference
                    }
                ),
                Body::Signature {
                    key_id: p.key_id,
                    signature: *signature,
                    reference: *reference
                }
            );
            coldgate_tx::verify(pk, p, signature).unwrap();
        }
        total_acked_signed += seen.signed.len();
        // No acknowledged counter is accepted again.
        for f in &seen.frames {
            let r = rpc(addr, f).unwrap();
            assert_eq!(
                c.check(f, &r),
                Body::Reject {
                    reason: RejectReason::StaleCounter
                }
            );
        }
        // The daily count still counts what was signed before the kill: the client reaches its
        // limit after exactly PER_CLIENT ledger entries in all.
        let (k, _) = new_key(addr, &mut c);
        let mut after = 0;
        loop {
            match call(addr, &mut c, Body::SignPayment(payment(k, 1_000, 0))) {
                Body::Signature { .. } => after += 1,
                Body::Reject {
                    reason: RejectReason::ClientDailyCount,
                } => break,
                other => panic!("{other:?}"),
            }
            assert!(after <= PER_CLIENT, "limit not enforced");
        }
        let conn = rusqlite::Connection::open(site.store()).unwrap();
        let in_ledger: u64 = conn
            .query_row(
                "SELECT COUNT(*) FROM payments WHERE client_id = ?1",
                [c.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(in_ledger, PER_CLIENT, "client {}", c.id);
        assert!(seen.signed.len() as u64 + after <= PER_CLIENT);
    }
    assert!(
        total_acked_signed > 0,
        "the kill came before any payment was acknowledged"
    );
    assert!(site.ok(&["audit", "verify"]).starts_with("audit chain ok"));
}

#[test]
fn online_backup_restores_into_a_working_wallet() {
    let site = Site::new("backup", POLICY_TOML);
    let mut a = site.add_client(1);
    let server = site.serve();
    let addr = server.addr;
    let (k, pk) = new_key(addr, &mut a);
    let p = payment(k, 30_000, 0);
    let Body::Signature { signature, .. } = call(addr, &mut a, Body::SignPayment(p)) else {
        panic!()
    };
    let signed_ref = a.counter;
    // Back up while another client keeps the wallet writing.
    let mut b = site.add_client(2);
    let busy = std::thread::spawn(move || {
        for _ in 0..20 {
            call(addr, &mut b, Body::NewKey);
        }
    });
    let copy = site.scratch.path("copy.db");
    let out = site.ok(&["backup", "--out", copy.to_str().unwrap()]);
    assert!(out.contains("backed up"), "{out}");
    busy.join().unwrap();
    assert!(
        !site
            .cli(&["backup", "--out", copy.to_str().unwrap()])
            .status
            .success(),
        "overwrote a file"
    );
    drop(server);

    // Restore: a config whose store is the copy.
    let restored = site.scratch.path("restored.toml");
    std::fs::write(&restored, config_text("copy.db", POLICY_TOML)).unwrap();
    let server = Server::start(&restored);
    let addr = server.addr;
    assert_eq!(
        call(addr, &mut a, Body::GetPubkey { key_id: k }),
        Body::Pubkey {
            key_id: k,
            key: pk.serialize()
        }
    );
    assert_eq!(
        call(
            addr,
            &mut a,
            Body::PaymentStatus {
                reference: signed_ref
            }
        ),
        Body::Signature {
            key_id: k,
            signature,
            reference: signed_ref
        }
    );
    let q = payment(k, 31_000, 0);
    let Body::Signature { signature, .. } = call(addr, &mut a, Body::SignPayment(q)) else {
        panic!()
    };
    consensus_check(&pk, &q, &signature).unwrap();
    // The counters came along: an old frame is stale in the copy as well.
    let old = Frame::sealed(1, 1, Body::NewKey, &a.secret).unwrap();
    assert_eq!(
        a.check(&old, &rpc(addr, &old).unwrap()),
        Body::Reject {
            reason: RejectReason::StaleCounter
        }
    );
    assert!(cli_with(&restored, &["audit", "verify"]).status.success());
}

#[test]
fn connections_beyond_the_limit_are_closed_and_service_resumes() {
    let site = Site::new("conns", POLICY_TOML);
    let text = std::fs::read_to_string(&site.config).unwrap().replace(
        "max_connections = 32",
        "max_connections = 2\nrequest_timeout_secs = 1",
    );
    std::fs::write(&site.config, text).unwrap();
    let mut a = site.add_client(1);
    let server = site.serve();
    let addr = server.addr;
    // Two idle connections take both slots; a third is turned away with 503 and closed.
    // The wallet accepts in queue order, so the third connection always finds no slot.
    let idle: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    {
        use std::io::Read;
        let mut third = std::net::TcpStream::connect(addr).unwrap();
        third
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        let mut answer = Vec::new();
        third.read_to_end(&mut answer).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 503"), "{answer:?}");
    }
    drop(idle);
    // Once they are gone the wallet answers again (bounded retries while the slots free).
    let mut answered = None;
    for _ in 0..100 {
        let f = a.frame(Body::NewKey);
        if let Ok(r) = rpc(addr, &f) {
            answered = Some(a.check(&f, &r));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        matches!(answered, Some(Body::Pubkey { .. })),
        "{answered:?}"
    );
    // A connection that never sends its headers is closed by the wallet after
    // request_timeout_secs, without an answer.
    let mut closed_idle = false;
    for _ in 0..100 {
        use std::io::Read;
        let mut idle = std::net::TcpStream::connect(addr).unwrap();
        idle.set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        let mut buf = [0u8; 256];
        match idle.read(&mut buf) {
            // Turned away while a slot was still held by an earlier connection: try again.
            Ok(n) if buf[..n].starts_with(b"HTTP/1.1 503") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Ok(n) => {
                assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(&buf[..n]));
                closed_idle = true;
                break;
            }
            Err(e) => panic!("idle connection was not closed: {e}"),
        }
    }
    assert!(closed_idle);
}
