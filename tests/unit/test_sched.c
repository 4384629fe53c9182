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
#include "model/sched.h"

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
    sched_init(&s, SCHED_PCT, 5, 4, 3, 1000);
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
    sched_init(&s, SCHED_PCT, 9, 4, 4, 1000000);
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
    sched_init(&s, SCHED_PCT, 9, 4, 4, 1000000);
    sched_init(&t, SCHED_PCT, 9, 4, 4, 1000000);
    assert_memory_equal(&s, &t, sizeof s);
}

static void test_sched_pct_depth_clamped(void **state)
{
    struct sched_state s;
    (void)state;
    sched_init(&s, SCHED_PCT, 1, 2, 0, 100);
    assert_int_equal(s.nchange, 0);
    sched_init(&s, SCHED_PCT, 1, 2, 99, 100);
    assert_int_equal(s.nchange, 15);
    assert_changes_in(&s, 0, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_rng_below_in_range_and_seeded),
        cmocka_unit_test(test_sched_pct_short_run_is_one_round),
        cmocka_unit_test(test_sched_pct_long_run_in_rounds),
        cmocka_unit_test(test_sched_pct_depth_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
