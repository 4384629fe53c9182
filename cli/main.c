/*
 * cli/main.c - the `hypsim` command: argument parsing, human and JSON
 * output, exit codes (DESIGN.md "Interfaces": 0 ok, 1 violation, 2 bad usage
 * or input, 3 internal error), and the dispatch to the other subcommands
 * (cli/cmd_*.c; machine flags: cli/flags.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "model/hcname.h"
#include "model/machine.h"
#include "traces/trace.h"

static const char *prog = "hypsim";

static void usage_main(FILE *f)
{
    fprintf(f,
"usage: hypsim <command> [options]\n"
"\n"
"Run the KCore hypervisor core on a model of Armv8-A memory-management\n"
"hardware (stage 1+2 page tables, VMID/ASID-tagged TLBs, a write-back cache\n"
"that non-cacheable accesses bypass) on several CPUs against an adversarial\n"
"host and guests, checking the isolation invariants after every step.\n"
"\n"
"commands:\n"
"  run       run one simulation (hypsim run --help)\n"
"  replay    re-execute a recorded trace, --verify it, --log it step by step\n"
"  shrink    minimise a trace that ends in a violation\n"
"  litmus    run herd AArch64 VMSA litmus tests on the model (hypsim litmus --help)\n"
"  explore   run many schedules, save every violation (hypsim explore --help)\n"
"  merge     combine the outputs of explore shards into one summary\n"
"  mutants   list the seeded-bug KCore variants (--mutant NAME)\n"
"  help CMD  the options of CMD (the same as hypsim CMD --help)\n"
"\n"
"  --version the version, the default KCore and its SHA-256\n"
"\n"
"exit codes: 0 no violation, 1 violation found, 2 bad usage or input,\n"
"            3 internal error\n");
}

static void usage_run(FILE *f)
{
    fprintf(f,
"usage: hypsim run [options]\n"
"\n"
"Run one simulation and report the first isolation violation, if any.\n"
"\n"
"machine:\n"
"  --cpus N          simulated CPUs, 1-64 (default 4)\n"
"  --vms N           VMs the host keeps alive, 0-16 (default 2)\n"
"  --mem MIB         simulated memory in MiB, 64-4096 (default 256)\n"
"  --cache SETSxWAYS data cache geometry, 64-byte lines (default 256x8)\n"
"  --tlb N           TLB entries per CPU (default 64)\n"
"  --kcore PATH      KCore ELF to run (default: the one built with hypsim,\n"
"                    or $HYPSIM_KCORE)\n"
"  --mutant NAME     run the seeded-bug KCore NAME instead (hypsim mutants)\n"
"  --scenario FILE   scripted host/guest actions (docs/SCENARIO.md)\n"
"run:\n"
"  --steps N         steps to run (default 1000000)\n"
"  --seed S          seed of every random choice (default 1)\n"
"  --sched KIND      random | rr | pct[:d] (default random; PCT depth 3, in\n"
"                    rounds of 4096 steps: fresh priorities and d-1 change\n"
"                    points per round)\n"
"  --check MODE      incremental | full | off (default incremental)\n"
"  --layers on|off   L1 refinement and L2 spec checks (invariant 8; default on)\n"
"  --record FILE     write the run as a trace (traces/FORMAT.md); without it a\n"
"                    run that finds a violation writes a new file\n"
"                    hypsim-violation-seed<S>[-K].json in the current\n"
"                    directory (never one that exists)\n"
"  --hash-every K    state-hash checkpoint every K steps in the trace (1000)\n"
"output:\n"
"  --json            print a JSON summary on stdout\n"
"  --quiet           print nothing but errors (and --json)\n"
"  -h, --help        this help\n");
}

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* argv[0], kept for the advice printed to the user (cli_self). Written
 * once, in main, before anything reads it. */
static const char *self_name = "hypsim";

const char *cli_self(void)
{
    static char quoted[600];
    const char *p = self_name;
    if (!strpbrk(p, " \t\n'\"\\$`*?[]{}()<>|&;#~"))
        return p;
    snprintf(quoted, sizeof(quoted), "'%s'", p);   /* names with a quote are not quoted further */
    return quoted;
}

static int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct machine *m;
    struct cli_record *rec = NULL;
    char err[512], written[600];
    int rc = cli_parse_run(argc, argv, &o);
    double t0, el, last = 0;
    bool progress;

    if (rc < 0) {
        usage_run(stdout);
        return EXIT_OK;
    }
    if (rc)
        return rc;
    m = calloc(1, sizeof(*m));
    if (!m)
        return EXIT_INTERNAL;
    if (machine_init(m, &o.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        free(m);
        return EXIT_USAGE;
    }
    /* Every run is recorded (choices only: a few bytes a step). With
     * --record the trace is written whatever the result (the path is
     * checked now, before the run); otherwise only when a violation is
     * found, next to its report, as a new
     * hypsim-violation-seed<S>[-K].json in the current directory. */
    /* State-hash checkpoints hash all of memory: an unasked-for recording
     * keeps only the final one (a replay still verifies it), unless
     * --hash-every says otherwise. */
    uint64_t hash_every = o.record || o.hash_every ? o.hash_every : 1ull << 52;
    if ((rc = cli_record_begin(&rec, m, o.record, hash_every)) != 0) {
        machine_free(m);
        free(m);
        return rc;
    }
    progress = !o.quiet && !o.json && isatty(STDERR_FILENO);
    t0 = cli_now_s();
    for (uint64_t i = 0; i < o.cfg.steps; i++) {
        if (machine_step(m))
            break;
        if (progress && (i & 0xffff) == 0) {
            double t = cli_now_s() - t0;
            if (t > 1.0 && t - last > 0.2) {
                last = t;
                fprintf(stderr, "\r  %5.1f%%  %llu steps  %.0f steps/s ", 100.0 * i / o.cfg.steps,
                        (unsigned long long)i, i / t);
            }
        }
    }
    el = cli_now_s() - t0;
    if (progress && last > 0)
        fprintf(stderr, "\r%60s\r", "");
    bool write_trace = o.record || m->nviol;
    rc = m->nviol ? EXIT_VIOLATION : EXIT_OK;
    written[0] = 0;
    /* the watch lives in the recording: print before it is freed */
    if (o.json && !write_trace)
        cli_print_json(m, el, NULL, NULL, NULL, cli_record_watch(rec));
    else if (!o.quiet && !o.json)
        cli_print_summary(m, el, NULL, cli_record_watch(rec));
    if (write_trace) {
        struct trace_watch w = *cli_record_watch(rec);
        int wrc = cli_record_end(rec, m, o.quiet || o.json, written, sizeof(written));
        rc = wrc ? wrc : rc;
        if (o.json)
            cli_print_json(m, el, written[0] ? written : NULL, NULL, NULL, &w);
        if (!o.record && !wrc && !o.json && m->nviol) {
            uint64_t from = m->viol[0].step > 40 ? m->viol[0].step - 40 : 0;
            fprintf(stderr, "the violating run is saved in %s:\n"
                    "  replay it:       %s replay %s\n"
                    "  its last steps:  %s replay %s --log --from %" PRIu64 "\n"
                    "  shrink it:       %s shrink %s -o %.*s-shrunk.json --max-time 60\n",
                    written, cli_self(), written, cli_self(), written, from, cli_self(), written,
                    (int)(strlen(written) - 5), written);
        }
    } else {
        cli_record_discard(rec);
    }
    machine_free(m);
    free(m);
    return rc;
}

static void print_version(void)
{
    struct machine_config d;
    uint8_t dg[SHA256_BYTES];
    char hex[SHA256_HEX], err[512];
    cli_config_default(&d);
    printf("hypsim %s\n", HYPSIM_VERSION);
    if (sha256_file(d.kcore_path, dg, err, sizeof(err)) == 0) {
        sha256_hex(dg, hex);
        printf("KCore %s (SHA-256 %s)\n", d.kcore_path, hex);
    } else {
        printf("KCore %s: not readable\n", d.kcore_path);
    }
    printf("trace format %d, scenario format 1\n", TRACE_FORMAT_VERSION);
}

int main(int argc, char **argv)
{
    if (argc > 0 && argv[0] && strchr(argv[0], '/'))
        self_name = argv[0];
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage_main(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        print_version();
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "help")) {
        /* hypsim help CMD = hypsim CMD --help */
        static char help[] = "--help";
        char *hv[2] = { help, NULL };
        const char *c = argv[2];
        if (argc > 3) {
            fprintf(stderr, "%s: help: one command at a time (see 'hypsim help')\n", prog);
            return EXIT_USAGE;
        }
        if (!strcmp(c, "run")) return cmd_run(1, hv);
        if (!strcmp(c, "replay")) return cmd_replay(1, hv);
        if (!strcmp(c, "shrink")) return cmd_shrink(1, hv);
        if (!strcmp(c, "litmus")) return cmd_litmus(1, hv);
        if (!strcmp(c, "explore")) return cmd_explore(1, hv);
        if (!strcmp(c, "merge")) return cmd_merge(1, hv);
        if (!strcmp(c, "mutants")) return cmd_mutants(1, hv);
        fprintf(stderr, "%s: help: unknown command '%s' (see 'hypsim help')\n", prog, c);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "replay"))
        return cmd_replay(argc - 2, argv + 2);
    if (!strcmp(argv[1], "shrink"))
        return cmd_shrink(argc - 2, argv + 2);
    if (!strcmp(argv[1], "litmus")) return cmd_litmus(argc - 2, argv + 2);
    if (!strcmp(argv[1], "explore")) return cmd_explore(argc - 2, argv + 2);
    if (!strcmp(argv[1], "merge")) return cmd_merge(argc - 2, argv + 2);
    if (!strcmp(argv[1], "mutants")) return cmd_mutants(argc - 2, argv + 2);
    fprintf(stderr, "%s: unknown command '%s' (see 'hypsim --help')\n", prog, argv[1]);
    return EXIT_USAGE;
}
