/*
 * cache/cache.h - one coherent write-back data cache with non-cacheable bypass.
 *
 * Models: the whole coherent data-cache hierarchy of the machine as one
 * set-associative cache of 64-byte lines (a coherent hierarchy is
 * observationally one cache). Lines hold data and the per-word labels.
 * Cacheable accesses hit or fill; non-cacheable accesses go straight to
 * memory and ignore the cache, so a non-cacheable read under a dirty line
 * sees the stale memory value. A non-cacheable write under a valid line
 * updates memory only and leaves the line as it is: Arm ARM B2.8
 * ("mismatched memory attributes") permits the loss of coherence, and this
 * is the most adversarial choice the architecture allows (a later eviction
 * of a dirty line overwrites the non-cacheable write).
 * Leaves out: instruction caches, cache sizes visible to software (CTR_EL0
 * apart from the DC ZVA block size), shareability domains.
 */
#ifndef HYPSIM_CACHE_H
#define HYPSIM_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include "model/hw/mem.h"

#define CACHE_LINE_SHIFT 6
#define CACHE_LINE_SIZE  (1u << CACHE_LINE_SHIFT)
#define CACHE_LINE_WORDS (CACHE_LINE_SIZE / 8)
#define CACHE_ZVA_SIZE   64u       /* DC ZVA block: DCZID_EL0.BS = 4 (64 B) */

struct cache_line {
    bool valid;
    bool dirty;
    uint64_t pa;                   /* line-aligned physical address */
    uint64_t lru;                  /* last-use tick, for the victim policy */
    uint64_t word[CACHE_LINE_WORDS];
    label_t  label[CACHE_LINE_WORDS];
};

struct cache_stats {
    uint64_t hits, misses, bypasses, evictions, writebacks;
};

struct cache {
    struct mem *mem;
    unsigned sets, ways;           /* sets must be a power of two */
    struct cache_line *line;       /* sets * ways, set-major */
    uint64_t tick;
    unsigned valid_lines;
    struct cache_stats stats;
};

enum cache_outcome { CACHE_HIT, CACHE_MISS, CACHE_BYPASS };

enum dc_op {
    DC_CVAC,    /* clean to the point of coherency */
    DC_CIVAC,   /* clean and invalidate */
    DC_IVAC,    /* invalidate: dirty data is discarded */
    DC_ZVA,     /* zero a CACHE_ZVA_SIZE block through the cache */
};

/* Set up an empty cache over `mem`. sets a power of two, ways >= 1.
 * Returns MEM_OK, MEM_EINVAL or MEM_ENOMEM. */
int cache_init(struct cache *c, struct mem *mem, unsigned sets, unsigned ways);
void cache_free(struct cache *c);
int cache_clone(struct cache *dst, const struct cache *src, struct mem *mem);

/* Read/write `size` bytes (1,2,4,8; must not cross an 8-byte word).
 * cacheable: hit, or fill (evicting the LRU way of the set, written back if
 * dirty). !cacheable: bypass to memory. `out` (may be NULL) says which.
 * Returns MEM_OK, MEM_EABORT (no fill happens) or MEM_EINVAL. */
int cache_read(struct cache *c, uint64_t pa, unsigned size, bool cacheable,
               uint64_t *val, label_t *label, enum cache_outcome *out);
int cache_write(struct cache *c, uint64_t pa, unsigned size, bool cacheable,
                uint64_t val, label_t label, enum cache_outcome *out);

/* The coherent view (what the flat layer L1 sees): the cached line if one is
 * valid, else memory. Changes nothing. */
int cache_read_coherent(const struct cache *c, uint64_t pa, unsigned size,
                        uint64_t *val, label_t *label);

/* The aligned 8-byte word holding pa in the coherent view; 0 outside
 * memory. Changes nothing. */
uint64_t cache_coherent_word(const struct cache *c, uint64_t pa);

/* n aligned words of the coherent view from pa (8-aligned): memory overlaid
 * with the valid lines, one line lookup per line instead of per word.
 * label may be NULL. Changes nothing. */
int cache_read_words_coherent(const struct cache *c, uint64_t pa, uint64_t *val,
                              label_t *label, unsigned n);

/* Find the line holding `pa`, or NULL. */
const struct cache_line *cache_find(const struct cache *c, uint64_t pa);

/* Evict line `idx` (0 .. sets*ways-1); writes back if dirty. No-op on an
 * invalid line. Used by the scheduler to drive evictions. */
void cache_evict_index(struct cache *c, unsigned idx);
/* Evict the line holding pa, if any. */
void cache_evict_pa(struct cache *c, uint64_t pa);
/* The n-th valid line's index (n < valid_lines), for the scheduler. */
int cache_nth_valid(const struct cache *c, unsigned n);

/* Data-cache maintenance by physical address (after translation). For
 * DC_ZVA, pa is aligned down to CACHE_ZVA_SIZE and the block is zeroed with
 * `label` through the cache (allocating the line). Returns MEM_OK or
 * MEM_EABORT. */
int cache_dc(struct cache *c, enum dc_op op, uint64_t pa, label_t label);

/* Clean and invalidate every line (e.g. at boot / for tests). */
void cache_flush_all(struct cache *c);

/* Hash of the cache contents (valid lines in index order). */
uint64_t cache_hash(const struct cache *c);

#endif
