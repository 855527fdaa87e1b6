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
//!
//! And with two appliances (two links in each converter), one killed under load and not
//! restarted: every client's calls move to the other appliance and go on being signed; no call
//! hangs (each failure is an immediate `link down`, never a timeout), and the lost answers are
//! recovered by re-sending, with the same checks as above.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coldgate_client::demo::{self, until_linked, DemoOptions, Gateway, CLIENT_ID};
use coldgate_client::{Client, ClientError, Exchange, Outcome};
use coldgate_converter_in::rpc::{self, CallError};
use coldgate_spec::codec::Body;
use coldgate_spec::RejectReason;

mod support;

const PATIENCE: Duration = Duration::from_secs(180);
const CLIENTS: u32 = 4;
/// Payments acknowledged before and after each crash.
const STEP: usize = 6;

/// An acknowledged payment: what the client was told.
#[derive(Clone)]
struct Acked {
    client: u32,
    vout: u32,
    exchange: Exchange,
}

/// What the payers share: the acknowledged payments, their count, and every call that failed.
#[derive(Clone, Default)]
struct Ledger {
    acked: Arc<Mutex<Vec<Acked>>>,
    count: Arc<AtomicUsize>,
    failed: Arc<Mutex<Vec<(u32, ClientError)>>>,
}

/// Pays `vout = 0, 1, 2, ...` until `stop`; an unknown outcome is retried as the same payment.
async fn payer(
    mut c: Client,
    key_id: u32,
    stop: Arc<AtomicBool>,
    ledger: Ledger,
) -> Result<u32, String> {
    let Ledger {
        acked,
        count,
        failed,
    } = ledger;
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
            Err(e) => {
                failed.lock().expect("lock").push((client, e));
                tokio::time::sleep(Duration::from_millis(20)).await
            }
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

/// A gateway on the golden backend in a fresh work directory named after `tag`, with
/// [`CLIENTS`] clients registered.
async fn gateway(tag: &str) -> (Gateway, PathBuf) {
    let work = std::env::temp_dir().join(format!("coldgate-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let opts = DemoOptions {
        backend: "golden".into(),
        bin_dir: Some(support::bin_dir().to_path_buf()),
        work_dir: Some(work.clone()),
        trace: false,
        ..DemoOptions::default()
    };
    let g = Gateway::start(&opts, &work, "golden")
        .await
        .expect("gateway");
    for id in 1..=CLIENTS {
        if id != CLIENT_ID {
            g.add_client(id).expect("client add");
        }
    }
    (g, work)
}

/// Each client's handle and a new key of its own (once every link is up).
async fn with_keys(g: &mut Gateway) -> Vec<(Client, u32)> {
    let mut clients = Vec::new();
    for id in 1..=CLIENTS {
        let mut c = g.client_as(id).expect("client");
        let x = until_linked(g, &mut c, |c| Box::pin(c.new_key()))
            .await
            .expect("new key");
        let Outcome::Key { key_id, .. } = x.outcome else {
            panic!("{}", x.outcome)
        };
        clients.push((c, key_id));
    }
    clients
}

/// One payer task per client, paying until `stop`.
fn pay(
    clients: Vec<(Client, u32)>,
    stop: &Arc<AtomicBool>,
    ledger: &Ledger,
) -> Vec<tokio::task::JoinHandle<Result<u32, String>>> {
    clients
        .into_iter()
        .map(|(c, key_id)| tokio::spawn(payer(c, key_id, Arc::clone(stop), ledger.clone())))
        .collect()
}

/// Stops the payers and returns what was acknowledged.
async fn settle(
    stop: &AtomicBool,
    payers: Vec<tokio::task::JoinHandle<Result<u32, String>>>,
    ledger: &Ledger,
) -> Vec<Acked> {
    stop.store(true, Ordering::SeqCst);
    for p in payers {
        p.await.expect("payer task").expect("payer");
    }
    let acked = ledger.acked.lock().expect("lock").clone();
    acked
}

/// 0 counters reused, 0 acknowledged payments lost (each recalled with its signature), a
/// replay refused by the wallet, and `audit verify` passes.
async fn nothing_lost(g: &Gateway, acked: &[Acked]) {
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
    for a in acked {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_each_process_under_load_loses_nothing() {
    let (mut g, work) = gateway("faults").await;
    let clients = with_keys(&mut g).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Ledger::default();
    let count = Arc::clone(&ledger.count);
    let payers = pay(clients, &stop, &ledger);

    let mut target = STEP;
    wait_for(&count, target, "the first crash").await;
    for name in ["wallet", "appliance", "converter-out", "converter-in"] {
        g.crash_and_restart(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        target = count.load(Ordering::SeqCst) + STEP;
        wait_for(&count, target, &format!("recovery from the {name} crash")).await;
    }
    let acked = settle(&stop, payers, &ledger).await;
    g.procs.check_alive().expect("every process still up");
    nothing_lost(&g, &acked).await;
    drop(g);
    let _ = std::fs::remove_dir_all(&work);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_appliance_killed_under_load_with_two_links_moves_every_call_over() {
    let (mut g, work) = gateway("failover").await;
    let second = g.add_appliance().await.expect("a second appliance");
    // converter-in homes client N on link N mod 2: clients on both appliances.
    let clients = with_keys(&mut g).await;
    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Ledger::default();
    let count = Arc::clone(&ledger.count);
    let payers = pay(clients, &stop, &ledger);

    wait_for(&count, STEP, "the appliance is killed").await;
    g.procs
        .kill("appliance")
        .expect("kill -9 the first appliance");
    let at_kill = ledger.acked.lock().expect("lock").len();
    // Every client, the ones homed on the dead appliance too, goes on being signed.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let after: HashMap<u32, usize> = ledger.acked.lock().expect("lock")[at_kill..].iter().fold(
            HashMap::new(),
            |mut m, a| {
                *m.entry(a.client).or_default() += 1;
                m
            },
        );
        if (1..=CLIENTS).all(|c| after.get(&c).copied().unwrap_or(0) >= STEP) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "calls did not move over: signed per client since the kill {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acked = settle(&stop, payers, &ledger).await;
    g.procs
        .check_alive()
        .expect("the other processes are still up");
    assert!(g.procs.pids().iter().any(|(n, _)| *n == second));

    // None hangs: a call that was on the lost link failed at once as `link down` (never a
    // timeout), and only the calls in flight at the kill failed: one per client at most.
    let failed = std::mem::take(&mut *ledger.failed.lock().expect("lock"));
    for (client, e) in failed.iter() {
        match e {
            ClientError::Call(CallError::Rpc(r)) if r.code == rpc::LINK_DOWN => {}
            other => panic!("client {client}: {other}"),
        }
    }
    assert!(
        failed.len() <= CLIENTS as usize,
        "{} calls failed: {:?}",
        failed.len(),
        failed
            .iter()
            .map(|(c, e)| format!("{c}: {e}"))
            .collect::<Vec<_>>()
    );
    nothing_lost(&g, &acked).await;
    drop(g);
    let _ = std::fs::remove_dir_all(&work);
}
