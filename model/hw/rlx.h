/*
 * model/hw/rlx.h - the relaxed (Armv8-A) memory model: which write a read
 * may see, where a write may go, and what barriers, acquire/release,
 * dependencies, TLB maintenance and context synchronisation order. The
 * machine (model/hw/msys.c, cpu/) and the litmus explorer (litmus/) both
 * use this code; neither has a copy of its rules.
 *
 * The model is Promising-ARM without promises (Pulte, Pichon-Pharabod,
 * Kang, Lee, Hur: "Promising-ARM/RISC-V: a simpler and faster operational
 * concurrency model", PLDI 2019, section 4 and Fig. 8 "ARMv8 thread
 * steps"), executed in program order: memory is a set of messages (writes)
 * with timestamps, each PE has views (timestamps) that bound which
 * messages its reads may see and where its writes may be placed. Promising
 * is proved equivalent to Arm's axiomatic model (Pulte et al., POPL 2018,
 * "Simplifying ARM concurrency"); every restriction below only removes
 * behaviours, so this model never shows an outcome Armv8-A forbids:
 *   - no promises: a write takes its timestamp when it executes, so load
 *     buffering (LB: a read seeing a po-later write of another thread that
 *     depends on nothing) is not reached;
 *   - a write to x is placed after every message to x (coherence order =
 *     execution order per location; Promising only requires it after the
 *     writer's coherence view), but may be placed before later messages to
 *     other locations (so W->W and R->W reorderings as other PEs see them
 *     remain), among the RLX_SLOTS most recent write positions;
 *   - each location keeps its RLX_K newest messages (older ones can no
 *     longer be read);
 *   - a read's post view is its timestamp joined with its pre view (also
 *     orders reads transitively through address dependencies), and
 *   - register views over-approximate dependencies where an instruction's
 *     registers are not known exactly.
 *
 * Beyond the paper, for virtual memory (hypsim's own rules, each tested
 * by the herd VMSA catalogue, litmus/README.md):
 *   - a translation-table walk reads descriptors like a read of its PE
 *     whose pre view is the PE's walker view `walk`, not its program-order
 *     views: walks are not ordered by DMB;
 *   - an access is ordered after the descriptor its translation used: its
 *     post view (a read) or pre view (a write) joins the timestamp of the
 *     descriptor message the walk read (or the TLB entry was filled from);
 *   - a DSB orders what it waits for: the PE's reads and the messages its
 *     walks saw (types LD or all) and its writes (types ST or all); a TLBI
 *     carries what the issuer's DSBs (not NSH) ordered before it, and when
 *     it completes on a PE that PE's walker view joins it: a descriptor
 *     store (or a read that observed one) not ordered before the TLBI by a
 *     DSB of the right types may still be seen stale by walks after the
 *     TLBI (Arm ARM D8.13.1; herd V2I-*, MP+dmb.st+dsb.*-tlbi-dsb-isb);
 *   - an ISB (any context synchronisation) after a DSB makes what that DSB
 *     ordered visible to the PE's own later walks (herd I2V-*, coRR-pte8-*)
 *     - but only for descriptors that would fault: a translation read of a
 *     valid descriptor may be satisfied from a TLB filled at any earlier
 *     time, and only a completed TLBI orders it (aarch64.cat: TTD reads are
 *     "observed" only as TLBUncacheable-ca or TLBI-ca; herd coRR-pte5,
 *     MP+dmb.st+dsb.st-tlbi-dsb-isb Allowed);
 *   - a translation read is ordered before every later write of its PE and
 *     (through ISB) every later access (herd aarch64hwreqs.cat "tr-ib; po;
 *     [Exp & W]", CSE-ob);
 *   - a translation fault is an event ordered like an access (after DMB ST,
 *     barriers, dependencies: "[W]; po; [dmb.st]; po; [MMU & FAULT]"), and
 *     the accesses and faults a TLBI's target made with translations the
 *     TLBI invalidates are ordered before what follows the issuer's DSB
 *     (aarch64.cat "TLBI-ob": tr-ib^-1; TTD-read-ordered-before): when a
 *     TLBI completes on a PE, everything that PE did so far is ordered
 *     before the issuer's next DSB (over-approximating "the translations
 *     it invalidates" by "all");
 *   - a hardware Access-flag or dirty-state update is an atomic
 *     read-modify-write of the newest descriptor ("[Imp & TTD & R]; rmw;
 *     [HU]"): a walk that read an older message makes none;
 *   - only a DSB with types = all (not LD, not ST) completes TLB
 *     maintenance; DSB NSH completes only the invalidations of the
 *     issuer's own TLB (Arm ARM D5.10.2, B2.3.12 "DSB").
 * Leaves out: promises (LB), mixed-size accesses (a partial write makes a
 * message of its whole word), Device and Normal-NC ordering (non-cacheable
 * accesses go to memory directly and see the newest value), FEAT_ETS
 * (walks are not ordered after program-order-earlier accesses).
 */
#ifndef HYPSIM_RLX_H
#define HYPSIM_RLX_H

#include <stdbool.h>
#include <stdint.h>
#include "model/hw/mem.h"

#define RLX_K      4             /* messages kept per location */
#define RLX_SLOTS  4             /* recent write positions a new write may take */
#define RLX_GAP    (1ull << 20)  /* timestamp step of a write placed last */
#define RLX_NREGS  33            /* x0..x30, the flags (RLX_REG_FLAGS), an ELR-like scratch */
#define RLX_REG_FLAGS 31
#define RLX_REG_EXTRA 32

struct rlx_msg {
    uint64_t ts;                 /* 0: older than every view (an initial value) */
    uint64_t val;
    label_t label;
    uint64_t seen;               /* PEs that read or wrote it (their coherence view) */
};

/* One location (an aligned 8-byte word): its newest messages, ascending
 * timestamp; m[n-1] is the coherent value. */
struct rlx_loc {
    uint64_t pa;
    uint8_t n;
    struct rlx_msg m[RLX_K];
};

/* One PE's views (Promising-ARM's thread state, without promises). */
struct rlx_views {
    uint64_t rold, wold;         /* joins of the post views of reads / writes done */
    uint64_t rnew, wnew;         /* lower bounds for later reads / writes (barriers, acquires) */
    uint64_t cap;                /* addresses and control dependencies so far: writes come after */
    uint64_t rel;                /* the last release write (a later acquire is ordered after it) */
    uint64_t dsbv;               /* what DSBs (not NSH) ordered so far: a TLBI carries it */
    uint64_t dsbloc;             /* what DSBs of any domain ordered: own walks after an ISB */
    uint64_t csev;               /* what context synchronisation ordered before all later
                                    events (ctrl/addr dependencies, faults): TLBIs too */
    uint64_t walk;               /* the walker's view: TLBI completions order it */
    uint64_t walku;              /* ... and, for descriptors that fault, context
                                    synchronisation (DSB + ISB, dependencies) */
    uint64_t tseen;              /* the join of the messages its walks read or wrote */
    uint64_t faultv;             /* the join of the pre views of its faults */
    uint64_t tlbiack;            /* what the completions of its TLBIs ordered before them */
    uint64_t reg[RLX_NREGS];     /* register views (dependencies) */
};

/* The global write positions. */
struct rlx_clock {
    uint64_t next;               /* the timestamp of the next write placed last */
    unsigned n;
    uint64_t recent[RLX_SLOTS];  /* the newest write timestamps, ascending */
};

/* What an access is (its dependencies come from register views). */
struct rlx_acc {
    unsigned cpu;
    uint64_t vaddr;              /* view of the address registers */
    uint64_t vtrans;             /* view of the translation (its descriptor message) */
    uint64_t vdata;              /* view of the data registers (writes) */
    bool acquire;                /* LDAR, LDA*, A-forms of the LSE atomics: RCsc */
    bool acquire_pc;             /* LDAPR: RCpc (not ordered after an earlier release) */
    bool release;                /* STLR, L-forms of the LSE atomics */
    bool atomic;                 /* a read-modify-write: reads the newest message (its
                                    write: acquire and release both set = AL form) */
};

void rlx_clock_init(struct rlx_clock *c);
void rlx_views_init(struct rlx_views *v);

/* A location not yet in the store holding `val` (the coherent value):
 * one message older than every view. */
void rlx_loc_init(struct rlx_loc *l, uint64_t pa, uint64_t val, label_t label);

/* ---- Reads ---------------------------------------------------------------- */
/* How many messages of l a read may see (>= 1). Option 0 is the newest
 * (what a sequentially consistent machine returns), option k the k-th
 * older one that is still allowed. */
unsigned rlx_read_options(const struct rlx_loc *l, const struct rlx_views *v,
                          const struct rlx_acc *a);
/* Perform read option k: the message's value and label; updates views
 * (and l's coherence marks). Returns the read's post view (for the
 * destination registers' views). */
uint64_t rlx_read(struct rlx_loc *l, struct rlx_views *v, const struct rlx_acc *a,
                  unsigned k, uint64_t *val, label_t *label);

/* A translation-table walk of PE v reading descriptor location l: how
 * many messages it may read, newest first; faults(val, arg) says whether
 * a descriptor value would make the translation fault (invalid, or
 * Access flag 0 without hardware update). */
typedef bool (*rlx_faults_fn)(uint64_t desc, const void *arg);
unsigned rlx_walk_options(const struct rlx_loc *l, const struct rlx_views *v, rlx_faults_fn faults,
                          const void *arg);
/* Perform walk option k; returns the message's timestamp (the view of the
 * translation). */
uint64_t rlx_walk_read(struct rlx_loc *l, struct rlx_views *v, rlx_faults_fn faults, const void *arg,
                       unsigned k, uint64_t *val, label_t *label);
/* The timestamp of the newest message of l holding val (if none, an
 * upper bound: the oldest kept): the view of a TLB entry filled from a
 * descriptor value cached earlier. */
uint64_t rlx_ts_of_value(const struct rlx_loc *l, uint64_t val);

/* ---- Writes --------------------------------------------------------------- */
/* How many positions a write to l may take (>= 1). Option 0: last. */
unsigned rlx_write_options(const struct rlx_clock *c, const struct rlx_loc *l,
                           const struct rlx_views *v, const struct rlx_acc *a);
/* Perform write option k of val (label): a new message, views updated.
 * Returns its timestamp. */
uint64_t rlx_write(struct rlx_clock *c, struct rlx_loc *l, struct rlx_views *v,
                   const struct rlx_acc *a, unsigned k, uint64_t val, label_t label);

/* ---- Barriers, dependencies, TLBI ------------------------------------------ */
enum rlx_barrier { RLX_DMB, RLX_DSB, RLX_ISB };
/* domain: CRm[3:2] (0 OSH, 1 NSH, 2 ISH, 3 SY); types: CRm[1:0] (1 LD,
 * 2 ST, 3 all; 0 is not a DMB/DSB: SSBB, PSSBB). */
void rlx_barrier(struct rlx_views *v, enum rlx_barrier k, unsigned domain, unsigned types);
/* Does this DSB complete TLB maintenance (the issuer's broadcast TLBIs on
 * every PE when `all_pes`, else only those of the issuer's own TLB)? */
bool rlx_dsb_completes_tlbi(unsigned domain, unsigned types, bool *all_pes);
/* A context synchronisation event (ISB, exception entry or return). */
void rlx_context_sync(struct rlx_views *v);
/* A control dependency on the registers in mask (conditional branch, CBZ,
 * TBZ): later writes are ordered after them. */
void rlx_ctrl(struct rlx_views *v, uint64_t regmask);
/* The join of the views of the registers in mask (bit r: register r). */
uint64_t rlx_regs(const struct rlx_views *v, uint64_t regmask);
/* A register-only instruction: every register in dst gets the join of the
 * views of src. */
void rlx_reg_op(struct rlx_views *v, uint64_t src, uint64_t dst);
/* A walk of this PE read (or updated) a descriptor message with
 * timestamp ts. */
void rlx_walk_seen(struct rlx_views *v, uint64_t ts);
/* The access a faulted (translation, permission): the fault is an event
 * ordered after what the access would have been ordered after. */
void rlx_fault(struct rlx_views *v, const struct rlx_acc *a);
/* A TLBI of `issuer` completed on `target`. */
void rlx_tlbi_ack(struct rlx_views *issuer, const struct rlx_views *target);
/* What a TLBI issued now carries, and its completion on PE `target`. */
uint64_t rlx_tlbi_view(const struct rlx_views *issuer);
void rlx_tlbi_done(struct rlx_views *target, uint64_t view);

/* ---- Forgetting ------------------------------------------------------------- */
/* The oldest view of any PE: a message with a newer message at its location
 * at or below it can be read by nobody. */
uint64_t rlx_floor(const struct rlx_views *v, unsigned n);
/* Drop the messages of l no one can read (below floor); true when only
 * one message older than floor is left (the location can be forgotten). */
bool rlx_loc_prune(struct rlx_loc *l, uint64_t floor);

#endif
