//! Property: whatever body arrives, dispatch answers with well-formed JSON-RPC and never
//! panics (the link here leads nowhere, so valid calls end in LINK_DOWN).

use std::sync::Arc;

use coldgate_converter_in::gateway::{Gateway, GatewayConfig};
use coldgate_converter_in::metrics::Metrics;
use coldgate_converter_in::rpc;
use coldgate_converter_in::server::{dispatch, Limits};
use coldgate_link::{FrameLink, Link, LinkOptions, LinkSpec, Role};
use coldgate_spec::codec::{Body, Frame};
use coldgate_spec::json::to_json;
use coldgate_spec::vectors::{sample_payment, SECRET};
use proptest::prelude::*;
use serde_json::{json, Value};

fn runtime_and_gateway() -> (tokio::runtime::Runtime, Arc<Gateway>) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let gateway = rt.block_on(async {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let spec: LinkSpec = format!("tcp:127.0.0.1:{port}").parse().expect("spec");
        let link = Link::open(&spec, Role::Peer, LinkOptions::named("nowhere"))
            .await
            .expect("link");
        let config = GatewayConfig {
            max_pending: 16,
            ..GatewayConfig::default()
        };
        Gateway::start(
            vec![FrameLink::new(link)],
            config,
            Arc::new(Metrics::default()),
        )
    });
    (rt, gateway)
}

const CODES: [i64; 5] = [
    rpc::PARSE_ERROR,
    rpc::INVALID_REQUEST,
    rpc::METHOD_NOT_FOUND,
    rpc::INVALID_PARAMS,
    rpc::LINK_DOWN,
];

fn check_response(r: &Value) -> Result<(), TestCaseError> {
    prop_assert_eq!(&r["jsonrpc"], &json!("2.0"));
    prop_assert!(r.get("id").is_some());
    let code = r["error"]["code"].as_i64();
    prop_assert!(code.is_some_and(|c| CODES.contains(&c)), "{}", r);
    Ok(())
}

fn parsed(text: &str) -> Result<Value, TestCaseError> {
    serde_json::from_str(text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("2.0"),
            Just("getnewkey"),
            Just("getpubkey"),
            Just("signpayment"),
            Just("paymentstatus"),
            Just("sign_payment"),
            Just("new_key"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("jsonrpc".to_string()),
                    Just("id".to_string()),
                    Just("method".to_string()),
                    Just("params".to_string()),
                    Just("type".to_string()),
                    Just("amount".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid request with one member replaced by an arbitrary value.
fn tampered_call() -> impl Strategy<Value = Value> {
    let frame =
        to_json(&Frame::sealed(2, 9, Body::SignPayment(sample_payment()), &SECRET).expect("frame"));
    let members: Vec<String> = frame.as_object().expect("object").keys().cloned().collect();
    (proptest::sample::select(members), json_value()).prop_map(move |(k, v)| {
        let mut params = frame.clone();
        params[k.as_str()] = v;
        json!({"jsonrpc": "2.0", "id": 1, "method": "signpayment", "params": params})
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_get_json_rpc_answers(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (rt, g) = runtime_and_gateway();
        let answer = rt.block_on(dispatch(&g, &Limits::default(), &body));
        // Bytes that happen to be JSON may hold only notifications; anything else is answered.
        if let Some(text) = answer {
            let v = parsed(&text)?;
            match &v {
                Value::Array(rs) => for r in rs { check_response(r)?; },
                r => check_response(r)?,
            }
        }
    }

    #[test]
    fn arbitrary_json_gets_json_rpc_answers(v in json_value()) {
        let (rt, g) = runtime_and_gateway();
        let body = v.to_string();
        if let Some(text) = rt.block_on(dispatch(&g, &Limits::default(), body.as_bytes())) {
            let a = parsed(&text)?;
            match &a {
                Value::Array(rs) => for r in rs { check_response(r)?; },
                r => check_response(r)?,
            }
        }
    }

    #[test]
    fn tampered_frames_are_invalid_params_or_still_valid(call in tampered_call()) {
        let (rt, g) = runtime_and_gateway();
        let text = rt.block_on(dispatch(&g, &Limits::default(), call.to_string().as_bytes()))
            .expect("a call with an id is answered");
        let a = parsed(&text)?;
        check_response(&a)?;
        let code = a["error"]["code"].as_i64();
        prop_assert!(code == Some(rpc::INVALID_PARAMS) || code == Some(rpc::LINK_DOWN), "{}", a);
    }
}

/// An id as a client may write it: integers beyond 64 bits, negative, fractional, exponents,
/// strings with escapes.
fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u128>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 0u32..1_000_000).prop_map(|(a, b)| format!("{a}.{b:06}")),
        (1u32..999, -300i32..300).prop_map(|(a, e)| format!("{a}e{e}")),
        "[a-z0-9 ]{0,12}".prop_map(|s| format!("\"{s}\\u00e9\\n\"")),
        Just("18446744073709551617".to_string()),
        Just("null".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Issue 13: 18446744073709551617 came back as 1.8446744073709552e+19.
    #[test]
    fn ids_are_echoed_byte_for_byte(id in id_text(), batch in any::<bool>()) {
        let (rt, g) = runtime_and_gateway();
        let call = format!(
            r#"{{"jsonrpc": "2.0", "id": {id}, "method": "getnewkey", "params": {}}}"#,
            to_json(&Frame::sealed(2, 9, Body::NewKey, &SECRET).expect("frame"))
        );
        let body = if batch { format!("[{call}, {call}]") } else { call };
        let text = rt.block_on(dispatch(&g, &Limits::default(), body.as_bytes()))
            .expect("answered");
        let needle = format!(r#""id":{id},"#);
        prop_assert_eq!(text.matches(&needle).count(), if batch { 2 } else { 1 }, "{}", text);
    }
}
