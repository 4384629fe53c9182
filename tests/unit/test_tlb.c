/*
 * tests/unit/test_tlb.c - CMocka tests of tlb/: fills, lookups, LRU and
 * caller-chosen victims, TLBI decoding (sys encodings op0=1, CRn=8), the
 * per-entry TLBI predicate (Arm ARM D8.13 "TLB maintenance instructions")
 * and pending broadcast invalidations completed by the scheduler or DSB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "tlb/tlb.h"

#define VMID_A 1
#define VMID_B 2
#define ASID_X 5
#define ASID_Y 6

/* ---- Helpers ----------------------------------------------------------- */

static struct mmu_result res(uint64_t va, uint64_t ipa, uint64_t pa,
                             unsigned s1_shift, unsigned s2_shift,
                             bool ng, uint16_t asid, uint16_t vmid)
{
    struct mmu_result r;
    memset(&r, 0, sizeof r);
    r.va = va;
    r.ipa = ipa;
    r.pa = pa;
    r.s1_shift = s1_shift;
    r.s2_shift = s2_shift;
    r.s1_perms = MMU_P_ALL;
    r.s2_perms = MMU_P_ALL;
    r.ng = ng;
    r.asid = asid;
    r.vmid = vmid;
    return r;
}

/* EL2 stage-1 entry. */
static int fill_el2(struct tlb *t, uint64_t va, unsigned shift)
{
    struct mmu_result r = res(va, va, va + 0x40000000ull, shift, 64, false, 0, 0);
    return tlb_fill(t, MMU_REGIME_EL2, TLB_KIND_S1, &r, -1);
}

/* EL1&0 combined entry: VA va, IPA = va + 0x10000000, 4 KiB at both stages. */
static int fill_s12(struct tlb *t, uint64_t va, bool ng, uint16_t asid, uint16_t vmid)
{
    struct mmu_result r = res(va, va + 0x10000000ull, va + 0x20000000ull, 12, 12,
                              ng, asid, vmid);
    return tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, -1);
}

/* EL1&0 stage-1-only entry (stage 2 off). */
static int fill_s1(struct tlb *t, uint64_t va, bool ng, uint16_t asid, uint16_t vmid)
{
    struct mmu_result r = res(va, va, va, 12, 64, ng, asid, vmid);
    return tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S1, &r, -1);
}

/* Stage-2-only entry for ipa of the given size. */
static int fill_s2(struct tlb *t, uint64_t ipa, unsigned shift, uint16_t vmid)
{
    struct mmu_result r = res(0, ipa, ipa + 0x30000000ull, 64, shift, false, 0, vmid);
    return tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S2, &r, -1);
}

static struct tlbi_op op_make(enum tlbi_type type, uint16_t vmid, uint16_t asid,
                              uint64_t addr)
{
    struct tlbi_op op;
    memset(&op, 0, sizeof op);
    op.type = type;
    op.vmid = vmid;
    op.asid = asid;
    op.addr = addr;
    return op;
}

static bool is_valid(const struct tlb *t, int idx)
{
    return idx >= 0 && (unsigned)idx < t->cap && t->e[idx].valid;
}

/* Every test gets an 16-entry TLB. */
static int setup_tlb(void **state)
{
    static const unsigned cap = 16;
    struct tlb *t = test_malloc(sizeof *t);
    if (!t || tlb_init(t, cap) != 0)
        return -1;
    *state = t;
    return 0;
}

static int teardown_tlb(void **state)
{
    struct tlb *t = *state;
    tlb_free(t);
    test_free(t);
    return 0;
}

/* ---- tlb_init / fill / lookup / evict --------------------------------- */

static void test_tlb_init_rejects_zero_capacity(void **state)
{
    (void)state;
    struct tlb t;
    assert_int_not_equal(tlb_init(&t, 0), 0);
    assert_null(t.e);
    assert_int_equal(tlb_init(NULL, 4), -2);
}

static void test_tlb_fill_block_aligns_in_base(void **state)
{
    struct tlb *t = *state;
    struct mmu_result r = res(0x40123456ull, 0x80123456ull, 0x90123456ull,
                              21, 30, true, ASID_X, VMID_A);
    int i = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, -1);
    assert_true(is_valid(t, i));
    /* combined entry: the smaller of the two stages' sizes */
    assert_int_equal(t->e[i].shift, 21);
    assert_int_equal(t->e[i].in_base, 0x40000000ull);
    assert_false(t->e[i].global);
    assert_int_equal(t->e[i].asid, ASID_X);
    assert_int_equal(t->e[i].vmid, VMID_A);

    i = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S2, &r, -1);
    assert_int_equal(t->e[i].shift, 30);
    assert_int_equal(t->e[i].in_base, 0x80000000ull);   /* keyed by IPA */

    i = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S1, &r, -1);
    assert_int_equal(t->e[i].shift, 21);
    assert_int_equal(t->e[i].in_base, 0x40000000ull);
}

static void test_tlb_fill_s12_stage2_smaller(void **state)
{
    struct tlb *t = *state;
    /* 1 GiB stage-1 block over 4 KiB stage-2 pages: the entry is 4 KiB */
    struct mmu_result r = res(0x40123456ull, 0x80123456ull, 0x90123456ull,
                              30, 12, false, 0, VMID_A);
    int i = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, -1);
    assert_int_equal(t->e[i].shift, 12);
    assert_int_equal(t->e[i].in_base, 0x40123000ull);
    assert_non_null(tlb_lookup_el10(t, VMID_A, 0, 0x40123fffull));
    assert_null(tlb_lookup_el10(t, VMID_A, 0, 0x40124000ull));
}

static void test_tlb_fill_shift_64_no_ub(void **state)
{
    struct tlb *t = *state;
    /* both stages reported disabled (shift 64): one entry covers everything */
    struct mmu_result r = res(0x1234ull, 0x1234ull, 0x1234ull, 64, 64, false, 0, VMID_A);
    int i = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, -1);
    assert_true(is_valid(t, i));
    assert_int_equal(t->e[i].shift, 64);
    assert_int_equal(t->e[i].in_base, 0);
    assert_non_null(tlb_lookup_el10(t, VMID_A, 0, 0xffffffffffffffffull));
    struct tlbi_op op = op_make(TLBI_VAE1, VMID_A, 0, 0xdead000ull);
    assert_true(tlb_entry_matches(&t->e[i], &op));
    /* an S1 entry with s1 shift 64 but s2 21 would be odd; S12 takes the min */
    r = res(0x40123456ull, 0x40123456ull, 0x40123456ull, 64, 21, false, 0, VMID_B);
    i = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, -1);
    assert_int_equal(t->e[i].shift, 21);
}

static void test_tlb_fill_rejects_bad_input(void **state)
{
    struct tlb *t = *state;
    struct mmu_result r = res(0x1000, 0x1000, 0x1000, 12, 12, false, 0, 0);
    /* the EL2 regime has only stage-1 entries */
    assert_int_equal(tlb_fill(t, MMU_REGIME_EL2, TLB_KIND_S12, &r, -1), -1);
    assert_int_equal(tlb_fill(t, MMU_REGIME_EL2, TLB_KIND_S2, &r, -1), -1);
    assert_int_equal(tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, 16), -1);
    assert_int_equal(tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, -2), -1);
    assert_int_equal(tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, NULL, -1), -1);
    assert_int_equal(tlb_fill(NULL, MMU_REGIME_EL10, TLB_KIND_S12, &r, -1), -1);
    assert_int_equal(t->used, 0);
}

static void test_tlb_fill_uses_free_slot(void **state)
{
    struct tlb *t = *state;
    assert_int_equal(fill_el2(t, 0x1000, 12), 0);
    assert_int_equal(fill_el2(t, 0x2000, 12), 1);
    tlb_evict(t, 0);
    assert_int_equal(fill_el2(t, 0x3000, 12), 0);
    assert_int_equal(t->used, 2);
}

static void test_tlb_fill_same_tags_reuses_slot(void **state)
{
    struct tlb *t = *state;
    assert_int_equal(fill_s12(t, 0x5000, true, ASID_X, VMID_A), 0);
    assert_int_equal(fill_s12(t, 0x6000, true, ASID_X, VMID_A), 1);
    /* refill of the same VA page, same tags: no duplicate entry */
    assert_int_equal(fill_s12(t, 0x5000, true, ASID_X, VMID_A), 0);
    assert_int_equal(t->used, 2);
    /* other ASID: a distinct entry */
    assert_int_equal(fill_s12(t, 0x5000, true, ASID_Y, VMID_A), 2);
}

static void test_tlb_fill_lru_victim(void **state)
{
    (void)state;
    struct tlb t;
    assert_int_equal(tlb_init(&t, 3), 0);
    assert_int_equal(fill_el2(&t, 0x1000, 12), 0);
    assert_int_equal(fill_el2(&t, 0x2000, 12), 1);
    assert_int_equal(fill_el2(&t, 0x3000, 12), 2);
    /* use entry 0 again: entry 1 becomes least recently used */
    assert_non_null(tlb_lookup_el2(&t, 0x1800));
    assert_int_equal(fill_el2(&t, 0x4000, 12), 1);
    assert_null(tlb_lookup_el2(&t, 0x2000));
    assert_non_null(tlb_lookup_el2(&t, 0x4000));
    /* now 2 is oldest */
    assert_int_equal(fill_el2(&t, 0x5000, 12), 2);
    assert_int_equal(t.used, 3);
    tlb_free(&t);
}

static void test_tlb_fill_caller_victim(void **state)
{
    struct tlb *t = *state;
    assert_int_equal(fill_el2(t, 0x1000, 12), 0);
    assert_int_equal(fill_el2(t, 0x2000, 12), 1);
    struct mmu_result r = res(0x9000, 0x9000, 0x9000, 12, 64, false, 0, 0);
    /* replace a valid entry */
    assert_int_equal(tlb_fill(t, MMU_REGIME_EL2, TLB_KIND_S1, &r, 0), 0);
    assert_null(tlb_lookup_el2(t, 0x1000));
    assert_non_null(tlb_lookup_el2(t, 0x9000));
    assert_int_equal(t->used, 2);
    /* a free slot chosen by the caller, not the first free one */
    r.va = 0xa000;
    assert_int_equal(tlb_fill(t, MMU_REGIME_EL2, TLB_KIND_S1, &r, 7), 7);
    assert_int_equal(t->used, 3);
    assert_true(t->e[7].valid);
    assert_false(t->e[2].valid);
}

static void test_tlb_fill_capacity_one(void **state)
{
    (void)state;
    struct tlb t;
    assert_int_equal(tlb_init(&t, 1), 0);
    assert_int_equal(fill_el2(&t, 0x1000, 12), 0);
    assert_int_equal(fill_s12(&t, 0x2000, false, 0, VMID_A), 0);
    assert_int_equal(t.used, 1);
    assert_null(tlb_lookup_el2(&t, 0x1000));
    assert_non_null(tlb_lookup_el10(&t, VMID_A, 0, 0x2000));
    assert_int_equal(tlb_nth_valid(&t, 0), 0);
    assert_int_equal(tlb_nth_valid(&t, 1), -1);
    struct tlbi_op op = op_make(TLBI_VMALLE1, VMID_A, 0, 0);
    assert_int_equal(tlb_invalidate(&t, &op), 1);
    assert_int_equal(t.used, 0);
    tlb_free(&t);
}

static void test_tlb_lookup_el2_only_el2_entries(void **state)
{
    struct tlb *t = *state;
    fill_s12(t, 0x1000, false, 0, 0);          /* EL1&0, VMID 0 */
    assert_null(tlb_lookup_el2(t, 0x1000));
    fill_el2(t, 0x200000, 21);
    assert_non_null(tlb_lookup_el2(t, 0x3fffff));  /* inside the 2 MiB block */
    assert_null(tlb_lookup_el2(t, 0x400000));
    assert_null(tlb_lookup_el10(t, 0, 0, 0x200000));
}

static void test_tlb_lookup_el10_tags(void **state)
{
    struct tlb *t = *state;
    fill_s12(t, 0x1000, true, ASID_X, VMID_A);
    fill_s1(t, 0x2000, false, 0, VMID_A);       /* global */
    fill_s2(t, 0x3000, 12, VMID_A);
    assert_non_null(tlb_lookup_el10(t, VMID_A, ASID_X, 0x1abc));
    assert_null(tlb_lookup_el10(t, VMID_A, ASID_Y, 0x1abc));    /* other ASID */
    assert_null(tlb_lookup_el10(t, VMID_B, ASID_X, 0x1abc));    /* other VMID */
    assert_non_null(tlb_lookup_el10(t, VMID_A, ASID_Y, 0x2000)); /* global */
    assert_null(tlb_lookup_el10(t, VMID_B, ASID_Y, 0x2000));    /* global, other VMID */
    assert_null(tlb_lookup_el10(t, VMID_A, 0, 0x3000));         /* S2-only entry */
}

static void test_tlb_lookup_s2_tags(void **state)
{
    struct tlb *t = *state;
    fill_s12(t, 0x1000, false, 0, VMID_A);       /* IPA 0x10001000, combined */
    assert_null(tlb_lookup_s2(t, VMID_A, 0x10001000ull));
    fill_s2(t, 0x40000000ull, 30, VMID_A);
    struct tlb_entry *e = tlb_lookup_s2(t, VMID_A, 0x7fffffffull);
    assert_non_null(e);
    assert_int_equal(e->r.pa, 0x70000000ull);
    assert_null(tlb_lookup_s2(t, VMID_B, 0x40000000ull));
    assert_null(tlb_lookup_s2(t, VMID_A, 0x80000000ull));
}

static void test_tlb_evict_and_nth_valid(void **state)
{
    struct tlb *t = *state;
    fill_el2(t, 0x1000, 12);
    fill_el2(t, 0x2000, 12);
    fill_el2(t, 0x3000, 12);
    tlb_evict(t, 1);
    assert_int_equal(t->used, 2);
    assert_int_equal(tlb_nth_valid(t, 0), 0);
    assert_int_equal(tlb_nth_valid(t, 1), 2);
    assert_int_equal(tlb_nth_valid(t, 2), -1);
    /* evicting an invalid or out-of-range slot changes nothing */
    tlb_evict(t, 1);
    tlb_evict(t, 99);
    assert_int_equal(t->used, 2);
}

static void test_tlb_clone_independent_and_hash(void **state)
{
    struct tlb *t = *state;
    struct tlb c;
    fill_s12(t, 0x1000, true, ASID_X, VMID_A);
    fill_el2(t, 0x2000, 12);
    assert_int_equal(tlb_clone(&c, t), 0);
    assert_int_equal(tlb_hash(&c), tlb_hash(t));
    assert_int_equal(c.used, 2);
    tlb_evict(&c, 0);
    assert_true(t->e[0].valid);
    assert_int_not_equal(tlb_hash(&c), tlb_hash(t));
    tlb_free(&c);
}

static void test_tlb_hash_deterministic(void **state)
{
    (void)state;
    struct tlb a, b;
    assert_int_equal(tlb_init(&a, 4), 0);
    assert_int_equal(tlb_init(&b, 4), 0);
    assert_int_equal(tlb_hash(&a), tlb_hash(&b));
    fill_s12(&a, 0x1000, true, ASID_X, VMID_A);
    fill_s12(&b, 0x1000, true, ASID_X, VMID_A);
    /* different allocations, same contents: same hash */
    assert_int_equal(tlb_hash(&a), tlb_hash(&b));
    fill_s12(&b, 0x2000, true, ASID_X, VMID_A);
    assert_int_not_equal(tlb_hash(&a), tlb_hash(&b));
    tlb_free(&a);
    tlb_free(&b);
}

/* ---- tlbi_decode ------------------------------------------------------- */

struct enc {
    const char *name;
    unsigned op1, crm, op2;
    enum tlbi_type type;
    bool broadcast;
};

/* Arm ARM C5.5 / Linux arch/arm64/include/asm/sysreg.h sys_insn(1,op1,8,CRm,op2). */
static const struct enc encodings[] = {
    { "VMALLS12E1IS", 4, 3, 6, TLBI_VMALLS12E1, true },
    { "VMALLS12E1",   4, 7, 6, TLBI_VMALLS12E1, false },
    { "IPAS2E1IS",    4, 0, 1, TLBI_IPAS2E1, true },
    { "IPAS2E1",      4, 4, 1, TLBI_IPAS2E1, false },
    { "IPAS2LE1IS",   4, 0, 5, TLBI_IPAS2E1, true },
    { "IPAS2LE1",     4, 4, 5, TLBI_IPAS2E1, false },
    { "VMALLE1IS",    0, 3, 0, TLBI_VMALLE1, true },
    { "VMALLE1",      0, 7, 0, TLBI_VMALLE1, false },
    { "VAE1IS",       0, 3, 1, TLBI_VAE1, true },
    { "VAE1",         0, 7, 1, TLBI_VAE1, false },
    { "VALE1IS",      0, 3, 5, TLBI_VAE1, true },
    { "VALE1",        0, 7, 5, TLBI_VAE1, false },
    { "VAAE1IS",      0, 3, 3, TLBI_VAAE1, true },
    { "VAAE1",        0, 7, 3, TLBI_VAAE1, false },
    { "VAALE1IS",     0, 3, 7, TLBI_VAAE1, true },
    { "VAALE1",       0, 7, 7, TLBI_VAAE1, false },
    { "ASIDE1IS",     0, 3, 2, TLBI_ASIDE1, true },
    { "ASIDE1",       0, 7, 2, TLBI_ASIDE1, false },
    { "ALLE1IS",      4, 3, 4, TLBI_ALLE1, true },
    { "ALLE1",        4, 7, 4, TLBI_ALLE1, false },
    { "ALLE2IS",      4, 3, 0, TLBI_ALLE2, true },
    { "ALLE2",        4, 7, 0, TLBI_ALLE2, false },
    { "VAE2IS",       4, 3, 1, TLBI_VAE2, true },
    { "VAE2",         4, 7, 1, TLBI_VAE2, false },
    { "VALE2IS",      4, 3, 5, TLBI_VAE2, true },
    { "VALE2",        4, 7, 5, TLBI_VAE2, false },
    /* Outer Shareable forms (FEAT_TLBIOS), treated as IS */
    { "VMALLE1OS",    0, 1, 0, TLBI_VMALLE1, true },
    { "VAE1OS",       0, 1, 1, TLBI_VAE1, true },
    { "ASIDE1OS",     0, 1, 2, TLBI_ASIDE1, true },
    { "VAAE1OS",      0, 1, 3, TLBI_VAAE1, true },
    { "VALE1OS",      0, 1, 5, TLBI_VAE1, true },
    { "VAALE1OS",     0, 1, 7, TLBI_VAAE1, true },
    { "ALLE2OS",      4, 1, 0, TLBI_ALLE2, true },
    { "VAE2OS",       4, 1, 1, TLBI_VAE2, true },
    { "ALLE1OS",      4, 1, 4, TLBI_ALLE1, true },
    { "VALE2OS",      4, 1, 5, TLBI_VAE2, true },
    { "VMALLS12E1OS", 4, 1, 6, TLBI_VMALLS12E1, true },
    { "IPAS2E1OS",    4, 4, 0, TLBI_IPAS2E1, true },
    { "IPAS2LE1OS",   4, 4, 4, TLBI_IPAS2E1, true },
};

static void test_tlbi_decode_every_encoding(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
        const struct enc *c = &encodings[i];
        struct tlbi_op op;
        memset(&op, 0xa5, sizeof op);
        if (tlbi_decode(c->op1, c->crm, c->op2, 0, VMID_B, &op) != 0)
            fail_msg("TLBI %s (op1=%u CRm=%u op2=%u) not decoded",
                     c->name, c->op1, c->crm, c->op2);
        if (op.type != c->type || op.broadcast != c->broadcast || op.vmid != VMID_B)
            fail_msg("TLBI %s decoded as type %d broadcast %d vmid %u",
                     c->name, (int)op.type, (int)op.broadcast, op.vmid);
    }
}

static void test_tlbi_decode_rejects_non_tlbi(void **state)
{
    (void)state;
    struct tlbi_op op;
    memset(&op, 0, sizeof op);
    op.vmid = 77;
    assert_int_equal(tlbi_decode(1, 7, 0, 0, 0, &op), -1);   /* op1 not 0/4 */
    assert_int_equal(tlbi_decode(6, 7, 0, 0, 0, &op), -1);   /* EL3: ALLE3 */
    assert_int_equal(tlbi_decode(0, 2, 1, 0, 0, &op), -1);   /* RVAE1IS: range */
    assert_int_equal(tlbi_decode(0, 6, 1, 0, 0, &op), -1);   /* RVAE1 */
    assert_int_equal(tlbi_decode(0, 7, 4, 0, 0, &op), -1);   /* unallocated */
    assert_int_equal(tlbi_decode(0, 7, 6, 0, 0, &op), -1);   /* unallocated */
    assert_int_equal(tlbi_decode(4, 7, 2, 0, 0, &op), -1);   /* unallocated */
    assert_int_equal(tlbi_decode(4, 0, 2, 0, 0, &op), -1);   /* RIPAS2E1IS */
    assert_int_equal(tlbi_decode(4, 4, 3, 0, 0, &op), -1);   /* RIPAS2E1OS */
    assert_int_equal(tlbi_decode(4, 0, 0, 0, 0, &op), -1);
    assert_int_equal(tlbi_decode(0, 0, 1, 0, 0, &op), -1);   /* CRm 0 is EL2-only */
    assert_int_equal(tlbi_decode(0, 7, 1, 0, 0, NULL), -1);
    assert_int_equal(op.vmid, 77);                           /* untouched */
}

static void test_tlbi_decode_va_and_asid_fields(void **state)
{
    (void)state;
    struct tlbi_op op;
    /* VAE1IS: ASID in Xt[63:48], VA[55:12] in Xt[43:0]; Xt[47:44] RES0 */
    uint64_t xt = (uint64_t)0x1234 << 48 | 0xf00000000000ull | 0x0000812345ull;
    assert_int_equal(tlbi_decode(0, 3, 1, xt, VMID_A, &op), 0);
    assert_int_equal(op.asid, 0x1234);
    assert_int_equal(op.addr, 0x0000812345000ull);
    assert_int_equal(op.vmid, VMID_A);
    /* VAAE1: ASID field ignored */
    assert_int_equal(tlbi_decode(0, 7, 3, xt, VMID_A, &op), 0);
    assert_int_equal(op.asid, 0);
    assert_int_equal(op.addr, 0x0000812345000ull);
    /* ASIDE1: ASID only */
    assert_int_equal(tlbi_decode(0, 7, 2, xt, VMID_A, &op), 0);
    assert_int_equal(op.asid, 0x1234);
    assert_int_equal(op.addr, 0);
    /* VAE2 */
    assert_int_equal(tlbi_decode(4, 7, 1, 0x7fff, VMID_A, &op), 0);
    assert_int_equal(op.addr, 0x7fff000ull);
}

static void test_tlbi_decode_va_upper_range(void **state)
{
    (void)state;
    struct tlbi_op op;
    /* VA 0xffff_8000_0000_1000 (TTBR1 range): Xt[43:0] = VA[55:12] */
    uint64_t va = 0xffff800000001000ull;
    uint64_t xt = (va >> 12) & ((1ull << 44) - 1);
    assert_int_equal(tlbi_decode(0, 7, 1, xt, 0, &op), 0);
    assert_int_equal(op.addr, va);
}

static void test_tlbi_decode_ipa_field(void **state)
{
    (void)state;
    struct tlbi_op op;
    /* IPA[47:12] in Xt[35:0]; bits above (incl. NS at 63) ignored */
    uint64_t xt = 1ull << 63 | 0xff000000000ull | 0x812345ull;
    assert_int_equal(tlbi_decode(4, 0, 1, xt, VMID_A, &op), 0);
    assert_int_equal(op.type, TLBI_IPAS2E1);
    assert_int_equal(op.addr, 0x812345000ull);
    assert_int_equal(op.asid, 0);
}

static void test_tlbi_name_forms(void **state)
{
    (void)state;
    struct tlbi_op op = op_make(TLBI_IPAS2E1, 0, 0, 0);
    assert_string_equal(tlbi_name(&op), "IPAS2E1");
    op.broadcast = true;
    assert_string_equal(tlbi_name(&op), "IPAS2E1IS");
    op.type = TLBI_VAE2;
    assert_string_equal(tlbi_name(&op), "VAE2IS");
    assert_string_equal(tlbi_name(NULL), "?");
}

/* ---- tlb_entry_matches, per TLBI --------------------------------------- */

static void test_tlb_entry_matches_vmalls12e1(void **state)
{
    struct tlb *t = *state;
    int s12 = fill_s12(t, 0x1000, true, ASID_X, VMID_A);
    int s1 = fill_s1(t, 0x2000, false, 0, VMID_A);
    int s2 = fill_s2(t, 0x3000, 12, VMID_A);
    int other_vmid = fill_s12(t, 0x1000, true, ASID_X, VMID_B);
    int other_s2 = fill_s2(t, 0x3000, 12, VMID_B);
    int el2 = fill_el2(t, 0x1000, 12);
    struct tlbi_op op = op_make(TLBI_VMALLS12E1, VMID_A, 0, 0);
    assert_true(tlb_entry_matches(&t->e[s12], &op));
    assert_true(tlb_entry_matches(&t->e[s1], &op));
    assert_true(tlb_entry_matches(&t->e[s2], &op));
    assert_false(tlb_entry_matches(&t->e[other_vmid], &op));
    assert_false(tlb_entry_matches(&t->e[other_s2], &op));
    assert_false(tlb_entry_matches(&t->e[el2], &op));
    assert_int_equal(tlb_invalidate(t, &op), 3);
    assert_int_equal(t->used, 3);
}

static void test_tlb_entry_matches_ipas2e1(void **state)
{
    struct tlb *t = *state;
    int s2_block = fill_s2(t, 0x40000000ull, 21, VMID_A);       /* 2 MiB */
    /* combined entry for the same IPA: survives IPAS2E1 (D8.13) */
    struct mmu_result r = res(0x7000, 0x40123000ull, 0x90123000ull, 12, 21,
                              false, 0, VMID_A);
    int s12 = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S12, &r, -1);
    int other_vmid = fill_s2(t, 0x40000000ull, 21, VMID_B);
    int other_ipa = fill_s2(t, 0x40200000ull, 21, VMID_A);
    int s1_same_addr = fill_s1(t, 0x40123000ull, false, 0, VMID_A);
    struct tlbi_op op = op_make(TLBI_IPAS2E1, VMID_A, 0, 0x40123000ull);
    assert_true(tlb_entry_matches(&t->e[s2_block], &op));   /* IPA inside block */
    assert_false(tlb_entry_matches(&t->e[s12], &op));
    assert_false(tlb_entry_matches(&t->e[other_vmid], &op));
    assert_false(tlb_entry_matches(&t->e[other_ipa], &op));
    assert_false(tlb_entry_matches(&t->e[s1_same_addr], &op));
    assert_int_equal(tlb_invalidate(t, &op), 1);
    assert_non_null(tlb_lookup_el10(t, VMID_A, 0, 0x7000));
    assert_null(tlb_lookup_s2(t, VMID_A, 0x40123000ull));
}

static void test_tlb_entry_matches_vmalle1(void **state)
{
    struct tlb *t = *state;
    int s12 = fill_s12(t, 0x1000, true, ASID_X, VMID_A);
    int s12g = fill_s12(t, 0x2000, false, 0, VMID_A);
    int s1 = fill_s1(t, 0x3000, true, ASID_Y, VMID_A);
    int s2 = fill_s2(t, 0x3000, 12, VMID_A);           /* stage-2-only survives */
    int other_vmid = fill_s12(t, 0x1000, true, ASID_X, VMID_B);
    int el2 = fill_el2(t, 0x1000, 12);
    struct tlbi_op op = op_make(TLBI_VMALLE1, VMID_A, 0, 0);
    assert_true(tlb_entry_matches(&t->e[s12], &op));
    assert_true(tlb_entry_matches(&t->e[s12g], &op));
    assert_true(tlb_entry_matches(&t->e[s1], &op));
    assert_false(tlb_entry_matches(&t->e[s2], &op));
    assert_false(tlb_entry_matches(&t->e[other_vmid], &op));
    assert_false(tlb_entry_matches(&t->e[el2], &op));
}

static void test_tlb_entry_matches_vae1(void **state)
{
    struct tlb *t = *state;
    int same = fill_s12(t, 0x5000, true, ASID_X, VMID_A);
    int global = fill_s1(t, 0x5000, false, 0, VMID_A);
    int other_asid = fill_s12(t, 0x5000, true, ASID_Y, VMID_A);
    int other_va = fill_s12(t, 0x6000, true, ASID_X, VMID_A);
    int other_vmid = fill_s12(t, 0x5000, true, ASID_X, VMID_B);
    int s2 = fill_s2(t, 0x5000, 12, VMID_A);
    int el2 = fill_el2(t, 0x5000, 12);
    struct tlbi_op op = op_make(TLBI_VAE1, VMID_A, ASID_X, 0x5000);
    assert_true(tlb_entry_matches(&t->e[same], &op));
    assert_true(tlb_entry_matches(&t->e[global], &op));
    assert_false(tlb_entry_matches(&t->e[other_asid], &op));
    assert_false(tlb_entry_matches(&t->e[other_va], &op));
    assert_false(tlb_entry_matches(&t->e[other_vmid], &op));
    assert_false(tlb_entry_matches(&t->e[s2], &op));
    assert_false(tlb_entry_matches(&t->e[el2], &op));
}

static void test_tlb_entry_matches_vae1_block(void **state)
{
    struct tlb *t = *state;
    /* 2 MiB stage-1 block, stage 2 off */
    struct mmu_result r = res(0x40000000ull, 0x40000000ull, 0x40000000ull, 21, 64,
                              true, ASID_X, VMID_A);
    int blk = tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S1, &r, -1);
    struct tlbi_op op = op_make(TLBI_VAE1, VMID_A, ASID_X, 0x401ff000ull);
    assert_true(tlb_entry_matches(&t->e[blk], &op));       /* last page of block */
    op.addr = 0x40200000ull;
    assert_false(tlb_entry_matches(&t->e[blk], &op));      /* next block */
    op.addr = 0x3ffff000ull;
    assert_false(tlb_entry_matches(&t->e[blk], &op));
}

static void test_tlb_entry_matches_vale1_as_vae1(void **state)
{
    struct tlb *t = *state;
    int same = fill_s12(t, 0x5000, true, ASID_X, VMID_A);
    int other_asid = fill_s12(t, 0x5000, true, ASID_Y, VMID_A);
    struct tlbi_op op;
    uint64_t xt = (uint64_t)ASID_X << 48 | 0x5;
    assert_int_equal(tlbi_decode(0, 7, 5, xt, VMID_A, &op), 0);   /* VALE1 */
    assert_true(tlb_entry_matches(&t->e[same], &op));
    assert_false(tlb_entry_matches(&t->e[other_asid], &op));
}

static void test_tlb_entry_matches_vaae1(void **state)
{
    struct tlb *t = *state;
    int ax = fill_s12(t, 0x5000, true, ASID_X, VMID_A);
    int ay = fill_s12(t, 0x5000, true, ASID_Y, VMID_A);
    int global = fill_s1(t, 0x5000, false, 0, VMID_A);
    int other_va = fill_s12(t, 0x6000, true, ASID_X, VMID_A);
    int other_vmid = fill_s12(t, 0x5000, true, ASID_X, VMID_B);
    int s2 = fill_s2(t, 0x5000, 12, VMID_A);
    struct tlbi_op op = op_make(TLBI_VAAE1, VMID_A, ASID_Y, 0x5000);
    assert_true(tlb_entry_matches(&t->e[ax], &op));
    assert_true(tlb_entry_matches(&t->e[ay], &op));
    assert_true(tlb_entry_matches(&t->e[global], &op));
    assert_false(tlb_entry_matches(&t->e[other_va], &op));
    assert_false(tlb_entry_matches(&t->e[other_vmid], &op));
    assert_false(tlb_entry_matches(&t->e[s2], &op));
}

static void test_tlb_entry_matches_aside1(void **state)
{
    struct tlb *t = *state;
    int ax = fill_s12(t, 0x5000, true, ASID_X, VMID_A);
    int ax2 = fill_s1(t, 0x9000, true, ASID_X, VMID_A);
    int global = fill_s12(t, 0x6000, false, 0, VMID_A);
    int ay = fill_s12(t, 0x7000, true, ASID_Y, VMID_A);
    int other_vmid = fill_s12(t, 0x5000, true, ASID_X, VMID_B);
    int s2 = fill_s2(t, 0x5000, 12, VMID_A);
    struct tlbi_op op = op_make(TLBI_ASIDE1, VMID_A, ASID_X, 0);
    assert_true(tlb_entry_matches(&t->e[ax], &op));
    assert_true(tlb_entry_matches(&t->e[ax2], &op));
    assert_false(tlb_entry_matches(&t->e[global], &op));
    assert_false(tlb_entry_matches(&t->e[ay], &op));
    assert_false(tlb_entry_matches(&t->e[other_vmid], &op));
    assert_false(tlb_entry_matches(&t->e[s2], &op));
    /* ASID 0 does not reach global or stage-2 entries either */
    op.asid = 0;
    assert_false(tlb_entry_matches(&t->e[global], &op));
    assert_false(tlb_entry_matches(&t->e[s2], &op));
}

static void test_tlb_entry_matches_alle1(void **state)
{
    struct tlb *t = *state;
    int a = fill_s12(t, 0x5000, true, ASID_X, VMID_A);
    int b = fill_s1(t, 0x5000, false, 0, VMID_B);
    int s2 = fill_s2(t, 0x5000, 12, VMID_B);
    int el2 = fill_el2(t, 0x5000, 12);
    struct tlbi_op op = op_make(TLBI_ALLE1, VMID_A, 0, 0);
    assert_true(tlb_entry_matches(&t->e[a], &op));
    assert_true(tlb_entry_matches(&t->e[b], &op));
    assert_true(tlb_entry_matches(&t->e[s2], &op));
    assert_false(tlb_entry_matches(&t->e[el2], &op));
    assert_int_equal(tlb_invalidate(t, &op), 3);
    assert_non_null(tlb_lookup_el2(t, 0x5000));
}

static void test_tlb_entry_matches_alle2(void **state)
{
    struct tlb *t = *state;
    int e1 = fill_el2(t, 0x5000, 12);
    int e2 = fill_el2(t, 0x40000000ull, 30);
    int el10 = fill_s12(t, 0x5000, false, 0, 0);
    int s2 = fill_s2(t, 0x5000, 12, 0);
    struct tlbi_op op = op_make(TLBI_ALLE2, 0, 0, 0);
    assert_true(tlb_entry_matches(&t->e[e1], &op));
    assert_true(tlb_entry_matches(&t->e[e2], &op));
    assert_false(tlb_entry_matches(&t->e[el10], &op));
    assert_false(tlb_entry_matches(&t->e[s2], &op));
}

static void test_tlb_entry_matches_vae2(void **state)
{
    struct tlb *t = *state;
    int blk = fill_el2(t, 0x200000, 21);
    int other = fill_el2(t, 0x400000, 12);
    int el10 = fill_s12(t, 0x201000, false, 0, 0);
    int s2 = fill_s2(t, 0x201000, 12, 0);
    struct tlbi_op op = op_make(TLBI_VAE2, 0, 0, 0x201000);
    assert_true(tlb_entry_matches(&t->e[blk], &op));     /* VA inside the block */
    assert_false(tlb_entry_matches(&t->e[other], &op));
    assert_false(tlb_entry_matches(&t->e[el10], &op));
    assert_false(tlb_entry_matches(&t->e[s2], &op));
}

static void test_tlb_entry_matches_invalid_entry(void **state)
{
    struct tlb *t = *state;
    int i = fill_el2(t, 0x1000, 12);
    tlb_evict(t, (unsigned)i);
    struct tlbi_op op = op_make(TLBI_ALLE2, 0, 0, 0);
    assert_false(tlb_entry_matches(&t->e[i], &op));
    assert_false(tlb_entry_matches(NULL, &op));
    assert_int_equal(tlb_invalidate(t, &op), 0);
}

/* ---- tlb_system: pending invalidations -------------------------------- */

static void test_tlb_sys_init_rejects_bad_args(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_not_equal(tlb_sys_init(&s, 0, 4), 0);
    assert_int_not_equal(tlb_sys_init(&s, 2, 0), 0);
    assert_null(s.cpu);
}

static void test_tlb_sys_issue_local_pending_on_issuer_only(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 3, 4), 0);
    fill_s12(&s.cpu[1], 0x5000, false, 0, VMID_A);
    struct tlbi_op op = op_make(TLBI_VMALLE1, VMID_A, 0, 0);
    assert_int_equal(tlb_sys_issue(&s, 1, &op), 0);
    assert_int_equal(s.npending, 1);
    assert_int_equal(s.pending[0].target, 1);
    assert_int_equal(s.pending[0].issuer, 1);
    /* not invalidated at issue */
    assert_non_null(tlb_lookup_el10(&s.cpu[1], VMID_A, 0, 0x5000));
    assert_int_equal(tlb_sys_dsb(&s, 1), 1);
    assert_null(tlb_lookup_el10(&s.cpu[1], VMID_A, 0, 0x5000));
    assert_int_equal(s.npending, 0);
    tlb_sys_free(&s);
}

static void test_tlb_sys_issue_broadcast_waits_for_completion(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 3, 4), 0);
    for (unsigned c = 0; c < 3; c++)
        fill_s12(&s.cpu[c], 0x5000, true, ASID_X, VMID_A);
    struct tlbi_op op = op_make(TLBI_VAE1, VMID_A, ASID_X, 0x5000);
    op.broadcast = true;
    assert_int_equal(tlb_sys_issue(&s, 0, &op), 0);
    assert_int_equal(s.npending, 3);
    for (unsigned c = 0; c < 3; c++) {
        assert_int_equal(s.pending[c].target, c);
        assert_non_null(tlb_lookup_el10(&s.cpu[c], VMID_A, ASID_X, 0x5000));
        assert_true(tlb_sys_entry_doomed(&s, c, &s.cpu[c].e[0]));
    }
    /* the scheduler completes the one for CPU 2 */
    tlb_sys_complete(&s, 2);
    assert_null(tlb_lookup_el10(&s.cpu[2], VMID_A, ASID_X, 0x5000));
    assert_non_null(tlb_lookup_el10(&s.cpu[1], VMID_A, ASID_X, 0x5000));
    assert_int_equal(s.npending, 2);
    assert_int_equal(s.pending[0].target, 0);
    assert_int_equal(s.pending[1].target, 1);
    tlb_sys_free(&s);
}

static void test_tlb_sys_dsb_other_cpu_does_not_complete(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 2, 4), 0);
    fill_s12(&s.cpu[1], 0x5000, false, 0, VMID_A);
    struct tlbi_op op = op_make(TLBI_VMALLS12E1, VMID_A, 0, 0);
    op.broadcast = true;
    assert_int_equal(tlb_sys_issue(&s, 0, &op), 0);
    /* DSB on CPU 1 (a target, not the issuer) completes nothing */
    assert_int_equal(tlb_sys_dsb(&s, 1), 0);
    assert_int_equal(s.npending, 2);
    assert_non_null(tlb_lookup_el10(&s.cpu[1], VMID_A, 0, 0x5000));
    /* the issuer's DSB completes it everywhere */
    assert_int_equal(tlb_sys_dsb(&s, 0), 2);
    assert_int_equal(s.npending, 0);
    assert_null(tlb_lookup_el10(&s.cpu[1], VMID_A, 0, 0x5000));
    tlb_sys_free(&s);
}

static void test_tlb_sys_dsb_keeps_others_in_order(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 2, 4), 0);
    struct tlbi_op a = op_make(TLBI_ALLE2, 0, 0, 0);
    struct tlbi_op b = op_make(TLBI_VMALLE1, VMID_A, 0, 0);
    struct tlbi_op c = op_make(TLBI_VMALLE1, VMID_B, 0, 0);
    assert_int_equal(tlb_sys_issue(&s, 1, &a), 0);   /* local on 1 */
    assert_int_equal(tlb_sys_issue(&s, 0, &b), 0);   /* local on 0 */
    assert_int_equal(tlb_sys_issue(&s, 1, &c), 0);   /* local on 1 */
    assert_int_equal(tlb_sys_dsb(&s, 0), 1);
    assert_int_equal(s.npending, 2);
    assert_int_equal(s.pending[0].op.type, TLBI_ALLE2);
    assert_int_equal(s.pending[1].op.vmid, VMID_B);
    tlb_sys_free(&s);
}

static void test_tlb_sys_complete_out_of_range_ignored(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 1, 2), 0);
    fill_el2(&s.cpu[0], 0x1000, 12);
    struct tlbi_op op = op_make(TLBI_ALLE2, 0, 0, 0);
    assert_int_equal(tlb_sys_issue(&s, 0, &op), 0);
    tlb_sys_complete(&s, 1);
    assert_int_equal(s.npending, 1);
    assert_non_null(tlb_lookup_el2(&s.cpu[0], 0x1000));
    tlb_sys_complete(&s, 0);
    assert_null(tlb_lookup_el2(&s.cpu[0], 0x1000));
    tlb_sys_free(&s);
}

static void test_tlb_sys_entry_doomed_only_matching_target(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 2, 4), 0);
    int i0 = fill_s12(&s.cpu[0], 0x5000, true, ASID_X, VMID_A);
    int i1 = fill_s12(&s.cpu[1], 0x5000, true, ASID_X, VMID_A);
    int keep = fill_s12(&s.cpu[0], 0x5000, true, ASID_Y, VMID_A);
    struct tlbi_op op = op_make(TLBI_ASIDE1, VMID_A, ASID_X, 0);
    assert_int_equal(tlb_sys_issue(&s, 0, &op), 0);          /* local */
    assert_true(tlb_sys_entry_doomed(&s, 0, &s.cpu[0].e[i0]));
    assert_false(tlb_sys_entry_doomed(&s, 1, &s.cpu[1].e[i1]));
    assert_false(tlb_sys_entry_doomed(&s, 0, &s.cpu[0].e[keep]));
    tlb_sys_free(&s);
}

static void test_tlb_sys_issue_rejects_bad_issuer(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 2, 4), 0);
    struct tlbi_op op = op_make(TLBI_ALLE2, 0, 0, 0);
    assert_int_not_equal(tlb_sys_issue(&s, 2, &op), 0);
    assert_int_not_equal(tlb_sys_issue(&s, 0, NULL), 0);
    assert_int_equal(s.npending, 0);
    tlb_sys_free(&s);
}

static void test_tlb_sys_issue_grows_pending(void **state)
{
    (void)state;
    struct tlb_system s;
    assert_int_equal(tlb_sys_init(&s, 4, 2), 0);
    struct tlbi_op op = op_make(TLBI_VAE2, 0, 0, 0);
    op.broadcast = true;
    for (unsigned i = 0; i < 100; i++) {
        op.addr = (uint64_t)i << 12;
        assert_int_equal(tlb_sys_issue(&s, i % 4, &op), 0);
    }
    assert_int_equal(s.npending, 400);
    assert_true(s.cap_pending >= 400);
    /* issue order kept: entry k*4 is the k-th TLBI */
    assert_int_equal(s.pending[4 * 37].op.addr, 37ull << 12);
    assert_int_equal(tlb_sys_dsb(&s, 3), 100);
    assert_int_equal(s.npending, 300);
    tlb_sys_free(&s);
}

static void test_tlb_sys_clone_deep(void **state)
{
    (void)state;
    struct tlb_system s, c;
    assert_int_equal(tlb_sys_init(&s, 2, 4), 0);
    fill_el2(&s.cpu[1], 0x1000, 12);
    struct tlbi_op op = op_make(TLBI_ALLE2, 0, 0, 0);
    op.broadcast = true;
    assert_int_equal(tlb_sys_issue(&s, 0, &op), 0);
    assert_int_equal(tlb_sys_clone(&c, &s), 0);
    assert_int_equal(c.npending, 2);
    assert_int_equal(tlb_sys_dsb(&c, 0), 2);
    assert_null(tlb_lookup_el2(&c.cpu[1], 0x1000));
    /* original untouched */
    assert_int_equal(s.npending, 2);
    assert_non_null(tlb_lookup_el2(&s.cpu[1], 0x1000));
    tlb_sys_free(&c);
    tlb_sys_free(&s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_tlb, teardown_tlb)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlb_init_rejects_zero_capacity),
        T(test_tlb_fill_block_aligns_in_base),
        T(test_tlb_fill_s12_stage2_smaller),
        T(test_tlb_fill_shift_64_no_ub),
        T(test_tlb_fill_rejects_bad_input),
        T(test_tlb_fill_uses_free_slot),
        T(test_tlb_fill_same_tags_reuses_slot),
        cmocka_unit_test(test_tlb_fill_lru_victim),
        T(test_tlb_fill_caller_victim),
        cmocka_unit_test(test_tlb_fill_capacity_one),
        T(test_tlb_lookup_el2_only_el2_entries),
        T(test_tlb_lookup_el10_tags),
        T(test_tlb_lookup_s2_tags),
        T(test_tlb_evict_and_nth_valid),
        T(test_tlb_clone_independent_and_hash),
        cmocka_unit_test(test_tlb_hash_deterministic),
        cmocka_unit_test(test_tlbi_decode_every_encoding),
        cmocka_unit_test(test_tlbi_decode_rejects_non_tlbi),
        cmocka_unit_test(test_tlbi_decode_va_and_asid_fields),
        cmocka_unit_test(test_tlbi_decode_va_upper_range),
        cmocka_unit_test(test_tlbi_decode_ipa_field),
        cmocka_unit_test(test_tlbi_name_forms),
        T(test_tlb_entry_matches_vmalls12e1),
        T(test_tlb_entry_matches_ipas2e1),
        T(test_tlb_entry_matches_vmalle1),
        T(test_tlb_entry_matches_vae1),
        T(test_tlb_entry_matches_vae1_block),
        T(test_tlb_entry_matches_vale1_as_vae1),
        T(test_tlb_entry_matches_vaae1),
        T(test_tlb_entry_matches_aside1),
        T(test_tlb_entry_matches_alle1),
        T(test_tlb_entry_matches_alle2),
        T(test_tlb_entry_matches_vae2),
        T(test_tlb_entry_matches_invalid_entry),
        cmocka_unit_test(test_tlb_sys_init_rejects_bad_args),
        cmocka_unit_test(test_tlb_sys_issue_local_pending_on_issuer_only),
        cmocka_unit_test(test_tlb_sys_issue_broadcast_waits_for_completion),
        cmocka_unit_test(test_tlb_sys_dsb_other_cpu_does_not_complete),
        cmocka_unit_test(test_tlb_sys_dsb_keeps_others_in_order),
        cmocka_unit_test(test_tlb_sys_complete_out_of_range_ignored),
        cmocka_unit_test(test_tlb_sys_entry_doomed_only_matching_target),
        cmocka_unit_test(test_tlb_sys_issue_rejects_bad_issuer),
        cmocka_unit_test(test_tlb_sys_issue_grows_pending),
        cmocka_unit_test(test_tlb_sys_clone_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
