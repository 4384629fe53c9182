/*
 * tests/unit/test_mmu.c - unit tests for mmu/ (VMSAv8-64, 4 KiB granule).
 *
 * Tables are built in a plain 1 MiB buffer at PA 0 reached through
 * struct mmu_mem_ops; reads outside it (or of an injected PA) fail, which
 * the walker reports as an external abort. Each test names the Arm ARM
 * rule it checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mmu/mmu.h"

#define MEM_SIZE      (1u << 20)
#define NO_PA         (~0ull)

struct tmem {
    uint8_t *buf;
    uint64_t next;          /* bump allocator */
    uint64_t fail_pa;       /* a read here is an external abort */
    unsigned reads, writes, reads_cacheable, reads_noncacheable;
};

static int t_read(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    struct tmem *m = arg;

    if (pa == m->fail_pa || (pa & 7) || pa >= MEM_SIZE)
        return 1;
    memcpy(desc, m->buf + pa, 8);
    m->reads++;
    if (cacheable)
        m->reads_cacheable++;
    else
        m->reads_noncacheable++;
    return 0;
}

static int t_write(void *arg, uint64_t pa, bool cacheable, uint64_t desc)
{
    struct tmem *m = arg;

    (void)cacheable;
    if ((pa & 7) || pa >= MEM_SIZE)
        return 1;
    memcpy(m->buf + pa, &desc, 8);
    m->writes++;
    return 0;
}

static uint64_t rd(struct tmem *m, uint64_t pa)
{
    uint64_t d;
    memcpy(&d, m->buf + pa, 8);
    return d;
}

static void wr(struct tmem *m, uint64_t pa, uint64_t d)
{
    memcpy(m->buf + pa, &d, 8);
}

/* n zeroed pages aligned to their total size. */
static uint64_t alloc_pages(struct tmem *m, unsigned n)
{
    uint64_t size = (uint64_t)n * 4096;
    uint64_t pa = (m->next + size - 1) & ~(size - 1);

    assert_true(pa + size <= MEM_SIZE);
    m->next = pa + size;
    return pa;
}

static int setup(void **state)
{
    struct tmem *m = calloc(1, sizeof *m);

    if (!m)
        return -1;
    m->buf = calloc(1, MEM_SIZE);
    if (!m->buf) {
        free(m);
        return -1;
    }
    m->next = 0x10000;
    m->fail_pa = NO_PA;
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    struct tmem *m = *state;
    free(m->buf);
    free(m);
    return 0;
}

/* Geometries matching the default registers below. */
static const struct mmu_geom G_S1 = { 48, 48, 0, 1 };    /* TxSZ=16 */
static const struct mmu_geom G_S2 = { 39, 48, 1, 1 };    /* T0SZ=25, SL0=1 */

/* Write `leaf` for `ia` at `leaf_level`, creating tables on the way.
 * Returns the leaf descriptor's PA. Table addresses are PAs (== IPAs in
 * the nested tests, whose stage 2 maps the table memory 1:1). */
static uint64_t map(struct tmem *m, uint64_t root, const struct mmu_geom *g, uint64_t ia,
                    uint64_t leaf, int leaf_level)
{
    uint64_t table = root;

    for (int l = g->start_level;; l++) {
        unsigned sh = 12 + 9 * (unsigned)(3 - l);
        uint64_t n = l == g->start_level ? 1ull << (g->ia_bits - sh) : 512;
        uint64_t slot = table + ((ia >> sh) & (n - 1)) * 8;
        uint64_t d;

        if (l == leaf_level) {
            wr(m, slot, leaf);
            return slot;
        }
        d = rd(m, slot);
        if (!(d & MMU_DESC_VALID)) {
            d = mmu_desc_table(alloc_pages(m, 1));
            wr(m, slot, d);
        }
        table = mmu_desc_oa(d);
    }
}

/* MAIR: 0 Normal WB, 1 Device-nGnRnE, 2 Normal NC, 3 outer NC inner WB. */
#define MAIR_DEFAULT  0x4f4400ffull
#define S1_NORMAL     (MMU_AF | MMU_SH_INNER | MMU_S1_ATTRINDX(0))
#define S2_NORMAL     (MMU_AF | MMU_SH_INNER | MMU_S2AP_R | MMU_S2AP_W | \
                       MMU_S2_MEMATTR(MMU_S2_MEMATTR_NORMAL_WB))
#define TCR_WALK_WB0  ((1ull << 8) | (1ull << 10))     /* IRGN0=ORGN0=WB */
#define TCR_WALK_WB1  ((1ull << 24) | (1ull << 26))
#define TCR_EL2_PS(x) ((uint64_t)(x) << 16)
#define TCR_EL1_IPS(x) ((uint64_t)(x) << 32)
#define VTCR(t0sz, sl0, ps) ((uint64_t)(t0sz) | ((uint64_t)(sl0) << 6) | \
                             TCR_WALK_WB0 | ((uint64_t)(ps) << 16))
#define VTCR_DEFAULT  VTCR(25, 1, 5)

static struct mmu_ctx ctx_el2(struct tmem *m, uint64_t root)
{
    struct mmu_ctx c;

    memset(&c, 0, sizeof c);
    c.regime = MMU_REGIME_EL2;
    c.s1.m = true;
    c.s1.c = true;
    c.s1.ttbr0 = root;
    c.s1.tcr = 16 | TCR_WALK_WB0 | TCR_EL2_PS(5);
    c.s1.mair = MAIR_DEFAULT;
    c.ops.read_desc = t_read;
    c.ops.write_desc = t_write;
    c.ops.arg = m;
    return c;
}

static struct mmu_ctx ctx_el10(struct tmem *m, uint64_t root0, uint64_t root1)
{
    struct mmu_ctx c = ctx_el2(m, root0);

    c.regime = MMU_REGIME_EL10;
    c.s1.ttbr1 = root1;
    c.s1.tcr = 16 | (16ull << 16) | TCR_WALK_WB0 | TCR_WALK_WB1 | TCR_EL1_IPS(5);
    return c;
}

static void ctx_s2(struct mmu_ctx *c, uint64_t root, uint64_t vtcr, uint8_t vmid)
{
    c->s2.vm = true;
    c->s2.vttbr = root | ((uint64_t)vmid << 48);
    c->s2.vtcr = vtcr;
}

/* Stage-2 identity map of the table memory (one 2 MiB block at IPA 0). */
static void s2_map_tables(struct tmem *m, uint64_t s2root, uint64_t attrs)
{
    map(m, s2root, &G_S2, 0, mmu_desc_block(0, attrs), 2);
}

static void expect_fault(const struct mmu_fault *f, enum mmu_fault_type type,
                         unsigned stage, int level)
{
    assert_int_equal(f->type, type);
    assert_int_equal(f->stage, stage);
    assert_int_equal(f->level, level);
}

#define VA_A   0x0000123456789000ull

/* ---- Stage 1, EL2 regime ---------------------------------------------- */

/* D8.3 page descriptor at level 3 after four levels of tables. */
static void test_mmu_translate_el2_page(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    uint64_t dpa = map(m, root, &G_S1, VA_A, mmu_desc_page(0x80042000, S1_NORMAL), 3);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    assert_int_equal(mmu_translate(&c, VA_A + 0x123, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0x80042123);
    assert_int_equal(r.ipa, 0x80042123);
    assert_int_equal(r.s1_level, 3);
    assert_int_equal(r.s1_shift, 12);
    assert_int_equal(r.s1_desc_pa, dpa);
    assert_int_equal(r.s1_perms, MMU_P_R | MMU_P_W | MMU_P_X);
    assert_int_equal(r.s2_shift, 64);
    assert_int_equal(r.s2_perms, MMU_P_ALL);
    assert_true(r.attrs.cacheable);
    assert_false(r.attrs.device);
    assert_int_equal(r.attrs.s1_attr, 0xff);
    assert_false(r.ng);
    assert_int_equal(r.asid, 0);
    assert_int_equal(m->reads, 4);
}

/* D8.3: 1 GiB block at level 1 keeps VA[29:0]. */
static void test_mmu_translate_el2_block_level1(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, 0x40000000, mmu_desc_block(0xc0000000, S1_NORMAL), 1);
    assert_int_equal(mmu_translate(&c, 0x40000000 + 0x2345678, MMU_ACC_WRITE, false, &r, &f), 0);
    assert_int_equal(r.pa, 0xc2345678);
    assert_int_equal(r.s1_level, 1);
    assert_int_equal(r.s1_shift, 30);
}

/* D8.3: 2 MiB block at level 2 keeps VA[20:0]. */
static void test_mmu_translate_el2_block_level2(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, 0x40200000, mmu_desc_block(0x80400000, S1_NORMAL), 2);
    assert_int_equal(mmu_translate(&c, 0x40212345, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0x80412345);
    assert_int_equal(r.s1_level, 2);
    assert_int_equal(r.s1_shift, 21);
}

/* EL2 regime: AP[2]=1 is read-only, a write is a level-3 Permission fault. */
static void test_mmu_translate_el2_ap_ro_permission_fault(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL | MMU_S1_AP_RO), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_WRITE, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(f.va, VA_A);
    assert_int_equal(f.acc, MMU_ACC_WRITE);
    assert_false(f.ipa_valid);
}

/* EL2 regime: AP[1] is RES1/ignored (no EL0 permissions, still writable),
 * bit 54 is XN and bit 53 (PXN) is RES0. */
static void test_mmu_translate_el2_ap1_ignored_and_xn(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL | MMU_S1_AP_EL0 | MMU_S1_PXN), 3);
    map(m, root, &G_S1, VA_A + 0x1000, mmu_desc_page(0x2000, S1_NORMAL | MMU_S1_XN), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_WRITE, false, &r, &f), 0);
    assert_int_equal(r.s1_perms, MMU_P_R | MMU_P_W | MMU_P_X);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_EXEC, false, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, true, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(mmu_translate(&c, VA_A + 0x1000, MMU_ACC_EXEC, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
}

/* An invalid descriptor is a Translation fault at its own level. */
static void check_translation_fault_at(struct tmem *m, int level)
{
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    if (level > 0) {
        /* a valid path down to `level`, then an invalid entry there */
        uint64_t slot = map(m, root, &G_S1, VA_A, 0, level);
        wr(m, slot, 0x1000 /* bit 0 clear */);
    }
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, level);
    assert_int_equal(mmu_fault_status_code(&f), 0x04u | (unsigned)level);
}

static void test_mmu_translate_translation_fault_level0(void **state) { check_translation_fault_at(*state, 0); }
static void test_mmu_translate_translation_fault_level1(void **state) { check_translation_fault_at(*state, 1); }
static void test_mmu_translate_translation_fault_level2(void **state) { check_translation_fault_at(*state, 2); }
static void test_mmu_translate_translation_fault_level3(void **state) { check_translation_fault_at(*state, 3); }

/* 4 KiB granule: no block descriptors at level 0 (translation fault L0). */
static void test_mmu_translate_block_at_level0_invalid(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, 0, mmu_desc_block(0, S1_NORMAL), 0);
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
}

/* Level 3: encoding 0b01 is reserved (translation fault L3). */
static void test_mmu_translate_level3_block_encoding_invalid(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, VA_A, mmu_desc_block(0x5000, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 3);
}

/* AF=0 without hardware management: Access flag fault at the leaf level
 * (page at level 3, block at level 2). */
static void test_mmu_translate_access_flag_fault(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL & ~MMU_AF), 3);
    map(m, root, &G_S1, 0x40000000, mmu_desc_block(0x80000000, S1_NORMAL & ~MMU_AF), 2);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ACCESS_FLAG, 1, 3);
    assert_int_equal(mmu_fault_status_code(&f), 0x0b);
    assert_int_equal(mmu_translate(&c, 0x40000000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ACCESS_FLAG, 1, 2);
}

/* The Access flag fault takes priority over a Permission fault. */
static void test_mmu_translate_access_flag_before_permission(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, (S1_NORMAL & ~MMU_AF) | MMU_S1_AP_RO), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_WRITE, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ACCESS_FLAG, 1, 3);
}

/* FEAT_HAFDBS: with HA the walker sets AF through write_desc. */
static void test_mmu_translate_ha_sets_access_flag(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t dpa = map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL & ~MMU_AF), 3);

    c.ha = true;
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_true(rd(m, dpa) & MMU_AF);
    assert_int_equal(m->writes, 1);
    /* no further update once AF is set */
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(m->writes, 1);
}

/* FEAT_HAFDBS dirty state: a write to a read-only DBM=1 page clears AP[2]
 * instead of faulting; without HD (or HA) it faults; reads leave it. */
static void test_mmu_translate_hd_dbm_clears_ap_ro(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t dpa = map(m, root, &G_S1, VA_A,
                       mmu_desc_page(0x1000, S1_NORMAL | MMU_S1_AP_RO | MMU_DBM), 3);

    c.ha = true;
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_WRITE, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    c.hd = true;
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_true(rd(m, dpa) & MMU_S1_AP_RO);
    assert_false(r.s1_perms & MMU_P_W);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_WRITE, false, &r, &f), 0);
    assert_false(rd(m, dpa) & MMU_S1_AP_RO);
    assert_true(r.s1_perms & MMU_P_W);
}

/* Address size faults: TTBR base (level 0), a table address (its level)
 * and an output address (leaf level) at or above the PS size. */
static void test_mmu_translate_address_size_fault(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t slot;

    c.s1.tcr = (c.s1.tcr & ~TCR_EL2_PS(7)) | TCR_EL2_PS(2);   /* 40 bits */
    /* leaf OA bit 40 */
    map(m, root, &G_S1, VA_A, mmu_desc_page(1ull << 40, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ADDR_SIZE, 1, 3);
    assert_int_equal(mmu_fault_status_code(&f), 0x03);
    /* same OA with a 44-bit PS is fine */
    c.s1.tcr = (c.s1.tcr & ~TCR_EL2_PS(7)) | TCR_EL2_PS(4);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    /* level-1 table descriptor pointing above 40 bits */
    c.s1.tcr = (c.s1.tcr & ~TCR_EL2_PS(7)) | TCR_EL2_PS(2);
    slot = map(m, root, &G_S1, 0x40000000, 0, 1);
    wr(m, slot, mmu_desc_table((1ull << 41) | 0x3000));
    assert_int_equal(mmu_translate(&c, 0x40000000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ADDR_SIZE, 1, 1);
    /* TTBR base above 40 bits: level 0 */
    c.s1.ttbr0 = (1ull << 40) | root;
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ADDR_SIZE, 1, 0);
}

/* Synchronous External abort on a translation table walk, at the level of
 * the failing read (FSC 0b0101LL). */
static void test_mmu_translate_external_abort_on_walk(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t slot2 = map(m, root, &G_S1, VA_A, 0, 2);

    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL), 3);
    m->fail_pa = slot2;
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_EXTERNAL, 1, 2);
    assert_int_equal(mmu_fault_status_code(&f), 0x16);
}

/* TxSZ outside [16,39] (IMPLEMENTATION DEFINED; we fault): level 0. */
static void test_mmu_translate_txsz_out_of_range(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, 0x1000, mmu_desc_page(0x1000, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), 0);
    c.s1.tcr = (c.s1.tcr & ~0x3full) | 15;
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
    /* EL2 regime: a VA above the TTBR0 range is a level-0 fault */
    c.s1.tcr = (c.s1.tcr & ~0x3full) | 16;
    assert_int_equal(mmu_translate(&c, 1ull << 48, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
}

/* Stage 1 disabled: flat, all permissions, Device-nGnRnE (non-cacheable);
 * a VA above PAMax is a level-0 Address size fault. */
static void test_mmu_translate_s1_disabled_flat(void **state)
{
    struct tmem *m = *state;
    struct mmu_ctx c = ctx_el2(m, 0);
    struct mmu_result r;
    struct mmu_fault f;

    c.s1.m = false;
    assert_int_equal(mmu_translate(&c, 0x12345678, MMU_ACC_WRITE, false, &r, &f), 0);
    assert_int_equal(r.pa, 0x12345678);
    assert_int_equal(r.s1_perms, MMU_P_ALL);
    assert_int_equal(r.s1_shift, 64);
    assert_true(r.attrs.device);
    assert_false(r.attrs.cacheable);
    assert_int_equal(r.attrs.s1_attr, 0);
    assert_int_equal(m->reads, 0);
    assert_int_equal(mmu_translate(&c, 1ull << 48, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ADDR_SIZE, 1, 0);
}

/* MAIR decoding: Device if Attr[7:4]==0; cacheable iff Normal with neither
 * inner nor outer Non-cacheable; SCTLR.C=0 makes data Non-cacheable. */
static void test_mmu_translate_mair_attributes(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;
    static const struct { unsigned idx; bool device, cacheable; uint8_t attr; } cases[] = {
        { 0, false, true, 0xff }, { 1, true, false, 0x00 },
        { 2, false, false, 0x44 }, { 3, false, false, 0x4f },
    };

    for (unsigned i = 0; i < 4; i++) {
        uint64_t va = 0x100000 + i * 0x1000;
        map(m, root, &G_S1, va, mmu_desc_page(va, MMU_AF | MMU_S1_ATTRINDX(cases[i].idx)), 3);
        assert_int_equal(mmu_translate(&c, va, MMU_ACC_READ, false, &r, &f), 0);
        assert_int_equal(r.attrs.device, cases[i].device);
        assert_int_equal(r.attrs.cacheable, cases[i].cacheable);
        assert_int_equal(r.attrs.s1_attr, cases[i].attr);
    }
    c.s1.c = false;
    assert_int_equal(mmu_translate(&c, 0x100000, MMU_ACC_READ, false, &r, &f), 0);
    assert_false(r.attrs.cacheable);
}

/* Walk cacheability: TCR IRGN0/ORGN0 (both must be cacheable) and
 * SCTLR.C=0 make stage-1 walks Non-cacheable. */
static void test_mmu_translate_walk_cacheability(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el2(m, root);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(m->reads_cacheable, 4);
    assert_int_equal(m->reads_noncacheable, 0);
    c.s1.tcr &= ~(3ull << 8);                /* IRGN0 = NC */
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(m->reads_noncacheable, 4);
    c.s1.tcr |= 1ull << 8;
    c.s1.c = false;
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(m->reads_noncacheable, 8);
    assert_int_equal(m->reads_cacheable, 4);
}

/* ---- Stage 1, EL1&0 regime -------------------------------------------- */

#define VA_HI  0xffff000012345000ull

/* VA[55] selects TTBR0 or TTBR1 (D8.2 "VA ranges"). */
static void test_mmu_translate_el10_ttbr0_ttbr1_select(void **state)
{
    struct tmem *m = *state;
    uint64_t r0 = alloc_pages(m, 1), r1 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, r1);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, r0, &G_S1, VA_A, mmu_desc_page(0xa000, S1_NORMAL), 3);
    map(m, r1, &G_S1, VA_HI, mmu_desc_page(0xb000, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0xa000);
    assert_int_equal(mmu_translate(&c, VA_HI + 8, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0xb008);
    /* the TTBR1 address is not mapped through TTBR0 */
    assert_int_equal(mmu_translate(&c, VA_HI & 0x0000ffffffffffffull, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
}

/* A VA in neither range, or in a range whose walks EPDn disables, is a
 * level-0 Translation fault. */
static void test_mmu_translate_el10_va_range_and_epd(void **state)
{
    struct tmem *m = *state;
    uint64_t r0 = alloc_pages(m, 1), r1 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, r1);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, r0, &G_S1, VA_A, mmu_desc_page(0xa000, S1_NORMAL), 3);
    map(m, r1, &G_S1, VA_HI, mmu_desc_page(0xb000, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, 0x0001000000000000ull, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
    /* T1SZ=25: the TTBR1 range is only the top 2^39 bytes */
    c.s1.tcr = (c.s1.tcr & ~(0x3full << 16)) | (25ull << 16);
    assert_int_equal(mmu_translate(&c, VA_HI, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
    c.s1.tcr = (c.s1.tcr & ~(0x3full << 16)) | (16ull << 16);
    assert_int_equal(mmu_translate(&c, VA_HI, MMU_ACC_READ, false, &r, &f), 0);
    c.s1.tcr |= 1ull << 23;                           /* EPD1 */
    assert_int_equal(mmu_translate(&c, VA_HI, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    c.s1.tcr |= 1ull << 7;                            /* EPD0 */
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 1, 0);
}

/* AP[2:1] table (D8.4 "Data access permissions"), PXN implicit for
 * EL0-writable regions. */
static void test_mmu_translate_el10_ap_permissions(void **state)
{
    struct tmem *m = *state;
    uint64_t r0 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    static const uint8_t want[4] = {
        MMU_P_R | MMU_P_W | MMU_P_X | MMU_P_UX,                       /* 00 */
        MMU_P_R | MMU_P_W | MMU_P_UR | MMU_P_UW | MMU_P_UX,           /* 01: PXN */
        MMU_P_R | MMU_P_X | MMU_P_UX,                                 /* 10 */
        MMU_P_R | MMU_P_UR | MMU_P_X | MMU_P_UX,                      /* 11 */
    };

    for (unsigned ap = 0; ap < 4; ap++) {
        uint64_t va = 0x200000 + ap * 0x1000;
        map(m, r0, &G_S1, va, mmu_desc_page(va, S1_NORMAL | ((uint64_t)ap << 6)), 3);
        assert_int_equal(mmu_translate(&c, va, MMU_ACC_READ, false, &r, &f), 0);
        assert_int_equal(r.s1_perms, want[ap]);
    }
    assert_int_equal(mmu_translate(&c, 0x200000, MMU_ACC_READ, true, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(mmu_translate(&c, 0x201000, MMU_ACC_WRITE, true, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, 0x201000, MMU_ACC_EXEC, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(mmu_translate(&c, 0x202000, MMU_ACC_WRITE, false, &r, &f), -1);
    assert_int_equal(mmu_translate(&c, 0x203000, MMU_ACC_READ, true, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, 0x203000, MMU_ACC_WRITE, true, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
}

/* PXN/UXN and SCTLR.WXN (writable regions are execute-never). */
static void test_mmu_translate_el10_pxn_uxn_wxn(void **state)
{
    struct tmem *m = *state;
    uint64_t r0 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, r0, &G_S1, 0x300000, mmu_desc_page(0x1000, S1_NORMAL | MMU_S1_AP_RO | MMU_S1_AP_EL0 | MMU_S1_PXN), 3);
    map(m, r0, &G_S1, 0x301000, mmu_desc_page(0x1000, S1_NORMAL | MMU_S1_AP_RO | MMU_S1_AP_EL0 | MMU_S1_UXN), 3);
    map(m, r0, &G_S1, 0x302000, mmu_desc_page(0x1000, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, 0x300000, MMU_ACC_EXEC, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(mmu_translate(&c, 0x300000, MMU_ACC_EXEC, true, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, 0x301000, MMU_ACC_EXEC, true, &r, &f), -1);
    assert_int_equal(mmu_translate(&c, 0x301000, MMU_ACC_EXEC, false, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, 0x302000, MMU_ACC_EXEC, false, &r, &f), 0);
    c.s1.wxn = true;
    assert_int_equal(mmu_translate(&c, 0x302000, MMU_ACC_EXEC, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(mmu_translate(&c, 0x301000, MMU_ACC_EXEC, false, &r, &f), 0);
}

/* Hierarchical attributes in table descriptors: APTable[1] no write,
 * APTable[0] no EL0, PXNTable, UXNTable (D8.4 "Hierarchical permissions"). */
static void test_mmu_translate_el10_table_attributes(void **state)
{
    struct tmem *m = *state;
    static const uint64_t tbits[4] = { MMU_TBL_AP_RO, MMU_TBL_AP_NOEL0, MMU_TBL_PXN, MMU_TBL_UXN };
    static const struct { enum mmu_access acc; bool el0; } denied[4] = {
        { MMU_ACC_WRITE, false }, { MMU_ACC_READ, true }, { MMU_ACC_EXEC, false }, { MMU_ACC_EXEC, true },
    };

    for (unsigned i = 0; i < 4; i++) {
        uint64_t r0 = alloc_pages(m, 1);
        struct mmu_ctx c = ctx_el10(m, r0, 0);
        struct mmu_result r;
        struct mmu_fault f;
        uint64_t slot;

        /* AP=01 (EL0 RW), except for PXNTable: EL0-writable is PXN anyway */
        map(m, r0, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL | (i == 2 ? 0 : MMU_S1_AP_EL0)), 3);
        assert_int_equal(mmu_translate(&c, VA_A, denied[i].acc, denied[i].el0, &r, &f), 0);
        /* set the bit in the level-1 table descriptor */
        slot = r0 + ((VA_A >> 39) & 511) * 8;
        slot = mmu_desc_oa(rd(m, slot)) + ((VA_A >> 30) & 511) * 8;
        wr(m, slot, rd(m, slot) | tbits[i]);
        assert_int_equal(mmu_translate(&c, VA_A, denied[i].acc, denied[i].el0, &r, &f), -1);
        expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    }
}

/* ASID from TTBR0 or TTBR1 per TCR_EL1.A1, 8 bits unless TCR_EL1.AS; nG. */
static void test_mmu_translate_el10_asid_and_ng(void **state)
{
    struct tmem *m = *state;
    uint64_t r0 = alloc_pages(m, 1), r1 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0 | (0x1234ull << 48), r1 | (0x5678ull << 48));
    struct mmu_result r;
    struct mmu_fault f;

    map(m, r0, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL | MMU_S1_NG), 3);
    map(m, r0, &G_S1, VA_A + 0x1000, mmu_desc_page(0x1000, S1_NORMAL), 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_true(r.ng);
    assert_int_equal(r.asid, 0x34);
    c.s1.tcr |= 1ull << 36;   /* AS: 16-bit ASID */
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.asid, 0x1234);
    c.s1.tcr |= 1ull << 22;   /* A1: ASID from TTBR1 */
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.asid, 0x5678);
    assert_int_equal(mmu_translate(&c, VA_A + 0x1000, MMU_ACC_READ, false, &r, &f), 0);
    assert_false(r.ng);
}

/* ---- Stage 2 ---------------------------------------------------------- */

/* Stage 1 off, stage 2 on: IPA=VA, page at stage-2 level 3, VMID. */
static void test_mmu_translate_s2_page(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t dpa = map(m, s2, &G_S2, 0x40001000, mmu_desc_page(0x90005000, S2_NORMAL), 3);

    c.s1.m = false;
    ctx_s2(&c, s2, VTCR_DEFAULT, 7);
    assert_int_equal(mmu_translate(&c, 0x40001abc, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.ipa, 0x40001abc);
    assert_int_equal(r.pa, 0x90005abc);
    assert_int_equal(r.s2_level, 3);
    assert_int_equal(r.s2_shift, 12);
    assert_int_equal(r.s2_desc_pa, dpa);
    assert_int_equal(r.vmid, 7);
    assert_int_equal(r.s2_perms, MMU_P_ALL);
    assert_int_equal(m->reads, 3);       /* levels 1, 2, 3 */
    /* stage 1 off gives Device regardless of stage 2 */
    assert_true(r.attrs.device);
}

/* Stage-2 blocks at levels 1 and 2. */
static void test_mmu_translate_s2_blocks(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, s2, &G_S2, 0x40000000, mmu_desc_block(0x80000000, S2_NORMAL), 1);
    map(m, s2, &G_S2, 0x00200000, mmu_desc_block(0x00a00000, S2_NORMAL), 2);
    c.s1.m = false;
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, 0x4abcdef0, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0x8abcdef0);
    assert_int_equal(r.s2_level, 1);
    assert_int_equal(r.s2_shift, 30);
    assert_int_equal(mmu_translate(&c, 0x002fedc8, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0x00afedc8);
    assert_int_equal(r.s2_level, 2);
    assert_int_equal(r.s2_shift, 21);
}

/* S2AP (R, W) and stage-2 XN for both ELs; faults are stage 2 with the IPA. */
static void test_mmu_translate_s2_permission_faults(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    const uint64_t base = MMU_AF | MMU_S2_MEMATTR(0xf);

    map(m, s2, &G_S2, 0x1000, mmu_desc_page(0x1000, base | MMU_S2AP_R), 3);
    map(m, s2, &G_S2, 0x2000, mmu_desc_page(0x2000, base | MMU_S2AP_W), 3);
    map(m, s2, &G_S2, 0x3000, mmu_desc_page(0x3000, base | MMU_S2AP_R | MMU_S2_XN), 3);
    c.s1.m = false;
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, true, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, 0x1010, MMU_ACC_WRITE, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 3);
    assert_true(f.ipa_valid);
    assert_int_equal(f.ipa, 0x1010);
    assert_false(f.s1ptw);
    assert_int_equal(mmu_translate(&c, 0x2000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 3);
    assert_int_equal(mmu_translate(&c, 0x2000, MMU_ACC_WRITE, false, &r, &f), 0);
    /* instruction fetch needs only XN=0 at stage 2 */
    assert_int_equal(mmu_translate(&c, 0x2000, MMU_ACC_EXEC, false, &r, &f), 0);
    assert_int_equal(mmu_translate(&c, 0x3000, MMU_ACC_EXEC, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 3);
    assert_int_equal(mmu_translate(&c, 0x3000, MMU_ACC_EXEC, true, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 3);
}

/* Stage-2 Translation and Access flag faults carry their level and IPA. */
static void test_mmu_translate_s2_translation_and_af_faults(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t dpa;

    map(m, s2, &G_S2, 0x40000000, 0, 2);                   /* L2 table, empty */
    dpa = map(m, s2, &G_S2, 0x1000, mmu_desc_page(0x1000, S2_NORMAL & ~MMU_AF), 3);
    c.s1.m = false;
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, 0x40000000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 2, 2);
    assert_int_equal(f.ipa, 0x40000000);
    assert_int_equal(mmu_translate(&c, 0x80000000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 2, 1);
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ACCESS_FLAG, 2, 3);
    c.ha = true;
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), 0);
    assert_true(rd(m, dpa) & MMU_AF);
}

/* IPA beyond the VTCR_EL2.T0SZ range: stage-2 level-0 Translation fault. */
static void test_mmu_translate_s2_ipa_out_of_range(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    c.s1.m = false;
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, 1ull << 39, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 2, 0);
    assert_int_equal(f.ipa, 1ull << 39);
}

/* VTCR_EL2.{T0SZ,SL0} inconsistent (AArch64.S2InconsistentSL) or SL0
 * reserved: stage-2 level-0 Translation fault. */
static void test_mmu_translate_s2_inconsistent_sl0(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, s2, &G_S2, 0x1000, mmu_desc_page(0x1000, S2_NORMAL), 3);
    c.s1.m = false;
    ctx_s2(&c, s2, VTCR(16, 0, 5), 1);                    /* 48-bit IPA from level 2 */
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 2, 0);
    ctx_s2(&c, s2, VTCR(25, 3, 5), 1);                    /* SL0=3 reserved */
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 2, 0);
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), 0);
}

/* VTTBR_EL2 base beyond VTCR_EL2.PS: stage-2 level-0 Address size fault;
 * a stage-2 output address beyond PS: Address size fault at the leaf. */
static void test_mmu_translate_s2_address_size_fault(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, s2, &G_S2, 0x1000, mmu_desc_page(1ull << 36, S2_NORMAL), 3);
    c.s1.m = false;
    ctx_s2(&c, s2, VTCR(25, 1, 1), 1);                    /* PS = 36 bits */
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ADDR_SIZE, 2, 3);
    ctx_s2(&c, s2 | (1ull << 36), VTCR(25, 1, 1), 1);
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_ADDR_SIZE, 2, 0);
}

/* Concatenated start tables (D8.2 "Concatenated translation tables"):
 * T0SZ=24/SL0=1 gives 2 level-1 tables, T0SZ=21/SL0=1 gives 16. */
static void test_mmu_translate_s2_concatenated_tables(void **state)
{
    struct tmem *m = *state;
    struct mmu_geom g;
    uint64_t s2;
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    const uint64_t ipa2 = 0x8040000000ull + 0x3000;        /* index 513: table 1 */
    const uint64_t ipa16 = 0x7c040001000ull;                /* index 7937: table 15 */
    uint64_t dpa;

    c.s1.m = false;
    assert_int_equal(mmu_s2_geom(VTCR(24, 1, 5), &g), 0);
    assert_int_equal(g.concat, 2);
    s2 = alloc_pages(m, 2);
    dpa = map(m, s2, &g, ipa2, mmu_desc_page(0x123000, S2_NORMAL), 3);
    ctx_s2(&c, s2, VTCR(24, 1, 5), 1);
    assert_int_equal(mmu_translate(&c, ipa2 + 4, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0x123004);
    assert_int_equal(r.s2_desc_pa, dpa);
    /* the level-1 descriptor lives in the second concatenated table */
    assert_true(rd(m, s2 + 4096 + 8) & MMU_DESC_VALID);

    assert_int_equal(mmu_s2_geom(VTCR(21, 1, 5), &g), 0);
    assert_int_equal(g.concat, 16);
    s2 = alloc_pages(m, 16);
    map(m, s2, &g, ipa16, mmu_desc_page(0x456000, S2_NORMAL), 3);
    assert_true(rd(m, s2 + 7937 * 8) & MMU_DESC_VALID);
    ctx_s2(&c, s2, VTCR(21, 1, 5), 1);
    assert_int_equal(mmu_translate(&c, ipa16 + 0x10, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.pa, 0x456010);
    assert_int_equal(r.s2_level, 3);
}

/* Dirty state at stage 2: a write to a DBM=1 page without S2AP W sets it. */
static void test_mmu_translate_s2_hd_dbm_sets_s2ap_w(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t dpa = map(m, s2, &G_S2, 0x1000,
                       mmu_desc_page(0x1000, (S2_NORMAL & ~MMU_S2AP_W) | MMU_DBM), 3);

    c.s1.m = false;
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    c.ha = true;
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_WRITE, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 3);
    c.hd = true;
    assert_int_equal(mmu_translate(&c, 0x1000, MMU_ACC_WRITE, false, &r, &f), 0);
    assert_true(rd(m, dpa) & MMU_S2AP_W);
}

/* ---- Both stages ------------------------------------------------------ */

/* Two-stage translation: stage-1 tables are IPAs mapped by stage 2. */
static void test_mmu_translate_two_stage_page(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1), r0 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t s1pa, s2pa;

    s2_map_tables(m, s2, S2_NORMAL);
    s1pa = map(m, r0, &G_S1, VA_A, mmu_desc_page(0x40005000, S1_NORMAL), 3);
    s2pa = map(m, s2, &G_S2, 0x40005000, mmu_desc_page(0x88008000, S2_NORMAL), 3);
    ctx_s2(&c, s2, VTCR_DEFAULT, 9);
    assert_int_equal(mmu_translate(&c, VA_A + 0x44, MMU_ACC_WRITE, false, &r, &f), 0);
    assert_int_equal(r.ipa, 0x40005044);
    assert_int_equal(r.pa, 0x88008044);
    assert_int_equal(r.s1_level, 3);
    assert_int_equal(r.s2_level, 3);
    assert_int_equal(r.s1_desc_pa, s1pa);
    assert_int_equal(r.s2_desc_pa, s2pa);
    assert_int_equal(r.vmid, 9);
    assert_true(r.attrs.cacheable);
    /* 4 stage-1 reads, each after a 2-read stage-2 walk; then 3 reads */
    assert_int_equal(m->reads, 4 * 3 + 3);
}

/* Stage-1 table addresses really are translated: the stage-1 root is at
 * IPA 0x7000000 which stage 2 maps to the PA where it lives. */
static void test_mmu_translate_two_stage_table_ipa_translated(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1), root = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0x7000000, 0);
    struct mmu_result r;
    struct mmu_fault f;

    c.s1.tcr = (c.s1.tcr & ~0x3full) | 25;               /* ia 39: start L1 */
    wr(m, root + 1 * 8, mmu_desc_block(0x40000000, S1_NORMAL));   /* VA 1 GiB */
    map(m, s2, &G_S2, 0x7000000, mmu_desc_page(root, S2_NORMAL), 3);
    map(m, s2, &G_S2, 0x40000000, mmu_desc_block(0x80000000, S2_NORMAL), 1);
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, 0x40001234, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(r.ipa, 0x40001234);
    assert_int_equal(r.pa, 0x80001234);
    assert_int_equal(r.s1_desc_pa, root + 8);
    assert_int_equal(r.s1_level, 1);
    assert_int_equal(r.s2_level, 1);
}

/* A stage-2 fault while translating a stage-1 table address: stage 2,
 * S1PTW set, the descriptor's IPA (HPFAR), the stage-2 level. */
static void test_mmu_translate_s1ptw_translation_fault(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0x7000000, 0);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, s2, &G_S2, 0x7000000, 0, 3);                  /* tables down to L3, empty */
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_WRITE, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 2, 3);
    assert_true(f.s1ptw);
    assert_true(f.ipa_valid);
    assert_int_equal(f.ipa, 0x7000000 + ((VA_A >> 39) & 511) * 8);
    assert_int_equal(f.va, VA_A);
    assert_int_equal(mmu_fault_to_hpfar(&f), (0x7000ull) << 4);
    assert_true(mmu_fault_to_esr(&f, true) & (1u << 7));
}

/* S1PTW permission fault: the stage-1 table page has no S2AP read. */
static void test_mmu_translate_s1ptw_permission_fault(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1), r0 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    s2_map_tables(m, s2, (S2_NORMAL & ~MMU_S2AP_R));
    map(m, r0, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL), 3);
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_EXEC, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 2);
    assert_true(f.s1ptw);
    assert_int_equal(f.ipa, r0 + ((VA_A >> 39) & 511) * 8);
    assert_int_equal(mmu_fault_to_esr(&f, true) >> 26, 0x20);
}

/* Hardware AF update of a stage-1 descriptor is a stage-2 write: it needs
 * S2AP W on the table page, else an S1PTW Permission fault. */
static void test_mmu_translate_s1ptw_ha_update_needs_s2_write(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1), r0 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, 0);
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t dpa;

    s2_map_tables(m, s2, (S2_NORMAL & ~MMU_S2AP_W));
    dpa = map(m, r0, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL & ~MMU_AF), 3);
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    c.ha = true;
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 2);
    assert_true(f.s1ptw);
    assert_int_equal(f.ipa, dpa);
    assert_false(rd(m, dpa) & MMU_AF);
}

/* A stage-1 Permission fault is reported before any stage-2 fault on the
 * output IPA. */
static void test_mmu_translate_two_stage_s1_fault_first(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1), r0 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    s2_map_tables(m, s2, S2_NORMAL);
    map(m, r0, &G_S1, VA_A, mmu_desc_page(0x40000000, S1_NORMAL | MMU_S1_AP_RO), 3);
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);        /* IPA 0x40000000 unmapped at stage 2 */
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_WRITE, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_TRANSLATION, 2, 1);
    assert_false(f.s1ptw);
    assert_int_equal(f.ipa, 0x40000000);
}

/* Combining attributes: Device if either stage, cacheable only if both. */
static void test_mmu_translate_two_stage_attribute_combination(void **state)
{
    struct tmem *m = *state;
    static const struct {
        unsigned s1idx; uint8_t s2attr; bool device, cacheable;
    } cases[] = {
        { 0, 0xf, false, true },   /* WB + WB */
        { 0, 0x5, false, false },  /* WB + NC */
        { 0, 0xd, false, false },  /* WB + outer WB inner NC */
        { 0, 0x0, true, false },   /* WB + Device */
        { 2, 0xf, false, false },  /* NC + WB */
        { 1, 0xf, true, false },   /* Device + WB */
        { 0, 0xa, false, true },   /* WB + WT */
    };

    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t s2 = alloc_pages(m, 1), r0 = alloc_pages(m, 1);
        struct mmu_ctx c = ctx_el10(m, r0, 0);
        struct mmu_result r;
        struct mmu_fault f;

        s2_map_tables(m, s2, S2_NORMAL);
        map(m, r0, &G_S1, VA_A, mmu_desc_page(0x40000000, MMU_AF | MMU_S1_ATTRINDX(cases[i].s1idx)), 3);
        map(m, s2, &G_S2, 0x40000000, mmu_desc_page(0x40000000,
            MMU_AF | MMU_S2AP_R | MMU_S2_MEMATTR(cases[i].s2attr)), 3);
        ctx_s2(&c, s2, VTCR_DEFAULT, 1);
        assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
        assert_int_equal(r.attrs.device, cases[i].device);
        assert_int_equal(r.attrs.cacheable, cases[i].cacheable);
        assert_int_equal(r.attrs.s2_memattr, cases[i].s2attr);
    }
}

/* Nested walk cacheability: stage-1 reads are cacheable only if TCR says
 * so and stage 2 maps the table page cacheable; stage-2 walks follow
 * VTCR_EL2.IRGN0/ORGN0. */
static void test_mmu_translate_two_stage_walk_cacheability(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1), r0 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, r0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    s2_map_tables(m, s2, (S2_NORMAL & ~MMU_S2_MEMATTR(0xf)) | MMU_S2_MEMATTR(MMU_S2_MEMATTR_NORMAL_NC));
    map(m, r0, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL), 3);   /* IPA in the block */
    ctx_s2(&c, s2, VTCR_DEFAULT, 1);
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    /* 4 stage-1 reads NC (table page NC at stage 2); 4*2+2 stage-2 reads WB */
    assert_int_equal(m->reads_noncacheable, 4);
    assert_int_equal(m->reads_cacheable, 10);
    c.s2.vtcr &= ~(3ull << 10);                         /* ORGN0 = NC */
    assert_int_equal(mmu_translate(&c, VA_A, MMU_ACC_READ, false, &r, &f), 0);
    assert_int_equal(m->reads_noncacheable, 4 + 14);
    assert_int_equal(m->reads_cacheable, 10);
}

/* mmu_translate_s2: stage 2 alone, combined with the stage-1 cacheability. */
static void test_mmu_translate_s2_alone(void **state)
{
    struct tmem *m = *state;
    uint64_t s2 = alloc_pages(m, 1);
    struct mmu_ctx c = ctx_el10(m, 0, 0);
    struct mmu_result r;
    struct mmu_fault f;

    map(m, s2, &G_S2, 0x5000, mmu_desc_page(0x9000, S2_NORMAL), 3);
    map(m, s2, &G_S2, 0x6000, mmu_desc_page(0xa000, MMU_AF | MMU_S2AP_R), 3);  /* Device */
    ctx_s2(&c, s2, VTCR_DEFAULT, 3);
    assert_int_equal(mmu_translate_s2(&c, 0x5008, MMU_ACC_READ, true, &r, &f), 0);
    assert_int_equal(r.pa, 0x9008);
    assert_true(r.attrs.cacheable);
    assert_int_equal(r.vmid, 3);
    assert_int_equal(mmu_translate_s2(&c, 0x5008, MMU_ACC_READ, false, &r, &f), 0);
    assert_false(r.attrs.cacheable);
    assert_int_equal(mmu_translate_s2(&c, 0x6000, MMU_ACC_READ, true, &r, &f), 0);
    assert_true(r.attrs.device);
    assert_int_equal(mmu_translate_s2(&c, 0x6000, MMU_ACC_WRITE, true, &r, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 3);
    assert_int_equal(f.ipa, 0x6000);
}

/* ---- mmu_check_perms --------------------------------------------------- */

static void test_mmu_check_perms_stage1_then_stage2(void **state)
{
    struct mmu_result r;
    struct mmu_fault f;

    (void)state;
    memset(&r, 0, sizeof r);
    r.va = 0x1000;
    r.ipa = 0x55000;
    r.s1_level = 3;
    r.s2_level = 2;
    r.s1_perms = MMU_P_R;
    r.s2_perms = MMU_P_R | MMU_P_UR;
    assert_int_equal(mmu_check_perms(&r, MMU_ACC_READ, false, &f), 0);
    assert_int_equal(mmu_check_perms(&r, MMU_ACC_WRITE, false, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 1, 3);
    assert_int_equal(f.va, 0x1000);
    r.s1_perms = MMU_P_ALL;
    assert_int_equal(mmu_check_perms(&r, MMU_ACC_WRITE, true, &f), -1);
    expect_fault(&f, MMU_FAULT_PERMISSION, 2, 2);
    assert_true(f.ipa_valid);
    assert_int_equal(f.ipa, 0x55000);
    assert_int_equal(mmu_check_perms(&r, MMU_ACC_READ, true, &f), 0);
}

/* ---- Syndromes --------------------------------------------------------- */

/* DFSC/IFSC encodings, ESR_ELx ISS for Data/Instruction Aborts. */
static void test_mmu_fault_status_code_all_kinds(void **state)
{
    static const struct { enum mmu_fault_type t; uint32_t base; } k[] = {
        { MMU_FAULT_ADDR_SIZE, 0x00 }, { MMU_FAULT_TRANSLATION, 0x04 },
        { MMU_FAULT_ACCESS_FLAG, 0x08 }, { MMU_FAULT_PERMISSION, 0x0c },
        { MMU_FAULT_EXTERNAL, 0x14 },
    };
    struct mmu_fault f;

    (void)state;
    memset(&f, 0, sizeof f);
    for (unsigned i = 0; i < 5; i++)
        for (int l = 0; l < 4; l++) {
            f.type = k[i].t;
            f.level = l;
            assert_int_equal(mmu_fault_status_code(&f), k[i].base | (uint32_t)l);
        }
}

static void test_mmu_fault_to_esr_data_abort(void **state)
{
    struct mmu_fault f;

    (void)state;
    memset(&f, 0, sizeof f);
    f.type = MMU_FAULT_TRANSLATION;
    f.stage = 2;
    f.level = 3;
    f.acc = MMU_ACC_WRITE;
    /* EC 0x24, IL, WnR, DFSC 0b000111 */
    assert_int_equal(mmu_fault_to_esr(&f, true), (0x24ull << 26) | (1u << 25) | (1u << 6) | 0x07);
    f.acc = MMU_ACC_READ;
    f.type = MMU_FAULT_PERMISSION;
    f.level = 1;
    assert_int_equal(mmu_fault_to_esr(&f, false), (0x25ull << 26) | (1u << 25) | 0x0d);
    f.s1ptw = true;
    assert_int_equal(mmu_fault_to_esr(&f, true), (0x24ull << 26) | (1u << 25) | (1u << 7) | 0x0d);
}

static void test_mmu_fault_to_esr_instruction_abort(void **state)
{
    struct mmu_fault f;

    (void)state;
    memset(&f, 0, sizeof f);
    f.type = MMU_FAULT_ACCESS_FLAG;
    f.level = 2;
    f.acc = MMU_ACC_EXEC;
    assert_int_equal(mmu_fault_to_esr(&f, true), (0x20ull << 26) | (1u << 25) | 0x0a);
    assert_int_equal(mmu_fault_to_esr(&f, false), (0x21ull << 26) | (1u << 25) | 0x0a);
}

/* HPFAR_EL2.FIPA = IPA[47:12] at bits [43:4]; stage-1 faults have none. */
static void test_mmu_fault_to_hpfar_fipa(void **state)
{
    struct mmu_fault f;

    (void)state;
    memset(&f, 0, sizeof f);
    f.type = MMU_FAULT_TRANSLATION;
    f.stage = 2;
    f.ipa = 0xfedcba987654ull;
    f.ipa_valid = true;
    assert_int_equal(mmu_fault_to_hpfar(&f), 0xfedcba987ull << 4);
    f.stage = 1;
    assert_int_equal(mmu_fault_to_hpfar(&f), 0);
}

/* ---- Geometry ---------------------------------------------------------- */

static void test_mmu_s1_geom_start_level(void **state)
{
    static const struct { unsigned tsz; int level; } k[] = {
        { 16, 0 }, { 24, 0 }, { 25, 1 }, { 33, 1 }, { 34, 2 }, { 39, 2 },
    };
    struct mmu_geom g;

    (void)state;
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(mmu_s1_geom(MMU_REGIME_EL2, k[i].tsz | TCR_EL2_PS(2), false, &g), 0);
        assert_int_equal(g.start_level, k[i].level);
        assert_int_equal(g.ia_bits, 64 - k[i].tsz);
        assert_int_equal(g.oa_bits, 40);
        assert_int_equal(g.concat, 1);
    }
    assert_int_equal(mmu_s1_geom(MMU_REGIME_EL10, (25ull << 16) | TCR_EL1_IPS(3), true, &g), 0);
    assert_int_equal(g.ia_bits, 39);
    assert_int_equal(g.oa_bits, 42);
    assert_int_equal(mmu_s1_geom(MMU_REGIME_EL2, 15, false, &g), -1);
    assert_int_equal(mmu_s1_geom(MMU_REGIME_EL2, 40, false, &g), -1);
    assert_int_equal(mmu_s1_geom(MMU_REGIME_EL2, 16, true, &g), -1);
}

static void test_mmu_s2_geom_sl0(void **state)
{
    static const struct { unsigned tsz, sl0; int ok, level; unsigned concat; } k[] = {
        { 16, 2, 0, 0, 1 }, { 25, 1, 0, 1, 1 }, { 24, 1, 0, 1, 2 }, { 21, 1, 0, 1, 16 },
        { 20, 1, -1, 0, 0 }, { 34, 0, 0, 2, 1 }, { 30, 0, 0, 2, 16 }, { 29, 0, -1, 0, 0 },
        { 16, 1, -1, 0, 0 }, { 33, 1, 0, 1, 1 }, { 34, 1, -1, 0, 0 }, { 25, 3, -1, 0, 0 },
        { 25, 2, -1, 0, 0 },
    };
    struct mmu_geom g;

    (void)state;
    for (unsigned i = 0; i < sizeof k / sizeof k[0]; i++) {
        int rc = mmu_s2_geom(VTCR(k[i].tsz, k[i].sl0, 4), &g);
        assert_int_equal(rc, k[i].ok);
        if (rc == 0) {
            assert_int_equal(g.start_level, k[i].level);
            assert_int_equal(g.concat, k[i].concat);
            assert_int_equal(g.oa_bits, 44);
        }
    }
}

/* ---- Visitor ----------------------------------------------------------- */

struct rec {
    unsigned n;
    struct mmu_visit v[16];
    unsigned stop_at;
};

static int record(const struct mmu_visit *v, void *arg)
{
    struct rec *r = arg;

    if (r->n < 16)
        r->v[r->n] = *v;
    r->n++;
    return r->n == r->stop_at ? 7 : 0;
}

static void test_mmu_walk_tables_depth_first(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct rec rc = { 0 };

    map(m, root, &G_S1, 0x40000000, mmu_desc_block(0x80000000, S1_NORMAL), 1);
    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL), 3);
    map(m, root, &G_S1, 0x200000, mmu_desc_block(0x400000, S1_NORMAL), 2);
    map(m, root, &G_S1, 0, mmu_desc_block(0, S1_NORMAL), 3);   /* reserved: skipped */
    assert_int_equal(mmu_walk_tables(&(struct mmu_mem_ops){ t_read, t_write, m }, 1, root,
                                     &G_S1, record, &rc), 0);
    /* L0[0] table, L1[0] table, L2[0] table, L2[1] block, L1[1] block,
     * L0[36] table, L1, L2 tables, L3 page */
    assert_int_equal(rc.n, 9);
    assert_int_equal(rc.v[0].level, 0);
    assert_false(rc.v[0].leaf);
    assert_int_equal(rc.v[0].shift, 39);
    assert_int_equal(rc.v[2].level, 2);
    assert_false(rc.v[2].leaf);
    assert_int_equal(rc.v[3].in_addr, 0x200000);
    assert_true(rc.v[3].leaf);
    assert_int_equal(rc.v[3].shift, 21);
    assert_int_equal(rc.v[4].in_addr, 0x40000000);
    assert_int_equal(rc.v[4].level, 1);
    assert_true(rc.v[4].leaf);
    assert_int_equal(rc.v[8].in_addr, VA_A);
    assert_int_equal(rc.v[8].level, 3);
    assert_true(rc.v[8].leaf);
    assert_int_equal(rc.v[8].shift, 12);
    assert_int_equal(mmu_desc_oa(rc.v[8].desc), 0x1000);
    assert_int_equal(rc.v[8].desc_pa, map(m, root, &G_S1, VA_A, rc.v[8].desc, 3));
}

static void test_mmu_walk_tables_stop_and_errors(void **state)
{
    struct tmem *m = *state;
    uint64_t root = alloc_pages(m, 1);
    struct mmu_mem_ops ops = { t_read, t_write, m };
    struct rec rc = { 0 };
    struct mmu_geom bad = { 48, 48, 2, 1 };   /* 27 bits at level 2 */

    map(m, root, &G_S1, VA_A, mmu_desc_page(0x1000, S1_NORMAL), 3);
    rc.stop_at = 2;
    assert_int_equal(mmu_walk_tables(&ops, 1, root, &G_S1, record, &rc), 7);
    assert_int_equal(rc.n, 2);
    assert_int_equal(mmu_walk_tables(&ops, 1, root, &bad, record, &rc), -1);
    assert_int_equal(mmu_walk_tables(&ops, 3, root, &G_S1, record, &rc), -1);
    rc.n = 0;
    rc.stop_at = 0;
    m->fail_pa = map(m, root, &G_S1, VA_A, 0, 2);
    assert_int_equal(mmu_walk_tables(&ops, 1, root, &G_S1, record, &rc), -1);
}

static void test_mmu_walk_tables_concatenated(void **state)
{
    struct tmem *m = *state;
    struct mmu_mem_ops ops = { t_read, t_write, m };
    struct mmu_geom g;
    struct rec rc = { 0 };
    uint64_t s2;

    assert_int_equal(mmu_s2_geom(VTCR(24, 1, 5), &g), 0);
    s2 = alloc_pages(m, 2);
    map(m, s2, &g, 0x8040000000ull, mmu_desc_block(0x40000000, S2_NORMAL), 1);
    assert_int_equal(mmu_walk_tables(&ops, 2, s2, &g, record, &rc), 0);
    assert_int_equal(rc.n, 1);
    assert_int_equal(rc.v[0].in_addr, 0x8040000000ull);
    assert_int_equal(rc.v[0].desc_pa, s2 + 513 * 8);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mmu_translate_el2_page),
        T(test_mmu_translate_el2_block_level1),
        T(test_mmu_translate_el2_block_level2),
        T(test_mmu_translate_el2_ap_ro_permission_fault),
        T(test_mmu_translate_el2_ap1_ignored_and_xn),
        T(test_mmu_translate_translation_fault_level0),
        T(test_mmu_translate_translation_fault_level1),
        T(test_mmu_translate_translation_fault_level2),
        T(test_mmu_translate_translation_fault_level3),
        T(test_mmu_translate_block_at_level0_invalid),
        T(test_mmu_translate_level3_block_encoding_invalid),
        T(test_mmu_translate_access_flag_fault),
        T(test_mmu_translate_access_flag_before_permission),
        T(test_mmu_translate_ha_sets_access_flag),
        T(test_mmu_translate_hd_dbm_clears_ap_ro),
        T(test_mmu_translate_address_size_fault),
        T(test_mmu_translate_external_abort_on_walk),
        T(test_mmu_translate_txsz_out_of_range),
        T(test_mmu_translate_s1_disabled_flat),
        T(test_mmu_translate_mair_attributes),
        T(test_mmu_translate_walk_cacheability),
        T(test_mmu_translate_el10_ttbr0_ttbr1_select),
        T(test_mmu_translate_el10_va_range_and_epd),
        T(test_mmu_translate_el10_ap_permissions),
        T(test_mmu_translate_el10_pxn_uxn_wxn),
        T(test_mmu_translate_el10_table_attributes),
        T(test_mmu_translate_el10_asid_and_ng),
        T(test_mmu_translate_s2_page),
        T(test_mmu_translate_s2_blocks),
        T(test_mmu_translate_s2_permission_faults),
        T(test_mmu_translate_s2_translation_and_af_faults),
        T(test_mmu_translate_s2_ipa_out_of_range),
        T(test_mmu_translate_s2_inconsistent_sl0),
        T(test_mmu_translate_s2_address_size_fault),
        T(test_mmu_translate_s2_concatenated_tables),
        T(test_mmu_translate_s2_hd_dbm_sets_s2ap_w),
        T(test_mmu_translate_two_stage_page),
        T(test_mmu_translate_two_stage_table_ipa_translated),
        T(test_mmu_translate_s1ptw_translation_fault),
        T(test_mmu_translate_s1ptw_permission_fault),
        T(test_mmu_translate_s1ptw_ha_update_needs_s2_write),
        T(test_mmu_translate_two_stage_s1_fault_first),
        T(test_mmu_translate_two_stage_attribute_combination),
        T(test_mmu_translate_two_stage_walk_cacheability),
        T(test_mmu_translate_s2_alone),
        T(test_mmu_check_perms_stage1_then_stage2),
        T(test_mmu_fault_status_code_all_kinds),
        T(test_mmu_fault_to_esr_data_abort),
        T(test_mmu_fault_to_esr_instruction_abort),
        T(test_mmu_fault_to_hpfar_fipa),
        T(test_mmu_s1_geom_start_level),
        T(test_mmu_s2_geom_sl0),
        T(test_mmu_walk_tables_depth_first),
        T(test_mmu_walk_tables_stop_and_errors),
        T(test_mmu_walk_tables_concatenated),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
