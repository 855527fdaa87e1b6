//! Blocking devices (serial ports, the pty master) run in two plain threads per open device,
//! bridged to the async driver by bounded channels. Plain threads rather than tokio's blocking
//! pool: a read that never returns must not hold up the runtime's shutdown.

use std::io::{self, Read, Write};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::stream::{End, Stall};
use crate::{LinkEvent, Plumbing, READ_CHUNK};

/// How long a blocking read waits before it checks whether the device is still wanted.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// What the port threads tell the driver.
pub(crate) enum FromPort {
    Data(Bytes),
    Lost(String),
}

fn reader(mut port: impl Read, tx: mpsc::Sender<FromPort>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match port.read(&mut buf) {
            Ok(0) => {
                let _ = tx.blocking_send(FromPort::Lost("device closed".into()));
                return;
            }
            Ok(n) => {
                if tx
                    .blocking_send(FromPort::Data(Bytes::copy_from_slice(&buf[..n])))
                    .is_err()
                {
                    return;
                }
            }
            Err(e)
                if e.kind() == io::ErrorKind::TimedOut
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                if tx.is_closed() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(FromPort::Lost(format!("read: {e}")));
                return;
            }
        }
    }
}

fn writer(mut port: impl Write, mut rx: mpsc::Receiver<Bytes>, tx: mpsc::Sender<FromPort>) {
    while let Some(bytes) = rx.blocking_recv() {
        if let Err(e) = port.write_all(&bytes).and_then(|()| port.flush()) {
            let _ = tx.blocking_send(FromPort::Lost(format!("write: {e}")));
            return;
        }
    }
}

/// Runs one open device until it fails (or the link is dropped). Reads that time out must
/// fail with `TimedOut`, so that the reader notices when it is no longer wanted.
pub(crate) async fn session(
    read: impl Read + Send + 'static,
    write: impl Write + Send + 'static,
    p: &mut Plumbing,
    write_timeout: Duration,
    stall: Stall,
) -> End {
    let (from_tx, mut from_port) = mpsc::channel(crate::EVENT_QUEUE);
    let (to_tx, to_port) = mpsc::channel::<Bytes>(crate::WRITE_QUEUE);
    let tx2 = from_tx.clone();
    std::thread::spawn(move || reader(read, from_tx));
    std::thread::spawn(move || writer(write, to_port, tx2));
    // Returning drops both channel ends, which stops the threads: the writer sees its queue
    // closed, the reader sees `tx.is_closed()` at its next timeout.
    loop {
        tokio::select! {
            m = from_port.recv() => match m {
                Some(FromPort::Data(b)) => {
                    if p.events.send(LinkEvent::Data(b)).await.is_err() {
                        return End::Closed;
                    }
                }
                Some(FromPort::Lost(reason)) => return End::Lost(reason),
                None => return End::Lost("device threads ended".into()),
            },
            w = p.writes.recv() => {
                let Some(b) = w else { return End::Closed };
                match tokio::time::timeout(write_timeout, to_tx.send(b)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return End::Lost("writer thread ended".into()),
                    Err(_) => match stall {
                        Stall::Disconnect => {
                            return End::Lost(format!("write stalled for {write_timeout:?}"))
                        }
                        Stall::Discard => tracing::warn!(
                            link = %p.name,
                            "write stalled, bytes discarded (is anyone reading?)"
                        ),
                    },
                }
            }
        }
    }
}
