/*
 * cli/flags.c - option values that several hypsim commands parse alike:
 * numbers, values that must be present, and the flags that describe the
 * machine (hypsim run and hypsim explore). Every error is one line on
 * stderr, "hypsim: [CMD: ]OPT ...", and EXIT_USAGE.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
