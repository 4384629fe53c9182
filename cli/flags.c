/*
 * cli/flags.c - option values that several hypsim commands parse alike:
 * numbers, values that must be present, and the flags that describe the
 * machine (hypsim run and hypsim explore). Every error is one line on
 * stderr, "hypsim: [CMD: ]OPT ...", and EXIT_USAGE.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "traces/trace.h"

/* The start of an error line: "hypsim: " and "CMD: " if there is one. */
static void say(const char *cmd)
{
    fprintf(stderr, "hypsim: %s%s", cmd ? cmd : "", cmd ? ": " : "");
}

int cli_bad_value(const char *cmd, const char *opt, const char *v, const char *what)
{
    say(cmd);
    if (v)
        fprintf(stderr, "%s: invalid value '%s' (%s)\n", opt, v, what);
    else
        fprintf(stderr, "%s needs a value (%s)\n", opt, what);
    return EXIT_USAGE;
}

int cli_need_value(const char *cmd, const char *opt, const char *v, const char *what,
                   const char **out)
{
    if (!v)
        return cli_bad_value(cmd, opt, v, what);
    *out = v;
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
                  uint64_t *out)
{
    char what[64], *end = NULL;
    unsigned long long v = 0;

    snprintf(what, sizeof(what), "expected %llu..%llu", (unsigned long long)lo,
             (unsigned long long)hi);
    if (s) {
        errno = 0;
        v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
    }
    if (!s || errno || *end || end == s || s[0] == '-' || v < lo || v > hi)
        return cli_bad_value(cmd, opt, s, what);
    *out = v;
    return 0;
}

static int parse_check(const char *cmd, const char *opt, const char *v, enum check_mode *out)
{
    if (v && !strcmp(v, "incremental"))
        *out = CHECK_INCREMENTAL;
    else if (v && !strcmp(v, "full"))
        *out = CHECK_FULL;
    else if (v && !strcmp(v, "off"))
        *out = CHECK_OFF;
    else
        return cli_bad_value(cmd, opt, v, "incremental, full, off");
    return 0;
}

static int parse_cache(const char *cmd, const char *opt, const char *v, struct machine_config *cfg)
{
    unsigned long s = 0, w = 0;
    char *x = NULL, *end = NULL;

    /* Digits only: strtoul alone would take signs and blanks. */
    if (v && v[0] >= '0' && v[0] <= '9') {
        s = strtoul(v, &x, 10);
        if (*x == 'x' && x[1] >= '0' && x[1] <= '9')
            w = strtoul(x + 1, &end, 10);
    }
    if (!end || *end || !s || s > (1ul << 20) || (s & (s - 1)) || !w || w > 64)
        return cli_bad_value(cmd, opt, v, "SETSxWAYS, SETS a power of two up to 2^20, WAYS 1-64");
    cfg->cache_sets = (unsigned)s;
    cfg->cache_ways = (unsigned)w;
    return 0;
}

bool cli_machine_flag(const char *cmd, const char *a, const char *v, struct machine_config *cfg,
                      struct cli_kcore_flags *k, int *rcp)
{
    uint64_t x = 0;
    int rc = 0;

    if (!strcmp(a, "--cpus")) {
        if (!(rc = cli_parse_u64(cmd, a, v, 1, HV_MAX_CPUS, &x)))
            cfg->ncpus = (unsigned)x;
    } else if (!strcmp(a, "--vms")) {
        if (!(rc = cli_parse_u64(cmd, a, v, 0, hv_default()->layout.max_vms, &x)))
            cfg->nvms = (unsigned)x;
    } else if (!strcmp(a, "--mem")) {
        if (!(rc = cli_parse_u64(cmd, a, v, hv_default()->layout.min_mem >> 20, 4096, &x)))
            cfg->mem_mib = x;
    } else if (!strcmp(a, "--tlb")) {
        if (!(rc = cli_parse_u64(cmd, a, v, 1, 65536, &x)))
            cfg->tlb_entries = (unsigned)x;
    } else if (!strcmp(a, "--cache")) {
        rc = parse_cache(cmd, a, v, cfg);
    } else if (!strcmp(a, "--steps")) {
        /* a trace records at most TRACE_MAX_STEPS, and every run is recorded */
        if (!(rc = cli_parse_u64(cmd, a, v, 1, TRACE_MAX_STEPS, &x)))
            cfg->steps = x;
    } else if (!strcmp(a, "--check")) {
        rc = parse_check(cmd, a, v, &cfg->check);
    } else if (!strcmp(a, "--layers")) {
        if (!v || (strcmp(v, "on") && strcmp(v, "off")))
            rc = cli_bad_value(cmd, a, v, "on or off");
        else
            cfg->layers = !strcmp(v, "on");
    } else if (!strcmp(a, "--scenario")) {
        if (!(rc = cli_need_value(cmd, a, v, "a path", &v)))
            snprintf(cfg->scenario_path, sizeof(cfg->scenario_path), "%s", v);
    } else if (!strcmp(a, "--kcore")) {
        if (!(rc = cli_need_value(cmd, a, v, "a path", &k->kcore)))
            snprintf(cfg->kcore_path, sizeof(cfg->kcore_path), "%s", v);
    } else if (!strcmp(a, "--mutant")) {
        if (!(rc = cli_need_value(cmd, a, v, "a name from 'hypsim mutants'", &k->mutant)))
            rc = cli_mutant_kcore(v, cfg->kcore_path, sizeof(cfg->kcore_path));
    } else {
        return false;
    }
    if (!rc && k->kcore && k->mutant) {
        say(cmd);
        fprintf(stderr, "--kcore and --mutant are exclusive\n");
        rc = EXIT_USAGE;
    }
    *rcp = rc;
    return true;
}

void cli_config_default(struct machine_config *cfg)
{
    const char *k = getenv("HYPSIM_KCORE");

    machine_config_default(cfg);
    if (k && *k)
        snprintf(cfg->kcore_path, sizeof(cfg->kcore_path), "%s", k);
}
/* ---- run, replay, shrink ------------------------------------------------ */

/* An argument of replay or shrink that is neither one of their options nor
 * an option's value: an unknown option, or the trace FILE (only one). */
static int trace_file_arg(const char *cmd, const char *a, const char **file)
{
    if (a[0] == '-' && a[1]) {
        fprintf(stderr, "%s: %s: unknown option '%s' (see 'hypsim %s --help')\n", "hypsim", cmd, a, cmd);
        return EXIT_USAGE;
    }
    if (*file) {
        fprintf(stderr, "%s: %s: one trace file at a time ('%s' and '%s')\n", "hypsim", cmd, *file, a);
        return EXIT_USAGE;
    }
    *file = a;
    return 0;
}

/* --cpu 0,2,5 into a bit mask. */
static int parse_cpu_list(const char *opt, const char *v, uint64_t *mask)
{
    const char *p = v;
    *mask = 0;
    if (!v || !*v)
        return cli_bad_value(NULL, opt, v, "CPU numbers 0-63, comma-separated");
    while (*p) {
        char *end;
        unsigned long c;
        if (*p < '0' || *p > '9')
            return cli_bad_value(NULL, opt, v, "CPU numbers 0-63, comma-separated");
        c = strtoul(p, &end, 10);
        if (c > 63 || (*end && *end != ','))
            return cli_bad_value(NULL, opt, v, "CPU numbers 0-63, comma-separated");
        *mask |= 1ull << c;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return cli_bad_value(NULL, opt, v, "CPU numbers 0-63, comma-separated");
    }
    return 0;
}

static int parse_events(const char *opt, const char *v, unsigned *mask)
{
    static const struct { const char *n; unsigned m; } names[] = {
        { "kcore", LOGEV_KCORE }, { "host", LOGEV_HOST }, { "guest", LOGEV_GUEST },
        { "hvc", LOGEV_HVC }, { "fault", LOGEV_FAULT }, { "eret", LOGEV_ERET }, { "hw", LOGEV_HW },
        { "tlb_fill", LOGEV_TLB_FILL }, { "tlb_evict", LOGEV_TLB_EVICT },
        { "cache_evict", LOGEV_CACHE_EVICT }, { "tlbi_complete", LOGEV_TLBI_COMPLETE },
    };
    const char *what = "a comma-separated list of kcore, host, guest, hvc, fault, eret, hw, "
                       "tlb_fill, tlb_evict, cache_evict, tlbi_complete";
    const char *p = v;
    *mask = 0;
    if (!v || !*v)
        return cli_bad_value(NULL, opt, v, what);
    while (*p) {
        size_t n = strcspn(p, ",");
        bool ok = false;
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strlen(names[i].n) == n && !strncmp(names[i].n, p, n)) {
                *mask |= names[i].m;
                ok = true;
            }
        if (!ok)
            return cli_bad_value(NULL, opt, v, what);
        p += n;
        if (*p == ',' && !*++p)
            return cli_bad_value(NULL, opt, v, what);
    }
    return 0;
}

/* replay's options. */


int cli_parse_replay(int argc, char **argv, struct replay_opts *o)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->to = UINT64_MAX;
    o->events = LOGEV_ALL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return -1;
        } else if (!strcmp(a, "--verify")) {
            o->verify = true;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(a, "--kcore")) {
            if ((rc = cli_need_value("replay", a, v, "a path", &o->kcore)))
                return rc;
            i++;
        } else if (!strcmp(a, "--mutant")) {
            if ((rc = cli_need_value("replay", a, v, "a name from 'hypsim mutants'", &o->mutant)))
                return rc;
            i++;
        } else if (!strcmp(a, "--log") || !strncmp(a, "--log=", 6)) {
            /* --log, --log text|json, --log=text|json. A next argument that
             * is neither, names no file and looks like no trace was meant
             * as the value: say so, rather than "one trace file at a time". */
            const char *val = a[5] == '=' ? a + 6 : NULL;
            o->log = true;
            if (!val && v && (!strcmp(v, "text") || !strcmp(v, "json"))) {
                val = v;
                i++;
            } else if (!val && v && v[0] != '-' && access(v, F_OK) != 0 &&
                       (o->file || !strstr(v, ".json"))) {
                return cli_bad_value("replay", "--log", v, "text or json");
            }
            if (val && strcmp(val, "text") && strcmp(val, "json"))
                return cli_bad_value("replay", "--log", val, "text or json");
            o->logjson = val && !strcmp(val, "json");
        } else if (!strcmp(a, "--gdb")) {
            if ((rc = cli_parse_u64("replay", a, v, 0, 65535, &o->gdb_port)))
                return rc;
            o->gdb = true;
            i++;
        } else if (!strcmp(a, "--snapshot-every")) {
            if ((rc = cli_parse_u64("replay", a, v, 1, TRACE_MAX_STEPS, &o->snap_every)))
                return rc;
            i++;
        } else if (!strcmp(a, "--gdb-log")) {
            o->gdb_log = true;
        } else if (!strcmp(a, "--from")) {
            if ((rc = cli_parse_u64("replay", a, v, 0, UINT64_MAX, &o->from)))
                return rc;
            i++;
        } else if (!strcmp(a, "--to")) {
            if ((rc = cli_parse_u64("replay", a, v, 0, UINT64_MAX, &o->to)))
                return rc;
            i++;
        } else if (!strcmp(a, "--cpu")) {
            if ((rc = parse_cpu_list(a, v, &o->cpus)))
                return rc;
            i++;
        } else if (!strcmp(a, "--events")) {
            if ((rc = parse_events(a, v, &o->events)))
                return rc;
            i++;
        } else if (!strcmp(a, "--pa")) {
            if ((rc = cli_parse_u64("replay", a, v, 0, UINT64_MAX, &x)))
                return rc;
            o->pa_set = true;
            o->pa_page = x & ~0xfffull;
            i++;
        } else if ((rc = trace_file_arg("replay", a, &o->file))) {
            return rc;
        }
    }
    if (!o->file) {
        fprintf(stderr, "%s: replay: missing the trace FILE (see 'hypsim replay --help')\n", "hypsim");
        return EXIT_USAGE;
    }
    if (o->gdb && (o->log || o->json)) {
        fprintf(stderr, "%s: replay: --gdb cannot be combined with --log or --json\n", "hypsim");
        return EXIT_USAGE;
    }
    if (o->from > o->to) {
        fprintf(stderr, "%s: replay: --from %" PRIu64 " is after --to %" PRIu64 "\n", "hypsim", o->from, o->to);
        return EXIT_USAGE;
    }
    if (o->kcore && o->mutant) {
        fprintf(stderr, "%s: replay: --kcore and --mutant are exclusive\n", "hypsim");
        return EXIT_USAGE;
    }
    if (!o->log && (o->cpus || o->events != LOGEV_ALL || o->pa_set || o->from || o->to != UINT64_MAX)) {
        fprintf(stderr, "%s: replay: --from, --to, --cpu, --events and --pa select log lines: give --log too\n", "hypsim");
        return EXIT_USAGE;
    }
    return 0;
}



int cli_parse_shrink(int argc, char **argv, struct shrink_opts *o)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->max_time = 600;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            return -1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if ((rc = cli_need_value("shrink", a, v, "a path", &o->out)))
                return rc;
            i++;
        } else if (!strcmp(a, "--kcore")) {
            if ((rc = cli_need_value("shrink", a, v, "a path", &o->kcore)))
                return rc;
            i++;
        } else if (!strcmp(a, "--mutant")) {
            if ((rc = cli_need_value("shrink", a, v, "a name from 'hypsim mutants'", &o->mutant)))
                return rc;
            i++;
        } else if (!strcmp(a, "--max-time")) {
            if ((rc = cli_parse_u64("shrink", a, v, 0, 1u << 30, &o->max_time)))
                return rc;
            i++;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(a, "--with-boot")) {
            o->with_boot = true;
        } else if ((rc = trace_file_arg("shrink", a, &o->file))) {
            return rc;
        }
    }
    if (!o->file || !o->out) {
        fprintf(stderr, "%s: shrink: missing %s (usage: hypsim shrink FILE -o OUT; see --help)\n", "hypsim",
                !o->file ? "the trace FILE" : "-o OUT");
        return EXIT_USAGE;
    }
    if (o->kcore && o->mutant) {
        fprintf(stderr, "%s: shrink: --kcore and --mutant are exclusive\n", "hypsim");
        return EXIT_USAGE;
    }
    return 0;
}


int cli_parse_run(int argc, char **argv, struct run_opts *o)
{
    struct cli_kcore_flags k = { 0 };

    cli_config_default(&o->cfg);
    o->json = o->quiet = false;
    o->record = NULL;
    o->hash_every = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        int rc = 0;
        if (cli_machine_flag(NULL, a, v, &o->cfg, &k, &rc))
            i++;                /* --cpus N, --kcore PATH, ... (cli/flags.c) */
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return -1;
        else if (!strcmp(a, "--json"))
            o->json = true;
        else if (!strcmp(a, "--quiet"))
            o->quiet = true;
        else if (!strcmp(a, "--seed")) {
            if (!(rc = cli_parse_u64(NULL, a, v, 0, UINT64_MAX, &x))) o->cfg.seed = x;
            i++;
        } else if (!strcmp(a, "--sched")) {
            if (v && !strcmp(v, "random"))
                o->cfg.sched = SCHED_RANDOM;
            else if (v && !strcmp(v, "rr"))
                o->cfg.sched = SCHED_RR;
            else if (v && !strncmp(v, "pct", 3) && (v[3] == 0 || v[3] == ':')) {
                o->cfg.sched = SCHED_PCT;
                if (v[3] == ':' && (rc = cli_parse_u64(NULL, "--sched pct:d", v + 4, 1, 16, &x)) == 0)
                    o->cfg.pct_depth = (unsigned)x;
            } else
                return cli_bad_value(NULL, a, v, "random, rr, pct[:d]");
            i++;
        } else if (!strcmp(a, "--record")) {
            if (!(rc = cli_need_value(NULL, a, v, "a path", &o->record)))
                i++;
        } else if (!strcmp(a, "--hash-every")) {
            if (!(rc = cli_parse_u64(NULL, a, v, 1, TRACE_MAX_STEPS, &x))) o->hash_every = x;
            i++;
        } else {
            fprintf(stderr, "%s: unknown option '%s' (see 'hypsim run --help')\n", "hypsim", a);
            return EXIT_USAGE;
        }
        if (rc)
            return rc;
    }
    return 0;
}

