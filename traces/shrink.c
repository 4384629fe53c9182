/*
 * traces/shrink.c - delta debugging of a failing trace (Zeller and
 * Hildebrandt, "Simplifying and isolating failure-inducing input", TSE
 * 2002), over the sequence of choices.
 *
 * A candidate is a subsequence of the choices; it "fails" when its lenient
 * replay (a choice >= n taken modulo n, the run ending where the choices
 * end) violates the same invariant as the original. Every accepted
 * candidate is cut right after its violation (the choices it did not
 * consume are dropped).
 *
 * KCore's boot (about 21,000 steps, until every CPU has entered the host
 * once: trace_watch.boot_end) is a fixed prefix: it is replayed once, and
 * every candidate runs in a child process forked from the machine at the
 * end of boot, so a candidate costs only its steps after boot and the
 * shrunk schedule is about the bug, not about booting.
 *
 * Candidates are replayed step-aligned (trace_replay_opts.step_bounds:
 * each step takes only its own choices, padded or cut) with CPU numbers
 * in place of the scheduler's index among the CPUs that can run
 * (cpu_ids): dropping a step - say the host access that made a CPU fault
 * into KCore - changes what that CPU does next, but never which CPU the
 * other steps run on or which choices they read. The search over the
 * steps after boot, repeated while it makes progress:
 *  1. classes of steps: all steps of one CPU, then all hardware events (of
 *     each kind, then of all kinds);
 *  2. chunks of one CPU's steps: ddmin over each CPU's own steps, k
 *     consecutive ones at a time, k halving;
 *  3. chunks of steps: ddmin over k consecutive steps, k halving;
 *  4. single decisions: ddmin over the choices after a step's event roll
 *     and CPU pick (the address, hypercall or argument an actor drew).
 * The result is re-recorded so every stored choice is < its n. With
 * with_boot (or when the violation happens during boot) there is no prefix
 * and every candidate is replayed from the start in-process, as before.
 */
#define _DEFAULT_SOURCE 1   /* realpath, scandir */
#include "traces/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Steps a candidate may run past its own (the work its dropped steps
 * delayed), each choice padded: trace_replay_opts.extra_steps. */
#define SHRINK_EXTRA_STEPS 3000

/* What one step of a candidate run was, recorded into shared memory by
 * the child that ran it. */
struct step_info {
    uint32_t first;            /* index of the step's first choice (in the suffix) */
    uint8_t cpu, kind;
};

struct run_result {
    int hit;                   /* violated the invariant */
    size_t used;               /* suffix choices of the steps run */
    uint64_t nsteps;           /* steps run (absolute) */
};

struct shrinker {
    const struct trace *orig;
    const char *kcore;
    int invariant;
    const struct trace_shrink_opts *o;
    struct trace_shrink_stats *st;
    double t0, deadline, last_progress;
    bool stopped;
    bool honor_stop;           /* candidates may be cut by a signal (not the
                                  first runs: the search needs a best) */
    /* the fixed prefix */
    uint64_t prefix_steps;
    size_t prefix_choices;
    size_t *pbounds;           /* the prefix's step bounds (prefix_steps + 1) */
    struct machine *base;      /* the machine after the prefix */
    /* shared with the children: per absolute step */
    struct step_info *info;
    size_t info_cap;           /* orig->steps + 1 */
    struct run_result *res;    /* shared */
    /* the original's choices with every step's CPU pick replaced by the
     * CPU's number (trace_replay_opts.cpu_ids): what candidates are cut from */
    uint32_t *ids;
    /* shared with the children: the values a candidate run used (its
     * normal form: padding explicit, CPU numbers), run_cap at most */
    uint32_t *run;
    size_t run_cap;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether the search must end now (time, signal); reports progress. */
static bool must_stop(struct shrinker *s)
{
    double t = now_s();
    if (s->stopped)
        return true;
    if (s->o->stop && *s->o->stop) {
        s->st->interrupted = (int)*s->o->stop;
        s->stopped = true;
    } else if (s->deadline && t > s->deadline) {
        s->st->timed_out = true;
        s->stopped = true;
    }
    if (s->o->progress && t - s->last_progress > 0.2) {
        s->last_progress = t;
        s->st->seconds = t - s->t0;
        s->o->progress(s->o->progress_arg, s->st);
    }
    return s->stopped;
}

struct step_rec {
    struct step_info *info;
    size_t cap;
};

static void on_step(void *arg, const struct machine *m, unsigned cpu, enum step_kind k)
{
    struct step_rec *r = arg;
    uint64_t step = m->st.steps - 1;
    if (step < r->cap) {
        r->info[step].cpu = (uint8_t)cpu;
        r->info[step].kind = (uint8_t)k;
    }
}

/* Run the choices ch[0..n) leniently on m from its current state, up to
 * the original's length; step-aligned when bounds is set (nb steps).
 * Fills s->info (first choice index, CPU, kind of every step from m's
 * current step on) and *res. rerec: re-record into it. */
static void play_on(struct shrinker *s, struct machine *m, const uint32_t *ch, size_t n,
                    const size_t *bounds, uint64_t nb, uint64_t extra, uint32_t *out, size_t outcap,
                    struct trace *rerec, struct run_result *res, bool cpu_ids,
                    struct trace_watch *watch)
{
    struct trace cand;
    struct trace_replay_opts o;
    struct trace_replay_result r;
    struct step_rec sr = { s->info, s->info_cap };
    size_t *first = calloc(s->info_cap, sizeof(*first));
    uint64_t from = m->st.steps;

    trace_init(&cand);
    cand.cfg = s->orig->cfg;
    cand.choice = (uint32_t *)ch;
    cand.nchoice = n;
    cand.steps = s->orig->steps;
    cand.hash_every = s->orig->hash_every;
    memset(&o, 0, sizeof(o));
    o.lenient = true;
    o.cpu_ids = cpu_ids;
    o.ids_out = out;
    o.ids_out_cap = outcap;
    o.step_bounds = bounds;
    o.nbound_steps = nb;
    o.extra_steps = extra;
    o.watch = watch;
    o.max_steps = s->orig->steps;
    o.rerecord = rerec;
    o.step_first = first;
    o.step_first_cap = first ? s->info_cap : 0;
    o.on_step = on_step;
    o.on_step_arg = &sr;
    o.stop = s->honor_stop ? s->o->stop : NULL;
    trace_replay(m, &cand, &o, &r);
    res->hit = m->nviol > 0 && m->viol[0].invariant == s->invariant;
    res->used = r.choices_used;
    res->nsteps = m->st.steps;
    if (first)
        for (uint64_t i = from; i <= m->st.steps && i < s->info_cap; i++)
            s->info[i].first = (uint32_t)first[i];
    free(first);
}

/* A fresh machine with the prefix replayed on it (exactly prefix_steps
 * steps). Returns NULL with a message on error. */
static struct machine *boot_machine(struct shrinker *s, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (trace_machine_init(m, s->orig, s->kcore, err, errlen) != 0) {
        free(m);
        return NULL;
    }
    if (s->prefix_steps) {
        struct run_result r;
        play_on(s, m, s->ids, s->prefix_choices, s->pbounds, s->prefix_steps, 0, NULL, 0, NULL, &r,
                true, NULL);
        if (m->st.steps != s->prefix_steps || m->nviol) {
            snprintf(err, errlen, "internal: the boot prefix (%llu steps) does not replay",
                     (unsigned long long)s->prefix_steps);
            machine_free(m);
            free(m);
            return NULL;
        }
    }
    return m;
}

/* Run one candidate suffix (n choices, nb steps with bounds). Returns 1 if
 * it violates the invariant, 0 if not, -1 on error. In a child forked
 * from s->base (which stays at the end of boot), else on a fresh machine. */
static int try_suffix(struct shrinker *s, const uint32_t *ch, size_t n, const size_t *bounds,
                      uint64_t nb, struct run_result *res, char *err, size_t errlen)
{
    s->st->tests++;
    if (s->base) {
        pid_t pid;
        int status;
        memset(s->res, 0, sizeof(*s->res));
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
            struct run_result r;
            play_on(s, s->base, ch, n, bounds, nb, SHRINK_EXTRA_STEPS, s->run, s->run_cap, NULL, &r,
                    true, NULL);
            *s->res = r;
            _exit(0);
        }
        if (pid > 0) {
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                *res = *s->res;
                return res->hit;
            }
            if (WIFSIGNALED(status) && s->o->stop && *s->o->stop)
                return 0;                /* interrupted with the parent */
            snprintf(err, errlen, "internal: a candidate replay (child %d) ended with status 0x%x",
                     (int)pid, status);
            return -1;
        }
        /* no fork: in-process replays from now on */
        machine_free(s->base);
        free(s->base);
        s->base = NULL;
    }
    {
        struct machine *m = boot_machine(s, err, errlen);
        if (!m)
            return -1;
        play_on(s, m, ch, n, bounds, nb, SHRINK_EXTRA_STEPS, s->run, s->run_cap, NULL, res, true, NULL);
        machine_free(m);
        free(m);
        return res->hit;
    }
}

/* The memory shared with the children: step map, result, values used. */
static size_t shared_bytes(const struct shrinker *s)
{
    return s->info_cap * sizeof(*s->info) + sizeof(*s->res) + s->run_cap * sizeof(*s->run);
}

/* The working state: the best suffix so far, its steps and their bounds. */
struct work {
    uint32_t *cur, *cand;
    size_t len;                /* choices in cur */
    uint64_t nsteps;           /* its steps (the last accepted run, cut after the violation) */
    size_t *bnd, *cbnd;        /* step bounds of cur / cand (nsteps + 1) */
    struct step_info *steps;   /* CPU and kind of each step */
    bool *dstep, *dchoice;     /* scratch masks */
    size_t cap;                /* of cur, cand, dchoice */
};

/* The run just made becomes the best: its values as used (s->run), cut
 * after the violation, with its step map. */
static void adopt(struct shrinker *s, struct work *w, const struct run_result *r)
{
    uint64_t ns = r->nsteps > s->prefix_steps ? r->nsteps - s->prefix_steps : 0;
    size_t len = s->info[s->prefix_steps + ns].first;
    if (len > w->cap)
        len = w->cap;
    memcpy(w->cur, s->run, len * sizeof(*w->cur));
    for (uint64_t i = 0; i <= ns; i++)
        w->bnd[i] = s->info[s->prefix_steps + i].first;
    w->len = len;
    w->nsteps = ns;
    for (uint64_t i = 0; i < ns; i++)
        w->steps[i] = s->info[s->prefix_steps + i];
    s->st->steps_now = r->nsteps;
}

/* cand = cur without the steps marked in dstep and the choices marked in
 * dchoice (either may be NULL); a step left without choices is dropped.
 * Returns the number of steps of cand (bounds in cbnd). */
static uint64_t build(struct work *w, const bool *dstep, const bool *dchoice, size_t *nchoices)
{
    size_t n = 0;
    uint64_t ns = 0;
    for (uint64_t i = 0; i < w->nsteps; i++) {
        size_t start = n;
        if (dstep && dstep[i])
            continue;
        for (size_t c = w->bnd[i]; c < w->bnd[i + 1]; c++)
            if (!dchoice || !dchoice[c])
                w->cand[n++] = w->cur[c];
        if (n == start)
            continue;
        w->cbnd[ns++] = start;
    }
    w->cbnd[ns] = n;
    *nchoices = n;
    return ns;
}

/* Try cand as built; accept it if it still fails. */
static int try_built(struct shrinker *s, struct work *w, uint64_t ns, size_t n, bool *progress,
                     char *err, size_t errlen)
{
    struct run_result r;
    int rc;
    if (ns == w->nsteps && n == w->len)
        return 0;
    rc = try_suffix(s, w->cand, n, w->cbnd, ns, &r, err, errlen);
    if (rc == 1) {
        adopt(s, w, &r);
        *progress = true;
    }
    return rc;
}

static int drop_steps_where(struct shrinker *s, struct work *w, bool (*drop)(const struct step_info *, int),
                            int arg, bool *progress, char *err, size_t errlen)
{
    size_t n;
    bool any = false;
    uint64_t ns;
    for (uint64_t i = 0; i < w->nsteps; i++)
        any |= w->dstep[i] = drop(&w->steps[i], arg);
    if (!any)
        return 0;
    ns = build(w, w->dstep, NULL, &n);
    return try_built(s, w, ns, n, progress, err, errlen) < 0 ? -1 : 0;
}

static bool on_cpu(const struct step_info *i, int cpu) { return i->cpu == cpu; }
static bool hw_kind(const struct step_info *i, int k) { return k < 0 ? i->kind != STEP_CPU : i->kind == k; }

static int phase_classes(struct shrinker *s, struct work *w, bool *progress, char *err, size_t errlen)
{
    s->st->phase = "dropping whole CPUs and hardware events";
    for (unsigned c = 0; c < s->orig->cfg.ncpus && !must_stop(s); c++)
        if (drop_steps_where(s, w, on_cpu, (int)c, progress, err, errlen))
            return -1;
    if (!must_stop(s) && drop_steps_where(s, w, hw_kind, -1, progress, err, errlen))
        return -1;
    for (int k = STEP_TLB_FILL; k < STEP_KIND_COUNT && !must_stop(s); k++)
        if (drop_steps_where(s, w, hw_kind, k, progress, err, errlen))
            return -1;
    return 0;
}

/* ddmin over a subset of the steps (those with sel(step, arg) true, all
 * when sel is NULL): drop k consecutive selected steps, k halving. */
static int ddmin_steps(struct shrinker *s, struct work *w, bool (*sel)(const struct step_info *, int),
                       int arg, bool *progress, char *err, size_t errlen)
{
    uint64_t count = 0;
    for (uint64_t i = 0; i < w->nsteps; i++)
        count += !sel || sel(&w->steps[i], arg);
    for (uint64_t chunk = count / 2 ? count / 2 : 1; count && !must_stop(s); chunk /= 2) {
        bool again = true;
        while (again && !must_stop(s)) {
            again = false;
            for (uint64_t k0 = 0; !must_stop(s);) {
                uint64_t k = 0, ns;
                size_t n;
                bool any = false;
                int rc;
                for (uint64_t i = 0; i < w->nsteps; i++) {
                    bool in = !sel || sel(&w->steps[i], arg);
                    w->dstep[i] = in && k >= k0 && k < k0 + chunk;
                    any |= w->dstep[i];
                    k += in;
                }
                if (!any)
                    break;
                ns = build(w, w->dstep, NULL, &n);
                rc = try_built(s, w, ns, n, &again, err, errlen);
                if (rc < 0)
                    return -1;
                if (rc == 1)
                    *progress = true;
                else
                    k0 += chunk;
            }
        }
        if (chunk <= 1)
            break;
    }
    return 0;
}

static int phase_cpu_steps(struct shrinker *s, struct work *w, bool *progress, char *err, size_t errlen)
{
    s->st->phase = "dropping chunks of one CPU's steps";
    for (unsigned c = 0; c < s->orig->cfg.ncpus && !must_stop(s); c++)
        if (ddmin_steps(s, w, on_cpu, (int)c, progress, err, errlen))
            return -1;
    return 0;
}

static int phase_steps(struct shrinker *s, struct work *w, bool *progress, char *err, size_t errlen)
{
    s->st->phase = "dropping chunks of steps";
    return ddmin_steps(s, w, NULL, 0, progress, err, errlen);
}

/* ddmin over the decisions after each step's event roll and CPU pick. */
static int phase_choices(struct shrinker *s, struct work *w, bool *progress, char *err, size_t errlen)
{
    size_t count = 0;
    s->st->phase = "dropping single decisions";
    for (uint64_t i = 0; i < w->nsteps; i++)
        count += w->bnd[i + 1] - w->bnd[i] > 2 ? w->bnd[i + 1] - w->bnd[i] - 2 : 0;
    for (size_t chunk = count / 2 ? count / 2 : 1; count && !must_stop(s); chunk /= 2) {
        bool again = true;
        while (again && !must_stop(s)) {
            again = false;
            for (size_t k0 = 0; !must_stop(s);) {
                size_t k = 0, n;
                uint64_t ns;
                bool any = false;
                int rc;
                for (uint64_t i = 0; i < w->nsteps; i++)
                    for (size_t c = w->bnd[i]; c < w->bnd[i + 1]; c++) {
                        bool in = c >= w->bnd[i] + 2;
                        w->dchoice[c] = in && k >= k0 && k < k0 + chunk;
                        any |= w->dchoice[c];
                        k += in;
                    }
                if (!any)
                    break;
                ns = build(w, NULL, w->dchoice, &n);
                rc = try_built(s, w, ns, n, &again, err, errlen);
                if (rc < 0)
                    return -1;
                if (rc == 1)
                    *progress = true;
                else
                    k0 += chunk;
            }
        }
        if (chunk <= 1)
            break;
    }
    return 0;
}

/* The original run, leniently: whether it reproduces, where boot ends,
 * its step map, and the CPU-number form of its choices (s->ids). */
static int first_run(struct shrinker *s, uint64_t *boot_end, uint64_t *nsteps, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct trace_watch watch;
    struct run_result r;
    const struct trace *t = s->orig;

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (trace_machine_init(m, t, s->kcore, err, errlen) != 0) {
        free(m);
        return -1;
    }
    memset(&watch, 0, sizeof(watch));
    memcpy(s->ids, t->choice, t->nchoice * sizeof(*s->ids));
    play_on(s, m, t->choice, t->nchoice, NULL, 0, 0, s->ids, t->nchoice, NULL, &r, false, &watch);
    s->st->tests++;
    *boot_end = watch.boot_end;
    *nsteps = r.nsteps;
    if (r.hit && m->viol[0].step < watch.boot_end)
        *boot_end = 0;                   /* a violation during boot: no prefix */
    machine_free(m);
    free(m);
    if (!r.hit) {
        snprintf(err, errlen, "the trace does not reproduce its violation of invariant %d", s->invariant);
        return 0;
    }
    if (*boot_end > r.nsteps)
        *boot_end = 0;
    return 1;
}

int trace_shrink_with(const struct trace *t, const char *kcore_path,
                      const struct trace_shrink_opts *opt, struct trace *out,
                      struct trace_shrink_stats *st, char *err, size_t errlen)
{
    struct trace_shrink_opts none;
    struct shrinker s;
    struct work w;
    struct run_result r;
    uint64_t boot_end = 0, nsteps = 0;
    size_t cap = t->nchoice + 16 * (t->steps + 1), scap = t->steps + 2, n;
    uint32_t *full = NULL;
    size_t *fb = NULL;
    int rc = -1;
    bool progress;

    memset(st, 0, sizeof(*st));
    memset(&none, 0, sizeof(none));
    memset(&s, 0, sizeof(s));
    memset(&w, 0, sizeof(w));
    st->choices_before = t->nchoice;
    st->steps_before = t->steps;
    st->steps_now = t->steps;
    if (!t->violation) {
        snprintf(err, errlen, "outcome: the trace has no violation to keep");
        return -1;
    }
    s.orig = t;
    s.kcore = kcore_path;
    s.invariant = t->viol.invariant;
    s.o = opt ? opt : &none;
    s.st = st;
    s.t0 = now_s();
    s.deadline = s.o->max_seconds > 0 ? s.t0 + s.o->max_seconds : 0;
    s.info_cap = t->steps + 1;
    s.run_cap = cap;
    s.info = mmap(NULL, shared_bytes(&s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    w.cap = cap;
    w.cur = malloc(cap * sizeof(*w.cur));
    w.cand = malloc(cap * sizeof(*w.cand));
    w.dchoice = malloc(cap * sizeof(*w.dchoice));
    w.bnd = malloc(scap * sizeof(*w.bnd));
    w.cbnd = malloc(scap * sizeof(*w.cbnd));
    w.dstep = malloc(scap * sizeof(*w.dstep));
    w.steps = malloc(scap * sizeof(*w.steps));
    s.ids = malloc(cap * sizeof(*s.ids));
    s.pbounds = malloc(scap * sizeof(*s.pbounds));
    if (s.info == MAP_FAILED || !w.cur || !w.cand || !w.dchoice || !w.bnd || !w.cbnd || !w.dstep ||
        !w.steps || !s.ids || !s.pbounds) {
        snprintf(err, errlen, "out of memory");
        if (s.info == MAP_FAILED)
            s.info = NULL;
        goto done;
    }
    s.res = (struct run_result *)(void *)(s.info + s.info_cap);
    s.run = (uint32_t *)(void *)(s.res + 1);
    st->phase = "replaying the trace";
    rc = first_run(&s, &boot_end, &nsteps, err, errlen);
    if (rc <= 0) {
        rc = -1;
        goto done;
    }
    rc = -1;
    s.prefix_steps = !s.o->with_boot ? boot_end : 0;
    for (uint64_t i = 0; i <= s.prefix_steps; i++)
        s.pbounds[i] = s.info[i].first;
    s.prefix_choices = s.pbounds[s.prefix_steps];
    st->boot_steps = s.prefix_steps;
    s.base = boot_machine(&s, err, errlen);
    if (!s.base)
        goto done;
    /* the steps after the prefix, as recorded, run once for their map */
    w.nsteps = nsteps - s.prefix_steps;
    w.len = s.info[nsteps].first - s.prefix_choices;
    memcpy(w.cur, s.ids + s.prefix_choices, w.len * sizeof(*w.cur));
    for (uint64_t i = 0; i <= w.nsteps; i++)
        w.bnd[i] = s.info[s.prefix_steps + i].first - s.prefix_choices;
    for (uint64_t i = 0; i < w.nsteps; i++)
        w.steps[i] = s.info[s.prefix_steps + i];
    {
        uint64_t ns = build(&w, NULL, NULL, &n);
        rc = try_suffix(&s, w.cand, n, w.cbnd, ns, &r, err, errlen);
    }
    if (rc <= 0) {
        if (rc == 0)
            snprintf(err, errlen, "internal: the trace's steps after boot (from step %llu) do not "
                     "reproduce its violation of invariant %d", (unsigned long long)s.prefix_steps,
                     s.invariant);
        rc = -1;
        goto done;
    }
    adopt(&s, &w, &r);
    s.honor_stop = true;
    do {
        progress = false;
        if (phase_classes(&s, &w, &progress, err, errlen) ||
            phase_cpu_steps(&s, &w, &progress, err, errlen) ||
            phase_steps(&s, &w, &progress, err, errlen) ||
            phase_choices(&s, &w, &progress, err, errlen)) {
            rc = -1;
            goto done;
        }
    } while (progress && !must_stop(&s));

    /* Re-record prefix + best suffix: the stored trace is strict. */
    st->phase = "re-recording";
    if (s.base) {
        machine_free(s.base);
        free(s.base);
        s.base = NULL;
    }
    full = malloc((s.prefix_choices + w.len + 1) * sizeof(*full));
    fb = malloc((s.prefix_steps + w.nsteps + 1) * sizeof(*fb));
    if (!full || !fb) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    memcpy(full, s.ids, s.prefix_choices * sizeof(*full));
    memcpy(full + s.prefix_choices, w.cur, w.len * sizeof(*full));
    memcpy(fb, s.pbounds, s.prefix_steps * sizeof(*fb));
    for (uint64_t i = 0; i <= w.nsteps; i++)
        fb[s.prefix_steps + i] = s.prefix_choices + w.bnd[i];
    trace_free(out);
    out->cfg = t->cfg;
    snprintf(out->cfg.kcore_path, sizeof(out->cfg.kcore_path), "%s", kcore_path);
    out->hash_every = t->hash_every;
    if (trace_copy_sources(out, t)) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        goto done;
    }
    {
        struct machine *m = calloc(1, sizeof(*m));
        volatile sig_atomic_t nostop = 0;
        struct trace_shrink_opts o2 = *s.o;
        if (!m || trace_machine_init(m, t, kcore_path, err, errlen) != 0) {
            if (!m)
                snprintf(err, errlen, "out of memory");
            free(m);
            rc = -1;
            goto done;
        }
        o2.stop = &nostop;               /* the re-recording itself runs to the end */
        s.o = &o2;
        play_on(&s, m, full, s.prefix_choices + w.len, fb, s.prefix_steps + w.nsteps, 0, NULL, 0, out,
                &r, true, NULL);
        machine_free(m);
        free(m);
    }
    if (!r.hit || !out->violation) {
        snprintf(err, errlen, "internal: the shrunk trace no longer violates invariant %d", s.invariant);
        rc = -1;
        goto done;
    }
    /* the recorded KCore path: the ELF used, as an absolute path */
    {
        char *abs = realpath(kcore_path, NULL);
        if (abs && strlen(abs) < sizeof(out->cfg.kcore_path))
            snprintf(out->cfg.kcore_path, sizeof(out->cfg.kcore_path), "%s", abs);
        free(abs);
    }
    st->choices_after = out->nchoice;
    st->steps_after = out->steps;
    rc = 0;
done:
    st->seconds = now_s() - s.t0;
    if (s.base) {
        machine_free(s.base);
        free(s.base);
    }
    if (s.info)
        munmap(s.info, shared_bytes(&s));
    free(full);
    free(fb);
    free(s.ids);
    free(s.pbounds);
    free(w.cur);
    free(w.cand);
    free(w.dchoice);
    free(w.bnd);
    free(w.cbnd);
    free(w.dstep);
    free(w.steps);
    return rc;
}

int trace_shrink(const struct trace *t, const char *kcore_path, double max_seconds,
                 struct trace *out, struct trace_shrink_stats *st, char *err, size_t errlen)
{
    struct trace_shrink_opts o;
    memset(&o, 0, sizeof(o));
    o.max_seconds = max_seconds;
    return trace_shrink_with(t, kcore_path, &o, out, st, err, errlen);
}
