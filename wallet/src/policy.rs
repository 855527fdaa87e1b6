//! The spending policy: a pure function of the payment, the configured limits and what was
//! already spent in the rolling window. Time enters only as the window's usage, which the store
//! computes for a `now` the caller passes in, so tests move the clock without sleeping.

use bitcoin::key::XOnlyPublicKey;
use bitcoin::Network;
use coldgate_spec::config::SIGN_AMOUNT_CEILING;
use coldgate_spec::{Payment, RejectReason};
use coldgate_tx::TxError;
use serde::{Deserialize, Deserializer};

/// Length of the rolling window, in seconds. A payment made at `t` counts at every `now` with
/// `t > now - WINDOW_SECS`, i.e. for exactly 24 hours.
pub const WINDOW_SECS: i64 = 24 * 60 * 60;

/// A fee rate, kept in satoshis per 1000 virtual bytes (Bitcoin Core's sat/kvB) so policy
/// compares integers; configured in sat/vB (`1`, `2.5`; three decimals at most count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeeRate(pub u64);

impl FeeRate {
    /// A rate from sat/vB.
    pub fn sat_per_vb(rate: f64) -> Option<FeeRate> {
        (rate.is_finite() && (0.0..=1e12).contains(&rate))
            .then(|| FeeRate((rate * 1000.0).round() as u64))
    }
    /// True when `fee` over `vsize` vbytes is at least this rate.
    pub fn met_by(self, fee: u64, vsize: u64) -> bool {
        u128::from(fee) * 1000 >= u128::from(self.0) * u128::from(vsize)
    }
    /// True when `fee` over `vsize` vbytes is at most this rate.
    pub fn not_exceeded_by(self, fee: u64, vsize: u64) -> bool {
        u128::from(fee) * 1000 <= u128::from(self.0) * u128::from(vsize)
    }
}

impl std::fmt::Display for FeeRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03} sat/vB", self.0 / 1000, self.0 % 1000)
    }
}

fn fee_rate<'de, D: Deserializer<'de>>(d: D) -> Result<FeeRate, D::Error> {
    let v = f64::deserialize(d)?;
    FeeRate::sat_per_vb(v).ok_or_else(|| {
        serde::de::Error::custom(format!("{v} is not a fee rate in sat/vB (0 or more)"))
    })
}

/// Bitcoin Core's default minimum relay fee: 1 sat/vB.
pub const DEFAULT_MIN_FEE_RATE: FeeRate = FeeRate(1_000);
/// Default maximum: 1000 sat/vB, far above any fee market seen, far below a typo's cost.
pub const DEFAULT_MAX_FEE_RATE: FeeRate = FeeRate(1_000_000);

fn default_min_fee_rate() -> FeeRate {
    DEFAULT_MIN_FEE_RATE
}
fn default_max_fee_rate() -> FeeRate {
    DEFAULT_MAX_FEE_RATE
}
fn default_min_approvers() -> u32 {
    1
}

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
    /// Minimum fee rate in sat/vB over the signed transaction's exact vsize (111 vB without
    /// change, 154 with): below it, REJECT fee_rate_too_low (no node would relay it).
    /// Default 1 sat/vB.
    #[serde(default = "default_min_fee_rate", deserialize_with = "fee_rate")]
    pub min_fee_rate: FeeRate,
    /// Maximum fee rate in sat/vB: above it, REJECT fee_rate_too_high. Default 1000 sat/vB.
    #[serde(default = "default_max_fee_rate", deserialize_with = "fee_rate")]
    pub max_fee_rate: FeeRate,
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
    /// Total amount one client may ever have signed or held (denied payments do not count):
    /// above it, REJECT client_lifetime_amount. No cap when absent.
    #[serde(default)]
    pub client_lifetime_amount: Option<u64>,
    /// Total amount the whole service may ever sign or hold: REJECT service_lifetime_amount.
    #[serde(default)]
    pub service_lifetime_amount: Option<u64>,
    /// Distinct operators who must approve a held payment before it is signed (one deny ends
    /// it). Default 1.
    #[serde(default = "default_min_approvers")]
    pub min_approvers: u32,
    /// When present, the only destinations payments may go to: P2TR addresses of the
    /// configured network, or 64 hex digits of an output key.
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
    #[error("policy.min_fee_rate ({min}) is above policy.max_fee_rate ({max})")]
    FeeRates { min: FeeRate, max: FeeRate },
    #[error("policy.min_approvers must be at least 1")]
    MinApprovers,
    #[error("policy.destinations[{index}]: {problem}")]
    Destination { index: usize, problem: String },
}

/// What was already spent inside the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub amount: u64,
    pub count: u64,
}

/// Usage of the requesting client and of the whole service: in the rolling window, and the
/// amounts ever signed or held (`*_lifetime`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub client: Usage,
    pub service: Usage,
    pub client_lifetime: u64,
    pub service_lifetime: u64,
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
            min_fee_rate: DEFAULT_MIN_FEE_RATE,
            max_fee_rate: DEFAULT_MAX_FEE_RATE,
            client_daily_amount,
            client_daily_count,
            service_daily_amount,
            service_daily_count,
            max_keys_per_client,
            client_lifetime_amount: None,
            service_lifetime_amount: None,
            min_approvers: 1,
            destinations: None,
            allowed: None,
        }
    }

    /// Sets the fee-rate bounds in sat/vB; validate afterwards.
    pub fn with_fee_rates(mut self, min: FeeRate, max: FeeRate) -> Policy {
        self.min_fee_rate = min;
        self.max_fee_rate = max;
        self
    }

    /// Sets the lifetime caps (per client, service-wide).
    pub fn with_lifetime(mut self, client: Option<u64>, service: Option<u64>) -> Policy {
        self.client_lifetime_amount = client;
        self.service_lifetime_amount = service;
        self
    }

    /// Sets how many distinct operators must approve a held payment.
    pub fn with_min_approvers(mut self, n: u32) -> Policy {
        self.min_approvers = n;
        self
    }

    /// Restricts destinations to this list (addresses or hex output keys); validate afterwards.
    pub fn with_destinations(mut self, destinations: Vec<String>) -> Policy {
        self.destinations = Some(destinations);
        self.allowed = None;
        self
    }

    /// Checks the limits against the wire's ceilings and parses the allowlist, with addresses
    /// read as mainnet ones (see [`Policy::validate_for`]).
    pub fn validate(&mut self) -> Result<(), PolicyError> {
        self.validate_for(Network::Bitcoin)
    }

    /// Checks the limits and parses the allowlist's addresses for `network`.
    pub fn validate_for(&mut self, network: Network) -> Result<(), PolicyError> {
        if self.max_payment == 0 || self.max_payment > SIGN_AMOUNT_CEILING {
            return Err(PolicyError::MaxPayment(self.max_payment));
        }
        if self.max_keys_per_client == 0 {
            return Err(PolicyError::MaxKeys);
        }
        if self.min_fee_rate > self.max_fee_rate {
            return Err(PolicyError::FeeRates {
                min: self.min_fee_rate,
                max: self.max_fee_rate,
            });
        }
        if self.min_approvers == 0 {
            return Err(PolicyError::MinApprovers);
        }
        self.allowed = match &self.destinations {
            None => None,
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(index, s)| {
                        let bad = |problem: String| PolicyError::Destination { index, problem };
                        // Regtest addresses are 64 characters too: hex means hex digits only.
                        if !(s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())) {
                            return coldgate_tx::address::parse_destination(s, network)
                                .map_err(|e| bad(e.to_string()));
                        }
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
    /// in a fixed order and the first broken rule is the one named: the input (an outpoint
    /// that cannot exist), the transaction's shape, the destination, the fee, the fee rate
    /// (low, then high), the per-payment maximum, the client's then the service's count and
    /// amount, the lifetime caps, and last the hold threshold.
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
            Err(TxError::Input(_)) => return Reject(InputImpossible),
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
        let vsize = coldgate_tx::vsize(payment);
        if !self.min_fee_rate.met_by(fee, vsize) {
            return Reject(FeeRateTooLow);
        }
        if !self.max_fee_rate.not_exceeded_by(fee, vsize) {
            return Reject(FeeRateTooHigh);
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
        let over = |cap: Option<u64>, used: u64| {
            cap.is_some_and(|cap| used.saturating_add(payment.amount) > cap)
        };
        if over(self.client_lifetime_amount, window.client_lifetime) {
            return Reject(ClientLifetimeAmount);
        }
        if over(self.service_lifetime_amount, window.service_lifetime) {
            return Reject(ServiceLifetimeAmount);
        }
        if payment.amount > self.hold_above {
            return Decision::Hold;
        }
        Decision::Sign
    }
}
