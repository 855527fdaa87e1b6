//! A real board (Alchitry Cu) through its two UARTs: the untrusted side's and the trusted
//! side's. The board's logic makes its own refill ticks and keeps its counters inside, so
//! [`Backend::tick`] does nothing here and [`Backend::counters`] says they are unavailable;
//! the appliance then counts the verdicts it sees on the wire instead.

use std::io::{Read, Write};
use std::time::Duration;

use serialport::{ClearBuffer, SerialPort};

use crate::backend::{Backend, BackendError, BackendKind, Output, PairCounters, Side};

/// How long a write may block before the board counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct BoardBackend {
    untrusted: Box<dyn SerialPort>,
    trusted: Box<dyn SerialPort>,
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
        Ok(BoardBackend {
            untrusted: open(untrusted, baud)?,
            trusted: open(trusted, baud)?,
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
        for side in Side::BOTH {
            let mut buf = std::mem::take(&mut self.buf);
            let port = self.port(side);
            loop {
                let waiting = port.bytes_to_read().map_err(|e| BackendError::Io {
                    side,
                    source: e.into(),
                })? as usize;
                if waiting == 0 {
                    break;
                }
                let n = waiting.min(buf.len());
                let got = port
                    .read(&mut buf[..n])
                    .map_err(|source| BackendError::Io { side, source })?;
                if got == 0 {
                    break;
                }
                out.side_mut(side).extend_from_slice(&buf[..got]);
            }
            self.buf = buf;
        }
        Ok(out)
    }

    fn counters(&self) -> Result<PairCounters, BackendError> {
        Err(BackendError::CountersUnavailable(BackendKind::Board))
    }
}
