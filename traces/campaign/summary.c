/*
 * traces/campaign/summary.c - the summary builder (summary.h).
 */
#include <stdio.h>
#include <string.h>

#include "traces/campaign/jsonl.h"
#include "traces/campaign/summary.h"

void campaign_summary_init(struct campaign_summary *s)
{
    memset(s, 0, sizeof(*s));
}

void campaign_summary_add(struct campaign_summary *s, const struct campaign_record *r, double found_s)
{
    s->runs++;
    if (r->status == CAMPAIGN_ERROR)
        s->errors++;
    if (r->status == CAMPAIGN_VIOLATION) {
        int inv = r->invariant;
        s->violations++;
        s->by_inv[inv + 1 >= 0 && inv + 1 < CAMPAIGN_INV_SLOTS ? inv + 1 : 0]++;
        if (!s->have_first) {
            s->have_first = true;
            s->first_run = r->run;
            s->first_seed = r->seed;
            s->first_step = r->step;
            s->first_inv = inv;
            s->first_time = found_s;
            s->steps_before = s->steps + r->steps;
            snprintf(s->first_detail, sizeof(s->first_detail), "%s", r->detail ? r->detail : "");
            snprintf(s->first_trace, sizeof(s->first_trace), "%s", r->trace ? r->trace : "");
        }
    }
    s->steps += r->steps;
}

const char *campaign_summary_result(const struct campaign_summary *s)
{
    return s->errors ? "error" : s->violations ? "violation" : "ok";
}

static cJSON *by_inv_json(const uint64_t by_inv[CAMPAIGN_INV_SLOTS])
{
    cJSON *b = cJSON_CreateObject();
    for (int i = 0; i < CAMPAIGN_INV_SLOTS && b; i++)
        if (by_inv[i]) {
            char k[8];
            snprintf(k, sizeof(k), "%d", i - 1);
            campaign_json_add_u64(b, k, by_inv[i]);
        }
    return b;
}

static cJSON *first_json(const struct campaign_summary *s)
{
    cJSON *fv = cJSON_CreateObject();
    if (!fv)
        return NULL;
    campaign_json_add_u64(fv, "run", s->first_run);
    campaign_json_add_u64(fv, "seed", s->first_seed);
    cJSON_AddNumberToObject(fv, "invariant", s->first_inv);
    campaign_json_add_u64(fv, "step", s->first_step);
    cJSON_AddStringToObject(fv, "detail", s->first_detail);
    if (s->first_trace[0])
        cJSON_AddStringToObject(fv, "trace", s->first_trace);
    else
        cJSON_AddNullToObject(fv, "trace");
    cJSON_AddNumberToObject(fv, "time_s", s->first_time);
    campaign_json_add_u64(fv, "steps_before", s->steps_before);
    return fv;
}

cJSON *campaign_summary_json(const struct campaign_summary *s, const struct campaign_summary_meta *m)
{
    cJSON *j = cJSON_CreateObject();
    bool explore = m->kind == CAMPAIGN_SUMMARY_EXPLORE;
    if (!j) {
        cJSON_Delete(m->campaign);
        return NULL;
    }
    cJSON_AddStringToObject(j, "type", "summary");
    if (m->campaign)
        cJSON_AddItemToObject(j, "campaign", m->campaign);
    if (!explore)
        cJSON_AddNumberToObject(j, "shards", m->shards);
    cJSON_AddStringToObject(j, "result", campaign_summary_result(s));
    campaign_json_add_u64(j, "runs", s->runs);
    campaign_json_add_u64(j, "steps", s->steps);
    campaign_json_add_u64(j, "violations", s->violations);
    campaign_json_add_u64(j, "errors", s->errors);
    cJSON_AddItemToObject(j, "violations_by_invariant", by_inv_json(s->by_inv));
    if (s->have_first)
        cJSON_AddItemToObject(j, "first_violation", first_json(s));
    else
        cJSON_AddNullToObject(j, "first_violation");
    if (explore)
        cJSON_AddBoolToObject(j, "complete", m->complete);
    cJSON_AddBoolToObject(j, "partial", m->partial);
    cJSON_AddNumberToObject(j, "elapsed_s", m->elapsed_s);
    if (explore)
        cJSON_AddNumberToObject(j, "steps_per_s", m->elapsed_s > 0 ? s->steps / m->elapsed_s : 0);
    return j;
}
