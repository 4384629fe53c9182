/*
 * hyp/kcore/pgtable.h - KCore's page tables: one generic depth-first walker with
 * visitor callbacks (in the shape of pKVM's kvm_pgtable), and the map,
 * unmap and lookup operations built on it. Used for the EL2 stage 1 (built
 * at boot), the host stage 2 and every VM's stage 2. VMSAv8-64, 4 KiB
 * granule, levels 0-3 (Arm ARM D8.2, D8.3).
 *
 * Memory: tables are reached through kc_va() (identity at EL2, a buffer in
 * native tests); table pages come from and go back to the pgt's ops.
 * Updates are transactional for a concurrent hardware walker: a new table
 * page is zeroed before it is linked (release store), a descriptor is
 * written with one 64-bit store, and a valid entry is never overwritten by
 * another valid entry (map refuses: callers unmap, invalidate the TLB, then
 * map, i.e. break-before-make). TLB maintenance is always the caller's job.
 * Not reentrant on one table: callers hold the lock that owns the table.
 */
#ifndef KC_PGTABLE_H
#define KC_PGTABLE_H

#include <stdbool.h>
#include "arch.h"

/* ---- Descriptor fields (Arm ARM D8.3) ---------------------------------- */
#define KC_PTE_VALID          (1ull << 0)
#define KC_PTE_TYPE           (1ull << 1)      /* levels 0-2: table; level 3: page */
#define KC_PTE_ADDR_MASK      0x0000fffffffff000ull
#define KC_PTE_S1_ATTRIDX(i)  ((u64)((i) & 7) << 2)
#define KC_PTE_S1_AP1         (1ull << 6)      /* AP[1]: RES1 in the EL2 regime */
#define KC_PTE_S1_RO          (1ull << 7)      /* AP[2]: read-only */
#define KC_PTE_SH_INNER       (3ull << 8)
#define KC_PTE_AF             (1ull << 10)
#define KC_PTE_S1_XN          (1ull << 54)     /* XN in the EL2 regime */
#define KC_PTE_S2_MEMATTR(x)  ((u64)((x) & 0xf) << 2)
#define KC_PTE_S2_R           (1ull << 6)      /* S2AP[0] */
#define KC_PTE_S2_W           (1ull << 7)      /* S2AP[1] */
#define KC_S2_MEMATTR_NORMAL_WB 0xfu

/* Leaf attributes KCore uses. */
#define KC_S1_TEXT   (KC_PTE_S1_ATTRIDX(KC_MT_NORMAL) | KC_PTE_S1_AP1 | KC_PTE_S1_RO | \
                      KC_PTE_SH_INNER | KC_PTE_AF)
#define KC_S1_DATA   (KC_PTE_S1_ATTRIDX(KC_MT_NORMAL) | KC_PTE_S1_AP1 | KC_PTE_SH_INNER | \
                      KC_PTE_AF | KC_PTE_S1_XN)
#define KC_S1_DATA_NC (KC_PTE_S1_ATTRIDX(KC_MT_NORMAL_NC) | KC_PTE_S1_AP1 | KC_PTE_SH_INNER | \
                       KC_PTE_AF | KC_PTE_S1_XN)
#define KC_S2_RAM    (KC_PTE_S2_MEMATTR(KC_S2_MEMATTR_NORMAL_WB) | KC_PTE_S2_R | KC_PTE_S2_W | \
                      KC_PTE_SH_INNER | KC_PTE_AF)

#define KC_PTRS_PER_TABLE 512u

static inline unsigned kc_level_shift(int level) { return KC_PAGE_SHIFT + 9u * (unsigned)(3 - level); }
static inline bool kc_pte_valid(u64 pte) { return pte & KC_PTE_VALID; }
static inline bool kc_pte_is_table(u64 pte, int level)
{ return level < 3 && (pte & (KC_PTE_VALID | KC_PTE_TYPE)) == (KC_PTE_VALID | KC_PTE_TYPE); }
static inline bool kc_pte_is_leaf(u64 pte, int level)
{ return kc_pte_valid(pte) && !kc_pte_is_table(pte, level) && (level == 3 ? (pte & KC_PTE_TYPE) != 0 : level > 0); }
static inline u64 kc_pte_addr(u64 pte) { return pte & KC_PTE_ADDR_MASK; }
static inline u64 kc_pte_table(u64 pa) { return (pa & KC_PTE_ADDR_MASK) | KC_PTE_TYPE | KC_PTE_VALID; }
static inline u64 kc_pte_leaf(u64 pa, u64 attrs, int level)
{ return (pa & KC_PTE_ADDR_MASK) | attrs | (level == 3 ? KC_PTE_TYPE : 0) | KC_PTE_VALID; }

/* ---- Tables ------------------------------------------------------------ */
struct kc_pgt_ops {
    /* A zeroed page for a new table: its PA, or 0 when none is left. */
    u64 (*zalloc_page)(void *arg);
    void (*free_page)(void *arg, u64 pa);
    void *arg;
};

struct kc_pgt {
    u64 root;                     /* PA of the start-level table */
    int start_level;
    unsigned ia_bits;             /* input address size */
    const struct kc_pgt_ops *ops;
};

/* Result codes of the walker and of the operations (negative). */
#define KC_PGT_OK       0
#define KC_PGT_EEXIST  (-1)       /* a valid entry is in the way */
#define KC_PGT_ENOMEM  (-2)       /* no page for a new table */
#define KC_PGT_EINVAL  (-3)       /* range outside the input address space, unaligned */

/* ---- The walker -------------------------------------------------------- */
enum kc_walk_flags {
    KC_WALK_LEAF       = 1u << 0,   /* visit leaves and invalid entries */
    KC_WALK_TABLE_PRE  = 1u << 1,   /* visit table entries before their subtree */
    KC_WALK_TABLE_POST = 1u << 2,   /* ... and after it */
};

/* What a visitor sees. addr is the current input address (the start of
 * the entry's range, or the walk's start when that lies inside it). */
struct kc_walk_ctx {
    u64 *ptep;
    u64 old;                      /* *ptep when the visit began */
    u64 addr, end;
    int level;
    const struct kc_pgt *pgt;
    void *arg;
};

/* A visitor returns 0 to go on or a negative code to stop the walk (the
 * walk returns it). At a LEAF visit it may turn an invalid entry into a
 * table; the walker then descends into it. */
typedef int (*kc_visitor_fn)(struct kc_walk_ctx *ctx, enum kc_walk_flags visit);

struct kc_walker {
    kc_visitor_fn cb;
    void *arg;
    unsigned flags;
};

/* Walk [addr, addr + size) depth first. Returns 0, the first nonzero
 * visitor result, or KC_PGT_EINVAL if the range leaves the input space. */
int kc_pgt_walk(const struct kc_pgt *pgt, u64 addr, u64 size, struct kc_walker *w);

/* ---- Operations -------------------------------------------------------- */
/* Initialise pgt with a new zeroed root from ops. 0 or KC_PGT_ENOMEM. */
int kc_pgt_init(struct kc_pgt *pgt, int start_level, unsigned ia_bits,
                const struct kc_pgt_ops *ops);

/* Map [addr, addr + size) to [pa, pa + size) with leaf attributes attrs,
 * using blocks no larger than level min_level allows (3 = pages only, 2 =
 * 2 MiB blocks where aligned). Page-aligned arguments only. Refuses
 * (KC_PGT_EEXIST) to overwrite a valid entry; stops at the first failure,
 * leaving what was mapped before it mapped (tables it created stay).
 * The caller invalidates nothing: the range was unmapped. */
int kc_pgt_map(const struct kc_pgt *pgt, u64 addr, u64 size, u64 pa, u64 attrs, int min_level);

/* Create the tables that a page mapping of [addr, addr + size) needs,
 * without mapping anything, so that a later kc_pgt_map of the range with
 * min_level 3 cannot fail for lack of memory. 0, ENOMEM or EEXIST (a block). */
int kc_pgt_prealloc(const struct kc_pgt *pgt, u64 addr, u64 size);

/* Invalidate every leaf in [addr, addr + size) (blocks only if wholly
 * inside). Returns the number of leaves removed, or a negative code. It is
 * the caller's responsibility to invalidate the TLB. */
int kc_pgt_unmap(const struct kc_pgt *pgt, u64 addr, u64 size);

/* The leaf descriptor translating addr (0 if none) and its level. */
u64 kc_pgt_lookup(const struct kc_pgt *pgt, u64 addr, int *level);

/* Unlink and free every table page below the root, then the root itself.
 * Leaves are not visited: unmap (and invalidate the TLB) first. */
void kc_pgt_destroy(struct kc_pgt *pgt);

#endif
