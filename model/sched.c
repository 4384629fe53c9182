/*
 * model/sched.c - seeded generator and strategy state. See sched.h.
 * The strategy decisions themselves are made in machine.c (they need the
 * set of enabled events); this file owns the state they draw on.
 */
#include "model/sched.h"

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

void sched_init(struct sched_state *s, int kind, uint64_t seed, unsigned ncpus,
                unsigned depth, uint64_t steps)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->ncpus = ncpus;
    rng_seed(&s->rng, seed);
    if (depth < 1)
        depth = 1;
    if (depth > 16)
        depth = 16;
    s->depth = depth;
    s->round = steps < SCHED_PCT_ROUND ? (steps ? steps : 1) : SCHED_PCT_ROUND;
    sched_pct_round(s, 0);
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
