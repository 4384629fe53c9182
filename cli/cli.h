/*
 * cli/cli.h - what the hypsim subcommands share: exit codes, the run
 * summaries (cli/main.c), and the trace commands (cli/cmd_trace.c).
 */
#ifndef HYPSIM_CLI_H
#define HYPSIM_CLI_H

#include <stdint.h>
#include "model/machine.h"

#define EXIT_OK 0
#define EXIT_VIOLATION 1
#define EXIT_USAGE 2
#define EXIT_INTERNAL 3

/* cli/main.c: the human summary, and the --json summary ("trace" = the
 * trace file written or replayed, NULL for none). */
void cli_print_summary(const struct machine *m, double elapsed_s);
void cli_print_json(const struct machine *m, double elapsed_s, const char *trace);

/* cli/cmd_trace.c */
struct cli_record;
/* hypsim run --record FILE: start recording m (after machine_init, before
 * the first step), one checkpoint every hash_every steps (0: default).
 * Returns 0 or an exit code (message printed). */
int cli_record_begin(struct cli_record **r, struct machine *m, const char *path,
                     uint64_t hash_every);
/* After the run: write the trace. Returns 0 or an exit code. Frees r. */
int cli_record_end(struct cli_record *r, struct machine *m, bool quiet);
/* After the run: drop the recording without writing it. Frees r. */
void cli_record_discard(struct cli_record *r);

int cmd_replay(int argc, char **argv);
int cmd_shrink(int argc, char **argv);

#endif
