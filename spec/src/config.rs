//! Limits and parameters that hardware and software both read.

/// Satoshis per bitcoin.
pub const COIN: u64 = 100_000_000;
/// The most satoshis that can ever exist: no amount field may exceed it.
pub const MAX_MONEY: u64 = 21_000_000 * COIN;

/// Hardware ceiling on a SIGN_PAYMENT amount, in satoshis. It is a field rule, so the verifier
/// drops any larger request in logic, whatever the wallet's configured policy says.
pub const SIGN_AMOUNT_CEILING: u64 = 10 * COIN;

/// Token bucket on the request lane: frames that may pass back to back.
pub const RATE_BURST: u32 = 64;
/// Token bucket on the request lane: tokens added per second (one per refill tick).
pub const RATE_REFILL_HZ: u32 = 1_000;

/// Width of every verifier counter; counters wrap.
pub const COUNTER_BITS: u32 = 32;

/// The board's clock (Alchitry Cu).
pub const CLOCK_HZ: u32 = 100_000_000;
/// Default UART rate on both sides of the board.
pub const DEFAULT_BAUD: u32 = 3_000_000;

/// Store-and-forward slots per lane (each holds one frame).
pub const LANE_SLOTS: usize = 4;

/// Per-lane parameters of the verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneConfig {
    pub lane: crate::LaneId,
    /// Token bucket depth; `None` disables rate limiting on this lane.
    pub rate_burst: Option<u32>,
}

impl LaneConfig {
    /// The request lane (client to wallet): rate limited.
    pub const REQUEST: LaneConfig = LaneConfig {
        lane: crate::LaneId::Request,
        rate_burst: Some(RATE_BURST),
    };
    /// The response lane (wallet to client): answers are never rate limited.
    pub const RESPONSE: LaneConfig = LaneConfig {
        lane: crate::LaneId::Response,
        rate_burst: None,
    };

    pub fn for_lane(lane: crate::LaneId) -> LaneConfig {
        match lane {
            crate::LaneId::Request => Self::REQUEST,
            crate::LaneId::Response => Self::RESPONSE,
        }
    }
}
