//! The client: builds tagged request frames, calls converter-in, and believes nothing it gets
//! back until it has checked it.
//!
//! Every answer must echo the request's client id and counter, carry a valid tag under the
//! client's secret, and be a type the method can answer with; a signature must verify (with
//! coldgate-tx) against the key the wallet gave this client, over the payment this client
//! asked for. Anything else is a [`ClientError::Forged`] or [`ClientError::BadSignature`]:
//! something between the client and the wallet misbehaved.

use std::path::{Path, PathBuf};
use std::time::Duration;

use coldgate_converter_in::rpc::{self, CallError, Endpoint, Method};
use coldgate_spec::auth::Secret;
use coldgate_spec::codec::{Body, Frame, Notice, Payment};
use coldgate_spec::json::{from_json, to_json};
use coldgate_spec::RejectReason;
use coldgate_tx::bitcoin::key::XOnlyPublicKey;
use coldgate_tx::bitcoin::psbt::Psbt;
use coldgate_tx::bitcoin::{Network, Transaction};
use coldgate_tx::psbt::PsbtError;

use crate::state::{State, StateError};

/// Why a call produced no trustworthy outcome.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("secret file {path}: {problem}")]
    Secret { path: PathBuf, problem: String },
    /// The cause is in the message and deliberately not the error's source: a report that
    /// walks the chain (`{:#}`) would print it twice.
    #[error("call failed: {0}")]
    Call(CallError),
    #[error("answer refused: {0}")]
    Forged(String),
    #[error("signature refused: {0}")]
    BadSignature(coldgate_tx::TxError),
    #[error("no public key known for key {0}: ask for it with pubkey first")]
    UnknownKey(u32),
    #[error("no held payment with reference {0} in this client's state")]
    UnknownReference(u64),
    #[error("request does not encode: {0}")]
    Encode(String),
    #[error("PSBT refused: {0}")]
    Psbt(#[from] PsbtError),
}

/// What a person needs of a key: its address on the client's network (where coins are sent)
/// and the `tr(KEY)` descriptor a watch-only wallet imports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub key_id: u32,
    /// The internal key (what the wallet's frames carry).
    pub internal: XOnlyPublicKey,
    /// The bech32m P2TR address of the BIP-86 tweaked output key.
    pub address: String,
    /// `tr(<internal key>)#checksum`.
    pub descriptor: String,
}

impl KeyInfo {
    pub fn new(key_id: u32, key: &[u8; 32], network: Network) -> Result<KeyInfo, ClientError> {
        let internal = coldgate_tx::parse_key(key).map_err(ClientError::BadSignature)?;
        Ok(KeyInfo {
            key_id,
            internal,
            address: coldgate_tx::address::key_address(&internal, network).to_string(),
            descriptor: coldgate_tx::address::descriptor(&internal),
        })
    }
}

impl std::fmt::Display for KeyInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "address {}\ndescriptor {}",
            self.address, self.descriptor
        )
    }
}

impl From<CallError> for ClientError {
    fn from(e: CallError) -> ClientError {
        ClientError::Call(e)
    }
}

/// What the wallet (or the verifier) said, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Key {
        key_id: u32,
        key: [u8; 32],
    },
    /// A verified signature and the complete signed transaction. `reference` is the
    /// payment's ledger entry (an earlier counter when this answers a re-sent payment).
    Signed {
        key_id: u32,
        signature: [u8; 64],
        tx: Transaction,
        reference: u64,
    },
    Held {
        reference: u64,
    },
    /// A REJECT whose tag verified: the wallet itself refused.
    Rejected {
        reason: RejectReason,
    },
    /// The verifier dropped the request (NOTICEs carry no tag: a converter could also fake
    /// one, which is no worse than dropping the call).
    Dropped {
        notice: Notice,
        field: &'static str,
    },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Key { key_id, key } => write!(f, "key {key_id}: {}", hex::encode(key)),
            Outcome::Signed {
                key_id,
                tx,
                reference,
                ..
            } => write!(
                f,
                "signed with key {key_id} (payment {reference}), signature verified; transaction {}",
                tx.compute_txid()
            ),
            Outcome::Held { reference } => {
                write!(f, "held for an operator, reference {reference}")
            }
            Outcome::Rejected { reason } => write!(f, "rejected by the wallet: {reason}"),
            Outcome::Dropped { notice, field } => write!(
                f,
                "dropped by the verifier on the {} lane: {} (field {field})",
                notice.lane, notice.reason
            ),
        }
    }
}

/// One call: what was sent, what came back, and what it means.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: Method,
    pub request: Frame,
    pub answer: Frame,
    pub outcome: Outcome,
}

/// How to reach converter-in and who this client is.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub client_id: u32,
    pub secret: Secret,
    pub state_path: PathBuf,
    pub timeout: Duration,
    /// The network addresses are shown for and destinations are read in.
    pub network: Network,
}

/// Reads a secret file as `coldgate-wallet client add` writes it: 64 hex digits and a newline.
pub fn read_secret(path: &Path) -> Result<Secret, ClientError> {
    let problem = |p: &str| ClientError::Secret {
        path: path.to_owned(),
        problem: p.to_string(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| problem(&e.to_string()))?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim_end_matches(['\n', '\r']), &mut secret)
        .map_err(|_| problem("expected 64 hex digits"))?;
    Ok(secret)
}

/// A client session over one state file.
pub struct Client {
    endpoint: Endpoint,
    client_id: u32,
    secret: Secret,
    state: State,
    timeout: Duration,
    network: Network,
}

impl Client {
    pub fn open(c: ClientConfig) -> Result<Client, ClientError> {
        let state = State::open(&c.state_path, c.client_id)?;
        Ok(Client {
            endpoint: c.endpoint,
            client_id: c.client_id,
            secret: c.secret,
            state,
            timeout: c.timeout,
            network: c.network,
        })
    }

    pub fn network(&self) -> Network {
        self.network
    }

    /// Address and descriptor of a key this client was given.
    pub fn key_info(&self, key_id: u32) -> Result<KeyInfo, ClientError> {
        let key = self
            .state
            .key(key_id)
            .ok_or(ClientError::UnknownKey(key_id))?;
        KeyInfo::new(key_id, &key, self.network)
    }

    /// A destination from an address of this client's network (P2TR only).
    pub fn destination(
        &self,
        address: &str,
    ) -> Result<[u8; 32], coldgate_tx::address::AddressError> {
        coldgate_tx::address::parse_destination(address, self.network)
    }

    /// Signs a PSBT: it must be the fixed shape spending one of this client's known keys
    /// (ask with `pubkey` first). On a signature, the PSBT gets `tap_key_sig` and the final
    /// witness; any other outcome leaves it as it was.
    pub async fn sign_psbt(&mut self, psbt: &mut Psbt) -> Result<Exchange, ClientError> {
        let keys: Vec<(u32, XOnlyPublicKey)> = self
            .state
            .data()
            .keys
            .keys()
            .filter_map(|&id| {
                let k = self.state.key(id)?;
                Some((id, coldgate_tx::parse_key(&k).ok()?))
            })
            .collect();
        let (payment, internal) = coldgate_tx::psbt::payment_from_psbt(psbt, &keys)?;
        let x = self.sign_payment(payment).await?;
        if let Outcome::Signed { signature, .. } = &x.outcome {
            coldgate_tx::psbt::finalize(psbt, &internal, &payment, signature)
                .map_err(ClientError::BadSignature)?;
        }
        Ok(x)
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn client_id(&self) -> u32 {
        self.client_id
    }

    /// Asks the wallet for a new key.
    pub async fn new_key(&mut self) -> Result<Exchange, ClientError> {
        self.exchange(Body::NewKey).await
    }

    /// Asks for the public key of one of this client's keys.
    pub async fn pubkey(&mut self, key_id: u32) -> Result<Exchange, ClientError> {
        self.exchange(Body::GetPubkey { key_id }).await
    }

    /// Asks for a payment to be signed (the key is fetched first when not yet known, so the
    /// signature can be verified). Re-sending a payment whose answer was lost is safe: the
    /// wallet answers with its recorded outcome and never signs or counts it twice.
    pub async fn sign_payment(&mut self, payment: Payment) -> Result<Exchange, ClientError> {
        if self.state.key(payment.key_id).is_none() {
            let x = self.pubkey(payment.key_id).await?;
            if !matches!(x.outcome, Outcome::Key { .. }) {
                return Err(ClientError::UnknownKey(payment.key_id));
            }
        }
        self.exchange(Body::SignPayment(payment)).await
    }

    /// Asks what became of a payment (held, or sent and not answered).
    pub async fn status(&mut self, reference: u64) -> Result<Exchange, ClientError> {
        self.exchange(Body::PaymentStatus { reference }).await
    }

    /// Sends one request and checks the answer.
    pub async fn exchange(&mut self, body: Body) -> Result<Exchange, ClientError> {
        let t = body.msg_type();
        let method = Method::for_type(t)
            .ok_or_else(|| ClientError::Encode(format!("{t} is not a request")))?;
        let counter = self.state.reserve_counter()?;
        let request = Frame::sealed(self.client_id, counter, body, &self.secret)
            .map_err(|e| ClientError::Encode(e.to_string()))?;
        if let Body::SignPayment(p) = &body {
            // Kept until the outcome is known, so a lost answer can be asked for by reference
            // (PAYMENT_STATUS) and its signature still checked against this payment.
            self.state.remember_held(counter, p)?;
        }
        let called = rpc::call(
            &self.endpoint,
            method.name(),
            to_json(&request),
            counter,
            self.timeout,
        )
        .await;
        let answer = match called {
            Ok(result) => self.authentic(&request, method, &result)?,
            Err(CallError::Rpc(e)) if e.code == rpc::REJECTED => {
                let data = e.data.unwrap_or_default();
                let answer = self.authentic(&request, method, &data)?;
                if !matches!(answer.body, Body::Reject { .. }) {
                    return Err(ClientError::Forged(format!(
                        "a REJECTED error carries a {} frame",
                        answer.body.msg_type()
                    )));
                }
                answer
            }
            Err(CallError::Rpc(e)) if e.code == rpc::DROPPED => {
                let data = e.data.unwrap_or_default();
                let notice = from_json(&data)
                    .map_err(|e| ClientError::Forged(format!("NOTICE is not a frame: {e}")))?;
                let Body::Notice(n) = notice.body else {
                    return Err(ClientError::Forged(
                        "a DROPPED error without a NOTICE".into(),
                    ));
                };
                if n.readable && (notice.client_id, notice.counter) != (self.client_id, counter) {
                    return Err(ClientError::Forged(format!(
                        "NOTICE is for client {} counter {}",
                        notice.client_id, notice.counter
                    )));
                }
                notice
            }
            Err(e) => return Err(e.into()),
        };
        let outcome = self.outcome(&request, &answer)?;
        Ok(Exchange {
            method,
            request,
            answer,
            outcome,
        })
    }

    /// The answer frame in `v`, if it is authentic and answers `request`.
    fn authentic(
        &self,
        request: &Frame,
        method: Method,
        v: &serde_json::Value,
    ) -> Result<Frame, ClientError> {
        let answer =
            from_json(v).map_err(|e| ClientError::Forged(format!("answer is not a frame: {e}")))?;
        if (answer.client_id, answer.counter) != (request.client_id, request.counter) {
            return Err(ClientError::Forged(format!(
                "answer is for client {} counter {}, the request was client {} counter {}",
                answer.client_id, answer.counter, request.client_id, request.counter
            )));
        }
        if !answer.verify(&self.secret) {
            return Err(ClientError::Forged(format!(
                "the {} answer's tag does not verify under this client's secret",
                answer.body.msg_type()
            )));
        }
        if !method.answers().contains(&answer.body.msg_type()) {
            return Err(ClientError::Forged(format!(
                "{} cannot be answered with {}",
                method.name(),
                answer.body.msg_type()
            )));
        }
        Ok(answer)
    }

    /// What an authenticated answer means, with signatures verified.
    fn outcome(&mut self, request: &Frame, answer: &Frame) -> Result<Outcome, ClientError> {
        Ok(match answer.body {
            Body::Pubkey { key_id, key } => {
                if let Body::GetPubkey { key_id: asked } = request.body {
                    if asked != key_id {
                        return Err(ClientError::Forged(format!(
                            "asked for key {asked}, got key {key_id}"
                        )));
                    }
                }
                coldgate_tx::parse_key(&key).map_err(ClientError::BadSignature)?;
                self.state.remember_key(key_id, &key)?;
                Outcome::Key { key_id, key }
            }
            Body::Signature {
                key_id,
                signature,
                reference,
            } => {
                let payment = match request.body {
                    Body::SignPayment(p) => p,
                    Body::PaymentStatus { reference: asked } => {
                        if asked != reference {
                            return Err(ClientError::Forged(format!(
                                "asked for payment {asked}, got payment {reference}"
                            )));
                        }
                        self.state
                            .held(reference)
                            .ok_or(ClientError::UnknownReference(reference))?
                    }
                    _ => return Err(ClientError::Forged("signature for a key request".into())),
                };
                if key_id != payment.key_id {
                    return Err(ClientError::Forged(format!(
                        "signature by key {key_id} for a payment from key {}",
                        payment.key_id
                    )));
                }
                let key = self
                    .state
                    .key(key_id)
                    .ok_or(ClientError::UnknownKey(key_id))?;
                let internal = coldgate_tx::parse_key(&key).map_err(ClientError::BadSignature)?;
                let tx = coldgate_tx::signed_tx(&internal, &payment, &signature)
                    .map_err(ClientError::BadSignature)?;
                self.state.forget_held(reference)?;
                self.state.forget_held(request.counter)?;
                Outcome::Signed {
                    key_id,
                    signature,
                    tx,
                    reference,
                }
            }
            Body::Held { reference } => {
                if let Body::SignPayment(p) = request.body {
                    self.state.remember_held(reference, &p)?;
                    if reference != request.counter {
                        self.state.forget_held(request.counter)?;
                    }
                }
                Outcome::Held { reference }
            }
            Body::Reject { reason } => {
                // A verdict: the payment is settled (refused or denied), nothing to recover.
                if matches!(request.body, Body::SignPayment(_)) {
                    self.state.forget_held(request.counter)?;
                }
                if let (Body::PaymentStatus { reference }, RejectReason::Denied) =
                    (request.body, reason)
                {
                    self.state.forget_held(reference)?;
                }
                Outcome::Rejected { reason }
            }
            Body::Notice(notice) => {
                let field =
                    coldgate_spec::field::fields(Some(notice.lane), request.body.msg_type())
                        .get(notice.field as usize)
                        .map(|f| f.name)
                        .unwrap_or("-");
                Outcome::Dropped { notice, field }
            }
            _ => {
                return Err(ClientError::Forged(format!(
                    "unexpected {} answer",
                    answer.body.msg_type()
                )))
            }
        })
    }
}
