/*
 * cli/cmd_explore.c - `hypsim explore` and `hypsim merge`: their flags, and
 * what they print for people. The campaign engine itself - run space, the
 * exhaustive strategy, the worker pool, re-recording and shrinking, the
 * JSON lines, the summary, JUnit and merging - is traces/campaign/
 * (campaign.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "traces/campaign/campaign.h"
#include "traces/campaign/exhaustive.h"
#include "traces/campaign/jsonl.h"
#include "traces/campaign/junit.h"
#include "traces/campaign/merge.h"

static const char *prog = "hypsim";

/* explore's flags: the campaign, and where its outputs go. */
struct ex_opts {
    struct campaign c;
    struct cli_kcore_flags kf;      /* kf.mutant NULL: the KCore c.cfg.kcore_path */
    bool quiet;
    const char *output;             /* JSON Lines file, NULL = stdout */
    const char *junit;
};

/* ---- Options ----------------------------------------------------------------- */

static void usage_explore(FILE *f)
{
    fprintf(f,
"usage: hypsim explore [options]\n"
"\n"
"Run many schedules of one machine configuration and report every isolation\n"
"violation: one JSON line per run, then a summary line (runs, steps,\n"
"violations by invariant, time to the first violation).\n"
"\n"
"machine (as hypsim run):\n"
"  --cpus N --vms N --mem MIB --cache SETSxWAYS --tlb N --check MODE\n"
"  --layers on|off   L1 refinement and L2 spec checks (invariant 8; default on)\n"
"  --kcore PATH      KCore ELF (default: the one built with hypsim)\n"
"  --mutant NAME     the seeded-bug KCore kcore-NAME.elf (hypsim mutants)\n"
"  --scenario FILE   scripted host/guest actions\n"
"  --steps N         steps per run (default 1000000)\n"
"campaign:\n"
"  --runs N          runs 0..N-1 (default 100 unless --time is given)\n"
"  --time S          stop starting runs after S seconds (with --runs: both)\n"
"  --seed S          base seed: run g uses seed S+g (default 1)\n"
"  --sched KIND      random | pct[:d] | exhaustive[:D[:P]] (default random).\n"
"                    pct: depth d (default 3) in rounds of 4096 steps\n"
"                    exhaustive: round robin plus at most P (0-3, default 1)\n"
"                    switches to another CPU among the first D (default 64)\n"
"                    choice points where KCore runs beside another CPU; actor\n"
"                    and hardware choices fixed by the seed; each seed's tree\n"
"                    is explored in full, then the next seed's\n"
"  --jobs J          worker processes (default 1)\n"
"  --stop-on-first   stop at the violating run of lowest index\n"
"  --shard K/N       only the runs g with g mod N = K-1 (1 <= K <= N)\n"
"output:\n"
"  --traces DIR      save each violation as a trace in DIR (default\n"
"                    explore-traces; created if missing)\n"
"  --no-traces       do not save traces\n"
"  --shrink          also shrink each saved trace (DIR/...-shrunk.json)\n"
"  --shrink-time S   time limit per shrink (default 60)\n"
"  -o, --output FILE JSON Lines to FILE instead of stdout\n"
"  --junit FILE      JUnit XML report, one test case per run\n"
"  --quiet           no progress or human summary on stderr\n"
"  -h, --help        this help\n"
"\n"
"exit codes: 0 no violation, 1 violation found, 2 bad usage or input,\n"
"            3 internal error (a run crashed or could not be recorded)\n");
}

static int bad_value(const char *opt, const char *v, const char *what)
{
    return cli_bad_value("explore", opt, v, what);
}

static int num(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    return cli_parse_u64("explore", opt, s, lo, hi, out);
}

static int need(const char *opt, const char *v, const char *what, const char **out)
{
    return cli_need_value("explore", opt, v, what, out);
}

static int parse_sched(const char *v, struct ex_opts *o)
{
    struct campaign_space *sp = &o->c.space;
    uint64_t x;
    if (!v)
        return bad_value("--sched", v, "random, pct[:d], exhaustive[:D[:P]]");
    if (!strcmp(v, "random")) {
        sp->strategy = CAMPAIGN_RANDOM;
    } else if (!strncmp(v, "pct", 3) && (v[3] == 0 || v[3] == ':')) {
        sp->strategy = CAMPAIGN_PCT;
        if (v[3] == ':') {
            if (num("--sched pct:d", v + 4, 1, 16, &x))
                return EXIT_USAGE;
            o->c.cfg.pct_depth = (unsigned)x;
        }
    } else if (!strncmp(v, "exhaustive", 10) && (v[10] == 0 || v[10] == ':')) {
        sp->strategy = CAMPAIGN_EXHAUSTIVE;
        if (v[10] == ':') {
            char buf[64], *p;
            snprintf(buf, sizeof(buf), "%s", v + 11);
            p = strchr(buf, ':');
            if (p)
                *p++ = 0;
            if (num("--sched exhaustive:D", buf, 0, 1000000000, &x))
                return EXIT_USAGE;
            sp->depth = (unsigned)x;
            if (p) {
                if (num("--sched exhaustive:D:P", p, 0, CAMPAIGN_EXHAUSTIVE_MAX_PREEMPT, &x))
                    return EXIT_USAGE;
                sp->preempt = (unsigned)x;
            }
        }
    } else {
        return bad_value("--sched", v, "random, pct[:d], exhaustive[:D[:P]]");
    }
    return 0;
}

/* Returns 0, EXIT_USAGE, or -1 for --help. */
static int parse_explore(int argc, char **argv, struct ex_opts *o)
{
    memset(o, 0, sizeof(*o));
    campaign_defaults(&o->c);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x = 0;
        int rc = 0;
        bool takes = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return -1;
        else if (cli_machine_flag("explore", a, v, &o->c.cfg, &o->kf, &rc))
            takes = true;       /* --cpus N, --kcore PATH, ... (cli/flags.c) */
        else if (!strcmp(a, "--seed")) {
            if (!(rc = num(a, v, 0, UINT64_MAX / 2, &x))) o->c.cfg.seed = x;
        } else if (!strcmp(a, "--runs")) {
            rc = num(a, v, 1, UINT64_MAX / 4, &o->c.runs);
        } else if (!strcmp(a, "--time")) {
            char *end;
            double t = v ? strtod(v, &end) : -1;
            if (!v || *end || end == v || !(t > 0) || t > 1e9)
                return bad_value(a, v, "seconds > 0");
            o->c.time_s = t;
        } else if (!strcmp(a, "--sched")) {
            rc = parse_sched(v, o);
        } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
            if (!(rc = num(a, v, 1, CAMPAIGN_MAX_JOBS, &x))) o->c.jobs = (unsigned)x;
        } else if (!strcmp(a, "--shard")) {
            unsigned k, n;
            char tail;
            if (!v || sscanf(v, "%u/%u%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n || v[0] == '-')
                return bad_value(a, v, "K/N with 1 <= K <= N");
            o->c.space.shard.k = k;
            o->c.space.shard.n = n;
        } else if (!strcmp(a, "--traces")) {
            rc = need(a, v, "a directory", &o->c.trace_dir);
        } else if (!strcmp(a, "--shrink-time")) {
            if (!(rc = num(a, v, 1, 1u << 30, &x))) o->c.shrink_time = (double)x;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            rc = need(a, v, "a path", &o->output);
        } else if (!strcmp(a, "--junit")) {
            rc = need(a, v, "a path", &o->junit);
        } else {
            takes = false;
            if (!strcmp(a, "--stop-on-first"))
                o->c.stop_on_first = true;
            else if (!strcmp(a, "--shrink"))
                o->c.shrink = true;
            else if (!strcmp(a, "--no-traces"))
                o->c.trace_dir = NULL;
            else if (!strcmp(a, "--quiet"))
                o->quiet = true;
            else {
                fprintf(stderr, "%s: explore: unknown option '%s' (see 'hypsim explore --help')\n", prog, a);
                return EXIT_USAGE;
            }
        }
        if (rc)
            return rc;
        if (takes)
            i++;
    }
    if (!o->c.runs && o->c.time_s == 0)
        o->c.runs = 100;
    if (o->c.shrink && !o->c.trace_dir) {
        fprintf(stderr, "%s: explore: --shrink needs traces (drop --no-traces)\n", prog);
        return EXIT_USAGE;
    }
    o->c.mutant = o->kf.mutant;
    return 0;
}

/* ---- What explore prints for people -------------------------------------------- */

static void on_run(void *arg, const struct campaign_result *r, const struct campaign_summary *s,
                   double elapsed_s)
{
    const struct ex_opts *o = arg;
    (void)s;
    (void)elapsed_s;
    if (o->quiet)
        return;
    if (r->status == CAMPAIGN_ERROR)
        fprintf(stderr, "%s: explore: run %" PRIu64 ": %s\n", prog, r->run, r->err);
    if (r->status == CAMPAIGN_VIOLATION)
        fprintf(stderr, "explore: run %" PRIu64 " (seed %" PRIu64 "): invariant %d at step %" PRIu64
                ": %s%s%s\n", r->run, r->seed, r->v.invariant, r->v.step,
                r->v.detail, r->trace[0] ? "\n  trace: " : "", r->trace);
}

static void print_human(const struct ex_opts *o, const struct campaign_outcome *out)
{
    const struct campaign_summary *s = &out->summary;
    double el = out->elapsed_s;
    fprintf(stderr, "explore: %s, %s: %" PRIu64 " runs, %" PRIu64 " steps in %.1f s (%.0f steps/s), "
            "%" PRIu64 " violations", campaign_label(&o->c), campaign_strategy_name(o->c.space.strategy),
            s->runs, s->steps, el, el > 0 ? s->steps / el : 0.0, s->violations);
    if (s->have_first)
        fprintf(stderr, "; first: run %" PRIu64 " after %.2f s, invariant %d", s->first_run,
                s->first_time, s->first_inv);
    if (out->timed_out)
        fprintf(stderr, " (time limit)");
    fputc('\n', stderr);
}

static int write_junit(const char *path, const char *suite, const struct campaign_records *rs,
                       double elapsed)
{
    struct campaign_junit j = { suite, rs->v, rs->n, elapsed };
    FILE *f = fopen(path, "w");
    if (!f || campaign_junit_write(f, &j) != 0 || fclose(f) != 0) {
        fprintf(stderr, "%s: --junit %s: %s\n", prog, path, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_explore(int argc, char **argv)
{
    struct ex_opts o;
    struct campaign_outcome out;
    struct campaign_sink sink = { &o, on_run };
    FILE *jl = stdout;
    char err[512];
    int rc = parse_explore(argc, argv, &o);

    if (rc < 0) {
        usage_explore(stdout);
        return EXIT_OK;
    }
    if (rc)
        return rc;
    /* Fail fast on a bad config or ELF, before any worker starts. */
    if (campaign_prepare(&o.c, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: explore: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if (o.c.trace_dir && mkdir(o.c.trace_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: explore: --traces %s: %s\n", prog, o.c.trace_dir, strerror(errno));
        return EXIT_USAGE;
    }
    if (o.output && !(jl = fopen(o.output, "w"))) {
        fprintf(stderr, "%s: explore: --output %s: %s\n", prog, o.output, strerror(errno));
        return EXIT_USAGE;
    }
    if (campaign_explore(&o.c, jl, &sink, &out) != 0)
        fprintf(stderr, "%s: explore: %s\n", prog, out.err);
    if (!o.quiet)
        print_human(&o, &out);
    rc = 0;
    if (o.junit && write_junit(o.junit, campaign_label(&o.c), &out.records, out.elapsed_s) != 0)
        rc = EXIT_USAGE;
    if (jl == stdout)
        fflush(stdout);
    else if (fclose(jl) != 0) {
        fprintf(stderr, "%s: explore: --output %s: %s\n", prog, o.output, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (!rc)
        rc = out.failed || out.summary.errors ? EXIT_INTERNAL
           : out.summary.violations ? EXIT_VIOLATION : EXIT_OK;
    campaign_outcome_free(&out);
    return rc;
}

/* ---- hypsim merge -------------------------------------------------------------- */

static void usage_merge(FILE *f)
{
    fprintf(f,
"usage: hypsim merge FILE... [options]\n"
"\n"
"Combine the JSON Lines outputs of explore shards (--shard K/N) into one\n"
"summary: runs, steps, violations by invariant, the first violation (the\n"
"violating run of lowest index). Every run must appear once; the shards\n"
"must come from one campaign (same configuration).\n"
"\n"
"  --list            print one line per run instead (run seed result steps\n"
"                    invariant), sorted by run: the campaign's canonical form\n"
"  --junit FILE      JUnit XML report of the merged runs\n"
"  -h, --help        this help\n"
"\n"
"exit codes: 0 no violation, 1 violation found, 2 bad usage or input\n"
"            (unreadable line, run seen twice, shards of different campaigns,\n"
"            runs missing from a --runs campaign), 3 internal error\n");
}

int cmd_merge(int argc, char **argv)
{
    const char *junit = NULL;
    bool list = false;
    struct campaign_merge mg;
    char err[1024];
    int rc = EXIT_OK;

    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage_merge(stdout);
            return EXIT_OK;
        }
    campaign_merge_init(&mg);
    for (int i = 0; i < argc && rc == EXIT_OK; i++) {
        const char *a = argv[i];
        FILE *f;
        int r;
        if (!strcmp(a, "--list")) {
            list = true;
            continue;
        }
        if (!strcmp(a, "--junit")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: merge: --junit needs a path\n", prog);
                rc = EXIT_USAGE;
                break;
            }
            junit = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: merge: unknown option '%s' (see 'hypsim merge --help')\n", prog, a);
            rc = EXIT_USAGE;
            break;
        }
        f = strcmp(a, "-") ? fopen(a, "r") : stdin;
        if (!f) {
            fprintf(stderr, "%s: merge: %s: %s\n", prog, a, strerror(errno));
            rc = EXIT_USAGE;
            break;
        }
        r = campaign_merge_read(&mg, a, f, err, sizeof(err));
        if (f != stdin)
            fclose(f);
        if (r != 0) {
            fprintf(stderr, "%s: merge: %s\n", prog, err);
            rc = r == CAMPAIGN_MERGE_NOMEM ? EXIT_INTERNAL : EXIT_USAGE;
        }
    }
    if (rc == EXIT_OK && !mg.ninputs) {
        fprintf(stderr, "%s: merge: no input files (see 'hypsim merge --help')\n", prog);
        rc = EXIT_USAGE;
    }
    if (rc == EXIT_OK && campaign_merge_finish(&mg, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: merge: %s\n", prog, err);
        rc = EXIT_USAGE;
    }
    if (rc == EXIT_OK) {
        struct campaign_summary s;
        cJSON *j = NULL;
        campaign_merge_summary(&mg, &s, list ? NULL : &j);
        if (list) {
            for (size_t i = 0; i < mg.runs.n; i++) {
                const struct campaign_record *r = &mg.runs.v[i];
                printf("%" PRIu64 " %" PRIu64 " %s %" PRIu64, r->run, r->seed,
                       campaign_status_name(r->status), r->steps);
                if (r->status == CAMPAIGN_VIOLATION)
                    printf(" %d", r->invariant);
                putchar('\n');
            }
        } else {
            campaign_json_print_line(stdout, j);
        }
        if (junit)
            rc = write_junit(junit, "merged", &mg.runs, mg.max_elapsed);
        if (rc == EXIT_OK)
            rc = s.errors ? EXIT_INTERNAL : s.violations ? EXIT_VIOLATION : EXIT_OK;
    }
    campaign_merge_free(&mg);
    return rc;
}
