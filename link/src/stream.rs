//! One connection over a tokio byte stream (a TCP socket or a pty master).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::{LinkEvent, Plumbing, READ_CHUNK};

/// How a connection ended.
pub(crate) enum End {
    /// The peer went away or the stream failed: try again.
    Lost(String),
    /// The link's owner dropped it: stop the driver.
    Closed,
}

/// What to do with a write that takes longer than the write timeout.
#[derive(Clone, Copy)]
pub(crate) enum Stall {
    /// The peer is stuck: end the connection.
    Disconnect,
    /// Nobody may be reading yet (a pty): drop the bytes and carry on.
    Discard,
}

/// Moves bytes both ways until the stream ends. Connections arriving on `turn_away` during
/// the session are closed at once: an appliance serves one peer at a time.
pub(crate) async fn session<S, T>(
    stream: S,
    p: &mut Plumbing,
    write_timeout: Duration,
    stall: Stall,
    mut turn_away: Option<&mut mpsc::Receiver<(T, SocketAddr)>>,
) -> End
where
    S: AsyncRead + AsyncWrite,
{
    let (mut r, mut w) = tokio::io::split(stream);
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        tokio::select! {
            n = r.read(&mut buf) => match n {
                Ok(0) => return End::Lost("peer closed the connection".into()),
                Ok(n) => {
                    let chunk = Bytes::copy_from_slice(&buf[..n]);
                    if p.events.send(LinkEvent::Data(chunk)).await.is_err() {
                        return End::Closed;
                    }
                }
                Err(e) => return End::Lost(format!("read: {e}")),
            },
            msg = p.writes.recv() => {
                let Some(bytes) = msg else { return End::Closed };
                match tokio::time::timeout(write_timeout, w.write_all(&bytes)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return End::Lost(format!("write: {e}")),
                    Err(_) => match stall {
                        Stall::Disconnect => {
                            return End::Lost(format!("write stalled for {write_timeout:?}"))
                        }
                        Stall::Discard => tracing::warn!(
                            link = %p.name, bytes = bytes.len(),
                            "write stalled, bytes discarded (is anyone reading?)"
                        ),
                    },
                }
            }
            Some((extra, addr)) = async {
                match turn_away.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                tracing::warn!(link = %p.name, peer = %addr, "already serving a peer; closing the new connection");
                drop(extra);
            }
        }
    }
}
