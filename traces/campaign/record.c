/*
 * traces/campaign/record.c - kept runs (record.h).
 */
#include <stdlib.h>
#include <string.h>

#include "traces/campaign/record.h"

const char *campaign_status_name(enum campaign_status s)
{
    return s == CAMPAIGN_OK ? "ok" : s == CAMPAIGN_VIOLATION ? "violation" : "error";
}

static int dup(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : -1;
}

int campaign_records_push(struct campaign_records *rs, const struct campaign_record *r)
{
    struct campaign_record e = *r;
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 256;
        struct campaign_record *nv = realloc(rs->v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        rs->v = nv;
        rs->cap = nc;
    }
    if (dup(r->detail, &e.detail) != 0 || dup(r->trace, &e.trace) != 0) {
        free(e.detail);
        return -1;
    }
    rs->v[rs->n++] = e;
    return 0;
}

static int by_run(const void *a, const void *b)
{
    const struct campaign_record *x = a, *y = b;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    return x->source < y->source ? -1 : x->source > y->source;
}

void campaign_records_sort(struct campaign_records *rs)
{
    if (rs->n > 1)
        qsort(rs->v, rs->n, sizeof(*rs->v), by_run);
}

void campaign_records_free(struct campaign_records *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].detail);
        free(rs->v[i].trace);
    }
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}
