/*
 * model/machine.c - the machine, its step function and event selection.
 * See machine.h. One step = one visible event (DESIGN.md): one KCore
 * instruction or one actor action on a CPU, or one hardware event (a
 * speculative TLB fill, a TLB eviction, a cache-line eviction, the
 * completion of a pending TLBI).
 */
#include "model/machine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/sched/sched.h"


static void annotate_violation(struct machine *m, struct violation *v);

void machine_config_default(struct machine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ncpus = 4;
    cfg->nvms = 2;
    cfg->mem_mib = 256;
    cfg->cache_sets = 256;
    cfg->cache_ways = 8;
    cfg->tlb_entries = 64;
    cfg->seed = 1;
    cfg->sched = SCHED_RANDOM;
    cfg->pct_depth = 3;
    cfg->steps = 1000000;
    cfg->check = CHECK_INCREMENTAL;
    cfg->layers = true;
    snprintf(cfg->kcore_path, sizeof(cfg->kcore_path), "%s", hv_default()->default_image);
}

static int check_config(const struct hv_ops *hv, const struct machine_config *c, char *err, size_t n)
{
    if (c->ncpus < 1 || c->ncpus > HV_MAX_CPUS)
        return snprintf(err, n, "--cpus %u: must be 1..%u", c->ncpus, HV_MAX_CPUS), -1;
    if (c->nvms > hv->layout.max_vms)
        return snprintf(err, n, "--vms %u: must be 0..%u", c->nvms, hv->layout.max_vms), -1;
    if (c->mem_mib < hv->layout.min_mem >> 20 || c->mem_mib > 4096)
        return snprintf(err, n, "--mem %llu: must be %llu..4096 MiB",
                        (unsigned long long)c->mem_mib,
                        (unsigned long long)(hv->layout.min_mem >> 20)), -1;
    if (c->cache_sets == 0 || (c->cache_sets & (c->cache_sets - 1)) || c->cache_ways == 0 ||
        c->cache_ways > 64 || c->cache_sets > (1u << 20))
        return snprintf(err, n, "cache geometry %ux%u: sets must be a power of two, ways 1..64",
                        c->cache_sets, c->cache_ways), -1;
    if (c->tlb_entries == 0 || c->tlb_entries > 65536)
        return snprintf(err, n, "--tlb %u: must be 1..65536", c->tlb_entries), -1;
    return 0;
}

int machine_init(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen)
{
    struct msys_config mc;

    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    m->hv = hv_default();
    m->annotate = annotate_violation;
    if (check_config(m->hv, cfg, err, errlen) != 0)
        return -1;
    mc.ncpus = cfg->ncpus;
    mc.mem_bytes = cfg->mem_mib << 20;
    mc.cache_sets = cfg->cache_sets;
    mc.cache_ways = cfg->cache_ways;
    mc.tlb_entries = cfg->tlb_entries;
    if (msys_init(&m->ms, &mc) != 0) {
        snprintf(err, errlen, "cannot allocate the memory system");
        return -1;
    }
    if (kimage_load(&m->img, cfg->kcore_path, m->hv->layout.text_base + m->hv->layout.text_size,
                    err, errlen) != 0) {
        msys_free(&m->ms);
        return -1;
    }
    /* ELF loading: each segment at its physical address; memory is fresh,
     * so the bytes from filesz to memsz (.bss) read as zero (hyp/kcore/README.md). */
    for (unsigned i = 0; i < m->img.nseg; i++) {
        const struct kseg *s = &m->img.seg[i];
        if (s->pa + s->memsz > m->hv->layout.region_end ||
            mem_load(&m->ms.mem, s->pa, s->data, s->filesz, LABEL_HYP) != MEM_OK) {
            snprintf(err, errlen, "%s: segment %u at 0x%llx does not fit %s's region [0, 0x%llx)",
                     cfg->kcore_path, i, (unsigned long long)s->pa, m->hv->label_name,
                     (unsigned long long)m->hv->layout.region_end);
            machine_free(m);
            return -1;
        }
    }
    m->cpu = calloc(cfg->ncpus, sizeof(*m->cpu));
    m->sched = calloc(1, sizeof(*m->sched));
    if (!m->cpu || !m->sched) {
        snprintf(err, errlen, "out of memory");
        machine_free(m);
        return -1;
    }
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        if (cpu_init(&m->cpu[i], i, cfg->ncpus, &m->img, &m->ms, m->hv) != 0) {
            snprintf(err, errlen, "cannot create the Unicorn engine for CPU %u", i);
            machine_free(m);
            return -1;
        }
    }
    {
        struct sched_config sc = { .kind = cfg->sched, .seed = cfg->seed, .ncpus = cfg->ncpus,
                                   .pct_depth = cfg->pct_depth, .steps = cfg->steps,
                                   .ex_depth = cfg->ex_depth, .ex_preempt = cfg->ex_preempt,
                                   .ex_schedule = cfg->ex_schedule };
        sched_init(m->sched, &sc);
    }
    if (!(m->act.adv = m->hv->adversary->init(m))) {
        snprintf(err, errlen, "out of memory");
        machine_free(m);
        return -1;
    }
    if (cfg->scenario_path[0]) {
        if (scenario_load(&m->scen, cfg->scenario_path, cfg->ncpus, err, errlen) != 0) {
            machine_free(m);
            return -1;
        }
        m->scripted = true;
    }
    if (checkers_init(m) != 0) {
        snprintf(err, errlen, "cannot set up the invariant checker");
        machine_free(m);
        return -1;
    }
    return 0;
}

void machine_free(struct machine *m)
{
    checkers_free(m);
    if (m->act.adv)
        m->hv->adversary->free(m->act.adv);
    if (m->cpu)
        for (unsigned i = 0; i < m->cfg.ncpus; i++)
            cpu_free(&m->cpu[i]);
    free(m->cpu);
    free(m->sched);
    free(m->viol);
    scenario_free(&m->scen);
    kimage_free(&m->img);
    msys_free(&m->ms);
    memset(m, 0, sizeof(*m));
}

/* A decision: a replayed trace gives it, else the strategy; the recorder
 * sees the outcome. */
static uint32_t decide(struct machine *m, const struct choice *c)
{
    uint32_t v, n = c->n;
    if (!m->choose_hook) {
        v = sched_pick(m->sched, c);
    } else {
        v = m->choose_hook(m->choose_arg, n);
        if (v >= n) {                       /* impossible choice in a trace */
            machine_violation(m, -1, -1, ~0ull, 0, 0,
                              "trace choice %u out of range (%u options) at step %llu",
                              v, n, (unsigned long long)m->st.steps);
            v = 0;
        }
    }
    if (m->record_hook)
        m->record_hook(m->record_arg, n, v);
    return v;
}

uint32_t machine_choose_k(struct machine *m, enum choice_kind kind, uint32_t n)
{
    struct choice c = { .kind = kind, .n = n, .step = m->st.steps };
    if (n <= 1)
        return 0;
    return decide(m, &c);
}

uint32_t machine_choose(struct machine *m, uint32_t n)
{
    return machine_choose_k(m, CH_ACTOR, n);
}

/* m->annotate: name the instruction to show with a violation: the KCore
 * instruction this step ran (its effect is what broke the invariant,
 * whichever CPU's TLB or table the violation names), else the last one of
 * the CPU named. */
static void annotate_violation(struct machine *m, struct violation *v)
{
    int icpu = m->step_kind == STEP_CPU && m->step_cpu >= 0 && m->step_ran_kcore ? m->step_cpu : v->cpu;
    if (icpu >= 0 && (unsigned)icpu < m->cfg.ncpus && m->cpu && m->cpu[icpu].uc) {
        const struct cpu *c = &m->cpu[icpu];
        uint64_t pc = c->trap.kind != TRAP_NONE ? c->trap.pc : c->last_pc;
        char dis[64];
        cpu_disasm(c, pc, dis, sizeof(dis));
        snprintf(v->insn, sizeof(v->insn), "CPU %d, 0x%llx: %s", icpu, (unsigned long long)pc, dis);
    }
}

label_t machine_principal(const struct machine *m, unsigned cpu)
{
    const struct cpu *c = &m->cpu[cpu];
    if (c->mode == CPU_GUEST)
        return LABEL_VM(c->guest_vm);
    if (c->mode == CPU_HOST)
        return LABEL_HOST;
    return LABEL_HYP;
}

/* ---- Hardware events ------------------------------------------------------ */

/* Speculative TLB fill: any translation valid now for the CPU's context
 * (DESIGN.md). The address is drawn near recent activity or at random. */
static void hw_tlb_fill(struct machine *m, unsigned i)
{
    struct cpu *c = &m->cpu[i];
    uint64_t pages = m->ms.mem.size >> MEM_PAGE_SHIFT;
    uint64_t addr;
    struct mmu_result r;
    struct mmu_fault f;
    struct mmu_ctx ctx;
    bool hit;

    if (machine_choose_k(m, CH_HW, 2) == 0 && c->last_data_addr)
        addr = c->last_data_addr + ((uint64_t)machine_choose_k(m, CH_HW, 16) << MEM_PAGE_SHIFT);
    else
        addr = (uint64_t)machine_choose_k(m, CH_HW, (uint32_t)pages) << MEM_PAGE_SHIFT;
    if (c->mode == CPU_KCORE || c->mode == CPU_HALTED || c->mode == CPU_WFE) {
        msys_translate(&m->ms, i, &c->el2, addr, MMU_ACC_READ, false, &r, &f, &hit);
    } else {
        cpu_el1_ctx(c, &ctx);
        if (ctx.s2.vm)
            msys_translate_s2(&m->ms, i, &ctx, addr, MMU_ACC_READ, true, &r, &f, &hit);
    }
}

static void hw_event(struct machine *m, enum step_kind k, unsigned cpu)
{
    switch (k) {
    case STEP_TLB_FILL:
        hw_tlb_fill(m, cpu);
        break;
    case STEP_TLB_EVICT: {
        struct tlb *t = &m->ms.tlb.cpu[cpu];
        if (t->used)
            msys_tlb_evict(&m->ms, cpu, (unsigned)tlb_nth_valid(t, machine_choose_k(m, CH_HW, t->used)));
        break;
    }
    case STEP_CACHE_EVICT:
        if (m->ms.cache.valid_lines)
            msys_cache_evict(&m->ms,
                             (unsigned)cache_nth_valid(&m->ms.cache, machine_choose_k(m, CH_HW, m->ms.cache.valid_lines)));
        break;
    case STEP_TLBI_COMPLETE:
        if (m->ms.tlb.npending)
            msys_tlbi_complete(&m->ms, machine_choose_k(m, CH_HW, m->ms.tlb.npending));
        break;
    default:
        break;
    }
}

/* ---- CPU events --------------------------------------------------------- */

static void cpu_event(struct machine *m, unsigned i)
{
    struct cpu *c = &m->cpu[i];

    m->step_ran_kcore = c->mode == CPU_KCORE;
    if (c->mode == CPU_KCORE) {
        uint64_t before = c->insns;
        enum cpu_event ev = cpu_step(c);
        m->st.guest_instructions += c->insns - before;
        if (c->nacc)
            c->last_data_addr = c->acc[c->nacc - 1].va & ~(uint64_t)(MEM_PAGE_SIZE - 1);
        if (ev == CPU_EV_TRAP) {
            char f[96] = "";
            if (c->trap.kind == TRAP_DATA_ABORT)
                snprintf(f, sizeof(f), " (fault type %d, stage %u, level %d, VA 0x%llx)",
                         c->trap.fault.type, c->trap.fault.stage, c->trap.fault.level,
                         (unsigned long long)c->trap.info);
            else if (c->trap.kind == TRAP_PANIC)
                snprintf(f, sizeof(f), " (reason x0 = 0x%llx)", (unsigned long long)c->trap.info);
            machine_violation(m, (int)i, 0, ~0ull, LABEL_HYP, LABEL_HYP,
                              "%s stopped: %s at PC 0x%llx%s", m->hv->label_name, trap_name(c->trap.kind),
                              (unsigned long long)c->trap.pc, f);
        } else if (ev == CPU_EV_ERET_EL1) {
            actor_resume(m, i);
        } else if (ev == CPU_EV_SEV) {
            for (unsigned k = 0; k < m->cfg.ncpus; k++)
                cpu_signal_event(&m->cpu[k]);
        }
    } else if (c->mode == CPU_HOST || c->mode == CPU_GUEST) {
        actor_act(m, i);
    }
}

/* Is the hypervisor's boot done? (Read until it is: it stays done.) */
static bool booted(struct machine *m)
{
    if (!m->hv_booted) {
        struct hv_mem mm;
        machine_view(m, &mm);
        m->hv_booted = m->hv->booted(&mm);
    }
    return m->hv_booted;
}

/* Pick the CPU to run among those that can (the strategy's CH_CPU choice,
 * always asked and recorded, even with one CPU). */
static int pick_cpu(struct machine *m, unsigned *live, unsigned nlive)
{
    struct choice c = { .kind = CH_CPU, .n = nlive, .step = m->st.steps, .live = live };

    if (sched_wants_contended(m->sched) && !m->choose_hook && nlive >= 2) {
        bool hyp = false;
        for (unsigned k = 0; k < nlive; k++)
            hyp |= m->cpu[live[k]].mode == CPU_KCORE;
        c.contended = hyp && booted(m);
    }
    return (int)live[decide(m, &c)];
}

static void step_event(struct machine *m, enum ev_kind kind, int cpu, enum step_kind k)
{
    if (ev_wanted(&m->ms.bus, kind)) {
        struct ev e = { .kind = kind, .cpu = cpu };
        e.u.step.kind = (unsigned)k;
        e.u.step.ran_hyp = m->step_ran_kcore;
        ev_dispatch(&m->ms.bus, &e);
    }
}

int machine_step(struct machine *m)
{
    unsigned live[HV_MAX_CPUS], nlive = 0;
    enum step_kind k = STEP_CPU;
    int cpu;

    if (m->stop)
        return 1;
    for (unsigned i = 0; i < m->cfg.ncpus; i++)
        if (m->cpu[i].mode != CPU_HALTED && m->cpu[i].mode != CPU_WFE)
            live[nlive++] = i;
    if (nlive == 0) {
        machine_violation(m, -1, 0, ~0ull, 0, 0,
                          "no CPU can run: every CPU is halted or waits in WFE (deadlock)");
        return 1;
    }
    /* Event kind: CPU, or (strategies that draw it) a hardware event. */
    if (sched_draws_events(m->sched) || m->choose_hook) {
        uint32_t roll = machine_choose_k(m, CH_EVENT, 1000);
        if (roll < SCHED_HW_PERMILLE)
            k = (enum step_kind)(STEP_TLB_FILL + roll % (STEP_KIND_COUNT - 1));
    }
    m->step_kind = k;
    m->step_ran_kcore = false;
    if (k == STEP_CPU) {
        cpu = pick_cpu(m, live, nlive);
        m->step_cpu = cpu;
        step_event(m, EV_STEP_BEGIN, cpu, k);
        cpu_event(m, (unsigned)cpu);
    } else {
        cpu = (int)live[machine_choose_k(m, CH_HW_CPU, nlive)];
        m->step_cpu = cpu;
        step_event(m, EV_STEP_BEGIN, cpu, k);
        hw_event(m, k, (unsigned)cpu);
    }
    m->st.events[k]++;
    step_event(m, EV_STEP_END, cpu, k);
    m->st.steps++;
    if (m->step_hook)
        m->step_hook(m->step_arg, m, (unsigned)cpu, k);
    return m->stop ? 1 : 0;
}

/* ---- State hash ---------------------------------------------------------- */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t machine_hash(const struct machine *m)
{
    uint64_t h = 0xcbf29ce484222325ull, v;
    v = mem_hash(&m->ms.mem);
    h = fnv(h, &v, 8);
    v = cache_hash(&m->ms.cache);
    h = fnv(h, &v, 8);
    for (unsigned i = 0; i < m->cfg.ncpus; i++) {
        const struct cpu *c = &m->cpu[i];
        v = tlb_hash(&m->ms.tlb.cpu[i]);
        h = fnv(h, &v, 8);
        for (unsigned r = 0; r < 31; r++) {
            v = cpu_xreg(c, r);
            h = fnv(h, &v, 8);
        }
        h = fnv(h, &c->pc, 8);
        h = fnv(h, c->sr, sizeof(c->sr));
        v = (uint64_t)c->mode << 32 | (uint64_t)c->event << 31 | c->guest_vm;
        h = fnv(h, &v, 8);
    }
    v = m->ms.tlb.npending;
    h = fnv(h, &v, 8);
    return h;
}
