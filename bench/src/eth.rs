//! The Ethernet appliance: line rate of the Verilated `coldgate_eth` in clocks, its cost in
//! simulation against the UART-less core of the `sim` suite, and calls through the whole
//! gateway over `eth:` links against the same calls over tcp links, in the same run.
//!
//! * Line rate: both ports saturated at once, valid frames back to back at the minimum gap
//!   (requests into U, each with a refill tick so the bucket never empties; responses into T).
//!   `line_rate_fraction` is wire bytes per frame over clocks per frame leaving the busier
//!   port, measured from the first frame in to the last frame out (1.0: every frame leaves in
//!   exactly [`WIRE_BYTES`] clocks, 657,895 frames/s per port at 125 MHz); `valid_lost` counts
//!   the frames that went in valid and did not come out.
//! * `sim_frames_per_s`: wall-clock frames/s of the Ethernet top (both ports' frames), and of
//!   the pair core through the same batched binding as the `sim` suite, rounds interleaved.
//! * e2e: `getpubkey` calls, one at a time, through converter-in, the appliance and
//!   converter-out to the wallet, over TAP interfaces and `eth:` links in a private network
//!   namespace (root), and over tcp links in the same namespace.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use coldgate_client::demo::{self, DemoLink, DemoOptions, Gateway};
use coldgate_client::Outcome;
use coldgate_sim::ethernet::core::{EthCore, VerilatedEthCore};
use coldgate_sim::ethernet::gmii::{host_frame_of, RxFeed, TxCollect};
use coldgate_sim::{Backend, Schedule, Side, VerilatorBackend};
use coldgate_spec::eth::{frame_to, line_rate_frames_per_s, EthPort, HEADER_LEN, WIRE_BYTES};
use coldgate_spec::vectors::{sample_bodies, sample_payment, sealed};
use coldgate_spec::{Body, FRAME_LEN};
use serde_json::{json, Value};

use crate::measure::percentile;

/// Frames per port per line-rate run.
const FRAMES: usize = 5_000;
/// Rounds of the Ethernet top and the pair core, interleaved.
const ROUNDS: u32 = 4;
/// Clocks per call into the model.
const BATCH: usize = 4096;

/// One line-rate run: (frames out per port, valid frames lost, clocks from first in to last
/// out, wall-clock time).
struct LineRun {
    out: [usize; 2],
    lost: usize,
    clocks: u64,
    elapsed: Duration,
}

fn line_rate_run() -> LineRun {
    let request = sealed(1, Body::SignPayment(sample_payment()));
    let response = sealed(1, sample_bodies()[5].1);
    let mut feeds = [RxFeed::new(FRAMES), RxFeed::new(FRAMES)];
    for _ in 0..FRAMES {
        feeds[0].push(frame_to(EthPort::U, &request));
        feeds[1].push(frame_to(EthPort::T, &response));
    }
    // A request and a response, each leaving the far port.
    let expect = [response, request];
    let mut core = VerilatedEthCore::new();
    let mut collect = [TxCollect::default(), TxCollect::default()];
    let (mut out, mut wrong) = ([0usize; 2], 0usize);
    let (mut clock, mut last_out, mut quiet) = (0u64, 0u64, 0u64);
    let (mut rx, mut tx) = (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH));
    let start = Instant::now();
    // Until both inputs are done and nothing has left for a while.
    while quiet < 4 * WIRE_BYTES as u64 || !feeds.iter().all(RxFeed::idle) {
        rx.clear();
        tx.clear();
        let mut ticks = 0;
        for _ in 0..BATCH {
            let r = [feeds[0].clock(), feeds[1].clock()];
            // One refill per request frame: at its SFD.
            ticks += usize::from(r[0] == Some(coldgate_spec::eth::SFD));
            rx.push(r);
        }
        for _ in 0..ticks {
            core.tick();
        }
        core.run(&rx, &mut tx);
        for t in &tx {
            clock += 1;
            quiet += 1;
            for i in 0..2 {
                if t[i].is_some() {
                    quiet = 0;
                }
                let Some(burst) = collect[i].clock(t[i]) else {
                    continue;
                };
                last_out = clock;
                match host_frame_of(&burst) {
                    Ok(f) if f.get(HEADER_LEN..) == Some(&expect[i][..]) => out[i] += 1,
                    _ => wrong += 1,
                }
            }
        }
    }
    let elapsed = start.elapsed();
    LineRun {
        out,
        lost: 2 * FRAMES - out[0] - out[1] + wrong,
        clocks: last_out,
        elapsed,
    }
}

/// The pair core through the batched binding, as the `sim` suite runs it: frames/s.
fn pair_core_run() -> (u64, Duration) {
    let frame = sealed(1, Body::SignPayment(sample_payment()));
    let start = Instant::now();
    let schedule = Schedule {
        tick_settle: 0,
        ..Schedule::default()
    };
    let mut b = VerilatorBackend::new(schedule, None).expect("Verilator model");
    for _ in 0..2 * FRAMES {
        b.push(Side::Untrusted, &frame).expect("push");
        b.tick();
    }
    let out = b.advance().expect("the core drains");
    assert!(out.untrusted.is_empty(), "a valid frame was dropped");
    ((out.trusted.len() / FRAME_LEN) as u64, start.elapsed())
}

/// Sequential `getpubkey` calls for `seconds`: (calls/s, p50 ms, p99 ms).
async fn calls(link: DemoLink, seconds: f64, bin_dir: Option<std::path::PathBuf>) -> Result<Value> {
    let work = std::env::temp_dir().join(format!(
        "coldgate-bench-eth-{}-{link:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let opts = DemoOptions {
        backend: "verilator".into(),
        link,
        bin_dir,
        work_dir: Some(work.clone()),
        trace: false,
    };
    let mut g = Gateway::start(&opts, &work, "verilator").await?;
    let mut client = g.client()?;
    let x = demo::until_linked(&mut g, &mut client, |c| Box::pin(c.new_key())).await?;
    let Outcome::Key { key_id, .. } = x.outcome else {
        bail!("expected a key, got {}", x.outcome);
    };
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut ms = Vec::new();
    while start.elapsed() < budget {
        let t = Instant::now();
        let x = client.pubkey(key_id).await?;
        if !matches!(x.outcome, Outcome::Key { .. }) {
            bail!("getpubkey over {link:?}: {}", x.outcome);
        }
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let elapsed = start.elapsed().as_secs_f64();
    drop(client);
    drop(g);
    let _ = std::fs::remove_dir_all(&work);
    ms.sort_by(f64::total_cmp);
    Ok(json!({
        "calls": ms.len(),
        "calls_per_s": ms.len() as f64 / elapsed,
        "p50_ms": percentile(&ms, 50.0),
        "p99_ms": percentile(&ms, 99.0),
    }))
}

pub fn run(seconds: f64, bin_dir: Option<std::path::PathBuf>) -> Result<Value> {
    let (mut eth_frames, mut eth_time, mut pair_frames, mut pair_time) =
        (0u64, Duration::ZERO, 0u64, Duration::ZERO);
    let (mut worst_fraction, mut lost, mut out, mut clocks) = (f64::INFINITY, 0usize, [0; 2], 0);
    for _ in 0..ROUNDS {
        let r = line_rate_run();
        let busiest = r.out[0].max(r.out[1]).max(1);
        worst_fraction = worst_fraction.min((busiest * WIRE_BYTES) as f64 / r.clocks as f64);
        lost += r.lost;
        (out, clocks) = (r.out, r.clocks);
        eth_frames += (r.out[0] + r.out[1]) as u64;
        eth_time += r.elapsed;
        let (n, t) = pair_core_run();
        pair_frames += n;
        pair_time += t;
    }
    let eth_fps = eth_frames as f64 / eth_time.as_secs_f64();
    let pair_fps = pair_frames as f64 / pair_time.as_secs_f64();

    let e2e = coldgate_link::netns::isolated(move || async move {
        let tcp = calls(DemoLink::Tcp, seconds, bin_dir.clone()).await?;
        let eth = calls(DemoLink::Eth, seconds, bin_dir).await?;
        Ok::<_, anyhow::Error>((tcp, eth))
    })
    .context("the e2e part runs in a private network namespace (root)")??;
    let (tcp, eth) = e2e;
    let ratio =
        eth["calls_per_s"].as_f64().unwrap_or(0.0) / tcp["calls_per_s"].as_f64().unwrap_or(1.0);

    Ok(json!({
        "line_rate_fraction": worst_fraction,
        "valid_lost": lost,
        "frames_per_port": FRAMES,
        "frames_out_last_run": out,
        "clocks_last_run": clocks,
        "wire_bytes_per_frame": WIRE_BYTES,
        "line_rate_frames_per_s_per_port": line_rate_frames_per_s(),
        "sim_frames_per_s": eth_fps,
        "sim_pair_core_frames_per_s": pair_fps,
        "sim_eth_vs_pair_core": eth_fps / pair_fps,
        "rounds": ROUNDS,
        "e2e_getpubkey_eth": eth,
        "e2e_getpubkey_tcp": tcp,
        "e2e_eth_vs_tcp": ratio,
    }))
}
