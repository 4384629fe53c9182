/*
 * mmu/mmu.h - VMSAv8-64 address translation, 4 KiB granule.
 *
 * Models: stage 1 of the EL2 regime (TTBR0_EL2/TCR_EL2/MAIR_EL2/SCTLR_EL2)
 * and of the EL1&0 regime (TTBR0/1_EL1, TCR_EL1, MAIR_EL1, SCTLR_EL1, ASID),
 * stage 2 (VTTBR_EL2 with VMID, VTCR_EL2 T0SZ/SL0/PS/IRGN0/ORGN0, including
 * concatenated start-level tables); levels 0-3; table, block (1 GiB at level
 * 1, 2 MiB at level 2) and page descriptors; permissions (AP, PXN/UXN/XN,
 * S2AP, stage-2 XN); memory attributes (MAIR AttrIndx, stage-2 MemAttr with
 * FWB=0, combined: the weaker of the two); faults (translation, access flag,
 * permission, address size, external abort on a walk) with stage and level.
 * Arm ARM references are to DDI 0487 (J.a numbering), chapter D8
 * "The AArch64 Virtual Memory System Architecture".
 * Leaves out: 16K/64K granules, LPA/LPA2 (52-bit), TBI, PAN, hierarchical
 * permission disables, FEAT_XNX, FEAT_S2FWB, contiguous hint (ignored, as
 * the architecture permits), VHE (HCR_EL2.E2H), AArch32.
 *
 * Every descriptor is read through struct mmu_mem_ops, so the walker runs on
 * the model's memory system (cache or bypass, per the walk's cacheability)
 * and on a plain buffer in tests. mmu/ includes nothing above model/hw/mem.h.
 */
#ifndef HYPSIM_MMU_H
#define HYPSIM_MMU_H

#include <stdbool.h>
#include <stdint.h>

/* ---- Descriptor fields (D8.3) ---------------------------------------- */
#define MMU_DESC_VALID       (1ull << 0)
#define MMU_DESC_TABLE       (1ull << 1)   /* levels 0-2: table; level 3: page */
#define MMU_DESC_TYPE_MASK   3ull
#define MMU_DESC_OA_MASK     0x0000fffffffff000ull   /* OA[47:12] */
/* stage 1 lower attributes */
#define MMU_S1_ATTRINDX(i)   ((uint64_t)((i) & 7) << 2)
#define MMU_S1_ATTRINDX_GET(d) (((d) >> 2) & 7)
#define MMU_S1_NS            (1ull << 5)
#define MMU_S1_AP_EL0        (1ull << 6)   /* AP[1]: EL0 access (EL1&0 only) */
#define MMU_S1_AP_RO         (1ull << 7)   /* AP[2]: read-only */
#define MMU_SH_SHIFT         8
#define MMU_SH_INNER         (3ull << 8)
#define MMU_AF               (1ull << 10)
#define MMU_S1_NG            (1ull << 11)
#define MMU_DBM              (1ull << 51)
#define MMU_S1_PXN           (1ull << 53)
#define MMU_S1_UXN           (1ull << 54)   /* XN in the EL2 regime */
#define MMU_S1_XN            MMU_S1_UXN
/* stage 2 lower attributes */
#define MMU_S2_MEMATTR(x)    ((uint64_t)((x) & 0xf) << 2)
#define MMU_S2_MEMATTR_GET(d) (((d) >> 2) & 0xf)
#define MMU_S2_MEMATTR_NORMAL_WB 0xfu     /* outer WB, inner WB */
#define MMU_S2_MEMATTR_NORMAL_NC 0x5u     /* outer NC, inner NC */
#define MMU_S2_MEMATTR_DEVICE    0x0u     /* Device-nGnRnE */
#define MMU_S2AP_R           (1ull << 6)
#define MMU_S2AP_W           (1ull << 7)
#define MMU_S2_XN            (1ull << 54)
/* table descriptor hierarchical attributes (stage 1 only) */
#define MMU_TBL_PXN          (1ull << 59)
#define MMU_TBL_UXN          (1ull << 60)
#define MMU_TBL_AP_NOEL0     (1ull << 61)
#define MMU_TBL_AP_RO        (1ull << 62)

/* ---- Register fields used by the walker ------------------------------ */
#define MMU_TCR_T0SZ(t)      ((unsigned)((t) & 0x3f))
#define MMU_TCR_T1SZ(t)      ((unsigned)(((t) >> 16) & 0x3f))
#define MMU_TTBR_BADDR(r)    ((r) & 0x0000fffffffffffeull)
#define MMU_TTBR_ASID(r)     ((uint16_t)((r) >> 48))
#define MMU_VTTBR_VMID(r)    ((uint16_t)(((r) >> 48) & 0xff))

enum mmu_regime { MMU_REGIME_EL2, MMU_REGIME_EL10 };
enum mmu_access { MMU_ACC_READ, MMU_ACC_WRITE, MMU_ACC_EXEC };

/* How the walker reaches memory. read_desc returns 0 on success or nonzero
 * for an external abort (the walker reports MMU_FAULT_EXTERNAL at that
 * level). write_desc (may be NULL) is for hardware AF/dirty updates; when
 * it is NULL the update is dropped and the access proceeds as if made. */
struct mmu_mem_ops {
    int (*read_desc)(void *arg, uint64_t pa, bool cacheable, uint64_t *desc);
    int (*write_desc)(void *arg, uint64_t pa, bool cacheable, uint64_t desc);
    void *arg;
};

struct mmu_s1_regs {
    bool m;            /* SCTLR_ELx.M: stage 1 enabled */
    bool c;            /* SCTLR_ELx.C: cacheable data and stage-1 walks */
    bool wxn;          /* SCTLR_ELx.WXN */
    uint64_t ttbr0, ttbr1;   /* ttbr1 unused in the EL2 regime */
    uint64_t tcr;
    uint64_t mair;
};

struct mmu_s2_regs {
    bool vm;           /* HCR_EL2.VM: stage 2 enabled */
    uint64_t vttbr;
    uint64_t vtcr;
};

/* Everything the walker needs to know about one CPU's current context. */
struct mmu_ctx {
    enum mmu_regime regime;
    struct mmu_s1_regs s1;
    struct mmu_s2_regs s2;   /* ignored in the EL2 regime */
    bool ha;                 /* hardware Access flag update (FEAT_HAFDBS) */
    bool hd;                 /* hardware dirty-state update (DBM) */
    struct mmu_mem_ops ops;
};

/* Permission bits of a translation, one stage or combined. */
#define MMU_P_R   0x01u    /* privileged read */
#define MMU_P_W   0x02u    /* privileged write */
#define MMU_P_X   0x04u    /* privileged execute */
#define MMU_P_UR  0x08u    /* EL0 read */
#define MMU_P_UW  0x10u    /* EL0 write */
#define MMU_P_UX  0x20u    /* EL0 execute */
#define MMU_P_ALL 0x3fu

struct mmu_attrs {
    bool device;        /* Device memory (either stage) */
    bool cacheable;     /* Normal, inner and outer write-back/through at both stages */
    uint8_t s1_attr;    /* stage-1 MAIR byte (0 when stage 1 is off: Device-nGnRnE) */
    uint8_t s2_memattr; /* stage-2 MemAttr[3:0] (0xf when stage 2 is off) */
};

/* A successful translation. Shifts give the size of the mapping at each
 * stage (12, 21, 30, or 64 when that stage is disabled). */
struct mmu_result {
    uint64_t va, ipa, pa;
    unsigned s1_level, s2_level;     /* leaf level; 0 when stage disabled */
    unsigned s1_shift, s2_shift;
    uint8_t s1_perms, s2_perms;      /* MMU_P_*; MMU_P_ALL when disabled */
    struct mmu_attrs attrs;          /* combined */
    bool ng;                         /* non-global (ASID-tagged) */
    uint16_t asid, vmid;
    uint64_t s1_desc_pa, s2_desc_pa; /* where the leaf descriptors live */
};

enum mmu_fault_type {
    MMU_FAULT_NONE = 0,
    MMU_FAULT_TRANSLATION,
    MMU_FAULT_ACCESS_FLAG,
    MMU_FAULT_PERMISSION,
    MMU_FAULT_ADDR_SIZE,
    MMU_FAULT_EXTERNAL,      /* external abort on a descriptor read */
};

/* A fault record (cf. QEMU's ARMMMUFaultInfo). */
struct mmu_fault {
    enum mmu_fault_type type;
    unsigned stage;          /* 1 or 2 */
    int level;               /* 0-3 */
    bool s1ptw;              /* stage-2 fault on a stage-1 table walk */
    enum mmu_access acc;
    uint64_t va;             /* FAR */
    uint64_t ipa;            /* for stage-2 faults (HPFAR) */
    bool ipa_valid;
};

/* Translate va for an access at EL0 (el0=true) or at the regime's
 * privileged level. Returns 0 and fills *res, or -1 and fills *fault.
 * Checks permissions and the access flag. Does not touch any TLB.
 * res->s1_perms/s2_perms are those of the descriptors after any hardware
 * update made by this access (a read of a DBM page leaves W clear: a later
 * write through a cached copy fails mmu_check_perms and needs a new walk). */
int mmu_translate(const struct mmu_ctx *ctx, uint64_t va, enum mmu_access acc,
                  bool el0, struct mmu_result *res, struct mmu_fault *fault);

/* Stage 2 alone: ipa -> pa under ctx->s2 (which must be enabled), for an
 * access of given cacheability requested by stage 1 (s1_cacheable combines
 * with stage 2: non-cacheable if either says so). ctx->regime is not used;
 * if ctx->s2.vm is false the result is the identity. fault->va is set to
 * ipa: the caller overwrites it with the VA it knows. */
int mmu_translate_s2(const struct mmu_ctx *ctx, uint64_t ipa, enum mmu_access acc,
                     bool s1_cacheable, struct mmu_result *res,
                     struct mmu_fault *fault);

/* Permission check of a (possibly cached) translation; 0 or -1 with a
 * permission fault of the stage that denies (stage 1 checked first). */
int mmu_check_perms(const struct mmu_result *res, enum mmu_access acc, bool el0,
                    struct mmu_fault *fault);

/* Syndromes (D17.2.37 ESR_ELx, ISS for Data/Instruction Aborts). */
uint32_t mmu_fault_status_code(const struct mmu_fault *f);          /* DFSC/IFSC */
uint64_t mmu_fault_to_esr(const struct mmu_fault *f, bool lower_el); /* EC+IL+ISS */
uint64_t mmu_fault_to_hpfar(const struct mmu_fault *f);            /* FIPA */

/* ---- Stage geometry --------------------------------------------------- */
struct mmu_geom {
    unsigned ia_bits;        /* input address size */
    unsigned oa_bits;        /* output address size (from PS/IPS) */
    int start_level;
    unsigned concat;         /* number of concatenated start tables (stage 2) */
};
/* Returns 0, or -1 when the configuration is invalid (stage 2: a level-0
 * translation fault: Arm ARM, VTCR_EL2.SL0 description and the
 * AArch64.S2InconsistentSL pseudocode, "inconsistent T0SZ/SL0"). */
int mmu_s1_geom(enum mmu_regime regime, uint64_t tcr, bool ttbr1, struct mmu_geom *g);
int mmu_s2_geom(uint64_t vtcr, struct mmu_geom *g);

/* ---- Generic table visitor (pKVM style): depth-first over every valid
 * descriptor of one table tree. The visitor returns 0 to go on, nonzero to
 * stop (that value is returned). Table descriptors are visited before their
 * subtree (leaf=false). Descriptor reads use ops with cacheable=false
 * (the coherent view is the caller's choice through ops). */
struct mmu_visit {
    uint64_t in_addr;        /* first input address the descriptor covers */
    int level;
    unsigned shift;          /* size of the region: 12, 21, 30, 39 */
    uint64_t desc, desc_pa;
    bool leaf;               /* block or page */
};
/* Returns -1 for a bad stage/geometry or a failing descriptor read.
 * in_addr starts at 0 for the root (a TTBR1 tree's caller adds the range
 * base). Reserved encodings (level-0 block, level-3 0b01) are skipped. */
typedef int (*mmu_visit_fn)(const struct mmu_visit *v, void *arg);
int mmu_walk_tables(const struct mmu_mem_ops *ops, unsigned stage, uint64_t root_pa,
                    const struct mmu_geom *g, mmu_visit_fn fn, void *arg);

/* ---- Descriptor encode helpers (tests, actors) ------------------------ */
static inline uint64_t mmu_desc_table(uint64_t next_pa)
{ return (next_pa & MMU_DESC_OA_MASK) | MMU_DESC_TABLE | MMU_DESC_VALID; }
static inline uint64_t mmu_desc_page(uint64_t pa, uint64_t attrs)
{ return (pa & MMU_DESC_OA_MASK) | attrs | MMU_DESC_TABLE | MMU_DESC_VALID; }
static inline uint64_t mmu_desc_block(uint64_t pa, uint64_t attrs)
{ return (pa & MMU_DESC_OA_MASK) | attrs | MMU_DESC_VALID; }
static inline uint64_t mmu_desc_oa(uint64_t d) { return d & MMU_DESC_OA_MASK; }

#endif
