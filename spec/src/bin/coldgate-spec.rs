//! `coldgate-spec frame-md` prints FRAME.md; `coldgate-spec vectors` rewrites spec/vectors/;
//! `coldgate-spec demo` runs sample frames through the golden verifier.

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
        _ => {
            eprintln!("usage: coldgate-spec frame-md | vectors | demo");
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
