/*
 * litmus/explore.c - exhaustive exploration of a litmus test on the model.
 *
 * Models: one CPU per thread at EL1, stage 1 of the EL1&0 regime through
 * mmu/ (a real 3-level table: L1 -> L2 -> L3, one level-3 descriptor per
 * test location), one TLB per CPU through tlb/ with broadcast TLBIs pending
 * until completed (by the scheduler, or by the issuer's DSB at the latest),
 * hardware Access-flag/dirty updates (TTHM) through the walker's write_desc,
 * and sequentially consistent ordinary memory (one 8-byte word store,
 * every access atomic, in some interleaving).
 * Events: an instruction of a thread; a TLB fill on a CPU (any translation
 * that is valid in memory now: a speculative walk, which makes no hardware
 * update); a TLB eviction; the completion of a pending TLBI. States are
 * de-duplicated by a 128-bit hash of a canonical encoding.
 * Leaves out: caches (every location is Normal write-back, coherent: the
 * cache state is unobservable in these tests), walk caches, stage 2,
 * reordering of ordinary accesses (SC), spurious store-exclusive failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/layout.h"
#include "litmus/litmus.h"
#include "mmu/mmu.h"
#include "model/hw/rlx.h"
#include "tlb/tlb.h"

#define MAXW 64
#define MAXF 16
#define DEFAULT_MAX_STATES 2000000ull

struct thr {
    uint64_t x[31];
    uint64_t elr;
    uint64_t mon_pa;
    uint64_t done_mask;      /* relaxed mode: executed instructions */
    uint16_t pc;
    uint8_t nzcv;
    uint8_t done;
    uint8_t mon;
};
struct word { uint64_t pa, val; };
struct frec { uint8_t proc, insn, type; int8_t loc; };

/* A descriptor value CPU cpu may have cached for loc without having used
 * it yet: the TLB fills that could have happened since the CPU last
 * translated loc (or since an invalidation of it completed), made lazily
 * at the next access (see lit_run). */
struct cand { uint8_t cpu, loc; uint64_t val; };
#define MAXC 96

/* The relaxed memory model's state (model/hw/rlx.h): each PE's views,
 * the write positions, and the messages of every location written. The
 * newest message of a location is also its value in w[]. */
#define MAXH 48
struct rx {
    struct rlx_views v[LIT_MAX_THREADS];
    struct rlx_clock clk;
    unsigned nl;
    struct rlx_loc l[MAXH];
};

struct st {
    struct thr th[LIT_MAX_THREADS];
    unsigned nw, nf, nc;
    struct word w[MAXW];
    struct frec f[MAXF];
    struct cand c[MAXC];
    struct tlb_system tlbs;
    struct rx *rx;           /* NULL: sequentially consistent memory */
};

struct outcome { uint64_t h1, h2; char *text; bool p; };

struct ex {
    const struct lit_test *t;
    const struct lit_opts *o;
    struct lit_result *r;
    uint64_t max_states;
    /* visited set */
    uint64_t *v1, *v2;
    size_t vcap, vn;
    /* worklist */
    struct st **stack;
    size_t sn, scap;
    /* outcomes */
    struct outcome *out;
    size_t on, ocap;
    char err[256];
    struct st *cur;          /* state the mmu callbacks act on */
    unsigned walk_cpu;       /* relaxed: the PE whose walk reads descriptors */
    unsigned walk_opt;       /* relaxed: which message its leaf read takes */
    bool walk_bad;           /* relaxed: that message does not exist */
    uint64_t walk_ts;        /* relaxed: the timestamp of the leaf message read */
    uint64_t tv;             /* relaxed: the view of the last translation */
    bool walk_raw;           /* read descriptors as they are now (a candidate fill) */
};

/* ---- memory words --------------------------------------------------- */
static uint64_t mem_get(const struct st *s, uint64_t pa)
{
    for (unsigned i = 0; i < s->nw; i++)
        if (s->w[i].pa == pa) return s->w[i].val;
    return 0;
}

static int mem_set(struct st *s, uint64_t pa, uint64_t v)
{
    unsigned i = 0;
    while (i < s->nw && s->w[i].pa < pa) i++;
    if (i < s->nw && s->w[i].pa == pa) { s->w[i].val = v; return 0; }
    if (s->nw >= MAXW) return -1;
    memmove(&s->w[i + 1], &s->w[i], (s->nw - i) * sizeof(s->w[0]));
    s->w[i].pa = pa;
    s->w[i].val = v;
    s->nw++;
    return 0;
}

/* ---- relaxed memory: the messages of a location ----------------------- */
static struct rlx_loc *rx_find(const struct st *s, uint64_t pa)
{
    for (unsigned i = 0; s->rx && i < s->rx->nl; i++)
        if (s->rx->l[i].pa == pa) return &s->rx->l[i];
    return NULL;
}

/* The location's messages (one, its value now, if it has no history). */
static const struct rlx_loc *rx_view(const struct st *s, uint64_t pa, struct rlx_loc *tmp)
{
    const struct rlx_loc *l = rx_find(s, pa);
    if (l) return l;
    rlx_loc_init(tmp, pa, mem_get(s, pa), 0);
    return tmp;
}

static struct rlx_loc *rx_get(struct st *s, uint64_t pa)
{
    struct rlx_loc *l = rx_find(s, pa);
    if (l || s->rx->nl >= MAXH) return l;
    l = &s->rx->l[s->rx->nl++];
    rlx_loc_init(l, pa, mem_get(s, pa), 0);
    return l;
}

static bool fillable(uint64_t d) { return (d & MMU_DESC_VALID) && (d & MMU_AF); }

static void cand_add(struct st *s, unsigned cpu, unsigned loc, uint64_t v)
{
    struct cand c = { (uint8_t)cpu, (uint8_t)loc, v };
    unsigned i = 0;
    if (!fillable(v)) return;
    while (i < s->nc && (s->c[i].cpu < c.cpu || (s->c[i].cpu == c.cpu && (s->c[i].loc < c.loc ||
           (s->c[i].loc == c.loc && s->c[i].val < c.val))))) i++;
    if (i < s->nc && s->c[i].cpu == c.cpu && s->c[i].loc == c.loc && s->c[i].val == c.val) return;
    if (s->nc >= MAXC) return;   /* never with the catalogue: fewer behaviours, never more */
    memmove(&s->c[i + 1], &s->c[i], (s->nc - i) * sizeof(c));
    s->c[i] = c;
    s->nc++;
}

static void cand_clear(struct st *s, unsigned cpu, unsigned loc)
{
    unsigned k = 0;
    for (unsigned i = 0; i < s->nc; i++)
        if (!(s->c[i].cpu == cpu && s->c[i].loc == loc)) s->c[k++] = s->c[i];
    s->nc = k;
}

static unsigned cand_count(const struct st *s, unsigned cpu, unsigned loc, const struct cand **first)
{
    unsigned n = 0;
    *first = NULL;
    for (unsigned i = 0; i < s->nc; i++)
        if (s->c[i].cpu == cpu && s->c[i].loc == loc) { if (!n) *first = &s->c[i]; n++; }
    return n;
}

/* the page tables: L1[1] -> L2, L2[0] -> L3, L3 from memory words */
/* Would a translation through this leaf descriptor fault (not be cached
 * in a TLB)? Invalid, or Access flag 0 without hardware update. */
static bool walk_faults(uint64_t desc, const void *arg)
{
    const struct lit_thread *lt = arg;
    return !(desc & MMU_DESC_VALID) || (!(desc & MMU_AF) && !lt->ha && !lt->hd);
}

static int ops_read(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    struct ex *e = arg;
    (void)cacheable;
    if (pa == LIT_L1_PA + 8) *desc = mmu_desc_table(LIT_L2_PA);
    else if (pa == LIT_L2_PA) *desc = mmu_desc_table(LIT_L3_PA);
    else if (lit_in_leaf_table(pa) && e->cur->rx && !e->walk_raw) {
        /* a walk reading an older message its walker view allows */
        struct rlx_loc tmp, *l = rx_find(e->cur, pa);
        const struct lit_thread *lt = &e->t->th[e->walk_cpu];
        label_t lab;
        if (!l) { rlx_loc_init(&tmp, pa, mem_get(e->cur, pa), 0); l = &tmp; }
        if (e->walk_opt >= rlx_walk_options(l, &e->cur->rx->v[e->walk_cpu], walk_faults, lt)) {
            e->walk_bad = true;
            *desc = 0;
        } else
            e->walk_ts = rlx_walk_read(l, &e->cur->rx->v[e->walk_cpu], walk_faults, lt, e->walk_opt,
                                       desc, &lab);
    } else if (lit_in_leaf_table(pa)) *desc = mem_get(e->cur, pa);
    else *desc = 0;
    return 0;
}

static int ops_write(void *arg, uint64_t pa, bool cacheable, uint64_t desc)
{
    struct ex *e = arg;
    (void)cacheable;
    if (!lit_in_leaf_table(pa)) return -1;
    if (e->cur->rx && e->walk_opt) {     /* an update needs the newest descriptor */
        e->walk_bad = true;
        return 0;
    }
    if (e->cur->rx) {        /* a hardware update: a new newest message */
        struct rlx_loc *l = rx_get(e->cur, pa);
        struct rlx_views hw;
        struct rlx_acc a = { .cpu = e->walk_cpu, .atomic = true };
        if (!l) return -1;
        rlx_views_init(&hw);
        /* the update floats: the access is ordered after the descriptor
         * it read (walk_ts), not after the update (herd NT-12-dmb) */
        rlx_walk_seen(&e->cur->rx->v[e->walk_cpu],
                      rlx_write(&e->cur->rx->clk, l, &hw, &a, 0, desc, 0));
        for (unsigned q = 0; q < e->t->nthreads; q++)   /* the global exclusive monitor */
            if (q != e->walk_cpu && e->cur->th[q].mon && (e->cur->th[q].mon_pa & ~7ull) == pa)
                e->cur->th[q].mon = 0;
    }
    return mem_set(e->cur, pa, desc);
}

static void mk_ctx(struct ex *e, unsigned cpu, bool updates, struct mmu_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->regime = MMU_REGIME_EL10;
    c->s1.m = true;
    c->s1.c = true;
    c->s1.ttbr0 = LIT_L1_PA;
    /* T0SZ=25 (39-bit VA, start level 1), IRGN0/ORGN0 WB, SH0 inner,
     * TG0 4K, EPD1, TG1 4K, IPS 48 bits */
    c->s1.tcr = 25ull | (1ull << 8) | (1ull << 10) | (3ull << 12) | (1ull << 23) |
                (2ull << 30) | (5ull << 32);
    c->s1.mair = 0xff;
    c->ha = updates && (e->t->th[cpu].ha || e->t->th[cpu].hd);
    c->hd = updates && e->t->th[cpu].hd;
    c->ops.read_desc = ops_read;
    c->ops.write_desc = ops_write;
    c->ops.arg = e;
}

/* ---- states ---------------------------------------------------------- */
static void st_free(struct st *s)
{
    if (!s) return;
    tlb_sys_free(&s->tlbs);
    free(s->rx);
    free(s);
}

static struct st *st_clone(const struct st *s)
{
    struct st *n = malloc(sizeof(*n));
    if (!n) return NULL;
    memcpy(n, s, sizeof(*n));
    memset(&n->tlbs, 0, sizeof(n->tlbs));
    n->rx = NULL;
    if (s->rx) {
        size_t sz = offsetof(struct rx, l) + s->rx->nl * sizeof(s->rx->l[0]);
        if (!(n->rx = malloc(sizeof(*n->rx)))) { free(n); return NULL; }
        memcpy(n->rx, s->rx, sz);
    }
    if (tlb_sys_clone(&n->tlbs, &s->tlbs) != 0) {
        free(n->rx);
        free(n);
        return NULL;
    }
    return n;
}

static inline void mix(uint64_t *h1, uint64_t *h2, uint64_t v)
{
    *h1 = (*h1 ^ v) * 0x100000001b3ull;
    *h1 ^= *h1 >> 29;
    uint64_t z = *h2 + v + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    *h2 = z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The rank of view or timestamp v among the state's timestamps: views
 * matter only through how they compare with messages, so two states whose
 * timestamps differ but order the same way are one state. */
static uint64_t rx_rank(const uint64_t *ts, unsigned n, uint64_t v)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (ts[mid] <= v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void rx_hash(const struct ex *e, const struct st *s, uint64_t *h1, uint64_t *h2)
{
    const struct rx *x = s->rx;
    uint64_t ts[MAXH * RLX_K + RLX_SLOTS];
    unsigned n = 0, ord[MAXH];

    for (unsigned i = 0; i < x->nl; i++)
        for (unsigned k = 0; k < x->l[i].n; k++)
            if (x->l[i].m[k].ts) ts[n++] = x->l[i].m[k].ts;
    for (unsigned i = 0; i < x->clk.n; i++)
        ts[n++] = x->clk.recent[i];
    qsort(ts, n, sizeof(ts[0]), cmp_u64);
    for (unsigned i = 0; i < x->nl; i++) ord[i] = i;
    for (unsigned i = 1; i < x->nl; i++)          /* locations by address */
        for (unsigned j = i; j > 0 && x->l[ord[j - 1]].pa > x->l[ord[j]].pa; j--) {
            unsigned t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t;
        }
    mix(h1, h2, 0x5e1a7ed);
    for (unsigned i = 0; i < x->nl; i++) {
        const struct rlx_loc *l = &x->l[ord[i]];
        mix(h1, h2, l->pa ^ (uint64_t)l->n << 56);
        for (unsigned k = 0; k < l->n; k++) {
            mix(h1, h2, rx_rank(ts, n, l->m[k].ts) ^ l->m[k].seen << 32);
            mix(h1, h2, l->m[k].val);
        }
    }
    for (unsigned p = 0; p < e->t->nthreads; p++) {
        const struct rlx_views *v = &x->v[p];
        const uint64_t w[] = { v->rold, v->wold, v->rnew, v->wnew, v->cap, v->rel, v->dsbv, v->dsbloc,
                               v->walk, v->walku, v->csev, v->tseen, v->faultv, v->tlbiack };
        for (unsigned k = 0; k < sizeof(w) / sizeof(w[0]); k++) mix(h1, h2, rx_rank(ts, n, w[k]));
        for (unsigned r = 0; r < RLX_NREGS; r++) mix(h1, h2, rx_rank(ts, n, v->reg[r]));
    }
    for (unsigned i = 0; i < x->clk.n; i++) mix(h1, h2, rx_rank(ts, n, x->clk.recent[i]));
    for (unsigned i = 0; i < s->tlbs.npending; i++) mix(h1, h2, rx_rank(ts, n, s->tlbs.pending[i].view));
}

static int cmp_u64x3(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

static void st_hash(const struct ex *e, const struct st *s, uint64_t *h1, uint64_t *h2)
{
    *h1 = 0xcbf29ce484222325ull;
    *h2 = 0x1234567;
    for (unsigned p = 0; p < e->t->nthreads; p++) {
        const struct thr *th = &s->th[p];
        mix(h1, h2, (uint64_t)th->pc | (uint64_t)th->done << 16 | (uint64_t)th->nzcv << 24 |
                        (uint64_t)th->mon << 32);
        mix(h1, h2, th->mon_pa);
        mix(h1, h2, th->elr);
        mix(h1, h2, th->done_mask);
        for (unsigned r = 0; r < 31; r++)
            mix(h1, h2, th->x[r]);
    }
    for (unsigned i = 0; i < s->nw; i++)
        if (s->w[i].val) { mix(h1, h2, s->w[i].pa); mix(h1, h2, s->w[i].val); }
    mix(h1, h2, 0xfeed);
    for (unsigned i = 0; i < s->nc; i++)
        mix(h1, h2, ((uint64_t)s->c[i].cpu << 8 | s->c[i].loc) ^ (s->c[i].val * 31));
    for (unsigned i = 0; i < s->nf; i++)
        mix(h1, h2, (uint64_t)s->f[i].proc | (uint64_t)s->f[i].insn << 8 |
                        (uint64_t)s->f[i].type << 16 | (uint64_t)(uint8_t)s->f[i].loc << 24);
    for (unsigned c = 0; c < s->tlbs.ncpus; c++) {
        const struct tlb *t = &s->tlbs.cpu[c];
        uint64_t ent[LIT_MAX_LOCS * 2 + 2][3];
        unsigned n = 0;
        for (unsigned i = 0; i < t->cap && n < sizeof(ent) / sizeof(ent[0]); i++) {
            if (!t->e[i].valid) continue;
            ent[n][0] = t->e[i].in_base;
            ent[n][1] = t->e[i].r.pa;
            ent[n][2] = t->e[i].r.s1_perms;
            n++;
        }
        qsort(ent, n, sizeof(ent[0]), cmp_u64x3);
        mix(h1, h2, 0xc0ffee + c);
        for (unsigned i = 0; i < n; i++) {
            mix(h1, h2, ent[i][0]);
            mix(h1, h2, ent[i][1]);
            mix(h1, h2, ent[i][2]);
        }
    }
    for (unsigned i = 0; i < s->tlbs.npending; i++) {
        const struct tlb_pending *pd = &s->tlbs.pending[i];
        mix(h1, h2, (uint64_t)pd->op.type | (uint64_t)pd->op.broadcast << 8 |
                        (uint64_t)pd->issuer << 16 | (uint64_t)pd->target << 24 |
                        (uint64_t)pd->op.asid << 32);
        mix(h1, h2, pd->op.addr);
    }
    if (s->rx)
        rx_hash(e, s, h1, h2);
}

/* Insert into the visited set; returns 1 if new, 0 if seen, -1 on ENOMEM. */
static int visit(struct ex *e, uint64_t h1, uint64_t h2)
{
    if (h1 == 0 && h2 == 0) h2 = 1;
    if ((e->vn + 1) * 2 > e->vcap) {
        size_t nc = e->vcap ? e->vcap * 2 : 1 << 12;
        uint64_t *n1 = calloc(nc, sizeof(uint64_t)), *n2 = calloc(nc, sizeof(uint64_t));
        if (!n1 || !n2) { free(n1); free(n2); return -1; }
        for (size_t i = 0; i < e->vcap; i++) {
            if (!e->v1[i] && !e->v2[i]) continue;
            size_t j = e->v1[i] & (nc - 1);
            while (n1[j] || n2[j]) j = (j + 1) & (nc - 1);
            n1[j] = e->v1[i];
            n2[j] = e->v2[i];
        }
        free(e->v1); free(e->v2);
        e->v1 = n1; e->v2 = n2; e->vcap = nc;
    }
    size_t j = h1 & (e->vcap - 1);
    while (e->v1[j] || e->v2[j]) {
        if (e->v1[j] == h1 && e->v2[j] == h2) return 0;
        j = (j + 1) & (e->vcap - 1);
    }
    e->v1[j] = h1;
    e->v2[j] = h2;
    e->vn++;
    return 1;
}

/* ---- condition and outcomes ------------------------------------------- */
static uint64_t lhs_value(const struct lit_test *t, const struct st *s, const struct lit_lhs *h)
{
    (void)t;
    switch (h->kind) {
    case LHS_REG: return s->th[h->proc].x[h->reg];
    case LHS_MEM: return mem_get(s, lit_pa(h->loc));
    default: return mem_get(s, lit_pte_addr(h->loc));
    }
}

static bool eval(const struct lit_test *t, const struct st *s, int n)
{
    const struct lit_node *d = &t->node[n];
    switch (d->kind) {
    case LN_TRUE: return true;
    case LN_FALSE: return false;
    case LN_NOT: return !eval(t, s, d->a);
    case LN_AND: return eval(t, s, d->a) && eval(t, s, d->b);
    case LN_OR: return eval(t, s, d->a) || eval(t, s, d->b);
    case LN_EQ: return lhs_value(t, s, &d->lhs) == d->val;
    case LN_FAULT:
        for (unsigned i = 0; i < s->nf; i++) {
            const struct frec *f = &s->f[i];
            if (f->proc == d->fproc && (d->flabel_index < 0 || f->insn == d->flabel_index) &&
                (d->floc < 0 || f->loc == d->floc) && (d->ftype == LF_ANY || f->type == d->ftype))
                return true;
        }
        return false;
    }
    return false;
}

static size_t put(char *b, size_t n, size_t at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static size_t put(char *b, size_t n, size_t at, const char *fmt, ...)
{
    va_list ap;
    if (at >= n) return at;
    va_start(ap, fmt);
    int k = vsnprintf(b + at, n - at, fmt, ap);
    va_end(ap);
    return k < 0 ? at : at + (size_t)k;
}

static size_t put_desc(const struct lit_test *t, char *b, size_t n, size_t at, uint64_t d)
{
    uint64_t oa = mmu_desc_oa(d);
    int li = -1;
    for (unsigned i = 0; i < t->nlocs; i++)
        if (lit_pa(i) == oa) li = (int)i;
    uint64_t base = li >= 0 ? lit_desc_encode((unsigned)li, true, true, true, false, true) : 0;
    uint64_t known = MMU_DESC_VALID | MMU_AF | MMU_S1_AP_RO | MMU_DBM | MMU_S1_AP_EL0;
    if (li < 0 || ((d ^ base) & ~known)) return put(b, n, at, "%#llx", (unsigned long long)d);
    at = put(b, n, at, "(oa:PA(%s)", t->loc[li].name);
    if (!(d & MMU_DESC_VALID)) at = put(b, n, at, ", valid:0");
    if (!(d & MMU_AF)) at = put(b, n, at, ", af:0");
    if (d & MMU_S1_AP_RO) at = put(b, n, at, ", db:0");
    if (d & MMU_DBM) at = put(b, n, at, ", dbm:1");
    if (!(d & MMU_S1_AP_EL0)) at = put(b, n, at, ", el0:0");
    return put(b, n, at, ")");
}

static size_t put_val(const struct lit_test *t, char *b, size_t n, size_t at, uint64_t v)
{
    for (unsigned i = 0; i < t->nlocs; i++) {
        if (v == lit_va(i)) return put(b, n, at, "%s", t->loc[i].name);
        if (v == lit_pte_addr(i)) return put(b, n, at, "PTE(%s)", t->loc[i].name);
    }
    if ((v & MMU_DESC_TABLE) && (v & MMU_SH_INNER) == MMU_SH_INNER && mmu_desc_oa(v) >= lit_pa(0) &&
        mmu_desc_oa(v) < lit_pa(LIT_MAX_LOCS))
        return put_desc(t, b, n, at, v);
    if (lit_is_code_addr(v)) {
        unsigned p = (unsigned)((v - LIT_CODE_BASE) >> LIT_CODE_SHIFT);
        int idx = (int)((v - lit_code_base(p)) / 4);
        for (unsigned k = 0; p < t->nthreads && k < t->th[p].nlabels; k++)
            if (t->th[p].label[k].index == idx)
                return put(b, n, at, "label:\"P%u:%s\"", p, t->th[p].label[k].name);
    }
    if (v < 1000000) return put(b, n, at, "%llu", (unsigned long long)v);
    return put(b, n, at, "%#llx", (unsigned long long)v);
}

static int record_final(struct ex *e, const struct st *s)
{
    const struct lit_test *t = e->t;
    char buf[2048] = "";
    size_t at = 0;
    for (unsigned i = 0; i < t->nobs; i++) {
        const struct lit_lhs *h = &t->obs[i];
        if (h->kind == LHS_REG) at = put(buf, sizeof(buf), at, "%u:X%u=", h->proc, h->reg);
        else if (h->kind == LHS_MEM) at = put(buf, sizeof(buf), at, "[%s]=", t->loc[h->loc].name);
        else at = put(buf, sizeof(buf), at, "[PTE(%s)]=", t->loc[h->loc].name);
        uint64_t v = lhs_value(t, s, h);
        at = h->kind == LHS_PTE ? put_desc(t, buf, sizeof(buf), at, v) : put_val(t, buf, sizeof(buf), at, v);
        at = put(buf, sizeof(buf), at, "; ");
    }
    /* faults, in a canonical order */
    struct frec f[MAXF];
    memcpy(f, s->f, s->nf * sizeof(f[0]));
    for (unsigned i = 0; i < s->nf; i++) {
        const struct lit_thread *th = &t->th[f[i].proc];
        const char *lab = NULL;
        for (unsigned k = 0; k < th->nlabels; k++)
            if (th->label[k].index == f[i].insn) { lab = th->label[k].name; break; }
        static const char *ty[] = { "", "MMU:Translation", "MMU:AccessFlag", "MMU:Permission" };
        at = put(buf, sizeof(buf), at, "fault(P%u%s%s,%s%s%s); ", f[i].proc, lab ? ":" : "", lab ? lab : "",
                 f[i].loc >= 0 ? t->loc[f[i].loc].name : "?", f[i].type < 4 && f[i].type ? "," : "",
                 f[i].type < 4 ? ty[f[i].type] : "");
    }
    if (at >= 2 && at < sizeof(buf)) buf[at - 2] = 0;
    uint64_t h1 = 0xcbf29ce484222325ull, h2 = 7;
    for (const char *p = buf; *p; p++) mix(&h1, &h2, (uint8_t)*p);
    bool p = eval(t, s, t->root);
    for (size_t i = 0; i < e->on; i++)
        if (e->out[i].h1 == h1 && e->out[i].h2 == h2)
            return 0;
    if (e->on == e->ocap) {
        size_t nc = e->ocap ? e->ocap * 2 : 16;
        struct outcome *no = realloc(e->out, nc * sizeof(*no));
        if (!no) return -1;
        e->out = no;
        e->ocap = nc;
    }
    e->out[e->on].h1 = h1;
    e->out[e->on].h2 = h2;
    e->out[e->on].p = p;
    e->out[e->on].text = strdup(buf);
    if (!e->out[e->on].text) return -1;
    e->on++;
    return 0;
}

/* ---- instruction semantics ----------------------------------------------- */
static uint64_t rd_reg(const struct thr *th, unsigned r, unsigned sf)
{
    uint64_t v = r == LIT_XZR ? 0 : th->x[r];
    return sf ? v : (v & 0xffffffffull);
}

static void wr_reg(struct thr *th, unsigned r, unsigned sf, uint64_t v)
{
    if (r == LIT_XZR) return;
    th->x[r] = sf ? v : (v & 0xffffffffull);
}

static bool cond_holds(unsigned nzcv, unsigned cc)
{
    bool n = nzcv & 8, z = nzcv & 4, c = nzcv & 2, v = nzcv & 1, r;
    switch (cc >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = !z && n == v; break;
    default: return true;
    }
    return (cc & 1) && cc != 15 ? !r : r;
}

static int loc_of_va(const struct lit_test *t, uint64_t va)
{
    if (va < LIT_VA_BASE) return -1;
    uint64_t i = (va - LIT_VA_BASE) >> 12;
    return i < t->nlocs ? (int)i : -1;
}

static void add_fault(struct st *s, unsigned p, unsigned insn, int loc, const struct mmu_fault *f)
{
    uint8_t type = f->type == MMU_FAULT_ACCESS_FLAG ? LF_ACCESS_FLAG
                 : f->type == MMU_FAULT_PERMISSION ? LF_PERMISSION : LF_TRANSLATION;
    for (unsigned i = 0; i < s->nf; i++)
        if (s->f[i].proc == p && s->f[i].insn == insn && s->f[i].loc == loc && s->f[i].type == type)
            return;
    if (s->nf >= MAXF) return;
    /* keep sorted for a canonical state */
    struct frec r = { (uint8_t)p, (uint8_t)insn, type, (int8_t)loc };
    unsigned i = 0;
    while (i < s->nf && memcmp(&s->f[i], &r, sizeof(r)) < 0) i++;
    memmove(&s->f[i + 1], &s->f[i], (s->nf - i) * sizeof(r));
    s->f[i] = r;
    s->nf++;
}

static uint64_t ea_of(const struct thr *th, const struct lit_insn *in)
{
    uint64_t b = rd_reg(th, in->rn, 1);
    switch (in->amode) {
    case AM_IMM: case AM_PRE: return b + (uint64_t)in->imm;
    case AM_REG: return b + (rd_reg(th, in->rm, 1) << in->shamt);
    case AM_SXTW: return b + ((uint64_t)(int64_t)(int32_t)rd_reg(th, in->rm, 0) << in->shamt);
    case AM_UXTW: return b + (rd_reg(th, in->rm, 0) << in->shamt);
    default: return b;   /* AM_BASE, AM_POST */
    }
}

/* Pre- and post-index: Xn += imm, after an access that did not fault. */
static void writeback(struct thr *th, const struct lit_insn *in)
{
    if (in->amode == AM_PRE || in->amode == AM_POST)
        wr_reg(th, in->rn, 1, rd_reg(th, in->rn, 1) + (uint64_t)in->imm);
}

/* The second operand of an ALU instruction (width of the operation). */
static uint64_t op2_value(const struct thr *th, const struct lit_insn *in)
{
    unsigned w = in->sf ? 64 : 32, a = in->shamt;
    uint64_t m = in->sf ? ~0ull : 0xffffffffull, x;
    if (in->use_imm) return (uint64_t)in->imm & m;
    if (in->shift >= EX_UXTB) {          /* extended register, then LSL #a */
        x = rd_reg(th, in->rm, 1);
        switch ((enum lit_shift)in->shift) {
        case EX_UXTB: x &= 0xff; break;
        case EX_UXTH: x &= 0xffff; break;
        case EX_UXTW: x &= 0xffffffffull; break;
        case EX_SXTB: x = (uint64_t)(int64_t)(int8_t)x; break;
        case EX_SXTH: x = (uint64_t)(int64_t)(int16_t)x; break;
        case EX_SXTW: x = (uint64_t)(int64_t)(int32_t)x; break;
        default: break;                  /* UXTX, SXTX */
        }
        return (x << a) & m;
    }
    x = rd_reg(th, in->rm, in->sf);
    switch ((enum lit_shift)in->shift) {
    case SH_LSL: return (x << a) & m;
    case SH_LSR: return x >> a;
    case SH_ASR: return in->sf ? (uint64_t)((int64_t)x >> a) : (uint64_t)((int32_t)x >> a) & m;
    case SH_ROR: return a ? ((x >> a) | (x << (w - a))) & m : x;
    default: return x;
    }
}

/* NZCV of a + b (sub: a - b, i.e. a + ~b + 1) at width sf (C2.2 / ARM
 * pseudocode AddWithCarry). */
static uint8_t flags_addsub(uint64_t a, uint64_t b, bool sub, bool sf)
{
    uint64_t m = sf ? ~0ull : 0xffffffffull, sb = sf ? 1ull << 63 : 1ull << 31;
    a &= m;
    b &= m;
    uint64_t r = (sub ? a - b : a + b) & m;
    unsigned n = (r & sb) != 0, z = r == 0;
    unsigned c = sub ? a >= b : r < a;
    unsigned v = sub ? (((a ^ b) & (a ^ r)) & sb) != 0 : ((~(a ^ b) & (a ^ r)) & sb) != 0;
    return (uint8_t)(n << 3 | z << 2 | c << 1 | v);
}

/* Signed view of the low w bits of x. */
static int64_t sext_bits(uint64_t x, unsigned w)
{
    return w >= 64 ? (int64_t)x : (int64_t)(x << (64 - w)) >> (64 - w);
}

/* Translate va for thread p. Accesses to the leaf table itself (PTE(x))
 * are not translated (herd's VMSA model without -variant pte2).
 * choice: 0 the TLB entry if any, else a walk; 1 a walk (the entry was
 * evicted before); 2 + k the k-th candidate of (p, loc): an entry filled
 * earlier, when the descriptor held that value. The walk of an access
 * makes the hardware AF/dirty updates of TTHM and fills the TLB. */
/* How many messages a walk of CPU p may read for loc's descriptor (1 in
 * SC mode). */
static unsigned walk_options(const struct ex *e, const struct st *s, unsigned p, int loc)
{
    struct rlx_loc tmp;
    if (!s->rx || loc < 0) return 1;
    return rlx_walk_options(rx_view(s, lit_pte_addr((unsigned)loc), &tmp), &s->rx->v[p], walk_faults,
                            &e->t->th[p]);
}

/* Translate va for CPU p. choice: 0 use the TLB (walk on a miss); then,
 * for each message a walk may read (SC: only the newest), evict and walk
 * reading it; then fill from each candidate (a descriptor value cached
 * earlier). Returns 0, -1 fault, -2 failure, -3 no such choice. */
static int translate(struct ex *e, struct st *s, unsigned p, uint64_t va, enum mmu_access acc,
                     unsigned choice, uint64_t *pa, struct mmu_fault *f)
{
    unsigned wopt = 0;
    if (lit_in_leaf_table(va)) { *pa = va; return choice ? -3 : 0; }
    {
        unsigned nw = walk_options(e, s, p, loc_of_va(e->t, va));
        if (choice >= 1 && choice <= nw) { wopt = choice - 1; choice = 1; }
        else if (choice > nw) choice = choice - nw + 1;
    }
    struct tlb *tl = &s->tlbs.cpu[p];
    struct tlb_entry *te = tlb_lookup_el10(tl, 0, 0, va);
    int loc = loc_of_va(e->t, va);
    bool el0 = e->t->th[p].el0;   /* EL0 permissions for the access (a fill is EL-blind) */
    struct mmu_ctx c;
    struct mmu_result res;
    int rc;

    e->cur = s;
    if (choice >= 2 && loc >= 0) {
        const struct cand *c0;
        unsigned n = cand_count(s, p, (unsigned)loc, &c0);
        if (choice - 2 >= n) return -2;
        uint64_t pte = lit_pte_addr((unsigned)loc), save = mem_get(s, pte);
        if (mem_set(s, pte, c0[choice - 2].val)) return -2;
        mk_ctx(e, p, false, &c);
        e->walk_raw = true;
        rc = mmu_translate(&c, va, MMU_ACC_READ, false, &res, f);
        e->walk_raw = false;
        mem_set(s, pte, save);
        if (rc != 0 || tlb_fill(tl, MMU_REGIME_EL10, TLB_KIND_S1, &res, -1) < 0) return -2;
        te = tlb_lookup_el10(tl, 0, 0, va);
        if (te && s->rx) {                     /* filled from an older message */
            struct rlx_loc tmp;
            te->view = rlx_ts_of_value(rx_view(s, pte, &tmp), c0[choice - 2].val);
        }
    } else if (choice == 1 && te) {
        tlb_evict(tl, (unsigned)(te - tl->e));
        te = NULL;
    }
    if (loc >= 0) cand_clear(s, p, (unsigned)loc);
    rc = -1;
    e->tv = te ? te->view : 0;
    if (te) {
        if (mmu_check_perms(&te->r, acc, el0, f) == 0) {
            uint64_t mask = (1ull << te->shift) - 1;
            *pa = (te->r.pa & ~mask) | (va & mask);
            rc = 0;
        } else if (!(acc == MMU_ACC_WRITE && e->t->th[p].hd)) {
            /* a cached translation that denies the access faults, except
             * a write under HD, which walks again to set the dirty state */
            f->va = va;
            rc = -1;
        } else
            te = NULL;
    }
    if (!te) {
        mk_ctx(e, p, true, &c);
        e->walk_cpu = p;
        e->walk_opt = wopt;
        e->walk_bad = false;
        e->walk_ts = 0;
        rc = mmu_translate(&c, va, acc, el0, &res, f);
        e->walk_opt = 0;
        if (e->walk_bad) return -3;
        e->tv = e->walk_ts;
        if (rc == 0) {
            int slot = tlb_fill(tl, MMU_REGIME_EL10, TLB_KIND_S1, &res, -1);
            if (slot < 0) return -2;
            tl->e[slot].view = e->walk_ts;
            *pa = res.pa;
            rc = 0;
        } else
            rc = -1;
    }
    /* from now on the CPU may fill the current descriptor again */
    if (loc >= 0) cand_add(s, p, (unsigned)loc, mem_get(s, lit_pte_addr((unsigned)loc)));
    return rc;
}

/* Does the instruction access memory (through a translation)? */
static bool n_choices_mem(const struct lit_insn *in)
{
    switch ((enum lit_op)in->op) {
    case LOP_LDR: case LOP_LDXR: case LOP_STR: case LOP_STXR: case LOP_SWP: case LOP_LDOP: case LOP_CAS:
        return true;
    default:
        return false;
    }
}

/* How many ways instruction j of thread p can translate its address. */
static unsigned n_trans(const struct ex *e, const struct st *s, unsigned p, unsigned j)
{
    const struct lit_insn *in = &e->t->th[p].insn[j];
    if (!n_choices_mem(in))
        return 1;
    uint64_t va = ea_of(&s->th[p], in);
    if (lit_in_leaf_table(va)) return 1;
    int loc = loc_of_va(e->t, va);
    if (loc < 0) return 1;
    const struct cand *c0;
    return 1 + walk_options(e, s, p, loc) + cand_count(s, p, (unsigned)loc, &c0);
}

/* How many choices instruction j of thread p has: ways to translate times
 * (relaxed memory) the most messages a read or places a write may take;
 * a choice step() finds impossible is dropped. */
static unsigned n_choices(const struct ex *e, const struct st *s, unsigned p, unsigned j)
{
    const struct lit_insn *in = &e->t->th[p].insn[j];
    unsigned nt = n_trans(e, s, p, j);
    if (!s->rx || !n_choices_mem(in)) return nt;
    return nt * (in->op == LOP_LDR || in->op == LOP_LDXR ? RLX_K : RLX_SLOTS);
}

/* Complete pending invalidation k: remove the entries it matches, and
 * the candidates it matches (they were filled before it completed). */
static void complete_tlbi(const struct ex *e, struct st *s, unsigned k)
{
    struct tlb_pending pd = s->tlbs.pending[k];
    tlb_sys_complete(&s->tlbs, k);
    if (s->rx) {
        rlx_tlbi_done(&s->rx->v[pd.target], pd.view);
        rlx_tlbi_ack(&s->rx->v[pd.issuer], &s->rx->v[pd.target]);
    }
    for (unsigned l = 0; l < e->t->nlocs; l++) {
        struct tlb_entry te;
        memset(&te, 0, sizeof(te));
        te.valid = true;
        te.regime = MMU_REGIME_EL10;
        te.kind = TLB_KIND_S1;
        te.global = true;
        te.in_base = lit_va(l);
        te.shift = 12;
        te.r.va = lit_va(l);
        if (!tlb_entry_matches(&te, &pd.op) || s->th[pd.target].done) continue;
        cand_clear(s, pd.target, l);
        cand_add(s, pd.target, l, mem_get(s, lit_pte_addr(l)));
    }
}

static int mem_read_sz(struct ex *e, const struct st *s, uint64_t pa, unsigned sz, uint64_t *v)
{
    unsigned off = pa & 7;
    if (off + sz > 8) { snprintf(e->err, sizeof(e->err), "access crossing an 8-byte word"); return -1; }
    uint64_t w = mem_get(s, pa & ~7ull);
    w >>= off * 8;
    *v = sz == 8 ? w : (w & ((1ull << (sz * 8)) - 1));
    return 0;
}

static int mem_write_sz(struct ex *e, struct st *s, unsigned p, uint64_t pa, unsigned sz, uint64_t v)
{
    unsigned off = pa & 7;
    if (off + sz > 8) { snprintf(e->err, sizeof(e->err), "access crossing an 8-byte word"); return -1; }
    uint64_t a = pa & ~7ull, w = mem_get(s, a);
    uint64_t m = sz == 8 ? ~0ull : (((1ull << (sz * 8)) - 1) << (off * 8));
    w = (w & ~m) | ((v << (off * 8)) & m);
    if (mem_set(s, a, w)) { snprintf(e->err, sizeof(e->err), "more than %d memory words", MAXW); return -1; }
    for (unsigned q = 0; q < e->t->nthreads; q++)   /* the global exclusive monitor */
        if (q != p && s->th[q].mon && (s->th[q].mon_pa & ~7ull) == a) s->th[q].mon = 0;
    return 0;
}


static void finish_thread(struct st *s, unsigned p)
{
    struct thr *th = &s->th[p];
    th->done = 1;
    th->pc = 0xffff;
    th->mon = 0;
    th->mon_pa = 0;
    /* its TLB and the invalidations pending on it are unobservable now */
    struct tlb *t = &s->tlbs.cpu[p];
    for (unsigned i = 0; i < t->cap; i++)
        if (t->e[i].valid) tlb_evict(t, i);
    for (unsigned i = 0; i < s->tlbs.npending;)
        if (s->tlbs.pending[i].target == p) {
            if (s->rx) rlx_tlbi_ack(&s->rx->v[s->tlbs.pending[i].issuer], &s->rx->v[p]);
            tlb_sys_complete(&s->tlbs, i);
        } else i++;
    unsigned k = 0;
    for (unsigned i = 0; i < s->nc; i++)
        if (s->c[i].cpu != p) s->c[k++] = s->c[i];
    s->nc = k;
    if (s->rx) {             /* its views no longer matter but for what later TLBIs
                                completed on it order: one state, not many */
        struct rlx_views *v = &s->rx->v[p];
        uint64_t did = v->rold > v->wold ? v->rold : v->wold;
        did = did > v->faultv ? did : v->faultv;
        did = did > v->cap ? did : v->cap;
        rlx_views_init(v);
        v->faultv = did;
        for (unsigned i = 0; i < s->rx->nl; i++)
            for (unsigned m = 0; m < s->rx->l[i].n; m++)
                s->rx->l[i].m[m].seen &= ~(1ull << p);
    }
}

static void set_pc(const struct lit_thread *lt, struct st *s, unsigned p, unsigned pc)
{
    unsigned cur = s->th[p].pc;
    /* past the end, or falling off the main code into the handler: the
     * thread ends */
    if (pc >= lt->n || (cur < lt->nmain && pc >= lt->nmain))
        finish_thread(s, p);
    else
        s->th[p].pc = (uint16_t)pc;
}

/* After instruction i of thread p: go to next (in order), or mark i done
 * and resume at the first instruction not yet executed (relaxed). */
static bool relaxed_thread(const struct ex *e, unsigned p);
static void advance(struct ex *e, struct st *s, unsigned p, unsigned i, unsigned next)
{
    const struct lit_thread *lt = &e->t->th[p];
    if (s->th[p].done || !relaxed_thread(e, p)) {
        if (!s->th[p].done) set_pc(lt, s, p, next);
        return;
    }
    s->th[p].done_mask |= 1ull << i;
    unsigned pc = s->th[p].pc;
    while (pc < lt->nmain && (s->th[p].done_mask & (1ull << pc))) pc++;
    if (pc >= lt->nmain) finish_thread(s, p);
    else s->th[p].pc = (uint16_t)pc;
}

/* A fault of instruction i of thread p: the instruction has no other
 * effect. With a handler Pn.F: ELR_EL1 = the instruction, jump to the
 * handler. Without one: the thread ends (herd's Handled and Fatal modes),
 * or goes on with the next instruction (Skip). A fault inside the handler
 * ends the thread. See README.md. */
static uint64_t rbit(unsigned r);
static uint64_t rx_mask(uint64_t m);
static uint64_t addr_regs(const struct lit_insn *in);
static void take_fault(struct ex *e, struct st *s, unsigned p, unsigned i, uint64_t va,
                       const struct mmu_fault *f)
{
    const struct lit_thread *lt = &e->t->th[p];
    add_fault(s, p, i, loc_of_va(e->t, va), f);
    if (s->rx) {             /* the fault is an event, ordered like the access */
        const struct lit_insn *in = &lt->insn[i];
        struct rlx_views *vw = &s->rx->v[p];
        struct rlx_acc a = { .cpu = p, .vaddr = rlx_regs(vw, rx_mask(addr_regs(in))), .vtrans = e->tv };
        if (in->op != LOP_LDR && in->op != LOP_LDXR) a.vdata = rlx_regs(vw, rx_mask(rbit(in->rs)));
        rlx_fault(vw, &a);
    }
    if (i >= lt->nmain) { finish_thread(s, p); return; }
    if (lt->has_handler) {
        if (s->rx) rlx_context_sync(&s->rx->v[p]);   /* exception entry */
        s->th[p].elr = lit_code_addr(p, i);
        if (lt->n == lt->nmain) finish_thread(s, p);
        else s->th[p].pc = (uint16_t)lt->nmain;
        return;
    }
    if (e->t->fault_mode != LFM_SKIP) { finish_thread(s, p); return; }
    advance(e, s, p, i, i + 1);
}

/* ---- relaxed diagnostic mode ---------------------------------------------
 * Not a model of the architecture: an over-approximation used only to say
 * whether an Allowed outcome missed under SC needs ordinary accesses to be
 * reordered. A thread without branches, handler or exclusives may execute
 * any later instruction whose registers do not depend on an earlier one
 * not yet executed (barriers are ignored). */
#define RW_FLAGS (1ull << 32)
#define RW_ELR   (1ull << 33)
static uint64_t rbit(unsigned r) { return r == LIT_XZR ? 0 : 1ull << r; }
static bool am_index(unsigned am) { return am == AM_REG || am == AM_SXTW || am == AM_UXTW; }
static bool am_wback(unsigned am) { return am == AM_PRE || am == AM_POST; }

static void regs_rw(const struct lit_insn *in, uint64_t *rd, uint64_t *wr)
{
    uint64_t r = 0, w = 0;
    switch ((enum lit_op)in->op) {
    case LOP_MOVI: case LOP_ADR: w = rbit(in->rd); break;
    case LOP_MOVR: r = rbit(in->rn); w = rbit(in->rd); break;
    case LOP_ALU: r = rbit(in->rn) | (in->use_imm ? 0 : rbit(in->rm));
        w = rbit(in->rd) | (in->setflags ? RW_FLAGS : 0); break;
    case LOP_MOVK: r = rbit(in->rd); w = rbit(in->rd); break;
    case LOP_CSINC: case LOP_CSINV: case LOP_CSNEG:
        r = rbit(in->rn) | rbit(in->rm) | RW_FLAGS; w = rbit(in->rd); break;
    case LOP_BFX: r = rbit(in->rn); w = rbit(in->rd); break;
    case LOP_CMP: r = rbit(in->rn) | (in->use_imm ? 0 : rbit(in->rm)); w = RW_FLAGS; break;
    case LOP_CSEL: r = rbit(in->rn) | rbit(in->rm) | RW_FLAGS; w = rbit(in->rd); break;
    case LOP_CSET: r = RW_FLAGS; w = rbit(in->rd); break;
    case LOP_MSR_ELR: r = rbit(in->rn); w = RW_ELR; break;
    case LOP_MRS_ELR: r = RW_ELR; w = rbit(in->rd); break;
    case LOP_LDR: case LOP_LDXR:
        r = rbit(in->rn) | (am_index(in->amode) ? rbit(in->rm) : 0);
        w = rbit(in->rd) | (am_wback(in->amode) ? rbit(in->rn) : 0); break;
    case LOP_STR: r = rbit(in->rn) | rbit(in->rs) | (am_index(in->amode) ? rbit(in->rm) : 0);
        w = am_wback(in->amode) ? rbit(in->rn) : 0; break;
    case LOP_STXR: r = rbit(in->rn) | rbit(in->rs); w = rbit(in->rd); break;
    case LOP_SWP: case LOP_LDOP: r = rbit(in->rn) | rbit(in->rs); w = in->no_dest ? 0 : rbit(in->rd); break;
    case LOP_CAS: r = rbit(in->rn) | rbit(in->rs) | rbit(in->rd); w = rbit(in->rs); break;
    case LOP_TLBI: r = in->tlbi_xt ? rbit(in->rn) : 0; break;
    default: break;
    }
    *rd = r;
    *wr = w;
}

static bool relaxed_thread(const struct ex *e, unsigned p)
{
    const struct lit_thread *lt = &e->t->th[p];
    if (!e->o->relaxed || lt->has_handler || lt->nmain > 64) return false;
    for (unsigned i = 0; i < lt->nmain; i++) {
        unsigned op = lt->insn[i].op;
        if (op == LOP_B || op == LOP_BCOND || op == LOP_CBZ || op == LOP_CBNZ || op == LOP_TBZ ||
            op == LOP_TBNZ || op == LOP_ERET || op == LOP_LDXR || op == LOP_STXR)
            return false;
    }
    return true;
}

/* May instruction j of thread p run now (relaxed mode)? */
static bool may_run(const struct ex *e, const struct st *s, unsigned p, unsigned j)
{
    const struct lit_thread *lt = &e->t->th[p];
    uint64_t rj, wj;
    if (s->th[p].done_mask & (1ull << j)) return false;
    regs_rw(&lt->insn[j], &rj, &wj);
    for (unsigned i = s->th[p].pc; i < j; i++) {
        uint64_t ri, wi;
        if (s->th[p].done_mask & (1ull << i)) continue;
        regs_rw(&lt->insn[i], &ri, &wi);
        if ((wi & (rj | wj)) || (ri & wj)) return false;
    }
    return true;
}

/* ---- relaxed memory: accesses through model/hw/rlx.c --------------------- */
static uint64_t rx_mask(uint64_t m)
{
    return (m & 0x7fffffffull) | ((m & RW_FLAGS) ? 1ull << RLX_REG_FLAGS : 0) |
           ((m & RW_ELR) ? 1ull << RLX_REG_EXTRA : 0);
}

static uint64_t addr_regs(const struct lit_insn *in)
{
    return rbit(in->rn) | (am_index(in->amode) ? rbit(in->rm) : 0);
}

static int rx_full(struct ex *e)
{
    snprintf(e->err, sizeof(e->err), "more than %d locations written (relaxed memory)", MAXH);
    return -1;
}

/* Read sz bytes at pa taking message option k. 0, 1 (no such option), -1. */
static int rx_load(struct ex *e, struct st *s, unsigned p, const struct lit_insn *in, uint64_t pa,
                   unsigned sz, unsigned k, bool atomic, uint64_t *v, uint64_t *post)
{
    struct rlx_views *vw = &s->rx->v[p];
    struct rlx_acc a = { .cpu = p, .vaddr = rlx_regs(vw, rx_mask(addr_regs(in))), .vtrans = e->tv,
                         .acquire = in->acq, .acquire_pc = in->acq_pc, .atomic = atomic };
    struct rlx_loc *l;
    unsigned off = pa & 7;
    uint64_t w;
    label_t lab;
    if (off + sz > 8) { snprintf(e->err, sizeof(e->err), "access crossing an 8-byte word"); return -1; }
    if (!(l = rx_get(s, pa & ~7ull))) return rx_full(e);
    if (k >= rlx_read_options(l, vw, &a)) return 1;
    *post = rlx_read(l, vw, &a, k, &w, &lab);
    w >>= off * 8;
    *v = sz == 8 ? w : (w & ((1ull << (sz * 8)) - 1));
    return 0;
}

/* Write sz bytes of val at pa taking write position k (vdata: the view of
 * the data). 0, 1 (no such position), -1. */
static int rx_store(struct ex *e, struct st *s, unsigned p, const struct lit_insn *in, uint64_t pa,
                    unsigned sz, uint64_t val, unsigned k, uint64_t vdata, bool atomic, uint64_t *ts)
{
    struct rlx_views *vw = &s->rx->v[p];
    struct rlx_acc a = { .cpu = p, .vaddr = rlx_regs(vw, rx_mask(addr_regs(in))), .vdata = vdata,
                         .vtrans = e->tv, .acquire = atomic && in->acq, .release = in->rel,
                         .atomic = atomic };
    struct rlx_loc *l;
    if (!(l = rx_get(s, pa & ~7ull))) return rx_full(e);
    if (k >= rlx_write_options(&s->rx->clk, l, vw, &a)) return 1;
    if (mem_write_sz(e, s, p, pa, sz, val)) return -1;
    *ts = rlx_write(&s->rx->clk, l, vw, &a, k, mem_get(s, pa & ~7ull), 0);
    return 0;
}

static void set_rview(struct st *s, unsigned p, unsigned r, uint64_t v)
{
    if (s->rx && r != LIT_XZR) s->rx->v[p].reg[r] = v;
}

/* Execute the instruction at thread p's pc. Returns 0, 1 (the choice is
 * not possible here: drop the state) or -1 (e->err). */
static int step(struct ex *e, struct st *s, unsigned p, unsigned i, unsigned choice)
{
    const struct lit_thread *lt = &e->t->th[p];
    struct thr *th = &s->th[p];
    const struct lit_insn *in = &lt->insn[i];
    unsigned next = i + 1, sz = lit_insn_size(in);
    uint64_t pa, v, old, post = 0, ts = 0, rr, ww;
    struct mmu_fault f;
    int rc;
    unsigned nt = n_trans(e, s, p, i), mch = choice / nt;
    struct rlx_views *vw = s->rx ? &s->rx->v[p] : NULL;

    choice %= nt;
    regs_rw(in, &rr, &ww);

    memset(&f, 0, sizeof(f));
    if (lt->el0 && n_choices_mem(in) && lit_in_leaf_table(ea_of(th, in))) {
        /* herd's page tables are not EL0's to touch; how that faults is
         * not modelled: the test is unsupported, never guessed */
        snprintf(e->err, sizeof(e->err), "EL0 thread P%u accesses a page-table entry (not modelled)", p);
        return -1;
    }
    if (vw && !n_choices_mem(in))          /* register views (dependencies) */
        rlx_reg_op(vw, rx_mask(rr), rx_mask(ww));
    switch ((enum lit_op)in->op) {
    case LOP_NOP:
        break;
    case LOP_DMB:
        if (vw) rlx_barrier(vw, RLX_DMB, in->bar_domain, in->bar_types);
        break;
    case LOP_ISB:
        if (vw) rlx_barrier(vw, RLX_ISB, 3, 3);
        break;
    case LOP_DSB: {
        /* Completes the TLBIs this CPU issued only with types = all; NSH
         * only those on its own TLB (model/hw/rlx.h) */
        bool all;
        if (rlx_dsb_completes_tlbi(in->bar_domain, in->bar_types, &all)) {
            for (unsigned k = 0; k < s->tlbs.npending;) {
                if (s->tlbs.pending[k].issuer == p && (all || s->tlbs.pending[k].target == p))
                    complete_tlbi(e, s, k);
                else
                    k++;
            }
        }
        /* then the barrier: what follows is ordered after the completions */
        if (vw) rlx_barrier(vw, RLX_DSB, in->bar_domain, in->bar_types);
        break;
    }
    case LOP_MOVI: wr_reg(th, in->rd, in->sf, (uint64_t)in->imm); break;
    case LOP_MOVR: wr_reg(th, in->rd, in->sf, rd_reg(th, in->rn, in->sf)); break;
    case LOP_ALU: {
        uint64_t a = rd_reg(th, in->rn, in->sf), b = op2_value(th, in);
        uint64_t m = in->sf ? ~0ull : 0xffffffffull, sb = in->sf ? 1ull << 63 : 1ull << 31;
        unsigned w = in->sf ? 64 : 32, k = (unsigned)(b % w);
        switch ((enum lit_alu)in->sub) {
        case ALU_ADD: v = a + b; break;
        case ALU_SUB: v = a - b; break;
        case ALU_AND: v = a & b; break;
        case ALU_ORR: v = a | b; break;
        case ALU_EOR: v = a ^ b; break;
        case ALU_BIC: v = a & ~b; break;
        case ALU_ORN: v = a | ~b; break;
        case ALU_EON: v = a ^ ~b; break;
        case ALU_LSL: v = a << k; break;
        case ALU_LSR: v = a >> k; break;
        case ALU_ASR: v = (uint64_t)(sext_bits(a, w) >> k); break;
        case ALU_ROR: v = k ? (a >> k) | (a << (w - k)) : a; break;
        case ALU_MUL: v = a * b; break;
        default: v = 0; break;
        }
        v &= m;
        if (in->setflags) {
            if (in->sub == ALU_ADD || in->sub == ALU_SUB)
                th->nzcv = flags_addsub(a, b, in->sub == ALU_SUB, in->sf);
            else                         /* ANDS, BICS, TST: C and V cleared */
                th->nzcv = (uint8_t)(((v & sb) != 0) << 3 | (v == 0) << 2);
        }
        wr_reg(th, in->rd, in->sf, v);
        break;
    }
    case LOP_MOVK: {
        uint64_t keep = ~(0xffffull << in->shamt);
        wr_reg(th, in->rd, in->sf, (rd_reg(th, in->rd, in->sf) & keep) | ((uint64_t)in->imm << in->shamt));
        break;
    }
    case LOP_CSINC: case LOP_CSINV: case LOP_CSNEG: {
        uint64_t b = rd_reg(th, in->rm, in->sf);
        b = in->op == LOP_CSINC ? b + 1 : in->op == LOP_CSINV ? ~b : 0 - b;
        wr_reg(th, in->rd, in->sf, cond_holds(th->nzcv, in->sub) ? rd_reg(th, in->rn, in->sf) : b);
        break;
    }
    case LOP_BFX: {
        uint64_t x = rd_reg(th, in->rn, 1) >> in->lsb;
        uint64_t f = in->width >= 64 ? x : x & ((1ull << in->width) - 1);
        wr_reg(th, in->rd, in->sf, in->sub ? (uint64_t)sext_bits(f, in->width) : f);
        break;
    }
    case LOP_TBZ: case LOP_TBNZ:
        if (vw) rlx_ctrl(vw, rbit(in->rn));
        if (((rd_reg(th, in->rn, 1) >> in->imm) & 1) == (in->op == LOP_TBNZ)) next = (unsigned)in->target;
        break;
    case LOP_CMP: {
        uint64_t a = rd_reg(th, in->rn, in->sf), b = in->use_imm ? (uint64_t)in->imm : rd_reg(th, in->rm, in->sf);
        uint64_t m = in->sf ? ~0ull : 0xffffffffull, sb = in->sf ? 1ull << 63 : 1ull << 31;
        b &= m;
        uint64_t r = (a - b) & m;
        unsigned n = (r & sb) != 0, z = r == 0, c = a >= b;
        unsigned ov = (((a ^ b) & (a ^ r)) & sb) != 0;
        th->nzcv = (uint8_t)(n << 3 | z << 2 | c << 1 | ov);
        break;
    }
    case LOP_CSEL:
        wr_reg(th, in->rd, in->sf, cond_holds(th->nzcv, in->sub) ? rd_reg(th, in->rn, in->sf) : rd_reg(th, in->rm, in->sf));
        break;
    case LOP_CSET: wr_reg(th, in->rd, in->sf, cond_holds(th->nzcv, in->sub) ? 1 : 0); break;
    case LOP_B: next = (unsigned)in->target; break;
    case LOP_BCOND:
        if (vw) rlx_ctrl(vw, 1ull << RLX_REG_FLAGS);
        if (cond_holds(th->nzcv, in->sub)) next = (unsigned)in->target;
        break;
    case LOP_CBZ:
        if (vw) rlx_ctrl(vw, rbit(in->rn));
        if (rd_reg(th, in->rn, in->sf) == 0) next = (unsigned)in->target;
        break;
    case LOP_CBNZ:
        if (vw) rlx_ctrl(vw, rbit(in->rn));
        if (rd_reg(th, in->rn, in->sf) != 0) next = (unsigned)in->target;
        break;
    case LOP_ADR: wr_reg(th, in->rd, 1, (uint64_t)in->imm); break;
    case LOP_MSR_ELR: th->elr = rd_reg(th, in->rn, 1); break;
    case LOP_MRS_ELR: wr_reg(th, in->rd, 1, th->elr); break;
    case LOP_ERET: {
        uint64_t base = lit_code_base(p);
        if (th->elr < base || ((th->elr - base) & 3) || (th->elr - base) / 4 > lt->n) {
            snprintf(e->err, sizeof(e->err), "ERET to an address outside P%u's code", p);
            return -1;
        }
        unsigned tgt = (unsigned)((th->elr - base) / 4);
        if (vw) rlx_context_sync(vw);          /* ERET synchronises context */
        if (tgt >= lt->nmain) { finish_thread(s, p); return 0; }
        th->pc = (uint16_t)tgt;
        return 0;
    }
    case LOP_TLBI: {
        struct tlbi_op op;
        uint64_t xt = in->tlbi_xt ? rd_reg(th, in->rn, 1) : 0;
        if (tlbi_decode(in->tlbi_op1, in->tlbi_crm, in->tlbi_op2, xt, 0, &op) != 0) {
            snprintf(e->err, sizeof(e->err), "TLBI not modelled by tlb/");
            return -1;
        }
        if (tlb_sys_issue(&s->tlbs, p, &op) != 0) { snprintf(e->err, sizeof(e->err), "out of memory"); return -1; }
        if (vw) {                              /* what it orders for the targets' walks */
            unsigned cnt = op.broadcast ? s->tlbs.ncpus : 1;
            for (unsigned k = s->tlbs.npending - cnt; k < s->tlbs.npending; k++)
                s->tlbs.pending[k].view = rlx_tlbi_view(vw);
        }
        break;
    }
    case LOP_LDR: case LOP_LDXR: {
        uint64_t va = ea_of(th, in);
        rc = translate(e, s, p, va, MMU_ACC_READ, choice, &pa, &f);
        if (rc == -2) { snprintf(e->err, sizeof(e->err), "TLB fill failed"); return -1; }
        if (rc == -3) return 1;
        if (rc) { if (mch) return 1; take_fault(e, s, p, i, va, &f); return 0; }
        if (vw) {
            if ((rc = rx_load(e, s, p, in, pa, sz, mch, false, &v, &post))) return rc;
            set_rview(s, p, in->rd, post);
        } else if (mem_read_sz(e, s, pa, sz, &v))
            return -1;
        if (in->sext) v = (uint64_t)sext_bits(v, sz * 8);
        wr_reg(th, in->rd, in->sf, v);
        /* the monitor holds only if the newest message was read */
        if (in->op == LOP_LDXR) { th->mon = mch == 0; th->mon_pa = pa; }
        writeback(th, in);
        break;
    }
    case LOP_STR: case LOP_STXR: {
        uint64_t va = ea_of(th, in);
        rc = translate(e, s, p, va, MMU_ACC_WRITE, choice, &pa, &f);
        if (rc == -2) { snprintf(e->err, sizeof(e->err), "TLB fill failed"); return -1; }
        if (rc == -3) return 1;
        if (rc) { if (mch) return 1; take_fault(e, s, p, i, va, &f); return 0; }
        if (in->op == LOP_STXR) {
            bool ok = th->mon && (th->mon_pa & ~7ull) == (pa & ~7ull);
            th->mon = 0;
            if (vw && !ok && mch) return 1;
            if (ok && vw) {
                uint64_t vd = rlx_regs(vw, rx_mask(rbit(in->rs)));
                if ((rc = rx_store(e, s, p, in, pa, sz, rd_reg(th, in->rs, in->sf), mch, vd, true, &ts)))
                    return rc;
            } else if (ok && mem_write_sz(e, s, p, pa, sz, rd_reg(th, in->rs, in->sf)))
                return -1;
            wr_reg(th, in->rd, 0, ok ? 0 : 1);
            set_rview(s, p, in->rd, ts);
        } else if (vw) {
            uint64_t vd = rlx_regs(vw, rx_mask(rbit(in->rs)));
            if ((rc = rx_store(e, s, p, in, pa, sz, rd_reg(th, in->rs, in->sf), mch, vd, false, &ts)))
                return rc;
        } else if (mem_write_sz(e, s, p, pa, sz, rd_reg(th, in->rs, in->sf)))
            return -1;
        writeback(th, in);
        break;
    }
    case LOP_SWP: case LOP_LDOP: {
        uint64_t va = ea_of(th, in);
        rc = translate(e, s, p, va, MMU_ACC_WRITE, choice, &pa, &f);
        if (rc == -2) { snprintf(e->err, sizeof(e->err), "TLB fill failed"); return -1; }
        if (rc == -3) return 1;
        if (rc) { if (mch) return 1; take_fault(e, s, p, i, va, &f); return 0; }
        if (vw) {
            if ((rc = rx_load(e, s, p, in, pa, sz, 0, true, &old, &post))) return rc;
        } else if (mem_read_sz(e, s, pa, sz, &old))
            return -1;
        uint64_t a = rd_reg(th, in->rs, in->sf);
        if (in->op == LOP_SWP) v = a;
        else switch ((enum lit_ldop)in->sub) {
            case LD_ADD: v = old + a; break;
            case LD_CLR: v = old & ~a; break;
            case LD_SET: v = old | a; break;
            default: v = old ^ a; break;
        }
        if (vw) {
            uint64_t vd = rlx_regs(vw, rx_mask(rbit(in->rs))) | 0;
            vd = vd > post ? vd : post;
            if ((rc = rx_store(e, s, p, in, pa, sz, v, mch, vd, true, &ts))) return rc;
            if (!in->no_dest) set_rview(s, p, in->rd, post);
        } else if (mem_write_sz(e, s, p, pa, sz, v))
            return -1;
        if (!in->no_dest) wr_reg(th, in->rd, in->sf, old);
        break;
    }
    case LOP_CAS: {
        uint64_t va = ea_of(th, in);
        /* a CAS whose comparison fails only reads (it is translated for a
         * read; one that succeeds is then checked for a write) */
        rc = translate(e, s, p, va, MMU_ACC_READ, choice, &pa, &f);
        if (rc == -2) { snprintf(e->err, sizeof(e->err), "TLB fill failed"); return -1; }
        if (rc == -3) return 1;
        if (rc) { if (mch) return 1; take_fault(e, s, p, i, va, &f); return 0; }
        if (vw) {
            if ((rc = rx_load(e, s, p, in, pa, sz, 0, true, &old, &post))) return rc;
        } else if (mem_read_sz(e, s, pa, sz, &old))
            return -1;
        uint64_t cmpv = rd_reg(th, in->rs, in->sf) & (sz == 8 ? ~0ull : (1ull << (sz * 8)) - 1);
        if (old == cmpv) {
            rc = translate(e, s, p, va, MMU_ACC_WRITE, 0, &pa, &f);
            if (rc == -2) { snprintf(e->err, sizeof(e->err), "TLB fill failed"); return -1; }
            if (rc) { if (mch) return 1; take_fault(e, s, p, i, va, &f); return 0; }
            if (mem_read_sz(e, s, pa, sz, &old)) return -1;
            if (old == cmpv && vw) {
                uint64_t vd = rlx_regs(vw, rx_mask(rbit(in->rd)));
                vd = vd > post ? vd : post;
                if ((rc = rx_store(e, s, p, in, pa, sz, rd_reg(th, in->rd, in->sf), mch, vd, true, &ts)))
                    return rc;
            } else if (old == cmpv && mem_write_sz(e, s, p, pa, sz, rd_reg(th, in->rd, in->sf)))
                return -1;
        } else if (vw && mch)
            return 1;                          /* a failing CAS writes nothing */
        wr_reg(th, in->rs, in->sf, old);
        set_rview(s, p, in->rs, post);
        break;
    }
    }
    advance(e, s, p, i, next);
    return 0;
}

/* ---- the search ------------------------------------------------------------ */
static int push(struct ex *e, struct st *s)
{
    uint64_t h1, h2;
    st_hash(e, s, &h1, &h2);
    int v = visit(e, h1, h2);
    if (v <= 0) { st_free(s); return v; }
    if (e->vn > e->max_states) {
        st_free(s);
        snprintf(e->err, sizeof(e->err), "exploration bound exceeded (%llu states)",
                 (unsigned long long)e->max_states);
        return -1;
    }
    if (e->sn == e->scap) {
        size_t nc = e->scap ? e->scap * 2 : 256;
        struct st **ns = realloc(e->stack, nc * sizeof(*ns));
        if (!ns) { st_free(s); return -1; }
        e->stack = ns;
        e->scap = nc;
    }
    e->stack[e->sn++] = s;
    return 1;
}

/* A descriptor written by an instruction (a store, an atomic, a hardware
 * update) may be filled by every running CPU from then on. */
static void note_pte_writes(const struct ex *e, const struct st *before, struct st *after)
{
    for (unsigned l = 0; l < e->t->nlocs; l++) {
        uint64_t a = lit_pte_addr(l), v = mem_get(after, a);
        if (v == mem_get(before, a)) continue;
        for (unsigned q = 0; q < e->t->nthreads; q++)
            if (!after->th[q].done) cand_add(after, q, l, v);
    }
}

static int expand(struct ex *e, struct st *s)
{
    const struct lit_test *t = e->t;
    bool all_done = true;
    for (unsigned p = 0; p < t->nthreads; p++)
        all_done &= s->th[p].done != 0;
    if (all_done)
        return record_final(e, s);

    for (unsigned p = 0; p < t->nthreads; p++) {
        if (s->th[p].done) continue;
        /* an instruction (in relaxed mode: any that may run now), with
         * each way of translating its address */
        unsigned last = relaxed_thread(e, p) ? t->th[p].nmain : s->th[p].pc + 1u;
        for (unsigned j = s->th[p].pc; j < last; j++) {
            if (j != s->th[p].pc && !may_run(e, s, p, j)) continue;
            unsigned nch = n_choices(e, s, p, j);
            for (unsigned ch = 0; ch < nch; ch++) {
                struct st *n = st_clone(s);
                if (!n) return -1;
                int x = step(e, n, p, j, ch);
                if (x) { st_free(n); if (x < 0) return -1; continue; }
                note_pte_writes(e, s, n);
                if (push(e, n) < 0) return -1;
            }
        }
    }
    /* completion of a pending TLBI */
    for (unsigned k = 0; k < s->tlbs.npending; k++) {
        struct st *n = st_clone(s);
        if (!n) return -1;
        complete_tlbi(e, n, k);
        if (push(e, n) < 0) return -1;
    }
    return 0;
}

static int init_state(struct ex *e, struct st **out)
{
    const struct lit_test *t = e->t;
    struct st *s = calloc(1, sizeof(*s));
    if (!s) return -1;
    if (e->o->memory_relaxed) {
        if (!(s->rx = calloc(1, sizeof(*s->rx)))) { free(s); return -1; }
        rlx_clock_init(&s->rx->clk);
        for (unsigned p = 0; p < LIT_MAX_THREADS; p++) rlx_views_init(&s->rx->v[p]);
    }
    if (tlb_sys_init(&s->tlbs, t->nthreads, t->nlocs ? t->nlocs + 1 : 1) != 0) { free(s); return -1; }
    for (unsigned l = 0; l < t->nlocs; l++) {
        if (t->loc[l].init && mem_set(s, lit_pa(l), t->loc[l].init)) goto bad;
        if (mem_set(s, lit_pte_addr(l), t->loc[l].pte)) goto bad;
    }
    for (unsigned p = 0; p < t->nthreads; p++) {
        memcpy(s->th[p].x, t->th[p].reg, sizeof(s->th[p].x));
        for (unsigned l = 0; l < t->nlocs; l++)
            cand_add(s, p, l, t->loc[l].pte);
        if (t->th[p].nmain == 0) finish_thread(s, p);
    }
    *out = s;
    return 0;
bad:
    st_free(s);
    return -1;
}

int lit_run(const struct lit_test *t, const struct lit_opts *o, struct lit_result *r)
{
    struct ex e;
    struct lit_opts dflt = { .max_states = 0 };
    memset(r, 0, sizeof(*r));
    memset(&e, 0, sizeof(e));
    if (!o) o = &dflt;
    e.t = t;
    e.o = o;
    e.r = r;
    e.max_states = o->max_states ? o->max_states : DEFAULT_MAX_STATES;
    if (t->unsupported[0]) {
        snprintf(r->error, sizeof(r->error), "%.200s", t->unsupported);
        return -1;
    }
    if (t->root < 0) {
        snprintf(r->error, sizeof(r->error), "no condition");
        return -1;
    }
    struct st *s0;
    int rc = -1;
    if (init_state(&e, &s0)) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        return -1;
    }
    if (push(&e, s0) < 0) goto done;
    while (e.sn) {
        struct st *s = e.stack[--e.sn];
        int x = expand(&e, s);
        st_free(s);
        if (x < 0) goto done;
    }
    rc = 0;
done:
    for (size_t i = 0; i < e.sn; i++) st_free(e.stack[i]);
    free(e.stack);
    free(e.v1);
    free(e.v2);
    r->states = e.vn;
    if (rc == 0) {
        r->ok = true;
        r->nfinal = (unsigned)e.on;
        r->final = calloc(e.on ? e.on : 1, sizeof(char *));
        r->cond_all = true;
        for (size_t i = 0; i < e.on; i++) {
            if (r->final) r->final[i] = e.out[i].text;
            else free(e.out[i].text);
            r->cond_some |= e.out[i].p;
            r->cond_all &= e.out[i].p;
        }
        if (!e.on) r->cond_all = false;
    } else {
        for (size_t i = 0; i < e.on; i++) free(e.out[i].text);
        snprintf(r->error, sizeof(r->error), "%s", e.err[0] ? e.err : "out of memory");
    }
    free(e.out);
    return rc;
}

void lit_result_free(struct lit_result *r)
{
    if (!r) return;
    for (unsigned i = 0; r->final && i < r->nfinal; i++) free(r->final[i]);
    free(r->final);
    r->final = NULL;
    r->nfinal = 0;
}
