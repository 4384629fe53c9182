/*
 * model/inv/inv.c - the isolation invariants of DESIGN.md (1-7), checked after
 * every step, incrementally or from scratch (machine.h, model/inv.h).
 *
 * What the checker trusts: the machine's hardware state only - memory
 * through the coherent view (cache_read_coherent: what a cacheable walk
 * sees), the TLBs, and of KCore's data only the ownership array and the
 * published page (hyp/kcore/abi.h), which name every stage-2 root. Tables are
 * walked with the mmu/ visitor (full mode) or followed descriptor by
 * descriptor (incremental mode); KCore's own bookkeeping of its tables is
 * never read.
 *
 * Reporting: a violation is reported once, under the most specific
 * invariant: a KCore page in a stage-2 table or a TLB entry is 1 (not also
 * 2 or 3); a VM page mapped by the host with a zero share count is 7 (its
 * clause "count == 0 implies no host mapping"), so 2 accepts any VM page in
 * the host's stage 2, while 3 (TLB entries, no bookkeeping clause) requires
 * count > 0.
 *
 * Incremental mode keeps: a shadow copy of every table page reachable from
 * a published root (with its level, principal, first IPA and reference
 * count), the published VTTBRs and boot flag, a saturating per-page count of
 * stage-2 leaves covering the page (1 byte per page), and per TLB slot the
 * translation it held when last checked. After a step it re-reads only the
 * words the step could have changed: KCore's writes (cpu->acc), the actors'
 * writes, the lines of non-cacheable writes made under a valid cache line
 * (an eviction changes the coherent view later), and the cache line a DC
 * ZVA allocated (DC is no access record: the instruction at cpu->last_pc
 * says a DC ran); a DC IVAC (or an unidentifiable DC ZVA) makes it re-read
 * everything it tracks. A changed descriptor is checked (invariant 6's
 * transition rules), its old subtree untracked and its new one tracked and
 * checked; a changed ownership entry re-checks the stage-2 leaves covering
 * that page (found by scanning the shadows, skipped when the page's leaf
 * count is 0), the TLB entries covering it, and the page itself if it is a
 * table; a TLB entry is checked when its slot differs from the shadow.
 *
 * Invariant 4 has two parts: each actor read (inv_check_access), and the
 * hand-back rule - a page whose ownership entry changes from a VM to the
 * host must hold no VM-labelled word, in the coherent view (a cacheable
 * read) or in memory (a non-cacheable read, or what a lost line leaves).
 * The host may read any page it owns at any moment, so data left there has
 * leaked whether or not the adversary's schedule happens to read it; the
 * rule turns a race the scheduler must hit (host fault + read inside the
 * window) into a check at the change. Both modes keep the owner each page
 * had at the last look (a byte per page): incremental updates it from the
 * ownership words a step wrote, full compares the whole array every step.
 *
 * Leaves out: stage-1 tables of the EL1&0 regime (guests run with stage 1
 * off here), KCore's EL2 stage 1 (not a host or guest context), the
 * hardware access-flag updates of walks (they change no output address).
 *
 * The parts: see inv_int.h.
 */
#include "model/inv/inv_int.h"

/* ---- The machine interface --------------------------------------------- */

/* The step is over: forget what it wrote. */
static void step_done(struct inv_state *st)
{
    st->nactor_w = 0;
    st->actor_w_overflow = false;
    st->nhyp_w = 0;
    st->hyp_w_overflow = false;
    st->zva_line = ~0ull;
}

int inv_init(struct machine *m)
{
    struct inv_state *st = calloc(1, sizeof *st);
    struct inv_report junk;

    if (!st)
        return -1;
    m->inv = st;
    /* The VTCR_EL2 of every stage 2 the hypervisor builds. */
    if (mmu_s2_geom(m->hv->layout.vtcr, &st->geom) != 0)
        goto fail;
    st->agree = m->cfg.inv_agree;
    st->npages = m->ms.mem.npages;
    st->ncpus = m->cfg.ncpus < HV_MAX_CPUS ? m->cfg.ncpus : HV_MAX_CPUS;
    st->ncpus_tlb = m->ms.tlb.ncpus;
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        if (m->ms.tlb.cpu[c].cap > st->tlb_cap)
            st->tlb_cap = m->ms.tlb.cpu[c].cap;
    st->mapcnt = calloc(st->npages ? st->npages : 1, 1);
    st->tlbsh = calloc((size_t)st->ncpus_tlb * st->tlb_cap + 1, sizeof *st->tlbsh);
    st->tlb_gen = calloc(st->ncpus_tlb + 1, sizeof *st->tlb_gen);
    st->nown_pages = st->npages < m->hv->layout.own_entries ? st->npages : m->hv->layout.own_entries;
    st->own_inc = calloc(st->nown_pages + 1, 1);
    st->own_full = calloc(st->nown_pages + 1, 1);
    if (!st->mapcnt || !st->tlbsh || !st->tlb_gen || !st->own_inc ||
        !st->own_full)
        goto fail;
    inv_report_init(&junk, -1);       /* the initial state is not judged */
    inv_inc_rebuild(m, &junk, false);
    if (st->degraded)
        goto fail;
    inv_snap_take(m);
    step_done(st);
    return 0;
fail:
    inv_free(m);
    return -1;
}

void inv_free(struct machine *m)
{
    struct inv_state *st = m->inv;

    if (!st)
        return;
    for (uint32_t k = 0; k < st->ntab; k++)
        free(st->tab[k]);
    free(st->tab);
    inv_map_free(&st->tabmap);
    inv_map_free(&st->seen);
    inv_map_free(&st->snap_prev.map);
    inv_map_free(&st->snap_cur.map);
    free(st->snap_prev.words);
    free(st->snap_cur.words);
    free(st->mapcnt);
    free(st->tlbsh);
    free(st->tlb_gen);
    free(st->own_inc);
    free(st->own_full);
    free(st);
    m->inv = NULL;
}

static void agree_compare(struct machine *m, const struct inv_report *inc,
                          const struct inv_report *full)
{
    struct inv_state *st = m->inv;
    uint32_t a = inc->mask & AGREE_INVS, b = full->mask & AGREE_INVS;

    if (a != b) {
        st->agree_mismatch++;
        snprintf(st->agree_last, sizeof st->agree_last,
                 "step %llu: incremental reported invariants %#x, full %#x: %.150s",
                 (unsigned long long)m->st.steps, a, b,
                 inc->n ? inc->item[0].detail : (full->n ? full->item[0].detail : ""));
    }
    if (a || b)
        st->agree_done = true;
}

void inv_after_step(struct machine *m, unsigned cpu, enum step_kind ev)
{
    struct inv_state *st = m->inv;
    struct inv_report r;
    unsigned nchecks = 0;
    int rcpu = ev == STEP_CPU && cpu < m->cfg.ncpus ? (int)cpu : -1;

    if (!st || m->cfg.check == CHECK_OFF) {
        if (st)
            step_done(st);
        return;
    }
    inv_report_init(&r, rcpu);
    if (m->cfg.check == CHECK_FULL) {
        nchecks = inv_full_checks(m, &r);
    } else {
        if (st->degraded) {
            inv_inc_rebuild(m, &r, true);
            inv_inc_recheck_all(m, &r);
        } else {
            inv_inc_step(m, cpu, ev, &r);
        }
        nchecks = st->booted ? 6 : 1;
        if (st->agree && !st->agree_done) {
            struct inv_report f;
            inv_report_init(&f, rcpu);
            inv_full_checks(m, &f);
            agree_compare(m, &r, &f);
        }
    }
    nchecks += st->accessed_r + st->accessed_w;
    m->st.invariant_checks += nchecks;
    st->accessed_r = st->accessed_w = false;
    step_done(st);
    inv_rep_flush(m, &r);
}

void inv_on_actor_access(struct machine *m, unsigned cpu, label_t who,
                         const struct msys_access *a, bool write)
{
    struct inv_state *st = m->inv;
    struct inv_report r;

    if (!st || m->cfg.check == CHECK_OFF || !a)
        return;
    if (write) {
        if (st->nactor_w < ACTOR_W_MAX) {
            st->actor_w[st->nactor_w] = a->pa;
            st->actor_w_bypass[st->nactor_w] = a->cache == CACHE_BYPASS;
            st->nactor_w++;
        } else {
            st->actor_w_overflow = true;
        }
    }
    if (!inv_booted(m))
        return;
    if (write)
        st->accessed_w = true;
    else
        st->accessed_r = true;
    inv_report_init(&r, (int)cpu);
    inv_check_access(m, who, a, write, &r);
    inv_rep_flush(m, &r);
}

void inv_set_agree(struct machine *m, bool on)
{
    if (m->inv) {
        m->inv->agree = on;
        m->inv->agree_done = false;
        inv_snap_take(m);
    }
}

uint64_t inv_agree_mismatches(const struct machine *m, char *buf, size_t len)
{
    if (!m->inv)
        return 0;
    if (buf && len)
        snprintf(buf, len, "%s", m->inv->agree_last);
    return m->inv->agree_mismatch;
}

void inv_resync(struct machine *m)
{
    struct inv_report r;

    if (!m->inv || m->cfg.check != CHECK_INCREMENTAL)
        return;                /* full mode re-reads everything anyway */
    inv_report_init(&r, -1);
    inv_inc_resync(m, &r);
    inv_rep_flush(m, &r);
}

/* ---- The checker (model/checker.h): fed by the step events ------------- */

/* What a step did that the incremental checks must look at: the
 * hypervisor's writes and DC operations, the actors' accesses (judged at
 * once: invariants 4 and 5), and the end of the step. */
static void inv_event(struct machine *m, void *stp, const struct ev *e)
{
    struct inv_state *st = stp;

    switch (e->kind) {
    case EV_ACCESS:
        if (e->u.access.who != LABEL_HYP) {
            inv_on_actor_access(m, (unsigned)e->cpu, e->u.access.who, &e->u.access,
                                e->u.access.acc == MMU_ACC_WRITE);
        } else if (e->u.access.acc == MMU_ACC_WRITE) {
            if (st->nhyp_w < HYP_W_MAX) {
                st->hyp_w[st->nhyp_w] = e->u.access.pa;
                st->hyp_w_bypass[st->nhyp_w] = e->u.access.cache == CACHE_BYPASS;
                st->nhyp_w++;
            } else {
                st->hyp_w_overflow = true;
            }
        }
        break;
    case EV_DC:
        /* DC IVAC may expose stale memory anywhere under the line: re-read
         * everything tracked; so for a DC ZVA that wrote memory directly
         * (non-cacheable), as the checker watches lines, not memory. */
        if (e->u.dc.op == DC_IVAC || (e->u.dc.op == DC_ZVA && !e->u.dc.cacheable))
            st->force_resync = true;
        else if (e->u.dc.op == DC_ZVA)
            st->zva_line = e->u.dc.line;
        break;
    case EV_STEP_END:
        if (!m->stop)
            inv_after_step(m, e->cpu < 0 ? 0 : (unsigned)e->cpu, (enum step_kind)e->u.step.kind);
        else
            step_done(st);
        break;
    default:
        break;
    }
}

static int inv_checker_init(struct machine *m, void **st)
{
    if (inv_init(m) != 0)
        return -1;
    *st = m->inv;
    return 0;
}

static void inv_checker_free(struct machine *m, void *st)
{
    (void)st;
    inv_free(m);
}

const struct checker_def inv_checker = {
    .name = "invariants",
    .what = "invariants 1-7 (DESIGN.md), incremental or full",
    .events = EV_BIT(EV_ACCESS) | EV_BIT(EV_DC) | EV_BIT(EV_STEP_END),
    .init = inv_checker_init,
    .free = inv_checker_free,
    .on_event = inv_event,
};
