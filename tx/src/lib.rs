//! The one transaction a coldgate SIGN_PAYMENT can stand for.
//!
//! The wallet never signs a hash handed in by a caller. It rebuilds, from the frame's fields
//! alone, a transaction of one fixed shape and signs that transaction's BIP-341 key-path
//! sighash, so what the policy checked (amount, destination, fee) is exactly what the
//! signature commits to. Clients use the same functions to check a signature they receive.
//!
//! The shape (all of it fixed; nothing else is ever signed):
//!
//! | part | value |
//! |---|---|
//! | version | [`TX_VERSION`] (2) |
//! | lock time | [`LOCK_TIME`] (0) |
//! | input | one: `payment.txid:payment.vout`, empty scriptSig, sequence [`SEQUENCE`] (`0xFFFFFFFD`: final for lock time, signals BIP-125 replacement so a stuck payment can be bumped) |
//! | spent output | `payment.input_amount` sat to the key's own P2TR output: BIP-86 style, the internal key tweaked with no script tree |
//! | output 0 | `payment.amount` sat to `OP_1 <payment.destination>`: the destination is taken as a P2TR *output* key, as given |
//! | output 1 | `payment.change` sat back to the key's own P2TR output; **omitted when change is 0** |
//! | sighash | `SIGHASH_DEFAULT` (commits to every input and output; the signature is 64 bytes) |
//!
//! Refused (each a [`TxError`]): outputs above the input, an output below the P2TR dust limit
//! ([`DUST_P2TR`]; a zero change is not an output, so it is not dust), a destination that is not
//! an x-only point on the curve (nobody could ever spend it), amounts beyond `MAX_MONEY`, and
//! an outpoint that cannot exist ([`check_input`]: the null outpoint, an all-zero txid, an
//! output index no transaction can have).
//!
//! Its size is fixed too: [`VSIZE_WITHOUT_CHANGE`] (111 vB) and [`VSIZE_WITH_CHANGE`] (154 vB)
//! once signed, so the fee rate a node sees is known exactly before signing ([`vsize`]).
//!
//! Txids: the frame carries them in transaction (internal) byte order; everything a person
//! reads or types (CLI, JSON form, logs) uses explorer order, the bytes reversed
//! ([`txid_from_explorer`], [`txid_to_explorer`]).
//!
//! [`address`] gives a key's bech32m P2TR address and `tr(KEY)` descriptor and parses
//! destinations from addresses; [`psbt`] maps a BIP-174 PSBT onto the shape and back.
//!
//! Crypto is the `bitcoin` crate's and its `secp256k1`'s; [`bitcoin`] is re-exported so callers
//! use the same versions.

#![forbid(unsafe_code)]

pub mod address;
pub mod psbt;

use std::sync::OnceLock;

pub use bitcoin;
use bitcoin::hashes::Hash;
use bitcoin::key::{Keypair, TapTweak, TweakedPublicKey, XOnlyPublicKey};
use bitcoin::secp256k1::{schnorr, All, Message, Secp256k1};
use bitcoin::sighash::{Prevouts, SighashCache, TapSighash, TapSighashType};
use bitcoin::transaction::Version;
use bitcoin::{
    absolute, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};
use coldgate_spec::config::MAX_MONEY;
use coldgate_spec::Payment;

/// Transaction version of every payment.
pub const TX_VERSION: Version = Version::TWO;
/// Lock time of every payment: none.
pub const LOCK_TIME: absolute::LockTime = absolute::LockTime::ZERO;
/// Sequence of the one input: final for lock time, replaceable (BIP-125).
pub const SEQUENCE: Sequence = Sequence::ENABLE_RBF_NO_LOCKTIME;
/// The sighash type of every signature.
pub const SIGHASH_TYPE: TapSighashType = TapSighashType::Default;
/// Smallest P2TR output Bitcoin Core relays (its dust limit at the default dust relay fee):
/// a smaller output would make the signed transaction non-standard, i.e. useless.
pub const DUST_P2TR: u64 = 330;

/// Virtual size of the signed transaction without change (one key-path input, one P2TR
/// output): 94 bytes without witness plus 68 witness bytes, weight 444.
pub const VSIZE_WITHOUT_CHANGE: u64 = 111;
/// Virtual size of the signed transaction with change (a second P2TR output): weight 616.
pub const VSIZE_WITH_CHANGE: u64 = 154;

/// Output indexes at or above this cannot exist: a transaction fits in a block of 4,000,000
/// weight units and every output takes at least 9 bytes (36 weight units).
pub const VOUT_LIMIT: u32 = 4_000_000 / 36;

/// The exact virtual size of the payment's signed transaction (BIP-141 vbytes).
pub fn vsize(payment: &Payment) -> u64 {
    if payment.change == 0 {
        VSIZE_WITHOUT_CHANGE
    } else {
        VSIZE_WITH_CHANGE
    }
}

/// Why an outpoint cannot be spent by any transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImpossibleInput {
    #[error("the null outpoint (all-zero txid, vout 0xffffffff) is a coinbase marker, not a coin")]
    Null,
    #[error("an all-zero txid names no transaction")]
    ZeroTxid,
    #[error("vout {0} is beyond the outputs any transaction can have (at most {max})", max = VOUT_LIMIT - 1)]
    Vout(u32),
}

/// Refuses outpoints that no transaction can have created.
pub fn check_input(payment: &Payment) -> Result<(), ImpossibleInput> {
    let zero = payment.txid == [0; 32];
    match (zero, payment.vout) {
        (true, u32::MAX) => Err(ImpossibleInput::Null),
        (true, _) => Err(ImpossibleInput::ZeroTxid),
        (false, v) if v >= VOUT_LIMIT => Err(ImpossibleInput::Vout(v)),
        _ => Ok(()),
    }
}

/// A txid in the frame's (internal) byte order from the explorer-order hex people read.
pub fn txid_from_explorer(hex: &str) -> Option<[u8; 32]> {
    use std::str::FromStr;
    Txid::from_str(hex).ok().map(|t| t.to_byte_array())
}

/// The explorer-order hex of a txid held in the frame's (internal) byte order.
pub fn txid_to_explorer(internal: &[u8; 32]) -> String {
    Txid::from_byte_array(*internal).to_string()
}

/// Why a payment has no transaction, or a signature does not fit it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("outputs ({outputs} sat) exceed the input ({input} sat)")]
    OutputsExceedInput { input: u64, outputs: u128 },
    #[error("{what} of {value} sat exceeds MAX_MONEY")]
    AboveMaxMoney { what: &'static str, value: u64 },
    #[error("{what} of {value} sat is below the P2TR dust limit of {DUST_P2TR} sat")]
    Dust { what: &'static str, value: u64 },
    #[error("destination is not an x-only public key on secp256k1")]
    DestinationNotOnCurve,
    #[error("input: {0}")]
    Input(ImpossibleInput),
    #[error("key is not an x-only public key on secp256k1")]
    KeyNotOnCurve,
    #[error("signature is not a valid BIP-340 signature of this payment by this key")]
    BadSignature,
    #[error("sighash: {0}")]
    Sighash(String),
}

/// The process-wide secp256k1 context (building one costs more than a verification).
pub fn secp() -> &'static Secp256k1<All> {
    static CTX: OnceLock<Secp256k1<All>> = OnceLock::new();
    CTX.get_or_init(Secp256k1::new)
}

/// An x-only key from its 32 wire bytes.
pub fn parse_key(bytes: &[u8; 32]) -> Result<XOnlyPublicKey, TxError> {
    XOnlyPublicKey::from_slice(bytes).map_err(|_| TxError::KeyNotOnCurve)
}

/// The key's taproot output key: the internal key tweaked with no script tree (BIP-86).
pub fn output_key(internal: &XOnlyPublicKey) -> TweakedPublicKey {
    internal.tap_tweak(secp(), None).0
}

/// The key's own P2TR scriptPubKey: what a payment spends and where its change goes.
pub fn key_script(internal: &XOnlyPublicKey) -> ScriptBuf {
    ScriptBuf::new_p2tr_tweaked(output_key(internal))
}

/// The output a payment spends (the transaction's only prevout).
pub fn prevout(internal: &XOnlyPublicKey, payment: &Payment) -> TxOut {
    TxOut {
        value: Amount::from_sat(payment.input_amount),
        script_pubkey: key_script(internal),
    }
}

/// The destination's scriptPubKey, `OP_1 <destination>`, once the bytes are known to be a point.
pub fn destination_script(payment: &Payment) -> Result<ScriptBuf, TxError> {
    let key = XOnlyPublicKey::from_slice(&payment.destination)
        .map_err(|_| TxError::DestinationNotOnCurve)?;
    // The destination is already an output key: tweaking it again would pay somebody else.
    Ok(ScriptBuf::new_p2tr_tweaked(
        TweakedPublicKey::dangerous_assume_tweaked(key),
    ))
}

/// Checks the amounts of a payment against the shape's rules; returns the fee in satoshis.
pub fn check_amounts(payment: &Payment) -> Result<u64, TxError> {
    for (what, value) in [
        ("input amount", payment.input_amount),
        ("amount", payment.amount),
        ("change", payment.change),
    ] {
        if value > MAX_MONEY {
            return Err(TxError::AboveMaxMoney { what, value });
        }
    }
    let outputs = payment.amount as u128 + payment.change as u128;
    let fee = payment.fee().ok_or(TxError::OutputsExceedInput {
        input: payment.input_amount,
        outputs,
    })?;
    if payment.amount < DUST_P2TR {
        return Err(TxError::Dust {
            what: "amount",
            value: payment.amount,
        });
    }
    if payment.change != 0 && payment.change < DUST_P2TR {
        return Err(TxError::Dust {
            what: "change",
            value: payment.change,
        });
    }
    Ok(fee)
}

/// The unsigned transaction of a payment by the key `internal`.
pub fn payment_tx(internal: &XOnlyPublicKey, payment: &Payment) -> Result<Transaction, TxError> {
    check_input(payment).map_err(TxError::Input)?;
    check_amounts(payment)?;
    let mut output = vec![TxOut {
        value: Amount::from_sat(payment.amount),
        script_pubkey: destination_script(payment)?,
    }];
    if payment.change != 0 {
        output.push(TxOut {
            value: Amount::from_sat(payment.change),
            script_pubkey: key_script(internal),
        });
    }
    Ok(Transaction {
        version: TX_VERSION,
        lock_time: LOCK_TIME,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: Txid::from_byte_array(payment.txid),
                vout: payment.vout,
            },
            script_sig: ScriptBuf::new(),
            sequence: SEQUENCE,
            witness: Witness::new(),
        }],
        output,
    })
}

fn tx_sighash(
    tx: &Transaction,
    internal: &XOnlyPublicKey,
    payment: &Payment,
) -> Result<TapSighash, TxError> {
    let prevouts = [prevout(internal, payment)];
    SighashCache::new(tx)
        .taproot_key_spend_signature_hash(0, &Prevouts::All(&prevouts), SIGHASH_TYPE)
        .map_err(|e| TxError::Sighash(e.to_string()))
}

/// The BIP-341 key-path sighash (SIGHASH_DEFAULT) of the payment's transaction.
pub fn sighash(internal: &XOnlyPublicKey, payment: &Payment) -> Result<TapSighash, TxError> {
    tx_sighash(&payment_tx(internal, payment)?, internal, payment)
}

/// Signs a payment with the key's tweaked keypair. `aux_rand` is BIP-340's auxiliary
/// randomness (fresh OS randomness in the wallet; it hardens nonces against fault attacks).
pub fn sign(
    keypair: &Keypair,
    payment: &Payment,
    aux_rand: &[u8; 32],
) -> Result<[u8; 64], TxError> {
    let internal = keypair.x_only_public_key().0;
    let msg = Message::from_digest(sighash(&internal, payment)?.to_byte_array());
    let tweaked = keypair.tap_tweak(secp(), None).to_keypair();
    let sig = secp().sign_schnorr_with_aux_rand(&msg, &tweaked, aux_rand);
    Ok(sig.serialize())
}

/// Checks a 64-byte BIP-340 signature of the payment against the key's tweaked output key.
pub fn verify(
    internal: &XOnlyPublicKey,
    payment: &Payment,
    signature: &[u8; 64],
) -> Result<(), TxError> {
    let msg = Message::from_digest(sighash(internal, payment)?.to_byte_array());
    let sig = schnorr::Signature::from_slice(signature).map_err(|_| TxError::BadSignature)?;
    secp()
        .verify_schnorr(&sig, &msg, &output_key(internal).to_x_only_public_key())
        .map_err(|_| TxError::BadSignature)
}

/// The complete signed transaction, ready to broadcast. The signature is verified first, so
/// this never returns a transaction that would fail its script.
pub fn signed_tx(
    internal: &XOnlyPublicKey,
    payment: &Payment,
    signature: &[u8; 64],
) -> Result<Transaction, TxError> {
    verify(internal, payment, signature)?;
    let mut tx = payment_tx(internal, payment)?;
    let sig = bitcoin::taproot::Signature {
        signature: schnorr::Signature::from_slice(signature).map_err(|_| TxError::BadSignature)?,
        sighash_type: SIGHASH_TYPE,
    };
    tx.input[0].witness = Witness::p2tr_key_spend(&sig);
    Ok(tx)
}
