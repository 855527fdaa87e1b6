//! Formal proof of a lane's drop rules: yosys reads the lane's generated Verilog and a monitor
//! generated from spec's field table ([`monitor`]), yosys-smtbmc (with z3) checks it.
//!
//! * **Safety** properties are checked by bounded model checking from reset: every input byte,
//!   valid, ready and tick is free in every cycle, and the store's rows start arbitrary (a
//!   yosys memory with no initial value is an unconstrained SMT array) except offset 0 of each
//!   slot, which holds `MAGIC[0]` from configuration as on the FPGA. The rule ROM and the
//!   NOTICE template are constants (mapped to logic).
//! * **Covers** ask the prover for a trace that counts each drop reason and one that passes a
//!   frame, so the safety properties are not vacuous.
//! * **Mutants** are the lane's Verilog broken on purpose ([`mutant`]); each must make some
//!   safety property fail.
//!
//! Each property runs alone, so yosys keeps only its cone of logic. z3 is given the unrolled
//! terms (`--unroll`): z3 4.8 spends minutes expanding yosys's nested function definitions
//! otherwise.

pub mod monitor;
pub mod mutant;

use std::time::Instant;

use rust_hdl::prelude::*;

use coldgate_spec::{DropReason, LaneConfig, LaneId};

use crate::flow::{self, FlowError, WorkDir};
use crate::lane::LaneCore;
use crate::verilog::generate;

/// Module name of `lane`'s core alone.
pub fn lane_module(lane: LaneId) -> String {
    format!("coldgate_lane_{}", lane.name())
}

/// Verilog of one lane, as the pair instantiates it.
pub fn lane_verilog(lane: LaneId) -> String {
    let mut uut = LaneCore::new(LaneConfig::for_lane(lane));
    uut.connect_all();
    generate(&uut, &lane_module(lane))
}

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
    pub lane: LaneId,
    /// The monitor's `ifdef` that enables it (safety and cover).
    pub define: String,
    pub mutation: Option<mutant::Mutation>,
    /// Safety defines a mutant is checked against.
    pub against: Vec<String>,
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
    let mut out = vec![];
    for (define, name) in SAFETY {
        out.push(Property {
            name: format!("{l}.{name}"),
            kind: Kind::Safety,
            lane,
            define: define.to_string(),
            mutation: None,
            against: vec![],
        });
    }
    let limited = LaneConfig::for_lane(lane).rate_burst.is_some();
    for r in DropReason::ALL {
        if r == DropReason::RateLimited && !limited {
            continue;
        }
        out.push(Property {
            name: format!("{l}.cover_{}", r.name()),
            kind: Kind::Cover,
            lane,
            define: format!("COVER_{}", r.name().to_uppercase()),
            mutation: None,
            against: vec![],
        });
    }
    out.push(Property {
        name: format!("{l}.cover_pass"),
        kind: Kind::Cover,
        lane,
        define: "COVER_PASS".to_string(),
        mutation: None,
        against: vec![],
    });
    for m in mutant::Mutation::ALL {
        out.push(Property {
            name: format!("{l}.mutant_{}", m.name()),
            kind: Kind::Mutant,
            lane,
            define: String::new(),
            mutation: Some(m),
            against: SAFETY.iter().map(|(d, _)| d.to_string()).collect(),
        });
    }
    out
}

/// The outcome of one check.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub kind: Kind,
    pub depth: u32,
    /// safety: `holds` (no counterexample up to `depth`) or `fails`; cover: `reached` or
    /// `unreached`; mutant: `caught` or `missed`.
    pub result: &'static str,
    pub seconds: f64,
    /// The safety property that caught a mutant.
    pub by: Option<String>,
}

impl Outcome {
    /// True when this check is as it must be.
    pub fn ok(&self) -> bool {
        matches!(self.result, "holds" | "reached" | "caught" | "proved")
    }
}

/// Runs yosys and yosys-smtbmc on the lane (mutated or not) with one monitor define; true
/// when smtbmc reports PASSED (no failing assertion; in cover mode, every cover reached).
fn smtbmc(
    lane: LaneId,
    mutation: Option<mutant::Mutation>,
    define: &str,
    depth: u32,
    mode: &str,
) -> Result<bool, FlowError> {
    let dir = WorkDir::new()?;
    let mut verilog = lane_verilog(lane);
    if let Some(m) = mutation {
        verilog = m.apply(&verilog).map_err(|detail| FlowError::Failed {
            tool: "mutant",
            status: m.name().to_string(),
            tail: detail,
        })?;
    }
    dir.write("lane.v", &verilog)?;
    dir.write("monitor.sv", &monitor::monitor(lane, &lane_module(lane)))?;
    dir.write(
        "prove.ys",
        &format!(
            "read_verilog lane.v\n\
             read_verilog -sv -formal -D{define} monitor.sv\n\
             prep -flatten -top {}\n\
             memory_nordff\n\
             memory_map -rom-only\n\
             opt -fast\n\
             async2sync\n\
             dffunmap\n\
             opt_clean\n\
             write_smt2 -wires prove.smt2\n",
            monitor::TOP
        ),
    )?;
    flow::run("yosys", &["-q", "prove.ys"], dir.path())?;
    let steps = depth.to_string();
    let mut args = vec!["-s", "z3", "--unroll", "--noprogress", "-t", &steps];
    if !mode.is_empty() {
        args.push(mode);
    }
    args.push("prove.smt2");
    // smtbmc exits non-zero when the check fails: read its status line either way.
    let out = std::process::Command::new("yosys-smtbmc")
        .args(&args)
        .current_dir(dir.path())
        .output()
        .map_err(|source| FlowError::Spawn {
            tool: "yosys-smtbmc",
            source,
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Status: PASSED") {
        Ok(true)
    } else if text.contains("Status: FAILED") {
        Ok(false)
    } else {
        let lines: Vec<&str> = text.lines().collect();
        Err(FlowError::Failed {
            tool: "yosys-smtbmc",
            status: out.status.to_string(),
            tail: lines[lines.len().saturating_sub(20)..].join("\n"),
        })
    }
}

/// Checks one property to `depth` clocks from reset.
pub fn check(p: &Property, depth: u32) -> Result<Outcome, FlowError> {
    let start = Instant::now();
    let mut by = None;
    let result = match p.kind {
        Kind::Safety => {
            if smtbmc(p.lane, None, &p.define, depth, "")? {
                "holds"
            } else {
                "fails"
            }
        }
        Kind::Cover => {
            if smtbmc(p.lane, None, &p.define, depth, "-c")? {
                "reached"
            } else {
                "unreached"
            }
        }
        Kind::Mutant => {
            let mut r = "missed";
            for d in &p.against {
                if !smtbmc(p.lane, p.mutation, d, depth, "")? {
                    r = "caught";
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
        by,
    })
}

/// Tries k-induction on a safety property (`-i`): `proved` when the property holds for every
/// depth, `unproved` when induction at `k` finds no proof.
pub fn induct(p: &Property, k: u32) -> Result<Outcome, FlowError> {
    let start = Instant::now();
    let proved = smtbmc(p.lane, None, &p.define, k, "-i")?;
    Ok(Outcome {
        name: format!("{}.k_induction", p.name),
        kind: Kind::Safety,
        depth: k,
        result: if proved { "proved" } else { "unproved" },
        seconds: start.elapsed().as_secs_f64(),
        by: None,
    })
}

/// The report as JSON: `properties` and `all_hold`.
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
            });
            if let Some(by) = &o.by {
                v["caught_by"] = serde_json::json!(by);
            }
            v
        })
        .collect();
    serde_json::json!({
        "properties": props,
        "all_hold": outcomes.iter().filter(|o| !o.name.ends_with(".k_induction")).all(Outcome::ok),
    })
}

/// `coldgate-hdl prove`.
#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// Print JSON (the only format).
    #[arg(long)]
    pub json: bool,
    /// Clocks from reset to check.
    #[arg(long, default_value_t = 24)]
    pub depth: u32,
    /// Only properties whose name contains this (e.g. `request.cover`).
    #[arg(long)]
    pub only: Option<String>,
    /// Also try k-induction at this k on each safety property checked.
    #[arg(long)]
    pub induction: Option<u32>,
}

/// Runs the properties `args` selects on both lanes, prints the JSON report; an error unless
/// every one is as it must be.
pub fn run_cli(args: &ProveArgs) -> Result<(), FlowError> {
    let mut outcomes = vec![];
    for lane in LaneId::ALL {
        for p in properties(lane) {
            if args.only.as_deref().is_some_and(|o| !p.name.contains(o)) {
                continue;
            }
            outcomes.push(check(&p, args.depth)?);
            if let (Some(k), Kind::Safety) = (args.induction, p.kind) {
                outcomes.push(induct(&p, k)?);
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
