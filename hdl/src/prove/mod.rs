//! Formal proof of a lane's drop rules: yosys lowers the lane's generated Verilog and a
//! monitor generated from spec's field table ([`monitor`]) to an and-inverter graph
//! ([`aiger`]); ABC (`yosys-abc`, part of Debian's yosys) checks it ([`abc`]).
//!
//! * **Safety** properties are first given to PDR (IC3) for an unbounded proof; one PDR does
//!   not prove within its time is checked by bounded model checking (`bmc3`) from reset to
//!   the requested depth. Every input byte, valid, ready and tick is free in every cycle, and
//!   the store's rows start arbitrary except offset 0 of each slot, which holds `MAGIC[0]`
//!   from configuration as on the FPGA. The rule ROM and the NOTICE template are constants.
//! * **Covers** are the monitor's "this never happens" assertions for each drop reason and
//!   for a passed frame's last byte: `bmc3`'s counterexample is the cover's trace from reset,
//!   and its clock the depth reported, so the safety properties are not vacuous.
//! * **Mutants** are the lane's Verilog broken on purpose ([`mutant`]); each must make some
//!   safety property fail within the depth.
//!
//! Each property is lowered alone, so the graph holds only its cone of logic. The Verilog is
//! generated from the current lane on every run.

pub mod abc;
pub mod aiger;
pub mod monitor;
pub mod mutant;

use std::time::Instant;

use rust_hdl::prelude::*;

use coldgate_spec::field::FRAME_LEN;
use coldgate_spec::{DropReason, LaneConfig, LaneId};

use crate::flow::{FlowError, WorkDir};
use crate::lane::LaneCore;
use crate::verilog::generate;

use abc::Verdict;

/// Module name of `lane`'s core alone.
pub fn lane_module(lane: LaneId) -> String {
    format!("coldgate_lane_{}", lane.name())
}

/// Verilog of one lane, as the pair instantiates it.
pub fn lane_verilog(lane: LaneId) -> String {
    config_verilog(LaneConfig::for_lane(lane))
}

/// Verilog of a lane built with `config` (the real lane's generator, other parameters).
pub fn config_verilog(config: LaneConfig) -> String {
    let mut uut = LaneCore::new(config);
    uut.connect_all();
    generate(&uut, &lane_module(config.lane))
}

/// The request lane with a bucket of one token, for the `rate_limited` cover only: with
/// spec's burst the first rate-limited drop needs `burst + 1` whole valid frames (about
/// 9,900 clocks), out of reach of a bounded check. The bucket compares its spent count with
/// the burst constant and nothing else depends on it, so the path to the drop is the same.
pub const RATE_COVER_BURST: u32 = 1;

/// What a property is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Safety,
    Cover,
    Mutant,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Safety => "safety",
            Kind::Cover => "cover",
            Kind::Mutant => "mutant",
        }
    }
}

/// One check: a monitor define (safety, cover) or a mutation checked against the safety
/// properties named in `against`.
#[derive(Clone, Debug)]
pub struct Property {
    pub name: String,
    pub kind: Kind,
    /// The lane and the parameters it is built with (spec's, except where `note` says).
    pub config: LaneConfig,
    /// The monitor's `ifdef` that enables it (safety and cover).
    pub define: String,
    pub mutation: Option<mutant::Mutation>,
    /// Safety defines a mutant is checked against, in order (the first that fails catches it).
    pub against: Vec<String>,
    /// Why this check's lane differs from spec's parameters.
    pub note: Option<String>,
    /// A cover: the clock from reset the bounded check starts asking for it (the trace is
    /// still from reset). Only the pass cover uses it: its last byte needs a whole frame in,
    /// at one byte per clock, and skipping those queries measured about 3x faster; for the
    /// CRC cover it measured slower (the solver learns from the early frames), so 0.
    pub from: u32,
}

/// The safety properties, by monitor define and a short name.
pub const SAFETY: [(&str, &str); 6] = [
    ("PROP_HEADER_NO_FALSE_DROP", "header_no_false_drop"),
    ("PROP_HEADER_FIRST_REASON", "header_first_reason"),
    ("PROP_NOTICE_RULES", "notice_whole_and_well_formed"),
    ("PROP_NOTICE_HOLD", "notice_held_while_stalled"),
    ("PROP_PASS_RULES", "pass_frames_obey_every_rule_and_crc"),
    ("PROP_PASS_HOLD", "pass_held_while_stalled"),
];

/// Every property of `lane`.
pub fn properties(lane: LaneId) -> Vec<Property> {
    let l = lane.name();
    let config = LaneConfig::for_lane(lane);
    let plain = |name: String, kind, define: String| Property {
        name,
        kind,
        config,
        define,
        mutation: None,
        against: vec![],
        note: None,
        from: 0,
    };
    let mut out = vec![];
    for (define, name) in SAFETY {
        out.push(plain(
            format!("{l}.{name}"),
            Kind::Safety,
            define.to_string(),
        ));
    }
    for r in DropReason::ALL {
        let mut p = plain(
            format!("{l}.cover_{}", r.name()),
            Kind::Cover,
            format!("COVER_{}", r.name().to_uppercase()),
        );
        if r == DropReason::RateLimited {
            let Some(burst) = config.rate_burst else {
                continue;
            };
            p.config.rate_burst = Some(RATE_COVER_BURST);
            p.note = Some(format!(
                "lane built with a bucket of {RATE_COVER_BURST} token (spec: {burst}): the first \
                 rate-limited drop otherwise needs {} whole frames",
                burst + 1
            ));
        }
        out.push(p);
    }
    out.push(Property {
        from: FRAME_LEN as u32,
        ..plain(
            format!("{l}.cover_pass"),
            Kind::Cover,
            "COVER_PASS".to_string(),
        )
    });
    for m in mutant::Mutation::ALL {
        out.push(Property {
            mutation: Some(m),
            against: SAFETY.iter().map(|(d, _)| d.to_string()).collect(),
            ..plain(
                format!("{l}.mutant_{}", m.name()),
                Kind::Mutant,
                String::new(),
            )
        });
    }
    out
}

/// How far and how long each check may go.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Clocks from reset for bounded checks (safety, mutants) and the deepest cover trace.
    pub depth: u32,
    /// Time limit of one engine run, seconds.
    pub seconds: u32,
    /// Time PDR gets for an unbounded proof of a safety property before the bounded check
    /// runs instead; 0 skips PDR.
    pub pdr_seconds: u32,
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub kind: Kind,
    /// Safety `holds`/`undecided`: clocks from reset checked; `fails`, cover `reached`,
    /// mutant `caught`: the clock of the trace; `proved`: the depth asked for (every depth
    /// holds).
    pub depth: u32,
    /// safety: `proved` (unbounded, by PDR or induction), `holds` (no counterexample in
    /// `depth` clocks), `undecided` (the bounded check ran out of time before the depth asked
    /// for; `unproved` for an induction attempt) or `fails`; cover: `reached` or `unreached`;
    /// mutant: `caught` or `missed`.
    pub result: &'static str,
    pub seconds: f64,
    /// The engine that decided: `pdr`, `bmc3` or `ind`.
    pub engine: &'static str,
    /// The safety property that caught a mutant.
    pub by: Option<String>,
    pub note: Option<String>,
}

impl Outcome {
    /// True when this check is as it must be.
    pub fn ok(&self) -> bool {
        matches!(self.result, "holds" | "reached" | "caught" | "proved")
    }
}

/// Lowers `p`'s lane (mutated if it is a mutant) with the monitor's `define` into `dir`.
fn lower(p: &Property, define: &str, dir: &WorkDir) -> Result<std::path::PathBuf, FlowError> {
    let mut verilog = config_verilog(p.config);
    if let Some(m) = p.mutation {
        verilog = m.apply(&verilog).map_err(|detail| FlowError::Failed {
            tool: "mutant",
            status: m.name().to_string(),
            tail: detail,
        })?;
    }
    let monitor = monitor::monitor(p.config.lane, &lane_module(p.config.lane));
    aiger::lower(dir.path(), &verilog, &monitor, define)
}

/// Checks one property within `limits`.
pub fn check(p: &Property, limits: Limits) -> Result<Outcome, FlowError> {
    let start = Instant::now();
    let mut by = None;
    let (result, depth, engine) = match p.kind {
        Kind::Safety => {
            let dir = WorkDir::new()?;
            let aig = lower(p, &p.define, &dir)?;
            let unbounded = if limits.pdr_seconds > 0 {
                abc::pdr(&aig, limits.pdr_seconds)?
            } else {
                Verdict::Unknown
            };
            match unbounded {
                Verdict::Proved => ("proved", limits.depth, "pdr"),
                Verdict::FailsAt(n) => ("fails", n, "pdr"),
                _ => match abc::bmc(&aig, 0, limits.depth, limits.seconds)? {
                    Verdict::FailsAt(n) => ("fails", n, "bmc3"),
                    Verdict::HoldsTo(n) if n >= limits.depth => ("holds", n, "bmc3"),
                    Verdict::HoldsTo(n) => ("undecided", n, "bmc3"),
                    _ => ("undecided", 0, "bmc3"),
                },
            }
        }
        Kind::Cover => {
            let dir = WorkDir::new()?;
            let aig = lower(p, &p.define, &dir)?;
            match abc::bmc(&aig, p.from, limits.depth, limits.seconds)? {
                Verdict::FailsAt(n) => ("reached", n, "bmc3"),
                Verdict::HoldsTo(n) => ("unreached", n, "bmc3"),
                _ => ("unreached", 0, "bmc3"),
            }
        }
        Kind::Mutant => {
            let mut r = ("missed", limits.depth, "bmc3");
            for d in &p.against {
                let dir = WorkDir::new()?;
                let aig = lower(p, d, &dir)?;
                if let Verdict::FailsAt(n) = abc::bmc(&aig, 0, limits.depth, limits.seconds)? {
                    r = ("caught", n, "bmc3");
                    by = Some(d.clone());
                    break;
                }
            }
            r
        }
    };
    Ok(Outcome {
        name: p.name.clone(),
        kind: p.kind,
        depth,
        result,
        seconds: start.elapsed().as_secs_f64(),
        engine,
        by,
        note: p.note.clone(),
    })
}

/// Tries k-induction on a safety property: `proved` when the inductive step at `k` succeeds
/// (the base case is the bounded check, which reaches at least `k` clocks), else `unproved`.
pub fn induct(p: &Property, k: u32, seconds: u32) -> Result<Outcome, FlowError> {
    let start = Instant::now();
    let dir = WorkDir::new()?;
    let aig = lower(p, &p.define, &dir)?;
    let proved = abc::induction(&aig, k, seconds)? == Verdict::Proved;
    Ok(Outcome {
        name: format!("{}.k_induction", p.name),
        kind: Kind::Safety,
        depth: k,
        result: if proved { "proved" } else { "unproved" },
        seconds: start.elapsed().as_secs_f64(),
        engine: "ind",
        by: None,
        note: None,
    })
}

/// The report as JSON: `properties` and `all_hold`. An induction attempt that does not prove
/// its property does not count against `all_hold` (it is an attempt, reported as such).
pub fn to_json(outcomes: &[Outcome]) -> serde_json::Value {
    let props: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let mut v = serde_json::json!({
                "name": o.name,
                "kind": o.kind.name(),
                "depth": o.depth,
                "result": o.result,
                "seconds": (o.seconds * 100.0).round() / 100.0,
                "engine": o.engine,
            });
            if let Some(by) = &o.by {
                v["caught_by"] = serde_json::json!(by);
            }
            if let Some(note) = &o.note {
                v["note"] = serde_json::json!(note);
            }
            v
        })
        .collect();
    serde_json::json!({
        "properties": props,
        "all_hold": outcomes
            .iter()
            .filter(|o| !o.name.ends_with(".k_induction"))
            .all(Outcome::ok),
    })
}

/// `coldgate-hdl prove`.
#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// Print JSON (the only format).
    #[arg(long)]
    pub json: bool,
    /// Clocks from reset for the bounded checks: two frames plus the lane's latency by default.
    #[arg(long, default_value_t = 320)]
    pub depth: u32,
    /// Only properties whose name contains this (e.g. `request.cover`).
    #[arg(long)]
    pub only: Option<String>,
    /// Also try k-induction at this k on each safety property checked.
    #[arg(long)]
    pub induction: Option<u32>,
    /// Time limit of one engine run, seconds.
    #[arg(long, default_value_t = 3600)]
    pub seconds: u32,
    /// Seconds PDR gets for an unbounded proof of each safety property (0: bounded only).
    #[arg(long, default_value_t = 120)]
    pub pdr_seconds: u32,
}

/// Runs the properties `args` selects on both lanes, prints the JSON report; an error unless
/// every one is as it must be.
pub fn run_cli(args: &ProveArgs) -> Result<(), FlowError> {
    let limits = Limits {
        depth: args.depth,
        seconds: args.seconds,
        pdr_seconds: args.pdr_seconds,
    };
    let mut outcomes = vec![];
    for lane in LaneId::ALL {
        for p in properties(lane) {
            if args.only.as_deref().is_some_and(|o| !p.name.contains(o)) {
                continue;
            }
            let o = check(&p, limits)?;
            eprintln!(
                "prove: {} {} at {} ({:.1} s)",
                o.name, o.result, o.depth, o.seconds
            );
            outcomes.push(o);
            if let (Some(k), Kind::Safety) = (args.induction, p.kind) {
                outcomes.push(induct(&p, k, args.pdr_seconds.max(60))?);
            }
        }
    }
    let report = to_json(&outcomes);
    println!("{report:#}");
    if report["all_hold"] != serde_json::Value::Bool(true) {
        return Err(FlowError::Failed {
            tool: "prove",
            status: "not every property is as it must be".to_string(),
            tail: String::new(),
        });
    }
    Ok(())
}
