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
"                    run that finds a violation writes\n"
"                    hypsim-violation-seed<S>.json in the current directory\n"
"  --hash-every K    state-hash checkpoint every K steps in the trace (1000)\n"
"output:\n"
"  --json            print a JSON summary on stdout\n"
"  --quiet           print nothing but errors (and --json)\n"
"  -h, --help        this help\n");
}

struct run_opts {
    struct machine_config cfg;
    bool json, quiet;
    const char *record;        /* --record FILE */
    uint64_t hash_every;
};

/* Parse hypsim run's flags: the machine flags (cli/flags.c) and the run's
 * own. Returns 0, EXIT_USAGE, or -1 for --help. */
static int parse_run(int argc, char **argv, struct run_opts *o)
{
    struct cli_kcore_flags k = { 0 };

    cli_config_default(&o->cfg);
    o->json = o->quiet = false;
    o->record = NULL;
    o->hash_every = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        int rc = 0;
        if (cli_machine_flag(NULL, a, v, &o->cfg, &k, &rc))
            i++;                /* --cpus N, --kcore PATH, ... (cli/flags.c) */
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return -1;
        else if (!strcmp(a, "--json"))
            o->json = true;
        else if (!strcmp(a, "--quiet"))
            o->quiet = true;
        else if (!strcmp(a, "--seed")) {
            if (!(rc = cli_parse_u64(NULL, a, v, 0, UINT64_MAX, &x))) o->cfg.seed = x;
            i++;
        } else if (!strcmp(a, "--sched")) {
            if (v && !strcmp(v, "random"))
                o->cfg.sched = SCHED_RANDOM;
            else if (v && !strcmp(v, "rr"))
                o->cfg.sched = SCHED_RR;
            else if (v && !strncmp(v, "pct", 3) && (v[3] == 0 || v[3] == ':')) {
                o->cfg.sched = SCHED_PCT;
                if (v[3] == ':' && (rc = cli_parse_u64(NULL, "--sched pct:d", v + 4, 1, 16, &x)) == 0)
                    o->cfg.pct_depth = (unsigned)x;
            } else
                return cli_bad_value(NULL, a, v, "random, rr, pct[:d]");
            i++;
        } else if (!strcmp(a, "--record")) {
            if (!(rc = cli_need_value(NULL, a, v, "a path", &o->record)))
                i++;
        } else if (!strcmp(a, "--hash-every")) {
            if (!(rc = cli_parse_u64(NULL, a, v, 1, TRACE_MAX_STEPS, &x))) o->hash_every = x;
            i++;
        } else {
            fprintf(stderr, "%s: unknown option '%s' (see 'hypsim run --help')\n", prog, a);
            return EXIT_USAGE;
        }
        if (rc)
            return rc;
    }
    return 0;
}

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_print_summary(const struct machine *m, double el)
{
    const struct machine_stats *s = &m->st;
    printf("hypsim run: %u CPUs, %u VMs, %llu MiB, seed %llu, %s schedule\n", m->cfg.ncpus,
           m->cfg.nvms, (unsigned long long)m->cfg.mem_mib, (unsigned long long)m->cfg.seed,
           m->cfg.sched == SCHED_RR ? "round-robin" : m->cfg.sched == SCHED_PCT ? "PCT" : "random");
    printf("  steps %llu (%.0f/s), KCore instructions %llu, hypercalls %llu, invariant checks %llu\n",
           (unsigned long long)s->steps, el > 0 ? s->steps / el : 0.0,
           (unsigned long long)s->guest_instructions, (unsigned long long)s->hypercalls,
           (unsigned long long)s->invariant_checks);
    printf("  layers %s: refinement checks %llu, spec checks %llu (%llu skipped: concurrent), "
           "fault checks %llu (%llu skipped; %llu refused though mappable)\n",
           m->cfg.layers ? "on" : "off", (unsigned long long)s->refinement_checks,
           (unsigned long long)s->spec_checks, (unsigned long long)s->spec_skipped,
           (unsigned long long)s->fault_checks, (unsigned long long)s->fault_skipped,
           (unsigned long long)s->fault_refused_allowed);
    printf("  hypercalls ok/failed:");
    for (unsigned hc = 0; hc < 32; hc++)
        if (hc_name(hc) && (s->hc_ok[hc] || s->hc_fail[hc]))
            printf(" %s %llu/%llu", hc_name(hc), (unsigned long long)s->hc_ok[hc],
                   (unsigned long long)s->hc_fail[hc]);
    printf("\n  host stage-2 faults %llu (refused %llu), guest stage-2 faults %llu, actor reads %llu, writes %llu\n",
           (unsigned long long)s->host_s2_faults, (unsigned long long)s->host_s2_refused,
           (unsigned long long)s->guest_s2_faults, (unsigned long long)s->actor_reads,
           (unsigned long long)s->actor_writes);
    printf("  hardware events: TLB fills %llu, TLB evictions %llu, cache evictions %llu, TLBI completions %llu\n",
           (unsigned long long)s->events[STEP_TLB_FILL], (unsigned long long)s->events[STEP_TLB_EVICT],
           (unsigned long long)s->events[STEP_CACHE_EVICT], (unsigned long long)s->events[STEP_TLBI_COMPLETE]);
    for (unsigned i = 0; i < m->nviol; i++) {
        const struct violation *v = &m->viol[i];
        char a[16], b[16];
        printf("VIOLATION at step %llu, CPU %d, invariant %d: %s\n", (unsigned long long)v->step,
               v->cpu, v->invariant, v->detail);
        if (v->page != ~0ull)
            printf("  page 0x%llx, by %s, of %s\n", (unsigned long long)v->page,
                   hv_label_name(m->hv, v->who, a, sizeof(a)), hv_label_name(m->hv, v->whose, b, sizeof(b)));
        if (v->insn[0])
            printf("  last KCore instruction: %s\n", v->insn);
    }
    printf("result: %s\n", m->nviol ? "VIOLATION" : "ok");
}

void cli_print_json(const struct machine *m, double el, const char *trace)
{
    cJSON *o = cJSON_CreateObject(), *va = cJSON_CreateArray(), *hc = cJSON_CreateObject();
    const struct machine_stats *s = &m->st;
    char seed[32];
    cJSON_AddStringToObject(o, "result", m->nviol ? "violation" : "ok");
    cJSON_AddNumberToObject(o, "steps", (double)s->steps);
    cJSON_AddNumberToObject(o, "guest_instructions", (double)s->guest_instructions);
    cJSON_AddNumberToObject(o, "hypercalls", (double)s->hypercalls);
    cJSON_AddNumberToObject(o, "invariant_checks", (double)s->invariant_checks);
    cJSON_AddNumberToObject(o, "refinement_checks", (double)s->refinement_checks);
    cJSON_AddNumberToObject(o, "spec_checks", (double)s->spec_checks);
    cJSON_AddNumberToObject(o, "fault_checks", (double)s->fault_checks);
    cJSON_AddNumberToObject(o, "spec_skipped", (double)m->st.spec_skipped);
    cJSON_AddNumberToObject(o, "fault_skipped", (double)m->st.fault_skipped);
    cJSON_AddNumberToObject(o, "fault_refused_allowed", (double)m->st.fault_refused_allowed);
    for (unsigned i = 0; i < m->nviol; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddNumberToObject(v, "step", (double)m->viol[i].step);
        cJSON_AddNumberToObject(v, "cpu", m->viol[i].cpu);
        cJSON_AddNumberToObject(v, "invariant", m->viol[i].invariant);
        cJSON_AddStringToObject(v, "detail", m->viol[i].detail);
        cJSON_AddItemToArray(va, v);
    }
    cJSON_AddItemToObject(o, "violations", va);
    snprintf(seed, sizeof(seed), "%" PRIu64, m->cfg.seed);
    /* the seed as a number when exactly representable, else as a string */
    if (m->cfg.seed < (1ull << 53))
        cJSON_AddNumberToObject(o, "seed", (double)m->cfg.seed);
    else
        cJSON_AddStringToObject(o, "seed", seed);
    if (trace)
        cJSON_AddStringToObject(o, "trace", trace);
    else
        cJSON_AddNullToObject(o, "trace");
    cJSON_AddNumberToObject(o, "elapsed_s", el);
    cJSON_AddNumberToObject(o, "steps_per_s", el > 0 ? s->steps / el : 0);
    for (unsigned i = 0; i < 32; i++)
        if (hc_name(i)) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "ok", (double)s->hc_ok[i]);
            cJSON_AddNumberToObject(p, "failed", (double)s->hc_fail[i]);
            cJSON_AddItemToObject(hc, hc_name(i), p);
        }
    cJSON_AddItemToObject(o, "hypercalls_by_kind", hc);
    cJSON_AddNumberToObject(o, "host_s2_faults", (double)s->host_s2_faults);
    cJSON_AddNumberToObject(o, "host_s2_refused", (double)s->host_s2_refused);
    cJSON_AddNumberToObject(o, "guest_s2_faults", (double)s->guest_s2_faults);
    char *txt = cJSON_PrintUnformatted(o);
    if (txt) {
        puts(txt);
        free(txt);
    }
    cJSON_Delete(o);
}

static int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct machine *m;
    struct cli_record *rec = NULL;
    char err[512];
    int rc = parse_run(argc, argv, &o);
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
     * --record the trace is written whatever the result; otherwise only
     * when a violation is found, next to its report, as
     * hypsim-violation-seed<S>.json in the current directory. */
    char autopath[64];
    const char *trace_path = o.record;
    if (!trace_path) {
        snprintf(autopath, sizeof(autopath), "hypsim-violation-seed%llu.json",
                 (unsigned long long)o.cfg.seed);
        trace_path = autopath;
    }
    /* State-hash checkpoints hash all of memory: an unasked-for recording
     * keeps only the final one (a replay still verifies it), unless
     * --hash-every says otherwise. */
    uint64_t hash_every = o.record || o.hash_every ? o.hash_every : 1ull << 52;
    if ((rc = cli_record_begin(&rec, m, trace_path, hash_every)) != 0) {
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
    if (o.json)
        cli_print_json(m, el, write_trace ? trace_path : NULL);
    else if (!o.quiet)
        cli_print_summary(m, el);
    rc = m->nviol ? EXIT_VIOLATION : EXIT_OK;
    if (write_trace) {
        int wrc = cli_record_end(rec, m, o.quiet || o.json);
        rc = wrc ? wrc : rc;
        if (!o.record && !wrc && !o.json)
            fprintf(stderr, "the violating run is saved: hypsim replay %s --log\n", trace_path);
    } else {
        cli_record_discard(rec);
    }
    machine_free(m);
    free(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage_main(stdout);
        return EXIT_OK;
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
