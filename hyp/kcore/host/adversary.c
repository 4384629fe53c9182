/*
 * hyp/kcore/host/adversary.c - the adversarial host and guests that drive
 * KCore: what they decide to do (model/actor.c performs it).
 *
 * The host boots VMs (register VM, vCPU, boot info, verify), donates pages,
 * runs vCPUs, tears VMs down, reads and writes any IPA with the cacheability
 * of its choice, and calls hypercalls with valid and invalid arguments. A
 * guest reads and writes its own IPAs (faulting on unmapped ones, which
 * exits to the host), grants and revokes pages to the host, yields and
 * powers off. Every decision is a machine_choose() so a run replays from
 * its choices; the order of those choices is part of the trace format
 * (traces/FORMAT.md): change it and the corpus must be re-recorded.
 * Leaves out: host or guest TLBI (the host's own TLB maintenance is
 * irrelevant to isolation), interrupts.
 */
#include <stdlib.h>
#include <string.h>

#include "hyp/kcore/host/kc_host.h"

#define OP_LIFECYCLE     1u           /* actor_pending.flags: a host lifecycle call */

static uint64_t mem_pages(const struct machine *m) { return m->ms.mem.size >> MEM_PAGE_SHIFT; }

static void *adv_init(struct machine *m)
{
    struct kc_adv *a = calloc(1, sizeof(*a));
    (void)m;
    if (a)
        a->next_free_pfn = KC_HOST_FIRST_FREE_PFN;
    return a;
}

static void adv_free(void *st) { free(st); }

/* Issue hc with the arguments its row's generator makes, if it makes
 * sense now. */
static bool issue(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hc, uint64_t hint)
{
    const struct kc_row *row = kc_row(hc);
    uint64_t arg[4] = { 0, 0, 0, 0 };

    if (!row->gen(m, a, cpu, hint, arg))
        return false;
    actor_hvc(m, cpu, hc, arg[0], arg[1], arg[2], arg[3]);
    return true;
}

/* A host lifecycle call (for a VM, or HC_REGISTER_VM): the host keeps at
 * most one in flight per VM; host_returned clears the mark. */
static bool issue_lifecycle(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hc)
{
    const struct kc_row *row = kc_row(hc);
    uint64_t arg[4] = { 0, 0, 0, 0 };

    if (!row->gen(m, a, cpu, 0, arg))
        return false;
    if (hc == HC_REGISTER_VM)
        a->registering++;
    else
        a->vm[arg[0]].busy = true;
    actor_hvc(m, cpu, hc, arg[0], arg[1], arg[2], arg[3])->flags |= OP_LIFECYCLE;
    return true;
}

/* ---- Host ------------------------------------------------------------------ */

int kc_pick_vm(struct machine *m, struct kc_adv *a, bool (*pred)(const struct host_vm *))
{
    int cand[KC_MAX_VMS], n = 0;
    for (int i = 0; i < KC_MAX_VMS; i++)
        if (pred(&a->vm[i]))
            cand[n++] = i;
    return n ? cand[machine_choose(m, (uint32_t)n)] : -1;
}

bool kc_vm_needs_vcpu(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_REGISTERED && v->nvcpus == 0; }
bool kc_vm_needs_image(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_REGISTERED && v->nvcpus && !v->image_pages; }
bool kc_vm_needs_verify(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_REGISTERED && v->image_pages; }
bool kc_vm_runnable(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_VERIFIED; }
bool kc_vm_off(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_POWEROFF; }
bool kc_vm_wants_page(const struct host_vm *v) { return kc_vm_runnable(v) && v->want_donate; }

/* A host page frame to give away: the host's simple allocator walks up from
 * KC_END (pages the host believes it owns), wrapping around. */
uint64_t kc_host_alloc_pfn(struct machine *m, struct kc_adv *a)
{
    uint64_t pfn = a->next_free_pfn++;
    if (a->next_free_pfn >= mem_pages(m))
        a->next_free_pfn = KC_HOST_FIRST_FREE_PFN;
    return pfn;
}

/* An IPA for the host to touch: mostly its hot pages, sometimes anywhere
 * (KCore's memory and VMs' pages included: the host is adversarial). */
static uint64_t host_pick_ipa(struct machine *m, struct kc_adv *a)
{
    uint64_t pfn;
    switch (machine_choose(m, 16)) {
    case 0:
        pfn = machine_choose(m, (uint32_t)mem_pages(m));               /* anywhere */
        break;
    case 1:
        pfn = machine_choose(m, KC_END >> MEM_PAGE_SHIFT);              /* KCore's */
        break;
    case 2: case 3:                                                     /* recently given away */
        pfn = a->next_free_pfn - 1 - machine_choose(m, 16);
        break;
    default:
        pfn = (KC_END >> MEM_PAGE_SHIFT) + machine_choose(m, KC_HOST_HOT_PAGES);
        break;
    }
    if (pfn >= mem_pages(m))
        pfn = KC_END >> MEM_PAGE_SHIFT;
    return (pfn << MEM_PAGE_SHIFT) + 8 * machine_choose(m, MEM_WORDS_PER_PAGE);
}

static void host_act(struct machine *m, void *st, unsigned cpu)
{
    struct kc_adv *a = st;

    /* A powered-off VM holds memory: the host reclaims it promptly. */
    {
        uint64_t arg[4] = { 0, 0, 0, 0 };
        if (kc_row(HC_TEARDOWN)->gen(m, a, cpu, 0, arg) && machine_choose(m, 2)) {
            a->vm[arg[0]].busy = true;
            actor_hvc(m, cpu, HC_TEARDOWN, arg[0], 0, 0, 0)->flags |= OP_LIFECYCLE;
            return;
        }
    }

    switch (machine_choose(m, 16)) {
    case 0: case 1: case 2: case 3: case 4: {                 /* memory access */
        bool write = machine_choose(m, 2);
        bool cacheable = machine_choose(m, 4) != 0;
        actor_access(m, cpu, host_pick_ipa(m, a), write, cacheable,
                     0x4000000000000000ull | m->st.steps);
        return;
    }
    case 5:                                                   /* boot a new VM */
        if (issue_lifecycle(m, a, cpu, HC_REGISTER_VM))
            return;
        break;
    case 6:
        if (issue_lifecycle(m, a, cpu, HC_REGISTER_VCPU) ||
            issue_lifecycle(m, a, cpu, HC_SET_BOOT_INFO) ||
            issue_lifecycle(m, a, cpu, HC_VERIFY_VM))
            return;
        break;
    case 7: case 8: case 9: case 14: case 15:                 /* run a vCPU */
        if (issue_lifecycle(m, a, cpu, HC_RUN_VCPU))
            return;
        break;
    case 10: case 11:                                         /* donate */
        if (issue(m, a, cpu, HC_DONATE, 0))
            return;
        break;
    case 12:                                                  /* tear down */
        if (issue_lifecycle(m, a, cpu, HC_TEARDOWN))
            return;
        break;
    case 13: {                                                /* adversarial hypercall */
        /* Every row marked adversarial, in table order, and a number KCore
         * does not define; arguments at random. */
        const struct kc_row *adv[16];
        unsigned n = kc_adversarial(adv, 15);
        uint32_t k = machine_choose(m, n + 1);
        uint64_t hc = k < n ? adv[k]->info.nr : 0x3f;
        uint64_t a1 = machine_choose(m, KC_MAX_VMS + 2);
        uint64_t a2 = machine_choose(m, 2) ? machine_choose(m, (uint32_t)mem_pages(m) + 16)
                                           : machine_choose(m, KC_END >> MEM_PAGE_SHIFT);
        actor_hvc(m, cpu, hc, a1, a2, machine_choose(m, KC_GUEST_GFNS + 4), 0);
        return;
    }
    default:
        break;
    }
    /* Nothing of that kind to do: a plain read of a hot page. */
    actor_access(m, cpu, host_pick_ipa(m, a), false, true, 0);
}

static void host_returned(struct machine *m, void *st, unsigned cpu, const struct actor_pending *p,
                          int64_t r, uint64_t info)
{
    struct kc_adv *a = st;
    unsigned vm = (unsigned)p->arg[0];
    struct host_vm *v = vm < KC_MAX_VMS ? &a->vm[vm] : NULL;
    bool lifecycle = p->flags & OP_LIFECYCLE;

    (void)m;
    (void)cpu;
    /* The lifecycle call in flight for this VM has returned. */
    if (lifecycle && p->hc == HC_REGISTER_VM && a->registering)
        a->registering--;
    else if (lifecycle && v)
        v->busy = false;
    /* KCore refused the image (it changed after the host hashed it): the VM
     * is powered off and only good for a tear-down. */
    if (lifecycle && v && p->hc == HC_VERIFY_VM && r == HC_EHASH)
        v->state = VM_STATE_POWEROFF;
    if (r < 0)
        return;
    switch (p->hc) {
    case HC_REGISTER_VM:
        if ((uint64_t)r < KC_MAX_VMS) {
            memset(&a->vm[r], 0, sizeof(a->vm[r]));
            a->vm[r].used = true;
            a->vm[r].state = VM_STATE_REGISTERED;
        }
        break;
    case HC_REGISTER_VCPU:
        if (v)
            v->nvcpus++;
        break;
    case HC_SET_BOOT_INFO:
        if (v)
            v->image_pages = (unsigned)p->arg[2];
        break;
    case HC_VERIFY_VM:
        if (v)
            v->state = VM_STATE_VERIFIED;
        break;
    case HC_RUN_VCPU:
        if (v && r == RUN_EXIT_POWEROFF)
            v->state = VM_STATE_POWEROFF;
        if (v && r == RUN_EXIT_S2FAULT) {
            v->want_donate = true;
            v->next_gfn_fault = info >> MEM_PAGE_SHIFT;
        }
        break;
    case HC_TEARDOWN:
        if (v)
            memset(v, 0, sizeof(*v));
        if (vm < KC_MAX_VMS) {
            memset(a->guest_granted[vm], 0, sizeof(a->guest_granted[vm]));
            a->guest_mapped[vm] = 0;
        }
        break;
    default:
        break;
    }
}

/* ---- Guests ----------------------------------------------------------------- */

static void guest_act(struct machine *m, void *st, unsigned cpu)
{
    struct kc_adv *a = st;
    unsigned vm = m->cpu[cpu].guest_vm;
    /* Mostly the first few gfns (the image and the pages donated on its
     * faults, so accesses and grants usually hit mapped memory), sometimes
     * anywhere in its small IPA window (a fault that exits to the host). */
    uint64_t gfn = machine_choose(m, 8) ? machine_choose(m, 4) : machine_choose(m, KC_GUEST_GFNS);

    switch (machine_choose(m, 32)) {
    case 0: case 1: case 2:
        issue(m, a, cpu, HC_GRANT, gfn);
        return;
    case 3: case 4:
        issue(m, a, cpu, HC_REVOKE, gfn);
        return;
    case 5: case 6:
        actor_hvc(m, cpu, HC_YIELD, 0, 0, 0, 0);
        return;
    case 7:
        actor_hvc(m, cpu, HC_POWEROFF, 0, 0, 0, 0);
        return;
    default:
        break;
    }
    actor_access(m, cpu, (gfn << MEM_PAGE_SHIFT) + 8 * machine_choose(m, MEM_WORDS_PER_PAGE),
                 machine_choose(m, 2), machine_choose(m, 4) != 0,
                 ((uint64_t)(vm + 1) << 56) | m->st.steps);
}

static void guest_returned(struct machine *m, void *st, unsigned cpu, const struct actor_pending *p,
                           int64_t r, uint64_t info)
{
    struct kc_adv *a = st;
    unsigned vm = m->cpu[cpu].guest_vm;

    (void)info;
    if (r >= 0 && vm < KC_MAX_VMS && p->arg[0] < 64) {
        if (p->hc == HC_GRANT)
            a->guest_granted[vm][p->arg[0]]++;
        else if (p->hc == HC_REVOKE && a->guest_granted[vm][p->arg[0]])
            a->guest_granted[vm][p->arg[0]]--;
    }
}

static void guest_accessed(struct machine *m, void *st, unsigned cpu, uint64_t ipa)
{
    struct kc_adv *a = st;
    unsigned vm = m->cpu[cpu].guest_vm;

    if (vm < KC_MAX_VMS && (ipa >> MEM_PAGE_SHIFT) < 64)
        a->guest_mapped[vm] |= 1ull << (ipa >> MEM_PAGE_SHIFT);
}

const struct hv_adversary kc_adversary = {
    .init = adv_init,
    .free = adv_free,
    .host_act = host_act,
    .guest_act = guest_act,
    .host_returned = host_returned,
    .guest_returned = guest_returned,
    .guest_accessed = guest_accessed,
};
