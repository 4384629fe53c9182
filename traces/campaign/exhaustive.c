/*
 * traces/campaign/exhaustive.c - the bounded-exhaustive strategy
 * (exhaustive.h): the size of a seed's tree, the schedule of a given
 * number, and the choose hook that follows it.
 */
#include <stdlib.h>
#include <string.h>

#include "model/sched.h"
#include "traces/campaign/exhaustive.h"

#define EX_ROLL_HW      60          /* per mille: hardware events in exhaustive runs */
#define EX_ROLL_CPU     999         /* the roll value that runs a CPU (FORMAT.md) */

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t binom(uint64_t n, unsigned k)
{
    uint64_t r = 1;
    if (k > n)
        return 0;
    for (unsigned i = 1; i <= k; i++) {
        /* r * (n - k + i) / i stays exact: r is C(n-k+i-1, i-1) */
        uint64_t f = n - k + i;
        if (r > UINT64_MAX / f)
            return UINT64_MAX;
        r = r * f / i;
    }
    return r;
}

uint64_t campaign_exhaustive_space(unsigned depth, unsigned preempt, unsigned ncpus)
{
    uint64_t s = 0;
    for (unsigned k = 0; k <= preempt; k++) {
        uint64_t offs = 1;
        for (unsigned i = 0; i < k; i++)
            offs = sat_mul(offs, ncpus - 1);
        s = sat_add(s, sat_mul(binom(depth, k), offs));
        if (ncpus < 2)
            break;
    }
    return s;
}

struct ex_sched {
    unsigned ndep;
    uint64_t at[CAMPAIGN_EXHAUSTIVE_MAX_PREEMPT];    /* contended-point indices, ascending */
    unsigned off[CAMPAIGN_EXHAUSTIVE_MAX_PREEMPT];   /* 1..ncpus-1 */
};

/* Schedule number idx (< campaign_exhaustive_space) of a seed's tree. */
static void ex_unrank(uint64_t idx, unsigned depth, unsigned preempt, unsigned ncpus,
                      struct ex_sched *s)
{
    memset(s, 0, sizeof(*s));
    if (ncpus < 2)
        return;
    for (unsigned k = 0; k <= preempt; k++) {
        uint64_t offs = 1, cnt;
        for (unsigned i = 0; i < k; i++)
            offs = sat_mul(offs, ncpus - 1);
        cnt = sat_mul(binom(depth, k), offs);
        if (idx >= cnt) {
            idx -= cnt;
            continue;
        }
        uint64_t comb = idx / offs, o = idx % offs;
        uint64_t next = 0;
        s->ndep = k;
        for (unsigned i = 0; i < k; i++) {          /* lexicographic combination */
            for (uint64_t c = next;; c++) {
                uint64_t below = binom(depth - c - 1, k - i - 1);
                if (comb < below) {
                    s->at[i] = c;
                    next = c + 1;
                    break;
                }
                comb -= below;
            }
        }
        for (unsigned i = 0; i < k; i++) {
            s->off[k - 1 - i] = 1 + (unsigned)(o % (ncpus - 1));
            o /= ncpus - 1;
        }
        return;
    }
}

/* The choice source of an exhaustive run (machine.h choose_hook). */
struct campaign_exhaustive {
    struct machine *m;
    struct rng rng;
    struct ex_sched sched;
    uint64_t last_steps;            /* st.steps at the previous call */
    bool pick_next;                 /* the next call is the CPU pick */
    unsigned last_cpu;
    uint64_t contended;             /* contended points seen */
    bool booted;                    /* the hypervisor published its boot flag */
    unsigned next_dep, taken;
};

static uint32_t ex_choose(void *arg, uint32_t n)
{
    struct campaign_exhaustive *h = arg;
    const struct machine *m = h->m;

    if (m->st.steps != h->last_steps) {             /* the step's first choice: the roll */
        h->last_steps = m->st.steps;
        h->pick_next = false;
        if (rng_below(&h->rng, 1000) < EX_ROLL_HW)
            return rng_below(&h->rng, 4) % n;       /* one of the hardware events */
        h->pick_next = true;
        return n > EX_ROLL_CPU ? EX_ROLL_CPU : n - 1;
    }
    if (!h->pick_next)
        return rng_below(&h->rng, n);               /* actor or hardware choice */
    h->pick_next = false;
    {
        unsigned live[HV_MAX_CPUS], nlive = 0, base = 0, pick;
        bool kcore = false;
        for (unsigned i = 0; i < m->cfg.ncpus; i++)
            if (m->cpu[i].mode != CPU_HALTED && m->cpu[i].mode != CPU_WFE) {
                kcore |= m->cpu[i].mode == CPU_KCORE;
                live[nlive++] = i;
            }
        if (nlive != n)                             /* cannot happen: machine_step's live set */
            return 0;
        for (unsigned k = 0; k < nlive; k++)        /* round robin: next after the last */
            if (live[k] > h->last_cpu) {
                base = k;
                break;
            }
        pick = base;
        if (!h->booted) {
            struct hv_mem mm;
            machine_view(m, &mm);
            h->booted = m->hv->booted(&mm);
        }
        if (nlive >= 2 && kcore && h->booted) {
            if (h->next_dep < h->sched.ndep && h->sched.at[h->next_dep] == h->contended) {
                pick = (base + h->sched.off[h->next_dep]) % nlive;
                h->next_dep++;
                h->taken += pick != base;
            }
            h->contended++;
        }
        h->last_cpu = live[pick];
        return pick;
    }
}

struct campaign_exhaustive *campaign_exhaustive_attach(struct machine *m,
                                                       const struct campaign_exhaustive_bounds *b,
                                                       uint64_t schedule)
{
    struct campaign_exhaustive *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->m = m;
    rng_seed(&h->rng, m->cfg.seed);
    h->last_steps = UINT64_MAX;
    h->last_cpu = m->cfg.ncpus - 1;
    ex_unrank(schedule, b->depth, b->preempt, m->cfg.ncpus, &h->sched);
    m->choose_hook = ex_choose;
    m->choose_arg = h;
    return h;
}

unsigned campaign_exhaustive_departures(const struct campaign_exhaustive *h)
{
    return h->taken;
}

void campaign_exhaustive_detach(struct machine *m, struct campaign_exhaustive *h)
{
    if (m->choose_hook == ex_choose && m->choose_arg == h) {
        m->choose_hook = NULL;
        m->choose_arg = NULL;
    }
    free(h);
}
