/*
 * traces/campaign/space.h - a campaign's run space. A campaign is a
 * sequence of runs indexed 0, 1, 2, ...; run g is a pure function of
 * (config, strategy, base seed, g):
 *   random, pct   seed = base + g;
 *   exhaustive    seed = base + g / S, schedule g % S of that seed's tree,
 *                 where S is the number of schedules within the bounds
 *                 (exhaustive.h).
 * A shard K/N takes exactly the runs g with g mod N == K-1, so N shards
 * cover one unsharded campaign's runs once each; within a shard, run g is
 * its local run j = (g - (K-1)) / N.
 */
#ifndef HYPSIM_CAMPAIGN_SPACE_H
#define HYPSIM_CAMPAIGN_SPACE_H

#include <stdint.h>

#include "model/machine.h"

enum campaign_strategy { CAMPAIGN_RANDOM, CAMPAIGN_PCT, CAMPAIGN_EXHAUSTIVE };

/* "random", "pct" or "exhaustive". */
const char *campaign_strategy_name(enum campaign_strategy s);

/* Shard K of N, 1 <= K <= N. */
struct campaign_shard {
    uint32_t k, n;
};

/* Parse "K/N": two decimal numbers of digits only (no sign, blank or
 * other base), 1 <= K <= N <= UINT32_MAX. Returns 0, or -1 (out
 * untouched). */
int campaign_shard_parse(const char *s, struct campaign_shard *out);

struct campaign_space {
    enum campaign_strategy strategy;   /* PCT's depth is the machine config's pct_depth */
    unsigned depth, preempt;           /* exhaustive: depth and preemption bounds */
    uint64_t schedules;                /* exhaustive: schedules per seed (saturating),
                                          campaign_space_set_tree */
    struct campaign_shard shard;
};

/* Set s->schedules, the size of one seed's exhaustive tree for ncpus CPUs
 * under s's bounds (whatever the strategy; only exhaustive runs use it). */
void campaign_space_set_tree(struct campaign_space *s, unsigned ncpus);

/* The global run index of s's shard-local run j: K-1 + j*N. */
uint64_t campaign_space_run_of(const struct campaign_space *s, uint64_t j);

/* How many runs of 0..runs-1 belong to s's shard; UINT64_MAX for runs == 0
 * (a campaign bounded by time only). */
uint64_t campaign_space_local_count(const struct campaign_space *s, uint64_t runs);

/* Machine config of run g: base with the run's seed and the scheduler the
 * strategy runs on (exhaustive runs use SCHED_EXHAUSTIVE with the schedule in
 * makes every choice), and *schedule, the exhaustive schedule number within
 * the seed's tree (0 for the other strategies). */
void campaign_space_run_config(const struct campaign_space *s, const struct machine_config *base,
                               uint64_t g, struct machine_config *cfg, uint64_t *schedule);

#endif
