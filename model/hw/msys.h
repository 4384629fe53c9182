/*
 * model/hw/msys.h - the machine's memory system: physical memory, the
 * coherent cache and the per-CPU TLBs, the one path a data access takes
 * through them (DESIGN.md, "One data access, end to end"), and every other
 * hardware action on them (DC, TLBI, DSB completion, evictions):
 *   TLB lookup (tagged) -> else walk (descriptors read through the cache or
 *   bypassing it per the walk's cacheability) and fill -> permission check
 *   -> memory type -> cache access (or bypass when non-cacheable) ->
 *   memory, with labels.
 * cpu/ (the hypervisor's accesses), the host/guest actors (model/actor.c)
 * and tests all call msys_access(); each action is reported on the event
 * bus (model/hw/event.h) as it happens.
 *
 * Dependencies: msys composes mmu/ (the walker), tlb/ (which caches the
 * walker's results, so it includes mmu.h for their type) and cache/ over
 * model/hw/mem; it knows nothing of Unicorn, of the hypervisor or of the
 * checkers.
 */
#ifndef HYPSIM_MSYS_H
#define HYPSIM_MSYS_H

#include <stdbool.h>
#include <stdint.h>
#include "cache/cache.h"
#include "mmu/mmu.h"
#include "model/hw/event.h"
#include "model/hw/mem.h"
#include "tlb/tlb.h"

struct msys {
    struct mem mem;
    struct cache cache;
    struct tlb_system tlb;
    struct ev_bus bus;
    int walk_cpu;             /* the CPU whose walk is reading descriptors (events) */
};

struct msys_config {
    unsigned ncpus;
    uint64_t mem_bytes;
    unsigned cache_sets, cache_ways;
    unsigned tlb_entries;
};

int msys_init(struct msys *s, const struct msys_config *cfg);
void msys_free(struct msys *s);

/* Wire ctx->ops to this memory system (walks read descriptors through the
 * cache when the walk is cacheable, bypass otherwise). */
void msys_bind_ops(struct msys *s, struct mmu_ctx *ctx);

/* Translate va for CPU `cpu` in context ctx: TLB lookup, else walk and fill.
 * Returns 0 or -1 with *fault. */
int msys_translate(struct msys *s, unsigned cpu, const struct mmu_ctx *ctx,
                   uint64_t va, enum mmu_access acc, bool el0,
                   struct mmu_result *res, struct mmu_fault *fault, bool *tlb_hit);

/* Stage-2-only translation (an IPA access of the EL1&0 regime with stage 1
 * off), with TLB; s1_cacheable is the memory type stage 1 would give. */
int msys_translate_s2(struct msys *s, unsigned cpu, const struct mmu_ctx *ctx,
                      uint64_t ipa, enum mmu_access acc, bool s1_cacheable,
                      struct mmu_result *res, struct mmu_fault *fault, bool *tlb_hit);

/* ---- One data access, end to end ----------------------------------------- */
enum msys_status {
    MSYS_OK = 0,
    MSYS_FAULT = -1,          /* translation or permission fault: *fault */
    MSYS_EABORT = -2,         /* the PA is outside memory, or a bad size: external abort */
};

struct msys_req {
    unsigned cpu;
    label_t who;              /* the principal (its label goes on the words written) */
    const struct mmu_ctx *ctx;
    uint64_t va;              /* a VA, or the IPA when the EL1&0 regime has stage 1 off */
    unsigned size;            /* 1, 2, 4 or 8, within one 8-byte word */
    enum mmu_access acc;      /* MMU_ACC_READ or MMU_ACC_WRITE */
    bool el0;
    bool s1_cacheable;        /* EL1&0 with stage 1 off: the memory type chosen */
    uint64_t val;             /* the value to write */
};

/* Perform the access: translate (TLB or walk, fill), check permissions,
 * take the memory type, then the cache or the bypass, labels included.
 * Fills *a (may be NULL) with what it did and reports it (EV_ACCESS).
 * Returns an msys_status; MSYS_FAULT fills *fault. */
int msys_access(struct msys *s, const struct msys_req *rq, struct msys_access *a,
                struct mmu_fault *fault);

/* Data-cache maintenance by VA (Arm ARM D7.5.9 "Data cache maintenance
 * instructions"): translated through ctx (DC ZVA as a write, the others as
 * reads), then performed on the line; DC ZVA to non-cacheable memory
 * writes zeros (label `who`) to memory. Reports EV_DC. Returns an
 * msys_status. */
int msys_dc(struct msys *s, unsigned cpu, label_t who, const struct mmu_ctx *ctx,
            enum dc_op op, uint64_t va, struct mmu_fault *fault);

/* Data access at a physical address with the given cacheability; size 1-8
 * not crossing an 8-byte word. Returns MEM_OK or MEM_EABORT/MEM_EINVAL. No
 * translation and no event: for loaders and tests. */
int msys_pa_read(struct msys *s, uint64_t pa, unsigned size, bool cacheable,
                 uint64_t *val, label_t *label, enum cache_outcome *out);
int msys_pa_write(struct msys *s, uint64_t pa, unsigned size, bool cacheable,
                  uint64_t val, label_t label, enum cache_outcome *out);

/* ---- TLB maintenance, barriers, hardware events ------------------------- */
/* CPU cpu issues op (pending on its targets). Reports EV_TLBI_ISSUE.
 * Returns 0, or -1 when the pending list is full. */
int msys_tlbi(struct msys *s, unsigned cpu, const struct tlbi_op *op);
/* Barrier on cpu: DMB, DSB or ISB with its CRm option fields. A DSB
 * completes every TLBI this CPU issued that is still pending (each
 * reported as EV_TLBI_COMPLETE). Reports EV_BARRIER; returns the TLBIs
 * completed. */
unsigned msys_barrier(struct msys *s, unsigned cpu, enum ev_barrier kind, unsigned domain,
                      unsigned types);
/* Complete pending TLBI number idx now (a hardware event). */
void msys_tlbi_complete(struct msys *s, unsigned idx);
/* Evict entry `slot` of cpu's TLB / cache line `idx` (hardware events). */
void msys_tlb_evict(struct msys *s, unsigned cpu, unsigned slot);
void msys_cache_evict(struct msys *s, unsigned idx);

#endif
