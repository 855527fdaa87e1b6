//! Codec properties: round trips, strict lengths, precise errors, no panics on any input.

use coldgate_spec::field::{self, body, header, FRAME_LEN};
use coldgate_spec::{
    auth, checksum, config, json, Body, DecodeError, DropReason, Frame, LaneId, MsgType, Notice,
    Payment, RejectReason,
};
use proptest::prelude::*;

pub fn arb_payment() -> impl Strategy<Value = Payment> {
    (
        1..=u32::MAX,
        any::<[u8; 32]>(),
        any::<u32>(),
        1..=config::SIGN_AMOUNT_CEILING,
        0..=config::MAX_MONEY / 2,
        any::<[u8; 32]>(),
    )
        .prop_map(
            |(key_id, txid, vout, amount, change, destination)| Payment {
                key_id,
                txid,
                vout,
                input_amount: (amount + change).max(1),
                destination,
                amount,
                change,
            },
        )
}

fn arb_body() -> impl Strategy<Value = Body> {
    let sig = proptest::collection::vec(any::<u8>(), 64)
        .prop_map(|v| <[u8; 64]>::try_from(v).expect("64 bytes"));
    prop_oneof![
        Just(Body::NewKey),
        (1..=u32::MAX).prop_map(|key_id| Body::GetPubkey { key_id }),
        arb_payment().prop_map(Body::SignPayment),
        (1..=u64::MAX).prop_map(|reference| Body::PaymentStatus { reference }),
        (1..=u32::MAX, any::<[u8; 32]>()).prop_map(|(key_id, key)| Body::Pubkey { key_id, key }),
        (1..=u32::MAX, sig, 1..=u64::MAX).prop_map(|(key_id, signature, reference)| {
            Body::Signature {
                key_id,
                signature,
                reference,
            }
        }),
        (1..=u64::MAX).prop_map(|reference| Body::Held { reference }),
        proptest::sample::select(RejectReason::ALL.to_vec())
            .prop_map(|reason| Body::Reject { reason }),
    ]
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    (1..=u32::MAX, 1..=u64::MAX, arb_body(), any::<[u8; 32]>()).prop_map(
        |(client_id, counter, body, tag)| Frame {
            client_id,
            counter,
            body,
            tag,
        },
    )
}

proptest! {
    #[test]
    fn round_trip_every_type(f in arb_frame()) {
        let bytes = f.encode().expect("valid frame encodes");
        prop_assert_eq!(bytes.len(), FRAME_LEN);
        let back = Frame::decode(&bytes).expect("encoded frame decodes");
        prop_assert_eq!(back, f);
        // Re-encoding gives back exactly the bytes consumed.
        prop_assert_eq!(back.encode().expect("re-encodes"), bytes);
        // The JSON form round-trips too.
        prop_assert_eq!(json::from_json(&json::to_json(&f)).expect("json"), f);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2 * FRAME_LEN)) {
        let _ = Frame::decode(&bytes);
    }

    #[test]
    fn decode_of_mutated_frame_never_panics(f in arb_frame(), at in 0..FRAME_LEN, v in any::<u8>()) {
        let mut bytes = f.encode().expect("valid").to_vec();
        bytes[at] = v;
        match Frame::decode(&bytes) {
            Ok(g) => prop_assert_eq!(g.encode().expect("decoded frames encode").to_vec(), bytes),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn tag_binds_every_byte_before_it(f in arb_frame(), at in 0..field::TAG.start, bit in 0..8u8) {
        let secret = [9u8; 32];
        let sealed = Frame::sealed(f.client_id, f.counter, f.body, &secret).expect("valid");
        let mut bytes = sealed.encode().expect("valid").to_vec();
        prop_assert!(auth::verify(&secret, &bytes));
        bytes[at] ^= 1 << bit;
        prop_assert!(!auth::verify(&secret, &bytes));
        prop_assert!(!auth::verify(&[8u8; 32], &sealed.encode().expect("valid")));
    }
}

#[test]
fn lengths_other_than_frame_len_are_refused() {
    let f = Frame {
        client_id: 1,
        counter: 1,
        body: Body::NewKey,
        tag: [0; 32],
    };
    let bytes = f.encode().expect("valid").to_vec();
    for len in [0, 1, FRAME_LEN - 1, FRAME_LEN + 1, 2 * FRAME_LEN] {
        let mut b = bytes.clone();
        b.resize(len, 0);
        assert_eq!(Frame::decode(&b), Err(DecodeError::Length { got: len }));
    }
}

#[test]
fn errors_name_the_field() {
    let p = coldgate_spec::vectors::sample_payment();
    let f = Frame {
        client_id: 3,
        counter: 4,
        body: Body::SignPayment(Payment {
            amount: config::SIGN_AMOUNT_CEILING + 1,
            ..p
        }),
        tag: [0; 32],
    };
    let err = f.encode().expect_err("over the ceiling");
    let text = err.to_string();
    assert!(text.contains("amount"), "{text}");
    assert!(
        text.contains(&config::SIGN_AMOUNT_CEILING.to_string()),
        "{text}"
    );
    assert_eq!(err.0.drop_reason(), Some(DropReason::OutOfRange));

    let mut bytes = Frame {
        body: Body::NewKey,
        ..f
    }
    .encode_unchecked()
    .to_vec();
    bytes[header::VERSION.start] = 9;
    let err = Frame::decode(&bytes).expect_err("bad version");
    assert!(
        matches!(
            err,
            DecodeError::Field {
                field: "version",
                offset: 4,
                ..
            }
        ),
        "{err}"
    );
    let mut bytes = Frame {
        body: Body::NewKey,
        ..f
    }
    .encode_unchecked()
    .to_vec();
    bytes[body::get_pubkey::KEY_ID.start + 1] = 1;
    let err = Frame::decode(&bytes).expect_err("reserved body byte");
    assert_eq!(
        err.drop_reason(),
        Some(DropReason::ReservedNonZero),
        "{err}"
    );
    let mut bytes = Frame {
        body: Body::NewKey,
        ..f
    }
    .encode_unchecked()
    .to_vec();
    bytes[field::CRC.start] ^= 0xFF;
    assert!(matches!(
        Frame::decode(&bytes),
        Err(DecodeError::Crc { .. })
    ));
}

#[test]
fn notice_frames_decode_with_zero_header_when_unreadable() {
    let n = Notice {
        reason: DropReason::BadConst,
        field: 1,
        lane: LaneId::Request,
        readable: false,
    };
    let w = coldgate_spec::golden::notice_frame(0, 0, n);
    let f = Frame::decode(&w).expect("notice decodes");
    assert_eq!(f.body, Body::Notice(n));
    assert_eq!((f.client_id, f.counter, f.tag), (0, 0, [0; 32]));
}

#[test]
fn crc_trailer_is_little_endian_and_leaves_the_residue() {
    let f = Frame {
        client_id: 1,
        counter: 1,
        body: Body::NewKey,
        tag: [0; 32],
    };
    let bytes = f.encode().expect("valid");
    let crc = checksum::checksum(&bytes[..field::CRC.start]);
    assert_eq!(&bytes[field::CRC], &crc.to_le_bytes());
    let reg = bytes
        .iter()
        .fold(checksum::INIT, |r, &b| checksum::update_register(r, b));
    assert_eq!(reg, checksum::RESIDUE);
}

#[test]
fn json_errors_are_precise() {
    let f = Frame {
        client_id: 1,
        counter: 2,
        body: Body::GetPubkey { key_id: 5 },
        tag: [7; 32],
    };
    let good = json::to_json(&f);
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (serde_json::json!([]), "frame"),
        (
            {
                let mut v = good.clone();
                v["type"] = "nope".into();
                v
            },
            "type",
        ),
        (
            {
                let mut v = good.clone();
                v["key_id"] = "x".into();
                v
            },
            "key_id",
        ),
        (
            {
                let mut v = good.clone();
                v["key_id"] = (1u64 << 40).into();
                v
            },
            "key_id",
        ),
        (
            {
                let mut v = good.clone();
                v["tag"] = "00".into();
                v
            },
            "tag",
        ),
        (
            {
                let mut v = good.clone();
                v["extra"] = 1.into();
                v
            },
            "extra",
        ),
        (
            {
                let mut v = good.clone();
                v["client_id"] = 0.into();
                v
            },
            "frame",
        ),
        (
            {
                let mut v = good.clone();
                v.as_object_mut().unwrap().remove("counter");
                v
            },
            "counter",
        ),
    ];
    for (v, member) in cases {
        let e = json::from_json(&v).expect_err("invalid");
        assert_eq!(e.member, member, "{v}: {e}");
    }
    assert_eq!(json::from_json(&good), Ok(f));
}

#[test]
fn closed_sets_round_trip_by_value_and_name() {
    for t in MsgType::ALL {
        assert_eq!(MsgType::from_u8(t as u8), Some(t));
        assert_eq!(MsgType::from_name(t.name()), Some(t));
    }
    for r in RejectReason::ALL {
        assert_eq!(RejectReason::from_name(r.name()), Some(r));
    }
    for r in DropReason::ALL {
        assert_eq!(DropReason::from_u8(r as u8), Some(r));
    }
    assert_eq!(MsgType::from_u8(0), None);
}
