//! Issue 13, reproduced and kept: batches reached the wallet out of counter order, admission
//! ignored the verifier's token bucket, and calls whose link dropped waited the full call time.
//! converter-in runs as a real process; the appliance stand-in is the spec's golden lane pair
//! on a real tcp link (see `support`).

mod support;

use std::sync::atomic::Ordering;

use coldgate_converter_in::rpc;
use serde_json::{json, Value};
use support::*;

/// A batch of `n` getpubkey calls of one client, counters `first..first + n` in order.
fn batch(client: u32, first: u64, n: u64) -> String {
    let calls: Vec<Value> = (0..n)
        .map(|i| call_body(first + i, client, first + i))
        .collect();
    Value::Array(calls).to_string()
}

fn results(v: &Value) -> (usize, Vec<i64>) {
    let answers = v.as_array().expect("a batch answer");
    let ok = answers.iter().filter(|a| a.get("result").is_some()).count();
    let errors = answers.iter().filter_map(code).collect();
    (ok, errors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_batches_of_sixteen_at_once_all_succeed_in_counter_order() {
    let a = FakeAppliance::start(true).await;
    let c = start(&[&a.spec], &["--call-timeout-ms", "600000"]);
    wait_link(&c, &a.spec, true).await;
    // Ten clients, each one batch of 16 increasing counters, all sent at once: 160 frames
    // against a bucket of 64 refilled at 1,000/s.
    let bodies: Vec<String> = (1..=10).map(|client| batch(client, 1, 16)).collect();
    let answers = futures_join(bodies.iter().map(|b| call(&c, b))).await;
    let mut ok = 0;
    for (status, v) in answers {
        assert_eq!(status, 200);
        let (n, errors) = results(&v.expect("answers"));
        assert!(errors.is_empty(), "errors {errors:?}");
        ok += n;
    }
    assert_eq!(ok, 160);
    assert_eq!(a.seen.stale.load(Ordering::SeqCst), 0, "counters reordered");
    assert_eq!(
        a.seen.rate_limited.load(Ordering::SeqCst),
        0,
        "sent beyond the bucket"
    );
    assert_eq!(a.seen.passed.load(Ordering::SeqCst), 160);
}

/// Runs futures concurrently on this task (no extra crate needed for a join of N).
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("ready")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_at_once_with_overloaded_and_nothing_is_rate_limited() {
    let a = FakeAppliance::start(true).await;
    // A verifier that refills one token a second and a queue of 4: a batch of 16 cannot all
    // wait, and the ones that cannot are refused with -32006 instead of being dropped.
    let c = start(
        &[&a.spec],
        &[
            "--rate-burst",
            "2",
            "--rate-refill-per-s",
            "1",
            "--queue",
            "4",
            "--call-timeout-ms",
            "600000",
        ],
    );
    wait_link(&c, &a.spec, true).await;
    // Nothing sent yet, so the stand-in's full bucket of 64 is far above ours.
    let (_, v) = call(&c, &batch(3, 1, 16)).await;
    let v = v.expect("answers");
    let (_, errors) = results(&v);
    let overloaded = errors.iter().filter(|&&e| e == rpc::OVERLOADED).count();
    assert!(overloaded >= 16 - 1 - 4 - 1, "{v}");
    assert!(errors.iter().all(|&e| e == rpc::OVERLOADED), "{v}");
    assert_eq!(a.seen.rate_limited.load(Ordering::SeqCst), 0);
    assert_eq!(a.seen.stale.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_get_link_down_at_once_when_their_link_is_lost() {
    // A verifier whose wallet never answers: calls wait... until the link goes.
    let a = FakeAppliance::start(false).await;
    let c = start(&[&a.spec], &["--call-timeout-ms", "600000"]);
    wait_link(&c, &a.spec, true).await;
    let seen = std::sync::Arc::clone(&a.seen);
    let calls = tokio::spawn({
        let body = batch(4, 1, 8);
        let endpoint = c.endpoint.clone();
        async move { rpc::post(&endpoint, body.into_bytes(), PATIENCE).await }
    });
    // Every frame is with the verifier: the calls are in flight.
    while seen.passed.load(Ordering::SeqCst) < 8 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    a.kill().await;
    // With a 600 s call time, only the link loss can end these calls within PATIENCE.
    let (status, bytes) = calls.await.expect("task").expect("answer");
    assert_eq!(status.as_u16(), 200);
    let v: Value = serde_json::from_slice(&bytes).expect("JSON");
    for answer in v.as_array().expect("batch") {
        assert_eq!(code(answer), Some(rpc::LINK_DOWN), "{answer}");
        assert_eq!(answer["error"]["data"], json!({"sent": true}));
    }
    // A new call with no link up is refused at once, and says nothing was sent.
    let (_, v) = call(&c, &call_body(1, 4, 9).to_string()).await;
    let v = v.expect("answer");
    assert_eq!(code(&v), Some(rpc::LINK_DOWN));
    assert_eq!(v["error"]["data"], json!({"sent": false}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_move_to_the_other_link_when_one_appliance_is_lost() {
    let a = FakeAppliance::start(true).await;
    let b = FakeAppliance::start(true).await;
    let c = start(&[&a.spec, &b.spec], &["--call-timeout-ms", "600000"]);
    wait_link(&c, &a.spec, true).await;
    wait_link(&c, &b.spec, true).await;
    // Client 2's home is link 0 (2 mod 2): appliance a.
    let mut counter = 0u64;
    for _ in 0..5 {
        counter += 1;
        let (_, v) = call(&c, &call_body(counter, 2, counter).to_string()).await;
        assert!(v.expect("answer").get("result").is_some());
    }
    assert_eq!(a.seen.passed.load(Ordering::SeqCst), 5);
    assert_eq!(b.seen.passed.load(Ordering::SeqCst), 0);
    let b_seen = std::sync::Arc::clone(&b.seen);
    let a_spec = a.spec.clone();
    a.kill().await;
    wait_link(&c, &a_spec, false).await;
    // Every call now goes to b and is answered; none hangs (600 s call time, 60 s safety net).
    for _ in 0..20 {
        counter += 1;
        let (_, v) = call(&c, &call_body(counter, 2, counter).to_string()).await;
        let v = v.expect("answer");
        assert!(v.get("result").is_some(), "{v}");
    }
    assert_eq!(b_seen.passed.load(Ordering::SeqCst), 20);
    let (status, body) = scrape(&c, "/health").await;
    assert_eq!(status, 200, "one link up is healthy: {body}");
    let (_, metrics) = scrape(&c, "/metrics").await;
    assert!(
        metrics.contains("coldgate_converter_in_link_up{link=\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("coldgate_converter_in_calls_total{method=\"getpubkey\"} 25"),
        "{metrics}"
    );
}
