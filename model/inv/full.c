/*
 * model/inv/full.c - full checks: every invariant re-derived from the machine
 * state, each published stage-2 root walked with the mmu/ visitor.
 */
#include "model/inv/inv_int.h"

/* ---- Full checks: walk every published root with the mmu/ visitor ------- */

struct fwalk;
typedef void (*fw_leaf_fn)(struct fwalk *w, const struct mmu_visit *v);
typedef void (*fw_table_fn)(struct fwalk *w, const struct mmu_visit *v, uint64_t child, bool dup);

struct fwalk {
    const struct machine *m;
    struct inv_report *r;
    struct u64map *seen;
    int who;
    bool skipping;             /* suppress reads of skip_page (a repeated table) */
    uint64_t skip_page;
    fw_leaf_fn leaf;
    fw_table_fn table;
    void *arg;
};

static int fw_read(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    struct fwalk *w = arg;
    struct inv_state *st = w->m->inv;
    uint64_t page = pa & PAGE_MASK;
    unsigned k;

    (void)cacheable;
    if (w->skipping) {
        if (page == w->skip_page) {
            *desc = 0;
            return 0;
        }
        w->skipping = false;
    }
    for (k = 0; k < 4; k++)
        if (st->fw_page[k].valid && st->fw_page[k].pa == page)
            break;
    if (k == 4) {
        k = st->fw_next++ & 3;
        st->fw_page[k].pa = page;
        st->fw_page[k].valid = true;
        inv_rd_page(w->m, page, st->fw_page[k].w);
    }
    *desc = st->fw_page[k].w[(pa & ~PAGE_MASK) >> 3];
    return 0;
}

static int fw_visit(const struct mmu_visit *v, void *arg)
{
    struct fwalk *w = arg;

    w->skipping = false;
    if (v->leaf) {
        if (w->leaf)
            w->leaf(w, v);
        return 0;
    }
    uint64_t child = mmu_desc_oa(v->desc);
    bool dup = inv_map_get(w->seen, child >> MEM_PAGE_SHIFT, NULL);
    if (dup) {
        /* Each table page is visited once: the walk reads a repeated one
         * as empty (invariant 6 reports it). */
        w->skipping = true;
        w->skip_page = child;
    } else {
        inv_map_put(w->seen, child >> MEM_PAGE_SHIFT, 0);
    }
    if (w->table)
        w->table(w, v, child, dup);
    return 0;
}

typedef void (*fw_root_fn)(struct fwalk *w, uint64_t root, bool dup);

/* Walk every published stage-2 root, each table page once. */
static void full_walk(const struct machine *m, struct inv_report *r, fw_leaf_fn leaf,
                      fw_table_fn table, fw_root_fn rootfn, void *arg)
{
    struct inv_state *st = m->inv;
    struct fwalk w = { .m = m, .r = r, .seen = &st->seen, .leaf = leaf, .table = table, .arg = arg };
    struct mmu_mem_ops ops = { fw_read, NULL, &w };

    inv_map_clear(&st->seen);
    for (unsigned k = 0; k < 4; k++)
        st->fw_page[k].valid = false;   /* memory may have changed since */
    for (int s = 0; s < (int)NPRINC; s++) {
        uint64_t v = inv_published_root(m, s);
        if (v == 0)
            continue;
        uint64_t root = inv_root_of(v);
        bool dup = inv_map_get(&st->seen, root >> MEM_PAGE_SHIFT, NULL);
        w.who = s;
        w.skipping = false;
        if (rootfn)
            rootfn(&w, root, dup);
        if (dup)
            continue;
        inv_map_put(&st->seen, root >> MEM_PAGE_SHIFT, 0);
        mmu_walk_tables(&ops, 2, root, &st->geom, fw_visit, &w);
    }
}

static void leaf_1(struct fwalk *w, const struct mmu_visit *v)
{
    inv_check_leaf(w->m, w->r, INV_BIT(1), w->who, v->in_addr,
               mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}
static void leaf_2(struct fwalk *w, const struct mmu_visit *v)
{
    inv_check_leaf(w->m, w->r, INV_BIT(2), w->who, v->in_addr,
               mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}
static void leaf_7(struct fwalk *w, const struct mmu_visit *v)
{
    inv_check_leaf(w->m, w->r, INV_BIT(7), w->who, v->in_addr,
               mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}

static void tlbs_check(const struct machine *m, struct inv_report *r, uint32_t mask)
{
    const struct tlb_system *ts = &m->ms.tlb;
    for (unsigned c = 0; c < ts->ncpus; c++)
        for (unsigned i = 0; i < ts->cpu[c].cap; i++)
            inv_check_tlb_entry(m, r, mask, c, i, &ts->cpu[c].e[i]);
}

/* 1: KCore's pages (owner KCore in the ownership array) are mapped by no
 * stage-2 leaf and no EL1&0 TLB entry (DESIGN.md 1; SeKVM: KCore's memory
 * is never accessible to the host or a VM). */
void inv_check_kcore_unmapped(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    full_walk(m, r, leaf_1, NULL, NULL, NULL);
    tlbs_check(m, r, INV_BIT(1));
}

/* 2: every stage-2 leaf of a principal maps pages inside memory that it
 * owns, or, for the host, that a VM owns (DESIGN.md 2; SeKVM's stage-2
 * page-table invariant). */
void inv_check_s2_owned(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    full_walk(m, r, leaf_2, NULL, NULL, NULL);
}

/* 3: every EL1&0 TLB entry tagged with a principal's VMID translates only
 * to pages it owns or (host) that a VM shares with it (DESIGN.md 3; the
 * TLB must never hold a translation the page tables would now refuse). */
void inv_check_tlb_owned(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    tlbs_check(m, r, INV_BIT(3));
}

/* 7: the host's stage 2 is an identity map, maps a VM's page only while its
 * share count is nonzero, and a VM maps its own page only at the recorded
 * gfn (DESIGN.md 7; SeKVM's ownership bookkeeping). */
void inv_check_bookkeeping(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    full_walk(m, r, leaf_7, NULL, NULL, NULL);
}

struct tables_arg { bool booted; };

static void snap_add(struct inv_snap *s, const struct machine *m, uint64_t pa)
{
    if (inv_map_get(&s->map, pa >> MEM_PAGE_SHIFT, NULL))
        return;
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 16;
        uint64_t *nw = realloc(s->words, (size_t)nc * DESCS_PER_PAGE * sizeof *nw);
        if (!nw)
            return;
        s->words = nw;
        s->cap = nc;
    }
    if (inv_map_put(&s->map, pa >> MEM_PAGE_SHIFT, s->n) != 0)
        return;
    inv_rd_page(m, pa, &s->words[(size_t)s->n * DESCS_PER_PAGE]);
    s->n++;
}

static bool snap_get(const struct inv_snap *s, uint64_t desc_pa, uint64_t *d)
{
    uint32_t idx;
    if (!inv_map_get(&s->map, desc_pa >> MEM_PAGE_SHIFT, &idx))
        return false;
    *d = s->words[(size_t)idx * DESCS_PER_PAGE + ((desc_pa & ~PAGE_MASK) >> 3)];
    return true;
}

static void tables_root(struct fwalk *w, uint64_t root, bool dup)
{
    const struct tables_arg *a = w->arg;
    if (dup) {
        inv_report_dup_table(w->r, root, w->who, 1);
        return;
    }
    inv_check_table_page(w->m, w->r, root, w->who, 1, a->booted);
    snap_add(&w->m->inv->snap_cur, w->m, root);
}

static void tables_transition(struct fwalk *w, const struct mmu_visit *v)
{
    const struct inv_state *st = w->m->inv;
    uint64_t old;
    if (st->snap_valid && snap_get(&st->snap_prev, v->desc_pa, &old))
        inv_check_transition(w->m, w->r, w->who, v->level, v->desc_pa, old, v->desc);
}

static void tables_leaf(struct fwalk *w, const struct mmu_visit *v)
{
    tables_transition(w, v);
}

static void tables_table(struct fwalk *w, const struct mmu_visit *v, uint64_t child, bool dup)
{
    const struct tables_arg *a = w->arg;
    tables_transition(w, v);
    if (dup) {
        inv_report_dup_table(w->r, child, w->who, v->level + 1);
        return;
    }
    inv_check_table_page(w->m, w->r, child, w->who, v->level + 1, a->booted);
    snap_add(&w->m->inv->snap_cur, w->m, child);
}

/* 6: every table page reachable from a published root lies in the pool, is
 * KCore-owned and is referenced once; descriptors change by
 * break-before-make and tables are empty when linked (DESIGN.md 6; SeKVM's
 * transactional page-table updates). The transition rules compare with the
 * previous step's snapshot, which this check refreshes (snap_cur). */
void inv_check_tables(const struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    struct tables_arg a = { inv_booted(m) };

    if (!st)
        return;
    inv_map_clear(&st->snap_cur.map);
    st->snap_cur.n = 0;
    full_walk(m, r, tables_leaf, tables_table, tables_root, &a);
}

static void snap_commit(struct inv_state *st)
{
    struct inv_snap t = st->snap_prev;
    st->snap_prev = st->snap_cur;
    st->snap_cur = t;
    st->snap_valid = true;
}

/* Take the full mode's table snapshot of the current state (no checks). */
void inv_snap_take(const struct machine *m)
{
    struct inv_report junk;
    inv_report_init(&junk, -1);
    inv_check_tables(m, &junk);
    snap_commit(m->inv);
    inv_own_scan(m, &junk, m->inv->own_full, false);
}

static void leaf_all(struct fwalk *w, const struct mmu_visit *v)
{
    const struct tables_arg *a = w->arg;

    tables_transition(w, v);
    if (a->booted)
        inv_check_leaf(w->m, w->r, INV_BIT(1) | INV_BIT(2) | INV_BIT(7), w->who, v->in_addr,
                   mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}

/* Run every full check; returns how many ran. The same predicates as
 * inv_check_tables, inv_check_kcore_unmapped, inv_check_s2_owned,
 * inv_check_bookkeeping and inv_check_tlb_owned, with the four table walks
 * fused into one (a walk reads every descriptor of every table). */
unsigned inv_full_checks(const struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    struct tables_arg a = { inv_booted(m) };

    inv_map_clear(&st->snap_cur.map);
    st->snap_cur.n = 0;
    full_walk(m, r, leaf_all, tables_table, tables_root, &a);
    snap_commit(st);
    if (!a.booted)
        return 1;
    tlbs_check(m, r, INV_BIT(1) | INV_BIT(3));
    for (uint64_t pfn = 0; pfn < inv_region_pages(m); pfn++)
        inv_check_kcore_record(m, r, pfn);
    inv_own_scan(m, r, st->own_full, true);
    return 6;
}
