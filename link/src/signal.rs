//! Stopping on SIGINT or SIGTERM, shared by every coldgate process that serves a link.

/// Resolves on the first SIGINT or SIGTERM. If SIGTERM cannot be watched, SIGINT alone stops.
pub async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
