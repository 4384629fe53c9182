/*
 * traces/campaign/campaign.c - the engine (campaign.h): a campaign's runs
 * through the worker pool, reported in run order as JSON lines, summed up
 * by the summary builder, kept for the JUnit report.
 *
 * Results are reported in run order whatever the number of jobs, and
 * --stop-on-first stops at the violating run of lowest index (runs before
 * it are still completed), so the output does not depend on timing except
 * for the times it reports (and, with a time limit, on how many runs fit).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "traces/campaign/campaign.h"
#include "traces/campaign/jsonl.h"
#include "traces/campaign/pool.h"
#include "traces/campaign/run.h"
#include "traces/trace.h"

void campaign_defaults(struct campaign *c)
{
    memset(c, 0, sizeof(*c));
    machine_config_default(&c->cfg);
    c->jobs = 1;
    c->space.strategy = CAMPAIGN_RANDOM;
    c->space.shard.k = c->space.shard.n = 1;
    c->space.depth = 64;
    c->space.preempt = 1;
    c->shrink_time = 60;
    c->trace_dir = "explore-traces";
}

const char *campaign_label(const struct campaign *c)
{
    return c->mutant ? c->mutant : "kcore";
}

int campaign_prepare(struct campaign *c, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    uint8_t d[SHA256_BYTES];

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (machine_init(m, &c->cfg, err, errlen) != 0) {
        free(m);
        return -1;
    }
    machine_free(m);
    free(m);
    if (sha256_file(c->cfg.kcore_path, d, err, errlen) != 0)
        return -1;
    sha256_hex(d, c->kcore_sha256);
    campaign_space_set_tree(&c->space, c->cfg.ncpus);
    return 0;
}

/* ---- The pool's operations ------------------------------------------------ */

struct engine {
    const struct campaign *c;
    FILE *out;
    const struct campaign_sink *sink;
    struct campaign_outcome *o;
    double t_emit;                  /* pool time of the last arrival (for the sink) */
};

static void op_work(void *arg, uint64_t j, void *out)
{
    const struct engine *e = arg;
    campaign_run_one(e->c, campaign_space_run_of(&e->c->space, j), out);
}

static void op_lost(void *arg, uint64_t j, void *out, const char *why)
{
    const struct engine *e = arg;
    struct campaign_result *r = out;
    r->run = campaign_space_run_of(&e->c->space, j);
    r->status = CAMPAIGN_ERROR;
    snprintf(r->err, sizeof(r->err), "worker for run %" PRIu64 " %s", r->run, why);
}

static bool op_arrived(void *arg, uint64_t j, void *out, double elapsed_s)
{
    struct engine *e = arg;
    struct campaign_result *r = out;
    (void)j;
    r->found_s = elapsed_s - r->post_s;             /* when the run found it */
    e->t_emit = elapsed_s;
    return e->c->stop_on_first && r->status == CAMPAIGN_VIOLATION;
}

static void to_record(const struct campaign_result *r, struct campaign_record *k)
{
    memset(k, 0, sizeof(*k));
    k->run = r->run;
    k->seed = r->seed;
    k->steps = r->steps;
    k->elapsed_s = r->elapsed_s;
    k->status = r->status;
    k->invariant = r->v.invariant;
    k->step = r->v.step;
    if (r->status == CAMPAIGN_VIOLATION)
        k->detail = (char *)r->v.detail;
    else if (r->status == CAMPAIGN_ERROR)
        k->detail = (char *)r->err;
    if (r->trace[0])
        k->trace = (char *)r->trace;
}

static void op_tick(void *arg, double elapsed_s)
{
    struct engine *e = arg;
    if (e->sink && e->sink->tick)
        e->sink->tick(e->sink->arg, &e->o->summary, elapsed_s);
}

static int op_emit(void *arg, uint64_t j, const void *out)
{
    struct engine *e = arg;
    const struct campaign_result *r = out;
    struct campaign_record k;
    (void)j;
    campaign_json_print_line(e->out, campaign_run_json(e->c, r));
    to_record(r, &k);
    campaign_summary_add(&e->o->summary, &k, r->found_s);
    if (e->sink && e->sink->run)
        e->sink->run(e->sink->arg, r, &e->o->summary, e->t_emit);
    return campaign_records_push(&e->o->records, &k);
}

int campaign_explore(const struct campaign *c, FILE *out, const volatile sig_atomic_t *stop,
                     const struct campaign_sink *sink, struct campaign_outcome *o)
{
    struct engine e = { c, out, sink, o, 0 };
    struct campaign_pool_ops ops = { &e, op_work, op_lost, op_arrived, op_emit,
                                     sink && sink->tick ? op_tick : NULL };
    struct campaign_pool_limits lim = {
        .jobs = c->jobs,
        .total = campaign_space_local_count(&c->space, c->runs),
        .time_s = c->time_s,
        .stop = stop,
    };
    struct campaign_pool_end end;
    struct campaign_summary_meta meta = { .kind = CAMPAIGN_SUMMARY_EXPLORE };

    memset(o, 0, sizeof(*o));
    campaign_summary_init(&o->summary);
    campaign_pool_run(&lim, &ops, sizeof(struct campaign_result), &end);
    o->elapsed_s = end.elapsed_s;
    o->timed_out = end.timed_out;
    o->interrupted = end.interrupted;
    o->failed = end.failed;
    if (end.failed && end.why && end.err)
        snprintf(o->err, sizeof(o->err), "%s: %s", end.why, strerror(end.err));
    else if (end.failed)
        snprintf(o->err, sizeof(o->err), "%s", end.why ? end.why : "out of memory");
    o->complete = !end.failed && !end.interrupted &&
                  (end.stopped || (c->runs && end.emitted == lim.total));
    meta.campaign = campaign_config_json(c);
    meta.complete = o->complete;
    meta.partial = o->interrupted;
    meta.elapsed_s = o->elapsed_s;
    campaign_json_print_line(out, campaign_summary_json(&o->summary, &meta));
    return o->failed ? -1 : 0;
}

void campaign_outcome_free(struct campaign_outcome *o)
{
    campaign_records_free(&o->records);
}
