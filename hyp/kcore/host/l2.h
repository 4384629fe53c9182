/*
 * hyp/kcore/host/l2.h - L2, KCore's isolation specification, made
 * executable (DESIGN.md "The layers of the model"; docs/LAYERS.md): per
 * page owner, share count and gfn (and, for the page a host stage-2 fault
 * concerns and a page a hypercall takes from the host, whether the host's
 * stage 2 maps it); per VM its state and registered vCPUs. Each hypercall
 * has a pure specification (its row in calls.c), and so do the two stage-2
 * fault handlers (l2_spec_fault(): the host's lazy identity map, a guest's
 * exit to the host); at each hypercall's return and at each ERET that ends
 * a fault's handling the abstraction of L0 (ownership array + stage-2
 * tables + published page, read through the coherent view) must equal the
 * specification's post-state, and the registers the principal sees must be
 * the result the specification gives.
 *
 * The checker "spec" (KCore's entry in hv_ops.checkers) runs it, fed by the
 * step events of the actors (EV_HVC_*, EV_S2_FAULT*, EV_VCPU_ENTRY) and
 * KCore's writes (EV_ACCESS: a VM slot published FREE). Concurrent calls are
 * linearized with model/layers/linearize.h. Violations are invariant 8, the
 * detail naming "L2 spec" and the hypercall or fault. Leaves out: the
 * content of guests' and the host's memory (the spec is about who owns
 * what), the host's stage-2 mappings of other pages (GRANT and TEARDOWN
 * leave them to later faults; invariants 2 and 7 bound them), guests'
 * stage 1.
 */
#ifndef HYPSIM_KCORE_L2_H
#define HYPSIM_KCORE_L2_H

#include <stdbool.h>
#include <stdint.h>
#include "hyp/kcore/abi.h"
#include "model/machine.h"

/* ---- L2 spec -------------------------------------------------------------- */

#define L2_MAX_PAGES   256           /* footprint pages of one hypercall */
#define L2_GFN_UNMAPPED (~0ull)      /* a VM's page its owner does not map */
#define L2_PFN_NONE     (~0ull)

/* What the host's stage 2 maps at the IPA of a page (the host's IPA space
 * is the identity on physical memory). */
enum l2_host_map {
    L2_HOST_UNTRACKED = 0,           /* not abstracted: only the page of a host
                                        stage-2 fault is, and in a hypercall's
                                        post-state a page the host must have
                                        lost (DONATE, SET_BOOT_INFO, the last
                                        REVOKE) */
    L2_HOST_UNMAPPED,                /* the walk gives a translation fault */
    L2_HOST_IDENTITY,                /* a page descriptor (level 3) mapping the
                                        IPA to the same PA, readable and writable */
    L2_HOST_OTHER,                   /* anything else: another PA, a block, other
                                        permissions, an access-flag fault */
};

/* The abstraction of one physical page. */
struct l2_page {
    uint64_t pfn;
    unsigned owner;                  /* KC_OWNER_* */
    unsigned count;                  /* share count */
    uint64_t gfn;                    /* VM pages: the gfn its owner maps it at
                                        (the array's gfn, if the owner's stage
                                        2 maps that gfn to this page), else
                                        L2_GFN_UNMAPPED; 0 for other owners */
    enum l2_host_map host;           /* the host's mapping of IPA pfn << 12 */
};

/* The part of the abstract state one hypercall or fault concerns (its footprint). */
struct l2_state {
    uint64_t mem_pages;
    unsigned vm_state[KC_MAX_VMS];   /* VM_STATE_* (published page) */
    uint32_t vcpus[KC_MAX_VMS];      /* registered vCPUs (ghost: the spec's own) */
    uint64_t image_pages[KC_MAX_VMS];/* ghost: boot info given (0: none) */
    uint64_t image_hash[KC_MAX_VMS]; /* ghost: hash given with the boot info */
    uint64_t image_now_hash;         /* VERIFY: hash of the VM's gfns 0..n-1 now */
    bool image_mapped;               /* VERIFY: every gfn 0..n-1 mapped */
    bool gfn_mapped;                 /* DONATE: the gfn is mapped; SET_BOOT_INFO: one of 0..n-1 is;
                                        guest stage-2 fault: the faulting gfn is */
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

/* ---- L2: the stage-2 fault handlers ------------------------------------ */

/* A stage-2 fault taken to KCore (Arm ARM D1.10 exception entry), as the
 * spec sees it: the syndrome KCore reads and the principal's return state. */
struct l2_fault {
    bool guest;                      /* a guest's (VM `vm`), else the host's */
    unsigned vm;
    uint64_t esr;                    /* ESR_EL2: EC (abort from a lower EL) and
                                        DFSC/IFSC (translation fault or not) */
    uint64_t far;                    /* FAR_EL2 */
    uint64_t ipa;                    /* HPFAR_EL2.FIPA << 12: the faulting IPA page */
    uint64_t elr;                    /* ELR_EL2: the faulting instruction */
    uint64_t spsr;                   /* SPSR_EL2: the principal's PSTATE */
};

/* The outcome of a fault's handling, as the principal sees it after the
 * ERET that ends it. */
enum l2_fault_outcome {
    L2_FAULT_MAPPED,                 /* host: ERET to ELR (the access is retried),
                                        its stage 2 maps the page */
    L2_FAULT_REFUSED,                /* host: a synchronous exception injected at its
                                        EL1 vector: PC = VBAR_EL1 + 0x200, ELR_EL1 =
                                        the faulting PC, ESR/FAR/SPSR_EL1 = the
                                        fault's ESR, FAR and PSTATE */
    L2_FAULT_EXIT_S2FAULT,           /* guest: exit to the host, whose HC_RUN_VCPU
                                        returns RUN_EXIT_S2FAULT, x1 = the IPA page;
                                        the vCPU re-enters at the faulting PC */
    L2_FAULT_EXIT_POWEROFF,          /* guest: exit with RUN_EXIT_POWEROFF (the VM
                                        was powered off) */
    L2_FAULT_OTHER,                  /* observed only: none of the above */
};

/* What the spec allows: `expect`, or an outcome in `loose` (bit 1 << o),
 * which means "nothing changed" (the host's refusal of a mapping it may
 * make: KCore's table allocation may fail). `info`: the x1 of an exit. */
struct l2_fault_verdict {
    enum l2_fault_outcome expect;
    uint32_t loose;
    uint64_t info;
};

/* The pure specification of the stage-2 fault handlers: pre-state (the
 * faulting page with its host mapping for the host; the VM's state and
 * whether the gfn is mapped for a guest) and fault -> post-state (if the
 * outcome is `expect`) and the legal outcomes. Host: mapped iff the fault
 * is a translation fault (an abort from EL1 with DFSC/IFSC 0b0001LL) on a
 * page in memory that the host owns outside [0, KC_END) or that a VM owns
 * and shares (count > 0), else refused. Guest: exit with RUN_EXIT_POWEROFF
 * if the VM is powered off, else RUN_EXIT_S2FAULT. No owner, count, gfn
 * or VM state changes either way. */
void l2_spec_fault(const struct l2_state *pre, const struct l2_fault *f, struct l2_state *post,
                   struct l2_fault_verdict *v);

/* Is outcome o legal under v? */
bool l2_fault_legal(const struct l2_fault_verdict *v, enum l2_fault_outcome o);

/* Page pfn of L0, abstracted (coherent view); host = L2_HOST_UNTRACKED. */
void layers_l2_page(const struct machine *m, uint64_t pfn, struct l2_page *p);
/* The page VM vm's stage 2 maps at gfn (coherent walk), or L2_PFN_NONE. */
uint64_t layers_l2_vm_map(const struct machine *m, unsigned vm, uint64_t gfn);
/* What the host's stage 2 (published VTTBR, coherent walk) maps at IPA
 * pfn << 12 (never L2_HOST_UNTRACKED). */
enum l2_host_map layers_l2_host_map(const struct machine *m, uint64_t pfn);

/* ---- The checker's entry points (its event handler calls them) ----------- */
int layers_init(struct machine *m);        /* 0 or -1 (out of memory) */
void layers_free(struct machine *m);
/* After each step that ran a KCore instruction on cpu, with the accesses
 * it made: a VM slot KCore publishes FREE ends that VM's incarnation. */
void layers_after_kcore_step(struct machine *m, unsigned cpu, const struct msys_access *acc,
                             unsigned n);
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

/* The principal on cpu took a stage-2 fault (guest: VM m->cpu[cpu].guest_vm,
 * else the host): call right after cpu_take_exception(), which holds the
 * syndrome (ESR/FAR/HPFAR/ELR/SPSR_EL2) the fault is read from. */
void layers_on_s2_fault(struct machine *m, unsigned cpu, bool guest);
/* KCore ERETed to EL1 on cpu after the fault in flight there (the host's,
 * or the guest's): the outcome is read from the CPU (mode, the ERET's ELR,
 * the EL1 syndrome registers); x0, x1: the host's registers when a guest's
 * fault ended with the vCPU's exit to the host (cpu/ reads them). */
void layers_on_s2_fault_return(struct machine *m, unsigned cpu, bool guest, uint64_t x0,
                               uint64_t x1);
/* KCore ERETed into a guest on cpu to run a vCPU (HC_RUN_VCPU in flight):
 * a vCPU that exited on a stage-2 fault must re-enter at the faulting PC
 * (and a host's fault in flight on cpu ends here, illegally). */
void layers_on_vcpu_entry(struct machine *m, unsigned cpu);
/* Fault checks skipped because a concurrent hypercall touched the footprint. */
uint64_t layers_fault_skipped(const struct machine *m);
/* Checked host faults that KCore refused although the spec allows the
 * mapping (legal only out of table memory: the spec is loose there). */
uint64_t layers_fault_refused_allowed(const struct machine *m);
/* Faults taken and not yet handled (KCore has not ERETed yet). */
unsigned layers_faults_in_flight(const struct machine *m);

extern const struct checker_def kc_spec_checker;

#endif
