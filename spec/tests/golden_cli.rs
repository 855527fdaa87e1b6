//! `coldgate-spec golden` as a real process on the committed vector files: every lane vector
//! of spec/vectors/lane.txt, its ticks written as a ticks file, must leave exactly the vector's
//! passed frames on the far side and its NOTICEs on the near side, in the output files, the
//! text and the JSON, with the counters the verdicts imply.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use coldgate_spec::vectors::{self, Event, LaneCase};
use coldgate_spec::{DropReason, LaneId};
use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldgate-golden-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn golden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldgate-spec"))
        .arg("golden")
        .args(args)
        .output()
        .expect("coldgate-spec runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The case's bytes, and its ticks as `byte N` lines.
fn files(case: &LaneCase) -> (Vec<u8>, String) {
    let (mut bytes, mut ticks) = (vec![], String::new());
    for e in &case.input {
        match e {
            Event::Byte(b) => bytes.push(*b),
            Event::Tick => ticks.push_str(&format!("byte {}\n", bytes.len())),
        }
    }
    (bytes, ticks)
}

#[test]
fn every_lane_vector_through_the_process() {
    let text = std::fs::read_to_string(vectors::dir().join("lane.txt")).expect("lane.txt");
    let cases = vectors::parse_lane_txt(&text).expect("lane.txt parses");
    assert!(cases.iter().any(|c| c.input.contains(&Event::Tick)));
    let dir = scratch("vectors");
    for case in &cases {
        let (bytes, ticks) = files(case);
        let input = dir.join(format!("{}.bin", case.name));
        let tick_file = dir.join(format!("{}.ticks", case.name));
        let out = dir.join(&case.name);
        std::fs::write(&input, &bytes).unwrap();
        std::fs::write(&tick_file, &ticks).unwrap();
        let lane_flag = match case.lane {
            LaneId::Request => "--request",
            LaneId::Response => "--response",
        };
        let o = golden(&[
            lane_flag,
            s(&input),
            "--ticks",
            s(&tick_file),
            "--json",
            "--out",
            s(&out),
        ]);
        assert!(o.status.success(), "{}: {o:?}", case.name);
        let (far, near) = match case.lane {
            LaneId::Request => ("trusted", "untrusted"),
            LaneId::Response => ("untrusted", "trusted"),
        };
        let read = |side: &str| std::fs::read(out.join(format!("{side}.bin"))).unwrap();
        assert_eq!(read(far), case.passed, "{}: passed frames", case.name);
        assert_eq!(read(near), case.notices, "{}: NOTICEs", case.name);

        let j: Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
        let verdicts: Vec<String> = [near, far]
            .iter()
            .flat_map(|side| j[side].as_array().expect("side list").clone())
            .map(|v| {
                let clock = v["clock"].as_u64().expect("clock");
                let text = match v["verdict"].as_str() {
                    Some("pass") => "pass".to_string(),
                    _ => format!("drop:{}:{}", v["reason"].as_str().unwrap(), v["field"]),
                };
                (clock, text)
            })
            .collect::<std::collections::BTreeMap<u64, String>>()
            .into_values()
            .collect();
        assert_eq!(verdicts, case.expected, "{}: verdicts", case.name);
        let c = &j["counters"][case.lane.name()];
        let passes = case.expected.iter().filter(|e| *e == "pass").count();
        assert_eq!(c["passed"], passes, "{}", case.name);
        for r in DropReason::ALL {
            let n = case
                .expected
                .iter()
                .filter(|e| e.starts_with(&format!("drop:{}:", r.name())))
                .count();
            assert_eq!(c[r.name()], n, "{}: {r}", case.name);
        }
        assert_eq!(j["ticks"], ticks.lines().count(), "{}", case.name);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn both_lanes_at_once_and_ticks_by_clock() {
    let cases = vectors::lane_cases();
    let pick = |name: &str| {
        let c = cases.iter().find(|c| c.name == name).expect(name);
        files(c).0
    };
    let dir = scratch("both");
    let (req, resp) = (dir.join("req.bin"), dir.join("resp.bin"));
    // Twice the bucket's worth of valid requests, and a response with a bad type.
    let one = pick("valid_new_key");
    let burst = coldgate_spec::config::RATE_BURST as usize;
    let mut requests = vec![];
    for i in 0..2 * burst {
        let mut w: coldgate_spec::Wire = one.clone().try_into().unwrap();
        w = vectors::patched(
            w,
            coldgate_spec::field::header::COUNTER,
            &(i as u64 + 1).to_be_bytes(),
        );
        requests.extend_from_slice(&w);
    }
    std::fs::write(&req, &requests).unwrap();
    std::fs::write(&resp, pick("wrong_lane_get_pubkey")).unwrap();
    // Without ticks the bucket lets exactly its size through.
    let o = golden(&["--request", s(&req), "--response", s(&resp)]);
    assert!(o.status.success(), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains(&format!("counters request: passed {burst} ")),
        "{text}"
    );
    assert!(text.contains(&format!(" rate_limited {burst}\n")), "{text}");
    assert!(
        text.contains("counters response: passed 0 bad_const 0 not_in_set 1"),
        "{text}"
    );
    // A tick on the last clock of every second frame (after its verdict): each pair of frames
    // takes two tokens and gets one back, so before the last pair one token is left: all but
    // the very last frame pass.
    let ticks = dir.join("ticks");
    let period = 2 * coldgate_spec::FRAME_LEN;
    std::fs::write(&ticks, format!("# every second frame\nevery {period}\n")).unwrap();
    let o = golden(&[
        "--request",
        s(&req),
        "--response",
        s(&resp),
        "--ticks",
        s(&ticks),
    ]);
    assert!(o.status.success(), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains(&format!("counters request: passed {} ", 2 * burst - 1)),
        "{text}"
    );
    assert!(text.contains(" rate_limited 1\n"), "{text}");
    assert!(text.contains(&format!("ticks {burst}\n")), "{text}");
    // The response lane's NOTICE goes back to the trusted side, on the clock of its type byte.
    assert!(
        text.contains("clock 5 response drop not_in_set field 2 at 5 -> trusted "),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_invocations_are_refused_with_a_reason() {
    let dir = scratch("bad");
    let ticks = dir.join("ticks");
    std::fs::write(&ticks, "byte 1\ntock 2\n").unwrap();
    let req = dir.join("req.bin");
    std::fs::write(&req, [0u8; 3]).unwrap();
    let o = golden(&["--request", s(&req), "--ticks", s(&ticks)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ticks line 2"),
        "{o:?}"
    );
    let o = golden(&["--ticks", s(&ticks)]);
    assert_eq!(o.status.code(), Some(2));
    let o = golden(&["--request", s(&dir.join("missing.bin"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.bin"));
    let _ = std::fs::remove_dir_all(&dir);
}
