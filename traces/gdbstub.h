/*
 * traces/gdbstub.h - a GDB remote-serial-protocol stub on a trace replay:
 * `hypsim replay TRACE --gdb PORT`, then `target remote :PORT` in
 * gdb-multiarch (README "Debugging a trace with gdb").
 *
 * What gdb sees: one thread per simulated CPU (thread i+1 = CPU i); the
 * AArch64 core registers (x0-x30, sp, pc, cpsr) and KCore's EL2 system
 * registers (an extra target-description feature); memory as KCore reads
 * it, through its EL2 translation (TLB entry if one matches, else a walk of
 * its stage-1 tables) and then the cache or memory per the attributes;
 * software breakpoints and write/read/access watchpoints on KCore's data
 * accesses; stepi, continue and their reverse forms; `monitor` commands for
 * the model's state (TLBs, cache lines, page owners and labels, physical
 * memory, the step). Nothing gdb does changes the replay: writes to
 * registers or memory are refused.
 *
 * Time. A position is a machine step count (the replay's unit) plus, per
 * CPU, an offset into the straight-line group its next step runs
 * (cpu/peek.h): one KCore `stepi` on a register-only instruction moves that
 * offset; on the instruction that ends the group (a load, store, branch,
 * system instruction) it runs machine steps - other CPUs' events and
 * hardware events as recorded - up to and including that CPU's next step.
 * Reverse execution re-executes, as rr does: the replay is deterministic,
 * so an earlier position is reached exactly by running the trace's choices
 * again from the nearest snapshot - a forked copy of the replay process
 * kept every K steps - up to it. Where to go back to is found in a history
 * of every step's CPU, group and KCore accesses that the replay keeps as it
 * runs forward.
 *
 * Processes: the caller's process listens, accepts one connection, and
 * then only coordinates (a subreaper for the others, which it ends by PID
 * when the session ends); snapshot processes wait; one active process at a
 * time holds the position and serves gdb. Linux only (prctl, SEQPACKET).
 */
#ifndef HYPSIM_GDBSTUB_H
#define HYPSIM_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "traces/trace.h"

#define GDBSTUB_MAX_SNAPSHOTS 64

struct gdbstub_opts {
    unsigned port;              /* TCP port on 127.0.0.1; 0: any free one */
    uint64_t snapshot_every;    /* K; 0: max(2000, steps / 16) */
    const char *exec_file;      /* what qXfer:exec-file gives gdb (the KCore
                                   debug ELF), NULL: none */
    FILE *msg;                  /* where the stub tells the user what it does */
    bool log_packets;           /* every packet in and out on msg */
};

/* Serve one gdb session on the replay of t on m (initialised with t's
 * config and KCore, no step run yet). Prints "gdb: listening on
 * 127.0.0.1:PORT" on o->msg before it waits for the connection. Returns 0
 * when gdb detached, killed or disconnected; -1 with a one-line message in
 * err when the stub cannot start (port in use, ...) or a replay process
 * failed. */
int gdbstub_run(struct machine *m, const struct trace *t, const struct gdbstub_opts *o,
                char *err, size_t errlen);

/* The debug twin of a KCore ELF (hyp/CMakeLists.txt: X.elf -> X.debug.elf)
 * into out, if it exists and loads exactly the same image (text and
 * segments), so that its symbols and lines describe the code that runs.
 * Returns 0, or -1 with the reason in why. */
int gdbstub_debug_elf(const char *kcore_path, char *out, size_t outlen, char *why, size_t whylen);

#endif
