//! `eth:` links for real: AF_PACKET sockets on a veth pair inside a private network namespace
//! made by the test (root, as CI runs: without it these tests fail, they never skip).

use std::time::Duration;

use coldgate_link::eth::{self, EthPort, Mac};
use coldgate_link::{netns, FrameEvent, FrameLink, Link, LinkError, LinkOptions, Role};
use coldgate_spec::codec::{Frame, Wire};
use coldgate_spec::vectors::{sample_bodies, SECRET};
use coldgate_spec::FRAME_LEN;

/// Guards against a hang; never an assertion about speed.
const PATIENCE: Duration = Duration::from_secs(20);

fn frame(counter: u64) -> Wire {
    let bodies = sample_bodies();
    let (_, body) = bodies[counter as usize % bodies.len()];
    Frame::sealed(7, counter, body, &SECRET)
        .and_then(|f| f.to_wire())
        .expect("valid sample frame")
}

async fn open(spec: &str, name: &str) -> FrameLink {
    let spec = spec.parse().expect("eth spec");
    let link = Link::open(&spec, Role::Peer, LinkOptions::named(name))
        .await
        .expect("open eth link");
    let mut link = FrameLink::new(link);
    match next(&mut link).await {
        FrameEvent::Up { .. } => link,
        other => panic!("expected Up, got {other:?}"),
    }
}

async fn next(link: &mut FrameLink) -> FrameEvent {
    tokio::time::timeout(PATIENCE, link.recv())
        .await
        .expect("link event in time")
        .expect("link still running")
}

async fn expect_frame(link: &mut FrameLink) -> Wire {
    match next(link).await {
        FrameEvent::Frame(w) => *w,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// Sends raw Ethernet frames (no FCS) on `iface`, as a hostile station would.
fn inject(iface: &str, frames: &[Vec<u8>]) {
    let ni = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == iface)
        .expect("interface");
    let pnet_datalink::Channel::Ethernet(mut tx, _rx) =
        pnet_datalink::channel(&ni, Default::default()).expect("raw socket")
    else {
        panic!("not an Ethernet channel");
    };
    for f in frames {
        tx.send_to(f, None).expect("one frame").expect("sent");
    }
}

#[test]
fn eth_link_carries_one_frame_per_ethernet_frame_and_ignores_other_traffic() {
    netns::isolated(|| async {
        netns::veth_pair("cgva", "cgvb").expect("veth pair");
        // converter-in's side (port U's peer) and, on the far end, a stand-in for port U.
        let mut conv = open("eth:cgva", "untrusted").await;
        let (u_mac, u_peer) = (Mac::of_port(EthPort::U), Mac::peer_of(EthPort::U));
        let mut port = open(
            &format!("eth:cgvb,local={u_mac},peer={u_peer}"),
            "appliance-port-u",
        )
        .await;

        // A write of two frames back to back is two Ethernet frames.
        let (a, b) = (frame(1), frame(2));
        let mut two = a.to_vec();
        two.extend_from_slice(&b);
        conv.writer()
            .write(two.into())
            .await
            .expect("write two frames");
        assert_eq!(expect_frame(&mut port).await, a);
        assert_eq!(expect_frame(&mut port).await, b);
        port.writer().write_frame(&frame(3)).await.expect("reply");
        assert_eq!(expect_frame(&mut conv).await, frame(3));

        // Everything that is not one coldgate frame from port U to converter-in's MAC.
        let body = frame(4);
        let other = Mac([0x02, 0, 0, 0, 0, 0x99]);
        let mut arp = eth::frame(Mac::BROADCAST, u_mac, &[0u8; 28]);
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        let mut ipv6 = eth::frame(u_peer, u_mac, &body);
        ipv6[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
        let junk = vec![
            arp,
            ipv6,
            eth::frame(Mac::BROADCAST, u_mac, &body),
            eth::frame(Mac([0x33, 0x33, 0, 0, 0, 1]), u_mac, &body),
            eth::frame(other, u_mac, &body),
            eth::frame(u_peer, other, &body),
            eth::frame(u_peer, u_mac, &body[..FRAME_LEN - 1]),
            eth::frame(u_peer, u_mac, &[body.as_slice(), &[0]].concat()),
            eth::frame(u_peer, u_mac, &[]),
        ];
        let last = frame(5);
        tokio::task::spawn_blocking(move || {
            let mut all = junk;
            all.push(eth::frame(u_peer, u_mac, &last));
            inject("cgvb", &all);
        })
        .await
        .expect("inject");
        // The only thing converter-in sees is the last, valid frame.
        assert_eq!(expect_frame(&mut conv).await, frame(5));
        assert_eq!(conv.stats().invalid, 0);
        assert_eq!(conv.stats().skipped, 0);
    })
    .expect("private network namespace (root needed: this test fails without it)");
}

#[test]
fn eth_link_refuses_the_appliance_role_and_unknown_interfaces() {
    netns::isolated(|| async {
        let spec = "eth:lo".parse().expect("spec");
        let r = Link::open(&spec, Role::Appliance, LinkOptions::named("untrusted")).await;
        assert!(matches!(r, Err(LinkError::Role { .. })));
        let spec = "eth:nosuch0".parse().expect("spec");
        let r = Link::open(&spec, Role::Peer, LinkOptions::named("untrusted")).await;
        let Err(e) = r else {
            panic!("opened a missing interface")
        };
        assert!(matches!(e, LinkError::EthNoInterface { .. }), "{e}");
        assert!(e.to_string().contains("lo"), "lists the interfaces: {e}");
        let spec = "eth:lo".parse().expect("spec");
        let r = Link::open(&spec, Role::Peer, LinkOptions::named("other")).await;
        assert!(matches!(r, Err(LinkError::EthPort { .. })));
    })
    .expect("private network namespace");
}

const CHILD: &str = "COLDGATE_ETH_TEST_CHILD";

/// Without CAP_NET_RAW, opening an eth link fails with an error that says so. The test runs
/// itself again under `setpriv` with the capability removed from the bounding set (so even
/// root cannot have it).
#[test]
fn eth_link_without_cap_net_raw_says_what_is_missing() {
    if std::env::var_os(CHILD).is_some() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let spec = "eth:lo".parse().expect("spec");
        let r = rt.block_on(Link::open(
            &spec,
            Role::Peer,
            LinkOptions::named("untrusted"),
        ));
        let Err(e) = r else {
            panic!("opened a packet socket without CAP_NET_RAW")
        };
        assert!(matches!(e, LinkError::NeedsNetRaw { .. }), "{e}");
        assert!(e.to_string().contains("CAP_NET_RAW"), "{e}");
        println!("child saw: {e}");
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new("setpriv")
        .args(["--bounding-set=-net_raw", "--inh-caps=-net_raw", "--"])
        .arg(exe)
        .args([
            "--exact",
            "eth_link_without_cap_net_raw_says_what_is_missing",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("setpriv (util-linux) runs the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("child saw: eth:lo needs CAP_NET_RAW"),
        "{stdout}"
    );
}
