/*
 * traces/campaign/space.c - the run space: which seed and schedule run g
 * uses, and which runs a shard takes (space.h).
 */
#include "traces/campaign/space.h"
#include "traces/campaign/exhaustive.h"

const char *campaign_strategy_name(enum campaign_strategy s)
{
    return s == CAMPAIGN_PCT ? "pct" : s == CAMPAIGN_EXHAUSTIVE ? "exhaustive" : "random";
}

void campaign_space_set_tree(struct campaign_space *s, unsigned ncpus)
{
    s->schedules = campaign_exhaustive_space(s->depth, s->preempt, ncpus);
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
        cfg->sched = SCHED_RANDOM;                  /* the hook makes every choice */
    } else {
        cfg->seed = base->seed + g;
        cfg->sched = s->strategy == CAMPAIGN_PCT ? SCHED_PCT : SCHED_RANDOM;
    }
}
