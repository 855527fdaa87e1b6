//! What the client's end-to-end test binaries share: the coldgate binaries, scratch
//! directories and a checked run of `coldgate demo`. Each test binary uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The gateway's processes, started by `coldgate demo` and the tests' gateways.
pub const BINARIES: [&str; 4] = [
    "coldgate-wallet",
    "coldgate-appliance",
    "coldgate-converter-in",
    "coldgate-converter-out",
];

/// The directory holding every coldgate binary, built if needed (once per test process).
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let coldgate = Path::new(env!("CARGO_BIN_EXE_coldgate"));
        let dir = coldgate.parent().expect("binary directory").to_path_buf();
        if BINARIES.iter().all(|b| dir.join(b).is_file()) {
            return dir;
        }
        let target = dir.parent().expect("target directory");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--bins"])
            .args(["-p", "coldgate-wallet", "-p", "coldgate-sim"])
            .args([
                "-p",
                "coldgate-converter-in",
                "-p",
                "coldgate-converter-out",
            ])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build");
        assert!(status.success(), "building the coldgate binaries failed");
        dir
    })
}

/// A fresh, empty directory `coldgate-{suite}-{pid}-{name}` under the temporary directory.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldgate-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Runs `coldgate demo --quiet --link LINK --backend BACKEND` in `work` and checks that it
/// passed and showed each of its six steps; its stdout.
pub fn demo_passes(link: &str, backend: &str, work: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_coldgate"))
        .args(["demo", "--quiet", "--link", link, "--backend", backend])
        .arg("--bin-dir")
        .arg(bin_dir())
        .arg("--work-dir")
        .arg(work)
        .output()
        .expect("run coldgate demo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo over {link} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "signature verified",
        "rejected by the wallet: over_payment_max",
        "held for an operator",
        "rejected by the wallet: bad_tag",
        "dropped by the verifier on the request lane: bad_crc",
        "demo passed",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    stdout
}
