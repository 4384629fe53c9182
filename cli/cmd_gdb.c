/*
 * cli/cmd_gdb.c - `hypsim replay TRACE --gdb PORT`: the replay under the
 * gdb stub (traces/gdbstub.h), with the KCore debug ELF handed to gdb.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "traces/gdbstub.h"

int cli_replay_gdb(struct machine *m, const struct trace *t, const char *file, const char *kpath,
                   unsigned port, uint64_t snapshot_every, bool log_packets)
{
    struct gdbstub_opts o = { 0 };
    char dbg[600], why[600], err[512];

    o.port = port;
    o.snapshot_every = snapshot_every;
    o.msg = stderr;
    o.log_packets = log_packets;
    if (gdbstub_debug_elf(kpath, dbg, sizeof(dbg), why, sizeof(why)) == 0)
        o.exec_file = dbg;
    else
        fprintf(stderr, "hypsim: replay: warning: no KCore debug ELF for gdb (%s): gdb shows no symbols "
                        "unless given them\n", why);
    if (gdbstub_run(m, t, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "hypsim: %s: gdb: %s\n", file, err);
        return EXIT_INTERNAL;
    }
    fprintf(stderr, "gdb: session over\n");
    return EXIT_OK;
}
