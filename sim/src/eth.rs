//! The Verilated Ethernet top `coldgate_eth` at GMII level (one 125 MHz clock per call of
//! [`EthTop::clock`], or many per [`EthTop::run`]), and helpers to read what its ports send.
//!
//! ```no_run
//! use coldgate_sim::eth::{EthPort, EthTop};
//! let mut top = EthTop::new();
//! let burst = coldgate_spec::eth::frame_to(EthPort::U, &[0u8; coldgate_spec::FRAME_LEN]);
//! for &b in &burst {
//!     top.clock([Some(b), None]);
//! }
//! let tx = top.clock([None, None]); // [U, T]: the byte each port transmits, if any
//! # let _ = tx;
//! println!("{:?}", top.counters());
//! ```

use coldgate_spec::codec::Wire;
use coldgate_spec::eth::{self, PortCounters, COUNTER_NAMES};
use coldgate_spec::golden::Counters;
use coldgate_spec::FRAME_LEN;

pub use coldgate_spec::eth::EthPort;

use crate::backend::PairCounters;
use crate::ffi::{self, N_COUNTERS};

/// Clocks of reset applied by [`EthTop::new`].
const RESET_CYCLES: u32 = 4;

/// Every counter of the Ethernet top.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthCounters {
    pub request: Counters,
    pub response: Counters,
    /// Per port (index [`EthPort`] as usize): accepted, each drop reason, sent.
    pub ports: [PortCounters; 2],
}

impl EthCounters {
    pub fn port(&self, p: EthPort) -> &PortCounters {
        &self.ports[p as usize]
    }
}

/// One clock's inputs for [`EthTop::run`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthIn {
    /// The byte each port's PHY receives (None = rx_dv low), index 0 = U, 1 = T.
    pub rx: [Option<u8>; 2],
    /// The request lane's token-bucket refill pulse.
    pub tick: bool,
}

fn to_pin(b: Option<u8>) -> u16 {
    b.map_or(0, |b| 0x100 | u16::from(b))
}

fn from_pin(p: u16) -> Option<u8> {
    (p & 0x100 != 0).then_some(p as u8)
}

/// The Verilated `coldgate_eth`. Not `Send`: the model stays on the thread that made it.
pub struct EthTop {
    model: ffi::EthModel,
    tick_next: bool,
    cycle: u64,
    buf: [Vec<u16>; 4],
}

impl Default for EthTop {
    fn default() -> Self {
        Self::new()
    }
}

impl EthTop {
    /// A fresh model, reset applied.
    ///
    /// # Panics
    /// If the C++ model cannot be allocated.
    pub fn new() -> Self {
        EthTop {
            model: ffi::EthModel::new(RESET_CYCLES).expect("allocate the Verilated coldgate_eth"),
            tick_next: false,
            cycle: 0,
            buf: Default::default(),
        }
    }

    /// One 125 MHz clock at GMII level: the byte each port's PHY receives this clock
    /// (None = rx_dv low), returns the byte each port transmits (None = tx_en low).
    /// Index 0 = U, 1 = T.
    pub fn clock(&mut self, rx: [Option<u8>; 2]) -> [Option<u8>; 2] {
        let tick = std::mem::take(&mut self.tick_next);
        self.run(&[EthIn { rx, tick }])[0]
    }

    /// Pulses the token-bucket refill tick on the next clock.
    pub fn tick(&mut self) {
        self.tick_next = true;
    }

    /// Many clocks in one call into the model (the fast form of [`EthTop::clock`]).
    pub fn run(&mut self, clocks: &[EthIn]) -> Vec<[Option<u8>; 2]> {
        let [u_rx, t_rx, u_tx, t_tx] = &mut self.buf;
        u_rx.clear();
        t_rx.clear();
        u_rx.extend(clocks.iter().map(|c| to_pin(c.rx[0])));
        t_rx.extend(clocks.iter().map(|c| to_pin(c.rx[1])));
        let ticks: Vec<u8> = clocks.iter().map(|c| u8::from(c.tick)).collect();
        let any_tick = ticks.iter().any(|&t| t != 0);
        self.model
            .run(u_rx, t_rx, any_tick.then_some(&ticks[..]), u_tx, t_tx)
            .expect("equal lengths by construction");
        self.cycle += clocks.len() as u64;
        u_tx.iter()
            .zip(t_tx.iter())
            .map(|(&u, &t)| [from_pin(u), from_pin(t)])
            .collect()
    }

    /// Clocks run since reset.
    pub fn cycles(&self) -> u64 {
        self.cycle
    }

    /// Lane counters and both ports' Ethernet counters.
    pub fn counters(&self) -> EthCounters {
        let c = self.model.counters();
        let lanes = N_COUNTERS / 2;
        let mut ports = [[0u32; 1 + coldgate_spec::DropReason::ALL.len()]; 2];
        ports[0].copy_from_slice(&c[..lanes]);
        ports[1].copy_from_slice(&c[lanes..N_COUNTERS]);
        let pair = PairCounters::from_ports(&ports);
        let n = COUNTER_NAMES.len();
        let mut eth = [PortCounters::default(); 2];
        for (i, p) in eth.iter_mut().enumerate() {
            p.0.copy_from_slice(&c[N_COUNTERS + i * n..N_COUNTERS + (i + 1) * n]);
        }
        EthCounters {
            request: pair.request,
            response: pair.response,
            ports: eth,
        }
    }
}

/// A run of clocks with a byte on a GMII pin pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Burst {
    /// Clock of the first byte, counted by the collector.
    pub start: u64,
    pub bytes: Vec<u8>,
}

/// Cuts one port's GMII byte stream into bursts.
#[derive(Clone, Debug, Default)]
pub struct BurstCollector {
    clock: u64,
    current: Option<Burst>,
    done: Vec<Burst>,
}

impl BurstCollector {
    pub fn push(&mut self, b: Option<u8>) {
        match (b, &mut self.current) {
            (Some(b), Some(cur)) => cur.bytes.push(b),
            (Some(b), None) => {
                self.current = Some(Burst {
                    start: self.clock,
                    bytes: vec![b],
                })
            }
            (None, cur) => {
                if let Some(done) = cur.take() {
                    self.done.push(done);
                }
            }
        }
        self.clock += 1;
    }

    /// The bursts that have ended, taken out.
    pub fn take(&mut self) -> Vec<Burst> {
        std::mem::take(&mut self.done)
    }

    /// True while a burst is under way.
    pub fn in_burst(&self) -> bool {
        self.current.is_some()
    }
}

/// Why a transmitted burst is not what `coldgate_spec::eth::wire_frame` prescribes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("burst of {0} bytes, not {1}")]
    Length(usize, usize),
    #[error("burst differs from the spec's frame for its payload at byte {0}")]
    Differs(usize),
}

/// The coldgate frame carried by a burst `port` sent, checked byte for byte against
/// `coldgate_spec::eth::wire_frame` (preamble, SFD, header, FCS).
pub fn tx_payload(port: EthPort, burst: &[u8]) -> Result<Wire, TxError> {
    let want_len = eth::PREAMBLE_LEN + 1 + eth::MAC_FRAME_LEN;
    if burst.len() != want_len {
        return Err(TxError::Length(burst.len(), want_len));
    }
    let start = eth::PREAMBLE_LEN + 1 + eth::field::PAYLOAD.start;
    let payload: Wire = burst[start..start + FRAME_LEN]
        .try_into()
        .expect("FRAME_LEN bytes");
    let want = eth::wire_frame(port, &payload);
    match want.iter().zip(burst).position(|(a, b)| a != b) {
        Some(i) => Err(TxError::Differs(i)),
        None => Ok(payload),
    }
}
