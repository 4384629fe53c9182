/*
 * model/hw/msys.c - the path of one data access through TLB, walker and
 * cache, and the other hardware actions on them, each reported as an
 * event. See msys.h. TLB fills on a miss are deterministic (the LRU
 * victim); the scheduler adds speculative fills and evictions on top
 * (model/machine.c).
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
    s->walk_cpu = -1;
    return 0;
}

void msys_free(struct msys *s)
{
    tlb_sys_free(&s->tlb);
    cache_free(&s->cache);
    mem_free(&s->mem);
}

static void desc_event(struct msys *s, uint64_t pa, uint64_t val, bool write, bool cacheable)
{
    struct ev e;

    if (!ev_wanted(&s->bus, EV_WALK_DESC))
        return;
    e.kind = EV_WALK_DESC;
    e.cpu = s->walk_cpu;
    e.u.desc.pa = pa;
    e.u.desc.val = val;
    e.u.desc.write = write;
    e.u.desc.cacheable = cacheable;
    ev_dispatch(&s->bus, &e);
}

static int read_desc(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    struct msys *s = arg;
    label_t l;
    if (cache_read(&s->cache, pa, 8, cacheable, desc, &l, NULL) != MEM_OK)
        return -1;
    desc_event(s, pa, *desc, false, cacheable);
    return 0;
}

static int write_desc(void *arg, uint64_t pa, bool cacheable, uint64_t desc)
{
    struct msys *s = arg;
    /* Hardware AF/DBM updates are made by the walker on behalf of the
     * table's owner: the hypervisor. */
    if (cache_write(&s->cache, pa, 8, cacheable, desc, LABEL_HYP, NULL) != MEM_OK)
        return -1;
    desc_event(s, pa, desc, true, cacheable);
    return 0;
}

static void fill_event(struct msys *s, unsigned cpu, int slot)
{
    struct ev e;

    if (!ev_wanted(&s->bus, EV_TLB_FILL) || slot < 0)
        return;
    e.kind = EV_TLB_FILL;
    e.cpu = (int)cpu;
    e.u.tlb.slot = (unsigned)slot;
    e.u.tlb.e = s->tlb.cpu[cpu].e[slot];
    ev_dispatch(&s->bus, &e);
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
    s->walk_cpu = (int)cpu;

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
    s->walk_cpu = (int)cpu;
    if (mmu_translate(ctx, va, acc, el0, res, fault) != 0)
        return -1;
    fill_event(s, cpu, tlb_fill(t, ctx->regime, !s1 ? TLB_KIND_S2 : (s2 ? TLB_KIND_S12 : TLB_KIND_S1),
                                res, -1));
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
    s->walk_cpu = (int)cpu;
    if (mmu_translate_s2(ctx, ipa, acc, true, res, fault) != 0)
        return -1;
    fill_event(s, cpu, tlb_fill(t, MMU_REGIME_EL10, TLB_KIND_S2, res, -1));
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

/* ---- One data access, end to end ------------------------------------------ */

int msys_access(struct msys *s, const struct msys_req *rq, struct msys_access *out,
                struct mmu_fault *fault)
{
    const struct mmu_ctx *ctx = rq->ctx;
    struct msys_access a;
    struct mmu_result r;
    int rc;

    memset(&a, 0, sizeof(a));
    a.who = rq->who;
    a.va = rq->va;
    a.size = rq->size;
    a.acc = rq->acc;
    if (ctx->regime == MMU_REGIME_EL10 && !ctx->s1.m) {
        /* Stage 1 off: the VA is the IPA; the memory type is the one
         * stage 1 would give (Arm ARM D8.2.11 with stage 1 disabled the
         * caller supplies it: actors choose it per access). */
        rc = msys_translate_s2(s, rq->cpu, ctx, rq->va, rq->acc, rq->s1_cacheable, &r, fault,
                               &a.tlb_hit);
    } else {
        rc = msys_translate(s, rq->cpu, ctx, rq->va, rq->acc, rq->el0, &r, fault, &a.tlb_hit);
    }
    if (rc != 0) {
        if (out)
            *out = a;
        return MSYS_FAULT;
    }
    a.ipa = r.ipa;
    a.pa = r.pa;
    a.cacheable = r.attrs.cacheable;
    if (rq->acc == MMU_ACC_WRITE) {
        a.val = rq->val;
        a.label = rq->who;
        rc = cache_write(&s->cache, r.pa, rq->size, r.attrs.cacheable, rq->val, rq->who, &a.cache);
    } else {
        rc = cache_read(&s->cache, r.pa, rq->size, r.attrs.cacheable, &a.val, &a.label, &a.cache);
    }
    if (out)
        *out = a;
    if (rc != MEM_OK)
        return MSYS_EABORT;
    if (ev_wanted(&s->bus, EV_ACCESS)) {
        struct ev e;
        e.kind = EV_ACCESS;
        e.cpu = (int)rq->cpu;
        e.u.access = a;
        ev_dispatch(&s->bus, &e);
    }
    return MSYS_OK;
}

int msys_dc(struct msys *s, unsigned cpu, label_t who, const struct mmu_ctx *ctx,
            enum dc_op op, uint64_t va, struct mmu_fault *fault)
{
    struct mmu_result r;
    bool hit;
    int rc = MSYS_OK;
    /* DC ZVA is a write; DC CVAC/CIVAC/IVAC need read permission (Arm ARM
     * D7.5.9.3 "Permission checks on DC instructions"). */
    enum mmu_access acc = op == DC_ZVA ? MMU_ACC_WRITE : MMU_ACC_READ;
    struct ev e;

    if (msys_translate(s, cpu, ctx, va, acc, false, &r, fault, &hit) != 0)
        return MSYS_FAULT;
    e.u.dc.line = op == DC_ZVA ? r.pa & ~(uint64_t)(CACHE_ZVA_SIZE - 1)
                               : r.pa & ~(uint64_t)(CACHE_LINE_SIZE - 1);
    if (op == DC_ZVA && !r.attrs.cacheable) {
        /* DC ZVA to non-cacheable memory writes zeros to memory. */
        for (unsigned i = 0; i < CACHE_ZVA_SIZE; i += 8)
            if (cache_write(&s->cache, e.u.dc.line + i, 8, false, 0, who, NULL) != MEM_OK)
                rc = MSYS_EABORT;
    } else if (cache_dc(&s->cache, op, r.pa, who) != MEM_OK) {
        rc = MSYS_EABORT;
    }
    if (ev_wanted(&s->bus, EV_DC)) {
        e.kind = EV_DC;
        e.cpu = (int)cpu;
        e.u.dc.op = op;
        e.u.dc.va = va;
        e.u.dc.pa = r.pa;
        e.u.dc.cacheable = r.attrs.cacheable;
        ev_dispatch(&s->bus, &e);
    }
    return rc;
}

/* ---- TLB maintenance, barriers, hardware events -------------------------- */

int msys_tlbi(struct msys *s, unsigned cpu, const struct tlbi_op *op)
{
    if (tlb_sys_issue(&s->tlb, cpu, op) != 0)
        return -1;
    if (ev_wanted(&s->bus, EV_TLBI_ISSUE)) {
        struct ev e;
        e.kind = EV_TLBI_ISSUE;
        e.cpu = (int)cpu;
        e.u.tlbi.op = *op;
        e.u.tlbi.issuer = cpu;
        e.u.tlbi.target = cpu;
        e.u.tlbi.removed = 0;
        ev_dispatch(&s->bus, &e);
    }
    return 0;
}

static void completed(void *arg, const struct tlb_pending *p, unsigned removed)
{
    struct msys *s = arg;
    struct ev e;

    if (!ev_wanted(&s->bus, EV_TLBI_COMPLETE))
        return;
    e.kind = EV_TLBI_COMPLETE;
    e.cpu = (int)p->target;
    e.u.tlbi.op = p->op;
    e.u.tlbi.issuer = p->issuer;
    e.u.tlbi.target = p->target;
    e.u.tlbi.removed = removed;
    ev_dispatch(&s->bus, &e);
}

unsigned msys_barrier(struct msys *s, unsigned cpu, enum ev_barrier kind, unsigned domain,
                      unsigned types)
{
    unsigned n = 0;

    if (kind == EV_BAR_DSB)
        n = tlb_sys_dsb_notify(&s->tlb, cpu, completed, s);
    if (ev_wanted(&s->bus, EV_BARRIER)) {
        struct ev e;
        e.kind = EV_BARRIER;
        e.cpu = (int)cpu;
        e.u.bar.kind = kind;
        e.u.bar.domain = domain;
        e.u.bar.types = types;
        e.u.bar.completed = n;
        ev_dispatch(&s->bus, &e);
    }
    return n;
}

void msys_tlbi_complete(struct msys *s, unsigned idx)
{
    struct tlb_pending p;
    unsigned removed;

    if (idx >= s->tlb.npending)
        return;
    p = s->tlb.pending[idx];
    removed = tlb_sys_complete(&s->tlb, idx);
    completed(s, &p, removed);
}

void msys_tlb_evict(struct msys *s, unsigned cpu, unsigned slot)
{
    struct tlb *t;
    struct ev e;

    if (cpu >= s->tlb.ncpus || slot >= (t = &s->tlb.cpu[cpu])->cap || !t->e[slot].valid)
        return;
    e.u.tlb.e = t->e[slot];
    tlb_evict(t, slot);
    if (ev_wanted(&s->bus, EV_TLB_EVICT)) {
        e.kind = EV_TLB_EVICT;
        e.cpu = (int)cpu;
        e.u.tlb.slot = slot;
        ev_dispatch(&s->bus, &e);
    }
}

void msys_cache_evict(struct msys *s, unsigned idx)
{
    const struct cache_line *l;
    struct ev e;

    if (idx >= s->cache.sets * s->cache.ways || !(l = &s->cache.line[idx])->valid)
        return;
    e.u.line.pa = l->pa;
    e.u.line.dirty = l->dirty;
    cache_evict_index(&s->cache, idx);
    if (ev_wanted(&s->bus, EV_CACHE_EVICT)) {
        e.kind = EV_CACHE_EVICT;
        e.cpu = -1;
        ev_dispatch(&s->bus, &e);
    }
}
