/*
 * tests/unit/test_layers.c - CMocka unit tests for model/layers (the L1
 * refinement check and the L2 specification, DESIGN.md "The layers of the
 * model", docs/LAYERS.md).
 *
 * As in test_inv.c the machine is built by hand, without KCore: memory,
 * cache and TLBs from msys_init, zeroed struct cpu objects, KCore's EL2
 * stage-1 tables, the published page, the ownership array and a VM's
 * stage-2 tables written into memory. KCore's reads are performed through
 * the model's path (msys_translate with the TLB, then the cache or bypass)
 * and recorded in cpu[0].acc as cpu/ records them. machine_violation()
 * comes from model/violation.c (model/machine.c needs Unicorn). Stage-2
 * faults are taken and handled by hand as well: the EL2 syndrome registers
 * cpu_take_exception sets, then what KCore's handler leaves (the host's
 * stage 2, the ERET's ELR, the EL1 syndrome registers, the host's x0/x1
 * after a guest's exit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/layers.h"


/* ---- The hand-built machine ---------------------------------------------- */

#define NCPU 2
#define MEMB (64ull << 20)
#define POOL(i) (KC_POOL_BASE + (uint64_t)(i) * MEM_PAGE_SIZE)
/* EL2 stage 1 (TCR_EL2.T0SZ = 16: levels 0-3) */
#define S1_L0 POOL(0)
#define S1_L1 POOL(1)
#define S1_L2 POOL(2)
#define S1_L3 POOL(3)
/* VM 0 stage 2 (39-bit IPA, start level 1) */
#define V_ROOT POOL(4)
#define V_L2   POOL(5)
#define V_L3   POOL(6)
/* The host's stage 2: a level-3 table for IPA [0x2000000, 0x2200000) */
#define H_ROOT POOL(7)
#define H_L2   POOL(8)
#define H_L3   POOL(9)

#define VA_WB  0x100000ull        /* KCore data, Normal WB (AttrIndx 0) */
#define VA_NC  0x101000ull        /* KCore data, Normal NC (AttrIndx 2) */
#define PA_ALT 0x102000ull        /* where VA_WB points after a remap */

#define PG_H   0x02000000ull      /* host-owned */
#define PG_V0  0x02001000ull      /* VM 0 at gfn 0 */
#define PG_V1  0x02002000ull      /* VM 0 at gfn 1, shared once */
#define PG_H2  0x02003000ull      /* host-owned, mapped in the host's stage 2 */
#define PG_KC  0x00101000ull      /* KCore's */

#define S1_ATTR(i) (MMU_S1_ATTRINDX(i) | MMU_AF | MMU_SH_INNER | MMU_S1_AP_EL0)
#define S2_ATTRS (MMU_S2AP_R | MMU_S2AP_W | MMU_AF | MMU_S2_MEMATTR(0xf))

struct fx {
    struct machine m;
    struct cpu cpus[NCPU];
};

static void wr(struct fx *f, uint64_t pa, uint64_t v)
{
    assert_int_equal(mem_write_word(&f->m.ms.mem, pa, v, LABEL_HYP), MEM_OK);
}

static void own(struct fx *f, uint64_t pa, unsigned o, unsigned count, uint64_t gfn)
{
    wr(f, KC_OWNER_BASE + 8 * (pa >> MEM_PAGE_SHIFT), KC_OWN_MAKE(o, count, gfn));
}

static uint64_t own_get(struct fx *f, uint64_t pa)
{
    uint64_t v = 0;
    label_t l;
    assert_int_equal(cache_read_coherent(&f->m.ms.cache, KC_OWNER_BASE + 8 * (pa >> MEM_PAGE_SHIFT), 8,
                                         &v, &l), MEM_OK);
    return v;
}

static int setup(void **state)
{
    struct fx *f = test_calloc(1, sizeof *f);
    struct msys_config mc = { .ncpus = NCPU, .mem_bytes = MEMB, .cache_sets = 256,
                              .cache_ways = 8, .tlb_entries = 8 };   /* no evictions here */
    struct cpu *c;

    if (!f || msys_init(&f->m.ms, &mc) != 0)
        return -1;
    f->m.cfg.ncpus = NCPU;
    f->m.cfg.mem_mib = MEMB >> 20;
    f->m.cfg.layers = true;
    f->m.cpu = f->cpus;
    for (unsigned i = 0; i < NCPU; i++) {
        f->cpus[i].idx = i;
        f->cpus[i].ms = &f->m.ms;
        f->cpus[i].mode = CPU_KCORE;
    }
    /* EL2 stage 1: VA_WB cacheable, VA_NC non-cacheable, identity. */
    wr(f, S1_L0, mmu_desc_table(S1_L1));
    wr(f, S1_L1, mmu_desc_table(S1_L2));
    wr(f, S1_L2, mmu_desc_table(S1_L3));
    wr(f, S1_L3 + 8 * (VA_WB >> 12), mmu_desc_page(VA_WB, S1_ATTR(0)));
    wr(f, S1_L3 + 8 * (VA_NC >> 12), mmu_desc_page(VA_NC, S1_ATTR(2)));
    c = &f->cpus[0];
    c->el2.regime = MMU_REGIME_EL2;
    c->el2.s1.m = c->el2.s1.c = true;
    c->el2.s1.ttbr0 = S1_L0;
    c->el2.s1.tcr = 0x80823510ull;        /* T0SZ 16, WB walks, PS 40 bits */
    c->el2.s1.mair = 0x4400ffull;         /* Attr0 WB, Attr1 Device, Attr2 NC */
    msys_bind_ops(&f->m.ms, &c->el2);

    /* Ownership and VM 0: registered and verified, gfn 0 and 1 mapped. */
    for (uint64_t pa = 0; pa < KC_END; pa += MEM_PAGE_SIZE)
        own(f, pa, KC_OWNER_KCORE, 0, 0);
    own(f, PG_V0, KC_OWNER_VM(0), 0, 0);
    own(f, PG_V1, KC_OWNER_VM(0), 1, 1);
    wr(f, V_ROOT, mmu_desc_table(V_L2));
    wr(f, V_L2, mmu_desc_table(V_L3));
    wr(f, V_L3 + 0, mmu_desc_page(PG_V0, S2_ATTRS));
    wr(f, V_L3 + 8, mmu_desc_page(PG_V1, S2_ATTRS));
    wr(f, KC_PUB_VM_VTTBR(0), V_ROOT | ((uint64_t)KC_VMID_VM(0) << 48));
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_VERIFIED);
    /* The host's stage 2: identity, lazily filled; PG_H2 is mapped. */
    wr(f, H_ROOT, mmu_desc_table(H_L2));
    wr(f, H_L2 + 8 * (PG_H >> 21), mmu_desc_table(H_L3));
    wr(f, H_L3 + 8 * ((PG_H2 >> 12) & 511), mmu_desc_page(PG_H2, S2_ATTRS));
    wr(f, KC_PUB_HOST_VTTBR, H_ROOT | ((uint64_t)KC_VMID_HOST << 48));
    wr(f, KC_PUB_BOOTED, 1);
    for (unsigned i = 0; i < NCPU; i++) {
        f->cpus[i].sr[SR_VBAR_EL1] = KC_HOST_VBAR_EL1;
        f->cpus[i].eret_elr = KC_HOST_ENTRY;
    }
    if (layers_init(&f->m) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    layers_free(&f->m);
    msys_free(&f->m.ms);
    free(f->m.viol);
    test_free(f);
    return 0;
}

/* One KCore read of `size` bytes at va on CPU 0 through the model's path
 * (TLB, walk, cache or bypass), recorded as cpu/ records it. */
static uint64_t kread(struct fx *f, uint64_t va, unsigned size)
{
    struct cpu *c = &f->cpus[0];
    struct msys_access a = { .va = va, .size = size, .acc = MMU_ACC_READ };
    struct mmu_result r;
    struct mmu_fault flt;

    assert_int_equal(msys_translate(&f->m.ms, 0, &c->el2, va, MMU_ACC_READ, false, &r, &flt, &a.tlb_hit), 0);
    a.ipa = r.ipa;
    a.pa = r.pa;
    assert_int_equal(msys_pa_read(&f->m.ms, r.pa, size, r.attrs.cacheable, &a.val, &a.label, &a.cache), MEM_OK);
    c->acc[c->nacc++] = a;
    return a.val;
}

/* ---- L1 refinement --------------------------------------------------------- */

static void test_layers_check_refinement_agrees(void **state)
{
    struct fx *f = *state;

    wr(f, VA_WB, 0x1111);
    wr(f, VA_NC, 0x2222);
    f->cpus[0].nacc = 0;
    assert_int_equal(kread(f, VA_WB, 8), 0x1111);
    assert_int_equal(kread(f, VA_NC + 4, 4), 0);
    assert_int_equal(layers_check_refinement(&f->m, 0), 2);
    assert_int_equal(f->m.nviol, 0);
    /* MMU off: flat, every access bypasses the cache; memory is coherent. */
    f->cpus[0].el2.s1.m = false;
    f->cpus[0].nacc = 0;
    assert_int_equal(kread(f, VA_NC, 8), 0x2222);
    assert_int_equal(layers_check_refinement(&f->m, 0), 1);
    assert_int_equal(f->m.nviol, 0);
}

/* A TLB entry that outlives the descriptor it was filled from (no TLBI
 * after a remap) gives KCore a PA the flat walk does not (Arm ARM D8.13,
 * "TLB maintenance requirements"). */
static void test_layers_check_refinement_stale_tlb(void **state)
{
    struct fx *f = *state;

    wr(f, VA_WB, 0xaaaa);
    wr(f, PA_ALT, 0xbbbb);
    f->cpus[0].nacc = 0;
    kread(f, VA_WB, 8);                                   /* fills the TLB */
    assert_int_equal(cache_write(&f->m.ms.cache, S1_L3 + 8 * (VA_WB >> 12), 8, true,
                                 mmu_desc_page(PA_ALT, S1_ATTR(0)), LABEL_HYP, NULL), MEM_OK);
                                                          /* KCore remaps, no TLBI */
    f->cpus[0].nacc = 0;
    assert_int_equal(kread(f, VA_WB, 8), 0xaaaa);        /* TLB hit: the old page */
    assert_true(f->cpus[0].acc[0].tlb_hit);
    layers_check_refinement(&f->m, 0);
    assert_int_equal(f->m.nviol, 1);
    assert_int_equal(f->m.viol[0].invariant, 8);
    assert_non_null(strstr(f->m.viol[0].detail, "stale TLB entry"));
    assert_non_null(strstr(f->m.viol[0].detail, "0x102000"));
}

/* A non-cacheable read under a dirty line sees stale memory (Arm ARM B2.8,
 * mismatched memory attributes); the flat machine sees the line. */
static void test_layers_check_refinement_bypass_dirty(void **state)
{
    struct fx *f = *state;

    assert_int_equal(cache_write(&f->m.ms.cache, VA_NC, 8, true, 1, LABEL_HYP, NULL), MEM_OK);
    f->cpus[0].nacc = 0;
    assert_int_equal(kread(f, VA_NC, 8), 0);               /* bypass: memory */
    assert_int_equal(f->cpus[0].acc[0].cache, CACHE_BYPASS);
    layers_check_refinement(&f->m, 0);
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "stale memory under a dirty line read with the cache bypassed"));
}

/* An LSE atomic's read followed by its write to the same PA: the state
 * after the step holds the written value; only the translation is checked. */
static void test_layers_check_refinement_rmw(void **state)
{
    struct fx *f = *state;
    struct msys_access w;

    wr(f, VA_WB, 5);
    f->cpus[0].nacc = 0;
    kread(f, VA_WB, 8);
    assert_int_equal(cache_write(&f->m.ms.cache, VA_WB, 8, true, 6, LABEL_HYP, NULL), MEM_OK);
    w = f->cpus[0].acc[0];
    w.acc = MMU_ACC_WRITE;
    w.val = 6;
    f->cpus[0].acc[f->cpus[0].nacc++] = w;
    assert_int_equal(layers_check_refinement(&f->m, 0), 1);
    assert_int_equal(f->m.nviol, 0);
}

/* ---- L2: the abstraction ------------------------------------------------------ */

static void test_layers_l2_page_abstraction(void **state)
{
    struct fx *f = *state;
    struct l2_page p;

    assert_int_equal(layers_l2_vm_map(&f->m, 0, 1), PG_V1 >> 12);
    assert_int_equal(layers_l2_vm_map(&f->m, 0, 2), L2_PFN_NONE);
    assert_int_equal(layers_l2_vm_map(&f->m, 1, 0), L2_PFN_NONE);
    layers_l2_page(&f->m, PG_V1 >> 12, &p);
    assert_int_equal(p.owner, KC_OWNER_VM(0));
    assert_int_equal(p.count, 1);
    assert_int_equal(p.gfn, 1);
    own(f, PG_V1, KC_OWNER_VM(0), 1, 7);                  /* the array's gfn is not mapped */
    layers_l2_page(&f->m, PG_V1 >> 12, &p);
    assert_int_equal(p.gfn, L2_GFN_UNMAPPED);
    layers_l2_page(&f->m, PG_H >> 12, &p);
    assert_int_equal(p.owner, KC_OWNER_HOST);
}

/* ---- L2: the spec functions ------------------------------------------------------ */

static void base_state(struct l2_state *s)
{
    memset(s, 0, sizeof *s);
    s->mem_pages = MEMB >> 12;
    s->vm_state[0] = VM_STATE_VERIFIED;
    s->vcpus[0] = 1;
}

static struct l2_page pg(uint64_t pa, unsigned owner, unsigned count, uint64_t gfn)
{
    struct l2_page p = { .pfn = pa >> 12, .owner = owner, .count = count, .gfn = gfn };
    return p;
}

static struct l2_call host(uint64_t hc, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
    struct l2_call c = { .hc = hc, .arg = { a0, a1, a2, a3 } };
    return c;
}

static void test_l2_spec_donate(void **state)
{
    struct l2_state pre, post;
    struct l2_verdict v;
    struct l2_call c = host(HC_DONATE, 0, PG_H >> 12, 5, 0);
    (void)state;

    base_state(&pre);
    pre.page[pre.npages++] = pg(PG_H, KC_OWNER_HOST, 0, 0);
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_OK);
    assert_true(l2_result_legal(&v, HC_ENOMEM));           /* loose: table pages */
    assert_false(l2_result_legal(&v, HC_EPERM));
    assert_int_equal(post.page[0].owner, KC_OWNER_VM(0));
    assert_int_equal(post.page[0].gfn, 5);
    assert_int_equal(post.page[0].host, L2_HOST_UNMAPPED);  /* the host loses it */
    /* refusals */
    pre.gfn_mapped = true;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EINVAL);
    pre.gfn_mapped = false;
    pre.page[0] = pg(PG_H, KC_OWNER_HOST, 1, 0);             /* shared: not the host's alone */
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EPERM);
    assert_int_equal(post.page[0].owner, KC_OWNER_HOST);
    pre.vm_state[0] = VM_STATE_POWEROFF;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_ESTATE);
    c = host(HC_DONATE, 3, PG_H >> 12, 5, 0);                /* no such VM */
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EINVAL);
    c = host(HC_DONATE, 0, 0x40, 5, 0);                      /* KCore's page */
    pre.vm_state[0] = VM_STATE_VERIFIED;
    pre.page[0] = pg(0x40000, KC_OWNER_KCORE, 0, 0);
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EPERM);
}

static void test_l2_spec_grant_revoke(void **state)
{
    struct l2_state pre, post;
    struct l2_verdict v;
    struct l2_call c = { .hc = HC_GRANT, .arg = { 1 }, .guest = true, .vm = 0 };
    (void)state;

    base_state(&pre);
    pre.gfn_mapped = true;
    pre.page[pre.npages++] = pg(PG_V1, KC_OWNER_VM(0), 0, 1);
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_OK);
    assert_int_equal(post.page[0].count, 1);
    c.hc = HC_REVOKE;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EINVAL);                  /* nothing granted */
    assert_false(l2_result_legal(&v, HC_OK));
    pre.page[0].count = 2;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_OK);
    assert_int_equal(post.page[0].count, 1);
    assert_int_equal(post.page[0].host, L2_HOST_UNTRACKED); /* still shared */
    pre.page[0].count = 1;                                  /* the last grant */
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(post.page[0].count, 0);
    assert_int_equal(post.page[0].host, L2_HOST_UNMAPPED);
    pre.page[0].count = 2;
    c.vm = 1;                                               /* not VM 1's page */
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EPERM);
    pre.gfn_mapped = false;
    pre.npages = 0;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EINVAL);
    c.hc = HC_POWEROFF;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(post.vm_state[1], VM_STATE_POWEROFF);
    c = host(HC_GRANT, 1, 0, 0, 0);                         /* a guest call from the host */
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_ENOSYS);
}

static void test_l2_spec_lifecycle(void **state)
{
    struct l2_state pre, post;
    struct l2_verdict v;
    struct l2_call c = host(HC_REGISTER_VM, 0, 0, 0, 0);
    (void)state;

    base_state(&pre);
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, 1);                          /* lowest free slot */
    assert_int_equal(post.vm_state[1], VM_STATE_REGISTERED);
    for (unsigned i = 0; i < KC_MAX_VMS; i++)
        pre.vm_state[i] = VM_STATE_REGISTERED;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_ENOMEM);

    base_state(&pre);
    c = host(HC_REGISTER_VCPU, 0, 0, 0, 0);                 /* vCPU 0 exists */
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EINVAL);
    c = host(HC_REGISTER_VCPU, 0, 3, 0, 0);
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_OK);
    assert_int_equal(post.vcpus[0], 1u | 8u);
    c = host(HC_RUN_VCPU, 0, 0, 0, 0);
    l2_spec(&pre, &c, &post, &v);
    assert_true(l2_result_legal(&v, RUN_EXIT_POWEROFF));
    c = host(HC_RUN_VCPU, 0, 2, 0, 0);                      /* not registered */
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EINVAL);

    /* verify: the image hash given with the boot info decides */
    pre.vm_state[0] = VM_STATE_REGISTERED;
    pre.image_pages[0] = 1;
    pre.image_hash[0] = 42;
    pre.image_mapped = true;
    pre.image_now_hash = 42;
    c = host(HC_VERIFY_VM, 0, 0, 0, 0);
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_OK);
    assert_int_equal(post.vm_state[0], VM_STATE_VERIFIED);
    pre.image_now_hash = 43;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_EHASH);
    assert_int_equal(post.vm_state[0], VM_STATE_POWEROFF);

    /* teardown: every page the VM owns goes back to the host */
    base_state(&pre);
    pre.page[pre.npages++] = pg(PG_V0, KC_OWNER_VM(0), 0, 0);
    pre.page[pre.npages++] = pg(PG_V1, KC_OWNER_VM(0), 1, 1);
    c = host(HC_TEARDOWN, 0, 0, 0, 0);
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_ESTATE);                 /* not powered off */
    pre.vm_state[0] = VM_STATE_POWEROFF;
    l2_spec(&pre, &c, &post, &v);
    assert_int_equal(v.expect, HC_OK);
    assert_int_equal(post.vm_state[0], VM_STATE_FREE);
    assert_int_equal(post.page[1].owner, KC_OWNER_HOST);
    assert_int_equal(post.page[1].count, 0);
    assert_int_equal(post.vcpus[0], 0);
}

/* ---- L2: the check at a hypercall's return ----------------------------------------- */

static void test_layers_hvc_grant_checked(void **state)
{
    struct fx *f = *state;
    const uint64_t a[4] = { 1, 0, 0, 0 };

    f->cpus[1].guest_vm = 0;
    layers_on_hvc_issue(&f->m, 1, true, HC_GRANT, a);
    own(f, PG_V1, KC_OWNER_VM(0), 2, 1);                   /* KCore counts the grant */
    layers_on_hvc_return(&f->m, 1, true, HC_OK, false);
    assert_int_equal(f->m.st.spec_checks, 1);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(KC_OWN_COUNT(own_get(f, PG_V1)), 2);
}

/* A grant that says yes and counts nothing (cf. KC_MUTANT_GRANT_NOOP). */
static void test_layers_hvc_grant_noop_caught(void **state)
{
    struct fx *f = *state;
    const uint64_t a[4] = { 1, 0, 0, 0 };

    layers_on_hvc_issue(&f->m, 1, true, HC_GRANT, a);
    layers_on_hvc_return(&f->m, 1, true, HC_OK, false);
    assert_int_equal(f->m.nviol, 1);
    assert_int_equal(f->m.viol[0].invariant, 8);
    assert_non_null(strstr(f->m.viol[0].detail, "L2 spec"));
    assert_non_null(strstr(f->m.viol[0].detail, "count 1"));
}

/* A wrong result with nothing changed (cf. KC_MUTANT_REVOKE_ZERO_OK). */
static void test_layers_hvc_wrong_result_caught(void **state)
{
    struct fx *f = *state;
    const uint64_t a[4] = { 0, 0, 0, 0 };

    layers_on_hvc_issue(&f->m, 1, true, HC_REVOKE, a);      /* gfn 0: count 0 */
    layers_on_hvc_return(&f->m, 1, true, HC_OK, false);
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "the spec says -1"));
}

/* Two overlapping calls on the same page: either order is legal, so the
 * check is skipped for both, not failed. */
static void test_layers_hvc_concurrent_skipped(void **state)
{
    struct fx *f = *state;
    const uint64_t g[4] = { 1, 0, 0, 0 };
    const uint64_t t[4] = { 0, 0, 0, 0 };

    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_issue(&f->m, 1, true, HC_GRANT, g);
    layers_on_hvc_issue(&f->m, 0, false, HC_TEARDOWN, t);   /* writes the granted page */
    own(f, PG_V1, KC_OWNER_HOST, 0, 0);
    own(f, PG_V0, KC_OWNER_HOST, 0, 0);
    layers_on_hvc_return(&f->m, 1, true, HC_EPERM, false);
    layers_on_hvc_return(&f->m, 0, false, HC_ESTATE, false);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.spec_checks, 0);
    assert_int_equal(layers_spec_skipped(&f->m), 2);
}

static void test_layers_hvc_teardown_checked(void **state)
{
    struct fx *f = *state;
    const uint64_t t[4] = { 0, 0, 0, 0 };

    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_issue(&f->m, 0, false, HC_TEARDOWN, t);
    own(f, PG_V0, KC_OWNER_HOST, 0, 0);                    /* PG_V1 forgotten */
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_FREE);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "page 0x2002000"));
}

/* DONATE of PG_H2 (host-mapped) to VM 0 at gfn 5: KCore's work, with or
 * without removing the host's mapping. */
static void donate_h2(struct fx *f, bool unmap)
{
    const uint64_t a[4] = { 0, PG_H2 >> 12, 5, 0 };

    layers_on_hvc_issue(&f->m, 0, false, HC_DONATE, a);
    if (unmap)
        wr(f, H_L3 + 8 * ((PG_H2 >> 12) & 511), 0);
    wr(f, V_L3 + 8 * 5, mmu_desc_page(PG_H2, S2_ATTRS));
    own(f, PG_H2, KC_OWNER_VM(0), 0, 5);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);
}

static void test_layers_hvc_donate_checked(void **state)
{
    struct fx *f = *state;

    donate_h2(f, true);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.spec_checks, 1);
}

/* The owner changes but the host keeps its mapping. */
static void test_layers_hvc_donate_host_keeps_map_caught(void **state)
{
    struct fx *f = *state;

    donate_h2(f, false);
    assert_int_equal(f->m.nviol, 1);
    assert_int_equal(f->m.viol[0].invariant, 8);
    assert_non_null(strstr(f->m.viol[0].detail, "gfn 0x5, host: mapped, the spec says"));
    assert_non_null(strstr(f->m.viol[0].detail, "host: unmapped"));
}

/* ---- L2: the stage-2 fault handlers ------------------------------------------------ */

/* ESR_EL2 of an abort from EL1 (Arm ARM D17.2.37): EC, IL, DFSC/IFSC. */
#define ESR_ABT(ec, fsc) ((uint64_t)(ec) << 26 | 1ull << 25 | (fsc))
#define ESR_DABT_TRANS(l) ESR_ABT(0x24, 0x04 | (l))    /* translation fault, level l */
#define ESR_DABT_AF(l)    ESR_ABT(0x24, 0x08 | (l))    /* access flag fault */
#define ESR_DABT_PERM(l)  ESR_ABT(0x24, 0x0c | (l))    /* permission fault */
#define ESR_IABT_TRANS(l) ESR_ABT(0x20, 0x04 | (l))
#define PSTATE_EL1H 0x3c5ull
#define GUEST_ELR 0x40ull

static struct l2_fault host_fault(uint64_t ipa, uint64_t esr)
{
    struct l2_fault f = { .esr = esr, .far = ipa, .ipa = ipa & ~0xfffull, .elr = KC_HOST_ENTRY,
                          .spsr = PSTATE_EL1H, .vm = KC_MAX_VMS };
    return f;
}

/* The host's handler decides by owner, count, KCore's region, memory and
 * fault kind (hyp/kcore/hypercall.c host_s2_fault). */
static void test_l2_spec_fault_host(void **state)
{
    struct l2_state pre, post;
    struct l2_fault_verdict v;
    struct l2_fault f = host_fault(PG_H + 0x18, ESR_DABT_TRANS(3));
    static const struct { uint64_t pa; unsigned owner, count; uint64_t esr; bool map; } cases[] = {
        { PG_H, KC_OWNER_HOST, 0, ESR_DABT_TRANS(3), true },      /* the host's own page */
        { PG_H, KC_OWNER_HOST, 0, ESR_DABT_TRANS(1), true },      /* translation fault at level 1 */
        { PG_H, KC_OWNER_HOST, 0, ESR_IABT_TRANS(2), true },      /* instruction abort */
        { PG_KC, KC_OWNER_HOST, 0, ESR_DABT_TRANS(3), false },    /* host-owned inside [0, KC_END) */
        { KC_END - 0x1000, KC_OWNER_HOST, 0, ESR_DABT_TRANS(3), false },
        { KC_END, KC_OWNER_HOST, 0, ESR_DABT_TRANS(3), true },    /* the first page past it */
        { PG_KC, KC_OWNER_KCORE, 0, ESR_DABT_TRANS(3), false },   /* KCore's page */
        { PG_V0, KC_OWNER_VM(0), 0, ESR_DABT_TRANS(3), false },   /* a VM's page, not shared */
        { PG_V1, KC_OWNER_VM(0), 1, ESR_DABT_TRANS(3), true },    /* shared once */
        { PG_V1, KC_OWNER_VM(3), 2, ESR_DABT_TRANS(3), true },    /* shared twice */
        { PG_H, KC_OWNER_NONE, 0, ESR_DABT_TRANS(3), false },     /* nobody's */
        { MEMB, KC_OWNER_HOST, 0, ESR_DABT_TRANS(3), false },     /* outside memory */
        { PG_H, KC_OWNER_HOST, 0, ESR_DABT_PERM(3), false },      /* permission fault */
        { PG_H, KC_OWNER_HOST, 0, ESR_DABT_AF(3), false },        /* access flag fault */
        { PG_V1, KC_OWNER_VM(0), 1, ESR_DABT_PERM(3), false },
        { PG_H, KC_OWNER_HOST, 0, ESR_ABT(0x16, 0x04), false },   /* not an abort (EC HVC64) */
    };
    (void)state;

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        base_state(&pre);
        pre.page[pre.npages] = pg(cases[i].pa, cases[i].owner, cases[i].count, 1);
        pre.page[pre.npages++].host = L2_HOST_UNMAPPED;
        f = host_fault(cases[i].pa + 0x18, cases[i].esr);
        l2_spec_fault(&pre, &f, &post, &v);
        print_message("case %u: PA %#llx, owner %u, count %u\n", i, (unsigned long long)cases[i].pa,
                      cases[i].owner, cases[i].count);
        /* owners, counts, gfns, VM states never change */
        assert_int_equal(post.page[0].owner, cases[i].owner);
        assert_int_equal(post.page[0].count, cases[i].count);
        assert_int_equal(post.page[0].gfn, 1);
        assert_memory_equal(post.vm_state, pre.vm_state, sizeof(pre.vm_state));
        assert_false(l2_fault_legal(&v, L2_FAULT_EXIT_S2FAULT));
        assert_false(l2_fault_legal(&v, L2_FAULT_OTHER));
        if (cases[i].map) {
            assert_int_equal(v.expect, L2_FAULT_MAPPED);
            assert_int_equal(post.page[0].host, L2_HOST_IDENTITY);
            assert_true(l2_fault_legal(&v, L2_FAULT_REFUSED));    /* loose: no table page */
        } else {
            assert_int_equal(v.expect, L2_FAULT_REFUSED);
            assert_int_equal(post.page[0].host, L2_HOST_UNMAPPED); /* unchanged */
            assert_false(l2_fault_legal(&v, L2_FAULT_MAPPED));
        }
    }
    /* No page in the footprint (an IPA past the host's IPA space): refused. */
    base_state(&pre);
    f = host_fault(PG_H, ESR_DABT_TRANS(3));
    l2_spec_fault(&pre, &f, &post, &v);
    assert_int_equal(v.expect, L2_FAULT_REFUSED);
}

/* A guest's fault exits to the host, or stops a powered-off VM. */
static void test_l2_spec_fault_guest(void **state)
{
    struct l2_state pre, post;
    struct l2_fault_verdict v;
    struct l2_fault f = { .guest = true, .vm = 0, .esr = ESR_DABT_TRANS(3), .far = 0x5018,
                          .ipa = 0x5000, .elr = GUEST_ELR, .spsr = PSTATE_EL1H };
    (void)state;

    base_state(&pre);
    l2_spec_fault(&pre, &f, &post, &v);
    assert_int_equal(v.expect, L2_FAULT_EXIT_S2FAULT);
    assert_int_equal(v.info, 0x5000);
    assert_false(l2_fault_legal(&v, L2_FAULT_EXIT_POWEROFF));
    assert_false(l2_fault_legal(&v, L2_FAULT_MAPPED));
    assert_false(l2_fault_legal(&v, L2_FAULT_REFUSED));
    assert_memory_equal(post.vm_state, pre.vm_state, sizeof(pre.vm_state));   /* nothing changes */
    assert_int_equal(post.gfn_mapped, pre.gfn_mapped);
    assert_int_equal(post.npages, 0);
    f.esr = ESR_DABT_PERM(3);                                /* any fault kind */
    l2_spec_fault(&pre, &f, &post, &v);
    assert_int_equal(v.expect, L2_FAULT_EXIT_S2FAULT);
    pre.vm_state[0] = VM_STATE_POWEROFF;                     /* powered off by another vCPU */
    l2_spec_fault(&pre, &f, &post, &v);
    assert_int_equal(v.expect, L2_FAULT_EXIT_POWEROFF);
    assert_false(l2_fault_legal(&v, L2_FAULT_EXIT_S2FAULT));
    assert_int_equal(post.vm_state[0], VM_STATE_POWEROFF);
    f.vm = 1;                                                /* VM 1 is not powered off */
    l2_spec_fault(&pre, &f, &post, &v);
    assert_int_equal(v.expect, L2_FAULT_EXIT_S2FAULT);
}

/* The principal on cpu takes a stage-2 fault at ipa: the EL2 syndrome
 * cpu_take_exception() sets, then the layers hook. */
static void take_fault(struct fx *f, unsigned cpu, bool guest, uint64_t ipa, uint64_t esr)
{
    struct cpu *c = &f->cpus[cpu];

    c->sr[SR_ESR_EL2] = esr;
    c->sr[SR_FAR_EL2] = ipa;
    c->sr[SR_HPFAR_EL2] = ipa >> 12 << 4;
    c->sr[SR_ELR_EL2] = c->eret_elr;
    c->sr[SR_SPSR_EL2] = PSTATE_EL1H;
    c->mode = CPU_KCORE;
    layers_on_s2_fault(&f->m, cpu, guest);
}

static void host_map(struct fx *f, uint64_t pa)
{
    wr(f, H_L3 + 8 * ((pa >> 12) & 511), mmu_desc_page(pa, S2_ATTRS));
}

/* KCore ERETs to the host at the faulting PC (it retries). */
static void host_retry(struct fx *f, unsigned cpu)
{
    struct cpu *c = &f->cpus[cpu];
    c->mode = CPU_HOST;
    c->eret_elr = c->sr[SR_ELR_EL2];
    layers_on_s2_fault_return(&f->m, cpu, false, 0, 0);
}

/* KCore injects the fault at the host's EL1 vector (D1.10). */
static void host_inject(struct fx *f, unsigned cpu)
{
    struct cpu *c = &f->cpus[cpu];
    c->sr[SR_ESR_EL1] = c->sr[SR_ESR_EL2];
    c->sr[SR_FAR_EL1] = c->sr[SR_FAR_EL2];
    c->sr[SR_ELR_EL1] = c->sr[SR_ELR_EL2];
    c->sr[SR_SPSR_EL1] = c->sr[SR_SPSR_EL2];
    c->mode = CPU_HOST;
    c->eret_elr = c->sr[SR_VBAR_EL1] + 0x200;
    layers_on_s2_fault_return(&f->m, cpu, false, 0, 0);
    c->eret_elr = KC_HOST_ENTRY;                 /* its EL1 handler is done (model/actor.c) */
}

static void test_layers_host_fault_mapped_checked(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_H + 0x10, ESR_DABT_TRANS(3));
    host_map(f, PG_H);
    host_retry(f, 0);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 1);
    assert_int_equal(layers_l2_host_map(&f->m, PG_H >> 12), L2_HOST_IDENTITY);
    /* A shared VM page, mapped by another CPU's fault first (EEXIST). */
    take_fault(f, 1, false, PG_V1, ESR_DABT_TRANS(3));
    host_map(f, PG_V1);
    host_retry(f, 1);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 2);
}

/* The host retries but its stage 2 still does not map the page. */
static void test_layers_host_fault_not_mapped_caught(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_H + 0x10, ESR_DABT_TRANS(3));
    host_retry(f, 0);
    assert_int_equal(f->m.nviol, 1);
    assert_int_equal(f->m.viol[0].invariant, 8);
    assert_non_null(strstr(f->m.viol[0].detail, "L2 spec: host stage-2 fault at IPA 0x2000000"));
    assert_non_null(strstr(f->m.viol[0].detail, "host: unmapped; the spec says owner host, count 0, host: mapped"));
}

/* Mapped somewhere else: not the identity (the host's IPA is the PA). */
static void test_layers_host_fault_not_identity_caught(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_H, ESR_DABT_TRANS(3));
    wr(f, H_L3 + 8 * ((PG_H >> 12) & 511), mmu_desc_page(PG_H2, S2_ATTRS));
    host_retry(f, 0);
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "host: mapped otherwise"));
}

static void test_layers_host_fault_refused_checked(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_V0 + 0x20, ESR_DABT_TRANS(3));   /* VM 0's, not shared */
    host_inject(f, 0);
    take_fault(f, 1, false, PG_KC, ESR_DABT_TRANS(2));          /* KCore's */
    host_inject(f, 1);
    take_fault(f, 0, false, PG_H, ESR_DABT_PERM(3));            /* a permission fault */
    host_inject(f, 0);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 3);
}

/* Refused, but the mapping was made anyway. */
static void test_layers_host_fault_refused_but_mapped_caught(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_V0 + 0x20, ESR_DABT_TRANS(3));
    host_map(f, PG_V0);
    host_inject(f, 0);
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "refused"));
    assert_non_null(strstr(f->m.viol[0].detail, "host: mapped; the spec says owner VM 0, count 0, gfn 0, host: unmapped"));
}

/* The host retries on a page it may not map (cf. KC_MUTANT_HOST_FAULT_NO_CHECK). */
static void test_layers_host_fault_wrong_outcome_caught(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_V0, ESR_DABT_TRANS(3));
    host_map(f, PG_V0);
    host_retry(f, 0);
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "mapped (the host retries); the spec says refused"));
}

/* The injected exception must carry the fault's syndrome. */
static void test_layers_host_fault_inject_syndrome_caught(void **state)
{
    struct fx *f = *state;
    static const enum sysreg regs[] = { SR_ESR_EL1, SR_FAR_EL1, SR_ELR_EL1, SR_SPSR_EL1 };
    static const char *names[] = { "ESR_EL1", "FAR_EL1", "ELR_EL1", "SPSR_EL1" };

    for (unsigned i = 0; i < 4; i++) {
        struct cpu *c = &f->cpus[0];
        take_fault(f, 0, false, PG_KC + 8, ESR_DABT_TRANS(3));
        c->sr[SR_ESR_EL1] = c->sr[SR_ESR_EL2];
        c->sr[SR_FAR_EL1] = c->sr[SR_FAR_EL2];
        c->sr[SR_ELR_EL1] = c->sr[SR_ELR_EL2];
        c->sr[SR_SPSR_EL1] = c->sr[SR_SPSR_EL2];
        c->sr[regs[i]] ^= 0x4;
        c->mode = CPU_HOST;
        c->eret_elr = KC_HOST_VBAR_EL1 + 0x200;
        layers_on_s2_fault_return(&f->m, 0, false, 0, 0);
        assert_int_equal(f->m.nviol, i + 1);
        assert_non_null(strstr(f->m.viol[i].detail, names[i]));
        c->eret_elr = KC_HOST_ENTRY;
    }
    /* Neither the faulting PC nor the vector. */
    take_fault(f, 0, false, PG_KC + 8, ESR_DABT_TRANS(3));
    f->cpus[0].mode = CPU_HOST;
    f->cpus[0].eret_elr = KC_HOST_VBAR_EL1 + 0x400;
    layers_on_s2_fault_return(&f->m, 0, false, 0, 0);
    assert_int_equal(f->m.nviol, 5);
    assert_non_null(strstr(f->m.viol[4].detail, "KCore ERETs to 0x90000400"));
}

/* Out of table memory: refusing a mapping it may make is legal, with
 * nothing changed - or mapped by another CPU's fault meanwhile. */
static void test_layers_host_fault_refused_loose(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_H, ESR_DABT_TRANS(3));
    host_inject(f, 0);
    take_fault(f, 0, false, PG_H, ESR_DABT_TRANS(3));
    take_fault(f, 1, false, PG_H, ESR_DABT_TRANS(3));
    host_map(f, PG_H);                                          /* CPU 1's handler */
    host_inject(f, 0);                                          /* CPU 0's: no table page */
    host_retry(f, 1);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 3);
    assert_int_equal(layers_fault_skipped(&f->m), 0);          /* faults do not conflict */
}

/* A revoke of the page while the host's fault on it is handled: either
 * order is legal, the fault is not checked. */
/* Found by a campaign on the correct KCore: a DONATE maps PG_H2 at gfn 2
 * while VM 0's GRANT of gfn 2 is in flight; the GRANT (tainted: it read a
 * gfn being mapped) then counts the page, and a host fault taken meanwhile
 * on PG_H2 is mapped. The GRANT's footprint, captured before gfn 2 was
 * mapped, did not list PG_H2; it inherits the DONATE's page when the
 * DONATE taints it, so the fault is skipped, not failed. */
static void test_layers_tainted_call_inherits_pages(void **state)
{
    struct fx *f = *state;
    const uint64_t d[4] = { 0, PG_H2 >> 12, 2, 0 };
    const uint64_t g[4] = { 2, 0, 0, 0 };

    layers_on_hvc_issue(&f->m, 0, false, HC_DONATE, d);
    f->cpus[1].mode = CPU_GUEST;
    layers_on_hvc_issue(&f->m, 1, true, HC_GRANT, g);         /* gfn 2 not mapped yet */
    wr(f, H_L3 + 8 * ((PG_H2 >> 12) & 511), 0);
    wr(f, V_L3 + 8 * 2, mmu_desc_page(PG_H2, S2_ATTRS));
    own(f, PG_H2, KC_OWNER_VM(0), 0, 2);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);
    take_fault(f, 0, false, PG_H2, ESR_DABT_TRANS(3));        /* refused, by the pre-state */
    own(f, PG_H2, KC_OWNER_VM(0), 1, 2);                      /* the grant counts it */
    layers_on_hvc_return(&f->m, 1, true, HC_OK, false);
    host_map(f, PG_H2);
    host_retry(f, 0);
    assert_int_equal(f->m.nviol, 0);
    /* The donate too: the grant could count PG_H2 before the donate's
     * return, which then sees count 1 where its spec says 0. */
    assert_int_equal(f->m.st.spec_checks, 0);
    assert_int_equal(layers_spec_skipped(&f->m), 2);
    assert_int_equal(f->m.st.fault_checks, 0);
    assert_int_equal(layers_fault_skipped(&f->m), 1);
}

/* KCore publishes VM slot vm FREE on cpu (hc_teardown): as cpu/ records
 * the store, and the hook the machine calls after a KCore step. */
static void kpub_free(struct fx *f, unsigned cpu, unsigned vm)
{
    struct cpu *c = &f->cpus[cpu];

    wr(f, KC_PUB_VM_STATE(vm), VM_STATE_FREE);
    memset(&c->acc[0], 0, sizeof c->acc[0]);
    c->acc[0].va = c->acc[0].ipa = c->acc[0].pa = KC_PUB_VM_STATE(vm);
    c->acc[0].size = 8;
    c->acc[0].acc = MMU_ACC_WRITE;
    c->acc[0].val = VM_STATE_FREE;
    c->nacc = 1;
    layers_after_kcore_step(&f->m, cpu);
    c->nacc = 0;
}

/* Found in review: a TEARDOWN that returns late, after its slot was
 * registered again, reset the new VM's ghost state (vCPUs, boot info) and
 * the next VERIFY_VM was judged against an empty image. The ghost state
 * belongs to an incarnation, ended when KCore publishes the slot FREE. */
static void test_layers_late_teardown_keeps_new_vm_ghost(void **state)
{
    struct fx *f = *state;
    const uint64_t t[4] = { 0, 0, 0, 0 }, z[4] = { 0, 0, 0, 0 };
    const uint64_t sb[4] = { 0, PG_H >> 12, 1, 0x1234 };

    f->cpus[0].mode = f->cpus[1].mode = CPU_HOST;
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_issue(&f->m, 0, false, HC_TEARDOWN, t);
    own(f, PG_V0, KC_OWNER_HOST, 0, 0);
    own(f, PG_V1, KC_OWNER_HOST, 0, 0);
    wr(f, KC_PUB_VM_VTTBR(0), 0);
    kpub_free(f, 0, 0);
    layers_on_hvc_issue(&f->m, 1, false, HC_REGISTER_VM, z);
    wr(f, KC_PUB_VM_VTTBR(0), V_ROOT | ((uint64_t)KC_VMID_VM(0) << 48));
    wr(f, V_L3 + 0, 0);
    wr(f, V_L3 + 8, 0);
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_REGISTERED);
    layers_on_hvc_return(&f->m, 1, false, 0, false);
    layers_on_hvc_issue(&f->m, 1, false, HC_REGISTER_VCPU, z);
    layers_on_hvc_return(&f->m, 1, false, HC_OK, false);
    layers_on_hvc_issue(&f->m, 1, false, HC_SET_BOOT_INFO, sb);
    own(f, PG_H, KC_OWNER_VM(0), 0, 0);
    wr(f, V_L3 + 0, mmu_desc_page(PG_H, S2_ATTRS));
    layers_on_hvc_return(&f->m, 1, false, HC_OK, false);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);       /* the teardown, at last */
    /* Nothing else in flight. The hash given (0x1234) is not the image's:
     * KCore refuses it and powers the VM off, as the spec says - which it
     * can only say if it still knows the boot info (else: HC_ESTATE). */
    layers_on_hvc_issue(&f->m, 1, false, HC_VERIFY_VM, z);
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_return(&f->m, 1, false, HC_EHASH, false);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.spec_checks, 1);
}

/* Found by a PCT campaign (seed 5151): a SET_BOOT_INFO issued while VM 0
 * was powered off runs after the slot is torn down and registered again,
 * and succeeds - for the new VM. Its ghost effect cannot be placed (old or
 * new incarnation), so VM 0's ghost state is unknown until the next FREE:
 * the VERIFY_VM that follows is not checked (it was failed before). */
static void test_layers_call_spanning_incarnations_unsure(void **state)
{
    struct fx *f = *state;
    const uint64_t t[4] = { 0, 0, 0, 0 }, z[4] = { 0, 0, 0, 0 };
    const uint64_t sb[4] = { 0, PG_H >> 12, 1, 0x1234 };

    f->cpus[0].mode = f->cpus[1].mode = CPU_HOST;
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_issue(&f->m, 1, false, HC_SET_BOOT_INFO, sb);   /* old VM 0: bound to fail? */
    layers_on_hvc_issue(&f->m, 0, false, HC_TEARDOWN, t);
    own(f, PG_V0, KC_OWNER_HOST, 0, 0);
    own(f, PG_V1, KC_OWNER_HOST, 0, 0);
    wr(f, V_L3 + 0, 0);
    wr(f, V_L3 + 8, 0);
    kpub_free(f, 0, 0);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);
    layers_on_hvc_issue(&f->m, 0, false, HC_REGISTER_VM, z);
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_REGISTERED);
    layers_on_hvc_return(&f->m, 0, false, 0, false);
    own(f, PG_H, KC_OWNER_VM(0), 0, 0);                          /* ... it runs now */
    wr(f, V_L3 + 0, mmu_desc_page(PG_H, S2_ATTRS));
    layers_on_hvc_return(&f->m, 1, false, HC_OK, false);
    layers_on_hvc_issue(&f->m, 1, false, HC_VERIFY_VM, z);
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_return(&f->m, 1, false, HC_EHASH, false);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.spec_checks, 0);
    /* A new incarnation knows its ghost state again. */
    layers_on_hvc_issue(&f->m, 0, false, HC_TEARDOWN, t);
    own(f, PG_H, KC_OWNER_HOST, 0, 0);
    wr(f, V_L3 + 0, 0);
    kpub_free(f, 0, 0);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);
    layers_on_hvc_issue(&f->m, 1, false, HC_VERIFY_VM, z);
    layers_on_hvc_return(&f->m, 1, false, HC_OK, false);         /* a FREE VM: wrong */
    assert_int_equal(f->m.nviol, 1);
}

/* A REGISTER_VM issued before a TEARDOWN frees slot 0 may take slot 0:
 * the TEARDOWN's check (state FREE) must then be skipped, not failed, and
 * the REGISTER_VM's too. (Found in review: only an unrelated back-taint
 * through inherited pages hid it.) */
static void test_layers_register_vm_takes_slot_freed_meanwhile(void **state)
{
    struct fx *f = *state;
    const uint64_t t[4] = { 0, 0, 0, 0 }, z[4] = { 0, 0, 0, 0 };

    f->cpus[0].mode = f->cpus[1].mode = CPU_HOST;
    for (unsigned v = 1; v < KC_MAX_VMS; v++)
        wr(f, KC_PUB_VM_STATE(v), VM_STATE_REGISTERED);     /* no free slot but 0, soon */
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_issue(&f->m, 0, false, HC_TEARDOWN, t);
    layers_on_hvc_issue(&f->m, 1, false, HC_REGISTER_VM, z);
    own(f, PG_V0, KC_OWNER_HOST, 0, 0);
    own(f, PG_V1, KC_OWNER_HOST, 0, 0);
    wr(f, V_L3 + 0, 0);
    wr(f, V_L3 + 8, 0);
    kpub_free(f, 0, 0);
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_REGISTERED);          /* taken by the REGISTER_VM */
    layers_on_hvc_return(&f->m, 1, false, 0, false);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.spec_checks, 0);
    assert_int_equal(layers_spec_skipped(&f->m), 2);
}

/* Found in review: a REGISTER_VCPU of the new VM completing before its
 * REGISTER_VM returns was forgotten by REGISTER_VM's return, and the
 * host's second REGISTER_VCPU (refused: already registered) was failed. */
static void test_layers_register_vm_return_keeps_vcpu(void **state)
{
    struct fx *f = *state;
    const uint64_t z[4] = { 0, 0, 0, 0 }, rv[4] = { 1, 0, 0, 0 };

    f->cpus[0].mode = f->cpus[1].mode = CPU_HOST;
    layers_on_hvc_issue(&f->m, 0, false, HC_REGISTER_VM, z);
    wr(f, KC_PUB_VM_VTTBR(1), POOL(20) | ((uint64_t)KC_VMID_VM(1) << 48));
    wr(f, KC_PUB_VM_STATE(1), VM_STATE_REGISTERED);
    layers_on_hvc_issue(&f->m, 1, false, HC_REGISTER_VCPU, rv);
    layers_on_hvc_return(&f->m, 1, false, HC_OK, false);
    layers_on_hvc_return(&f->m, 0, false, 1, false);              /* VM 1 */
    layers_on_hvc_issue(&f->m, 0, false, HC_REGISTER_VCPU, rv);
    layers_on_hvc_return(&f->m, 0, false, HC_EINVAL, false);      /* already registered */
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.spec_checks, 1);                     /* the second one */
}

/* Refusing a mapping the spec allows is legal (out of table memory, which
 * the checker cannot see) but counted: a KCore that never maps shows. */
static void test_layers_host_fault_refusal_of_allowed_counted(void **state)
{
    struct fx *f = *state;

    take_fault(f, 0, false, PG_V1, ESR_DABT_TRANS(3));       /* shared */
    host_inject(f, 0);
    take_fault(f, 0, false, PG_H, ESR_DABT_TRANS(3));        /* the host's */
    host_inject(f, 0);
    take_fault(f, 0, false, PG_V0, ESR_DABT_TRANS(3));       /* not shared: must refuse */
    host_inject(f, 0);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 3);
    assert_int_equal(layers_fault_refused_allowed(&f->m), 2);
}

static void test_layers_host_fault_concurrent_skipped(void **state)
{
    struct fx *f = *state;
    const uint64_t a[4] = { 1, 0, 0, 0 };

    take_fault(f, 0, false, PG_V1, ESR_DABT_TRANS(3));        /* shared: may be mapped */
    f->cpus[1].mode = CPU_GUEST;
    layers_on_hvc_issue(&f->m, 1, true, HC_REVOKE, a);
    own(f, PG_V1, KC_OWNER_VM(0), 0, 1);
    layers_on_hvc_return(&f->m, 1, true, HC_OK, false);
    host_inject(f, 0);                                          /* refused after the revoke */
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.spec_checks, 1);
    assert_int_equal(f->m.st.fault_checks, 0);
    assert_int_equal(layers_fault_skipped(&f->m), 1);
    /* The other way round: a grant in flight when the fault is taken. */
    own(f, PG_V0, KC_OWNER_VM(0), 0, 0);
    layers_on_hvc_issue(&f->m, 1, true, HC_GRANT, (const uint64_t[4]){ 0, 0, 0, 0 });
    take_fault(f, 0, false, PG_V0, ESR_DABT_TRANS(3));        /* not shared yet */
    own(f, PG_V0, KC_OWNER_VM(0), 1, 0);
    layers_on_hvc_return(&f->m, 1, true, HC_OK, false);
    host_map(f, PG_V0);
    host_retry(f, 0);                                           /* mapped after the grant */
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 0);
    assert_int_equal(layers_fault_skipped(&f->m), 2);
    /* An outcome no serialisation allows is reported all the same. */
    take_fault(f, 0, false, PG_V0, ESR_DABT_TRANS(3));
    layers_on_hvc_issue(&f->m, 1, true, HC_REVOKE, (const uint64_t[4]){ 0, 0, 0, 0 });
    f->cpus[0].mode = CPU_HOST;
    f->cpus[0].eret_elr = 0x1234;
    layers_on_s2_fault_return(&f->m, 0, false, 0, 0);
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "KCore ERETs to 0x1234"));
}

/* The host registers VM 0's vCPU 0 (the spec's ghost state learns it). */
static void register_vcpu0(struct fx *f)
{
    const uint64_t a[4] = { 0, 0, 0, 0 };

    layers_on_hvc_issue(&f->m, 0, false, HC_REGISTER_VCPU, a);
    layers_on_hvc_return(&f->m, 0, false, HC_OK, false);
}

/* The host runs VM 0's vCPU 0 on cpu; the guest is at EL1. */
static void run_vcpu(struct fx *f, unsigned cpu, uint64_t elr)
{
    const uint64_t a[4] = { 0, 0, 0, 0 };
    struct cpu *c = &f->cpus[cpu];

    c->mode = CPU_HOST;
    c->eret_elr = KC_HOST_ENTRY;
    layers_on_hvc_issue(&f->m, cpu, false, HC_RUN_VCPU, a);
    c->mode = CPU_GUEST;
    c->guest_vm = 0;
    c->eret_elr = elr;
    layers_on_vcpu_entry(&f->m, cpu);
}

/* Another vCPU of VM 0, on cpu, powers it off (HC_POWEROFF, then its exit). */
static void poweroff_vm0(struct fx *f, unsigned cpu)
{
    const uint64_t a[4] = { 0, 0, 0, 0 };

    f->cpus[cpu].mode = CPU_GUEST;
    f->cpus[cpu].guest_vm = 0;
    layers_on_hvc_issue(&f->m, cpu, true, HC_POWEROFF, a);
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_POWEROFF);
    layers_on_hvc_return(&f->m, cpu, true, 0, true);
}

/* The vCPU exits to the host: HC_RUN_VCPU returns x0, x1. */
static void guest_exit(struct fx *f, unsigned cpu, uint64_t x0, uint64_t x1)
{
    struct cpu *c = &f->cpus[cpu];

    c->mode = CPU_HOST;
    c->eret_elr = KC_HOST_ENTRY;
    layers_on_s2_fault_return(&f->m, cpu, true, x0, x1);
    layers_on_hvc_return(&f->m, cpu, false, (int64_t)x0, false);
}

/* Found in review: a powered-off VM's fault on an IPA past the IPA space
 * must exit POWEROFF (the state was not captured for such IPAs). */
static void test_layers_guest_fault_high_ipa_poweroff(void **state)
{
    struct fx *f = *state;

    register_vcpu0(f);
    poweroff_vm0(f, 1);
    f->cpus[0].mode = CPU_GUEST;
    f->cpus[0].guest_vm = 0;
    take_fault(f, 0, true, 1ull << 40, ESR_DABT_TRANS(0));
    f->cpus[0].mode = CPU_HOST;
    f->cpus[0].eret_elr = KC_HOST_ENTRY;
    layers_on_s2_fault_return(&f->m, 0, true, RUN_EXIT_POWEROFF, 0);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 1);
}

static void test_layers_guest_fault_exit_checked(void **state)
{
    struct fx *f = *state;

    register_vcpu0(f);
    run_vcpu(f, 0, GUEST_ELR);
    take_fault(f, 0, true, 0x5018, ESR_DABT_TRANS(3));        /* gfn 5: unmapped */
    guest_exit(f, 0, RUN_EXIT_S2FAULT, 0x5000);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 1);
    assert_int_equal(f->m.st.spec_checks, 2);                   /* HC_REGISTER_VCPU, HC_RUN_VCPU */
    run_vcpu(f, 1, GUEST_ELR);                                  /* re-entered at the faulting PC */
    assert_int_equal(f->m.nviol, 0);
    /* Powered off by another vCPU before the fault: the exit says so. */
    poweroff_vm0(f, 0);
    take_fault(f, 1, true, 0x5018, ESR_DABT_TRANS(3));
    guest_exit(f, 1, RUN_EXIT_POWEROFF, 0);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 2);
    /* ... during the fault's handling: either exit is legal, not checked. */
    wr(f, KC_PUB_VM_STATE(0), VM_STATE_VERIFIED);
    run_vcpu(f, 1, GUEST_ELR);
    take_fault(f, 1, true, 0x5018, ESR_DABT_TRANS(3));
    poweroff_vm0(f, 0);
    guest_exit(f, 1, RUN_EXIT_S2FAULT, 0x5000);
    assert_int_equal(f->m.nviol, 0);
    assert_int_equal(f->m.st.fault_checks, 2);
    assert_int_equal(layers_fault_skipped(&f->m), 1);
}

static void test_layers_guest_fault_wrong_exit_caught(void **state)
{
    struct fx *f = *state;
    struct cpu *c = &f->cpus[0];

    register_vcpu0(f);
    run_vcpu(f, 0, GUEST_ELR);
    take_fault(f, 0, true, 0x5018, ESR_DABT_TRANS(3));
    guest_exit(f, 0, RUN_EXIT_S2FAULT, 0x5018);                /* not the page */
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "x1 = 0x5018, the spec says the IPA page 0x5000"));

    run_vcpu(f, 0, GUEST_ELR);
    take_fault(f, 0, true, 0x5018, ESR_DABT_TRANS(3));
    guest_exit(f, 0, RUN_EXIT_YIELD, 0);
    assert_int_equal(f->m.nviol, 2);
    assert_non_null(strstr(f->m.viol[1].detail, "HC_RUN_VCPU returns 0; the spec says exit to the host with RUN_EXIT_S2FAULT"));

    run_vcpu(f, 0, GUEST_ELR);                                  /* ERET back into the guest */
    take_fault(f, 0, true, 0x5018, ESR_DABT_TRANS(3));
    c->mode = CPU_GUEST;
    layers_on_s2_fault_return(&f->m, 0, true, 0, 0);
    assert_int_equal(f->m.nviol, 3);
    assert_non_null(strstr(f->m.viol[2].detail, "KCore ERETs to the guest at 0x40"));

    take_fault(f, 0, true, 0x5018, ESR_DABT_TRANS(3));        /* the handler maps the gfn */
    wr(f, V_L3 + 8 * 5, mmu_desc_page(PG_H, S2_ATTRS));
    guest_exit(f, 0, RUN_EXIT_S2FAULT, 0x5000);
    assert_int_equal(f->m.nviol, 4);
    assert_non_null(strstr(f->m.viol[3].detail, "gfn 0x5 of VM 0 is mapped, the spec says unmapped"));

    run_vcpu(f, 0, GUEST_ELR);
    poweroff_vm0(f, 1);                                         /* another vCPU powers it off */
    take_fault(f, 0, true, 0x6000, ESR_DABT_TRANS(3));
    guest_exit(f, 0, RUN_EXIT_S2FAULT, 0x6000);
    assert_int_equal(f->m.nviol, 5);
    assert_non_null(strstr(f->m.viol[4].detail, "the spec says exit to the host with RUN_EXIT_POWEROFF"));
}

/* The vCPU must resume at the faulting PC, so the access is retried. */
static void test_layers_guest_fault_reentry_elr_caught(void **state)
{
    struct fx *f = *state;

    register_vcpu0(f);
    run_vcpu(f, 0, GUEST_ELR);
    take_fault(f, 0, true, 0x5018, ESR_DABT_TRANS(3));
    guest_exit(f, 0, RUN_EXIT_S2FAULT, 0x5000);
    run_vcpu(f, 0, GUEST_ELR + 4);                              /* skips the access */
    assert_int_equal(f->m.nviol, 1);
    assert_non_null(strstr(f->m.viol[0].detail, "re-enters at ELR 0x44 after its stage-2 fault exit"));
    run_vcpu(f, 0, GUEST_ELR + 8);                              /* checked once per exit */
    assert_int_equal(f->m.nviol, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layers_check_refinement_agrees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_check_refinement_stale_tlb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_check_refinement_bypass_dirty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_check_refinement_rmw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_l2_page_abstraction, setup, teardown),
        cmocka_unit_test(test_l2_spec_donate),
        cmocka_unit_test(test_l2_spec_grant_revoke),
        cmocka_unit_test(test_l2_spec_lifecycle),
        cmocka_unit_test_setup_teardown(test_layers_hvc_grant_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_hvc_grant_noop_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_hvc_wrong_result_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_hvc_concurrent_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_hvc_teardown_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_hvc_donate_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_tainted_call_inherits_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_late_teardown_keeps_new_vm_ghost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_refusal_of_allowed_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_register_vm_return_keeps_vcpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_register_vm_takes_slot_freed_meanwhile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_call_spanning_incarnations_unsure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_hvc_donate_host_keeps_map_caught, setup, teardown),
        cmocka_unit_test(test_l2_spec_fault_host),
        cmocka_unit_test(test_l2_spec_fault_guest),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_mapped_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_not_mapped_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_not_identity_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_refused_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_refused_but_mapped_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_wrong_outcome_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_inject_syndrome_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_refused_loose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_host_fault_concurrent_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_guest_fault_exit_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_guest_fault_high_ipa_poweroff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_guest_fault_wrong_exit_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layers_guest_fault_reentry_elr_caught, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
