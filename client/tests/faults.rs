//! Issue 13, item 6: kill -9 of each of the gateway's processes under load, each restarted on
//! its addresses. Clients keep paying throughout; a call whose outcome is unknown (link lost,
//! timeout, connection reset) is re-sent as the same payment with a new counter, which the
//! wallet answers with the recorded outcome if it had signed it. Afterwards:
//!
//! * 0 acknowledged calls lost: every payment a client saw signed is still the wallet's record,
//!   with the same signature (asked again, it is recalled, not signed a second time);
//! * 0 counters reused: every acknowledged answer carries its own counter, and a replay of an
//!   acknowledged request straight to the restarted wallet is refused as `stale_counter`;
//! * `coldgate-wallet audit verify` passes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coldgate_client::demo::{self, until_linked, DemoOptions, Gateway, CLIENT_ID};
use coldgate_client::{Client, Exchange, Outcome};
use coldgate_spec::codec::Body;
use coldgate_spec::RejectReason;

const PATIENCE: Duration = Duration::from_secs(180);
const CLIENTS: u32 = 4;
/// Payments acknowledged before and after each crash.
const STEP: usize = 6;
const BINARIES: [&str; 4] = [
    "coldgate-wallet",
    "coldgate-appliance",
    "coldgate-converter-in",
    "coldgate-converter-out",
];

fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_coldgate"))
        .parent()
        .expect("binary directory")
        .to_path_buf();
    for b in BINARIES {
        assert!(
            dir.join(b).is_file(),
            "{b} is not built next to coldgate: run `cargo build --release` (the workspace test does)"
        );
    }
    dir
}

/// An acknowledged payment: what the client was told.
#[derive(Clone)]
struct Acked {
    client: u32,
    vout: u32,
    exchange: Exchange,
}

/// Pays `vout = 0, 1, 2, ...` until `stop`; an unknown outcome is retried as the same payment.
async fn payer(
    mut c: Client,
    key_id: u32,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
    count: Arc<AtomicUsize>,
) -> Result<u32, String> {
    let client = c.client_id();
    let mut vout = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let p =
            demo::payment(key_id, vout, 1_000_000, 250_000, 10_000).map_err(|e| e.to_string())?;
        match c.sign_payment(p).await {
            Ok(x) => match x.outcome {
                Outcome::Signed { .. } => {
                    acked.lock().expect("lock").push(Acked {
                        client,
                        vout,
                        exchange: x,
                    });
                    count.fetch_add(1, Ordering::SeqCst);
                    vout += 1;
                }
                other => return Err(format!("client {client} vout {vout}: {other}")),
            },
            // Unknown outcome (a process was down): the same payment again, new counter.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    Ok(vout)
}

async fn wait_for(count: &AtomicUsize, at_least: usize, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while count.load(Ordering::SeqCst) < at_least {
        assert!(
            Instant::now() < deadline,
            "stuck before {what}: {} acknowledged",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_each_process_under_load_loses_nothing() {
    let work = std::env::temp_dir().join(format!("coldgate-faults-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let opts = DemoOptions {
        backend: "golden".into(),
        bin_dir: Some(bin_dir()),
        work_dir: Some(work.clone()),
        trace: false,
        ..DemoOptions::default()
    };
    let mut g = Gateway::start(&opts, &work, "golden")
        .await
        .expect("gateway");
    let mut clients = Vec::new();
    for id in 1..=CLIENTS {
        if id != CLIENT_ID {
            g.add_client(id).expect("client add");
        }
        let mut c = g.client_as(id).expect("client");
        let x = until_linked(&mut g, &mut c, |c| Box::pin(c.new_key()))
            .await
            .expect("new key");
        let Outcome::Key { key_id, .. } = x.outcome else {
            panic!("{}", x.outcome)
        };
        clients.push((c, key_id));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let mut payers = Vec::new();
    for (c, key_id) in clients {
        payers.push(tokio::spawn(payer(
            c,
            key_id,
            Arc::clone(&stop),
            Arc::clone(&acked),
            Arc::clone(&count),
        )));
    }

    let mut target = STEP;
    wait_for(&count, target, "the first crash").await;
    for name in ["wallet", "appliance", "converter-out", "converter-in"] {
        g.crash_and_restart(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        target = count.load(Ordering::SeqCst) + STEP;
        wait_for(&count, target, &format!("recovery from the {name} crash")).await;
    }
    stop.store(true, Ordering::SeqCst);
    for p in payers {
        p.await.expect("payer task").expect("payer");
    }
    g.procs.check_alive().expect("every process still up");

    let acked = acked.lock().expect("lock").clone();
    // 0 counters reused: one acknowledged answer per (client, counter), per (client, vout).
    let counters: HashSet<(u32, u64)> = acked
        .iter()
        .map(|a| (a.client, a.exchange.request.counter))
        .collect();
    assert_eq!(
        counters.len(),
        acked.len(),
        "a counter was acknowledged twice"
    );
    let vouts: HashSet<(u32, u32)> = acked.iter().map(|a| (a.client, a.vout)).collect();
    assert_eq!(vouts.len(), acked.len());

    // 0 acknowledged calls lost: each payment, asked again, comes back with the signature the
    // client was given (recalled from the store, not signed again).
    let mut again: HashMap<u32, Client> = HashMap::new();
    for a in &acked {
        let c = match again.get_mut(&a.client) {
            Some(c) => c,
            None => again
                .entry(a.client)
                .or_insert(g.client_as(a.client).expect("client")),
        };
        let Body::SignPayment(p) = a.exchange.request.body else {
            panic!("not a payment")
        };
        let x = c.sign_payment(p).await.expect("asked again");
        match (&x.answer.body, &a.exchange.answer.body) {
            (
                Body::Signature {
                    signature: now,
                    reference: r_now,
                    ..
                },
                Body::Signature {
                    signature: then,
                    reference: r_then,
                    ..
                },
            ) => {
                assert_eq!(
                    now, then,
                    "client {} vout {}: a different signature",
                    a.client, a.vout
                );
                assert_eq!(r_now, r_then, "recalled under its first reference");
            }
            other => panic!("client {} vout {}: {other:?}", a.client, a.vout),
        }
    }
    drop(again);

    // A replay of an acknowledged request, straight to the restarted wallet: refused.
    let last = acked.last().expect("payments");
    let secret = coldgate_client::read_secret(&g.secret_path_of(last.client)).expect("secret");
    let wallet = g.wallet_url().parse().expect("wallet endpoint");
    let wire =
        coldgate_converter_out::answer(&last.exchange.request, &wallet, 1, Duration::from_secs(20))
            .await
            .expect("the wallet answers");
    let answer = coldgate_spec::codec::Frame::decode(&wire[..]).expect("frame");
    assert!(answer.verify(&secret));
    assert_eq!(
        answer.body,
        Body::Reject {
            reason: RejectReason::StaleCounter
        }
    );

    let audit = g
        .wallet_cli(&["audit", "verify"])
        .expect("audit verify passes");
    assert!(!audit.is_empty(), "{audit}");
    drop(g);
    let _ = std::fs::remove_dir_all(&work);
}
