/*
 * mmu/mmu.c - VMSAv8-64 address translation, 4 KiB granule.
 *
 * Models what mmu/mmu.h lists: stage 1 of the EL2 and EL1&0 regimes, stage 2,
 * and the nested case where each stage-1 table address is an IPA that goes
 * through stage 2. One walker serves both stages and every level: a walk
 * context (struct walk) advanced one level at a time by walk_step(); the
 * decoding of a descriptor, the permission check and the attribute
 * combination are separate functions, as in QEMU target/arm/ptw.c and the
 * Arm ARM pseudocode (AArch64.S1Walk/S2Walk, AArch64.S1CheckPermissions,
 * S2CombineS1MemAttrs).
 *
 * Section names refer to DDI 0487 (J.a), chapter D8 "The AArch64 Virtual
 * Memory System Architecture", and D17 for the syndrome registers.
 *
 * Implementation choices where the architecture leaves one (each is marked
 * CHOICE below): TxSZ outside [16, 39] gives a level-0 Translation fault (as
 * QEMU); PS/IPS above the implemented PA size (48 bits here) is treated as
 * 48; hardware updates happen only when the access succeeds (as QEMU); a
 * NULL write_desc drops the hardware update silently.
 * Leaves out: what mmu.h leaves out, plus alignment faults, HCR_EL2.PTW/DC/CD,
 * SCTLR.I (instruction fetches with stage 1 off are reported as Device).
 */
#include "mmu/mmu.h"

#include <stddef.h>
#include <string.h>

/* ---- Register fields (D17 TCR_EL1, TCR_EL2, VTCR_EL2) ----------------- */
#define TCR_EPD0            (1ull << 7)
#define TCR_IRGN0(t)        ((unsigned)(((t) >> 8) & 3))
#define TCR_ORGN0(t)        ((unsigned)(((t) >> 10) & 3))
#define TCR_A1              (1ull << 22)
#define TCR_EPD1            (1ull << 23)
#define TCR_IRGN1(t)        ((unsigned)(((t) >> 24) & 3))
#define TCR_ORGN1(t)        ((unsigned)(((t) >> 26) & 3))
#define TCR_EL2_PS(t)       ((unsigned)(((t) >> 16) & 7))
#define TCR_EL1_IPS(t)      ((unsigned)(((t) >> 32) & 7))
#define TCR_EL1_AS          (1ull << 36)
#define VTCR_T0SZ(v)        ((unsigned)((v) & 0x3f))
#define VTCR_SL0(v)         ((unsigned)(((v) >> 6) & 3))
#define VTCR_IRGN0(v)       ((unsigned)(((v) >> 8) & 3))
#define VTCR_ORGN0(v)       ((unsigned)(((v) >> 10) & 3))
#define VTCR_PS(v)          ((unsigned)(((v) >> 16) & 7))

/* Implemented physical address size (ID_AA64MMFR0_EL1.PARange = 48 bits). */
#define MMU_PAMAX_BITS      48u
/* TxSZ limits for the 4 KiB granule without FEAT_LVA/FEAT_TTST
 * (D8 "Input address size", AArch64.S1MinTxSZ/MaxTxSZ). */
#define MMU_TXSZ_MIN        16u
#define MMU_TXSZ_MAX        39u
#define MMU_GRANULE_BITS    12u
#define MMU_STRIDE          9u

#define ESR_EC_SHIFT        26
#define ESR_IL              (1ull << 25)
#define ESR_ISS_WNR         (1ull << 6)
#define ESR_ISS_S1PTW       (1ull << 7)
#define EC_IABT_LOWER       0x20u
#define EC_IABT_SAME        0x21u
#define EC_DABT_LOWER       0x24u
#define EC_DABT_SAME        0x25u
#define HPFAR_FIPA_MASK     0x00000ffffffffff0ull   /* HPFAR_EL2.FIPA, bits [43:4] */

/* Input-address bit where the index for `level` starts: 39, 30, 21, 12. */
static unsigned level_shift(int level)
{
    return MMU_GRANULE_BITS + MMU_STRIDE * (unsigned)(3 - level);
}

/* PS/IPS encoding -> output address size (D8 "Output address size").
 * CHOICE: encodings above the implemented size behave as the implemented
 * size, as the Arm ARM requires for PS > PARange. */
static unsigned ps_to_bits(unsigned ps)
{
    static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48 };
    return ps < sizeof bits ? bits[ps] : MMU_PAMAX_BITS;
}

static bool oa_out_of_range(uint64_t oa, unsigned oa_bits)
{
    return oa_bits < 64 && (oa >> oa_bits) != 0;
}

/* Number of descriptors in the (possibly concatenated) table at `level`. */
static uint64_t table_entries(const struct mmu_geom *g, int level)
{
    if (level == g->start_level)
        return 1ull << (g->ia_bits - level_shift(level));
    return 1ull << MMU_STRIDE;
}

/* ---- Geometry ---------------------------------------------------------- */

int mmu_s1_geom(enum mmu_regime regime, uint64_t tcr, bool ttbr1, struct mmu_geom *g)
{
    unsigned tsz;

    if (regime == MMU_REGIME_EL2 && ttbr1)
        return -1;          /* the non-VHE EL2 regime has one VA range */
    tsz = ttbr1 ? MMU_TCR_T1SZ(tcr) : MMU_TCR_T0SZ(tcr);
    /* CHOICE: TxSZ out of range is IMPLEMENTATION DEFINED "as if in range"
     * or a level-0 Translation fault; like QEMU we fault. */
    if (tsz < MMU_TXSZ_MIN || tsz > MMU_TXSZ_MAX)
        return -1;
    g->ia_bits = 64 - tsz;
    g->oa_bits = ps_to_bits(regime == MMU_REGIME_EL2 ? TCR_EL2_PS(tcr)
                                                     : TCR_EL1_IPS(tcr));
    /* D8 "Translation table walk start level": the fewest levels whose
     * strides cover ia_bits - 12 bits. */
    g->start_level = 4 - (int)((g->ia_bits - MMU_GRANULE_BITS + MMU_STRIDE - 1) / MMU_STRIDE);
    g->concat = 1;
    return 0;
}

int mmu_s2_geom(uint64_t vtcr, struct mmu_geom *g)
{
    unsigned tsz = VTCR_T0SZ(vtcr), sl0 = VTCR_SL0(vtcr);
    unsigned levels, min_ia, max_ia, start_bits;
    int start;

    if (tsz < MMU_TXSZ_MIN || tsz > MMU_TXSZ_MAX)
        return -1;
    /* AArch64.S2InvalidSL, 4 KiB: SL0=3 is reserved without FEAT_LPA2;
     * SL0=2 (level 0) needs PAMax >= 44, always true here (48). */
    if (sl0 == 3)
        return -1;
    start = 2 - (int)sl0;
    g->ia_bits = 64 - tsz;
    /* AArch64.S2InconsistentSL: the start level must resolve at least one
     * bit and at most a full stride plus 4 bits of concatenation (up to 16
     * start tables) - D8 "Concatenated translation tables". */
    levels = 3u - (unsigned)start;
    min_ia = levels * MMU_STRIDE + MMU_GRANULE_BITS + 1;
    max_ia = min_ia + (MMU_STRIDE - 1) + 4;
    if (g->ia_bits < min_ia || g->ia_bits > max_ia)
        return -1;
    g->start_level = start;
    g->oa_bits = ps_to_bits(VTCR_PS(vtcr));
    start_bits = g->ia_bits - level_shift(start);
    g->concat = start_bits > MMU_STRIDE ? 1u << (start_bits - MMU_STRIDE) : 1u;
    return 0;
}

/* ---- Descriptor decoding (D8 "Translation table descriptor formats") - */

enum mmu_desc_kind mmu_desc_kind(uint64_t desc, int level)
{
    if (!(desc & MMU_DESC_VALID))
        return MMU_DK_INVALID;
    if (desc & MMU_DESC_TABLE)
        return level == 3 ? MMU_DK_PAGE : MMU_DK_TABLE;
    return (level == 1 || level == 2) ? MMU_DK_BLOCK : MMU_DK_INVALID;
}

/* ---- Permissions (D8 "Memory access control") ------------------------ */

/* Stage 1 permissions of a leaf after the hierarchical table controls
 * (D8 "Hierarchical permissions": APTable, PXNTable/UXNTable, XNTable)
 * have been folded in. tbl holds the ORed table bits 59-62. */
static uint8_t s1_perms(enum mmu_regime regime, uint64_t desc, uint64_t tbl, bool wxn)
{
    bool ro = (desc & MMU_S1_AP_RO) || (tbl & MMU_TBL_AP_RO);
    uint8_t p = MMU_P_R;

    if (regime == MMU_REGIME_EL2) {
        /* EL2 regime: AP[1] is RES1 and ignored, no EL0 access; bit 54 is
         * XN, bit 53 RES0; table bit 60 is XNTable, APTable[0] RES0. */
        if (!ro)
            p |= MMU_P_W;
        if (!(desc & MMU_S1_XN) && !(tbl & MMU_TBL_UXN) && !(wxn && !ro))
            p |= MMU_P_X;
        return p;
    }
    /* EL1&0 regime, AP[2:1] (D8 "Data access permissions"):
     *   00 EL1 RW / EL0 none, 01 RW / RW, 10 RO / none, 11 RO / RO.
     * APTable[0] removes EL0 access, APTable[1] removes write access. */
    bool el0 = (desc & MMU_S1_AP_EL0) && !(tbl & MMU_TBL_AP_NOEL0);
    bool pw = !ro, uw = el0 && !ro;
    if (pw)
        p |= MMU_P_W;
    if (el0)
        p |= MMU_P_UR;
    if (uw)
        p |= MMU_P_UW;
    /* Instruction access permissions: PXN/UXN plus the table versions; a
     * region writable at EL0 is implicitly PXN; WXN makes writable regions
     * execute-never at the ELs that can write them. EL0 execute does not
     * need EL0 read (execute-only memory). */
    bool px = !(desc & MMU_S1_PXN) && !(tbl & MMU_TBL_PXN) && !uw && !(wxn && pw);
    bool ux = !(desc & MMU_S1_UXN) && !(tbl & MMU_TBL_UXN) && !(wxn && uw);
    if (px)
        p |= MMU_P_X;
    if (ux)
        p |= MMU_P_UX;
    return p;
}

/* Stage 2 permissions (D8 "Stage 2 access permissions"): S2AP[0] read,
 * S2AP[1] write, XN (bit 54; XN[0] is FEAT_XNX, not modelled) for both ELs.
 * Instruction fetch does not need S2AP read. */
static uint8_t s2_perms(uint64_t desc)
{
    uint8_t p = 0;

    if (desc & MMU_S2AP_R)
        p |= MMU_P_R | MMU_P_UR;
    if (desc & MMU_S2AP_W)
        p |= MMU_P_W | MMU_P_UW;
    if (!(desc & MMU_S2_XN))
        p |= MMU_P_X | MMU_P_UX;
    return p;
}

static uint8_t perm_needed(enum mmu_access acc, bool el0)
{
    switch (acc) {
    case MMU_ACC_WRITE: return el0 ? MMU_P_UW : MMU_P_W;
    case MMU_ACC_EXEC:  return el0 ? MMU_P_UX : MMU_P_X;
    case MMU_ACC_READ:
    default:            return el0 ? MMU_P_UR : MMU_P_R;
    }
}

static bool perms_allow(uint8_t perms, enum mmu_access acc, bool el0)
{
    return (perms & perm_needed(acc, el0)) != 0;
}

/* ---- Memory attributes (D8 "Memory region attributes") --------------- */

static uint8_t mair_byte(uint64_t mair, unsigned attrindx)
{
    return (uint8_t)(mair >> (8 * (attrindx & 7)));
}

/* MAIR_ELx.Attr<n>: [7:4]==0000 is Device; otherwise Normal with outer
 * [7:4] and inner [3:0]; 0b0100 is Non-cacheable; inner 0b0000 with a
 * nonzero outer is UNPREDICTABLE and treated as Non-cacheable here. */
static bool mair_is_device(uint8_t a) { return (a & 0xf0) == 0; }
static bool mair_is_cacheable(uint8_t a)
{
    unsigned outer = a >> 4, inner = a & 0xf;
    return !mair_is_device(a) && outer != 4 && inner != 4 && inner != 0;
}

/* Stage 2 MemAttr[3:0] with HCR_EL2.FWB=0: [3:2]==00 Device; otherwise
 * Normal, outer [3:2] and inner [1:0] with 01 = Non-cacheable. */
static bool s2_is_device(uint8_t m) { return (m >> 2) == 0; }
static bool s2_is_cacheable(uint8_t m)
{
    return !s2_is_device(m) && (m >> 2) != 1 && (m & 3) != 1 && (m & 3) != 0;
}

/* Combining stage 1 and stage 2 attributes (D8 "Combining the stage 1
 * and stage 2 attributes", S2CombineS1MemAttrs): Device if either stage
 * says Device, cacheable only if both stages say cacheable. */
static struct mmu_attrs attrs_combine(bool s1_device, bool s1_cacheable, uint8_t s1_attr,
                                      bool s2_device, bool s2_cacheable, uint8_t s2_memattr)
{
    struct mmu_attrs a;

    a.device = s1_device || s2_device;
    a.cacheable = !a.device && s1_cacheable && s2_cacheable;
    a.s1_attr = s1_attr;
    a.s2_memattr = s2_memattr;
    return a;
}

/* ---- The walker --------------------------------------------------------- */

/* What one stage produced for one input address. */
struct stage_out {
    uint64_t oa;            /* output address of the access */
    int level;
    unsigned shift;
    uint8_t perms;
    uint64_t desc;          /* leaf descriptor (after hardware updates) */
    uint64_t desc_pa;
    uint64_t tbl;           /* stage 1: ORed table attribute bits */
};

/* A walk of one stage for one input address (cf. QEMU's S1Translate and
 * the pseudocode's TTWState). */
struct walk {
    const struct mmu_ctx *ctx;
    unsigned stage;
    struct mmu_geom g;
    uint64_t ia;            /* VA for stage 1, IPA for stage 2 */
    bool nested;            /* stage-1 table addresses are IPAs (stage 2 on) */
    bool cacheable;         /* walk cacheability from TCR/VTCR and SCTLR.C */
    int level;
    uint64_t table;         /* current table base (IPA when nested) */
    uint64_t tbl;           /* ORed hierarchical bits 59-62 (stage 1) */
    uint64_t desc, desc_pa;
    uint8_t desc_s2_perms;  /* nested: stage-2 permissions of desc's page */
    int desc_s2_level;
    uint64_t desc_ipa;
};

static void fault_set(struct mmu_fault *f, enum mmu_fault_type type, unsigned stage,
                      int level)
{
    f->type = type;
    f->stage = stage;
    f->level = level;
}

static int s2_translate(const struct mmu_ctx *ctx, uint64_t ipa, enum mmu_access acc,
                        bool s1ptw, struct stage_out *out, bool *cacheable,
                        struct mmu_fault *f);

/* The stage-2 translation of a stage-1 table descriptor address
 * (D8 "Stage 2 translation of stage 1 translation table walks"): a read
 * that needs S2AP read; any fault there is a stage-2 fault with S1PTW set
 * and the descriptor's IPA. */
static int walk_desc_address(struct walk *w, uint64_t addr, uint64_t *pa, bool *cacheable,
                             struct mmu_fault *f)
{
    struct stage_out s2;
    bool s2_cacheable;

    if (!w->nested) {
        *pa = addr;
        *cacheable = w->cacheable;
        return 0;
    }
    if (s2_translate(w->ctx, addr, MMU_ACC_READ, true, &s2, &s2_cacheable, f) != 0)
        return -1;
    *pa = s2.oa;
    *cacheable = w->cacheable && s2_cacheable;
    w->desc_s2_perms = s2.perms;
    w->desc_s2_level = s2.level;
    w->desc_ipa = addr;
    return 0;
}

enum walk_step_result { STEP_TABLE, STEP_LEAF, STEP_FAULT };

/* One level of a walk (AArch64.S1Walk/S2Walk loop body): read the
 * descriptor indexed by the input address, decode it, check its output
 * address, and either descend (table) or stop (leaf or fault). */
static enum walk_step_result walk_step(struct walk *w, struct mmu_fault *f)
{
    uint64_t idx = (w->ia >> level_shift(w->level)) & (table_entries(&w->g, w->level) - 1);
    uint64_t addr = w->table + idx * 8, pa, desc, oa;
    bool cacheable;

    if (walk_desc_address(w, addr, &pa, &cacheable, f) != 0)
        return STEP_FAULT;
    if (w->ctx->ops.read_desc(w->ctx->ops.arg, pa, cacheable, &desc) != 0) {
        /* Synchronous External abort on translation table walk. */
        fault_set(f, MMU_FAULT_EXTERNAL, w->stage, w->level);
        return STEP_FAULT;
    }
    w->desc = desc;
    w->desc_pa = pa;

    enum mmu_desc_kind kind = mmu_desc_kind(desc, w->level);
    if (kind == MMU_DK_INVALID) {
        fault_set(f, MMU_FAULT_TRANSLATION, w->stage, w->level);
        return STEP_FAULT;
    }
    /* D8 "Address size fault": a next-table or output address with bits
     * set at or above the configured output size faults at this level. */
    oa = mmu_desc_oa(desc);
    if (oa_out_of_range(oa, w->g.oa_bits)) {
        fault_set(f, MMU_FAULT_ADDR_SIZE, w->stage, w->level);
        return STEP_FAULT;
    }
    if (kind == MMU_DK_TABLE) {
        if (w->stage == 1)   /* stage 2 table descriptors carry no attributes */
            w->tbl |= desc & (MMU_TBL_PXN | MMU_TBL_UXN | MMU_TBL_AP_NOEL0 | MMU_TBL_AP_RO);
        w->table = oa;
        w->level++;
        return STEP_TABLE;
    }
    return STEP_LEAF;
}

/* Run a walk from its start level to a leaf or a fault. */
static int walk_run(struct walk *w, struct mmu_fault *f)
{
    w->level = w->g.start_level;
    w->tbl = 0;
    for (;;) {
        switch (walk_step(w, f)) {
        case STEP_LEAF:  return 0;
        case STEP_FAULT: return -1;
        case STEP_TABLE: break;
        }
        if (w->level > 3) {   /* unreachable: level 3 never yields a table */
            fault_set(f, MMU_FAULT_TRANSLATION, w->stage, 3);
            return -1;
        }
    }
}

/* The leaf of a walk: Access flag, dirty state, permissions, and the
 * hardware update of the descriptor (D8 "Hardware management of the
 * Access flag and dirty state", FEAT_HAFDBS). Order as QEMU and the
 * fault prioritization: Access flag fault before Permission fault; the
 * descriptor is only written back when the access is permitted. */
static int walk_leaf(struct walk *w, enum mmu_access acc, bool el0, struct stage_out *out,
                     struct mmu_fault *f)
{
    const struct mmu_ctx *ctx = w->ctx;
    bool hd = ctx->ha && ctx->hd;   /* walkparams.hd is 0 unless HA is 1 */
    uint64_t d = w->desc;
    unsigned shift = level_shift(w->level);

    if (!(d & MMU_AF)) {
        if (!ctx->ha) {
            fault_set(f, MMU_FAULT_ACCESS_FLAG, w->stage, w->level);
            return -1;
        }
        d |= MMU_AF;
    }
    if (hd && (d & MMU_DBM) && acc == MMU_ACC_WRITE) {
        if (w->stage == 1)
            d &= ~MMU_S1_AP_RO;     /* dirty: writable */
        else
            d |= MMU_S2AP_W;
    }
    out->perms = w->stage == 1 ? s1_perms(ctx->regime, d, w->tbl, ctx->s1.wxn)
                               : s2_perms(d);
    if (!perms_allow(out->perms, acc, el0)) {
        fault_set(f, MMU_FAULT_PERMISSION, w->stage, w->level);
        return -1;
    }
    if (d != w->desc && ctx->ops.write_desc) {
        /* A hardware update of a stage-1 descriptor is a write through
         * stage 2: it needs S2AP write (AArch64.CheckS2Permission,
         * hwupdatewalk). */
        if (w->nested && !(w->desc_s2_perms & MMU_P_W)) {
            fault_set(f, MMU_FAULT_PERMISSION, 2, w->desc_s2_level);
            f->s1ptw = true;
            f->ipa = w->desc_ipa;
            f->ipa_valid = true;
            return -1;
        }
        if (ctx->ops.write_desc(ctx->ops.arg, w->desc_pa, false, d) != 0) {
            fault_set(f, MMU_FAULT_EXTERNAL, w->stage, w->level);
            return -1;
        }
    }
    out->desc = d;
    out->desc_pa = w->desc_pa;
    out->level = w->level;
    out->shift = shift;
    out->tbl = w->tbl;
    out->oa = (mmu_desc_oa(d) & ~((1ull << shift) - 1)) | (w->ia & ((1ull << shift) - 1));
    return 0;
}

/* Stage 2 for one IPA (AArch64.S2Translate): configuration, IPA range,
 * walk, leaf checks. acc is checked against stage 2 permissions; s1ptw
 * marks every fault as one on a stage-1 table walk. *cacheable gets the
 * stage-2 cacheability of the output. */
static int s2_translate(const struct mmu_ctx *ctx, uint64_t ipa, enum mmu_access acc,
                        bool s1ptw, struct stage_out *out, bool *cacheable,
                        struct mmu_fault *f)
{
    struct walk w;
    uint64_t base;
    uint8_t memattr;

    f->s1ptw = s1ptw;
    f->ipa = ipa;
    f->ipa_valid = true;
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    w.stage = 2;
    w.ia = ipa;
    /* VTCR_EL2.{T0SZ,SL0} inconsistent: stage-2 level-0 Translation fault. */
    if (mmu_s2_geom(ctx->s2.vtcr, &w.g) != 0) {
        fault_set(f, MMU_FAULT_TRANSLATION, 2, 0);
        return -1;
    }
    /* IPA beyond the stage-2 input range: level-0 Translation fault. */
    if ((ipa >> w.g.ia_bits) != 0) {
        fault_set(f, MMU_FAULT_TRANSLATION, 2, 0);
        return -1;
    }
    /* VTTBR_EL2.BADDR beyond PS: level-0 Address size fault. */
    base = MMU_TTBR_BADDR(ctx->s2.vttbr);
    if (oa_out_of_range(base, w.g.oa_bits)) {
        fault_set(f, MMU_FAULT_ADDR_SIZE, 2, 0);
        return -1;
    }
    /* The (concatenated) start table is aligned to its size. */
    w.table = base & ~(table_entries(&w.g, w.g.start_level) * 8 - 1);
    w.cacheable = VTCR_IRGN0(ctx->s2.vtcr) != 0 && VTCR_ORGN0(ctx->s2.vtcr) != 0;
    if (walk_run(&w, f) != 0 || walk_leaf(&w, acc, false, out, f) != 0)
        return -1;
    memattr = (uint8_t)MMU_S2_MEMATTR_GET(out->desc);
    *cacheable = s2_is_cacheable(memattr);
    f->s1ptw = false;
    f->ipa = 0;
    f->ipa_valid = false;
    return 0;
}

static void fault_init(struct mmu_fault *f, uint64_t va, enum mmu_access acc)
{
    memset(f, 0, sizeof *f);
    f->va = va;
    f->acc = acc;
}

static bool s2_enabled(const struct mmu_ctx *ctx)
{
    return ctx->regime == MMU_REGIME_EL10 && ctx->s2.vm;
}

/* Stage 1 for one VA (AArch64.S1Translate): VA range and TTBR selection,
 * walk (through stage 2 when nested), leaf checks. */
static int s1_translate(const struct mmu_ctx *ctx, uint64_t va, enum mmu_access acc,
                        bool el0, struct stage_out *out, struct mmu_fault *f)
{
    const struct mmu_s1_regs *s1 = &ctx->s1;
    bool ttbr1 = false;
    struct walk w;
    uint64_t base;
    unsigned irgn, orgn;

    /* D8 "VA ranges": in the EL1&0 regime VA[55] selects TTBR0/TTBR1
     * (TBI not modelled, so VA[63:ia] must then be all zeros or all ones);
     * an address in neither range is a level-0 Translation fault. */
    if (ctx->regime == MMU_REGIME_EL10)
        ttbr1 = (va >> 55) & 1;
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    w.stage = 1;
    w.ia = va;
    w.nested = s2_enabled(ctx);
    if (mmu_s1_geom(ctx->regime, s1->tcr, ttbr1, &w.g) != 0) {
        fault_set(f, MMU_FAULT_TRANSLATION, 1, 0);
        return -1;
    }
    if (ttbr1 ? (~va >> w.g.ia_bits) != 0 : (va >> w.g.ia_bits) != 0) {
        fault_set(f, MMU_FAULT_TRANSLATION, 1, 0);
        return -1;
    }
    /* TCR_EL1.EPDn: a walk using TTBRn gives a level-0 Translation fault. */
    if (ctx->regime == MMU_REGIME_EL10 && (s1->tcr & (ttbr1 ? TCR_EPD1 : TCR_EPD0))) {
        fault_set(f, MMU_FAULT_TRANSLATION, 1, 0);
        return -1;
    }
    base = MMU_TTBR_BADDR(ttbr1 ? s1->ttbr1 : s1->ttbr0);
    if (oa_out_of_range(base, w.g.oa_bits)) {
        fault_set(f, MMU_FAULT_ADDR_SIZE, 1, 0);
        return -1;
    }
    w.table = base & ~(table_entries(&w.g, w.g.start_level) * 8 - 1);
    /* Walk cacheability: TCR IRGNn/ORGNn (0 = Non-cacheable), and stage-1
     * walks are Non-cacheable while SCTLR_ELx.C is 0. */
    irgn = ttbr1 ? TCR_IRGN1(s1->tcr) : TCR_IRGN0(s1->tcr);
    orgn = ttbr1 ? TCR_ORGN1(s1->tcr) : TCR_ORGN0(s1->tcr);
    w.cacheable = s1->c && irgn != 0 && orgn != 0;
    if (walk_run(&w, f) != 0 || walk_leaf(&w, acc, el0, out, f) != 0)
        return -1;
    return 0;
}

/* Put a successful stage-2 walk into a result; returns its MemAttr. */
static uint8_t result_take_s2(struct mmu_result *r, const struct stage_out *s2,
                              const struct mmu_ctx *ctx)
{
    r->pa = s2->oa;
    r->s2_level = (unsigned)s2->level;
    r->s2_shift = s2->shift;
    r->s2_perms = s2->perms;
    r->s2_desc_pa = s2->desc_pa;
    r->vmid = MMU_VTTBR_VMID(ctx->s2.vttbr);
    return (uint8_t)MMU_S2_MEMATTR_GET(s2->desc);
}

int mmu_translate(const struct mmu_ctx *ctx, uint64_t va, enum mmu_access acc,
                  bool el0, struct mmu_result *res, struct mmu_fault *fault)
{
    bool s1_device = true, s1_cacheable = false, s2_device = false, s2_cacheable = true;
    uint8_t s1_attr = 0, s2_memattr = MMU_S2_MEMATTR_NORMAL_WB;
    struct mmu_result r;

    fault_init(fault, va, acc);
    memset(&r, 0, sizeof r);
    r.va = va;
    r.s1_shift = r.s2_shift = 64;
    r.s1_perms = r.s2_perms = MMU_P_ALL;

    if (!ctx->s1.m) {
        /* D8 "Stage 1 translation disabled": flat, all permissions,
         * data accesses Device-nGnRnE; a VA above PAMax is a level-0
         * Address size fault. */
        if ((va >> MMU_PAMAX_BITS) != 0) {
            fault_set(fault, MMU_FAULT_ADDR_SIZE, 1, 0);
            return -1;
        }
        r.ipa = va;
    } else {
        struct stage_out s1;

        if (s1_translate(ctx, va, acc, el0, &s1, fault) != 0)
            return -1;
        r.ipa = s1.oa;
        r.s1_level = (unsigned)s1.level;
        r.s1_shift = s1.shift;
        r.s1_perms = s1.perms;
        r.s1_desc_pa = s1.desc_pa;
        s1_attr = mair_byte(ctx->s1.mair, (unsigned)MMU_S1_ATTRINDX_GET(s1.desc));
        s1_device = mair_is_device(s1_attr);
        /* SCTLR_ELx.C=0: stage-1 Normal data accesses are Non-cacheable. */
        s1_cacheable = ctx->s1.c && mair_is_cacheable(s1_attr);
        if (ctx->regime == MMU_REGIME_EL10) {
            /* nG is meaningful only in a two-VA-range regime; TCR_EL1.A1
             * selects the TTBR holding the ASID, TCR_EL1.AS its width. */
            uint64_t asid_ttbr = (ctx->s1.tcr & TCR_A1) ? ctx->s1.ttbr1 : ctx->s1.ttbr0;
            r.ng = (s1.desc & MMU_S1_NG) != 0;
            r.asid = MMU_TTBR_ASID(asid_ttbr);
            if (!(ctx->s1.tcr & TCR_EL1_AS))
                r.asid &= 0xff;
        }
    }

    if (s2_enabled(ctx)) {
        struct stage_out s2;

        if (s2_translate(ctx, r.ipa, acc, false, &s2, &s2_cacheable, fault) != 0)
            return -1;
        s2_memattr = result_take_s2(&r, &s2, ctx);
        s2_device = s2_is_device(s2_memattr);
    } else {
        r.pa = r.ipa;
    }
    r.attrs = attrs_combine(s1_device, s1_cacheable, s1_attr,
                            s2_device, s2_cacheable, s2_memattr);
    *res = r;
    return 0;
}

int mmu_translate_s2(const struct mmu_ctx *ctx, uint64_t ipa, enum mmu_access acc,
                     bool s1_cacheable, struct mmu_result *res,
                     struct mmu_fault *fault)
{
    struct mmu_result r;
    struct stage_out s2;
    bool s2_cacheable = true;
    uint8_t memattr = MMU_S2_MEMATTR_NORMAL_WB;

    fault_init(fault, ipa, acc);
    memset(&r, 0, sizeof r);
    r.va = r.ipa = r.pa = ipa;
    r.s1_shift = r.s2_shift = 64;
    r.s1_perms = r.s2_perms = MMU_P_ALL;
    if (ctx->s2.vm) {
        if (s2_translate(ctx, ipa, acc, false, &s2, &s2_cacheable, fault) != 0)
            return -1;
        memattr = result_take_s2(&r, &s2, ctx);
    }
    /* Stage 1 is summarised by its cacheability: Normal WB or Normal NC. */
    r.attrs = attrs_combine(false, s1_cacheable, s1_cacheable ? 0xff : 0x44,
                            s2_is_device(memattr), s2_cacheable, memattr);
    *res = r;
    return 0;
}

int mmu_check_perms(const struct mmu_result *res, enum mmu_access acc, bool el0,
                    struct mmu_fault *fault)
{
    fault_init(fault, res->va, acc);
    if (!perms_allow(res->s1_perms, acc, el0)) {
        fault_set(fault, MMU_FAULT_PERMISSION, 1, (int)res->s1_level);
        return -1;
    }
    if (!perms_allow(res->s2_perms, acc, el0)) {
        fault_set(fault, MMU_FAULT_PERMISSION, 2, (int)res->s2_level);
        fault->ipa = res->ipa;
        fault->ipa_valid = true;
        return -1;
    }
    return 0;
}

/* ---- Syndromes (D17.2.37 ESR_ELx; HPFAR_EL2) --------------------------- */

uint32_t mmu_fault_status_code(const struct mmu_fault *f)
{
    uint32_t base;

    switch (f->type) {
    case MMU_FAULT_ADDR_SIZE:   base = 0x00; break;   /* 0b0000LL */
    case MMU_FAULT_TRANSLATION: base = 0x04; break;   /* 0b0001LL */
    case MMU_FAULT_ACCESS_FLAG: base = 0x08; break;   /* 0b0010LL */
    case MMU_FAULT_PERMISSION:  base = 0x0c; break;   /* 0b0011LL */
    case MMU_FAULT_EXTERNAL:    base = 0x14; break;   /* 0b0101LL, on a walk */
    case MMU_FAULT_NONE:
    default:                    return 0;
    }
    return base | ((uint32_t)f->level & 3);
}

uint64_t mmu_fault_to_esr(const struct mmu_fault *f, bool lower_el)
{
    bool exec = f->acc == MMU_ACC_EXEC;
    uint64_t ec = exec ? (lower_el ? EC_IABT_LOWER : EC_IABT_SAME)
                       : (lower_el ? EC_DABT_LOWER : EC_DABT_SAME);
    uint64_t iss = mmu_fault_status_code(f);

    /* WnR: data aborts only. For an S1PTW fault it reports the original
     * access, as QEMU does. */
    if (!exec && f->acc == MMU_ACC_WRITE)
        iss |= ESR_ISS_WNR;
    if (f->s1ptw)
        iss |= ESR_ISS_S1PTW;
    return (ec << ESR_EC_SHIFT) | ESR_IL | iss;
}

uint64_t mmu_fault_to_hpfar(const struct mmu_fault *f)
{
    /* HPFAR_EL2.FIPA holds IPA[51:12] in bits [43:4]; only stage-2 faults
     * (including S1PTW ones) record an IPA. */
    if (f->type == MMU_FAULT_NONE || f->stage != 2 || !f->ipa_valid)
        return 0;
    return ((f->ipa >> 12) << 4) & HPFAR_FIPA_MASK;
}

/* ---- Generic table visitor --------------------------------------------- */

struct visit_ctx {
    const struct mmu_mem_ops *ops;
    const struct mmu_geom *g;
    mmu_visit_fn fn;
    void *arg;
};

static int visit_table(const struct visit_ctx *vc, uint64_t table_pa, int level,
                       uint64_t in_base)
{
    uint64_t n = table_entries(vc->g, level);
    unsigned shift = level_shift(level);

    for (uint64_t i = 0; i < n; i++) {
        struct mmu_visit v;
        uint64_t desc, pa = table_pa + i * 8;
        int rc;

        if (vc->ops->read_desc(vc->ops->arg, pa, false, &desc) != 0)
            return -1;
        enum mmu_desc_kind kind = mmu_desc_kind(desc, level);
        if (kind == MMU_DK_INVALID)
            continue;
        v.in_addr = in_base + (i << shift);
        v.level = level;
        v.shift = shift;
        v.desc = desc;
        v.desc_pa = pa;
        v.leaf = kind != MMU_DK_TABLE;
        rc = vc->fn(&v, vc->arg);
        if (rc != 0)
            return rc;
        if (kind == MMU_DK_TABLE) {
            rc = visit_table(vc, mmu_desc_oa(desc), level + 1, v.in_addr);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int mmu_walk_tables(const struct mmu_mem_ops *ops, unsigned stage, uint64_t root_pa,
                    const struct mmu_geom *g, mmu_visit_fn fn, void *arg)
{
    struct visit_ctx vc = { ops, g, fn, arg };
    unsigned start_bits;

    if (!ops || !ops->read_desc || !g || !fn || (stage != 1 && stage != 2))
        return -1;
    if (g->start_level < 0 || g->start_level > 3 || g->ia_bits > 64)
        return -1;
    start_bits = g->ia_bits > level_shift(g->start_level)
                     ? g->ia_bits - level_shift(g->start_level) : 0;
    if (start_bits < 1 || start_bits > MMU_STRIDE + 4)
        return -1;
    return visit_table(&vc, root_pa, g->start_level, 0);
}
