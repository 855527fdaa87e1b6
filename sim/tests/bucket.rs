//! The request lane's token bucket behind `coldgate-appliance`: the same byte stream with the
//! same pauses must get the same verdicts from the golden model and from Verilator, whatever
//! each backend's speed (issue 12). Two real appliance processes on tcp get the same bursts at
//! the same moments; their counters must be equal.
//!
//! The appliance starts its tick clock at the first byte it receives; the bursts here are sent
//! half a tick period after a whole number of periods from the first one, so a burst's arrival
//! is half a period away from any tick, far more than the time between the two writes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use coldgate_spec::config::{RATE_BURST, RATE_REFILL_HZ};
use coldgate_spec::vectors::{sample_bodies, sealed};

const PATIENCE: Duration = Duration::from_secs(60);

struct Appliance {
    child: Child,
    log: mpsc::Receiver<String>,
    seen: Vec<String>,
    dir: std::path::PathBuf,
}

impl Appliance {
    fn start(backend: &str) -> Appliance {
        let dir = std::env::temp_dir().join(format!(
            "coldgate-sim-bucket-{backend}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_coldgate-appliance"))
            .args(["--backend", backend])
            .args([
                "--untrusted",
                "tcp:127.0.0.1:0",
                "--trusted",
                "tcp:127.0.0.1:0",
            ])
            .arg("--pty-paths")
            .arg(dir.join("endpoints"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn coldgate-appliance");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut a = Appliance {
            child,
            log,
            seen: vec![],
            dir,
        };
        a.wait_log("backend ready");
        a
    }

    fn endpoint(&self, side: &str) -> String {
        let path = self.dir.join("endpoints");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                for line in text.lines() {
                    let parts: Vec<&str> = line.split(' ').collect();
                    if let [s, "tcp", addr] = parts[..] {
                        if s == side {
                            return addr.to_string();
                        }
                    }
                }
            }
            assert!(Instant::now() < deadline, "no {side} endpoint");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_log(&mut self, needle: &str) -> String {
        if let Some(i) = self.seen.iter().position(|l| l.contains(needle)) {
            return self.seen.remove(i);
        }
        loop {
            match self.log.recv_timeout(PATIENCE) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "no log line with {needle:?}; saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Interrupts the appliance; returns its final counters (the text after "counters: ").
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let line = self.wait_log("final counters");
        let status = self.child.wait().expect("wait for the appliance");
        assert!(status.success(), "appliance exited with {status}");
        // "... final counters: request: passed 3 ...; response: passed 0 backend=golden ..."
        let text = line.split("counters: ").nth(1).expect("counter text");
        text.split(" backend=").next().unwrap_or(text).to_string()
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Counts whole frames read from a socket, on a thread.
fn frame_counter(mut s: TcpStream) -> mpsc::Receiver<usize> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut w = [0u8; coldgate_spec::FRAME_LEN];
        let mut n = 0;
        while s.read_exact(&mut w).is_ok() {
            n += 1;
            if tx.send(n).is_err() {
                break;
            }
        }
    });
    rx
}

struct Connected {
    app: Appliance,
    untrusted: TcpStream,
    passes: mpsc::Receiver<usize>,
    notices: mpsc::Receiver<usize>,
}

fn connect(backend: &str) -> Connected {
    let mut app = Appliance::start(backend);
    let untrusted = TcpStream::connect(app.endpoint("untrusted")).expect("connect");
    let trusted = TcpStream::connect(app.endpoint("trusted")).expect("connect");
    app.wait_log("peer connected");
    app.wait_log("peer connected");
    untrusted.set_nodelay(true).expect("nodelay");
    let notices = frame_counter(untrusted.try_clone().expect("clone"));
    let passes = frame_counter(trusted);
    Connected {
        app,
        untrusted,
        passes,
        notices,
    }
}

/// Waits until `total` frames left the appliance on its two sides; returns (passes, NOTICEs).
fn settle(c: &Connected, total: usize) -> (usize, usize) {
    let (mut p, mut n) = (0, 0);
    let deadline = Instant::now() + PATIENCE;
    while p + n < total {
        assert!(Instant::now() < deadline, "only {p} passes and {n} NOTICEs");
        while let Ok(x) = c.passes.try_recv() {
            p = x;
        }
        while let Ok(x) = c.notices.try_recv() {
            n = x;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (p, n)
}

#[test]
fn golden_and_verilator_give_the_same_verdicts_after_bursts_and_pauses() {
    let period = Duration::from_secs(1) / RATE_REFILL_HZ;
    let burst = RATE_BURST as usize;
    // (periods after the first burst, frames): a burst well over the bucket, a short pause
    // that refills part of it, a long one that refills it all, and another big burst.
    let plan = [
        (0u32, burst + burst / 2),
        (burst as u32 / 4, burst / 2),
        (burst as u32 * 3, burst * 2),
    ];
    let mut apps = [connect("golden"), connect("verilator")];
    let (_, body) = sample_bodies()[0];
    let mut counter = 0u64;
    let start = Instant::now();
    let mut total = 0;
    for (i, &(periods, n)) in plan.iter().enumerate() {
        let bytes: Vec<u8> = (0..n)
            .flat_map(|_| {
                counter += 1;
                sealed(counter, body)
            })
            .collect();
        total += n;
        if i > 0 {
            // Half a period past the planned tick, so neither appliance can see it on the edge.
            let at = start + period * periods + period / 2;
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
        }
        for a in apps.iter_mut() {
            a.untrusted.write_all(&bytes).expect("write burst");
        }
    }
    let seen: Vec<(usize, usize)> = apps.iter().map(|a| settle(a, total)).collect();
    let [golden, verilator] = apps;
    let (g, v) = (golden.app.stop(), verilator.app.stop());
    assert_eq!(
        v, g,
        "Verilator and golden counters differ (frames seen {seen:?})"
    );
    assert_eq!(seen[0], seen[1]);
    // The bucket did limit, and the pauses did refill it.
    assert!(g.contains("rate_limited"), "{g}");
    assert!(seen[0].0 > burst, "{seen:?}");
}
