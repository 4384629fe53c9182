#!/bin/sh
# Install the Debian packages hypsim needs, only those missing. Quiet when all
# are present. Needs root (or sudo) only when something is missing.
set -e
PKGS="cmake make gcc pkg-config libunicorn-dev libcapstone-dev libcjson-dev libcmocka-dev libdw-dev libelf-dev gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu"
# Tests of the tools around the simulator (issue 15): a one-node Slurm
# cluster and GNU parallel for sharded campaigns, gdb-multiarch for the
# gdb stub of `hypsim replay --gdb`.
PKGS="$PKGS slurm-wlm munge parallel gdb-multiarch"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# munge, slurmctld and slurmd are daemons whose packages start them as
# system services where an init system runs; the tests start their own,
# so keep the packages from starting any while they install (policy-rc.d
# exit 101 = "action forbidden", honoured by invoke-rc.d and
# deb-systemd-invoke), unless the system already has a policy of its own.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
    trap '$SUDO rm -f "$POLICY"' EXIT
    printf '#!/bin/sh\n# scripts/deps.sh: no service starts while hypsim installs packages\nexit 101\n' |
        $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 0755 "$POLICY"
fi
$SUDO apt-get update -q >/dev/null || true
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
