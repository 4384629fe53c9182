/*
 * model/inv/incr.c - the incremental engine: shadows of every table page
 * reachable from a published root, of the TLBs and of the owners, brought up
 * to date from what each step wrote (see the header of inv.c).
 */
#include "model/inv/inv_int.h"

/* ---- Incremental state: tables ------------------------------------------ */

static struct inv_table *tab_find(const struct inv_state *st, uint64_t pa)
{
    uint32_t idx;
    if (!inv_map_get(&st->tabmap, pa >> MEM_PAGE_SHIFT, &idx))
        return NULL;
    return st->tab[idx];
}

static struct inv_table *tab_new(struct inv_state *st, uint64_t pa)
{
    struct inv_table *t;

    if (st->ntab == st->cap_tab) {
        uint32_t nc = st->cap_tab ? st->cap_tab * 2 : 32;
        struct inv_table **nt = realloc(st->tab, nc * sizeof *nt);
        if (!nt)
            return NULL;
        st->tab = nt;
        st->cap_tab = nc;
    }
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (inv_map_put(&st->tabmap, pa >> MEM_PAGE_SHIFT, st->ntab) != 0) {
        free(t);
        return NULL;
    }
    t->pa = pa;
    st->tab[st->ntab++] = t;
    return t;
}

static void tab_delete(struct inv_state *st, struct inv_table *t)
{
    uint32_t idx;
    if (!inv_map_get(&st->tabmap, t->pa >> MEM_PAGE_SHIFT, &idx))
        return;
    inv_map_del(&st->tabmap, t->pa >> MEM_PAGE_SHIFT);
    st->ntab--;
    if (idx != st->ntab) {
        st->tab[idx] = st->tab[st->ntab];
        inv_map_put(&st->tabmap, st->tab[idx]->pa >> MEM_PAGE_SHIFT, idx);
    }
    free(t);
}

static void mapcnt_add(struct inv_state *st, uint64_t oa, unsigned shift, int delta)
{
    uint64_t first = oa >> MEM_PAGE_SHIFT, n = (1ull << shift) >> MEM_PAGE_SHIFT;
    for (uint64_t p = first; p < first + n && p < st->npages; p++) {
        uint8_t c = st->mapcnt[p];
        if (c == UINT8_MAX)
            continue;          /* saturated: sticky */
        if (delta > 0)
            st->mapcnt[p] = (uint8_t)(c + 1);
        else if (c > 0)
            st->mapcnt[p] = (uint8_t)(c - 1);
    }
}

static void inc_link(struct machine *m, struct inv_report *r, uint64_t pa, int level, int who,
                     uint64_t base);

static uint64_t leaf_oa(uint64_t d, unsigned shift)
{
    return mmu_desc_oa(d) & ~((1ull << shift) - 1);
}

static void inc_add_desc(struct machine *m, struct inv_report *r, struct inv_table *t,
                         unsigned idx, uint64_t d)
{
    struct inv_state *st = m->inv;
    unsigned shift = inv_level_shift(t->level);
    uint64_t in = t->base + ((uint64_t)idx << shift);

    switch (mmu_desc_kind(d, t->level)) {
    case MMU_DK_TABLE:
        inc_link(m, r, mmu_desc_oa(d), t->level + 1, t->who, in);
        break;
    case MMU_DK_BLOCK:
    case MMU_DK_PAGE:
        mapcnt_add(st, leaf_oa(d, shift), shift, +1);
        if (st->booted)
            inv_check_leaf(m, r, STRUCT_INVS, t->who, in, leaf_oa(d, shift), shift,
                       t->pa + 8ull * idx);
        break;
    default:
        break;
    }
}

static void inc_unlink(struct machine *m, uint64_t pa);

static void inc_remove_desc(struct machine *m, struct inv_table *t, uint64_t d)
{
    unsigned shift = inv_level_shift(t->level);

    switch (mmu_desc_kind(d, t->level)) {
    case MMU_DK_TABLE:
        inc_unlink(m, mmu_desc_oa(d));
        break;
    case MMU_DK_BLOCK:
    case MMU_DK_PAGE:
        mapcnt_add(m->inv, leaf_oa(d, shift), shift, -1);
        break;
    default:
        break;
    }
}

/* A root or a valid table descriptor now points at pa. */
static void inc_link(struct machine *m, struct inv_report *r, uint64_t pa, int level, int who,
                     uint64_t base)
{
    struct inv_state *st = m->inv;
    struct inv_table *t = tab_find(st, pa);

    if (t) {
        t->refs++;
        inv_report_dup_table(r, pa, who, level);
        return;
    }
    if (level > 3)
        return;
    t = tab_new(st, pa);
    if (!t) {
        st->degraded = true;
        return;
    }
    t->level = level;
    t->who = who;
    t->base = base;
    t->refs = 1;
    inv_rd_page(m, pa, t->desc);
    inv_check_table_page(m, r, pa, who, level, st->booted);
    for (unsigned i = 0; i < DESCS_PER_PAGE; i++)
        inc_add_desc(m, r, t, i, t->desc[i]);
}

/* A reference to table page pa went away. */
static void inc_unlink(struct machine *m, uint64_t pa)
{
    struct inv_table *t = tab_find(m->inv, pa);

    if (!t || t->refs == 0)    /* refs == 0: being deleted (a cycle) */
        return;
    if (--t->refs > 0)
        return;
    for (unsigned i = 0; i < DESCS_PER_PAGE; i++)
        inc_remove_desc(m, t, t->desc[i]);
    tab_delete(m->inv, t);
}

/* One descriptor of a tracked table page may have changed. */
static void inc_sync_desc(struct machine *m, struct inv_report *r, uint64_t pa)
{
    struct inv_state *st = m->inv;
    struct inv_table *t = tab_find(st, pa & PAGE_MASK);
    unsigned idx = (unsigned)((pa & ~PAGE_MASK) >> 3);

    if (!t)
        return;
    uint64_t old = t->desc[idx], new = inv_rd(m, pa);
    if (old == new)
        return;
    inv_check_transition(m, r, t->who, t->level, pa, old, new);
    if (mmu_desc_kind(old, t->level) == MMU_DK_TABLE && mmu_desc_kind(new, t->level) == MMU_DK_TABLE &&
        mmu_desc_oa(old) == mmu_desc_oa(new)) {
        t->desc[idx] = new;    /* attributes only: same subtree */
        return;
    }
    inc_remove_desc(m, t, old);
    t = tab_find(st, pa & PAGE_MASK);   /* a cycle may have released it */
    if (!t)
        return;
    t->desc[idx] = new;
    inc_add_desc(m, r, t, idx, new);
}

static void own_note(struct inv_state *st, uint64_t pfn)
{
    for (unsigned i = 0; i < st->nown; i++)
        if (st->own[i] == pfn)
            return;
    if (st->nown < OWN_LIST_MAX)
        st->own[st->nown++] = pfn;
    else
        st->own_overflow = true;
}

/* The boot flag may have changed. */
static void sync_booted(struct machine *m)
{
    struct inv_state *st = m->inv;
    bool b = inv_booted(m);

    if (b && !st->booted)
        st->boot_pending = true;
    st->booted = b;
}

/* The published root of principal slot s may have changed. */
static void sync_root(struct machine *m, struct inv_report *r, unsigned s)
{
    struct inv_state *st = m->inv;
    uint64_t v = inv_published_root(m, s);

    if (v == st->root[s])
        return;
    if (st->root[s])
        inc_unlink(m, inv_root_of(st->root[s]));
    st->root[s] = v;
    if (v)
        inc_link(m, r, inv_root_of(v), st->geom.start_level, (int)s, 0);
}

/* A word of the published state, the ownership array or a table page may
 * have changed: bring the incremental state up to date and check. */
static void inc_sync_word(struct machine *m, struct inv_report *r, uint64_t pa)
{
    struct inv_state *st = m->inv;

    uint64_t idx = 0;

    pa &= ~7ull;
    switch (m->hv->word_kind(pa, &idx)) {
    case HV_WORD_BOOTED:
        sync_booted(m);
        break;
    case HV_WORD_ROOT:
        if (idx < NPRINC)
            sync_root(m, r, (unsigned)idx);
        break;
    case HV_WORD_OWNER:
        if (idx < st->npages)
            own_note(st, idx);
        break;
    default:
        break;
    }
    inc_sync_desc(m, r, pa);
}

/* ---- Incremental state: TLBs -------------------------------------------- */

static void tlbsh_from(struct tlb_shadow *s, const struct tlb_entry *e)
{
    memset(s, 0, sizeof *s);
    if (!e->valid)
        return;
    s->valid = true;
    s->regime = e->regime;
    s->kind = e->kind;
    s->vmid = e->vmid;
    s->shift = e->shift;
    s->in_base = e->in_base;
    s->pa = e->r.pa;
}

static bool tlbsh_same(const struct tlb_shadow *s, const struct tlb_entry *e)
{
    struct tlb_shadow n;
    tlbsh_from(&n, e);
    return memcmp(s, &n, sizeof n) == 0;
}

static bool tlb_entry_covers(const struct tlb_entry *e, uint64_t pfn)
{
    unsigned shift;
    uint64_t base = inv_tlb_entry_base(e, &shift);
    uint64_t pa = pfn << MEM_PAGE_SHIFT;
    return pa >= base && pa - base < (1ull << shift);
}

/* Compare CPU c's TLB with its shadow; check entries that changed, and (when
 * all is set) every entry, or those covering page pfn (pfn != ~0). */
static void inc_tlb_sync(struct machine *m, struct inv_report *r, unsigned c, bool all,
                         uint64_t pfn)
{
    struct inv_state *st = m->inv;
    const struct tlb *t;

    if (c >= st->ncpus_tlb || c >= m->ms.tlb.ncpus)
        return;
    t = &m->ms.tlb.cpu[c];
    if (!all && pfn == ~0ull && st->tlb_gen[c] == t->gen)
        return;                /* no entry changed since the last look */
    st->tlb_gen[c] = t->gen;
    for (unsigned i = 0; i < t->cap && i < st->tlb_cap; i++) {
        struct tlb_shadow *s = &st->tlbsh[(size_t)c * st->tlb_cap + i];
        const struct tlb_entry *e = &t->e[i];
        bool changed = !tlbsh_same(s, e);
        if (changed)
            tlbsh_from(s, e);
        if (!inv_tlb_entry_relevant(e))
            continue;
        if (changed || all || (pfn != ~0ull && tlb_entry_covers(e, pfn)))
            inv_check_tlb_entry(m, r, INV_BIT(1) | INV_BIT(3), c, i, e);
    }
}

/* ---- Incremental: re-checks --------------------------------------------- */

/* Everything ownership-dependent about page pfn: leaves covering it, TLB
 * entries covering it, and the page itself if it is a table page. */
static void inc_recheck_page(struct machine *m, struct inv_report *r, uint64_t pfn)
{
    struct inv_state *st = m->inv;
    uint64_t pa = pfn << MEM_PAGE_SHIFT;
    struct inv_table *tp;

    if (pfn < st->npages && st->mapcnt[pfn] > 0) {
        for (uint32_t k = 0; k < st->ntab; k++) {
            const struct inv_table *t = st->tab[k];
            unsigned shift = inv_level_shift(t->level);
            for (unsigned i = 0; i < DESCS_PER_PAGE; i++) {
                enum mmu_desc_kind kd = mmu_desc_kind(t->desc[i], t->level);
                if (kd != MMU_DK_BLOCK && kd != MMU_DK_PAGE)
                    continue;
                uint64_t oa = leaf_oa(t->desc[i], shift);
                if (pa < oa || pa - oa >= (1ull << shift))
                    continue;
                inv_check_leaf(m, r, STRUCT_INVS, t->who, t->base + ((uint64_t)i << shift), oa,
                           shift, t->pa + 8ull * i);
            }
        }
    }
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        inc_tlb_sync(m, r, c, false, pfn);
    tp = tab_find(st, pa);
    if (tp)
        inv_check_table_page(m, r, tp->pa, tp->who, tp->level, true);
}

/* Everything ownership-dependent, for every tracked item. */
void inv_inc_recheck_all(struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;

    if (!st->booted)
        return;
    for (uint32_t k = 0; k < st->ntab; k++) {
        const struct inv_table *t = st->tab[k];
        unsigned shift = inv_level_shift(t->level);
        inv_check_table_page(m, r, t->pa, t->who, t->level, true);
        for (unsigned i = 0; i < DESCS_PER_PAGE; i++) {
            enum mmu_desc_kind kd = mmu_desc_kind(t->desc[i], t->level);
            if (kd == MMU_DK_BLOCK || kd == MMU_DK_PAGE)
                inv_check_leaf(m, r, STRUCT_INVS, t->who, t->base + ((uint64_t)i << shift),
                           leaf_oa(t->desc[i], shift), shift, t->pa + 8ull * i);
        }
    }
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        inc_tlb_sync(m, r, c, true, ~0ull);
    for (uint64_t pfn = 0; pfn < inv_region_pages(m); pfn++)
        inv_check_kcore_record(m, r, pfn);
    inv_own_scan(m, r, st->own_inc, true);
}

/* Re-read every word the checker tracks (tables, published page), then
 * re-check everything: for changes it could not see (DC IVAC, ...). */
void inv_inc_resync(struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    uint64_t *pas;
    uint32_t n = st->ntab;

    sync_booted(m);
    for (unsigned s = 0; s < NPRINC; s++)
        sync_root(m, r, s);
    pas = malloc((n ? n : 1) * sizeof *pas);
    if (!pas) {
        st->degraded = true;
        return;
    }
    for (uint32_t k = 0; k < n; k++)
        pas[k] = st->tab[k]->pa;
    for (uint32_t k = 0; k < n; k++)
        for (unsigned i = 0; i < DESCS_PER_PAGE; i++)
            inc_sync_desc(m, r, pas[k] + 8ull * i);
    free(pas);
    st->boot_pending = false;
    st->nown = 0;
    st->own_overflow = false;
    inv_inc_recheck_all(m, r);
}

/* ---- Incremental: what the step wrote ----------------------------------- */

static bool relevant_pa(const struct machine *m, uint64_t pa)
{
    uint64_t idx = 0;

    switch (m->hv->word_kind(pa, &idx)) {
    case HV_WORD_NONE:
        break;
    case HV_WORD_OWNER:
        if (idx < m->inv->npages)
            return true;
        break;
    default:
        return true;
    }
    return tab_find(m->inv, pa & PAGE_MASK) != NULL;
}

/* A non-cacheable write under a valid line leaves the coherent view as the
 * line; an eviction may later expose memory. Remember the line. */
static void watch_add(struct machine *m, uint64_t pa)
{
    struct inv_state *st = m->inv;
    uint64_t line = pa & ~(uint64_t)(CACHE_LINE_SIZE - 1);

    if (!cache_find(&m->ms.cache, line))
        return;
    for (unsigned i = 0; i < st->nwatch; i++)
        if (st->watch[i].line == line)
            return;
    if (st->nwatch == WATCH_MAX) {
        st->force_resync = true;
        return;
    }
    struct watch *w = &st->watch[st->nwatch++];
    w->line = line;
    for (unsigned i = 0; i < CACHE_LINE_WORDS; i++)
        w->w[i] = inv_rd(m, line + 8ull * i);
}

static void watch_poll(struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;

    for (unsigned k = 0; k < st->nwatch;) {
        struct watch *w = &st->watch[k];
        for (unsigned i = 0; i < CACHE_LINE_WORDS; i++) {
            uint64_t v = inv_rd(m, w->line + 8ull * i);
            if (v != w->w[i]) {
                w->w[i] = v;
                inc_sync_word(m, r, w->line + 8ull * i);
            }
        }
        if (!cache_find(&m->ms.cache, w->line))
            st->watch[k] = st->watch[--st->nwatch];   /* the view is memory again */
        else
            k++;
    }
}

void inv_inc_step(struct machine *m, unsigned cpu, enum step_kind ev, struct inv_report *r)
{
    struct inv_state *st = m->inv;

    st->nown = 0;
    st->own_overflow = false;
    /* The hypervisor's writes of the step (EV_ACCESS), then the line a DC
     * ZVA zeroed through the cache (EV_DC). */
    for (unsigned i = 0; i < st->nhyp_w; i++) {
        inc_sync_word(m, r, st->hyp_w[i]);
        if (st->hyp_w_bypass[i])
            watch_add(m, st->hyp_w[i]);
    }
    if (st->hyp_w_overflow)
        st->force_resync = true;
    if (st->zva_line != ~0ull)
        for (unsigned w = 0; w < CACHE_LINE_WORDS; w++)
            inc_sync_word(m, r, st->zva_line + 8ull * w);
    for (unsigned i = 0; i < st->nactor_w; i++) {
        inc_sync_word(m, r, st->actor_w[i]);
        if (st->actor_w_bypass[i] && relevant_pa(m, st->actor_w[i]))
            watch_add(m, st->actor_w[i]);
    }
    if (st->actor_w_overflow)
        st->force_resync = true;
    watch_poll(m, r);

    if (st->force_resync) {
        st->force_resync = false;
        inv_inc_resync(m, r);
        return;
    }
    if (st->boot_pending) {
        st->boot_pending = false;
        inv_inc_recheck_all(m, r);
        return;
    }
    if (!st->booted)
        return;
    if (st->own_overflow) {
        inv_inc_recheck_all(m, r);
        return;
    }
    for (unsigned i = 0; i < st->nown; i++) {
        inc_recheck_page(m, r, st->own[i]);
        if (inv_booted(m))
            inv_check_kcore_record(m, r, st->own[i]);
        inv_own_seen(m, r, st->own_inc, st->own[i], inv_owner_entry_raw(m, st->own[i]).owner, true);
    }
    if (ev == STEP_CPU || ev == STEP_TLB_FILL)
        inc_tlb_sync(m, r, cpu, false, ~0ull);
}

/* Build the incremental state from the machine as it is now; judge: also
 * report hand-backs since the last look (recovery after running out of
 * memory; not at init, where nothing is judged). */
void inv_inc_rebuild(struct machine *m, struct inv_report *r, bool judge)
{
    struct inv_state *st = m->inv;

    for (unsigned s = 0; s < NPRINC; s++)
        if (st->root[s]) {
            inc_unlink(m, inv_root_of(st->root[s]));
            st->root[s] = 0;
        }
    while (st->ntab)           /* cycles left behind */
        tab_delete(st, st->tab[st->ntab - 1]);
    if (st->mapcnt)
        memset(st->mapcnt, 0, st->npages);
    st->booted = inv_booted(m);
    for (unsigned s = 0; s < NPRINC; s++) {
        uint64_t v = inv_published_root(m, s);
        st->root[s] = v;
        if (v)
            inc_link(m, r, inv_root_of(v), st->geom.start_level, (int)s, 0);
    }
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        inc_tlb_sync(m, r, c, true, ~0ull);
    inv_own_scan(m, r, st->own_inc, judge && st->booted);   /* a hand-back seen late */
    st->degraded = false;
}
