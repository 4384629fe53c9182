#!/bin/sh
# litmus/test_cli.sh HYPSIM DATA_DIR - `hypsim litmus` on bad input and in
# multi-file runs (issue 14): each case must end, with the documented exit
# code and message, and without a sanitizer report (under the ASan+UBSan
# build a report changes the exit code or writes "runtime error" /
# "LeakSanitizer" on stderr, which fails the case).
# DATA_DIR is tests/data/litmus.
set -u
H=$1
D=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/hypsim-litmus-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
fails=0

# run NAME WANT_RC ARGS...: hypsim litmus ARGS under a 60 s timeout; the
# output in $T/out, $T/err.
run() {
    name=$1; want=$2; shift 2
    timeout 60 "$H" litmus "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL $name: exit $got, expected $want"; sed -n 1,5p "$T/err"; fails=$((fails + 1)); return 1
    fi
    if grep -q "runtime error\|Sanitizer" "$T/err"; then
        echo "FAIL $name: sanitizer report"; sed -n 1,10p "$T/err"; fails=$((fails + 1)); return 1
    fi
    return 0
}
# has NAME FILE PATTERN: grep -q PATTERN in FILE, else a failure
has() {
    if ! grep -q -- "$3" "$2"; then
        echo "FAIL $1: no '$3' in $(basename "$2")"; sed -n 1,5p "$2"; fails=$((fails + 1))
    fi
}

# An empty directory: exit 2 with a message (was: UBSan, qsort on NULL).
mkdir "$T/empty"
run empty_dir 2 "$T/empty" && has empty_dir "$T/err" "no .litmus file"

# --max-states 0 after a file: exit 2, no leak (was: LSan, exit 1).
run max_states_0 2 "$D/reach.litmus" --max-states 0 && has max_states_0 "$T/err" "max-states"
run unknown_option 2 "$D/reach.litmus" --frobnicate

# A FIFO and a device: refused without blocking or reading (was: hang,
# unbounded growth on /dev/zero).
mkfifo "$T/fifo.litmus"
run fifo 2 "$T/fifo.litmus" && has fifo "$T/err" "not a regular file"
run dev_zero 2 /dev/zero && has dev_zero "$T/err" "not a regular file"

# A condition nested 100,000 deep: an error naming file:line (was: SIGSEGV).
{
    printf 'AArch64 deep\n{ int x; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists '
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "("; printf "0:X0=0"; for (i = 0; i < 100000; i++) printf ")"; print "" }'
} >"$T/deep.litmus"
run deep 2 "$T/deep.litmus" && has deep "$T/err" "deep.litmus:5: condition nested deeper than"

# An integer wider than 64 bits: refused with file:line (was: 2^64-1).
sed 's/int x=1;/int x=100000000000000000000000000;/' "$D/reach.litmus" >"$T/bigint.litmus"
run bigint 2 "$T/bigint.litmus" && has bigint "$T/err" "bigint.litmus:3: integer 100000000000000000000000000 out of range"

# A garbage --kinds file: an error naming file:line (was: ignored).
run garbage_kinds 2 --kinds "$D/garbage-kinds.txt" "$D/reach.litmus" && \
    has garbage_kinds "$T/err" "garbage-kinds.txt:3:"
# isla's "NAME allowed|forbidden SOURCE" lines are verdicts.
run isla_kinds 0 --memory sc --kinds "$D/isla-verdicts.txt" --json "$D/reach.litmus" "$D/MP-sc.litmus" && {
    has isla_kinds "$T/out" '"name":"reach","file":"[^"]*","supported":true,"reason":null,"verdict":"Allowed"'
    has isla_kinds "$T/out" '"classification":"complete"'
    has isla_kinds "$T/out" '"classification":"sound"'
}

# A thread that never terminates: no final state, "no verdict", never
# "sound" although kinds.txt says Forbidden.
run spin 0 --json "$D/spin.litmus" && {
    has spin "$T/out" '"verdict":"Forbidden"'
    has spin "$T/out" '"classification":"no verdict"'
    has spin "$T/out" '"no_final_state":1'
}

# More than 6 threads: unsupported, saying what the limit is.
{
    printf 'AArch64 seven\n{ int x; 0:X1=x; }\n P0 | P1 | P2 | P3 | P4 | P5 | P6 ;\n'
    printf ' LDR X0,[X1] | NOP | NOP | NOP | NOP | NOP | NOP ;\nexists (0:X0=0)\n'
} >"$T/seven.litmus"
run seven 0 "$T/seven.litmus" && has seven "$T/out" "more than 6 threads"

# Multi-file: a malformed file is one test marked "parse error" in the
# listing and the JSON, the others run; the exit code is 2 ...
M=$T/multi
mkdir "$M"
cp "$D/reach.litmus" "$D/MP-sc.litmus" "$D/malformed.litmus" "$D/kinds.txt" "$M/"
run multi 2 --memory sc --json "$M" && {
    has multi "$T/out" '"name":"malformed","file":"[^"]*","supported":false'
    has multi "$T/out" '"classification":"parse error"'
    has multi "$T/out" '"name":"reach"[^}]*"classification":"complete"'
    has multi "$T/out" '"name":"MP-sc"[^}]*"classification":"sound"'
    has multi "$T/out" '"tests":3,"parse_errors":1,"supported":2'
    has multi "$T/err" "malformed.litmus:4: more columns than the thread table header names (1)"
}
run multi_text 2 --memory sc "$M" && has multi_text "$T/out" "summary (SC memory): 3 tests, 2 supported"
# ... unless a test is unsound, which a bad file never hides: exit 1.
run multi_unsound 1 --kinds "$D/unsound-kinds.txt" --json "$M" && \
    has multi_unsound "$T/out" '"classification":"unsound"'

# The memory model: MP without barriers is Armv8-allowed; SC never reaches
# it, the relaxed model (the default) does (test data written for SC: its
# verdict file calls MP-sc forbidden, so relaxed is "unsound" against it).
run mp_sc 0 --memory sc --kinds "$D/isla-verdicts.txt" --json "$D/MP-sc.litmus" && \
    has mp_sc "$T/out" '"memory":"sc"'
run mp_relaxed 1 --kinds "$D/isla-verdicts.txt" --json "$D/MP-sc.litmus" && {
    has mp_relaxed "$T/out" '"classification":"unsound"'
    has mp_relaxed "$T/out" '"memory":"relaxed"'
}
run bad_memory 2 --memory tso "$D/MP-sc.litmus" && has bad_memory "$T/err" "sc or relaxed"

# Every test's JSON carries supported and classification.
run every_test 2 --memory sc --json "$M" "$D/spin.litmus" "$T/fifo.litmus" && {
    n=$(grep -o '"name":' "$T/out" | wc -l)
    s=$(grep -o '"supported":[tf]' "$T/out" | wc -l)
    c=$(grep -o '"classification":' "$T/out" | wc -l)
    if [ "$n" -ne 5 ] || [ "$s" -ne 5 ] || [ "$c" -ne 5 ]; then
        echo "FAIL every_test: $n tests, $s supported, $c classification fields (want 5 each)"
        fails=$((fails + 1))
    fi
}

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all litmus CLI cases pass"
