/*
 * bench/bench_mem.c - throughput of the memory-system model, side by side
 * with a plain access loop measured in the same run.
 *
 * Measures, for the same number of operations over the same address
 * sequence: a plain 8-byte load from a host buffer (memcpy style, the
 * baseline); a cold stage-1 walk (mmu_translate, EL1&0 regime, 3 levels,
 * descriptors read from model/mem, or through the cache); a translation
 * that hits the TLB (tlb_lookup_el10 + mmu_check_perms + PA); bare TLB
 * lookups that hit and that miss; cache_read hits and non-cacheable
 * bypass reads. Prints ns per operation, operations per second and the
 * ratio to the baseline. Timing uses CLOCK_MONOTONIC only.
 * Usage: bench_mem [operations per row, default 2000000]
 * Not a test: numbers vary with the machine; only ratios are comparable.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "mmu/mmu.h"
#include "model/hw/mem.h"
#include "tlb/tlb.h"

#define MEM_SIZE     (256ull << 20)
#define TABLE_BASE   0x00100000ull     /* page tables */
#define DATA_BASE    0x01000000ull     /* 32 MiB of mapped pages */
#define NPAGES       8192u
#define VA_BASE      0x40000000ull     /* VA range: 1 GiB up, 32 MiB */
#define NADDR        4096u             /* address sequence (power of two) */
#define TLB_CAP      64u
#define CACHE_SETS   512u
#define CACHE_WAYS   8u                /* 256 KiB */
#define HOT_BYTES    (64u << 10)       /* cache-hit working set */

struct bench {
    struct mem mem;
    struct cache cache;
    struct tlb tlb;
    struct mmu_ctx ctx;        /* descriptors from memory */
    struct mmu_ctx ctx_cached; /* descriptors through the cache */
    uint64_t va[NADDR];        /* random page VAs, all mapped */
    uint64_t pa_hot[NADDR];    /* PAs inside the hot set */
    uint64_t *plain;           /* baseline buffer */
    uint64_t plain_words;
};

struct row {
    const char *name;
    double ns, base_ns;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_next(uint64_t *s)   /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int read_desc_mem(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    label_t l;
    (void)cacheable;
    return mem_read_word(arg, pa, desc, &l) == MEM_OK ? 0 : 1;
}

static int read_desc_cache(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    label_t l;
    return cache_read(arg, pa, 8, cacheable, desc, &l, NULL) == MEM_OK ? 0 : 1;
}

/* EL1&0, T0SZ 25 (39-bit VAs, start level 1): L1 -> L2 -> 16 L3 tables
 * mapping VA_BASE.. to DATA_BASE.. page by page. */
static int build_tables(struct bench *b)
{
    uint64_t l1 = TABLE_BASE, l2 = TABLE_BASE + 0x1000, l3 = TABLE_BASE + 0x2000;
    uint64_t attrs = MMU_S1_ATTRINDX(0) | MMU_AF | MMU_SH_INNER | MMU_S1_AP_EL0;

    if (mem_write_word(&b->mem, l1 + 8 * (VA_BASE >> 30), mmu_desc_table(l2), LABEL_HYP))
        return -1;
    for (unsigned t = 0; t < NPAGES / 512; t++) {
        uint64_t tbl = l3 + 0x1000ull * t;
        if (mem_write_word(&b->mem, l2 + 8ull * t, mmu_desc_table(tbl), LABEL_HYP))
            return -1;
        for (unsigned i = 0; i < 512; i++) {
            uint64_t pa = DATA_BASE + ((uint64_t)t * 512 + i) * 4096;
            if (mem_write_word(&b->mem, tbl + 8ull * i, mmu_desc_page(pa, attrs), LABEL_HYP))
                return -1;
        }
    }
    memset(&b->ctx, 0, sizeof b->ctx);
    b->ctx.regime = MMU_REGIME_EL10;
    b->ctx.s1.m = true;
    b->ctx.s1.c = true;
    b->ctx.s1.ttbr0 = l1 | (1ull << 48);
    b->ctx.s1.tcr = 25u | (1u << 8) | (1u << 10) | (3u << 12) | (1u << 23) | (2ull << 30) | (5ull << 32);
    b->ctx.s1.mair = 0xff;
    b->ctx_cached = b->ctx;
    b->ctx.ops.read_desc = read_desc_mem;
    b->ctx.ops.arg = &b->mem;
    b->ctx_cached.ops.read_desc = read_desc_cache;
    b->ctx_cached.ops.arg = &b->cache;
    return 0;
}

/* The baseline: the same count of 8-byte loads from a plain buffer,
 * indexed by the same address sequence. */
static uint64_t run_plain(const struct bench *b, const uint64_t *addr, uint64_t n)
{
    uint64_t acc = 0, mask = b->plain_words - 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, &b->plain[(addr[i & (NADDR - 1)] >> 3) & mask], 8);
        acc += v;
    }
    return acc;
}

enum op { OP_WALK, OP_WALK_CACHED, OP_TLB_TRANSLATE, OP_TLB_HIT, OP_TLB_MISS,
          OP_CACHE_HIT, OP_CACHE_BYPASS, OP_COUNT };

static const char *const op_name[OP_COUNT] = {
    "walk, cold (mmu_translate, 3 levels, mem)",
    "walk, cold (descriptors via cache)",
    "translate, TLB hit (lookup+perms+PA)",
    "tlb_lookup_el10, hit (64 entries)",
    "tlb_lookup_el10, miss (64 entries)",
    "cache_read, hit",
    "cache_read, bypass (non-cacheable)",
};

/* Run n operations of kind op; returns a value depending on every result
 * (so nothing is optimized away) or UINT64_MAX on an unexpected outcome. */
static uint64_t run_op(struct bench *b, enum op op, uint64_t n)
{
    uint64_t acc = 0;
    struct mmu_result r;
    struct mmu_fault f;
    struct mmu_fault pf;

    for (uint64_t i = 0; i < n; i++) {
        uint64_t va = b->va[i & (NADDR - 1)];
        switch (op) {
        case OP_WALK:
            if (mmu_translate(&b->ctx, va, MMU_ACC_READ, false, &r, &f) != 0)
                return UINT64_MAX;
            acc += r.pa;
            break;
        case OP_WALK_CACHED:
            if (mmu_translate(&b->ctx_cached, va, MMU_ACC_READ, false, &r, &f) != 0)
                return UINT64_MAX;
            acc += r.pa;
            break;
        case OP_TLB_TRANSLATE:
        case OP_TLB_HIT: {
            /* the first TLB_CAP addresses are the ones filled */
            uint64_t hva = b->va[i & (TLB_CAP - 1)] + ((i * 8) & 0xff8);
            struct tlb_entry *e = tlb_lookup_el10(&b->tlb, 0, 1, hva);
            if (!e)
                return UINT64_MAX;
            if (op == OP_TLB_TRANSLATE) {
                if (mmu_check_perms(&e->r, MMU_ACC_READ, false, &pf) != 0)
                    return UINT64_MAX;
                acc += (e->r.pa & ~((1ull << e->shift) - 1)) | (hva & ((1ull << e->shift) - 1));
            } else {
                acc += e->in_base;
            }
            break;
        }
        case OP_TLB_MISS:
            if (tlb_lookup_el10(&b->tlb, 0, 1, va + (64ull << 20)) != NULL)
                return UINT64_MAX;
            acc++;
            break;
        case OP_CACHE_HIT:
        case OP_CACHE_BYPASS: {
            uint64_t v;
            label_t l;
            enum cache_outcome o;
            bool c = op == OP_CACHE_HIT;
            if (cache_read(&b->cache, b->pa_hot[i & (NADDR - 1)], 8, c, &v, &l, &o) != MEM_OK ||
                o != (c ? CACHE_HIT : CACHE_BYPASS))
                return UINT64_MAX;
            acc += v;
            break;
        }
        case OP_COUNT:
            break;
        }
    }
    return acc;
}

static double time_plain(const struct bench *b, const uint64_t *addr, uint64_t n,
                         volatile uint64_t *sink)
{
    double t0 = now_s();
    *sink += run_plain(b, addr, n);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    uint64_t n = argc > 1 ? strtoull(argv[1], &end, 10) : 2000000u;
    static struct bench b;          /* large; zero-initialized */
    volatile uint64_t sink = 0;
    uint64_t seed = 0x62656e6368ull;
    int rc = 3;

    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: bench_mem [OPERATIONS]  (default 2000000 per measurement)\n");
        return 0;
    }
    if (argc > 2 || n == 0 || (end && *end) || (argc > 1 && argv[1][0] == '-')) {
        fprintf(stderr, "bench_mem: usage: bench_mem [OPERATIONS] (a positive count)\n");
        return 2;
    }
    if (mem_init(&b.mem, MEM_SIZE) != MEM_OK ||
        cache_init(&b.cache, &b.mem, CACHE_SETS, CACHE_WAYS) != MEM_OK ||
        tlb_init(&b.tlb, TLB_CAP) != 0 || build_tables(&b) != 0) {
        fprintf(stderr, "bench_mem: setup failed\n");
        goto out;
    }
    /* Data pages, the hot set and the baseline buffer. */
    for (uint64_t pa = 0; pa < HOT_BYTES; pa += 8)
        mem_write_word(&b.mem, DATA_BASE + pa, pa, LABEL_HOST);
    b.plain_words = (uint64_t)NPAGES * 4096 / 8;   /* as large as the mapped data */
    b.plain = calloc(b.plain_words, 8);
    if (!b.plain)
        goto out;
    for (uint64_t i = 0; i < b.plain_words; i++)
        b.plain[i] = i;
    for (unsigned i = 0; i < NADDR; i++) {
        uint64_t r = rng_next(&seed);
        b.va[i] = VA_BASE + (r % NPAGES) * 4096 + ((r >> 32) & 0xff8);
        b.pa_hot[i] = DATA_BASE + ((r >> 20) % HOT_BYTES & ~7ull);
    }
    /* TLB: the first TLB_CAP VAs (distinct pages), filled from real walks. */
    for (unsigned i = 0; i < TLB_CAP; i++) {
        struct mmu_result r;
        struct mmu_fault f;
        b.va[i] = VA_BASE + (uint64_t)i * 4096 * 97 % ((uint64_t)NPAGES * 4096);
        if (mmu_translate(&b.ctx, b.va[i], MMU_ACC_READ, false, &r, &f) != 0 ||
            tlb_fill(&b.tlb, MMU_REGIME_EL10, TLB_KIND_S1, &r, -1) < 0) {
            fprintf(stderr, "bench_mem: TLB fill failed\n");
            goto out;
        }
    }
    /* Warm the cache with the hot set and the page-table lines. */
    for (uint64_t pa = 0; pa < HOT_BYTES; pa += CACHE_LINE_SIZE)
        cache_read(&b.cache, DATA_BASE + pa, 8, true, NULL, NULL, NULL);

    /* Let the clock frequency settle before the first timed row. */
    for (int i = 0; i < 4; i++)
        sink += run_plain(&b, b.va, n);

    struct row rows[OP_COUNT];
    for (int op = 0; op < OP_COUNT; op++) {
        const uint64_t *addr = (op == OP_CACHE_HIT || op == OP_CACHE_BYPASS) ? b.pa_hot : b.va;
        uint64_t v;
        double base, t, t0;

        run_op(&b, (enum op)op, n / 16 + 1);          /* warm-up */
        run_plain(&b, addr, n / 16 + 1);
        base = time_plain(&b, addr, n, &sink);
        t0 = now_s();
        v = run_op(&b, (enum op)op, n);
        t = now_s() - t0;
        if (v == UINT64_MAX) {
            fprintf(stderr, "bench_mem: %s: unexpected outcome\n", op_name[op]);
            goto out;
        }
        sink += v;
        /* baseline again after, averaged, to damp drift */
        base = (base + time_plain(&b, addr, n, &sink)) / 2;
        rows[op].name = op_name[op];
        rows[op].ns = t * 1e9 / (double)n;
        rows[op].base_ns = base * 1e9 / (double)n;
    }

    printf("bench_mem: %" PRIu64 " operations per row; plain = memcpy-style 8-byte load "
           "from a host buffer, same address sequence, same run\n", n);
    printf("%-44s %10s %12s %10s %9s\n", "operation", "ns/op", "ops/s", "plain ns", "x plain");
    for (int op = 0; op < OP_COUNT; op++)
        printf("%-44s %10.1f %12.3g %10.2f %9.1f\n", rows[op].name, rows[op].ns,
               1e9 / rows[op].ns, rows[op].base_ns,
               rows[op].base_ns > 0 ? rows[op].ns / rows[op].base_ns : 0.0);
    printf("(cache: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " bypasses; checksum %#" PRIx64 ")\n",
           b.cache.stats.hits, b.cache.stats.misses, b.cache.stats.bypasses, (uint64_t)sink);
    rc = 0;
out:
    free(b.plain);
    tlb_free(&b.tlb);
    cache_free(&b.cache);
    mem_free(&b.mem);
    return rc;
}
