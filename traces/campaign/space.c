/*
 * traces/campaign/space.c - the run space: which seed and schedule run g
 * uses, and which runs a shard takes (space.h).
 */
#include "traces/campaign/space.h"
#include "model/sched/sched.h"

const char *campaign_strategy_name(enum campaign_strategy s)
{
    return s == CAMPAIGN_PCT ? "pct" : s == CAMPAIGN_EXHAUSTIVE ? "exhaustive" : "random";
}

/* Digits of s up to the first non-digit, as a number <= UINT32_MAX; *end
 * past them. Returns -1 for no digit or too large. */
static int digits_u32(const char *s, const char **end, uint32_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    if (p == s)
        return -1;
    *end = p;
    *out = (uint32_t)v;
    return 0;
}

int campaign_shard_parse(const char *s, struct campaign_shard *out)
{
    uint32_t k, n;
    const char *p;
    if (!s || digits_u32(s, &p, &k) != 0 || *p != '/' || digits_u32(p + 1, &p, &n) != 0 || *p)
        return -1;
    if (k < 1 || k > n)
        return -1;
    out->k = k;
    out->n = n;
    return 0;
}

void campaign_space_set_tree(struct campaign_space *s, unsigned ncpus)
{
    s->schedules = sched_exhaustive_space(s->depth, s->preempt, ncpus);
}

uint64_t campaign_space_run_of(const struct campaign_space *s, uint64_t j)
{
    return (uint64_t)(s->shard.k - 1) + j * s->shard.n;
}

uint64_t campaign_space_local_count(const struct campaign_space *s, uint64_t runs)
{
    if (!runs)
        return UINT64_MAX;
    /* g = K-1, K-1+N, ... below runs */
    return runs > s->shard.k - 1 ? (runs - s->shard.k) / s->shard.n + 1 : 0;
}

void campaign_space_run_config(const struct campaign_space *s, const struct machine_config *base,
                               uint64_t g, struct machine_config *cfg, uint64_t *schedule)
{
    *cfg = *base;
    *schedule = 0;
    if (s->strategy == CAMPAIGN_EXHAUSTIVE) {
        cfg->seed = base->seed + g / s->schedules;
        *schedule = g % s->schedules;
        cfg->sched = SCHED_EXHAUSTIVE;
        cfg->ex_depth = s->depth;
        cfg->ex_preempt = s->preempt;
        cfg->ex_schedule = *schedule;
    } else {
        cfg->seed = base->seed + g;
        cfg->sched = s->strategy == CAMPAIGN_PCT ? SCHED_PCT : SCHED_RANDOM;
    }
}
