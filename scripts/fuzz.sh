#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 60), one after the other, and
# prints executions and crashes per target. Exits non-zero if any target found a crash.
#
#   bash scripts/fuzz.sh            # 60 s per target
#   bash scripts/fuzz.sh 5          # what scripts/test.sh runs
#   TARGETS="frame_codec link_split" bash scripts/fuzz.sh 600
#   FUZZ_NO_BUILD=1 bash scripts/fuzz.sh 200    # the last build's binaries
#
# Seeds come from fuzz/corpus/<target>/ (written from spec/vectors by
# fuzz/src/bin/seed-corpus.rs, checked here) and are never written to:
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
mkdir -p fuzz/target
# FUZZ_NO_BUILD=1 runs the binaries of the last build (e.g. while a crate is mid-edit).
if [ -z "${FUZZ_NO_BUILD:-}" ] && ! cargo fuzz build -s none >fuzz/target/build.log 2>&1; then
  grep -E -A 12 '^error' fuzz/target/build.log | head -n 60 >&2 || tail -n 30 fuzz/target/build.log >&2
  echo "fuzz: building the targets failed (fuzz/target/build.log)" >&2
  exit 1
fi
# The committed seeds must be what spec/vectors gives today.
bin=fuzz/target/x86_64-unknown-linux-gnu/release
rm -rf fuzz/target/seeds-check
"$bin/seed-corpus" fuzz/target/seeds-check >/dev/null
if ! diff -r -q fuzz/corpus fuzz/target/seeds-check; then
  echo "fuzz/corpus is stale: run $bin/seed-corpus" >&2
  exit 1
fi
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
  # The binaries cargo fuzz built above, run directly (as `cargo fuzz run` would, without
  # rebuilding before each target when a source changed meanwhile).
  # Stream targets look at a few frames at a time; shorter inputs run several times faster.
  case "$t" in
    golden_vs_codec | link_split) max_len=1024 ;;
    *) max_len=0 ;;
  esac
  "$bin/$t" "$work" "fuzz/corpus/$t" -max_len="$max_len" \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 \
    -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  # The wallet target's store lives in a scratch directory named after its process.
  rm -rf "${TMPDIR:-/tmp}"/coldgate-fuzz-wallet-*
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
