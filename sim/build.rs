//! Verilates the generated lane-pair core and compiles it, with the C++ shim in `csrc/`, into
//! one static library linked into this crate.
//!
//! The Verilog comes from coldgate-hdl at build time (a build dependency), so the model always
//! matches the logic of the same checkout. The `verilated` crate does not build against
//! Verilator 5, hence this small binding. Objects are compiled with per-group optimisation
//! (`-O2` for the model's fast path and the shim, `-Os` for the slow path and Verilator's
//! runtime, as Verilator's own makefile does) and archived together, because the model's fast
//! and slow objects reference each other and separate archives would need link-order tricks.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use coldgate_hdl::harness::COUNTER_NAMES;

/// One Verilated model: its generated sources, grouped as Verilator's class list groups them.
struct Model {
    dir: PathBuf,
    fast: Vec<PathBuf>,
    slow: Vec<PathBuf>,
    global: Vec<String>,
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=VERILATOR_ROOT");

    let root = verilator_root();
    let include = root.join("include");

    let pair_v = out.join("coldgate_pair.v");
    fs::write(&pair_v, pair_source()).expect("write coldgate_pair.v");
    let pair = verilate(&out, "coldgate_pair", &pair_v);
    let mut models = vec![pair];
    println!("cargo::rustc-check-cfg=cfg(coldgate_board)");
    if let Some(src) = board_source() {
        let board_v = out.join("coldgate_board.v");
        fs::write(&board_v, src).expect("write coldgate_board.v");
        models.push(verilate(&out, "coldgate_board", &board_v));
        println!("cargo:rustc-cfg=coldgate_board");
    }

    fs::write(out.join("cg_ports.h"), ports_header()).expect("write cg_ports.h");

    let base = || {
        let mut b = cc::Build::new();
        b.cpp(true)
            .std("c++17")
            .debug(false)
            .warnings(false)
            .include(&out)
            .include(&include)
            .include(include.join("vltstd"))
            .define("VM_COVERAGE", "0")
            .define("VM_SC", "0")
            .define("VM_TRACE", "1")
            .define("VM_TRACE_FST", "0")
            .define("VM_TRACE_VCD", "1")
            .flag_if_supported("-faligned-new")
            .flag_if_supported("-fno-bool-compare")
            .flag("-pthread");
        b
    };

    let mut objects = vec![];
    let mut fast = base();
    fast.opt_level(2).file(manifest.join("csrc/pair_shim.cpp"));
    if models.len() > 1 {
        fast.file(manifest.join("csrc/board_shim.cpp"));
    }
    for m in &models {
        fast.include(&m.dir).files(&m.fast);
    }
    objects.extend(fast.compile_intermediates());

    let mut slow = base();
    slow.opt_level_str("s");
    for m in &models {
        slow.include(&m.dir).files(&m.slow);
    }
    let mut globals: Vec<&String> = models.iter().flat_map(|m| &m.global).collect();
    globals.sort();
    globals.dedup();
    for g in globals {
        slow.file(include.join(format!("{g}.cpp")));
    }
    objects.extend(slow.compile_intermediates());

    base().objects(&objects).compile("coldgate_verilated");
    println!("cargo:rustc-link-lib=pthread");
}

/// The lane-pair core.
fn pair_source() -> String {
    coldgate_hdl::pair_verilog()
}

/// The board top with its UARTs, at the rate the converters use with a real board.
fn board_source() -> Option<String> {
    None
}

fn verilator_root() -> PathBuf {
    if let Some(r) = env::var_os("VERILATOR_ROOT") {
        return PathBuf::from(r);
    }
    let out = Command::new("verilator")
        .args(["--getenv", "VERILATOR_ROOT"])
        .output()
        .expect("verilator not found: install Debian's verilator package (>= 5)");
    assert!(out.status.success(), "verilator --getenv failed");
    PathBuf::from(String::from_utf8(out.stdout).expect("utf-8 path").trim())
}

/// Runs `verilator --cc` on one top module and reads back the list of generated classes.
fn verilate(out: &Path, top: &str, source: &Path) -> Model {
    let prefix = format!("V{top}");
    let dir = out.join(format!("obj_{top}"));
    let _ = fs::remove_dir_all(&dir);
    let status = Command::new("verilator")
        .args([
            "--cc",
            "--trace",
            "-O3",
            "--x-assign",
            "fast",
            "-Wno-fatal",
            "-Wno-lint",
        ])
        .args([
            "-Wno-style",
            "--top-module",
            top,
            "--prefix",
            &prefix,
            "--Mdir",
        ])
        .arg(&dir)
        .arg(source)
        .status()
        .expect("run verilator");
    assert!(status.success(), "verilator failed on {}", source.display());
    let classes = fs::read_to_string(dir.join(format!("{prefix}_classes.mk")))
        .expect("verilator writes its class list");
    let list = |var: &str| -> Vec<String> {
        let mut names = vec![];
        let mut lines = classes.lines();
        while let Some(l) = lines.next() {
            if l.trim_start().starts_with(var) && l.contains("+=") {
                for item in lines.by_ref() {
                    let item = item.trim().trim_end_matches('\\').trim();
                    if item.is_empty() {
                        break;
                    }
                    names.push(item.to_string());
                }
            }
        }
        names
    };
    let cpp = |names: Vec<String>| -> Vec<PathBuf> {
        names
            .into_iter()
            .map(|n| dir.join(format!("{n}.cpp")))
            .collect()
    };
    let mut fast = cpp(list("VM_CLASSES_FAST"));
    fast.extend(cpp(list("VM_SUPPORT_FAST")));
    let mut slow = cpp(list("VM_CLASSES_SLOW"));
    slow.extend(cpp(list("VM_SUPPORT_SLOW")));
    let mut global = list("VM_GLOBAL_FAST");
    global.extend(list("VM_GLOBAL_SLOW"));
    Model {
        dir,
        fast,
        slow,
        global,
    }
}

/// Counter port names for the shim, from the harness so they are never typed twice.
fn ports_header() -> String {
    let mut h =
        String::from("// Generated by coldgate-sim's build.rs from coldgate_hdl::harness.\n");
    h.push_str("#pragma once\n");
    let _ = writeln!(h, "#define CG_N_COUNTERS {}", COUNTER_NAMES.len());
    h.push_str("#define CG_COUNTERS(X)");
    for lane in ["req", "resp"] {
        for name in COUNTER_NAMES {
            let _ = write!(h, " X({lane}_count_{name})");
        }
    }
    h.push('\n');
    h
}
