#!/usr/bin/env bash
# The gateway demo: installs its tools, builds every binary, then runs `coldgate demo`, which
# starts the wallet, converter-out, the appliance (Verilator) and converter-in as separate
# processes on loopback and walks a client session through them hop by hop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked --bins
target/release/coldgate demo "$@"
# Then the same session over raw Ethernet: TAP interfaces in a private network namespace the
# demo makes itself, which needs root (as CI and the project's machines run). Without root, or
# when the caller chose a link, the tcp demo above is the demo.
if [ $# -eq 0 ] && [ "$(id -u)" -eq 0 ]; then
  echo
  target/release/coldgate demo --link eth
fi
