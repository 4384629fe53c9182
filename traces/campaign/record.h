/*
 * traces/campaign/record.h - what is kept of a run once it is reported:
 * enough for the summary, the JUnit report and merge --list. explore keeps
 * one per run it reports; merge reads them back from the JSON lines.
 */
#ifndef HYPSIM_CAMPAIGN_RECORD_H
#define HYPSIM_CAMPAIGN_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* A run's outcome; the numbers are hypsim's exit codes for the same. */
enum campaign_status {
    CAMPAIGN_OK = 0,
    CAMPAIGN_VIOLATION = 1,
    CAMPAIGN_ERROR = 3,             /* internal error: a worker died, a trace failed */
};

/* "ok", "violation" or "error", as the JSON lines spell it. */
const char *campaign_status_name(enum campaign_status s);

struct campaign_record {
    uint64_t run, seed, steps;
    double elapsed_s;
    enum campaign_status status;
    int invariant;                  /* violation: its invariant */
    uint64_t step;                  /* violation: the violating step */
    char *detail;                   /* violation detail or error message; NULL: none */
    char *trace;                    /* the trace saved; NULL: none */
    unsigned source;                /* merge: index of the input it was read from */
};

/* A growable array of records; zero-initialised is empty. */
struct campaign_records {
    struct campaign_record *v;
    size_t n, cap;
};

/* Append a copy of r (its strings copied). Returns 0, or -1 when out of
 * memory (rs unchanged). */
int campaign_records_push(struct campaign_records *rs, const struct campaign_record *r);

/* Sort by run index (stable for equal runs: keeps input order). */
void campaign_records_sort(struct campaign_records *rs);

/* Free the records and their strings; rs is empty afterwards. */
void campaign_records_free(struct campaign_records *rs);

#endif
