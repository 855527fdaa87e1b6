//! A real board (Alchitry Cu) through its UARTs: the untrusted side's and the trusted side's,
//! plus, optionally, the output-only status UART on which the board repeats snapshots of its
//! counters. The board's logic makes its own refill ticks, so [`Backend::tick`] does nothing
//! here. Without the status UART (or before its first whole snapshot) [`Backend::counters`]
//! says the counters are unavailable, and the appliance counts the verdicts it sees on the
//! wire instead.

use std::io::Write;
use std::time::Duration;

use coldgate_hdl::board::{STATUS_LEN, STATUS_SYNC};
use coldgate_hdl::harness::COUNTER_NAMES;
use serialport::{ClearBuffer, SerialPort};

use crate::backend::{Backend, BackendError, BackendKind, Output, PairCounters, Side};

/// Reads the status UART's stream: [`STATUS_SYNC`], then both lanes' counters as 32-bit
/// little-endian words in `COUNTER_NAMES` order, over and over, back to back. A snapshot is
/// taken only when the next one's sync follows it, so sync bytes inside counter values
/// (or a stream joined mid-snapshot) never yield a misaligned reading.
#[derive(Clone, Debug, Default)]
pub struct StatusParser {
    buf: Vec<u8>,
    latest: Option<PairCounters>,
}

impl StatusParser {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let mut at = 0;
        while self.buf.len() - at >= STATUS_LEN + STATUS_SYNC.len() {
            let here = &self.buf[at..];
            if here[..STATUS_SYNC.len()] != STATUS_SYNC
                || here[STATUS_LEN..STATUS_LEN + STATUS_SYNC.len()] != STATUS_SYNC
            {
                at += 1;
                continue;
            }
            let mut ports = [[0u32; COUNTER_NAMES.len()]; 2];
            let words = here[STATUS_SYNC.len()..STATUS_LEN].chunks_exact(4);
            for (i, w) in words.enumerate() {
                let lane = i / COUNTER_NAMES.len();
                if let (Some(row), Ok(w)) = (ports.get_mut(lane), <[u8; 4]>::try_from(w)) {
                    row[i % COUNTER_NAMES.len()] = u32::from_le_bytes(w);
                }
            }
            self.latest = Some(PairCounters::from_ports(&ports));
            at += STATUS_LEN;
        }
        self.buf.drain(..at);
    }

    /// The newest whole snapshot.
    pub fn latest(&self) -> Option<PairCounters> {
        self.latest
    }
}

/// How long a write may block before the board counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct BoardBackend {
    untrusted: Box<dyn SerialPort>,
    trusted: Box<dyn SerialPort>,
    status: Option<(Box<dyn SerialPort>, StatusParser)>,
    buf: Vec<u8>,
}

fn open(path: &str, baud: u32) -> Result<Box<dyn SerialPort>, BackendError> {
    let serial = |source| BackendError::Serial {
        path: path.to_string(),
        source,
    };
    let port = serialport::new(path, baud)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .timeout(WRITE_TIMEOUT)
        .open()
        .map_err(serial)?;
    // Bytes queued before we opened are answers to someone else's frames.
    port.clear(ClearBuffer::All).map_err(serial)?;
    Ok(port)
}

impl BoardBackend {
    /// Opens the board's untrusted-side and trusted-side UARTs at `baud`, 8N1.
    pub fn open(untrusted: &str, trusted: &str, baud: u32) -> Result<Self, BackendError> {
        Self::open_with_status(untrusted, trusted, None, baud)
    }

    /// Like [`BoardBackend::open`], also reading counter snapshots from the status UART.
    pub fn open_with_status(
        untrusted: &str,
        trusted: &str,
        status: Option<&str>,
        baud: u32,
    ) -> Result<Self, BackendError> {
        Ok(BoardBackend {
            untrusted: open(untrusted, baud)?,
            trusted: open(trusted, baud)?,
            status: match status {
                Some(p) => Some((open(p, baud)?, StatusParser::default())),
                None => None,
            },
            buf: vec![0; 4096],
        })
    }

    fn port(&mut self, side: Side) -> &mut Box<dyn SerialPort> {
        match side {
            Side::Untrusted => &mut self.untrusted,
            Side::Trusted => &mut self.trusted,
        }
    }
}

/// Everything waiting on `port`, without blocking.
fn drain(port: &mut dyn SerialPort, buf: &mut [u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    loop {
        let waiting = port.bytes_to_read()? as usize;
        if waiting == 0 {
            return Ok(());
        }
        let n = waiting.min(buf.len());
        let got = port.read(&mut buf[..n])?;
        if got == 0 {
            return Ok(());
        }
        out.extend_from_slice(&buf[..got]);
    }
}

impl Backend for BoardBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Board
    }

    fn push(&mut self, side: Side, bytes: &[u8]) -> Result<(), BackendError> {
        let port = self.port(side);
        port.write_all(bytes)
            .and_then(|()| port.flush())
            .map_err(|source| BackendError::Io { side, source })
    }

    fn tick(&mut self) {}

    /// Whatever the UARTs delivered so far, without waiting.
    fn advance(&mut self) -> Result<Output, BackendError> {
        let mut out = Output::default();
        let mut buf = std::mem::take(&mut self.buf);
        for side in Side::BOTH {
            let r = drain(self.port(side).as_mut(), &mut buf, out.side_mut(side));
            r.map_err(|source| BackendError::Io { side, source })?;
        }
        if let Some((port, parser)) = &mut self.status {
            let mut status = vec![];
            drain(port.as_mut(), &mut buf, &mut status).map_err(BackendError::Status)?;
            parser.push(&status);
        }
        self.buf = buf;
        Ok(out)
    }

    /// The newest snapshot from the status UART, when it is open and has sent one.
    fn counters(&self) -> Result<PairCounters, BackendError> {
        self.status
            .as_ref()
            .and_then(|(_, p)| p.latest())
            .ok_or(BackendError::CountersUnavailable(BackendKind::Board))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coldgate_spec::DropReason;

    fn snapshot(req_passed: u32, resp_bad_crc: u32) -> Vec<u8> {
        let mut words = [0u32; 2 * COUNTER_NAMES.len()];
        words[0] = req_passed;
        words[COUNTER_NAMES.len() + DropReason::BadCrc as usize] = resp_bad_crc;
        let mut s = STATUS_SYNC.to_vec();
        for w in words {
            s.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(s.len(), STATUS_LEN);
        s
    }

    #[test]
    fn status_snapshots_parse_once_confirmed() {
        let mut p = StatusParser::default();
        // Joined mid-snapshot, and a counter whose bytes contain the sync pattern.
        let tricky = u32::from_le_bytes([0, STATUS_SYNC[0], STATUS_SYNC[1], 0]);
        let stream = [snapshot(1, 1), snapshot(tricky, 2), snapshot(6, 3)].concat();
        p.push(&stream[7..40]);
        assert_eq!(p.latest(), None);
        p.push(&stream[40..]);
        let c = p
            .latest()
            .expect("the second snapshot is confirmed by the third's sync");
        assert_eq!(c.request.passed, tricky);
        assert_eq!(c.response.dropped(DropReason::BadCrc), 2);
    }
}
