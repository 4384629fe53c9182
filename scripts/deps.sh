#!/bin/sh
# Install the Debian packages hypsim needs, only those missing. Quiet when all
# are present. Needs root (or sudo) only when something is missing.
set -e
PKGS="cmake make gcc pkg-config libunicorn-dev libcapstone-dev libcjson-dev libcmocka-dev libdw-dev libelf-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || true
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
