/*
 * model/layers/linearize.c - footprints and the taint rule. See
 * linearize.h.
 */
#include "model/layers/linearize.h"

static bool key_meets(uint64_t a, uint64_t b)
{
    if (a == b)
        return true;
    if (LIN_KEY_KIND(a) == LIN_K_VMALL && LIN_KEY_KIND(b) != LIN_K_PAGE && LIN_KEY_VM(a) == LIN_KEY_VM(b))
        return true;
    return LIN_KEY_KIND(b) == LIN_K_VMALL && LIN_KEY_KIND(a) != LIN_K_PAGE && LIN_KEY_VM(a) == LIN_KEY_VM(b);
}

static bool touches_pages(const struct lin_fp *x)
{
    for (unsigned j = 0; j < x->nr; j++)
        if (LIN_KEY_KIND(x->rkey[j]) == LIN_K_PAGE)
            return true;
    for (unsigned j = 0; j < x->nw; j++)
        if (LIN_KEY_KIND(x->wkey[j]) == LIN_K_PAGE)
            return true;
    return false;
}

void lin_reset(struct lin_fp *f)
{
    f->nr = f->nw = 0;
    f->truncated = false;
}

void lin_read(struct lin_fp *f, uint64_t k)
{
    if (f->nr < f->cap)
        f->rkey[f->nr++] = k;
    else
        f->truncated = true;
}

void lin_write(struct lin_fp *f, uint64_t k)
{
    if (f->nw < f->cap)
        f->wkey[f->nw++] = k;
    else
        f->truncated = true;
}

bool lin_writes_into(const struct lin_fp *y, const struct lin_fp *x)
{
    if (y->truncated && !y->is_fault && touches_pages(x))
        return true;
    for (unsigned i = 0; i < y->nw; i++) {
        for (unsigned j = 0; j < x->nr; j++)
            if (key_meets(y->wkey[i], x->rkey[j]))
                return true;
        for (unsigned j = 0; j < x->nw; j++)
            if (key_meets(y->wkey[i], x->wkey[j]))
                return true;
    }
    return false;
}

/* y writes into x: x's check is skipped, and x may now write what y's
 * pages (or slots) become to it. */
static void taint(struct lin_fp *x, const struct lin_fp *y)
{
    bool pages = x->inherit & LIN_INHERIT_PAGES;
    bool slots = x->inherit & LIN_INHERIT_SLOTS;

    x->tainted = true;
    if (x->is_fault || y->is_fault)
        return;                        /* a fault changes no abstract item */
    for (unsigned i = 0; i < y->nw && (pages || slots); i++) {
        uint64_t k = y->wkey[i];
        bool have = false;
        if (pages && LIN_KEY_KIND(k) == LIN_K_PAGE)
            ;
        else if (slots && (LIN_KEY_KIND(k) == LIN_K_VMSTATE || LIN_KEY_KIND(k) == LIN_K_VMALL))
            k = LIN_KEY(LIN_K_VMALL, LIN_KEY_VM(k), 0);
        else
            continue;
        for (unsigned j = 0; j < x->nw && !have; j++)
            have = x->wkey[j] == k;
        if (!have)
            lin_write(x, k);
    }
}

void lin_open(struct lin_fp *const *all, unsigned n, struct lin_fp *s)
{
    unsigned work[LIN_MAX_SLOTS], nwork = 0, si = n;
    bool queued[LIN_MAX_SLOTS] = { false };

    for (unsigned i = 0; i < n; i++)
        if (all[i] == s)
            si = i;
    if (si == n || n > LIN_MAX_SLOTS)
        return;
    s->live = true;
    s->tainted = s->truncated;
    for (unsigned i = 0; i < n; i++) {
        struct lin_fp *y = all[i];
        if (y != s && y->live && lin_writes_into(y, s))
            taint(s, y);
    }
    work[nwork++] = si;                /* a queue of distinct slots: nwork <= n */
    queued[si] = true;
    while (nwork) {
        unsigned yi = work[--nwork];
        struct lin_fp *y = all[yi];
        queued[yi] = false;
        for (unsigned i = 0; i < n; i++) {
            struct lin_fp *x = all[i];
            unsigned nw;
            bool trunc;
            if (x == y || !x->live || !lin_writes_into(y, x))
                continue;
            nw = x->nw;
            trunc = x->truncated;
            taint(x, y);
            if ((x->nw != nw || x->truncated != trunc) && !queued[i]) {
                work[nwork++] = i;     /* x writes more now: whom does it reach? */
                queued[i] = true;
            }
        }
    }
}
