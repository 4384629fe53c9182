/*
 * model/hw/mem.h - sparse physical memory with a principal label on every word.
 *
 * Models: the physical address space [0, size) of the simulated machine,
 * allocated lazily one 4 KiB page frame at a time, so a 4 GiB machine costs
 * only the pages that were ever written. Every 8-byte word carries a label
 * naming the principal whose data it is (DESIGN.md, invariant 4).
 * Leaves out: device memory, memory-mapped I/O, ECC, tag memory (MTE).
 *
 * An access outside [0, size) is an external abort: the function returns
 * MEM_EABORT and changes nothing; the caller turns it into a fault.
 * Reads of never-written pages return 0 with label LABEL_NONE and allocate
 * nothing.
 */
#ifndef HYPSIM_MEM_H
#define HYPSIM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_PAGE_SHIFT 12
#define MEM_PAGE_SIZE  (1ull << MEM_PAGE_SHIFT)
#define MEM_WORDS_PER_PAGE (MEM_PAGE_SIZE / 8)

/* A principal label. Values: see label_* below. */
typedef uint16_t label_t;

#define LABEL_NONE   ((label_t)0)     /* nobody's data (zero, never written) */
#define LABEL_HYP  ((label_t)1)
#define LABEL_HOST   ((label_t)2)
#define LABEL_VM(n)  ((label_t)(3 + (n)))   /* VM n, n >= 0 */
#define LABEL_IS_VM(l) ((l) >= 3)
#define LABEL_VM_INDEX(l) ((int)(l) - 3)

/* Return codes shared by mem/ and cache/. */
enum mem_status {
    MEM_OK = 0,
    MEM_EABORT = -1,   /* physical address outside memory: external abort */
    MEM_EINVAL = -2,   /* bad size or misaligned access crossing a word */
    MEM_ENOMEM = -3,   /* host allocation failed */
};

struct mem_page {
    uint64_t word[MEM_WORDS_PER_PAGE];
    label_t  label[MEM_WORDS_PER_PAGE];
};

struct mem {
    uint64_t size;             /* bytes, multiple of MEM_PAGE_SIZE */
    uint64_t npages;
    struct mem_page **page;    /* npages pointers, NULL = never written */
    uint64_t allocated;        /* pages allocated so far */
};

/* Create memory of `size` bytes (rounded up to a page). Returns MEM_OK or
 * MEM_ENOMEM. Allocates only the page-pointer array (8 bytes per 4 KiB). */
int mem_init(struct mem *m, uint64_t size);
void mem_free(struct mem *m);

/* Deep copy (for exploration forks). Returns MEM_OK or MEM_ENOMEM. */
int mem_clone(struct mem *dst, const struct mem *src);

static inline bool mem_in_range(const struct mem *m, uint64_t pa, uint64_t len)
{
    return pa < m->size && len <= m->size - pa;
}

/* Read/write one aligned 8-byte word with its label. */
int mem_read_word(const struct mem *m, uint64_t pa, uint64_t *val, label_t *label);
int mem_write_word(struct mem *m, uint64_t pa, uint64_t val, label_t label);

/* Access of `size` bytes (1, 2, 4 or 8) that must not cross an 8-byte word.
 * A partial write replaces the whole word's label with `label` (the writer
 * now owns the word's data: a conservative choice for invariant 4). */
int mem_read(const struct mem *m, uint64_t pa, unsigned size, uint64_t *val, label_t *label);
int mem_write(struct mem *m, uint64_t pa, unsigned size, uint64_t val, label_t label);

/* Copy `n` words starting at word-aligned `pa` (used for cache line fills
 * and write-backs). All-or-nothing range check. */
int mem_read_words(const struct mem *m, uint64_t pa, uint64_t *val, label_t *label, unsigned n);
int mem_write_words(struct mem *m, uint64_t pa, const uint64_t *val, const label_t *label, unsigned n);

/* Fill a page with zero words labelled `label`. */
int mem_zero_page(struct mem *m, uint64_t pa, label_t label);

/* Byte copy in/out without labels (loading images; the label is set to
 * `label` on every word touched). */
int mem_load(struct mem *m, uint64_t pa, const void *src, size_t len, label_t label);
int mem_store_bytes(const struct mem *m, uint64_t pa, void *dst, size_t len);

/* Hash of memory contents and labels (FNV-1a 64 over allocated pages in
 * address order; pages of all zero / LABEL_NONE hash as absent). */
uint64_t mem_hash(const struct mem *m);

#endif
