/*
 * traces/campaign/merge.h - combining the JSON Lines outputs of campaign
 * shards (`hypsim merge`). Each input holds run lines and one summary line;
 * the inputs must come from one campaign: their "campaign" objects must be
 * equal once "shard" and "kcore" (the path, which differs between machines;
 * the SHA-256 stays) are dropped. Refused: a line that is not an explore
 * JSON line, a malformed run record, an unknown record type, an input
 * without a summary (an unfinished shard), a different campaign, a run seen
 * twice, and, for a --runs campaign without --stop-on-first, runs missing
 * from 0..runs-1.
 */
#ifndef HYPSIM_CAMPAIGN_MERGE_H
#define HYPSIM_CAMPAIGN_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "traces/campaign/record.h"
#include "traces/campaign/summary.h"

struct campaign_merge {
    struct campaign_records runs;   /* sorted by run after campaign_merge_finish */
    char **names;                   /* the inputs, in order */
    unsigned ninputs;
    char *campaign;                 /* the first input's canonical campaign (JSON) */
    double first_time;              /* earliest time_s of a shard's first violation, -1: none */
    double max_elapsed;             /* the longest shard */
    uint64_t runs_req;              /* the campaign's --runs (0: --time only) */
    bool stop_first;                /* a shard ran with --stop-on-first */
    bool partial;                   /* a shard's summary says partial (interrupted) */
};

/* Return codes of the reading functions. */
#define CAMPAIGN_MERGE_BAD    (-1)  /* bad input: err says which input and line */
#define CAMPAIGN_MERGE_NOMEM  (-2)  /* out of memory */

/* An empty merge. */
void campaign_merge_init(struct campaign_merge *mg);

/* Read one input, named name in messages, from f (read to its end or the
 * first error, not closed). Returns 0, CAMPAIGN_MERGE_BAD or
 * CAMPAIGN_MERGE_NOMEM, with a one-line message in err. */
int campaign_merge_read(struct campaign_merge *mg, const char *name, FILE *f, char *err,
                        size_t errlen);

/* After the last input: sort the runs and refuse a run seen twice, runs
 * missing from a --runs campaign, or no input at all. Returns 0 or
 * CAMPAIGN_MERGE_BAD (err). */
int campaign_merge_finish(struct campaign_merge *mg, char *err, size_t errlen);

/* The merged summary of mg (after campaign_merge_finish) into *s, and, when
 * json is not NULL, the summary line's object (summary.h; NULL when out of
 * memory). */
void campaign_merge_summary(const struct campaign_merge *mg, struct campaign_summary *s, cJSON **json);

/* Free everything mg holds. */
void campaign_merge_free(struct campaign_merge *mg);

#endif
