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
#  5. a saved violation trace replays to the same violation.
# Uses the no_tlbi_donate mutant with short runs, so that some runs find a
# violation and others do not.
set -u
H=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- 1. bad usage -------------------------------------------------------------
for args in "--runs 0" "--sched bogus" "--sched pct:0" "--sched exhaustive:10:9" "--shard 3/2" \
            "--shard 0/2" "--shard x" "--mutant no_such_mutant" "--jobs 0" "--time -1" \
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
echo "ok"
exit 0
