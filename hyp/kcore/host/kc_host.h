/*
 * hyp/kcore/host/kc_host.h - what KCore's host-side files share: its
 * specification checker's state (l2.c), the hypercall table (calls.c) and
 * the adversary's state (adversary.c). Internal to hyp/kcore/host/.
 */
#ifndef HYPSIM_KC_HOST_H
#define HYPSIM_KC_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include "hyp/hv.h"
#include "hyp/kcore/abi.h"
#include "hyp/kcore/host/l2.h"
#include "model/actor.h"
#include "model/layers/linearize.h"
#include "model/machine.h"

#define L2_IPA_PAGES  (1ull << (KC_IPA_BITS - MEM_PAGE_SHIFT))
#define L2_KC_END_PFN (KC_END >> MEM_PAGE_SHIFT)
#define LOOSE(e)      (1u << (unsigned)(-(e)))
#define L2_MAX_KEYS   (L2_MAX_PAGES + 2 * KC_MAX_IMAGE_PAGES + 2 * KC_MAX_VMS + 8)

/* Footprint items of KCore's calls (model/layers/linearize.h keys). */
#define K_PAGE    LIN_K_PAGE
#define K_VMSTATE LIN_K_VMSTATE
#define K_GFN     LIN_K_VMITEM(0)
#define K_VCPU    LIN_K_VMITEM(1)
#define K_RUN     LIN_K_VMITEM(2)
#define K_IMAGE   LIN_K_VMITEM(3)      /* the boot info SET_BOOT_INFO records, VERIFY_VM reads */
#define K_VMALL   LIN_K_VMALL
#define KEY       LIN_KEY

/* A hypercall or a stage-2 fault in flight, with the abstract state
 * captured at its issue. */
struct l2_slot {
    struct lin_fp fp;
    uint64_t gen;                  /* ghost generation of VM arg[0] at issue */
    struct l2_call call;
    struct l2_fault fault;
    struct l2_state pre;
    uint64_t rkey[L2_MAX_KEYS], wkey[L2_MAX_KEYS];
};

struct layers_state {
    struct l2_slot *slot;          /* 2 per CPU: [2 * cpu] host, [2 * cpu + 1] guest */
    struct lin_fp **fps;           /* &slot[i].fp */
    unsigned nslots;
    uint32_t vcpus[KC_MAX_VMS];    /* ghost state (per incarnation: gen) */
    uint64_t image_pages[KC_MAX_VMS], image_hash[KC_MAX_VMS];
    /* One per incarnation of a VM slot: bumped when KCore publishes the
     * slot FREE (a TEARDOWN's effect). A call returning after that point
     * with an older generation updates no ghost state. */
    uint64_t gen[KC_MAX_VMS];
    /* A call issued in an older incarnation succeeded: KCore may have
     * applied it to the new one (a SET_BOOT_INFO issued while the VM was
     * being torn down, run after the slot was registered again) or to the
     * old one; the ghost state is unknown until the next FREE, and calls
     * that read it are not checked. */
    bool ghost_unsure[KC_MAX_VMS];
    /* A vCPU that exited on a stage-2 fault re-enters at its faulting PC. */
    struct { bool armed; uint64_t elr; } resume[KC_MAX_VMS][KC_MAX_VCPUS];
    /* KCore's accesses of the step (EV_ACCESS), for layers_after_kcore_step. */
    struct msys_access acc[CPU_MAX_ACCESS];
    unsigned nacc;
};

/* The adversary's state (adversary.c). The host touches its first
 * KC_HOST_HOT_PAGES pages above KCore's region most, and gives pages away
 * from above them (it still touches any page now and then: the host is
 * adversarial); a guest works in its first KC_GUEST_GFNS IPA pages. */
#define KC_HOST_HOT_PAGES     64u
#define KC_HOST_FIRST_FREE_PFN ((KC_END >> MEM_PAGE_SHIFT) + KC_HOST_HOT_PAGES)
#define KC_GUEST_GFNS         16u

struct host_vm {               /* the host's own bookkeeping of one VM */
    bool used;
    int state;                 /* VM_STATE_* as the host believes it */
    unsigned nvcpus;
    unsigned image_pages;
    uint64_t next_gfn_fault;   /* a gfn the guest faulted on, to donate */
    bool want_donate;
    bool busy;                 /* one of its lifecycle hypercalls is in flight */
};

struct kc_adv {
    struct host_vm vm[KC_MAX_VMS];
    uint64_t guest_granted[KC_MAX_VMS][64];           /* grants per gfn (gfn < 64) */
    uint64_t guest_mapped[KC_MAX_VMS];                /* gfns < 64 the guest has used */
    uint64_t next_free_pfn;    /* simple host page allocator for donations */
    unsigned registering;      /* HC_REGISTER_VM calls in flight */
};

/* ---- One row of KCore's hypercall table (calls.c) ---------------------- */
struct kc_row {
    struct hv_call info;           /* number, names, issued by guests, exits */
    /* The adversary: arguments for this call now, or false when it makes
     * no sense now (no VM in the right state). `hint`: a guest's gfn. Every
     * decision through machine_choose. adversarial: the host also calls
     * it with random arguments (in table order). */
    bool (*gen)(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint, uint64_t arg[4]);
    bool adversarial;
    /* Footprint: the abstraction of L0 the call reads or writes, captured
     * at issue into s->pre, and its keys (s->fp). NULL: a host call's
     * footprint is its VM's state. */
    void (*footprint)(const struct machine *m, const struct layers_state *ls, struct l2_slot *s);
    unsigned inherit;              /* LIN_INHERIT_*: what a tainted call may reach */
    /* The pure specification (pre, call) -> (post, legal results). */
    void (*spec)(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                 struct l2_verdict *v);
    /* The return check beyond owners/counts/gfns/VM state of the footprint
     * (NULL: none): false with why filled when L0 disagrees. */
    bool (*post_check)(const struct machine *m, const struct l2_call *c, const struct l2_state *want,
                       char *why, size_t n);
    /* A second legal pre-state when the check failed (NULL: none). */
    bool (*recheck)(const struct machine *m, const struct l2_slot *s, int64_t r);
    bool vm_from_result;           /* the VM it concerns is its result (REGISTER_VM) */
    /* Ghost state (the spec's own record of registrations). */
    bool reads_ghost, writes_ghost;
    void (*ghost)(struct layers_state *ls, const struct l2_call *c);
};

/* The row of hypercall nr, or NULL. */
const struct kc_row *kc_row(uint64_t nr);
/* hv_ops.call */
const struct hv_call *kc_call_info(unsigned i);
/* Rows the host calls with random arguments, in table order. */
unsigned kc_adversarial(const struct kc_row **out, unsigned max);

/* ---- adversary.c helpers the rows' generators use ------------------------ */
/* A VM the host believes satisfies pred, chosen; -1 if none. */
int kc_pick_vm(struct machine *m, struct kc_adv *a, bool (*pred)(const struct host_vm *));
bool kc_vm_needs_vcpu(const struct host_vm *v);
bool kc_vm_needs_image(const struct host_vm *v);
bool kc_vm_needs_verify(const struct host_vm *v);
bool kc_vm_runnable(const struct host_vm *v);
bool kc_vm_off(const struct host_vm *v);
bool kc_vm_wants_page(const struct host_vm *v);
/* The host's next page frame to give away. */
uint64_t kc_host_alloc_pfn(struct machine *m, struct kc_adv *a);

/* ---- l2.c helpers the rows use ------------------------------------------ */
/* Check one returned call against pre; true if L0 agrees (else why). */
bool l2_check_call(const struct machine *m, const struct l2_call *c, const struct l2_state *pre,
                   int64_t r, char *why, size_t n);
uint64_t kc_rd(const struct machine *m, uint64_t pa);
void l2_fp_read(struct l2_slot *s, uint64_t key);
void l2_fp_write(struct l2_slot *s, uint64_t key);
void l2_add_page(const struct machine *m, struct l2_slot *s, uint64_t pfn);
/* The first page at or after *pfn the ownership array gives to VM vm,
 * outside KCore's region; ~0 if none. */
uint64_t l2_next_vm_page(const struct machine *m, unsigned vm, uint64_t *pfn);
/* FNV-1a over the VM's gfns [0, n) as mapped now; *mapped = every gfn is. */
uint64_t l2_image_hash_now(const struct machine *m, unsigned vm, uint64_t n, bool *mapped);
/* The same over page frames pfn..pfn+n-1 (the host's hash of an image). */
uint64_t kc_image_hash_pfns(const struct machine *m, uint64_t pfn, unsigned n);
/* VM slot vm ends an incarnation: its ghost state starts afresh. */
void l2_ghost_free(struct layers_state *ls, unsigned vm);

extern const struct hv_adversary kc_adversary;
extern const struct checker_def *const kc_checkers[];

#endif
