/*
 * model/hw/rlx.c - the relaxed memory model. See rlx.h; rule names follow
 * Pulte et al., PLDI 2019, Fig. 8 (read, fulfil, dmb, isb; register views).
 */
#include "model/hw/rlx.h"

#include <string.h>

static inline uint64_t max2(uint64_t a, uint64_t b) { return a > b ? a : b; }
static inline uint64_t cpubit(unsigned cpu) { return cpu < 64 ? 1ull << cpu : 0; }

void rlx_clock_init(struct rlx_clock *c)
{
    memset(c, 0, sizeof(*c));
    c->next = RLX_GAP;
}

void rlx_views_init(struct rlx_views *v)
{
    memset(v, 0, sizeof(*v));
}

void rlx_loc_init(struct rlx_loc *l, uint64_t pa, uint64_t val, label_t label)
{
    memset(l, 0, sizeof(*l));
    l->pa = pa;
    l->n = 1;
    l->m[0].val = val;
    l->m[0].label = label;
}

/* ---- Reads ------------------------------------------------------------------ */

/* The read's pre view: the lowest timestamp it must not read below. */
static uint64_t read_pre(const struct rlx_views *v, const struct rlx_acc *a)
{
    /* the translation is intrinsically before the access (tr-ib) */
    return max2(max2(v->rnew, max2(a->vaddr, a->vtrans)), a->acquire ? v->rel : 0);
}

/* Index of the oldest message the read may see. Read rule: message t may
 * be read iff no message to the location lies in (t, pre join coh]. */
/* Index of the oldest message of l a read with lower bound lb may see. */
static unsigned oldest_allowed(const struct rlx_loc *l, uint64_t lb)
{
    unsigned i0 = 0;

    for (unsigned i = 0; i < l->n; i++)
        if (l->m[i].ts <= lb)
            i0 = i;
    return i0;
}

static unsigned first_allowed(const struct rlx_loc *l, const struct rlx_views *v,
                              const struct rlx_acc *a)
{
    uint64_t lb = read_pre(v, a);

    if (a->atomic)
        return l->n - 1u;                /* a read-modify-write reads the newest */
    for (unsigned i = l->n; i-- > 0;)    /* coherence: not older than what this PE saw */
        if (l->m[i].seen & cpubit(a->cpu)) {
            lb = max2(lb, l->m[i].ts);
            break;
        }
    return oldest_allowed(l, lb);
}

unsigned rlx_read_options(const struct rlx_loc *l, const struct rlx_views *v,
                          const struct rlx_acc *a)
{
    return l->n - first_allowed(l, v, a);
}

uint64_t rlx_read(struct rlx_loc *l, struct rlx_views *v, const struct rlx_acc *a,
                  unsigned k, uint64_t *val, label_t *label)
{
    unsigned n = rlx_read_options(l, v, a);
    struct rlx_msg *m = &l->m[l->n - 1u - (k < n ? k : n - 1u)];
    uint64_t post = max2(max2(m->ts, read_pre(v, a)), a->vtrans);

    *val = m->val;
    *label = m->label;
    m->seen |= cpubit(a->cpu);
    v->rold = max2(v->rold, post);
    v->cap = max2(v->cap, max2(a->vaddr, a->vtrans));
    if (a->acquire || a->acquire_pc) {
        v->rnew = max2(v->rnew, post);
        v->wnew = max2(v->wnew, post);
    }
    return post;
}

/* ---- Walks ------------------------------------------------------------------- */

/* Is message i one a walk may read? (A faulting descriptor also needs the
 * context-synchronised view.) */
static bool walk_allowed(const struct rlx_loc *l, const struct rlx_views *v, rlx_faults_fn faults,
                         const void *arg, unsigned i)
{
    if (i < oldest_allowed(l, v->walk))
        return false;
    return !faults(l->m[i].val, arg) || i >= oldest_allowed(l, max2(v->walk, v->walku));
}

unsigned rlx_walk_options(const struct rlx_loc *l, const struct rlx_views *v, rlx_faults_fn faults,
                          const void *arg)
{
    unsigned n = 0;

    for (unsigned i = 0; i < l->n; i++)
        n += walk_allowed(l, v, faults, arg, i);
    return n ? n : 1;
}

uint64_t rlx_walk_read(struct rlx_loc *l, struct rlx_views *v, rlx_faults_fn faults, const void *arg,
                       unsigned k, uint64_t *val, label_t *label)
{
    unsigned pick = l->n - 1u;

    for (unsigned i = l->n; i-- > 0;)    /* option k: the k-th allowed from the newest */
        if (walk_allowed(l, v, faults, arg, i)) {
            pick = i;
            if (k-- == 0)
                break;
        }
    *val = l->m[pick].val;
    *label = l->m[pick].label;
    rlx_walk_seen(v, l->m[pick].ts);     /* walks change no program-order view */
    return l->m[pick].ts;
}

/* ---- Writes ------------------------------------------------------------------ */

/* Fulfil rule: the write's timestamp is above these. */
static uint64_t write_pre(const struct rlx_loc *l, const struct rlx_views *v,
                          const struct rlx_acc *a)
{
    uint64_t lb = max2(max2(v->wnew, v->cap), max2(max2(a->vaddr, a->vtrans), a->vdata));

    lb = max2(lb, l->m[l->n - 1u].ts);   /* after every message to the location */
    if (a->release)
        lb = max2(lb, max2(v->rold, v->wold));
    return lb;
}

/* The timestamp of option k (k >= 1: the k-th free gap from the newest
 * among the recent write positions above lb), 0 when there is none. */
static uint64_t gap_ts(const struct rlx_clock *c, uint64_t lb, unsigned k)
{
    unsigned found = 0;

    for (unsigned i = c->n; i-- > 1;) {
        uint64_t hi = c->recent[i], lo = max2(c->recent[i - 1], lb);
        if (hi <= lb)
            break;
        if (hi - lo >= 2 && ++found == k)
            return lo + (hi - lo) / 2;
    }
    return 0;
}

unsigned rlx_write_options(const struct rlx_clock *c, const struct rlx_loc *l,
                           const struct rlx_views *v, const struct rlx_acc *a)
{
    uint64_t lb = write_pre(l, v, a);
    unsigned n = 1;

    while (gap_ts(c, lb, n))
        n++;
    return n;
}

static void recent_add(struct rlx_clock *c, uint64_t ts)
{
    unsigned i = c->n;

    if (c->n == RLX_SLOTS) {
        if (ts < c->recent[0])
            return;
        memmove(&c->recent[0], &c->recent[1], (RLX_SLOTS - 1) * sizeof(c->recent[0]));
        c->n--;
        i = c->n;
    }
    while (i > 0 && c->recent[i - 1] > ts) {
        c->recent[i] = c->recent[i - 1];
        i--;
    }
    c->recent[i] = ts;
    c->n++;
}

uint64_t rlx_write(struct rlx_clock *c, struct rlx_loc *l, struct rlx_views *v,
                   const struct rlx_acc *a, unsigned k, uint64_t val, label_t label)
{
    uint64_t lb = write_pre(l, v, a), ts = k ? gap_ts(c, lb, k) : 0;
    struct rlx_msg *m;

    if (!ts) {                           /* last (or an option no longer there) */
        if (c->next <= lb)
            c->next = lb + RLX_GAP;
        ts = c->next;
        c->next += RLX_GAP;
    }
    if (l->n == RLX_K) {                 /* the oldest can no longer be read */
        memmove(&l->m[0], &l->m[1], (RLX_K - 1) * sizeof(l->m[0]));
        l->n--;
    }
    m = &l->m[l->n++];
    m->ts = ts;
    m->val = val;
    m->label = label;
    m->seen = cpubit(a->cpu);
    v->wold = max2(v->wold, ts);
    v->cap = max2(v->cap, max2(a->vaddr, a->vtrans));
    if (a->release)
        v->rel = max2(v->rel, ts);
    if (a->atomic && a->acquire && a->release) {
        /* "[range([A]; amo; [L])]; po": an acquire-release atomic orders
         * everything after it after its write */
        v->rnew = max2(v->rnew, ts);
        v->wnew = max2(v->wnew, ts);
    }
    recent_add(c, ts);
    return ts;
}

/* ---- Barriers, dependencies, TLBI ---------------------------------------------- */

void rlx_barrier(struct rlx_views *v, enum rlx_barrier k, unsigned domain, unsigned types)
{
    if (k == RLX_ISB) {
        rlx_context_sync(v);
        return;
    }
    if (domain != 1) {                   /* NSH orders nothing other PEs observe */
        if (types == 3) {
            uint64_t all = max2(v->rold, v->wold);
            v->rnew = max2(v->rnew, all);
            v->wnew = max2(v->wnew, all);
        } else if (types == 1) {
            v->rnew = max2(v->rnew, v->rold);
            v->wnew = max2(v->wnew, v->rold);
        } else if (types == 2) {
            v->wnew = max2(v->wnew, v->wold);
        }
    }
    if (k == RLX_DSB && domain != 1 && (types & 1)) {
        /* a DSB also waits for its walks' hardware updates and reads
         * ("[M]; po; [dsb.full]; po": implicit effects too) */
        v->rnew = max2(v->rnew, v->tseen);
        v->wnew = max2(v->wnew, v->tseen);
    }
    if (k == RLX_DSB && types == 3 && domain != 1) {
        /* what the completions of its TLBIs ordered before them */
        v->rnew = max2(v->rnew, v->tlbiack);
        v->wnew = max2(v->wnew, v->tlbiack);
        v->dsbv = max2(v->dsbv, v->tlbiack);   /* and so are its later TLBIs */
    }
    if (k == RLX_DSB) {
        uint64_t x = max2((types & 1) ? max2(v->rold, v->tseen) : 0, (types & 2) ? v->wold : 0);
        v->dsbloc = max2(v->dsbloc, x);  /* its own walks, after an ISB */
        if (domain != 1)
            v->dsbv = max2(v->dsbv, x);  /* other PEs' walks, through its TLBIs */
    }
}

bool rlx_dsb_completes_tlbi(unsigned domain, unsigned types, bool *all_pes)
{
    *all_pes = domain != 1;
    return types == 3;
}

void rlx_context_sync(struct rlx_views *v)
{
    /* "[Exp & R]; ctrl; [CSE]; po", and a fault before an exception entry
     * orders the handler (herd order-via-faults) */
    v->rnew = max2(v->rnew, max2(v->cap, v->faultv));
    v->wnew = max2(v->wnew, v->faultv);
    /* ... and later translation reads too (CSE-ob, "addr; [Exp]; po; [CSE]; po; [R]") */
    v->walku = max2(v->walku, max2(max2(v->dsbloc, v->cap), v->faultv));
    v->csev = max2(v->csev, max2(v->cap, v->faultv));
}

void rlx_walk_seen(struct rlx_views *v, uint64_t ts)
{
    v->tseen = max2(v->tseen, ts);
}

void rlx_fault(struct rlx_views *v, const struct rlx_acc *a)
{
    uint64_t pre = max2(max2(v->rnew, v->wnew), max2(v->cap, max2(a->vaddr, a->vtrans)));
    v->faultv = max2(v->faultv, max2(pre, a->vdata));
    v->cap = max2(v->cap, a->vtrans);
}

void rlx_tlbi_ack(struct rlx_views *issuer, const struct rlx_views *target)
{
    uint64_t did = max2(max2(target->rold, target->wold), max2(target->faultv, target->cap));
    issuer->tlbiack = max2(issuer->tlbiack, did);
}

uint64_t rlx_ts_of_value(const struct rlx_loc *l, uint64_t val)
{
    for (unsigned i = l->n; i-- > 0;)
        if (l->m[i].val == val)
            return l->m[i].ts;
    return l->m[0].ts;                   /* a dropped message: older than every one kept */
}

uint64_t rlx_regs(const struct rlx_views *v, uint64_t mask)
{
    uint64_t j = 0;

    for (unsigned r = 0; r < RLX_NREGS; r++)
        if (mask & (1ull << r))
            j = max2(j, v->reg[r]);
    return j;
}

void rlx_ctrl(struct rlx_views *v, uint64_t mask)
{
    v->cap = max2(v->cap, rlx_regs(v, mask));
}

void rlx_reg_op(struct rlx_views *v, uint64_t src, uint64_t dst)
{
    uint64_t j = rlx_regs(v, src);

    for (unsigned r = 0; r < RLX_NREGS; r++)
        if (dst & (1ull << r))
            v->reg[r] = j;
}

uint64_t rlx_tlbi_view(const struct rlx_views *issuer)
{
    return max2(issuer->dsbv, issuer->csev);
}

void rlx_tlbi_done(struct rlx_views *target, uint64_t view)
{
    target->walk = max2(target->walk, view);
}

/* ---- Forgetting ----------------------------------------------------------------- */

uint64_t rlx_floor(const struct rlx_views *v, unsigned n)
{
    uint64_t f = UINT64_MAX;

    for (unsigned i = 0; i < n; i++) {
        f = v[i].rnew < f ? v[i].rnew : f;
        f = v[i].walk < f ? v[i].walk : f;
    }
    return n ? f : 0;
}

bool rlx_loc_prune(struct rlx_loc *l, uint64_t floor)
{
    unsigned j = 0;

    for (unsigned i = 0; i < l->n; i++)
        if (l->m[i].ts <= floor)
            j = i;
    if (j) {
        memmove(&l->m[0], &l->m[j], (l->n - j) * sizeof(l->m[0]));
        l->n = (uint8_t)(l->n - j);
    }
    return l->n == 1 && l->m[0].ts <= floor;
}
