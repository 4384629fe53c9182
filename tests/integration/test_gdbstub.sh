#!/bin/sh
# tests/integration/test_gdbstub.sh HYPSIM BUILD SRC - `hypsim replay
# TRACE --gdb PORT` driven by gdb-multiarch --batch (traces/gdbstub.h):
#  1. a session on the no_tlbi_donate counterexample (traces/corpus/
#     mutants): threads, registers and system registers, symbols from the
#     KCore debug ELF, a breakpoint at a hypercall handler (hc_set_boot_info),
#     stepi and reverse-stepi (the PC goes back, step by step, to the
#     breakpoint), monitor tlb/page/pa/cache, a write watchpoint on the
#     page's ownership entry forward and in reverse, continue to the
#     violation at the end, reverse-continue back to step 0; then `kill`
#     ends the stub (exit 0) and every process it forked;
#  2. the stub killed by SIGTERM in the middle of a session leaves no
#     process behind;
#  3. bad usage exits 2.
# The checks run as gdb Python; the script passes when gdb printed
# "RESULT: 0 failures" and no "CHECK FAIL".
set -u
H=$1
B=$(cd "$2" && pwd)
S=$(cd "$3" && pwd)
T=$(mktemp -d /tmp/hypsim-gdb.XXXXXX)
STUB=""
fail() { echo "FAIL: $*"; [ -f "$T/stub.err" ] && tail -n 20 "$T/stub.err"; exit 1; }

# Processes of this test's stub: every one is a fork of it, so its command
# line names our private copy of the trace.
ours() {
    for p in /proc/[0-9]*; do
        tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -F "$T/trace.json" && echo "${p#/proc/}"
    done
}
cleanup() {
    [ -n "$STUB" ] && kill -TERM "$STUB" 2>/dev/null && wait "$STUB" 2>/dev/null
    for p in $(ours); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

command -v gdb-multiarch >/dev/null 2>&1 || {
    cand=$(apt-cache policy gdb-multiarch 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
        echo "*** SKIPPED (not a pass): gdb-multiarch cannot be installed on this system"
        exit 77
    fi
    fail "gdb-multiarch is missing but installable ($cand): run scripts/deps.sh (make test does)"
}
KC=$B/hyp/kcore-no_tlbi_donate.elf
[ -f "$KC" ] && [ -f "$B/hyp/kcore-no_tlbi_donate.debug.elf" ] || fail "KCore mutant ELFs not built in $B/hyp"
cp "$S/traces/corpus/mutants/no_tlbi_donate.json" "$T/trace.json"

# start_stub [ARGS]: the stub in the background (STUB = its PID), PORT.
start_stub() {
    # (the old stub.err must not be read for the new one's port)
    rm -f "$T/stub.err"
    : >"$T/stub.err"
    HYPSIM_KCORE=$KC "$H" replay "$T/trace.json" --gdb 0 "$@" >"$T/stub.out" 2>>"$T/stub.err" &
    STUB=$!
    PORT=
    i=0
    while [ -z "$PORT" ]; do
        PORT=$(sed -n 's/^gdb: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/stub.err")
        i=$((i + 1))
        [ $i -lt 100 ] || fail "the stub did not listen within 10 s"
        kill -0 "$STUB" 2>/dev/null || fail "the stub exited before listening"
        [ -n "$PORT" ] || sleep 0.1
    done
}

# wait_gone PID SECONDS: PID has exited (reaped); 1 if not in time.
wait_gone() {
    i=0
    while kill -0 "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt $((10 * $2)) ] || return 1
        sleep 0.1
    done
    return 0
}

# ---- 1. a whole session ----------------------------------------------------------
start_stub --snapshot-every 1000
cat >"$T/session.gdb" <<EOF
set pagination off
set confirm off
target remote :$PORT
set scheduler-locking step
directory $S/hyp/kcore
python
import gdb, re
fails = []
def check(ok, what):
    print(("CHECK ok: " if ok else "CHECK FAIL: ") + what)
    if not ok:
        fails.append(what)
def mon(cmd):
    return gdb.execute("monitor " + cmd, to_string=True)
def step():
    return int(re.search(r"step (\d+) of", mon("where")).group(1))
def pc():
    return int(gdb.parse_and_eval("\$pc"))
def run(cmd):
    return gdb.execute(cmd, to_string=True)
# gdb prints what a stop was (watchpoint values, end of history) itself,
# not into to_string: such commands run between markers that the shell
# script checks in gdb's output.
def section(name, cmd):
    print("BEGIN " + name)
    gdb.execute(cmd)
    print("END " + name)

# threads, registers, symbols
check(len(gdb.selected_inferior().threads()) == 4, "one thread per simulated CPU (4)")
check(gdb.current_progspace().filename.endswith("kcore-no_tlbi_donate.debug.elf"),
      "gdb loaded the KCore debug ELF the stub named (qXfer:exec-file)")
check(pc() == 0 and gdb.selected_frame().name() == "_start", "CPU 0 starts at _start, pc 0")
regs = run("info registers x0 x1 sp pc cpsr vttbr_el2 hcr_el2 esr_el2 elr_el2 far_el2 hpfar_el2 ttbr0_el2")
check(all(r in regs for r in ("vttbr_el2", "hcr_el2", "hpfar_el2", "ttbr0_el2")),
      "system registers of the extra target feature are shown")
check(int(gdb.parse_and_eval("\$x1")) == 4, "x1 = number of CPUs at entry")
check("EL=2" in regs, "cpsr shows EL2")

# a breakpoint at a hypercall handler
run("break hc_set_boot_info")
run("continue")
f = gdb.selected_frame()
check(f.name() == "hc_set_boot_info", "stopped in the hypercall handler hc_set_boot_info (got %s)" % f.name())
bp = pc()
s0 = step()
t0 = gdb.selected_thread().num
x_at_bp = [int(gdb.parse_and_eval("\$x%d" % i)) for i in range(31)]
check(s0 > 0, "the breakpoint is hit after step 0 (step %d)" % s0)

# stepi, reverse-stepi
pcs = [pc()]
for i in range(3):
    run("stepi")
    pcs.append(pc())
check(pcs[3] > pcs[0] and len(set(pcs)) == 4, "three stepi move the PC: %s" % [hex(p) for p in pcs])
check(gdb.selected_thread().num == t0, "stepi stays on the stepped thread")
run("reverse-stepi")
check(pc() == pcs[2], "reverse-stepi: the PC went back to the previous instruction (%#x)" % pc())
run("reverse-stepi")
check(pc() == pcs[1], "reverse-stepi again: %#x" % pc())
run("reverse-stepi")
check(pc() == bp, "back at the breakpoint after three reverse-stepi (%#x)" % pc())
check([int(gdb.parse_and_eval("\$x%d" % i)) for i in range(31)] == x_at_bp,
      "the registers there are the ones seen at the breakpoint")
check(step() <= s0 + 3 and step() >= s0, "the machine went back too (step %d, breakpoint at %d)" % (step(), s0))

# the model's state
out = mon("tlb 0")
check("TLB of CPU 0" in out and re.search(r"\[\s*\d+\] S1\s+EL2 .* -> pa 0x", out) is not None,
      "monitor tlb 0 lists CPU 0's EL2 TLB entries")
out = mon("page 0x2040000")
check("page 0x2040000" in out and "owner" in out, "monitor page names the page's owner")
out = mon("pa 0x1ff000 16")
check("0x0001ff000:" in out and "[" in out, "monitor pa reads physical memory with labels")
check("ERROR" not in mon("help") and "tlb [CPU]" in mon("help"), "monitor help")

# a watchpoint on the ownership entry of the page the violation names
run("delete")
run("watch *(unsigned long *)0xc10200")
section("watch-forward", "continue")
check(int(gdb.parse_and_eval("*(unsigned long *)0xc10200")) == 3,
      "the watchpoint stopped after KCore's write of owner VM 0 (3), seen through KCore's EL2 view")
sw = step()
section("watch-reverse", "reverse-continue")
check(step() == sw - 1, "reverse-continue stops at the same write, one step earlier, before it (step %d)" % step())
check(int(gdb.parse_and_eval("*(unsigned long *)0xc10200")) == 0, "and the entry holds its old value")
check("str" in run("x/i \$pc"), "at the store instruction")
run("delete")

# to the end of the trace: the violation
section("to-end", "continue")
check(step() == 25828, "continue runs to the end of the trace (step %d)" % step())
check("invariant 3" in mon("violation"), "monitor violation")
check("dirty" in mon("cache 0xc10200"), "monitor cache: the ownership entry's line is dirty")

# reverse-continue without breakpoints: back to the beginning
section("to-start", "reverse-continue")
check(step() == 0 and pc() == 0, "reverse-continue without breakpoints goes back to step 0")
check("kept at steps: 0 1000 2000" in mon("snapshots"), "snapshots every 1000 steps were kept")
print("RESULT: %d failures" % len(fails))
end
kill
EOF
timeout 180 gdb-multiarch -q -batch -x "$T/session.gdb" >"$T/gdb.out" 2>&1
grc=$?
grep -E '^(CHECK|RESULT)' "$T/gdb.out"
[ $grc -ne 124 ] || fail "gdb did not finish within 180 s"
grep -q '^RESULT: 0 failures' "$T/gdb.out" || { tail -n 30 "$T/gdb.out"; fail "gdb session: checks failed"; }
# expect SECTION TEXT WHAT: gdb printed TEXT during that section.
expect() {
    sed -n "/^BEGIN $1\$/,/^END $1\$/p" "$T/gdb.out" | grep -q -F "$2" || {
        sed -n "/^BEGIN $1\$/,/^END $1\$/p" "$T/gdb.out"
        fail "$3"
    }
    echo "CHECK ok: $3"
}
expect watch-forward "Hardware watchpoint" "continue stops at the write watchpoint"
expect watch-forward "New value = 3" "gdb shows the value KCore wrote (owner VM 0 = 3)"
expect watch-reverse "Hardware watchpoint" "reverse-continue stops at the write watchpoint"
expect watch-reverse "New value = 0" "in reverse gdb shows the value before the write"
expect to-end "violation of invariant 3" "at the end of the trace the stub names the violation"
expect to-end "No more reverse-execution history" "the end of the trace is the end of the history"
expect to-start "No more reverse-execution history" "step 0 is the beginning of the history"
wait_gone "$STUB" 20 || fail "the stub did not exit after gdb's kill"
wait "$STUB"
rc=$?
STUB=""
[ $rc -eq 0 ] || fail "the stub exited $rc after the session"
left=$(ours)
[ -z "$left" ] || fail "processes of the session left behind: $left"
echo "session: ok"

# ---- 2. SIGTERM in the middle of a session ------------------------------------------
start_stub --snapshot-every 1000
cat >"$T/hold.gdb" <<EOF
set pagination off
target remote :$PORT
monitor goto 20000
monitor goto 3000
shell touch $T/ready
shell sleep 30
EOF
timeout 60 gdb-multiarch -q -batch -x "$T/hold.gdb" >"$T/gdb2.out" 2>&1 &
G=$!
i=0
until [ -f "$T/ready" ]; do
    i=$((i + 1))
    [ $i -lt 300 ] || fail "the second session did not get going"
    sleep 0.1
done
[ "$(ours | wc -l)" -gt 3 ] || fail "expected snapshot processes during the session"
kill -TERM "$STUB"
wait_gone "$STUB" 10 || fail "the stub did not exit on SIGTERM"
wait "$STUB"
STUB=""
i=0
while [ -n "$(ours)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(ours)" ] || fail "processes left behind after SIGTERM: $(ours)"
kill -TERM "$G" 2>/dev/null
wait "$G" 2>/dev/null
echo "SIGTERM: ok"

# ---- 3. bad usage ----------------------------------------------------------------------
for args in "--gdb 70000" "--gdb" "--gdb 0 --log" "--gdb 0 --json" "--snapshot-every 0 --gdb 0"; do
    # shellcheck disable=SC2086
    HYPSIM_KCORE=$KC "$H" replay "$T/trace.json" $args >/dev/null 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "replay $args: exit $rc, expected 2"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "replay $args: expected one line on stderr: $(cat "$T/err")"
done
echo "ok"
