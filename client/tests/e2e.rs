//! End to end through real processes and sockets: coldgate-wallet, coldgate-appliance,
//! coldgate-converter-out and coldgate-converter-in, each its own process on loopback.
//!
//! The binaries are looked for next to `coldgate` (target/release under
//! `cargo test --workspace --release`, which builds every binary before any test runs). When
//! one is missing (e.g. `cargo test -p coldgate-client`), they are built first.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use coldgate_client::demo::{self, DemoOptions, Gateway, CLIENT_ID};
use coldgate_client::{ClientError, Outcome};
use coldgate_link::{FrameEvent, FrameLink, Link, LinkOptions, Role};
use coldgate_spec::codec::{Body, Frame, Payment, Wire};
use coldgate_spec::{DropReason, RejectReason};

mod support;
use support::bin_dir;

fn scratch(name: &str) -> PathBuf {
    support::scratch("e2e", name)
}

fn run_demo(link: &str, backend: &str) {
    let work = scratch(&format!("demo-{link}"));
    support::demo_passes(link, backend, &work);
    let _ = std::fs::remove_dir_all(work);
}

#[test]
fn demo_passes_over_tcp() {
    run_demo("tcp", "auto");
}

#[test]
fn demo_passes_over_a_pty_pair() {
    run_demo("pty", "rusthdl");
}

#[test]
fn demo_passes_over_file_links() {
    run_demo("file", "golden");
}

#[test]
fn demo_fails_cleanly_without_its_binaries() {
    let empty = scratch("no-binaries");
    let out = Command::new(env!("CARGO_BIN_EXE_coldgate"))
        .args(["demo", "--quiet", "--bin-dir"])
        .arg(&empty)
        .arg("--work-dir")
        .arg(empty.join("work"))
        .output()
        .expect("run coldgate demo");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo build --release"));
    let _ = std::fs::remove_dir_all(empty);
}

async fn gateway(name: &str, backend: &str) -> (Gateway, PathBuf) {
    let work = scratch(name);
    let opts = DemoOptions {
        backend: backend.into(),
        bin_dir: Some(bin_dir().to_path_buf()),
        trace: false,
        ..DemoOptions::default()
    };
    let backend = demo::backend(backend).expect("backend");
    let g = Gateway::start(&opts, &work, &backend)
        .await
        .expect("gateway starts");
    (g, work)
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_converter_in_modes_never_yield_a_signature() {
    let (mut g, work) = gateway("hostile-modes", "auto").await;
    let mut client = g.client().expect("client");
    let key = demo::until_linked(&mut g, &mut client, |c| Box::pin(c.new_key()))
        .await
        .expect("new key");
    let Outcome::Key { key_id, .. } = key.outcome else {
        panic!("expected a key, got {}", key.outcome)
    };
    let pay = |vout| demo::payment(key_id, vout, 1_000_000, 250_000, 10_000).expect("payment");

    g.start_converter_in("mutate")
        .await
        .expect("hostile converter");
    drop(client);
    let mut client = g.client().expect("client");
    let p = pay(1);
    let x = demo::until_linked(&mut g, &mut client, move |c| Box::pin(c.sign_payment(p)))
        .await
        .expect("an answer");
    assert_eq!(
        x.outcome,
        Outcome::Rejected {
            reason: RejectReason::BadTag
        }
    );

    g.start_converter_in("replay")
        .await
        .expect("hostile converter");
    drop(client);
    let mut client = g.client().expect("client");
    // The first call through a replaying converter has nothing to replay yet.
    let x = demo::until_linked(&mut g, &mut client, |c| Box::pin(c.pubkey(key_id)))
        .await
        .expect("pubkey");
    assert!(matches!(x.outcome, Outcome::Key { .. }));
    // Then it sends that earlier frame instead of the payment, and returns its answer: a
    // REJECT stale_counter for another counter, which the client refuses to take as the
    // payment's answer.
    match client.sign_payment(pay(2)).await {
        Err(ClientError::Forged(why)) => assert!(why.contains("counter"), "{why}"),
        other => panic!("expected a refused answer, got {other:?}"),
    }

    g.start_converter_in("inject")
        .await
        .expect("hostile converter");
    drop(client);
    let mut client = g.client().expect("client");
    let p = pay(3);
    let x = demo::until_linked(&mut g, &mut client, move |c| Box::pin(c.sign_payment(p)))
        .await
        .expect("an answer");
    match x.outcome {
        Outcome::Dropped { notice, field } => {
            assert_eq!(notice.reason, DropReason::BadCrc);
            assert_eq!(field, "crc");
        }
        other => panic!("expected a NOTICE, got {other}"),
    }

    // An honest converter again: the same client carries on.
    g.start_converter_in("off").await.expect("honest converter");
    drop(client);
    let mut client = g.client().expect("client");
    let p = pay(4);
    let x = demo::until_linked(&mut g, &mut client, move |c| Box::pin(c.sign_payment(p)))
        .await
        .expect("signed");
    assert!(matches!(x.outcome, Outcome::Signed { .. }), "{}", x.outcome);
    g.procs.check_alive().expect("every process still runs");
    drop(g);
    let _ = std::fs::remove_dir_all(work);
}

/// A compromised converter-in with the untrusted link to itself: it holds client-tagged
/// frames and may send anything. The only signatures that ever come back are for frames the
/// client tagged, over exactly the payments it asked for.
#[tokio::test(flavor = "multi_thread")]
async fn raw_hostile_peer_obtains_only_authorised_signatures() {
    let (mut g, work) = gateway("hostile-peer", "auto").await;
    let mut client = g.client().expect("client");
    let key = demo::until_linked(&mut g, &mut client, |c| Box::pin(c.new_key()))
        .await
        .expect("new key");
    let Outcome::Key { key_id, key } = key.outcome else {
        panic!("expected a key")
    };
    let mut counter = client.state().data().next_counter;
    drop(client);
    g.stop_converter_in();

    let secret = coldgate_client::read_secret(&g.secret_path()).expect("secret");
    let spec = g.untrusted().parse().expect("link spec");
    let mut link = FrameLink::new(
        Link::open(&spec, Role::Peer, LinkOptions::named("hostile"))
            .await
            .expect("link"),
    );
    let writer = link.writer();
    tokio::time::timeout(Duration::from_secs(30), writer.wait_up())
        .await
        .expect("link up in time")
        .expect("link");

    let mut next = || {
        counter += 1;
        counter
    };
    let sealed = |c: u64, body: Body| Frame::sealed(CLIENT_ID, c, body, &secret).expect("frame");
    let wire = |f: &Frame| -> Wire { f.to_wire().expect("wire") };
    let pay = |vout| demo::payment(key_id, vout, 1_000_000, 250_000, 10_000).expect("payment");
    let authorised: Vec<(u64, Payment)> = vec![(next(), pay(10))];
    let attacker = [0xA7u8; 32];

    // Bytes to send, and the counter and answer they must get (none for junk).
    type Send = (Vec<u8>, Option<(u64, &'static str)>);
    let mut sends: Vec<Send> = Vec::new();
    // 1. The authorised frame, as the client tagged it.
    let original = sealed(authorised[0].0, Body::SignPayment(authorised[0].1));
    sends.push((
        wire(&original).to_vec(),
        Some((original.counter, "signature")),
    ));
    // 2. The same bytes again.
    sends.push((
        wire(&original).to_vec(),
        Some((original.counter, "reject:stale_counter")),
    ));
    // 3. Same frame under a fresh counter (the tag no longer matches).
    let c3 = next();
    let mut moved = original;
    moved.counter = c3;
    sends.push((
        moved.encode_unchecked().to_vec(),
        Some((c3, "reject:bad_tag")),
    ));
    // 4. A client-tagged payment with its destination rewritten.
    let c4 = next();
    let mut redirected = sealed(c4, Body::SignPayment(pay(11)));
    if let Body::SignPayment(p) = &mut redirected.body {
        p.destination = attacker;
    }
    sends.push((
        redirected.encode_unchecked().to_vec(),
        Some((c4, "reject:bad_tag")),
    ));
    // 5. A forged frame: the attacker's payment under a made-up tag.
    let c5 = next();
    let mut forged_payment = pay(12);
    forged_payment.destination = attacker;
    let forged = Frame {
        client_id: CLIENT_ID,
        counter: c5,
        body: Body::SignPayment(forged_payment),
        tag: [0x5A; 32],
    };
    sends.push((wire(&forged).to_vec(), Some((c5, "reject:bad_tag"))));
    // 6. Over the hardware ceiling: the verifier itself drops it.
    let c6 = next();
    let mut big = sealed(c6, Body::SignPayment(pay(13)));
    if let Body::SignPayment(p) = &mut big.body {
        p.amount = coldgate_spec::config::SIGN_AMOUNT_CEILING + 1;
        p.input_amount = p.amount + 20_000;
    }
    sends.push((
        big.encode_unchecked().to_vec(),
        Some((c6, "notice:out_of_range")),
    ));
    // 7. Garbage and a truncated frame: skipped or dropped, never answered by the wallet.
    let mut junk = b"\xC0\x1D\x6A junk \x00\xFF".to_vec();
    junk.extend_from_slice(&wire(&sealed(next(), Body::NewKey))[..60]);
    sends.push((junk, None));
    // 8. A last authorised payment: the verifier has resynchronised and the client's own
    //    frames still work.
    let last = (next(), pay(14));
    let final_frame = sealed(last.0, Body::SignPayment(last.1));
    // A frame whose bytes continue the truncated one must not hide this one: send zeros that
    // complete any partial frame first (the verifier drops it, reserved or CRC).
    let mut tail = vec![0u8; coldgate_spec::FRAME_LEN];
    tail.extend_from_slice(&wire(&final_frame));
    sends.push((tail, Some((last.0, "signature"))));
    let authorised = [authorised[0], last];

    let mut answers: Vec<Frame> = Vec::new();
    for (bytes, expect) in sends {
        writer.write(bytes.into()).await.expect("write");
        let Some((c, what)) = expect else { continue };
        let frame = loop {
            let ev = tokio::time::timeout(Duration::from_secs(30), link.recv())
                .await
                .expect("an answer in time")
                .expect("link running");
            match ev {
                FrameEvent::Frame(w) => {
                    let f = Frame::decode(&w[..]).expect("answers decode");
                    answers.push(f);
                    if f.counter == c {
                        break f;
                    }
                }
                FrameEvent::Invalid(e) => panic!("appliance sent invalid bytes: {e}"),
                FrameEvent::Up { .. } | FrameEvent::Down { .. } => {}
            }
        };
        let got = match frame.body {
            Body::Signature { .. } => "signature".to_string(),
            Body::Reject { reason } => format!("reject:{reason}"),
            Body::Notice(n) => format!("notice:{}", n.reason),
            other => format!("{:?}", other.msg_type()),
        };
        assert_eq!(got, what, "counter {c}");
    }

    let internal = coldgate_tx::parse_key(&key).expect("key");
    let signed: Vec<&Frame> = answers
        .iter()
        .filter(|f| matches!(f.body, Body::Signature { .. }))
        .collect();
    assert_eq!(signed.len(), authorised.len(), "{answers:?}");
    for f in signed {
        let Body::Signature { signature, .. } = f.body else {
            unreachable!()
        };
        let (_, payment) = authorised
            .iter()
            .find(|(c, _)| *c == f.counter)
            .unwrap_or_else(|| panic!("signature for unauthorised counter {}", f.counter));
        assert!(f.verify(&secret), "signature frames carry the wallet's tag");
        coldgate_tx::verify(&internal, payment, &signature)
            .expect("signs exactly what was authorised");
        assert_ne!(payment.destination, attacker);
    }
    g.procs.check_alive().expect("every process still runs");
    drop(link);
    drop(g);
    let _ = std::fs::remove_dir_all(work);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_cli_talks_to_the_gateway() {
    let (mut g, work) = gateway("cli", "golden").await;
    // Wait until converter-in reaches the appliance, through the library.
    let mut client = g.client().expect("client");
    demo::until_linked(&mut g, &mut client, |c| Box::pin(c.new_key()))
        .await
        .expect("new key");
    let state = client.state().path().to_path_buf();
    drop(client);

    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_coldgate"))
            .arg("client")
            .arg("--url")
            .arg(g.endpoint().to_string())
            .args(["--client-id", &CLIENT_ID.to_string()])
            .arg("--secret")
            .arg(g.secret_path())
            .arg("--state")
            .arg(&state)
            .args(["--network", "regtest"])
            .args(args)
            .output()
            .expect("run coldgate client")
    };
    let out = cli(&["new-key"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("key 2: "), "{text}");
    // The address to fund is the BIP-86 output key's, and the descriptor is checksummed.
    assert!(text.contains("\naddress bcrt1p"), "{text}");
    assert!(text.contains("\ndescriptor tr("), "{text}");

    let out = cli(&["--json", "pubkey", "--key-id", "2"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["type"], "pubkey");
    assert_eq!(v["key_id"], 2);

    let dest = coldgate_tx::address::destination_address(
        &demo::destination().expect("destination"),
        demo::NETWORK,
    )
    .expect("a point")
    .to_string();
    let txid = "11".repeat(32);
    let pay = |amount: &str, change: &str| {
        cli(&[
            "sign-payment",
            "--key-id",
            "2",
            "--txid",
            &txid,
            "--vout",
            "0",
            "--input-amount",
            "1000000",
            "--destination",
            &dest,
            "--amount",
            amount,
            "--change",
            change,
        ])
    };
    let out = pay("250000", "740000");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("signature verified"), "{text}");
    assert!(text.contains("transaction 02000000"), "{text}");

    // The same payment again (as after a lost answer), with --json: the recorded signature,
    // the same transaction and its original reference, not a second signature.
    let again = cli(&[
        "--json",
        "sign-payment",
        "--key-id",
        "2",
        "--txid",
        &txid,
        "--vout",
        "0",
        "--input-amount",
        "1000000",
        "--destination",
        &dest,
        "--amount",
        "250000",
        "--change",
        "740000",
    ]);
    assert!(again.status.success());
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(v["type"], "signature");
    let tx_hex = v["tx"].as_str().expect("tx hex");
    assert!(
        text.contains(&format!("transaction {tx_hex}")),
        "{text} / {v}"
    );
    assert!(
        text.contains(v["txid"].as_str().expect("txid")),
        "{text} / {v}"
    );
    assert_ne!(v["reference"], v["counter"], "{v}");

    // A PSBT as a watch-only wallet would make it, spending key 2's address: signed through
    // the gateway and written back with tap_key_sig and the final witness.
    let key: [u8; 32] = hex::decode(v_key(&cli(&["--json", "pubkey", "--key-id", "2"])))
        .expect("hex")
        .try_into()
        .expect("32 bytes");
    let internal = coldgate_tx::parse_key(&key).expect("key");
    let p = Payment {
        key_id: 2,
        txid: [0x77; 32],
        vout: 1,
        input_amount: 500_000,
        destination: demo::destination().expect("destination"),
        amount: 120_000,
        change: 379_000,
    };
    let mut psbt = coldgate_tx::bitcoin::psbt::Psbt::from_unsigned_tx(
        coldgate_tx::payment_tx(&internal, &p).expect("tx"),
    )
    .expect("psbt");
    psbt.inputs[0].witness_utxo = Some(coldgate_tx::prevout(&internal, &p));
    let file = work.join("pay.psbt");
    std::fs::write(&file, psbt.to_string()).expect("write psbt");
    let out = cli(&["sign-psbt", file.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed: coldgate_tx::bitcoin::psbt::Psbt =
        std::fs::read_to_string(work.join("pay.signed.psbt"))
            .expect("signed psbt")
            .trim()
            .parse()
            .expect("a psbt");
    let sig = signed.inputs[0]
        .tap_key_sig
        .expect("tap_key_sig")
        .signature
        .serialize();
    coldgate_tx::verify(&internal, &p, &sig).expect("signature over the PSBT's transaction");
    let tx = signed.extract_tx().expect("final");
    assert_eq!(tx, coldgate_tx::signed_tx(&internal, &p, &sig).expect("tx"));
    // A PSBT off the shape (a third output) is refused with the reason, nothing sent.
    let mut odd = psbt.clone();
    odd.unsigned_tx
        .output
        .push(odd.unsigned_tx.output[0].clone());
    odd.outputs.push(Default::default());
    std::fs::write(&file, odd.serialize()).expect("write psbt");
    let out = cli(&["sign-psbt", file.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 outputs"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A destination that is not a taproot address: a clear error before anything is sent.
    let segwit_v0 = coldgate_tx::bitcoin::Address::p2wsh(
        &coldgate_tx::bitcoin::ScriptBuf::new(),
        demo::NETWORK,
    )
    .to_string();
    let out = cli(&[
        "sign-payment",
        "--key-id",
        "2",
        "--txid",
        &txid,
        "--vout",
        "5",
        "--input-amount",
        "1000000",
        "--destination",
        &segwit_v0,
        "--amount",
        "250000",
        "--change",
        "740000",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("P2TR"));

    // A fee above the policy's maximum: REJECT, exit code 3.
    let out = pay("250000", "100000");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("rejected by the wallet: fee_too_high"));

    // A wrong secret: converter-in and the verifier pass it, the wallet refuses it, and the
    // client cannot authenticate the refusal (it is tagged with the real secret).
    let wrong = work.join("wrong.secret");
    std::fs::write(&wrong, format!("{}\n", "ab".repeat(32))).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_coldgate"))
        .arg("client")
        .arg("--url")
        .arg(g.endpoint().to_string())
        .args(["--client-id", &CLIENT_ID.to_string()])
        .arg("--secret")
        .arg(&wrong)
        .arg("--state")
        .arg(work.join("other.state.json"))
        .arg("new-key")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tag does not verify"));

    // Unreachable converter-in: a clear error, not a hang or a panic.
    let out = Command::new(env!("CARGO_BIN_EXE_coldgate"))
        .args(["client", "--url", "http://127.0.0.1:1", "--client-id", "1"])
        .arg("--secret")
        .arg(g.secret_path())
        .arg("--state")
        .arg(work.join("third.state.json"))
        .arg("new-key")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("connecting to"));
    drop(g);
    let _ = std::fs::remove_dir_all(work);
}

#[tokio::test(flavor = "multi_thread")]
async fn dropping_the_gateway_stops_every_process() {
    let (g, work) = gateway("stop", "golden").await;
    let pids = g.procs.pids();
    assert_eq!(
        pids.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["wallet", "appliance", "converter-out", "converter-in"]
    );
    for (_, pid) in &pids {
        assert!(Path::new(&format!("/proc/{pid}")).exists());
    }
    drop(g);
    // Every child was waited for, so its process id is gone (not even a zombie is left).
    for (name, pid) in &pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{name} ({pid}) still there"
        );
    }
    let _ = std::fs::remove_dir_all(work);
}

/// The `key` member of a `--json` answer.
fn v_key(out: &std::process::Output) -> String {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["descriptor"]
        .as_str()
        .expect("descriptor")
        .starts_with("tr("));
    assert!(v["address"]
        .as_str()
        .expect("address")
        .starts_with("bcrt1p"));
    v["key"].as_str().expect("key").to_string()
}
