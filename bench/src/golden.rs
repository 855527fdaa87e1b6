//! Golden verifier throughput, against the CRC of the same bytes (the least any verifier does).

use coldgate_spec::vectors::{sample_bodies, sealed};
use coldgate_spec::{checksum, Lane, LaneConfig, Verdict};
use serde_json::{json, Value};

use crate::measure::{mb_per_s, repeat};

pub fn run(seconds: f64) -> Value {
    // A mixed request stream: every request type, back to back, with some garbage between.
    let mut stream = vec![];
    for (i, (_, body)) in sample_bodies().into_iter().enumerate() {
        if body.msg_type().is_request() {
            stream.extend_from_slice(&sealed(i as u64 + 1, body));
            stream.extend_from_slice(&[0x00, 0xC0, 0x1D, 0xFF]);
        }
    }
    let stream = stream.repeat(256);
    let config = LaneConfig {
        rate_burst: None,
        ..LaneConfig::REQUEST
    };
    let mut passed = 0u64;
    let (n, t) = repeat(seconds, || {
        let mut lane = Lane::new(config);
        for &b in &stream {
            if let Some(Verdict::Pass(_)) = lane.push(b) {
                passed += 1;
            }
        }
    });
    let golden = mb_per_s(n * stream.len() as u64, t);
    let mut sink = 0u32;
    let (n, t) = repeat(seconds, || sink ^= checksum::checksum(&stream));
    let crc = mb_per_s(n * stream.len() as u64, t);
    json!({
        "golden_mb_per_s": golden,
        "crc_baseline_mb_per_s": crc,
        "golden_vs_crc": golden / crc,
        "frames_passed": passed,
        "checksum_sink": sink,
    })
}
