//! The whole gateway over raw Ethernet, in a private network namespace the test makes (root,
//! as CI runs; without it these tests FAIL, they never skip): the appliance's ports are TAP
//! interfaces bridged to the Verilated `coldgate_eth`, converter-in and converter-out use
//! `eth:` links on them, the wallet sits behind converter-out on the namespace's loopback.
//! No frame leaves the namespace.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use coldgate_client::demo::{self, DemoLink, DemoOptions, Gateway, TAP_T, TAP_U};
use coldgate_client::Outcome;
use coldgate_link::eth::{self as eth_link, Mac};
use coldgate_link::netns;
use coldgate_spec::codec;
use coldgate_spec::eth::{self, EthPort, ETHERTYPE, HEADER_LEN};
use coldgate_spec::vectors::{sample_bodies, sealed};
use coldgate_spec::FRAME_LEN;

mod support;
use support::bin_dir;

fn scratch(name: &str) -> PathBuf {
    support::scratch("eth", name)
}

#[test]
fn demo_passes_over_ethernet_taps_in_its_own_namespace() {
    let work = scratch("demo");
    support::demo_passes("eth", "verilator", &work);
    // The namespace was the demo's: its TAPs are not in ours.
    let ours = Command::new("ip")
        .args(["link", "show", "dev", TAP_U])
        .output()
        .expect("ip");
    assert!(
        !ours.status.success(),
        "{TAP_U} leaked into the caller's namespace"
    );
    let _ = std::fs::remove_dir_all(work);
}

/// Every coldgate-EtherType frame port T sent, as a station on the trusted network sees it.
fn capture_port_t(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(Vec<Vec<u8>>, usize)> {
    let ni = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == TAP_T)
        .expect("the trusted TAP");
    let config = pnet_datalink::Config {
        read_timeout: Some(Duration::from_millis(50)),
        ..Default::default()
    };
    let pnet_datalink::Channel::Ethernet(_tx, mut rx) =
        pnet_datalink::channel(&ni, config).expect("capture socket")
    else {
        panic!("not an Ethernet channel");
    };
    std::thread::spawn(move || {
        let (mut frames, mut other) = (Vec::new(), 0usize);
        while !stop.load(Ordering::Relaxed) {
            let Ok(f) = rx.next() else { continue };
            if f.get(eth::field::SRC) != Some(&EthPort::T.config().own[..]) {
                continue; // converter-out's own frames, the kernel's IPv6 chatter
            }
            if f.get(eth::field::ETHERTYPE) == Some(&ETHERTYPE.to_be_bytes()[..]) {
                frames.push(f.to_vec());
            } else {
                other += 1;
            }
        }
        (frames, other)
    })
}

/// Frames a hostile station on the untrusted network sends through the TAP (its NIC adds a
/// good FCS and pads short ones).
fn hostile_frames() -> Vec<Vec<u8>> {
    let u = EthPort::U.config();
    let (port, peer, stranger) = (Mac(u.own), Mac(u.peer), Mac([0x02, 0x66, 0, 0, 0, 1]));
    let valid = sealed(90, sample_bodies()[0].1);
    let mut arp = eth_link::frame(Mac::BROADCAST, stranger, &[0u8; 28]);
    arp[eth::field::ETHERTYPE].copy_from_slice(&0x0806u16.to_be_bytes());
    let mut ipv4 = eth_link::frame(port, peer, &valid);
    ipv4[eth::field::ETHERTYPE].copy_from_slice(&0x0800u16.to_be_bytes());
    vec![
        arp,
        ipv4,
        // A valid coldgate frame broadcast, multicast, to another station, from a stranger.
        eth_link::frame(Mac::BROADCAST, peer, &valid),
        eth_link::frame(Mac([0x01, 0x00, 0x5e, 0, 0, 1]), peer, &valid),
        eth_link::frame(stranger, peer, &valid),
        eth_link::frame(port, stranger, &valid),
        // Payloads one byte short and one byte long.
        eth_link::frame(port, peer, &valid[..FRAME_LEN - 1]),
        eth_link::frame(port, peer, &[&valid[..], &[0]].concat()),
    ]
}

/// Bursts only a hostile device on the wire can send: bad FCS, runt, giant, bad preamble.
fn hostile_bursts() -> Vec<Vec<u8>> {
    let valid = sealed(91, sample_bodies()[0].1);
    let mut bad_fcs = eth::frame_to(EthPort::U, &valid);
    *bad_fcs.last_mut().expect("fcs") ^= 0x01;
    let runt = eth::burst(&eth::mac_frame(
        &EthPort::U.config().own,
        &EthPort::U.config().peer,
        ETHERTYPE,
        &[0u8; 20],
    ));
    let giant = eth::burst(&eth::mac_frame(
        &EthPort::U.config().own,
        &EthPort::U.config().peer,
        ETHERTYPE,
        &[0u8; 1600],
    ));
    let mut bad_preamble = eth::frame_to(EthPort::U, &valid);
    bad_preamble[2] = 0x00;
    vec![bad_fcs, runt, giant, bad_preamble]
}

/// `NAME VALUE` of one section (`u:`, `t:`, `request:`) of the appliance's counter line.
fn counter(line: &str, section: &str, name: &str) -> u32 {
    let text = line.split("counters: ").nth(1).expect("counter text");
    let part = text
        .split("; ")
        .find(|p| p.starts_with(&format!("{section}:")))
        .unwrap_or("");
    let words: Vec<&str> = part.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == name)
        .map_or(0, |w| w[1].parse().expect("number"))
}

#[test]
fn hostile_traffic_on_the_untrusted_network_never_reaches_converter_out() {
    let work = scratch("hostile");
    let outcome = netns::isolated(move || async move {
        std::fs::create_dir_all(&work).expect("work dir");
        let opts = DemoOptions {
            backend: "verilator".into(),
            link: DemoLink::Eth,
            bin_dir: Some(bin_dir().to_path_buf()),
            work_dir: Some(work.clone()),
            trace: false,
        };
        let mut g = Gateway::start(&opts, &work, "verilator")
            .await
            .expect("gateway over Ethernet");
        let stop = Arc::new(AtomicBool::new(false));
        let capture = capture_port_t(Arc::clone(&stop));
        let mut client = g.client().expect("client");
        let mut legit = Vec::new();

        let x = demo::until_linked(&mut g, &mut client, |c| Box::pin(c.new_key()))
            .await
            .expect("new key");
        let Outcome::Key { key_id, .. } = x.outcome else {
            panic!("expected a key, got {}", x.outcome)
        };
        legit.push(x.request.counter);

        // The hostile station: frames through the TAP, bursts on the wire.
        tokio::task::spawn_blocking(|| {
            let ni = pnet_datalink::interfaces()
                .into_iter()
                .find(|i| i.name == TAP_U)
                .expect("the untrusted TAP");
            let pnet_datalink::Channel::Ethernet(mut tx, _rx) =
                pnet_datalink::channel(&ni, Default::default()).expect("raw socket")
            else {
                panic!("not an Ethernet channel");
            };
            for f in hostile_frames() {
                tx.send_to(&f, None).expect("one frame").expect("sent");
            }
        })
        .await
        .expect("hostile frames");
        let wire = g.eth_wire_u().expect("port U's udp wire");
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        for b in hostile_bursts() {
            sock.send_to(&b, wire).expect("burst");
        }

        // The gateway still serves the client, and answers in order.
        let x = client
            .pubkey(key_id)
            .await
            .expect("pubkey after the attack");
        assert!(matches!(x.outcome, Outcome::Key { .. }), "{}", x.outcome);
        legit.push(x.request.counter);

        // Let the bridge drain, then stop the appliance for its final counters.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        let (frames, other) = capture.join().expect("capture thread");
        g.procs.stop("appliance");
        let log = std::fs::read_to_string(g.procs.log("appliance")).expect("appliance log");
        let line = log
            .lines()
            .rfind(|l| l.contains("final counters"))
            .expect("final counters")
            .to_string();
        (legit, frames, other, line)
    })
    .expect("private network namespace (root needed: this test fails without it)");
    let (legit, frames, other, line) = outcome;

    // Port T sent exactly the client's requests, each a valid frame, nothing else.
    assert_eq!(other, 0, "non-coldgate frames left port T");
    let counters: Vec<u64> = frames
        .iter()
        .map(|f| {
            assert_eq!(f.len(), HEADER_LEN + FRAME_LEN, "frame length");
            assert_eq!(&f[eth::field::DST], &EthPort::T.config().peer[..]);
            let wire: &[u8; FRAME_LEN] = f[HEADER_LEN..].try_into().expect("payload");
            codec::Frame::decode(wire)
                .expect("a valid coldgate frame")
                .counter
        })
        .collect();
    assert_eq!(counters, legit, "frames on the trusted network: {line}");

    // Each hostile frame was dropped by the Ethernet layer, by its reason.
    for (name, at_least) in [
        ("bad_fcs", 1),
        ("runt", 1),
        ("giant", 1),
        ("bad_preamble", 1),
        ("foreign_source", 1),
        ("foreign_ethertype", 1),
        ("not_for_us", 4),
        ("bad_length", 2),
    ] {
        assert!(
            counter(&line, "u", name) >= at_least,
            "u {name} < {at_least}: {line}"
        );
    }
    assert_eq!(
        counter(&line, "u", "accepted"),
        legit.len() as u32,
        "{line}"
    );
    assert_eq!(
        counter(&line, "request", "passed"),
        legit.len() as u32,
        "{line}"
    );
    assert_eq!(counter(&line, "t", "sent"), legit.len() as u32, "{line}");
    // And the lanes saw none of it: no NOTICE was needed.
    assert_eq!(counter(&line, "u", "sent"), legit.len() as u32, "{line}");
}
