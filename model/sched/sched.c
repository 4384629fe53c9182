/*
 * model/sched/sched.c - the seeded generator and the strategies. See
 * sched.h. The machine tells each choice's kind and, for a CPU choice, the
 * CPUs that can run; a strategy never looks into the machine.
 */
#include "model/sched/sched.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(struct rng *r)   /* xoshiro256** */
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    uint64_t lim;
    uint64_t x;
    if (n <= 1)
        return 0;
    lim = UINT64_MAX - UINT64_MAX % n;
    do
        x = rng_next(r);
    while (x >= lim);
    return (uint32_t)(x % n);
}


/* ---- Exhaustive: the tree of one seed ------------------------------------- */

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

uint64_t sched_exhaustive_space(unsigned depth, unsigned preempt, unsigned ncpus)
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
    uint64_t at[SCHED_MAX_PREEMPT];    /* contended-point indices, ascending */
    unsigned off[SCHED_MAX_PREEMPT];   /* 1..ncpus-1 */
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


/* ---- The strategies -------------------------------------------------------- */

void sched_init(struct sched_state *s, const struct sched_config *c)
{
    unsigned depth = c->pct_depth;

    memset(s, 0, sizeof(*s));
    s->kind = c->kind;
    s->ncpus = c->ncpus;
    rng_seed(&s->rng, c->seed);
    if (depth < 1)
        depth = 1;
    if (depth > 16)
        depth = 16;
    s->depth = depth;
    s->round = c->steps < SCHED_PCT_ROUND ? (c->steps ? c->steps : 1) : SCHED_PCT_ROUND;
    sched_pct_round(s, 0);
    if (s->kind == SCHED_EXHAUSTIVE) {
        /* Its own generator, as seeded by the run's seed (the PCT setup
         * above drew from s->rng). */
        struct ex_sched x;
        rng_seed(&s->rng, c->seed);
        ex_unrank(c->ex_schedule, c->ex_depth, c->ex_preempt > SCHED_MAX_PREEMPT ? SCHED_MAX_PREEMPT
                                                                                 : c->ex_preempt,
                  c->ncpus, &x);
        s->ndep = x.ndep;
        memcpy(s->dep_at, x.at, sizeof(s->dep_at));
        memcpy(s->dep_off, x.off, sizeof(s->dep_off));
        s->last_cpu = c->ncpus ? c->ncpus - 1 : 0;
    }
}

void sched_pct_round(struct sched_state *s, uint64_t base)
{
    unsigned n = s->ncpus < 64 ? s->ncpus : 64;

    /* A fresh random permutation of priorities n..1 (higher runs first;
     * the previous round's priorities, and any change point it had left,
     * are dropped), and depth-1 change points in (base, base + round). */
    for (unsigned i = 0; i < n; i++)
        s->prio[i] = (int)(n - i);
    for (unsigned i = n; i > 1; i--) {
        unsigned j = rng_below(&s->rng, i);
        int t = s->prio[i - 1];
        s->prio[i - 1] = s->prio[j];
        s->prio[j] = t;
    }
    s->nchange = s->depth - 1;
    for (unsigned i = 0; i < s->nchange; i++)
        s->change_at[i] = base + (s->round > 1 ? 1 + rng_next(&s->rng) % (s->round - 1) : 1);
    s->low_prio = 0;
    s->next_round = base + s->round;
}

static uint32_t pick_rr(struct sched_state *s, const struct choice *c)
{
    uint32_t k = 0;

    for (uint32_t i = 0; i < c->n; i++)
        if (c->live[i] >= s->rr_next) {
            k = i;
            break;
        }
    s->rr_next = c->live[k] + 1;
    if (s->rr_next >= s->ncpus)
        s->rr_next = 0;
    return k;
}

static uint32_t pick_pct(struct sched_state *s, const struct choice *c)
{
    uint32_t k = 0;

    /* Hardware events take steps too: a round or change point is due at
     * the first CPU choice at or after its step. */
    if (c->step >= s->next_round)
        sched_pct_round(s, c->step);
    for (unsigned i = 0; i < s->nchange; i++)
        if (s->change_at[i] <= c->step) {
            s->change_at[i] = UINT64_MAX;   /* done */
            /* the CPU that would run now drops to the lowest priority */
            unsigned best = 0;
            for (unsigned j = 1; j < c->n; j++)
                if (s->prio[c->live[j]] > s->prio[c->live[best]])
                    best = j;
            s->prio[c->live[best]] = --s->low_prio;
        }
    for (unsigned j = 1; j < c->n; j++)
        if (s->prio[c->live[j]] > s->prio[c->live[k]])
            k = j;
    return k;
}

static uint32_t pick_exhaustive(struct sched_state *s, const struct choice *c)
{
    uint32_t base = 0, pick;

    if (c->kind == CH_EVENT) {
        if (rng_below(&s->rng, 1000) < SCHED_HW_PERMILLE)
            return rng_below(&s->rng, 4) % c->n;    /* one of the hardware events */
        return c->n > SCHED_ROLL_CPU ? SCHED_ROLL_CPU : c->n - 1;
    }
    if (c->kind != CH_CPU)
        return rng_below(&s->rng, c->n);            /* actor or hardware choice */
    for (uint32_t k = 0; k < c->n; k++)             /* round robin: next after the last */
        if (c->live[k] > s->last_cpu) {
            base = k;
            break;
        }
    pick = base;
    if (c->contended) {
        if (s->next_dep < s->ndep && s->dep_at[s->next_dep] == s->contended) {
            pick = (base + s->dep_off[s->next_dep]) % c->n;
            s->next_dep++;
            s->taken += pick != base;
        }
        s->contended++;
    }
    s->last_cpu = c->live[pick];
    return pick;
}

uint32_t sched_pick(struct sched_state *s, const struct choice *c)
{
    /* A CPU choice with one CPU still advances the strategy's state (PCT
     * rounds, round-robin position); other choices of one option are not
     * asked (machine_choose answers 0). */
    switch (s->kind) {
    case SCHED_EXHAUSTIVE:
        return pick_exhaustive(s, c);
    case SCHED_RR:
        if (c->kind == CH_CPU)
            return pick_rr(s, c);
        break;
    case SCHED_PCT:
        if (c->kind == CH_CPU)
            return pick_pct(s, c);
        break;
    default:
        break;
    }
    return rng_below(&s->rng, c->n);
}

bool sched_draws_events(const struct sched_state *s)
{
    return s->kind != SCHED_RR;
}

bool sched_wants_contended(const struct sched_state *s)
{
    return s->kind == SCHED_EXHAUSTIVE;
}

unsigned sched_departures(const struct sched_state *s)
{
    return s->taken;
}

const char *sched_kind_name(enum sched_kind k)
{
    switch (k) {
    case SCHED_RANDOM: return "random";
    case SCHED_RR: return "rr";
    case SCHED_PCT: return "pct";
    case SCHED_EXHAUSTIVE: return "exhaustive";
    }
    return "?";
}
