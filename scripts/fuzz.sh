#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 60), one after the other, and
# prints executions and crashes per target. Exits non-zero if any target found a crash.
#
#   bash scripts/fuzz.sh            # 60 s per target
#   bash scripts/fuzz.sh 5          # what scripts/test.sh runs
#   TARGETS="frame_codec link_split" bash scripts/fuzz.sh 600
#
# Seeds come from fuzz/corpus/<target>/ (written from spec/vectors by
# `cargo run --manifest-path fuzz/Cargo.toml --bin seed-corpus`) and are never written to:
# what a run finds goes to fuzz/target/corpus/<target>/, crashes to fuzz/artifacts/<target>/.
# No sanitizer (-s none), so the stable toolchain builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
all="frame_codec golden_vs_codec link_split converter_in_dispatch wallet_request lane_verilator"
targets="${TARGETS:-$all}"
# The fuzz workspace has its own target dir (fuzz/target); never the caller's.
unset CARGO_TARGET_DIR
cargo fuzz build -s none 2>&1 | tail -n 3
failed=0
summary=""
for t in $targets; do
  work="fuzz/target/corpus/$t"
  mkdir -p "$work" "fuzz/artifacts/$t"
  log="fuzz/target/$t.log"
  # Crash files of earlier runs stay for whoever investigates them; only new ones count.
  marker="fuzz/target/$t.start"
  touch "$marker"
  set +e
  cargo fuzz run -s none "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
    -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  crashes=$(find "fuzz/artifacts/$t" -type f -newer "$marker" | wc -l)
  line="$t: ${execs:-?} executions in ${seconds} s, exit $rc, $crashes new crash file(s) in fuzz/artifacts/$t"
  echo "$line"
  summary="$summary$line"$'\n'
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    grep -m 20 -E 'panicked|ERROR|SUMMARY|assert' "$log" || tail -n 20 "$log"
  fi
done
printf '\nfuzz summary\n%s' "$summary"
exit "$failed"
