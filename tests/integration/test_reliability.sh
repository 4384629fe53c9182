#!/bin/sh
# tests/integration/test_reliability.sh HYPSIM - issue 14, through the hypsim
# command as a user types it:
#  - the newcomer's path, verbatim: a default run, run --mutant X, then the
#    replay and shrink commands that run printed, then a replay of the
#    shrunk trace - from the directory the run was made in;
#  - violation files are never overwritten;
#  - a scenario trace replays from another directory without its file;
#  - bad input is refused at once with one line: a FIFO, a directory, a bad
#    --log value, unwritable outputs (before the work), a scenario typo, a
#    32-bit ELF; a diverged replay never says "result: ok";
#  - SIGINT during shrink writes the best trace so far;
#  - --version, help CMD, scripted actions that never ran are reported.
H=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$H" ] || { echo "no hypsim at $1"; exit 2; }
B=$(dirname "$H")
[ -f "$B/hyp/kcore-no_tlbi_donate.elf" ] || { echo "skipped: mutants not built"; exit 77; }
W=$(mktemp -d) || exit 3
trap 'rm -rf "$W"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cd "$W" || exit 3

# ---- the newcomer's path ----------------------------------------------------
timeout 300 "$H" run --quiet; rc=$?
[ $rc -eq 0 ] || bad "make run equivalent (hypsim run): exit $rc"
timeout 300 "$H" run --mutant no_tlbi_donate >run.out 2>run.err; rc=$?
[ $rc -eq 1 ] || bad "run --mutant no_tlbi_donate: exit $rc"
rep=$(sed -n 's/^  replay it: *//p' run.err)
shr=$(sed -n 's/^  shrink it: *//p' run.err)
[ -n "$rep" ] && [ -n "$shr" ] || bad "run printed no replay/shrink advice: $(cat run.err)"
timeout 300 sh -c "$rep" >rep.out 2>rep.err; rc=$?
[ $rc -eq 1 ] || bad "the printed replay command '$rep': exit $rc: $(head -c 400 rep.err)"
grep -q "^result: VIOLATION" rep.out || bad "the printed replay does not report the violation"
timeout 300 sh -c "$shr" >shr.out 2>shr.err; rc=$?
[ $rc -eq 0 ] || bad "the printed shrink command '$shr': exit $rc: $(head -c 400 shr.err)"
small=$(printf '%s\n' "$shr" | sed 's/.* -o \([^ ]*\).*/\1/')
timeout 300 "$H" replay "$small" --verify --quiet; rc=$?
[ $rc -eq 1 ] || bad "replay of the shrunk trace $small: exit $rc"
first=$(sed -n 's/^the violating run is saved in \(.*\):$/\1/p' run.err)
sum1=$(cksum <"$first")
# a second run never overwrites the first's file
timeout 300 "$H" run --mutant no_tlbi_donate --quiet 2>run2.err; rc=$?
second=$(sed -n 's/^the violating run is saved in \(.*\):$/\1/p' run2.err)
[ $rc -eq 1 ] && [ -n "$second" ] && [ "$second" != "$first" ] || bad "second run saved to '$second' (first: '$first')"
[ "$(cksum <"$first")" = "$sum1" ] || bad "the second run changed $first"

# ---- a scenario trace replays from elsewhere, without its file -------------
S=$(cd "$B/.." && pwd)/hyp/kcore/scenarios/lifecycle.json
[ -f "$S" ] || S=$(dirname "$0")/../../hyp/kcore/scenarios/lifecycle.json
cp "$S" scen.json
timeout 300 "$H" run --scenario scen.json --steps 40000 --cpus 1 --record scen-trace.json --quiet; rc=$?
[ $rc -le 1 ] || bad "run --scenario: exit $rc"
rm scen.json
mkdir other && (cd other && timeout 300 "$H" replay ../scen-trace.json --verify --quiet); rc=$?
[ $rc -le 1 ] || bad "replay of a scenario trace from another directory, the file gone: exit $rc"

# ---- bad input: one line, at once -------------------------------------------
expect() {  # expect CODE TEXT CMD...: exit CODE within 20 s, one line on stderr containing TEXT
    code=$1 text=$2
    shift 2
    out=$(timeout 20 "$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne "$code" ] || ! printf '%s' "$out" | grep -qF -- "$text" || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then
        bad "$*: exit $rc, '$out'; expected exit $code and one line with '$text'"
    fi
}
mkfifo fifo
expect 2 "fifo: is a FIFO (named pipe), not a regular file" "$H" replay fifo
expect 2 "is a directory, not a regular file" "$H" replay "$W"
expect 2 "is a FIFO" "$H" run --scenario fifo
expect 2 "is a FIFO" "$H" run --kcore fifo
expect 2 "replay: --log: invalid value 'xml' (text or json)" "$H" replay "$first" --log xml
expect 2 "replay: --log: invalid value 'xml'" "$H" replay --log xml "$first"
expect 2 "-o: /nonexistent/x: directory /nonexistent" "$H" shrink "$first" -o /nonexistent/x
expect 2 "--record: /nonexistent/x.json: directory /nonexistent" "$H" run --record /nonexistent/x.json
printf '{"format": "hypsim-scenario", "version": 1,\n "actions": [\n  {"who": "host", "do": "read", "ipa": 8, "cacheble": false}]}\n' >typo.json
expect 2 "typo.json:3: actions[0].cacheble: unknown field (did you mean 'cacheable'?)" "$H" run --scenario typo.json
printf '{"format": "hypsim-scenario", "version": 1,\n "actions": [\n  {"who": "host", "cpu": 10, "do": "idle"}]}\n' >cpu.json
expect 2 "cpu.json:3: actions[0].cpu: CPU 10, but the machine has 4 CPUs (0..3)" "$H" run --scenario cpu.json --cpus 4
# a 32-bit ELF: named by its class, not by e_machine
python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[4]=1; open('k32.elf','wb').write(d)" "$B/hyp/kcore.elf" 2>/dev/null &&
    expect 2 "k32.elf: offset 0x4 (e_ident[EI_CLASS]): class 1 is a 32-bit ELF" "$H" run --kcore k32.elf
# a diverged replay: exit 3, and stdout never says "result: ok"
timeout 300 "$H" run --steps 2000 --seed 3 --record ok.json --hash-every 100 --quiet
sed 's/\(\[[0-9]*, "\)[0-9a-f]*\("\]\],\)/\10123456789abcdef\2/' ok.json >div.json
out=$(timeout 60 "$H" replay div.json --verify 2>/dev/null); rc=$?
[ $rc -eq 3 ] || bad "diverged replay: exit $rc"
printf '%s' "$out" | grep -q "^result: ok" && bad "a diverged replay printed 'result: ok'"
printf '%s' "$out" | grep -q "^result: DIVERGED" || bad "a diverged replay did not print 'result: DIVERGED'"
out=$(timeout 60 "$H" replay div.json --verify --json 2>/dev/null)
printf '%s' "$out" | grep -q '"result":"diverged"' || bad "diverged --json: $(printf '%s' "$out" | head -c 100)"

# ---- SIGINT during shrink keeps the best so far ------------------------------
timeout 300 "$H" shrink "$first" -o int.json --max-time 300 --quiet 2>int.err &
pid=$!
sleep 10
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 0 ] || bad "interrupted shrink: exit $rc: $(cat int.err)"
grep -q "interrupted by SIGINT" int.err || bad "interrupted shrink said: $(cat int.err)"
timeout 300 "$H" replay int.json --verify --quiet; rc=$?
[ $rc -eq 1 ] || bad "the interrupted shrink's trace replays with exit $rc"

# ---- reports ------------------------------------------------------------------
"$H" --version | grep -q "^hypsim " || bad "--version"
"$H" help replay | grep -q "^usage: hypsim replay" || bad "help replay"
printf '{"format": "hypsim-scenario", "version": 1, "actions": [\n {"who": "host", "do": "idle"},\n {"who": "vm3", "do": "hvc", "hc": "grant", "args": [1]}]}\n' >never.json
out=$(timeout 60 "$H" run --scenario never.json --steps 30000 2>&1)
printf '%s' "$out" | grep -q "1 of 2 actions never ran: the first, actions\[1\] (line 3: vm3: hvc grant" ||
    bad "an action that never ran is not reported: $(printf '%s' "$out" | grep scenario)"
printf '%s' "$out" | grep -q "checked after every step" || bad "the summary does not name the invariants checked"
grep -q "in flight: CPU" rep.out || bad "the violation report names no hypercall in flight"
grep -q "in give_to_vm+0x" rep.out || bad "the violating PC is not symbolized"
timeout 60 "$H" replay "$first" --log --from 0 --to 400000 --quiet | grep -q "ldadda\|casal\|swpal" ||
    bad "LSE atomics not decoded in the log"
timeout 60 "$H" replay "$first" --log --quiet | grep -q "\.inst 0x" && bad "the log still has .inst words"
exit $fail
