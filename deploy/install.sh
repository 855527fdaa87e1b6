#!/usr/bin/env bash
# Installs coldgate's services on this machine (as root), from a `cargo build --release`:
#   bash deploy/install.sh [TARGET_DIR]
# Binaries go to /usr/local/bin, units to /etc/systemd/system, the example gateway.toml to
# /etc/coldgate/ (kept when one is already there). The wallet's own config, its store
# (`coldgate-wallet init`) and its passphrase file are the operator's to create: see README.
set -euo pipefail
target=${1:-target/release}
here=$(cd "$(dirname "$0")" && pwd)
for b in coldgate-wallet coldgate-converter-in coldgate-converter-out coldgate-appliance; do
    install -m 0755 "$target/$b" /usr/local/bin/
done
install -d -m 0755 /etc/coldgate
[ -e /etc/coldgate/gateway.toml ] || install -m 0644 "$here/gateway.toml" /etc/coldgate/
getent passwd coldgate-wallet >/dev/null ||
    useradd --system --no-create-home --home-dir /var/lib/coldgate-wallet --shell /usr/sbin/nologin coldgate-wallet
for u in coldgate-wallet.service coldgate-converter-out.service coldgate-appliance@.service coldgate-converter-in.service; do
    install -m 0644 "$here/$u" /etc/systemd/system/
done
systemctl daemon-reload
for u in /etc/systemd/system/coldgate-*.service; do
    systemd-analyze verify "$u" || true
done
echo "installed; enable with:"
echo "  systemctl enable --now coldgate-wallet coldgate-appliance@a coldgate-appliance@b coldgate-converter-out coldgate-converter-in"
