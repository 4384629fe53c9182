/*
 * tests/unit/test_kcore_pgtable.c - KCore's C (hyp/) built natively: the
 * generic page-table walker, the pool, boot's EL2 stage 1, ownership, and
 * every hypercall, with the tables KCore builds checked by hypsim's own
 * walker (mmu_translate, mmu_translate_s2) over the same physical memory.
 * System registers and maintenance operations are the shims of
 * hyp/kcore/native.c; the tests drive kc_handle_sync() as boot.S would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mmu/mmu.h"
#include "hyp/kcore/kcore.h"

#define MEM_BYTES   (64ull << 20)
#define HOST_PFN0   (KC_END >> 12)          /* first host-owned frame */
#define ESR_HVC     ((u64)KC_EC_HVC64 << KC_ESR_EC_SHIFT | (1u << 25))
#define ESR_DABT_L3 ((u64)KC_EC_DABT_LOW << KC_ESR_EC_SHIFT | (1u << 25) | 0x07u)

static struct kc_regs frame[2];

static void on_panic(u64 code)
{
    fail_msg("KCore panic 0x%llx", (unsigned long long)code);
}

/* ---- hypsim's walker over KCore's physical memory ---------------------- */
static int read_desc(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    (void)arg; (void)cacheable;
    if (pa >= kc_native.phys_size || (pa & 7))
        return 1;
    memcpy(desc, kc_native.phys + pa, 8);
    return 0;
}

static void s2_ctx(struct mmu_ctx *c, u64 vttbr)
{
    memset(c, 0, sizeof(*c));
    c->regime = MMU_REGIME_EL10;
    c->s2.vm = true;
    c->s2.vttbr = vttbr;
    c->s2.vtcr = KC_VTCR_EL2_VAL;
    c->ops.read_desc = read_desc;
}

/* 0 and *pa, or -1 with the fault type in *pa. */
static int s2_translate(u64 vttbr, u64 ipa, enum mmu_access acc, u64 *pa)
{
    struct mmu_ctx c;
    struct mmu_result r;
    struct mmu_fault f;

    s2_ctx(&c, vttbr);
    if (mmu_translate_s2(&c, ipa, acc, true, &r, &f) != 0) {
        *pa = f.type;
        return -1;
    }
    assert_true(r.attrs.cacheable);
    *pa = r.pa;
    return 0;
}

static int s1_translate(u64 va, enum mmu_access acc, struct mmu_result *r)
{
    struct mmu_ctx c;
    struct mmu_fault f;

    memset(&c, 0, sizeof(c));
    c.regime = MMU_REGIME_EL2;
    c.s1.m = true;
    c.s1.c = true;
    c.s1.ttbr0 = kc_native.sr[0][KC_SR_ttbr0_el2];
    c.s1.tcr = KC_TCR_EL2_VAL;
    c.s1.mair = KC_MAIR_EL2_VAL;
    c.ops.read_desc = read_desc;
    return mmu_translate(&c, va, acc, false, r, &f);
}

/* ---- a booted KCore with two CPUs ------------------------------------- */
static int setup(void **state)
{
    (void)state;
    free(kc_native.phys);
    memset(&kc_native, 0, sizeof(kc_native));
    memset(&kc, 0, sizeof(kc));
    memset(&kc_bootinfo, 0, sizeof(kc_bootinfo));
    kc_native.phys = calloc(1, MEM_BYTES);
    kc_native.phys_size = MEM_BYTES;
    kc_native.on_panic = on_panic;
    for (unsigned c = 0; c < 2; c++) {
        kc_native.sr[c][KC_SR_ctr_el0] = 0x84448004ull;
        kc_native.sr[c][KC_SR_dczid_el0] = 4;
        kc_native.sr[c][KC_SR_vbar_el1] = KC_HOST_VBAR_EL1;
        kc_native.sr[c][KC_SR_mpidr_el1] = c;
        memset(&frame[c], 0, sizeof(frame[c]));
        frame[c].elr = KC_HOST_ENTRY;
        frame[c].spsr = KC_SPSR_EL1H;
    }
    kc_native.cur_cpu = 0;
    u64 ttbr0 = kc_boot_build_s1(2, MEM_BYTES);
    kc_write_sysreg(ttbr0, ttbr0_el2);               /* boot.S: mmu_on */
    kc_boot_finish(0x800);
    kc_native.cur_cpu = 1;
    kc_write_sysreg(kc_bootinfo.ttbr0, ttbr0_el2);
    kc_boot_cpu(1);
    kc_native.cur_cpu = 0;
    kc_native.nlog = 0;
    memset(kc_native.ops, 0, sizeof(kc_native.ops));
    return 0;
}

static int teardown_state(void **state)
{
    (void)state;
    free(kc_native.phys);
    kc_native.phys = NULL;
    return 0;
}

static s64 hvc(unsigned cpu, u64 hc, u64 a1, u64 a2, u64 a3, u64 a4)
{
    kc_native.cur_cpu = cpu;
    frame[cpu].x[0] = hc;
    frame[cpu].x[1] = a1;
    frame[cpu].x[2] = a2;
    frame[cpu].x[3] = a3;
    frame[cpu].x[4] = a4;
    kc_write_sysreg(ESR_HVC, esr_el2);
    kc_handle_sync(&frame[cpu]);
    return (s64)frame[cpu].x[0];
}

/* HC_RUN_VCPU that succeeds: the frame is the guest's afterwards (its x0
 * is the guest's own), so success shows in the per-CPU state. */
static void run_ok(unsigned cpu, u64 vm, u64 vcpu)
{
    hvc(cpu, HC_RUN_VCPU, vm, vcpu, 0, 0);
    assert_int_equal(kc.cpu[cpu].vm, vm);
    assert_int_equal(kc_native.sr[cpu][KC_SR_vttbr_el2], kc.vm[vm].vttbr);
}

/* A stage-2 data abort at ipa on cpu; returns true if KCore retried it
 * (ELR unchanged) rather than injecting a fault. */
static bool s2_abort(unsigned cpu, u64 ipa)
{
    u64 elr = frame[cpu].elr;
    kc_native.cur_cpu = cpu;
    kc_write_sysreg(ESR_DABT_L3, esr_el2);
    kc_write_sysreg(ipa, far_el2);
    kc_write_sysreg((ipa >> 12) << 4, hpfar_el2);
    kc_handle_sync(&frame[cpu]);
    return frame[cpu].elr == elr;
}

static u64 pub(u64 pa) { u64 v; memcpy(&v, kc_native.phys + pa, 8); return v; }
static u64 owner(u64 pfn) { return pub(KC_OWNER_BASE + 8 * pfn); }

static u64 fnv(u64 pfn, u64 n)
{
    u64 h = KC_FNV_OFFSET;
    for (u64 i = 0; i < n * 4096; i++)
        h = (h ^ kc_native.phys[(pfn << 12) + i]) * KC_FNV_PRIME;
    return h;
}

static unsigned count_op(enum kc_native_op op, int vmid, u64 arg)
{
    unsigned n = 0;
    for (unsigned i = 0; i < kc_native.nlog; i++)
        if (kc_native.log[i].op == op && (vmid < 0 || kc_native.log[i].vmid == vmid) &&
            (arg == ~0ull || kc_native.log[i].arg == arg))
            n++;
    return n;
}

/* ---- walker and pool ------------------------------------------------- */
static void test_kc_pgt_map_lookup_unmap(void **state)
{
    struct kc_pgt p;
    int level;
    (void)state;

    assert_int_equal(kc_pgt_init(&p, 1, 39, &kc_pool_ops), 0);
    assert_int_equal(kc_pgt_map(&p, 0x5000, 0x2000, 0x3000000, KC_S2_RAM, 3), 0);
    u64 pte = kc_pgt_lookup(&p, 0x6fff, &level);
    assert_int_equal(level, 3);
    assert_int_equal(kc_pte_addr(pte), 0x3001000);
    /* A valid entry is never overwritten (break-before-make is the caller's). */
    assert_int_equal(kc_pgt_map(&p, 0x6000, 0x1000, 0x3005000, KC_S2_RAM, 3), KC_PGT_EEXIST);
    assert_int_equal(kc_pte_addr(kc_pgt_lookup(&p, 0x6000, NULL)), 0x3001000);
    /* Unaligned and out-of-range arguments. */
    assert_int_equal(kc_pgt_map(&p, 0x6001, 0x1000, 0, KC_S2_RAM, 3), KC_PGT_EINVAL);
    assert_int_equal(kc_pgt_map(&p, 1ull << 39, 0x1000, 0, KC_S2_RAM, 3), KC_PGT_EINVAL);
    assert_int_equal(kc_pgt_map(&p, (1ull << 39) - 0x1000, 0x2000, 0, KC_S2_RAM, 3), KC_PGT_EINVAL);
    /* 2 MiB blocks where aligned, pages elsewhere. */
    assert_int_equal(kc_pgt_map(&p, 0x200000, 0x401000, 0x2200000, KC_S2_RAM, 2), 0);
    kc_pgt_lookup(&p, 0x300000, &level);
    assert_int_equal(level, 2);
    kc_pgt_lookup(&p, 0x600000, &level);
    assert_int_equal(level, 3);
    /* Unmapping part of a block would split it: refused. */
    assert_int_equal(kc_pgt_unmap(&p, 0x200000, 0x1000), KC_PGT_EINVAL);
    assert_int_equal(kc_pgt_unmap(&p, 0x5000, 0x2000), 2);
    assert_int_equal(kc_pgt_lookup(&p, 0x5000, NULL), 0);
    assert_int_equal(kc_pgt_unmap(&p, 0x5000, 0x2000), 0);
    /* hypsim's walker agrees on what is left. */
    u64 pa;
    assert_int_equal(s2_translate(p.root, 0x3ff008, MMU_ACC_WRITE, &pa), 0);
    assert_int_equal(pa, 0x23ff008);
    assert_int_equal(s2_translate(p.root, 0x5000, MMU_ACC_READ, &pa), -1);
    assert_int_equal(pa, MMU_FAULT_TRANSLATION);
    u64 before = kc_pool_available();
    kc_pgt_destroy(&p);
    assert_true(kc_pool_available() > before);
}

static void test_kc_pool_exhaustion_and_reuse(void **state)
{
    u64 n = kc_pool_available(), last = 0;
    (void)state;

    for (u64 i = 0; i < n; i++)
        assert_true((last = kc_pool_alloc()) != 0);
    assert_int_equal(kc_pool_alloc(), 0);
    memset(kc_native.phys + last, 0xaa, 4096);
    kc_pool_free(last);
    assert_int_equal(kc_pool_alloc(), last);
    for (unsigned i = 0; i < 4096; i++)
        assert_int_equal(kc_native.phys[last + i], 0);   /* zeroed before reuse */
}

/* ---- boot --------------------------------------------------------------- */
static void test_kc_boot_s1_map(void **state)
{
    struct mmu_result r;
    (void)state;

    /* Text: read-only, executable (D8.4.1 data access permissions). */
    assert_int_equal(s1_translate(0x1230, MMU_ACC_EXEC, &r), 0);
    assert_int_equal(s1_translate(0x1230, MMU_ACC_READ, &r), 0);
    assert_int_equal(r.pa, 0x1230);
    assert_int_equal(s1_translate(0x1230, MMU_ACC_WRITE, &r), -1);
    /* Data, stacks: RW, never executable, normal WB. */
    assert_int_equal(s1_translate(0x100008, MMU_ACC_WRITE, &r), 0);
    assert_true(r.attrs.cacheable);
    assert_int_equal(r.s1_level, 3);
    assert_int_equal(s1_translate(0x100008, MMU_ACC_EXEC, &r), -1);
    assert_int_equal(s1_translate(0x3ffff8, MMU_ACC_WRITE, &r), 0);
    /* Pool, ownership array, all of memory: 2 MiB blocks, RW XN. */
    assert_int_equal(s1_translate(0x400000, MMU_ACC_WRITE, &r), 0);
    assert_int_equal(r.s1_level, 2);
    assert_int_equal(s1_translate(MEM_BYTES - 8, MMU_ACC_WRITE, &r), 0);
    assert_int_equal(r.pa, MEM_BYTES - 8);
    assert_int_equal(s1_translate(MEM_BYTES - 8, MMU_ACC_EXEC, &r), -1);
    assert_int_equal(s1_translate(MEM_BYTES, MMU_ACC_READ, &r), -1);
}

static void test_kc_boot_state(void **state)
{
    (void)state;
    for (u64 pfn = 0; pfn < HOST_PFN0; pfn += 97)
        assert_int_equal(KC_OWN_OWNER(owner(pfn)), KC_OWNER_KCORE);
    assert_int_equal(KC_OWN_OWNER(owner(HOST_PFN0 - 1)), KC_OWNER_KCORE);
    assert_int_equal(owner(HOST_PFN0), 0);
    assert_int_equal(pub(KC_PUB_HOST_VTTBR), kc.host_vttbr);
    assert_int_equal(kc.host_vttbr >> 48, 0);
    assert_int_equal(pub(KC_PUB_BOOTED), 1);
    assert_int_equal(kc_bootinfo.flag, 1);
    assert_int_equal(kc_bootinfo.ttbr0, kc.s1.root);
    for (unsigned c = 0; c < 2; c++) {
        assert_int_equal(kc_native.sr[c][KC_SR_vttbr_el2], kc.host_vttbr);
        assert_int_equal(kc_native.sr[c][KC_SR_vtcr_el2], KC_VTCR_EL2_VAL);
        assert_int_equal(kc_native.sr[c][KC_SR_hcr_el2], KC_HCR_EL2_VAL);
        assert_int_equal(kc_native.sr[c][KC_SR_vbar_el2], 0x800);
        assert_ptr_equal((void *)(uintptr_t)kc_native.sr[c][KC_SR_tpidr_el2], &kc.cpu[c]);
    }
    assert_int_equal(kc.zva_size, 64);
    assert_int_equal(kc.line_size, 64);
}

/* ---- host stage 2 ----------------------------------------------------- */
static void test_kc_host_fault_identity_or_inject(void **state)
{
    u64 pa, ipa = (HOST_PFN0 + 5) << 12;
    (void)state;

    assert_int_equal(s2_translate(kc.host_vttbr, ipa + 8, MMU_ACC_READ, &pa), -1);
    assert_true(s2_abort(0, ipa + 8));
    assert_int_equal(s2_translate(kc.host_vttbr, ipa + 8, MMU_ACC_WRITE, &pa), 0);
    assert_int_equal(pa, ipa + 8);
    assert_true(s2_abort(1, ipa + 8));                  /* already mapped: retry */
    /* KCore's pages and memory beyond the end: refused, a fault injected. */
    frame[0].elr = 0x4444;
    assert_false(s2_abort(0, KC_POOL_BASE));
    assert_int_equal(frame[0].elr, KC_HOST_VBAR_EL1 + 0x200);
    assert_int_equal(kc_native.sr[0][KC_SR_elr_el1], 0x4444);
    assert_int_equal(kc_native.sr[0][KC_SR_esr_el1], ESR_DABT_L3);
    assert_int_equal(kc_native.sr[0][KC_SR_far_el1], KC_POOL_BASE);
    assert_int_equal(s2_translate(kc.host_vttbr, KC_POOL_BASE, MMU_ACC_READ, &pa), -1);
    frame[0].elr = KC_HOST_ENTRY;
    assert_false(s2_abort(0, MEM_BYTES));
    frame[0].elr = KC_HOST_ENTRY;
    assert_false(s2_abort(0, 1ull << 38));
}

/* ---- a VM's life ------------------------------------------------------- */
static int boot_vm(u64 pfn, u64 n)
{
    for (u64 i = 0; i < n * 4096; i++)
        kc_native.phys[(pfn << 12) + i] = (u8)(i * 7 + pfn);
    s64 vm = hvc(0, HC_REGISTER_VM, 0, 0, 0, 0);
    assert_true(vm >= 0);
    assert_int_equal(hvc(0, HC_REGISTER_VCPU, (u64)vm, 0, 0, 0), HC_OK);
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, (u64)vm, pfn, n, fnv(pfn, n)), HC_OK);
    assert_int_equal(hvc(0, HC_VERIFY_VM, (u64)vm, 0, 0, 0), HC_OK);
    return (int)vm;
}

static void test_kc_vm_lifecycle(void **state)
{
    u64 img = HOST_PFN0 + 100, page = HOST_PFN0 + 200, pa;
    (void)state;

    /* The host touched its image pages first: they are in its stage 2. */
    assert_true(s2_abort(0, img << 12));
    assert_true(s2_abort(0, page << 12));
    u64 pool0 = kc_pool_available();         /* host stage-2 tables made */
    kc_native.nlog = 0;
    int vm = boot_vm(img, 2);
    assert_int_equal(vm, 0);
    u64 vttbr = pub(KC_PUB_VM_VTTBR(0));
    assert_int_equal(vttbr >> 48, KC_VMID_VM(0));
    assert_int_equal(pub(KC_PUB_VM_STATE(0)), VM_STATE_VERIFIED);
    /* Donated image: gone from the host (with TLBI under VMID 0), mapped for the VM. */
    assert_int_equal(s2_translate(kc.host_vttbr, img << 12, MMU_ACC_READ, &pa), -1);
    assert_int_equal(count_op(KC_OP_TLBI_IPAS2E1IS, 0, img), 1);
    assert_true(count_op(KC_OP_TLBI_VMALLE1IS, 0, ~0ull) >= 1);
    assert_int_equal(s2_translate(vttbr, 0x1008, MMU_ACC_WRITE, &pa), 0);
    assert_int_equal(pa, ((img + 1) << 12) + 8);
    assert_int_equal(owner(img + 1), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 1));

    /* Donate: checks. */
    assert_int_equal(hvc(0, HC_DONATE, 0, page, 5, 0), HC_OK);
    assert_int_equal(s2_translate(kc.host_vttbr, page << 12, MMU_ACC_READ, &pa), -1);
    assert_int_equal(hvc(0, HC_DONATE, 0, page + 1, 5, 0), HC_EINVAL);   /* gfn mapped */
    assert_int_equal(hvc(0, HC_DONATE, 0, page, 6, 0), HC_EPERM);        /* not the host's */
    assert_int_equal(hvc(0, HC_DONATE, 0, KC_POOL_BASE >> 12, 6, 0), HC_EPERM);
    assert_int_equal(hvc(0, HC_DONATE, 0, MEM_BYTES >> 12, 6, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_DONATE, 0, page + 1, 1ull << 27, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_DONATE, 1, page + 1, 6, 0), HC_EINVAL);   /* no VM 1 */
    assert_true(s2_abort(1, page << 12) == false);      /* host may not touch it */
    frame[1].elr = KC_HOST_ENTRY;

    /* Run the vCPU on CPU 0: the frame becomes the guest's. */
    frame[0].x[7] = 0x7777;
    run_ok(0, 0, 0);
    assert_int_equal(frame[0].elr, 0);
    assert_int_equal(frame[0].x[7], 0);
    assert_int_equal(kc_native.sr[0][KC_SR_vttbr_el2], vttbr);
    assert_int_equal(hvc(1, HC_RUN_VCPU, 0, 0, 0, 0), HC_EBUSY);         /* running */
    assert_int_equal(hvc(1, HC_TEARDOWN, 0, 0, 0, 0), HC_ESTATE);

    /* Guest grants gfn 5; the host faults it in on CPU 1; revoke unmaps it. */
    assert_int_equal(hvc(0, HC_REGISTER_VM, 0, 0, 0, 0), HC_ENOSYS);     /* host call from a guest */
    assert_int_equal(hvc(0, HC_GRANT, 9, 0, 0, 0), HC_EINVAL);           /* unmapped gfn */
    assert_int_equal(hvc(0, HC_REVOKE, 5, 0, 0, 0), HC_EINVAL);          /* not granted */
    assert_int_equal(hvc(0, HC_GRANT, 5, 0, 0, 0), HC_OK);
    assert_int_equal(hvc(0, HC_GRANT, 5, 0, 0, 0), HC_OK);
    assert_int_equal(KC_OWN_COUNT(owner(page)), 2);
    assert_true(s2_abort(1, (page << 12) + 16));
    assert_int_equal(s2_translate(kc.host_vttbr, page << 12, MMU_ACC_WRITE, &pa), 0);
    assert_int_equal(hvc(1, HC_GRANT, 5, 0, 0, 0), HC_ENOSYS);           /* guest call from the host */
    assert_int_equal(hvc(0, HC_REVOKE, 5, 0, 0, 0), HC_OK);
    assert_int_equal(s2_translate(kc.host_vttbr, page << 12, MMU_ACC_WRITE, &pa), 0);
    kc_native.nlog = 0;
    assert_int_equal(hvc(0, HC_REVOKE, 5, 0, 0, 0), HC_OK);
    assert_int_equal(s2_translate(kc.host_vttbr, page << 12, MMU_ACC_READ, &pa), -1);
    assert_int_equal(count_op(KC_OP_TLBI_IPAS2E1IS, 0, page), 1);       /* under VMID 0 */
    assert_int_equal(kc_native.sr[0][KC_SR_vttbr_el2], vttbr);           /* switched back */
    assert_int_equal(hvc(0, 0x3f, 0, 0, 0, 0), HC_ENOSYS);

    /* Guest stage-2 fault: exit to the host with the IPA. */
    frame[0].elr = 0x1234;
    kc_native.cur_cpu = 0;
    kc_write_sysreg(ESR_DABT_L3, esr_el2);
    kc_write_sysreg((0x42ull << 12 >> 12) << 4, hpfar_el2);
    kc_handle_sync(&frame[0]);
    assert_int_equal(frame[0].x[0], RUN_EXIT_S2FAULT);
    assert_int_equal(frame[0].x[1], 0x42000);
    assert_int_equal(frame[0].x[7], 0x7777);                            /* host's registers */
    assert_int_equal(frame[0].elr, KC_HOST_ENTRY);
    assert_int_equal(kc_native.sr[0][KC_SR_vttbr_el2], kc.host_vttbr);
    /* Resume: the guest continues at the faulting instruction. */
    run_ok(0, 0, 0);
    assert_int_equal(frame[0].elr, 0x1234);
    assert_int_equal(hvc(0, HC_YIELD, 0, 0, 0, 0), RUN_EXIT_YIELD);
    run_ok(0, 0, 0);
    assert_int_equal(hvc(0, HC_POWEROFF, 0, 0, 0, 0), RUN_EXIT_POWEROFF);
    assert_int_equal(pub(KC_PUB_VM_STATE(0)), VM_STATE_POWEROFF);
    assert_int_equal(hvc(0, HC_RUN_VCPU, 0, 0, 0, 0), HC_ESTATE);

    /* Teardown: scrubbed, cleaned, given back; tables back in the pool. */
    assert_int_equal(hvc(0, HC_GRANT, 5, 0, 0, 0), HC_ENOSYS);
    kc_native.nlog = 0;
    memset(kc_native.phys + (page << 12), 0x5a, 4096);
    assert_int_equal(hvc(0, HC_TEARDOWN, 0, 0, 0, 0), HC_OK);
    for (u64 p = img; p < img + 2; p++)
        assert_int_equal(owner(p), 0);
    assert_int_equal(owner(page), 0);
    for (unsigned i = 0; i < 4096; i++)
        assert_int_equal(kc_native.phys[(page << 12) + i], 0);
    assert_int_equal(count_op(KC_OP_DC_CIVAC, -1, ~0ull), 3 * 64);
    assert_true(count_op(KC_OP_TLBI_VMALLS12E1IS, KC_VMID_VM(0), ~0ull) >= 3);
    assert_int_equal(pub(KC_PUB_VM_VTTBR(0)), 0);
    assert_int_equal(pub(KC_PUB_VM_STATE(0)), VM_STATE_FREE);
    assert_int_equal(kc_native.sr[0][KC_SR_vttbr_el2], kc.host_vttbr);
    assert_int_equal(kc_pool_available(), pool0);
    assert_true(s2_abort(0, page << 12));                /* the host's again */
    assert_int_equal(hvc(0, HC_TEARDOWN, 0, 0, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_REGISTER_VM, 0, 0, 0, 0), 0);            /* slot reused */
}

static void test_kc_verify_bad_hash(void **state)
{
    u64 img = HOST_PFN0 + 300;
    (void)state;

    s64 vm = hvc(0, HC_REGISTER_VM, 0, 0, 0, 0);
    assert_int_equal(hvc(0, HC_REGISTER_VCPU, (u64)vm, 0, 0, 0), HC_OK);
    assert_int_equal(hvc(0, HC_REGISTER_VCPU, (u64)vm, 0, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_REGISTER_VCPU, (u64)vm, 8, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_VERIFY_VM, (u64)vm, 0, 0, 0), HC_ESTATE);   /* no image */
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, (u64)vm, img, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, (u64)vm, img, KC_MAX_IMAGE_PAGES + 1, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, (u64)vm, (MEM_BYTES >> 12) - 1, 2, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, (u64)vm, HOST_PFN0 - 1, 2, 0), HC_EPERM);
    assert_int_equal(owner(HOST_PFN0), 0);               /* nothing half-done */
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, (u64)vm, img, 1, fnv(img, 1) ^ 1), HC_OK);
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, (u64)vm, img + 1, 1, 0), HC_ESTATE);
    assert_int_equal(hvc(0, HC_RUN_VCPU, (u64)vm, 0, 0, 0), HC_ESTATE);
    assert_int_equal(hvc(0, HC_VERIFY_VM, (u64)vm, 0, 0, 0), HC_EHASH);
    assert_int_equal(pub(KC_PUB_VM_STATE(vm)), VM_STATE_POWEROFF);
    assert_int_equal(hvc(0, HC_RUN_VCPU, (u64)vm, 0, 0, 0), HC_ESTATE);
    assert_int_equal(hvc(0, HC_TEARDOWN, (u64)vm, 0, 0, 0), HC_OK);
    assert_int_equal(owner(img), 0);
}

static void test_kc_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(hvc(0, 0, 0, 0, 0, 0), HC_ENOSYS);
    assert_int_equal(hvc(0, ~0ull, 0, 0, 0, 0), HC_ENOSYS);
    assert_int_equal(hvc(0, HC_REGISTER_VCPU, KC_MAX_VMS, 0, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_REGISTER_VCPU, 1ull << 63, 0, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_VERIFY_VM, 3, 0, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_RUN_VCPU, 0, ~0ull, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_TEARDOWN, ~0ull, 0, 0, 0), HC_EINVAL);
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, 0, ~0ull, 2, 0), HC_EINVAL);
    for (unsigned i = 0; i < KC_MAX_VMS; i++)
        assert_int_equal(hvc(0, HC_REGISTER_VM, 0, 0, 0, 0), (s64)i);
    assert_int_equal(hvc(0, HC_REGISTER_VM, 0, 0, 0, 0), HC_ENOMEM);
    /* Share-count overflow is refused. */
    int vm = 3;
    assert_int_equal(hvc(0, HC_REGISTER_VCPU, 3, 0, 0, 0), HC_OK);
    u64 img = HOST_PFN0 + 400;
    assert_int_equal(hvc(0, HC_SET_BOOT_INFO, 3, img, 1, fnv(img, 1)), HC_OK);
    assert_int_equal(hvc(0, HC_VERIFY_VM, 3, 0, 0, 0), HC_OK);
    run_ok(1, 3, 0);
    u64 *e = (u64 *)(kc_native.phys + KC_OWNER_BASE + 8 * img);
    *e = KC_OWN_MAKE(KC_OWNER_VM(vm), 0xffff, 0);
    assert_int_equal(hvc(1, HC_GRANT, 0, 0, 0, 0), HC_EINVAL);
    assert_int_equal(KC_OWN_COUNT(*e), 0xffff);
    assert_int_equal(hvc(1, HC_GRANT, 1ull << 40, 0, 0, 0), HC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kc_pgt_map_lookup_unmap, setup, teardown_state),
        cmocka_unit_test_setup_teardown(test_kc_pool_exhaustion_and_reuse, setup, teardown_state),
        cmocka_unit_test_setup_teardown(test_kc_boot_s1_map, setup, teardown_state),
        cmocka_unit_test_setup_teardown(test_kc_boot_state, setup, teardown_state),
        cmocka_unit_test_setup_teardown(test_kc_host_fault_identity_or_inject, setup, teardown_state),
        cmocka_unit_test_setup_teardown(test_kc_vm_lifecycle, setup, teardown_state),
        cmocka_unit_test_setup_teardown(test_kc_verify_bad_hash, setup, teardown_state),
        cmocka_unit_test_setup_teardown(test_kc_bad_arguments, setup, teardown_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
