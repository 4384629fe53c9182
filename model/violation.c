/*
 * model/violation.c - recording a violation (machine_violation, declared in
 * machine.h). Separate from machine.c so the checkers' unit tests, which
 * build machine states by hand without Unicorn, link the same code; the
 * full machine adds the disassembled instruction through m->annotate.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/machine.h"

void machine_violation(struct machine *m, int cpu, int invariant, uint64_t page,
                       label_t who, label_t whose, const char *fmt, ...)
{
    struct violation *v;
    va_list ap;

    if (m->nviol == m->cap_viol) {
        unsigned cap = m->cap_viol ? m->cap_viol * 2 : 4;
        struct violation *nv = realloc(m->viol, cap * sizeof(*nv));
        if (!nv) {
            m->stop = true;
            return;
        }
        m->viol = nv;
        m->cap_viol = cap;
    }
    v = &m->viol[m->nviol++];
    memset(v, 0, sizeof(*v));
    v->step = m->st.steps;
    v->cpu = cpu;
    v->invariant = invariant;
    v->page = page;
    v->who = who;
    v->whose = whose;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
    if (m->annotate)
        m->annotate(m, v);
    m->stop = true;
}
