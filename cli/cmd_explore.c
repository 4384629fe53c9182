/*
 * cli/cmd_explore.c - `hypsim explore`: a campaign of many runs of one
 * machine configuration under a scheduling strategy, in parallel worker
 * processes, every violation saved as a trace (and shrunk); and
 * `hypsim merge`, which combines the outputs of campaign shards.
 *
 * The run space. A campaign is a sequence of runs indexed 0, 1, 2, ...; run
 * g is a pure function of (config, strategy, base seed, g):
 *   random, pct   seed = base + g;
 *   exhaustive    seed = base + g / S, schedule g % S of that seed's tree,
 *                 where S is the number of schedules within the bounds.
 * `--shard K/N` takes exactly the runs g with g mod N == K-1, so N shards
 * cover one unsharded campaign's runs once each, whatever engine runs them.
 * Results are reported in run order whatever the number of --jobs, and
 * --stop-on-first stops at the violating run of lowest index (runs before
 * it are still completed), so the output does not depend on timing except
 * for the times it reports (and, with --time, on how many runs fit).
 *
 * Bounded exhaustive search (--sched exhaustive[:D[:P]]). Only CPU-choice
 * points are branched: the hardware-event roll and every actor or hardware
 * choice are drawn from a generator seeded by the run's seed (fixed by the
 * seed, as in a random run), and the baseline schedule is round robin over
 * the CPUs that can run. Only contended choice points count: two or more
 * CPUs can run and one of them is executing KCore (switching between CPUs
 * that all run host or guest code cannot reorder KCore's accesses), once
 * KCore has published that it booted (before, the secondaries only wait). A
 * schedule departs from the baseline at no more than P of the first D
 * contended points (the preemption bound: each departure is a switch to
 * another CPU than the baseline's), to CPU baseline+o among the runnable
 * ones, o in 1..cpus-1 (modulo their number). The tree of one seed has
 * S = sum_{k<=P} C(D,k) (cpus-1)^k schedules, enumerated by number of
 * departures, then by their points (lexicographic), then offsets.
 *
 * Leaves out: distributing runs itself - shards are for an existing engine
 * (GNU parallel, Slurm; README), merged with `hypsim merge`.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "model/sched.h"
#include "traces/trace.h"

#define EX_MAX_JOBS     256
#define EX_MAX_PREEMPT  3
#define EX_ROLL_HW      60          /* per mille: hardware events in exhaustive runs */
#define EX_ROLL_CPU     999         /* the roll value that runs a CPU (FORMAT.md) */

static const char *prog = "hypsim";

enum ex_strategy { EX_RANDOM, EX_PCT, EX_EXHAUSTIVE };

struct ex_opts {
    struct machine_config cfg;      /* cfg.seed is the base seed */
    struct cli_kcore_flags kf;      /* kf.mutant NULL: the KCore cfg.kcore_path */
    char kcore_sha256[SHA256_HEX];  /* identifies the KCore across machines */
    uint64_t runs;                  /* 0 with --time: until time is up */
    double time_s;                  /* 0: no time limit */
    enum ex_strategy strat;
    unsigned ex_depth, ex_preempt;
    uint64_t ex_space;              /* schedules per seed (saturating) */
    unsigned jobs;
    bool stop_on_first, shrink, quiet;
    double shrink_time;
    const char *trace_dir;
    const char *output;             /* JSON Lines file, NULL = stdout */
    const char *junit;
    unsigned shard_k, shard_n;      /* 1-based K of N */
};

/* One run's outcome, as a worker sends it to the parent. */
struct ex_result {
    uint64_t run, seed, schedule;
    uint64_t steps;
    double elapsed_s;               /* the run itself */
    double post_s;                  /* then recording and shrinking its trace */
    int status;                     /* EXIT_OK, EXIT_VIOLATION, EXIT_INTERNAL */
    unsigned departures;            /* exhaustive: departures taken */
    struct violation v;             /* first violation when status == EXIT_VIOLATION */
    char trace[512], shrunk[512];   /* "" = none */
    char err[640];                  /* internal error or trace problem */
};

/* What the parent keeps of an emitted run (for the summary and JUnit). */
struct ex_kept {
    uint64_t run, seed, steps;
    double elapsed_s;
    int status, invariant;
    char *detail, *trace;           /* malloc'd, violations and errors only */
};

/* ---- Exhaustive schedules ------------------------------------------------ */

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t binom(uint64_t n, unsigned k)
{
    uint64_t r = 1;
    if (k > n)
        return 0;
    for (unsigned i = 1; i <= k; i++) {
        /* r * (n - k + i) / i stays exact: r is C(n-k+i-1, i-1) */
        uint64_t f = n - k + i;
        if (r > UINT64_MAX / f)
            return UINT64_MAX;
        r = r * f / i;
    }
    return r;
}

static uint64_t ex_space(unsigned depth, unsigned preempt, unsigned ncpus)
{
    uint64_t s = 0;
    for (unsigned k = 0; k <= preempt; k++) {
        uint64_t offs = 1;
        for (unsigned i = 0; i < k; i++)
            offs = sat_mul(offs, ncpus - 1);
        s = sat_add(s, sat_mul(binom(depth, k), offs));
        if (ncpus < 2)
            break;
    }
    return s;
}

struct ex_sched {
    unsigned ndep;
    uint64_t at[EX_MAX_PREEMPT];    /* contended-point indices, ascending */
    unsigned off[EX_MAX_PREEMPT];   /* 1..ncpus-1 */
};

/* Schedule number idx (< ex_space) of a seed's tree. */
static void ex_unrank(uint64_t idx, unsigned depth, unsigned preempt, unsigned ncpus,
                      struct ex_sched *s)
{
    memset(s, 0, sizeof(*s));
    if (ncpus < 2)
        return;
    for (unsigned k = 0; k <= preempt; k++) {
        uint64_t offs = 1, cnt;
        for (unsigned i = 0; i < k; i++)
            offs = sat_mul(offs, ncpus - 1);
        cnt = sat_mul(binom(depth, k), offs);
        if (idx >= cnt) {
            idx -= cnt;
            continue;
        }
        uint64_t comb = idx / offs, o = idx % offs;
        uint64_t next = 0;
        s->ndep = k;
        for (unsigned i = 0; i < k; i++) {          /* lexicographic combination */
            for (uint64_t c = next;; c++) {
                uint64_t below = binom(depth - c - 1, k - i - 1);
                if (comb < below) {
                    s->at[i] = c;
                    next = c + 1;
                    break;
                }
                comb -= below;
            }
        }
        for (unsigned i = 0; i < k; i++) {
            s->off[k - 1 - i] = 1 + (unsigned)(o % (ncpus - 1));
            o /= ncpus - 1;
        }
        return;
    }
}

/* The choice source of an exhaustive run (machine.h choose_hook). */
struct ex_hook {
    struct machine *m;
    struct rng rng;
    struct ex_sched sched;
    uint64_t last_steps;            /* st.steps at the previous call */
    bool pick_next;                 /* the next call is the CPU pick */
    unsigned last_cpu;
    uint64_t contended;             /* contended points seen */
    bool booted;                    /* the hypervisor published its boot flag */
    unsigned next_dep, taken;
};

static uint32_t ex_choose(void *arg, uint32_t n)
{
    struct ex_hook *h = arg;
    const struct machine *m = h->m;

    if (m->st.steps != h->last_steps) {             /* the step's first choice: the roll */
        h->last_steps = m->st.steps;
        h->pick_next = false;
        if (rng_below(&h->rng, 1000) < EX_ROLL_HW)
            return rng_below(&h->rng, 4) % n;       /* one of the hardware events */
        h->pick_next = true;
        return n > EX_ROLL_CPU ? EX_ROLL_CPU : n - 1;
    }
    if (!h->pick_next)
        return rng_below(&h->rng, n);               /* actor or hardware choice */
    h->pick_next = false;
    {
        unsigned live[HV_MAX_CPUS], nlive = 0, base = 0, pick;
        bool kcore = false;
        for (unsigned i = 0; i < m->cfg.ncpus; i++)
            if (m->cpu[i].mode != CPU_HALTED && m->cpu[i].mode != CPU_WFE) {
                kcore |= m->cpu[i].mode == CPU_KCORE;
                live[nlive++] = i;
            }
        if (nlive != n)                             /* cannot happen: machine_step's live set */
            return 0;
        for (unsigned k = 0; k < nlive; k++)        /* round robin: next after the last */
            if (live[k] > h->last_cpu) {
                base = k;
                break;
            }
        pick = base;
        if (!h->booted) {
            struct hv_mem mm;
            machine_view(m, &mm);
            h->booted = m->hv->booted(&mm);
        }
        if (nlive >= 2 && kcore && h->booted) {
            if (h->next_dep < h->sched.ndep && h->sched.at[h->next_dep] == h->contended) {
                pick = (base + h->sched.off[h->next_dep]) % nlive;
                h->next_dep++;
                h->taken += pick != base;
            }
            h->contended++;
        }
        h->last_cpu = live[pick];
        return pick;
    }
}

/* ---- One run (in a worker) ------------------------------------------------- */

static void run_config(const struct ex_opts *o, uint64_t g, struct machine_config *cfg,
                       uint64_t *schedule)
{
    *cfg = o->cfg;
    *schedule = 0;
    if (o->strat == EX_EXHAUSTIVE) {
        cfg->seed = o->cfg.seed + g / o->ex_space;
        *schedule = g % o->ex_space;
        cfg->sched = SCHED_RANDOM;                  /* the hook makes every choice */
    } else {
        cfg->seed = o->cfg.seed + g;
        cfg->sched = o->strat == EX_PCT ? SCHED_PCT : SCHED_RANDOM;
    }
}

/* Run config cfg (exhaustive schedule `schedule` when asked), recording
 * into t when t != NULL. Returns 0 or -1 (err). */
static int run_machine(const struct ex_opts *o, const struct machine_config *cfg, uint64_t schedule,
                       struct trace *t, struct ex_result *res, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct ex_hook *h = NULL;
    struct trace_recorder rec;
    int rc = -1;

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (machine_init(m, cfg, err, errlen) != 0) {
        free(m);
        return -1;
    }
    if (o->strat == EX_EXHAUSTIVE) {
        h = calloc(1, sizeof(*h));
        if (!h) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        h->m = m;
        rng_seed(&h->rng, cfg->seed);
        h->last_steps = UINT64_MAX;
        h->last_cpu = cfg->ncpus - 1;
        ex_unrank(schedule, o->ex_depth, o->ex_preempt, cfg->ncpus, &h->sched);
        m->choose_hook = ex_choose;
        m->choose_arg = h;
    }
    if (t && trace_record_begin(&rec, t, m, 0, err, errlen) != 0)
        goto out;
    for (uint64_t i = 0; i < cfg->steps; i++)
        if (machine_step(m))
            break;
    if (t && trace_record_end(&rec, m) != 0) {
        snprintf(err, errlen, "out of memory while recording");
        goto out;
    }
    res->steps = m->st.steps;
    res->departures = h ? h->taken : 0;
    if (m->nviol) {
        res->status = EXIT_VIOLATION;
        res->v = m->viol[0];
    } else {
        res->status = EXIT_OK;
    }
    rc = 0;
out:
    if (m->choose_hook == ex_choose)
        m->choose_hook = NULL;
    machine_free(m);
    free(m);
    free(h);
    return rc;
}

static const char *ex_label(const struct ex_opts *o) { return o->kf.mutant ? o->kf.mutant : "kcore"; }

static void run_trace(const struct ex_opts *o, uint64_t g, const struct machine_config *c,
                      struct ex_result *res);

static void run_one(const struct ex_opts *o, uint64_t g, struct ex_result *res)
{
    struct machine_config cfg;
    char err[512];
    double t0 = cli_now_s();

    memset(res, 0, sizeof(*res));
    run_config(o, g, &cfg, &res->schedule);
    res->run = g;
    res->seed = cfg.seed;
    if (run_machine(o, &cfg, res->schedule, NULL, res, err, sizeof(err)) != 0) {
        res->status = EXIT_INTERNAL;
        snprintf(res->err, sizeof(res->err), "%s", err);
        res->elapsed_s = cli_now_s() - t0;
        return;
    }
    res->elapsed_s = cli_now_s() - t0;
    if (res->status != EXIT_VIOLATION || !o->trace_dir)
        return;
    t0 = cli_now_s();
    run_trace(o, g, &cfg, res);
    res->post_s = cli_now_s() - t0;
}

/* Save (and shrink) the trace of violating run g. */
static void run_trace(const struct ex_opts *o, uint64_t g, const struct machine_config *c,
                      struct ex_result *res)
{
    struct machine_config cfg = *c;
    char err[512];

    /* The run is deterministic: run it again, recording, up to the violation. */
    {
        struct trace t, s;
        struct ex_result again;
        struct trace_shrink_stats st;
        char path[512];

        trace_init(&t);
        memset(&again, 0, sizeof(again));
        snprintf(path, sizeof(path), "%s/%s-run%" PRIu64 "-seed%" PRIu64 ".json", o->trace_dir,
                 ex_label(o), g, cfg.seed);
        if (run_machine(o, &cfg, res->schedule, &t, &again, err, sizeof(err)) != 0 ||
            again.status != EXIT_VIOLATION || again.v.step != res->v.step) {
            snprintf(res->err, sizeof(res->err), "recording run %" PRIu64 ": %s", g,
                     again.status != EXIT_VIOLATION ? "the violation did not recur" : err);
            res->status = EXIT_INTERNAL;
            trace_free(&t);
            return;
        }
        if (trace_write(&t, path, err, sizeof(err)) != 0) {
            snprintf(res->err, sizeof(res->err), "%s", err);
            res->status = EXIT_INTERNAL;
            trace_free(&t);
            return;
        }
        snprintf(res->trace, sizeof(res->trace), "%s", path);
        if (o->shrink) {
            trace_init(&s);
            snprintf(path, sizeof(path), "%s/%s-run%" PRIu64 "-seed%" PRIu64 "-shrunk.json",
                     o->trace_dir, ex_label(o), g, cfg.seed);
            if (trace_shrink(&t, cfg.kcore_path, o->shrink_time, &s, &st, err, sizeof(err)) == 0 &&
                trace_write(&s, path, err, sizeof(err)) == 0)
                snprintf(res->shrunk, sizeof(res->shrunk), "%s", path);
            else
                snprintf(res->err, sizeof(res->err), "shrink: %s", err);
            trace_free(&s);
        }
        trace_free(&t);
    }
}

/* ---- JSON output ---------------------------------------------------------- */

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    if (v < (1ull << 53))
        cJSON_AddNumberToObject(o, k, (double)v);
    else {
        char b[24];
        snprintf(b, sizeof(b), "%" PRIu64, v);
        cJSON_AddStringToObject(o, k, b);
    }
}

static cJSON *campaign_json(const struct ex_opts *o)
{
    cJSON *c = cJSON_CreateObject();
    char shard[32];
    if (!c)
        return NULL;
    cJSON_AddStringToObject(c, "kcore", o->cfg.kcore_path);
    cJSON_AddStringToObject(c, "kcore_sha256", o->kcore_sha256);
    if (o->kf.mutant)
        cJSON_AddStringToObject(c, "mutant", o->kf.mutant);
    else
        cJSON_AddNullToObject(c, "mutant");
    cJSON_AddStringToObject(c, "sched", o->strat == EX_PCT ? "pct" : o->strat == EX_EXHAUSTIVE ? "exhaustive" : "random");
    if (o->strat == EX_PCT)
        cJSON_AddNumberToObject(c, "pct_depth", o->cfg.pct_depth);
    if (o->strat == EX_EXHAUSTIVE) {
        cJSON_AddNumberToObject(c, "depth", o->ex_depth);
        cJSON_AddNumberToObject(c, "preemptions", o->ex_preempt);
        add_u64(c, "schedules_per_seed", o->ex_space);
    }
    add_u64(c, "base_seed", o->cfg.seed);
    add_u64(c, "steps_per_run", o->cfg.steps);
    cJSON_AddNumberToObject(c, "cpus", o->cfg.ncpus);
    cJSON_AddNumberToObject(c, "vms", o->cfg.nvms);
    add_u64(c, "mem_mib", o->cfg.mem_mib);
    cJSON_AddNumberToObject(c, "cache_sets", o->cfg.cache_sets);
    cJSON_AddNumberToObject(c, "cache_ways", o->cfg.cache_ways);
    cJSON_AddNumberToObject(c, "tlb_entries", o->cfg.tlb_entries);
    cJSON_AddStringToObject(c, "check", trace_check_name(o->cfg.check));
    cJSON_AddBoolToObject(c, "layers", o->cfg.layers);
    cJSON_AddStringToObject(c, "scenario", o->cfg.scenario_path);
    if (o->runs)
        add_u64(c, "runs", o->runs);
    else
        cJSON_AddNullToObject(c, "runs");
    cJSON_AddBoolToObject(c, "stop_on_first", o->stop_on_first);
    snprintf(shard, sizeof(shard), "%u/%u", o->shard_k, o->shard_n);
    cJSON_AddStringToObject(c, "shard", shard);
    return c;
}

static void print_json_line(FILE *f, cJSON *o)
{
    char *txt = o ? cJSON_PrintUnformatted(o) : NULL;
    if (txt) {
        fprintf(f, "%s\n", txt);
        fflush(f);
        free(txt);
    }
    cJSON_Delete(o);
}

static cJSON *violation_json(const struct violation *v)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    add_u64(j, "step", v->step);
    cJSON_AddNumberToObject(j, "cpu", v->cpu);
    cJSON_AddNumberToObject(j, "invariant", v->invariant);
    cJSON_AddStringToObject(j, "detail", v->detail);
    if (v->insn[0])
        cJSON_AddStringToObject(j, "insn", v->insn);
    return j;
}

static void emit_run(FILE *f, const struct ex_opts *o, const struct ex_result *r)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return;
    cJSON_AddStringToObject(j, "type", "run");
    add_u64(j, "run", r->run);
    add_u64(j, "seed", r->seed);
    if (o->strat == EX_EXHAUSTIVE) {
        add_u64(j, "schedule", r->schedule);
        cJSON_AddNumberToObject(j, "departures", r->departures);
    }
    cJSON_AddStringToObject(j, "result", r->status == EXIT_OK ? "ok" : r->status == EXIT_VIOLATION ? "violation" : "error");
    add_u64(j, "steps", r->steps);
    cJSON_AddNumberToObject(j, "elapsed_s", r->elapsed_s);
    if (r->status == EXIT_VIOLATION)
        cJSON_AddItemToObject(j, "violation", violation_json(&r->v));
    else
        cJSON_AddNullToObject(j, "violation");
    if (r->trace[0])
        cJSON_AddStringToObject(j, "trace", r->trace);
    else
        cJSON_AddNullToObject(j, "trace");
    if (r->shrunk[0])
        cJSON_AddStringToObject(j, "shrunk", r->shrunk);
    if (r->err[0])
        cJSON_AddStringToObject(j, "error", r->err);
    print_json_line(f, j);
}

/* ---- Summary ---------------------------------------------------------------- */

struct ex_summary {
    uint64_t runs, steps, violations, errors;
    uint64_t by_inv[16];            /* invariant + 1 (0 = KCore fault at index 1; -1 at 0) */
    bool have_first;
    uint64_t first_run, first_seed, first_step, steps_before;
    int first_inv;
    double first_time;
    char first_detail[256], first_trace[512];
};

static void summary_add(struct ex_summary *s, const struct ex_result *r, double t_arrival)
{
    s->runs++;
    if (r->status == EXIT_INTERNAL)
        s->errors++;
    if (r->status == EXIT_VIOLATION) {
        int inv = r->v.invariant;
        s->violations++;
        s->by_inv[inv + 1 >= 0 && inv + 1 < 16 ? inv + 1 : 0]++;
        if (!s->have_first) {
            s->have_first = true;
            s->first_run = r->run;
            s->first_seed = r->seed;
            s->first_step = r->v.step;
            s->first_inv = inv;
            s->first_time = t_arrival;
            s->steps_before = s->steps + r->steps;
            snprintf(s->first_detail, sizeof(s->first_detail), "%s", r->v.detail);
            snprintf(s->first_trace, sizeof(s->first_trace), "%s", r->trace);
        }
    }
    s->steps += r->steps;
}

static cJSON *by_inv_json(const uint64_t by_inv[16])
{
    cJSON *b = cJSON_CreateObject();
    for (int i = 0; i < 16 && b; i++)
        if (by_inv[i]) {
            char k[8];
            snprintf(k, sizeof(k), "%d", i - 1);
            add_u64(b, k, by_inv[i]);
        }
    return b;
}

static void emit_summary(FILE *f, const struct ex_opts *o, const struct ex_summary *s,
                         double elapsed, bool complete)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return;
    cJSON_AddStringToObject(j, "type", "summary");
    cJSON_AddItemToObject(j, "campaign", campaign_json(o));
    cJSON_AddStringToObject(j, "result", s->errors ? "error" : s->violations ? "violation" : "ok");
    add_u64(j, "runs", s->runs);
    add_u64(j, "steps", s->steps);
    add_u64(j, "violations", s->violations);
    add_u64(j, "errors", s->errors);
    cJSON_AddItemToObject(j, "violations_by_invariant", by_inv_json(s->by_inv));
    if (s->have_first) {
        cJSON *fv = cJSON_CreateObject();
        if (fv) {
            add_u64(fv, "run", s->first_run);
            add_u64(fv, "seed", s->first_seed);
            cJSON_AddNumberToObject(fv, "invariant", s->first_inv);
            add_u64(fv, "step", s->first_step);
            cJSON_AddStringToObject(fv, "detail", s->first_detail);
            if (s->first_trace[0])
                cJSON_AddStringToObject(fv, "trace", s->first_trace);
            else
                cJSON_AddNullToObject(fv, "trace");
            cJSON_AddNumberToObject(fv, "time_s", s->first_time);
            add_u64(fv, "steps_before", s->steps_before);
        }
        cJSON_AddItemToObject(j, "first_violation", fv);
    } else {
        cJSON_AddNullToObject(j, "first_violation");
    }
    cJSON_AddBoolToObject(j, "complete", complete);
    cJSON_AddNumberToObject(j, "elapsed_s", elapsed);
    cJSON_AddNumberToObject(j, "steps_per_s", elapsed > 0 ? s->steps / elapsed : 0);
    print_json_line(f, j);
}

/* ---- JUnit ------------------------------------------------------------------- */

static void xml_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n')
                fputc('?', f);
            else
                fputc(c, f);
        }
    }
}

/* One <testsuite> named after the KCore (or mutant), one <testcase> per run. */
static int write_junit(const char *path, const char *suite, const struct ex_kept *k, size_t n,
                       double elapsed)
{
    FILE *f = fopen(path, "w");
    uint64_t fails = 0, errs = 0;

    if (!f) {
        fprintf(stderr, "%s: --junit %s: %s\n", prog, path, strerror(errno));
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        fails += k[i].status == EXIT_VIOLATION;
        errs += k[i].status == EXIT_INTERNAL;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(f, "  <testsuite name=\"hypsim explore ");
    xml_escape(f, suite);
    fprintf(f, "\" tests=\"%zu\" failures=\"%" PRIu64 "\" errors=\"%" PRIu64 "\" time=\"%.3f\">\n",
            n, fails, errs, elapsed);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    <testcase classname=\"hypsim.explore.");
        xml_escape(f, suite);
        fprintf(f, "\" name=\"run %" PRIu64 " seed %" PRIu64 "\" time=\"%.3f\"", k[i].run, k[i].seed,
                k[i].elapsed_s);
        if (k[i].status == EXIT_OK) {
            fprintf(f, "/>\n");
            continue;
        }
        fprintf(f, ">\n      <%s message=\"", k[i].status == EXIT_VIOLATION ? "failure" : "error");
        if (k[i].status == EXIT_VIOLATION)
            fprintf(f, "invariant %d: ", k[i].invariant);
        xml_escape(f, k[i].detail);
        fprintf(f, "\" type=\"%s\">", k[i].status == EXIT_VIOLATION ? "isolation violation" : "internal error");
        if (k[i].trace) {
            fprintf(f, "trace: ");
            xml_escape(f, k[i].trace);
            fprintf(f, " (hypsim replay FILE --log)");
        }
        fprintf(f, "</%s>\n    </testcase>\n", k[i].status == EXIT_VIOLATION ? "failure" : "error");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "%s: --junit %s: %s\n", prog, path, strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

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
    uint64_t x;
    if (!v)
        return bad_value("--sched", v, "random, pct[:d], exhaustive[:D[:P]]");
    if (!strcmp(v, "random")) {
        o->strat = EX_RANDOM;
    } else if (!strncmp(v, "pct", 3) && (v[3] == 0 || v[3] == ':')) {
        o->strat = EX_PCT;
        if (v[3] == ':') {
            if (num("--sched pct:d", v + 4, 1, 16, &x))
                return EXIT_USAGE;
            o->cfg.pct_depth = (unsigned)x;
        }
    } else if (!strncmp(v, "exhaustive", 10) && (v[10] == 0 || v[10] == ':')) {
        o->strat = EX_EXHAUSTIVE;
        if (v[10] == ':') {
            char buf[64], *p;
            snprintf(buf, sizeof(buf), "%s", v + 11);
            p = strchr(buf, ':');
            if (p)
                *p++ = 0;
            if (num("--sched exhaustive:D", buf, 0, 1000000000, &x))
                return EXIT_USAGE;
            o->ex_depth = (unsigned)x;
            if (p) {
                if (num("--sched exhaustive:D:P", p, 0, EX_MAX_PREEMPT, &x))
                    return EXIT_USAGE;
                o->ex_preempt = (unsigned)x;
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
    cli_config_default(&o->cfg);
    o->jobs = 1;
    o->shard_k = o->shard_n = 1;
    o->ex_depth = 64;
    o->ex_preempt = 1;
    o->shrink_time = 60;
    o->trace_dir = "explore-traces";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x = 0;
        int rc = 0;
        bool takes = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return -1;
        else if (cli_machine_flag("explore", a, v, &o->cfg, &o->kf, &rc))
            takes = true;       /* --cpus N, --kcore PATH, ... (cli/flags.c) */
        else if (!strcmp(a, "--seed")) {
            if (!(rc = num(a, v, 0, UINT64_MAX / 2, &x))) o->cfg.seed = x;
        } else if (!strcmp(a, "--runs")) {
            rc = num(a, v, 1, UINT64_MAX / 4, &o->runs);
        } else if (!strcmp(a, "--time")) {
            char *end;
            double t = v ? strtod(v, &end) : -1;
            if (!v || *end || end == v || !(t > 0) || t > 1e9)
                return bad_value(a, v, "seconds > 0");
            o->time_s = t;
        } else if (!strcmp(a, "--sched")) {
            rc = parse_sched(v, o);
        } else if (!strcmp(a, "--jobs") || !strcmp(a, "-j")) {
            if (!(rc = num(a, v, 1, EX_MAX_JOBS, &x))) o->jobs = (unsigned)x;
        } else if (!strcmp(a, "--shard")) {
            unsigned k, n;
            char tail;
            if (!v || sscanf(v, "%u/%u%c", &k, &n, &tail) != 2 || n < 1 || k < 1 || k > n || v[0] == '-')
                return bad_value(a, v, "K/N with 1 <= K <= N");
            o->shard_k = k;
            o->shard_n = n;
        } else if (!strcmp(a, "--traces")) {
            rc = need(a, v, "a directory", &o->trace_dir);
        } else if (!strcmp(a, "--shrink-time")) {
            if (!(rc = num(a, v, 1, 1u << 30, &x))) o->shrink_time = (double)x;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            rc = need(a, v, "a path", &o->output);
        } else if (!strcmp(a, "--junit")) {
            rc = need(a, v, "a path", &o->junit);
        } else {
            takes = false;
            if (!strcmp(a, "--stop-on-first"))
                o->stop_on_first = true;
            else if (!strcmp(a, "--shrink"))
                o->shrink = true;
            else if (!strcmp(a, "--no-traces"))
                o->trace_dir = NULL;
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
    if (!o->runs && o->time_s == 0)
        o->runs = 100;
    if (o->shrink && !o->trace_dir) {
        fprintf(stderr, "%s: explore: --shrink needs traces (drop --no-traces)\n", prog);
        return EXIT_USAGE;
    }
    o->ex_space = ex_space(o->ex_depth, o->ex_preempt, o->cfg.ncpus);
    return 0;
}

/* ---- The campaign ------------------------------------------------------------ */

struct ex_worker {
    pid_t pid;
    int fd;
    uint64_t idx;                   /* local index j: run g = K-1 + j*N */
    size_t got;
    struct ex_result res;
};

struct ex_done {
    bool done;
    double t_arrival;
    struct ex_result res;
};

static uint64_t run_of(const struct ex_opts *o, uint64_t j)
{
    return (uint64_t)(o->shard_k - 1) + j * o->shard_n;
}

static int start_worker(const struct ex_opts *o, struct ex_worker *w, uint64_t j, FILE *out)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(out);
    fflush(stderr);
    w->pid = fork();
    if (w->pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (w->pid == 0) {
        struct ex_result r;
        const char *b;
        size_t left;
        close(p[0]);
        run_one(o, run_of(o, j), &r);
        b = (const char *)&r;
        left = sizeof(r);
        while (left) {
            ssize_t k = write(p[1], b, left);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                _exit(EXIT_INTERNAL);
            b += k;
            left -= (size_t)k;
        }
        _exit(0);
    }
    close(p[1]);
    w->fd = p[0];
    w->idx = j;
    w->got = 0;
    return 0;
}

/* Collect a finished worker: its result, or an internal-error result. */
static void finish_worker(const struct ex_opts *o, struct ex_worker *w, struct ex_result *r)
{
    int st = 0;
    close(w->fd);
    w->fd = -1;
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (w->got == sizeof(w->res) && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        *r = w->res;
        return;
    }
    memset(r, 0, sizeof(*r));
    r->run = run_of(o, w->idx);
    r->status = EXIT_INTERNAL;
    if (WIFSIGNALED(st))
        snprintf(r->err, sizeof(r->err), "worker for run %" PRIu64 " killed by signal %d", r->run, WTERMSIG(st));
    else
        snprintf(r->err, sizeof(r->err), "worker for run %" PRIu64 " died (exit %d)", r->run,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int keep(struct ex_kept **k, size_t *n, size_t *cap, const struct ex_result *r)
{
    struct ex_kept *e;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct ex_kept *nk = realloc(*k, nc * sizeof(*nk));
        if (!nk)
            return -1;
        *k = nk;
        *cap = nc;
    }
    e = &(*k)[(*n)++];
    memset(e, 0, sizeof(*e));
    e->run = r->run;
    e->seed = r->seed;
    e->steps = r->steps;
    e->elapsed_s = r->elapsed_s;
    e->status = r->status;
    e->invariant = r->v.invariant;
    if (r->status == EXIT_VIOLATION)
        e->detail = strdup(r->v.detail);
    else if (r->status == EXIT_INTERNAL)
        e->detail = strdup(r->err);
    if (r->trace[0])
        e->trace = strdup(r->trace);
    return 0;
}

int cmd_explore(int argc, char **argv)
{
    struct ex_opts o;
    struct ex_worker w[EX_MAX_JOBS];
    struct ex_done *done = NULL;     /* by local index, from `emitted` on: a window */
    struct ex_kept *kept = NULL;
    struct ex_summary sum;
    size_t nkept = 0, capkept = 0, cap_done = 0;
    uint64_t total, next = 0, emitted = 0, stop_at = UINT64_MAX;
    unsigned active = 0;
    FILE *out = stdout;
    double t0;
    bool timed_out = false, oom = false;
    int rc = parse_explore(argc, argv, &o);

    if (rc < 0) {
        usage_explore(stdout);
        return EXIT_OK;
    }
    if (rc)
        return rc;
    /* Fail fast on a bad config or ELF, before any worker starts. */
    {
        struct machine *m = calloc(1, sizeof(*m));
        char err[512];
        if (!m)
            return EXIT_INTERNAL;
        if (machine_init(m, &o.cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: explore: %s\n", prog, err);
            free(m);
            return EXIT_USAGE;
        }
        machine_free(m);
        free(m);
        {
            uint8_t d[SHA256_BYTES];
            if (sha256_file(o.cfg.kcore_path, d, err, sizeof(err)) != 0) {
                fprintf(stderr, "%s: explore: %s\n", prog, err);
                return EXIT_USAGE;
            }
            sha256_hex(d, o.kcore_sha256);
        }
    }
    if (o.trace_dir && mkdir(o.trace_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: explore: --traces %s: %s\n", prog, o.trace_dir, strerror(errno));
        return EXIT_USAGE;
    }
    if (o.output && !(out = fopen(o.output, "w"))) {
        fprintf(stderr, "%s: explore: --output %s: %s\n", prog, o.output, strerror(errno));
        return EXIT_USAGE;
    }
    /* Local runs of this shard: g = K-1, K-1+N, ... below --runs. */
    total = o.runs ? (o.runs > o.shard_k - 1 ? (o.runs - o.shard_k) / o.shard_n + 1 : 0) : UINT64_MAX;
    memset(&sum, 0, sizeof(sum));
    for (unsigned i = 0; i < o.jobs; i++)
        w[i].pid = 0, w[i].fd = -1;
    cap_done = 2u * o.jobs + 2;
    done = calloc(cap_done, sizeof(*done));
    if (!done) {
        if (out != stdout)
            fclose(out);
        return EXIT_INTERNAL;
    }
    t0 = cli_now_s();
    for (;;) {
        /* Start runs while there are free workers and runs left. Results
         * are held in a window of cap_done slots past `emitted`. */
        while (active < o.jobs && next < total && next < stop_at && next < emitted + cap_done) {
            if (o.time_s > 0 && cli_now_s() - t0 >= o.time_s) {
                timed_out = true;
                break;
            }
            unsigned k = 0;
            while (w[k].pid)
                k++;
            if (start_worker(&o, &w[k], next, out) != 0) {
                fprintf(stderr, "%s: explore: cannot start a worker: %s\n", prog, strerror(errno));
                oom = true;
                break;
            }
            done[next % cap_done].done = false;
            next++;
            active++;
        }
        if (!active)
            break;
        /* Wait for output from any worker. */
        {
            struct pollfd pf[EX_MAX_JOBS];
            unsigned map[EX_MAX_JOBS], np = 0;
            for (unsigned k = 0; k < o.jobs; k++)
                if (w[k].pid) {
                    pf[np].fd = w[k].fd;
                    pf[np].events = POLLIN;
                    pf[np].revents = 0;
                    map[np++] = k;
                }
            int pr = poll(pf, np, o.time_s > 0 ? 200 : -1);
            if (pr < 0 && errno != EINTR)
                break;
            for (unsigned p = 0; p < np && pr > 0; p++) {
                struct ex_worker *x = &w[map[p]];
                if (!pf[p].revents)
                    continue;
                ssize_t k = read(x->fd, (char *)&x->res + x->got, sizeof(x->res) - x->got);
                if (k > 0) {
                    x->got += (size_t)k;
                    if (x->got < sizeof(x->res))
                        continue;
                } else if (k < 0 && errno == EINTR) {
                    continue;
                }
                /* complete, EOF or error: reap */
                struct ex_done *d = &done[x->idx % cap_done];
                finish_worker(&o, x, &d->res);
                d->done = true;
                d->t_arrival = cli_now_s() - t0 - d->res.post_s;   /* when the run found it */
                if (o.stop_on_first && d->res.status == EXIT_VIOLATION && x->idx < stop_at)
                    stop_at = x->idx;
                x->pid = 0;
                active--;
            }
        }
        /* --stop-on-first: runs after the first violation are not needed. */
        if (stop_at != UINT64_MAX)
            for (unsigned k = 0; k < o.jobs; k++)
                if (w[k].pid && w[k].idx > stop_at) {
                    struct ex_result dummy;
                    kill(w[k].pid, SIGKILL);
                    finish_worker(&o, &w[k], &dummy);
                    w[k].pid = 0;
                    active--;
                }
        /* Emit, in run order, everything that is complete. */
        while (emitted < next && emitted <= stop_at && done[emitted % cap_done].done) {
            struct ex_done *d = &done[emitted % cap_done];
            emit_run(out, &o, &d->res);
            summary_add(&sum, &d->res, d->t_arrival);
            if (d->res.status == EXIT_INTERNAL && !o.quiet)
                fprintf(stderr, "%s: explore: run %" PRIu64 ": %s\n", prog, d->res.run, d->res.err);
            if (!o.quiet && d->res.status == EXIT_VIOLATION)
                fprintf(stderr, "explore: run %" PRIu64 " (seed %" PRIu64 "): invariant %d at step %" PRIu64
                        ": %s%s%s\n", d->res.run, d->res.seed, d->res.v.invariant, d->res.v.step,
                        d->res.v.detail, d->res.trace[0] ? "\n  trace: " : "", d->res.trace);
            if (keep(&kept, &nkept, &capkept, &d->res) != 0)
                oom = true;
            d->done = false;
            emitted++;
        }
        if (oom)
            break;
    }
    /* Leftover workers (an error above): stop them. */
    for (unsigned k = 0; k < o.jobs; k++)
        if (w[k].pid) {
            struct ex_result dummy;
            kill(w[k].pid, SIGKILL);
            finish_worker(&o, &w[k], &dummy);
            w[k].pid = 0;
        }
    {
        double el = cli_now_s() - t0;
        bool complete = !oom && (stop_at != UINT64_MAX || (o.runs && emitted == total));
        emit_summary(out, &o, &sum, el, complete);
        if (!o.quiet) {
            fprintf(stderr, "explore: %s, %s: %" PRIu64 " runs, %" PRIu64 " steps in %.1f s (%.0f steps/s), "
                    "%" PRIu64 " violations", ex_label(&o),
                    o.strat == EX_PCT ? "pct" : o.strat == EX_EXHAUSTIVE ? "exhaustive" : "random",
                    sum.runs, sum.steps, el, el > 0 ? sum.steps / el : 0.0, sum.violations);
            if (sum.have_first)
                fprintf(stderr, "; first: run %" PRIu64 " after %.2f s, invariant %d", sum.first_run,
                        sum.first_time, sum.first_inv);
            if (timed_out)
                fprintf(stderr, " (time limit)");
            fputc('\n', stderr);
        }
        if (o.junit && write_junit(o.junit, ex_label(&o), kept, nkept, el) != 0)
            rc = EXIT_USAGE;
    }
    for (size_t i = 0; i < nkept; i++) {
        free(kept[i].detail);
        free(kept[i].trace);
    }
    free(kept);
    free(done);
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "%s: explore: --output %s: %s\n", prog, o.output, strerror(errno));
        rc = EXIT_USAGE;
    } else if (out == stdout)
        fflush(stdout);
    if (rc)
        return rc;
    if (oom || sum.errors)
        return EXIT_INTERNAL;
    return sum.violations ? EXIT_VIOLATION : EXIT_OK;
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

struct mg_run {
    uint64_t run, seed, steps;
    double elapsed_s;
    int status, invariant;
    char *detail, *trace;
    unsigned file;
};

static int mg_cmp(const void *a, const void *b)
{
    const struct mg_run *x = a, *y = b;
    return x->run < y->run ? -1 : x->run > y->run;
}

static uint64_t js_u64(const cJSON *o, const char *k, bool *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v) && v->valuedouble >= 0)
        return (uint64_t)v->valuedouble;
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 10);
    *ok = false;
    return 0;
}

int cmd_merge(int argc, char **argv)
{
    const char *junit = NULL;
    bool list = false;
    struct mg_run *r = NULL;
    size_t nr = 0, capr = 0;
    char *campaign = NULL;           /* canonical campaign without "shard" */
    char *first_file = NULL;
    double first_time = -1, max_elapsed = 0;
    uint64_t runs_req = 0;
    bool stop_first = false;
    unsigned nfiles = 0;
    const char **fname = calloc((size_t)argc + 1, sizeof(*fname));   /* input files, in order */
    int rc = fname ? EXIT_OK : EXIT_INTERNAL;

    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage_merge(stdout);
            return EXIT_OK;
        }
    for (int i = 0; i < argc && rc == EXIT_OK; i++) {
        const char *a = argv[i];
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
        FILE *f = strcmp(a, "-") ? fopen(a, "r") : stdin;
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len;
        unsigned lineno = 0;
        bool saw_summary = false;
        if (!f) {
            fprintf(stderr, "%s: merge: %s: %s\n", prog, a, strerror(errno));
            rc = EXIT_USAGE;
            break;
        }
        fname[nfiles++] = a;
        while (rc == EXIT_OK && (len = getline(&line, &lcap, f)) >= 0) {
            cJSON *j;
            const cJSON *type;
            bool ok = true;
            lineno++;
            if (len == 0 || (len == 1 && line[0] == '\n'))
                continue;
            j = cJSON_Parse(line);
            type = j ? cJSON_GetObjectItemCaseSensitive(j, "type") : NULL;
            if (!cJSON_IsString(type)) {
                fprintf(stderr, "%s: merge: %s: line %u: not an explore JSON line\n", prog, a, lineno);
                cJSON_Delete(j);
                rc = EXIT_USAGE;
                break;
            }
            if (!strcmp(type->valuestring, "run")) {
                struct mg_run e;
                const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "violation");
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "trace");
                const cJSON *el = cJSON_GetObjectItemCaseSensitive(j, "elapsed_s");
                memset(&e, 0, sizeof(e));
                e.run = js_u64(j, "run", &ok);
                e.seed = js_u64(j, "seed", &ok);
                e.steps = js_u64(j, "steps", &ok);
                e.elapsed_s = cJSON_IsNumber(el) ? el->valuedouble : 0;
                e.file = nfiles - 1;
                if (!cJSON_IsString(res))
                    ok = false;
                else if (!strcmp(res->valuestring, "ok"))
                    e.status = EXIT_OK;
                else if (!strcmp(res->valuestring, "violation") && cJSON_IsObject(v)) {
                    const cJSON *inv = cJSON_GetObjectItemCaseSensitive(v, "invariant");
                    const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "detail");
                    e.status = EXIT_VIOLATION;
                    e.invariant = cJSON_IsNumber(inv) ? inv->valueint : -1;
                    e.detail = strdup(cJSON_IsString(d) ? d->valuestring : "");
                } else if (!strcmp(res->valuestring, "error")) {
                    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error");
                    e.status = EXIT_INTERNAL;
                    e.detail = strdup(cJSON_IsString(d) ? d->valuestring : "error");
                } else
                    ok = false;
                if (cJSON_IsString(t))
                    e.trace = strdup(t->valuestring);
                if (!ok) {
                    fprintf(stderr, "%s: merge: %s: line %u: malformed run record\n", prog, a, lineno);
                    free(e.detail);
                    free(e.trace);
                    rc = EXIT_USAGE;
                } else {
                    if (nr == capr) {
                        size_t nc = capr ? capr * 2 : 256;
                        struct mg_run *nrp = realloc(r, nc * sizeof(*nrp));
                        if (!nrp) {
                            rc = EXIT_INTERNAL;
                            free(e.detail);
                            free(e.trace);
                            cJSON_Delete(j);
                            break;
                        }
                        r = nrp;
                        capr = nc;
                    }
                    r[nr++] = e;
                }
            } else if (!strcmp(type->valuestring, "summary")) {
                cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(j, "campaign");
                const cJSON *fv = cJSON_GetObjectItemCaseSensitive(j, "first_violation");
                const cJSON *el = cJSON_GetObjectItemCaseSensitive(j, "elapsed_s");
                char *canon;
                saw_summary = true;
                if (!cJSON_IsObject(c)) {
                    fprintf(stderr, "%s: merge: %s: line %u: summary without a campaign\n", prog, a, lineno);
                    cJSON_Delete(c);
                    rc = EXIT_USAGE;
                } else {
                    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(c, "runs");
                    const cJSON *sf = cJSON_GetObjectItemCaseSensitive(c, "stop_on_first");
                    if (cJSON_IsNumber(rq))
                        runs_req = (uint64_t)rq->valuedouble;
                    stop_first |= cJSON_IsTrue(sf);
                    /* shards may run on other machines: the KCore is its
                     * digest there, not its path */
                    cJSON_DeleteItemFromObjectCaseSensitive(c, "shard");
                    cJSON_DeleteItemFromObjectCaseSensitive(c, "kcore");
                    canon = cJSON_PrintUnformatted(c);
                    if (!campaign)
                        campaign = canon;
                    else {
                        if (canon && strcmp(canon, campaign)) {
                            fprintf(stderr, "%s: merge: %s: campaign differs from %s's (config, KCore, strategy or seed)\n",
                                    prog, a, first_file ? first_file : "the first file");
                            rc = EXIT_USAGE;
                        }
                        free(canon);
                    }
                    if (!first_file)
                        first_file = strdup(a);
                    cJSON_Delete(c);
                    if (cJSON_IsObject(fv)) {
                        const cJSON *ft = cJSON_GetObjectItemCaseSensitive(fv, "time_s");
                        if (cJSON_IsNumber(ft) && (first_time < 0 || ft->valuedouble < first_time))
                            first_time = ft->valuedouble;
                    }
                    if (cJSON_IsNumber(el) && el->valuedouble > max_elapsed)
                        max_elapsed = el->valuedouble;
                }
            } else {
                fprintf(stderr, "%s: merge: %s: line %u: unknown record type '%s'\n", prog, a, lineno,
                        type->valuestring);
                rc = EXIT_USAGE;
            }
            cJSON_Delete(j);
        }
        free(line);
        if (f != stdin)
            fclose(f);
        if (rc == EXIT_OK && !saw_summary) {
            fprintf(stderr, "%s: merge: %s: no summary line (an unfinished shard?)\n", prog, a);
            rc = EXIT_USAGE;
        }
    }
    if (rc == EXIT_OK && !nfiles) {
        fprintf(stderr, "%s: merge: no input files (see 'hypsim merge --help')\n", prog);
        rc = EXIT_USAGE;
    }
    if (rc == EXIT_OK) {
        qsort(r, nr, sizeof(*r), mg_cmp);
        for (size_t i = 1; i < nr; i++)
            if (r[i].run == r[i - 1].run) {
                fprintf(stderr, "%s: merge: run %" PRIu64 " appears twice (%s and %s)\n", prog, r[i].run,
                        fname[r[i - 1].file], fname[r[i].file]);
                rc = EXIT_USAGE;
                break;
            }
    }
    if (rc == EXIT_OK && runs_req && !stop_first) {
        /* A --runs campaign (without --stop-on-first) covers 0..runs-1. */
        bool contiguous = nr == runs_req && (nr == 0 || (r[0].run == 0 && r[nr - 1].run == runs_req - 1));
        if (!contiguous) {
            fprintf(stderr, "%s: merge: the campaign asked for runs 0..%" PRIu64 " but the inputs hold %zu runs\n",
                    prog, runs_req - 1, nr);
            rc = EXIT_USAGE;
        }
    }
    if (rc == EXIT_OK) {
        struct ex_summary s;
        memset(&s, 0, sizeof(s));
        for (size_t i = 0; i < nr; i++) {
            struct ex_result x;
            memset(&x, 0, sizeof(x));
            x.run = r[i].run;
            x.seed = r[i].seed;
            x.steps = r[i].steps;
            x.status = r[i].status;
            x.v.invariant = r[i].invariant;
            if (r[i].detail)
                snprintf(x.v.detail, sizeof(x.v.detail), "%s", r[i].detail);
            if (r[i].trace)
                snprintf(x.trace, sizeof(x.trace), "%s", r[i].trace);
            summary_add(&s, &x, 0);
        }
        if (list) {
            for (size_t i = 0; i < nr; i++) {
                printf("%" PRIu64 " %" PRIu64 " %s %" PRIu64, r[i].run, r[i].seed,
                       r[i].status == EXIT_OK ? "ok" : r[i].status == EXIT_VIOLATION ? "violation" : "error",
                       r[i].steps);
                if (r[i].status == EXIT_VIOLATION)
                    printf(" %d", r[i].invariant);
                putchar('\n');
            }
        } else {
            cJSON *j = cJSON_CreateObject();
            cJSON *c = campaign ? cJSON_Parse(campaign) : NULL;
            if (j) {
                cJSON_AddStringToObject(j, "type", "summary");
                if (c)
                    cJSON_AddItemToObject(j, "campaign", c);
                cJSON_AddNumberToObject(j, "shards", nfiles);
                cJSON_AddStringToObject(j, "result", s.errors ? "error" : s.violations ? "violation" : "ok");
                add_u64(j, "runs", s.runs);
                add_u64(j, "steps", s.steps);
                add_u64(j, "violations", s.violations);
                add_u64(j, "errors", s.errors);
                cJSON_AddItemToObject(j, "violations_by_invariant", by_inv_json(s.by_inv));
                if (s.have_first) {
                    cJSON *fv = cJSON_CreateObject();
                    add_u64(fv, "run", s.first_run);
                    add_u64(fv, "seed", s.first_seed);
                    cJSON_AddNumberToObject(fv, "invariant", s.first_inv);
                    cJSON_AddStringToObject(fv, "detail", s.first_detail);
                    if (s.first_trace[0])
                        cJSON_AddStringToObject(fv, "trace", s.first_trace);
                    else
                        cJSON_AddNullToObject(fv, "trace");
                    /* the earliest any shard found one (shards run side by side) */
                    cJSON_AddNumberToObject(fv, "time_s", first_time);
                    add_u64(fv, "steps_before", s.steps_before);
                    cJSON_AddItemToObject(j, "first_violation", fv);
                } else {
                    cJSON_AddNullToObject(j, "first_violation");
                }
                cJSON_AddNumberToObject(j, "elapsed_s", max_elapsed);
            }
            print_json_line(stdout, j);
        }
        if (junit) {
            struct ex_kept *k = calloc(nr ? nr : 1, sizeof(*k));
            if (!k)
                rc = EXIT_INTERNAL;
            else {
                for (size_t i = 0; i < nr; i++) {
                    k[i].run = r[i].run;
                    k[i].seed = r[i].seed;
                    k[i].steps = r[i].steps;
                    k[i].elapsed_s = r[i].elapsed_s;
                    k[i].status = r[i].status;
                    k[i].invariant = r[i].invariant;
                    k[i].detail = r[i].detail;
                    k[i].trace = r[i].trace;
                }
                rc = write_junit(junit, "merged", k, nr, max_elapsed);
                free(k);
            }
        }
        if (rc == EXIT_OK)
            rc = s.errors ? EXIT_INTERNAL : s.violations ? EXIT_VIOLATION : EXIT_OK;
    }
    for (size_t i = 0; i < nr; i++) {
        free(r[i].detail);
        free(r[i].trace);
    }
    free(r);
    free(campaign);
    free(first_file);
    free(fname);
    return rc;
}
