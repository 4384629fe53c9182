/*
 * model/layers/refine.h - L1, the flat machine, and the refinement check of
 * invariant 8 (DESIGN.md "The layers of the model"; docs/LAYERS.md).
 *
 * L1 is the machine without TLBs and caches: memory is the coherent view
 * (cache_read_coherent), translation an atomic walk of the current tables.
 * Every value the hypervisor reads at L0 must be the value L1 gives for the
 * same access at the same step, checked after each hypervisor step (the
 * checker "refinement", fed by EV_ACCESS and EV_STEP_END). A difference is
 * reported as invariant 8, the detail naming the access and the cause.
 */
#ifndef HYPSIM_REFINE_H
#define HYPSIM_REFINE_H

#include <stdint.h>
#include "model/machine.h"

/* The L1 flat machine's answer for one hypervisor data access: the atomic
 * walk of the current EL2 stage-1 tables (coherent view; MMU off = flat)
 * for translation context ctx, and the coherent value at the PA found.
 * Returns 0, or -1 when the flat walk faults (*pa and *val untouched). */
int layers_l1_read(const struct machine *m, const struct mmu_ctx *ctx, uint64_t va,
                   unsigned size, uint64_t *pa, uint64_t *val);

/* Check the reads among the n accesses one step made on cpu against L1;
 * reports invariant 8 on a difference. A read followed in the same step by
 * a write overlapping it (an LSE atomic's read-modify-write) is checked for
 * its translation only: the state after the step holds the written value,
 * not the one read. Returns the number of reads checked. */
unsigned layers_check_refinement(struct machine *m, unsigned cpu, const struct msys_access *acc,
                                 unsigned n);

/* Bind ctx's walks to the coherent view of m, with no hardware AF/DBM
 * updates (L1 and the abstraction functions observe, never update). */
void layers_bind_coherent(const struct machine *m, struct mmu_ctx *ctx);

extern const struct checker_def refine_checker;

#endif
