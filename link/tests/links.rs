//! Every link kind for real: tcp over loopback, a pty pair opened with serialport, file links.

use std::path::PathBuf;
use std::time::Duration;

use coldgate_link::{
    FrameEvent, FrameLink, Link, LinkError, LinkEvent, LinkOptions, LinkSpec, Role,
};
use coldgate_spec::codec::{Frame, Wire};
use coldgate_spec::vectors::{sample_bodies, SECRET};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Guards against a hang; never an assertion about speed.
const PATIENCE: Duration = Duration::from_secs(20);

fn frame(counter: u64) -> Wire {
    let bodies = sample_bodies();
    let (_, body) = bodies[counter as usize % bodies.len()];
    Frame::sealed(7, counter, body, &SECRET)
        .and_then(|f| f.to_wire())
        .expect("valid sample frame")
}

fn fast(name: &str) -> LinkOptions {
    LinkOptions {
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        poll: Duration::from_millis(5),
        ..LinkOptions::named(name)
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coldgate-link-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

async fn next(link: &mut FrameLink) -> FrameEvent {
    tokio::time::timeout(PATIENCE, link.recv())
        .await
        .expect("link event in time")
        .expect("link still running")
}

async fn expect_up(link: &mut FrameLink) {
    match next(link).await {
        FrameEvent::Up { .. } => {}
        other => panic!("expected Up, got {other:?}"),
    }
}

async fn expect_frame(link: &mut FrameLink) -> Wire {
    loop {
        match next(link).await {
            FrameEvent::Frame(w) => return *w,
            FrameEvent::Invalid(e) => panic!("unexpected invalid candidate: {e}"),
            // Up/Down may interleave with data on reconnecting links.
            FrameEvent::Up { .. } | FrameEvent::Down { .. } => {}
        }
    }
}

async fn write_when_up(link: &FrameLink, wire: &Wire) {
    let w = link.writer();
    tokio::time::timeout(PATIENCE, w.wait_up())
        .await
        .expect("up in time")
        .expect("link running");
    w.write_frame(wire).await.expect("write");
}

/// Frames both ways over an established pair.
async fn exchange(appliance: &mut FrameLink, peer: &mut FrameLink, base: u64) {
    for i in 0..3 {
        write_when_up(peer, &frame(base + i)).await;
    }
    for i in 0..3 {
        assert_eq!(expect_frame(appliance).await, frame(base + i));
    }
    write_when_up(appliance, &frame(base + 10)).await;
    assert_eq!(expect_frame(peer).await, frame(base + 10));
}

#[tokio::test]
async fn tcp_link_serves_one_peer_and_reaccepts() {
    let spec: LinkSpec = "tcp:127.0.0.1:0".parse().expect("spec");
    let appliance = Link::open(&spec, Role::Appliance, fast("appliance"))
        .await
        .expect("listen");
    let addr = appliance.local_addr().expect("bound address");
    let mut appliance = FrameLink::new(appliance);
    let peer_spec: LinkSpec = format!("tcp:{addr}").parse().expect("spec");

    let mut peer = FrameLink::new(
        Link::open(&peer_spec, Role::Peer, fast("peer"))
            .await
            .expect("connect"),
    );
    expect_up(&mut peer).await;
    expect_up(&mut appliance).await;
    exchange(&mut appliance, &mut peer, 1).await;

    // A second peer while the first is served is closed at once.
    let mut extra = tokio::net::TcpStream::connect(addr)
        .await
        .expect("tcp connect");
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(PATIENCE, extra.read(&mut buf))
        .await
        .expect("closed in time")
        .unwrap_or(0);
    assert_eq!(n, 0, "extra peer must be turned away");

    // The first peer leaves; the appliance notices and accepts the next one.
    drop(peer);
    match next(&mut appliance).await {
        FrameEvent::Down { .. } => {}
        other => panic!("expected Down, got {other:?}"),
    }
    let mut peer = FrameLink::new(
        Link::open(&peer_spec, Role::Peer, fast("peer2"))
            .await
            .expect("connect"),
    );
    expect_up(&mut peer).await;
    expect_up(&mut appliance).await;
    exchange(&mut appliance, &mut peer, 20).await;
}

#[tokio::test]
async fn tcp_peer_reconnects_after_the_appliance_restarts() {
    // Learn a free port, then let the peer try it before anything listens there.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("probe");
    let addr = probe.local_addr().expect("addr");
    drop(probe);
    let spec: LinkSpec = format!("tcp:{addr}").parse().expect("spec");

    let mut peer = FrameLink::new(
        Link::open(&spec, Role::Peer, fast("peer"))
            .await
            .expect("peer"),
    );
    assert!(matches!(
        peer.writer().write_frame(&frame(1)).await,
        Err(LinkError::Down)
    ));

    for round in 0..2u64 {
        // The previous listener closes asynchronously after its link is dropped.
        let mut tries = 0;
        let appliance = loop {
            match Link::open(&spec, Role::Appliance, fast("appliance")).await {
                Ok(l) => break l,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen again: {e}"),
            }
        };
        let mut appliance = FrameLink::new(appliance);
        expect_up(&mut appliance).await;
        exchange(&mut appliance, &mut peer, 100 * (round + 1)).await;
        drop(appliance);
        // The peer sees the loss and keeps retrying.
        loop {
            match next(&mut peer).await {
                FrameEvent::Down { .. } => break,
                FrameEvent::Up { .. } => {}
                other => panic!("expected Down, got {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn tcp_link_resynchronises_after_garbage() {
    let spec: LinkSpec = "tcp:127.0.0.1:0".parse().expect("spec");
    let appliance = Link::open(&spec, Role::Appliance, fast("appliance"))
        .await
        .expect("listen");
    let addr = appliance.local_addr().expect("addr");
    let mut appliance = FrameLink::new(appliance);
    let mut raw = tokio::net::TcpStream::connect(addr).await.expect("connect");
    expect_up(&mut appliance).await;

    let mut stream = vec![0x55u8; 37];
    stream.extend_from_slice(&coldgate_spec::MAGIC);
    stream.extend_from_slice(&[0xEE; 20]);
    stream.extend_from_slice(&frame(5));
    stream.extend_from_slice(&frame(6));
    raw.write_all(&stream).await.expect("write");

    let mut invalid = 0;
    let mut got = Vec::new();
    while got.len() < 2 {
        match next(&mut appliance).await {
            FrameEvent::Frame(w) => got.push(*w),
            FrameEvent::Invalid(_) => invalid += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, vec![frame(5), frame(6)]);
    assert_eq!(
        invalid, 1,
        "the stray magic makes exactly one bad candidate"
    );
    assert_eq!(appliance.stats().frames, 2);
}

#[tokio::test]
async fn pty_link_carries_frames_to_a_serial_peer() {
    let dir = scratch("pty");
    let path_file = dir.join("pty-path");
    let options = LinkOptions {
        pty_path_file: Some(path_file.clone()),
        ..fast("appliance")
    };
    let appliance = Link::open(&LinkSpec::Pty, Role::Appliance, options)
        .await
        .expect("pty");
    let slave = appliance.pty_path().expect("slave path").to_path_buf();
    let written = std::fs::read_to_string(&path_file).expect("path file");
    assert_eq!(written.trim(), slave.display().to_string());
    let mut appliance = FrameLink::new(appliance);
    expect_up(&mut appliance).await;

    let spec = LinkSpec::Serial(slave.clone());
    let mut peer = FrameLink::new(
        Link::open(&spec, Role::Peer, fast("peer"))
            .await
            .expect("serial"),
    );
    expect_up(&mut peer).await;
    exchange(&mut appliance, &mut peer, 1).await;

    // A converter restart: the slave is reopened and frames flow again.
    drop(peer);
    let mut peer = FrameLink::new(
        Link::open(&spec, Role::Peer, fast("peer2"))
            .await
            .expect("serial"),
    );
    expect_up(&mut peer).await;
    exchange(&mut appliance, &mut peer, 50).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn pty_is_appliance_only() {
    let err = Link::open(&LinkSpec::Pty, Role::Peer, fast("peer"))
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, LinkError::Role { .. }), "{err}");
}

#[tokio::test]
async fn serial_peer_waits_for_its_device() {
    let dir = scratch("serial-missing");
    let spec = LinkSpec::Serial(dir.join("no-such-tty"));
    let mut link = Link::open(&spec, Role::Peer, fast("peer"))
        .await
        .expect("open");
    assert!(matches!(
        link.writer().write(bytes::Bytes::from_static(b"x")).await,
        Err(LinkError::Down)
    ));
    // Still retrying, never Up, never stopped.
    let waited = tokio::time::timeout(Duration::from_millis(300), link.recv()).await;
    assert!(waited.is_err(), "no event expected, got {waited:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn file_link_appends_and_tails_both_ways() {
    let dir = scratch("file");
    let spec = LinkSpec::File(dir.join("frames"));
    let mut appliance = FrameLink::new(
        Link::open(&spec, Role::Appliance, fast("appliance"))
            .await
            .expect("open"),
    );
    let mut peer = FrameLink::new(
        Link::open(&spec, Role::Peer, fast("peer"))
            .await
            .expect("open"),
    );
    expect_up(&mut appliance).await;
    expect_up(&mut peer).await;
    exchange(&mut appliance, &mut peer, 1).await;

    let to_appliance = std::fs::read(dir.join("frames.in")).expect("in file");
    let from_appliance = std::fs::read(dir.join("frames.out")).expect("out file");
    let expected_in: Vec<u8> = (1..4).flat_map(frame).collect();
    assert_eq!(to_appliance, expected_in);
    assert_eq!(from_appliance, frame(11).to_vec());

    // A reader started later reads the medium from its beginning.
    let mut late = FrameLink::new(
        Link::open(&spec, Role::Appliance, fast("late"))
            .await
            .expect("open"),
    );
    expect_up(&mut late).await;
    for i in 1..4 {
        assert_eq!(expect_frame(&mut late).await, frame(i));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn raw_link_events_carry_bytes_unchanged() {
    let dir = scratch("raw");
    let spec = LinkSpec::File(dir.join("raw"));
    let mut appliance = Link::open(&spec, Role::Appliance, fast("appliance"))
        .await
        .expect("open");
    let peer = Link::open(&spec, Role::Peer, fast("peer"))
        .await
        .expect("open");
    peer.writer().wait_up().await.expect("up");
    peer.writer()
        .write(bytes::Bytes::from_static(b"not a frame"))
        .await
        .expect("write");
    let mut got = Vec::new();
    while got.len() < 11 {
        match tokio::time::timeout(PATIENCE, appliance.recv())
            .await
            .expect("in time")
        {
            Some(LinkEvent::Data(b)) => got.extend_from_slice(&b),
            Some(LinkEvent::Up { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, b"not a frame");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn open_peers_keeps_the_order_and_names_the_link_that_fails() {
    let dir = scratch("open-peers");
    let specs: Vec<LinkSpec> = [
        "tcp:127.0.0.1:9".to_string(),
        format!("file:{}", dir.join("b").display()),
    ]
    .iter()
    .map(|s| s.parse().expect("spec"))
    .collect();
    let links = coldgate_link::open_peers(&specs, "trusted", 115_200)
        .await
        .expect("both open");
    let got: Vec<&LinkSpec> = links.iter().map(|l| l.link().spec()).collect();
    assert_eq!(got, specs.iter().collect::<Vec<_>>());

    let missing: LinkSpec = format!("file:{}", dir.join("no-such-dir").join("x").display())
        .parse()
        .expect("spec");
    let bad = [specs[1].clone(), missing.clone()];
    let e = match coldgate_link::open_peers(&bad, "trusted", 115_200).await {
        Err(e) => e,
        Ok(_) => panic!("a file link in a missing directory opened"),
    };
    assert_eq!(e.spec, missing);
    assert_eq!(e.to_string(), format!("opening {missing}"));
    assert!(std::error::Error::source(&e).is_some(), "the cause is kept");
    drop(links);
    let _ = std::fs::remove_dir_all(&dir);
}
