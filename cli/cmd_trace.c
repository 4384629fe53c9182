/*
 * cli/cmd_trace.c - the trace commands: `hypsim run --record FILE`,
 * `hypsim replay FILE [--verify] [--kcore PATH] [--json] [--log ...]` and
 * `hypsim shrink FILE -o OUT` (issue 4; traces/FORMAT.md). Exit codes as
 * for run: 0 ok, 1 violation, 2 bad usage or input (one line naming the
 * file and the field, byte or step), 3 internal error or a replay that
 * diverges from its recording.
 */
#define _DEFAULT_SOURCE 1   /* realpath, scandir */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "model/hcname.h"
#include "traces/trace.h"
#include "util/elfsym.h"
#include "util/fsutil.h"

static const char *prog = "hypsim";

/* ---- Shared helpers -------------------------------------------------------- */

/* A hypercall's name for logs ("unknown" for a number KCore does not define). */
static const char *hc_log_name(uint64_t hc)
{
    const char *n = hc_name(hc);
    return n ? n : "unknown";
}

/* ---- Which KCore ELF a trace replays against ------------------------------ */

/* dir of path ("." when it has none) into out. */
static void dir_of(const char *path, char *out, size_t len)
{
    const char *sl = strrchr(path, '/');
    if (!sl)
        snprintf(out, len, ".");
    else if (sl == path)
        snprintf(out, len, "/");
    else
        snprintf(out, len, "%.*s", (int)(sl - path), path);
}

struct kcore_search {
    const struct trace *t;
    char seen[64][PATH_MAX];   /* real paths already hashed */
    unsigned nseen, nhashed;
    char found[PATH_MAX];
};

/* Hash one candidate; true when it is the recorded ELF (path in ks->found). */
static bool try_elf(struct kcore_search *ks, const char *path)
{
    uint8_t d[SHA256_BYTES];
    char err[512], rp[PATH_MAX];

    if (!realpath(path, rp))
        return false;
    for (unsigned i = 0; i < ks->nseen; i++)
        if (!strcmp(ks->seen[i], rp))
            return false;
    if (ks->nseen < 64)
        snprintf(ks->seen[ks->nseen++], PATH_MAX, "%s", rp);
    if (sha256_file(rp, d, err, sizeof(err)) != 0)
        return false;
    ks->nhashed++;
    if (memcmp(d, ks->t->kcore_sha256, SHA256_BYTES))
        return false;
    snprintf(ks->found, sizeof(ks->found), "%s", path);
    return true;
}

/* Every kcore*.elf of dir, in name order. */
static bool try_dir(struct kcore_search *ks, const char *dir)
{
    struct dirent **ent = NULL;
    int n = scandir(dir, &ent, NULL, alphasort);
    bool hit = false;
    for (int i = 0; i < n; i++) {
        const char *nm = ent[i]->d_name;
        size_t l = strlen(nm);
        if (!hit && !strncmp(nm, "kcore", 5) && l > 9 && !strcmp(nm + l - 4, ".elf")) {
            char p[PATH_MAX];
            if (snprintf(p, sizeof(p), "%s/%s", dir, nm) < (int)sizeof(p))
                hit = try_elf(ks, p);
        }
        free(ent[i]);
    }
    free(ent);
    return hit;
}

/* The mutant the trace names: kcore_mutant, else the file name of the
 * recorded kcore_path (files before the field). NULL when unknown. */
static const char *trace_mutant(const struct trace *t, char buf[TRACE_MUTANT_MAX])
{
    if (t->has_mutant) {
        snprintf(buf, TRACE_MUTANT_MAX, "%s", t->mutant);
        return buf;
    }
    return trace_mutant_of_path(t->cfg.kcore_path, buf);
}

/* The ELF of mutant name ("" = kcore.elf) in dir. */
static void mutant_elf(const char *dir, const char *name, char *out, size_t len)
{
    int n = *name ? snprintf(out, len, "%s/kcore-%s.elf", dir, name)
                  : snprintf(out, len, "%s/kcore.elf", dir);
    if (n < 0 || (size_t)n >= len)
        out[0] = 0;             /* too long: names nothing */
}

/* The KCore ELF a trace replays against, into path:
 *  - --kcore PATH or --mutant NAME: that ELF; a digest that differs from
 *    the recorded one is a warning (the replay will report a divergence);
 *  - otherwise the ELF whose SHA-256 is the recorded one, searched among
 *    the default KCore ($HYPSIM_KCORE or the one built with hypsim), the
 *    recorded mutant's ELF, the recorded kcore_path, and every kcore*.elf
 *    beside the default KCore and in the hyp/ directory beside this
 *    hypsim binary (KCore builds are bit-reproducible). None: exit 2 with
 *    one line naming what to give.
 * Also checks an old trace's scenario file (new traces embed it). */
static int pick_kcore(const struct trace *t, const char *file, const char *kcore_opt,
                      const char *mutant_opt, char *path, size_t pathlen, bool quiet)
{
    struct machine_config d;
    struct kcore_search *ks;
    char err[512], dir[PATH_MAX], exe[PATH_MAX], mbuf[TRACE_MUTANT_MAX], cand[PATH_MAX];
    const char *mut = trace_mutant(t, mbuf);
    int rc;

    cli_config_default(&d);
    if (kcore_opt || mutant_opt) {
        if (kcore_opt)
            snprintf(path, pathlen, "%s", kcore_opt);
        else if ((rc = cli_mutant_kcore(mutant_opt, path, pathlen)) != 0)
            return rc;
        rc = trace_check_kcore(t, path, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "%s: %s: %s %s: %s\n", prog, file, kcore_opt ? "--kcore" : "--mutant",
                    kcore_opt ? kcore_opt : mutant_opt, err);
            return EXIT_USAGE;
        }
        if (rc > 0 && !quiet)
            fprintf(stderr, "%s: warning: %s: %s; a divergence will be reported\n", prog, file, err);
    } else {
        ks = calloc(1, sizeof(*ks));
        if (!ks)
            return EXIT_INTERNAL;
        ks->t = t;
        dir_of(d.kcore_path, dir, sizeof(dir));
        exe[0] = 0;
        {
            ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 8);
            if (n > 0) {
                exe[n] = 0;
                char *sl = strrchr(exe, '/');
                if (sl)
                    snprintf(sl, sizeof(exe) - (size_t)(sl - exe), "/hyp");
            } else {
                exe[0] = 0;
            }
        }
        if (mut)
            mutant_elf(dir, mut, cand, sizeof(cand));
        bool hit = try_elf(ks, d.kcore_path) || (mut && try_elf(ks, cand)) ||
                   try_elf(ks, t->cfg.kcore_path) || try_dir(ks, dir) || (exe[0] && try_dir(ks, exe));
        if (hit) {
            snprintf(path, pathlen, "%s", ks->found);
            free(ks);
        } else {
            char hw[SHA256_HEX], hg[SHA256_HEX], now[160] = "";
            uint8_t g[SHA256_BYTES];
            sha256_hex(t->kcore_sha256, hw);
            if (mut && sha256_file(cand, g, err, sizeof(err)) == 0) {
                sha256_hex(g, hg);
                snprintf(now, sizeof(now), ", which now has SHA-256 %.16s...: KCore or its build changed since", hg);
            } else if (mut) {
                snprintf(now, sizeof(now), ", which is not built");
            }
            if (mut) {
                char how[PATH_MAX + 64];
                if (*mut)
                    snprintf(how, sizeof(how), "--mutant %s", mut);
                else
                    snprintf(how, sizeof(how), "--kcore %s", cand);
                fprintf(stderr, "%s: %s: kcore_sha256: none of the %u KCore ELFs found has the recorded "
                        "SHA-256 %.16s...; the trace was recorded with %s%s (this build's is %s%s); "
                        "replay against that one anyway with %s (a divergence will be reported), "
                        "or give --kcore PATH of the ELF recorded as %s\n",
                        prog, file, ks->nhashed, hw, *mut ? "mutant " : "the correct KCore", mut, cand,
                        now, how, t->cfg.kcore_path);
            } else {
                fprintf(stderr, "%s: %s: kcore_sha256: none of the %u KCore ELFs found (in %s) has the "
                        "recorded SHA-256 %.16s...; give --kcore PATH of the ELF the trace was recorded "
                        "with (recorded as %s)\n", prog, file, ks->nhashed, dir, hw, t->cfg.kcore_path);
            }
            free(ks);
            return EXIT_USAGE;
        }
    }
    if (t->cfg.scenario_path[0] && !t->scenario_text) {
        /* a trace from before config.scenario_text: the file is read */
        rc = trace_check_scenario(t, t->cfg.scenario_path, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "%s: %s: config.scenario: %s (this trace does not embed its scenario: "
                    "replay it where the file is)\n", prog, file, err);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* ---- run --record ---------------------------------------------------------- */

struct cli_record {
    struct trace t;
    struct trace_recorder rec;
    const char *path;          /* --record FILE, or NULL: a violation file */
    uint64_t seed;
};

int cli_record_begin(struct cli_record **out, struct machine *m, const char *path,
                     uint64_t hash_every)
{
    struct cli_record *r;
    char err[512];

    *out = NULL;
    /* an output that cannot be written fails now, not after the run */
    if (path && fs_check_output(path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: --record: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if (!path && access(".", W_OK | X_OK) != 0)
        fprintf(stderr, "%s: warning: the current directory is not writable: the trace of a "
                "violation could not be saved there (give --record FILE)\n", prog);
    r = calloc(1, sizeof(*r));
    if (!r)
        return EXIT_INTERNAL;
    trace_init(&r->t);
    r->path = path;
    r->seed = m->cfg.seed;
    if (trace_record_begin(&r->rec, &r->t, m, hash_every, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: --record: %s\n", prog, err);
        trace_free(&r->t);
        free(r);
        return EXIT_USAGE;
    }
    *out = r;
    return 0;
}

const struct trace_watch *cli_record_watch(const struct cli_record *r)
{
    return r ? &r->rec.watch : NULL;
}

void cli_record_discard(struct cli_record *r)
{
    if (!r)
        return;
    trace_free(&r->t);
    free(r);
}

/* A new file hypsim-violation-seed<S>[-K].json in the current directory,
 * created empty (O_EXCL: never an existing one, even with another hypsim
 * running beside). Returns 0 with its name, or -1 with errno set. */
static int claim_violation_file(uint64_t seed, char *name, size_t len)
{
    for (unsigned k = 1; k < 10000; k++) {
        int fd;
        if (k == 1)
            snprintf(name, len, "hypsim-violation-seed%" PRIu64 ".json", seed);
        else
            snprintf(name, len, "hypsim-violation-seed%" PRIu64 "-%u.json", seed, k);
        fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

int cli_record_end(struct cli_record *r, struct machine *m, bool quiet, char *written, size_t len)
{
    char err[512], name[96];
    const char *path = r->path;
    int rc = 0;

    written[0] = 0;
    if (trace_record_end(&r->rec, m) != 0) {
        fprintf(stderr, "%s: --record %s: out of memory while recording\n", prog, path ? path : "");
        rc = EXIT_INTERNAL;
        goto out;
    }
    if (!path) {
        if (claim_violation_file(r->seed, name, sizeof(name)) != 0) {
            fprintf(stderr, "%s: cannot save the violating run in the current directory: %s "
                    "(give --record FILE)\n", prog, strerror(errno));
            rc = EXIT_INTERNAL;
            goto out;
        }
        path = name;
    }
    if (trace_write(&r->t, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: --record: %s\n", prog, err);
        rc = EXIT_USAGE;
        goto out;
    }
    snprintf(written, len, "%s", path);
    if (!quiet) {
        char *b64 = trace_encode_choices(r->t.choice, r->t.nchoice);
        size_t nb = b64 ? strlen(b64) : 0;
        fprintf(stderr, "trace: %s: %zu choices over %" PRIu64 " steps, %.2f bytes/step (choices)\n",
                path, r->t.nchoice, r->t.steps, r->t.steps ? (double)nb / r->t.steps : 0.0);
        free(b64);
    }
out:
    trace_free(&r->t);
    free(r);
    return rc;
}

/* ---- replay --log ---------------------------------------------------------- */

struct cpu_snap {
    enum cpu_mode mode;
    unsigned guest_vm;
    uint64_t insns;
    struct actor_pending hp, gp;
};

struct logger {
    FILE *out;
    bool json;
    uint64_t from, to;
    uint64_t cpus;             /* --cpu: mask of CPUs to log, 0 = all */
    unsigned events;           /* --events: LOGEV_* mask */
    bool pa_set;               /* --pa: only steps touching this page */
    uint64_t pa_page;
    uint64_t viol_step;        /* the recorded violation's step (always logged) */
    struct elfsym *sym;        /* KCore's symbols (NULL: bare PCs) */
    struct trace_watch watch;  /* hypercalls in flight (kept by the replay) */
    struct cpu_snap *snap;     /* per CPU, as of the end of the previous step */
    unsigned nviol;
    uint64_t reads, writes;
};

static void snap_all(struct logger *lg, const struct machine *m)
{
    for (unsigned i = 0; i < m->cfg.ncpus; i++) {
        const struct cpu *c = &m->cpu[i];
        lg->snap[i].mode = c->mode;
        lg->snap[i].guest_vm = c->guest_vm;
        lg->snap[i].insns = c->insns;
        lg->snap[i].hp = m->act.host_pending[i];
        lg->snap[i].gp = m->act.guest_pending[i];
    }
    lg->nviol = m->nviol;
    lg->reads = m->st.actor_reads;
    lg->writes = m->st.actor_writes;
}

static const char *mode_principal(enum cpu_mode mode, unsigned vm, char *buf, size_t n)
{
    switch (mode) {
    case CPU_KCORE: return "KCore";
    case CPU_HOST: return "host";
    case CPU_GUEST: snprintf(buf, n, "VM %u", vm); return buf;
    default: return "halted";
    }
}

static const char *cache_name(enum cache_outcome o)
{
    return o == CACHE_HIT ? "hit" : o == CACHE_MISS ? "miss" : "bypass";
}

static const char *event_name(enum step_kind k)
{
    switch (k) {
    case STEP_CPU: return "cpu";
    case STEP_TLB_FILL: return "tlb_fill";
    case STEP_TLB_EVICT: return "tlb_evict";
    case STEP_CACHE_EVICT: return "cache_evict";
    case STEP_TLBI_COMPLETE: return "tlbi_complete";
    default: return "?";
    }
}

static void hex(cJSON *o, const char *k, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof(b), "0x%" PRIx64, v);
    cJSON_AddStringToObject(o, k, b);
}

/* What the text log's columns mean, once at the top. */
static void log_legend(struct logger *lg, const struct machine *m)
{
    fprintf(lg->out,
            "# hypsim replay --log: one line per step: step, CPU, who ran (KCore, host, VM n,\n"
            "# or hardware), then for KCore the PC (function+offset) and the instruction;\n"
            "# '+N reg-only' = N register-only instructions (no memory access, no branch:\n"
            "# they cannot interleave with other CPUs) ran before it in the same step.\n"
            "# Accesses: R/W<bytes> va -> ipa -> pa, TLB and cache outcome, value [whose].\n"
            "# KCore: %s\n", m->cfg.kcore_path);
}

/* The log classes of this step's event. */
static unsigned step_class(const struct machine *m, unsigned cpu, const struct cpu_snap *s,
                           const struct cpu *c, enum step_kind k)
{
    switch (k) {
    case STEP_TLB_FILL: return LOGEV_TLB_FILL;
    case STEP_TLB_EVICT: return LOGEV_TLB_EVICT;
    case STEP_CACHE_EVICT: return LOGEV_CACHE_EVICT;
    case STEP_TLBI_COMPLETE: return LOGEV_TLBI_COMPLETE;
    default: break;
    }
    if (s->mode == CPU_KCORE)
        return LOGEV_KCORE | (c->mode == CPU_HOST || c->mode == CPU_GUEST ? LOGEV_ERET : 0);
    if (c->mode == CPU_KCORE) {          /* an exception into KCore: which kind */
        const struct actor_pending *p = s->mode == CPU_HOST ? &m->act.host_pending[cpu]
                                                            : &m->act.guest_pending[cpu];
        return (s->mode == CPU_HOST ? LOGEV_HOST : LOGEV_GUEST) |
               (p->kind == AOP_HVC ? LOGEV_HVC : p->kind == AOP_ACCESS ? LOGEV_FAULT : 0);
    }
    return s->mode == CPU_HOST ? LOGEV_HOST : LOGEV_GUEST;
}

/* Two 4-byte halves of one 8-byte access (Unicorn delivers 64-bit MMIO
 * accesses as offsets +0 and +4): merged into one. */
static bool halves(const struct msys_access *a, const struct msys_access *b)
{
    return a->size == 4 && b->size == 4 && a->acc == b->acc && (a->va & 7) == 0 &&
           b->va == a->va + 4 && b->pa == a->pa + 4 && b->ipa == a->ipa + 4 &&
           a->tlb_hit == b->tlb_hit && a->cache == b->cache && a->label == b->label;
}

/* One line per step: text, or a JSON object (JSON Lines). */
static void log_step(void *arg, const struct machine *m, unsigned cpu, enum step_kind k)
{
    struct logger *lg = arg;
    const struct cpu_snap *s = &lg->snap[cpu];
    const struct cpu *c = &m->cpu[cpu];
    uint64_t step = m->st.steps - 1;
    char pb[16], lb[16], line[2048], dis[64], sym[160];
    size_t o = 0;
    cJSON *j = NULL, *acc = NULL;
    bool violating = m->nviol > lg->nviol || step == lg->viol_step;

#define OUT(...) do { if (o < sizeof(line)) o += (size_t)snprintf(line + o, sizeof(line) - o, __VA_ARGS__); } while (0)
    if (!violating) {
        bool skip = step < lg->from || step > lg->to || (lg->cpus && !(lg->cpus >> (cpu & 63) & 1)) ||
                    !(step_class(m, cpu, s, c, k) & lg->events);
        if (!skip && lg->pa_set) {
            skip = true;
            if (k == STEP_CPU && s->mode == CPU_KCORE)
                for (unsigned i = 0; i < c->nacc && i < CPU_MAX_ACCESS; i++)
                    skip &= (c->acc[i].pa & ~0xfffull) != lg->pa_page;
        }
        if (skip) {
            snap_all(lg, m);
            return;
        }
    }
    const char *who = k == STEP_CPU ? mode_principal(s->mode, s->guest_vm, pb, sizeof(pb)) : "hardware";
    if (lg->json) {
        j = cJSON_CreateObject();
        if (!j) {
            snap_all(lg, m);
            return;
        }
        cJSON_AddNumberToObject(j, "step", (double)step);
        cJSON_AddNumberToObject(j, "cpu", cpu);
        cJSON_AddStringToObject(j, "principal", who);
        cJSON_AddStringToObject(j, "event", event_name(k));
    } else {
        OUT("%8" PRIu64 "  cpu %-2u %-8s ", step, cpu, who);
    }
    if (k != STEP_CPU) {
        if (lg->json) {
            cJSON_AddNumberToObject(j, "tlb_entries", m->ms.tlb.cpu[cpu].used);
            cJSON_AddNumberToObject(j, "cache_lines", m->ms.cache.valid_lines);
            cJSON_AddNumberToObject(j, "pending_tlbi", m->ms.tlb.npending);
        } else {
            OUT("%s (CPU %u TLB %u entries, cache %u lines, %u TLBIs pending)", event_name(k), cpu,
                (unsigned)m->ms.tlb.cpu[cpu].used, (unsigned)m->ms.cache.valid_lines,
                (unsigned)m->ms.tlb.npending);
        }
    } else if (s->mode == CPU_KCORE) {
        const struct actor_pending *p = c->mode == CPU_GUEST ? &s->gp : &s->hp;
        uint64_t extra = c->insns - s->insns > 1 ? c->insns - s->insns - 1 : 0;
        cpu_disasm(c, c->last_pc, dis, sizeof(dis));
        for (size_t n = strlen(dis); n > 0 && dis[n - 1] == ' '; n--)
            dis[n - 1] = 0;
        elfsym_format(lg->sym, c->last_pc, sym, sizeof(sym));
        if (lg->json) {
            hex(j, "pc", c->last_pc);
            if (sym[0])
                cJSON_AddStringToObject(j, "function", sym);
            cJSON_AddStringToObject(j, "insn", dis);
            cJSON_AddNumberToObject(j, "insns", (double)(c->insns - s->insns));
            acc = cJSON_AddArrayToObject(j, "accesses");
        } else {
            char pcs[200];
            snprintf(pcs, sizeof(pcs), "0x%06" PRIx64 "%s%s%s", c->last_pc, sym[0] ? " <" : "", sym,
                     sym[0] ? ">" : "");
            OUT("pc %-34s %-28s", pcs, dis);
            if (extra)
                OUT(" (+%" PRIu64 " reg-only)", extra);
        }
        for (unsigned i = 0; i < c->nacc && i < CPU_MAX_ACCESS; i++) {
            const struct msys_access *a = &c->acc[i];
            const char *op = a->acc == MMU_ACC_WRITE ? "write" : a->acc == MMU_ACC_EXEC ? "exec" : "read";
            unsigned size = a->size;
            uint64_t val = a->val;
            if (i + 1 < c->nacc && i + 1 < CPU_MAX_ACCESS && halves(a, &c->acc[i + 1])) {
                size = 8;
                val = (a->val & 0xffffffffull) | c->acc[i + 1].val << 32;
                i++;
            }
            if (lg->json && acc) {
                cJSON *e = cJSON_CreateObject();
                if (!e)
                    break;
                cJSON_AddStringToObject(e, "op", op);
                hex(e, "va", a->va);
                hex(e, "ipa", a->ipa);
                hex(e, "pa", a->pa);
                cJSON_AddNumberToObject(e, "size", size);
                cJSON_AddStringToObject(e, "tlb", a->tlb_hit ? "hit" : "miss");
                cJSON_AddStringToObject(e, "cache", cache_name(a->cache));
                hex(e, "value", val);
                cJSON_AddStringToObject(e, "label", hv_label_name(m->hv, a->label, lb, sizeof(lb)));
                cJSON_AddItemToArray(acc, e);
            } else if (!lg->json) {
                OUT(" | %s%u va 0x%" PRIx64 " -> ipa 0x%" PRIx64 " -> pa 0x%" PRIx64
                    " tlb %s cache %s = 0x%" PRIx64 " [%s]", op[0] == 'w' ? "W" : "R", size,
                    a->va, a->ipa, a->pa, a->tlb_hit ? "hit" : "miss", cache_name(a->cache), val,
                    hv_label_name(m->hv, a->label, lb, sizeof(lb)));
            }
        }
        if (c->mode == CPU_HOST || c->mode == CPU_GUEST) {
            const char *to = mode_principal(c->mode, c->guest_vm, pb, sizeof(pb));
            int64_t r = (int64_t)cpu_xreg(c, 0);
            if (p->kind == AOP_HVC) {
                if (lg->json) {
                    cJSON *h = cJSON_AddObjectToObject(j, "hvc_return");
                    if (h) {
                        cJSON_AddStringToObject(h, "to", to);
                        cJSON_AddStringToObject(h, "hc", hc_log_name(p->hc));
                        cJSON_AddNumberToObject(h, "x0", (double)r);
                    }
                } else {
                    OUT(" | ERET to %s: %s returns %" PRId64, to, hc_log_name(p->hc), r);
                }
            } else if (lg->json) {
                cJSON_AddStringToObject(j, "eret_to", to);
            } else {
                OUT(" | ERET to %s", to);
            }
        }
    } else if (s->mode == CPU_HOST || s->mode == CPU_GUEST) {
        const struct actor_pending *p = s->mode == CPU_HOST ? &m->act.host_pending[cpu]
                                                            : &m->act.guest_pending[cpu];
        if (c->mode == CPU_KCORE && p->kind == AOP_HVC) {
            if (lg->json) {
                cJSON *h = cJSON_AddObjectToObject(j, "hvc");
                if (h) {
                    cJSON_AddStringToObject(h, "hc", hc_log_name(p->hc));
                    hex(h, "x1", p->arg[0]);
                    hex(h, "x2", p->arg[1]);
                    hex(h, "x3", p->arg[2]);
                    hex(h, "x4", p->arg[3]);
                }
            } else {
                OUT("HVC %s(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ") -> KCore",
                    hc_log_name(p->hc), p->arg[0], p->arg[1], p->arg[2], p->arg[3]);
            }
        } else if (c->mode == CPU_KCORE && p->kind == AOP_ACCESS) {
            if (lg->json) {
                cJSON *h = cJSON_AddObjectToObject(j, "s2_fault");
                if (h) {
                    hex(h, "ipa", p->ipa);
                    cJSON_AddStringToObject(h, "op", p->write ? "write" : "read");
                    cJSON_AddBoolToObject(h, "cacheable", p->cacheable);
                }
            } else {
                OUT("%s ipa 0x%" PRIx64 " (%s): stage-2 fault -> KCore", p->write ? "write" : "read",
                    p->ipa, p->cacheable ? "cacheable" : "non-cacheable");
            }
        } else {
            const char *op = m->st.actor_writes > lg->writes ? "write" :
                             m->st.actor_reads > lg->reads ? "read" : "idle";
            if (lg->json) {
                cJSON_AddStringToObject(j, "action", op);
                if (op[0] != 'i')
                    hex(j, "ipa_page", c->last_data_addr);
            } else if (op[0] != 'i') {
                OUT("%s in ipa page 0x%" PRIx64, op, c->last_data_addr);
            } else {
                OUT("idle");
            }
        }
    }
    for (unsigned i = lg->nviol; i < m->nviol; i++) {
        const struct violation *v = &m->viol[i];
        if (lg->json) {
            cJSON *h = cJSON_AddObjectToObject(j, "violation");
            if (h) {
                cJSON_AddNumberToObject(h, "invariant", v->invariant);
                cJSON_AddStringToObject(h, "invariant_name", trace_invariant_name(v->invariant));
                cJSON_AddNumberToObject(h, "cpu", v->cpu);
                cJSON_AddStringToObject(h, "detail", v->detail);
                if (v->insn[0])
                    cJSON_AddStringToObject(h, "insn", v->insn);
            }
            break;
        }
        OUT("  <<< VIOLATION of invariant %d (%s): %s", v->invariant, trace_invariant_name(v->invariant),
            v->detail);
    }
    if (lg->json) {
        char *txt = cJSON_PrintUnformatted(j);
        if (txt) {
            fprintf(lg->out, "%s\n", txt);
            free(txt);
        }
        cJSON_Delete(j);
    } else {
        fprintf(lg->out, "%s\n", line);
    }
#undef OUT
    snap_all(lg, m);
}

/* ---- replay ---------------------------------------------------------------- */

static void usage_replay(FILE *f)
{
    fprintf(f,
"usage: hypsim replay FILE [options]\n"
"\n"
"Re-execute a recorded trace (hypsim run --record, or the violation file a\n"
"run saves) and report its result: the same violation at the same step, or\n"
"ok, with the exit codes and --json summary of hypsim run. A replay that\n"
"does not end as recorded (different outcome, choices running out or left\n"
"over) is reported as a divergence (result: DIVERGED, exit 3).\n"
"\n"
"The KCore ELF is found by the SHA-256 the trace records (the default KCore,\n"
"the recorded mutant's ELF, every kcore*.elf of the build); a scenario is\n"
"embedded in the trace. Neither needs naming.\n"
"\n"
"  --verify          compare the state hash at every checkpoint; stop at the\n"
"                    first one that differs, naming the step\n"
"  --kcore PATH      replay against this KCore ELF, even if its SHA-256 differs\n"
"                    from the recorded one (a divergence will then be reported)\n"
"  --mutant NAME     the same for the seeded-bug KCore NAME (hypsim mutants)\n"
"  --log [text|json] one line per step on stdout: step, CPU, principal, PC,\n"
"                    function+offset and instruction, memory accesses (VA ->\n"
"                    IPA -> PA, TLB and cache hit/miss/bypass, value, label),\n"
"                    hypercall entries and returns, hardware events, the\n"
"                    violation; json gives JSON Lines (also --log=json)\n"
"  --from N --to M   log only steps N..M\n"
"  --cpu LIST        log only the steps of these CPUs (e.g. 0,2)\n"
"  --events LIST     log only these events: kcore, host, guest, hvc, fault,\n"
"                    eret, hw (all hardware events), tlb_fill, tlb_evict,\n"
"                    cache_evict, tlbi_complete\n"
"  --pa ADDR         log only steps whose accesses touch the 4 KiB page of ADDR\n"
"                    (the violating step is always logged)\n"
"  --json            print the JSON summary on stdout (after any log)\n"
"  --gdb PORT        serve gdb (remote protocol) on 127.0.0.1:PORT instead of\n"
"                    replaying straight through (0: any free port; the port is\n"
"                    printed): one thread per CPU, breakpoints, watchpoints,\n"
"                    stepi/continue and their reverse forms, 'monitor help'\n"
"                    for the model's state (README, \"Debugging a trace\")\n"
"  --snapshot-every K  with --gdb: keep a forked snapshot every K steps for\n"
"                    reverse execution (default: max(2000, steps / 16))\n"
"  --gdb-log         with --gdb: log every packet on stderr\n"
"  --quiet           print nothing but errors (and --json / --log)\n"
"  -h, --help        this help\n"
"\n"
"exit codes: 0 ok, 1 violation, 2 bad usage or input (bad trace, a choice\n"
"            impossible at its step, no KCore ELF with the recorded digest),\n"
"            3 internal error or divergence from the recording\n");
}

int cmd_replay(int argc, char **argv)
{
    struct replay_opts ro;
    struct trace t;
    struct machine *m;
    struct logger lg;
    struct trace_replay_opts o;
    struct trace_replay_result r;
    char err[512], kpath[PATH_MAX];
    double t0, el;
    int rc = cli_parse_replay(argc, argv, &ro);

    if (rc < 0) {
        usage_replay(stdout);
        return EXIT_OK;
    }
    if (rc)
        return rc;
    if (trace_read(&t, ro.file, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if ((rc = pick_kcore(&t, ro.file, ro.kcore, ro.mutant, kpath, sizeof(kpath), ro.quiet)) != 0) {
        trace_free(&t);
        return rc;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        trace_free(&t);
        return EXIT_INTERNAL;
    }
    if (trace_machine_init(m, &t, kpath, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s: config: %s\n", prog, ro.file, err);
        free(m);
        trace_free(&t);
        return EXIT_USAGE;
    }
    if (ro.gdb) {
        rc = cli_replay_gdb(m, &t, ro.file, kpath, (unsigned)ro.gdb_port, ro.snap_every, ro.gdb_log);
        machine_free(m);
        free(m);
        trace_free(&t);
        return rc;
    }
    memset(&o, 0, sizeof(o));
    memset(&lg, 0, sizeof(lg));
    o.verify = ro.verify;
    if (ro.log) {
        lg.out = stdout;
        lg.json = ro.logjson;
        lg.from = ro.from;
        lg.to = ro.to;
        lg.cpus = ro.cpus;
        lg.events = ro.events;
        lg.pa_set = ro.pa_set;
        lg.pa_page = ro.pa_page;
        lg.viol_step = t.violation ? t.viol.step : UINT64_MAX;
        lg.sym = cli_symbols_open(kpath);
        lg.snap = calloc(t.cfg.ncpus, sizeof(*lg.snap));
        if (!lg.snap) {
            machine_free(m);
            free(m);
            trace_free(&t);
            return EXIT_INTERNAL;
        }
        snap_all(&lg, m);
        if (!lg.json)
            log_legend(&lg, m);
        o.on_step = log_step;
        o.on_step_arg = &lg;
    }
    o.watch = &lg.watch;
    t0 = cli_now_s();
    trace_replay(m, &t, &o, &r);
    el = cli_now_s() - t0;
    if (r.status == TRACE_REPLAY_OK) {
        rc = m->nviol ? EXIT_VIOLATION : EXIT_OK;
        if (ro.json)
            cli_print_json(m, el, ro.file, NULL, NULL, &lg.watch);
        else if (!ro.quiet) {
            cli_print_summary(m, el, NULL, &lg.watch);
            printf("replay: %s: %" PRIu64 " steps, %zu choices, as recorded%s; KCore %s\n", ro.file,
                   m->st.steps, r.choices_used,
                   ro.verify ? " (state hashes verified at every checkpoint)" : "", kpath);
        }
    } else {
        /* the run did not follow the recording: what it did is no result */
        const char *why = r.status == TRACE_REPLAY_IMPOSSIBLE ? "invalid" :
                          r.status == TRACE_REPLAY_NOMEM ? "out of memory" : "diverged";
        char line[700];
        snprintf(line, sizeof(line), "%s", r.status == TRACE_REPLAY_NOMEM ? "out of memory" : r.msg);
        if (ro.json)
            cli_print_json(m, el, ro.file, why, line, &lg.watch);
        else if (!ro.quiet)
            cli_print_summary(m, el, r.status == TRACE_REPLAY_IMPOSSIBLE ? "INVALID TRACE (see the error)"
                                     : "DIVERGED from the recording (see the error): the result above is not the trace's",
                              &lg.watch);
        if (r.status == TRACE_REPLAY_IMPOSSIBLE) {
            fprintf(stderr, "%s: %s: %s\n", prog, ro.file, r.msg);
            rc = EXIT_USAGE;
        } else if (r.status == TRACE_REPLAY_DIVERGED) {
            fprintf(stderr, "%s: %s: replay diverged: %s\n", prog, ro.file, r.msg);
            rc = EXIT_INTERNAL;
        } else {
            fprintf(stderr, "%s: %s: out of memory\n", prog, ro.file);
            rc = EXIT_INTERNAL;
        }
    }
    cli_symbols_close(lg.sym);
    free(lg.snap);
    machine_free(m);
    free(m);
    trace_free(&t);
    return rc;
}

/* ---- shrink ---------------------------------------------------------------- */

static void usage_shrink(FILE *f)
{
    fprintf(f,
"usage: hypsim shrink FILE -o OUT [options]\n"
"\n"
"Minimise a trace that ends in a violation, keeping the same invariant\n"
"violated. KCore's boot (until every CPU has first entered the host) is\n"
"kept as it is; the steps after it are delta-debugged: whole CPUs' steps,\n"
"hardware events, then chunks of steps and single decisions are dropped,\n"
"and the run is cut after the violation. OUT is a normal trace that\n"
"replays to that violation. SIGINT or SIGTERM ends the search early and\n"
"writes the best trace found so far. The KCore ELF is found as for replay.\n"
"\n"
"  -o, --output OUT  where to write the shrunk trace (required; checked for\n"
"                    writability before the search starts)\n"
"  --kcore PATH      run this KCore ELF even if its SHA-256 differs\n"
"  --mutant NAME     the same for the seeded-bug KCore NAME\n"
"  --max-time S      stop searching after S seconds (default 600; 0 = none)\n"
"  --with-boot       shrink KCore's boot too (slow: the boot is ~21,000 steps)\n"
"  --quiet           print nothing but errors (no progress line)\n"
"  -h, --help        this help\n"
"\n"
"exit codes: 0 shrunk (also when interrupted: OUT is then the best so far),\n"
"            2 bad usage or input (no violation in the trace, OUT not\n"
"            writable), 3 internal error (the result does not reproduce)\n");
}

/* SIGINT / SIGTERM during the search: stop it, keep the best so far. A
 * second signal kills as usual (the handler is SA_RESETHAND). */
static volatile sig_atomic_t shrink_stop;

static void on_stop_signal(int sig)
{
    shrink_stop = sig;
}

struct shrink_progress {
    bool tty;
    double last;
    bool shown;
};

static void shrink_progress(void *arg, const struct trace_shrink_stats *st)
{
    struct shrink_progress *p = arg;
    if (!p->tty || st->seconds - p->last < 0.25)
        return;
    p->last = st->seconds;
    p->shown = true;
    fprintf(stderr, "\r  shrink %5.1f s: %u replays, steps %" PRIu64 " -> %" PRIu64
            " (%" PRIu64 " after boot), %s   ", st->seconds, st->tests, st->steps_before,
            st->steps_now, st->steps_now > st->boot_steps ? st->steps_now - st->boot_steps : 0,
            st->phase ? st->phase : "");
}

int cmd_shrink(int argc, char **argv)
{
    struct shrink_opts so;
    struct trace t, s;
    struct trace_shrink_stats st;
    struct trace_shrink_opts opt;
    struct shrink_progress pr = { 0 };
    struct sigaction sa, old_int, old_term;
    char err[512], kpath[PATH_MAX];
    int rc = cli_parse_shrink(argc, argv, &so), srch;

    if (rc < 0) {
        usage_shrink(stdout);
        return EXIT_OK;
    }
    if (rc)
        return rc;
    /* from now on SIGINT / SIGTERM end the search and keep its best */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    shrink_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* an unwritable OUT fails now, not after a 600 s search */
    if (fs_check_output(so.out, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: shrink: -o: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if (trace_read(&t, so.file, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if (!t.violation) {
        fprintf(stderr, "%s: %s: outcome.result: \"ok\": nothing to shrink (the trace has no violation)\n",
                prog, so.file);
        trace_free(&t);
        return EXIT_USAGE;
    }
    if ((rc = pick_kcore(&t, so.file, so.kcore, so.mutant, kpath, sizeof(kpath), so.quiet)) != 0) {
        trace_free(&t);
        return rc;
    }
    memset(&opt, 0, sizeof(opt));
    opt.max_seconds = (double)so.max_time;
    opt.stop = &shrink_stop;
    opt.with_boot = so.with_boot;
    pr.tty = !so.quiet && isatty(STDERR_FILENO);
    opt.progress = shrink_progress;
    opt.progress_arg = &pr;
    trace_init(&s);
    srch = trace_shrink_with(&t, kpath, &opt, &s, &st, err, sizeof(err));
    if (pr.shown)
        fprintf(stderr, "\r%100s\r", "");
    if (srch != 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        fprintf(stderr, "%s: %s: %s\n", prog, so.file, err);
        trace_free(&t);
        trace_free(&s);
        return EXIT_INTERNAL;
    }
    /* The result must replay strictly to the same invariant. */
    {
        struct machine *m = calloc(1, sizeof(*m));
        struct trace_replay_opts o;
        struct trace_replay_result r;
        memset(&o, 0, sizeof(o));
        o.verify = true;
        if (!m || trace_machine_init(m, &s, kpath, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, so.file, m ? err : "out of memory");
            free(m);
            trace_free(&t);
            trace_free(&s);
            return EXIT_INTERNAL;
        }
        trace_replay(m, &s, &o, &r);
        if (r.status != TRACE_REPLAY_OK || !m->nviol || m->viol[0].invariant != t.viol.invariant) {
            fprintf(stderr, "%s: %s: internal: the shrunk trace does not replay to invariant %d: %s\n",
                    prog, so.file, t.viol.invariant, r.msg[0] ? r.msg : "no violation");
            machine_free(m);
            free(m);
            trace_free(&t);
            trace_free(&s);
            return EXIT_INTERNAL;
        }
        machine_free(m);
        free(m);
    }
    if (trace_write(&s, so.out, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: shrink: -o: %s\n", prog, err);
        trace_free(&t);
        trace_free(&s);
        return EXIT_USAGE;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (st.interrupted)
        fprintf(stderr, "%s: shrink: interrupted by %s after %.1f s: %s holds the best trace so far "
                "(not minimal)\n", prog, st.interrupted == SIGTERM ? "SIGTERM" : "SIGINT", st.seconds, so.out);
    if (!so.quiet) {
        printf("shrink: %s -> %s: invariant %d (%s) violated at step %" PRIu64 " (was %" PRIu64 ")\n",
               so.file, so.out, s.viol.invariant, trace_invariant_name(s.viol.invariant), s.viol.step,
               t.viol.step);
        printf("  choices %zu -> %zu (%.1f%%), steps %" PRIu64 " -> %" PRIu64 " (%.1f%%)",
               st.choices_before, st.choices_after,
               st.choices_before ? 100.0 * st.choices_after / st.choices_before : 0.0,
               st.steps_before, st.steps_after,
               st.steps_before ? 100.0 * st.steps_after / st.steps_before : 0.0);
        if (st.boot_steps && st.steps_after > st.boot_steps)
            printf("; %" PRIu64 " after KCore's boot (%" PRIu64 " steps, kept)", st.steps_after - st.boot_steps,
                   st.boot_steps);
        printf("\n  %u candidate replays in %.1f s%s\n", st.tests, st.seconds,
               st.timed_out ? " (time limit reached: --max-time)" : st.interrupted ? " (interrupted)" : "");
        printf("  replay it: %s replay %s --log --from %" PRIu64 "\n", cli_self(), so.out,
               st.boot_steps < s.steps ? st.boot_steps : 0);
    }
    trace_free(&t);
    trace_free(&s);
    return EXIT_OK;
}
