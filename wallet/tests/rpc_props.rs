//! Property tests of the JSON-RPC layer over a real wallet: whatever the bytes, the answer is
//! well-formed JSON-RPC 2.0 and nothing panics; mutated frames never get a signature.

mod common;

use coldgate_spec::json::to_json;
use coldgate_spec::{Body, Frame};
use coldgate_wallet::rpc::handle_body;
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

fn well_formed(v: &Value) {
    let check = |r: &Value| {
        assert_eq!(r["jsonrpc"], "2.0", "{r}");
        let has_result = r.get("result").is_some();
        let has_error = r["error"]["code"].is_i64() && r["error"]["message"].is_string();
        assert!(has_result ^ has_error, "{r}");
    };
    match v {
        Value::Array(rs) => rs.iter().for_each(check),
        r => check(r),
    }
}

/// JSON values shaped like requests: the members a request has, holding anything.
fn request_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            "2.0",
            "getnewkey",
            "signpayment",
            "new_key",
            "sign_payment",
            ""
        ])
        .prop_map(Value::from),
        "[0-9a-f]{0,66}".prop_map(Value::from),
    ];
    let names = prop::sample::select(vec![
        "jsonrpc",
        "id",
        "method",
        "params",
        "type",
        "client_id",
        "counter",
        "tag",
        "key_id",
    ])
    .prop_map(String::from);
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(names.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_json_gets_a_well_formed_answer(v in request_like()) {
        let mut local = Local::new("props-json", policy());
        if let Some(answer) = handle_body(v.to_string().as_bytes(), |f| local.wallet.handle(f, T0)) {
            well_formed(&answer);
        }
    }

    #[test]
    fn any_bytes_get_a_well_formed_answer(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut local = Local::new("props-bytes", policy());
        if let Some(v) = handle_body(&bytes, |f| local.wallet.handle(f, T0)) {
            well_formed(&v);
        }
    }

    /// One member of a valid, correctly tagged sign request replaced by another JSON value:
    /// a JSON-RPC error, or a wallet REJECT, never a signature (the tag covers every field).
    #[test]
    fn mutated_sign_requests_are_never_signed(
        member in prop::sample::select(vec!["type", "client_id", "counter", "tag", "key_id", "txid",
            "vout", "input_amount", "destination", "amount", "change", "extra"]),
        value in prop_oneof![
            any::<u64>().prop_map(|n| json!(n)),
            any::<i64>().prop_map(|n| json!(n)),
            "[0-9a-f]{0,70}".prop_map(Value::String),
            Just(Value::Null),
            Just(json!([])),
            Just(json!(1.5)),
        ],
    ) {
        let mut local = Local::new("props-mutate", policy());
        let mut a = local.add_client(1);
        let (k, _) = local.new_key(&mut a);
        let f: Frame = a.frame(Body::SignPayment(payment(k, 10_000, 0)));
        let mut params = to_json(&f);
        params[member] = value;
        let req = json!({"jsonrpc": "2.0", "id": 1, "method": "signpayment", "params": params});
        let v = handle_body(req.to_string().as_bytes(), |f| local.wallet.handle(f, T0)).unwrap();
        well_formed(&v);
        if let Some(result) = v.get("result") {
            let unchanged = result["type"] == "signature" && params == to_json(&f);
            prop_assert!(result["type"] == "reject" || unchanged, "{v}");
        }
    }
}
