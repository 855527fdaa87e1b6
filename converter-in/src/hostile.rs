//! HOSTILE MODES, for tests and the demo only (off unless `--hostile` is given).
//!
//! They make converter-in behave like a compromised converter, to show what such a converter
//! can and cannot achieve: it can delay or drop requests, nothing more.
//!
//! * `mutate`: alters a field of the client's frame and re-computes the CRC, so every wire rule
//!   holds and the verifier passes the frame; the wallet's tag check refuses it (`bad_tag`).
//!   For a payment it swaps in [`ATTACKER_DESTINATION`].
//! * `replay`: sends an earlier frame of the session instead of the client's current one (and
//!   waits for the earlier frame's answer); the wallet refuses it (`stale_counter`).
//! * `inject`: sends garbage and then the client's frame with a broken CRC; the verifier skips
//!   the garbage and drops the frame with a NOTICE (`bad_crc`).

use coldgate_spec::codec::{Body, Frame, Wire};
use coldgate_spec::field::CRC;

/// What a compromised converter-in does to each request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Hostile {
    /// Honest: frames go out exactly as the client built them.
    #[default]
    Off,
    Mutate,
    Replay,
    Inject,
}

/// The key a hostile converter would like payments to go to.
pub const ATTACKER_DESTINATION: [u8; 32] = [0xA7; 32];

/// Bytes sent before an injected frame: no magic, so the verifier skips them silently.
pub const GARBAGE: [u8; 16] = *b"not-a-frame!\x00\x01\x02\x03";

/// The request with one field changed and a valid CRC. The tag is the client's, over the
/// original bytes, so it no longer matches.
pub fn mutate(request: &Frame) -> Wire {
    let mut f = *request;
    match &mut f.body {
        Body::SignPayment(p) => p.destination = ATTACKER_DESTINATION,
        Body::GetPubkey { key_id } => *key_id = key_id.checked_add(1).unwrap_or(1),
        Body::PaymentStatus { reference } => *reference = reference.checked_add(1).unwrap_or(1),
        // No body to alter: alter the tag itself, which the rules cannot see either.
        _ => f.tag[0] ^= 0x01,
    }
    let bytes = f.encode_unchecked();
    let mut wire = [0u8; coldgate_spec::FRAME_LEN];
    wire.copy_from_slice(&bytes);
    wire
}

/// The frame with its CRC trailer broken (every other byte intact, so its header stays
/// readable and the verifier's NOTICE names the client id and counter).
pub fn break_crc(wire: &Wire) -> Wire {
    let mut w = *wire;
    w[CRC.start] ^= 0xFF;
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::codec::check;
    use coldgate_spec::golden::{Lane, Verdict};
    use coldgate_spec::vectors::{sample_bodies, SECRET};
    use coldgate_spec::{DropReason, LaneConfig};

    fn requests() -> Vec<Frame> {
        sample_bodies()
            .into_iter()
            .filter(|(_, b)| b.msg_type().is_request())
            .enumerate()
            .map(|(i, (_, b))| Frame::sealed(3, 10 + i as u64, b, &SECRET).expect("valid"))
            .collect()
    }

    #[test]
    fn mutated_frames_pass_every_rule_but_fail_the_tag() {
        for f in requests() {
            let w = mutate(&f);
            assert!(check(None, &w).is_ok(), "{:?}", f.body);
            assert!(!coldgate_spec::auth::verify(&SECRET, &w));
            let mut lane = Lane::new(LaneConfig::REQUEST);
            assert!(matches!(lane.push_all(&w)[..], [Verdict::Pass(_)]));
        }
    }

    #[test]
    fn injected_frames_are_dropped_with_a_readable_notice() {
        for f in requests() {
            let mut lane = Lane::new(LaneConfig::REQUEST);
            let mut input = GARBAGE.to_vec();
            input.extend_from_slice(&break_crc(&f.to_wire().expect("valid")));
            match &lane.push_all(&input)[..] {
                [Verdict::Drop(d)] => {
                    assert_eq!(d.notice.reason, DropReason::BadCrc);
                    assert!(d.notice.readable);
                    assert_eq!((d.client_id, d.counter), (f.client_id, f.counter));
                }
                other => panic!("expected one drop, got {other:?}"),
            }
        }
    }
}
