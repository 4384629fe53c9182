/*
 * model/sched/sched.h - scheduling strategies behind one interface, and
 * the seeded choice generator.
 *
 * Every nondeterministic choice of a run is asked of the strategy through
 * sched_pick(), with an explicit kind (which step event, which CPU, a
 * hardware choice, an actor's decision, which write a read sees...), from
 * a splitmix64/xoshiro256** generator seeded by the config: no rand(), no
 * wall clock, no addresses, so a run is reproducible bit for bit from
 * (config, seed, hypervisor binary). A replayed trace overrides the
 * strategy (model/machine.c decide()).
 * Strategies:
 *   random     - uniform for every choice (hardware events with a small
 *                weight through the event roll);
 *   rr         - round robin over the CPUs that can run, no spontaneous
 *                hardware events, other choices at random;
 *   pct        - PCT (Burckhardt et al., ASPLOS 2010): random distinct CPU
 *                priorities, the highest that can run runs, and at d-1
 *                random change points the running CPU drops to the lowest
 *                priority; in rounds of SCHED_PCT_ROUND steps;
 *   exhaustive - bounded exhaustive search: only contended CPU choices are
 *                branched (two or more CPUs can run and one of them runs
 *                the hypervisor, after its boot); the baseline is round
 *                robin, a schedule departs from it at no more than P of the
 *                first D contended points, each departure a switch to CPU
 *                baseline+o (o in 1..cpus-1, modulo the runnable ones).
 *                One seed's tree has S = sum_{k<=P} C(D,k)(cpus-1)^k
 *                schedules, enumerated by number of departures, then points
 *                (lexicographic), then offsets. It branches on the choice
 *                kind, not on the order the machine asks in.
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

enum sched_kind { SCHED_RANDOM, SCHED_RR, SCHED_PCT, SCHED_EXHAUSTIVE };

/* What is being chosen. */
enum choice_kind {
    CH_EVENT,        /* the step's event: a roll in [0, 1000), below SCHED_HW_PERMILLE
                        a hardware event (machine.c), else a CPU runs */
    CH_CPU,          /* which CPU runs: an index into live[0..n) */
    CH_HW_CPU,       /* which CPU a hardware event concerns */
    CH_HW,           /* a hardware choice: which entry, line, address, TLBI */
    CH_ACTOR,        /* a host or guest decision (what to do, with which arguments) */
    CH_MEM,          /* which write a read sees (relaxed memory) */
    CH_KIND_COUNT
};

/* Out of 1000: how often the random strategy's event roll is a hardware
 * event (part of the trace format: traces/FORMAT.md). */
#define SCHED_HW_PERMILLE 60
#define SCHED_ROLL_CPU    999        /* a roll that runs a CPU */

struct choice {
    enum choice_kind kind;
    uint32_t n;                      /* options: the answer is in [0, n) */
    uint64_t step;                   /* steps done so far */
    const unsigned *live;            /* CH_CPU: the CPUs that can run, ascending */
    bool contended;                  /* CH_CPU: two or more can run, one runs the
                                        hypervisor, and it has booted */
};

#define SCHED_MAX_PREEMPT 3

struct sched_config {
    enum sched_kind kind;
    uint64_t seed;
    unsigned ncpus;
    unsigned pct_depth;              /* PCT bug depth d */
    uint64_t steps;                  /* the run length (PCT spreads change points) */
    unsigned ex_depth, ex_preempt;   /* exhaustive bounds D, P */
    uint64_t ex_schedule;            /* exhaustive: schedule number in the seed's tree */
};

struct sched_state {
    enum sched_kind kind;
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
    /* exhaustive */
    unsigned ndep;
    uint64_t dep_at[SCHED_MAX_PREEMPT];   /* contended-point indices, ascending */
    unsigned dep_off[SCHED_MAX_PREEMPT];  /* 1..ncpus-1 */
    unsigned last_cpu;
    uint64_t contended;       /* contended points seen */
    unsigned next_dep, taken;
};

void sched_init(struct sched_state *s, const struct sched_config *c);

/* The strategy's answer to choice c (in [0, c->n)). */
uint32_t sched_pick(struct sched_state *s, const struct choice *c);
/* Does the strategy draw the step's event (CH_EVENT)? rr does not: every
 * step runs a CPU. */
bool sched_draws_events(const struct sched_state *s);
/* Does it use struct choice.contended (the machine computes it only then)? */
bool sched_wants_contended(const struct sched_state *s);
/* Exhaustive: departures from the round-robin baseline taken so far. */
unsigned sched_departures(const struct sched_state *s);
/* Exhaustive: schedules in one seed's tree (saturating; 1 when ncpus < 2). */
uint64_t sched_exhaustive_space(unsigned depth, unsigned preempt, unsigned ncpus);
const char *sched_kind_name(enum sched_kind k);

/* PCT in rounds: a run longer than SCHED_PCT_ROUND steps is a sequence of
 * rounds of that many steps, each a fresh PCT schedule (new priorities,
 * depth-1 change points in the round), started at the first CPU choice at
 * or after step next_round. */
#define SCHED_PCT_ROUND 4096u
void sched_pct_round(struct sched_state *s, uint64_t base);

#endif
