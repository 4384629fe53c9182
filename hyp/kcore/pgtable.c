/*
 * hyp/kcore/pgtable.c - the generic page-table walker and the operations built
 * on it (see pgtable.h). Pure logic: no system registers, no TLB or cache
 * maintenance, so it also builds natively for the unit tests.
 */
#include "pgtable.h"

#ifdef KC_MUTANT_TABLE_ZERO_LATE
void kc_zero_page(u64 pa);               /* hyp/kcore/mem.c: pool pages come dirty */
#endif

struct walk_data {
    const struct kc_pgt *pgt;
    struct kc_walker *w;
    u64 addr, end;
};

static int walk_table(struct walk_data *d, u64 *table, int level);

static int walk_entry(struct walk_data *d, u64 *ptep, int level)
{
    u64 size = 1ull << kc_level_shift(level);
    u64 pte = kc_read_once(ptep);
    struct kc_walk_ctx ctx = {
        .ptep = ptep, .old = pte, .addr = d->addr, .end = d->end,
        .level = level, .pgt = d->pgt, .arg = d->w->arg,
    };
    bool table = kc_pte_is_table(pte, level);
    int ret = 0;

    if (table && (d->w->flags & KC_WALK_TABLE_PRE))
        ret = d->w->cb(&ctx, KC_WALK_TABLE_PRE);
    else if (!table && (d->w->flags & KC_WALK_LEAF))
        ret = d->w->cb(&ctx, KC_WALK_LEAF);
    if (ret)
        return ret;

    /* The visitor may have installed (or removed) a table. */
    pte = kc_read_once(ptep);
    if (!kc_pte_is_table(pte, level)) {
        d->addr = (d->addr & ~(size - 1)) + size;
        return 0;
    }
    ret = walk_table(d, kc_va(kc_pte_addr(pte)), level + 1);
    if (ret || !(d->w->flags & KC_WALK_TABLE_POST))
        return ret;
    ctx.old = kc_read_once(ptep);
    ctx.addr &= ~(size - 1);
    return d->w->cb(&ctx, KC_WALK_TABLE_POST);
}

static int walk_table(struct walk_data *d, u64 *table, int level)
{
    unsigned shift = kc_level_shift(level);
    u64 idx = (d->addr >> shift) & (KC_PTRS_PER_TABLE - 1);

    for (; idx < KC_PTRS_PER_TABLE && d->addr < d->end; idx++) {
        int ret = walk_entry(d, &table[idx], level);
        if (ret)
            return ret;
    }
    return 0;
}

int kc_pgt_walk(const struct kc_pgt *pgt, u64 addr, u64 size, struct kc_walker *w)
{
    u64 limit = 1ull << pgt->ia_bits;
    struct walk_data d = { .pgt = pgt, .w = w, .addr = addr, .end = addr + size };

    if (size == 0)
        return 0;
    if (addr >= limit || size > limit - addr)
        return KC_PGT_EINVAL;
    return walk_table(&d, kc_va(pgt->root), pgt->start_level);
}

int kc_pgt_init(struct kc_pgt *pgt, int start_level, unsigned ia_bits,
                const struct kc_pgt_ops *ops)
{
    u64 root = ops->zalloc_page(ops->arg);

    if (!root)
        return KC_PGT_ENOMEM;
#ifdef KC_MUTANT_TABLE_ZERO_LATE
    kc_zero_page(root);                  /* a root is not linked: zero it first */
#endif
    pgt->root = root;
    pgt->start_level = start_level;
    pgt->ia_bits = ia_bits;
    pgt->ops = ops;
    return KC_PGT_OK;
}

/* ---- map / prealloc ---------------------------------------------------- */
struct map_data {
    u64 off;          /* pa - addr (mod 2^64) */
    u64 attrs;
    int min_level;
    bool prealloc;    /* create tables only */
};

static int map_visitor(struct kc_walk_ctx *ctx, enum kc_walk_flags visit)
{
    struct map_data *m = ctx->arg;
    const struct kc_pgt_ops *ops = ctx->pgt->ops;
    u64 size = 1ull << kc_level_shift(ctx->level);
    bool leaf_here = ctx->level == 3 ||
        (ctx->level >= 1 && ctx->level >= m->min_level && !(ctx->addr & (size - 1)) &&
         ctx->end - ctx->addr >= size && !((ctx->addr + m->off) & (size - 1)));
    u64 pa;

    (void)visit;
    if (m->prealloc && ctx->level == 3)
        return 0;
    if (kc_pte_valid(ctx->old))
        return KC_PGT_EEXIST;            /* never replace a valid entry */
    if (!m->prealloc && leaf_here) {
        kc_write_once(ctx->ptep, kc_pte_leaf(ctx->addr + m->off, m->attrs, ctx->level));
        return 0;
    }
    pa = ops->zalloc_page(ops->arg);     /* zeroed before it is linked */
    if (!pa)
        return KC_PGT_ENOMEM;
    kc_write_release(ctx->ptep, kc_pte_table(pa));
#ifdef KC_MUTANT_TABLE_ZERO_LATE
    kc_zero_page(pa);                    /* linked first, zeroed after */
#endif
    return 0;
}

static bool page_aligned(u64 x) { return (x & (KC_PAGE_SIZE - 1)) == 0; }

int kc_pgt_map(const struct kc_pgt *pgt, u64 addr, u64 size, u64 pa, u64 attrs, int min_level)
{
    struct map_data m = { .off = pa - addr, .attrs = attrs, .min_level = min_level };
    struct kc_walker w = { .cb = map_visitor, .arg = &m, .flags = KC_WALK_LEAF };

    if (!page_aligned(addr) || !page_aligned(size) || !page_aligned(pa))
        return KC_PGT_EINVAL;
    return kc_pgt_walk(pgt, addr, size, &w);
}

int kc_pgt_prealloc(const struct kc_pgt *pgt, u64 addr, u64 size)
{
    struct map_data m = { .min_level = 3, .prealloc = true };
    struct kc_walker w = { .cb = map_visitor, .arg = &m, .flags = KC_WALK_LEAF };

    if (!page_aligned(addr) || !page_aligned(size))
        return KC_PGT_EINVAL;
    return kc_pgt_walk(pgt, addr, size, &w);
}

/* ---- unmap ------------------------------------------------------------- */
static int unmap_visitor(struct kc_walk_ctx *ctx, enum kc_walk_flags visit)
{
    int *count = ctx->arg;
    u64 size = 1ull << kc_level_shift(ctx->level);

    (void)visit;
    if (!kc_pte_is_leaf(ctx->old, ctx->level))
        return 0;
    if ((ctx->addr & (size - 1)) || ctx->end - ctx->addr < size)
        return KC_PGT_EINVAL;            /* would split a block */
    kc_write_once(ctx->ptep, 0);
    (*count)++;
    return 0;
}

int kc_pgt_unmap(const struct kc_pgt *pgt, u64 addr, u64 size)
{
    int count = 0, ret;
    struct kc_walker w = { .cb = unmap_visitor, .arg = &count, .flags = KC_WALK_LEAF };

    if (!page_aligned(addr) || !page_aligned(size))
        return KC_PGT_EINVAL;
    ret = kc_pgt_walk(pgt, addr, size, &w);
    return ret ? ret : count;
}

/* ---- lookup ------------------------------------------------------------ */
struct lookup_data { u64 pte; int level; };

static int lookup_visitor(struct kc_walk_ctx *ctx, enum kc_walk_flags visit)
{
    struct lookup_data *l = ctx->arg;

    (void)visit;
    if (kc_pte_is_leaf(ctx->old, ctx->level)) {
        l->pte = ctx->old;
        l->level = ctx->level;
    }
    return 0;
}

u64 kc_pgt_lookup(const struct kc_pgt *pgt, u64 addr, int *level)
{
    struct lookup_data l = { 0, -1 };
    struct kc_walker w = { .cb = lookup_visitor, .arg = &l, .flags = KC_WALK_LEAF };

    kc_pgt_walk(pgt, addr & ~(KC_PAGE_SIZE - 1), KC_PAGE_SIZE, &w);
    if (level)
        *level = l.level;
    return l.pte;
}

/* ---- destroy ----------------------------------------------------------- */
static int free_table_visitor(struct kc_walk_ctx *ctx, enum kc_walk_flags visit)
{
    const struct kc_pgt_ops *ops = ctx->pgt->ops;

    (void)visit;
    kc_write_once(ctx->ptep, 0);         /* unlink before the page is reused */
    ops->free_page(ops->arg, kc_pte_addr(ctx->old));
    return 0;
}

void kc_pgt_destroy(struct kc_pgt *pgt)
{
    struct kc_walker w = { .cb = free_table_visitor, .flags = KC_WALK_TABLE_POST };

    if (!pgt->root)
        return;
    kc_pgt_walk(pgt, 0, 1ull << pgt->ia_bits, &w);
    pgt->ops->free_page(pgt->ops->arg, pgt->root);
    pgt->root = 0;
}
