//! The spending policy: a pure function of the payment, the configured limits and what was
//! already spent in the rolling window. Time enters only as the window's usage, which the store
//! computes for a `now` the caller passes in, so tests move the clock without sleeping.

use bitcoin::key::XOnlyPublicKey;
use coldgate_spec::config::SIGN_AMOUNT_CEILING;
use coldgate_spec::{Payment, RejectReason};
use coldgate_tx::TxError;
use serde::Deserialize;

/// Length of the rolling window, in seconds. A payment made at `t` counts at every `now` with
/// `t > now - WINDOW_SECS`, i.e. for exactly 24 hours.
pub const WINDOW_SECS: i64 = 24 * 60 * 60;

/// The limits, from the config file's `[policy]` table. Amounts are in satoshis.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Hard maximum of one payment's amount: above it, REJECT over_payment_max. At most the
    /// wire's SIGN_AMOUNT_CEILING (checked at load).
    pub max_payment: u64,
    /// Payments with an amount strictly above this are HELD for an operator.
    pub hold_above: u64,
    /// Maximum fee (input minus outputs): above it, REJECT fee_too_high.
    pub max_fee: u64,
    /// Rolling 24-hour total amount of one client's signed and held payments.
    pub client_daily_amount: u64,
    /// Rolling 24-hour number of one client's signed and held payments.
    pub client_daily_count: u64,
    /// Rolling 24-hour total amount over every client.
    pub service_daily_amount: u64,
    /// Rolling 24-hour number of payments over every client.
    pub service_daily_count: u64,
    /// Keys one client may create.
    pub max_keys_per_client: u32,
    /// When present, the only destinations (hex x-only output keys) payments may go to.
    #[serde(default)]
    pub destinations: Option<Vec<String>>,
    #[serde(skip)]
    allowed: Option<Vec<[u8; 32]>>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy.max_payment = {0} is outside 1..={SIGN_AMOUNT_CEILING} (the wire's SIGN_AMOUNT_CEILING)")]
    MaxPayment(u64),
    #[error("policy.max_keys_per_client must be at least 1")]
    MaxKeys,
    #[error("policy.destinations[{index}]: {problem}")]
    Destination { index: usize, problem: String },
}

/// What was already spent inside the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub amount: u64,
    pub count: u64,
}

/// Usage of the requesting client and of the whole service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub client: Usage,
    pub service: Usage,
}

/// The policy's verdict on a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Sign,
    Hold,
    Reject(RejectReason),
}

impl Policy {
    /// A policy with no allowlist; call [`Policy::validate`] before use.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        max_payment: u64,
        hold_above: u64,
        max_fee: u64,
        client_daily_amount: u64,
        client_daily_count: u64,
        service_daily_amount: u64,
        service_daily_count: u64,
        max_keys_per_client: u32,
    ) -> Policy {
        Policy {
            max_payment,
            hold_above,
            max_fee,
            client_daily_amount,
            client_daily_count,
            service_daily_amount,
            service_daily_count,
            max_keys_per_client,
            destinations: None,
            allowed: None,
        }
    }

    /// Restricts destinations to this list (hex x-only keys); validate afterwards.
    pub fn with_destinations(mut self, destinations: Vec<String>) -> Policy {
        self.destinations = Some(destinations);
        self.allowed = None;
        self
    }

    /// Checks the limits against the wire's ceilings and parses the allowlist.
    pub fn validate(&mut self) -> Result<(), PolicyError> {
        if self.max_payment == 0 || self.max_payment > SIGN_AMOUNT_CEILING {
            return Err(PolicyError::MaxPayment(self.max_payment));
        }
        if self.max_keys_per_client == 0 {
            return Err(PolicyError::MaxKeys);
        }
        self.allowed = match &self.destinations {
            None => None,
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(index, s)| {
                        let bad = |problem: String| PolicyError::Destination { index, problem };
                        let b: [u8; 32] = hex::decode(s)
                            .map_err(|e| bad(e.to_string()))?
                            .try_into()
                            .map_err(|_| bad("expected 64 hex digits".into()))?;
                        XOnlyPublicKey::from_slice(&b)
                            .map_err(|_| bad("not an x-only key on secp256k1".into()))?;
                        Ok(b)
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(())
    }

    /// The verdict on `payment` by the key `internal`, given the window's usage. The checks run
    /// in a fixed order and the first broken rule is the one named: the transaction's shape,
    /// the destination, the fee, the per-payment maximum, the client's then the service's
    /// count and amount, and last the hold threshold.
    pub fn decide(
        &self,
        internal: &XOnlyPublicKey,
        payment: &Payment,
        window: &Window,
    ) -> Decision {
        use Decision::Reject;
        use RejectReason::*;
        let shape = coldgate_tx::payment_tx(internal, payment)
            .and_then(|_| coldgate_tx::check_amounts(payment));
        let fee = match shape {
            Ok(fee) => fee,
            // Nobody could ever spend an output to a non-point: refusing it is a destination rule.
            Err(TxError::DestinationNotOnCurve) => return Reject(DestinationNotAllowed),
            Err(_) => return Reject(AmountsInvalid),
        };
        if self.destinations.is_some() {
            // Fails closed: a list that was never parsed (policy not validated) allows nothing.
            match &self.allowed {
                Some(allowed) if allowed.contains(&payment.destination) => {}
                _ => return Reject(DestinationNotAllowed),
            }
        }
        if fee > self.max_fee {
            return Reject(FeeTooHigh);
        }
        if payment.amount > self.max_payment {
            return Reject(OverPaymentMax);
        }
        let (client, service) = (&window.client, &window.service);
        if client.count.saturating_add(1) > self.client_daily_count {
            return Reject(ClientDailyCount);
        }
        if client.amount.saturating_add(payment.amount) > self.client_daily_amount {
            return Reject(ClientDailyAmount);
        }
        if service.count.saturating_add(1) > self.service_daily_count {
            return Reject(ServiceDailyCount);
        }
        if service.amount.saturating_add(payment.amount) > self.service_daily_amount {
            return Reject(ServiceDailyAmount);
        }
        if payment.amount > self.hold_above {
            return Decision::Hold;
        }
        Decision::Sign
    }
}
