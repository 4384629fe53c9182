/*
 * traces/campaign/merge.c - merging shard outputs (merge.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "traces/campaign/jsonl.h"
#include "traces/campaign/merge.h"

void campaign_merge_init(struct campaign_merge *mg)
{
    memset(mg, 0, sizeof(*mg));
    mg->first_time = -1;
}

void campaign_merge_free(struct campaign_merge *mg)
{
    campaign_records_free(&mg->runs);
    for (unsigned i = 0; i < mg->ninputs; i++)
        free(mg->names[i]);
    free(mg->names);
    free(mg->campaign);
    campaign_merge_init(mg);
}

/* A {"type":"run"} line into a record. Returns 0, BAD or NOMEM. */
static int read_run(struct campaign_merge *mg, const cJSON *j)
{
    struct campaign_record e;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "violation");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "trace");
    const cJSON *el = cJSON_GetObjectItemCaseSensitive(j, "elapsed_s");
    bool ok = true;

    memset(&e, 0, sizeof(e));
    e.run = campaign_json_get_u64(j, "run", &ok);
    e.seed = campaign_json_get_u64(j, "seed", &ok);
    e.steps = campaign_json_get_u64(j, "steps", &ok);
    e.elapsed_s = cJSON_IsNumber(el) ? el->valuedouble : 0;
    e.source = mg->ninputs - 1;
    if (!cJSON_IsString(res))
        ok = false;
    else if (!strcmp(res->valuestring, "ok"))
        e.status = CAMPAIGN_OK;
    else if (!strcmp(res->valuestring, "violation") && cJSON_IsObject(v)) {
        const cJSON *inv = cJSON_GetObjectItemCaseSensitive(v, "invariant");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "detail");
        bool step_ok = true;
        e.status = CAMPAIGN_VIOLATION;
        e.invariant = cJSON_IsNumber(inv) ? inv->valueint : -1;
        e.step = campaign_json_get_u64(v, "step", &step_ok);
        e.detail = (char *)(cJSON_IsString(d) ? d->valuestring : "");
    } else if (!strcmp(res->valuestring, "error")) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error");
        e.status = CAMPAIGN_ERROR;
        e.detail = (char *)(cJSON_IsString(d) ? d->valuestring : "error");
    } else
        ok = false;
    if (cJSON_IsString(t))
        e.trace = t->valuestring;
    if (!ok)
        return CAMPAIGN_MERGE_BAD;
    return campaign_records_push(&mg->runs, &e) == 0 ? 0 : CAMPAIGN_MERGE_NOMEM;
}

/* A {"type":"summary"} line: check its campaign against the first input's.
 * Returns 0, BAD (err) or NOMEM. */
static int read_summary(struct campaign_merge *mg, const char *name, unsigned lineno, cJSON *j,
                        char *err, size_t errlen)
{
    cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(j, "campaign");
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(j, "first_violation");
    const cJSON *el = cJSON_GetObjectItemCaseSensitive(j, "elapsed_s");
    const cJSON *rq, *sf;

    mg->partial |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "partial"));
    char *canon;
    int rc = 0;

    if (!cJSON_IsObject(c)) {
        snprintf(err, errlen, "%s: line %u: summary without a campaign", name, lineno);
        cJSON_Delete(c);
        return CAMPAIGN_MERGE_BAD;
    }
    rq = cJSON_GetObjectItemCaseSensitive(c, "runs");
    sf = cJSON_GetObjectItemCaseSensitive(c, "stop_on_first");
    if (cJSON_IsNumber(rq))
        mg->runs_req = (uint64_t)rq->valuedouble;
    mg->stop_first |= cJSON_IsTrue(sf);
    /* shards may run on other machines: the KCore is its digest there, not
     * its path */
    cJSON_DeleteItemFromObjectCaseSensitive(c, "shard");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "kcore");
    canon = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    if (!canon)
        return CAMPAIGN_MERGE_NOMEM;
    if (!mg->campaign)
        mg->campaign = canon;
    else {
        if (strcmp(canon, mg->campaign)) {
            snprintf(err, errlen, "%s: campaign differs from %s's (config, KCore, strategy or seed)",
                     name, mg->names[0]);
            rc = CAMPAIGN_MERGE_BAD;
        }
        free(canon);
    }
    if (cJSON_IsObject(fv)) {
        const cJSON *ft = cJSON_GetObjectItemCaseSensitive(fv, "time_s");
        if (cJSON_IsNumber(ft) && (mg->first_time < 0 || ft->valuedouble < mg->first_time))
            mg->first_time = ft->valuedouble;
    }
    if (cJSON_IsNumber(el) && el->valuedouble > mg->max_elapsed)
        mg->max_elapsed = el->valuedouble;
    return rc;
}

int campaign_merge_read(struct campaign_merge *mg, const char *name, FILE *f, char *err,
                        size_t errlen)
{
    char *line = NULL, **nn;
    size_t lcap = 0;
    ssize_t len;
    unsigned lineno = 0;
    bool saw_summary = false;
    int rc = 0;

    nn = realloc(mg->names, (mg->ninputs + 1) * sizeof(*nn));
    if (!nn || !(nn[mg->ninputs] = strdup(name))) {
        if (nn)
            mg->names = nn;
        snprintf(err, errlen, "out of memory");
        return CAMPAIGN_MERGE_NOMEM;
    }
    mg->names = nn;
    mg->ninputs++;
    while (rc == 0 && (len = getline(&line, &lcap, f)) >= 0) {
        cJSON *j;
        const cJSON *type;
        lineno++;
        if (len == 0 || (len == 1 && line[0] == '\n'))
            continue;
        j = cJSON_Parse(line);
        type = j ? cJSON_GetObjectItemCaseSensitive(j, "type") : NULL;
        if (!cJSON_IsString(type)) {
            snprintf(err, errlen, "%s: line %u: not an explore JSON line", name, lineno);
            rc = CAMPAIGN_MERGE_BAD;
        } else if (!strcmp(type->valuestring, "run")) {
            rc = read_run(mg, j);
            if (rc == CAMPAIGN_MERGE_BAD)
                snprintf(err, errlen, "%s: line %u: malformed run record", name, lineno);
        } else if (!strcmp(type->valuestring, "summary")) {
            saw_summary = true;
            rc = read_summary(mg, name, lineno, j, err, errlen);
        } else {
            snprintf(err, errlen, "%s: line %u: unknown record type '%s'", name, lineno,
                     type->valuestring);
            rc = CAMPAIGN_MERGE_BAD;
        }
        if (rc == CAMPAIGN_MERGE_NOMEM)
            snprintf(err, errlen, "out of memory");
        cJSON_Delete(j);
    }
    free(line);
    if (rc == 0 && !saw_summary) {
        snprintf(err, errlen, "%s: no summary line (an unfinished shard?)", name);
        rc = CAMPAIGN_MERGE_BAD;
    }
    return rc;
}

int campaign_merge_finish(struct campaign_merge *mg, char *err, size_t errlen)
{
    const struct campaign_record *r = mg->runs.v;
    size_t nr = mg->runs.n;

    if (!mg->ninputs) {
        snprintf(err, errlen, "no input files");
        return CAMPAIGN_MERGE_BAD;
    }
    campaign_records_sort(&mg->runs);
    r = mg->runs.v;
    for (size_t i = 1; i < nr; i++)
        if (r[i].run == r[i - 1].run) {
            snprintf(err, errlen, "run %" PRIu64 " appears twice (%s and %s)", r[i].run,
                     mg->names[r[i - 1].source], mg->names[r[i].source]);
            return CAMPAIGN_MERGE_BAD;
        }
    if (mg->runs_req && !mg->stop_first) {
        /* A --runs campaign (without --stop-on-first) covers 0..runs-1. */
        bool contiguous = nr == mg->runs_req &&
                          (nr == 0 || (r[0].run == 0 && r[nr - 1].run == mg->runs_req - 1));
        if (!contiguous) {
            snprintf(err, errlen, "the campaign asked for runs 0..%" PRIu64 " but the inputs hold %zu runs",
                     mg->runs_req - 1, nr);
            return CAMPAIGN_MERGE_BAD;
        }
    }
    return 0;
}

void campaign_merge_summary(const struct campaign_merge *mg, struct campaign_summary *s, cJSON **json)
{
    campaign_summary_init(s);
    for (size_t i = 0; i < mg->runs.n; i++)
        campaign_summary_add(s, &mg->runs.v[i], 0);
    /* the earliest any shard found one (shards run side by side) */
    s->first_time = mg->first_time;
    if (json) {
        struct campaign_summary_meta m = {
            .kind = CAMPAIGN_SUMMARY_MERGE,
            .campaign = mg->campaign ? cJSON_Parse(mg->campaign) : NULL,
            .shards = mg->ninputs,
            .partial = mg->partial,
            .elapsed_s = mg->max_elapsed,
        };
        *json = campaign_summary_json(s, &m);
    }
}
