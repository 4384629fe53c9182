/*
 * traces/campaign/summary.h - the one summary builder. explore adds each
 * run as it is reported and writes the summary line at the end; merge adds
 * the runs of all its inputs, sorted, and writes the same line with the
 * number of shards. Fields: type "summary", campaign, [shards], result
 * (ok | violation | error), runs, steps, violations, errors,
 * violations_by_invariant {"N": count}, first_violation (the violating run
 * of lowest index reported first: run, seed, invariant, step, detail,
 * trace, time_s, steps_before) or null, then explore's complete, partial
 * (true when an interrupted campaign reported only a prefix of its runs;
 * merge: when an input was partial), elapsed_s, and explore's
 * steps_per_s.
 */
#ifndef HYPSIM_CAMPAIGN_SUMMARY_H
#define HYPSIM_CAMPAIGN_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "traces/campaign/record.h"

#define CAMPAIGN_INV_SLOTS 16       /* invariant + 1, 0..15 (other values count in 0) */

struct campaign_summary {
    uint64_t runs, steps, violations, errors;
    uint64_t by_inv[CAMPAIGN_INV_SLOTS];
    bool have_first;
    uint64_t first_run, first_seed, first_step;
    uint64_t steps_before;          /* steps of the runs added before it, and its own */
    int first_inv;
    double first_time;              /* campaign seconds when it was found */
    char first_detail[256], first_trace[512];
};

/* An empty summary. */
void campaign_summary_init(struct campaign_summary *s);

/* Count run r. The first violation added is the summary's first_violation,
 * found_s seconds into the campaign: add runs in run order. */
void campaign_summary_add(struct campaign_summary *s, const struct campaign_record *r, double found_s);

enum campaign_summary_kind { CAMPAIGN_SUMMARY_EXPLORE, CAMPAIGN_SUMMARY_MERGE };

/* What the summary line says besides the counts. */
struct campaign_summary_meta {
    enum campaign_summary_kind kind;
    cJSON *campaign;                /* the "campaign" object, taken over (NULL: omitted) */
    unsigned shards;                /* merge: the inputs merged */
    bool complete;                  /* explore: every run asked for was reported */
    bool partial;                   /* interrupted: the runs are a prefix */
    double elapsed_s;               /* explore: the campaign; merge: the longest shard */
};

/* The summary line's object for s (m->campaign is owned by it, or freed
 * when out of memory). NULL when out of memory. */
cJSON *campaign_summary_json(const struct campaign_summary *s, const struct campaign_summary_meta *m);

/* "ok", "violation" or "error" for s, as the summary's result says (errors
 * win over violations). */
const char *campaign_summary_result(const struct campaign_summary *s);

#endif
