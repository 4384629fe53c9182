/*
 * traces/campaign/campaign.h - the campaign engine: many runs of one machine
 * configuration under a scheduling strategy, in parallel worker processes,
 * every violation re-recorded as a trace (and shrunk), results written as
 * JSON Lines in run order with one summary line at the end.
 *
 * The pieces, one concept per file:
 *   space.c       the run space: run g's seed and schedule, shards;
 *   (the bounded-exhaustive strategy is model/sched/sched.c's, asked per choice kind);
 *   run.c         one run in a worker: run it, re-record and shrink a
 *                 violating run's trace;
 *   record.c      what is kept of a run for the summary and reports;
 *   pool.c        the fork/pipe worker pool, results in index order;
 *   jsonl.c       the per-run JSON line and the campaign's config object;
 *   summary.c     the one summary builder (explore and merge);
 *   junit.c       the JUnit XML writer;
 *   merge.c       reading and combining the outputs of shards;
 *   campaign.c    the engine that ties them together (campaign_explore).
 *
 * Nothing here parses argv or prints for humans: errors come back as
 * messages in caller-supplied buffers, progress through callbacks (cli/
 * prints both). Machine-readable output (JSON Lines, JUnit) is written to
 * streams the caller opened.
 */
#ifndef HYPSIM_CAMPAIGN_H
#define HYPSIM_CAMPAIGN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/machine.h"
#include "traces/sha256.h"
#include "traces/campaign/pool.h"
#include "traces/campaign/record.h"
#include "traces/campaign/space.h"
#include "traces/campaign/summary.h"

/* A campaign's configuration: everything that determines its runs, plus
 * where their traces go. */
struct campaign {
    struct machine_config cfg;      /* cfg.seed is the base seed */
    const char *mutant;             /* the mutant's name, NULL: cfg.kcore_path as is */
    char kcore_sha256[SHA256_HEX];  /* set by campaign_prepare */
    uint64_t runs;                  /* 0: until time_s is up */
    double time_s;                  /* 0: no time limit */
    struct campaign_space space;    /* strategy and its bounds */
    unsigned jobs;                  /* worker processes, 1..CAMPAIGN_MAX_JOBS */
    bool stop_on_first;
    bool shrink;                    /* shrink every saved trace */
    double shrink_time;             /* seconds per shrink */
    const char *trace_dir;          /* NULL: traces are not saved */
};

#define CAMPAIGN_MAX_JOBS CAMPAIGN_POOL_MAX_JOBS

/* Fill c with the defaults of `hypsim explore`: machine_config_default, one
 * job, random strategy, exhaustive bounds 64/1, shard 1/1, 60 s shrinks,
 * traces in explore-traces/. runs stays 0 (the caller picks). */
void campaign_defaults(struct campaign *c);

/* Check c before any run: the machine config initialises (ELF, scenario),
 * the KCore's SHA-256 is computed (c->kcore_sha256) and the exhaustive
 * tree size set (c->space). Returns 0, or -1 with a one-line message in err
 * (bad input: the caller reports it as usage). */
int campaign_prepare(struct campaign *c, char *err, size_t errlen);

/* The name traces and reports use for c's KCore: the mutant, or "kcore". */
const char *campaign_label(const struct campaign *c);

/* One run's outcome, as a worker sends it to the parent (a plain struct:
 * it crosses a pipe). */
struct campaign_result {
    uint64_t run, seed, schedule;
    uint64_t steps;
    double elapsed_s;               /* the run itself */
    double post_s;                  /* then recording and shrinking its trace */
    double found_s;                 /* set by the engine: campaign time at which
                                       the run found its result */
    enum campaign_status status;
    unsigned departures;            /* exhaustive: departures taken */
    struct violation v;             /* first violation when status == CAMPAIGN_VIOLATION */
    char trace[512], shrunk[512];   /* "" = none */
    char err[640];                  /* internal error or trace problem */
};

/* What the caller hears while a campaign runs (every member may be NULL).
 * run: each run's result, in run order, with the summary so far (which
 * includes it) and the seconds since the start. tick: about every 200 ms
 * while the engine waits for workers, with the summary so far. */
struct campaign_sink {
    void *arg;
    void (*run)(void *arg, const struct campaign_result *r, const struct campaign_summary *s,
                double elapsed_s);
    void (*tick)(void *arg, const struct campaign_summary *s, double elapsed_s);
};

/* How a campaign ended. records holds one record per reported run, in run
 * order (for the JUnit report). */
struct campaign_outcome {
    struct campaign_summary summary;
    struct campaign_records records;
    double elapsed_s;
    bool complete;                  /* every run asked for was reported, or
                                       --stop-on-first stopped at a violation */
    bool timed_out;                 /* time_s ran out with runs left */
    bool interrupted;               /* *stop ended it: the runs reported are a prefix */
    bool failed;                    /* out of memory or no worker could start: err */
    char err[256];
};

/* Run campaign c (after campaign_prepare): each run's JSON line (jsonl.c)
 * and finally the summary line to out, in run order, flushed line by line.
 * stop, when not NULL, is polled at least every 200 ms: once it is
 * non-zero (a signal handler sets it), the runs in flight are killed and
 * dropped and the summary, marked "partial", covers the prefix of runs
 * reported (o->interrupted). The caller owns signal handlers; workers get
 * SIGINT and SIGTERM back at their default action (pool.h). Fills *o (free
 * with campaign_outcome_free). Returns 0, or -1 when the engine itself
 * failed (o->failed, o->err; the summary is still written). */
int campaign_explore(const struct campaign *c, FILE *out, const volatile sig_atomic_t *stop,
                     const struct campaign_sink *sink, struct campaign_outcome *o);

/* Free what campaign_explore allocated in o. */
void campaign_outcome_free(struct campaign_outcome *o);

#endif
