/*
 * model/hw/mem.c - sparse physical memory with a principal label on every word.
 *
 * Models: the physical address space of mem.h as an array of page-frame
 * pointers, each frame (4 KiB of words plus one label per word) allocated on
 * the first write that makes it differ from "all zero, LABEL_NONE". A write of
 * zero with LABEL_NONE to a frame that was never allocated is therefore a
 * no-op that allocates nothing: it is indistinguishable from the write.
 * Words are stored as host uint64_t and read/written little-endian byte by
 * byte for sub-word accesses, matching AArch64 little-endian data accesses.
 *
 * Checking order for every access: bad size, misalignment or a word-crossing
 * access is MEM_EINVAL (an alignment fault is taken before an external abort
 * in the Arm ARM, D8.11 "Prioritization of aborts"); then an address outside
 * [0, size) is MEM_EABORT. Either way nothing changes.
 * Leaves out: what mem.h leaves out.
 */
#include "model/hw/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME  0x100000001b3ull

static uint64_t pfn_of(uint64_t pa) { return pa >> MEM_PAGE_SHIFT; }
static unsigned word_of(uint64_t pa) { return (unsigned)((pa & (MEM_PAGE_SIZE - 1)) >> 3); }

static bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Frame holding pa for reading, or NULL if never allocated. */
static const struct mem_page *page_get(const struct mem *m, uint64_t pa)
{
    return m->page[pfn_of(pa)];
}

/* Frame holding pa for writing, allocated (zeroed) if needed; NULL only on
 * host allocation failure. */
static struct mem_page *page_get_alloc(struct mem *m, uint64_t pa)
{
    uint64_t pfn = pfn_of(pa);

    if (!m->page[pfn]) {
        m->page[pfn] = calloc(1, sizeof(struct mem_page));
        if (!m->page[pfn])
            return NULL;
        m->allocated++;
    }
    return m->page[pfn];
}

static void word_get(const struct mem *m, uint64_t pa, uint64_t *val, label_t *label)
{
    const struct mem_page *pg = page_get(m, pa);

    *val = pg ? pg->word[word_of(pa)] : 0;
    *label = pg ? pg->label[word_of(pa)] : LABEL_NONE;
}

/* Store one word (pa word-aligned, in range). A zero/LABEL_NONE store to an
 * absent frame allocates nothing. */
static int word_put(struct mem *m, uint64_t pa, uint64_t val, label_t label)
{
    struct mem_page *pg;

    if (!m->page[pfn_of(pa)] && val == 0 && label == LABEL_NONE)
        return MEM_OK;
    pg = page_get_alloc(m, pa);
    if (!pg)
        return MEM_ENOMEM;
    pg->word[word_of(pa)] = val;
    pg->label[word_of(pa)] = label;
    return MEM_OK;
}

static uint64_t bytes_mask(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

int mem_init(struct mem *m, uint64_t size)
{
    uint64_t npages;

    memset(m, 0, sizeof(*m));
    if (size > UINT64_MAX - (MEM_PAGE_SIZE - 1))
        return MEM_ENOMEM;
    npages = (size + MEM_PAGE_SIZE - 1) >> MEM_PAGE_SHIFT;
    if (npages > SIZE_MAX / sizeof(struct mem_page *))
        return MEM_ENOMEM;
    if (npages) {
        m->page = calloc((size_t)npages, sizeof(struct mem_page *));
        if (!m->page)
            return MEM_ENOMEM;
    }
    m->npages = npages;
    m->size = npages << MEM_PAGE_SHIFT;
    return MEM_OK;
}

void mem_free(struct mem *m)
{
    if (!m)
        return;
    for (uint64_t p = 0; p < m->npages && m->page; p++)
        free(m->page[p]);
    free(m->page);
    memset(m, 0, sizeof(*m));
}

int mem_clone(struct mem *dst, const struct mem *src)
{
    int rc = mem_init(dst, src->size);

    if (rc != MEM_OK)
        return rc;
    for (uint64_t p = 0; p < src->npages; p++) {
        if (!src->page[p])
            continue;
        dst->page[p] = malloc(sizeof(struct mem_page));
        if (!dst->page[p]) {
            mem_free(dst);
            return MEM_ENOMEM;
        }
        memcpy(dst->page[p], src->page[p], sizeof(struct mem_page));
        dst->allocated++;
    }
    return MEM_OK;
}

int mem_read_word(const struct mem *m, uint64_t pa, uint64_t *val, label_t *label)
{
    uint64_t v;
    label_t l;

    if (pa & 7)
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, 8))
        return MEM_EABORT;
    word_get(m, pa, &v, &l);
    if (val)
        *val = v;
    if (label)
        *label = l;
    return MEM_OK;
}

int mem_write_word(struct mem *m, uint64_t pa, uint64_t val, label_t label)
{
    if (pa & 7)
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, 8))
        return MEM_EABORT;
    return word_put(m, pa, val, label);
}

int mem_read(const struct mem *m, uint64_t pa, unsigned size, uint64_t *val, label_t *label)
{
    uint64_t w;
    label_t l;

    if (!size_ok(size) || (pa & 7) + size > 8)
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, size))
        return MEM_EABORT;
    word_get(m, pa & ~7ull, &w, &l);
    if (val)
        *val = (w >> (8 * (pa & 7))) & bytes_mask(size);
    if (label)
        *label = l;
    return MEM_OK;
}

int mem_write(struct mem *m, uint64_t pa, unsigned size, uint64_t val, label_t label)
{
    uint64_t w, mask;
    label_t l;
    unsigned shift = (unsigned)(8 * (pa & 7));

    if (!size_ok(size) || (pa & 7) + size > 8)
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, size))
        return MEM_EABORT;
    word_get(m, pa & ~7ull, &w, &l);
    mask = bytes_mask(size) << shift;
    w = (w & ~mask) | ((val << shift) & mask);
    return word_put(m, pa & ~7ull, w, label);
}

int mem_read_words(const struct mem *m, uint64_t pa, uint64_t *val, label_t *label, unsigned n)
{
    if (pa & 7)
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, 8ull * n))
        return MEM_EABORT;
    /* A page (frame or blank) at a time. */
    for (unsigned i = 0; i < n;) {
        const struct mem_page *pg = page_get(m, pa + 8ull * i);
        unsigned w = word_of(pa + 8ull * i), k = MEM_WORDS_PER_PAGE - w;

        if (k > n - i)
            k = n - i;
        if (val) {
            if (pg)
                memcpy(val + i, pg->word + w, k * sizeof *val);
            else
                memset(val + i, 0, k * sizeof *val);
        }
        if (label) {
            if (pg)
                memcpy(label + i, pg->label + w, k * sizeof *label);
            else
                memset(label + i, 0, k * sizeof *label);   /* LABEL_NONE */
        }
        i += k;
    }
    return MEM_OK;
}

int mem_write_words(struct mem *m, uint64_t pa, const uint64_t *val, const label_t *label, unsigned n)
{
    if (pa & 7 || (n && !val))
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, 8ull * n))
        return MEM_EABORT;
    /* Allocate first, so a failure leaves the write undone rather than half
     * done; frames allocated before a failure are blank (nothing observable
     * changed). Blank words need no frame. */
    for (unsigned i = 0; i < n; i++)
        if ((val[i] || (label && label[i] != LABEL_NONE)) && !page_get_alloc(m, pa + 8ull * i))
            return MEM_ENOMEM;
    for (unsigned i = 0; i < n; i++)
        (void)word_put(m, pa + 8ull * i, val[i], label ? label[i] : LABEL_NONE);
    return MEM_OK;
}

int mem_zero_page(struct mem *m, uint64_t pa, label_t label)
{
    struct mem_page *pg;

    pa &= ~(MEM_PAGE_SIZE - 1);
    if (!mem_in_range(m, pa, MEM_PAGE_SIZE))
        return MEM_EABORT;
    if (!m->page[pfn_of(pa)] && label == LABEL_NONE)
        return MEM_OK;
    pg = page_get_alloc(m, pa);
    if (!pg)
        return MEM_ENOMEM;
    memset(pg->word, 0, sizeof(pg->word));
    for (unsigned i = 0; i < MEM_WORDS_PER_PAGE; i++)
        pg->label[i] = label;
    return MEM_OK;
}

int mem_load(struct mem *m, uint64_t pa, const void *src, size_t len, label_t label)
{
    const unsigned char *s = src;

    if (len && !src)
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, len))
        return MEM_EABORT;
    /* Allocate first (see mem_write_words); a zero byte labelled LABEL_NONE
     * landing in an absent frame leaves it blank and needs no frame. */
    for (size_t i = 0; i < len; i++)
        if ((s[i] || label != LABEL_NONE) && !page_get_alloc(m, pa + i))
            return MEM_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        struct mem_page *pg = m->page[pfn_of(pa + i)];
        unsigned w = word_of(pa + i), shift = (unsigned)(8 * ((pa + i) & 7));

        if (!pg)
            continue;
        pg->word[w] = (pg->word[w] & ~(0xffull << shift)) | ((uint64_t)s[i] << shift);
        pg->label[w] = label;
    }
    return MEM_OK;
}

int mem_store_bytes(const struct mem *m, uint64_t pa, void *dst, size_t len)
{
    unsigned char *d = dst;

    if (len && !dst)
        return MEM_EINVAL;
    if (!mem_in_range(m, pa, len))
        return MEM_EABORT;
    for (size_t i = 0; i < len; i++) {
        const struct mem_page *pg = page_get(m, pa + i);

        d[i] = pg ? (unsigned char)(pg->word[word_of(pa + i)] >> (8 * ((pa + i) & 7))) : 0;
    }
    return MEM_OK;
}

static uint64_t fnv_bytes(uint64_t h, uint64_t v, unsigned nbytes)
{
    for (unsigned i = 0; i < nbytes; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= FNV64_PRIME;
    }
    return h;
}

static bool page_is_blank(const struct mem_page *pg)
{
    for (unsigned i = 0; i < MEM_WORDS_PER_PAGE; i++)
        if (pg->word[i] || pg->label[i] != LABEL_NONE)
            return false;
    return true;
}

/* Byte stream hashed per non-blank frame, all little-endian: the page frame
 * number (8 bytes), then each word (8 bytes) followed by its label (2). */
uint64_t mem_hash(const struct mem *m)
{
    uint64_t h = FNV64_OFFSET;

    for (uint64_t p = 0; p < m->npages; p++) {
        const struct mem_page *pg = m->page[p];

        if (!pg || page_is_blank(pg))
            continue;
        h = fnv_bytes(h, p, 8);
        for (unsigned i = 0; i < MEM_WORDS_PER_PAGE; i++) {
            h = fnv_bytes(h, pg->word[i], 8);
            h = fnv_bytes(h, pg->label[i], 2);
        }
    }
    return h;
}
