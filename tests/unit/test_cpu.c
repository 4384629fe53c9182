/*
 * tests/unit/test_cpu.c - cpu/: KCore instructions routed into the model.
 * Runs tests/data/cpu_smoke.S (assembled at build time) on one or two CPUs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu/cpu.h"
#include "hyp/kcore/abi.h"

struct fx {
    struct msys ms;
    struct kimage img;
    struct cpu cpu[2];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct msys_config cfg = { .ncpus = 2, .mem_bytes = 64ull << 20,
                               .cache_sets = 64, .cache_ways = 4, .tlb_entries = 16 };
    char err[256];
    const char *path = getenv("HYPSIM_CPU_SMOKE");

    assert_non_null(f);
    assert_non_null(path);
    assert_int_equal(msys_init(&f->ms, &cfg), 0);
    if (kimage_load(&f->img, path, KC_TEXT_SIZE, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(cpu_init(&f->cpu[0], 0, 2, &f->img, &f->ms), 0);
    assert_int_equal(cpu_init(&f->cpu[1], 1, 2, &f->img, &f->ms), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cpu_free(&f->cpu[0]);
    cpu_free(&f->cpu[1]);
    kimage_free(&f->img);
    msys_free(&f->ms);
    free(f);
    return 0;
}

/* Step until the CPU leaves KCore or traps, at most n instructions. */
static enum cpu_event run(struct cpu *c, unsigned n)
{
    enum cpu_event ev = CPU_EV_INSN;
    while (n-- && ev == CPU_EV_INSN)
        ev = cpu_step(c);
    return ev;
}

static void test_cpu_step_data_sysreg_eret(void **state)
{
    struct fx *f = *state;
    struct cpu *c = &f->cpu[1];
    uint64_t v;
    label_t l;

    assert_int_equal(c->pc, 0);
    assert_int_equal(cpu_xreg(c, 0), 1);     /* boot protocol: x0 = CPU index */
    assert_int_equal(cpu_xreg(c, 1), 2);
    assert_int_equal(cpu_xreg(c, 2), 64ull << 20);
    /* movz, movz, str run as ONE step: register-only instructions join the
     * visible instruction after them. The store reaches model memory (MMU
     * off: Device, non-cacheable, so it goes straight to memory), labelled
     * KCore. */
    assert_int_equal(f->img.run[0], 3);
    assert_int_equal(cpu_step(c), CPU_EV_INSN);
    assert_int_equal(c->insns, 3);
    assert_int_equal(c->last_pc, 8);
    assert_int_equal(c->pc, 12);
    assert_true(c->nacc >= 1);
    assert_int_equal(c->acc[0].cache, CACHE_BYPASS);
    assert_int_equal(mem_read_word(&f->ms.mem, 0x100000, &v, &l), MEM_OK);
    assert_int_equal(v, 0x1234);
    assert_int_equal(l, LABEL_HYP);
    assert_int_equal(f->ms.cache.valid_lines, 0);
    /* ldr, msr tpidr_el2, mrs, mrs mpidr: four steps */
    assert_int_equal(run(c, 4), CPU_EV_INSN);
    assert_int_equal(c->insns, 7);
    assert_int_equal(cpu_xreg(c, 5), 0x1234);
    assert_int_equal(c->sr[SR_TPIDR_EL2], 0x1234);
    assert_int_equal(cpu_xreg(c, 6), 0x1234);
    assert_int_equal(cpu_xreg(c, 7) & 0xff, 1);
    /* TLBI VMALLS12E1IS is pending on both CPUs until this CPU's DSB. */
    assert_int_equal(cpu_step(c), CPU_EV_INSN);
    assert_int_equal(f->ms.tlb.npending, 2);
    assert_int_equal(cpu_step(c), CPU_EV_INSN);
    assert_int_equal(f->ms.tlb.npending, 0);
    /* SPSR/ELR then ERET to EL1: VMID 0 in VTTBR means the host. */
    assert_int_equal(run(c, 10), CPU_EV_ERET_EL1);
    assert_int_equal(c->mode, CPU_HOST);
    assert_int_equal(c->eret_elr, KC_HOST_ENTRY);
    assert_int_equal(c->trap.kind, TRAP_NONE);
}

static void test_cpu_step_brk_is_panic(void **state)
{
    struct cpu *c = &((struct fx *)*state)->cpu[0];
    c->pc = 0x100;
    assert_int_equal(run(c, 10), CPU_EV_TRAP);
    assert_int_equal(c->trap.kind, TRAP_PANIC);
    assert_int_equal(c->trap.info, 42);
    assert_int_equal(c->trap.pc, 0x104);
    assert_int_equal(c->mode, CPU_HALTED);
}

static void test_cpu_step_exclusive_refused(void **state)
{
    struct cpu *c = &((struct fx *)*state)->cpu[0];
    c->pc = 0x200;
    assert_int_equal(run(c, 10), CPU_EV_TRAP);
    assert_int_equal(c->trap.kind, TRAP_EXCLUSIVE);
    assert_int_equal(c->trap.pc, 0x204);
}

static void test_cpu_step_unknown_sysreg_undef(void **state)
{
    struct cpu *c = &((struct fx *)*state)->cpu[0];
    c->pc = 0x300;
    assert_int_equal(run(c, 10), CPU_EV_TRAP);
    assert_int_equal(c->trap.kind, TRAP_UNDEF);
}

static void test_cpu_step_out_of_memory_is_abort(void **state)
{
    struct cpu *c = &((struct fx *)*state)->cpu[0];
    c->pc = 0x400;
    enum cpu_event ev = run(c, 10);
    assert_int_equal(ev, CPU_EV_TRAP);
    /* 0x7fff0000 is past the 64 MiB of memory: outside the MMIO window,
     * so Unicorn refuses it, or the model reports an external abort. */
    assert_true(c->trap.kind == TRAP_DATA_ABORT || c->trap.kind == TRAP_UNICORN);
    assert_int_equal(c->trap.pc, 0x404);
}

static void test_cpu_step_text_read_refused(void **state)
{
    struct cpu *c = &((struct fx *)*state)->cpu[0];
    c->pc = 0x500;
    assert_int_equal(run(c, 10), CPU_EV_TRAP);
    assert_int_equal(c->trap.kind, TRAP_TEXT_READ);
    assert_int_equal(c->trap.info, 0x500);
    assert_int_equal(c->trap.pc, 0x504);
}

static void test_cpu_step_lse_atomics(void **state)
{
    struct fx *f = *state;
    struct cpu *c = &f->cpu[0];
    uint64_t v;
    label_t l;
    c->pc = 0x600;
    assert_int_equal(run(c, 20), CPU_EV_TRAP);           /* ends at brk #0 */
    assert_int_equal(c->trap.kind, TRAP_PANIC);
    assert_int_equal(cpu_xreg(c, 5), 5);                  /* CAS returns the old value */
    assert_int_equal(cpu_xreg(c, 7), 9);                  /* LDADD returns the old value */
    assert_int_equal(cpu_xreg(c, 8), 18);
    assert_int_equal(mem_read_word(&f->ms.mem, 0x100000, &v, &l), MEM_OK);
    assert_int_equal(v, 18);
}

static void test_cpu_step_dc_zva(void **state)
{
    struct fx *f = *state;
    struct cpu *c = &f->cpu[0];
    uint64_t v;
    label_t l;
    c->pc = 0x700;
    assert_int_equal(run(c, 20), CPU_EV_TRAP);
    assert_int_equal(c->trap.kind, TRAP_PANIC);
    assert_int_equal(cpu_xreg(c, 5), 0);                  /* zeroed by DC ZVA */
    assert_int_equal(mem_read_word(&f->ms.mem, 0x100008, &v, &l), MEM_OK);
    assert_int_equal(v, 0);
}

static void test_cpu_step_wfe_sev(void **state)
{
    struct cpu *c = &((struct fx *)*state)->cpu[0];
    c->pc = 0x800;
    assert_int_equal(cpu_step(c), CPU_EV_INSN);          /* SEVL: own event register */
    assert_true(c->event);
    assert_int_equal(cpu_step(c), CPU_EV_INSN);          /* WFE consumes it, goes on */
    assert_false(c->event);
    assert_int_equal(c->mode, CPU_KCORE);
    assert_int_equal(cpu_step(c), CPU_EV_INSN);          /* WFE with no event: waits */
    assert_int_equal(c->mode, CPU_WFE);
    assert_int_equal(c->pc, 0x80c);
    cpu_signal_event(c);                                 /* another CPU's SEV */
    assert_int_equal(c->mode, CPU_KCORE);
    assert_false(c->event);
    assert_int_equal(cpu_step(c), CPU_EV_SEV);           /* SEV: the machine broadcasts */
}

static void test_cpu_take_exception_enters_vector(void **state)
{
    struct cpu *c = &((struct fx *)*state)->cpu[0];
    c->sr[SR_VBAR_EL2] = 0x800;
    c->mode = CPU_HOST;
    cpu_take_exception(c, 0x5a000000ull, 0, 0, KC_HOST_ENTRY);
    assert_int_equal(c->mode, CPU_KCORE);
    assert_int_equal(c->pc, 0xc00);          /* VBAR_EL2 + 0x400: lower EL, AArch64, sync */
    assert_int_equal(c->sr[SR_ESR_EL2], 0x5a000000ull);
    assert_int_equal(c->sr[SR_ELR_EL2], KC_HOST_ENTRY);
    assert_int_equal(c->sr[SR_SPSR_EL2], 0x3c5);
}

static void test_insn_classify_cases(void **state)
{
    (void)state;
    assert_int_equal(insn_classify(0xd69f03e0u), INSN_ERET);
    assert_int_equal(insn_classify(0xd4000002u), INSN_HVC);          /* hvc #0 */
    assert_int_equal(insn_classify(0xd4200020u), INSN_BRK);          /* brk #1 */
    assert_int_equal(insn_classify(0xd5033b9fu), INSN_DSB);          /* dsb ish */
    assert_int_equal(insn_classify(0xd5033fdfu), INSN_BARRIER);      /* isb */
    assert_int_equal(insn_classify(0xd503201fu), INSN_BARRIER);      /* nop */
    assert_int_equal(insn_classify(0xd503207fu), INSN_WFX);          /* wfi */
    assert_int_equal(insn_classify(0xd503205fu), INSN_WFE);          /* wfe */
    assert_int_equal(insn_classify(0xd503209fu), INSN_SEV);          /* sev */
    assert_int_equal(insn_classify(0xd50320bfu), INSN_SEV);          /* sevl */
    assert_int_equal(insn_classify(0xd508831fu), INSN_SYS);          /* tlbi vmalle1is */
    assert_int_equal(insn_classify(0xd51c2100u), INSN_MSR);          /* msr vttbr_el2, x0 */
    assert_int_equal(insn_classify(0xd53c2100u), INSN_MRS);          /* mrs x0, vttbr_el2 */
    assert_int_equal(insn_classify(0xc85ffc01u), INSN_EXCLUSIVE);    /* ldaxr x1, [x0] */
    assert_int_equal(insn_classify(0xc8dffc01u), INSN_PLAIN);        /* ldar x1, [x0] */
    assert_int_equal(insn_classify(0xc8e0fc22u), INSN_PLAIN);        /* casal x0, x2, [x1] */
    assert_int_equal(insn_classify(0xf9400001u), INSN_PLAIN);        /* ldr x1, [x0] */
    assert_true(insn_register_only(0xd2a00201u));                    /* movz */
    assert_true(insn_register_only(0xca020043u));                    /* eor (register) */
    assert_true(insn_register_only(0x91000442u));                    /* add (immediate) */
    assert_false(insn_register_only(0xf9400022u));                   /* ldr */
    assert_false(insn_register_only(0xf8636824u));                   /* ldr (register offset) */
    assert_false(insn_register_only(0x17fffffau));                   /* b */
    assert_false(insn_register_only(0xd51c2100u));                   /* msr: not plain */
}

static void test_kimage_load_bad_files(void **state)
{
    struct kimage img;
    char err[256];
    char path[] = "/tmp/hypsim_bad_elf_XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("not an elf at all", f);
    fclose(f);
    assert_int_equal(kimage_load(&img, path, KC_TEXT_SIZE, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not an ELF"));
    remove(path);
    assert_int_equal(kimage_load(&img, "/nonexistent/kcore.elf", KC_TEXT_SIZE, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/kcore.elf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cpu_step_data_sysreg_eret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_brk_is_panic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_exclusive_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_unknown_sysreg_undef, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_out_of_memory_is_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_text_read_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_lse_atomics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_dc_zva, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_step_wfe_sev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_take_exception_enters_vector, setup, teardown),
        cmocka_unit_test(test_insn_classify_cases),
        cmocka_unit_test(test_kimage_load_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
