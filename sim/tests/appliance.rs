//! `coldgate-appliance` end to end: a real process with real tcp sockets and ptys. The test
//! writes frames on one side and reads what the verifier lets through on the other; a frame
//! the verifier drops comes back as a NOTICE on the side that sent it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use coldgate_sim::frames::{classify, OutFrame};
use coldgate_spec::vectors::{sample_bodies, sample_payment, sealed};
use coldgate_spec::{field, Body, DropReason, LaneId, Wire, FRAME_LEN};
use common::{fake_board, pty};

/// Generous bound on any wait: the appliance answers in milliseconds; this only keeps a
/// broken build from hanging the test run.
const PATIENCE: Duration = Duration::from_secs(60);

struct Appliance {
    child: Child,
    log: mpsc::Receiver<String>,
    seen: Vec<String>,
    endpoints: HashMap<String, (String, String)>,
    _dir: TempDir,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("coldgate-sim-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Appliance {
    fn start(backend: &str, untrusted: &str, trusted: &str, extra: &[&str]) -> Appliance {
        let tag: String = format!("{backend}-{untrusted}-{trusted}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let dir = TempDir::new(&tag);
        let endpoints_file = dir.0.join("endpoints");
        let mut child = Command::new(env!("CARGO_BIN_EXE_coldgate-appliance"))
            .args([
                "--backend",
                backend,
                "--untrusted",
                untrusted,
                "--trusted",
                trusted,
            ])
            .arg("--pty-paths")
            .arg(&endpoints_file)
            .args(extra)
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
            endpoints: HashMap::new(),
            _dir: dir,
        };
        a.wait_log("backend ready");
        let text = wait_file(&endpoints_file);
        for line in text.lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            if let [side, kind, addr] = parts[..] {
                a.endpoints
                    .insert(side.to_string(), (kind.to_string(), addr.to_string()));
            }
        }
        a
    }

    fn endpoint(&self, side: &str) -> &(String, String) {
        self.endpoints
            .get(side)
            .unwrap_or_else(|| panic!("no endpoint for {side}: {:?}", self.endpoints))
    }

    /// Waits for a log line containing `needle` (each line is matched once).
    fn wait_log(&mut self, needle: &str) -> String {
        if let Some(i) = self.seen.iter().position(|l| l.contains(needle)) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "no log line with {needle:?}; saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Interrupts the appliance and returns its final counter line.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let line = self.wait_log("final counters");
        let status = self.child.wait().expect("wait for the appliance");
        assert!(status.success(), "appliance exited with {status}");
        line
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_file(path: &Path) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads whole frames from a byte source on a thread, so the test can wait with a bound.
fn frame_reader(mut src: impl Read + Send + 'static) -> mpsc::Receiver<Wire> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut w = [0u8; FRAME_LEN];
        while src.read_exact(&mut w).is_ok() {
            if tx.send(w).is_err() {
                break;
            }
        }
    });
    rx
}

fn next_frame(rx: &mpsc::Receiver<Wire>, what: &str) -> Wire {
    rx.recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("no frame: {what}"))
}

fn bad_crc(mut w: Wire) -> Wire {
    w[field::CRC.start] ^= 0x01;
    w
}

fn response_frame(counter: u64) -> Wire {
    let (_, body) = sample_bodies()
        .into_iter()
        .find(|(name, _)| *name == "signature")
        .expect("sample signature body");
    sealed(counter, body)
}

/// Both directions through a running appliance, as seen from the two sides.
fn exchange(
    mut u_write: impl Write,
    u_read: &mpsc::Receiver<Wire>,
    mut t_write: impl Write,
    t_read: &mpsc::Receiver<Wire>,
) {
    let request = sealed(41, Body::SignPayment(sample_payment()));
    u_write.write_all(&request).expect("write request");
    assert_eq!(next_frame(t_read, "request on the trusted side"), request);

    let dropped = bad_crc(sealed(42, Body::SignPayment(sample_payment())));
    u_write.write_all(&dropped).expect("write bad request");
    match classify(&next_frame(u_read, "NOTICE on the untrusted side")) {
        OutFrame::Notice {
            notice,
            client_id,
            counter,
        } => {
            assert_eq!(notice.reason, DropReason::BadCrc);
            assert_eq!(notice.lane, LaneId::Request);
            assert!(notice.readable);
            assert_eq!((client_id, counter), (7, 42));
        }
        other => panic!("expected a NOTICE, got {other:?}"),
    }

    let response = response_frame(43);
    t_write.write_all(&response).expect("write response");
    assert_eq!(
        next_frame(u_read, "response on the untrusted side"),
        response
    );

    // A request type on the response lane is outside its set: dropped, NOTICE to the wallet.
    t_write
        .write_all(&request)
        .expect("write misdirected frame");
    match classify(&next_frame(t_read, "NOTICE on the trusted side")) {
        OutFrame::Notice { notice, .. } => {
            assert_eq!(notice.reason, DropReason::NotInSet);
            assert_eq!(notice.lane, LaneId::Response);
        }
        other => panic!("expected a NOTICE, got {other:?}"),
    }
}

fn over_tcp(backend: &str, extra: &[&str]) {
    let mut app = Appliance::start(backend, "tcp:127.0.0.1:0", "tcp:127.0.0.1:0", extra);
    let connect = |side: &str| {
        let (kind, addr) = app.endpoint(side).clone();
        assert_eq!(kind, "tcp");
        TcpStream::connect(addr).expect("connect")
    };
    let (u, t) = (connect("untrusted"), connect("trusted"));
    // Output is only sent to a connected peer: wait until the appliance has both.
    app.wait_log("peer connected");
    app.wait_log("peer connected");
    let u_read = frame_reader(u.try_clone().expect("clone"));
    let t_read = frame_reader(t.try_clone().expect("clone"));
    exchange(&u, &u_read, &t, &t_read);
    assert!(app.wait_log("frame dropped").contains("bad_crc"));
    let last = app.stop();
    assert!(
        last.contains("request: passed 1 bad_crc 1; response: passed 1 not_in_set 1"),
        "{last}"
    );
}

fn open_pty(path: &str) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open pty slave {path}: {e}"))
}

fn over_pty(backend: &str) {
    let app = Appliance::start(backend, "pty", "pty", &[]);
    let open = |side: &str| {
        let (kind, path) = app.endpoint(side).clone();
        assert_eq!(kind, "pty");
        open_pty(&path)
    };
    let (u, t) = (open("untrusted"), open("trusted"));
    let u_read = frame_reader(u.try_clone().expect("clone"));
    let t_read = frame_reader(t.try_clone().expect("clone"));
    exchange(&u, &u_read, &t, &t_read);
    let last = app.stop();
    assert!(
        last.contains("request: passed 1 bad_crc 1; response: passed 1 not_in_set 1"),
        "{last}"
    );
}

#[test]
fn verilator_over_tcp() {
    over_tcp("verilator", &[]);
}

#[test]
fn rusthdl_over_tcp() {
    over_tcp("rusthdl", &[]);
}

/// The board backend through the appliance, with the test playing the board on two ptys.
#[test]
fn board_over_tcp() {
    let (u_master, _u_slave, u_path) = pty();
    let (t_master, _t_slave, t_path) = pty();
    fake_board(u_master, t_master);
    over_tcp(
        "board",
        &["--board-untrusted", &u_path, "--board-trusted", &t_path],
    );
}

#[test]
fn verilator_over_pty() {
    over_pty("verilator");
}

/// Frames on removable media: the untrusted side as files, appended and tailed.
#[test]
fn verilator_over_files() {
    let dir = TempDir::new("file-link");
    let base = dir.0.join("untrusted");
    let spec = format!("file:{}", base.display());
    let app = Appliance::start("verilator", &spec, "tcp:127.0.0.1:0", &[]);
    let (_, addr) = app.endpoint("trusted").clone();
    let t = TcpStream::connect(addr).expect("connect");
    let t_read = frame_reader(t.try_clone().expect("clone"));
    let mut app = app;
    app.wait_log("peer connected");
    let inbox = base.with_extension("in");
    let outbox = base.with_extension("out");
    let request = sealed(51, Body::SignPayment(sample_payment()));
    let dropped = bad_crc(sealed(52, Body::SignPayment(sample_payment())));
    let mut f = OpenOptions::new()
        .append(true)
        .open(&inbox)
        .expect("the appliance created the inbox");
    f.write_all(&[&request[..], &dropped[..]].concat())
        .expect("append");
    drop(f);
    assert_eq!(next_frame(&t_read, "request on the trusted side"), request);
    let deadline = Instant::now() + PATIENCE;
    let notice = loop {
        let out = std::fs::read(&outbox).unwrap_or_default();
        if out.len() >= FRAME_LEN {
            break out;
        }
        assert!(
            Instant::now() < deadline,
            "no NOTICE in {}",
            outbox.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(notice.len(), FRAME_LEN, "exactly one NOTICE");
    let notice: Wire = notice.try_into().expect("one frame");
    assert!(matches!(
        classify(&notice),
        OutFrame::Notice { notice: n, counter: 52, .. } if n.reason == DropReason::BadCrc
    ));
    let last = app.stop();
    assert!(
        last.contains("request: passed 1 bad_crc 1; response: passed 0"),
        "{last}"
    );
}

#[test]
fn golden_over_tcp() {
    over_tcp("golden", &[]);
}

#[test]
fn golden_over_pty() {
    over_pty("golden");
}
