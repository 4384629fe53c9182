/*
 * traces/campaign/pool.h - a pool of forked worker processes that compute
 * items 0, 1, 2, ... of a sequence, each in its own process (a crash costs
 * one item, not the campaign), and hands the results back in index order
 * whatever order they finish in. A worker sends its result, a plain struct
 * of result_size bytes, through a pipe and exits.
 *
 * Results are held in a window of 2*jobs+2 slots past the last one handed
 * back, so a slow item delays starts, never memory. Leaves out: threads
 * (the model would allow several machines per process, but a process per
 * item isolates crashes and leaks), and distribution over machines (shards
 * and an external engine do that: space.h).
 *
 * Why not a library: GLib's GThreadPool (and the like) pools threads, and
 * this needs processes; the fork/pipe/poll loop is the whole of it.
 */
#ifndef HYPSIM_CAMPAIGN_POOL_H
#define HYPSIM_CAMPAIGN_POOL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAMPAIGN_POOL_MAX_JOBS 256

/* What the pool does with items (arg is passed to each). */
struct campaign_pool_ops {
    void *arg;
    /* In the worker process: compute item j into out (result_size bytes,
     * zeroed). */
    void (*work)(void *arg, uint64_t j, void *out);
    /* In the parent: item j's worker ended without a whole result (why: one
     * line, e.g. "killed by signal 11"); fill out with an error result. */
    void (*lost)(void *arg, uint64_t j, void *out, const char *why);
    /* In the parent, in completion order: item j's result arrived, elapsed_s
     * after the pool started; it may adjust out. Returns true when no item
     * after j is needed (the pool then stops at the lowest such j: later
     * workers are killed, their items dropped). NULL: never stop. */
    bool (*arrived)(void *arg, uint64_t j, void *out, double elapsed_s);
    /* In the parent, in index order 0, 1, 2, ...: item j's result. Returns 0,
     * or -1 to end the pool (e.g. out of memory). */
    int (*emit)(void *arg, uint64_t j, const void *out);
    /* In the parent, after every wait for workers (at least every 200 ms
     * while one is asked for: see campaign_pool_limits), elapsed_s after the
     * start. NULL: none. */
    void (*tick)(void *arg, double elapsed_s);
};

struct campaign_pool_limits {
    unsigned jobs;                  /* workers at a time, 1..CAMPAIGN_POOL_MAX_JOBS */
    uint64_t total;                 /* items 0..total-1 (UINT64_MAX: no end) */
    double time_s;                  /* > 0: start no item after this many seconds */
    /* Not NULL: polled before each start, after each wait and before each
     * result is taken (waits last at most 200 ms then). Once it is non-zero
     * the pool ends: workers are killed, their items dropped, and nothing
     * more is emitted - the items emitted are a prefix. */
    const volatile sig_atomic_t *stop;
};

/* How the pool ended. */
struct campaign_pool_end {
    uint64_t started, emitted;      /* items started, handed back by emit */
    bool stopped;                   /* arrived() asked to stop (at item stop_at) */
    uint64_t stop_at;
    bool timed_out;                 /* time_s was up with items left */
    bool interrupted;               /* *stop ended the pool */
    bool failed;                    /* emit returned -1, or the pool itself failed: */
    const char *why;                /* what failed ("cannot start a worker", ...),
                                       NULL when emit did */
    int err;                        /* and its errno (0: none) */
    double elapsed_s;               /* from the start to the end, workers reaped */
};

/* Run items 0..total-1 (or until time is up, or arrived() stops it, or
 * *stop is set, or emit fails) through the pool; ops->emit sees exactly the
 * items 0..emitted-1, in order. Items started but not emitted when the pool
 * ends early are killed (SIGKILL) and reaped. Standard streams are flushed
 * before each fork; in a worker, SIGINT and SIGTERM go back to their
 * default action if the caller had a handler on them (so that a terminal's
 * ^C ends the workers, while the parent reports). Returns 0, or -1 when the
 * pool failed (end->failed). */
int campaign_pool_run(const struct campaign_pool_limits *lim, const struct campaign_pool_ops *ops,
                      size_t result_size, struct campaign_pool_end *end);

#endif
