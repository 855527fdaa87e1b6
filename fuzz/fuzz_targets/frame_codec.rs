//! The frame decoder on any bytes: it never panics; whatever it accepts re-encodes to exactly
//! the bytes it was given, survives the JSON form, and passes the two-phase check; whatever it
//! refuses names a drop reason (or, for a wrong length, none).
#![no_main]

use coldgate_spec::codec::{self, DecodeError, Frame};
use coldgate_spec::json::{from_json, to_json};
use coldgate_spec::FRAME_LEN;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let checked = codec::check(None, data);
    match Frame::decode(data) {
        Ok(f) => {
            assert_eq!(checked.as_ref().ok(), Some(&f.body.msg_type()));
            let again = f.encode().expect("a decoded frame encodes");
            assert_eq!(&again[..], data, "re-encoding changed the bytes");
            assert_eq!(f.to_wire().expect("wire")[..], data[..]);
            let j = to_json(&f);
            assert_eq!(from_json(&j).expect("JSON form of a decoded frame"), f);
        }
        Err(e) => {
            assert_eq!(checked.err(), Some(e.clone()), "check and decode disagree");
            match e {
                DecodeError::Length { got } => {
                    assert_ne!(got, FRAME_LEN);
                    assert_eq!(got, data.len());
                }
                other => {
                    assert_eq!(data.len(), FRAME_LEN);
                    assert!(other.drop_reason().is_some());
                }
            }
        }
    }
});
