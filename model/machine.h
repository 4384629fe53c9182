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
#include "hyp/hv.h"
#include "model/actor.h"
#include "model/checker.h"
#include "model/hw/msys.h"
#include "model/scenario.h"
#include "model/sched/sched.h"

enum check_mode { CHECK_INCREMENTAL, CHECK_FULL, CHECK_OFF };

struct machine_config {
    unsigned ncpus;            /* 1..64 */
    unsigned nvms;             /* VMs the host tries to keep alive, 0..hv max_vms */
    uint64_t mem_mib;          /* simulated memory */
    unsigned cache_sets, cache_ways;
    unsigned tlb_entries;      /* per CPU */
    uint64_t seed;
    enum sched_kind sched;
    unsigned pct_depth;        /* PCT bug depth d */
    unsigned ex_depth, ex_preempt;   /* exhaustive: bounds D and P (model/sched/sched.h) */
    uint64_t ex_schedule;      /* exhaustive: the schedule of the seed's tree */
    uint64_t steps;            /* run length */
    enum check_mode check;
    bool layers;               /* L1 refinement and L2 spec checks (invariant 8) */
    bool inv_agree;            /* also run the full checks every step and compare (model/inv.h) */
    char kcore_path[512];      /* the hypervisor's ELF image */
    char scenario_path[512];   /* "" = random actors */
};

/* The defaults: 4 CPUs, 2 VMs, 256 MiB, 10^6 steps, seed 1, the default
 * hypervisor's image (hyp/hv.h default_image). Reads no environment. */
void machine_config_default(struct machine_config *cfg);

/* ---- Events ------------------------------------------------------------ */
enum step_kind {
    STEP_CPU,            /* CPU i runs: one KCore instruction, or one actor action */
    STEP_TLB_FILL,       /* speculative fill on CPU i (translation valid now) */
    STEP_TLB_EVICT,      /* evict a TLB entry of CPU i */
    STEP_CACHE_EVICT,    /* evict a cache line */
    STEP_TLBI_COMPLETE,  /* complete one pending broadcast TLBI */
    STEP_KIND_COUNT
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
    uint64_t events[STEP_KIND_COUNT];
    uint64_t invariant_checks;
    uint64_t refinement_checks;    /* KCore reads compared with L1 (model/layers.c) */
    uint64_t spec_checks;          /* hypercall returns compared with the L2 spec */
    uint64_t fault_checks;         /* stage-2 fault handlings compared with the L2 spec */
    uint64_t spec_skipped;         /* hypercall checks skipped: a concurrent call touched the footprint */
    uint64_t fault_skipped;        /* fault checks skipped the same way */
    uint64_t fault_refused_allowed;/* host faults refused although the spec allows the mapping */
};

struct inv_state;              /* model/inv.c */
struct layers_state;           /* model/layers.c */

struct machine {
    struct machine_config cfg;
    const struct hv_ops *hv;   /* the hypervisor under test */
    struct msys ms;
    struct kimage img;
    struct cpu *cpu;           /* cfg.ncpus */
    struct actors act;
    struct scenario scen;      /* scripted actions (cfg.scenario_path), n == 0 if none */
    bool scripted;
    struct sched_state *sched;
    struct checker_inst chk[CHECKER_MAX];   /* model/checkers.c */
    unsigned nchk;
    struct inv_state *inv;     /* the invariants checker's state (model/inv.h) */
    struct layers_state *layers;   /* the hypervisor's L2 spec checker's state */
    struct machine_stats st;
    struct violation *viol;
    unsigned nviol, cap_viol;
    bool stop;                 /* a violation stops the run */
    /* Adds to a violation being recorded (the disassembled instruction);
     * NULL in hand-built machines (unit tests). */
    void (*annotate)(struct machine *m, struct violation *v);
    int step_cpu;              /* CPU of the step being performed (-1: none) */
    enum step_kind step_kind; /* and its kind */
    bool step_ran_kcore;       /* the step ran a KCore instruction */
    bool hv_booted;            /* the hypervisor has published that it booted */
    /* Choice source: a trace being replayed feeds choices back. */
    uint32_t (*choose_hook)(void *arg, uint32_t n);
    void *choose_arg;
    /* Choice recorder (traces): called with every choice made. */
    void (*record_hook)(void *arg, uint32_t n, uint32_t choice);
    void *record_arg;
    /* Step observer (traces: checkpoints, logs): called at the end of every
     * step that ran an event, after st.steps was incremented, with the CPU
     * and the kind of the event. */
    void (*step_hook)(void *arg, const struct machine *m, unsigned cpu, enum step_kind k);
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

/* A choice of kind `kind` in [0, n) (n >= 1), from the strategy
 * (model/sched/sched.h) or the replayed trace. Every nondeterministic
 * decision goes through here. machine_choose: an actor's (CH_ACTOR). */
uint32_t machine_choose_k(struct machine *m, enum choice_kind kind, uint32_t n);
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

/* The coherent view of memory (what a cacheable access would see), as the
 * abstraction functions and checkers read it (hyp/hv.h struct hv_mem). */
void machine_view(const struct machine *m, struct hv_mem *mm);

#endif
