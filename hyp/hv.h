/*
 * hyp/hv.h - the hypervisor under test, as the simulator sees it.
 *
 * The hardware model (mmu/, tlb/, cache/, model/hw/), cpu/ and the generic
 * checkers know a hypervisor only through one struct hv_ops: its memory
 * layout and boot contract, how VMIDs name principals, the name of its
 * label, its abstraction function (per page owner, share count and gfn;
 * the stage-2 roots of its principals; whether it has booted), its table
 * of hypercalls, the adversary that drives it (host and guest actors) and
 * the checkers of its own specification. KCore (hyp/kcore/) is the first
 * implementation; hyp/registry.c lists them. hyp/CONTRACT.md says what a
 * second one provides.
 *
 * The abstraction is read from memory only (the checkers pass the coherent
 * view, what a cacheable access would see), never from the hypervisor's
 * private bookkeeping: a checker trusts the machine state, not the code
 * under test. It is limited to what KCore-style designs keep in memory: an
 * ownership array of one 8-byte entry per page frame, and a set of words
 * (published roots, a boot flag) that name every stage-2 root.
 */
#ifndef HYPSIM_HV_H
#define HYPSIM_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/hw/mem.h"

/* ---- Machine-wide limits (every hypervisor lives within them) --------- */
#define HV_MAX_CPUS 64u
#define HV_MAX_VMS  16u        /* label and principal-slot space */

/* ---- Owners of a page in the abstraction ------------------------------ */
/* The numbering every checker uses; an implementation decodes its own
 * entries into it (page_decode). */
#define HV_OWNER_HOST   0u
#define HV_OWNER_HYP    1u     /* the hypervisor's own page */
#define HV_OWNER_NONE   2u
#define HV_OWNER_VM(n)  (3u + (n))
#define HV_OWNER_IS_VM(o) ((o) >= HV_OWNER_VM(0))
#define HV_OWNER_VM_INDEX(o) ((unsigned)(o) - 3u)

struct hv_page {
    unsigned owner;            /* HV_OWNER_* */
    unsigned count;            /* share count: borrowers' mappings allowed */
    uint64_t gfn;              /* VM pages: the gfn its owner maps it at */
};

/* Principal slots (the checkers' numbering of stage-2 roots): 0 = the
 * host, n + 1 = VM n. */
#define HV_SLOT_HOST    0u
#define HV_SLOT_VM(n)   (1u + (n))
#define HV_NSLOTS       (1u + HV_MAX_VMS)

/* How the abstraction reads memory: word(pa) is the aligned 8-byte word
 * holding pa (0 outside memory); words() reads n aligned words from pa
 * (8-aligned), returning 0 or -1 outside memory. */
struct hv_mem {
    uint64_t (*word)(const void *arg, uint64_t pa);
    int (*words)(const void *arg, uint64_t pa, uint64_t *out, unsigned n);
    const void *arg;
};

/* What a word of memory is to the abstraction (word_kind). */
enum hv_word_kind {
    HV_WORD_NONE = 0,          /* not read by the abstraction */
    HV_WORD_OWNER,             /* the ownership entry of page frame *index */
    HV_WORD_ROOT,              /* the stage-2 root of principal slot *index */
    HV_WORD_BOOTED,            /* the boot flag */
    HV_WORD_PUBLIC,            /* other published state (VM states, ...) */
};

/* Memory layout. Every address is physical. */
struct hv_layout {
    uint64_t text_base, text_size;   /* the image's text (fetched from emulator RAM) */
    uint64_t region_end;             /* [0, region_end): the hypervisor's own memory,
                                        every page of it must be HV_OWNER_HYP */
    uint64_t pool_base, pool_size;   /* every stage-2 table page comes from here */
    uint64_t own_base;               /* ownership array: entry of pfn at own_base + 8 pfn */
    uint64_t own_entries;            /* entries the array holds */
    uint64_t min_mem;                /* bytes of memory it needs */
    unsigned max_vms;                /* <= HV_MAX_VMS */
    unsigned max_vcpus;              /* per VM */
    uint64_t vtcr;                   /* VTCR_EL2 of every stage 2 it builds */
    unsigned ipa_bits;               /* the IPA space of its stage 2 */
};

/* The boot contract (hyp/CONTRACT.md): every CPU enters the image's entry
 * at EL2h, MMU off, x0 = CPU index, x1 = CPU count, x2 = memory bytes, and
 * ERETs to the host when booted. */
struct hv_boot {
    uint64_t host_vbar_el1;          /* the host's VBAR_EL1 (read-only to the hypervisor) */
    uint64_t host_entry;             /* the host's PC after boot (a marker, not code) */
    uint64_t inject_offset;          /* an ERET to host_vbar_el1 + this injects an
                                        exception into the host (0x200: current EL
                                        with SPx, synchronous) */
};

/* One row of the hypercall table, as the generic parts see it (names for
 * scenarios, logs and summaries). An implementation's table extends it
 * with its argument generator, footprint, specification and return check
 * (hyp/kcore/host/calls.c). */
struct hv_call {
    uint64_t nr;                     /* x0 */
    const char *name;                /* "donate": scenarios, logs */
    const char *sym;                 /* "HC_DONATE": violation reports */
    bool guest;                      /* issued by guests (else by the host) */
    bool exits;                      /* a guest call that ends with its vCPU's exit
                                        to the host (it never returns to the guest) */
};

struct machine;
struct checker_def;
struct actor_pending;

/* The adversary: the host and guest actors' policy (model/actor.c performs
 * what it decides: accesses, hypercalls; every decision through
 * machine_choose). */
struct hv_adversary {
    /* State for one machine; NULL on failure. */
    void *(*init)(struct machine *m);
    void (*free)(void *st);
    /* One action of the host (guest) now at EL1 on cpu. */
    void (*host_act)(struct machine *m, void *st, unsigned cpu);
    void (*guest_act)(struct machine *m, void *st, unsigned cpu);
    /* The principal's hypercall p (number, arguments, the adversary's
     * flags) returned x0, x1 on cpu. */
    void (*host_returned)(struct machine *m, void *st, unsigned cpu,
                          const struct actor_pending *p, int64_t x0, uint64_t x1);
    void (*guest_returned)(struct machine *m, void *st, unsigned cpu,
                           const struct actor_pending *p, int64_t x0, uint64_t x1);
    /* A guest's access reached memory (the guest now uses this gfn). */
    void (*guest_accessed)(struct machine *m, void *st, unsigned cpu, uint64_t ipa);
};

struct hv_ops {
    const char *name;                /* "kcore": --hypervisor, traces */
    const char *label_name;          /* "KCore": LABEL_HYP in messages */
    const char *default_image;       /* the ELF built with hypsim */
    struct hv_layout layout;
    struct hv_boot boot;

    /* Principal a VMID names (LABEL_HOST or LABEL_VM(n)). */
    label_t (*vmid_principal)(unsigned vmid);

    /* ---- The abstraction function ---- */
    /* Decode one ownership entry (an entry of a pfn >= own_entries is
     * never decoded: such a page is HV_OWNER_NONE). */
    void (*page_decode)(uint64_t entry, struct hv_page *p);
    /* VTTBR_EL2 (root | VMID << 48) of principal slot s, 0 if none yet. */
    uint64_t (*root)(const struct hv_mem *mm, unsigned slot);
    bool (*booted)(const struct hv_mem *mm);
    /* What the word at pa is to the abstraction; *index as documented. */
    enum hv_word_kind (*word_kind)(uint64_t pa, uint64_t *index);

    /* ---- Hypercalls, adversary, own checkers ---- */
    /* Row i of the hypercall table (NULL past the end). */
    const struct hv_call *(*call)(unsigned i);
    const struct hv_adversary *adversary;
    const struct checker_def *const *checkers;   /* NULL-terminated: its specification */
};

/* ---- hyp/registry.c ------------------------------------------------------ */
/* The implementation named `name`, or NULL. hv_default(): the first one. */
const struct hv_ops *hv_find(const char *name);
const struct hv_ops *hv_default(void);
/* The n-th registered implementation (NULL past the end). */
const struct hv_ops *hv_nth(unsigned n);

/* ---- Helpers every user of the interface shares (hyp/hv.c) --------------- */
/* The entry of page frame pfn read through mm and decoded; HV_OWNER_NONE
 * beyond the array. */
void hv_page(const struct hv_ops *hv, const struct hv_mem *mm, uint64_t pfn, struct hv_page *p);
/* The owner the invariants hold the hypervisor to: its own region is
 * HV_OWNER_HYP whatever the array says. */
void hv_page_effective(const struct hv_ops *hv, const struct hv_mem *mm, uint64_t pfn,
                       struct hv_page *p);
/* A label's principal for messages: hv->label_name, "host", "VM n"
 * (written into buf), or "nobody" (LABEL_NONE and unknown labels). */
const char *hv_label_name(const struct hv_ops *hv, label_t l, char *buf, size_t n);
/* An owner for messages: hv->label_name, "host", "VM n", "nobody". */
const char *hv_owner_name(const struct hv_ops *hv, unsigned owner, char *buf, size_t n);
/* Owner <-> label (HV_OWNER_VM(n) <-> LABEL_VM(n)). */
label_t hv_owner_label(unsigned owner);
/* The row of hypercall nr, or NULL; and by name. */
const struct hv_call *hv_call_by_nr(const struct hv_ops *hv, uint64_t nr);
const struct hv_call *hv_call_by_name(const struct hv_ops *hv, const char *name);
/* Is pa inside the hypervisor's own region / its table pool? */
static inline bool hv_in_region(const struct hv_ops *hv, uint64_t pa) { return pa < hv->layout.region_end; }
static inline bool hv_in_pool(const struct hv_ops *hv, uint64_t pa)
{
    return pa >= hv->layout.pool_base && pa - hv->layout.pool_base < hv->layout.pool_size;
}

#endif
