/*
 * traces/shrink.c - delta debugging of a failing trace (Zeller and
 * Hildebrandt, "Simplifying and isolating failure-inducing input", TSE
 * 2002), over the sequence of choices. A candidate is a subsequence of the
 * choices; it "fails" when its lenient replay (a choice >= n taken modulo
 * n, the run ending where the choices end) violates the same invariant as
 * the original. Each accepted candidate is also cut right after the
 * violation (the choices it did not consume are dropped). Two phases, each
 * with a chunk size that starts at half the sequence and halves whenever a
 * whole pass removes nothing: first over whole steps (the choices of k
 * consecutive steps, from the step boundaries of the last accepted run, so
 * the remaining steps keep their alignment: this drops CPU events, actor
 * actions and hardware events), then over single choices (the decisions
 * inside an action). The result is re-recorded so every stored choice is
 * < its n.
 */
#include "traces/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct shrinker {
    const struct trace *orig;
    struct machine_config cfg;
    int invariant;
    unsigned tests;
    double deadline;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run a candidate. Returns 1 if it violates the invariant (then *used is
 * the number of choices consumed up to the violation), 0 if not, -1 on a
 * machine_init error. When rerec is set, the run is re-recorded there. */
static int try_candidate(struct shrinker *s, const uint32_t *ch, size_t n, size_t *used,
                         struct trace *rerec, size_t *bounds, size_t *nsteps,
                         char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct trace cand;
    struct trace_replay_opts o;
    struct trace_replay_result r;
    int hit;

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (machine_init(m, &s->cfg, err, errlen) != 0) {
        free(m);
        return -1;
    }
    trace_init(&cand);
    cand.cfg = s->cfg;
    cand.choice = (uint32_t *)ch;
    cand.nchoice = n;
    cand.steps = s->orig->steps;
    cand.hash_every = s->orig->hash_every;
    memset(&o, 0, sizeof(o));
    o.lenient = true;
    o.max_steps = s->orig->steps;
    o.rerecord = rerec;
    o.step_first = bounds;
    o.step_first_cap = bounds ? s->orig->steps + 1 : 0;
    trace_replay(m, &cand, &o, &r);
    s->tests++;
    hit = m->nviol > 0 && m->viol[0].invariant == s->invariant;
    *used = r.choices_used;
    if (nsteps)
        *nsteps = m->st.steps;
    machine_free(m);
    free(m);
    return hit;
}

int trace_shrink(const struct trace *t, const char *kcore_path, double max_seconds,
                 struct trace *out, struct trace_shrink_stats *st, char *err, size_t errlen)
{
    struct shrinker s;
    uint32_t *cur, *cand;
    size_t len, used, nsteps = 0, nst = 0, *bounds, *nb;
    double t0 = now_s();
    int rc;

    memset(st, 0, sizeof(*st));
    st->choices_before = t->nchoice;
    st->steps_before = t->steps;
    if (!t->violation) {
        snprintf(err, errlen, "outcome: the trace has no violation to keep");
        return -1;
    }
    memset(&s, 0, sizeof(s));
    s.orig = t;
    s.cfg = t->cfg;
    snprintf(s.cfg.kcore_path, sizeof(s.cfg.kcore_path), "%s", kcore_path);
    s.invariant = t->viol.invariant;
    s.deadline = max_seconds > 0 ? t0 + max_seconds : 0;
    cur = malloc((t->nchoice ? t->nchoice : 1) * sizeof(*cur));
    cand = malloc((t->nchoice ? t->nchoice : 1) * sizeof(*cand));
    bounds = calloc(t->steps + 1, sizeof(*bounds));
    nb = calloc(t->steps + 1, sizeof(*nb));
    if (!cur || !cand || !bounds || !nb) {
        free(cur);
        free(cand);
        free(bounds);
        free(nb);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(cur, t->choice, t->nchoice * sizeof(*cur));
    len = t->nchoice;
    rc = try_candidate(&s, cur, len, &used, NULL, bounds, &nsteps, err, errlen);
    if (rc <= 0) {
        if (rc == 0)
            snprintf(err, errlen, "the trace does not reproduce its violation of invariant %d",
                     s.invariant);
        goto fail;
    }
    len = used;
    /* Phase 1: whole steps. bounds[i] = first choice of step i of cur. */
    for (size_t chunk = nsteps / 2 ? nsteps / 2 : 1; nsteps > 1; chunk /= 2) {
        bool progress = true;
        while (progress) {
            progress = false;
            for (size_t st0 = 0; st0 < nsteps;) {
                size_t st1 = st0 + chunk < nsteps ? st0 + chunk : nsteps;
                size_t a = bounds[st0], b = st1 < nsteps ? bounds[st1] : len, n;
                if (s.deadline && now_s() > s.deadline)
                    goto out;
                if (b > len || a >= b) {
                    st0 = st1;
                    continue;
                }
                memcpy(cand, cur, a * sizeof(*cand));
                memcpy(cand + a, cur + b, (len - b) * sizeof(*cand));
                n = len - (b - a);
                rc = try_candidate(&s, cand, n, &used, NULL, nb, &nst, err, errlen);
                if (rc < 0)
                    goto fail;
                if (rc == 1) {
                    size_t *tmp = bounds;
                    memcpy(cur, cand, used * sizeof(*cur));
                    len = used;
                    bounds = nb;
                    nb = tmp;
                    nsteps = nst;
                    progress = true;
                } else {
                    st0 = st1;
                }
            }
        }
        if (chunk <= 1)
            break;
    }
    /* Phase 2: single decisions. */
    for (size_t chunk = len / 2 ? len / 2 : 1; chunk >= 1; chunk /= 2) {
        bool progress = true;
        while (progress) {
            progress = false;
            for (size_t start = 0; start < len;) {
                size_t end = start + chunk < len ? start + chunk : len, n;
                if (s.deadline && now_s() > s.deadline)
                    goto out;
                memcpy(cand, cur, start * sizeof(*cand));
                memcpy(cand + start, cur + end, (len - end) * sizeof(*cand));
                n = len - (end - start);
                rc = try_candidate(&s, cand, n, &used, NULL, NULL, NULL, err, errlen);
                if (rc < 0)
                    goto fail;
                if (rc == 1) {
                    memcpy(cur, cand, used * sizeof(*cur));
                    len = used;
                    progress = true;
                } else {
                    start = end;
                }
            }
        }
        if (chunk == 1)
            break;
    }
out:
    /* Re-record: the stored trace is strict (every choice < n). */
    trace_free(out);
    out->cfg = s.cfg;
    out->hash_every = t->hash_every;
    memcpy(out->kcore_sha256, t->kcore_sha256, SHA256_BYTES);
    out->has_scenario_sha256 = t->has_scenario_sha256;
    memcpy(out->scenario_sha256, t->scenario_sha256, SHA256_BYTES);
    rc = try_candidate(&s, cur, len, &used, out, NULL, NULL, err, errlen);
    if (rc < 0)
        goto fail;
    if (rc == 0 || !out->violation) {
        snprintf(err, errlen, "internal: the shrunk trace no longer violates invariant %d",
                 s.invariant);
        goto fail;
    }
    /* the config keeps the recorded KCore path, like the original */
    snprintf(out->cfg.kcore_path, sizeof(out->cfg.kcore_path), "%s", t->cfg.kcore_path);
    st->choices_after = out->nchoice;
    st->steps_after = out->steps;
    rc = 0;
    goto done;
fail:
    rc = -1;
done:
    st->tests = s.tests;
    st->seconds = now_s() - t0;
    free(cur);
    free(cand);
    free(bounds);
    free(nb);
    return rc;
}
