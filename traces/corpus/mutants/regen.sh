#!/bin/sh
# traces/corpus/mutants/regen.sh [BUILD_DIR [SHRINK_SECONDS [MUTANT...]]]:
# re-record the shrunk counterexample of every KCore mutant (or of the ones
# named) (one <name>.json each) with
# BUILD_DIR/hypsim (default build). Run it after any change to KCore or to
# the machine model: traces pin the ELF's SHA-256 and replay choice by
# choice (traces/FORMAT.md "Versioning"). A mutant not caught within 60 s
# keeps no trace (and is reported).
set -u
B=${1:-build}
S=${2:-60}
shift 2 2>/dev/null || shift $#
H=$B/hypsim
D=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
ALL=$("$H" mutants | awk '{print $1}')
for m in ${*:-$ALL}; do
    "$H" explore --mutant "$m" --stop-on-first --jobs 2 --time 60 --shrink --shrink-time "$S" \
        --traces "$W/t" -o "$W/$m.jsonl" --quiet
    rc=$?
    s=$(ls "$W"/t/"$m"-run*-shrunk.json 2>/dev/null | head -1)
    r=9
    if [ $rc -eq 1 ] && [ -n "$s" ]; then
        HYPSIM_KCORE="$B/hyp/kcore-$m.elf" "$H" replay "$s" --verify --quiet 2>"$W/err"
        r=$?
    fi
    if [ $r -eq 1 ]; then
        cp "$s" "$D/$m.json"
        echo "$m: $(tail -1 "$W/$m.jsonl" | sed 's/.*"first_violation":{\("run":[0-9]*\).*"invariant":\([0-9-]*\).*"time_s":\([0-9.]*\).*/\1 invariant \2 after \3 s/'), $(wc -c <"$D/$m.json") bytes"
    elif [ $rc -eq 1 ] && [ -n "$s" ]; then
        rm -f "$D/$m.json"
        echo "$m: caught, but its shrunk trace does not replay to it (exit $r): $(head -1 "$W/err")"
    else
        rm -f "$D/$m.json"
        echo "$m: not caught in 60 s (exit $rc)"
    fi
done
