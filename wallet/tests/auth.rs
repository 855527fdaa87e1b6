//! Client authentication and key ownership, against a real store: unknown clients, wrong
//! tags, replayed and stale counters, a foreign client's key; and the store's own defences.

mod common;

use coldgate_spec::{Body, Frame, RejectReason};
use coldgate_wallet::{Store, StoreError};
use common::*;
use RejectReason::*;

fn reject(reason: RejectReason) -> Body {
    Body::Reject { reason }
}

#[test]
fn unknown_client_gets_a_zero_tag() {
    let mut local = Local::new("unknown", policy());
    let mut stranger = Client::new(9, [9; 32]);
    let f = stranger.frame(Body::NewKey);
    let r = local.wallet.handle(&f, T0);
    assert_eq!(r.body, reject(UnknownClient));
    assert_eq!((r.client_id, r.counter, r.tag), (9, f.counter, [0; 32]));
    r.encode().unwrap();
}

#[test]
fn wrong_tags_are_refused_without_using_the_counter() {
    let mut local = Local::new("tags", policy());
    let mut a = local.add_client(1);
    let b = local.add_client(2);
    // A flipped tag bit, a zero tag, and the right frame sealed with another client's secret.
    let good = a.frame(Body::NewKey);
    let mut flipped = good;
    flipped.tag[7] ^= 0x10;
    let zero = Frame {
        tag: [0; 32],
        ..good
    };
    let forged = Frame::sealed(1, good.counter, Body::NewKey, &b.secret).unwrap();
    for bad in [flipped, zero, forged] {
        let r = local.wallet.handle(&bad, T0);
        assert_eq!(a.check(&bad, &r), reject(BadTag));
    }
    // A changed body under the old tag is refused too (the tag covers the body).
    let mut altered = good;
    altered.body = Body::GetPubkey { key_id: 1 };
    assert_eq!(
        a.check(&altered, &local.wallet.handle(&altered, T0)),
        reject(BadTag)
    );
    // None of them consumed the counter: the genuine frame with the same counter is accepted.
    assert!(matches!(
        a.check(&good, &local.wallet.handle(&good, T0)),
        Body::Pubkey { key_id: 1, .. }
    ));
}

#[test]
fn replayed_and_stale_counters_are_refused() {
    let mut local = Local::new("counters", policy());
    let mut a = local.add_client(1);
    a.counter = 41;
    let first = a.frame(Body::NewKey); // counter 42
    assert!(matches!(
        a.check(&first, &local.wallet.handle(&first, T0)),
        Body::Pubkey { .. }
    ));
    // The same frame again, byte for byte: a replay.
    assert_eq!(
        a.check(&first, &local.wallet.handle(&first, T0)),
        reject(StaleCounter)
    );
    // Lower counters, correctly tagged.
    for counter in [1, 41] {
        let f = Frame::sealed(1, counter, Body::NewKey, &a.secret).unwrap();
        assert_eq!(
            a.check(&f, &local.wallet.handle(&f, T0)),
            reject(StaleCounter)
        );
    }
    // Gaps are allowed; only order matters. The highest counter a u64 holds works once.
    let f = Frame::sealed(1, 1_000, Body::GetPubkey { key_id: 1 }, &a.secret).unwrap();
    assert!(matches!(
        a.check(&f, &local.wallet.handle(&f, T0)),
        Body::Pubkey { key_id: 1, .. }
    ));
    let top = Frame::sealed(1, u64::MAX, Body::GetPubkey { key_id: 1 }, &a.secret).unwrap();
    assert!(matches!(
        a.check(&top, &local.wallet.handle(&top, T0)),
        Body::Pubkey { .. }
    ));
    assert_eq!(
        a.check(&top, &local.wallet.handle(&top, T0)),
        reject(StaleCounter)
    );
    // A sign request replayed is refused and signs nothing twice.
    let mut b = local.add_client(2);
    let (k, _) = local.new_key(&mut b);
    let pay = b.frame(Body::SignPayment(payment(k, 10_000, 0)));
    assert!(matches!(
        b.check(&pay, &local.wallet.handle(&pay, T0)),
        Body::Signature { .. }
    ));
    assert_eq!(
        b.check(&pay, &local.wallet.handle(&pay, T0)),
        reject(StaleCounter)
    );
    let reference = pay.counter;
    assert!(matches!(
        local.call(&mut b, Body::PaymentStatus { reference }, T0),
        Body::Signature { .. }
    ));
}

#[test]
fn a_foreign_clients_key_is_never_used() {
    let mut local = Local::new("foreign", policy());
    let mut a = local.add_client(1);
    let mut b = local.add_client(2);
    let (ka, pka) = local.new_key(&mut a);
    assert_eq!(
        local.call(&mut b, Body::GetPubkey { key_id: ka }, T0),
        reject(ForeignKey)
    );
    assert_eq!(
        local.call(&mut b, Body::SignPayment(payment(ka, 10_000, 0)), T0),
        reject(ForeignKey)
    );
    assert_eq!(
        local.call(&mut b, Body::GetPubkey { key_id: 999 }, T0),
        reject(UnknownKey)
    );
    assert_eq!(
        local.call(&mut b, Body::SignPayment(payment(999, 10_000, 0)), T0),
        reject(UnknownKey)
    );
    // The owner still can, and a's payment reference is not b's.
    assert_eq!(
        local.call(&mut a, Body::GetPubkey { key_id: ka }, T0),
        Body::Pubkey {
            key_id: ka,
            key: pka.serialize()
        }
    );
    assert!(matches!(
        local.call(&mut a, Body::SignPayment(payment(ka, 10_000, 0)), T0),
        Body::Signature { .. }
    ));
    let reference = a.counter;
    assert_eq!(
        local.call(&mut b, Body::PaymentStatus { reference }, T0),
        reject(UnknownReference)
    );
}

#[test]
fn signatures_verify_and_statuses_follow_the_operator() {
    let mut local = Local::new("status", policy());
    let mut a = local.add_client(1);
    let (k, pk) = local.new_key(&mut a);
    let p = payment(k, 20_000, 5_000);
    match local.call(&mut a, Body::SignPayment(p), T0) {
        Body::Signature {
            key_id,
            signature,
            reference,
        } => {
            assert_eq!(key_id, k);
            assert_eq!(reference, a.counter);
            coldgate_tx::verify(&pk, &p, &signature).unwrap();
        }
        other => panic!("{other:?}"),
    }
    let big = payment(k, 600_000, 0);
    let held_ref = a.counter + 1;
    assert_eq!(
        local.call(&mut a, Body::SignPayment(big), T0),
        Body::Held {
            reference: held_ref
        }
    );
    assert_eq!(
        local.call(
            &mut a,
            Body::PaymentStatus {
                reference: held_ref
            },
            T0
        ),
        Body::Held {
            reference: held_ref
        }
    );
    local.add_operator("alice");
    local.approve("alice", 1, held_ref, T0 + 5).unwrap();
    match local.call(
        &mut a,
        Body::PaymentStatus {
            reference: held_ref,
        },
        T0 + 6,
    ) {
        Body::Signature { signature, .. } => coldgate_tx::verify(&pk, &big, &signature).unwrap(),
        other => panic!("{other:?}"),
    }
    // Decided once: approving or denying again fails.
    assert!(matches!(
        local.approve("alice", 1, held_ref, T0 + 7),
        Err(StoreError::NotHeld { .. })
    ));
    assert!(matches!(
        local.deny("alice", 1, held_ref, T0 + 7),
        Err(StoreError::NotHeld { .. })
    ));
    let denied_ref = a.counter + 1;
    assert_eq!(
        local.call(&mut a, Body::SignPayment(payment(k, 600_000, 0)), T0),
        Body::Held {
            reference: denied_ref
        }
    );
    local.deny("alice", 1, denied_ref, T0 + 8).unwrap();
    assert_eq!(
        local.call(
            &mut a,
            Body::PaymentStatus {
                reference: denied_ref
            },
            T0
        ),
        reject(Denied)
    );
    assert_eq!(
        local.call(&mut a, Body::PaymentStatus { reference: 12345 }, T0),
        reject(UnknownReference)
    );
}

#[test]
fn store_refuses_wrong_passphrase_and_rewrites() {
    let mut local = Local::new("store", policy());
    let mut a = local.add_client(1);
    let (k, _) = local.new_key(&mut a);
    let path = local.scratch.path("w.db");
    assert!(matches!(
        Store::open(&path, b"not the passphrase"),
        Err(StoreError::WrongPassphrase)
    ));
    assert!(matches!(
        Store::init(&path, b"x", &FAST_KDF, T0),
        Err(StoreError::Exists(_))
    ));
    let conn = rusqlite::Connection::open(&path).unwrap();
    // The key store only grows; the ledger and audit log too; counters only rise.
    for sql in [
        "DELETE FROM keys",
        "UPDATE keys SET client_id = 2",
        "DELETE FROM audit",
        "UPDATE audit SET event = '{}'",
        "DELETE FROM clients",
        "UPDATE clients SET last_counter = last_counter - 1",
        "UPDATE meta SET value = x'00'",
    ] {
        let e = conn.execute(sql, []).unwrap_err().to_string();
        assert!(
            e.contains("append-only")
                || e.contains("never")
                || e.contains("only")
                || e.contains("fixed"),
            "{sql}: {e}"
        );
    }
    // An attacker who drops the triggers and hands key 1 to client 2 gains nothing: the sealed
    // secret is bound to its owner, so it no longer opens and nothing is signed.
    let mut b = local.add_client(2);
    conn.execute_batch("DROP TRIGGER keys_append_only_u; UPDATE keys SET client_id = 2;")
        .unwrap();
    assert_eq!(
        local.call(&mut b, Body::SignPayment(payment(k, 10_000, 0)), T0),
        reject(StoreUnavailable)
    );
    // ...and the refused request left no ledger entry behind.
    let reference = b.counter;
    assert_eq!(
        local.call(&mut b, Body::PaymentStatus { reference }, T0),
        reject(UnknownReference)
    );
}
