/*
 * tests/unit/test_cpu_peek.c - cpu/peek.c: a debugger's view of a CPU
 * part-way through a step group changes nothing (the replay under gdb
 * stays bit-identical) and shows what those instructions compute.
 * Runs the real KCore (HYPSIM_KCORE) on a whole machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/peek.h"
#include "model/machine.h"

static struct machine *new_machine(uint64_t seed)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct machine_config cfg;
    char err[256];
    assert_non_null(m);
    machine_config_default(&cfg);
    cfg.seed = seed;
    cfg.steps = 6000;
    if (machine_init(m, &cfg, err, sizeof(err)) != 0)
        fail_msg("machine_init: %s", err);
    return m;
}

static void free_machine(struct machine *m)
{
    machine_free(m);
    free(m);
}

/* At KCore's entry every CPU runs "mov x19, x0; mov x20, x1; mov x21, x2;
 * ..." as one group: peeking inside it shows each move done, the PC on the
 * instruction after. (hyp/boot.S _start) */
static void test_cpu_peek_regs_entry_group(void **state)
{
    struct machine *m = new_machine(1);
    const struct cpu *c = &m->cpu[1];
    struct cpu_regs r0, r;
    (void)state;
    cpu_read_regs(c, &r0);
    assert_int_equal(r0.pc, m->img.entry);
    assert_true(cpu_group_len(c) >= 4);
    assert_int_equal(cpu_peek_regs(c, 1, &r), 0);
    assert_int_equal(r.pc, r0.pc + 4);
    assert_int_equal(r.x[19], 1);                      /* x0 = CPU index */
    assert_int_equal(cpu_peek_regs(c, 3, &r), 0);
    assert_int_equal(r.pc, r0.pc + 12);
    assert_int_equal(r.x[19], 1);
    assert_int_equal(r.x[20], m->cfg.ncpus);           /* x1 = number of CPUs */
    assert_int_equal(r.x[21], m->ms.mem.size);         /* x2 = memory bytes */
    /* the CPU itself has not moved */
    cpu_read_regs(c, &r);
    assert_memory_equal(&r, &r0, sizeof(r));
    assert_int_equal(cpu_peek_regs(c, cpu_group_len(c), &r), -1);   /* past the group */
    free_machine(m);
}

/* Peeking into every group of every CPU at every step leaves the run
 * bit-identical to one without peeks (machine_hash after each step). */
static void test_cpu_peek_regs_changes_nothing(void **state)
{
    struct machine *a = new_machine(7), *b = new_machine(7);
    unsigned peeks = 0;
    (void)state;
    for (unsigned s = 0; s < 6000 && !a->stop; s++) {
        for (unsigned i = 0; i < a->cfg.ncpus; i++) {
            const struct cpu *c = &a->cpu[i];
            unsigned n = cpu_group_len(c);
            struct cpu_regs before, r, after;
            cpu_read_regs(c, &before);
            for (unsigned k = 1; k < n; k++) {
                assert_int_equal(cpu_peek_regs(c, k, &r), 0);
                assert_int_equal(r.pc, c->pc + 4ull * k);
                peeks++;
            }
            cpu_read_regs(c, &after);
            assert_memory_equal(&before, &after, sizeof(before));
        }
        machine_step(a);
        machine_step(b);
        assert_int_equal(machine_hash(a), machine_hash(b));
    }
    assert_int_equal(a->st.steps, b->st.steps);
    assert_true(peeks > 1000);
    free_machine(a);
    free_machine(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_peek_regs_entry_group),
        cmocka_unit_test(test_cpu_peek_regs_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
