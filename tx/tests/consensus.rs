//! The payment transaction, signed, checked by libbitcoinconsensus (Bitcoin Core 26's script
//! interpreter, taproot enabled, with the spent outputs it needs for BIP-341 sighashes): an
//! implementation independent of the `bitcoin` crate that built and signed it.

use bitcoin::consensus::encode::serialize;
use bitcoin::key::{Keypair, XOnlyPublicKey};
use bitcoin::secp256k1::SecretKey;
use bitcoinconsensus::{Utxo, VERIFY_ALL_PRE_TAPROOT, VERIFY_TAPROOT};
use coldgate_spec::config::{MAX_MONEY, SIGN_AMOUNT_CEILING};
use coldgate_spec::Payment;
use coldgate_tx::{bitcoin, TxError, DUST_P2TR};
use proptest::prelude::*;

fn keypair(seed: u8) -> Keypair {
    let mut b = [seed; 32];
    b[0] = 1;
    Keypair::from_secret_key(coldgate_tx::secp(), &SecretKey::from_slice(&b).unwrap())
}

fn random_keypair() -> Keypair {
    loop {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b).unwrap();
        if let Ok(sk) = SecretKey::from_slice(&b) {
            return Keypair::from_secret_key(coldgate_tx::secp(), &sk);
        }
    }
}

fn payment(dest: &XOnlyPublicKey, amount: u64, change: u64) -> Payment {
    Payment {
        key_id: 1,
        txid: [0x5a; 32],
        vout: 3,
        input_amount: amount + change + 1_000,
        destination: dest.serialize(),
        amount,
        change,
    }
}

/// Runs the signed transaction's only input through libbitcoinconsensus.
fn consensus_verify(internal: &XOnlyPublicKey, p: &Payment, sig: &[u8; 64]) -> Result<(), String> {
    let tx = coldgate_tx::signed_tx(internal, p, sig).map_err(|e| e.to_string())?;
    consensus_verify_tx(&serialize(&tx), internal, p)
}

fn consensus_verify_tx(tx: &[u8], internal: &XOnlyPublicKey, p: &Payment) -> Result<(), String> {
    let spent = coldgate_tx::prevout(internal, p);
    let script = spent.script_pubkey.as_bytes();
    let utxos = [Utxo {
        script_pubkey: script.as_ptr(),
        script_pubkey_len: script.len() as u32,
        value: spent.value.to_sat() as i64,
    }];
    bitcoinconsensus::verify_with_flags(
        script,
        spent.value.to_sat(),
        tx,
        Some(&utxos),
        0,
        VERIFY_ALL_PRE_TAPROOT | VERIFY_TAPROOT,
    )
    .map_err(|e| format!("{e:?}"))
}

#[test]
fn libbitcoinconsensus_supports_taproot() {
    // 0.106.0+26.0 is the first binding with spent outputs (needed for BIP-341 sighashes).
    assert!(
        bitcoinconsensus::version() >= 1,
        "libbitcoinconsensus API version"
    );
}

#[test]
fn signed_payment_passes_libbitcoinconsensus() {
    let key = random_keypair();
    let internal = key.x_only_public_key().0;
    let dest =
        coldgate_tx::output_key(&random_keypair().x_only_public_key().0).to_x_only_public_key();
    for (amount, change) in [
        (DUST_P2TR, 0),
        (50_000, DUST_P2TR),
        (SIGN_AMOUNT_CEILING, 12_345_678),
    ] {
        let p = payment(&dest, amount, change);
        let sig = coldgate_tx::sign(&key, &p, &[7; 32]).unwrap();
        coldgate_tx::verify(&internal, &p, &sig).unwrap();
        consensus_verify(&internal, &p, &sig).unwrap();
        let tx = coldgate_tx::signed_tx(&internal, &p, &sig).unwrap();
        assert_eq!(tx.output.len(), if change == 0 { 1 } else { 2 });
        assert_eq!(tx.output[0].script_pubkey.as_bytes()[2..], dest.serialize());
        assert_eq!(tx.input[0].sequence.0, 0xFFFF_FFFD);
        assert_eq!(tx.input[0].witness.len(), 1);
        assert_eq!(tx.input[0].witness.nth(0).unwrap().len(), 64);
    }
}

#[test]
fn consensus_refuses_a_signature_of_another_transaction() {
    let key = keypair(9);
    let internal = key.x_only_public_key().0;
    let dest = keypair(10).x_only_public_key().0;
    let p = payment(&dest, 100_000, 50_000);
    let sig = coldgate_tx::sign(&key, &p, &[0; 32]).unwrap();
    // Same signature, a transaction paying one satoshi more: both verifiers refuse it.
    let mut other = p;
    other.amount += 1;
    other.input_amount += 1;
    assert_eq!(
        coldgate_tx::verify(&internal, &other, &sig),
        Err(TxError::BadSignature)
    );
    let mut tx = coldgate_tx::payment_tx(&internal, &other).unwrap();
    let s = bitcoin::taproot::Signature {
        signature: bitcoin::secp256k1::schnorr::Signature::from_slice(&sig).unwrap(),
        sighash_type: coldgate_tx::SIGHASH_TYPE,
    };
    tx.input[0].witness = bitcoin::Witness::p2tr_key_spend(&s);
    assert!(consensus_verify_tx(&serialize(&tx), &internal, &other).is_err());
    // And the untweaked key's signature (a classic mistake) is refused by libbitcoinconsensus.
    let msg = bitcoin::secp256k1::Message::from_digest(bitcoin::hashes::Hash::to_byte_array(
        coldgate_tx::sighash(&internal, &p).unwrap(),
    ));
    let untweaked = coldgate_tx::secp().sign_schnorr_no_aux_rand(&msg, &key);
    let mut tx = coldgate_tx::payment_tx(&internal, &p).unwrap();
    tx.input[0].witness = bitcoin::Witness::p2tr_key_spend(&bitcoin::taproot::Signature {
        signature: untweaked,
        sighash_type: coldgate_tx::SIGHASH_TYPE,
    });
    assert!(consensus_verify_tx(&serialize(&tx), &internal, &p).is_err());
    assert_eq!(
        coldgate_tx::verify(&internal, &p, &untweaked.serialize()),
        Err(TxError::BadSignature)
    );
}

#[test]
fn refused_shapes_name_their_rule() {
    let internal = keypair(1).x_only_public_key().0;
    let dest = keypair(2).x_only_public_key().0;
    let good = payment(&dest, 10_000, 0);
    let cases: Vec<(Payment, TxError)> = vec![
        (
            Payment {
                input_amount: 10_000,
                amount: 10_000,
                change: 1,
                ..good
            },
            TxError::OutputsExceedInput {
                input: 10_000,
                outputs: 10_001,
            },
        ),
        (
            Payment {
                amount: DUST_P2TR - 1,
                ..good
            },
            TxError::Dust {
                what: "amount",
                value: DUST_P2TR - 1,
            },
        ),
        (
            Payment { change: 1, ..good },
            TxError::Dust {
                what: "change",
                value: 1,
            },
        ),
        (
            Payment {
                input_amount: MAX_MONEY + 1,
                ..good
            },
            TxError::AboveMaxMoney {
                what: "input amount",
                value: MAX_MONEY + 1,
            },
        ),
        (
            // x = 5 is not the x coordinate of a secp256k1 point.
            Payment {
                destination: {
                    let mut d = [0u8; 32];
                    d[31] = 5;
                    d
                },
                ..good
            },
            TxError::DestinationNotOnCurve,
        ),
    ];
    for (p, want) in cases {
        assert_eq!(
            coldgate_tx::payment_tx(&internal, &p),
            Err(want.clone()),
            "{p:?}"
        );
        assert_eq!(coldgate_tx::sighash(&internal, &p), Err(want), "{p:?}");
    }
    // Fee of zero and change of zero are both fine.
    let exact = Payment {
        input_amount: 10_000,
        ..good
    };
    assert_eq!(coldgate_tx::check_amounts(&exact), Ok(0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Any payment the shape accepts signs into a transaction libbitcoinconsensus accepts.
    #[test]
    fn any_valid_payment_verifies(
        seed in 1u8..=255,
        txid in any::<[u8; 32]>(),
        vout in any::<u32>(),
        amount in DUST_P2TR..=SIGN_AMOUNT_CEILING,
        change in prop_oneof![Just(0u64), DUST_P2TR..=MAX_MONEY / 2],
        fee in 0u64..=1_000_000,
    ) {
        let key = keypair(seed);
        let internal = key.x_only_public_key().0;
        let dest = keypair(seed.wrapping_add(1).max(1)).x_only_public_key().0;
        let p = Payment {
            key_id: 1, txid, vout,
            input_amount: amount + change + fee,
            destination: dest.serialize(),
            amount, change,
        };
        let sig = coldgate_tx::sign(&key, &p, &txid).unwrap();
        prop_assert_eq!(coldgate_tx::check_amounts(&p), Ok(fee));
        prop_assert!(consensus_verify(&internal, &p, &sig).is_ok());
    }
}
