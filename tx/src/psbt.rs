//! BIP-174 / BIP-371 PSBTs onto the fixed shape and back.
//!
//! [`payment_from_psbt`] accepts a PSBT only when its unsigned transaction is exactly the
//! transaction the wallet would build for some payment by one of the client's keys: one P2TR
//! key-path input of that key (its `witness_utxo` says which and how much), a destination
//! output, and optionally change back to the same key as the second output. Anything else is
//! refused with the reason ([`PsbtError`]), since the wallet signs its own rebuilt transaction
//! and a signature for a different one would be worthless.
//!
//! [`finalize`] writes the signature as the input's `tap_key_sig` (BIP-371) and its final
//! witness, so `finalizepsbt` / `sendrawtransaction` (or [`bitcoin::psbt::Psbt::extract_tx`])
//! take it as it is.

use bitcoin::key::XOnlyPublicKey;
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::schnorr;
use bitcoin::sighash::TapSighashType;
use bitcoin::{Transaction, Witness};
use coldgate_spec::Payment;

use crate::{key_script, payment_tx, signed_tx, TxError, DUST_P2TR, SIGHASH_TYPE};

/// Why a PSBT does not fit the fixed shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PsbtError {
    #[error("not a PSBT: {0}")]
    Parse(String),
    #[error("the PSBT has {0} inputs; coldgate signs exactly one")]
    Inputs(usize),
    #[error("the PSBT has {0} outputs; coldgate signs one (destination) or two (destination, then change)")]
    Outputs(usize),
    #[error("transaction version {0}; the fixed shape is version 2")]
    Version(i32),
    #[error("lock time {0}; the fixed shape has none (0)")]
    LockTime(u32),
    #[error("input sequence {0:#010x}; the fixed shape uses 0xfffffffd (RBF, no lock time)")]
    Sequence(u32),
    #[error(
        "the input has no witness_utxo: the spent output's amount and script are needed to sign"
    )]
    NoWitnessUtxo,
    #[error("the input's non_witness_utxo does not match its witness_utxo or outpoint")]
    UtxoMismatch,
    #[error(
        "the input spends a script that is not the BIP-86 P2TR output of any of this client's keys"
    )]
    NotOurKey,
    #[error("the input's tap_internal_key is not the key whose output it spends")]
    InternalKey,
    #[error("the input has a taproot script tree (tap_merkle_root or tap_scripts); coldgate signs BIP-86 key-path spends only")]
    ScriptTree,
    #[error("the input asks for sighash {0}; coldgate signs SIGHASH_DEFAULT only")]
    Sighash(String),
    #[error("output 0 is not a P2TR output: the destination must be a taproot address")]
    DestinationNotTaproot,
    #[error("output 1 does not pay back to the spent key's own output (change must be the second output)")]
    ChangeNotOurs,
    #[error("the PSBT does not fit the fixed shape: {0}")]
    Shape(TxError),
    #[error("the PSBT's transaction differs from the fixed shape's rebuilt one")]
    Mismatch,
}

/// The payment a PSBT stands for, and which key it spends from. `keys` are the client's
/// (key id, internal key) pairs.
pub fn payment_from_psbt(
    psbt: &Psbt,
    keys: &[(u32, XOnlyPublicKey)],
) -> Result<(Payment, XOnlyPublicKey), PsbtError> {
    let tx = &psbt.unsigned_tx;
    if tx.input.len() != 1 || psbt.inputs.len() != 1 {
        return Err(PsbtError::Inputs(tx.input.len()));
    }
    if !(1..=2).contains(&tx.output.len()) {
        return Err(PsbtError::Outputs(tx.output.len()));
    }
    if tx.version != crate::TX_VERSION {
        return Err(PsbtError::Version(tx.version.0));
    }
    if tx.lock_time != crate::LOCK_TIME {
        return Err(PsbtError::LockTime(tx.lock_time.to_consensus_u32()));
    }
    let txin = &tx.input[0];
    if txin.sequence != crate::SEQUENCE {
        return Err(PsbtError::Sequence(txin.sequence.0));
    }
    let input = &psbt.inputs[0];
    let utxo = input
        .witness_utxo
        .as_ref()
        .ok_or(PsbtError::NoWitnessUtxo)?;
    if let Some(prev) = &input.non_witness_utxo {
        let same = prev.compute_txid() == txin.previous_output.txid
            && prev.output.get(txin.previous_output.vout as usize) == Some(utxo);
        if !same {
            return Err(PsbtError::UtxoMismatch);
        }
    }
    let &(key_id, internal) = keys
        .iter()
        .find(|(_, k)| key_script(k) == utxo.script_pubkey)
        .ok_or(PsbtError::NotOurKey)?;
    if input.tap_internal_key.is_some_and(|k| k != internal) {
        return Err(PsbtError::InternalKey);
    }
    if input.tap_merkle_root.is_some() || !input.tap_scripts.is_empty() {
        return Err(PsbtError::ScriptTree);
    }
    if let Some(t) = input.sighash_type {
        if t.taproot_hash_ty() != Ok(TapSighashType::Default) {
            return Err(PsbtError::Sighash(t.to_string()));
        }
    }
    let dest = &tx.output[0];
    if !dest.script_pubkey.is_p2tr() {
        return Err(PsbtError::DestinationNotTaproot);
    }
    let destination: [u8; 32] = dest.script_pubkey.as_bytes()[2..]
        .try_into()
        .map_err(|_| PsbtError::DestinationNotTaproot)?;
    let change = match tx.output.get(1) {
        None => 0,
        Some(o) if o.script_pubkey == utxo.script_pubkey => o.value.to_sat(),
        Some(_) => return Err(PsbtError::ChangeNotOurs),
    };
    if tx.output.len() == 2 && change < DUST_P2TR {
        // A zero change output would be rebuilt as "no change": say so rather than mismatch.
        return Err(PsbtError::Shape(TxError::Dust {
            what: "change",
            value: change,
        }));
    }
    let payment = Payment {
        key_id,
        txid: bitcoin::hashes::Hash::to_byte_array(txin.previous_output.txid),
        vout: txin.previous_output.vout,
        input_amount: utxo.value.to_sat(),
        destination,
        amount: dest.value.to_sat(),
        change,
    };
    let rebuilt = payment_tx(&internal, &payment).map_err(PsbtError::Shape)?;
    if rebuilt != *tx {
        return Err(PsbtError::Mismatch);
    }
    Ok((payment, internal))
}

/// Writes a verified signature into the PSBT (`tap_key_sig` and the final witness) and returns
/// the complete transaction. Fails, leaving the PSBT untouched, if the signature does not
/// verify over this payment.
pub fn finalize(
    psbt: &mut Psbt,
    internal: &XOnlyPublicKey,
    payment: &Payment,
    signature: &[u8; 64],
) -> Result<Transaction, TxError> {
    let tx = signed_tx(internal, payment, signature)?;
    let sig = bitcoin::taproot::Signature {
        signature: schnorr::Signature::from_slice(signature).map_err(|_| TxError::BadSignature)?,
        sighash_type: SIGHASH_TYPE,
    };
    let input = &mut psbt.inputs[0];
    input.tap_key_sig = Some(sig);
    input.tap_internal_key = Some(*internal);
    input.final_script_witness = Some(Witness::p2tr_key_spend(&sig));
    Ok(tx)
}
