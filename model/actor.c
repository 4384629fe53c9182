/*
 * model/actor.c - the engine of the host and guest actors. See actor.h.
 * What they do is decided by the hypervisor's adversary (hyp/hv.h) or by
 * a scenario (model/scenario.h); this file performs it and finishes it.
 */
#include <string.h>

#include "model/machine.h"

#define ESR_EC_HVC64     0x16u
#define ESR_IL           (1u << 25)

static void hvc_event(struct machine *m, enum ev_kind k, unsigned cpu, bool guest,
                      const struct actor_pending *p, int64_t r, uint64_t x1, bool exited)
{
    struct ev e;

    if (!ev_wanted(&m->ms.bus, k))
        return;
    memset(&e, 0, sizeof(e));
    e.kind = k;
    e.cpu = (int)cpu;
    e.u.hvc.who = guest ? LABEL_VM(m->cpu[cpu].guest_vm) : LABEL_HOST;
    e.u.hvc.guest = guest;
    e.u.hvc.hc = p->hc;
    memcpy(e.u.hvc.a, p->arg, sizeof(e.u.hvc.a));
    e.u.hvc.r = r;
    e.u.hvc.x1 = x1;
    e.u.hvc.exited = exited;
    ev_dispatch(&m->ms.bus, &e);
}

static void fault_event(struct machine *m, enum ev_kind k, unsigned cpu, bool guest, uint64_t x0,
                        uint64_t x1)
{
    struct ev e;

    if (!ev_wanted(&m->ms.bus, k))
        return;
    e.kind = k;
    e.cpu = (int)cpu;
    e.u.fault.guest = guest;
    e.u.fault.x0 = x0;
    e.u.fault.x1 = x1;
    ev_dispatch(&m->ms.bus, &e);
}

static struct actor_pending *pending_of(struct machine *m, unsigned cpu)
{
    return m->cpu[cpu].mode == CPU_GUEST ? &m->act.guest_pending[cpu] : &m->act.host_pending[cpu];
}

struct actor_pending *actor_hvc(struct machine *m, unsigned cpu, uint64_t hc, uint64_t a1,
                                uint64_t a2, uint64_t a3, uint64_t a4)
{
    struct cpu *c = &m->cpu[cpu];
    struct actor_pending *p = pending_of(m, cpu);

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
    hvc_event(m, EV_HVC_ISSUE, cpu, c->mode == CPU_GUEST, p, 0, 0, false);
    cpu_take_exception(c, (uint64_t)ESR_EC_HVC64 << 26 | ESR_IL, 0, 0, c->eret_elr);
    return p;
}

void actor_access(struct machine *m, unsigned cpu, uint64_t ipa, bool write, bool cacheable,
                  uint64_t val)
{
    struct cpu *c = &m->cpu[cpu];
    struct actor_pending *p = pending_of(m, cpu);
    struct mmu_ctx ctx;
    struct mmu_fault f;
    label_t who = machine_principal(m, cpu);
    struct msys_req rq = { .cpu = cpu, .who = who, .ctx = &ctx, .va = ipa, .size = 8,
                           .acc = write ? MMU_ACC_WRITE : MMU_ACC_READ, .s1_cacheable = cacheable,
                           .val = val };

    cpu_el1_ctx(c, &ctx);
    if (msys_access(&m->ms, &rq, NULL, &f) == MSYS_FAULT) {
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
        fault_event(m, EV_S2_FAULT, cpu, who != LABEL_HOST, 0, 0);
        return;
    }
    if (write)
        m->st.actor_writes++;
    else
        m->st.actor_reads++;
    c->last_data_addr = ipa & ~(uint64_t)(MEM_PAGE_SIZE - 1);
    if (LABEL_IS_VM(who) && m->hv->adversary->guest_accessed)
        m->hv->adversary->guest_accessed(m, m->act.adv, cpu, ipa);
}

static void count_result(struct machine *m, uint64_t hc, int64_t r)
{
    if (hc < 32) {
        if (r >= 0)
            m->st.hc_ok[hc]++;
        else
            m->st.hc_fail[hc]++;
    }
}

/* ---- Host ------------------------------------------------------------------ */

static void host_resume(struct machine *m, unsigned cpu)
{
    struct cpu *c = &m->cpu[cpu];
    struct actor_pending *p = &m->act.host_pending[cpu];
    int64_t r = (int64_t)cpu_xreg(c, 0);
    uint64_t info = cpu_xreg(c, 1);

    /* A guest op in flight on this CPU ended with its vCPU's exit (yield,
     * power-off, or a stage-2 fault the hypervisor passed to the host). */
    struct actor_pending *g = &m->act.guest_pending[cpu];
    if (g->kind == AOP_HVC) {
        const struct hv_call *row = hv_call_by_nr(m->hv, g->hc);
        if (row && row->exits)
            m->st.hc_ok[g->hc]++;
        hvc_event(m, EV_HVC_RETURN, cpu, true, g, 0, 0, true);
    } else if (g->kind == AOP_ACCESS) {
        fault_event(m, EV_S2_FAULT_RETURN, cpu, true, (uint64_t)r, info);
    }
    g->kind = AOP_NONE;
    if (p->kind == AOP_ACCESS)
        fault_event(m, EV_S2_FAULT_RETURN, cpu, false, 0, 0);
    if (c->eret_elr == m->hv->boot.host_vbar_el1 + m->hv->boot.inject_offset) {   /* fault injected */
        if (p->kind == AOP_ACCESS)
            m->st.host_s2_refused++;
        p->kind = AOP_NONE;
        c->eret_elr = m->hv->boot.host_entry;
        return;
    }
    if (p->kind == AOP_ACCESS) {                               /* retry after the fault */
        struct actor_pending q = *p;
        p->kind = AOP_NONE;
        actor_access(m, cpu, q.ipa, q.write, q.cacheable, q.val);
        return;
    }
    if (p->kind != AOP_HVC)
        return;
    p->kind = AOP_NONE;
    count_result(m, p->hc, r);
    hvc_event(m, EV_HVC_RETURN, cpu, false, p, r, info, false);
    m->hv->adversary->host_returned(m, m->act.adv, cpu, p, r, info);
    p->flags = 0;
}

/* ---- Guests ----------------------------------------------------------------- */

static void guest_resume(struct machine *m, unsigned cpu)
{
    struct cpu *c = &m->cpu[cpu];
    struct actor_pending *p = &m->act.guest_pending[cpu];
    int64_t r = (int64_t)cpu_xreg(c, 0);

    if (p->kind == AOP_ACCESS) {                 /* the hypervisor resumed the guest after its fault */
        struct actor_pending q = *p;
        fault_event(m, EV_S2_FAULT_RETURN, cpu, true, 0, 0);
        p->kind = AOP_NONE;
        actor_access(m, cpu, q.ipa, q.write, q.cacheable, q.val);
        return;
    }
    if (p->kind != AOP_HVC) {
        if (ev_wanted(&m->ms.bus, EV_VCPU_ENTRY)) {   /* vCPU entry: nothing was pending */
            struct ev e = { .kind = EV_VCPU_ENTRY, .cpu = (int)cpu };
            ev_dispatch(&m->ms.bus, &e);
        }
        return;
    }
    p->kind = AOP_NONE;
    hvc_event(m, EV_HVC_RETURN, cpu, true, p, r, cpu_xreg(c, 1), false);
    count_result(m, p->hc, r);
    m->hv->adversary->guest_returned(m, m->act.adv, cpu, p, r, cpu_xreg(c, 1));
}

/* Scripted runs: perform the next scenario action if it is this actor's.
 * Returns true when the actor's step is decided (acted or idled). */
static bool scripted_act(struct machine *m, unsigned cpu)
{
    struct scenario *s = &m->scen;
    const struct scen_action *a;
    label_t who = machine_principal(m, cpu);

    if (s->next >= s->n)
        return !s->then_random;          /* exhausted: idle, or back to random */
    a = &s->act[s->next];
    if ((a->who < 0 ? LABEL_HOST : LABEL_VM(a->who)) != who || (a->cpu >= 0 && (unsigned)a->cpu != cpu))
        return true;                      /* not ours: idle this step */
    s->next++;
    switch (a->op) {
    case SCEN_HVC:
        actor_hvc(m, cpu, a->hc, a->arg[0], a->arg[1], a->arg[2], a->arg[3]);
        break;
    case SCEN_READ:
    case SCEN_WRITE:
        actor_access(m, cpu, a->ipa, a->op == SCEN_WRITE, a->cacheable, a->value);
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
        m->hv->adversary->host_act(m, m->act.adv, cpu);
    else if (m->cpu[cpu].mode == CPU_GUEST)
        m->hv->adversary->guest_act(m, m->act.adv, cpu);
}

void actor_resume(struct machine *m, unsigned cpu)
{
    if (m->cpu[cpu].mode == CPU_HOST)
        host_resume(m, cpu);
    else if (m->cpu[cpu].mode == CPU_GUEST)
        guest_resume(m, cpu);
}
