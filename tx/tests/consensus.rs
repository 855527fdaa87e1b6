//! The payment transaction, signed, checked by libbitcoinconsensus (Bitcoin Core 26's script
//! interpreter, taproot enabled, with the spent outputs it needs for BIP-341 sighashes): an
//! implementation independent of the `bitcoin` crate that built and signed it.

use bitcoin::consensus::encode::serialize;
use bitcoin::key::{Keypair, XOnlyPublicKey};
use bitcoin::secp256k1::SecretKey;
use bitcoinconsensus::{Utxo, VERIFY_ALL_PRE_TAPROOT, VERIFY_TAPROOT};
use coldgate_spec::config::{MAX_MONEY, SIGN_AMOUNT_CEILING};
use coldgate_spec::Payment;
use coldgate_tx::psbt::{finalize, payment_from_psbt, PsbtError};
use coldgate_tx::{bitcoin, ImpossibleInput, TxError, DUST_P2TR};
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

#[test]
fn vsize_is_the_signed_transactions_exact_size() {
    let key = keypair(3);
    let internal = key.x_only_public_key().0;
    let dest = keypair(4).x_only_public_key().0;
    for (change, want) in [
        (0, coldgate_tx::VSIZE_WITHOUT_CHANGE),
        (5_000, coldgate_tx::VSIZE_WITH_CHANGE),
    ] {
        let p = payment(&dest, 20_000, change);
        let sig = coldgate_tx::sign(&key, &p, &[1; 32]).unwrap();
        let tx = coldgate_tx::signed_tx(&internal, &p, &sig).unwrap();
        assert_eq!(tx.vsize() as u64, want);
        assert_eq!(coldgate_tx::vsize(&p), want);
    }
    assert_eq!(
        (
            coldgate_tx::VSIZE_WITHOUT_CHANGE,
            coldgate_tx::VSIZE_WITH_CHANGE
        ),
        (111, 154)
    );
}

#[test]
fn impossible_inputs_are_refused_with_their_reason() {
    let internal = keypair(1).x_only_public_key().0;
    let dest = keypair(2).x_only_public_key().0;
    let good = payment(&dest, 10_000, 0);
    let limit = coldgate_tx::VOUT_LIMIT;
    for (txid, vout, want) in [
        ([0u8; 32], u32::MAX, ImpossibleInput::Null),
        ([0u8; 32], 0, ImpossibleInput::ZeroTxid),
        ([7u8; 32], u32::MAX, ImpossibleInput::Vout(u32::MAX)),
        ([7u8; 32], limit, ImpossibleInput::Vout(limit)),
    ] {
        let p = Payment { txid, vout, ..good };
        assert_eq!(coldgate_tx::check_input(&p), Err(want));
        assert_eq!(
            coldgate_tx::payment_tx(&internal, &p),
            Err(TxError::Input(want))
        );
    }
    let last = Payment {
        vout: limit - 1,
        ..good
    };
    assert!(coldgate_tx::payment_tx(&internal, &last).is_ok());
}

#[test]
fn explorer_order_is_the_wire_order_reversed() {
    let mut internal = [0u8; 32];
    internal[0] = 0xaa;
    internal[31] = 0x01;
    let shown = coldgate_tx::txid_to_explorer(&internal);
    assert!(shown.starts_with("01") && shown.ends_with("aa"), "{shown}");
    assert_eq!(coldgate_tx::txid_from_explorer(&shown), Some(internal));
    assert_eq!(coldgate_tx::txid_from_explorer("xyz"), None);
}

/// A PSBT as a watch-only wallet would make it for `p`: the unsigned transaction, the spent
/// output, the internal key.
fn psbt_for(internal: &XOnlyPublicKey, p: &Payment) -> bitcoin::psbt::Psbt {
    let tx = coldgate_tx::payment_tx(internal, p).unwrap();
    let mut psbt = bitcoin::psbt::Psbt::from_unsigned_tx(tx).unwrap();
    psbt.inputs[0].witness_utxo = Some(coldgate_tx::prevout(internal, p));
    psbt.inputs[0].tap_internal_key = Some(*internal);
    psbt
}

#[test]
fn a_psbt_signed_through_the_shape_passes_libbitcoinconsensus() {
    let key = random_keypair();
    let internal = key.x_only_public_key().0;
    let other = keypair(8).x_only_public_key().0;
    let dest = keypair(5).x_only_public_key().0;
    for change in [0, 40_000] {
        let p = Payment {
            key_id: 7,
            ..payment(&dest, 60_000, change)
        };
        // Through the binary form, as a file would carry it.
        let bytes = psbt_for(&internal, &p).serialize();
        let mut psbt = bitcoin::psbt::Psbt::deserialize(&bytes).unwrap();
        let (got, key_of) = payment_from_psbt(&psbt, &[(3, other), (7, internal)]).unwrap();
        assert_eq!((got, key_of), (p, internal));
        let sig = coldgate_tx::sign(&key, &got, &[2; 32]).unwrap();
        let tx = finalize(&mut psbt, &internal, &got, &sig).unwrap();
        assert_eq!(
            psbt.inputs[0].tap_key_sig.unwrap().signature.serialize(),
            sig
        );
        let extracted = psbt.clone().extract_tx().unwrap();
        assert_eq!(extracted, tx);
        consensus_verify_tx(&serialize(&extracted), &internal, &p).unwrap();
        // A signature of something else is not written in.
        let mut fresh = psbt_for(&internal, &p);
        let wrong = coldgate_tx::sign(&keypair(8), &got, &[2; 32]).unwrap();
        assert_eq!(
            finalize(&mut fresh, &internal, &got, &wrong),
            Err(TxError::BadSignature)
        );
        assert!(fresh.inputs[0].tap_key_sig.is_none());
    }
}

#[test]
fn psbts_off_the_shape_are_refused_with_the_reason() {
    use bitcoin::hashes::Hash;
    use bitcoin::{absolute, Amount, ScriptBuf, Sequence, TxOut};
    let internal = keypair(1).x_only_public_key().0;
    let dest = keypair(2).x_only_public_key().0;
    let p = payment(&dest, 10_000, 5_000);
    let keys = [(1, internal)];
    let check = |f: &dyn Fn(&mut bitcoin::psbt::Psbt), want: PsbtError| {
        let mut psbt = psbt_for(&internal, &p);
        f(&mut psbt);
        assert_eq!(payment_from_psbt(&psbt, &keys), Err(want));
    };
    assert!(payment_from_psbt(&psbt_for(&internal, &p), &keys).is_ok());
    check(&|x| x.unsigned_tx.version.0 = 1, PsbtError::Version(1));
    check(
        &|x| x.unsigned_tx.lock_time = absolute::LockTime::from_consensus(800_000),
        PsbtError::LockTime(800_000),
    );
    check(
        &|x| x.unsigned_tx.input[0].sequence = Sequence::MAX,
        PsbtError::Sequence(0xffff_ffff),
    );
    check(
        &|x| {
            let o = x.unsigned_tx.output[0].clone();
            x.unsigned_tx.output.push(o);
            x.outputs.push(Default::default());
        },
        PsbtError::Outputs(3),
    );
    check(
        &|x| {
            let i = x.unsigned_tx.input[0].clone();
            x.unsigned_tx.input.push(i);
            x.inputs.push(Default::default());
        },
        PsbtError::Inputs(2),
    );
    check(
        &|x| x.inputs[0].witness_utxo = None,
        PsbtError::NoWitnessUtxo,
    );
    check(
        &|x| {
            x.inputs[0].witness_utxo = Some(TxOut {
                value: Amount::from_sat(p.input_amount),
                script_pubkey: coldgate_tx::key_script(&dest),
            })
        },
        PsbtError::NotOurKey,
    );
    check(
        &|x| x.inputs[0].tap_internal_key = Some(dest),
        PsbtError::InternalKey,
    );
    check(
        &|x| {
            x.inputs[0].sighash_type = Some(bitcoin::psbt::PsbtSighashType::from(
                bitcoin::TapSighashType::All,
            ))
        },
        PsbtError::Sighash("SIGHASH_ALL".into()),
    );
    check(
        &|x| {
            x.unsigned_tx.output[0].script_pubkey =
                ScriptBuf::new_p2wpkh(&bitcoin::WPubkeyHash::from_byte_array([1; 20]))
        },
        PsbtError::DestinationNotTaproot,
    );
    check(
        &|x| x.unsigned_tx.output.swap(0, 1),
        PsbtError::ChangeNotOurs,
    );
    // The amounts the wallet's rules refuse are refused here too, with the shape's reason.
    check(
        &|x| x.unsigned_tx.output[0].value = Amount::from_sat(100),
        PsbtError::Shape(TxError::Dust {
            what: "amount",
            value: 100,
        }),
    );
    check(
        &|x| x.unsigned_tx.output[0].value = Amount::from_sat(p.input_amount),
        PsbtError::Shape(TxError::OutputsExceedInput {
            input: p.input_amount,
            outputs: (p.input_amount + p.change) as u128,
        }),
    );
    check(
        &|x| x.unsigned_tx.input[0].previous_output.txid = bitcoin::Txid::all_zeros(),
        PsbtError::Shape(TxError::Input(ImpossibleInput::ZeroTxid)),
    );
    // A script in the witness of the unsigned transaction is not the shape.
    check(
        &|x| x.unsigned_tx.input[0].script_sig = ScriptBuf::from_bytes(vec![0x51]),
        PsbtError::Mismatch,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Any payment the shape accepts signs into a transaction libbitcoinconsensus accepts.
    #[test]
    fn any_valid_payment_verifies(
        seed in 1u8..=255,
        txid in any::<[u8; 32]>(),
        vout in 0..coldgate_tx::VOUT_LIMIT,
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
