#!/usr/bin/env bash
# Every test of coldgate: installs its tools, runs the whole workspace's tests, then every
# fuzz target of fuzz/ for a few seconds from its seed corpus (`bash scripts/fuzz.sh 600`
# runs them longer).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --release --locked
bash scripts/fuzz.sh 5
