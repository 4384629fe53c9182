/*
 * model/actor.h - the principals that are not the hypervisor: the host and
 * the guests, acting on a CPU while it is at EL1. This is the engine that
 * performs what an adversary (hyp/hv.h struct hv_adversary) or a scenario
 * decides - an access through the one access path, a hypercall - and
 * finishes it when the hypervisor returns to EL1. It reports hypercalls
 * and stage-2 faults on the event bus (EV_HVC_*, EV_S2_FAULT*, EV_VCPU_ENTRY).
 * Accesses translate through the CPU's stage 2 (stage 1 of the host and
 * guests is off; the actor picks the memory type, as a stage-1 mapping of
 * that type would) and then the cache or bypass.
 */
#ifndef HYPSIM_ACTOR_H
#define HYPSIM_ACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "hyp/hv.h"

struct machine;

enum actor_op_kind { AOP_NONE, AOP_HVC, AOP_ACCESS };

/* The host's or a guest's operation in flight on one CPU while the
 * hypervisor handles its exception. */
struct actor_pending {
    enum actor_op_kind kind;
    uint64_t hc;               /* hypercall number */
    uint64_t arg[4];
    uint64_t ipa;              /* access */
    bool write, cacheable;
    uint64_t val;
    unsigned flags;            /* the adversary's own marks (e.g. a lifecycle call) */
};

struct actors {
    struct actor_pending host_pending[HV_MAX_CPUS];  /* per CPU: host op in flight */
    struct actor_pending guest_pending[HV_MAX_CPUS];
    void *adv;                 /* the adversary's state (hv->adversary->init) */
};

/* Perform one action of the principal at EL1 on cpu (host or guest): the
 * next scenario action if it is this actor's, else the adversary's choice. */
void actor_act(struct machine *m, unsigned cpu);
/* The hypervisor has ERETed to EL1 on cpu: finish the pending op (read the
 * x0/x1 results of a hypercall, retry or learn a refused access). */
void actor_resume(struct machine *m, unsigned cpu);

/* ---- What an adversary calls ----------------------------------------------- */
/* Issue hypercall hc from EL1 on cpu: x0 = hc, x1..x4 = args, HVC #0.
 * Returns the pending op (the adversary may set its flags). */
struct actor_pending *actor_hvc(struct machine *m, unsigned cpu, uint64_t hc, uint64_t a1,
                                uint64_t a2, uint64_t a3, uint64_t a4);
/* One 8-byte access of the principal at EL1 on cpu to ipa. On a stage-2
 * fault the exception goes to the hypervisor and the access is pending
 * (retried when it returns, unless it injected an exception). */
void actor_access(struct machine *m, unsigned cpu, uint64_t ipa, bool write, bool cacheable,
                  uint64_t val);

#endif
