//! Model checking an AIGER file with ABC (`yosys-abc`, shipped with Debian's yosys).
//!
//! The lowering ([`super::aiger`]) gives one bad-state output per assertion; `orpos` joins
//! them into one, so each engine answers for the whole property:
//! * `pdr` (IC3, after `&scorr` signal-correspondence simplification): an inductive invariant
//!   means no state reachable from reset violates the property, at any depth;
//! * `bmc3`: SAT-based bounded model checking from reset, frame by frame; a violation comes
//!   with the clock it happens at (a trace), else the number of clocks checked;
//! * `ind`: the inductive step of k-induction (its base case is the bounded check to at least
//!   `k` clocks, which every run does first).
//!
//! Frame `n` is clock `n` from reset: frame 0 is the clock the monitor holds reset in.

use std::path::Path;

use crate::flow::{self, FlowError};

/// What an engine found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No reachable state violates the property (at any depth).
    Proved,
    /// No violation in clocks `0..n` from reset (the bounded check stopped there).
    HoldsTo(u32),
    /// A violation at clock `n` from reset (for a cover, its trace).
    FailsAt(u32),
    /// The engine gave up within its limits.
    Unknown,
}

fn abc(dir: &Path, commands: &str) -> Result<String, FlowError> {
    flow::run("yosys-abc", &["-c", commands], dir)
}

/// `Output 0 of miter "x" was asserted in frame N.`
fn asserted_frame(text: &str) -> Option<u32> {
    let rest = text.split("was asserted in frame ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// `No output asserted in N frames.`
fn frames_without_assert(text: &str) -> Option<u32> {
    let rest = text.split("No output asserted in ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn read(aig: &Path) -> String {
    format!(
        "read_aiger {}; orpos",
        aig.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("prove.aig")
    )
}

fn dir_of(aig: &Path) -> &Path {
    aig.parent().unwrap_or(Path::new("."))
}

/// PDR with a time limit in seconds.
pub fn pdr(aig: &Path, seconds: u32) -> Result<Verdict, FlowError> {
    let text = abc(
        dir_of(aig),
        &format!("{}; &get; &scorr; &put; pdr -T {seconds}", read(aig)),
    )?;
    Ok(if text.contains("Property proved") {
        Verdict::Proved
    } else if let Some(n) = asserted_frame(&text) {
        Verdict::FailsAt(n)
    } else {
        Verdict::Unknown
    })
}

/// Bounded model checking from reset up to `frames` clocks, queried from clock `start` on (0
/// for a safety property; a cover may skip clocks it cannot be reached in, which only saves
/// the solver's work on them: the trace is still from reset).
pub fn bmc(aig: &Path, start: u32, frames: u32, seconds: u32) -> Result<Verdict, FlowError> {
    let text = abc(
        dir_of(aig),
        &format!("{}; bmc3 -S {start} -F {frames} -T {seconds}", read(aig)),
    )?;
    if let Some(n) = asserted_frame(&text) {
        Ok(Verdict::FailsAt(n))
    } else if let Some(n) = frames_without_assert(&text) {
        Ok(Verdict::HoldsTo(n))
    } else {
        Err(FlowError::Failed {
            tool: "yosys-abc",
            status: "bmc3 gave no verdict".to_string(),
            tail: tail(&text),
        })
    }
}

/// The inductive step of k-induction at `k`.
pub fn induction(aig: &Path, k: u32, seconds: u32) -> Result<Verdict, FlowError> {
    let text = abc(
        dir_of(aig),
        &format!("{}; ind -F {k} -T {seconds}", read(aig)),
    )?;
    Ok(if text.contains("Networks are equivalent") {
        Verdict::Proved
    } else {
        Verdict::Unknown
    })
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines_parse() {
        assert_eq!(
            asserted_frame("Output 0 of miter \"p\" was asserted in frame 155. Time = 1 sec"),
            Some(155)
        );
        assert_eq!(
            frames_without_assert("No output asserted in 330 frames. Resource limit reached"),
            Some(330)
        );
        assert_eq!(asserted_frame("Property proved."), None);
    }
}
