/*
 * model/layers/refine.c - L1 refinement, checked against L0 after every
 * hypervisor step. See refine.h and docs/LAYERS.md.
 *
 * After each hypervisor step, every read the step made is replayed on the
 * flat machine - an atomic walk of the current EL2 stage-1 tables read
 * through the coherent view, then the coherent value at the PA found.
 */
#include "model/layers/refine.h"

#include <stdlib.h>
#include <string.h>

static int coh_read_desc(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    const struct machine *m = arg;
    label_t l;

    (void)cacheable;                       /* L1 has no cache: every walk is coherent */
    return cache_read_coherent(&m->ms.cache, pa, 8, desc, &l) == MEM_OK ? 0 : -1;
}

void layers_bind_coherent(const struct machine *m, struct mmu_ctx *ctx)
{
    ctx->ops.read_desc = coh_read_desc;
    ctx->ops.write_desc = NULL;            /* L1 observes, never updates AF/DBM */
    ctx->ops.arg = (void *)(uintptr_t)m;
    ctx->ha = ctx->hd = false;
}

int layers_l1_read(const struct machine *m, const struct mmu_ctx *ctx, uint64_t va,
                   unsigned size, uint64_t *pa, uint64_t *val)
{
    struct mmu_ctx c = *ctx;
    struct mmu_result r;
    struct mmu_fault f;
    label_t l;

    layers_bind_coherent(m, &c);
    if (mmu_translate(&c, va, MMU_ACC_READ, false, &r, &f) != 0)
        return -1;
    if (cache_read_coherent(&m->ms.cache, r.pa, size, val, &l) != MEM_OK)
        return -1;
    *pa = r.pa;
    return 0;
}

static bool overlaps(uint64_t a, unsigned an, uint64_t b, unsigned bn)
{
    return a < b + bn && b < a + an;
}

unsigned layers_check_refinement(struct machine *m, unsigned cpu, const struct msys_access *acc,
                                 unsigned nacc)
{
    const struct cpu *c = &m->cpu[cpu];
    const char *hyp = m->hv->label_name;
    unsigned n = 0;

    for (unsigned i = 0; i < nacc; i++) {
        const struct msys_access *a = &acc[i];
        uint64_t pa1 = 0, v1 = 0;
        bool rmw = false;

        if (a->acc != MMU_ACC_READ)
            continue;
        for (unsigned j = i + 1; j < nacc; j++)
            if (acc[j].acc == MMU_ACC_WRITE && overlaps(a->pa, a->size, acc[j].pa, acc[j].size))
                rmw = true;
        n++;
        if (layers_l1_read(m, &c->el2, a->va, a->size, &pa1, &v1) != 0) {
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_HYP, LABEL_HYP,
                              "L1 refinement: %s read VA %#llx at PA %#llx (value %#llx%s) but "
                              "the flat walk of the current tables faults: stale TLB entry", hyp,
                              (unsigned long long)a->va, (unsigned long long)a->pa,
                              (unsigned long long)a->val, a->tlb_hit ? ", TLB hit" : "");
            return n;
        }
        if (pa1 != a->pa) {
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_HYP, LABEL_HYP,
                              "L1 refinement: %s read VA %#llx at PA %#llx (value %#llx%s), the flat "
                              "machine at PA %#llx (value %#llx): stale TLB entry", hyp,
                              (unsigned long long)a->va, (unsigned long long)a->pa,
                              (unsigned long long)a->val, a->tlb_hit ? ", TLB hit" : "",
                              (unsigned long long)pa1, (unsigned long long)v1);
            return n;
        }
        if (!rmw && v1 != a->val) {
            const struct cache_line *l = cache_find(&m->ms.cache, a->pa);
            const char *cause =
                a->cache != CACHE_BYPASS ? "the cache returned a value other than the coherent one"
                : l && l->dirty ? "stale memory under a dirty line read with the cache bypassed"
                : l ? "memory differs from a clean line (non-cacheable write under it), read with the cache bypassed"
                    : "memory changed under the read";
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_HYP, a->label,
                              "L1 refinement: %s read VA %#llx = PA %#llx (%u bytes): value %#llx, "
                              "the flat machine %#llx: %s", hyp,
                              (unsigned long long)a->va, (unsigned long long)a->pa, a->size,
                              (unsigned long long)a->val, (unsigned long long)v1, cause);
            return n;
        }
    }
    return n;
}

/* ---- The checker: the hypervisor's accesses of a step, judged at its end - */

struct refine_state {
    struct msys_access acc[CPU_MAX_ACCESS];
    unsigned n;
};

static void refine_event(struct machine *m, void *stp, const struct ev *e)
{
    struct refine_state *st = stp;

    switch (e->kind) {
    case EV_STEP_BEGIN:
        st->n = 0;
        break;
    case EV_ACCESS:
        if (e->u.access.who == LABEL_HYP && st->n < CPU_MAX_ACCESS)
            st->acc[st->n++] = e->u.access;
        break;
    case EV_STEP_END:
        if (!m->stop && e->u.step.ran_hyp && m->cfg.layers && e->cpu >= 0)
            m->st.refinement_checks += layers_check_refinement(m, (unsigned)e->cpu, st->acc, st->n);
        st->n = 0;
        break;
    default:
        break;
    }
}

static int refine_init(struct machine *m, void **st)
{
    (void)m;
    *st = calloc(1, sizeof(struct refine_state));
    return *st ? 0 : -1;
}

static void refine_free(struct machine *m, void *st)
{
    (void)m;
    free(st);
}

const struct checker_def refine_checker = {
    .name = "refinement",
    .what = "invariant 8, L1: every hypervisor read equals the flat machine's",
    .events = EV_BIT(EV_STEP_BEGIN) | EV_BIT(EV_ACCESS) | EV_BIT(EV_STEP_END),
    .init = refine_init,
    .free = refine_free,
    .on_event = refine_event,
};
