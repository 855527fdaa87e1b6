//! Logging for every coldgate process on a link: one line per event on stderr, level from
//! `RUST_LOG`, colour only on a terminal (the demo and the tests read these logs from files).

/// Installs the process's tracing subscriber; `default` is the level when `RUST_LOG` is unset
/// or invalid.
pub fn init(default: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
