/*
 * tests/unit/test_inv.c - CMocka unit tests for model/inv (the isolation
 * invariants of DESIGN.md, checked after every step).
 *
 * The machine state is built by hand, without running KCore: memory, cache
 * and TLBs from msys_init, zeroed struct cpu objects, the published page,
 * the ownership array and stage-2 tables written into memory, TLB entries
 * filled with tlb_fill. KCore's writes are simulated by writing through the
 * cache and recording the access in cpu[0].acc, as cpu/ does.
 * Each negative test breaks exactly one invariant and asserts that exactly
 * that invariant is reported, in full mode, in incremental mode, and in
 * incremental mode with the full check run alongside (agreement mode).
 *
 * machine_violation() lives in model/machine.c, which needs Unicorn; this
 * test defines its own, recording into m->viol as the real one does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hyp/kcore/abi.h"
#include "model/inv/inv.h"


/* ---- The hand-built machine ---------------------------------------------- */

#define NCPU 2
#define MEMB (64ull << 20)
#define POOL(i) (KC_POOL_BASE + (uint64_t)(i) * MEM_PAGE_SIZE)

/* Host tables: root P0, L2 P1 (IPA 0..1 GiB), L3 P2 (IPA 0x02000000..+2 MiB).
 * VM 0 tables: root P3, L2 P4, L3 P5 (IPA 0..2 MiB). */
#define H_ROOT POOL(0)
#define H_L2   POOL(1)
#define H_L3   POOL(2)
#define V_ROOT POOL(3)
#define V_L2   POOL(4)
#define V_L3   POOL(5)
#define SPARE(i) POOL(6 + (i))    /* empty, KCore-owned pool pages */

#define PG_H   0x02000000ull      /* host page, host-mapped (IPA == PA) */
#define PG_S   0x02001000ull      /* VM 0 page at gfn 1, shared (count 1), host-mapped */
#define PG_V0  0x02002000ull      /* VM 0 page at gfn 0 */
#define PG_V1  0x02003000ull      /* VM 0 page, gfn 5, unmapped */
#define PG_K   0x02004000ull      /* KCore-owned page outside [0, KC_END) */
#define PG_H2  0x02005000ull      /* host page, unmapped */
#define PG_N   0x02006000ull      /* owned by nobody */
#define PG_V0B 0x02007000ull      /* VM 0 page, gfn 0 as well, unmapped */
#define PG_HI  0x02200000ull      /* host pages above (never written: host-owned) */

#define S2_ATTRS (MMU_S2AP_R | MMU_S2AP_W | MMU_AF | MMU_S2_MEMATTR(0xf))

struct fx {
    struct machine m;
    struct cpu cpus[NCPU];
};

static const enum check_mode mode_full = CHECK_FULL;
static const enum check_mode mode_inc = CHECK_INCREMENTAL;
static const enum check_mode mode_agree = CHECK_INCREMENTAL;   /* + agreement */
static const enum check_mode mode_off = CHECK_OFF;

static uint64_t leaf(uint64_t pa) { return mmu_desc_page(pa, S2_ATTRS); }

static void wr(struct fx *f, uint64_t pa, uint64_t v)
{
    assert_int_equal(mem_write_word(&f->m.ms.mem, pa, v, LABEL_HYP), MEM_OK);
}

static void own(struct fx *f, uint64_t pa, unsigned o, unsigned count, uint64_t gfn)
{
    wr(f, KC_OWNER_BASE + 8 * (pa >> MEM_PAGE_SHIFT), KC_OWN_MAKE(o, count, gfn));
}

static uint64_t own_addr(uint64_t pa) { return KC_OWNER_BASE + 8 * (pa >> MEM_PAGE_SHIFT); }

/* L3 index of a page inside the 2 MiB region an L3 table covers. */
static uint64_t l3_slot(uint64_t table, uint64_t ipa)
{
    return table + 8 * ((ipa >> 12) & 511);
}

static void build_state(struct fx *f, bool booted)
{
    for (uint64_t pa = 0; pa < KC_END; pa += MEM_PAGE_SIZE)
        own(f, pa, KC_OWNER_KCORE, 0, 0);
    own(f, PG_S, KC_OWNER_VM(0), 1, 1);
    own(f, PG_V0, KC_OWNER_VM(0), 0, 0);
    own(f, PG_V1, KC_OWNER_VM(0), 0, 5);
    own(f, PG_V0B, KC_OWNER_VM(0), 0, 0);
    own(f, PG_K, KC_OWNER_KCORE, 0, 0);
    own(f, PG_N, KC_OWNER_NONE, 0, 0);

    wr(f, H_ROOT, mmu_desc_table(H_L2));
    wr(f, H_L2 + 8 * (PG_H >> 21), mmu_desc_table(H_L3));
    wr(f, l3_slot(H_L3, PG_H), leaf(PG_H));
    wr(f, l3_slot(H_L3, PG_S), leaf(PG_S));

    wr(f, V_ROOT, mmu_desc_table(V_L2));
    wr(f, V_L2, mmu_desc_table(V_L3));
    wr(f, l3_slot(V_L3, 0x0000), leaf(PG_V0));
    wr(f, l3_slot(V_L3, 0x1000), leaf(PG_S));

    wr(f, KC_PUB_HOST_VTTBR, H_ROOT);
    wr(f, KC_PUB_VM_VTTBR(0), V_ROOT | ((uint64_t)KC_VMID_VM(0) << 48));
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_VERIFIED);
    wr(f, KC_PUB_BOOTED, booted ? 1 : 0);
}

static void tfill(struct fx *f, unsigned cpu, enum tlb_kind kind, uint16_t vmid, uint64_t in,
                  uint64_t pa, unsigned shift)
{
    struct mmu_result r;

    memset(&r, 0, sizeof r);
    r.va = in;
    r.ipa = in;
    r.pa = pa;
    r.s1_shift = kind == TLB_KIND_S2 ? 64 : shift;
    r.s2_shift = shift;
    r.s2_level = 3;
    r.s1_perms = r.s2_perms = MMU_P_ALL;
    r.attrs.cacheable = true;
    r.vmid = vmid;
    assert_true(tlb_fill(&f->m.ms.tlb.cpu[cpu], MMU_REGIME_EL10, kind, &r, -1) >= 0);
}

static int setup_common(void **state, bool booted)
{
    const enum check_mode *mode = *state;
    struct fx *f = test_calloc(1, sizeof *f);
    struct msys_config mc = { .ncpus = NCPU, .mem_bytes = MEMB, .cache_sets = 16,
                              .cache_ways = 2, .tlb_entries = 8 };

    if (!f || msys_init(&f->m.ms, &mc) != 0)
        return -1;
    f->m.cfg.ncpus = NCPU;
    f->m.cfg.mem_mib = MEMB >> 20;
    f->m.cfg.check = mode ? *mode : CHECK_INCREMENTAL;
    f->m.hv = hv_default();
    f->m.cpu = f->cpus;
    for (unsigned i = 0; i < NCPU; i++) {
        f->cpus[i].idx = i;
        f->cpus[i].ms = &f->m.ms;
        f->cpus[i].mode = i == 0 ? CPU_KCORE : CPU_HOST;
    }
    build_state(f, booted);
    tfill(f, 1, TLB_KIND_S2, KC_VMID_HOST, PG_H, PG_H, 12);
    tfill(f, 0, TLB_KIND_S2, KC_VMID_VM(0), 0x0000, PG_V0, 12);
    if (inv_init(&f->m) != 0)
        return -1;
    if (mode == &mode_agree)
        inv_set_agree(&f->m, true);
    *state = f;
    return 0;
}

static int setup_booted(void **state) { return setup_common(state, true); }
static int setup_preboot(void **state) { return setup_common(state, false); }

static int teardown(void **state)
{
    struct fx *f = *state;
    char buf[256];

    if (f->m.inv && f->m.cfg.check == CHECK_INCREMENTAL) {
        /* Agreement mode: the two checks never disagreed. */
        uint64_t n = inv_agree_mismatches(&f->m, buf, sizeof buf);
        if (n)
            print_error("agreement: %s\n", buf);
        assert_int_equal(n, 0);
    }
    inv_free(&f->m);
    msys_free(&f->m.ms);
    free(f->m.viol);
    test_free(f);
    return 0;
}

/* Deliver one step event to the checker, as the machine's bus does. */
static void deliver(struct fx *f, const struct ev *e)
{
    inv_checker.on_event(&f->m, f->m.inv, e);
}

/* A KCore store of one descriptor or entry (cacheable or not), as the
 * access path reports it (EV_ACCESS). */
static void kwrite(struct fx *f, uint64_t pa, uint64_t val, bool cacheable)
{
    struct ev e = { .kind = EV_ACCESS, .cpu = 0 };
    enum cache_outcome out;

    assert_int_equal(cache_write(&f->m.ms.cache, pa, 8, cacheable, val, LABEL_HYP, &out), MEM_OK);
    e.u.access.who = LABEL_HYP;
    e.u.access.va = e.u.access.ipa = e.u.access.pa = pa;
    e.u.access.size = 8;
    e.u.access.acc = MMU_ACC_WRITE;
    e.u.access.cacheable = cacheable;
    e.u.access.cache = out;
    e.u.access.val = val;
    e.u.access.label = LABEL_HYP;
    deliver(f, &e);
}

/* The end of a step: the checker's entry point (the machine's EV_STEP_END
 * calls it unless a violation already stopped the run). */
static void step(struct fx *f, unsigned cpu, enum step_kind ev)
{
    inv_after_step(&f->m, cpu, ev);
    f->m.st.steps++;
}

static void kstep(struct fx *f, uint64_t pa, uint64_t val)
{
    kwrite(f, pa, val, true);
    step(f, 0, STEP_CPU);
}

static uint32_t viol_mask(const struct fx *f)
{
    uint32_t mask = 0;
    for (unsigned i = 0; i < f->m.nviol; i++)
        mask |= 1u << f->m.viol[i].invariant;
    return mask;
}

static void clear_viol(struct fx *f)
{
    f->m.nviol = 0;
    f->m.stop = false;
}

#define B(i) (1u << (i))

/* ---- Well-formed states --------------------------------------------------- */

static void test_inv_wellformed_reports_nothing(void **state)
{
    struct fx *f = *state;

    step(f, 0, STEP_CPU);
    step(f, 1, STEP_TLB_FILL);
    step(f, 0, STEP_CACHE_EVICT);
    assert_int_equal(f->m.nviol, 0);
    /* 1, 2, 3, 6, 7 and 4's hand-back rule ran on each of the three steps. */
    assert_int_equal(f->m.st.invariant_checks, 18);
}

static void test_inv_wellformed_kcore_work_reports_nothing(void **state)
{
    struct fx *f = *state;

    /* Map a host page, break-before-make a VM page, link an empty table,
     * share and unshare a page, fill valid TLB entries. */
    kstep(f, l3_slot(H_L3, PG_H2), leaf(PG_H2));
    kstep(f, l3_slot(V_L3, 0x0000), 0);
    kstep(f, l3_slot(V_L3, 0x0000), leaf(PG_V0B));
    kstep(f, H_L2 + 8 * 17, mmu_desc_table(SPARE(0)));
    kstep(f, l3_slot(SPARE(0), PG_HI), leaf(PG_HI));
    kstep(f, own_addr(PG_V1), KC_OWN_MAKE(KC_OWNER_VM(0), 1, 5));
    kstep(f, l3_slot(H_L3, PG_V1), leaf(PG_V1));
    kstep(f, l3_slot(H_L3, PG_V1), 0);
    kstep(f, own_addr(PG_V1), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 5));
    tfill(f, 1, TLB_KIND_S2, KC_VMID_HOST, PG_HI, PG_HI, 12);
    step(f, 1, STEP_TLB_FILL);
    tfill(f, 1, TLB_KIND_S12, KC_VMID_HOST, 0x40000000, PG_S, 12);
    step(f, 1, STEP_TLB_FILL);
    /* Unlink the table again (its subtree leaves the state). */
    kstep(f, H_L2 + 8 * 17, 0);
    assert_int_equal(f->m.nviol, 0);
}

static void test_inv_off_checks_nothing(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(H_L3, PG_K), leaf(PG_K));
    tfill(f, 1, TLB_KIND_S2, KC_VMID_HOST, PG_K, PG_K, 12);
    step(f, 1, STEP_TLB_FILL);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.invariant_checks, 0);
}

/* ---- 1: KCore's pages are unmapped ------------------------------------- */

static void test_inv1_s2_maps_kcore_page(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(H_L3, PG_K), leaf(PG_K));
    assert_int_equal(viol_mask(f), B(1));
    assert_int_equal(f->m.viol[0].page, PG_K);
    assert_int_equal(f->m.viol[0].who, LABEL_HOST);
    assert_int_equal(f->m.viol[0].whose, LABEL_HYP);
}

static void test_inv1_tlb_maps_kcore_page(void **state)
{
    struct fx *f = *state;

    tfill(f, 1, TLB_KIND_S12, KC_VMID_VM(0), 0x5000, PG_K, 12);
    step(f, 1, STEP_TLB_FILL);
    assert_int_equal(viol_mask(f), B(1));
    assert_int_equal(f->m.viol[0].cpu, 1);
    assert_int_equal(f->m.viol[0].who, LABEL_VM(0));
}

static void test_inv1_page_becomes_kcore_while_mapped(void **state)
{
    struct fx *f = *state;

    /* PG_H is in the host's stage 2 and in CPU 1's TLB. */
    kstep(f, own_addr(PG_H), KC_OWN_MAKE(KC_OWNER_KCORE, 0, 0));
    assert_int_equal(viol_mask(f), B(1));
    assert_int_equal(f->m.nviol, 2);
}

/* A KCore page the ownership array (wrongly) records as a VM's is still
 * KCore's: mapping it in that VM's stage 2 breaks invariant 1, and the
 * record itself breaks invariant 7 (bookkeeping). */
static void test_inv1_kcore_region_whatever_the_array_says(void **state)
{
    struct fx *f = *state;
    const uint64_t kpage = KC_DATA_BASE;          /* inside [0, KC_END) */

    kstep(f, own_addr(kpage), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 7));
    assert_int_equal(viol_mask(f), B(7));
    assert_int_equal(f->m.viol[0].page, kpage);
    clear_viol(f);
    kstep(f, l3_slot(V_L3, 0x7000), leaf(kpage));
    assert_true(viol_mask(f) & B(1));
    assert_false(viol_mask(f) & B(2));
}

/* ---- 2: stage-2 mappings point to owned or shared pages --------------- */

static void test_inv2_vm_maps_host_page(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(V_L3, 0x2000), leaf(PG_H));
    assert_int_equal(viol_mask(f), B(2));
    assert_int_equal(f->m.viol[0].who, LABEL_VM(0));
    assert_int_equal(f->m.viol[0].whose, LABEL_HOST);
}

static void test_inv2_host_maps_unowned_page(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(H_L3, PG_N), leaf(PG_N));
    assert_int_equal(viol_mask(f), B(2));
}

static void test_inv2_maps_outside_memory(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(V_L3, 0x3000), leaf(MEMB + 0x3000));
    assert_int_equal(viol_mask(f), B(2));
    assert_int_equal(f->m.viol[0].page, MEMB + 0x3000);
}

/* ---- 3: TLB entries translate to owned or shared pages ---------------- */

static void test_inv3_tlb_vm_entry_to_host_page(void **state)
{
    struct fx *f = *state;

    tfill(f, 0, TLB_KIND_S2, KC_VMID_VM(0), 0x3000, PG_H, 12);
    step(f, 0, STEP_TLB_FILL);
    assert_int_equal(viol_mask(f), B(3));
    assert_int_equal(f->m.viol[0].cpu, 0);
}

static void test_inv3_tlb_block_spans_foreign_pages(void **state)
{
    struct fx *f = *state;

    /* A 2 MiB entry of VM 0 over host pages. */
    tfill(f, 1, TLB_KIND_S2, KC_VMID_VM(0), 0x200000, PG_HI, 21);
    step(f, 1, STEP_TLB_FILL);
    assert_int_equal(viol_mask(f), B(3));
    assert_int_equal(f->m.nviol, 1);
}

static void test_inv3_stale_entry_after_unshare(void **state)
{
    struct fx *f = *state;

    /* Unmapped from the host's stage 2, but CPU 1 still holds a host entry
     * for the page when the share count drops to 0. */
    tfill(f, 1, TLB_KIND_S2, KC_VMID_HOST, PG_S, PG_S, 12);
    step(f, 1, STEP_TLB_FILL);
    kstep(f, l3_slot(H_L3, PG_S), 0);
    assert_int_equal(f->m.nviol, 0);
    kstep(f, own_addr(PG_S), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 1));
    assert_int_equal(viol_mask(f), B(3));
}

/* ---- 4 and 5: actor accesses ------------------------------------------ */

static struct msys_access access_at(uint64_t pa, uint64_t val, label_t label)
{
    struct msys_access a;
    memset(&a, 0, sizeof a);
    a.va = a.ipa = a.pa = pa;
    a.size = 8;
    a.val = val;
    a.label = label;
    a.cache = CACHE_HIT;
    return a;
}

static void test_inv4_host_reads_unshared_vm_data(void **state)
{
    struct fx *f = *state;
    struct msys_access a = access_at(PG_S + 8, 42, LABEL_VM(0));

    inv_on_actor_access(&f->m, 1, LABEL_HOST, &a, false);     /* shared: fine */
    a = access_at(PG_V0 + 16, 43, LABEL_VM(0));
    inv_on_actor_access(&f->m, 1, LABEL_VM(0), &a, false);    /* its own: fine */
    assert_int_equal(f->m.nviol, 0);
    inv_on_actor_access(&f->m, 1, LABEL_HOST, &a, false);
    assert_int_equal(viol_mask(f), B(4));
    assert_int_equal(f->m.viol[0].whose, LABEL_VM(0));
    step(f, 1, STEP_CPU);
    assert_int_equal(viol_mask(f), B(4));
    assert_int_equal(f->m.st.invariant_checks, 7);           /* 1,2,3,6,7,hand-back + 4 */
}

static void test_inv4_vm_reads_other_vm_data(void **state)
{
    struct fx *f = *state;
    struct msys_access a = access_at(PG_S, 1, LABEL_VM(0));

    /* Even a page VM 0 shares with the host is not shared with VM 1. */
    inv_on_actor_access(&f->m, 1, LABEL_VM(1), &a, false);
    assert_int_equal(viol_mask(f), B(4));
}

/* ---- 4, the hand-back rule: PG_V1 (VM 0's, unmapped) goes to the host ---- */

static void vm_word(struct fx *f, uint64_t pa, uint64_t v)
{
    assert_int_equal(mem_write_word(&f->m.ms.mem, pa, v, LABEL_VM(0)), MEM_OK);
}

static void hand_back(struct fx *f, uint64_t pa)
{
    kstep(f, own_addr(pa), KC_OWN_MAKE(KC_OWNER_HOST, 0, 0));
}

static void test_inv4_handback_with_vm_data(void **state)
{
    struct fx *f = *state;

    vm_word(f, PG_V1 + 0x548, 7);
    hand_back(f, PG_V1);
    assert_int_equal(viol_mask(f), B(4));
    assert_int_equal(f->m.viol[0].page, PG_V1);
    assert_int_equal(f->m.viol[0].whose, LABEL_VM(0));
    assert_non_null(strstr(f->m.viol[0].detail, "0x2003548"));
    assert_non_null(strstr(f->m.viol[0].detail, "cacheable host read"));
}

static void test_inv4_handback_scrubbed_is_fine(void **state)
{
    struct fx *f = *state;

    vm_word(f, PG_V1 + 0x548, 7);
    wr(f, PG_V1 + 0x548, 0);                   /* KCore's scrub, in memory */
    hand_back(f, PG_V1);
    /* Other changes carry no VM data out: VM -> nobody, host count. */
    vm_word(f, PG_V0B, 9);
    kstep(f, own_addr(PG_V0B), KC_OWN_MAKE(KC_OWNER_NONE, 0, 0));
    kstep(f, own_addr(PG_H2), KC_OWN_MAKE(KC_OWNER_HOST, 0, 0));
    assert_int_equal(f->m.nviol, 0);
}

/* Zeroed in the cache, not cleaned: the coherent view is clean, memory
 * is not (a non-cacheable read, or the line's loss, shows VM data). */
static void test_inv4_handback_dirty_line_over_vm_data(void **state)
{
    struct fx *f = *state;
    enum cache_outcome out;

    vm_word(f, PG_V1 + 0x40, 7);
    assert_int_equal(cache_write(&f->m.ms.cache, PG_V1 + 0x40, 8, true, 0, LABEL_HYP, &out),
                     MEM_OK);
    hand_back(f, PG_V1);
    assert_int_equal(viol_mask(f), B(4));
    assert_non_null(strstr(f->m.viol[0].detail, "non-cacheable host read"));
}

/* Zeroed in memory (non-cacheable) under a line still holding VM data. */
static void test_inv4_handback_vm_line_over_zeroed_memory(void **state)
{
    struct fx *f = *state;
    enum cache_outcome out;

    assert_int_equal(cache_write(&f->m.ms.cache, PG_V1 + 0x80, 8, true, 5, LABEL_VM(0), &out),
                     MEM_OK);
    hand_back(f, PG_V1);
    assert_int_equal(viol_mask(f), B(4));
    assert_non_null(strstr(f->m.viol[0].detail, "0x2003080"));
}

static void test_inv5_writes(void **state)
{
    struct fx *f = *state;
    struct msys_access a = access_at(PG_S, 1, LABEL_HOST);

    inv_on_actor_access(&f->m, 1, LABEL_HOST, &a, true);      /* shared */
    a = access_at(PG_V0, 2, LABEL_VM(0));
    inv_on_actor_access(&f->m, 0, LABEL_VM(0), &a, true);     /* its own */
    a = access_at(PG_H, 3, LABEL_HOST);
    inv_on_actor_access(&f->m, 1, LABEL_HOST, &a, true);
    assert_int_equal(f->m.nviol, 0);
    a = access_at(PG_H, 4, LABEL_VM(0));
    inv_on_actor_access(&f->m, 0, LABEL_VM(0), &a, true);
    assert_int_equal(viol_mask(f), B(5));
    assert_int_equal(f->m.viol[0].who, LABEL_VM(0));
    assert_int_equal(f->m.viol[0].whose, LABEL_HOST);
    clear_viol(f);
    a = access_at(PG_V0, 5, LABEL_HOST);
    inv_on_actor_access(&f->m, 1, LABEL_HOST, &a, true);
    assert_int_equal(viol_mask(f), B(5));
}

/* ---- 6: page-table well-formedness ------------------------------------ */

static void test_inv6_link_nonempty_table(void **state)
{
    struct fx *f = *state;

    /* A valid (and otherwise allowed) identity leaf already in the table. */
    wr(f, l3_slot(SPARE(0), PG_HI + 0x5000), leaf(PG_HI + 0x5000));
    kstep(f, H_L2 + 8 * 17, mmu_desc_table(SPARE(0)));
    assert_int_equal(viol_mask(f), B(6));
    assert_int_equal(f->m.viol[0].page, SPARE(0));
}

static void test_inv6_break_before_make(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(V_L3, 0x0000), leaf(PG_V0B));
    assert_int_equal(viol_mask(f), B(6));
}

static void test_inv6_attribute_change_is_not_bbm(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(V_L3, 0x0000), mmu_desc_page(PG_V0, MMU_S2AP_R | MMU_AF | MMU_S2_MEMATTR(0xf)));
    assert_int_equal(f->m.nviol, 0);
}

static void test_inv6_table_outside_pool(void **state)
{
    struct fx *f = *state;

    kstep(f, H_L2 + 8 * 18, mmu_desc_table(0x00150000));
    assert_int_equal(viol_mask(f), B(6));
}

static void test_inv6_table_not_kcore_owned(void **state)
{
    struct fx *f = *state;

    /* A pool page (inside KCore's region) recorded as the host's breaks
     * the bookkeeping (7) at once... */
    kstep(f, own_addr(SPARE(1)), KC_OWN_MAKE(KC_OWNER_HOST, 0, 0));
    assert_int_equal(viol_mask(f), B(7));
    clear_viol(f);
    /* ...and linking it as a table breaks 6 (full mode re-reports 7). */
    kstep(f, H_L2 + 8 * 19, mmu_desc_table(SPARE(1)));
    assert_true(viol_mask(f) & B(6));
    assert_false(viol_mask(f) & ~(B(6) | B(7)));
}

static void test_inv6_table_page_given_away(void **state)
{
    struct fx *f = *state;

    /* V_L3 is a live table page in the pool, inside KCore's region: giving
     * it to a VM breaks 6 (table pages are KCore's) and 7 (bookkeeping). */
    kstep(f, own_addr(V_L3), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 7));
    assert_int_equal(viol_mask(f), B(6) | B(7));
}

static void test_inv6_table_referenced_twice(void **state)
{
    struct fx *f = *state;

    kstep(f, H_L2 + 8 * 20, mmu_desc_table(SPARE(2)));
    assert_int_equal(f->m.nviol, 0);
    kstep(f, H_L2 + 8 * 21, mmu_desc_table(SPARE(2)));
    assert_int_equal(viol_mask(f), B(6));
}

static void test_inv6_root_outside_pool(void **state)
{
    struct fx *f = *state;

    kstep(f, KC_PUB_VM_VTTBR(1), 0x00150000 | ((uint64_t)KC_VMID_VM(1) << 48));
    assert_int_equal(viol_mask(f), B(6));
}

/* ---- 7: ownership bookkeeping ----------------------------------------- */

static void test_inv7_host_not_identity(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(H_L3, PG_N), leaf(PG_H2));
    assert_int_equal(viol_mask(f), B(7));
}

static void test_inv7_vm_page_at_wrong_gfn(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(V_L3, 0x2000), leaf(PG_V1));     /* gfn 2, recorded 5 */
    assert_int_equal(viol_mask(f), B(7));
}

static void test_inv7_host_maps_unshared_vm_page(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(H_L3, PG_V0), leaf(PG_V0));
    assert_int_equal(viol_mask(f), B(7));
}

static void test_inv7_unshare_while_host_maps(void **state)
{
    struct fx *f = *state;

    kstep(f, own_addr(PG_S), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 1));
    assert_int_equal(viol_mask(f), B(7));
}

static void test_inv7_gfn_changed_under_mapping(void **state)
{
    struct fx *f = *state;

    kstep(f, own_addr(PG_V0), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 9));
    assert_int_equal(viol_mask(f), B(7));
}

/* ---- The pure checks, one invariant each --------------------------------- */

static void test_inv_check_functions_report_their_own_invariant(void **state)
{
    struct fx *f = *state;
    struct inv_report r;

    /* Break 1, 2, 3, 6 and 7 at once, behind the checker's back. */
    wr(f, l3_slot(H_L3, PG_K), leaf(PG_K));                   /* 1 */
    wr(f, l3_slot(V_L3, 0x2000), leaf(PG_H));                  /* 2 */
    tfill(f, 0, TLB_KIND_S2, KC_VMID_VM(0), 0x3000, PG_H2, 12); /* 3 */
    wr(f, own_addr(V_L3), KC_OWN_MAKE(KC_OWNER_HOST, 0, 0));   /* 6 */
    wr(f, l3_slot(H_L3, PG_N), leaf(PG_H2));                   /* 7 */

    inv_report_init(&r, -1);
    inv_check_kcore_unmapped(&f->m, &r);
    assert_int_equal(r.mask, B(1));
    inv_report_init(&r, -1);
    inv_check_s2_owned(&f->m, &r);
    assert_int_equal(r.mask, B(2));
    inv_report_init(&r, -1);
    inv_check_tlb_owned(&f->m, &r);
    assert_int_equal(r.mask, B(3));
    inv_report_init(&r, -1);
    inv_check_tables(&f->m, &r);
    assert_int_equal(r.mask, B(6));
    inv_report_init(&r, -1);
    inv_check_bookkeeping(&f->m, &r);
    assert_int_equal(r.mask, B(7));
    assert_int_equal(r.n, 1);
    assert_int_equal(r.item[0].page, PG_H2);
    assert_int_equal(f->m.nviol, 0);          /* reports, not violations */
}

/* ---- Boot, caches, resync --------------------------------------------- */

static void test_inv_preboot_checks_structure_only(void **state)
{
    struct fx *f = *state;

    kstep(f, l3_slot(H_L3, PG_K), leaf(PG_K));
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.invariant_checks, 1);           /* 6 only */
    kstep(f, H_L2 + 8 * 18, mmu_desc_table(0x00150000));     /* outside the pool */
    assert_int_equal(viol_mask(f), B(6));
    clear_viol(f);
    kstep(f, H_L2 + 8 * 18, 0);
    kstep(f, KC_PUB_BOOTED, 1);                                /* boot done: now 1 */
    assert_int_equal(viol_mask(f), B(1));
}

static void test_inv_noncacheable_write_under_line_seen_at_eviction(void **state)
{
    struct fx *f = *state;
    uint64_t slot = l3_slot(V_L3, 0x2000), v;
    label_t l;

    /* The line holding the descriptor is cached (clean); KCore writes the
     * descriptor non-cacheably: the walk (cacheable) still sees the line. */
    assert_int_equal(cache_read(&f->m.ms.cache, slot, 8, true, &v, &l, NULL), MEM_OK);
    kwrite(f, slot, leaf(PG_H), false);
    step(f, 0, STEP_CPU);
    assert_int_equal(f->m.nviol, 0);
    cache_evict_pa(&f->m.ms.cache, slot);
    step(f, 1, STEP_CACHE_EVICT);
    assert_int_equal(viol_mask(f), B(2));
}

static void test_inv_resync_sees_hidden_change(void **state)
{
    struct fx *f = *state;

    inv_set_agree(&f->m, false);   /* the full check would see it at once */
    wr(f, l3_slot(V_L3, 0x2000), leaf(PG_H));
    if (f->m.cfg.check == CHECK_FULL) {
        step(f, 0, STEP_CPU);
    } else {
        step(f, 0, STEP_CPU);        /* incremental: not seen without a record... */
        assert_int_equal(f->m.nviol, 0);
        inv_resync(&f->m);         /* ...until asked to look again */
    }
    assert_int_equal(viol_mask(f), B(2));
}

/* KCore executes one DC by VA (on the line holding pa, cacheable): the DC
 * is no access, the checker learns it from the EV_DC event. */
static void kdc(struct fx *f, enum dc_op op, uint64_t pa)
{
    struct ev e = { .kind = EV_DC, .cpu = 0 };

    assert_int_equal(cache_dc(&f->m.ms.cache, op, pa, LABEL_HYP), MEM_OK);
    e.u.dc.op = op;
    e.u.dc.va = e.u.dc.pa = pa;
    e.u.dc.line = pa & ~(uint64_t)(CACHE_LINE_SIZE - 1);
    e.u.dc.cacheable = true;
    deliver(f, &e);
    step(f, 0, STEP_CPU);
}

static void test_inv_dc_zva_on_ownership_array_is_seen(void **state)
{
    struct fx *f = *state;

    /* Zeroes the entries of pfns 0x2000..0x2007: every page there is now
     * the host's, though VM 0 maps two of them and CPU 0 caches one. */
    kdc(f, DC_ZVA, own_addr(PG_H));
    assert_int_equal(viol_mask(f), B(2) | B(3));
}

static void test_inv_dc_zva_unmapping_is_seen(void **state)
{
    struct fx *f = *state;

    /* Zero the host's L3 line mapping PG_H and PG_S, then unshare PG_S
     * (and drop CPU 1's entry for PG_H): nothing maps it any more. */
    kdc(f, DC_ZVA, l3_slot(H_L3, PG_H));
    kstep(f, own_addr(PG_S), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 1));
    assert_int_equal(f->m.nviol, 0);
}

static void test_inv_dc_ivac_discarding_a_mapping_is_seen(void **state)
{
    struct fx *f = *state;

    /* Map PG_H2 (a dirty line), discard the line: the mapping is gone from
     * the coherent view; donating PG_H2 is then fine. */
    kstep(f, l3_slot(H_L3, PG_H2), leaf(PG_H2));
    kdc(f, DC_IVAC, l3_slot(H_L3, PG_H2));
    kstep(f, own_addr(PG_H2), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 9));
    assert_int_equal(f->m.nviol, 0);
    /* ...whereas the host mapping it when it is not shared is caught. */
    kstep(f, l3_slot(H_L3, PG_H2), leaf(PG_H2));
    assert_int_equal(viol_mask(f), B(7));
}

/* ---- Randomised agreement of incremental and full ---------------------- */

/* A tiny xorshift generator (local state only). */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mostly well-behaved KCore work on 32 host pages at PG_HI (host L3 in
 * SPARE(3)) and VM 0's L3, with TLB fills and evictions, cache evictions,
 * non-cacheable stores and, rarely, a wild store. Every step the full check
 * runs beside the incremental one; they must agree until the first
 * violation. */
static void test_inv_random_agreement(void **state)
{
    (void)state;
    for (uint64_t trial = 0; trial < 40; trial++) {
        const enum check_mode *mode = &mode_agree;
        void *st = (void *)mode;
        uint64_t seed = 0x9e3779b97f4a7c15ull ^ (trial * 0x1234567ull + 1);
        assert_int_equal(setup_booted(&st), 0);
        struct fx *f = st;
        kstep(f, H_L2 + 8 * (PG_HI >> 21), mmu_desc_table(SPARE(3)));
        for (int n = 0; n < 400 && f->m.nviol == 0; n++) {
            uint64_t r = rnd(&seed);
            unsigned i = (unsigned)((r >> 8) % 32);
            uint64_t pg = PG_HI + (uint64_t)i * MEM_PAGE_SIZE;
            uint64_t e = 0, hslot = l3_slot(SPARE(3), pg), vslot = l3_slot(V_L3, (64ull + i) << 12);
            label_t l;
            cache_read_coherent(&f->m.ms.cache, own_addr(pg), 8, &e, &l);
            uint64_t hd = 0, vd = 0;
            cache_read_coherent(&f->m.ms.cache, hslot, 8, &hd, &l);
            cache_read_coherent(&f->m.ms.cache, vslot, 8, &vd, &l);
            unsigned o = KC_OWN_OWNER(e), cnt = KC_OWN_COUNT(e);
            bool cacheable = (r >> 40) % 10 != 0;
            switch ((r >> 32) % 9) {
            case 0:            /* host maps / unmaps its page or a shared one */
                if (hd)
                    kwrite(f, hslot, 0, cacheable);
                else if (o == KC_OWNER_HOST || (o == KC_OWNER_VM(0) && cnt))
                    kwrite(f, hslot, leaf(pg), cacheable);
                step(f, 0, STEP_CPU);
                break;
            case 1:            /* donate an unmapped host page / take back an idle VM page */
                if (o == KC_OWNER_HOST && !hd)
                    kwrite(f, own_addr(pg), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 64 + i), cacheable);
                else if (o == KC_OWNER_VM(0) && !vd && !hd && !cnt)
                    kwrite(f, own_addr(pg), 0, cacheable);
                step(f, 0, STEP_CPU);
                break;
            case 2:            /* the VM maps / unmaps its page */
                if (vd)
                    kwrite(f, vslot, 0, cacheable);
                else if (o == KC_OWNER_VM(0))
                    kwrite(f, vslot, leaf(pg), cacheable);
                step(f, 0, STEP_CPU);
                break;
            case 3:            /* grant / revoke (after the host unmapped it) */
                if (o == KC_OWNER_VM(0) && !cnt)
                    kwrite(f, own_addr(pg), KC_OWN_MAKE(KC_OWNER_VM(0), 1, 64 + i), cacheable);
                else if (o == KC_OWNER_VM(0) && !hd)
                    kwrite(f, own_addr(pg), KC_OWN_MAKE(KC_OWNER_VM(0), 0, 64 + i), cacheable);
                step(f, 0, STEP_CPU);
                break;
            case 4: {          /* a TLB fill from what the tables say now */
                unsigned cpu = (unsigned)(r & 1);
                if (hd && (r & 2))
                    tfill(f, cpu, TLB_KIND_S2, KC_VMID_HOST, pg, pg, 12);
                else if (vd)
                    tfill(f, cpu, TLB_KIND_S12, KC_VMID_VM(0), 0x7000000 + ((uint64_t)i << 12), pg, 12);
                step(f, cpu, STEP_TLB_FILL);
                break;
            }
            case 5: {          /* TLB maintenance: drop every entry (KCore's TLBI + DSB) */
                struct tlbi_op op = { .type = TLBI_ALLE1, .broadcast = true };
                for (unsigned c = 0; c < NCPU; c++)
                    tlb_invalidate(&f->m.ms.tlb.cpu[c], &op);
                step(f, 0, STEP_TLBI_COMPLETE);
                break;
            }
            case 6:            /* a cache eviction */
                if (f->m.ms.cache.valid_lines)
                    cache_evict_index(&f->m.ms.cache,
                                      (unsigned)cache_nth_valid(&f->m.ms.cache,
                                                                (unsigned)(r % f->m.ms.cache.valid_lines)));
                step(f, 1, STEP_CACHE_EVICT);
                break;
            case 7:            /* KCore reads (brings lines into the cache) */
                cache_read(&f->m.ms.cache, (r & 1) ? hslot : own_addr(pg), 8, true, &hd, &l, NULL);
                step(f, 0, STEP_CPU);
                break;
            default:           /* rarely, a wild store */
                if ((r >> 50) % 16 == 0) {
                    uint64_t tgt = (r >> 20) & 1 ? hslot : ((r >> 21) & 1 ? vslot : own_addr(pg));
                    kwrite(f, tgt, (r >> 22) & 1 ? leaf(PG_HI + ((r >> 23) % 64) * MEM_PAGE_SIZE)
                                                 : KC_OWN_MAKE((r >> 24) % 5, (r >> 27) & 1, (r >> 28) % 128),
                           cacheable);
                }
                step(f, 0, STEP_CPU);
                break;
            }
        }
        void *fs = f;
        assert_int_equal(teardown(&fs), 0);
    }
}

#define T(fn, setup, mode) \
    cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)&mode)
#define T3(fn) T(fn, setup_booted, mode_full), T(fn, setup_booted, mode_inc), \
               T(fn, setup_booted, mode_agree)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T3(test_inv_wellformed_reports_nothing),
        T3(test_inv_wellformed_kcore_work_reports_nothing),
        T(test_inv_off_checks_nothing, setup_booted, mode_off),
        T3(test_inv1_s2_maps_kcore_page),
        T3(test_inv1_tlb_maps_kcore_page),
        T3(test_inv1_page_becomes_kcore_while_mapped),
        T3(test_inv1_kcore_region_whatever_the_array_says),
        T3(test_inv2_vm_maps_host_page),
        T3(test_inv2_host_maps_unowned_page),
        T3(test_inv2_maps_outside_memory),
        T3(test_inv3_tlb_vm_entry_to_host_page),
        T3(test_inv3_tlb_block_spans_foreign_pages),
        T3(test_inv3_stale_entry_after_unshare),
        T3(test_inv4_host_reads_unshared_vm_data),
        T3(test_inv4_vm_reads_other_vm_data),
        T3(test_inv4_handback_with_vm_data),
        T3(test_inv4_handback_scrubbed_is_fine),
        T3(test_inv4_handback_dirty_line_over_vm_data),
        T3(test_inv4_handback_vm_line_over_zeroed_memory),
        T3(test_inv5_writes),
        T3(test_inv6_link_nonempty_table),
        T3(test_inv6_break_before_make),
        T3(test_inv6_attribute_change_is_not_bbm),
        T3(test_inv6_table_outside_pool),
        T3(test_inv6_table_not_kcore_owned),
        T3(test_inv6_table_page_given_away),
        T3(test_inv6_table_referenced_twice),
        T3(test_inv6_root_outside_pool),
        T3(test_inv7_host_not_identity),
        T3(test_inv7_vm_page_at_wrong_gfn),
        T3(test_inv7_host_maps_unshared_vm_page),
        T3(test_inv7_unshare_while_host_maps),
        T3(test_inv7_gfn_changed_under_mapping),
        T(test_inv_check_functions_report_their_own_invariant, setup_booted, mode_inc),
        T(test_inv_preboot_checks_structure_only, setup_preboot, mode_full),
        T(test_inv_preboot_checks_structure_only, setup_preboot, mode_inc),
        T(test_inv_preboot_checks_structure_only, setup_preboot, mode_agree),
        T3(test_inv_noncacheable_write_under_line_seen_at_eviction),
        T3(test_inv_dc_zva_on_ownership_array_is_seen),
        T3(test_inv_dc_zva_unmapping_is_seen),
        T3(test_inv_dc_ivac_discarding_a_mapping_is_seen),
        T(test_inv_resync_sees_hidden_change, setup_booted, mode_full),
        T(test_inv_resync_sees_hidden_change, setup_booted, mode_inc),
        cmocka_unit_test(test_inv_random_agreement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
