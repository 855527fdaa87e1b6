//! `coldgate-appliance --board colorlight` as a real process on its unprivileged UDP virtual
//! wires (one datagram = one burst as on the wire), running the Verilated `coldgate_eth`; and
//! its TAP mode refusing clearly without CAP_NET_ADMIN.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coldgate_spec::eth::{self, frame_to, EthPort, ETHERTYPE};
use coldgate_spec::vectors::{sample_bodies, sealed};

/// Guards against a hang; never an assertion about speed.
const PATIENCE: Duration = Duration::from_secs(30);

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldgate-eth-app-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

struct Appliance {
    child: Child,
    log: PathBuf,
}

impl Drop for Appliance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(side, kind, address)` lines of the endpoints file, once written.
fn endpoints(path: &PathBuf, child: &mut Child) -> Vec<(String, String, String)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text
                .lines()
                .map(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    (w[0].to_string(), w[1].to_string(), w[2].to_string())
                })
                .collect();
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "appliance exited"
        );
        assert!(Instant::now() < deadline, "no endpoints file");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn recv(sock: &UdpSocket) -> Option<Vec<u8>> {
    let mut buf = [0u8; 2048];
    match sock.recv(&mut buf) {
        Ok(n) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

#[test]
fn udp_wires_carry_bursts_through_the_verilated_ethernet_top() {
    let dir = scratch("udp");
    let ep = dir.join("endpoints");
    let log = dir.join("appliance.log");
    let child = Command::new(env!("CARGO_BIN_EXE_coldgate-appliance"))
        .args(["--board", "colorlight", "--backend", "verilator"])
        .args(["--udp-u", "127.0.0.1:0", "--udp-t", "127.0.0.1:0"])
        .args(["--stats-every", "60", "--pty-paths"])
        .arg(&ep)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start the appliance");
    let mut app = Appliance { child, log };
    let lines = endpoints(&ep, &mut app.child);
    let addr = |side: &str| -> SocketAddr {
        lines
            .iter()
            .find(|(s, k, _)| s == side && k == "udp")
            .expect("udp endpoint")
            .2
            .parse()
            .expect("address")
    };
    let (u_addr, t_addr) = (addr("untrusted"), addr("trusted"));
    let u = UdpSocket::bind("127.0.0.1:0").expect("u station");
    let t = UdpSocket::bind("127.0.0.1:0").expect("t station");
    for s in [&u, &t] {
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
    }
    // The trusted station speaks first so that port T knows where to send (an ARP-like burst
    // the port drops as a foreign EtherType).
    let hello = eth::burst(&eth::mac_frame(
        &EthPort::T.config().own,
        &EthPort::T.config().peer,
        0x0806,
        &[0u8; 46],
    ));
    t.send_to(&hello, t_addr).expect("hello");

    let request = sealed(7, sample_bodies()[0].1);
    let mut bad_fcs = frame_to(EthPort::U, &request);
    *bad_fcs.last_mut().expect("fcs") ^= 0x80;
    let runt = eth::burst(&eth::mac_frame(
        &EthPort::U.config().own,
        &EthPort::U.config().peer,
        ETHERTYPE,
        &[1u8; 10],
    ));
    for b in [&bad_fcs, &runt, &frame_to(EthPort::U, &request)] {
        u.send_to(b, u_addr).expect("burst");
    }
    // Exactly the valid request leaves port T, rebuilt with T's header and a fresh FCS.
    let got = recv(&t).expect("the request on the trusted wire");
    assert_eq!(got, eth::wire_frame(EthPort::T, &request));
    assert_eq!(recv(&t), None, "nothing else reaches the trusted wire");
    assert_eq!(recv(&u), None, "no NOTICE answers an Ethernet-layer drop");

    // Stop it (SIGTERM) and read its final counters.
    let term = Command::new("kill")
        .args(["-TERM", &app.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let status = app.child.wait().expect("exit");
    assert!(status.success(), "appliance exit: {status}");
    let text = std::fs::read_to_string(&app.log).expect("log");
    let line = text
        .lines()
        .rfind(|l| l.contains("final counters"))
        .unwrap_or_else(|| panic!("no final counters in:\n{text}"));
    for part in [
        "request: passed 1;",
        "u: accepted 1 runt 1 bad_fcs 1;",
        "t: foreign_ethertype 1 sent 1",
        "backend=\"verilator\"",
    ] {
        assert!(line.contains(part), "{part:?} missing: {line}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tap_mode_without_cap_net_admin_says_what_is_missing() {
    let out = Command::new("setpriv")
        .args(["--bounding-set=-net_admin", "--inh-caps=-net_admin", "--"])
        .arg(env!("CARGO_BIN_EXE_coldgate-appliance"))
        .args(["--board", "colorlight", "--backend", "golden"])
        .args(["--tap-u", "cgnope0", "--tap-t", "cgnope1"])
        .env("NO_COLOR", "1")
        .output()
        .expect("setpriv (util-linux) runs the appliance");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CAP_NET_ADMIN"), "{err}");
    assert!(
        err.contains("--udp-u"),
        "points to the unprivileged mode: {err}"
    );
}
