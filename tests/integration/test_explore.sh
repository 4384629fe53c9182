#!/bin/sh
# tests/integration/test_explore.sh HYPSIM - `hypsim explore` and `hypsim
# merge` end to end:
#  1. bad usage exits 2 with one line on stderr, the same for a bad machine
#     flag from run as from explore;
#  2. a campaign's results do not depend on --jobs;
#  3. N shards (--shard K/N) together cover exactly the runs of the
#     unsharded campaign, with the same results (merge --list), and merge
#     refuses a run seen twice;
#  4. --junit writes well-formed JUnit XML with one test case per run;
#  5. a saved violation trace replays to the same violation;
#  6. outputs (-o, --junit, --traces) are checked before any run starts;
#  7. SIGTERM and SIGINT end a campaign with its partial summary and JUnit
#     report (marked partial; an earlier report never survives), then by
#     that signal;
#  8. progress on stderr when it is a terminal (and only then, and not
#     with --quiet);
#  9. every option explore's and merge's --help name is one they accept.
# Uses the no_tlbi_donate mutant with short runs, so that some runs find a
# violation and others do not.
set -u
H=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- 1. bad usage -------------------------------------------------------------
for args in "--runs 0" "--sched bogus" "--sched pct:0" "--sched exhaustive:10:9" "--shard 3/2" \
            "--shard 0/2" "--shard x" "--shard 1/-4" "--shard -1/4" "--shard +1/4" "--shard 1/4294967296" \
           "--shard 1/4x" "--mutant no_such_mutant" "--jobs 0" "--time -1" \
            "--cpus 0" "--frobnicate" "--kcore /nonexistent/kcore.elf" \
            "--mutant lock_nop --kcore /x.elf"; do
    # shellcheck disable=SC2086
    "$H" explore $args --runs 1 --no-traces >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "explore $args: exit $rc, expected 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "explore $args: expected one line on stderr, got: $(cat "$T/err")"
done
# run and explore share one parser of the machine flags (cli/flags.c): the
# same bad value gets exit 2 and the same one line from both (explore's says
# "explore: " after "hypsim: "). The bad flag comes last, so that a missing
# value is tested too.
for args in "--cpus 0" "--cpus 65" "--vms 17" "--mem x" "--mem 1" "--tlb 0" "--cache 3x2" \
            "--cache -2147483648x1" "--cache 1073741824x64" "--cache 4x2x" \
            "--check bogus" "--layers maybe" "--steps 0" "--steps 9007199254740993" \
            "--mutant no_such_mutant" "--mutant lock_nop --kcore /x.elf" \
            "--kcore /x.elf --mutant lock_nop" "--cpus" "--layers" "--scenario"; do
    # shellcheck disable=SC2086
    "$H" run --steps 1000 $args >"$T/out" 2>"$T/err.run"
    rc=$?
    [ $rc -eq 2 ] || fail "run $args: exit $rc, expected 2"
    [ "$(wc -l <"$T/err.run")" -eq 1 ] || fail "run $args: expected one line on stderr, got: $(cat "$T/err.run")"
    # shellcheck disable=SC2086
    "$H" explore --runs 1 --no-traces --steps 1000 $args >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "explore $args: exit $rc, expected 2"
    [ "$(sed 's/^hypsim: explore: /hypsim: /' "$T/err")" = "$(cat "$T/err.run")" ] \
        || fail "run and explore $args: different errors: $(cat "$T/err.run" "$T/err")"
done
"$H" merge >/dev/null 2>&1; [ $? -eq 2 ] || fail "merge without files must exit 2"
"$H" merge "$T/nonexistent.jsonl" >/dev/null 2>&1; [ $? -eq 2 ] || fail "merge of a missing file must exit 2"
echo '{"type":"run"' >"$T/bad.jsonl"
"$H" merge "$T/bad.jsonl" >/dev/null 2>&1; [ $? -eq 2 ] || fail "merge of a malformed line must exit 2"
"$H" mutants --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "mutants --bogus must exit 2"
"$H" mutants | grep -q '^no_tlbi_donate ' || fail "hypsim mutants does not list no_tlbi_donate"
[ "$("$H" mutants | wc -l)" -ge 12 ] || fail "fewer than 12 mutants"

# ---- 2. independent of --jobs ------------------------------------------------------
C="--mutant no_tlbi_donate --steps 80000 --runs 9 --quiet"
# shellcheck disable=SC2086
"$H" explore $C --jobs 1 --no-traces -o "$T/j1.jsonl"; rc1=$?
# shellcheck disable=SC2086
"$H" explore $C --jobs 2 --traces "$T/tr" --junit "$T/all.xml" -o "$T/all.jsonl"; rc=$?
[ $rc1 -eq $rc ] || fail "exit codes differ with --jobs 1 ($rc1) and 2 ($rc)"
[ $rc -eq 0 ] || [ $rc -eq 1 ] || fail "explore exit $rc"
"$H" merge --list "$T/j1.jsonl" >"$T/j1.list" || [ $? -eq 1 ] || fail "merge --list j1"
"$H" merge --list "$T/all.jsonl" >"$T/all.list" || [ $? -eq 1 ] || fail "merge --list all"
cmp -s "$T/j1.list" "$T/all.list" || fail "results differ between --jobs 1 and --jobs 2"
[ "$(wc -l <"$T/all.list")" -eq 9 ] || fail "expected 9 runs, got $(wc -l <"$T/all.list")"
grep -q ' violation ' "$T/all.list" || fail "no run found the no_tlbi_donate violation"
grep -q ' ok ' "$T/all.list" || fail "every run violated: the test needs a mix"

# ---- 3. shards cover exactly the unsharded campaign ---------------------------------
for k in 1 2 3 4; do
    # shellcheck disable=SC2086
    "$H" explore $C --shard $k/4 --no-traces -o "$T/s$k.jsonl"
    rc=$?
    [ $rc -le 1 ] || fail "shard $k/4: exit $rc"
    # each shard holds exactly the runs g with g mod 4 = k-1
    "$H" merge --list "$T/s$k.jsonl" 2>/dev/null | awk -v k=$k '($1 % 4) != k - 1 { exit 1 }' \
        || fail "shard $k/4 ran a run of another shard"
done
"$H" merge --list "$T/s1.jsonl" "$T/s2.jsonl" "$T/s3.jsonl" "$T/s4.jsonl" >"$T/merged.list"
rc=$?
[ $rc -le 1 ] || fail "merge of the shards: exit $rc"
cmp -s "$T/merged.list" "$T/all.list" || { diff "$T/merged.list" "$T/all.list"; fail "shards do not cover the campaign's runs exactly"; }
"$H" merge "$T/s1.jsonl" "$T/s2.jsonl" "$T/s3.jsonl" "$T/s4.jsonl" >"$T/merged.json"
grep -q '"type":"summary"' "$T/merged.json" || fail "merge printed no summary"
grep -q '"runs":9,' "$T/merged.json" || fail "merged summary does not count 9 runs: $(cat "$T/merged.json")"
"$H" merge "$T/s1.jsonl" "$T/s2.jsonl" >/dev/null 2>&1; [ $? -eq 2 ] || fail "merge of 2 of 4 shards must report missing runs (exit 2)"
"$H" merge "$T/s1.jsonl" "$T/s1.jsonl" "$T/s2.jsonl" "$T/s3.jsonl" "$T/s4.jsonl" >/dev/null 2>&1
[ $? -eq 2 ] || fail "merge must refuse a run seen twice"
# shellcheck disable=SC2086
"$H" explore --mutant no_tlbi_donate --steps 80000 --runs 9 --seed 2 --quiet --no-traces -o "$T/other.jsonl"
"$H" merge "$T/s1.jsonl" "$T/other.jsonl" >/dev/null 2>&1; [ $? -eq 2 ] || fail "merge must refuse shards of different campaigns"

# ---- 4. JUnit -------------------------------------------------------------------------
[ -s "$T/all.xml" ] || fail "--junit wrote nothing"
if command -v xmllint >/dev/null 2>&1; then
    xmllint --noout "$T/all.xml" || fail "JUnit XML is not well-formed"
elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$T/all.xml" || fail "JUnit XML is not well-formed"
fi
[ "$(grep -c '<testcase ' "$T/all.xml")" -eq 9 ] || fail "JUnit: expected 9 test cases"
grep -q 'tests="9"' "$T/all.xml" || fail "JUnit: testsuite must say tests=\"9\""
nfail=$(grep -c ' violation ' "$T/all.list")
grep -q "failures=\"$nfail\"" "$T/all.xml" || fail "JUnit: expected failures=\"$nfail\""

# ---- 5. a saved trace replays to its violation ------------------------------------
tr=$(ls "$T"/tr/*.json 2>/dev/null | head -1)
[ -n "$tr" ] || fail "no violation trace saved"
KC=$("$H" mutants --json | sed 's/.*"name":"no_tlbi_donate","description":"[^"]*","elf":"\([^"]*\)".*/\1/')
HYPSIM_KCORE=$KC "$H" replay "$tr" --verify --quiet
[ $? -eq 1 ] || fail "trace $tr does not replay to its violation"
ls "$T"/tr/*.part >/dev/null 2>&1 && fail "a trace was left half written (.part)"

# ---- 6. outputs checked before the first run --------------------------------------
Q="--runs 2 --steps 1000 --quiet"
# shellcheck disable=SC2086
"$H" explore $Q --no-traces --junit "$T/nodir/x.xml" -o "$T/early.jsonl" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "--junit to a missing directory: exit $rc, expected 2"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "--junit to a missing directory: expected one line, got: $(cat "$T/err")"
grep -q -- '--junit' "$T/err" || fail "the error does not name --junit: $(cat "$T/err")"
[ ! -s "$T/early.jsonl" ] || fail "runs were done before the unwritable --junit was refused"
# shellcheck disable=SC2086
"$H" explore $Q --traces "$T/notyet" -o "$T/nodir/x.jsonl" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "-o to a missing directory: exit $rc, expected 2"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "-o to a missing directory: expected one line, got: $(cat "$T/err")"
[ ! -e "$T/notyet" ] || fail "--traces was created before the unwritable -o was refused"
: >"$T/afile"
# shellcheck disable=SC2086
"$H" explore $Q --traces "$T/afile" -o "$T/early.jsonl" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "--traces naming a file: exit $rc, expected 2"
[ ! -s "$T/early.jsonl" ] || fail "runs were done although --traces is not a directory"
"$H" merge "$T/s1.jsonl" --junit "$T/nodir/m.xml" >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "merge --junit to a missing directory must exit 2"

# ---- 7. SIGTERM / SIGINT: partial summary and JUnit ------------------------------------
# interrupt SIG: start a long campaign, wait for 3 runs, send SIG, check the
# outputs. An old report in the JUnit file must not survive.
# $3...: a command prefix to start hypsim with.
interrupt() {
    sig=$1
    want=$2
    shift 2
    rm -f "$T/int.jsonl"
    echo '<testsuites><testsuite name="stale" tests="1"/></testsuites>' >"$T/int.xml"
    "$@" "$H" explore --runs 100000 --steps 20000 --jobs 2 --no-traces --quiet \
        -o "$T/int.jsonl" --junit "$T/int.xml" &
    pid=$!
    n=0
    while [ "$(cat "$T/int.jsonl" 2>/dev/null | grep -c '"type":"run"')" -lt 3 ] && [ $n -lt 600 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    kill -"$sig" $pid
    n=0
    while kill -0 $pid 2>/dev/null && [ $n -lt 300 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    if kill -0 $pid 2>/dev/null; then
        kill -KILL $pid
        fail "SIG$sig: explore still running 30 s after the signal"
    fi
    wait $pid
    rc=$?
    [ $rc -eq "$want" ] || fail "SIG$sig: exit $rc, expected $want (ended by the signal)"
    tail -1 "$T/int.jsonl" | grep -q '"type":"summary"' || fail "SIG$sig: no summary line at the end"
    tail -1 "$T/int.jsonl" | grep -q '"partial":true' || fail "SIG$sig: summary not marked partial"
    tail -1 "$T/int.jsonl" | grep -q '"complete":false' || fail "SIG$sig: summary says complete"
    nrun=$(grep -c '"type":"run"' "$T/int.jsonl")
    tail -1 "$T/int.jsonl" | grep -q "\"runs\":$nrun," || fail "SIG$sig: summary does not count the $nrun run lines"
    # the runs reported are a prefix 0..n-1, in order
    grep '"type":"run"' "$T/int.jsonl" | sed 's/.*"run":\([0-9]*\),.*/\1/' | awk '$1 != NR - 1 { exit 1 }' \
        || fail "SIG$sig: the runs reported are not a prefix in order"
    grep -q 'stale' "$T/int.xml" && fail "SIG$sig: the old JUnit report survived"
    grep -q '<property name="partial" value="true"/>' "$T/int.xml" || fail "SIG$sig: JUnit not marked partial"
    [ "$(grep -c '<testcase ' "$T/int.xml")" -eq "$nrun" ] || fail "SIG$sig: JUnit test cases != runs reported"
    grep -q "tests=\"$nrun\"" "$T/int.xml" || fail "SIG$sig: JUnit tests= != runs reported"
}
interrupt TERM 143
# A background job of a non-interactive shell starts with SIGINT ignored
# (and hypsim keeps an ignored SIGINT ignored): give it back its default
# action first.
if command -v python3 >/dev/null 2>&1; then
    interrupt INT 130 python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])'
fi

# ---- 8. progress on a terminal ------------------------------------------------------------
if command -v script >/dev/null 2>&1; then
    script -qec "\"$H\" explore --runs 3 --steps 20000 --no-traces -o \"$T/tty.jsonl\"" /dev/null \
        >"$T/tty.out" 2>&1
    grep -q '[0-9]/3 runs, [0-9]* violations, [0-9.]* s' "$T/tty.out" \
        || fail "no progress line on a terminal: $(head -c 600 "$T/tty.out")"
    script -qec "\"$H\" explore --runs 3 --steps 20000 --no-traces --quiet -o \"$T/tty.jsonl\"" /dev/null \
        >"$T/tty.out" 2>&1
    [ ! -s "$T/tty.out" ] || fail "--quiet printed on a terminal: $(head -c 600 "$T/tty.out")"
fi
"$H" explore --runs 3 --steps 20000 --no-traces -o "$T/tty.jsonl" 2>"$T/err"
grep -q '/3 runs' "$T/err" && fail "progress printed although stderr is not a terminal"
grep -q "$(printf '\r')" "$T/err" && fail "carriage return on stderr although it is not a terminal"

# ---- 9. --help names only options the parser accepts --------------------------------------
# The options of a help text: the leading "-x, --xx" words of its option lines.
opts_of() {
    awk '/^  +-/ { for (i = 1; i <= NF && $i ~ /^-/; i++) { o = $i; sub(/,$/, "", o); print o } }' "$1" | sort -u
}
"$H" explore --help >"$T/help" || fail "explore --help: exit $?"
# the options explore's parser takes (cli/cmd_explore.c, cli/flags.c)
want="--cache --check --cpus --help --jobs --junit --kcore --layers --mem --mutant --no-traces --output
--quiet --runs --scenario --sched --seed --shard --shrink --shrink-time --steps --stop-on-first --time
--tlb --traces --vms -h -j -o"
[ "$(opts_of "$T/help" | tr '\n' ' ')" = "$(echo $want | tr ' ' '\n' | sort -u | tr '\n' ' ')" ] \
    || fail "explore --help lists: $(opts_of "$T/help" | tr '\n' ' '); the parser takes: $want"
for opt in $(opts_of "$T/help"); do
    # shellcheck disable=SC2086
    "$H" explore --runs 1 --steps 1000 --no-traces --quiet -o "$T/h.jsonl" $opt >/dev/null 2>"$T/err"
    grep -q 'unknown option' "$T/err" && fail "explore --help names $opt, which explore does not accept"
done
"$H" merge --help >"$T/help" || fail "merge --help: exit $?"
[ "$(opts_of "$T/help" | tr '\n' ' ')" = "--help --junit --list -h " ] \
    || fail "merge --help lists: $(opts_of "$T/help" | tr '\n' ' ')"
for opt in $(opts_of "$T/help"); do
    "$H" merge "$T/s1.jsonl" $opt >/dev/null 2>"$T/err"
    grep -q 'unknown option' "$T/err" && fail "merge --help names $opt, which merge does not accept"
done
echo "ok"
exit 0
