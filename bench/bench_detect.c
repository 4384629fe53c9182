/*
 * bench/bench_detect.c - time to detect each seeded-bug KCore mutant, per
 * exploration strategy: for every mutant x {random, pct, exhaustive}, K
 * campaigns of `hypsim explore --mutant M --sched S --stop-on-first
 * --time T` (base seeds 1, 1000001, 2000001, ...: disjoint runs), and the
 * median of their times to the first violation (a campaign that finds
 * nothing counts as > T). Prints a Markdown table (README "Finding bugs").
 *
 * usage: bench_detect [--time T] [--campaigns K] [--jobs J] [--steps N]
 *                     [--hypsim PATH] [MUTANT...]
 * Leaves out: the correct KCore (run `hypsim explore --time 60` for that).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifndef HYPSIM_BIN_DEFAULT
#define HYPSIM_BIN_DEFAULT "./hypsim"
#endif

#define MAX_MUTANTS 64
#define MAX_CAMPAIGNS 15

static const char *const strategies[] = { "random", "pct", "exhaustive" };
#define NSTRAT 3

struct cell {
    double t[MAX_CAMPAIGNS];        /* time to first violation, < 0: none */
    int inv[MAX_CAMPAIGNS];
    unsigned found;
};

/* Run one campaign; returns the time to the first violation or -1. */
static double campaign(const char *hypsim, const char *mutant, const char *sched, unsigned c,
                       double tmax, unsigned jobs, const char *steps, int *inv)
{
    char out[] = "/tmp/bench_detect_XXXXXX";
    char tbuf[32], jbuf[16], seed[32];
    int fd = mkstemp(out);
    double res = -1;
    pid_t pid;
    int st;

    *inv = -1;
    if (fd < 0)
        return -1;
    close(fd);
    snprintf(tbuf, sizeof(tbuf), "%g", tmax);
    snprintf(jbuf, sizeof(jbuf), "%u", jobs);
    snprintf(seed, sizeof(seed), "%u", 1 + c * 1000000u);
    pid = fork();
    if (pid == 0) {
        const char *argv[24];
        int n = 0;
        argv[n++] = hypsim;
        argv[n++] = "explore";
        argv[n++] = "--mutant";
        argv[n++] = mutant;
        argv[n++] = "--sched";
        argv[n++] = sched;
        argv[n++] = "--stop-on-first";
        argv[n++] = "--time";
        argv[n++] = tbuf;
        argv[n++] = "--jobs";
        argv[n++] = jbuf;
        argv[n++] = "--seed";
        argv[n++] = seed;
        argv[n++] = "--no-traces";
        argv[n++] = "--quiet";
        argv[n++] = "-o";
        argv[n++] = out;
        if (steps) {
            argv[n++] = "--steps";
            argv[n++] = steps;
        }
        argv[n] = NULL;
        execv(hypsim, (char *const *)argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) > 1) {
        fprintf(stderr, "bench_detect: %s explore --mutant %s --sched %s failed\n", hypsim, mutant, sched);
        unlink(out);
        return -1;
    }
    {
        FILE *f = fopen(out, "r");
        char *line = NULL, *last = NULL;
        size_t cap = 0;
        while (f && getline(&line, &cap, f) >= 0) {
            free(last);
            last = strdup(line);
        }
        if (f)
            fclose(f);
        free(line);
        cJSON *j = last ? cJSON_Parse(last) : NULL;
        const cJSON *fv = j ? cJSON_GetObjectItemCaseSensitive(j, "first_violation") : NULL;
        if (cJSON_IsObject(fv)) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(fv, "time_s");
            const cJSON *i = cJSON_GetObjectItemCaseSensitive(fv, "invariant");
            if (cJSON_IsNumber(t))
                res = t->valuedouble;
            if (cJSON_IsNumber(i))
                *inv = i->valueint;
        }
        cJSON_Delete(j);
        free(last);
    }
    unlink(out);
    return res;
}

static int cmp_time(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (x < 0) x = 1e300;
    if (y < 0) y = 1e300;
    return x < y ? -1 : x > y;
}

/* The mutants hypsim lists (hypsim mutants: "name  description" lines). */
static unsigned list_mutants(const char *hypsim, char names[][64], unsigned max)
{
    char cmd[600];
    unsigned n = 0;
    FILE *p;
    snprintf(cmd, sizeof(cmd), "'%s' mutants", hypsim);
    p = popen(cmd, "r");
    if (!p)
        return 0;
    while (n < max && fscanf(p, "%63s%*[^\n]", names[n]) == 1)
        n++;
    pclose(p);
    return n;
}

int main(int argc, char **argv)
{
    const char *hypsim = HYPSIM_BIN_DEFAULT, *steps = NULL;
    double tmax = 15;
    unsigned k = 3, jobs = 2, nm = 0;
    static char names[MAX_MUTANTS][64];
    static struct cell cells[MAX_MUTANTS][NSTRAT];

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--time") && v) {
            tmax = atof(v);
            i++;
        } else if (!strcmp(argv[i], "--campaigns") && v) {
            k = (unsigned)atoi(v);
            i++;
        } else if (!strcmp(argv[i], "--jobs") && v) {
            jobs = (unsigned)atoi(v);
            i++;
        } else if (!strcmp(argv[i], "--steps") && v) {
            steps = v;
            i++;
        } else if (!strcmp(argv[i], "--hypsim") && v) {
            hypsim = v;
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_detect [--time T] [--campaigns K] [--jobs J] [--steps N] "
                            "[--hypsim PATH] [MUTANT...]\n");
            return 2;
        } else if (nm < MAX_MUTANTS) {
            snprintf(names[nm++], sizeof(names[0]), "%s", argv[i]);
        }
    }
    if (k < 1 || k > MAX_CAMPAIGNS || !(tmax > 0) || jobs < 1) {
        fprintf(stderr, "bench_detect: --campaigns 1..%d, --time > 0, --jobs >= 1\n", MAX_CAMPAIGNS);
        return 2;
    }
    if (!nm)
        nm = list_mutants(hypsim, names, MAX_MUTANTS);
    if (!nm) {
        fprintf(stderr, "bench_detect: no mutants (is %s built?)\n", hypsim);
        return 2;
    }
    printf("Time to detect (hypsim explore --mutant M --sched S --stop-on-first --time %g --jobs %u):\n"
           "median of %u campaigns with disjoint seeds, wall-clock seconds to the first violation\n"
           "(found/campaigns; > %g s: not found within the budget); [invariant of the first one].\n\n",
           tmax, jobs, k, tmax);
    printf("| mutant | random | pct | exhaustive |\n|---|---|---|---|\n");
    fflush(stdout);
    for (unsigned m = 0; m < nm; m++) {
        printf("| %s |", names[m]);
        for (unsigned s = 0; s < NSTRAT; s++) {
            struct cell *c = &cells[m][s];
            double sorted[MAX_CAMPAIGNS];
            int inv = -1;
            for (unsigned i = 0; i < k; i++) {
                c->t[i] = campaign(hypsim, names[m], strategies[s], i, tmax, jobs, steps, &c->inv[i]);
                if (c->t[i] >= 0) {
                    c->found++;
                    if (inv < 0)
                        inv = c->inv[i];
                }
                sorted[i] = c->t[i];
            }
            qsort(sorted, k, sizeof(double), cmp_time);
            double med = sorted[k / 2];
            if (med < 0)
                printf(" > %g s (%u/%u) |", tmax, c->found, k);
            else
                printf(" %.2f s (%u/%u) [%d] |", med, c->found, k, inv);
            fflush(stdout);
        }
        printf("\n");
    }
    return 0;
}
