/*
 * model/inv/inv_int.h - what the parts of the invariant checker share
 * (internal to model/inv/): the checker's state, constants and the
 * functions one part calls in another.
 *   map.c    a small open-addressing map u64 -> u32
 *   check.c  reports, principals and ownership decoding, the hand-back
 *            rule, and the per-item predicates both modes share
 *   full.c   full checks: every published root walked with the mmu/ visitor
 *   incr.c   the incremental shadow engine
 *   inv.c    the checker: init, the step, agreement mode, events
 */
#ifndef HYPSIM_INV_INT_H
#define HYPSIM_INV_INT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/inv/inv.h"

#define PAGE_MASK      (~(MEM_PAGE_SIZE - 1))
#define DESCS_PER_PAGE 512u
#define NPRINC         HV_NSLOTS             /* principal slot: 0 host, n+1 VM n */
#define INV_BIT(i)     (1u << (i))
#define STRUCT_INVS    (INV_BIT(1) | INV_BIT(2) | INV_BIT(3) | INV_BIT(6) | INV_BIT(7))
#define AGREE_INVS     (STRUCT_INVS | INV_BIT(4))   /* 4: the hand-back rule */
#define OWN_LIST_MAX   32
#define ACTOR_W_MAX    16
#define HYP_W_MAX      16
#define WATCH_MAX      64


struct u64map {
    uint64_t *key;             /* key + 1; 0 = empty */
    uint32_t *val;
    uint32_t cap, n;           /* cap: power of two */
};

/* ---- Checker state ------------------------------------------------------ */

/* A stage-2 table page reachable from a published root (incremental). */
struct inv_table {
    uint64_t pa;
    uint64_t base;             /* first IPA the table covers */
    int level;
    int who;                   /* principal slot */
    unsigned refs;             /* table descriptors + roots pointing here */
    uint64_t desc[DESCS_PER_PAGE];   /* coherent view when last synced */
};

/* A snapshot of table pages (full mode's previous and current step). */
struct inv_snap {
    struct u64map map;         /* pfn -> index */
    uint64_t *words;           /* n * DESCS_PER_PAGE */
    uint32_t n, cap;
};

struct tlb_shadow {
    bool valid;
    uint8_t regime, kind;
    uint16_t vmid;
    unsigned shift;
    uint64_t in_base, pa;
};

struct watch {                 /* a line whose memory differs from the cache */
    uint64_t line;
    uint64_t w[CACHE_LINE_WORDS];
};

struct inv_state {
    struct mmu_geom geom;      /* stage 2: T0SZ=25, SL0=1 */
    /* incremental */
    bool booted, boot_pending, degraded, force_resync;
    uint64_t root[NPRINC];     /* published VTTBRs */
    struct inv_table **tab;
    uint32_t ntab, cap_tab;
    struct u64map tabmap;      /* pfn -> index in tab */
    uint8_t *mapcnt;           /* per page: stage-2 leaves covering it (saturating) */
    uint64_t npages;
    unsigned ncpus_tlb, tlb_cap;
    struct tlb_shadow *tlbsh;  /* ncpus_tlb * tlb_cap */
    uint64_t *tlb_gen;
    unsigned ncpus;
    uint64_t hyp_w[HYP_W_MAX];  /* the hypervisor's writes in this step (EV_ACCESS) */
    bool hyp_w_bypass[HYP_W_MAX];
    unsigned nhyp_w;
    bool hyp_w_overflow;
    uint64_t zva_line;         /* the line a cacheable DC ZVA zeroed (EV_DC), or ~0 */
    uint64_t actor_w[ACTOR_W_MAX];
    bool actor_w_bypass[ACTOR_W_MAX];
    unsigned nactor_w;
    bool actor_w_overflow;
    bool accessed_r, accessed_w;
    struct watch watch[WATCH_MAX];
    unsigned nwatch;
    uint64_t own[OWN_LIST_MAX];
    unsigned nown;
    bool own_overflow;
    uint8_t *own_inc;          /* per page: owner when last seen (hand-back rule) */
    uint8_t *own_full;         /* the same, for the full mode */
    uint64_t nown_pages;       /* entries of own_inc/own_full */
    /* full */
    struct u64map seen;        /* scratch for a full walk */
    struct fw_page {           /* the walk's pages (one per level suffices) */
        uint64_t pa;
        bool valid;
        uint64_t w[DESCS_PER_PAGE];
    } fw_page[4];
    unsigned fw_next;
    struct inv_snap snap_prev, snap_cur;
    bool snap_valid;
    /* agreement */
    bool agree, agree_done;
    uint64_t agree_mismatch;
    char agree_last[256];
};


/* ---- Shared between the parts ---------------------------------------- */
void inv_check_kcore_record(const struct machine *m, struct inv_report *r, uint64_t pfn);
void inv_check_leaf(const struct machine *m, struct inv_report *r, uint32_t mask, int who,
                       uint64_t ipa, uint64_t oa, unsigned shift, uint64_t desc_pa);
void inv_check_table_page(const struct machine *m, struct inv_report *r, uint64_t pa,
                             int who, int level, bool booted);
void inv_check_tlb_entry(const struct machine *m, struct inv_report *r, uint32_t mask,
                            unsigned cpu, unsigned idx, const struct tlb_entry *e);
void inv_check_transition(const struct machine *m, struct inv_report *r, int who, int level,
                             uint64_t desc_pa, uint64_t old, uint64_t new);
unsigned inv_full_checks(const struct machine *m, struct inv_report *r);
void inv_inc_rebuild(struct machine *m, struct inv_report *r, bool judge);
void inv_inc_recheck_all(struct machine *m, struct inv_report *r);
void inv_inc_resync(struct machine *m, struct inv_report *r);
void inv_inc_step(struct machine *m, unsigned cpu, enum step_kind ev, struct inv_report *r);
unsigned inv_level_shift(int level);
void inv_map_clear(struct u64map *mp);
void inv_map_del(struct u64map *mp, uint64_t k);
void inv_map_free(struct u64map *mp);
bool inv_map_get(const struct u64map *mp, uint64_t k, uint32_t *v);
int inv_map_put(struct u64map *mp, uint64_t k, uint32_t v);
void inv_own_scan(const struct machine *m, struct inv_report *r, uint8_t *prev, bool judge);
void inv_own_seen(const struct machine *m, struct inv_report *r, uint8_t *prev, uint64_t pfn,
                     unsigned o, bool judge);
struct hv_page inv_owner_entry_raw(const struct machine *m, uint64_t pfn);
uint64_t inv_published_root(const struct machine *m, unsigned s);
uint64_t inv_rd(const struct machine *m, uint64_t pa);
void inv_rd_page(const struct machine *m, uint64_t pa, uint64_t *out);
uint64_t inv_region_pages(const struct machine *m);
void inv_rep_flush(struct machine *m, const struct inv_report *r);
void inv_report_dup_table(struct inv_report *r, uint64_t pa, int who, int level);
uint64_t inv_root_of(uint64_t vttbr);
void inv_snap_take(const struct machine *m);
uint64_t inv_tlb_entry_base(const struct tlb_entry *e, unsigned *shift);
bool inv_tlb_entry_relevant(const struct tlb_entry *e);

#endif
