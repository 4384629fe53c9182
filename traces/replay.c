/*
 * traces/replay.c - recording a run's choices and replaying them through
 * the machine's hooks (machine.h: choose_hook, record_hook, step_hook).
 * See trace.h for the contracts and FORMAT.md for what is stored.
 */
#define _DEFAULT_SOURCE 1   /* realpath, scandir */
#include "traces/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/hcname.h"
#include "util/fsutil.h"

/* The event roll every step draws first under replay (machine_step:
 * machine_choose(m, 1000)); any value >= its hardware-event threshold means
 * "run a CPU". Recorded round-robin runs do not draw it, so the recorder
 * stores this value in its place (FORMAT.md "Round robin"). */
#define ROLL_OPTIONS 1000u
#define ROLL_CPU     (ROLL_OPTIONS - 1)

/* ---- What is in flight --------------------------------------------------- */

void trace_watch_init(struct trace_watch *w, const struct machine *m)
{
    memset(w, 0, sizeof(*w));
    w->init = true;
    for (unsigned i = 0; i < m->cfg.ncpus && i < HV_MAX_CPUS; i++) {
        w->mode[i] = (uint8_t)m->cpu[i].mode;
        w->vm[i] = m->cpu[i].guest_vm;
        if (m->cpu[i].mode == CPU_HOST || m->cpu[i].mode == CPU_GUEST)
            w->left_kcore |= 1ull << (i & 63);
    }
}

void trace_watch_step(struct trace_watch *w, const struct machine *m, unsigned cpu)
{
    const struct cpu *c;
    enum cpu_mode prev, cur;
    uint64_t all;

    if (!w->init)
        trace_watch_init(w, m);
    if (cpu >= m->cfg.ncpus || cpu >= HV_MAX_CPUS)
        return;
    c = &m->cpu[cpu];
    prev = (enum cpu_mode)w->mode[cpu];
    cur = c->mode;
    if ((prev == CPU_HOST || prev == CPU_GUEST) && cur == CPU_KCORE) {
        /* an exception from EL1: the principal's pending op says which */
        const struct actor_pending *p = prev == CPU_HOST ? &m->act.host_pending[cpu]
                                                         : &m->act.guest_pending[cpu];
        struct trace_inflight *f = &w->cpu[cpu];
        memset(f, 0, sizeof(*f));
        f->active = p->kind == AOP_HVC || p->kind == AOP_ACCESS;
        f->fault = p->kind == AOP_ACCESS;
        f->who = prev == CPU_HOST ? LABEL_HOST : LABEL_VM(w->vm[cpu]);
        f->hc = p->hc;
        memcpy(f->arg, p->arg, sizeof(f->arg));
        f->ipa = p->ipa;
        f->write = p->write;
        f->since = m->st.steps ? m->st.steps - 1 : 0;
    } else if (cur == CPU_HOST || cur == CPU_GUEST) {
        w->cpu[cpu].active = false;
        if (!(w->left_kcore >> (cpu & 63) & 1)) {
            w->left_kcore |= 1ull << (cpu & 63);
            all = m->cfg.ncpus >= 64 ? ~0ull : (1ull << m->cfg.ncpus) - 1;
            if ((w->left_kcore & all) == all && !w->boot_end)
                w->boot_end = m->st.steps;
        }
    }
    w->mode[cpu] = (uint8_t)cur;
    w->vm[cpu] = c->guest_vm;
}

void trace_inflight_describe(const struct trace_inflight *f, char *buf, size_t len)
{
    char wb[16];
    const char *hn = hc_name(f->hc), *who = hv_label_name(hv_default(), f->who, wb, sizeof(wb));
    if (f->fault)
        snprintf(buf, len, "%s stage-2 fault (%s of ipa 0x%llx) since step %llu", who,
                 f->write ? "write" : "read", (unsigned long long)f->ipa, (unsigned long long)f->since);
    else if (hn)
        snprintf(buf, len, "%s hvc %s(0x%llx, 0x%llx, 0x%llx, 0x%llx) since step %llu", who, hn,
                 (unsigned long long)f->arg[0], (unsigned long long)f->arg[1],
                 (unsigned long long)f->arg[2], (unsigned long long)f->arg[3], (unsigned long long)f->since);
    else
        snprintf(buf, len, "%s hvc %llu since step %llu", who, (unsigned long long)f->hc,
                 (unsigned long long)f->since);
}

/* ---- Recording --------------------------------------------------------- */

static void rec_choice(void *arg, uint32_t n, uint32_t v)
{
    struct trace_recorder *r = arg;
    if (r->step_start) {
        r->step_start = false;
        if (r->rr_roll && n != ROLL_OPTIONS)
            r->oom |= trace_push_choice(r->t, ROLL_CPU) != 0;
    }
    r->oom |= trace_push_choice(r->t, v) != 0;
}

static void rec_step(struct trace_recorder *r, const struct machine *m)
{
    r->step_start = true;
    if (m->st.steps % r->every == 0)
        r->oom |= trace_push_checkpoint(r->t, m->st.steps, machine_hash(m)) != 0;
}

static void rec_step_hook(void *arg, const struct machine *m, unsigned cpu, enum step_kind k)
{
    struct trace_recorder *r = arg;
    (void)k;
    rec_step(r, m);
    trace_watch_step(&r->watch, m, cpu);
}

/* The scenario file's digest and bytes, embedded in the trace so that a
 * replay needs no file (FORMAT.md config.scenario_text). */
static int embed_scenario(struct trace *t, char *err, size_t errlen)
{
    char *buf;
    size_t n;

    t->has_scenario_sha256 = false;
    if (!t->cfg.scenario_path[0])
        return 0;
    if (fs_read_regular(t->cfg.scenario_path, SCENARIO_MAX_BYTES, &buf, &n, err, errlen) != 0)
        return -1;
    sha256(buf, n, t->scenario_sha256);
    t->has_scenario_sha256 = true;
    if (strlen(buf) == n) {        /* a file with a NUL byte is never a valid scenario */
        t->scenario_text = buf;
        t->scenario_len = n;
    } else {
        free(buf);
    }
    return 0;
}

static void rec_attach(struct trace_recorder *r, struct trace *t, struct machine *m, uint64_t every)
{
    r->t = t;
    r->every = every ? every : TRACE_HASH_EVERY_DEFAULT;
    r->step_start = true;
    r->rr_roll = m->cfg.sched == SCHED_RR;
    r->oom = false;
    t->hash_every = r->every;
    r->oom |= trace_push_checkpoint(t, m->st.steps, machine_hash(m)) != 0;
    trace_watch_init(&r->watch, m);
}

int trace_record_begin(struct trace_recorder *r, struct trace *t, struct machine *m,
                       uint64_t every, char *err, size_t errlen)
{
    trace_free(t);
    t->cfg = m->cfg;
    if (sha256_file(m->cfg.kcore_path, t->kcore_sha256, err, errlen) || embed_scenario(t, err, errlen))
        return -1;
    t->has_mutant = trace_mutant_of_path(m->cfg.kcore_path, t->mutant) != NULL;
    {
        /* an absolute path: replay from another directory still finds it */
        char *abs = realpath(m->cfg.kcore_path, NULL);
        if (abs && strlen(abs) < sizeof(t->cfg.kcore_path))
            snprintf(t->cfg.kcore_path, sizeof(t->cfg.kcore_path), "%s", abs);
        free(abs);
    }
    rec_attach(r, t, m, every);
    m->record_hook = rec_choice;
    m->record_arg = r;
    m->step_hook = rec_step_hook;
    m->step_arg = r;
    return 0;
}

static void rec_finish(struct trace_recorder *r, const struct machine *m)
{
    struct trace *t = r->t;
    if (t->nckpt == 0 || t->ckpt[t->nckpt - 1].step != m->st.steps)
        r->oom |= trace_push_checkpoint(t, m->st.steps, machine_hash(m)) != 0;
    t->steps = m->st.steps;
    t->violation = m->nviol > 0;
    if (t->violation)
        t->viol = m->viol[0];
}

int trace_record_end(struct trace_recorder *r, struct machine *m)
{
    rec_finish(r, m);
    m->record_hook = NULL;
    m->record_arg = NULL;
    m->step_hook = NULL;
    m->step_arg = NULL;
    return r->oom ? -1 : 0;
}

static int check_digest(const char *what, const char *path, const uint8_t want[SHA256_BYTES],
                        char *err, size_t errlen)
{
    uint8_t got[SHA256_BYTES];
    char hg[SHA256_HEX], hw[SHA256_HEX];
    if (sha256_file(path, got, err, errlen))
        return -1;
    if (!memcmp(got, want, SHA256_BYTES))
        return 0;
    sha256_hex(got, hg);
    sha256_hex(want, hw);
    snprintf(err, errlen, "%s %s has SHA-256 %.16s..., the trace was recorded with %.16s...",
             what, path, hg, hw);
    return 1;
}

int trace_check_kcore(const struct trace *t, const char *path, char *err, size_t errlen)
{
    return check_digest("KCore ELF", path, t->kcore_sha256, err, errlen);
}

int trace_check_scenario(const struct trace *t, const char *path, char *err, size_t errlen)
{
    if (!t->has_scenario_sha256)
        return 0;
    return check_digest("scenario", path, t->scenario_sha256, err, errlen);
}

int trace_machine_init(struct machine *m, const struct trace *t, const char *kcore_path,
                       char *err, size_t errlen)
{
    struct machine_config cfg = t->cfg;
    char name[600];

    snprintf(cfg.kcore_path, sizeof(cfg.kcore_path), "%s", kcore_path);
    if (!t->scenario_text)
        return machine_init(m, &cfg, err, errlen);
    /* the embedded scenario: a machine without one, then the script */
    cfg.scenario_path[0] = 0;
    if (machine_init(m, &cfg, err, errlen) != 0)
        return -1;
    snprintf(name, sizeof(name), "%s (embedded in the trace)", t->cfg.scenario_path);
    if (scenario_parse(&m->scen, name, t->scenario_text, t->scenario_len, m->cfg.ncpus,
                       err, errlen) != 0) {
        machine_free(m);
        return -1;
    }
    m->scripted = true;
    memcpy(m->cfg.scenario_path, t->cfg.scenario_path, sizeof(m->cfg.scenario_path));
    return 0;
}

/* ---- Replay ------------------------------------------------------------ */

struct player {
    const struct trace *t;
    struct machine *m;
    const struct trace_replay_opts *o;
    struct trace_replay_result *r;
    size_t pos;                /* next choice */
    unsigned in_step;          /* choices drawn so far in the current step */
    uint64_t start_step;       /* m->st.steps when the replay started */
    size_t nout;               /* values written to o->ids_out */
    size_t next_ckpt;
    bool errored;              /* stop feeding choices: the run is ending */
    struct trace_recorder rec; /* o->rerecord */
};

static void set_status(struct player *p, enum trace_replay_status s, uint64_t step,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_status(struct player *p, enum trace_replay_status s, uint64_t step,
                       const char *fmt, ...)
{
    va_list ap;
    if (p->r->status != TRACE_REPLAY_OK)
        return;
    p->r->status = s;
    p->r->step = step;
    va_start(ap, fmt);
    vsnprintf(p->r->msg, sizeof(p->r->msg), fmt, ap);
    va_end(ap);
    p->errored = true;
    p->m->stop = true;
}

static uint32_t play_choice(void *arg, uint32_t n)
{
    struct player *p = arg;
    uint32_t v, ret;
    unsigned live[HV_MAX_CPUS];
    bool pick = false;

    if (p->errored || n == 0)
        return 0;
    if (p->o->step_bounds) {
        uint64_t j = p->m->st.steps - p->start_step;
        if (j >= p->o->nbound_steps || p->pos >= p->o->step_bounds[j + 1]) {
            /* beyond the step's own choices (or in the extra steps): pad */
            uint32_t pad = 0, id;
            if (p->in_step == 0 && n == ROLL_OPTIONS)
                pad = ROLL_CPU;
            else if (p->in_step == 1 && j >= p->o->nbound_steps)
                pad = (uint32_t)(p->m->st.steps % n);
            id = pad;
            if (p->in_step == 1) {     /* a CPU pick: written as the CPU's number */
                unsigned nl = 0;
                for (unsigned i = 0; i < p->m->cfg.ncpus && nl < HV_MAX_CPUS; i++)
                    if (p->m->cpu[i].mode != CPU_HALTED && p->m->cpu[i].mode != CPU_WFE)
                        live[nl++] = i;
                if (nl == n)
                    id = live[pad];
            }
            p->in_step++;
            if (p->o->ids_out && p->nout < p->o->ids_out_cap)
                p->o->ids_out[p->nout++] = id;
            return pad;
        }
    }
    if (p->pos >= p->t->nchoice) {
        if (!p->r->exhausted) {
            p->r->exhausted = true;
            p->r->step = p->m->st.steps;
        }
        p->m->stop = true;
        return 0;
    }
    v = p->t->choice[p->pos++];
    if ((p->o->cpu_ids || p->o->ids_out) && p->in_step == 1) {
        /* the CPU pick, if this is it: the second choice of the step, with
         * n = the CPUs that can run (neither halted nor in WFE, as
         * machine_step counts them). A hardware event on the only CPU that
         * can run draws no pick: its second choice has another n. */
        unsigned nl = 0;
        for (unsigned i = 0; i < p->m->cfg.ncpus && nl < HV_MAX_CPUS; i++)
            if (p->m->cpu[i].mode != CPU_HALTED && p->m->cpu[i].mode != CPU_WFE)
                live[nl++] = i;
        pick = nl == n;
    }
    p->in_step++;
    if (pick && p->o->cpu_ids) {
        ret = v % n;                   /* that CPU cannot run: another one */
        for (unsigned k = 0; k < n; k++)
            if (live[k] == v)
                ret = k;
    } else if (v < n) {
        ret = v;
    } else if (p->o->lenient) {
        ret = v % n;
    } else {
        set_status(p, TRACE_REPLAY_IMPOSSIBLE, p->m->st.steps,
                   "choices[%zu]: value %u is impossible at step %llu (only %u options there)",
                   p->pos - 1, v, (unsigned long long)p->m->st.steps, n);
        return 0;
    }
    if (p->o->ids_out && p->nout < p->o->ids_out_cap)
        p->o->ids_out[p->nout++] = pick ? live[ret] : ret;
    return ret;
}

static void compare_ckpt(struct player *p, const struct machine *m)
{
    const struct trace *t = p->t;
    while (p->next_ckpt < t->nckpt && t->ckpt[p->next_ckpt].step < m->st.steps)
        p->next_ckpt++;
    if (p->next_ckpt >= t->nckpt || t->ckpt[p->next_ckpt].step != m->st.steps)
        return;
    {
        uint64_t got = machine_hash(m), want = t->ckpt[p->next_ckpt].hash;
        bool final = p->next_ckpt == t->nckpt - 1;
        if (got != want)
            set_status(p, TRACE_REPLAY_DIVERGED, m->st.steps,
                       "step %llu: %s state hash (checkpoint %zu) differs: recorded %016llx, replayed %016llx",
                       (unsigned long long)m->st.steps,
                       m->st.steps == 0 ? "initial" : final ? "final" : "periodic",
                       p->next_ckpt, (unsigned long long)want, (unsigned long long)got);
        p->next_ckpt++;
    }
}

static void play_step(void *arg, const struct machine *m, unsigned cpu, enum step_kind k)
{
    struct player *p = arg;
    p->in_step = 0;
    if (p->o->step_bounds) {
        uint64_t j = m->st.steps - p->start_step;
        p->pos = j <= p->o->nbound_steps ? p->o->step_bounds[j] : p->t->nchoice;
    }
    if (p->o->rerecord)
        rec_step(&p->rec, m);
    if (p->o->step_first && m->st.steps < p->o->step_first_cap)
        p->o->step_first[m->st.steps] = p->o->ids_out ? p->nout : p->pos;
    if (p->o->verify && p->r->status == TRACE_REPLAY_OK)
        compare_ckpt(p, m);
    if (p->o->watch)
        trace_watch_step(p->o->watch, m, cpu);
    if (p->o->on_step)
        p->o->on_step(p->o->on_step_arg, m, cpu, k);
}

static const char *outcome_str(bool viol, int inv, uint64_t step, int cpu, char *buf, size_t n)
{
    if (!viol)
        return "ok";
    snprintf(buf, n, "violation of invariant %d at step %llu (CPU %d)", inv,
             (unsigned long long)step, cpu);
    return buf;
}

enum trace_replay_status trace_replay(struct machine *m, const struct trace *t,
                                      const struct trace_replay_opts *o,
                                      struct trace_replay_result *r)
{
    struct player p;
    uint64_t limit = o->max_steps ? o->max_steps : t->steps;

    memset(r, 0, sizeof(*r));
    memset(&p, 0, sizeof(p));
    p.t = t;
    p.m = m;
    p.o = o;
    p.r = r;
    m->choose_hook = play_choice;
    m->choose_arg = &p;
    m->step_hook = play_step;
    m->step_arg = &p;
    if (o->rerecord) {
        rec_attach(&p.rec, o->rerecord, m, t->hash_every);
        m->record_hook = rec_choice;
        m->record_arg = &p.rec;
    }
    if (o->step_first && o->step_first_cap && m->st.steps < o->step_first_cap)
        o->step_first[m->st.steps] = 0;
    if (o->verify)
        compare_ckpt(&p, m);             /* the initial state, step 0 */
    if (o->watch && !o->watch->init)
        trace_watch_init(o->watch, m);
    p.start_step = m->st.steps;
    if (o->step_bounds)
        p.pos = o->nbound_steps ? o->step_bounds[0] : t->nchoice;
    while (m->st.steps < limit && !m->stop && !(o->stop && *o->stop)) {
        if (o->step_bounds ? m->st.steps - p.start_step >= o->nbound_steps + o->extra_steps
                           : p.pos >= t->nchoice) {
            r->exhausted = true;
            r->step = m->st.steps;
            break;
        }
        machine_step(m);
    }
    r->choices_used = p.pos;
    if (o->rerecord) {
        rec_finish(&p.rec, m);
        if (p.rec.oom && r->status == TRACE_REPLAY_OK)
            r->status = TRACE_REPLAY_NOMEM;
    }
    if (r->status == TRACE_REPLAY_OK && !o->lenient && !o->max_steps) {
        char a[96], b[96];
        const struct violation *v = m->nviol ? &m->viol[0] : NULL;
        bool same = (v != NULL) == t->violation &&
                    (!v || (v->invariant == t->viol.invariant && v->step == t->viol.step &&
                            v->cpu == t->viol.cpu));
        if (r->exhausted)
            set_status(&p, TRACE_REPLAY_DIVERGED, r->step,
                       "step %llu: the trace's %zu choices ran out (recorded run: %llu steps)",
                       (unsigned long long)r->step, t->nchoice, (unsigned long long)t->steps);
        else if (!same || m->st.steps != t->steps)
            set_status(&p, TRACE_REPLAY_DIVERGED, m->st.steps,
                       "outcome differs: recorded %s after %llu steps, replayed %s after %llu steps",
                       outcome_str(t->violation, t->viol.invariant, t->viol.step, t->viol.cpu, a, sizeof(a)),
                       (unsigned long long)t->steps,
                       outcome_str(v != NULL, v ? v->invariant : 0, v ? v->step : 0, v ? v->cpu : 0, b, sizeof(b)),
                       (unsigned long long)m->st.steps);
        else if (p.pos != t->nchoice)
            set_status(&p, TRACE_REPLAY_DIVERGED, m->st.steps,
                       "step %llu: %zu of the trace's choices are left unused at the end",
                       (unsigned long long)m->st.steps, t->nchoice - p.pos);
    }
    m->choose_hook = NULL;
    m->choose_arg = NULL;
    m->record_hook = NULL;
    m->record_arg = NULL;
    m->step_hook = NULL;
    m->step_arg = NULL;
    return r->status;
}
