/*
 * model/scenario.h - scripted actor behaviour (scenario files, JSON).
 *
 * A scenario is an ordered list of actions, each for one principal ("host"
 * or "vmN"), optionally pinned to a CPU. The next action is performed by
 * the first CPU the scheduler runs whose principal (and CPU, if pinned)
 * matches; other actors idle meanwhile. When the list is exhausted the
 * actors go on at random ("then": "random") or idle ("then": "idle").
 * Format: docs/SCENARIO.md.
 *
 * The reader is as strict as the trace reader (traces/trace.c): a regular
 * file of at most SCENARIO_MAX_BYTES, JSON text without control
 * characters, no unknown, duplicate, mistyped or out-of-range field (a CPU
 * index is checked against the machine's CPU count), no field that the
 * action's "do" does not use. Every error is one line
 * "FILE:LINE: FIELD: what" (FIELD a path such as actions[3].cacheable).
 */
#ifndef HYPSIM_SCENARIO_H
#define HYPSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCENARIO_MAX_BYTES   (16u << 20)
#define SCENARIO_MAX_ACTIONS 1000000u

enum scen_op { SCEN_HVC, SCEN_READ, SCEN_WRITE, SCEN_IDLE };

struct scen_action {
    int who;                 /* -1 host, n >= 0 VM n */
    int cpu;                 /* -1 any */
    enum scen_op op;
    uint64_t hc;
    uint64_t arg[4];
    uint64_t ipa, value;
    bool cacheable;
    unsigned line;           /* line of the action in the file (1-based) */
};

struct scenario {
    struct scen_action *act;
    size_t n, next;
    bool then_random;
};

/* Parse a scenario held in memory; name is the file name used in messages.
 * ncpus is the machine's CPU count ("cpu" must be below it; 0: not
 * checked). Returns 0, or -1 with one line "NAME:LINE: FIELD: what" in err
 * (e.g. "s.json:7: actions[3].hc: unknown hypercall 'donat' (did you mean
 * 'donate'?)"). Never aborts on input. */
int scenario_parse(struct scenario *s, const char *name, const char *buf, size_t len,
                   unsigned ncpus, char *err, size_t errlen);
/* Read path (a regular file, at most SCENARIO_MAX_BYTES) and parse it. */
int scenario_load(struct scenario *s, const char *path, unsigned ncpus, char *err, size_t errlen);
void scenario_free(struct scenario *s);

/* One action in words, for reports: "vm0 on CPU 1: hvc grant(3)". */
void scenario_describe(const struct scen_action *a, char *buf, size_t len);

#endif
