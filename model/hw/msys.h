/*
 * model/hw/msys.h - the machine's memory system: physical memory, the coherent
 * cache and the per-CPU TLBs, and the path of one data access through them
 * (DESIGN.md, "One data access, end to end"):
 *   TLB lookup (tagged) -> else walk (descriptors read through the cache or
 *   bypassing it per the walk's cacheability) and fill -> permission check
 *   -> cache access (or bypass when non-cacheable) -> memory, with labels.
 * Used by cpu/ for KCore's accesses and by the host/guest actors in model/.
 */
#ifndef HYPSIM_MSYS_H
#define HYPSIM_MSYS_H

#include <stdbool.h>
#include <stdint.h>
#include "model/hw/mem.h"
#include "cache/cache.h"
#include "mmu/mmu.h"
#include "tlb/tlb.h"

struct msys {
    struct mem mem;
    struct cache cache;
    struct tlb_system tlb;
};

struct msys_config {
    unsigned ncpus;
    uint64_t mem_bytes;
    unsigned cache_sets, cache_ways;
    unsigned tlb_entries;
};

/* What one access did (for logs, invariants, refinement). */
struct msys_access {
    uint64_t va, ipa, pa;
    unsigned size;
    enum mmu_access acc;
    bool tlb_hit;
    enum cache_outcome cache;
    uint64_t val;
    label_t label;            /* label read, or label written */
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

/* Stage-2-only translation (an actor's IPA access), with TLB. */
int msys_translate_s2(struct msys *s, unsigned cpu, const struct mmu_ctx *ctx,
                      uint64_t ipa, enum mmu_access acc, bool s1_cacheable,
                      struct mmu_result *res, struct mmu_fault *fault, bool *tlb_hit);

/* Data access at a physical address with the given cacheability; size 1-8
 * not crossing an 8-byte word. Returns MEM_OK or MEM_EABORT/MEM_EINVAL. */
int msys_pa_read(struct msys *s, uint64_t pa, unsigned size, bool cacheable,
                 uint64_t *val, label_t *label, enum cache_outcome *out);
int msys_pa_write(struct msys *s, uint64_t pa, unsigned size, bool cacheable,
                  uint64_t val, label_t label, enum cache_outcome *out);

#endif
