#!/usr/bin/env bash
# Every test of coldgate: installs its tools, then runs the whole workspace's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --release --locked
