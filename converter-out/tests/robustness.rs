//! converter-out as a real process: junk, NOTICEs, frames of the wrong lane and an unreachable
//! wallet are logged and survived; a restarted appliance is reconnected to. (Its happy path,
//! with the real wallet, is in the client crate's end-to-end tests.)

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coldgate_link::{Link, LinkOptions, LinkSpec, Role};
use coldgate_spec::codec::{Body, Frame, Notice};
use coldgate_spec::golden::notice_frame;
use coldgate_spec::vectors::{sample_payment, SECRET};
use coldgate_spec::{DropReason, LaneId};

const PATIENCE: Duration = Duration::from_secs(20);

struct ConverterOut {
    child: Child,
    log: PathBuf,
}

impl Drop for ConverterOut {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl ConverterOut {
    /// Waits until the log holds `needle`; false if the process died first.
    async fn log_shows(&mut self, needle: &str) -> bool {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .contains(needle)
            {
                return true;
            }
            if matches!(self.child.try_wait(), Ok(Some(_))) || Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn start(link: &str, wallet: &str, name: &str) -> ConverterOut {
    let log = std::env::temp_dir().join(format!("coldgate-out-{}-{name}.log", std::process::id()));
    let child = Command::new(env!("CARGO_BIN_EXE_coldgate-converter-out"))
        .args([
            "--link",
            link,
            "--wallet",
            wallet,
            "--call-timeout-ms",
            "2000",
        ])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn converter-out");
    ConverterOut { child, log }
}

async fn appliance(port: u16) -> Link {
    let spec: LinkSpec = format!("tcp:127.0.0.1:{port}").parse().expect("spec");
    let mut tries = 0;
    loop {
        match Link::open(&spec, Role::Appliance, LinkOptions::named("test-appliance")).await {
            Ok(l) => return l,
            // The previous listener on this port closes asynchronously.
            Err(_) if tries < 100 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("listen: {e}"),
        }
    }
}

#[tokio::test]
async fn junk_notices_and_a_dead_wallet_are_survived() {
    let port = free_port();
    let link = appliance(port).await;
    let wallet = format!("http://127.0.0.1:{}", free_port());
    let mut c = start(&format!("tcp:127.0.0.1:{port}"), &wallet, "junk");
    let w = link.writer();
    tokio::time::timeout(PATIENCE, w.wait_up())
        .await
        .expect("up")
        .expect("link");

    w.write(bytes::Bytes::from_static(b"\xC0\x1D\x6A\x7E\x02garbage"))
        .await
        .expect("write");
    let notice = Notice {
        reason: DropReason::OutOfRange,
        field: 4,
        lane: LaneId::Response,
        readable: true,
    };
    w.write_frame(&notice_frame(9, 41, notice))
        .await
        .expect("write");
    assert!(
        c.log_shows("the verifier dropped one of the wallet's answers")
            .await
    );

    let request = Frame::sealed(9, 42, Body::SignPayment(sample_payment()), &SECRET)
        .and_then(|f| f.to_wire())
        .expect("frame");
    w.write_frame(&request).await.expect("write");
    assert!(c.log_shows("no answer frame for this request").await);
    assert!(c.log_shows("counter=42").await);
    assert!(c.alive());
}

#[tokio::test]
async fn a_restarted_appliance_is_reconnected_to() {
    let port = free_port();
    let wallet = format!("http://127.0.0.1:{}", free_port());
    let mut c = start(&format!("tcp:127.0.0.1:{port}"), &wallet, "restart");
    for (round, counter) in [(0, 100u64), (1, 200)] {
        let link = appliance(port).await;
        let w = link.writer();
        tokio::time::timeout(PATIENCE, w.wait_up())
            .await
            .expect("up")
            .expect("link");
        let f = Frame::sealed(9, counter, Body::NewKey, &SECRET)
            .and_then(|f| f.to_wire())
            .expect("frame");
        w.write_frame(&f).await.expect("write");
        assert!(
            c.log_shows(&format!(
                "verified request frame received client_id=9 counter={counter}"
            ))
            .await,
            "round {round}"
        );
        drop(link);
    }
    assert!(c.alive());
}
