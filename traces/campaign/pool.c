/*
 * traces/campaign/pool.c - the fork/pipe worker pool (pool.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "traces/campaign/pool.h"

struct worker {
    pid_t pid;                      /* 0: free */
    int fd;
    uint64_t idx;
    size_t got;                     /* bytes of the result read so far */
    unsigned char *buf;             /* result_size bytes */
};

struct slot {
    bool done;
    unsigned char *res;             /* result_size bytes */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The worker process: compute item j, send the result, exit. */
static void worker_main(const struct campaign_pool_ops *ops, uint64_t j, size_t size, int fd)
{
    unsigned char *r = calloc(1, size);
    const unsigned char *b = r;
    size_t left = size;

    if (!r)
        _exit(3);
    ops->work(ops->arg, j, r);
    while (left) {
        ssize_t k = write(fd, b, left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            _exit(3);
        b += k;
        left -= (size_t)k;
    }
    _exit(0);
}

static int start(const struct campaign_pool_ops *ops, struct worker *w, uint64_t j, size_t size)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(NULL);
    w->pid = fork();
    if (w->pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        w->pid = 0;
        errno = e;
        return -1;
    }
    if (w->pid == 0) {
        static const int sigs[] = { SIGINT, SIGTERM };
        for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
            struct sigaction sa;
            if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
                sa.sa_handler != SIG_DFL)
                signal(sigs[i], SIG_DFL);
        }
        close(p[0]);
        worker_main(ops, j, size, p[1]);
    }
    close(p[1]);
    w->fd = p[0];
    w->idx = j;
    w->got = 0;
    return 0;
}

/* Reap worker w. Returns whether it delivered a whole result (in w->buf);
 * otherwise why says how it ended. */
static bool reap(struct worker *w, size_t size, char *why, size_t whylen)
{
    int st = 0;
    close(w->fd);
    w->fd = -1;
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
        ;
    w->pid = 0;
    if (w->got == size && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return true;
    if (WIFSIGNALED(st))
        snprintf(why, whylen, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(why, whylen, "died (exit %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return false;
}

/* Whether *stop asks the pool to end (and end->interrupted says so). */
static bool stopped(const struct campaign_pool_limits *lim, struct campaign_pool_end *end)
{
    if (lim->stop && *lim->stop)
        end->interrupted = true;
    return end->interrupted;
}

static void kill_reap(struct worker *w, size_t size)
{
    char why[64];
    kill(w->pid, SIGKILL);
    reap(w, size, why, sizeof(why));
}

int campaign_pool_run(const struct campaign_pool_limits *lim, const struct campaign_pool_ops *ops,
                      size_t size, struct campaign_pool_end *end)
{
    unsigned jobs = lim->jobs < 1 ? 1 : lim->jobs > CAMPAIGN_POOL_MAX_JOBS ? CAMPAIGN_POOL_MAX_JOBS : lim->jobs;
    size_t cap = 2u * jobs + 2;
    struct worker *w = calloc(jobs, sizeof(*w));
    struct slot *done = calloc(cap, sizeof(*done));
    unsigned char *mem = calloc(jobs + cap, size);
    uint64_t next = 0, emitted = 0, stop_at = UINT64_MAX;
    unsigned active = 0;
    double t0 = now_s();

    memset(end, 0, sizeof(*end));
    if (!w || !done || !mem) {
        free(w);
        free(done);
        free(mem);
        end->failed = true;
        end->why = "out of memory";
        return -1;
    }
    for (unsigned i = 0; i < jobs; i++) {
        w[i].fd = -1;
        w[i].buf = mem + (size_t)i * size;
    }
    for (size_t i = 0; i < cap; i++)
        done[i].res = mem + (jobs + i) * size;
    for (;;) {
        /* Start items while there are free workers and items left. Results
         * are held in a window of cap slots past `emitted`. */
        while (active < jobs && next < lim->total && next < stop_at && next < emitted + cap) {
            unsigned k = 0;
            if (stopped(lim, end))
                break;
            if (lim->time_s > 0 && now_s() - t0 >= lim->time_s) {
                end->timed_out = true;
                break;
            }
            while (w[k].pid)
                k++;
            if (start(ops, &w[k], next, size) != 0) {
                end->failed = true;
                end->why = "cannot start a worker";
                end->err = errno;
                break;
            }
            done[next % cap].done = false;
            next++;
            active++;
        }
        if (!active || stopped(lim, end))
            break;
        /* Wait for output from any worker. */
        {
            struct pollfd pf[CAMPAIGN_POOL_MAX_JOBS];
            unsigned map[CAMPAIGN_POOL_MAX_JOBS], np = 0;
            int pr;
            for (unsigned k = 0; k < jobs; k++)
                if (w[k].pid) {
                    pf[np].fd = w[k].fd;
                    pf[np].events = POLLIN;
                    pf[np].revents = 0;
                    map[np++] = k;
                }
            pr = poll(pf, np, lim->time_s > 0 || lim->stop || ops->tick ? 200 : -1);
            if (ops->tick)
                ops->tick(ops->arg, now_s() - t0);
            if (stopped(lim, end))
                break;
            if (pr < 0 && errno != EINTR) {
                end->failed = true;
                end->why = "waiting for workers";
                end->err = errno;
                break;
            }
            for (unsigned p = 0; p < np && pr > 0; p++) {
                struct worker *x = &w[map[p]];
                struct slot *d;
                char why[64];
                ssize_t k;
                if (!pf[p].revents)
                    continue;
                if (stopped(lim, end))
                    break;
                k = read(x->fd, x->buf + x->got, size - x->got);
                if (k > 0) {
                    x->got += (size_t)k;
                    if (x->got < size)
                        continue;
                } else if (k < 0 && errno == EINTR) {
                    continue;
                }
                /* complete, EOF or error: reap */
                d = &done[x->idx % cap];
                if (reap(x, size, why, sizeof(why)))
                    memcpy(d->res, x->buf, size);
                else {
                    memset(d->res, 0, size);
                    ops->lost(ops->arg, x->idx, d->res, why);
                }
                d->done = true;
                if (ops->arrived && ops->arrived(ops->arg, x->idx, d->res, now_s() - t0) &&
                    x->idx < stop_at)
                    stop_at = x->idx;
                active--;
            }
        }
        /* Items after the stopping one are not needed. */
        if (stop_at != UINT64_MAX)
            for (unsigned k = 0; k < jobs; k++)
                if (w[k].pid && w[k].idx > stop_at) {
                    kill_reap(&w[k], size);
                    active--;
                }
        /* Hand back, in order, everything that is complete. */
        while (emitted < next && emitted <= stop_at && done[emitted % cap].done && !stopped(lim, end)) {
            struct slot *d = &done[emitted % cap];
            if (ops->emit(ops->arg, emitted, d->res) != 0)
                end->failed = true;
            d->done = false;
            emitted++;
        }
        if (end->failed)
            break;
    }
    /* Leftover workers (the pool failed or was stopped): stop them. */
    for (unsigned k = 0; k < jobs; k++)
        if (w[k].pid)
            kill_reap(&w[k], size);
    end->started = next;
    end->emitted = emitted;
    end->stopped = stop_at != UINT64_MAX;
    end->stop_at = stop_at;
    end->elapsed_s = now_s() - t0;
    free(w);
    free(done);
    free(mem);
    return end->failed ? -1 : 0;
}
