//! The closed sets of the wire format: message types, lanes, reject and drop reasons.

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:expr, $text:expr;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($(#[$vmeta])* $variant = $value,)+ }

        impl $name {
            /// Every member, in wire-value order.
            pub const ALL: [$name; [$($value),+].len()] = [$($name::$variant),+];

            /// The member with this wire value.
            pub fn from_u8(v: u8) -> Option<Self> {
                match v {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Stable lower-case name (used in logs, JSON and FRAME.md).
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The member with this name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

closed_set! {
    /// Message types. Requests (client to wallet) and responses (wallet to client) are each a
    /// contiguous range, so a lane checks its set with two comparators.
    MsgType {
        NewKey = 0x01, "new_key";
        GetPubkey = 0x02, "get_pubkey";
        SignPayment = 0x03, "sign_payment";
        PaymentStatus = 0x04, "payment_status";
        Pubkey = 0x81, "pubkey";
        Signature = 0x82, "signature";
        Held = 0x83, "held";
        Reject = 0x84, "reject";
        /// Written by the verifier itself when it drops a frame; never by a peer.
        Notice = 0x8F, "notice";
    }
}

impl MsgType {
    /// True for the types a client sends.
    pub fn is_request(self) -> bool {
        (self as u8) < 0x80
    }
}

closed_set! {
    /// The two directions through the verifier.
    LaneId {
        /// Client to wallet.
        Request = 0, "request";
        /// Wallet to client.
        Response = 1, "response";
    }
}

closed_set! {
    /// Why the wallet refused a request. Every REJECT names the rule it broke.
    RejectReason {
        UnknownClient = 1, "unknown_client";
        BadTag = 2, "bad_tag";
        StaleCounter = 3, "stale_counter";
        UnknownKey = 4, "unknown_key";
        ForeignKey = 5, "foreign_key";
        OverPaymentMax = 6, "over_payment_max";
        ClientDailyAmount = 7, "client_daily_amount";
        ClientDailyCount = 8, "client_daily_count";
        ServiceDailyAmount = 9, "service_daily_amount";
        ServiceDailyCount = 10, "service_daily_count";
        DestinationNotAllowed = 11, "destination_not_allowed";
        FeeTooHigh = 12, "fee_too_high";
        AmountsInvalid = 13, "amounts_invalid";
        Denied = 14, "denied";
        UnknownReference = 15, "unknown_reference";
        KeyLimit = 16, "key_limit";
        StoreUnavailable = 17, "store_unavailable";
        /// The fee per virtual byte of the signed transaction is below the policy's minimum:
        /// no node would relay it.
        FeeRateTooLow = 18, "fee_rate_too_low";
        /// The fee per virtual byte is above the policy's maximum.
        FeeRateTooHigh = 19, "fee_rate_too_high";
        /// The outpoint cannot exist: the null outpoint, an all-zero txid, or an output index
        /// no transaction can have.
        InputImpossible = 20, "input_impossible";
        /// The client's total ever signed (and held) would exceed its lifetime cap.
        ClientLifetimeAmount = 21, "client_lifetime_amount";
        /// The service's total ever signed (and held) would exceed its lifetime cap.
        ServiceLifetimeAmount = 22, "service_lifetime_amount";
    }
}

closed_set! {
    /// Why the verifier dropped a frame. Each has a counter per lane.
    DropReason {
        /// A constant field (version) held another value.
        BadConst = 1, "bad_const";
        /// A closed-set field (message type, reason) held a value outside the set.
        NotInSet = 2, "not_in_set";
        /// An integer field was outside its range (ids, counters, amounts, the ceilings).
        OutOfRange = 3, "out_of_range";
        /// A reserved byte was not zero.
        ReservedNonZero = 4, "reserved_nonzero";
        /// The CRC trailer did not match.
        BadCrc = 5, "bad_crc";
        /// The lane's token bucket was empty.
        RateLimited = 6, "rate_limited";
    }
}
