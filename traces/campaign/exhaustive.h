/*
 * traces/campaign/exhaustive.h - the bounded-exhaustive strategy's choice
 * source (--sched exhaustive[:D[:P]]), attached to a machine through its
 * choose hook. Only CPU-choice points are branched: the hardware-event roll
 * and every actor or hardware choice are drawn from a generator seeded by
 * the run's seed, and the baseline schedule is round robin over the CPUs
 * that can run. Only contended choice points count: two or more CPUs can
 * run and one of them is executing KCore, once KCore has published that it
 * booted. A schedule departs from the baseline at no more than P of the
 * first D contended points, each departure a switch to CPU baseline+o among
 * the runnable ones, o in 1..cpus-1 (modulo their number). The tree of one
 * seed has S = sum_{k<=P} C(D,k) (cpus-1)^k schedules, enumerated by number
 * of departures, then by their points (lexicographic), then offsets.
 *
 * Kept behind this narrow interface so that it can be replaced (by a
 * strategy of model/sched asked for each choice by kind) without touching
 * the rest of the campaign engine. Leaves out: it infers the machine's
 * choice order (the roll is the first choice of a step, the CPU pick the
 * one after a roll of CAMPAIGN_EXHAUSTIVE_ROLL_CPU) instead of being told.
 */
#ifndef HYPSIM_CAMPAIGN_EXHAUSTIVE_H
#define HYPSIM_CAMPAIGN_EXHAUSTIVE_H

#include <stdint.h>

#include "model/machine.h"

#define CAMPAIGN_EXHAUSTIVE_MAX_PREEMPT 3

/* The bounds of a tree: departures at no more than preempt (0..MAX_PREEMPT)
 * of the first depth contended points. */
struct campaign_exhaustive_bounds {
    unsigned depth, preempt;
};

struct campaign_exhaustive;

/* Schedules in one seed's tree for ncpus CPUs (saturating at UINT64_MAX);
 * 1 when ncpus < 2 (nothing to branch). */
uint64_t campaign_exhaustive_space(unsigned depth, unsigned preempt, unsigned ncpus);

/* Make schedule number `schedule` (< campaign_exhaustive_space) of the tree
 * of m's seed (m->cfg.seed) m's choice source: set m's choose hook, after
 * machine_init and before the first step (and before a trace recorder is
 * attached, which records what the hook chooses). Returns the hook's state,
 * or NULL when out of memory (m untouched). */
struct campaign_exhaustive *campaign_exhaustive_attach(struct machine *m,
                                                       const struct campaign_exhaustive_bounds *b,
                                                       uint64_t schedule);

/* Departures from the round-robin baseline the run has taken so far. */
unsigned campaign_exhaustive_departures(const struct campaign_exhaustive *h);

/* Remove h from m (m's choose hook is cleared if it is still h's) and free
 * h; before machine_free. h may be NULL. */
void campaign_exhaustive_detach(struct machine *m, struct campaign_exhaustive *h);

#endif
