/*
 * bench/bench_run.c - `hypsim run` throughput, measured side by side in one
 * run (issue: checked steps per second with 4 CPUs, guest instructions per
 * second, the ratio to a bare Unicorn loop single-stepping the same number
 * of instructions over the same number of engines, and the cost of
 * incremental checking relative to no checking). Prints ratios, asserts
 * nothing: targets are read by people, not by timed tests.
 *
 * usage: bench_run [steps] [cpus]     (default 300000 steps, 4 CPUs)
 * Each configuration runs 5 times, interleaved; medians are reported.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/bare.h"
#include "model/machine.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct result { double secs; uint64_t steps, insns, checks; unsigned nviol; };

static int run(enum check_mode check, bool layers, uint64_t steps, unsigned cpus, struct result *r)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct machine_config cfg;
    char err[512];
    double t0;

    machine_config_default(&cfg);
    if (getenv("HYPSIM_KCORE") && *getenv("HYPSIM_KCORE"))   /* the model reads no environment */
        snprintf(cfg.kcore_path, sizeof(cfg.kcore_path), "%s", getenv("HYPSIM_KCORE"));
    cfg.ncpus = cpus;
    cfg.steps = steps;
    cfg.check = check;
    cfg.layers = layers;
    cfg.seed = 7;
    if (!m || machine_init(m, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_run: %s\n", m ? err : "out of memory");
        free(m);
        return -1;
    }
    t0 = now();
    for (uint64_t i = 0; i < steps && !machine_step(m); i++)
        ;
    r->secs = now() - t0;
    r->steps = m->st.steps;
    r->insns = m->st.guest_instructions;
    r->checks = m->st.invariant_checks;
    r->nviol = m->nviol;
    machine_free(m);
    free(m);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define REPS 5

/* A positive decimal count, or 0 if s is not one. */
static uint64_t count_arg(const char *s, uint64_t max)
{
    char *end;
    unsigned long long v;

    if (!s[0] || s[0] == '-')
        return 0;
    v = strtoull(s, &end, 10);
    return *end || v > max ? 0 : v;
}

int main(int argc, char **argv)
{
    uint64_t steps = 300000, cpus = 4;
    struct result inc, lay, off;
    double t_inc[REPS], t_lay[REPS], t_off[REPS], t_bare[REPS], inc_s, lay_s, off_s, bare;

    if (argc > 3 || (argc > 1 && !(steps = count_arg(argv[1], 1ull << 40))) ||
        (argc > 2 && !(cpus = count_arg(argv[2], HV_MAX_CPUS)))) {
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fprintf(help ? stdout : stderr,
                "usage: bench_run [STEPS [CPUS]]  (default 300000 steps, 4 CPUs, at most %u)\n",
                HV_MAX_CPUS);
        return help ? 0 : 2;
    }
    /* The configurations are interleaved REPS times and each is reported
     * by its median, so load from other processes on this shared machine
     * hits all alike. Runs are deterministic: every repetition executes
     * exactly the same steps and instructions. */
    for (int k = 0; k < REPS; k++) {
        if (run(CHECK_INCREMENTAL, false, steps, cpus, &inc) ||
            run(CHECK_INCREMENTAL, true, steps, cpus, &lay) ||
            run(CHECK_OFF, false, steps, cpus, &off))
            return 3;
        /* The same number of instructions the checked run executed, single-
         * stepped round-robin over the same number of engines. */
        t_bare[k] = bare_unicorn_run(cpus, inc.insns);
        if (t_bare[k] < 0) {
            fprintf(stderr, "bench_run: Unicorn baseline failed\n");
            return 3;
        }
        t_inc[k] = inc.secs;
        t_lay[k] = lay.secs;
        t_off[k] = off.secs;
    }
    qsort(t_inc, REPS, sizeof(double), cmp_double);
    qsort(t_lay, REPS, sizeof(double), cmp_double);
    qsort(t_off, REPS, sizeof(double), cmp_double);
    qsort(t_bare, REPS, sizeof(double), cmp_double);
    inc_s = t_inc[REPS / 2];
    lay_s = t_lay[REPS / 2];
    off_s = t_off[REPS / 2];
    bare = t_bare[REPS / 2];
    printf("hypsim run benchmark: %u CPUs, %llu steps, seed 7, median of %d interleaved repetitions\n",
           (unsigned)cpus, (unsigned long long)steps, REPS);
    printf("  %-38s %10s %14s %12s\n", "", "seconds", "steps/s", "instr/s");
    printf("  %-38s %10.3f %14.0f %12.0f\n", "--check incremental --layers off", inc_s,
           inc.steps / inc_s, inc.insns / inc_s);
    printf("  %-38s %10.3f %14.0f %12.0f\n", "--check incremental (layers on)", lay_s,
           lay.steps / lay_s, lay.insns / lay_s);
    printf("  %-38s %10.3f %14.0f %12.0f\n", "--check off --layers off", off_s,
           off.steps / off_s, off.insns / off_s);
    printf("  %-38s %10.3f %14s %12.0f\n", "bare Unicorn, same instructions", bare, "-",
           inc.insns / bare);
    printf("  guest instructions: %llu of %llu steps; invariant checks %llu%s\n",
           (unsigned long long)inc.insns, (unsigned long long)inc.steps,
           (unsigned long long)inc.checks, inc.nviol || lay.nviol ? " (A RUN ENDED ON A VIOLATION)" : "");
    printf("  ratio to bare Unicorn (bare / checked time, layers off): %.2f  (target >= 0.5)\n",
           bare / inc_s);
    printf("  ratio to bare Unicorn (bare / checked time, layers on):  %.2f\n", bare / lay_s);
    printf("  --check incremental / --check off (time per step):       %.2fx (target <= 1.5x)\n",
           (inc_s / inc.steps) / (off_s / off.steps));
    printf("  incremental + layers / nothing checked (time per step):  %.2fx\n",
           (lay_s / lay.steps) / (off_s / off.steps));
    return 0;
}
