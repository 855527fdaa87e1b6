//! TCP: the appliance listens and serves one peer at a time; a converter connects and
//! reconnects.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::stream::{session, End, Stall};
use crate::{io_error, Backoff, LinkError, LinkOptions, LinkSpec, Plumbing};

fn address(spec: &LinkSpec) -> String {
    spec.tcp_address().unwrap_or_default()
}

/// Binds now (so a taken port is an error at start-up) and serves in a task.
pub(crate) async fn serve(
    spec: &LinkSpec,
    mut p: Plumbing,
    o: LinkOptions,
) -> Result<(SocketAddr, JoinHandle<()>), LinkError> {
    let addr = address(spec);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|e| io_error(format!("binding {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| io_error(format!("local address of {addr}"), e))?;
    tracing::info!(link = %p.name, %local, "listening");
    // Accepting runs in its own task so that extra peers are turned away during a session.
    let (accepted_tx, mut accepted) = mpsc::channel::<(TcpStream, SocketAddr)>(1);
    let name = p.name.clone();
    let acceptor = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok(conn) => {
                    if accepted_tx.send(conn).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    // EMFILE and friends: wait rather than spin.
                    tracing::warn!(link = %name, error = %e, "accept failed");
                    tokio::time::sleep(o.backoff_max).await;
                }
            }
        }
    });
    let task = tokio::spawn(async move {
        let _acceptor = crate::Driver(acceptor);
        loop {
            let conn = tokio::select! {
                c = accepted.recv() => c,
                alive = p.idle(o.backoff_max) => if alive { continue } else { return },
            };
            let Some((stream, peer)) = conn else { return };
            let _ = stream.set_nodelay(true);
            if !p.up(peer.to_string()).await {
                return;
            }
            let end = session(
                stream,
                &mut p,
                o.write_timeout,
                Stall::Disconnect,
                Some(&mut accepted),
            )
            .await;
            match end {
                End::Closed => return,
                End::Lost(reason) => {
                    if !p.down(reason).await {
                        return;
                    }
                }
            }
        }
    });
    Ok((local, task))
}

/// Connects in a task, reconnecting with backoff for as long as the link lives.
pub(crate) fn connect(
    spec: &LinkSpec,
    mut p: Plumbing,
    o: LinkOptions,
) -> Result<JoinHandle<()>, LinkError> {
    let addr = address(spec);
    Ok(tokio::spawn(async move {
        let mut backoff = Backoff::new(&o);
        let mut reported = false;
        loop {
            match TcpStream::connect(&addr).await {
                Ok(stream) => {
                    backoff.reset();
                    let _ = stream.set_nodelay(true);
                    let peer = stream
                        .peer_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_else(|_| addr.clone());
                    if !p.up(peer).await {
                        return;
                    }
                    let end = session(
                        stream,
                        &mut p,
                        o.write_timeout,
                        Stall::Disconnect,
                        None::<&mut mpsc::Receiver<((), SocketAddr)>>,
                    )
                    .await;
                    match end {
                        End::Closed => return,
                        End::Lost(reason) => {
                            if !p.down(reason).await {
                                return;
                            }
                            reported = true;
                        }
                    }
                }
                Err(e) => {
                    // One warning per outage, not one per attempt.
                    if !reported {
                        tracing::warn!(link = %p.name, %addr, error = %e, "cannot connect; retrying");
                        reported = true;
                    }
                }
            }
            if !p.idle(backoff.next_delay()).await {
                return;
            }
        }
    }))
}
