/*
 * model/hw/msys.c - the path of one data access through TLB, walker and cache.
 * See msys.h. TLB fills on a miss are deterministic (the LRU victim); the
 * scheduler adds speculative fills and evictions on top (model/).
 */
#include "model/hw/msys.h"

#include <string.h>

int msys_init(struct msys *s, const struct msys_config *cfg)
{
    memset(s, 0, sizeof(*s));
    if (mem_init(&s->mem, cfg->mem_bytes) != MEM_OK)
        return -1;
    if (cache_init(&s->cache, &s->mem, cfg->cache_sets, cfg->cache_ways) != MEM_OK) {
        mem_free(&s->mem);
        return -1;
    }
    if (tlb_sys_init(&s->tlb, cfg->ncpus, cfg->tlb_entries) != 0) {
        cache_free(&s->cache);
        mem_free(&s->mem);
        return -1;
    }
    return 0;
}

void msys_free(struct msys *s)
{
    tlb_sys_free(&s->tlb);
    cache_free(&s->cache);
    mem_free(&s->mem);
}

static int read_desc(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    struct msys *s = arg;
    label_t l;
    return cache_read(&s->cache, pa, 8, cacheable, desc, &l, NULL) == MEM_OK ? 0 : -1;
}

static int write_desc(void *arg, uint64_t pa, bool cacheable, uint64_t desc)
{
    struct msys *s = arg;
    /* Hardware AF/DBM updates are made by the walker on behalf of the
     * table's owner: KCore. */
    return cache_write(&s->cache, pa, 8, cacheable, desc, LABEL_HYP, NULL) == MEM_OK ? 0 : -1;
}

void msys_bind_ops(struct msys *s, struct mmu_ctx *ctx)
{
    ctx->ops.read_desc = read_desc;
    ctx->ops.write_desc = write_desc;
    ctx->ops.arg = s;
}

/* Rebase a cached translation onto another address inside its range. */
static void entry_apply(const struct tlb_entry *e, uint64_t in, struct mmu_result *res)
{
    uint64_t mask = e->shift >= 64 ? ~0ull : ((1ull << e->shift) - 1);
    *res = e->r;
    res->pa = (e->r.pa & ~mask) | (in & mask);
    if (e->kind == TLB_KIND_S2) {
        res->ipa = in;
        res->va = in;
    } else {
        res->va = in;
        res->ipa = (e->r.ipa & ~mask) | (in & mask);
    }
}

int msys_translate(struct msys *s, unsigned cpu, const struct mmu_ctx *ctx,
                   uint64_t va, enum mmu_access acc, bool el0,
                   struct mmu_result *res, struct mmu_fault *fault, bool *tlb_hit)
{
    struct tlb *t = &s->tlb.cpu[cpu];
    struct tlb_entry *e;
    bool s1 = ctx->s1.m;
    bool s2 = ctx->regime == MMU_REGIME_EL10 && ctx->s2.vm;

    *tlb_hit = false;
    if (!s1 && !s2)        /* flat: nothing to cache */
        return mmu_translate(ctx, va, acc, el0, res, fault);

    if (ctx->regime == MMU_REGIME_EL2) {
        e = tlb_lookup_el2(t, va);
    } else {
        uint64_t ttbr = (ctx->s1.tcr >> 22) & 1 ? ctx->s1.ttbr1 : ctx->s1.ttbr0;
        e = tlb_lookup_el10(t, MMU_VTTBR_VMID(ctx->s2.vttbr), MMU_TTBR_ASID(ttbr), va);
    }
    if (e) {
        *tlb_hit = true;
        e->lru = ++t->tick;
        entry_apply(e, va, res);
        res->va = va;
        fault->va = va;
        return mmu_check_perms(res, acc, el0, fault);
    }
    if (mmu_translate(ctx, va, acc, el0, res, fault) != 0)
        return -1;
    tlb_fill(t, ctx->regime, !s1 ? TLB_KIND_S2 : (s2 ? TLB_KIND_S12 : TLB_KIND_S1), res, -1);
    return 0;
}

int msys_translate_s2(struct msys *s, unsigned cpu, const struct mmu_ctx *ctx,
                      uint64_t ipa, enum mmu_access acc, bool s1_cacheable,
                      struct mmu_result *res, struct mmu_fault *fault, bool *tlb_hit)
{
    struct tlb *t = &s->tlb.cpu[cpu];
    struct tlb_entry *e = tlb_lookup_s2(t, MMU_VTTBR_VMID(ctx->s2.vttbr), ipa);

    *tlb_hit = false;
    if (e) {
        *tlb_hit = true;
        e->lru = ++t->tick;
        entry_apply(e, ipa, res);
        res->attrs.cacheable = res->attrs.cacheable && s1_cacheable;
        fault->va = ipa;
        return mmu_check_perms(res, acc, false, fault);
    }
    if (mmu_translate_s2(ctx, ipa, acc, true, res, fault) != 0)
        return -1;
    tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S2, res, -1);
    res->attrs.cacheable = res->attrs.cacheable && s1_cacheable;
    return 0;
}

int msys_pa_read(struct msys *s, uint64_t pa, unsigned size, bool cacheable,
                 uint64_t *val, label_t *label, enum cache_outcome *out)
{
    return cache_read(&s->cache, pa, size, cacheable, val, label, out);
}

int msys_pa_write(struct msys *s, uint64_t pa, unsigned size, bool cacheable,
                  uint64_t val, label_t label, enum cache_outcome *out)
{
    return cache_write(&s->cache, pa, size, cacheable, val, label, out);
}
