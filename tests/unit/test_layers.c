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
 * and recorded in cpu[0].acc as cpu/ records them. machine_violation() is
 * defined here (model/machine.c needs Unicorn).
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

#define VA_WB  0x100000ull        /* KCore data, Normal WB (AttrIndx 0) */
#define VA_NC  0x101000ull        /* KCore data, Normal NC (AttrIndx 2) */
#define PA_ALT 0x102000ull        /* where VA_WB points after a remap */

#define PG_H   0x02000000ull      /* host-owned */
#define PG_V0  0x02001000ull      /* VM 0 at gfn 0 */
#define PG_V1  0x02002000ull      /* VM 0 at gfn 1, shared once */
#define PG_H2  0x02003000ull      /* host-owned */

#define S1_ATTR(i) (MMU_S1_ATTRINDX(i) | MMU_AF | MMU_SH_INNER | MMU_S1_AP_EL0)
#define S2_ATTRS (MMU_S2AP_R | MMU_S2AP_W | MMU_AF | MMU_S2_MEMATTR(0xf))

struct fx {
    struct machine m;
    struct cpu cpus[NCPU];
};

static void wr(struct fx *f, uint64_t pa, uint64_t v)
{
    assert_int_equal(mem_write_word(&f->m.ms.mem, pa, v, LABEL_KCORE), MEM_OK);
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
    wr(f, KC_PUB_BOOTED, 1);
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
                                 mmu_desc_page(PA_ALT, S1_ATTR(0)), LABEL_KCORE, NULL), MEM_OK);
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

    assert_int_equal(cache_write(&f->m.ms.cache, VA_NC, 8, true, 1, LABEL_KCORE, NULL), MEM_OK);
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
    assert_int_equal(cache_write(&f->m.ms.cache, VA_WB, 8, true, 6, LABEL_KCORE, NULL), MEM_OK);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
