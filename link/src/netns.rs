//! Private network namespaces for Ethernet tests, the demo and the bench.
//!
//! A network namespace belongs to a thread, not a process: [`enter_private`] moves only the
//! calling thread, and everything that thread starts afterwards (threads, a tokio runtime's
//! workers, child processes, sockets, TAP interfaces) lives in the new namespace. So the
//! gateway's processes, their sockets and every frame they send stay inside it, and the
//! namespace disappears when its last process exits. [`isolated`] runs a closure that way on
//! a fresh thread, leaving the caller's namespace alone.
//!
//! Needs `CAP_SYS_ADMIN` (root); without it the error says so: callers fail, never skip.
//! Interfaces are configured with iproute2's `ip`, which `scripts/setup.sh` installs.

use std::process::Command;

use nix::sched::{unshare, CloneFlags};

/// Why a namespace could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error(
        "cannot create a network namespace ({0}): this needs root (CAP_SYS_ADMIN); \
         the Ethernet tests and `coldgate demo --link eth` do not run without it"
    )]
    Unshare(nix::Error),
    #[error("`ip {args}` failed: {why} (iproute2 is installed by scripts/setup.sh)")]
    Ip { args: String, why: String },
    #[error("setting up the namespace's thread: {0}")]
    Setup(String),
    #[error("the namespace's thread panicked")]
    Panicked,
}

/// Moves the calling thread into a new network namespace and brings its loopback up.
pub fn enter_private() -> Result<(), NetnsError> {
    unshare(CloneFlags::CLONE_NEWNET).map_err(NetnsError::Unshare)?;
    ip(&["link", "set", "lo", "up"])
}

/// Runs `ip ARGS` in the calling thread's namespace.
pub fn ip(args: &[&str]) -> Result<(), NetnsError> {
    let fail = |why: String| NetnsError::Ip {
        args: args.join(" "),
        why,
    };
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A veth pair `a` <-> `b`, both up and with carrier: what one end sends, the other receives.
pub fn veth_pair(a: &str, b: &str) -> Result<(), NetnsError> {
    ip(&["link", "add", a, "type", "veth", "peer", "name", b])?;
    ip(&["link", "set", a, "up"])?;
    ip(&["link", "set", b, "up"])?;
    wait_carrier(a)?;
    wait_carrier(b)
}

/// Waits until `iface` has carrier (`LOWER_UP`): frames sent before are lost. (Asks `ip`,
/// not /sys, which shows the namespace sysfs was mounted in.)
pub fn wait_carrier(iface: &str) -> Result<(), NetnsError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let out = Command::new("ip")
            .args(["-o", "link", "show", "dev", iface])
            .output()
            .map_err(|e| NetnsError::Setup(format!("running ip: {e}")))?;
        if String::from_utf8_lossy(&out.stdout).contains("LOWER_UP") {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(NetnsError::Ip {
                args: format!("-o link show dev {iface}"),
                why: "no carrier within 10 s".into(),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Runs `f` on a new thread inside a new network namespace, with a multi-threaded tokio
/// runtime created in it, and returns its result.
pub fn isolated<F, Fut, T>(f: F) -> Result<T, NetnsError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
    T: Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("netns".into())
        .spawn(move || {
            enter_private()?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| NetnsError::Setup(format!("building a runtime: {e}")))?;
            Ok(rt.block_on(f()))
        })
        .map_err(|e| NetnsError::Setup(format!("starting a thread: {e}")))?;
    thread.join().map_err(|_| NetnsError::Panicked)?
}
