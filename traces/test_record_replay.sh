#!/bin/sh
# traces/test_record_replay.sh HYPSIM KCORE [N [STEPS]] - record N short
# random / round-robin / PCT runs (varying seeds and CPU counts), replay each
# with --verify (state hashes at every checkpoint must match, and the exit
# code must equal the run's), then shrink the first violation found and
# replay the shrunk trace to the same invariant. Exit 77 (skipped) when the
# KCore ELF is not built yet.
H=$1
K=$2
N=${3:-60}
STEPS=${4:-3000}
[ -x "$H" ] || { echo "no hypsim binary at $H"; exit 2; }
[ -f "$K" ] || { echo "skipped: $K is not built"; exit 77; }
dir=$(mktemp -d) || exit 3
trap 'rm -rf "$dir"' EXIT
fail=0
viol=""
i=0
while [ "$i" -lt "$N" ]; do
    case $((i % 3)) in 0) s=random ;; 1) s=rr ;; *) s=pct:2 ;; esac
    cpus=$((1 + i % 4))
    t="$dir/t$i.json"
    timeout 300 "$H" run --kcore "$K" --steps "$STEPS" --seed "$i" --cpus "$cpus" --sched "$s" \
        --hash-every 100 --record "$t" --quiet
    rc=$?
    if [ "$rc" -gt 1 ]; then
        echo "FAIL: run seed $i ($s, $cpus CPUs): exit $rc"
        fail=1
    else
        timeout 300 "$H" replay "$t" --verify --kcore "$K" --quiet
        rrc=$?
        if [ "$rrc" -ne "$rc" ]; then
            echo "FAIL: replay --verify seed $i ($s, $cpus CPUs): exit $rrc, the run exited $rc"
            fail=1
        elif [ "$rc" -eq 1 ] && [ -z "$viol" ]; then
            viol="$t"
        else
            rm -f "$t"
        fi
    fi
    i=$((i + 1))
done
echo "$N runs recorded and replayed with --verify"

# Bad input through the command: exit 2 naming the file and the place, or
# exit 3 for a replay that diverges.
expect() {   # expect CODE TEXT FILE ARGS...
    code=$1 text=$2 f=$3
    shift 3
    out=$(timeout 300 "$H" replay "$f" --quiet "$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" -ne "$code" ] || ! printf '%s' "$out" | grep -qF "$f: " ||
       ! printf '%s' "$out" | grep -qF "$text" || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then
        echo "FAIL: replay $f $*: exit $rc, '$out'; expected exit $code and one line '$f: ...$text'"
        fail=1
    fi
}
b="$dir/base.json"
timeout 300 "$H" run --kcore "$K" --steps 500 --seed 7 --cpus 2 --record "$b" --quiet
sed 's/"kcore_sha256":.*/"kcore_sha256": "0000000000000000000000000000000000000000000000000000000000000000",/' "$b" > "$dir/sha.json"
expect 2 "kcore_sha256: none of the" "$dir/sha.json"
head -c 300 "$b" > "$dir/cut.json"
expect 2 "byte 300 (line 18, column 4): truncated" "$dir/cut.json"
sed -e 's/"choice_count":.*/"choice_count": 1,/' -e 's|"choices":.*|"choices": "/////w8="|' "$b" > "$dir/imp.json"
expect 2 "choices[0]: value 4294967295 is impossible at step 0" "$dir/imp.json" --kcore "$K"
sed 's/\(\[[0-9]*, "\)[0-9a-f]*\("\]\],\)/\10123456789abcdef\2/' "$b" > "$dir/hash.json"
expect 3 "final state hash (checkpoint 1) differs: recorded 0123456789abcdef" "$dir/hash.json" --kcore "$K" --verify
sed 's/"version":.*/"version": 2,/' "$b" > "$dir/v2.json"
expect 2 "version: 2 is newer" "$dir/v2.json"
# --layers is recorded (config.layers) and a replay runs with the recorded
# setting: with the layers off it makes no refinement checks, with them on
# it does.
for l in on off; do
    t="$dir/layers-$l.json"
    want=true
    [ "$l" = off ] && want=false
    timeout 300 "$H" run --kcore "$K" --steps 3000 --seed 3 --cpus 2 --layers "$l" --record "$t" --quiet
    if ! grep -q "\"layers\":[[:space:]]*$want," "$t"; then
        echo "FAIL: run --layers $l --record: config.layers is not $want"
        fail=1
    fi
    out=$(timeout 300 "$H" replay "$t" --verify --kcore "$K" --json)
    rc=$?
    case $l,$out in
    off,*'"refinement_checks":0,'*|on,*'"refinement_checks":'[1-9]*) ;;
    *) echo "FAIL: replay of a --layers $l run (exit $rc): $(printf '%s' "$out" | head -c 200)"
       fail=1 ;;
    esac
done
if [ -n "$viol" ]; then
    if ! timeout 900 "$H" shrink "$viol" -o "$dir/min.json" --kcore "$K" --max-time 300; then
        echo "FAIL: shrink $viol"
        fail=1
    else
        timeout 300 "$H" replay "$dir/min.json" --verify --kcore "$K" --quiet
        rc=$?
        [ "$rc" -eq 1 ] || { echo "FAIL: the shrunk trace replays with exit $rc, not 1"; fail=1; }
    fi
fi
exit $fail
