//! One interface for a verifier lane pair, whatever runs it.
//!
//! The untrusted side (the network, via converter-in) feeds the request lane and receives the
//! response lane's passed frames plus the request lane's NOTICEs; the trusted side (the wallet,
//! via converter-out) is the mirror image. A backend accepts bytes per side and refill ticks,
//! and on [`Backend::advance`] returns the bytes leaving on each side: whole frames only, passes
//! and NOTICEs interleaved in an order that may depend on timing, never inside each other.

use std::fmt;

use coldgate_spec::{Counters, LaneId};

/// A side of the appliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Towards the network: sends requests, receives responses and request-lane NOTICEs.
    Untrusted,
    /// Towards the wallet: sends responses, receives requests and response-lane NOTICEs.
    Trusted,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Untrusted, Side::Trusted];

    /// The lane this side's input enters (and whose NOTICEs come back to it).
    pub fn input_lane(self) -> LaneId {
        match self {
            Side::Untrusted => LaneId::Request,
            Side::Trusted => LaneId::Response,
        }
    }

    /// The side a lane's NOTICEs go back to.
    pub fn of_input_lane(lane: LaneId) -> Side {
        match lane {
            LaneId::Request => Side::Untrusted,
            LaneId::Response => Side::Trusted,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Side::Untrusted => "untrusted",
            Side::Trusted => "trusted",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Bytes leaving the appliance, per side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub untrusted: Vec<u8>,
    pub trusted: Vec<u8>,
}

impl Output {
    pub fn side(&self, side: Side) -> &[u8] {
        match side {
            Side::Untrusted => &self.untrusted,
            Side::Trusted => &self.trusted,
        }
    }

    pub fn side_mut(&mut self, side: Side) -> &mut Vec<u8> {
        match side {
            Side::Untrusted => &mut self.untrusted,
            Side::Trusted => &mut self.trusted,
        }
    }

    pub fn append(&mut self, other: Output) {
        self.untrusted.extend(other.untrusted);
        self.trusted.extend(other.trusted);
    }

    pub fn is_empty(&self) -> bool {
        self.untrusted.is_empty() && self.trusted.is_empty()
    }
}

/// Counters of both lanes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairCounters {
    pub request: Counters,
    pub response: Counters,
}

impl PairCounters {
    pub fn lane(&self, lane: LaneId) -> &Counters {
        match lane {
            LaneId::Request => &self.request,
            LaneId::Response => &self.response,
        }
    }

    /// From the core's counter ports: request lane then response lane, each `passed` first and
    /// then one per drop reason by value (the order of `coldgate_hdl::harness::COUNTER_NAMES`).
    pub fn from_ports(ports: &[[u32; 1 + coldgate_spec::DropReason::ALL.len()]; 2]) -> Self {
        let lane = |c: &[u32; 1 + coldgate_spec::DropReason::ALL.len()]| {
            let mut dropped = [0; coldgate_spec::DropReason::ALL.len()];
            dropped.copy_from_slice(&c[1..]);
            Counters {
                passed: c[0],
                dropped,
            }
        };
        PairCounters {
            request: lane(&ports[0]),
            response: lane(&ports[1]),
        }
    }
}

/// Which backend runs the lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// coldgate-spec's golden model, in software.
    Golden,
    /// The generated logic in rust-hdl's simulator.
    RustHdl,
    /// The generated Verilog in Verilator.
    Verilator,
    /// A real board over its two UARTs.
    Board,
}

impl BackendKind {
    pub const ALL: [BackendKind; 4] = [
        BackendKind::Golden,
        BackendKind::RustHdl,
        BackendKind::Verilator,
        BackendKind::Board,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Golden => "golden",
            BackendKind::RustHdl => "rusthdl",
            BackendKind::Verilator => "verilator",
            BackendKind::Board => "board",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// True when the backend needs refill ticks from its host (a board makes its own).
    pub fn host_ticks(self) -> bool {
        self != BackendKind::Board
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a backend could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The board's logic keeps its counters inside; its UARTs carry only frames.
    #[error("counters are not readable on the {0} backend")]
    CountersUnavailable(BackendKind),
    /// The simulated core stopped accepting input and producing output.
    #[error("the {backend} core made no progress for {cycles} cycles (input left: untrusted {untrusted}, trusted {trusted} bytes)")]
    Stalled {
        backend: BackendKind,
        cycles: u64,
        untrusted: usize,
        trusted: usize,
    },
    /// An invalid drive schedule (an all-zero mask can never move a byte).
    #[error("invalid schedule: {0}")]
    Schedule(&'static str),
    #[error("backend unavailable: {0}")]
    Unavailable(&'static str),
    #[error("the Verilator model could not be created (VCD path {0:?})")]
    Model(Option<std::path::PathBuf>),
    #[error("serial port {path}: {source}")]
    Serial {
        path: String,
        #[source]
        source: serialport::Error,
    },
    #[error("serial i/o on the status UART: {0}")]
    Status(#[source] std::io::Error),
    #[error("serial i/o on the {side} side: {source}")]
    Io {
        side: Side,
        #[source]
        source: std::io::Error,
    },
}

/// A verifier lane pair.
pub trait Backend {
    fn kind(&self) -> BackendKind;

    /// Queues bytes arriving from `side` (a board sends them to its UART at once).
    fn push(&mut self, side: Side, bytes: &[u8]) -> Result<(), BackendError>;

    /// One refill tick of the token buckets, falling after every byte pushed so far and before
    /// any byte pushed later. A board makes its own ticks and ignores this.
    fn tick(&mut self);

    /// Runs what was pushed through the lanes and returns the bytes that left on each side
    /// since the last call. Simulated backends return once all pushed input is consumed and
    /// the outputs have drained; a board returns what its UARTs delivered so far.
    fn advance(&mut self) -> Result<Output, BackendError>;

    /// Counters of both lanes, or [`BackendError::CountersUnavailable`] on a board.
    fn counters(&self) -> Result<PairCounters, BackendError>;
}

/// How a clocked backend drives the core's handshakes, cycle by cycle (see
/// `csrc/pair_shim.cpp` for the exact schedule, which the Rust driver shares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Bit `c % 32` says whether the side offers its next byte on cycle `c`.
    pub u_in_mask: u32,
    pub t_in_mask: u32,
    /// Bit `c % 32` says whether the side's output is ready on cycle `c`.
    pub u_out_mask: u32,
    pub t_out_mask: u32,
    /// Idle cycles before each tick pulse, so every frame that ended before it is decided.
    pub tick_settle: u32,
    /// Cycles without any byte moving after which the outputs count as drained.
    pub drain_cycles: u32,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            u_in_mask: u32::MAX,
            t_in_mask: u32::MAX,
            u_out_mask: u32::MAX,
            t_out_mask: u32::MAX,
            tick_settle: 2,
            // Longer than any gap a mask can make (31 cycles) plus the core's latency.
            drain_cycles: 96,
        }
    }
}

impl Schedule {
    pub fn validate(&self) -> Result<(), BackendError> {
        if [
            self.u_in_mask,
            self.t_in_mask,
            self.u_out_mask,
            self.t_out_mask,
        ]
        .contains(&0)
        {
            return Err(BackendError::Schedule("a handshake mask is all zero"));
        }
        if self.drain_cycles < 64 {
            return Err(BackendError::Schedule(
                "drain_cycles must outlast a mask's longest gap (64 or more)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::DropReason;

    #[test]
    fn backend_names_round_trip() {
        for k in BackendKind::ALL {
            assert_eq!(BackendKind::from_name(k.name()), Some(k));
        }
        assert_eq!(BackendKind::from_name("fpga"), None);
        assert!(!BackendKind::Board.host_ticks());
        assert!(BackendKind::Verilator.host_ticks());
    }

    #[test]
    fn counter_ports_map_to_reasons_by_value() {
        let mut ports = [[0u32; 1 + DropReason::ALL.len()]; 2];
        ports[0][0] = 5;
        ports[0][DropReason::BadCrc as usize] = 2;
        ports[1][DropReason::NotInSet as usize] = 3;
        let c = PairCounters::from_ports(&ports);
        assert_eq!(c.request.passed, 5);
        assert_eq!(c.request.dropped(DropReason::BadCrc), 2);
        assert_eq!(c.response.dropped(DropReason::NotInSet), 3);
        assert_eq!(c.response.total_dropped(), 3);
        assert_eq!(c.lane(LaneId::Response), &c.response);
    }

    #[test]
    fn sides_and_lanes() {
        for side in Side::BOTH {
            assert_eq!(Side::of_input_lane(side.input_lane()), side);
        }
        assert_eq!(Side::Untrusted.input_lane(), LaneId::Request);
    }

    #[test]
    fn default_schedule_is_valid() {
        assert!(Schedule::default().validate().is_ok());
    }
}
