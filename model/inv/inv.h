/*
 * model/inv/inv.h - the isolation invariant checker (DESIGN.md "Invariants,
 * checked after every step"), registered as the checker "invariants"
 * (model/checkers.c) and fed by the step events: the hypervisor's writes
 * and DC operations, the actors' accesses, the end of each step. This
 * header adds what tests and debugging tools need: the entry points the
 * event handler calls, the per-invariant pure checks, the report they
 * fill, and the incremental/full agreement mode.
 *
 * Each inv_check_xxx() re-derives one invariant from the machine state alone
 * (the coherent view of memory: cache_read_coherent) and appends what it sees
 * to a report; it never calls machine_violation(). The only state a full
 * check reads besides the machine is the previous step's snapshot of the
 * stage-2 tables (invariant 6's transition rules compare two states).
 */
#ifndef HYPSIM_INV_H
#define HYPSIM_INV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/machine.h"

#define INV_REPORT_MAX 16

/* The checker's state for m (m->inv). 0 or -1. */
int inv_init(struct machine *m);
void inv_free(struct machine *m);
/* After each step: check per m->cfg.check. */
void inv_after_step(struct machine *m, unsigned cpu, enum step_kind ev);
/* An actor's data access (invariants 4 and 5), judged at once. */
void inv_on_actor_access(struct machine *m, unsigned cpu, label_t who,
                         const struct msys_access *a, bool write);
extern const struct checker_def inv_checker;

struct inv_item {
    int cpu;                   /* -1: not tied to a CPU */
    int invariant;             /* 1..7 (DESIGN.md numbering) */
    uint64_t page;             /* physical page address */
    label_t who, whose;
    char detail[200];
};

/* What one or more checks saw. Items beyond INV_REPORT_MAX are counted in
 * `total` and `mask` but their details are dropped. */
struct inv_report {
    struct inv_item item[INV_REPORT_MAX];
    unsigned n, total;
    uint32_t mask;             /* bit i set: invariant i was reported */
    int cpu;                   /* CPU named by items not tied to a TLB */
};

void inv_report_init(struct inv_report *r, int cpu);

/* Is KC_PUB_BOOTED 1? Before boot only invariant 6's structural rules are
 * checked (the ownership array is still being written). */
bool inv_booted(const struct machine *m);

/* ---- Full checks (one pure function per invariant) -------------------- */
void inv_check_kcore_unmapped(const struct machine *m, struct inv_report *r); /* 1 */
void inv_check_s2_owned(const struct machine *m, struct inv_report *r);       /* 2 */
void inv_check_tlb_owned(const struct machine *m, struct inv_report *r);      /* 3 */
void inv_check_tables(const struct machine *m, struct inv_report *r);         /* 6 */
void inv_check_bookkeeping(const struct machine *m, struct inv_report *r);    /* 7 */
/* 4, the hand-back rule: page pfn, just handed from a VM to the host, holds
 * no word labelled with a VM's data, in the coherent view or in memory. Both
 * modes run it when an ownership entry changes from a VM to the host (the
 * full mode by comparing the whole array with the previous step's). */
void inv_check_handback(const struct machine *m, struct inv_report *r, uint64_t pfn);
/* 4 (read) and 5 (write) for one actor access. */
void inv_check_access(const struct machine *m, label_t who, const struct msys_access *a,
                      bool write, struct inv_report *r);

/* ---- Debugging -------------------------------------------------------- */
/* Agreement mode (also config inv_agree at inv_init):
 * in CHECK_INCREMENTAL, every step also runs the full checks and compares
 * the sets of invariants the two report. The comparison stops after the
 * first step that reports a violation (a run stops there; afterwards the
 * full check keeps re-reporting what the incremental one already did). */
void inv_set_agree(struct machine *m, bool on);
/* Number of steps where the two disagreed; the last disagreement's
 * description is copied into buf (may be NULL). */
uint64_t inv_agree_mismatches(const struct machine *m, char *buf, size_t len);
/* Incremental mode: drop nothing, but re-read every known table page and
 * the published page and re-check every mapping and TLB entry, as if all
 * memory might have changed behind the checker's back. Reports through
 * machine_violation(). */
void inv_resync(struct machine *m);

#endif
