#!/bin/sh
# tests/integration/test_campaign_engines.sh MODE BUILD SRC - sharded
# campaigns on real distributed engines (issue 15, part 4). MODE is
#   slurm     a one-node Slurm cluster (Debian's slurm-wlm and munge) that
#             this script configures and starts in a temporary directory:
#             munged, slurmctld and slurmd, as root, each stopped by PID in
#             the EXIT trap (every job on the private cluster is cancelled
#             first);
#   parallel  GNU parallel, locally (-j 2) and through --sshlogin 2/: .
# Either way it runs the README's own block of commands for that engine,
# extracted from SRC/README.md (the code block after the line
# "<!-- test_campaign_engines: MODE -->"), in a scratch directory where
# ./build is BUILD and ./scripts is SRC/scripts, and compares the merged
# result with the unsharded campaign: the same runs with the same per-run
# results (hypsim merge --list) and the same summary (runs, steps,
# violations by invariant, first violation, campaign), timings and trace
# paths aside.
#
# Exit: 0 pass, 1 fail (with the reason, loudly), 77 skip - only when the
# packages cannot be installed on this system at all (no candidate in
# apt); missing-but-installable packages, no root, or daemons that do not
# come up are failures, never silent passes.
set -u
MODE=${1:?mode: slurm or parallel}
B=$(cd "${2:?build dir}" && pwd)
S=$(cd "${3:?source dir}" && pwd)
H=$B/hypsim
T=$(mktemp -d /tmp/hypsim-campaign.XXXXXX)
DAEMONS=""          # "name:pid" in start order, stopped in reverse
CHILD=""            # the long foreground command, run in the background
t0=$(date +%s)

loud() { printf '\n*** test_campaign_engines (%s): %s\n\n' "$MODE" "$*" >&2; }
logs() {
    for f in "$T"/log/*; do
        [ -f "$f" ] || continue
        echo "---- last lines of $f"
        tail -n 15 "$f"
    done
}
fail() { loud "FAIL: $*"; logs; exit 1; }
skip() { loud "SKIPPED (not a pass): $*"; exit 77; }

# Stop what this script started: cancel every job of the private cluster
# (it holds only ours), then each daemon by its PID, newest first, waiting
# for it (SIGKILL after 10 s).
cleanup() {
    if [ -n "$CHILD" ]; then
        kill -TERM "$CHILD" 2>/dev/null   # a `timeout`: it passes the signal on
        wait "$CHILD" 2>/dev/null
    fi
    if [ "$MODE" = slurm ] && [ -n "$DAEMONS" ] && [ -f "$T/slurm.conf" ]; then
        ids=$(SLURM_CONF=$T/slurm.conf timeout 10 squeue -h -o %A 2>/dev/null | tr '\n' ' ')
        if [ -n "$ids" ]; then
            # shellcheck disable=SC2086
            SLURM_CONF=$T/slurm.conf timeout 10 scancel $ids 2>/dev/null
            i=0
            while [ $i -lt 20 ] && [ -n "$(SLURM_CONF=$T/slurm.conf timeout 5 squeue -h -o %A 2>/dev/null)" ]; do
                sleep 0.5; i=$((i + 1))
            done
        fi
    fi
    rev=""
    for d in $DAEMONS; do rev="$d $rev"; done
    for d in $rev; do
        name=${d%%:*} pid=${d#*:}
        kill -TERM "$pid" 2>/dev/null || continue
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
        if kill -0 "$pid" 2>/dev/null; then
            echo "cleanup: $name (pid $pid) ignored SIGTERM for 10 s: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -x "$H" ] || fail "$H is not built"

# bg_wait CMD...: run CMD in the background and wait for it, so that a
# signal to this script interrupts the wait and runs the traps at once
# (sh defers traps while a foreground command runs).
bg_wait() {
    "$@" &
    CHILD=$!
    wait "$CHILD"
    rc=$?
    CHILD=""
    return $rc
}

# need PACKAGE COMMAND...: every COMMAND must exist; if not, fail when the
# package can be installed here (scripts/deps.sh installs it: make test
# runs it), skip only when apt has no candidate for it at all.
need() {
    pkg=$1
    shift
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 && continue
        cand=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
        if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
            skip "'$c' is missing and package $pkg cannot be installed on this system (apt has no candidate)"
        fi
        fail "'$c' is missing; package $pkg ($cand) is installable: run scripts/deps.sh as root (make test does)"
    done
}

# The README's block for MODE, written to $T/readme-MODE.sh.
readme_block() {
    awk -v tag="<!-- test_campaign_engines: $1 -->" '
        index($0, tag) == 1 { found = 1; next }
        found == 1 && /^```/ { found = 2; next }
        found == 2 && /^```/ { exit }
        found == 2 { print }' "$S/README.md" >"$T/readme-$1.sh"
    [ -s "$T/readme-$1.sh" ] || fail "README.md has no code block after '<!-- test_campaign_engines: $1 -->'"
}

# Normalised merged summary: what must not depend on sharding.
norm_summary() {
    grep '"type":"summary"' "$1" | tail -n 1 |
        sed -e 's/"shards":[0-9]*,//' -e 's/"trace":\("[^"]*"\|null\),//' \
            -e 's/"time_s":[0-9.eE+-]*,//' -e 's/,"elapsed_s":[0-9.eE+-]*//'
}

# check_against_unsharded LABEL SUMMARY_FILE SHARD_FILES...
check_against_unsharded() {
    label=$1 sum=$2
    shift 2
    [ $# -ge 2 ] || fail "$label: expected several shard files, found: $*"
    "$H" merge --list "$@" >"$T/$label.list" 2>"$T/$label.err"
    rc=$?
    [ $rc -le 1 ] || fail "$label: hypsim merge --list exit $rc: $(cat "$T/$label.err")"
    cmp -s "$T/all.list" "$T/$label.list" || {
        diff "$T/all.list" "$T/$label.list" | head -n 20
        fail "$label: per-run results differ from the unsharded campaign"
    }
    [ -s "$sum" ] || fail "$label: no merged summary ($sum)"
    norm_summary "$sum" >"$T/$label.sum"
    cmp -s "$T/all.sum" "$T/$label.sum" || {
        echo "unsharded: $(cat "$T/all.sum")"
        echo "$label:    $(cat "$T/$label.sum")"
        fail "$label: merged summary differs from the unsharded campaign's"
    }
    echo "$label: $(wc -l <"$T/$label.list") runs, $(grep -c ' violation ' "$T/$label.list") violations: identical to the unsharded campaign"
}

mkdir -p "$T/run" "$T/log"
ln -s "$B" "$T/run/build"
ln -s "$S/scripts" "$T/run/scripts"
readme_block "$MODE"
# The block's first line sets the campaign: N (shards) and C (explore flags).
N=4 C=
eval "$(sed -n 1p "$T/readme-$MODE.sh")"
[ -n "$C" ] || fail "the README block's first line must set C (the campaign's explore flags)"

# The reference: the same campaign, unsharded, in one process.
# shellcheck disable=SC2086
(cd "$T/run" && ./build/hypsim explore $C -o "$T/all.jsonl" --no-traces --quiet)
rc=$?
[ $rc -le 1 ] || fail "unsharded campaign: exit $rc"
"$H" merge --list "$T/all.jsonl" >"$T/all.list"
"$H" merge "$T/all.jsonl" >"$T/all.json"
norm_summary "$T/all.json" >"$T/all.sum"
grep -q ' violation ' "$T/all.list" || fail "the campaign found no violation: the comparison needs some"
grep -q ' ok ' "$T/all.list" || fail "every run violated: the comparison needs a mix"

case "$MODE" in
parallel)
    need parallel parallel
    parallel --version 2>/dev/null | grep -q 'GNU parallel' ||
        fail "'parallel' is not GNU parallel (moreutils' parallel?): install Debian's package parallel"
    echo "running the README's GNU parallel block:"
    sed 's/^/    /' "$T/readme-parallel.sh"
    cd "$T/run" || fail "cd $T/run"
    bg_wait timeout 240 sh -x "$T/readme-parallel.sh" >"$T/log/parallel.out" 2>"$T/log/parallel.err" </dev/null
    rc=$?
    cd / || fail "cd /"
    [ $rc -ne 124 ] || fail "the README's parallel block did not finish within 240 s"
    # parallel exits with the number of failed jobs (shards that found a
    # violation exit 1), merge with 1 on a violation: only 2 and 3 are errors.
    grep -E "^(parallel|hypsim): " "$T/log/parallel.err" | grep -v -e 'Warning' -e '^+' &&
        fail "the README's parallel block printed errors"
    # merge's summary (the block's first merge) is on its stdout
    grep '"type":"summary"' "$T/log/parallel.out" | head -n 1 >"$T/par.json"
    check_against_unsharded parallel-j2 "$T/par.json" "$T"/run/shard-*.jsonl
    "$H" merge "$T"/run/ssh-shard-*.jsonl >"$T/ssh.json"
    check_against_unsharded parallel-sshlogin "$T/ssh.json" "$T"/run/ssh-shard-*.jsonl
    ;;
slurm)
    need slurmctld slurmctld
    need slurmd slurmd
    need slurm-client sbatch squeue scontrol sinfo scancel
    need munge munged munge
    [ "$(id -u)" -eq 0 ] || fail "not root (uid $(id -u)): this test starts munged, slurmctld and slurmd as root (SlurmUser=root), which a one-node test cluster needs to launch jobs; run make test as root"
    NODE=$(uname -n | cut -d. -f1)
    # Two free TCP ports (LISTEN sockets are in /proc/net/tcp*, in hex).
    port_free() {
        hp=$(printf '%04X' "$1")
        ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { print $2 }' | grep -qi ":$hp\$"
    }
    P=$((20000 + $$ % 20000))
    while ! port_free $P || ! port_free $((P + 1)); do P=$((P + 2)); done
    # munge: a fresh key, its own socket, pid and log.
    mkdir -p "$T/munge" "$T/munge-key" "$T/state" "$T/spool"
    # munged wants every directory above its socket searchable by all.
    chmod 0755 "$T" "$T/munge"
    chmod 0700 "$T/munge-key"
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile="$T/munge-key/munge.key" || fail "mungekey could not create a key"
    else
        dd if=/dev/urandom of="$T/munge-key/munge.key" bs=1024 count=1 2>/dev/null
    fi
    chmod 0400 "$T/munge-key/munge.key"
    MSOCK=$T/munge/munge.socket
    munged -F --socket="$MSOCK" --key-file="$T/munge-key/munge.key" \
        --pid-file="$T/munge-key/munged.pid" --seed-file="$T/munge-key/munged.seed" \
        --log-file="$T/log/munged.log" >"$T/log/munged.out" 2>&1 &
    DAEMONS="$DAEMONS munged:$!"
    i=0
    until munge -S "$MSOCK" -n 2>/dev/null | unmunge -S "$MSOCK" >/dev/null 2>&1; do
        i=$((i + 1))
        kill -0 "${DAEMONS##*:}" 2>/dev/null || fail "munged exited while starting (see its log below)"
        [ $i -lt 40 ] || fail "munged did not answer on $MSOCK within 20 s"
        sleep 0.5
    done
    cat >"$T/slurm.conf" <<EOF
# A one-node test cluster (tests/integration/test_campaign_engines.sh).
ClusterName=hypsimtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$P
SlurmdPort=$((P + 1))
AuthType=auth/munge
AuthInfo=socket=$MSOCK
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    # No cgroup plugin is used (proctrack/linuxproc, task/none); the file
    # keeps slurmd from probing the host's cgroup setup.
    cat >"$T/cgroup.conf" <<EOF
CgroupPlugin=autodetect
IgnoreSystemd=yes
ConstrainCores=no
ConstrainRAMSpace=no
EOF
    export SLURM_CONF=$T/slurm.conf
    slurmctld -D -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
    DAEMONS="$DAEMONS slurmctld:$!"
    slurmd -D -N "$NODE" -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
    DAEMONS="$DAEMONS slurmd:$!"
    i=0
    until [ "$(timeout 5 sinfo -h -N -o %T 2>/dev/null | head -n 1)" = idle ]; do
        i=$((i + 1))
        for d in $DAEMONS; do
            kill -0 "${d#*:}" 2>/dev/null || fail "${d%%:*} exited while starting (see its log below)"
        done
        [ $i -lt 60 ] || fail "the node did not become idle within 30 s: $(timeout 5 sinfo 2>&1 | tail -n 2)"
        sleep 0.5
    done
    echo "one-node Slurm cluster up on $NODE, ports $P/$((P + 1)), daemons$(echo " $DAEMONS" | sed 's/ \([a-z]*\):/ \1 pid /g') ($(( $(date +%s) - t0 )) s)"
    echo "running the README's Slurm block:"
    sed 's/^/    /' "$T/readme-slurm.sh"
    cd "$T/run" || fail "cd $T/run"
    bg_wait timeout 240 sh -x "$T/readme-slurm.sh" >"$T/log/block.out" 2>"$T/log/block.err" </dev/null
    rc=$?
    cd / || fail "cd /"
    [ $rc -ne 124 ] || fail "the README's Slurm block did not finish within 240 s: $(squeue 2>&1 | tail -n 5)"
    # sbatch --wait returns the merge job's exit code: 1 = violation found.
    [ $rc -le 1 ] || fail "the README's Slurm block: exit $rc: $(tail -n 5 "$T/log/block.err")"
    # What Slurm ran: N array tasks, then the merge job after all of them.
    scontrol show jobs -o >"$T/jobs.txt" 2>&1
    ntask=$(grep -c 'ArrayTaskId=' "$T/jobs.txt")
    [ "$ntask" -eq "$N" ] || fail "expected $N array tasks, Slurm shows $ntask"
    grep 'ArrayTaskId=' "$T/jobs.txt" | grep -v -q 'JobState=\(COMPLETED\|FAILED\) ' &&
        fail "an array task did not end normally: $(grep 'ArrayTaskId=' "$T/jobs.txt" | sed 's/.*\(JobState=[A-Z]*\).*\(ExitCode=[0-9:]*\).*/\1 \2/')"
    grep 'ArrayTaskId=' "$T/jobs.txt" | grep -v -q 'ExitCode=[01]:0' &&
        fail "an array task exited with an error (explore exit 2 or 3)"
    last_end=$(grep 'ArrayTaskId=' "$T/jobs.txt" | sed 's/.* EndTime=\([^ ]*\) .*/\1/' | sort | tail -n 1)
    merge_line=$(grep -v 'ArrayTaskId=' "$T/jobs.txt" | grep 'Dependency=' | head -n 1)
    merge_start=$(echo "$merge_line" | sed 's/.* StartTime=\([^ ]*\) .*/\1/')
    [ -n "$merge_line" ] || fail "no merge job in Slurm's job list"
    [ "$merge_start" \> "$last_end" ] || [ "$merge_start" = "$last_end" ] ||
        fail "the merge job started ($merge_start) before the last shard ended ($last_end)"
    for k in $(seq "$N"); do
        [ -f "$T/run/slurm-"*"_$k.out" ] || fail "no Slurm output file for array task $k"
    done
    check_against_unsharded slurm "$T/run/merged.json" "$T"/run/shard-*.jsonl
    ;;
*)
    fail "unknown mode '$MODE' (slurm or parallel)"
    ;;
esac
echo "test_campaign_engines $MODE: ok ($(( $(date +%s) - t0 )) s)"
exit 0
