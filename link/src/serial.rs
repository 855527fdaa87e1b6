//! A serial device through the serialport crate (blocking I/O, run by [`crate::threads`]).

use std::path::{Path, PathBuf};

use serialport::{ClearBuffer, SerialPort};
use tokio::task::JoinHandle;

use crate::stream::{End, Stall};
use crate::{threads, Backoff, LinkOptions, Plumbing};

fn open(path: &Path, baud: u32) -> Result<Box<dyn SerialPort>, serialport::Error> {
    let port = serialport::new(path.to_string_lossy(), baud)
        .timeout(threads::READ_TIMEOUT)
        .open()?;
    // Bytes queued before we opened belong to an earlier peer; the splitter would skip them,
    // but dropping them keeps old answers from being read as new ones.
    port.clear(ClearBuffer::Input)?;
    Ok(port)
}

/// Opens the device in a task, reopening with backoff after any error.
pub(crate) fn run(path: PathBuf, mut p: Plumbing, o: LinkOptions) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = Backoff::new(&o);
        let mut reported = false;
        loop {
            let (path2, baud) = (path.clone(), o.baud);
            let opened = tokio::task::spawn_blocking(move || {
                let port = open(&path2, baud)?;
                let for_writer = port.try_clone()?;
                Ok::<_, serialport::Error>((port, for_writer))
            })
            .await;
            match opened {
                Ok(Ok((port, for_writer))) => {
                    backoff.reset();
                    reported = false;
                    if !p.up(format!("{} at {} baud", path.display(), o.baud)).await {
                        return;
                    }
                    let end = threads::session(
                        port,
                        for_writer,
                        &mut p,
                        o.write_timeout,
                        Stall::Disconnect,
                    )
                    .await;
                    let End::Lost(reason) = end else { return };
                    if !p.down(reason).await {
                        return;
                    }
                }
                Ok(Err(e)) => {
                    if !reported {
                        tracing::warn!(link = %p.name, path = %path.display(), error = %e, "cannot open serial device; retrying");
                        reported = true;
                    }
                }
                Err(e) => tracing::error!(link = %p.name, error = %e, "serial open task failed"),
            }
            if !p.idle(backoff.next_delay()).await {
                return;
            }
        }
    })
}
