#!/bin/sh
# tests/integration/test_spec_mutants.sh HYPSIM - the mutants that only the
# layers catch (issue 7): each breaks L2 spec or L1 refinement (invariant 8)
# and none of invariants 1-7. For each: a campaign with --layers off finds
# nothing in RUNS runs, and the same campaign with the layers on finds an
# invariant-8 violation in its first violating run.
set -u
H=$1
RUNS=${2:-6}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for m in grant_noop revoke_zero_ok verify_no_poweroff no_bootflag_clean; do
    "$H" explore --mutant "$m" --runs "$RUNS" --steps 300000 --jobs 2 --layers off \
        --no-traces --quiet -o "$T/off.jsonl" 2>"$T/err"
    rc=$?
    [ $rc -eq 0 ] || fail "$m --layers off: exit $rc, expected 0 (invariants 1-7 hold): $(head -c 300 "$T/off.jsonl" "$T/err")"
    "$H" explore --mutant "$m" --runs "$RUNS" --steps 300000 --jobs 2 --stop-on-first \
        --no-traces --quiet -o "$T/on.jsonl" 2>"$T/err"
    rc=$?
    [ $rc -eq 1 ] || fail "$m --layers on: exit $rc, expected 1: $(head -c 300 "$T/err")"
    tail -1 "$T/on.jsonl" | grep -q '"first_violation":{[^}]*"invariant":8' ||
        fail "$m: first violation is not invariant 8: $(tail -1 "$T/on.jsonl" | head -c 400)"
    echo "$m: invariants 1-7 hold over $RUNS runs; the layers catch it (invariant 8)"
done
