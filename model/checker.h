/*
 * model/checker.h - a checker: a named set of properties judged on the
 * machine, fed by the step events it registers for (model/hw/event.h).
 *
 * The generic checkers (invariants 1-7: model/inv/, the L1 refinement of
 * invariant 8: model/layers/refine.c) are listed in model/checkers.c; the
 * hypervisor under test adds the checkers of its own specification
 * (hyp/hv.h hv_ops.checkers; KCore's L2 spec). Adding a checker is its own
 * file plus one line in one of those lists. A checker reports through
 * machine_violation() and never changes the machine.
 */
#ifndef HYPSIM_CHECKER_H
#define HYPSIM_CHECKER_H

#include <stdint.h>
#include "model/hw/event.h"

struct machine;

struct checker_def {
    const char *name;              /* "invariants", "refinement", ... */
    const char *what;              /* one line for summaries */
    uint64_t events;               /* EV_BIT() mask of the kinds it needs */
    /* Set up for machine m (*st: its state). 0, or -1 (out of memory). A
     * checker that the config turns off returns 0 with *st == NULL and
     * is not subscribed. */
    int (*init)(struct machine *m, void **st);
    void (*free)(struct machine *m, void *st);
    void (*on_event)(struct machine *m, void *st, const struct ev *e);
};

#define CHECKER_MAX 8

/* One registered checker of a machine (the bus calls it through this). */
struct checker_inst {
    const struct checker_def *def;
    struct machine *m;
    void *st;
};

/* Set up every checker of m (generic ones, then the hypervisor's) and
 * subscribe them. 0 or -1. checkers_free undoes it. */
int checkers_init(struct machine *m);
void checkers_free(struct machine *m);
/* The state of checker `name` on m, or NULL. */
void *checkers_state(const struct machine *m, const char *name);

#endif
