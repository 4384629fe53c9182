/*
 * model/sched.h - scheduling strategies and the seeded choice generator.
 *
 * Every nondeterministic choice of a run is drawn from here (through
 * machine_choose), from a splitmix64/xoshiro256** generator seeded by the
 * config: no rand(), no wall clock, no addresses, so a run is reproducible
 * bit for bit from (config, seed, KCore binary).
 * Strategies pick which CPU runs next:
 *   random - uniform over enabled CPUs, hardware events with a small weight;
 *   rr     - round robin over enabled CPUs, no spontaneous hardware events;
 *   pct    - PCT (Burckhardt et al., ASPLOS 2010): random distinct CPU
 *            priorities, the highest enabled runs, and at d-1 random change
 *            points the running CPU drops to the lowest priority.
 */
#ifndef HYPSIM_SCHED_H
#define HYPSIM_SCHED_H

#include <stdbool.h>
#include <stdint.h>

struct rng { uint64_t s[4]; };
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n), n >= 1 (rejection sampling: no modulo bias). */
uint32_t rng_below(struct rng *r, uint32_t n);

struct sched_state {
    int kind;                 /* enum sched_kind */
    struct rng rng;
    unsigned ncpus;
    unsigned rr_next;
    /* PCT */
    unsigned depth;
    int prio[64];
    uint64_t change_at[16];
    unsigned nchange;
    int low_prio;
    uint64_t round;           /* steps per PCT round */
    uint64_t next_round;      /* step the next round starts at */
};

/* steps: the run length (PCT spreads its change points over it). */
void sched_init(struct sched_state *s, int kind, uint64_t seed, unsigned ncpus,
                unsigned depth, uint64_t steps);
/* PCT in rounds: a run longer than SCHED_PCT_ROUND steps is a sequence of
 * rounds of that many steps, each a fresh PCT schedule (new priorities,
 * depth-1 change points in the round): machine.c starts the next round at
 * the first CPU pick at or after step next_round. */
#define SCHED_PCT_ROUND 4096u
void sched_pct_round(struct sched_state *s, uint64_t base);

#endif
