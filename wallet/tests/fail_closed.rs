//! Fail closed: when the store cannot be written (a full file system, a read-only one, a
//! read-only store file), the wallet signs nothing, says why, loses nothing it acknowledged,
//! and carries on once the store takes writes again.
//!
//! These tests mount real file systems (a 2 MiB tmpfs, a read-only bind mount) and so need
//! root: they FAIL, never skip, when they cannot mount.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use coldgate_spec::{Body, RejectReason};
use common::*;

/// A mount made by the test; unmounted (lazily, so a busy file cannot keep it) on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        run(
            &[
                "mount",
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
            ],
            dir,
        );
        Mount(dir.to_owned())
    }
    /// `file` bound onto itself, read-only: a read-only file even for root.
    fn read_only_file(file: &Path) -> Mount {
        run(&["mount", "--bind"], format!("{0} {0}", file.display()));
        let m = Mount(file.to_owned());
        run(&["mount", "-o", "remount,bind,ro"], file);
        m
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Runs `args` with the path(s) last; panics (the test fails) when it does not succeed.
fn run(args: &[&str], last: impl AsRef<std::ffi::OsStr>) {
    let last = last.as_ref().to_string_lossy().to_string();
    let out = Command::new(args[0])
        .args(&args[1..])
        .args(last.split(' '))
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} {last}: {} (these tests need root and must not skip)",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `coldgate-wallet serve` with its log in a file (to read why it refused).
struct Logged {
    child: Child,
    addr: std::net::SocketAddr,
    log: PathBuf,
}

impl Logged {
    fn start(config: &Path, log: &Path) -> Logged {
        let mut child = Command::new(bin())
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env(coldgate_wallet::PASSPHRASE_ENV, PASSPHRASE)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix(coldgate_wallet::LISTENING)
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Logged {
            child,
            addr,
            log: log.to_owned(),
        }
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A site whose store lives on a fresh 2 MiB tmpfs.
fn small_disk_site(name: &str) -> (Site, Mount, PathBuf) {
    let scratch = Scratch::new(name);
    let disk = scratch.path("disk");
    let mount = Mount::tmpfs(&disk, "2m");
    let store = disk.join("wallet.db");
    let config = scratch.path("wallet.toml");
    std::fs::write(&config, config_text(store.to_str().unwrap(), POLICY_TOML)).unwrap();
    let site = Site { scratch, config };
    site.ok(&["init"]);
    (site, mount, store)
}

const UNAVAILABLE: Body = Body::Reject {
    reason: RejectReason::StoreUnavailable,
};

#[test]
fn a_full_disk_refuses_to_sign_and_loses_nothing_acknowledged() {
    let (site, mount, _) = small_disk_site("full");
    let mut a = site.add_client(1);
    let server = Logged::start(&site.config, &site.scratch.path("wallet.log"));
    let (k, pk) = match call(server.addr, &mut a, Body::NewKey) {
        Body::Pubkey { key_id, key } => (
            key_id,
            bitcoin::key::XOnlyPublicKey::from_slice(&key).unwrap(),
        ),
        other => panic!("{other:?}"),
    };
    let mut signed = Vec::new();
    let pay = |a: &mut Client, signed: &mut Vec<(u64, coldgate_spec::Payment, [u8; 64])>| {
        // Small amounts: the daily amount never binds; spread over clients' counts below.
        let p = payment(k, 400, 0);
        let body = call(server.addr, a, Body::SignPayment(p));
        if let Body::Signature {
            signature,
            reference,
            ..
        } = body
        {
            signed.push((reference, p, signature));
        }
        body
    };
    assert!(matches!(pay(&mut a, &mut signed), Body::Signature { .. }));
    // Fill the file system to the last byte.
    let filler = mount.0.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x5a; 64 * 1024];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling: {e}"),
            }
        }
        while f.write(&[0]).is_ok_and(|n| n == 1) {}
    }
    // Requests now need space the disk does not have: refused, tagged, nothing signed.
    let mut refused = 0;
    for _ in 0..3 {
        match pay(&mut a, &mut signed) {
            b if b == UNAVAILABLE => refused += 1,
            Body::Signature { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(refused > 0, "the full disk never refused a payment");
    let log = server.log();
    assert!(
        log.contains("the disk is full") && log.contains("nothing was signed"),
        "{log}"
    );
    // Space again: the wallet carries on without a restart.
    std::fs::remove_file(&filler).unwrap();
    assert!(matches!(pay(&mut a, &mut signed), Body::Signature { .. }));
    drop(server);
    // Every signature that left is in the ledger after a restart, and verifies; the audit
    // chain is whole.
    let server = Logged::start(&site.config, &site.scratch.path("wallet2.log"));
    for (reference, p, signature) in &signed {
        assert_eq!(
            call(
                server.addr,
                &mut a,
                Body::PaymentStatus {
                    reference: *reference
                }
            ),
            Body::Signature {
                key_id: k,
                signature: *signature,
                reference: *reference
            }
        );
        coldgate_tx::verify(&pk, p, signature).unwrap();
    }
    drop(server);
    assert!(site.ok(&["audit", "verify"]).starts_with("audit chain ok"));
}

#[test]
fn a_read_only_store_refuses_to_sign_and_says_why() {
    let (site, _disk, store) = small_disk_site("readonly");
    let mut a = site.add_client(1);
    let k = {
        let server = Logged::start(&site.config, &site.scratch.path("wallet.log"));
        let k = match call(server.addr, &mut a, Body::NewKey) {
            Body::Pubkey { key_id, .. } => key_id,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            call(
                server.addr,
                &mut a,
                Body::SignPayment(payment(k, 600_000, 0))
            ),
            Body::Held { .. }
        ));
        k
    };
    let held_ref = a.counter;
    let cred = site.add_operator("dora");
    // The store file turns read-only (a read-only bind mount: read-only even for root).
    let ro = Mount::read_only_file(&store);
    // The wallet does not start on it (it could record nothing), and says why.
    let out = Command::new(bin())
        .arg("--config")
        .arg(&site.config)
        .arg("serve")
        .env(coldgate_wallet::PASSPHRASE_ENV, PASSPHRASE)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot be written") && err.contains("read-only"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    // The operator's tools refuse too: no approval is signed, no client added.
    let approve = site.cli(&[
        "held",
        "approve",
        &held_ref.to_string(),
        "--client",
        "1",
        "--operator",
        "dora",
        "--credential",
        cred.to_str().unwrap(),
    ]);
    assert!(!approve.status.success());
    let err = String::from_utf8_lossy(&approve.stderr);
    assert!(
        err.contains("read-only") && err.contains("nothing was signed"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&approve.stdout).contains("signed"));
    let secret = site.scratch.path("c2.secret");
    let add = site.cli(&[
        "client",
        "add",
        "--id",
        "2",
        "--secret-out",
        secret.to_str().unwrap(),
    ]);
    assert!(!add.status.success());
    assert!(
        !secret.exists(),
        "a secret for a client that was never added"
    );
    // Writable again: the held payment is still held, and is signed now.
    drop(ro);
    let out = site.ok(&[
        "held",
        "approve",
        &held_ref.to_string(),
        "--client",
        "1",
        "--operator",
        "dora",
        "--credential",
        cred.to_str().unwrap(),
    ]);
    assert!(out.contains("signed"), "{out}");
    let server = Logged::start(&site.config, &site.scratch.path("wallet2.log"));
    assert!(matches!(
        call(server.addr, &mut a, Body::PaymentStatus { reference: held_ref }),
        Body::Signature { key_id, .. } if key_id == k
    ));
}
