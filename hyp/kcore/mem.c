/*
 * hyp/kcore/mem.c - the page-table pool (a locked allocator of zeroed pages over
 * [KC_POOL_BASE, +KC_POOL_SIZE)), page zeroing and cleaning, and the
 * freestanding memset/memcpy the compiler may call.
 */
#include "kcore.h"

#ifdef KC_MUTANT_TABLE_ZERO_LATE
#define POOL_ZERO(pa) ((void)(pa))   /* the walker zeroes after linking (pgtable.c) */
#else
#define POOL_ZERO(pa) kc_zero_page(pa)
#endif

u64 kc_pool_alloc(void)
{
    struct kc_pool *p = &kc.pool;
    u64 pa = 0;

    kc_lock(&p->lock);
    if (p->nfree)
        pa = p->base + ((u64)p->free[--p->nfree] << KC_PAGE_SHIFT);
    else if (p->next < p->npages)
        pa = p->base + (p->next++ << KC_PAGE_SHIFT);
    kc_unlock(&p->lock);
    if (pa)
        POOL_ZERO(pa);   /* the page is ours alone now; zero before any link */
    return pa;
}

void kc_pool_free(u64 pa)
{
    struct kc_pool *p = &kc.pool;
    u64 idx = (pa - p->base) >> KC_PAGE_SHIFT;

    if (pa < p->base || idx >= p->next || (pa & (KC_PAGE_SIZE - 1)))
        kc_panic(KC_PANIC_BUG);
    kc_lock(&p->lock);
    if (p->nfree >= KC_POOL_PAGES)
        kc_panic(KC_PANIC_BUG);
    p->free[p->nfree++] = (u16)idx;
    kc_unlock(&p->lock);
}

u64 kc_pool_available(void)
{
    struct kc_pool *p = &kc.pool;
    u64 n;

    kc_lock(&p->lock);
    n = p->nfree + (p->npages - p->next);
    kc_unlock(&p->lock);
    return n;
}

static u64 pool_zalloc(void *arg) { (void)arg; return kc_pool_alloc(); }
static void pool_put(void *arg, u64 pa) { (void)arg; kc_pool_free(pa); }
const struct kc_pgt_ops kc_pool_ops = { .zalloc_page = pool_zalloc, .free_page = pool_put };

void kc_zero_page(u64 pa)
{
    u8 *p = kc_va(pa);
    u64 z = kc.zva_size;

    if (z) {
        for (u64 off = 0; off < KC_PAGE_SIZE; off += z)
            kc_dc_zva(p + off);
        return;
    }
    for (u64 off = 0; off < KC_PAGE_SIZE; off += 8)
        kc_write_once((u64 *)(p + off), 0);
}

void kc_clean_inval_page(u64 pa)
{
    const u8 *p = kc_va(pa);

    for (u64 off = 0; off < KC_PAGE_SIZE; off += kc.line_size)
        kc_dc_civac(p + off);
}

#ifdef KC_TARGET
/* GCC may emit calls to these for struct copies and initialisers. The
 * relaxed atomics keep it from turning the loops back into calls. */
void *memset(void *s, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

void *memset(void *s, int c, unsigned long n)
{
    u8 *p = s;
    for (unsigned long i = 0; i < n; i++)
        __atomic_store_n(&p[i], (u8)c, __ATOMIC_RELAXED);
    return s;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if (!(((uintptr_t)dp | (uintptr_t)sp | n) & 7)) {
        for (unsigned long i = 0; i < n; i += 8)
            kc_write_once((u64 *)(dp + i), kc_read_once((const u64 *)(sp + i)));
        return d;
    }
    for (unsigned long i = 0; i < n; i++)
        __atomic_store_n(&dp[i], __atomic_load_n(&sp[i], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
    return d;
}
#endif
