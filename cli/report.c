/*
 * cli/report.c - what hypsim run and hypsim replay print about a run: the
 * human summary and the --json summary, with the invariants checked named,
 * a violation's invariant named, its KCore PC symbolized (function+offset,
 * file:line where the ELF has DWARF: util/elfsym.c), the hypercalls in
 * flight on every CPU and the step each started at (traces/replay.c
 * trace_watch), and scripted actions that never ran.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "model/hcname.h"
#include "hyp/hv.h"
#include "model/machine.h"
#include "traces/trace.h"
#include "util/elfsym.h"

struct elfsym *cli_symbols_open(const char *elf)
{
    char err[256];
    return elfsym_open(elf, err, sizeof(err));
}

void cli_symbols_close(struct elfsym *s)
{
    elfsym_close(s);
}

const char *cli_symbolize_insn(struct elfsym *sym, const char *insn, char *buf, size_t len)
{
    /* annotate_violation writes "CPU n, 0xPC: mnemonic operands" */
    const char *p = strstr(insn, "0x");
    char s[160];
    unsigned long long pc;
    char *end;

    buf[0] = 0;
    if (!p)
        return buf;
    pc = strtoull(p, &end, 16);
    if (*end != ':' || !*elfsym_format(sym, pc, s, sizeof(s)))
        return buf;
    snprintf(buf, len, "%s", s);
    return buf;
}

/* The invariants a run checks, named. */
static void print_checked(const struct machine *m)
{
    if (m->cfg.check == CHECK_OFF) {
        printf("  invariants 1-7 not checked (--check off)");
    } else {
        printf("  checked after every step (%s):", m->cfg.check == CHECK_FULL ? "full" : "incremental");
        for (int i = 1; i <= 7; i++)
            printf(" %d %s%s", i, trace_invariant_name(i), i < 7 ? "," : "");
    }
    if (m->cfg.layers)
        printf("; 8 %s\n", trace_invariant_name(8));
    else
        printf("; 8 not checked (--layers off)\n");
}

/* Scripted actions that never ran (a grant by a VM that never booted, an
 * action pinned to a CPU that never ran its principal). */
static void print_scenario(const struct machine *m)
{
    const struct scenario *s = &m->scen;
    char d[200];
    if (!m->scripted || s->next >= s->n)
        return;
    scenario_describe(&s->act[s->next], d, sizeof(d));
    printf("  scenario %s: %zu of %zu actions never ran: the first, actions[%zu] (line %u: %s), was still "
           "waiting for its principal%s when the run ended after %" PRIu64 " steps\n",
           m->cfg.scenario_path, s->n - s->next, s->n, s->next, s->act[s->next].line, d,
           s->act[s->next].cpu >= 0 ? " on its CPU" : "", m->st.steps);
}

void cli_print_inflight(const struct machine *m, const struct trace_watch *w)
{
    bool any = false;
    if (!w || !w->init || !m->nviol)
        return;
    for (unsigned i = 0; i < m->cfg.ncpus && i < HV_MAX_CPUS; i++) {
        char d[200];
        if (!w->cpu[i].active)
            continue;
        trace_inflight_describe(&w->cpu[i], d, sizeof(d));
        printf("  %s CPU %u: %s (%" PRIu64 " steps before the violation)\n",
               any ? "           " : "in flight:", i, d, m->viol[0].step - w->cpu[i].since);
        any = true;
    }
    if (!any)
        printf("  in flight: no hypercall or stage-2 fault (every CPU is in the host or a guest, or booting)\n");
}

double cli_now_s(void);

void cli_print_summary(const struct machine *m, double el, const char *result,
                       const struct trace_watch *w)
{
    const struct machine_stats *s = &m->st;
    struct elfsym *sym = m->nviol ? cli_symbols_open(m->cfg.kcore_path) : NULL;

    printf("hypsim run: %u CPUs, %u VMs, %llu MiB, seed %llu, %s schedule\n", m->cfg.ncpus,
           m->cfg.nvms, (unsigned long long)m->cfg.mem_mib, (unsigned long long)m->cfg.seed,
           m->cfg.sched == SCHED_RR ? "round-robin" : m->cfg.sched == SCHED_PCT ? "PCT" : "random");
    printf("  steps %llu (%.0f/s), KCore instructions %llu, hypercalls %llu, invariant checks %llu\n",
           (unsigned long long)s->steps, el > 0 ? s->steps / el : 0.0,
           (unsigned long long)s->guest_instructions, (unsigned long long)s->hypercalls,
           (unsigned long long)s->invariant_checks);
    print_checked(m);
    printf("  layers %s: refinement checks %llu, spec checks %llu (%llu skipped: concurrent), "
           "fault checks %llu (%llu skipped; %llu refused though mappable)\n",
           m->cfg.layers ? "on" : "off", (unsigned long long)s->refinement_checks,
           (unsigned long long)s->spec_checks, (unsigned long long)m->st.spec_skipped,
           (unsigned long long)s->fault_checks, (unsigned long long)m->st.fault_skipped,
           (unsigned long long)m->st.fault_refused_allowed);
    printf("  hypercalls ok/failed:");
    for (unsigned hc = 0; hc < 32; hc++)
        if (hc_name(hc) && (s->hc_ok[hc] || s->hc_fail[hc]))
            printf(" %s %llu/%llu", hc_name(hc), (unsigned long long)s->hc_ok[hc],
                   (unsigned long long)s->hc_fail[hc]);
    printf("\n  host stage-2 faults %llu (refused %llu), guest stage-2 faults %llu, actor reads %llu, writes %llu\n",
           (unsigned long long)s->host_s2_faults, (unsigned long long)s->host_s2_refused,
           (unsigned long long)s->guest_s2_faults, (unsigned long long)s->actor_reads,
           (unsigned long long)s->actor_writes);
    printf("  hardware events: TLB fills %llu, TLB evictions %llu, cache evictions %llu, TLBI completions %llu\n",
           (unsigned long long)s->events[STEP_TLB_FILL], (unsigned long long)s->events[STEP_TLB_EVICT],
           (unsigned long long)s->events[STEP_CACHE_EVICT], (unsigned long long)s->events[STEP_TLBI_COMPLETE]);
    print_scenario(m);
    for (unsigned i = 0; i < m->nviol; i++) {
        const struct violation *v = &m->viol[i];
        char a[16], b[16], where[200];
        printf("VIOLATION at step %llu, CPU %d, invariant %d (%s): %s\n", (unsigned long long)v->step,
               v->cpu, v->invariant, trace_invariant_name(v->invariant), v->detail);
        if (v->page != ~0ull)
            printf("  page 0x%llx, by %s, of %s\n", (unsigned long long)v->page,
                   hv_label_name(m->hv, v->who, a, sizeof(a)), hv_label_name(m->hv, v->whose, b, sizeof(b)));
        if (v->insn[0]) {
            cli_symbolize_insn(sym, v->insn, where, sizeof(where));
            printf("  last KCore instruction: %s%s%s\n", v->insn, where[0] ? "  in " : "", where);
        }
        if (i == 0)
            cli_print_inflight(m, w);
    }
    elfsym_close(sym);
    printf("result: %s\n", result ? result : m->nviol ? "VIOLATION" : "ok");
}

void cli_print_json(const struct machine *m, double el, const char *trace, const char *result,
                    const char *error, const struct trace_watch *w)
{
    cJSON *o = cJSON_CreateObject(), *va = cJSON_CreateArray(), *hc = cJSON_CreateObject();
    const struct machine_stats *s = &m->st;
    struct elfsym *sym = m->nviol ? cli_symbols_open(m->cfg.kcore_path) : NULL;
    char seed[32], buf[200], wb[16];
    cJSON_AddStringToObject(o, "result", result ? result : m->nviol ? "violation" : "ok");
    if (error)
        cJSON_AddStringToObject(o, "error", error);
    cJSON_AddNumberToObject(o, "steps", (double)s->steps);
    cJSON_AddNumberToObject(o, "guest_instructions", (double)s->guest_instructions);
    cJSON_AddNumberToObject(o, "hypercalls", (double)s->hypercalls);
    cJSON_AddNumberToObject(o, "invariant_checks", (double)s->invariant_checks);
    cJSON_AddNumberToObject(o, "refinement_checks", (double)s->refinement_checks);
    cJSON_AddNumberToObject(o, "spec_checks", (double)s->spec_checks);
    cJSON_AddNumberToObject(o, "fault_checks", (double)s->fault_checks);
    cJSON_AddNumberToObject(o, "spec_skipped", (double)m->st.spec_skipped);
    cJSON_AddNumberToObject(o, "fault_skipped", (double)m->st.fault_skipped);
    cJSON_AddNumberToObject(o, "fault_refused_allowed", (double)m->st.fault_refused_allowed);
    {
        cJSON *ic = cJSON_AddArrayToObject(o, "invariants_checked");
        for (int i = 1; ic && i <= 8; i++)
            if ((i <= 7 && m->cfg.check != CHECK_OFF) || (i == 8 && m->cfg.layers))
                cJSON_AddItemToArray(ic, cJSON_CreateNumber(i));
    }
    for (unsigned i = 0; i < m->nviol; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddNumberToObject(v, "step", (double)m->viol[i].step);
        cJSON_AddNumberToObject(v, "cpu", m->viol[i].cpu);
        cJSON_AddNumberToObject(v, "invariant", m->viol[i].invariant);
        cJSON_AddStringToObject(v, "invariant_name", trace_invariant_name(m->viol[i].invariant));
        cJSON_AddStringToObject(v, "detail", m->viol[i].detail);
        if (m->viol[i].insn[0]) {
            cJSON_AddStringToObject(v, "insn", m->viol[i].insn);
            if (*cli_symbolize_insn(sym, m->viol[i].insn, buf, sizeof(buf)))
                cJSON_AddStringToObject(v, "insn_symbol", buf);
        }
        if (i == 0 && w && w->init) {
            cJSON *fa = cJSON_AddArrayToObject(v, "in_flight");
            for (unsigned c = 0; fa && c < m->cfg.ncpus && c < HV_MAX_CPUS; c++) {
                const struct trace_inflight *f = &w->cpu[c];
                cJSON *e;
                if (!f->active || !(e = cJSON_CreateObject()))
                    continue;
                cJSON_AddNumberToObject(e, "cpu", c);
                cJSON_AddStringToObject(e, "who", hv_label_name(m->hv, f->who, wb, sizeof(wb)));
                if (f->fault) {
                    cJSON_AddStringToObject(e, "fault", f->write ? "write" : "read");
                    snprintf(buf, sizeof(buf), "0x%" PRIx64, f->ipa);
                    cJSON_AddStringToObject(e, "ipa", buf);
                } else {
                    cJSON *args = cJSON_CreateArray();
                    cJSON_AddStringToObject(e, "hc", hc_name(f->hc) ? hc_name(f->hc) : "unknown");
                    for (unsigned k = 0; args && k < 4; k++) {
                        snprintf(buf, sizeof(buf), "0x%" PRIx64, f->arg[k]);
                        cJSON_AddItemToArray(args, cJSON_CreateString(buf));
                    }
                    cJSON_AddItemToObject(e, "args", args);
                }
                cJSON_AddNumberToObject(e, "since_step", (double)f->since);
                cJSON_AddItemToArray(fa, e);
            }
        }
        cJSON_AddItemToArray(va, v);
    }
    cJSON_AddItemToObject(o, "violations", va);
    if (m->scripted) {
        cJSON *sc = cJSON_AddObjectToObject(o, "scenario");
        if (sc) {
            cJSON_AddNumberToObject(sc, "actions", (double)m->scen.n);
            cJSON_AddNumberToObject(sc, "ran", (double)m->scen.next);
        }
    }
    snprintf(seed, sizeof(seed), "%" PRIu64, m->cfg.seed);
    /* the seed as a number when exactly representable, else as a string */
    if (m->cfg.seed < (1ull << 53))
        cJSON_AddNumberToObject(o, "seed", (double)m->cfg.seed);
    else
        cJSON_AddStringToObject(o, "seed", seed);
    if (trace)
        cJSON_AddStringToObject(o, "trace", trace);
    else
        cJSON_AddNullToObject(o, "trace");
    cJSON_AddNumberToObject(o, "elapsed_s", el);
    cJSON_AddNumberToObject(o, "steps_per_s", el > 0 ? s->steps / el : 0);
    for (unsigned i = 0; i < 32; i++)
        if (hc_name(i)) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "ok", (double)s->hc_ok[i]);
            cJSON_AddNumberToObject(p, "failed", (double)s->hc_fail[i]);
            cJSON_AddItemToObject(hc, hc_name(i), p);
        }
    cJSON_AddItemToObject(o, "hypercalls_by_kind", hc);
    cJSON_AddNumberToObject(o, "host_s2_faults", (double)s->host_s2_faults);
    cJSON_AddNumberToObject(o, "host_s2_refused", (double)s->host_s2_refused);
    cJSON_AddNumberToObject(o, "guest_s2_faults", (double)s->guest_s2_faults);
    char *txt = cJSON_PrintUnformatted(o);
    if (txt) {
        puts(txt);
        free(txt);
    }
    cJSON_Delete(o);
    elfsym_close(sym);
}
