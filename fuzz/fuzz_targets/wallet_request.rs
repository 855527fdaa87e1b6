//! The wallet's request handling over a real store file. First byte 0: the rest is an HTTP
//! body for the JSON-RPC layer (always answered with well-formed JSON-RPC 2.0, or nothing for
//! notifications). First byte 1: the rest is a wire frame; when it decodes, it is re-sealed
//! as the next request of a registered client, so the fuzzer reaches key, policy and payment
//! handling, and the answer must be that client's (its id, counter and tag).
#![no_main]

use std::sync::Mutex;

use coldgate_spec::codec::Frame;
use coldgate_spec::vectors::SECRET;
use coldgate_wallet::rpc::handle_body;
use coldgate_wallet::{KdfParams, Policy, Store, Wallet};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const CLIENT: u32 = 7;
const T0: i64 = 1_700_000_000;

struct World {
    wallet: Wallet,
    counter: u64,
    now: i64,
    _dir: std::path::PathBuf,
}

fn world() -> &'static Mutex<World> {
    static W: std::sync::OnceLock<Mutex<World>> = std::sync::OnceLock::new();
    W.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("coldgate-fuzz-wallet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        // A cheap KDF: the fuzzer is after request handling, not key stretching.
        let kdf = KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let mut store = Store::init(&dir.join("w.db"), b"fuzz", &kdf, T0).expect("store");
        let t = store.begin().expect("txn");
        t.add_client(CLIENT, &SECRET, T0).expect("client");
        t.commit().expect("commit");
        let mut policy = Policy::new(1_000_000, 500_000, 10_000, 3_000_000, 50, 5_000_000, 80, 3);
        policy.validate().expect("policy");
        Mutex::new(World {
            wallet: Wallet::new(store, policy),
            counter: 0,
            now: T0,
            _dir: dir,
        })
    })
}

fn well_formed(r: &Value) {
    assert_eq!(r["jsonrpc"], "2.0", "{r}");
    let has_result = r.get("result").is_some();
    let has_error = r["error"]["code"].is_i64() && r["error"]["message"].is_string();
    assert!(has_result ^ has_error, "{r}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut w = world().lock().unwrap_or_else(|p| p.into_inner());
    w.now += 1;
    let now = w.now;
    if mode & 1 == 0 {
        match handle_body(rest, |f| w.wallet.handle(f, now)) {
            None => {}
            Some(Value::Array(rs)) => rs.iter().for_each(well_formed),
            Some(r) => well_formed(&r),
        }
        return;
    }
    let Ok(f) = Frame::decode(rest) else {
        return;
    };
    if !f.body.msg_type().is_request() {
        return;
    }
    w.counter += 1;
    let counter = w.counter;
    let Ok(request) = Frame::sealed(CLIENT, counter, f.body, &SECRET) else {
        return;
    };
    let answer = w.wallet.handle(&request, now);
    assert_eq!((answer.client_id, answer.counter), (CLIENT, counter));
    assert!(
        answer.verify(&SECRET),
        "answer not tagged with the client's secret"
    );
    assert!(!answer.body.msg_type().is_request(), "{answer:?}");
    answer
        .to_wire()
        .expect("the wallet's answer is a valid frame");
});
