//! Issue 13, reproduced and kept: `coldgate client` printed its error twice, and a `coldgate
//! demo` killed with SIGKILL left its children running.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(120);
const BINARIES: [&str; 4] = [
    "coldgate-wallet",
    "coldgate-appliance",
    "coldgate-converter-in",
    "coldgate-converter-out",
];

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldgate-procs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

#[test]
fn client_errors_are_printed_once() {
    let dir = scratch("cli");
    let secret = dir.join("secret");
    std::fs::write(&secret, format!("{}\n", "ab".repeat(32))).expect("secret");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_coldgate"))
        .args([
            "client",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--client-id",
            "1",
        ])
        .arg("--secret")
        .arg(&secret)
        .arg("--state")
        .arg(dir.join("state.json"))
        .arg("new-key")
        .output()
        .expect("run coldgate");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("Connection refused").count(), 1, "{err}");
    assert_eq!(err.matches("connecting to").count(), 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Process ids whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// Running (neither gone nor a zombie waiting to be reaped).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

#[test]
fn a_demo_killed_with_sigkill_leaves_no_children() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let coldgate = Path::new(env!("CARGO_BIN_EXE_coldgate"));
    let bin_dir = coldgate.parent().expect("binary directory");
    for b in BINARIES {
        assert!(
            bin_dir.join(b).is_file(),
            "{b} is not built next to coldgate: run `cargo build --release` (the workspace test does)"
        );
    }
    let work = scratch("demo");
    let mut demo = Command::new(coldgate)
        .args(["demo", "--quiet", "--backend", "golden", "--bin-dir"])
        .arg(bin_dir)
        .arg("--work-dir")
        .arg(work.join("run"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the demo");
    let pid = demo.id();
    // Wait for all four services, then freeze the demo so the set cannot change under us.
    let deadline = Instant::now() + PATIENCE;
    let kids = loop {
        let kids: Vec<u32> = children(pid).into_iter().filter(|&c| alive(c)).collect();
        if kids.len() >= 4 {
            kill(Pid::from_raw(pid as i32), Signal::SIGSTOP).expect("SIGSTOP");
            break children(pid);
        }
        assert!(
            Instant::now() < deadline && demo.try_wait().expect("wait").is_none(),
            "the demo never had its four services running"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(kids.len() >= 4, "{kids:?}");
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).expect("SIGKILL");
    let _ = demo.wait();
    // Nothing of the demo's runs on: each child had asked for SIGKILL when its parent died.
    let deadline = Instant::now() + PATIENCE;
    while kids.iter().any(|&k| alive(k)) {
        if Instant::now() > deadline {
            let left: Vec<u32> = kids.iter().copied().filter(|&k| alive(k)).collect();
            // Not left behind by this test either.
            for &k in &left {
                let _ = kill(Pid::from_raw(k as i32), Signal::SIGKILL);
            }
            panic!("children left running: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = std::fs::remove_dir_all(&work);
}
