/*
 * bench/bench_run.c - `hypsim run` throughput, measured side by side in one
 * run (issue: checked steps per second with 4 CPUs, guest instructions per
 * second, the ratio to a bare Unicorn loop single-stepping the same number
 * of instructions over the same number of engines, and the cost of
 * incremental checking relative to no checking). Prints ratios, asserts
 * nothing: targets are read by people, not by timed tests.
 *
 * usage: bench_run [steps] [cpus]     (default 300000 steps, 4 CPUs)
 */
#include <stdio.h>
#include <stdlib.h>
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

static int run(enum check_mode check, uint64_t steps, unsigned cpus, struct result *r)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct machine_config cfg;
    char err[512];
    double t0;

    machine_config_default(&cfg);
    cfg.ncpus = cpus;
    cfg.steps = steps;
    cfg.check = check;
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

int main(int argc, char **argv)
{
    uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 0) : 300000;
    unsigned cpus = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 4;
    struct result inc, off;
    double bare;

    if (run(CHECK_INCREMENTAL, steps, cpus, &inc) || run(CHECK_OFF, steps, cpus, &off))
        return 3;
    /* The same number of instructions the checked run executed, single-
     * stepped round-robin over the same number of engines. */
    bare = bare_unicorn_run(cpus, inc.insns);
    if (bare < 0) {
        fprintf(stderr, "bench_run: Unicorn baseline failed\n");
        return 3;
    }
    printf("hypsim run benchmark: %u CPUs, %llu steps, seed 7\n", cpus, (unsigned long long)steps);
    printf("  %-34s %12s %14s %12s\n", "", "seconds", "steps/s", "instr/s");
    printf("  %-34s %12.3f %14.0f %12.0f\n", "run, --check incremental", inc.secs,
           inc.steps / inc.secs, inc.insns / inc.secs);
    printf("  %-34s %12.3f %14.0f %12.0f\n", "run, --check off", off.secs,
           off.steps / off.secs, off.insns / off.secs);
    printf("  %-34s %12.3f %14s %12.0f\n", "bare Unicorn, same instructions", bare, "-",
           inc.insns / bare);
    printf("  guest instructions in the checked run: %llu of %llu steps; invariant checks %llu%s\n",
           (unsigned long long)inc.insns, (unsigned long long)inc.steps,
           (unsigned long long)inc.checks, inc.nviol ? " (RUN ENDED ON A VIOLATION)" : "");
    printf("  ratio to bare Unicorn (time per guest instruction, bare / checked): %.2f  (target >= 0.5)\n",
           (bare / inc.insns) / (inc.secs / inc.insns));
    printf("  incremental checking cost (checked / unchecked time per step):     %.2fx (target <= 1.5x)\n",
           (inc.secs / inc.steps) / (off.secs / off.steps));
    return 0;
}
