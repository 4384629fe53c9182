/*
 * model/checkers.c - the checkers a machine runs. See checker.h. A new
 * generic checker adds one line to `builtin`.
 */
#include <string.h>

#include "model/checker.h"
#include "model/machine.h"

extern const struct checker_def refine_checker;   /* model/layers/refine.c */
extern const struct checker_def inv_checker;      /* model/inv/inv.c */

/* Order matters where two judge the same step: the refinement of a
 * hypervisor step, then the hypervisor's own specification, then the
 * invariants (the first violation found is the one reported). */
static const struct checker_def *const builtin_first[] = { &refine_checker };
static const struct checker_def *const builtin_last[] = { &inv_checker };

static void deliver(void *arg, const struct ev *e)
{
    struct checker_inst *c = arg;
    c->def->on_event(c->m, c->st, e);
}

static int add(struct machine *m, const struct checker_def *d)
{
    struct checker_inst *c;

    if (m->nchk == CHECKER_MAX)
        return -1;
    c = &m->chk[m->nchk];
    c->def = d;
    c->m = m;
    c->st = NULL;
    if (d->init(m, &c->st) != 0)
        return -1;
    m->nchk++;
    if (c->st && ev_subscribe(&m->ms.bus, d->events, deliver, c) != 0)
        return -1;
    return 0;
}

int checkers_init(struct machine *m)
{
    for (unsigned i = 0; i < sizeof(builtin_first) / sizeof(builtin_first[0]); i++)
        if (add(m, builtin_first[i]) != 0)
            return -1;
    for (unsigned i = 0; m->hv->checkers && m->hv->checkers[i]; i++)
        if (add(m, m->hv->checkers[i]) != 0)
            return -1;
    for (unsigned i = 0; i < sizeof(builtin_last) / sizeof(builtin_last[0]); i++)
        if (add(m, builtin_last[i]) != 0)
            return -1;
    return 0;
}

void checkers_free(struct machine *m)
{
    while (m->nchk) {
        struct checker_inst *c = &m->chk[--m->nchk];
        ev_unsubscribe(&m->ms.bus, deliver, c);
        if (c->def->free)
            c->def->free(m, c->st);
    }
}

void *checkers_state(const struct machine *m, const char *name)
{
    for (unsigned i = 0; i < m->nchk; i++)
        if (!strcmp(m->chk[i].def->name, name))
            return m->chk[i].st;
    return NULL;
}
