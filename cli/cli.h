/*
 * cli/cli.h - what the hypsim subcommands share: exit codes, the
 * subcommands themselves, option parsing (cli/flags.c), the run summaries
 * (cli/main.c), and the trace recording of hypsim run (cli/cmd_trace.c).
 */
#ifndef HYPSIM_CLI_H
#define HYPSIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/machine.h"

#define EXIT_OK 0
#define EXIT_VIOLATION 1
#define EXIT_USAGE 2
#define EXIT_INTERNAL 3

/* ---- The subcommands: hypsim NAME ARGS... calls cmd_NAME(argc, argv) with
 * the arguments after NAME, and exits with what it returns. */
int cmd_replay(int argc, char **argv);    /* cli/cmd_trace.c */
int cmd_shrink(int argc, char **argv);    /* cli/cmd_trace.c */
int cmd_litmus(int argc, char **argv);    /* cli/cmd_litmus.c */
int cmd_explore(int argc, char **argv);   /* cli/cmd_explore.c */
int cmd_merge(int argc, char **argv);     /* cli/cmd_explore.c */
int cmd_mutants(int argc, char **argv);   /* cli/cmd_mutants.c */

/* ---- Option values (cli/flags.c). cmd names the subcommand in messages
 * ("hypsim: CMD: ..."), NULL for none ("hypsim: ..."); opt is the option as
 * typed; v is its value, NULL when the option came last. Each returns 0, or
 * EXIT_USAGE with one line on stderr. */

/* Report a missing (v NULL) or invalid value; what describes the values
 * allowed. Always returns EXIT_USAGE. */
int cli_bad_value(const char *cmd, const char *opt, const char *v, const char *what);
/* *out = v, which must be present (what: e.g. "a path"). */
int cli_need_value(const char *cmd, const char *opt, const char *v, const char *what,
                   const char **out);
/* A whole number lo..hi, decimal or 0x hexadecimal. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
                  uint64_t *out);

/* The flags that describe the machine, the same for run and explore:
 * --cpus --vms --mem --tlb --cache --steps --check --layers --scenario,
 * and the KCore to run, --kcore PATH or --mutant NAME (exclusive). */
struct cli_kcore_flags {
    const char *kcore;      /* --kcore PATH as given, NULL if not */
    const char *mutant;     /* --mutant NAME as given, NULL if not */
};
/* Whether option a is a machine flag. If it is (each takes a value: v, the
 * next argument), parse v into cfg (set up by machine_config_default) and k
 * (zeroed before the first flag), with *rc = 0, or EXIT_USAGE and one line
 * on stderr. Otherwise touch nothing. */
bool cli_machine_flag(const char *cmd, const char *a, const char *v, struct machine_config *cfg,
                      struct cli_kcore_flags *k, int *rc);

/* ---- The arguments of run, replay and shrink (cli/flags.c; fuzzed by
 * tests/fuzz/fuzz_flags.c). Each parser returns 0, EXIT_USAGE with one
 * line on stderr, or -1 for --help. */
/* Log event classes (--events). */
enum {
    LOGEV_KCORE = 1 << 0, LOGEV_HOST = 1 << 1, LOGEV_GUEST = 1 << 2, LOGEV_HVC = 1 << 3,
    LOGEV_FAULT = 1 << 4, LOGEV_ERET = 1 << 5, LOGEV_TLB_FILL = 1 << 6, LOGEV_TLB_EVICT = 1 << 7,
    LOGEV_CACHE_EVICT = 1 << 8, LOGEV_TLBI_COMPLETE = 1 << 9,
    LOGEV_HW = LOGEV_TLB_FILL | LOGEV_TLB_EVICT | LOGEV_CACHE_EVICT | LOGEV_TLBI_COMPLETE,
    LOGEV_ALL = (1 << 10) - 1,
};

struct run_opts {
    struct machine_config cfg;
    bool json, quiet;
    const char *record;        /* --record FILE */
    uint64_t hash_every;
};
int cli_parse_run(int argc, char **argv, struct run_opts *o);

struct replay_opts {
    const char *file, *kcore, *mutant;
    bool verify, json, quiet, log, logjson;
    uint64_t from, to;
    uint64_t cpus;             /* --cpu mask, 0 = all */
    unsigned events;           /* --events mask */
    bool pa_set;
    uint64_t pa_page;
    bool gdb, gdb_log;         /* --gdb PORT, --gdb-log */
    uint64_t gdb_port, snap_every;
};
int cli_parse_replay(int argc, char **argv, struct replay_opts *o);

struct shrink_opts {
    const char *file, *out, *kcore, *mutant;
    uint64_t max_time;
    bool quiet, with_boot;
};
int cli_parse_shrink(int argc, char **argv, struct shrink_opts *o);

/* cli/cmd_mutants.c: the ELF of mutant name (kcore-<name>.elf next to the
 * default KCore) into path. Returns 0, or EXIT_USAGE with one line on
 * stderr (no name, unknown name). */
int cli_mutant_kcore(const char *name, char *path, size_t len);

/* ---- cli/main.c */
/* Seconds on the monotonic clock. */
double cli_now_s(void);
/* machine_config_default, then the environment: $HYPSIM_KCORE names the
 * KCore ELF (the model itself reads no environment). */
void cli_config_default(struct machine_config *cfg);
/* How to run this hypsim again from the current directory, for advice
 * printed to the user: argv[0] as typed when it holds a '/', else
 * "hypsim" (found on $PATH), shell-quoted when needed. */
const char *cli_self(void);
/* ---- cli/report.c */
struct trace_watch;
struct elfsym;
/* The human summary, and the --json summary ("trace" = the trace file
 * written or replayed, NULL for none). result: NULL for the machine's own
 * ("ok" / "violation"), else what to print instead (a replay that
 * diverged: "diverged"), with error the one-line reason (JSON "error").
 * w (may be NULL): the hypercalls in flight, reported with a violation. */
void cli_print_summary(const struct machine *m, double elapsed_s, const char *result,
                       const struct trace_watch *w);
void cli_print_json(const struct machine *m, double elapsed_s, const char *trace,
                    const char *result, const char *error, const struct trace_watch *w);
/* "in flight: CPU 1: host hvc donate(...) since step N" lines, for a run
 * that found a violation. */
void cli_print_inflight(const struct machine *m, const struct trace_watch *w);
/* The KCore ELF's symbols (NULL when unavailable: addresses stay bare). */
struct elfsym *cli_symbols_open(const char *elf);
void cli_symbols_close(struct elfsym *s);
/* "give_to_vm+0x2c" for a violation's insn text ("CPU n, 0xPC: ..."), or
 * "" (buf). */
const char *cli_symbolize_insn(struct elfsym *sym, const char *insn, char *buf, size_t len);

/* ---- cli/cmd_trace.c */
struct cli_record;
/* hypsim run: record m (after machine_init, before the first step), one
 * checkpoint every hash_every steps (0: default). path is --record FILE,
 * checked for writability now (before the run); NULL records for a
 * violation file. Returns 0 or an exit code (message printed). */
int cli_record_begin(struct cli_record **r, struct machine *m, const char *path,
                     uint64_t hash_every);
/* After the run: write the trace (to --record FILE, or to a new file
 * hypsim-violation-seed<S>[-K].json in the current directory that no
 * earlier run wrote), its name into written. Returns 0 or an exit code.
 * Frees r. */
int cli_record_end(struct cli_record *r, struct machine *m, bool quiet, char *written, size_t len);
/* After the run: drop the recording without writing it. Frees r. */
void cli_record_discard(struct cli_record *r);
/* The recording's view of what is in flight (for the run's summary). */
const struct trace_watch *cli_record_watch(const struct cli_record *r);

/* ---- cli/cmd_gdb.c */
struct trace;
/* hypsim replay FILE --gdb PORT: serve one gdb session on the replay of t
 * on m (fresh, t's config, KCore kpath). Returns the exit code. */
int cli_replay_gdb(struct machine *m, const struct trace *t, const char *file, const char *kpath,
                   unsigned port, uint64_t snapshot_every, bool log_packets);

#endif
