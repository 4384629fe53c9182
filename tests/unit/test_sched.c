/*
 * tests/unit/test_sched.c - the scheduler's seeded state (model/sched.c):
 * the generator, and PCT's priorities and change points, in rounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/machine.h"
#include "model/sched/sched.h"

/* Priorities n..1, each exactly once. */
static void assert_permutation(const struct sched_state *s, unsigned n)
{
    unsigned seen = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_true(s->prio[i] >= 1 && s->prio[i] <= (int)n);
        seen |= 1u << s->prio[i];
    }
    assert_int_equal(seen, ((1u << n) - 1) << 1);
}

static void assert_changes_in(const struct sched_state *s, uint64_t base, uint64_t len)
{
    for (unsigned i = 0; i < s->nchange; i++) {
        assert_true(s->change_at[i] > base);
        assert_true(s->change_at[i] < base + len);
    }
}

static void init(struct sched_state *s, enum sched_kind k, uint64_t seed, unsigned ncpus,
                 unsigned depth, uint64_t steps)
{
    struct sched_config c = { .kind = k, .seed = seed, .ncpus = ncpus, .pct_depth = depth,
                              .steps = steps };
    sched_init(s, &c);
}

static void test_sched_rng_below_in_range_and_seeded(void **state)
{
    struct rng a, b;
    (void)state;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++) {
        uint32_t x = rng_below(&a, 7);
        assert_true(x < 7);
        assert_int_equal(x, rng_below(&b, 7));
    }
    assert_int_equal(rng_below(&a, 1), 0);
}

static void test_sched_pct_short_run_is_one_round(void **state)
{
    struct sched_state s;
    (void)state;
    init(&s, SCHED_PCT, 5, 4, 3, 1000);
    assert_int_equal(s.round, 1000);
    assert_int_equal(s.nchange, 2);
    assert_permutation(&s, 4);
    assert_changes_in(&s, 0, 1000);
    assert_int_equal(s.next_round, 1000);
}

static void test_sched_pct_long_run_in_rounds(void **state)
{
    struct sched_state s, t;
    bool moved = false;
    (void)state;
    init(&s, SCHED_PCT, 9, 4, 4, 1000000);
    assert_int_equal(s.round, SCHED_PCT_ROUND);
    assert_int_equal(s.nchange, 3);
    assert_changes_in(&s, 0, SCHED_PCT_ROUND);
    for (unsigned k = 1; k < 50; k++) {
        uint64_t first = s.change_at[0];
        int p0 = s.prio[0];
        s.low_prio = -5;                       /* as after some change points */
        sched_pct_round(&s, k * SCHED_PCT_ROUND + 3);   /* picked a little late */
        assert_permutation(&s, 4);
        assert_changes_in(&s, k * SCHED_PCT_ROUND + 3, SCHED_PCT_ROUND);
        assert_int_equal(s.low_prio, 0);
        assert_int_equal(s.next_round, (k + 1) * SCHED_PCT_ROUND + 3);
        moved |= s.prio[0] != p0 || s.change_at[0] - first != SCHED_PCT_ROUND;
    }
    assert_true(moved);                        /* rounds are redrawn, not copied */
    /* Same seed, same schedule state. */
    init(&s, SCHED_PCT, 9, 4, 4, 1000000);
    init(&t, SCHED_PCT, 9, 4, 4, 1000000);
    assert_memory_equal(&s, &t, sizeof s);
}

static void test_sched_pct_depth_clamped(void **state)
{
    struct sched_state s;
    (void)state;
    init(&s, SCHED_PCT, 1, 2, 0, 100);
    assert_int_equal(s.nchange, 0);
    init(&s, SCHED_PCT, 1, 2, 99, 100);
    assert_int_equal(s.nchange, 15);
    assert_changes_in(&s, 0, 100);
}

/* ---- Bounded exhaustive: the tree does not depend on the order of asking -- */

#define EX_CPUS  3
#define EX_DEPTH 4
#define EX_PRE   2
#define EX_PICKS 12

/* One run of the exhaustive strategy on schedule `sched`, asked as a
 * machine asks: every step the event roll, then (if it runs a CPU) the CPU,
 * then two actor choices; with `actor_first`, the actor choices come
 * before the roll (two choice points reordered). Records the first
 * EX_PICKS CPU choices (every CPU choice contended, all CPUs runnable). */
static void ex_run(uint64_t sched, bool actor_first, unsigned picks[EX_PICKS], unsigned *departures)
{
    static const unsigned live[EX_CPUS] = { 0, 1, 2 };
    struct sched_config cfg = { .kind = SCHED_EXHAUSTIVE, .seed = 77, .ncpus = EX_CPUS,
                                .pct_depth = 3, .steps = 1000, .ex_depth = EX_DEPTH,
                                .ex_preempt = EX_PRE, .ex_schedule = sched };
    struct sched_state s;
    struct choice actor = { .kind = CH_ACTOR, .n = 10 };
    struct choice ev = { .kind = CH_EVENT, .n = 1000 };
    struct choice cpu = { .kind = CH_CPU, .n = EX_CPUS, .live = live, .contended = true };
    unsigned n = 0;

    sched_init(&s, &cfg);
    for (uint64_t step = 0; n < EX_PICKS && step < 10000; step++) {
        if (actor_first) {
            sched_pick(&s, &actor);
            sched_pick(&s, &actor);
        }
        ev.step = cpu.step = step;
        if (sched_pick(&s, &ev) < SCHED_HW_PERMILLE)
            continue;                          /* a hardware event: no CPU choice */
        picks[n++] = sched_pick(&s, &cpu);
        if (!actor_first) {
            sched_pick(&s, &actor);
            sched_pick(&s, &actor);
        }
    }
    assert_int_equal(n, EX_PICKS);
    *departures = sched_departures(&s);
}

static void test_sched_exhaustive_tree_independent_of_choice_order(void **state)
{
    uint64_t space = sched_exhaustive_space(EX_DEPTH, EX_PRE, EX_CPUS);
    unsigned a[64][EX_PICKS], b[EX_PICKS];
    (void)state;
    /* sum_{k<=2} C(4,k) 2^k = 1 + 8 + 24 */
    assert_int_equal(space, 33);
    for (uint64_t g = 0; g < space; g++) {
        unsigned da, db;
        ex_run(g, false, a[g], &da);
        ex_run(g, true, b, &db);
        /* The same schedule under either order: the strategy branches on
         * the choice kind, not on which choice of a step comes first. */
        assert_memory_equal(a[g], b, sizeof b);
        assert_int_equal(da, db);
        assert_true(da <= EX_PRE);
        for (uint64_t h = 0; h < g; h++)      /* every schedule of the tree is distinct */
            assert_true(memcmp(a[h], a[g], sizeof b) != 0);
    }
    /* Schedule 0 is the round-robin baseline. */
    for (unsigned i = 0; i < EX_PICKS; i++)
        assert_int_equal(a[0][i], i % EX_CPUS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_rng_below_in_range_and_seeded),
        cmocka_unit_test(test_sched_pct_short_run_is_one_round),
        cmocka_unit_test(test_sched_pct_long_run_in_rounds),
        cmocka_unit_test(test_sched_pct_depth_clamped),
        cmocka_unit_test(test_sched_exhaustive_tree_independent_of_choice_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
