//! What runs the Ethernet appliance's logic, clock by clock at GMII level: the Verilated
//! `coldgate_eth` or the golden Ethernet model of spec/ (for machines without Verilator, and
//! as the reference the bridge's own tests run against).

use std::collections::VecDeque;
use std::fmt::Write as _;

use coldgate_spec::eth::golden::EthModel;
use coldgate_spec::eth::{wire_frame, EthPort, PortCounters, COUNTER_NAMES, MIN_GAP};

use crate::appliance::format_counters;
use crate::backend::PairCounters;
use crate::eth::{EthIn, EthTop};

/// Every counter of the Ethernet appliance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthCoreCounters {
    /// The two lanes, as on the UART appliance.
    pub lanes: PairCounters,
    /// Each port's Ethernet layer, index 0 = U.
    pub ports: [PortCounters; 2],
}

impl EthCoreCounters {
    /// `request: passed 3; response: passed 3; u: accepted 5 not_for_us 2 sent 3; t: ...`
    /// (zero counters left out).
    pub fn text(&self) -> String {
        let mut s = format_counters(&self.lanes);
        for port in EthPort::BOTH {
            let _ = write!(s, "; {}:", port.name());
            for (name, v) in COUNTER_NAMES.iter().zip(self.ports[port as usize].0) {
                if v > 0 {
                    let _ = write!(s, " {name} {v}");
                }
            }
        }
        s
    }
}

/// One GMII clock domain with two ports.
pub trait EthCore {
    /// `golden` or `verilator`, for logs.
    fn kind(&self) -> &'static str;

    /// One clock: the byte each port's PHY receives (`None`: rx_dv low); returns the byte
    /// each port transmits (`None`: tx_en low). Index 0 = U, 1 = T.
    fn clock(&mut self, rx: [Option<u8>; 2]) -> [Option<u8>; 2];

    /// Many clocks, `out` gets one entry per clock. Cores with a batched binding override it.
    fn run(&mut self, rx: &[[Option<u8>; 2]], out: &mut Vec<[Option<u8>; 2]>) {
        out.extend(rx.iter().map(|&r| self.clock(r)));
    }

    /// One refill tick of the request lane's token bucket.
    fn tick(&mut self);

    fn counters(&self) -> EthCoreCounters;
}

/// spec's golden Ethernet model behind the GMII interface: each frame the model sends is
/// transmitted as its burst (spec's `wire_frame`) and a minimum gap. The model decides when
/// a burst ends, so its frames leave a clock after their input; the logic takes longer (its
/// lanes store and forward), which the bridge does not depend on.
#[derive(Debug, Default)]
pub struct GoldenEthCore {
    model: EthModel,
    taken: [usize; 2],
    tx: [VecDeque<Option<u8>>; 2],
}

impl GoldenEthCore {
    pub fn new() -> GoldenEthCore {
        GoldenEthCore::default()
    }
}

impl EthCore for GoldenEthCore {
    fn kind(&self) -> &'static str {
        "golden"
    }

    fn clock(&mut self, rx: [Option<u8>; 2]) -> [Option<u8>; 2] {
        self.model.clock(rx);
        let mut out = [None; 2];
        for port in EthPort::BOTH {
            let i = port as usize;
            let sent = self.model.out(port);
            for f in &sent[self.taken[i]..] {
                self.tx[i].extend(wire_frame(port, &f.payload).into_iter().map(Some));
                self.tx[i].extend(std::iter::repeat_n(None, MIN_GAP));
            }
            self.taken[i] = sent.len();
            out[i] = self.tx[i].pop_front().flatten();
        }
        out
    }

    fn tick(&mut self) {
        self.model.tick();
    }

    fn counters(&self) -> EthCoreCounters {
        EthCoreCounters {
            lanes: PairCounters {
                request: *self.model.lanes.request.counters(),
                response: *self.model.lanes.response.counters(),
            },
            ports: self.model.counters().ports,
        }
    }
}

/// The Verilated `coldgate_eth` (sim/src/eth.rs), batched: a whole batch of clocks is one
/// call into the model. Refill ticks asked for between batches pulse on the batch's first
/// clocks, one per clock.
pub struct VerilatedEthCore {
    top: EthTop,
    ticks: usize,
    clocks: Vec<EthIn>,
}

impl VerilatedEthCore {
    pub fn new() -> VerilatedEthCore {
        VerilatedEthCore {
            top: EthTop::new(),
            ticks: 0,
            clocks: Vec::new(),
        }
    }
}

impl Default for VerilatedEthCore {
    fn default() -> Self {
        Self::new()
    }
}

impl EthCore for VerilatedEthCore {
    fn kind(&self) -> &'static str {
        "verilator"
    }

    fn clock(&mut self, rx: [Option<u8>; 2]) -> [Option<u8>; 2] {
        let mut out = Vec::with_capacity(1);
        self.run(&[rx], &mut out);
        out[0]
    }

    fn run(&mut self, rx: &[[Option<u8>; 2]], out: &mut Vec<[Option<u8>; 2]>) {
        self.clocks.clear();
        self.clocks
            .extend(rx.iter().enumerate().map(|(k, &rx)| EthIn {
                rx,
                tick: k < self.ticks,
            }));
        self.ticks = self.ticks.saturating_sub(rx.len());
        out.extend(self.top.run(&self.clocks));
    }

    fn tick(&mut self) {
        self.ticks += 1;
    }

    fn counters(&self) -> EthCoreCounters {
        let c = self.top.counters();
        EthCoreCounters {
            lanes: PairCounters {
                request: c.request,
                response: c.response,
            },
            ports: c.ports,
        }
    }
}

/// Which core the Ethernet appliance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EthCoreKind {
    Golden,
    Verilator,
}

impl EthCoreKind {
    pub fn from_name(s: &str) -> Option<EthCoreKind> {
        match s {
            "golden" => Some(EthCoreKind::Golden),
            "verilator" => Some(EthCoreKind::Verilator),
            _ => None,
        }
    }

    /// Builds the core (on the thread that will clock it: a Verilated model stays there).
    pub fn build(self) -> anyhow::Result<Box<dyn EthCore>> {
        match self {
            EthCoreKind::Golden => Ok(Box::new(GoldenEthCore::new())),
            EthCoreKind::Verilator => Ok(Box::new(VerilatedEthCore::new())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ethernet::gmii::{host_frame_of, RxFeed, TxCollect};
    use coldgate_spec::eth::{frame_to, HEADER_LEN};
    use coldgate_spec::vectors::{sample_bodies, sealed};

    /// A request into port U leaves port T as T's burst; nothing leaves U.
    fn passes_a_request_from_u_to_t(core: &mut dyn EthCore) {
        let request = sealed(1, sample_bodies()[0].1);
        let mut feed = RxFeed::new(4);
        feed.push(frame_to(EthPort::U, &request));
        let mut collect = [TxCollect::default(), TxCollect::default()];
        let mut bursts: [Vec<Vec<u8>>; 2] = [vec![], vec![]];
        let rx: Vec<_> = (0..2000).map(|_| [feed.clock(), None]).collect();
        let mut tx = Vec::new();
        core.run(&rx, &mut tx);
        assert_eq!(tx.len(), rx.len());
        for t in tx {
            for i in 0..2 {
                bursts[i].extend(collect[i].clock(t[i]));
            }
        }
        assert!(bursts[0].is_empty());
        assert_eq!(bursts[1], vec![wire_frame(EthPort::T, &request)]);
        let host = host_frame_of(&bursts[1][0]).expect("well formed");
        assert_eq!(&host[HEADER_LEN..], &request[..]);
        let c = core.counters();
        assert_eq!(c.lanes.request.passed, 1);
        assert_eq!(c.ports[0].accepted(), 1);
        assert_eq!(c.ports[1].sent(), 1);
        assert!(
            c.text().contains("u: accepted 1; t: sent 1"),
            "{}",
            c.text()
        );
    }

    #[test]
    fn golden_core_passes_a_request_from_u_to_t() {
        passes_a_request_from_u_to_t(&mut GoldenEthCore::new());
    }

    #[test]
    fn verilated_core_passes_a_request_from_u_to_t() {
        passes_a_request_from_u_to_t(&mut VerilatedEthCore::new());
    }
}
