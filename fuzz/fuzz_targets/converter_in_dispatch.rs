//! converter-in's JSON-RPC dispatch on any HTTP body, with a gateway whose link leads
//! nowhere (so calls that get as far as the link end in LINK_DOWN): it never panics and always
//! answers well-formed JSON-RPC 2.0 with one of its documented error codes, or nothing for a
//! body of notifications only.
#![no_main]

use std::sync::{Arc, OnceLock};

use coldgate_converter_in::gateway::{Gateway, GatewayConfig};
use coldgate_converter_in::metrics::Metrics;
use coldgate_converter_in::rpc;
use coldgate_converter_in::server::{dispatch, Limits};
use coldgate_link::{FrameLink, Link, LinkOptions, LinkSpec, Role};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct World {
    rt: tokio::runtime::Runtime,
    gateway: Arc<Gateway>,
    limits: Limits,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let gateway = rt.block_on(async {
            // A port nobody listens on: the link stays down.
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
        World {
            rt,
            gateway,
            limits: Limits::default(),
        }
    })
}

// INTERNAL_ERROR is left out on purpose: dispatch answers it when a call's task panicked.
const CODES: [i64; 5] = [
    rpc::PARSE_ERROR,
    rpc::INVALID_REQUEST,
    rpc::METHOD_NOT_FOUND,
    rpc::INVALID_PARAMS,
    rpc::LINK_DOWN,
];

fn check(r: &Value) {
    assert_eq!(r["jsonrpc"], "2.0", "{r}");
    assert!(r.get("id").is_some(), "{r}");
    let code = r["error"]["code"].as_i64();
    assert!(code.is_some_and(|c| CODES.contains(&c)), "{r}");
    assert!(r["error"]["message"].is_string(), "{r}");
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let answer = w.rt.block_on(dispatch(&w.gateway, &w.limits, data));
    let answer = answer
        .map(|text| serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{e}: {text}")));
    match answer {
        None => {}
        Some(Value::Array(rs)) => {
            assert!(!rs.is_empty());
            rs.iter().for_each(check);
        }
        Some(r) => check(&r),
    }
    assert_eq!(
        w.gateway.waiting(),
        0,
        "a finished call left a waiter behind"
    );
});
