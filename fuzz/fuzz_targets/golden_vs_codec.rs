//! The golden lane against the codec on any byte stream (first byte: which lane). Every
//! pass is a frame the codec accepts for that lane, taken from the stream's last 152 bytes;
//! every drop whose whole frame window is in the stream is one the codec refuses for the same
//! reason and field; every NOTICE is well formed and carries the dropped frame's header only
//! when it was readable; the counters count the verdicts.
#![no_main]

use coldgate_spec::codec::{self, Body, Frame};
use coldgate_spec::field::{self, header};
use coldgate_spec::{DropReason, Lane, LaneConfig, LaneId, Verdict, FRAME_LEN, MAGIC, NO_FIELD};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let lane_id = if first & 1 == 0 {
        LaneId::Request
    } else {
        LaneId::Response
    };
    // Rate limiting is about time, not bytes: the codec comparison runs without it.
    let mut lane = Lane::new(LaneConfig {
        rate_burst: None,
        ..LaneConfig::for_lane(lane_id)
    });
    let (mut passes, mut drops) = (0u32, 0u64);
    for (i, &b) in stream.iter().enumerate() {
        match lane.push(b) {
            None => {}
            Some(Verdict::Pass(w)) => {
                passes += 1;
                let start = i + 1 - FRAME_LEN;
                assert_eq!(&w[..], &stream[start..=i], "a pass is the stream's bytes");
                assert!(
                    codec::check(Some(lane_id), &w[..]).is_ok(),
                    "passed a bad frame"
                );
            }
            Some(Verdict::Drop(d)) => {
                drops += 1;
                let start = i - d.at;
                assert_eq!(&stream[start..start + MAGIC.len()], &MAGIC[..]);
                assert!(d.at >= MAGIC.len() && d.at < FRAME_LEN);
                let n = Frame::decode(&d.frame).expect("a NOTICE decodes");
                assert_eq!(n.body, Body::Notice(d.notice));
                assert_eq!(d.notice.lane, lane_id);
                assert_ne!(d.notice.reason, DropReason::RateLimited);
                assert_eq!((n.client_id, n.counter), (d.client_id, d.counter));
                if d.notice.readable {
                    assert!(
                        d.at >= header::COUNTER.end - 1,
                        "readable before the header"
                    );
                    let h = &stream[start..];
                    assert_eq!(
                        u64::from(d.client_id),
                        field::read_be(&h[header::CLIENT_ID])
                    );
                    assert_eq!(d.counter, field::read_be(&h[header::COUNTER]));
                } else {
                    assert_eq!((d.client_id, d.counter), (0, 0));
                }
                assert_ne!(d.notice.field, NO_FIELD);
                if let Some(window) = stream.get(start..start + FRAME_LEN) {
                    let e = codec::check(Some(lane_id), window).expect_err("dropped a good frame");
                    assert_eq!(e.drop_reason(), Some(d.notice.reason), "at {}", d.at);
                    if let codec::DecodeError::Field { index, .. } = e {
                        assert_eq!(index, d.notice.field, "field of the drop");
                    }
                }
            }
        }
    }
    assert_eq!(lane.counters().passed, passes);
    assert_eq!(lane.counters().total_dropped(), drops);
});
