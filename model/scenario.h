/*
 * model/scenario.h - scripted actor behaviour (scenario files, JSON).
 *
 * A scenario is an ordered list of actions, each for one principal ("host"
 * or "vmN"), optionally pinned to a CPU. The next action is performed by
 * the first CPU the scheduler runs whose principal (and CPU, if pinned)
 * matches; other actors idle meanwhile. When the list is exhausted the
 * actors go on at random ("then": "random") or idle ("then": "idle").
 * Format: docs/SCENARIO.md.
 */
#ifndef HYPSIM_SCENARIO_H
#define HYPSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum scen_op { SCEN_HVC, SCEN_READ, SCEN_WRITE, SCEN_IDLE };

struct scen_action {
    int who;                 /* -1 host, n >= 0 VM n */
    int cpu;                 /* -1 any */
    enum scen_op op;
    uint64_t hc;
    uint64_t arg[4];
    uint64_t ipa, value;
    bool cacheable;
};

struct scenario {
    struct scen_action *act;
    size_t n, next;
    bool then_random;
};

/* Parse a scenario file. Returns 0, or -1 with a one-line message naming
 * the file and the field (e.g. "s.json: actions[3].hc: unknown hypercall
 * 'donat'"). */
int scenario_load(struct scenario *s, const char *path, char *err, size_t errlen);
void scenario_free(struct scenario *s);

#endif
