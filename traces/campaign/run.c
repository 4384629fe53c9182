/*
 * traces/campaign/run.c - one run in a worker (run.h): the run, and the
 * trace of a violating run, re-recorded and shrunk.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "traces/campaign/run.h"
#include "traces/trace.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Run config cfg (its exhaustive schedule in cfg when c's strategy is
 * exhaustive), recording into t when t != NULL. Fills res->steps,
 * departures, status and v. Returns 0 or -1 (err). */
static int run_machine(const struct campaign *c, const struct machine_config *cfg,
                       struct trace *t, struct campaign_result *res, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
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
    res->departures = c->space.strategy == CAMPAIGN_EXHAUSTIVE ? sched_departures(m->sched) : 0;
    if (m->nviol) {
        res->status = CAMPAIGN_VIOLATION;
        res->v = m->viol[0];
    } else {
        res->status = CAMPAIGN_OK;
    }
    rc = 0;
out:
    machine_free(m);
    free(m);
    return rc;
}

/* Write t to path through path.part, renamed when complete: a worker
 * killed while writing (an interrupted campaign) leaves no trace file
 * that looks whole. Returns 0 or -1 (err). */
static int write_trace(const struct trace *t, const char *path, char *err, size_t errlen)
{
    char part[600];
    snprintf(part, sizeof(part), "%s.part", path);
    if (trace_write(t, part, err, errlen) != 0) {
        remove(part);
        return -1;
    }
    if (rename(part, path) != 0) {
        int e = errno;
        remove(part);
        if (snprintf(err, errlen, "%s: %s", path, strerror(e)) < 0)
            err[0] = 0;
        return -1;
    }
    return 0;
}

/* Save (and shrink) the trace of violating run g, whose config is cfg. */
static void run_trace(const struct campaign *c, uint64_t g, const struct machine_config *cfg,
                      struct campaign_result *res)
{
    struct trace t, s;
    struct campaign_result again;
    struct trace_shrink_stats st;
    char path[512], err[512];

    /* The run is deterministic: run it again, recording, up to the violation. */
    trace_init(&t);
    memset(&again, 0, sizeof(again));
    snprintf(path, sizeof(path), "%s/%s-run%" PRIu64 "-seed%" PRIu64 ".json", c->trace_dir,
             campaign_label(c), g, cfg->seed);
    if (run_machine(c, cfg, &t, &again, err, sizeof(err)) != 0 ||
        again.status != CAMPAIGN_VIOLATION || again.v.step != res->v.step) {
        snprintf(res->err, sizeof(res->err), "recording run %" PRIu64 ": %s", g,
                 again.status != CAMPAIGN_VIOLATION ? "the violation did not recur" : err);
        res->status = CAMPAIGN_ERROR;
        trace_free(&t);
        return;
    }
    if (write_trace(&t, path, err, sizeof(err)) != 0) {
        snprintf(res->err, sizeof(res->err), "%s", err);
        res->status = CAMPAIGN_ERROR;
        trace_free(&t);
        return;
    }
    snprintf(res->trace, sizeof(res->trace), "%s", path);
    if (c->shrink) {
        trace_init(&s);
        snprintf(path, sizeof(path), "%s/%s-run%" PRIu64 "-seed%" PRIu64 "-shrunk.json",
                 c->trace_dir, campaign_label(c), g, cfg->seed);
        if (trace_shrink(&t, cfg->kcore_path, c->shrink_time, &s, &st, err, sizeof(err)) == 0 &&
            write_trace(&s, path, err, sizeof(err)) == 0)
            snprintf(res->shrunk, sizeof(res->shrunk), "%s", path);
        else
            snprintf(res->err, sizeof(res->err), "shrink: %s", err);
        trace_free(&s);
    }
    trace_free(&t);
}

void campaign_run_one(const struct campaign *c, uint64_t g, struct campaign_result *res)
{
    struct machine_config cfg;
    char err[512];
    double t0 = now_s();

    memset(res, 0, sizeof(*res));
    campaign_space_run_config(&c->space, &c->cfg, g, &cfg, &res->schedule);
    res->run = g;
    res->seed = cfg.seed;
    if (run_machine(c, &cfg, NULL, res, err, sizeof(err)) != 0) {
        res->status = CAMPAIGN_ERROR;
        snprintf(res->err, sizeof(res->err), "%s", err);
        res->elapsed_s = now_s() - t0;
        return;
    }
    res->elapsed_s = now_s() - t0;
    if (res->status != CAMPAIGN_VIOLATION || !c->trace_dir)
        return;
    t0 = now_s();
    run_trace(c, g, &cfg, res);
    res->post_s = now_s() - t0;
}
