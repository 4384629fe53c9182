/*
 * tests/unit/test_cache.c - CMocka unit tests for cache/ (coherent write-back
 * data cache with non-cacheable bypass and DC maintenance).
 *
 * Checks the cache.h contract: hit/fill/LRU eviction with write-back, labels
 * travelling with data, the bypass that sees stale memory under a dirty line
 * and leaves lines untouched on a write (Arm ARM B2.8, mismatched memory
 * attributes), DC CVAC/CIVAC/IVAC/ZVA (Arm ARM D7.4 / C5.3 "DC"), the
 * coherent view, scheduler-driven evictions, clones and hashes. Every test
 * also checks that valid_lines matches the lines actually valid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cache/cache.h"

#define MiB (1ull << 20)
#define SETS 4u
#define WAYS 2u
/* Addresses SET_STRIDE apart map to the same set. */
#define SET_STRIDE ((uint64_t)SETS * CACHE_LINE_SIZE)

struct fix {
    struct mem mem;
    struct cache c;
};

static int setup(void **state)
{
    struct fix *f = test_malloc(sizeof(*f));

    if (mem_init(&f->mem, MiB) != MEM_OK) {
        test_free(f);
        return -1;
    }
    if (cache_init(&f->c, &f->mem, SETS, WAYS) != MEM_OK) {
        mem_free(&f->mem);
        test_free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    cache_free(&f->c);
    mem_free(&f->mem);
    test_free(f);
    return 0;
}

/* valid_lines must equal the number of lines with valid set. */
static void check_valid_lines(const struct cache *c)
{
    unsigned n = 0;

    for (unsigned i = 0; i < c->sets * c->ways; i++)
        n += c->line[i].valid;
    assert_int_equal(c->valid_lines, n);
}

static uint64_t mem_val(const struct mem *m, uint64_t pa, label_t *l)
{
    uint64_t v;

    assert_int_equal(mem_read_word(m, pa, &v, l), MEM_OK);
    return v;
}

/* ---- cache_init / cache_free ---- */

static void test_cache_init_rejects_bad_geometry(void **state)
{
    struct mem m;
    struct cache c;

    (void)state;
    assert_int_equal(mem_init(&m, MiB), MEM_OK);
    /* cache.h: sets must be a power of two, ways >= 1. */
    assert_int_equal(cache_init(&c, &m, 0, 2), MEM_EINVAL);
    assert_int_equal(cache_init(&c, &m, 3, 2), MEM_EINVAL);
    assert_int_equal(cache_init(&c, &m, 4, 0), MEM_EINVAL);
    assert_int_equal(cache_init(&c, NULL, 4, 2), MEM_EINVAL);
    cache_free(&c); /* safe after a failed init */
    mem_free(&m);
}

static void test_cache_init_starts_empty(void **state)
{
    struct fix *f = *state;

    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(f->c.tick, 0);
    assert_int_equal(f->c.stats.hits + f->c.stats.misses + f->c.stats.evictions, 0);
    assert_int_equal(cache_nth_valid(&f->c, 0), -1);
    assert_null(cache_find(&f->c, 0));
}

static void test_cache_init_one_set_one_way(void **state)
{
    struct mem m;
    struct cache c;
    enum cache_outcome o;

    (void)state;
    assert_int_equal(mem_init(&m, MiB), MEM_OK);
    assert_int_equal(cache_init(&c, &m, 1, 1), MEM_OK);
    assert_int_equal(cache_read(&c, 0x0, 8, true, NULL, NULL, &o), MEM_OK);
    assert_int_equal(cache_read(&c, 0x40, 8, true, NULL, NULL, &o), MEM_OK);
    /* A single line: the second fill evicts the first. */
    assert_null(cache_find(&c, 0x0));
    assert_non_null(cache_find(&c, 0x40));
    assert_int_equal(c.stats.evictions, 1);
    check_valid_lines(&c);
    cache_free(&c);
    mem_free(&m);
}

/* ---- cache_read / cache_write, cacheable ---- */

static void test_cache_read_miss_then_hit(void **state)
{
    struct fix *f = *state;
    enum cache_outcome o;
    uint64_t v;

    assert_int_equal(mem_write_word(&f->mem, 0x1008, 0xabc, LABEL_HOST), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0x1008, 8, true, &v, NULL, &o), MEM_OK);
    assert_int_equal(o, CACHE_MISS);
    assert_int_equal(v, 0xabc);
    assert_int_equal(cache_read(&f->c, 0x1000, 8, true, &v, NULL, &o), MEM_OK);
    assert_int_equal(o, CACHE_HIT); /* same 64-byte line */
    assert_int_equal(f->c.stats.misses, 1);
    assert_int_equal(f->c.stats.hits, 1);
    assert_int_equal(f->c.valid_lines, 1);
    check_valid_lines(&f->c);
}

static void test_cache_read_fill_carries_labels(void **state)
{
    struct fix *f = *state;
    const struct cache_line *l;
    label_t lab;

    assert_int_equal(mem_write_word(&f->mem, 0x2000, 1, LABEL_VM(0)), MEM_OK);
    assert_int_equal(mem_write_word(&f->mem, 0x2038, 2, LABEL_VM(1)), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0x2038, 4, true, NULL, &lab, NULL), MEM_OK);
    /* Labels travel with data on a fill: every word of the line keeps its own. */
    assert_int_equal(lab, LABEL_VM(1));
    l = cache_find(&f->c, 0x2000);
    assert_non_null(l);
    assert_int_equal(l->pa, 0x2000);
    assert_int_equal(l->label[0], LABEL_VM(0));
    assert_int_equal(l->label[1], LABEL_NONE);
    assert_int_equal(l->label[7], LABEL_VM(1));
    assert_false(l->dirty);
}

static void test_cache_write_is_write_back(void **state)
{
    struct fix *f = *state;
    enum cache_outcome o;
    label_t lab;
    uint64_t v;

    assert_int_equal(mem_write_word(&f->mem, 0x3000, 5, LABEL_HOST), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x3000, 8, true, 6, LABEL_VM(0), &o), MEM_OK);
    assert_int_equal(o, CACHE_MISS); /* write-allocate */
    /* Write-back: memory keeps the old value and label until the line leaves. */
    assert_int_equal(mem_val(&f->mem, 0x3000, &lab), 5);
    assert_int_equal(lab, LABEL_HOST);
    assert_true(cache_find(&f->c, 0x3000)->dirty);
    assert_int_equal(cache_read(&f->c, 0x3000, 8, true, &v, &lab, &o), MEM_OK);
    assert_int_equal(o, CACHE_HIT);
    assert_int_equal(v, 6);
    assert_int_equal(lab, LABEL_VM(0));
}

static void test_cache_write_partial_merges_with_filled_line(void **state)
{
    struct fix *f = *state;
    uint64_t v;
    label_t lab;

    assert_int_equal(mem_write_word(&f->mem, 0x3040, 0x8877665544332211ull, LABEL_VM(2)), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x3042, 2, true, 0xbeef, LABEL_HOST, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0x3040, 8, true, &v, &lab, NULL), MEM_OK);
    /* The fill brought the rest of the word; the partial write gives the whole
     * word the writer's label (mem.h rule, applied to lines as well). */
    assert_int_equal(v, 0x88776655beef2211ull);
    assert_int_equal(lab, LABEL_HOST);
}

static void test_cache_read_sub_word_sizes(void **state)
{
    struct fix *f = *state;
    uint64_t v;

    assert_int_equal(cache_write(&f->c, 0x100, 8, true, 0x8877665544332211ull, LABEL_HOST, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0x107, 1, true, &v, NULL, NULL), MEM_OK);
    assert_int_equal(v, 0x88);
    assert_int_equal(cache_read(&f->c, 0x102, 2, true, &v, NULL, NULL), MEM_OK);
    assert_int_equal(v, 0x4433);
    assert_int_equal(cache_read(&f->c, 0x103, 4, true, &v, NULL, NULL), MEM_OK);
    assert_int_equal(v, 0x77665544);
}

static void test_cache_read_size_3_is_einval(void **state)
{
    struct fix *f = *state;
    uint64_t v = 1;

    assert_int_equal(cache_read(&f->c, 0x100, 3, true, &v, NULL, NULL), MEM_EINVAL);
    assert_int_equal(cache_read(&f->c, 0x100, 0, false, &v, NULL, NULL), MEM_EINVAL);
    assert_int_equal(v, 1);
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(f->c.stats.misses + f->c.stats.bypasses, 0);
}

static void test_cache_write_crossing_word_is_einval(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_write(&f->c, 0x106, 4, true, 1, LABEL_HOST, NULL), MEM_EINVAL);
    assert_int_equal(cache_write(&f->c, 0x101, 8, false, 1, LABEL_HOST, NULL), MEM_EINVAL);
    assert_int_equal(cache_write(&f->c, 0x100, 5, true, 1, LABEL_HOST, NULL), MEM_EINVAL);
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(f->mem.allocated, 0);
}

static void test_cache_read_out_of_range_is_eabort_without_fill(void **state)
{
    struct fix *f = *state;
    enum cache_outcome o = CACHE_HIT;

    assert_int_equal(cache_read(&f->c, MiB, 8, true, NULL, NULL, &o), MEM_EABORT);
    assert_int_equal(cache_read(&f->c, UINT64_MAX - 7, 8, true, NULL, NULL, &o), MEM_EABORT);
    /* cache.h: an external abort does not fill. */
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(f->c.stats.misses, 0);
    assert_int_equal(f->c.tick, 0);
    assert_int_equal(o, CACHE_HIT); /* outcome untouched on failure */
}

static void test_cache_write_out_of_range_is_eabort(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_write(&f->c, MiB + 8, 8, true, 1, LABEL_HOST, NULL), MEM_EABORT);
    assert_int_equal(cache_write(&f->c, MiB + 8, 8, false, 1, LABEL_HOST, NULL), MEM_EABORT);
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(f->mem.allocated, 0);
}

static void test_cache_read_last_line_in_range(void **state)
{
    struct fix *f = *state;
    uint64_t v;

    assert_int_equal(cache_write(&f->c, MiB - 8, 8, true, 42, LABEL_HOST, NULL), MEM_OK);
    cache_flush_all(&f->c);
    assert_int_equal(cache_read(&f->c, MiB - 1, 1, true, &v, NULL, NULL), MEM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(mem_val(&f->mem, MiB - 8, NULL), 42);
}

/* ---- LRU replacement and eviction ---- */

static void test_cache_read_lru_victim_in_full_set(void **state)
{
    struct fix *f = *state;
    uint64_t a = 0x0, b = a + SET_STRIDE, cc = a + 2 * SET_STRIDE;

    assert_int_equal(cache_read(&f->c, a, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, b, 8, true, NULL, NULL, NULL), MEM_OK);
    /* Touch a: b becomes least recently used. */
    assert_int_equal(cache_read(&f->c, a, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, cc, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_non_null(cache_find(&f->c, a));
    assert_null(cache_find(&f->c, b)); /* LRU way was the victim */
    assert_non_null(cache_find(&f->c, cc));
    assert_int_equal(f->c.stats.evictions, 1);
    assert_int_equal(f->c.stats.writebacks, 0); /* it was clean */
    check_valid_lines(&f->c);
}

static void test_cache_read_lru_order_four_ways(void **state)
{
    struct mem m;
    struct cache c;
    uint64_t pa[6];

    (void)state;
    assert_int_equal(mem_init(&m, MiB), MEM_OK);
    assert_int_equal(cache_init(&c, &m, 2, 4), MEM_OK);
    for (unsigned i = 0; i < 6; i++)
        pa[i] = i * 2 * CACHE_LINE_SIZE; /* all in set 0 */
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(cache_read(&c, pa[i], 8, true, NULL, NULL, NULL), MEM_OK);
    /* Use order now 0,1,2,3; touching 0 and 2 makes it 1,3,0,2. */
    assert_int_equal(cache_write(&c, pa[0], 8, true, 1, LABEL_HOST, NULL), MEM_OK);
    assert_int_equal(cache_read(&c, pa[2], 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&c, pa[4], 8, true, NULL, NULL, NULL), MEM_OK);
    assert_null(cache_find(&c, pa[1])); /* first victim: least recent */
    assert_non_null(cache_find(&c, pa[3]));
    assert_int_equal(cache_read(&c, pa[5], 8, true, NULL, NULL, NULL), MEM_OK);
    assert_null(cache_find(&c, pa[3])); /* second victim: next least recent */
    assert_non_null(cache_find(&c, pa[0]));
    assert_non_null(cache_find(&c, pa[2]));
    /* The other set was never touched. */
    assert_int_equal(c.valid_lines, 4);
    check_valid_lines(&c);
    cache_free(&c);
    mem_free(&m);
}

static void test_cache_read_eviction_of_dirty_line_writes_back(void **state)
{
    struct fix *f = *state;
    uint64_t a = 0x40, b = a + SET_STRIDE, cc = a + 2 * SET_STRIDE;
    label_t lab;

    assert_int_equal(cache_write(&f->c, a + 8, 8, true, 0x77, LABEL_VM(3), NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, b, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(mem_val(&f->mem, a + 8, NULL), 0);
    assert_int_equal(cache_read(&f->c, cc, 8, true, NULL, NULL, NULL), MEM_OK);
    /* Replacing a dirty line writes its data and labels back to memory. */
    assert_null(cache_find(&f->c, a));
    assert_int_equal(mem_val(&f->mem, a + 8, &lab), 0x77);
    assert_int_equal(lab, LABEL_VM(3));
    assert_int_equal(f->c.stats.writebacks, 1);
    assert_int_equal(f->c.stats.evictions, 1);
    check_valid_lines(&f->c);
}

/* ---- non-cacheable bypass ---- */

static void test_cache_read_bypass_under_dirty_line_sees_stale_memory(void **state)
{
    struct fix *f = *state;
    enum cache_outcome o;
    uint64_t v;
    label_t lab;

    assert_int_equal(mem_write_word(&f->mem, 0x5000, 1, LABEL_HOST), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x5000, 8, true, 2, LABEL_HYP, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0x5000, 8, false, &v, &lab, &o), MEM_OK);
    /* Arm ARM B2.8: a non-cacheable read ignores the dirty line: stale value. */
    assert_int_equal(o, CACHE_BYPASS);
    assert_int_equal(v, 1);
    assert_int_equal(lab, LABEL_HOST);
    assert_int_equal(f->c.stats.bypasses, 1);
    /* After DC CIVAC (clean + invalidate to PoC) the new value is in memory. */
    assert_int_equal(cache_dc(&f->c, DC_CIVAC, 0x5000, LABEL_NONE), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0x5000, 8, false, &v, &lab, &o), MEM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(lab, LABEL_HYP);
    assert_null(cache_find(&f->c, 0x5000));
}

static void test_cache_read_bypass_does_not_fill_or_tick(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_read(&f->c, 0x5000, 8, false, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(f->c.tick, 0);
    assert_int_equal(f->c.stats.misses, 0);
}

static void test_cache_write_bypass_leaves_line_untouched(void **state)
{
    struct fix *f = *state;
    const struct cache_line *l;
    uint64_t v;
    label_t lab;

    assert_int_equal(cache_read(&f->c, 0x6000, 8, true, NULL, NULL, NULL), MEM_OK); /* clean line, 0 */
    assert_int_equal(cache_write(&f->c, 0x6000, 8, false, 9, LABEL_VM(0), NULL), MEM_OK);
    /* cache.h: a non-cacheable write updates memory only. */
    assert_int_equal(mem_val(&f->mem, 0x6000, &lab), 9);
    assert_int_equal(lab, LABEL_VM(0));
    l = cache_find(&f->c, 0x6000);
    assert_non_null(l);
    assert_int_equal(l->word[0], 0);
    assert_int_equal(l->label[0], LABEL_NONE);
    assert_false(l->dirty);
    /* A cacheable read hits the (now stale) line. */
    assert_int_equal(cache_read(&f->c, 0x6000, 8, true, &v, NULL, NULL), MEM_OK);
    assert_int_equal(v, 0);
}

static void test_cache_write_bypass_lost_to_later_dirty_eviction(void **state)
{
    struct fix *f = *state;
    uint64_t v;
    label_t lab;

    assert_int_equal(cache_write(&f->c, 0x6100, 8, true, 1, LABEL_HYP, NULL), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x6100, 8, false, 2, LABEL_VM(1), NULL), MEM_OK);
    assert_int_equal(mem_val(&f->mem, 0x6100, NULL), 2);
    cache_evict_pa(&f->c, 0x6100);
    /* cache.h: the dirty line's write-back overwrites the non-cacheable write. */
    assert_int_equal(mem_val(&f->mem, 0x6100, &lab), 1);
    assert_int_equal(lab, LABEL_HYP);
    assert_int_equal(cache_read(&f->c, 0x6100, 8, false, &v, NULL, NULL), MEM_OK);
    assert_int_equal(v, 1);
}

static void test_cache_write_bypass_sub_word_relabels_memory_word(void **state)
{
    struct fix *f = *state;
    uint64_t v;
    label_t lab;

    assert_int_equal(mem_write_word(&f->mem, 0x6200, 0x1111111111111111ull, LABEL_VM(0)), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x6201, 1, false, 0xff, LABEL_HOST, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0x6200, 8, false, &v, &lab, NULL), MEM_OK);
    assert_int_equal(v, 0x111111111111ff11ull);
    assert_int_equal(lab, LABEL_HOST);
    assert_int_equal(f->c.valid_lines, 0);
}

/* ---- coherent view ---- */

static void test_cache_read_coherent_prefers_line_and_changes_nothing(void **state)
{
    struct fix *f = *state;
    struct cache_stats before;
    uint64_t v, tick, h;
    label_t lab;

    assert_int_equal(mem_write_word(&f->mem, 0x7000, 1, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write_word(&f->mem, 0x7100, 3, LABEL_VM(2)), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x7000, 8, true, 2, LABEL_HYP, NULL), MEM_OK);
    before = f->c.stats;
    tick = f->c.tick;
    h = cache_hash(&f->c);
    /* L1 flat view: the valid line wins over memory ... */
    assert_int_equal(cache_read_coherent(&f->c, 0x7000, 8, &v, &lab), MEM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(lab, LABEL_HYP);
    assert_int_equal(cache_read_coherent(&f->c, 0x7004, 4, &v, NULL), MEM_OK);
    assert_int_equal(v, 0);
    /* ... memory is used where no line is valid ... */
    assert_int_equal(cache_read_coherent(&f->c, 0x7100, 8, &v, &lab), MEM_OK);
    assert_int_equal(v, 3);
    assert_int_equal(lab, LABEL_VM(2));
    /* ... and nothing changes: no fill, no tick, no statistics. */
    assert_null(cache_find(&f->c, 0x7100));
    assert_int_equal(f->c.tick, tick);
    assert_memory_equal(&before, &f->c.stats, sizeof(before));
    assert_int_equal(cache_hash(&f->c), h);
}

static void test_cache_read_coherent_bad_input(void **state)
{
    struct fix *f = *state;
    uint64_t v = 5;

    assert_int_equal(cache_read_coherent(&f->c, 0x7000, 3, &v, NULL), MEM_EINVAL);
    assert_int_equal(cache_read_coherent(&f->c, 0x7006, 4, &v, NULL), MEM_EINVAL);
    assert_int_equal(cache_read_coherent(&f->c, MiB, 8, &v, NULL), MEM_EABORT);
    assert_int_equal(v, 5);
}

/* Bulk read = word-by-word cache_read_coherent, over lines partly covered. */
static void test_cache_read_words_coherent_matches_words(void **state)
{
    struct fix *f = *state;
    uint64_t v[40], w, h;
    label_t lab[40], l;

    for (uint64_t a = 0x8000; a < 0x8200; a += 8)
        assert_int_equal(mem_write_word(&f->mem, a, a, LABEL_HOST), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x8048, 8, true, 7, LABEL_VM(1), NULL), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x8100, 8, true, 9, LABEL_HYP, NULL), MEM_OK);
    /* Memory changes under the line (a non-cacheable write). */
    assert_int_equal(mem_write_word(&f->mem, 0x8108, 0xdead, LABEL_VM(0)), MEM_OK);
    h = cache_hash(&f->c);
    /* 0x8038 .. 0x8178: starts and ends inside a line. */
    assert_int_equal(cache_read_words_coherent(&f->c, 0x8038, v, lab, 40), MEM_OK);
    for (unsigned i = 0; i < 40; i++) {
        assert_int_equal(cache_read_coherent(&f->c, 0x8038 + 8ull * i, 8, &w, &l), MEM_OK);
        assert_int_equal(v[i], w);
        assert_int_equal(lab[i], l);
    }
    assert_int_equal(v[(0x8048 - 0x8038) / 8], 7);
    assert_int_equal(lab[(0x8100 - 0x8038) / 8], LABEL_HYP);
    assert_int_equal(v[(0x8108 - 0x8038) / 8], 0x8108);  /* the line's, not memory's */
    assert_int_equal(lab[(0x8108 - 0x8038) / 8], LABEL_HOST);
    assert_int_equal(cache_read_words_coherent(&f->c, 0x8000, v, NULL, 2), MEM_OK);
    assert_int_equal(v[1], 0x8008);
    assert_int_equal(cache_coherent_word(&f->c, 0x8048), 7);            /* the line */
    assert_int_equal(cache_coherent_word(&f->c, 0x804c), 7);            /* its word */
    assert_int_equal(cache_coherent_word(&f->c, 0x8008), 0x8008);       /* memory */
    assert_int_equal(cache_coherent_word(&f->c, MiB), 0);               /* outside */
    assert_int_equal(cache_read_words_coherent(&f->c, 0x8004, v, NULL, 2), MEM_EINVAL);
    assert_int_equal(cache_read_words_coherent(&f->c, MiB - 8, v, NULL, 2), MEM_EABORT);
    assert_int_equal(cache_hash(&f->c), h);
}

/* ---- DC maintenance ---- */

static void test_cache_dc_ivac_discards_dirty_data(void **state)
{
    struct fix *f = *state;
    uint64_t v;
    label_t lab;

    assert_int_equal(mem_write_word(&f->mem, 0x8000, 1, LABEL_HOST), MEM_OK);
    assert_int_equal(cache_write(&f->c, 0x8000, 8, true, 2, LABEL_VM(0), NULL), MEM_OK);
    assert_int_equal(cache_dc(&f->c, DC_IVAC, 0x8010, LABEL_NONE), MEM_OK);
    /* DC IVAC invalidates without cleaning: the dirty data is lost. */
    assert_null(cache_find(&f->c, 0x8000));
    assert_int_equal(mem_val(&f->mem, 0x8000, &lab), 1);
    assert_int_equal(lab, LABEL_HOST);
    assert_int_equal(cache_read_coherent(&f->c, 0x8000, 8, &v, NULL), MEM_OK);
    assert_int_equal(v, 1);
    assert_int_equal(f->c.stats.writebacks, 0);
    check_valid_lines(&f->c);
}

static void test_cache_dc_cvac_cleans_and_keeps_line(void **state)
{
    struct fix *f = *state;
    const struct cache_line *l;
    label_t lab;

    assert_int_equal(cache_write(&f->c, 0x8040, 8, true, 7, LABEL_VM(1), NULL), MEM_OK);
    assert_int_equal(cache_dc(&f->c, DC_CVAC, 0x807f, LABEL_NONE), MEM_OK);
    /* DC CVAC writes dirty data to the PoC and leaves the line valid, clean. */
    l = cache_find(&f->c, 0x8040);
    assert_non_null(l);
    assert_false(l->dirty);
    assert_int_equal(l->word[0], 7);
    assert_int_equal(mem_val(&f->mem, 0x8040, &lab), 7);
    assert_int_equal(lab, LABEL_VM(1));
    assert_int_equal(f->c.stats.writebacks, 1);
    /* Cleaning a clean line writes nothing more. */
    assert_int_equal(cache_dc(&f->c, DC_CVAC, 0x8040, LABEL_NONE), MEM_OK);
    assert_int_equal(f->c.stats.writebacks, 1);
    check_valid_lines(&f->c);
}

static void test_cache_dc_civac_clean_line_no_writeback(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_read(&f->c, 0x8080, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_dc(&f->c, DC_CIVAC, 0x8080, LABEL_NONE), MEM_OK);
    assert_null(cache_find(&f->c, 0x8080));
    assert_int_equal(f->c.stats.writebacks, 0);
    assert_int_equal(f->mem.allocated, 0);
    check_valid_lines(&f->c);
}

static void test_cache_dc_absent_line_is_noop(void **state)
{
    struct fix *f = *state;
    uint64_t h = cache_hash(&f->c), mh = mem_hash(&f->mem);

    assert_int_equal(cache_dc(&f->c, DC_CVAC, 0x9000, LABEL_NONE), MEM_OK);
    assert_int_equal(cache_dc(&f->c, DC_CIVAC, 0x9000, LABEL_NONE), MEM_OK);
    assert_int_equal(cache_dc(&f->c, DC_IVAC, 0x9000, LABEL_NONE), MEM_OK);
    assert_int_equal(cache_hash(&f->c), h);
    assert_int_equal(mem_hash(&f->mem), mh);
    assert_int_equal(f->c.valid_lines, 0);
}

static void test_cache_dc_zva_zeroes_block_with_label(void **state)
{
    struct fix *f = *state;
    const struct cache_line *l;
    uint64_t v;
    label_t lab;

    for (uint64_t pa = 0xa000; pa < 0xa080; pa += 8)
        assert_int_equal(mem_write_word(&f->mem, pa, 0x5555, LABEL_VM(4)), MEM_OK);
    /* pa is aligned down to CACHE_ZVA_SIZE. */
    assert_int_equal(cache_dc(&f->c, DC_ZVA, 0xa02c, LABEL_HYP), MEM_OK);
    l = cache_find(&f->c, 0xa000);
    assert_non_null(l);
    assert_true(l->dirty);
    for (unsigned i = 0; i < CACHE_LINE_WORDS; i++) {
        assert_int_equal(l->word[i], 0);
        assert_int_equal(l->label[i], LABEL_HYP);
    }
    /* Through the cache: memory is unchanged until the line is cleaned. */
    assert_int_equal(mem_val(&f->mem, 0xa000, NULL), 0x5555);
    /* Exactly one 64-byte block: the next line is untouched. */
    assert_null(cache_find(&f->c, 0xa040));
    assert_int_equal(cache_read_coherent(&f->c, 0xa040, 8, &v, &lab), MEM_OK);
    assert_int_equal(v, 0x5555);
    assert_int_equal(lab, LABEL_VM(4));
    assert_int_equal(cache_dc(&f->c, DC_CVAC, 0xa000, LABEL_NONE), MEM_OK);
    for (uint64_t pa = 0xa000; pa < 0xa040; pa += 8) {
        assert_int_equal(mem_val(&f->mem, pa, &lab), 0);
        assert_int_equal(lab, LABEL_HYP);
    }
    check_valid_lines(&f->c);
}

static void test_cache_dc_zva_on_cached_line_is_hit(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_write(&f->c, 0xa0c0, 8, true, 3, LABEL_HOST, NULL), MEM_OK);
    assert_int_equal(cache_dc(&f->c, DC_ZVA, 0xa0c0, LABEL_VM(0)), MEM_OK);
    assert_int_equal(f->c.stats.hits, 1);
    assert_int_equal(f->c.valid_lines, 1);
    assert_int_equal(cache_find(&f->c, 0xa0c0)->word[0], 0);
    assert_int_equal(cache_find(&f->c, 0xa0c0)->label[0], LABEL_VM(0));
}

static void test_cache_dc_zva_evicts_dirty_victim(void **state)
{
    struct fix *f = *state;
    uint64_t a = 0, b = SET_STRIDE, z = 2 * SET_STRIDE;

    assert_int_equal(cache_write(&f->c, a, 8, true, 0x11, LABEL_HOST, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, b, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_dc(&f->c, DC_ZVA, z, LABEL_HYP), MEM_OK);
    /* ZVA allocates through the cache: the LRU dirty victim is written back. */
    assert_null(cache_find(&f->c, a));
    assert_int_equal(mem_val(&f->mem, a, NULL), 0x11);
    assert_non_null(cache_find(&f->c, z));
    check_valid_lines(&f->c);
}

static void test_cache_dc_out_of_range_is_eabort(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_dc(&f->c, DC_CVAC, MiB, LABEL_NONE), MEM_EABORT);
    assert_int_equal(cache_dc(&f->c, DC_CIVAC, UINT64_MAX, LABEL_NONE), MEM_EABORT);
    assert_int_equal(cache_dc(&f->c, DC_IVAC, MiB + 64, LABEL_NONE), MEM_EABORT);
    assert_int_equal(cache_dc(&f->c, DC_ZVA, MiB + 8, LABEL_HYP), MEM_EABORT);
    /* An aborted DC ZVA allocates no line. */
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(f->c.stats.misses, 0);
}

static void test_cache_dc_bad_op_is_einval(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_dc(&f->c, (enum dc_op)99, 0x100, LABEL_NONE), MEM_EINVAL);
    assert_int_equal(f->c.valid_lines, 0);
}

/* ---- scheduler-driven evictions ---- */

static void test_cache_evict_index_dirty_writes_back(void **state)
{
    struct fix *f = *state;
    label_t lab;
    int idx;

    assert_int_equal(cache_write(&f->c, 0xb008, 8, true, 0x99, LABEL_VM(2), NULL), MEM_OK);
    idx = cache_nth_valid(&f->c, 0);
    assert_true(idx >= 0);
    cache_evict_index(&f->c, (unsigned)idx);
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(mem_val(&f->mem, 0xb008, &lab), 0x99);
    assert_int_equal(lab, LABEL_VM(2)); /* the label travels on write-back */
    assert_int_equal(f->c.stats.evictions, 1);
    assert_int_equal(f->c.stats.writebacks, 1);
}

static void test_cache_evict_index_invalid_or_out_of_range_is_noop(void **state)
{
    struct fix *f = *state;
    uint64_t h;

    assert_int_equal(cache_write(&f->c, 0xb000, 8, true, 1, LABEL_HOST, NULL), MEM_OK);
    h = cache_hash(&f->c);
    cache_evict_index(&f->c, SETS * WAYS);
    cache_evict_index(&f->c, ~0u);
    for (unsigned i = 0; i < SETS * WAYS; i++)
        if (!f->c.line[i].valid)
            cache_evict_index(&f->c, i);
    assert_int_equal(cache_hash(&f->c), h);
    assert_int_equal(f->c.valid_lines, 1);
    assert_int_equal(f->c.stats.evictions, 0);
}

static void test_cache_evict_pa_any_address_in_line(void **state)
{
    struct fix *f = *state;

    assert_int_equal(cache_read(&f->c, 0xb100, 8, true, NULL, NULL, NULL), MEM_OK);
    cache_evict_pa(&f->c, 0xb400); /* other line: no-op */
    assert_int_equal(f->c.valid_lines, 1);
    cache_evict_pa(&f->c, 0xb13f);
    assert_int_equal(f->c.valid_lines, 0);
    cache_evict_pa(&f->c, MiB * 4); /* out of range: no-op */
    check_valid_lines(&f->c);
}

static void test_cache_nth_valid_in_index_order(void **state)
{
    struct fix *f = *state;
    int i0, i1, i2;

    /* Lines in sets 3, 1, 3: indexes are set * WAYS + way. */
    assert_int_equal(cache_read(&f->c, 3 * CACHE_LINE_SIZE, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, 1 * CACHE_LINE_SIZE, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, 3 * CACHE_LINE_SIZE + SET_STRIDE, 8, true, NULL, NULL, NULL), MEM_OK);
    i0 = cache_nth_valid(&f->c, 0);
    i1 = cache_nth_valid(&f->c, 1);
    i2 = cache_nth_valid(&f->c, 2);
    assert_int_equal(i0, 1 * WAYS);
    assert_int_equal(i1, 3 * WAYS);
    assert_int_equal(i2, 3 * WAYS + 1);
    assert_int_equal(cache_nth_valid(&f->c, 3), -1);
    assert_int_equal(cache_nth_valid(&f->c, ~0u), -1);
}

static void test_cache_find_any_address_in_line(void **state)
{
    struct fix *f = *state;
    const struct cache_line *l;

    assert_int_equal(cache_read(&f->c, 0xc000, 8, true, NULL, NULL, NULL), MEM_OK);
    l = cache_find(&f->c, 0xc03f);
    assert_non_null(l);
    assert_int_equal(l->pa, 0xc000);
    assert_ptr_equal(cache_find(&f->c, 0xc000), l);
    assert_null(cache_find(&f->c, 0xc040));
    /* Same set, other tag: not a match. */
    assert_null(cache_find(&f->c, 0xc000 + SET_STRIDE));
}

/* ---- flush, clone, hash ---- */

static void test_cache_flush_all_writes_back_and_empties(void **state)
{
    struct fix *f = *state;
    label_t lab;

    for (unsigned i = 0; i < SETS * WAYS; i++)
        assert_int_equal(cache_write(&f->c, i * CACHE_LINE_SIZE, 8, true, 100 + i, LABEL_VM(i), NULL), MEM_OK);
    assert_int_equal(f->c.valid_lines, SETS * WAYS);
    cache_flush_all(&f->c);
    assert_int_equal(f->c.valid_lines, 0);
    assert_int_equal(cache_nth_valid(&f->c, 0), -1);
    for (unsigned i = 0; i < SETS * WAYS; i++) {
        assert_int_equal(mem_val(&f->mem, i * CACHE_LINE_SIZE, &lab), 100 + i);
        assert_int_equal(lab, LABEL_VM(i));
    }
    assert_int_equal(f->c.stats.writebacks, SETS * WAYS);
    check_valid_lines(&f->c);
}

static void test_cache_clone_is_deep_and_uses_new_memory(void **state)
{
    struct fix *f = *state;
    struct mem m2;
    struct cache c2;
    uint64_t v;

    assert_int_equal(cache_write(&f->c, 0xd000, 8, true, 1, LABEL_HOST, NULL), MEM_OK);
    assert_int_equal(mem_clone(&m2, &f->mem), MEM_OK);
    assert_int_equal(cache_clone(&c2, &f->c, &m2), MEM_OK);
    assert_ptr_equal(c2.mem, &m2);
    assert_int_equal(cache_hash(&c2), cache_hash(&f->c));
    assert_int_equal(c2.valid_lines, f->c.valid_lines);
    assert_int_equal(c2.tick, f->c.tick);
    /* Writing back from the clone reaches the clone's memory only. */
    cache_flush_all(&c2);
    assert_int_equal(mem_val(&m2, 0xd000, NULL), 1);
    assert_int_equal(mem_val(&f->mem, 0xd000, NULL), 0);
    assert_int_equal(cache_read(&f->c, 0xd000, 8, true, &v, NULL, NULL), MEM_OK);
    assert_int_equal(v, 1);
    cache_free(&c2);
    mem_free(&m2);
}

static void test_cache_hash_tracks_data_label_and_dirty(void **state)
{
    struct fix *f = *state;
    uint64_t h0 = cache_hash(&f->c), h1, h2, h3;

    assert_int_equal(cache_write(&f->c, 0xe000, 8, true, 1, LABEL_HOST, NULL), MEM_OK);
    h1 = cache_hash(&f->c);
    assert_int_not_equal(h0, h1);
    assert_int_equal(cache_write(&f->c, 0xe000, 8, true, 1, LABEL_VM(0), NULL), MEM_OK);
    h2 = cache_hash(&f->c);
    assert_int_not_equal(h1, h2); /* labels are part of the state */
    assert_int_equal(cache_dc(&f->c, DC_CVAC, 0xe000, LABEL_NONE), MEM_OK);
    h3 = cache_hash(&f->c);
    assert_int_not_equal(h2, h3); /* so is dirtiness */
    assert_int_equal(cache_dc(&f->c, DC_IVAC, 0xe000, LABEL_NONE), MEM_OK);
    assert_int_equal(cache_hash(&f->c), h0);
}

static void test_cache_hash_independent_of_absolute_tick(void **state)
{
    struct fix *f = *state;
    struct mem m2;
    struct cache c2;

    assert_int_equal(mem_init(&m2, MiB), MEM_OK);
    assert_int_equal(cache_init(&c2, &m2, SETS, WAYS), MEM_OK);
    /* Same lines, same use order, different tick histories: equal hashes. */
    assert_int_equal(cache_read(&f->c, 0x0, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, SET_STRIDE, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&c2, 0x0, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&c2, 0x0, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_equal(cache_read(&c2, SET_STRIDE, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_not_equal(c2.tick, f->c.tick);
    assert_int_equal(cache_hash(&c2), cache_hash(&f->c));
    /* Reversing the use order changes the next victim, hence the hash. */
    assert_int_equal(cache_read(&c2, 0x0, 8, true, NULL, NULL, NULL), MEM_OK);
    assert_int_not_equal(cache_hash(&c2), cache_hash(&f->c));
    cache_free(&c2);
    mem_free(&m2);
}

static void test_cache_labels_round_trip_fill_evict_bypass(void **state)
{
    struct fix *f = *state;
    uint64_t v;
    label_t lab;

    /* bypass write -> memory -> fill -> cacheable write -> evict -> bypass read */
    assert_int_equal(cache_write(&f->c, 0xf000, 8, false, 1, LABEL_VM(0), NULL), MEM_OK);
    assert_int_equal(cache_read(&f->c, 0xf000, 8, true, &v, &lab, NULL), MEM_OK);
    assert_int_equal(lab, LABEL_VM(0));
    assert_int_equal(cache_write(&f->c, 0xf008, 8, true, 2, LABEL_VM(1), NULL), MEM_OK);
    cache_evict_pa(&f->c, 0xf000);
    assert_int_equal(cache_read(&f->c, 0xf000, 8, false, &v, &lab, NULL), MEM_OK);
    assert_int_equal(v, 1);
    assert_int_equal(lab, LABEL_VM(0)); /* untouched word keeps its label */
    assert_int_equal(cache_read(&f->c, 0xf008, 8, false, &v, &lab, NULL), MEM_OK);
    assert_int_equal(v, 2);
    assert_int_equal(lab, LABEL_VM(1));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_init_rejects_bad_geometry),
        T(test_cache_init_starts_empty),
        cmocka_unit_test(test_cache_init_one_set_one_way),
        T(test_cache_read_miss_then_hit),
        T(test_cache_read_fill_carries_labels),
        T(test_cache_write_is_write_back),
        T(test_cache_write_partial_merges_with_filled_line),
        T(test_cache_read_sub_word_sizes),
        T(test_cache_read_size_3_is_einval),
        T(test_cache_write_crossing_word_is_einval),
        T(test_cache_read_out_of_range_is_eabort_without_fill),
        T(test_cache_write_out_of_range_is_eabort),
        T(test_cache_read_last_line_in_range),
        T(test_cache_read_lru_victim_in_full_set),
        cmocka_unit_test(test_cache_read_lru_order_four_ways),
        T(test_cache_read_eviction_of_dirty_line_writes_back),
        T(test_cache_read_bypass_under_dirty_line_sees_stale_memory),
        T(test_cache_read_bypass_does_not_fill_or_tick),
        T(test_cache_write_bypass_leaves_line_untouched),
        T(test_cache_write_bypass_lost_to_later_dirty_eviction),
        T(test_cache_write_bypass_sub_word_relabels_memory_word),
        T(test_cache_read_coherent_prefers_line_and_changes_nothing),
        T(test_cache_read_coherent_bad_input),
        T(test_cache_read_words_coherent_matches_words),
        T(test_cache_dc_ivac_discards_dirty_data),
        T(test_cache_dc_cvac_cleans_and_keeps_line),
        T(test_cache_dc_civac_clean_line_no_writeback),
        T(test_cache_dc_absent_line_is_noop),
        T(test_cache_dc_zva_zeroes_block_with_label),
        T(test_cache_dc_zva_on_cached_line_is_hit),
        T(test_cache_dc_zva_evicts_dirty_victim),
        T(test_cache_dc_out_of_range_is_eabort),
        T(test_cache_dc_bad_op_is_einval),
        T(test_cache_evict_index_dirty_writes_back),
        T(test_cache_evict_index_invalid_or_out_of_range_is_noop),
        T(test_cache_evict_pa_any_address_in_line),
        T(test_cache_nth_valid_in_index_order),
        T(test_cache_find_any_address_in_line),
        T(test_cache_flush_all_writes_back_and_empties),
        T(test_cache_clone_is_deep_and_uses_new_memory),
        T(test_cache_hash_tracks_data_label_and_dirty),
        T(test_cache_hash_independent_of_absolute_tick),
        T(test_cache_labels_round_trip_fill_evict_bypass),
    };

    return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
