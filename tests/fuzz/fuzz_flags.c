/*
 * tests/fuzz/fuzz_flags.c - libFuzzer target for the argument parsers of
 * hypsim run, replay and shrink (cli/flags.c): the input is a command
 * letter (r, p, s) and NUL-separated arguments. Every argument vector is
 * accepted or refused with EXIT_USAGE, never a crash, a leak or a value
 * out of its documented range. The machine and the mutant list are
 * stubbed (the parsers are the subject, not the model).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "traces/trace.h"

/* ---- stubs for what cli/flags.c links against ---- */
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
    cfg->pct_depth = 3;
    cfg->steps = 1000000;
    cfg->layers = true;
    snprintf(cfg->kcore_path, sizeof(cfg->kcore_path), "build/hyp/kcore.elf");
}

int cli_mutant_kcore(const char *name, char *path, size_t len)
{
    if (!name || (strcmp(name, "no_tlbi_donate") && strcmp(name, "lock_nop")))
        return EXIT_USAGE;
    snprintf(path, len, "build/hyp/kcore-%s.elf", name);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parsers' one-line errors go to /dev/null while they run; libFuzzer's
 * and the sanitizers' reports keep stderr. */
static int quiet_fd = -1, saved_fd = -1;

static void mute(bool on)
{
    fflush(stderr);
    if (quiet_fd < 0) {
        quiet_fd = open("/dev/null", O_WRONLY);
        saved_fd = dup(2);
    }
    if (quiet_fd >= 0 && saved_fd >= 0)
        dup2(on ? quiet_fd : saved_fd, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *argv[33];
    int argc = 0, rc;
    size_t i = 1;

    if (size < 1 || size > 4096)
        return 0;
    buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    while (i < size && argc < 32) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    mute(true);
    switch (data[0]) {
    case 'r': {
        struct run_opts o;
        rc = cli_parse_run(argc, argv, &o);
        mute(false);
        if (rc == 0 && (o.cfg.ncpus < 1 || o.cfg.ncpus > HV_MAX_CPUS || o.cfg.nvms > HV_MAX_VMS ||
                        o.cfg.steps < 1 || o.cfg.steps > TRACE_MAX_STEPS || o.cfg.pct_depth < 1 ||
                        o.cfg.pct_depth > 16 || !o.cfg.cache_sets || (o.cfg.cache_sets & (o.cfg.cache_sets - 1)) ||
                        o.cfg.cache_ways < 1 || o.cfg.cache_ways > 64))
            __builtin_trap();
        break;
    }
    case 'p': {
        struct replay_opts o;
        rc = cli_parse_replay(argc, argv, &o);
        mute(false);
        if (rc == 0 && (!o.file || o.from > o.to || (o.kcore && o.mutant) || (o.pa_page & 0xfff)))
            __builtin_trap();
        break;
    }
    default: {
        struct shrink_opts o;
        rc = cli_parse_shrink(argc, argv, &o);
        mute(false);
        if (rc == 0 && (!o.file || !o.out || (o.kcore && o.mutant) || o.max_time > (1u << 30)))
            __builtin_trap();
        break;
    }
    }
    mute(false);
    if (rc != 0 && rc != -1 && rc != EXIT_USAGE)
        __builtin_trap();
    free(buf);
    return 0;
}
