//! `coldgate-spec frame-md` prints FRAME.md; `coldgate-spec vectors` rewrites spec/vectors/;
//! `coldgate-spec demo` runs sample frames through the golden verifier;
//! `coldgate-spec golden --request FILE --response FILE [--ticks FILE] [--json] [--out DIR]`
//! runs both golden lanes over byte files (see `coldgate_spec::replay`).

use coldgate_spec::{vectors, Frame, Lane, LaneConfig, Verdict};

fn main() -> std::process::ExitCode {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    match cmd.as_str() {
        "frame-md" => print!("{}", coldgate_spec::doc::frame_md()),
        "vectors" => {
            let dir = vectors::dir();
            let written = std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(dir.join("lane.txt"), vectors::lane_txt()))
                .and_then(|_| std::fs::write(dir.join("frames.txt"), vectors::frames_txt()));
            if let Err(e) = written {
                eprintln!("cannot write {}: {e}", dir.display());
                return std::process::ExitCode::FAILURE;
            }
            println!("wrote {}", dir.display());
        }
        "demo" => demo(),
        "golden" => return golden(std::env::args().skip(2).collect()),
        _ => {
            eprintln!("usage: coldgate-spec frame-md | vectors | demo | golden {GOLDEN_USAGE}");
            return std::process::ExitCode::from(2);
        }
    }
    std::process::ExitCode::SUCCESS
}

fn demo() {
    for case in vectors::lane_cases() {
        let mut lane = Lane::new(LaneConfig::for_lane(case.lane));
        let mut verdicts = vec![];
        for e in &case.input {
            match e {
                vectors::Event::Tick => lane.tick(),
                vectors::Event::Byte(b) => match lane.push(*b) {
                    Some(Verdict::Pass(w)) => verdicts.push(match Frame::decode(&w[..]) {
                        Ok(f) => format!("pass {}", f.body.msg_type()),
                        Err(e) => format!("pass (undecodable: {e})"),
                    }),
                    Some(Verdict::Drop(d)) => verdicts.push(format!(
                        "drop {} field {} at offset {}",
                        d.notice.reason, d.notice.field, d.at
                    )),
                    None => {}
                },
            }
        }
        let shown = if verdicts.len() > 4 {
            format!(
                "{} verdicts, last: {}",
                verdicts.len(),
                verdicts[verdicts.len() - 1]
            )
        } else {
            verdicts.join("; ")
        };
        println!("{:<34} {:<9} {}", case.name, case.lane.name(), shown);
    }
}

const GOLDEN_USAGE: &str = "[--request FILE] [--response FILE] [--ticks FILE] [--json] [--out DIR]";

/// `golden`: both lanes over the given byte files; prints what leaves each side and the
/// counters, as text or JSON; `--out DIR` also writes `untrusted.bin` and `trusted.bin`.
fn golden(args: Vec<String>) -> std::process::ExitCode {
    use coldgate_spec::replay;
    let fail = |msg: String| {
        eprintln!("coldgate-spec golden: {msg}");
        eprintln!("usage: coldgate-spec golden {GOLDEN_USAGE}");
        std::process::ExitCode::from(2)
    };
    let (mut request, mut response, mut ticks, mut out) = (None, None, None, None);
    let mut json = false;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let slot = match a.as_str() {
            "--json" => {
                json = true;
                continue;
            }
            "--request" => &mut request,
            "--response" => &mut response,
            "--ticks" => &mut ticks,
            "--out" => &mut out,
            other => return fail(format!("unknown argument {other:?}")),
        };
        match it.next() {
            Some(v) => *slot = Some(std::path::PathBuf::from(v)),
            None => return fail(format!("{a} needs a value")),
        }
    }
    if request.is_none() && response.is_none() {
        return fail("give --request, --response or both".into());
    }
    let read = |p: &Option<std::path::PathBuf>| match p {
        None => Ok(vec![]),
        Some(p) => std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display())),
    };
    let (req, resp) = match (read(&request), read(&response)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let tick_list = match &ticks {
        None => vec![],
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| format!("reading {}: {e}", p.display()))
            .and_then(|t| replay::parse_ticks(&t))
        {
            Ok(t) => t,
            Err(e) => return fail(e),
        },
    };
    let outcome = replay::run(&req, &resp, &tick_list);
    if let Some(dir) = &out {
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            for side in [replay::Side::Untrusted, replay::Side::Trusted] {
                std::fs::write(
                    dir.join(format!("{}.bin", side.name())),
                    outcome.side_bytes(side),
                )?;
            }
            Ok(())
        });
        if let Err(e) = written {
            eprintln!("cannot write {}: {e}", dir.display());
            return std::process::ExitCode::FAILURE;
        }
    }
    if json {
        println!("{}", replay::to_json(&outcome));
    } else {
        print!("{}", replay::to_text(&outcome));
    }
    std::process::ExitCode::SUCCESS
}
