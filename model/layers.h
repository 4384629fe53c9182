/*
 * model/layers.h - the layered model made executable (DESIGN.md, "The layers
 * of the model"; docs/LAYERS.md):
 *
 *   L1 flat    the machine without TLBs and caches: memory is the coherent
 *              view (cache_read_coherent), translation an atomic walk of the
 *              current tables. Every value KCore reads at L0 must be the
 *              value L1 gives for the same access at the same step
 *              (refinement, checked after each KCore step).
 *   L2 spec    the isolation specification: per page owner, share count
 *              and gfn; per VM its state and registered vCPUs. Each
 *              hypercall has a pure specification l2_spec(); at each
 *              hypercall's return the abstraction of L0 (ownership array +
 *              stage-2 tables + published page, read through the coherent
 *              view) must equal the specification's post-state.
 *
 * Both report violations as invariant 8 through machine_violation(), the
 * detail naming the layer ("L1 refinement" / "L2 spec") and the access or
 * hypercall. Leaves out: the content of guests' and the host's memory (the
 * spec is about who owns what), the host's stage-2 mappings (lazily made by
 * faults; invariant 2 bounds them), the guests' stage-2 fault path.
 */
#ifndef HYPSIM_LAYERS_H
#define HYPSIM_LAYERS_H

#include <stdbool.h>
#include <stdint.h>
#include "model/machine.h"

/* ---- L1 refinement -------------------------------------------------------- */

/* The L1 flat machine's answer for one KCore data access: the atomic walk
 * of the current EL2 stage-1 tables (coherent view; MMU off = flat) for
 * translation context ctx, and the coherent value at the PA found. Returns
 * 0, or -1 when the flat walk faults (*pa and *val untouched). */
int layers_l1_read(const struct machine *m, const struct mmu_ctx *ctx, uint64_t va,
                   unsigned size, uint64_t *pa, uint64_t *val);

/* Check every read KCore's last step made on `cpu` (m->cpu[cpu].acc)
 * against L1; reports invariant 8 on a difference. A read followed in the
 * same step by a write overlapping it (an LSE atomic's read-modify-write)
 * is checked for its translation only: the state after the step holds the
 * written value, not the one read. Returns the number of reads checked. */
unsigned layers_check_refinement(struct machine *m, unsigned cpu);

/* ---- L2 spec -------------------------------------------------------------- */

#define L2_MAX_PAGES   256           /* footprint pages of one hypercall */
#define L2_GFN_UNMAPPED (~0ull)      /* a VM's page its owner does not map */
#define L2_PFN_NONE     (~0ull)

/* The abstraction of one physical page. */
struct l2_page {
    uint64_t pfn;
    unsigned owner;                  /* KC_OWNER_* */
    unsigned count;                  /* share count */
    uint64_t gfn;                    /* VM pages: the gfn its owner maps it at
                                        (the array's gfn, if the owner's stage
                                        2 maps that gfn to this page), else
                                        L2_GFN_UNMAPPED; 0 for other owners */
};

/* The part of the abstract state one hypercall concerns (its footprint). */
struct l2_state {
    uint64_t mem_pages;
    unsigned vm_state[KC_MAX_VMS];   /* VM_STATE_* (published page) */
    uint32_t vcpus[KC_MAX_VMS];      /* registered vCPUs (ghost: the spec's own) */
    uint64_t image_pages[KC_MAX_VMS];/* ghost: boot info given (0: none) */
    uint64_t image_hash[KC_MAX_VMS]; /* ghost: hash given with the boot info */
    uint64_t image_now_hash;         /* VERIFY: hash of the VM's gfns 0..n-1 now */
    bool image_mapped;               /* VERIFY: every gfn 0..n-1 mapped */
    bool gfn_mapped;                 /* DONATE: the gfn is mapped; SET_BOOT_INFO: one of 0..n-1 is */
    bool vcpu_running;               /* RUN_VCPU/TEARDOWN: a vCPU of the VM may run (EBUSY legal) */
    unsigned npages;
    struct l2_page page[L2_MAX_PAGES];
};

/* One hypercall as the spec sees it. */
struct l2_call {
    uint64_t hc;
    uint64_t arg[4];
    bool guest;                      /* issued by a guest (VM `vm`), else by the host */
    unsigned vm;
};

/* What the spec allows as the result. `expect` is the result of the call's
 * deterministic specification; `loose` is a mask of further legal results
 * (bit -r for error r: HC_ENOMEM where a table page may be needed, ...);
 * any legal result other than `expect` means "failed, nothing changed".
 * `exit_any`: a successful RUN_VCPU returns any exit reason (0..2). */
struct l2_verdict {
    int64_t expect;
    uint32_t loose;
    bool exit_any;
};

/* The pure specification: pre-state and call -> post-state (if the call
 * returns `expect`) and the legal results. post may alias nothing. */
void l2_spec(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
             struct l2_verdict *v);

/* Is result r legal under v? */
bool l2_result_legal(const struct l2_verdict *v, int64_t r);

/* Page pfn of L0, abstracted (coherent view). */
void layers_l2_page(const struct machine *m, uint64_t pfn, struct l2_page *p);
/* The page VM vm's stage 2 maps at gfn (coherent walk), or L2_PFN_NONE. */
uint64_t layers_l2_vm_map(const struct machine *m, unsigned vm, uint64_t gfn);

/* ---- Machine hooks -------------------------------------------------------- */
int layers_init(struct machine *m);        /* 0 or -1 (out of memory) */
void layers_free(struct machine *m);
/* After each step that ran a KCore instruction on cpu. */
void layers_after_kcore_step(struct machine *m, unsigned cpu);
/* An actor issues hypercall hc with args a (x1..x4) on cpu; guest: a guest's
 * call (VM m->cpu[cpu].guest_vm), else the host's. */
void layers_on_hvc_issue(struct machine *m, unsigned cpu, bool guest, uint64_t hc,
                         const uint64_t a[4]);
/* The hypercall in flight on cpu (the host's, or the guest's) returned
 * result r (x0). exited: a guest's call ended with its vCPU's exit to the
 * host (HC_YIELD, HC_POWEROFF, or abandoned), r is then meaningless. */
void layers_on_hvc_return(struct machine *m, unsigned cpu, bool guest, int64_t r, bool exited);
/* Hypercall checks skipped because a concurrent call touched the footprint. */
uint64_t layers_spec_skipped(const struct machine *m);

#endif
