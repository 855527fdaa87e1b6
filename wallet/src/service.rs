//! The wallet's request handling: authenticate, apply the policy, commit, answer.
//!
//! [`Wallet::handle`] takes one request frame and the time, and returns the response frame.
//! Its effects (counter, key, ledger, audit) are committed in one transaction before it
//! returns, so a response that leaves the process always stands for committed state.

use coldgate_spec::auth::Secret;
use coldgate_spec::{Body, Frame, Payment, RejectReason};
use serde_json::json;
use zeroize::Zeroizing;

use crate::policy::{Decision, Policy};
use crate::store::{PaymentRecord, PaymentStatus, Store, StoreError, Timestamp, Txn};
use crate::vault::random;

/// The store and the policy that decides over it.
pub struct Wallet {
    store: Store,
    policy: Policy,
}

/// The answer to an operator's decision on a held payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decided {
    /// The last approval needed: the payment is signed.
    Signed([u8; 64]),
    /// Recorded; `approvals` of `needed` distinct operators so far.
    Approved { approvals: u64, needed: u64 },
    /// One deny ends it.
    Denied,
}

/// An operator, by name, with the credential `coldgate-wallet operator add` wrote for them.
pub struct Operator<'a> {
    pub name: &'a str,
    pub credential: &'a [u8; 32],
}

/// What one request resolved to, before sealing.
struct Outcome {
    body: Body,
    event: serde_json::Value,
    /// Whether the transaction holds effects worth committing (everything but a failure).
    commit: bool,
}

fn reject(reason: RejectReason) -> Body {
    Body::Reject { reason }
}

/// A response frame tagged with the client's secret (`None`: zero tag, for unknown clients).
fn seal(request: &Frame, body: Body, secret: Option<&Secret>) -> Frame {
    let zero_tagged = |body| Frame {
        client_id: request.client_id,
        counter: request.counter,
        body,
        tag: [0; 32],
    };
    let Some(s) = secret else {
        return zero_tagged(body);
    };
    // A request that decoded has a valid client id and counter, and the wallet only makes
    // bodies within the wire rules, so sealing does not fail; should it, the client gets a
    // store_unavailable rather than an untagged success.
    let unavailable = reject(RejectReason::StoreUnavailable);
    Frame::sealed(request.client_id, request.counter, body, s)
        .or_else(|_| Frame::sealed(request.client_id, request.counter, unavailable, s))
        .unwrap_or_else(|_| zero_tagged(unavailable))
}

impl Wallet {
    /// A wallet over an open store. The policy must have been validated.
    pub fn new(store: Store, policy: Policy) -> Wallet {
        Wallet { store, policy }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Answers one request frame at time `now`. Never fails: store trouble becomes a
    /// REJECT store_unavailable (tagged when the client's secret could be read).
    pub fn handle(&mut self, request: &Frame, now: Timestamp) -> Frame {
        let mut secret = None;
        let body = self
            .try_handle(request, now, &mut secret)
            .unwrap_or_else(|e| {
                // Fail closed: nothing was committed, so nothing (no signature) leaves.
                match e.unwritable() {
                    Some(why) => tracing::error!(client_id = request.client_id,
                        counter = request.counter, error = %e,
                        "refusing the request: {why}; nothing was signed or recorded"),
                    None => tracing::error!(client_id = request.client_id,
                        counter = request.counter, error = %e, "store failure"),
                }
                reject(RejectReason::StoreUnavailable)
            });
        seal(request, body, secret.as_deref())
    }

    /// Handles a request in one transaction; `secret` receives the client's secret as soon as
    /// it is read, so even a failure later on is answered with a tagged frame.
    fn try_handle(
        &mut self,
        request: &Frame,
        now: Timestamp,
        secret: &mut Option<Zeroizing<Secret>>,
    ) -> Result<Body, StoreError> {
        let policy = &self.policy;
        let t = self.store.begin()?;
        let base = json!({"client_id": request.client_id, "counter": request.counter,
                          "type": request.body.msg_type().name()});
        let with = |mut v: serde_json::Value, extra: serde_json::Value| {
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            v
        };
        let refused = |t: Txn<'_>, reason: RejectReason, base: serde_json::Value| {
            t.audit(
                now,
                &with(base, json!({"event": "refused", "reason": reason.name()})),
            )?;
            t.commit()?;
            Ok::<_, StoreError>(reject(reason))
        };
        let Some((client_secret, last_counter)) = t.client(request.client_id)? else {
            return refused(t, RejectReason::UnknownClient, base);
        };
        let client_secret = &*secret.insert(client_secret);
        if !request.verify(client_secret) {
            return refused(t, RejectReason::BadTag, base);
        }
        // A restored store also refuses counters below its restore floor: frames sent after
        // the backup was taken are not replayable against the copy.
        if request.counter <= last_counter.max(t.counter_floor()?) {
            return refused(t, RejectReason::StaleCounter, base);
        }
        t.set_counter(request.client_id, request.counter)?;
        let outcome = dispatch(&t, policy, request, now)?;
        if let Some(event) = outcome.event.as_object().filter(|o| !o.is_empty()) {
            t.audit(now, &with(base, serde_json::Value::Object(event.clone())))?;
        }
        if outcome.commit {
            t.commit()?;
        }
        Ok(outcome.body)
    }

    /// Held payments, oldest first.
    pub fn held(&self) -> Result<Vec<PaymentRecord>, StoreError> {
        self.store.held()
    }

    /// An operator approves a held payment. Once `min_approvers` distinct operators have, it
    /// is signed and PAYMENT_STATUS returns the signature from then on. Every approval is in
    /// the audit log; a wrong credential changes nothing.
    pub fn approve(
        &mut self,
        operator: &Operator<'_>,
        client_id: u32,
        reference: u64,
        now: Timestamp,
    ) -> Result<Decided, StoreError> {
        let needed = u64::from(self.policy.min_approvers);
        let t = self.store.begin()?;
        t.check_operator(operator.name, operator.credential)?;
        let rec = held_payment(&t, client_id, reference)?;
        let approvals = t.record_approval(client_id, reference, operator.name, true, now)?;
        t.audit(
            now,
            &json!({"event": "approval", "operator": operator.name, "client_id": client_id,
                    "reference": reference, "amount": rec.payment.amount,
                    "approvals": approvals, "needed": needed}),
        )?;
        if approvals < needed {
            t.commit()?;
            return Ok(Decided::Approved { approvals, needed });
        }
        let key = t.key(rec.payment.key_id)?.ok_or_else(|| {
            StoreError::Corrupt(format!("ledger names unknown key {}", rec.payment.key_id))
        })?;
        let signature = sign(&t, &key, &rec.payment)?;
        t.decide(
            client_id,
            reference,
            PaymentStatus::Signed,
            Some(signature),
            now,
        )?;
        t.audit(
            now,
            &json!({"event": "approved", "client_id": client_id, "reference": reference,
                    "amount": rec.payment.amount, "approvals": approvals}),
        )?;
        t.commit()?;
        Ok(Decided::Signed(signature))
    }

    /// An operator denies a held payment: one deny ends it. PAYMENT_STATUS answers REJECT
    /// denied, and it stops counting against the limits.
    pub fn deny(
        &mut self,
        operator: &Operator<'_>,
        client_id: u32,
        reference: u64,
        now: Timestamp,
    ) -> Result<Decided, StoreError> {
        let t = self.store.begin()?;
        t.check_operator(operator.name, operator.credential)?;
        let rec = held_payment(&t, client_id, reference)?;
        t.record_approval(client_id, reference, operator.name, false, now)?;
        t.decide(client_id, reference, PaymentStatus::Denied, None, now)?;
        t.audit(
            now,
            &json!({"event": "denied", "operator": operator.name, "client_id": client_id,
                    "reference": reference, "amount": rec.payment.amount}),
        )?;
        t.commit()?;
        Ok(Decided::Denied)
    }
}

fn held_payment(t: &Txn<'_>, client_id: u32, reference: u64) -> Result<PaymentRecord, StoreError> {
    match t.payment(client_id, reference)? {
        Some(rec) if rec.status == PaymentStatus::Held => Ok(rec),
        _ => Err(StoreError::NotHeld {
            client_id,
            reference,
        }),
    }
}

/// Signs with fresh auxiliary randomness and checks the signature before it is stored or sent.
fn sign(
    t: &Txn<'_>,
    key: &crate::store::KeyRecord,
    payment: &Payment,
) -> Result<[u8; 64], StoreError> {
    let keypair = t.keypair(key)?;
    let aux = random::<32>()?;
    let sig = coldgate_tx::sign(&keypair, payment, &aux)
        .and_then(|sig| coldgate_tx::verify(&key.pubkey, payment, &sig).map(|()| sig))
        .map_err(|e| StoreError::Corrupt(format!("signing payment: {e}")))?;
    Ok(sig)
}

/// The answer a ledger entry stands for: its signature, HELD, or REJECT denied.
fn recorded(rec: &PaymentRecord) -> Result<Body, StoreError> {
    Ok(match (rec.status, rec.signature) {
        (PaymentStatus::Signed, Some(signature)) => Body::Signature {
            key_id: rec.payment.key_id,
            signature,
            reference: rec.reference,
        },
        (PaymentStatus::Held, _) => Body::Held {
            reference: rec.reference,
        },
        (PaymentStatus::Denied, _) => reject(RejectReason::Denied),
        (PaymentStatus::Signed, None) => {
            return Err(StoreError::Corrupt(format!(
                "payment {} of client {} is signed without a signature",
                rec.reference, rec.client_id
            )))
        }
    })
}

fn dispatch(
    t: &Txn<'_>,
    policy: &Policy,
    request: &Frame,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    let client_id = request.client_id;
    let done = |body: Body, event: serde_json::Value| Outcome {
        body,
        event,
        commit: true,
    };
    let refused = |reason: RejectReason| {
        done(
            reject(reason),
            json!({"event": "refused", "reason": reason.name()}),
        )
    };
    // Looks a key up for this client: unknown and foreign keys are refused alike to any use.
    let owned = |key_id: u32| -> Result<Result<crate::store::KeyRecord, RejectReason>, StoreError> {
        Ok(match t.key(key_id)? {
            None => Err(RejectReason::UnknownKey),
            Some(k) if k.client_id != client_id => Err(RejectReason::ForeignKey),
            Some(k) => Ok(k),
        })
    };
    Ok(match request.body {
        Body::NewKey => {
            if t.key_count(client_id)? >= u64::from(policy.max_keys_per_client) {
                return Ok(refused(RejectReason::KeyLimit));
            }
            match t.new_key(client_id, now)? {
                None => refused(RejectReason::KeyLimit),
                Some(k) => done(
                    Body::Pubkey {
                        key_id: k.key_id,
                        key: k.pubkey.serialize(),
                    },
                    json!({"event": "key_created", "key_id": k.key_id,
                           "pubkey": hex::encode(k.pubkey.serialize())}),
                ),
            }
        }
        Body::GetPubkey { key_id } => match owned(key_id)? {
            Err(reason) => refused(reason),
            // Reads are not audited: they change nothing (the counter is committed regardless).
            Ok(k) => done(
                Body::Pubkey {
                    key_id,
                    key: k.pubkey.serialize(),
                },
                json!({}),
            ),
        },
        Body::SignPayment(p) => {
            let key = match owned(p.key_id)? {
                Err(reason) => return Ok(refused(reason)),
                Ok(k) => k,
            };
            // The same payment again (its answer was lost on the way): the recorded outcome,
            // with no second signature and nothing counted twice.
            if let Some(rec) = t.find_payment(client_id, &p)? {
                let body = recorded(&rec)?;
                return Ok(done(
                    body,
                    json!({"event": "payment", "verdict": "recalled",
                           "reference": rec.reference, "status": rec.status.name()}),
                ));
            }
            let window = t.window(client_id, now)?;
            let decision = policy.decide(&key.pubkey, &p, &window);
            let event = |verdict: &str, reason: Option<RejectReason>| {
                json!({"event": "payment", "verdict": verdict, "reason": reason.map(|r| r.name()),
                       "key_id": p.key_id, "txid": coldgate_tx::txid_to_explorer(&p.txid),
                       "vout": p.vout,
                       "input_amount": p.input_amount, "destination": hex::encode(p.destination),
                       "amount": p.amount, "change": p.change})
            };
            let record = |status, signature| PaymentRecord {
                client_id,
                reference: request.counter,
                payment: p,
                fee: p.fee().unwrap_or(0),
                created: now,
                status,
                signature,
            };
            match decision {
                Decision::Reject(reason) => done(reject(reason), event("rejected", Some(reason))),
                Decision::Hold => {
                    t.insert_payment(&record(PaymentStatus::Held, None))?;
                    done(
                        Body::Held {
                            reference: request.counter,
                        },
                        event("held", None),
                    )
                }
                Decision::Sign => {
                    let signature = sign(t, &key, &p)?;
                    t.insert_payment(&record(PaymentStatus::Signed, Some(signature)))?;
                    done(
                        Body::Signature {
                            key_id: p.key_id,
                            signature,
                            reference: request.counter,
                        },
                        event("signed", None),
                    )
                }
            }
        }
        Body::PaymentStatus { reference } => {
            let body = match t.payment(client_id, reference)? {
                None => reject(RejectReason::UnknownReference),
                Some(rec) => recorded(&rec)?,
            };
            done(body, json!({}))
        }
        // The RPC layer only admits request types; a response type here is a caller bug, and
        // is refused without any effect.
        Body::Pubkey { .. }
        | Body::Signature { .. }
        | Body::Held { .. }
        | Body::Reject { .. }
        | Body::Notice(_) => Outcome {
            body: reject(RejectReason::StoreUnavailable),
            event: json!({}),
            commit: false,
        },
    })
}
