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
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "traces/campaign/campaign.h"
#include "model/sched/sched.h"
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
"violation: one JSON line per run, in run order, then a summary line (runs,\n"
"steps, violations by invariant, the first violation and the time to it).\n"
"Run g is a pure function of the configuration, the strategy, the base seed\n"
"and g, so the results do not depend on --jobs.\n"
"\n"
"machine (as hypsim run):\n"
"  --cpus N          simulated CPUs, 1-64 (default 4)\n"
"  --vms N           VMs the host keeps alive, 0-16 (default 2)\n"
"  --mem MIB         simulated memory in MiB, 64-4096 (default 256)\n"
"  --cache SETSxWAYS data cache geometry, 64-byte lines (default 256x8)\n"
"  --tlb N           TLB entries per CPU (default 64)\n"
"  --check MODE      incremental | full | off (default incremental)\n"
"  --layers on|off   L1 refinement and L2 spec checks (invariant 8; default on)\n"
"  --kcore PATH      KCore ELF (default: the one built with hypsim, or\n"
"                    $HYPSIM_KCORE)\n"
"  --mutant NAME     the seeded-bug KCore kcore-NAME.elf (hypsim mutants)\n"
"  --scenario FILE   scripted host/guest actions (docs/SCENARIO.md)\n"
"  --steps N         steps per run (default 1000000)\n"
"campaign:\n"
"  --runs N          runs 0..N-1 (default 100 unless --time is given)\n"
"  --time S          start no run after S seconds (with --runs: whichever\n"
"                    comes first)\n"
"  --seed S          base seed (default 1): run g uses seed S+g; exhaustive:\n"
"                    seed S+g/T, schedule g mod T of that seed's tree of T\n"
"  --sched KIND      random | pct[:d] | exhaustive[:D[:P]] (default random).\n"
"                    pct: depth d, 1-16 (default 3), in rounds of 4096 steps\n"
"                    exhaustive: round robin plus at most P (0-3, default 1)\n"
"                    switches to another CPU among the first D (default 64)\n"
"                    choice points where KCore runs beside another CPU; actor\n"
"                    and hardware choices fixed by the seed; each seed's tree\n"
"                    is explored in full, then the next seed's\n"
"  -j, --jobs J      worker processes, 1-256 (default 1)\n"
"  --stop-on-first   stop at the violating run of lowest index (the runs\n"
"                    before it still complete)\n"
"  --shard K/N       only the runs g with g mod N = K-1 (1 <= K <= N);\n"
"                    combine the shards' outputs with hypsim merge\n"
"output:\n"
"  --traces DIR      save each violation as a trace in DIR (default\n"
"                    explore-traces; created if missing)\n"
"  --no-traces       do not save traces\n"
"  --shrink          also shrink each saved trace (DIR/...-shrunk.json)\n"
"  --shrink-time S   time limit per shrink, whole seconds (default 60)\n"
"  -o, --output FILE JSON Lines to FILE instead of stdout\n"
"  --junit FILE      JUnit XML report, one test case per run\n"
"  --quiet           nothing on stderr but errors: no progress, violations\n"
"                    or closing summary\n"
"  -h, --help        this help\n"
"\n"
"-o, --junit and --traces are checked before the first run. On a terminal,\n"
"stderr shows progress (runs, violations, elapsed). SIGINT or SIGTERM stops\n"
"the campaign: the runs reported so far (a prefix, in run order) get their\n"
"summary, marked \"partial\": true, and JUnit report (property partial=true),\n"
"then hypsim ends by that signal.\n"
"\n"
"exit codes: 0 no violation, 1 violation found, 2 bad usage or input\n"
"            (including an output that cannot be written), 3 internal error\n"
"            (a run crashed or could not be recorded)\n");
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
                if (num("--sched exhaustive:D:P", p, 0, SCHED_MAX_PREEMPT, &x))
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
    cli_config_default(&o->c.cfg);
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
            if (campaign_shard_parse(v, &o->c.space.shard) != 0)
                return bad_value(a, v, "K/N with 1 <= K <= N <= 4294967295");
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

/* stderr while the campaign runs: violations and errors as they are
 * reported, and on a terminal a progress line redrawn in place. */
struct ex_ui {
    const struct ex_opts *o;
    bool progress;                  /* stderr is a terminal and not --quiet */
    bool shown;                     /* a progress line is on the screen */
    double last;                    /* when it was drawn */
    uint64_t total;                 /* runs of this shard, UINT64_MAX: --time only */
};

static void progress_clear(struct ex_ui *u)
{
    if (u->shown)
        fputs("\r\033[K", stderr);
    u->shown = false;
}

static void progress_draw(struct ex_ui *u, const struct campaign_summary *s, double elapsed_s)
{
    if (!u->progress)
        return;
    fprintf(stderr, "\rexplore: %" PRIu64, s->runs);
    if (u->total != UINT64_MAX)
        fprintf(stderr, "/%" PRIu64, u->total);
    fprintf(stderr, " runs, %" PRIu64 " violations", s->violations);
    if (s->errors)
        fprintf(stderr, ", %" PRIu64 " errors", s->errors);
    fprintf(stderr, ", %.1f s", elapsed_s);
    if (u->o->c.time_s > 0)
        fprintf(stderr, " of %g", u->o->c.time_s);
    fputs("\033[K", stderr);
    fflush(stderr);
    u->shown = true;
    u->last = elapsed_s;
}

static void on_run(void *arg, const struct campaign_result *r, const struct campaign_summary *s,
                   double elapsed_s)
{
    struct ex_ui *u = arg;
    if (u->o->quiet)
        return;
    if (r->status != CAMPAIGN_OK)
        progress_clear(u);
    if (r->status == CAMPAIGN_ERROR)
        fprintf(stderr, "%s: explore: run %" PRIu64 ": %s\n", prog, r->run, r->err);
    if (r->status == CAMPAIGN_VIOLATION)
        fprintf(stderr, "explore: run %" PRIu64 " (seed %" PRIu64 "): invariant %d at step %" PRIu64
                ": %s%s%s\n", r->run, r->seed, r->v.invariant, r->v.step,
                r->v.detail, r->trace[0] ? "\n  trace: " : "", r->trace);
    progress_draw(u, s, elapsed_s);
}

static void on_tick(void *arg, const struct campaign_summary *s, double elapsed_s)
{
    struct ex_ui *u = arg;
    if (elapsed_s - u->last >= 0.25)
        progress_draw(u, s, elapsed_s);
}

static void print_human(const struct ex_opts *o, const struct campaign_outcome *out, int sig)
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
    if (out->interrupted)
        fprintf(stderr, " (interrupted by %s: partial)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fputc('\n', stderr);
}

/* ---- Signals: SIGINT and SIGTERM end the campaign early ------------------------------ */

/* The signal that interrupted the campaign, 0: none. The only mutable
 * global of hypsim: a signal handler has nowhere else to write. */
static volatile sig_atomic_t ex_signal;

static void on_signal(int sig)
{
    ex_signal = sig;
    signal(sig, SIG_DFL);           /* a second one ends hypsim at once */
}

static const int ex_sigs[2] = { SIGINT, SIGTERM };

/* Catch SIGINT and SIGTERM, keeping the old actions in old[]; a signal
 * ignored when hypsim started (nohup, a background job) stays ignored. */
static void catch_signals(struct sigaction old[2])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (unsigned i = 0; i < 2; i++) {
        sigaction(ex_sigs[i], NULL, &old[i]);
        if (old[i].sa_handler != SIG_IGN)
            sigaction(ex_sigs[i], &sa, NULL);
    }
}

static void restore_signals(const struct sigaction old[2])
{
    for (unsigned i = 0; i < 2; i++)
        sigaction(ex_sigs[i], &old[i], NULL);
}

/* ---- explore ------------------------------------------------------------------------ */

/* Open the outputs before any run: -o (or stdout), --junit (created empty
 * now, so that a file of an earlier campaign never survives one that did
 * not finish: it is written at the end), and --traces (created if
 * missing; it must be a directory we can write). Returns 0 or EXIT_USAGE
 * (one line). */
static int open_outputs(const struct ex_opts *o, FILE **jl, FILE **ju)
{
    struct stat st;
    *jl = stdout;
    *ju = NULL;
    if (o->output && !(*jl = fopen(o->output, "w"))) {
        fprintf(stderr, "%s: explore: --output %s: %s\n", prog, o->output, strerror(errno));
        *jl = stdout;
        return EXIT_USAGE;
    }
    if (o->junit && !(*ju = fopen(o->junit, "w"))) {
        fprintf(stderr, "%s: explore: --junit %s: %s\n", prog, o->junit, strerror(errno));
        return EXIT_USAGE;
    }
    if (o->c.trace_dir) {
        const char *d = o->c.trace_dir;
        if (mkdir(d, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "%s: explore: --traces %s: %s\n", prog, d, strerror(errno));
            return EXIT_USAGE;
        }
        if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: explore: --traces %s: not a directory\n", prog, d);
            return EXIT_USAGE;
        }
        if (access(d, W_OK | X_OK) != 0) {
            fprintf(stderr, "%s: explore: --traces %s: %s\n", prog, d, strerror(errno));
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Write the JUnit report to f and close it. Returns 0 or EXIT_USAGE. */
static int write_junit(FILE *f, const char *path, const char *suite,
                       const struct campaign_records *rs, double elapsed, bool partial)
{
    struct campaign_junit j = { suite, rs->v, rs->n, elapsed, partial };
    int bad = campaign_junit_write(f, &j) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "%s: --junit %s: %s\n", prog, path, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

static int explore(int argc, char **argv)
{
    struct ex_opts o;
    struct campaign_outcome out;
    struct ex_ui ui;
    struct campaign_sink sink = { &ui, on_run, on_tick };
    FILE *jl = stdout, *ju = NULL;
    char err[512];
    int rc = parse_explore(argc, argv, &o);

    if (rc < 0) {
        usage_explore(stdout);
        return EXIT_OK;
    }
    if (rc)
        return rc;
    /* Fail fast on a bad config or ELF, or an output we cannot write,
     * before any worker starts. */
    if (campaign_prepare(&o.c, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: explore: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if ((rc = open_outputs(&o, &jl, &ju)) != 0) {
        if (jl != stdout)
            fclose(jl);
        if (ju)
            fclose(ju);
        return rc;
    }
    memset(&ui, 0, sizeof(ui));
    ui.o = &o;
    ui.progress = !o.quiet && isatty(STDERR_FILENO);
    ui.total = campaign_space_local_count(&o.c.space, o.c.runs);
    if (campaign_explore(&o.c, jl, &ex_signal, &sink, &out) != 0) {
        progress_clear(&ui);
        fprintf(stderr, "%s: explore: %s\n", prog, out.err);
    }
    progress_clear(&ui);
    if (!o.quiet)
        print_human(&o, &out, ex_signal);
    rc = 0;
    if (ju && write_junit(ju, o.junit, campaign_label(&o.c), &out.records, out.elapsed_s,
                          out.interrupted) != 0)
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

int cmd_explore(int argc, char **argv)
{
    struct sigaction old[2];
    int sig, rc;

    /* From the start: a signal that comes before the outputs are open is
     * held until the campaign, which then reports no runs, partial. */
    ex_signal = 0;
    catch_signals(old);
    rc = explore(argc, argv);
    sig = ex_signal;
    restore_signals(old);
    if (sig) {
        /* End as the signal would have ended us, now that the partial
         * results are written. */
        signal(sig, SIG_DFL);
        raise(sig);
        return 128 + sig;
    }
    return rc;
}

/* ---- hypsim merge -------------------------------------------------------------- */

static void usage_merge(FILE *f)
{
    fprintf(f,
"usage: hypsim merge FILE... [options]\n"
"\n"
"Combine the JSON Lines outputs of explore shards (--shard K/N; FILE - is\n"
"stdin) into one summary line on stdout, as explore's with \"shards\": runs,\n"
"steps, violations by invariant, the first violation (the violating run of\n"
"lowest index; time_s the earliest any shard found one), \"partial\" if any\n"
"shard was interrupted, elapsed_s of the longest shard. The shards must come\n"
"from one campaign: the same configuration, strategy, seed and KCore\n"
"SHA-256 (the KCore's path may differ). Every run may appear once; a --runs\n"
"campaign without --stop-on-first must have all of its runs.\n"
"\n"
"  --list            print one line per run instead: run seed result steps\n"
"                    [invariant], sorted by run (the campaign's canonical\n"
"                    form: equal for any --jobs and any sharding)\n"
"  --junit FILE      JUnit XML report of the merged runs (checked before\n"
"                    the inputs are read)\n"
"  -h, --help        this help\n"
"\n"
"exit codes: 0 no violation, 1 violation found, 2 bad usage or input\n"
"            (unreadable line, run seen twice, shards of different campaigns,\n"
"            runs missing from a --runs campaign, an input without its\n"
"            summary line), 3 internal error (a merged run was one)\n");
}

int cmd_merge(int argc, char **argv)
{
    const char *junit = NULL;
    bool list = false;
    struct campaign_merge mg;
    FILE *ju = NULL;
    char err[1024];
    int rc = EXIT_OK;

    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage_merge(stdout);
            return EXIT_OK;
        }
    /* Options first (they may come after the inputs), then the report's
     * file, then the inputs. */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--list"))
            list = true;
        else if (!strcmp(a, "--junit")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: merge: --junit needs a path\n", prog);
                return EXIT_USAGE;
            }
            junit = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: merge: unknown option '%s' (see 'hypsim merge --help')\n", prog, a);
            return EXIT_USAGE;
        }
    }
    if (junit && !(ju = fopen(junit, "w"))) {
        fprintf(stderr, "%s: merge: --junit %s: %s\n", prog, junit, strerror(errno));
        return EXIT_USAGE;
    }
    campaign_merge_init(&mg);
    for (int i = 0; i < argc && rc == EXIT_OK; i++) {
        const char *a = argv[i];
        FILE *f;
        int r;
        if (!strcmp(a, "--list"))
            continue;
        if (!strcmp(a, "--junit")) {
            i++;
            continue;
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
        if (ju) {
            rc = write_junit(ju, junit, "merged", &mg.runs, mg.max_elapsed, mg.partial);
            ju = NULL;
        }
        if (rc == EXIT_OK)
            rc = s.errors ? EXIT_INTERNAL : s.violations ? EXIT_VIOLATION : EXIT_OK;
    }
    if (ju)
        fclose(ju);             /* left empty: the inputs were refused */
    campaign_merge_free(&mg);
    return rc;
}
