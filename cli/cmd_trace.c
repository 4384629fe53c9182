/*
 * cli/cmd_trace.c - the trace commands: `hypsim run --record FILE`,
 * `hypsim replay FILE [--verify] [--kcore PATH] [--json] [--log ...]` and
 * `hypsim shrink FILE -o OUT` (issue 4; traces/FORMAT.md). Exit codes as
 * for run: 0 ok, 1 violation, 2 bad usage or input (one line naming the
 * file and the field, byte or step), 3 internal error or a replay that
 * diverges from its recording.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "model/hcname.h"
#include "traces/trace.h"

static const char *prog = "hypsim";

/* ---- Shared helpers -------------------------------------------------------- */

/* An argument of replay or shrink that is neither one of their options nor
 * an option's value: an unknown option, or the trace FILE (only one). */
static int trace_file_arg(const char *cmd, const char *a, const char **file)
{
    if (a[0] == '-' && a[1]) {
        fprintf(stderr, "%s: %s: unknown option '%s' (see 'hypsim %s --help')\n", prog, cmd, a, cmd);
        return EXIT_USAGE;
    }
    if (*file) {
        fprintf(stderr, "%s: %s: one trace file at a time ('%s' and '%s')\n", prog, cmd, *file, a);
        return EXIT_USAGE;
    }
    *file = a;
    return 0;
}

/* A hypercall's name for logs ("unknown" for a number KCore does not define). */
static const char *hc_log_name(uint64_t hc)
{
    const char *n = hc_name(hc);
    return n ? n : "unknown";
}

/* The KCore ELF a trace is replayed against: --kcore, else the default one
 * (built with hypsim, or $HYPSIM_KCORE). Refused (exit 2) when its digest
 * differs from the recorded one, unless it was given explicitly. */
static int pick_kcore(const struct trace *t, const char *file, const char *kcore_opt,
                      char *path, size_t pathlen, bool quiet)
{
    struct machine_config d;
    char err[512];
    int rc;

    cli_config_default(&d);
    snprintf(path, pathlen, "%s", kcore_opt ? kcore_opt : d.kcore_path);
    rc = trace_check_kcore(t, path, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "%s: %s: kcore_sha256: cannot check the KCore ELF: %s%s\n", prog, file, err,
                kcore_opt ? "" : " (give --kcore PATH)");
        return EXIT_USAGE;
    }
    if (rc > 0 && !kcore_opt) {
        fprintf(stderr, "%s: %s: kcore_sha256: %s (give --kcore PATH to replay against it anyway)\n",
                prog, file, err);
        return EXIT_USAGE;
    }
    if (rc > 0 && !quiet)
        fprintf(stderr, "%s: warning: %s: %s; divergence will be reported\n", prog, file, err);
    if (t->cfg.scenario_path[0]) {
        rc = trace_check_scenario(t, t->cfg.scenario_path, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "%s: %s: config.scenario: %s\n", prog, file, err);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* ---- run --record ---------------------------------------------------------- */

struct cli_record {
    struct trace t;
    struct trace_recorder rec;
    const char *path;
};

int cli_record_begin(struct cli_record **out, struct machine *m, const char *path,
                     uint64_t hash_every)
{
    struct cli_record *r = calloc(1, sizeof(*r));
    char err[512];

    *out = NULL;
    if (!r)
        return EXIT_INTERNAL;
    trace_init(&r->t);
    r->path = path;
    if (trace_record_begin(&r->rec, &r->t, m, hash_every, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: --record: %s\n", prog, err);
        trace_free(&r->t);
        free(r);
        return EXIT_USAGE;
    }
    *out = r;
    return 0;
}

void cli_record_discard(struct cli_record *r)
{
    if (!r)
        return;
    trace_free(&r->t);
    free(r);
}

int cli_record_end(struct cli_record *r, struct machine *m, bool quiet)
{
    char err[512];
    int rc = 0;

    if (trace_record_end(&r->rec, m) != 0) {
        fprintf(stderr, "%s: --record %s: out of memory while recording\n", prog, r->path);
        rc = EXIT_INTERNAL;
    } else if (trace_write(&r->t, r->path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: --record: %s\n", prog, err);
        rc = EXIT_USAGE;
    } else if (!quiet) {
        char *b64 = trace_encode_choices(r->t.choice, r->t.nchoice);
        size_t nb = b64 ? strlen(b64) : 0;
        fprintf(stderr, "trace: %s: %zu choices over %" PRIu64 " steps, %.2f bytes/step (choices)\n",
                r->path, r->t.nchoice, r->t.steps, r->t.steps ? (double)nb / r->t.steps : 0.0);
        free(b64);
    }
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

/* One line per step: text, or a JSON object (JSON Lines). */
static void log_step(void *arg, const struct machine *m, unsigned cpu, enum step_kind k)
{
    struct logger *lg = arg;
    const struct cpu_snap *s = &lg->snap[cpu];
    const struct cpu *c = &m->cpu[cpu];
    uint64_t step = m->st.steps - 1;
    char pb[16], lb[16], line[2048], dis[64];
    size_t o = 0;
    cJSON *j = NULL, *acc = NULL;

#define OUT(...) do { if (o < sizeof(line)) o += (size_t)snprintf(line + o, sizeof(line) - o, __VA_ARGS__); } while (0)
    if (step < lg->from || step > lg->to) {
        snap_all(lg, m);
        return;
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
        cpu_disasm(c, c->last_pc, dis, sizeof(dis));
        for (size_t n = strlen(dis); n > 0 && dis[n - 1] == ' '; n--)
            dis[n - 1] = 0;
        if (lg->json) {
            hex(j, "pc", c->last_pc);
            cJSON_AddStringToObject(j, "insn", dis);
            cJSON_AddNumberToObject(j, "insns", (double)(c->insns - s->insns));
            acc = cJSON_AddArrayToObject(j, "accesses");
        } else {
            OUT("pc 0x%06" PRIx64 "  %-28s", c->last_pc, dis);
            if (c->insns - s->insns > 1)
                OUT(" (+%" PRIu64 " straight-line)", c->insns - s->insns - 1);
        }
        for (unsigned i = 0; i < c->nacc && i < CPU_MAX_ACCESS; i++) {
            const struct msys_access *a = &c->acc[i];
            const char *op = a->acc == MMU_ACC_WRITE ? "write" : a->acc == MMU_ACC_EXEC ? "exec" : "read";
            if (lg->json && acc) {
                cJSON *e = cJSON_CreateObject();
                if (!e)
                    break;
                cJSON_AddStringToObject(e, "op", op);
                hex(e, "va", a->va);
                hex(e, "ipa", a->ipa);
                hex(e, "pa", a->pa);
                cJSON_AddNumberToObject(e, "size", a->size);
                cJSON_AddStringToObject(e, "tlb", a->tlb_hit ? "hit" : "miss");
                cJSON_AddStringToObject(e, "cache", cache_name(a->cache));
                hex(e, "value", a->val);
                cJSON_AddStringToObject(e, "label", hv_label_name(m->hv, a->label, lb, sizeof(lb)));
                cJSON_AddItemToArray(acc, e);
            } else if (!lg->json) {
                OUT(" | %s%u va 0x%" PRIx64 " -> ipa 0x%" PRIx64 " -> pa 0x%" PRIx64
                    " tlb %s cache %s = 0x%" PRIx64 " [%s]", op[0] == 'w' ? "W" : "R", a->size,
                    a->va, a->ipa, a->pa, a->tlb_hit ? "hit" : "miss", cache_name(a->cache), a->val,
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
                cJSON_AddNumberToObject(h, "cpu", v->cpu);
                cJSON_AddStringToObject(h, "detail", v->detail);
                if (v->insn[0])
                    cJSON_AddStringToObject(h, "insn", v->insn);
            }
            break;
        }
        OUT("  <<< VIOLATION of invariant %d: %s", v->invariant, v->detail);
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
"Re-execute a recorded trace (hypsim run --record) and report its result:\n"
"the same violation at the same step, or ok, with the exit codes and --json\n"
"summary of hypsim run. A replay that does not end as recorded (different\n"
"outcome, choices running out or left over) is reported as a divergence.\n"
"\n"
"  --verify          compare the state hash at every checkpoint; stop at the\n"
"                    first one that differs, naming the step\n"
"  --kcore PATH      replay against this KCore ELF even if its SHA-256 differs\n"
"                    from the recorded one (without it, a mismatch is refused)\n"
"  --log [text|json] one line per step on stdout: step, CPU, principal, PC and\n"
"                    instruction, memory accesses (VA -> IPA -> PA, TLB and\n"
"                    cache hit/miss/bypass, value, label), hypercall entries\n"
"                    and returns, hardware events, the violation; json gives\n"
"                    JSON Lines\n"
"  --from N --to M   log only steps N..M\n"
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
"            impossible at its step, KCore digest mismatch), 3 internal error\n"
"            or divergence from the recording\n");
}

int cmd_replay(int argc, char **argv)
{
    const char *file = NULL, *kcore = NULL;
    bool verify = false, json = false, quiet = false, log = false, logjson = false;
    uint64_t from = 0, to = UINT64_MAX;
    uint64_t gdb_port = 0, snap_every = 0;
    bool gdb = false, gdb_log = false;
    struct trace t;
    struct machine *m;
    struct logger lg;
    struct trace_replay_opts o;
    struct trace_replay_result r;
    char err[512], kpath[512];
    double t0, el;
    int rc;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_replay(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--verify")) {
            verify = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--kcore")) {
            if ((rc = cli_need_value(NULL, a, v, "a path", &kcore)))
                return rc;
            i++;
        } else if (!strcmp(a, "--log")) {
            log = true;
            if (v && (!strcmp(v, "text") || !strcmp(v, "json"))) {
                logjson = !strcmp(v, "json");
                i++;
            }
        } else if (!strcmp(a, "--gdb")) {
            if ((rc = cli_parse_u64("replay", a, v, 0, 65535, &gdb_port)))
                return rc;
            gdb = true;
            i++;
        } else if (!strcmp(a, "--snapshot-every")) {
            if ((rc = cli_parse_u64("replay", a, v, 1, TRACE_MAX_STEPS, &snap_every)))
                return rc;
            i++;
        } else if (!strcmp(a, "--gdb-log")) {
            gdb_log = true;
        } else if (!strcmp(a, "--from")) {
            if ((rc = cli_parse_u64(NULL, a, v, 0, UINT64_MAX, &from)))
                return rc;
            i++;
        } else if (!strcmp(a, "--to")) {
            if ((rc = cli_parse_u64(NULL, a, v, 0, UINT64_MAX, &to)))
                return rc;
            i++;
        } else if ((rc = trace_file_arg("replay", a, &file))) {
            return rc;
        }
    }
    if (!file) {
        fprintf(stderr, "%s: replay: missing the trace FILE (see 'hypsim replay --help')\n", prog);
        return EXIT_USAGE;
    }
    if (gdb && (log || json)) {
        fprintf(stderr, "%s: replay: --gdb cannot be combined with --log or --json\n", prog);
        return EXIT_USAGE;
    }
    if (from > to) {
        fprintf(stderr, "%s: replay: --from %" PRIu64 " is after --to %" PRIu64 "\n", prog, from, to);
        return EXIT_USAGE;
    }
    if (trace_read(&t, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if ((rc = pick_kcore(&t, file, kcore, kpath, sizeof(kpath), quiet)) != 0) {
        trace_free(&t);
        return rc;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        trace_free(&t);
        return EXIT_INTERNAL;
    }
    {
        struct machine_config cfg = t.cfg;
        snprintf(cfg.kcore_path, sizeof(cfg.kcore_path), "%s", kpath);
        if (machine_init(m, &cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s: config: %s\n", prog, file, err);
            free(m);
            trace_free(&t);
            return EXIT_USAGE;
        }
    }
    if (gdb) {
        rc = cli_replay_gdb(m, &t, file, kpath, (unsigned)gdb_port, snap_every, gdb_log);
        machine_free(m);
        free(m);
        trace_free(&t);
        return rc;
    }
    memset(&o, 0, sizeof(o));
    memset(&lg, 0, sizeof(lg));
    o.verify = verify;
    if (log) {
        lg.out = stdout;
        lg.json = logjson;
        lg.from = from;
        lg.to = to;
        lg.snap = calloc(t.cfg.ncpus, sizeof(*lg.snap));
        if (!lg.snap) {
            machine_free(m);
            free(m);
            trace_free(&t);
            return EXIT_INTERNAL;
        }
        snap_all(&lg, m);
        o.on_step = log_step;
        o.on_step_arg = &lg;
    }
    t0 = cli_now_s();
    trace_replay(m, &t, &o, &r);
    el = cli_now_s() - t0;
    if (json)
        cli_print_json(m, el, file);
    else if (!quiet)
        cli_print_summary(m, el);
    switch (r.status) {
    case TRACE_REPLAY_IMPOSSIBLE:
        fprintf(stderr, "%s: %s: %s\n", prog, file, r.msg);
        rc = EXIT_USAGE;
        break;
    case TRACE_REPLAY_DIVERGED:
        fprintf(stderr, "%s: %s: replay diverged: %s\n", prog, file, r.msg);
        rc = EXIT_INTERNAL;
        break;
    case TRACE_REPLAY_NOMEM:
        fprintf(stderr, "%s: %s: out of memory\n", prog, file);
        rc = EXIT_INTERNAL;
        break;
    default:
        if (!quiet && !json)
            printf("replay: %s: %" PRIu64 " steps, %zu choices, as recorded%s\n", file, m->st.steps,
                   r.choices_used, verify ? " (state hashes verified at every checkpoint)" : "");
        rc = m->nviol ? EXIT_VIOLATION : EXIT_OK;
        break;
    }
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
"Minimise a trace that ends in a violation: delta debugging over its\n"
"choices (drop chunks of choices - whole steps, actor actions, hardware\n"
"events - and cut after the violation), keeping the same invariant\n"
"violated. OUT is a normal trace that replays to that violation.\n"
"\n"
"  -o, --output OUT  where to write the shrunk trace (required)\n"
"  --kcore PATH      run this KCore ELF even if its SHA-256 differs\n"
"  --max-time S      stop searching after S seconds (default 600; 0 = none)\n"
"  --quiet           print nothing but errors\n"
"  -h, --help        this help\n"
"\n"
"exit codes: 0 shrunk, 2 bad usage or input (no violation in the trace),\n"
"            3 internal error (the result does not reproduce)\n");
}

int cmd_shrink(int argc, char **argv)
{
    const char *file = NULL, *out = NULL, *kcore = NULL;
    uint64_t max_time = 600;
    bool quiet = false;
    struct trace t, s;
    struct trace_shrink_stats st;
    char err[512], kpath[512];
    int rc;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage_shrink(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if ((rc = cli_need_value(NULL, a, v, "a path", &out)))
                return rc;
            i++;
        } else if (!strcmp(a, "--kcore")) {
            if ((rc = cli_need_value(NULL, a, v, "a path", &kcore)))
                return rc;
            i++;
        } else if (!strcmp(a, "--max-time")) {
            if ((rc = cli_parse_u64(NULL, a, v, 0, 1u << 30, &max_time)))
                return rc;
            i++;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
        } else if ((rc = trace_file_arg("shrink", a, &file))) {
            return rc;
        }
    }
    if (!file || !out) {
        fprintf(stderr, "%s: shrink: usage: hypsim shrink FILE -o OUT (see --help)\n", prog);
        return EXIT_USAGE;
    }
    if (trace_read(&t, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_USAGE;
    }
    if (!t.violation) {
        fprintf(stderr, "%s: %s: outcome.result: \"ok\": nothing to shrink (the trace has no violation)\n",
                prog, file);
        trace_free(&t);
        return EXIT_USAGE;
    }
    if ((rc = pick_kcore(&t, file, kcore, kpath, sizeof(kpath), quiet)) != 0) {
        trace_free(&t);
        return rc;
    }
    trace_init(&s);
    if (trace_shrink(&t, kpath, (double)max_time, &s, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, file, err);
        trace_free(&t);
        trace_free(&s);
        return EXIT_INTERNAL;
    }
    /* The result must replay strictly to the same invariant. */
    {
        struct machine *m = calloc(1, sizeof(*m));
        struct machine_config cfg = s.cfg;
        struct trace_replay_opts o;
        struct trace_replay_result r;
        snprintf(cfg.kcore_path, sizeof(cfg.kcore_path), "%s", kpath);
        memset(&o, 0, sizeof(o));
        o.verify = true;
        if (!m || machine_init(m, &cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, file, m ? err : "out of memory");
            free(m);
            trace_free(&t);
            trace_free(&s);
            return EXIT_INTERNAL;
        }
        trace_replay(m, &s, &o, &r);
        if (r.status != TRACE_REPLAY_OK || !m->nviol || m->viol[0].invariant != t.viol.invariant) {
            fprintf(stderr, "%s: %s: internal: the shrunk trace does not replay to invariant %d: %s\n",
                    prog, file, t.viol.invariant, r.msg[0] ? r.msg : "no violation");
            machine_free(m);
            free(m);
            trace_free(&t);
            trace_free(&s);
            return EXIT_INTERNAL;
        }
        machine_free(m);
        free(m);
    }
    if (trace_write(&s, out, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: -o: %s\n", prog, err);
        trace_free(&t);
        trace_free(&s);
        return EXIT_USAGE;
    }
    if (!quiet) {
        printf("shrink: %s -> %s: invariant %d violated at step %" PRIu64 " (was %" PRIu64 ")\n",
               file, out, s.viol.invariant, s.viol.step, t.viol.step);
        printf("  choices %zu -> %zu (%.1f%%), steps %" PRIu64 " -> %" PRIu64 " (%.1f%%)\n",
               st.choices_before, st.choices_after,
               st.choices_before ? 100.0 * st.choices_after / st.choices_before : 0.0,
               st.steps_before, st.steps_after,
               st.steps_before ? 100.0 * st.steps_after / st.steps_before : 0.0);
        printf("  %u candidate replays in %.1f s\n", st.tests, st.seconds);
    }
    trace_free(&t);
    trace_free(&s);
    return EXIT_OK;
}
