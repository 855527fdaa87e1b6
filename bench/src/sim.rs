//! Simulated verifier throughput: the Verilated core through coldgate-sim's batched Rust API,
//! against a plain C++ loop driving the same model (the least any binding can cost), and
//! rust-hdl's simulator of the same logic.
//!
//! Every run feeds valid SIGN_PAYMENT frames back to back on the untrusted side with one
//! refill tick after each, so every frame passes; both paths use the same cycle schedule.

use coldgate_sim::verilator::raw_cxx_bench;
use coldgate_sim::{Backend, Schedule, Side, VerilatorBackend};
use coldgate_spec::vectors::{sample_payment, sealed};
use coldgate_spec::{Body, FRAME_LEN};
use serde_json::{json, Value};
use std::time::Duration;

use crate::measure::repeat;

/// Frames per Verilator run: enough that model creation and the final drain are noise.
const FRAMES: u64 = 4_000;
/// Frames per rust-hdl run.
const RUSTHDL_FRAMES: u64 = 8;
/// Turns the API and the raw loop take.
const ROUNDS: u32 = 6;

fn schedule() -> Schedule {
    // The raw loop ticks on the cycle right after a frame's last byte: no settle cycles.
    Schedule {
        tick_settle: 0,
        ..Schedule::default()
    }
}

/// Runs `n` frames through a backend; returns the frames that came out on the trusted side.
fn through(b: &mut dyn Backend, frame: &[u8], n: u64) -> u64 {
    for _ in 0..n {
        b.push(Side::Untrusted, frame).expect("simulated push");
        b.tick();
    }
    let out = b.advance().expect("the core drains");
    assert!(out.untrusted.is_empty(), "a valid frame was dropped");
    (out.trusted.len() / FRAME_LEN) as u64
}

pub fn run(seconds: f64) -> Value {
    let frame = sealed(1, Body::SignPayment(sample_payment()));

    // The API and the raw loop take turns, so a change of machine load or clock speed during
    // the run falls on both sides of the ratio.
    let (mut api_frames, mut api_time) = (0u64, Duration::ZERO);
    let (mut raw_frames, mut raw_time) = (0u64, Duration::ZERO);
    for _ in 0..ROUNDS {
        let mut passed = 0u64;
        let (runs, t) = repeat(seconds / ROUNDS as f64, || {
            let mut b = VerilatorBackend::new(schedule(), None).expect("Verilator model");
            passed += through(&mut b, &frame, FRAMES);
        });
        assert_eq!(passed, runs * FRAMES, "every frame passes through the API");
        api_frames += passed;
        api_time += t;

        let mut out_bytes = 0u64;
        let (runs, t) = repeat(seconds / ROUNDS as f64, || {
            out_bytes += raw_cxx_bench(&frame, FRAMES)
        });
        assert_eq!(
            out_bytes,
            runs * FRAMES * FRAME_LEN as u64,
            "every frame passes the raw loop"
        );
        raw_frames += runs * FRAMES;
        raw_time += t;
    }
    let api = api_frames as f64 / api_time.as_secs_f64();
    let raw = raw_frames as f64 / raw_time.as_secs_f64();

    let mut hdl_passed = 0u64;
    let (runs, t) = repeat(seconds, || {
        let mut b = coldgate_sim::rusthdl_backend(schedule()).expect("rust-hdl model");
        hdl_passed += through(&mut b, &frame, RUSTHDL_FRAMES);
    });
    assert_eq!(
        hdl_passed,
        runs * RUSTHDL_FRAMES,
        "every frame passes rust-hdl"
    );
    let rusthdl = (runs * RUSTHDL_FRAMES) as f64 / t.as_secs_f64();

    json!({
        "verilator_frames_per_s": api,
        "raw_cxx_frames_per_s": raw,
        "verilator_vs_raw": api / raw,
        "rusthdl_frames_per_s": rusthdl,
        "verilator_vs_rusthdl": api / rusthdl,
        "frames_per_run": FRAMES,
        "rounds": ROUNDS,
        "frame_len": FRAME_LEN,
    })
}
