/*
 * model/machine.h - the whole simulated machine and its step function.
 *
 * struct machine owns everything: memory system, CPUs, the KCore image, the
 * actors' state, the scheduler and the invariant checker's state. No
 * globals: several machines can live in one process.
 *
 * Nondeterminism (DESIGN.md "Nondeterminism = scheduler choices"): every
 * choice the run makes - which event runs next, and every choice an actor
 * makes (which hypercall, which address, cacheable or not) - is drawn through
 * machine_choose(). A run is therefore its config plus the sequence of
 * choices, which is what a trace records and what replay feeds back.
 */
#ifndef HYPSIM_MACHINE_H
#define HYPSIM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "model/hw/msys.h"
#include "hyp/kcore/abi.h"
#include "model/scenario.h"

enum sched_kind { SCHED_RANDOM, SCHED_RR, SCHED_PCT };
enum check_mode { CHECK_INCREMENTAL, CHECK_FULL, CHECK_OFF };

struct machine_config {
    unsigned ncpus;            /* 1..64 */
    unsigned nvms;             /* VMs the host tries to keep alive, 0..KC_MAX_VMS */
    uint64_t mem_mib;          /* simulated memory */
    unsigned cache_sets, cache_ways;
    unsigned tlb_entries;      /* per CPU */
    uint64_t seed;
    enum sched_kind sched;
    unsigned pct_depth;        /* PCT bug depth d */
    uint64_t steps;            /* run length */
    enum check_mode check;
    bool layers;               /* L1 refinement and L2 spec checks (model/layers.c) */
    char kcore_path[512];
    char scenario_path[512];   /* "" = random actors */
};

void machine_config_default(struct machine_config *cfg);

/* ---- Events ------------------------------------------------------------ */
enum event_kind {
    EV_CPU,            /* CPU i runs: one KCore instruction, or one actor action */
    EV_TLB_FILL,       /* speculative fill on CPU i (translation valid now) */
    EV_TLB_EVICT,      /* evict a TLB entry of CPU i */
    EV_CACHE_EVICT,    /* evict a cache line */
    EV_TLBI_COMPLETE,  /* complete one pending broadcast TLBI */
    EV_KIND_COUNT
};

/* ---- Violations ---------------------------------------------------------- */
struct violation {
    uint64_t step;
    int cpu;                   /* -1 when not tied to a CPU */
    int invariant;             /* 1..8 per DESIGN.md, 0 = KCore fault/panic */
    uint64_t page;             /* physical page address, or ~0 */
    label_t who, whose;        /* principal acting, principal whose data/page */
    char detail[256];
    char insn[96];             /* the KCore instruction of the violating step (or
                                  the last one on that CPU), disassembled */
};

/* ---- Statistics ---------------------------------------------------------- */
struct machine_stats {
    uint64_t steps;
    uint64_t guest_instructions;   /* KCore instructions executed */
    uint64_t hypercalls;           /* hypercalls issued by actors */
    uint64_t hc_ok[32];            /* successful hypercalls by number */
    uint64_t hc_fail[32];
    uint64_t host_s2_faults, host_s2_refused, guest_s2_faults;
    uint64_t actor_reads, actor_writes;
    uint64_t events[EV_KIND_COUNT];
    uint64_t invariant_checks;
    uint64_t refinement_checks;    /* KCore reads compared with L1 (model/layers.c) */
    uint64_t spec_checks;          /* hypercall returns compared with the L2 spec */
    uint64_t fault_checks;         /* stage-2 fault handlings compared with the L2 spec */
};

/* ---- Actors (model/actor.c) -------------------------------------------- */
enum actor_op_kind { AOP_NONE, AOP_HVC, AOP_ACCESS };

/* The host's or a guest's operation in flight on one CPU while KCore handles
 * its exception. */
struct actor_pending {
    enum actor_op_kind kind;
    uint64_t hc;               /* hypercall number */
    uint64_t arg[4];
    uint64_t ipa;              /* access */
    bool write, cacheable;
    uint64_t val;
    bool lifecycle;            /* a host lifecycle call (clears host_vm.busy) */
};

struct host_vm {               /* the host's own bookkeeping of one VM */
    bool used;
    int state;                 /* VM_STATE_* as the host believes it */
    unsigned nvcpus;
    unsigned image_pages;
    uint64_t next_gfn_fault;   /* a gfn the guest faulted on, to donate */
    bool want_donate;
    bool busy;                 /* one of its lifecycle hypercalls is in flight */
};

/* The host touches its first ACTOR_HOST_HOT_PAGES pages above KCore's
 * region most, and gives pages away from above them (it still touches any
 * page now and then: the host is adversarial). */
#define ACTOR_HOST_HOT_PAGES 64u
#define ACTOR_HOST_FIRST_FREE_PFN ((KC_END >> MEM_PAGE_SHIFT) + ACTOR_HOST_HOT_PAGES)

struct actors {
    struct actor_pending host_pending[KC_MAX_CPUS];  /* per CPU: host op in flight */
    struct actor_pending guest_pending[KC_MAX_CPUS];
    struct host_vm vm[KC_MAX_VMS];
    uint64_t guest_granted[KC_MAX_VMS][64];           /* grants per gfn (gfn < 64) */
    uint64_t guest_mapped[KC_MAX_VMS];                /* gfns < 64 the guest has used */
    uint64_t next_free_pfn;    /* simple host page allocator for donations */
    unsigned registering;      /* HC_REGISTER_VM calls in flight */
};

struct inv_state;              /* model/inv.c */
struct sched_state;            /* model/sched.c */
struct layers_state;           /* model/layers.c */

struct machine {
    struct machine_config cfg;
    struct msys ms;
    struct kimage img;
    struct cpu *cpu;           /* cfg.ncpus */
    struct actors act;
    struct scenario scen;      /* scripted actions (cfg.scenario_path), n == 0 if none */
    bool scripted;
    struct sched_state *sched;
    struct inv_state *inv;
    struct layers_state *layers;
    struct machine_stats st;
    struct violation *viol;
    unsigned nviol, cap_viol;
    bool stop;                 /* a violation stops the run */
    /* Adds to a violation being recorded (the disassembled instruction);
     * NULL in hand-built machines (unit tests). */
    void (*annotate)(struct machine *m, struct violation *v);
    int step_cpu;              /* CPU of the step being performed (-1: none) */
    enum event_kind step_kind; /* and its kind */
    bool step_ran_kcore;       /* the step ran a KCore instruction */
    /* Choice source: a trace being replayed feeds choices back. */
    uint32_t (*choose_hook)(void *arg, uint32_t n);
    void *choose_arg;
    /* Choice recorder (traces): called with every choice made. */
    void (*record_hook)(void *arg, uint32_t n, uint32_t choice);
    void *record_arg;
    /* Step observer (traces: checkpoints, logs): called at the end of every
     * step that ran an event, after st.steps was incremented, with the CPU
     * and the kind of the event. */
    void (*step_hook)(void *arg, const struct machine *m, unsigned cpu, enum event_kind k);
    void *step_arg;
};

/* Build the machine: memory, cache, TLBs, the KCore image (cfg->kcore_path),
 * CPUs at KCore's entry. Returns 0, or -1 with a one-line message in err
 * (bad config or image: the caller exits 2). */
int machine_init(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen);
void machine_free(struct machine *m);

/* One step: the scheduler picks one enabled event, the machine performs it,
 * the invariants are checked. Returns 0, or 1 when a violation was found
 * (m->stop is then set). */
int machine_step(struct machine *m);

/* A choice in [0, n) (n >= 1), from the scheduler's seeded generator or the
 * replayed trace. Every nondeterministic decision goes through here. */
uint32_t machine_choose(struct machine *m, uint32_t n);

/* Record a violation (and stop the run). model/violation.c. */
void machine_violation(struct machine *m, int cpu, int invariant, uint64_t page,
                       label_t who, label_t whose, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Principal now running at EL1 on a CPU (LABEL_HOST or LABEL_VM(n)); only
 * meaningful when the CPU is not in KCore mode. */
label_t machine_principal(const struct machine *m, unsigned cpu);

/* A hash of the whole machine state (memory, cache, TLBs, CPU registers and
 * modes, actor state) - for trace verification. */
uint64_t machine_hash(const struct machine *m);

/* ---- Actor interface (model/actor.c) ------------------------------------ */
/* Perform one action of the principal at EL1 on CPU cpu (host or guest):
 * an access, a hypercall, ... Uses machine_choose for every decision. */
void actor_act(struct machine *m, unsigned cpu);
/* KCore has ERETed to EL1 on cpu: finish the pending op (read x0/x1 results
 * of a hypercall, learn a refused access). */
void actor_resume(struct machine *m, unsigned cpu);

/* ---- Invariant interface (model/inv.c) ---------------------------------- */
int inv_init(struct machine *m);
void inv_free(struct machine *m);
/* After each step: check per m->cfg.check. */
void inv_after_step(struct machine *m, unsigned cpu, enum event_kind ev);
/* Called by actors on each data access they make (invariants 4 and 5). */
void inv_on_actor_access(struct machine *m, unsigned cpu, label_t who,
                         const struct msys_access *a, bool write);

#endif
