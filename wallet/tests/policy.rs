//! The spending policy, rule by rule at its edges, then the rolling 24-hour window through a
//! real store with the clock moved by hand.

mod common;

use coldgate_spec::config::SIGN_AMOUNT_CEILING;
use coldgate_spec::{Body, Payment, RejectReason};
use coldgate_tx::DUST_P2TR;
use coldgate_wallet::policy::PolicyError;
use coldgate_wallet::{Config, Decision, Policy, Usage, Window, WINDOW_SECS};
use common::*;

use Decision::{Hold, Reject, Sign};
use RejectReason::*;

fn usage(count: u64, amount: u64) -> Usage {
    Usage { amount, count }
}

#[test]
fn each_rule_at_its_edges() {
    let p = policy();
    let key = keypair(1).x_only_public_key().0;
    let base = payment(1, 100_000, 50_000);
    let quiet = Window::default();
    let with_fee = |amount: u64, fee: u64| Payment {
        input_amount: amount + fee,
        amount,
        change: 0,
        ..base
    };
    #[rustfmt::skip]
    let cases: Vec<(&str, Payment, Window, Decision)> = vec![
        ("plain payment", base, quiet, Sign),
        ("amount at hold threshold", Payment { amount: 500_000, input_amount: 551_000, ..base }, quiet, Sign),
        ("amount one above hold threshold", Payment { amount: 500_001, input_amount: 551_001, ..base }, quiet, Hold),
        ("amount at per-payment max", Payment { amount: 1_000_000, input_amount: 1_051_000, ..base }, quiet, Hold),
        ("amount one above per-payment max", Payment { amount: 1_000_001, input_amount: 1_051_001, ..base }, quiet, Reject(OverPaymentMax)),
        ("fee at max", with_fee(100_000, 10_000), quiet, Sign),
        ("fee one above max", with_fee(100_000, 10_001), quiet, Reject(FeeTooHigh)),
        // The fee rate, over the exact vsize (111 vB without change, 154 with); default 1 sat/vB.
        ("zero fee", with_fee(100_000, 0), quiet, Reject(FeeRateTooLow)),
        ("1 sat/vB without change", with_fee(100_000, 111), quiet, Sign),
        ("just under 1 sat/vB", with_fee(100_000, 110), quiet, Reject(FeeRateTooLow)),
        ("1 sat/vB with change", Payment { input_amount: 150_154, ..base }, quiet, Sign),
        ("just under 1 sat/vB with change", Payment { input_amount: 150_153, ..base }, quiet, Reject(FeeRateTooLow)),
        // Impossible inputs have their own reason, before every other rule.
        ("null outpoint", Payment { txid: [0; 32], vout: u32::MAX, input_amount: 100, ..base }, quiet, Reject(InputImpossible)),
        ("all-zero txid", Payment { txid: [0; 32], vout: 0, ..base }, quiet, Reject(InputImpossible)),
        ("vout no transaction has", Payment { vout: coldgate_tx::VOUT_LIMIT, ..base }, quiet, Reject(InputImpossible)),
        ("outputs one above input", Payment { input_amount: 149_999, ..base }, quiet, Reject(AmountsInvalid)),
        ("amount below dust", Payment { amount: DUST_P2TR - 1, input_amount: DUST_P2TR + 51_000, ..base }, quiet, Reject(AmountsInvalid)),
        ("amount at dust", Payment { amount: DUST_P2TR, input_amount: DUST_P2TR + 51_000, ..base }, quiet, Sign),
        ("change below dust", Payment { change: DUST_P2TR - 1, input_amount: 100_000 + DUST_P2TR - 1 + 1_000, ..base }, quiet, Reject(AmountsInvalid)),
        ("change of zero (no change output)", Payment { change: 0, input_amount: 101_000, ..base }, quiet, Sign),
        ("destination off the curve", Payment { destination: off_curve(), ..base }, quiet, Reject(DestinationNotAllowed)),
        ("client count one below limit", base, Window { client: usage(4, 0), ..quiet }, Sign),
        ("client count at limit", base, Window { client: usage(5, 0), ..quiet }, Reject(ClientDailyCount)),
        ("client amount reaching limit", base, Window { client: usage(1, 2_900_000), ..quiet }, Sign),
        ("client amount one over limit", base, Window { client: usage(1, 2_900_001), ..quiet }, Reject(ClientDailyAmount)),
        ("service count one below limit", base, Window { service: usage(7, 0), ..quiet }, Sign),
        ("service count at limit", base, Window { service: usage(8, 0), ..quiet }, Reject(ServiceDailyCount)),
        ("service amount reaching limit", base, Window { service: usage(1, 4_900_000), ..quiet }, Sign),
        ("service amount one over limit", base, Window { service: usage(1, 4_900_001), ..quiet }, Reject(ServiceDailyAmount)),
        // When several rules break, the first in the documented order is named.
        ("fee and amount both over", Payment { amount: 1_000_001, input_amount: 1_070_000, ..base }, quiet, Reject(FeeTooHigh)),
        ("over max and over client count", Payment { amount: 1_000_001, input_amount: 1_051_001, ..base }, Window { client: usage(5, 0), ..quiet }, Reject(OverPaymentMax)),
        ("client and service count both at limit", base, Window { client: usage(5, 0), service: usage(8, 0), ..quiet }, Reject(ClientDailyCount)),
        ("client count before client amount", base, Window { client: usage(5, 3_000_000), ..quiet }, Reject(ClientDailyCount)),
        ("limits before hold", Payment { amount: 600_000, input_amount: 651_000, ..base }, Window { service: usage(1, 4_500_000), ..quiet }, Reject(ServiceDailyAmount)),
    ];
    for (name, payment, window, want) in cases {
        assert_eq!(p.decide(&key, &payment, &window), want, "{name}");
    }
}

fn off_curve() -> [u8; 32] {
    // x = 5 has no point on secp256k1.
    let mut d = [0u8; 32];
    d[31] = 5;
    d
}

#[test]
fn destination_allowlist() {
    let key = keypair(1).x_only_public_key().0;
    let mut p = policy().with_destinations(vec![hex::encode(destination(0x42))]);
    p.validate().unwrap();
    let allowed = payment(1, 100_000, 0);
    let other = Payment {
        destination: destination(0x43),
        ..allowed
    };
    assert_eq!(p.decide(&key, &allowed, &Window::default()), Sign);
    assert_eq!(
        p.decide(&key, &other, &Window::default()),
        Reject(DestinationNotAllowed)
    );
    // The same destination given as an address of the configured network.
    let address = coldgate_tx::address::destination_address(
        &destination(0x42),
        coldgate_tx::bitcoin::Network::Regtest,
    )
    .unwrap();
    let mut by_address = policy().with_destinations(vec![address.to_string()]);
    by_address
        .validate_for(coldgate_tx::bitcoin::Network::Regtest)
        .unwrap();
    assert_eq!(by_address.decide(&key, &allowed, &Window::default()), Sign);
    assert_eq!(
        by_address.decide(&key, &other, &Window::default()),
        Reject(DestinationNotAllowed)
    );
    // A list that was never validated allows nothing (fails closed).
    let unvalidated = policy().with_destinations(vec![hex::encode(destination(0x42))]);
    assert_eq!(
        unvalidated.decide(&key, &allowed, &Window::default()),
        Reject(DestinationNotAllowed)
    );
    // An empty allowlist allows nothing.
    let mut none = policy().with_destinations(vec![]);
    none.validate().unwrap();
    assert_eq!(
        none.decide(&key, &allowed, &Window::default()),
        Reject(DestinationNotAllowed)
    );
}

#[test]
fn fee_rates_at_their_edges() {
    let key = keypair(1).x_only_public_key().0;
    let min = coldgate_wallet::FeeRate::sat_per_vb(2.5).unwrap();
    let max = coldgate_wallet::FeeRate::sat_per_vb(20.0).unwrap();
    let mut p = policy().with_fee_rates(min, max);
    p.validate().unwrap();
    let pay = |fee: u64, change: u64| Payment {
        input_amount: 100_000 + change + fee,
        amount: 100_000,
        change,
        ..payment(1, 100_000, change)
    };
    // 2.5 sat/vB: 277.5 sat on 111 vB, 385 on 154; 20 sat/vB: 2220 and 3080.
    for (fee, change, want) in [
        (277, 0, Reject(FeeRateTooLow)),
        (278, 0, Sign),
        (2_220, 0, Sign),
        (2_221, 0, Reject(FeeRateTooHigh)),
        (384, 5_000, Reject(FeeRateTooLow)),
        (385, 5_000, Sign),
        (3_080, 5_000, Sign),
        (3_081, 5_000, Reject(FeeRateTooHigh)),
    ] {
        assert_eq!(
            p.decide(&key, &pay(fee, change), &Window::default()),
            want,
            "fee {fee} change {change}"
        );
    }
    // The absolute cap is checked first: a fee over it is fee_too_high whatever its rate.
    assert_eq!(
        p.decide(&key, &pay(10_001, 0), &Window::default()),
        Reject(FeeTooHigh)
    );
    let mut upside_down = policy().with_fee_rates(max, min);
    assert!(matches!(
        upside_down.validate(),
        Err(PolicyError::FeeRates { .. })
    ));
    // From the config file, in sat/vB.
    let c = Config::parse(&config_text(
        "w.db",
        &format!("{POLICY_TOML}\nmin_fee_rate = 2.5\nmax_fee_rate = 20"),
    ))
    .unwrap();
    assert_eq!((c.policy.min_fee_rate, c.policy.max_fee_rate), (min, max));
    assert!(Config::parse(&config_text(
        "w.db",
        &format!("{POLICY_TOML}\nmin_fee_rate = -1")
    ))
    .is_err());
}

#[test]
fn lifetime_caps_count_everything_ever_signed_or_held() {
    let p = policy().with_lifetime(Some(250_000), Some(400_000));
    let mut local = Local::new("lifetime", p);
    let mut a = local.add_client(1);
    let mut b = local.add_client(2);
    let (ka, _) = local.new_key(&mut a);
    let (kb, _) = local.new_key(&mut b);
    // Days apart, so no daily limit is near: only the lifetime caps bind.
    let day = WINDOW_SECS;
    assert_eq!(pay(&mut local, &mut a, ka, 200_000, T0), Sign);
    assert_eq!(
        pay(&mut local, &mut a, ka, 50_001, T0 + 3 * day),
        Reject(ClientLifetimeAmount)
    );
    assert_eq!(pay(&mut local, &mut a, ka, 50_000, T0 + 3 * day), Sign);
    assert_eq!(pay(&mut local, &mut b, kb, 150_000, T0 + 9 * day), Sign);
    // The service has 400 000 ever: b's next satoshi is over the service cap, not its own.
    assert_eq!(
        pay(&mut local, &mut b, kb, 1_000, T0 + 20 * day),
        Reject(ServiceLifetimeAmount)
    );
}

#[test]
fn policy_validation_at_load() {
    let mk = |max: u64| Policy::new(max, max, 1, 1, 1, 1, 1, 1);
    assert!(mk(SIGN_AMOUNT_CEILING).validate().is_ok());
    assert_eq!(
        mk(SIGN_AMOUNT_CEILING + 1).validate(),
        Err(PolicyError::MaxPayment(SIGN_AMOUNT_CEILING + 1))
    );
    assert_eq!(mk(0).validate(), Err(PolicyError::MaxPayment(0)));
    assert_eq!(
        Policy::new(1, 1, 1, 1, 1, 1, 1, 0).validate(),
        Err(PolicyError::MaxKeys)
    );
    let regtest = coldgate_tx::address::destination_address(
        &destination(0x42),
        coldgate_tx::bitcoin::Network::Regtest,
    )
    .unwrap()
    .to_string();
    for (bad, problem) in [
        (&regtest[..], "another network"),
        ("zz", "not a Bitcoin address"),
        (&"zz".repeat(32)[..], "not a Bitcoin address"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "P2TR"),
        (&hex::encode(off_curve())[..], "not an x-only key"),
    ] {
        let e = mk(1)
            .with_destinations(vec![bad.to_string()])
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains(problem), "{bad}: {e}");
    }
    // Through the config file: over the ceiling, unknown members and missing limits refuse to load.
    let over = config_text(
        "w.db",
        &POLICY_TOML.replace(
            "max_payment = 1000000",
            &format!("max_payment = {}", SIGN_AMOUNT_CEILING + 1),
        ),
    );
    assert!(Config::parse(&over)
        .unwrap_err()
        .to_string()
        .contains("SIGN_AMOUNT_CEILING"));
    let unknown = config_text("w.db", &format!("{POLICY_TOML}\nmax_speed = 3"));
    assert!(Config::parse(&unknown)
        .unwrap_err()
        .to_string()
        .contains("max_speed"));
    let missing = config_text("w.db", &POLICY_TOML.replace("max_fee = 10000\n", ""));
    assert!(Config::parse(&missing)
        .unwrap_err()
        .to_string()
        .contains("max_fee"));
    assert!(Config::parse(&config_text("w.db", POLICY_TOML)).is_ok());
}

/// Signs as `client` at `now`; returns the verdict as a policy decision.
fn pay(local: &mut Local, client: &mut Client, key_id: u32, amount: u64, now: i64) -> Decision {
    match local.call(client, Body::SignPayment(payment(key_id, amount, 0)), now) {
        Body::Signature { .. } => Sign,
        Body::Held { .. } => Hold,
        Body::Reject { reason } => Reject(reason),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rolling_window_counts_exactly_24_hours() {
    let mut local = Local::new("window", policy());
    let mut a = local.add_client(1);
    let (key, _) = local.new_key(&mut a);
    // Five payments (the client's count limit), one per hour from T0.
    for i in 0..5 {
        assert_eq!(
            pay(&mut local, &mut a, key, 1_000, T0 + i * 3600),
            Sign,
            "payment {i}"
        );
    }
    assert_eq!(
        pay(&mut local, &mut a, key, 1_000, T0 + 5 * 3600),
        Reject(ClientDailyCount)
    );
    // One second before the first payment is 24 hours old, it still counts...
    assert_eq!(
        pay(&mut local, &mut a, key, 1_000, T0 + WINDOW_SECS - 1),
        Reject(ClientDailyCount)
    );
    // ...and at exactly 24 hours it no longer does: one slot frees.
    assert_eq!(pay(&mut local, &mut a, key, 1_000, T0 + WINDOW_SECS), Sign);
    assert_eq!(
        pay(&mut local, &mut a, key, 1_000, T0 + WINDOW_SECS),
        Reject(ClientDailyCount)
    );
    // A rejected payment takes no slot: the next hour frees exactly one again.
    assert_eq!(
        pay(&mut local, &mut a, key, 1_000, T0 + WINDOW_SECS + 3600),
        Sign
    );
    assert_eq!(
        pay(&mut local, &mut a, key, 1_000, T0 + WINDOW_SECS + 3600),
        Reject(ClientDailyCount)
    );
    // Two days later everything has expired.
    for i in 0..5 {
        assert_eq!(
            pay(&mut local, &mut a, key, 1_000, T0 + 3 * WINDOW_SECS + i),
            Sign
        );
    }
}

#[test]
fn held_payments_count_until_denied_and_service_limits_span_clients() {
    let mut p = policy();
    p.client_daily_count = 100;
    p.service_daily_count = 100;
    let mut local = Local::new("window-held", p);
    let mut a = local.add_client(1);
    let mut b = local.add_client(2);
    let (ka, _) = local.new_key(&mut a);
    let (kb, _) = local.new_key(&mut b);
    // Client a: 3 000 000 sat per day. Three held payments of 900 000 = 2 700 000.
    for _ in 0..3 {
        assert_eq!(pay(&mut local, &mut a, ka, 900_000, T0), Hold);
    }
    assert_eq!(
        pay(&mut local, &mut a, ka, 300_001, T0),
        Reject(ClientDailyAmount)
    );
    // Denying one gives its amount back; approving keeps it counted.
    let held = local.wallet.held().unwrap();
    assert_eq!(held.len(), 3);
    local.add_operator("op");
    local.deny("op", 1, held[0].reference, T0 + 1).unwrap();
    local.approve("op", 1, held[1].reference, T0 + 1).unwrap();
    assert_eq!(pay(&mut local, &mut a, ka, 900_000, T0 + 2), Hold);
    assert_eq!(
        pay(&mut local, &mut a, ka, 300_001, T0 + 2),
        Reject(ClientDailyAmount)
    );
    // Service: 5 000 000 per day; a has 2 700 000 counted, so b gets 2 300 000.
    assert_eq!(pay(&mut local, &mut b, kb, 500_000, T0 + 3), Sign);
    for _ in 0..2 {
        assert_eq!(pay(&mut local, &mut b, kb, 900_000, T0 + 3), Hold);
    }
    assert_eq!(
        pay(&mut local, &mut b, kb, 1_000, T0 + 3),
        Reject(ServiceDailyAmount)
    );
    // 24 hours after a's first payments, they expire for the service too.
    assert_eq!(pay(&mut local, &mut b, kb, 1_000, T0 + WINDOW_SECS), Sign);
}

#[test]
fn key_limit_per_client() {
    let mut local = Local::new("keys", policy());
    let mut a = local.add_client(1);
    let mut b = local.add_client(2);
    for _ in 0..3 {
        local.new_key(&mut a);
    }
    assert_eq!(
        local.call(&mut a, Body::NewKey, T0),
        Body::Reject { reason: KeyLimit }
    );
    // Another client's allowance is its own.
    local.new_key(&mut b);
}

#[test]
fn the_example_config_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wallet.example.toml");
    let c = Config::load(&path).unwrap();
    assert_eq!(c.store, path.parent().unwrap().join("wallet.db"));
    assert!(c.listen.ip().is_loopback());
    assert_eq!(c.kdf, coldgate_wallet::KdfParams::default());
}
