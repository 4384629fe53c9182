/*
 * model/actor.c - the principals that are not KCore: the host and the
 * guests, written in C, acting on a CPU while it is at EL1.
 *
 * The host boots VMs (register VM, vCPU, boot info, verify), donates pages,
 * runs vCPUs, tears VMs down, reads and writes any IPA with the cacheability
 * of its choice, and calls hypercalls with valid and invalid arguments
 * (adversarial). A guest reads and writes its own IPAs (faulting on
 * unmapped ones, which exits to the host), grants and revokes pages to the
 * host, yields and powers off. Every decision is a machine_choose() so a run
 * replays from its choices. Accesses translate through the CPU's stage 2
 * (stage 1 of the host and guests is off; the actor picks the memory type,
 * as a stage-1 mapping of that type would) and then the cache or bypass.
 * Leaves out: guest stage-1 tables, host or guest TLBI (the host's own TLB
 * maintenance is irrelevant to isolation), interrupts.
 */
#include <string.h>

#include "model/layers.h"
#include "model/machine.h"

#define ESR_EC_HVC64     0x16u
#define ESR_IL           (1u << 25)
#define GUEST_GFNS       16u          /* IPA pages a guest works in */
#define HOST_HOT_PAGES   ACTOR_HOST_HOT_PAGES
#define HOST_FIRST_FREE_PFN ACTOR_HOST_FIRST_FREE_PFN

static uint64_t mem_pages(const struct machine *m) { return m->ms.mem.size >> MEM_PAGE_SHIFT; }

/* Issue a hypercall from EL1: x0 = number, x1..x4 = args, HVC #0. */
static void issue_hvc(struct machine *m, unsigned cpu, struct actor_pending *p, uint64_t hc,
                      uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
    struct cpu *c = &m->cpu[cpu];
    memset(p, 0, sizeof(*p));
    p->kind = AOP_HVC;
    p->hc = hc;
    p->arg[0] = a1;
    p->arg[1] = a2;
    p->arg[2] = a3;
    p->arg[3] = a4;
    cpu_set_xreg(c, 0, hc);
    cpu_set_xreg(c, 1, a1);
    cpu_set_xreg(c, 2, a2);
    cpu_set_xreg(c, 3, a3);
    cpu_set_xreg(c, 4, a4);
    m->st.hypercalls++;
    layers_on_hvc_issue(m, cpu, c->mode == CPU_GUEST, hc, p->arg);
    cpu_take_exception(c, (uint64_t)ESR_EC_HVC64 << 26 | ESR_IL, 0, 0, c->eret_elr);
}

/* A host lifecycle call for VM vm (or HC_REGISTER_VM): the host keeps at
 * most one in flight per VM; host_resume clears the mark. */
static void issue_lifecycle(struct machine *m, unsigned cpu, struct actor_pending *p, int vm,
                            uint64_t hc, uint64_t a2, uint64_t a3, uint64_t a4)
{
    if (hc == HC_REGISTER_VM)
        m->act.registering++;
    else
        m->act.vm[vm].busy = true;
    issue_hvc(m, cpu, p, hc, hc == HC_REGISTER_VM ? 0 : (uint64_t)vm, a2, a3, a4);
    p->lifecycle = true;
}

/* One data access of the principal at EL1 on cpu to ipa. On a stage-2
 * fault the exception goes to KCore and the access is pending. */
static void do_access(struct machine *m, unsigned cpu, struct actor_pending *p, uint64_t ipa,
                      bool write, bool cacheable, uint64_t val)
{
    struct cpu *c = &m->cpu[cpu];
    struct mmu_ctx ctx;
    struct mmu_result r;
    struct mmu_fault f;
    struct msys_access a;
    label_t who = machine_principal(m, cpu);
    int rc;

    memset(&a, 0, sizeof(a));
    cpu_el1_ctx(c, &ctx);
    a.va = a.ipa = ipa;
    a.size = 8;
    a.acc = write ? MMU_ACC_WRITE : MMU_ACC_READ;
    if (msys_translate_s2(&m->ms, cpu, &ctx, ipa, a.acc, cacheable, &r, &f, &a.tlb_hit) != 0) {
        memset(p, 0, sizeof(*p));
        p->kind = AOP_ACCESS;
        p->ipa = ipa;
        p->write = write;
        p->cacheable = cacheable;
        p->val = val;
        if (who == LABEL_HOST)
            m->st.host_s2_faults++;
        else
            m->st.guest_s2_faults++;
        f.va = ipa;
        f.ipa = ipa;
        f.ipa_valid = true;
        cpu_take_exception(c, mmu_fault_to_esr(&f, true), ipa, mmu_fault_to_hpfar(&f), c->eret_elr);
        layers_on_s2_fault(m, cpu, who != LABEL_HOST);
        return;
    }
    a.pa = r.pa;
    if (write) {
        a.val = val;
        a.label = who;
        rc = msys_pa_write(&m->ms, r.pa, 8, r.attrs.cacheable, val, who, &a.cache);
        m->st.actor_writes++;
    } else {
        rc = msys_pa_read(&m->ms, r.pa, 8, r.attrs.cacheable, &a.val, &a.label, &a.cache);
        m->st.actor_reads++;
    }
    c->last_data_addr = ipa & ~(uint64_t)(MEM_PAGE_SIZE - 1);
    if (LABEL_IS_VM(who) && LABEL_VM_INDEX(who) < KC_MAX_VMS && (ipa >> MEM_PAGE_SHIFT) < 64)
        m->act.guest_mapped[LABEL_VM_INDEX(who)] |= 1ull << (ipa >> MEM_PAGE_SHIFT);
    if (rc == MEM_OK)
        inv_on_actor_access(m, cpu, who, &a, write);
}

/* ---- Host ------------------------------------------------------------------ */

static int pick_vm(struct machine *m, bool (*pred)(const struct host_vm *))
{
    int cand[KC_MAX_VMS], n = 0;
    for (int i = 0; i < KC_MAX_VMS; i++)
        if (pred(&m->act.vm[i]))
            cand[n++] = i;
    return n ? cand[machine_choose(m, (uint32_t)n)] : -1;
}

static bool vm_needs_vcpu(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_REGISTERED && v->nvcpus == 0; }
static bool vm_needs_image(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_REGISTERED && v->nvcpus && !v->image_pages; }
static bool vm_needs_verify(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_REGISTERED && v->image_pages; }
static bool vm_runnable(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_VERIFIED; }
static bool vm_off(const struct host_vm *v) { return v->used && !v->busy && v->state == VM_STATE_POWEROFF; }
static bool vm_wants_page(const struct host_vm *v) { return vm_runnable(v) && v->want_donate; }

/* A host page frame to give away: the host's simple allocator walks up from
 * KC_END (pages the host believes it owns), wrapping around. */
static uint64_t host_alloc_pfn(struct machine *m)
{
    uint64_t pfn = m->act.next_free_pfn++;
    if (m->act.next_free_pfn >= mem_pages(m))
        m->act.next_free_pfn = HOST_FIRST_FREE_PFN;
    return pfn;
}

static uint64_t image_hash(struct machine *m, uint64_t pfn, unsigned n)
{
    uint64_t h = KC_FNV_OFFSET;
    for (uint64_t pa = pfn << MEM_PAGE_SHIFT; pa < (pfn + n) << MEM_PAGE_SHIFT; pa += 8) {
        uint64_t w = 0;
        label_t l;
        cache_read_coherent(&m->ms.cache, pa, 8, &w, &l);
        for (int b = 0; b < 8; b++)
            h = (h ^ ((w >> (8 * b)) & 0xff)) * KC_FNV_PRIME;
    }
    return h;
}

/* An IPA for the host to touch: mostly its hot pages, sometimes anywhere
 * (KCore's memory and VMs' pages included: the host is adversarial). */
static uint64_t host_pick_ipa(struct machine *m)
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
        pfn = m->act.next_free_pfn - 1 - machine_choose(m, 16);
        break;
    default:
        pfn = (KC_END >> MEM_PAGE_SHIFT) + machine_choose(m, HOST_HOT_PAGES);
        break;
    }
    if (pfn >= mem_pages(m))
        pfn = KC_END >> MEM_PAGE_SHIFT;
    return (pfn << MEM_PAGE_SHIFT) + 8 * machine_choose(m, MEM_WORDS_PER_PAGE);
}

static void host_act(struct machine *m, unsigned cpu)
{
    struct actor_pending *p = &m->act.host_pending[cpu];
    unsigned nused = 0;
    int vm;

    for (int i = 0; i < KC_MAX_VMS; i++)
        nused += m->act.vm[i].used;

    /* A powered-off VM holds memory: the host reclaims it promptly. */
    if ((vm = pick_vm(m, vm_off)) >= 0 && machine_choose(m, 2)) {
        issue_lifecycle(m, cpu, p, vm, HC_TEARDOWN, 0, 0, 0);
        return;
    }

    switch (machine_choose(m, 16)) {
    case 0: case 1: case 2: case 3: case 4: {                 /* memory access */
        bool write = machine_choose(m, 2);
        bool cacheable = machine_choose(m, 4) != 0;
        do_access(m, cpu, p, host_pick_ipa(m), write, cacheable,
                  0x4000000000000000ull | m->st.steps);
        return;
    }
    case 5:                                                   /* boot a new VM */
        if (nused + m->act.registering < m->cfg.nvms) {
            issue_lifecycle(m, cpu, p, -1, HC_REGISTER_VM, 0, 0, 0);
            return;
        }
        break;
    case 6:
        if ((vm = pick_vm(m, vm_needs_vcpu)) >= 0) {
            issue_lifecycle(m, cpu, p, vm, HC_REGISTER_VCPU, 0, 0, 0);
            return;
        }
        if ((vm = pick_vm(m, vm_needs_image)) >= 0) {
            unsigned n = 1 + machine_choose(m, 2);
            uint64_t pfn = m->act.next_free_pfn;
            if (pfn + n > mem_pages(m))
                pfn = m->act.next_free_pfn = HOST_FIRST_FREE_PFN;
            for (unsigned i = 0; i < n; i++)
                host_alloc_pfn(m);
            issue_lifecycle(m, cpu, p, vm, HC_SET_BOOT_INFO, pfn, n, image_hash(m, pfn, n));
            return;
        }
        if ((vm = pick_vm(m, vm_needs_verify)) >= 0) {
            issue_lifecycle(m, cpu, p, vm, HC_VERIFY_VM, 0, 0, 0);
            return;
        }
        break;
    case 7: case 8: case 9: case 14: case 15:                 /* run a vCPU */
        if ((vm = pick_vm(m, vm_runnable)) >= 0) {
            issue_lifecycle(m, cpu, p, vm, HC_RUN_VCPU, 0, 0, 0);
            return;
        }
        break;
    case 10: case 11:                                         /* donate */
        if ((vm = pick_vm(m, vm_wants_page)) >= 0 || (vm = pick_vm(m, vm_runnable)) >= 0) {
            struct host_vm *v = &m->act.vm[vm];
            uint64_t gfn = v->want_donate ? v->next_gfn_fault : machine_choose(m, GUEST_GFNS);
            v->want_donate = false;
            issue_hvc(m, cpu, p, HC_DONATE, (uint64_t)vm, host_alloc_pfn(m), gfn, 0);
            return;
        }
        break;
    case 12:                                                  /* tear down */
        if ((vm = pick_vm(m, vm_off)) >= 0) {
            issue_lifecycle(m, cpu, p, vm, HC_TEARDOWN, 0, 0, 0);
            return;
        }
        break;
    case 13: {                                                /* adversarial hypercall */
        static const uint64_t hcs[] = { HC_REGISTER_VCPU, HC_SET_BOOT_INFO, HC_VERIFY_VM,
                                        HC_DONATE, HC_RUN_VCPU, HC_TEARDOWN, HC_GRANT, 0x3f };
        uint64_t hc = hcs[machine_choose(m, sizeof(hcs) / sizeof(hcs[0]))];
        uint64_t a1 = machine_choose(m, KC_MAX_VMS + 2);
        uint64_t a2 = machine_choose(m, 2) ? machine_choose(m, (uint32_t)mem_pages(m) + 16)
                                           : machine_choose(m, KC_END >> MEM_PAGE_SHIFT);
        issue_hvc(m, cpu, p, hc, a1, a2, machine_choose(m, GUEST_GFNS + 4), 0);
        return;
    }
    default:
        break;
    }
    /* Nothing of that kind to do: a plain read of a hot page. */
    do_access(m, cpu, p, host_pick_ipa(m), false, true, 0);
}

static void host_resume(struct machine *m, unsigned cpu)
{
    struct cpu *c = &m->cpu[cpu];
    struct actor_pending *p = &m->act.host_pending[cpu];
    int64_t r = (int64_t)cpu_xreg(c, 0);
    uint64_t info = cpu_xreg(c, 1);

    /* A guest op in flight on this CPU ended with its vCPU's exit (yield,
     * power-off, or a stage-2 fault KCore passed to the host). */
    struct actor_pending *g = &m->act.guest_pending[cpu];
    if (g->kind == AOP_HVC && (g->hc == HC_YIELD || g->hc == HC_POWEROFF))
        m->st.hc_ok[g->hc]++;
    if (g->kind == AOP_HVC)
        layers_on_hvc_return(m, cpu, true, 0, true);
    else if (g->kind == AOP_ACCESS)
        layers_on_s2_fault_return(m, cpu, true, (uint64_t)r, info);
    g->kind = AOP_NONE;
    if (p->kind == AOP_ACCESS)
        layers_on_s2_fault_return(m, cpu, false, 0, 0);
    if (c->eret_elr == KC_HOST_VBAR_EL1 + 0x200) {            /* fault injected */
        if (p->kind == AOP_ACCESS)
            m->st.host_s2_refused++;
        p->kind = AOP_NONE;
        c->eret_elr = KC_HOST_ENTRY;
        return;
    }
    if (p->kind == AOP_ACCESS) {                               /* retry after the fault */
        struct actor_pending q = *p;
        p->kind = AOP_NONE;
        do_access(m, cpu, p, q.ipa, q.write, q.cacheable, q.val);
        return;
    }
    if (p->kind != AOP_HVC)
        return;
    p->kind = AOP_NONE;
    if (p->hc < 32) {
        if (r >= 0)
            m->st.hc_ok[p->hc]++;
        else
            m->st.hc_fail[p->hc]++;
    }
    layers_on_hvc_return(m, cpu, false, r, false);
    unsigned vm = (unsigned)p->arg[0];
    struct host_vm *v = vm < KC_MAX_VMS ? &m->act.vm[vm] : NULL;
    /* The lifecycle call in flight for this VM has returned. */
    if (p->lifecycle && p->hc == HC_REGISTER_VM && m->act.registering)
        m->act.registering--;
    else if (p->lifecycle && v)
        v->busy = false;
    /* KCore refused the image (it changed after the host hashed it): the VM
     * is powered off and only good for a tear-down. */
    if (p->lifecycle && v && p->hc == HC_VERIFY_VM && r == HC_EHASH)
        v->state = VM_STATE_POWEROFF;
    p->lifecycle = false;
    if (r < 0)
        return;
    switch (p->hc) {
    case HC_REGISTER_VM:
        if ((uint64_t)r < KC_MAX_VMS) {
            memset(&m->act.vm[r], 0, sizeof(m->act.vm[r]));
            m->act.vm[r].used = true;
            m->act.vm[r].state = VM_STATE_REGISTERED;
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
            memset(m->act.guest_granted[vm], 0, sizeof(m->act.guest_granted[vm]));
            m->act.guest_mapped[vm] = 0;
        }
        break;
    default:
        break;
    }
}

/* ---- Guests ----------------------------------------------------------------- */

static void guest_act(struct machine *m, unsigned cpu)
{
    struct cpu *c = &m->cpu[cpu];
    struct actor_pending *p = &m->act.guest_pending[cpu];
    unsigned vm = c->guest_vm;
    /* Mostly the first few gfns (the image and the pages donated on its
     * faults, so accesses and grants usually hit mapped memory), sometimes
     * anywhere in its small IPA window (a fault that exits to the host). */
    uint64_t gfn = machine_choose(m, 8) ? machine_choose(m, 4) : machine_choose(m, GUEST_GFNS);

    switch (machine_choose(m, 32)) {
    case 0: case 1: case 2:
        /* grant a page it has used (so it is mapped), mostly */
        if (vm < KC_MAX_VMS && m->act.guest_mapped[vm] && machine_choose(m, 8)) {
            uint64_t mask = m->act.guest_mapped[vm];
            unsigned k = machine_choose(m, (uint32_t)__builtin_popcountll(mask));
            while (k--)
                mask &= mask - 1;
            gfn = (uint64_t)__builtin_ctzll(mask);
        }
        issue_hvc(m, cpu, p, HC_GRANT, gfn, 0, 0, 0);
        return;
    case 3: case 4:
        /* revoke what it granted, mostly */
        if (vm < KC_MAX_VMS && gfn < 64 && !m->act.guest_granted[vm][gfn] && machine_choose(m, 8))
            for (unsigned g = 0; g < GUEST_GFNS; g++)
                if (m->act.guest_granted[vm][g]) {
                    gfn = g;
                    break;
                }
        issue_hvc(m, cpu, p, HC_REVOKE, gfn, 0, 0, 0);
        return;
    case 5: case 6:
        issue_hvc(m, cpu, p, HC_YIELD, 0, 0, 0, 0);
        return;
    case 7:
        issue_hvc(m, cpu, p, HC_POWEROFF, 0, 0, 0, 0);
        return;
    default:
        break;
    }
    do_access(m, cpu, p, (gfn << MEM_PAGE_SHIFT) + 8 * machine_choose(m, MEM_WORDS_PER_PAGE),
              machine_choose(m, 2), machine_choose(m, 4) != 0,
              ((uint64_t)(vm + 1) << 56) | m->st.steps);
}

static void guest_resume(struct machine *m, unsigned cpu)
{
    struct cpu *c = &m->cpu[cpu];
    struct actor_pending *p = &m->act.guest_pending[cpu];
    int64_t r = (int64_t)cpu_xreg(c, 0);
    unsigned vm = c->guest_vm;

    if (p->kind == AOP_ACCESS) {                 /* KCore resumed the guest after its fault */
        struct actor_pending q = *p;
        layers_on_s2_fault_return(m, cpu, true, 0, 0);
        p->kind = AOP_NONE;
        do_access(m, cpu, p, q.ipa, q.write, q.cacheable, q.val);
        return;
    }
    if (p->kind != AOP_HVC) {
        layers_on_vcpu_entry(m, cpu);            /* vCPU entry: nothing was pending */
        return;
    }
    p->kind = AOP_NONE;
    layers_on_hvc_return(m, cpu, true, r, false);
    if (p->hc < 32) {
        if (r >= 0)
            m->st.hc_ok[p->hc]++;
        else
            m->st.hc_fail[p->hc]++;
    }
    if (r >= 0 && vm < KC_MAX_VMS && p->arg[0] < 64) {
        if (p->hc == HC_GRANT)
            m->act.guest_granted[vm][p->arg[0]]++;
        else if (p->hc == HC_REVOKE && m->act.guest_granted[vm][p->arg[0]])
            m->act.guest_granted[vm][p->arg[0]]--;
    }
}

/* Scripted runs: perform the next scenario action if it is this actor's.
 * Returns true when the actor's step is decided (acted or idled). */
static bool scripted_act(struct machine *m, unsigned cpu)
{
    struct scenario *s = &m->scen;
    const struct scen_action *a;
    label_t who = machine_principal(m, cpu);
    struct actor_pending *p = who == LABEL_HOST ? &m->act.host_pending[cpu] : &m->act.guest_pending[cpu];

    if (s->next >= s->n)
        return !s->then_random;          /* exhausted: idle, or back to random */
    a = &s->act[s->next];
    if ((a->who < 0 ? LABEL_HOST : LABEL_VM(a->who)) != who || (a->cpu >= 0 && (unsigned)a->cpu != cpu))
        return true;                      /* not ours: idle this step */
    s->next++;
    switch (a->op) {
    case SCEN_HVC:
        issue_hvc(m, cpu, p, a->hc, a->arg[0], a->arg[1], a->arg[2], a->arg[3]);
        break;
    case SCEN_READ:
    case SCEN_WRITE:
        do_access(m, cpu, p, a->ipa, a->op == SCEN_WRITE, a->cacheable, a->value);
        break;
    case SCEN_IDLE:
        break;
    }
    return true;
}

void actor_act(struct machine *m, unsigned cpu)
{
    if (m->scripted && scripted_act(m, cpu))
        return;
    if (m->cpu[cpu].mode == CPU_HOST)
        host_act(m, cpu);
    else if (m->cpu[cpu].mode == CPU_GUEST)
        guest_act(m, cpu);
}

void actor_resume(struct machine *m, unsigned cpu)
{
    if (m->cpu[cpu].mode == CPU_HOST)
        host_resume(m, cpu);
    else if (m->cpu[cpu].mode == CPU_GUEST)
        guest_resume(m, cpu);
}
