/*
 * tlb/tlb.h - per-CPU TLBs tagged by regime, VMID and ASID; TLBI; pending
 * broadcast invalidations.
 *
 * Models: one unified TLB per CPU of configurable capacity holding leaf
 * translations (no walk caches). Three kinds of entry:
 *   TLB_KIND_S1  - stage 1 only: the EL2 regime, or EL1&0 with stage 2 off;
 *   TLB_KIND_S12 - combined stage 1 + stage 2 (VA -> PA) of the EL1&0 regime;
 *   TLB_KIND_S2  - stage 2 only (IPA -> PA), tagged with a VMID.
 * An entry covers 1 << shift bytes: the smaller of the two stages' sizes.
 * TLBI (Arm ARM D8.13 "TLB maintenance instructions"): every TLBI, local or
 * Inner Shareable, is recorded as pending on each CPU it affects (the issuing
 * CPU only for the local form, every CPU for the IS form) and takes effect
 * on a CPU when the scheduler completes it, or at the latest when the issuing
 * CPU executes a DSB (Arm ARM, "TLB maintenance instructions": a TLBI is
 * only guaranteed complete after a following DSB on the issuing PE).
 * Last-level forms (VALE1, ...) behave as the full forms: with no walk caches
 * every entry is a leaf, which the architecture permits.
 * Leaves out: walk caches, contiguous-bit aggregation, range TLBIs (TLBI
 * RVAE1 etc.), TLBI by outer-shareable domain (treated as IS), VMID 16-bit.
 */
#ifndef HYPSIM_TLB_H
#define HYPSIM_TLB_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/mmu.h"

enum tlb_kind { TLB_KIND_S1, TLB_KIND_S12, TLB_KIND_S2 };

struct tlb_entry {
    bool valid;
    uint8_t regime;          /* enum mmu_regime */
    uint8_t kind;            /* enum tlb_kind */
    bool global;             /* !nG: matches every ASID */
    uint16_t asid;           /* when !global */
    uint16_t vmid;           /* EL1&0 and S2 entries */
    uint64_t in_base;        /* input address (VA or IPA) aligned to shift */
    unsigned shift;
    uint64_t lru;
    uint64_t view;           /* relaxed memory: the descriptor message it was filled
                                from (model/hw/rlx.h); set by the filler, 0 by tlb_fill */
    struct mmu_result r;     /* the translation the entry was filled from */
};

/* What a lookup compares, one compact key per entry (kept in step with
 * e[] by fill and evict), so a lookup scans 24 bytes an entry instead of
 * the whole entry. */
enum tlb_key_class { TLB_KEY_INVALID, TLB_KEY_EL2, TLB_KEY_EL10_S1, TLB_KEY_S2 };
struct tlb_key {
    uint64_t base;           /* in_base */
    uint64_t mask;           /* ~(2^shift - 1) */
    uint16_t vmid, asid;
    uint8_t cls;             /* enum tlb_key_class */
    bool global;
};

struct tlb {
    unsigned cap;
    struct tlb_entry *e;
    struct tlb_key *key;     /* cap keys, key[i] describes e[i] */
    unsigned used;           /* valid entries */
    uint64_t tick;           /* LRU clock: advances on every fill and hit */
    uint64_t gen;            /* advances on every change of an entry (fill,
                                eviction, invalidation), never on a hit */
};

enum tlbi_type {
    TLBI_VMALLS12E1,  /* EL1&0, current VMID, stage 1 and 2 */
    TLBI_IPAS2E1,     /* stage-2-only entries for IPA, current VMID */
    TLBI_VMALLE1,     /* EL1&0 stage-1 and combined entries, current VMID */
    TLBI_VAE1,        /* by VA and ASID (global entries too), current VMID */
    TLBI_VAAE1,       /* by VA, any ASID, current VMID */
    TLBI_ASIDE1,      /* non-global entries of ASID, current VMID */
    TLBI_ALLE1,       /* every EL1&0 entry, every VMID */
    TLBI_ALLE2,       /* every EL2-regime entry */
    TLBI_VAE2,        /* EL2-regime entries by VA */
};

struct tlbi_op {
    enum tlbi_type type;
    bool broadcast;          /* the ...IS form */
    uint16_t vmid;           /* VTTBR_EL2.VMID at the time of the TLBI */
    uint16_t asid;           /* from Xt[63:48] where used */
    uint64_t addr;           /* VA (from Xt[43:0] << 12) or IPA (Xt[35:0] << 12) */
};

/* Decode the TLBI from its sys-instruction encoding (op1, CRn=8, CRm, op2)
 * and Xt, given the current VMID. Returns 0, or -1 if it is not one we model. */
int tlbi_decode(unsigned op1, unsigned crm, unsigned op2, uint64_t xt,
                uint16_t cur_vmid, struct tlbi_op *op);
const char *tlbi_name(const struct tlbi_op *op);

int tlb_init(struct tlb *t, unsigned cap);
void tlb_free(struct tlb *t);
int tlb_clone(struct tlb *dst, const struct tlb *src);

/* Find an entry translating `addr` of the given kind(s).
 * EL2: regime EL2, kind S1. EL1&0 VA: kind S1 or S12 with vmid, and asid
 * equal or global. S2: kind S2 with vmid. NULL when none. */
struct tlb_entry *tlb_lookup_el2(struct tlb *t, uint64_t va);
struct tlb_entry *tlb_lookup_el10(struct tlb *t, uint16_t vmid, uint16_t asid, uint64_t va);
struct tlb_entry *tlb_lookup_s2(struct tlb *t, uint16_t vmid, uint64_t ipa);

/* Insert a translation. `victim` is an entry index chosen by the caller, or
 * -1 for a free slot, else the least recently used entry. Returns the index. */
int tlb_fill(struct tlb *t, enum mmu_regime regime, enum tlb_kind kind,
             const struct mmu_result *r, int victim);
/* Drop entry idx (scheduler-chosen eviction). */
void tlb_evict(struct tlb *t, unsigned idx);
/* The n-th valid entry's index (n < used), for the scheduler. */
int tlb_nth_valid(const struct tlb *t, unsigned n);

/* Would `op` remove entry `e`? (The per-item predicate: tests and the
 * invariant checks use it too.) */
bool tlb_entry_matches(const struct tlb_entry *e, const struct tlbi_op *op);
/* Apply op to this TLB now. Returns the number of entries removed. */
unsigned tlb_invalidate(struct tlb *t, const struct tlbi_op *op);

uint64_t tlb_hash(const struct tlb *t);

/* ---- The machine's TLBs and pending invalidations -------------------- */
struct tlb_pending {
    struct tlbi_op op;
    unsigned issuer;
    unsigned target;
    uint64_t view;               /* what it orders for the target's walks when it
                                    completes (model/hw/rlx.h); 0 at issue */
};

struct tlb_system {
    unsigned ncpus;
    struct tlb *cpu;             /* ncpus TLBs */
    struct tlb_pending *pending; /* in issue order */
    unsigned npending, cap_pending;
};

int tlb_sys_init(struct tlb_system *s, unsigned ncpus, unsigned cap_per_cpu);
void tlb_sys_free(struct tlb_system *s);
int tlb_sys_clone(struct tlb_system *dst, const struct tlb_system *src);
/* CPU `issuer` executes a TLBI: pending on itself (local form) or on every
 * CPU (IS form). Returns 0 or MEM_ENOMEM-style -3. */
int tlb_sys_issue(struct tlb_system *s, unsigned issuer, const struct tlbi_op *op);
/* Complete pending invalidation number idx (< npending) now. Returns the
 * number of entries it removed from its target's TLB. */
unsigned tlb_sys_complete(struct tlb_system *s, unsigned idx);
/* DSB on `issuer`: complete every pending TLBI it issued. Returns how many. */
unsigned tlb_sys_dsb(struct tlb_system *s, unsigned issuer);
/* The same, calling done(arg, pending entry, entries it removed) for each
 * invalidation as it completes (done may be NULL). */
unsigned tlb_sys_dsb_notify(struct tlb_system *s, unsigned issuer,
                            void (*done)(void *arg, const struct tlb_pending *p, unsigned removed),
                            void *arg);
/* Is any invalidation pending on cpu `target` that would remove entry e?
 * (An entry so doomed may still be used until completion.) */
bool tlb_sys_entry_doomed(const struct tlb_system *s, unsigned target,
                          const struct tlb_entry *e);

#endif
