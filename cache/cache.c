/*
 * cache/cache.c - one coherent write-back data cache with non-cacheable bypass.
 *
 * Models: what cache.h describes. A line is found by set index
 * (pa >> CACHE_LINE_SHIFT) & (sets - 1) and a full-address match. Cacheable
 * reads and writes allocate (write-allocate, write-back); the victim is an
 * invalid way if the set has one (lowest way first), else the way with the
 * smallest last-use tick (lowest way on a tie, which cannot happen since
 * ticks are unique). The tick advances on every cacheable access and every
 * DC ZVA; bypasses, maintenance and coherent reads do not touch it.
 *
 * Statistics: hits/misses count cacheable accesses and DC ZVA; bypasses count
 * non-cacheable accesses; evictions count valid lines removed by replacement
 * or by cache_evict_index/cache_evict_pa (not DC invalidation or
 * cache_flush_all); writebacks count every dirty line written to memory, for
 * whatever reason.
 *
 * If memory cannot take a write-back (host allocation failure), the line is
 * kept valid and dirty so no data is lost; the operation reports MEM_ENOMEM
 * where it returns a status and is a no-op otherwise.
 * Argument checks come first (MEM_EINVAL), then the range (MEM_EABORT), as
 * in model/hw/mem.c.
 * Leaves out: what cache.h leaves out.
 */
#include "cache/cache.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME  0x100000001b3ull

static uint64_t line_base(uint64_t pa) { return pa & ~(uint64_t)(CACHE_LINE_SIZE - 1); }
static unsigned line_word(uint64_t pa) { return (unsigned)((pa & (CACHE_LINE_SIZE - 1)) >> 3); }
static unsigned set_of(const struct cache *c, uint64_t pa)
{
    return (unsigned)((pa >> CACHE_LINE_SHIFT) & (c->sets - 1));
}

static bool access_ok(uint64_t pa, unsigned size)
{
    return (size == 1 || size == 2 || size == 4 || size == 8) && (pa & 7) + size <= 8;
}

static uint64_t bytes_mask(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static int find_index(const struct cache *c, uint64_t pa)
{
    unsigned base = set_of(c, pa) * c->ways;
    uint64_t lpa = line_base(pa);

    for (unsigned w = 0; w < c->ways; w++) {
        const struct cache_line *l = &c->line[base + w];

        if (l->valid && l->pa == lpa)
            return (int)(base + w);
    }
    return -1;
}

/* Write a dirty line back to memory and mark it clean. */
static int line_clean(struct cache *c, struct cache_line *l)
{
    int rc;

    if (!l->valid || !l->dirty)
        return MEM_OK;
    rc = mem_write_words(c->mem, l->pa, l->word, l->label, CACHE_LINE_WORDS);
    if (rc != MEM_OK)
        return rc;
    l->dirty = false;
    c->stats.writebacks++;
    return MEM_OK;
}

static void line_invalidate(struct cache *c, struct cache_line *l)
{
    if (!l->valid)
        return;
    memset(l, 0, sizeof(*l));
    c->valid_lines--;
}

/* Clean then invalidate; on a failed write-back the line stays. */
static int line_evict(struct cache *c, struct cache_line *l)
{
    int rc = line_clean(c, l);

    if (rc == MEM_OK)
        line_invalidate(c, l);
    return rc;
}

/* Make way for line_base(pa) in its set and return the (now invalid) way. */
static int victim_take(struct cache *c, uint64_t pa, struct cache_line **out)
{
    struct cache_line *set = &c->line[set_of(c, pa) * c->ways];
    struct cache_line *v = NULL;
    int rc;

    for (unsigned w = 0; w < c->ways; w++) {
        if (!set[w].valid) {
            *out = &set[w];
            return MEM_OK;
        }
        if (!v || set[w].lru < v->lru)
            v = &set[w];
    }
    rc = line_evict(c, v);
    if (rc != MEM_OK)
        return rc;
    c->stats.evictions++;
    *out = v;
    return MEM_OK;
}

/* The line holding pa for a cacheable access: hit, or fill from memory
 * (fill == false: install without reading memory, for a whole-line write).
 * pa has been range-checked. */
static int line_get(struct cache *c, uint64_t pa, bool fill, struct cache_line **out,
                    enum cache_outcome *outcome)
{
    int idx = find_index(c, pa);
    struct cache_line *l;
    int rc;

    if (idx >= 0) {
        l = &c->line[idx];
        c->stats.hits++;
        *outcome = CACHE_HIT;
    } else {
        rc = victim_take(c, pa, &l);
        if (rc != MEM_OK)
            return rc;
        if (fill) {
            rc = mem_read_words(c->mem, line_base(pa), l->word, l->label, CACHE_LINE_WORDS);
            if (rc != MEM_OK)
                return rc;
        }
        l->valid = true;
        l->dirty = false;
        l->pa = line_base(pa);
        c->valid_lines++;
        c->stats.misses++;
        *outcome = CACHE_MISS;
    }
    l->lru = ++c->tick;
    *out = l;
    return MEM_OK;
}

int cache_init(struct cache *c, struct mem *mem, unsigned sets, unsigned ways)
{
    memset(c, 0, sizeof(*c));
    if (!mem || sets == 0 || (sets & (sets - 1)) || ways == 0 || sets > INT_MAX / ways)
        return MEM_EINVAL;
    c->line = calloc((size_t)sets * ways, sizeof(struct cache_line));
    if (!c->line)
        return MEM_ENOMEM;
    c->mem = mem;
    c->sets = sets;
    c->ways = ways;
    return MEM_OK;
}

void cache_free(struct cache *c)
{
    if (!c)
        return;
    free(c->line);
    memset(c, 0, sizeof(*c));
}

int cache_clone(struct cache *dst, const struct cache *src, struct mem *mem)
{
    int rc = cache_init(dst, mem, src->sets, src->ways);

    if (rc != MEM_OK)
        return rc;
    memcpy(dst->line, src->line, (size_t)src->sets * src->ways * sizeof(struct cache_line));
    dst->tick = src->tick;
    dst->valid_lines = src->valid_lines;
    dst->stats = src->stats;
    return MEM_OK;
}

/* The `size` bytes at pa from a line holding it, with the word's label. */
static void line_read(const struct cache_line *l, uint64_t pa, unsigned size,
                      uint64_t *val, label_t *label)
{
    if (val)
        *val = (l->word[line_word(pa)] >> (8 * (pa & 7))) & bytes_mask(size);
    if (label)
        *label = l->label[line_word(pa)];
}

int cache_read(struct cache *c, uint64_t pa, unsigned size, bool cacheable,
               uint64_t *val, label_t *label, enum cache_outcome *out)
{
    struct cache_line *l;
    enum cache_outcome o;
    int rc;

    if (!access_ok(pa, size))
        return MEM_EINVAL;
    if (!mem_in_range(c->mem, pa, size))
        return MEM_EABORT;
    if (!cacheable) {
        rc = mem_read(c->mem, pa, size, val, label);
        if (rc != MEM_OK)
            return rc;
        c->stats.bypasses++;
        o = CACHE_BYPASS;
    } else {
        rc = line_get(c, pa, true, &l, &o);
        if (rc != MEM_OK)
            return rc;
        line_read(l, pa, size, val, label);
    }
    if (out)
        *out = o;
    return MEM_OK;
}

int cache_write(struct cache *c, uint64_t pa, unsigned size, bool cacheable,
                uint64_t val, label_t label, enum cache_outcome *out)
{
    struct cache_line *l;
    enum cache_outcome o;
    uint64_t mask;
    unsigned shift = (unsigned)(8 * (pa & 7));
    int rc;

    if (!access_ok(pa, size))
        return MEM_EINVAL;
    if (!mem_in_range(c->mem, pa, size))
        return MEM_EABORT;
    if (!cacheable) {
        /* Mismatched attributes (Arm ARM B2.8): memory only, line untouched. */
        rc = mem_write(c->mem, pa, size, val, label);
        if (rc != MEM_OK)
            return rc;
        c->stats.bypasses++;
        o = CACHE_BYPASS;
    } else {
        rc = line_get(c, pa, true, &l, &o);
        if (rc != MEM_OK)
            return rc;
        mask = bytes_mask(size) << shift;
        l->word[line_word(pa)] = (l->word[line_word(pa)] & ~mask) | ((val << shift) & mask);
        l->label[line_word(pa)] = label;
        l->dirty = true;
    }
    if (out)
        *out = o;
    return MEM_OK;
}

int cache_read_coherent(const struct cache *c, uint64_t pa, unsigned size,
                        uint64_t *val, label_t *label)
{
    int idx;

    if (!access_ok(pa, size))
        return MEM_EINVAL;
    if (!mem_in_range(c->mem, pa, size))
        return MEM_EABORT;
    idx = find_index(c, pa);
    if (idx < 0)
        return mem_read(c->mem, pa, size, val, label);
    line_read(&c->line[idx], pa, size, val, label);
    return MEM_OK;
}

uint64_t cache_coherent_word(const struct cache *c, uint64_t pa)
{
    uint64_t v = 0;

    if (cache_read_coherent(c, pa & ~7ull, 8, &v, NULL) != MEM_OK)
        return 0;
    return v;
}

int cache_read_words_coherent(const struct cache *c, uint64_t pa, uint64_t *val,
                              label_t *label, unsigned n)
{
    uint64_t end = pa + 8ull * n;
    int rc = mem_read_words(c->mem, pa, val, label, n);

    if (rc != MEM_OK)
        return rc;
    for (uint64_t line = pa & ~(uint64_t)(CACHE_LINE_SIZE - 1); line < end; line += CACHE_LINE_SIZE) {
        int idx = find_index(c, line);
        if (idx < 0)
            continue;
        for (unsigned w = 0; w < CACHE_LINE_WORDS; w++) {
            uint64_t a = line + 8ull * w;
            if (a < pa || a >= end)
                continue;
            val[(a - pa) / 8] = c->line[idx].word[w];
            if (label)
                label[(a - pa) / 8] = c->line[idx].label[w];
        }
    }
    return MEM_OK;
}

const struct cache_line *cache_find(const struct cache *c, uint64_t pa)
{
    int idx = find_index(c, pa);

    return idx < 0 ? NULL : &c->line[idx];
}

void cache_evict_index(struct cache *c, unsigned idx)
{
    if (idx >= c->sets * c->ways || !c->line[idx].valid)
        return;
    if (line_evict(c, &c->line[idx]) == MEM_OK)
        c->stats.evictions++;
}

void cache_evict_pa(struct cache *c, uint64_t pa)
{
    int idx = find_index(c, pa);

    if (idx >= 0)
        cache_evict_index(c, (unsigned)idx);
}

int cache_nth_valid(const struct cache *c, unsigned n)
{
    unsigned total = c->sets * c->ways;

    for (unsigned i = 0; i < total; i++)
        if (c->line[i].valid && n-- == 0)
            return (int)i;
    return -1;
}

int cache_dc(struct cache *c, enum dc_op op, uint64_t pa, label_t label)
{
    struct cache_line *l;
    enum cache_outcome o;
    int idx, rc;

    if (op == DC_ZVA)
        pa &= ~(uint64_t)(CACHE_ZVA_SIZE - 1);
    if (!mem_in_range(c->mem, line_base(pa), CACHE_LINE_SIZE))
        return MEM_EABORT;
    idx = find_index(c, pa);
    switch (op) {
    case DC_CVAC:
        return idx < 0 ? MEM_OK : line_clean(c, &c->line[idx]);
    case DC_CIVAC:
        return idx < 0 ? MEM_OK : line_evict(c, &c->line[idx]);
    case DC_IVAC:
        if (idx >= 0)
            line_invalidate(c, &c->line[idx]);
        return MEM_OK;
    case DC_ZVA:
        /* CACHE_ZVA_SIZE == CACHE_LINE_SIZE: the block is one whole line,
         * so a miss installs it without reading memory. */
        rc = line_get(c, pa, false, &l, &o);
        if (rc != MEM_OK)
            return rc;
        memset(l->word, 0, sizeof(l->word));
        for (unsigned i = 0; i < CACHE_LINE_WORDS; i++)
            l->label[i] = label;
        l->dirty = true;
        return MEM_OK;
    }
    return MEM_EINVAL;
}

void cache_flush_all(struct cache *c)
{
    unsigned total = c->sets * c->ways;

    for (unsigned i = 0; i < total; i++)
        (void)line_evict(c, &c->line[i]);
}

static uint64_t fnv_bytes(uint64_t h, uint64_t v, unsigned nbytes)
{
    for (unsigned i = 0; i < nbytes; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= FNV64_PRIME;
    }
    return h;
}

/* Rank of a valid line's last use among the valid lines of its set (0 =
 * least recent): the part of the LRU state that decides future victims,
 * independent of the absolute tick. */
static unsigned lru_rank(const struct cache *c, unsigned idx)
{
    const struct cache_line *set = &c->line[idx / c->ways * c->ways];
    unsigned rank = 0;

    for (unsigned w = 0; w < c->ways; w++)
        if (set[w].valid && set[w].lru < c->line[idx].lru)
            rank++;
    return rank;
}

/* FNV-1a 64, little-endian byte stream per valid line: index (4), pa (8),
 * dirty (1), LRU rank in its set (4), then each word (8) and its label (2). */
uint64_t cache_hash(const struct cache *c)
{
    unsigned total = c->sets * c->ways;
    uint64_t h = FNV64_OFFSET;

    for (unsigned i = 0; i < total; i++) {
        const struct cache_line *l = &c->line[i];

        if (!l->valid)
            continue;
        h = fnv_bytes(h, i, 4);
        h = fnv_bytes(h, l->pa, 8);
        h = fnv_bytes(h, l->dirty, 1);
        h = fnv_bytes(h, lru_rank(c, i), 4);
        for (unsigned w = 0; w < CACHE_LINE_WORDS; w++) {
            h = fnv_bytes(h, l->word[w], 8);
            h = fnv_bytes(h, l->label[w], 2);
        }
    }
    return h;
}
