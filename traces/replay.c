/*
 * traces/replay.c - recording a run's choices and replaying them through
 * the machine's hooks (machine.h: choose_hook, record_hook, step_hook).
 * See trace.h for the contracts and FORMAT.md for what is stored.
 */
#include "traces/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The event roll every step draws first under replay (machine_step:
 * machine_choose(m, 1000)); any value >= its hardware-event threshold means
 * "run a CPU". Recorded round-robin runs do not draw it, so the recorder
 * stores this value in its place (FORMAT.md "Round robin"). */
#define ROLL_OPTIONS 1000u
#define ROLL_CPU     (ROLL_OPTIONS - 1)

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
    (void)cpu;
    (void)k;
    rec_step(arg, m);
}

static int hash_scenario(struct trace *t, char *err, size_t errlen)
{
    t->has_scenario_sha256 = false;
    if (!t->cfg.scenario_path[0])
        return 0;
    if (sha256_file(t->cfg.scenario_path, t->scenario_sha256, err, errlen))
        return -1;
    t->has_scenario_sha256 = true;
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
}

int trace_record_begin(struct trace_recorder *r, struct trace *t, struct machine *m,
                       uint64_t every, char *err, size_t errlen)
{
    trace_free(t);
    t->cfg = m->cfg;
    if (sha256_file(m->cfg.kcore_path, t->kcore_sha256, err, errlen) || hash_scenario(t, err, errlen))
        return -1;
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

/* ---- Replay ------------------------------------------------------------ */

struct player {
    const struct trace *t;
    struct machine *m;
    const struct trace_replay_opts *o;
    struct trace_replay_result *r;
    size_t pos;                /* next choice */
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
    uint32_t v;

    if (p->errored || n == 0)
        return 0;
    if (p->pos >= p->t->nchoice) {
        if (!p->r->exhausted) {
            p->r->exhausted = true;
            p->r->step = p->m->st.steps;
        }
        p->m->stop = true;
        return 0;
    }
    v = p->t->choice[p->pos++];
    if (v < n)
        return v;
    if (p->o->lenient)
        return v % n;
    set_status(p, TRACE_REPLAY_IMPOSSIBLE, p->m->st.steps,
               "choices[%zu]: value %u is impossible at step %llu (only %u options there)",
               p->pos - 1, v, (unsigned long long)p->m->st.steps, n);
    return 0;
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
    if (p->o->rerecord)
        rec_step(&p->rec, m);
    if (p->o->step_first && m->st.steps < p->o->step_first_cap)
        p->o->step_first[m->st.steps] = p->pos;
    if (p->o->verify && p->r->status == TRACE_REPLAY_OK)
        compare_ckpt(p, m);
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
    while (m->st.steps < limit && !m->stop) {
        if (p.pos >= t->nchoice) {
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
