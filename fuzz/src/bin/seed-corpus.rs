//! Writes the seed corpora (fuzz/corpus/<target>/) from spec/vectors. `cargo fuzz build`
//! builds it with the targets (coverage-instrumented, hence the link to libFuzzer's runtime):
//! `fuzz/target/x86_64-unknown-linux-gnu/release/seed-corpus [DIR]`.

// The instrumentation cargo-fuzz adds calls into libFuzzer's runtime; its `main` stays unused.
use libfuzzer_sys as _;

fn main() -> std::process::ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    match coldgate_fuzz::write_seeds(&dir) {
        Ok(n) => {
            println!("wrote {n} seeds under {}", dir.display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write seeds under {}: {e}", dir.display());
            std::process::ExitCode::FAILURE
        }
    }
}
