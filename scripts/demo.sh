#!/usr/bin/env bash
# The gateway demo: installs its tools, then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo run --release --locked -q -p coldgate-spec -- demo
