#!/usr/bin/env bash
# The gateway demo: installs its tools, builds every binary, then runs `coldgate demo`, which
# starts the wallet, converter-out, the appliance (Verilator) and converter-in as separate
# processes on loopback and walks a client session through them hop by hop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked --bins
exec target/release/coldgate demo "$@"
