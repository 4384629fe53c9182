/*
 * model/hw/event.h - the machine's typed step events, and the bus that
 * carries them to whoever registered for them (checkers, logs, coverage).
 *
 * Everything that happens in a step is reported here by the part that does
 * it: the access path (model/hw/msys.c) reports every data access end to
 * end, every descriptor a walk reads, TLB fills, evictions and
 * invalidations, DC operations and cache-line evictions; cpu/ reports
 * barriers, system-register writes, exception entry and return and the
 * instructions it ran; the actors (model/actor.c) report hypercalls issued
 * and returned and stage-2 faults; the machine (model/machine.c) brackets
 * each step. A checker never decodes an instruction or looks inside the
 * cache to learn what happened: it reads the event.
 *
 * Events are synchronous (the subscriber runs inside the emitting call,
 * before the emitter goes on) and ordered as they happen. A subscriber may
 * read the machine but must not change it. Emitting costs one mask test
 * when nobody listens to that kind.
 */
#ifndef HYPSIM_EVENT_H
#define HYPSIM_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include "cache/cache.h"
#include "mmu/mmu.h"
#include "model/hw/mem.h"
#include "tlb/tlb.h"

enum ev_kind {
    EV_STEP_BEGIN,       /* step: a step starts (its kind and CPU are known) */
    EV_STEP_END,         /* step: the step's event was performed */
    EV_ACCESS,           /* access: one data access, translated and performed */
    EV_WALK_DESC,        /* desc: a translation-table walk read (or updated) a descriptor */
    EV_TLB_FILL,         /* tlb: an entry was filled (on a miss or speculatively) */
    EV_TLB_EVICT,        /* tlb: an entry was evicted by the scheduler */
    EV_TLBI_ISSUE,       /* tlbi: a TLBI was issued (pending on its targets) */
    EV_TLBI_COMPLETE,    /* tlbi: a pending TLBI took effect on one target CPU */
    EV_DC,               /* dc: a data-cache maintenance operation by VA */
    EV_CACHE_EVICT,      /* line: a cache line was evicted (written back if dirty) */
    EV_BARRIER,          /* bar: DMB, DSB or ISB */
    EV_SYSREG_WRITE,     /* sysreg: MSR to a system register the model keeps */
    EV_EXC_ENTRY,        /* exc: exception entry from EL1 to EL2 */
    EV_ERET,             /* eret: exception return */
    EV_HVC_ISSUE,        /* hvc: an actor issues a hypercall */
    EV_HVC_RETURN,       /* hvc: the hypercall in flight returned */
    EV_S2_FAULT,         /* fault: an actor's access took a stage-2 fault to EL2 */
    EV_S2_FAULT_RETURN,  /* fault: the hypervisor's handling of it ended (ERET) */
    EV_VCPU_ENTRY,       /* (none): the hypervisor entered a vCPU with nothing pending */
    EV_INSN,             /* insn: hypervisor instructions ran */
    EV_KIND_COUNT
};
#define EV_BIT(k) (1ull << (k))

/* Why a step ran (machine.h enum event_kind values, kept as a number here
 * so that this header stays below model/). */
struct ev_step {
    unsigned kind;       /* enum event_kind */
    bool ran_hyp;        /* the step ran a hypervisor instruction */
};

/* One data access end to end: what the access path (model/hw/msys.c)
 * did. cpu/ keeps the records of its last step too (logs). */
struct msys_access {
    label_t who;         /* the principal making it (LABEL_HYP: the hypervisor) */
    uint64_t va, ipa, pa;
    unsigned size;
    enum mmu_access acc;
    bool tlb_hit;
    bool cacheable;      /* the memory type the access used */
    enum cache_outcome cache;
    uint64_t val;        /* value read or written */
    label_t label;       /* label read, or label written */
};

struct ev_desc {
    uint64_t pa, val;
    bool write;          /* a hardware access-flag/dirty update */
    bool cacheable;      /* the walk's cacheability */
};

struct ev_tlb {
    unsigned slot;       /* index of the entry in the CPU's TLB */
    struct tlb_entry e;  /* the entry (as filled, or as it was) */
};

struct ev_tlbi {
    struct tlbi_op op;
    unsigned issuer;
    unsigned target;     /* EV_TLBI_COMPLETE: the CPU it took effect on */
    unsigned removed;    /* EV_TLBI_COMPLETE: entries it removed there */
};

struct ev_dc {
    enum dc_op op;
    uint64_t va, pa;
    uint64_t line;       /* the line (or DC ZVA block) address it acted on */
    bool cacheable;      /* the memory type of the VA (DC ZVA to non-cacheable memory writes memory) */
};

struct ev_line {
    uint64_t pa;         /* line address */
    bool dirty;          /* it was written back */
};

/* Barrier kinds (Arm ARM C6.2 DMB, DSB, ISB). domain: the shareability
 * domain of the option (CRm[3:2]: 0 OSH, 1 NSH, 2 ISH, 3 SY); types:
 * CRm[1:0] (1 LD, 2 ST, 3 all). */
enum ev_barrier { EV_BAR_DMB, EV_BAR_DSB, EV_BAR_ISB };
struct ev_bar {
    enum ev_barrier kind;
    unsigned domain, types;
    unsigned completed;  /* DSB: pending TLBIs it completed */
};

struct ev_sysreg {
    unsigned reg;        /* enum sysreg (cpu/cpu.h) */
    uint64_t old, val;
};

struct ev_exc {
    uint64_t esr, far, hpfar, elr;
    label_t from;        /* the principal the exception came from */
};

struct ev_eret {
    uint64_t elr;
    label_t to;          /* principal now at EL1, or LABEL_HYP for an ERET within EL2 */
};

struct ev_hvc {
    label_t who;
    bool guest;
    uint64_t hc;
    uint64_t a[4];       /* x1..x4 at issue */
    int64_t r;           /* EV_HVC_RETURN: x0 */
    uint64_t x1;         /* EV_HVC_RETURN: x1 */
    bool exited;         /* EV_HVC_RETURN: a guest's call ended with its vCPU's exit */
};

struct ev_fault {
    bool guest;
    uint64_t x0, x1;     /* EV_S2_FAULT_RETURN: the host's registers after a guest's exit */
};

struct ev_insn {
    uint64_t pc;         /* first instruction */
    unsigned n;          /* straight-line instructions run from pc */
    uint64_t next_pc;    /* where execution goes on (a taken branch, ...) */
};

struct ev {
    enum ev_kind kind;
    int cpu;             /* -1: no CPU */
    union {
        struct ev_step step;
        struct msys_access access;
        struct ev_desc desc;
        struct ev_tlb tlb;
        struct ev_tlbi tlbi;
        struct ev_dc dc;
        struct ev_line line;
        struct ev_bar bar;
        struct ev_sysreg sysreg;
        struct ev_exc exc;
        struct ev_eret eret;
        struct ev_hvc hvc;
        struct ev_fault fault;
        struct ev_insn insn;
    } u;
};

typedef void (*ev_fn)(void *arg, const struct ev *e);

#define EV_MAX_SUBSCRIBERS 16

struct ev_bus {
    uint64_t any;        /* union of the subscribers' masks */
    unsigned n;
    struct { uint64_t mask; ev_fn fn; void *arg; } sub[EV_MAX_SUBSCRIBERS];
};

/* Register fn for the kinds in mask (EV_BIT(k) | ...). Subscribers are
 * called in registration order. Returns 0, or -1 when the bus is full. */
int ev_subscribe(struct ev_bus *b, uint64_t mask, ev_fn fn, void *arg);
/* Remove every registration of (fn, arg). */
void ev_unsubscribe(struct ev_bus *b, ev_fn fn, void *arg);

static inline bool ev_wanted(const struct ev_bus *b, enum ev_kind k)
{
    return b && (b->any & EV_BIT(k));
}

void ev_dispatch(const struct ev_bus *b, const struct ev *e);

static inline void ev_emit(const struct ev_bus *b, const struct ev *e)
{
    if (ev_wanted(b, e->kind))
        ev_dispatch(b, e);
}

const char *ev_kind_name(enum ev_kind k);

#endif
