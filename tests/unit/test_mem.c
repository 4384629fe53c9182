/*
 * tests/unit/test_mem.c - CMocka unit tests for model/mem (sparse labelled
 * physical memory).
 *
 * Checks the mem.h contract: lazy 4 KiB frames, a label per 8-byte word,
 * out-of-range accesses are external aborts that change nothing, bad sizes
 * and word-crossing accesses are rejected, little-endian sub-word accesses,
 * deep clones, and a hash that depends only on contents and labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/hw/mem.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Fixture: a 1 MiB memory. */
static int setup_mem(void **state)
{
    struct mem *m = test_malloc(sizeof(*m));

    if (mem_init(m, MiB) != MEM_OK) {
        test_free(m);
        return -1;
    }
    *state = m;
    return 0;
}

static int teardown_mem(void **state)
{
    struct mem *m = *state;

    mem_free(m);
    test_free(m);
    return 0;
}

/* ---- mem_init / mem_free ---- */

static void test_mem_init_rounds_size_up_to_page(void **state)
{
    struct mem m;

    (void)state;
    assert_int_equal(mem_init(&m, 5000), MEM_OK);
    /* mem.h: size is rounded up to a whole page. */
    assert_int_equal(m.size, 2 * MEM_PAGE_SIZE);
    assert_int_equal(m.npages, 2);
    assert_int_equal(m.allocated, 0);
    mem_free(&m);
}

static void test_mem_init_zero_size_aborts_every_access(void **state)
{
    struct mem m;
    uint64_t v = 7;

    (void)state;
    assert_int_equal(mem_init(&m, 0), MEM_OK);
    assert_int_equal(m.size, 0);
    /* Nothing is in [0, 0): every access is an external abort. */
    assert_int_equal(mem_read_word(&m, 0, &v, NULL), MEM_EABORT);
    assert_int_equal(mem_write_word(&m, 0, 1, LABEL_HOST), MEM_EABORT);
    assert_int_equal(v, 7);
    mem_free(&m);
}

static void test_mem_init_huge_size_fails_cleanly(void **state)
{
    struct mem m;

    (void)state;
    /* Rounding UINT64_MAX up would overflow: a clean ENOMEM, not UB. */
    assert_int_equal(mem_init(&m, UINT64_MAX), MEM_ENOMEM);
    mem_free(&m); /* safe after a failed init */
}

static void test_mem_init_4gib_allocates_only_touched_pages(void **state)
{
    struct mem m;
    uint64_t v;
    label_t l;

    (void)state;
    assert_int_equal(mem_init(&m, 4 * GiB), MEM_OK);
    assert_int_equal(m.npages, 4 * GiB / MEM_PAGE_SIZE);
    assert_int_equal(m.allocated, 0);
    /* Reads of never-written pages return 0 / LABEL_NONE and allocate nothing. */
    assert_int_equal(mem_read_word(&m, 3 * GiB, &v, &l), MEM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(l, LABEL_NONE);
    assert_int_equal(m.allocated, 0);
    /* Touch the first, a middle and the last page. */
    assert_int_equal(mem_write_word(&m, 0, 1, LABEL_HYP), MEM_OK);
    assert_int_equal(mem_write_word(&m, 2 * GiB + 8, 2, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write_word(&m, 4 * GiB - 8, 3, LABEL_VM(0)), MEM_OK);
    assert_int_equal(m.allocated, 3);
    assert_int_equal(mem_read_word(&m, 4 * GiB - 8, &v, &l), MEM_OK);
    assert_int_equal(v, 3);
    assert_int_equal(l, LABEL_VM(0));
    /* One past the end is an external abort. */
    assert_int_equal(mem_write_word(&m, 4 * GiB, 4, LABEL_HOST), MEM_EABORT);
    assert_int_equal(m.allocated, 3);
    mem_free(&m);
}

static void test_mem_free_zeroes_struct(void **state)
{
    struct mem m;

    (void)state;
    assert_int_equal(mem_init(&m, MiB), MEM_OK);
    assert_int_equal(mem_write_word(&m, 0, 1, LABEL_HOST), MEM_OK);
    mem_free(&m);
    assert_null(m.page);
    assert_int_equal(m.size, 0);
    assert_int_equal(m.allocated, 0);
    mem_free(&m); /* double free of a freed struct is harmless */
    mem_free(NULL);
}

/* ---- mem_read_word / mem_write_word ---- */

static void test_mem_write_word_roundtrip_with_label(void **state)
{
    struct mem *m = *state;
    uint64_t v;
    label_t l;

    assert_int_equal(mem_write_word(m, 0x1008, 0x1122334455667788ull, LABEL_VM(2)), MEM_OK);
    assert_int_equal(mem_read_word(m, 0x1008, &v, &l), MEM_OK);
    assert_int_equal(v, 0x1122334455667788ull);
    assert_int_equal(l, LABEL_VM(2));
    /* The neighbouring word keeps its own (absent) label. */
    assert_int_equal(mem_read_word(m, 0x1000, &v, &l), MEM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(l, LABEL_NONE);
}

static void test_mem_write_word_misaligned_is_einval(void **state)
{
    struct mem *m = *state;

    assert_int_equal(mem_write_word(m, 0x1004, 1, LABEL_HOST), MEM_EINVAL);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_read_word_misaligned_is_einval(void **state)
{
    struct mem *m = *state;
    uint64_t v = 99;

    assert_int_equal(mem_read_word(m, 0x1001, &v, NULL), MEM_EINVAL);
    assert_int_equal(v, 99);
}

static void test_mem_read_word_out_of_range_is_eabort(void **state)
{
    struct mem *m = *state;
    uint64_t v = 99;
    label_t l = 42;

    assert_int_equal(mem_read_word(m, MiB, &v, &l), MEM_EABORT);
    assert_int_equal(mem_read_word(m, UINT64_MAX - 7, &v, &l), MEM_EABORT);
    /* An external abort writes nothing to the outputs. */
    assert_int_equal(v, 99);
    assert_int_equal(l, 42);
}

static void test_mem_write_word_out_of_range_changes_nothing(void **state)
{
    struct mem *m = *state;
    uint64_t h = mem_hash(m);

    assert_int_equal(mem_write_word(m, MiB, 1, LABEL_HOST), MEM_EABORT);
    assert_int_equal(mem_write_word(m, UINT64_MAX & ~7ull, 1, LABEL_HOST), MEM_EABORT);
    assert_int_equal(m->allocated, 0);
    assert_int_equal(mem_hash(m), h);
}

static void test_mem_write_word_last_word_in_range(void **state)
{
    struct mem *m = *state;
    uint64_t v;

    assert_int_equal(mem_write_word(m, MiB - 8, 5, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read_word(m, MiB - 8, &v, NULL), MEM_OK);
    assert_int_equal(v, 5);
}

static void test_mem_write_word_blank_to_absent_page_allocates_nothing(void **state)
{
    struct mem *m = *state;

    /* Zero labelled LABEL_NONE is what an absent page already holds. */
    assert_int_equal(mem_write_word(m, 0x2000, 0, LABEL_NONE), MEM_OK);
    assert_int_equal(m->allocated, 0);
    /* A zero with a real label is data and must be stored. */
    assert_int_equal(mem_write_word(m, 0x2000, 0, LABEL_HYP), MEM_OK);
    assert_int_equal(m->allocated, 1);
}

/* ---- mem_read / mem_write (sub-word) ---- */

static void test_mem_write_byte_is_little_endian(void **state)
{
    struct mem *m = *state;
    uint64_t v;

    assert_int_equal(mem_write_word(m, 0x100, 0x1111111111111111ull, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write(m, 0x103, 1, 0xab, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read_word(m, 0x100, &v, NULL), MEM_OK);
    /* AArch64 data accesses are little-endian: byte 3 is bits [31:24]. */
    assert_int_equal(v, 0x11111111ab111111ull);
}

static void test_mem_read_sizes_extract_zero_extended(void **state)
{
    struct mem *m = *state;
    uint64_t v;

    assert_int_equal(mem_write_word(m, 0x200, 0x8877665544332211ull, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read(m, 0x200, 1, &v, NULL), MEM_OK);
    assert_int_equal(v, 0x11);
    assert_int_equal(mem_read(m, 0x207, 1, &v, NULL), MEM_OK);
    assert_int_equal(v, 0x88);
    assert_int_equal(mem_read(m, 0x202, 2, &v, NULL), MEM_OK);
    assert_int_equal(v, 0x4433);
    assert_int_equal(mem_read(m, 0x204, 4, &v, NULL), MEM_OK);
    assert_int_equal(v, 0x88776655);
    assert_int_equal(mem_read(m, 0x200, 8, &v, NULL), MEM_OK);
    assert_int_equal(v, 0x8877665544332211ull);
}

static void test_mem_read_unaligned_within_word_ok(void **state)
{
    struct mem *m = *state;
    uint64_t v;

    /* mem.h only forbids crossing a word: a 4-byte access at offset 2 fits. */
    assert_int_equal(mem_write_word(m, 0x200, 0x8877665544332211ull, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read(m, 0x202, 4, &v, NULL), MEM_OK);
    assert_int_equal(v, 0x66554433);
}

static void test_mem_write_partial_replaces_word_label(void **state)
{
    struct mem *m = *state;
    uint64_t v;
    label_t l;

    assert_int_equal(mem_write_word(m, 0x300, 0xffffffffffffffffull, LABEL_VM(1)), MEM_OK);
    assert_int_equal(mem_write(m, 0x304, 2, 0x1234, LABEL_VM(0)), MEM_OK);
    assert_int_equal(mem_read(m, 0x300, 8, &v, &l), MEM_OK);
    assert_int_equal(v, 0xffff1234ffffffffull);
    /* mem.h: a partial write gives the whole word the writer's label. */
    assert_int_equal(l, LABEL_VM(0));
}

static void test_mem_write_ignores_bits_above_size(void **state)
{
    struct mem *m = *state;
    uint64_t v;

    assert_int_equal(mem_write(m, 0x400, 2, 0xdeadbeefcafeull, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read_word(m, 0x400, &v, NULL), MEM_OK);
    /* Only the low `size` bytes of the value are stored. */
    assert_int_equal(v, 0xcafe);
}

static void test_mem_read_size_3_is_einval(void **state)
{
    struct mem *m = *state;
    uint64_t v = 1;

    assert_int_equal(mem_read(m, 0x100, 3, &v, NULL), MEM_EINVAL);
    assert_int_equal(mem_read(m, 0x100, 0, &v, NULL), MEM_EINVAL);
    assert_int_equal(mem_read(m, 0x100, 16, &v, NULL), MEM_EINVAL);
    assert_int_equal(v, 1);
}

static void test_mem_write_size_3_is_einval(void **state)
{
    struct mem *m = *state;

    assert_int_equal(mem_write(m, 0x100, 3, 1, LABEL_HOST), MEM_EINVAL);
    assert_int_equal(mem_write(m, 0x100, 0, 1, LABEL_HOST), MEM_EINVAL);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_write_crossing_word_is_einval(void **state)
{
    struct mem *m = *state;

    assert_int_equal(mem_write(m, 0x106, 4, 1, LABEL_HOST), MEM_EINVAL);
    assert_int_equal(mem_write(m, 0x107, 2, 1, LABEL_HOST), MEM_EINVAL);
    assert_int_equal(mem_write(m, 0x101, 8, 1, LABEL_HOST), MEM_EINVAL);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_read_crossing_word_is_einval(void **state)
{
    struct mem *m = *state;
    uint64_t v = 1;

    assert_int_equal(mem_read(m, 0x104, 8, &v, NULL), MEM_EINVAL);
    assert_int_equal(mem_read(m, 0x0fff, 2, &v, NULL), MEM_EINVAL);
    assert_int_equal(v, 1);
}

static void test_mem_write_out_of_range_is_eabort(void **state)
{
    struct mem *m = *state;

    assert_int_equal(mem_write(m, MiB + 1, 1, 1, LABEL_HOST), MEM_EABORT);
    assert_int_equal(mem_write(m, UINT64_MAX, 1, 1, LABEL_HOST), MEM_EABORT);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_read_last_byte_in_range(void **state)
{
    struct mem *m = *state;
    uint64_t v;

    assert_int_equal(mem_write(m, MiB - 1, 1, 0x5a, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read(m, MiB - 1, 1, &v, NULL), MEM_OK);
    assert_int_equal(v, 0x5a);
}

/* ---- mem_read_words / mem_write_words ---- */

static void test_mem_write_words_roundtrip_across_pages(void **state)
{
    struct mem *m = *state;
    uint64_t in[8], out[8];
    label_t lin[8], lout[8];

    for (unsigned i = 0; i < 8; i++) {
        in[i] = 0x100 + i;
        lin[i] = (label_t)(LABEL_VM(i));
    }
    /* Four words on each side of the 0x1000 page boundary. */
    assert_int_equal(mem_write_words(m, 0x0fe0, in, lin, 8), MEM_OK);
    assert_int_equal(m->allocated, 2);
    assert_int_equal(mem_read_words(m, 0x0fe0, out, lout, 8), MEM_OK);
    assert_memory_equal(in, out, sizeof(in));
    assert_memory_equal(lin, lout, sizeof(lin));
}

/* A read spanning a frame and a never-written page (blank: 0, LABEL_NONE),
 * with either output omitted. */
static void test_mem_read_words_frame_then_blank(void **state)
{
    struct mem *m = *state;
    uint64_t out[6] = { 9, 9, 9, 9, 9, 9 };
    label_t lout[6] = { 9, 9, 9, 9, 9, 9 };

    assert_int_equal(mem_write_word(m, 0x1ff0, 0xab, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read_words(m, 0x1ff0, out, lout, 6), MEM_OK);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(lout[0], LABEL_HOST);
    for (unsigned i = 1; i < 6; i++) {
        assert_int_equal(out[i], 0);
        assert_int_equal(lout[i], LABEL_NONE);
    }
    assert_int_equal(m->allocated, 1);             /* reading allocates nothing */
    out[0] = 7;
    assert_int_equal(mem_read_words(m, 0x1ff0, NULL, lout, 2), MEM_OK);
    assert_int_equal(lout[0], LABEL_HOST);
    assert_int_equal(mem_read_words(m, 0x1ff8, out, NULL, 1), MEM_OK);
    assert_int_equal(out[0], 0);
}

static void test_mem_write_words_partly_out_of_range_changes_nothing(void **state)
{
    struct mem *m = *state;
    uint64_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    label_t lin[8] = { 2, 2, 2, 2, 2, 2, 2, 2 };
    uint64_t v;

    /* mem.h: all-or-nothing range check; the in-range half is not written. */
    assert_int_equal(mem_write_words(m, MiB - 32, in, lin, 8), MEM_EABORT);
    assert_int_equal(mem_read_word(m, MiB - 32, &v, NULL), MEM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_read_words_partly_out_of_range_is_eabort(void **state)
{
    struct mem *m = *state;
    uint64_t out[4] = { 9, 9, 9, 9 };

    assert_int_equal(mem_read_words(m, MiB - 16, out, NULL, 4), MEM_EABORT);
    assert_int_equal(out[0], 9);
}

static void test_mem_read_words_misaligned_is_einval(void **state)
{
    struct mem *m = *state;
    uint64_t out[2];

    assert_int_equal(mem_read_words(m, 0x104, out, NULL, 2), MEM_EINVAL);
}

static void test_mem_write_words_misaligned_is_einval(void **state)
{
    struct mem *m = *state;
    uint64_t in[2] = { 1, 2 };

    assert_int_equal(mem_write_words(m, 0x102, in, NULL, 2), MEM_EINVAL);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_write_words_zero_count_is_noop(void **state)
{
    struct mem *m = *state;

    assert_int_equal(mem_write_words(m, 0x100, NULL, NULL, 0), MEM_OK);
    assert_int_equal(m->allocated, 0);
}

/* ---- mem_zero_page ---- */

static void test_mem_zero_page_labels_every_word(void **state)
{
    struct mem *m = *state;
    uint64_t v;
    label_t l;

    assert_int_equal(mem_write_word(m, 0x3ff8, 0xdead, LABEL_VM(3)), MEM_OK);
    assert_int_equal(mem_zero_page(m, 0x3000, LABEL_HYP), MEM_OK);
    for (uint64_t pa = 0x3000; pa < 0x4000; pa += 8) {
        assert_int_equal(mem_read_word(m, pa, &v, &l), MEM_OK);
        assert_int_equal(v, 0);
        assert_int_equal(l, LABEL_HYP);
    }
    /* The next page is untouched. */
    assert_int_equal(mem_read_word(m, 0x4000, &v, &l), MEM_OK);
    assert_int_equal(l, LABEL_NONE);
}

static void test_mem_zero_page_unaligned_pa_zeroes_containing_page(void **state)
{
    struct mem *m = *state;
    uint64_t v;
    label_t l;

    assert_int_equal(mem_write_word(m, 0x5000, 7, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_zero_page(m, 0x5123, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read_word(m, 0x5000, &v, &l), MEM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(l, LABEL_HOST);
}

static void test_mem_zero_page_out_of_range_is_eabort(void **state)
{
    struct mem *m = *state;

    assert_int_equal(mem_zero_page(m, MiB, LABEL_HOST), MEM_EABORT);
    assert_int_equal(m->allocated, 0);
}

/* ---- mem_load / mem_store_bytes ---- */

static void test_mem_load_unaligned_bytes_roundtrip(void **state)
{
    struct mem *m = *state;
    unsigned char in[21], out[21];
    uint64_t v;
    label_t l;

    for (unsigned i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(0xa0 + i);
    assert_int_equal(mem_write_word(m, 0xff8, 0x1111111111111111ull, LABEL_VM(5)), MEM_OK);
    assert_int_equal(mem_load(m, 0xffd, in, sizeof(in), LABEL_HYP), MEM_OK);
    assert_int_equal(mem_store_bytes(m, 0xffd, out, sizeof(out)), MEM_OK);
    assert_memory_equal(in, out, sizeof(in));
    /* Bytes of the first word below the load keep their value; the word's
     * label becomes the loader's (every word touched is relabelled). */
    assert_int_equal(mem_read_word(m, 0xff8, &v, &l), MEM_OK);
    assert_int_equal(v, 0xa2a1a01111111111ull);
    assert_int_equal(l, LABEL_HYP);
}

static void test_mem_load_out_of_range_changes_nothing(void **state)
{
    struct mem *m = *state;
    unsigned char buf[16] = { 1 };

    assert_int_equal(mem_load(m, MiB - 8, buf, sizeof(buf), LABEL_HOST), MEM_EABORT);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_load_null_src_is_einval(void **state)
{
    struct mem *m = *state;

    assert_int_equal(mem_load(m, 0, NULL, 8, LABEL_HOST), MEM_EINVAL);
    assert_int_equal(mem_load(m, 0, NULL, 0, LABEL_HOST), MEM_OK);
}

static void test_mem_store_bytes_absent_page_reads_zero(void **state)
{
    struct mem *m = *state;
    unsigned char out[8];

    memset(out, 0xee, sizeof(out));
    assert_int_equal(mem_store_bytes(m, 0x8000, out, sizeof(out)), MEM_OK);
    for (unsigned i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0);
    assert_int_equal(m->allocated, 0);
}

static void test_mem_store_bytes_out_of_range_is_eabort(void **state)
{
    struct mem *m = *state;
    unsigned char out[4] = { 3, 3, 3, 3 };

    assert_int_equal(mem_store_bytes(m, MiB - 2, out, sizeof(out)), MEM_EABORT);
    assert_int_equal(out[0], 3);
}

/* ---- mem_clone ---- */

static void test_mem_clone_is_deep(void **state)
{
    struct mem *m = *state, c;
    uint64_t v;
    label_t l;

    assert_int_equal(mem_write_word(m, 0x6000, 11, LABEL_VM(0)), MEM_OK);
    assert_int_equal(mem_clone(&c, m), MEM_OK);
    assert_int_equal(c.size, m->size);
    assert_int_equal(c.allocated, m->allocated);
    assert_int_equal(mem_hash(&c), mem_hash(m));
    /* A write to the clone must not reach the original (exploration forks). */
    assert_int_equal(mem_write_word(&c, 0x6000, 22, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_read_word(m, 0x6000, &v, &l), MEM_OK);
    assert_int_equal(v, 11);
    assert_int_equal(l, LABEL_VM(0));
    assert_int_not_equal(mem_hash(&c), mem_hash(m));
    mem_free(&c);
}

/* ---- mem_hash ---- */

static void test_mem_hash_changes_with_value_and_label(void **state)
{
    struct mem *m = *state;
    uint64_t h0 = mem_hash(m), h1, h2;

    assert_int_equal(mem_write_word(m, 0x100, 1, LABEL_HOST), MEM_OK);
    h1 = mem_hash(m);
    assert_int_not_equal(h0, h1);
    /* Same value, other principal: invariant 4 needs labels in the hash. */
    assert_int_equal(mem_write_word(m, 0x100, 1, LABEL_VM(0)), MEM_OK);
    h2 = mem_hash(m);
    assert_int_not_equal(h1, h2);
}

static void test_mem_hash_blank_page_hashes_as_absent(void **state)
{
    struct mem *m = *state;
    uint64_t h0 = mem_hash(m);

    assert_int_equal(mem_write_word(m, 0x100, 1, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write_word(m, 0x100, 0, LABEL_NONE), MEM_OK);
    assert_int_equal(m->allocated, 1);
    /* mem.h: a page of zero / LABEL_NONE hashes as absent. */
    assert_int_equal(mem_hash(m), h0);
}

static void test_mem_hash_independent_of_history(void **state)
{
    struct mem *m = *state, b;

    /* Same final contents reached by different write orders and on separately
     * allocated memories: equal hashes (no host addresses, no history). */
    assert_int_equal(mem_init(&b, MiB), MEM_OK);
    assert_int_equal(mem_write_word(m, 0x100, 1, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write_word(m, 0x9000, 2, LABEL_HYP), MEM_OK);
    assert_int_equal(mem_write_word(&b, 0x9000, 2, LABEL_HYP), MEM_OK);
    assert_int_equal(mem_write_word(&b, 0x7000, 5, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write_word(&b, 0x100, 1, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write_word(&b, 0x7000, 0, LABEL_NONE), MEM_OK);
    assert_int_equal(mem_hash(m), mem_hash(&b));
    mem_free(&b);
}

static void test_mem_hash_distinguishes_address(void **state)
{
    struct mem *m = *state, b;

    assert_int_equal(mem_init(&b, MiB), MEM_OK);
    assert_int_equal(mem_write_word(m, 0x1000, 1, LABEL_HOST), MEM_OK);
    assert_int_equal(mem_write_word(&b, 0x2000, 1, LABEL_HOST), MEM_OK);
    /* Same page contents at different frames must differ. */
    assert_int_not_equal(mem_hash(m), mem_hash(&b));
    mem_free(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_mem, teardown_mem)


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_init_rounds_size_up_to_page),
        cmocka_unit_test(test_mem_init_zero_size_aborts_every_access),
        cmocka_unit_test(test_mem_init_huge_size_fails_cleanly),
        cmocka_unit_test(test_mem_init_4gib_allocates_only_touched_pages),
        cmocka_unit_test(test_mem_free_zeroes_struct),
        T(test_mem_write_word_roundtrip_with_label),
        T(test_mem_write_word_misaligned_is_einval),
        T(test_mem_read_word_misaligned_is_einval),
        T(test_mem_read_word_out_of_range_is_eabort),
        T(test_mem_write_word_out_of_range_changes_nothing),
        T(test_mem_write_word_last_word_in_range),
        T(test_mem_write_word_blank_to_absent_page_allocates_nothing),
        T(test_mem_write_byte_is_little_endian),
        T(test_mem_read_sizes_extract_zero_extended),
        T(test_mem_read_unaligned_within_word_ok),
        T(test_mem_write_partial_replaces_word_label),
        T(test_mem_write_ignores_bits_above_size),
        T(test_mem_read_size_3_is_einval),
        T(test_mem_write_size_3_is_einval),
        T(test_mem_write_crossing_word_is_einval),
        T(test_mem_read_crossing_word_is_einval),
        T(test_mem_write_out_of_range_is_eabort),
        T(test_mem_read_last_byte_in_range),
        T(test_mem_write_words_roundtrip_across_pages),
        T(test_mem_write_words_partly_out_of_range_changes_nothing),
        T(test_mem_read_words_partly_out_of_range_is_eabort),
        T(test_mem_read_words_frame_then_blank),
        T(test_mem_read_words_misaligned_is_einval),
        T(test_mem_write_words_misaligned_is_einval),
        T(test_mem_write_words_zero_count_is_noop),
        T(test_mem_zero_page_labels_every_word),
        T(test_mem_zero_page_unaligned_pa_zeroes_containing_page),
        T(test_mem_zero_page_out_of_range_is_eabort),
        T(test_mem_load_unaligned_bytes_roundtrip),
        T(test_mem_load_out_of_range_changes_nothing),
        T(test_mem_load_null_src_is_einval),
        T(test_mem_store_bytes_absent_page_reads_zero),
        T(test_mem_store_bytes_out_of_range_is_eabort),
        T(test_mem_clone_is_deep),
        T(test_mem_hash_changes_with_value_and_label),
        T(test_mem_hash_blank_page_hashes_as_absent),
        T(test_mem_hash_independent_of_history),
        T(test_mem_hash_distinguishes_address),
    };

    return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
