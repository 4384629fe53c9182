/*
 * traces/campaign/jsonl.c - per-run JSON lines and the campaign object
 * (jsonl.h).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "traces/campaign/jsonl.h"
#include "traces/trace.h"

void campaign_json_add_u64(cJSON *o, const char *k, uint64_t v)
{
    if (v < (1ull << 53))
        cJSON_AddNumberToObject(o, k, (double)v);
    else {
        char b[24];
        snprintf(b, sizeof(b), "%" PRIu64, v);
        cJSON_AddStringToObject(o, k, b);
    }
}

uint64_t campaign_json_get_u64(const cJSON *o, const char *k, bool *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v) && v->valuedouble >= 0)
        return (uint64_t)v->valuedouble;
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 10);
    *ok = false;
    return 0;
}

cJSON *campaign_config_json(const struct campaign *c)
{
    cJSON *j = cJSON_CreateObject();
    char shard[32];
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "kcore", c->cfg.kcore_path);
    cJSON_AddStringToObject(j, "kcore_sha256", c->kcore_sha256);
    if (c->mutant)
        cJSON_AddStringToObject(j, "mutant", c->mutant);
    else
        cJSON_AddNullToObject(j, "mutant");
    cJSON_AddStringToObject(j, "sched", campaign_strategy_name(c->space.strategy));
    if (c->space.strategy == CAMPAIGN_PCT)
        cJSON_AddNumberToObject(j, "pct_depth", c->cfg.pct_depth);
    if (c->space.strategy == CAMPAIGN_EXHAUSTIVE) {
        cJSON_AddNumberToObject(j, "depth", c->space.depth);
        cJSON_AddNumberToObject(j, "preemptions", c->space.preempt);
        campaign_json_add_u64(j, "schedules_per_seed", c->space.schedules);
    }
    campaign_json_add_u64(j, "base_seed", c->cfg.seed);
    campaign_json_add_u64(j, "steps_per_run", c->cfg.steps);
    cJSON_AddNumberToObject(j, "cpus", c->cfg.ncpus);
    cJSON_AddNumberToObject(j, "vms", c->cfg.nvms);
    campaign_json_add_u64(j, "mem_mib", c->cfg.mem_mib);
    cJSON_AddNumberToObject(j, "cache_sets", c->cfg.cache_sets);
    cJSON_AddNumberToObject(j, "cache_ways", c->cfg.cache_ways);
    cJSON_AddNumberToObject(j, "tlb_entries", c->cfg.tlb_entries);
    cJSON_AddStringToObject(j, "check", trace_check_name(c->cfg.check));
    cJSON_AddBoolToObject(j, "layers", c->cfg.layers);
    cJSON_AddStringToObject(j, "scenario", c->cfg.scenario_path);
    if (c->runs)
        campaign_json_add_u64(j, "runs", c->runs);
    else
        cJSON_AddNullToObject(j, "runs");
    cJSON_AddBoolToObject(j, "stop_on_first", c->stop_on_first);
    snprintf(shard, sizeof(shard), "%" PRIu32 "/%" PRIu32, c->space.shard.k, c->space.shard.n);
    cJSON_AddStringToObject(j, "shard", shard);
    return j;
}

static cJSON *violation_json(const struct violation *v)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    campaign_json_add_u64(j, "step", v->step);
    cJSON_AddNumberToObject(j, "cpu", v->cpu);
    cJSON_AddNumberToObject(j, "invariant", v->invariant);
    cJSON_AddStringToObject(j, "detail", v->detail);
    if (v->insn[0])
        cJSON_AddStringToObject(j, "insn", v->insn);
    return j;
}

cJSON *campaign_run_json(const struct campaign *c, const struct campaign_result *r)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "type", "run");
    campaign_json_add_u64(j, "run", r->run);
    campaign_json_add_u64(j, "seed", r->seed);
    if (c->space.strategy == CAMPAIGN_EXHAUSTIVE) {
        campaign_json_add_u64(j, "schedule", r->schedule);
        cJSON_AddNumberToObject(j, "departures", r->departures);
    }
    cJSON_AddStringToObject(j, "result", campaign_status_name(r->status));
    campaign_json_add_u64(j, "steps", r->steps);
    cJSON_AddNumberToObject(j, "elapsed_s", r->elapsed_s);
    if (r->status == CAMPAIGN_VIOLATION)
        cJSON_AddItemToObject(j, "violation", violation_json(&r->v));
    else
        cJSON_AddNullToObject(j, "violation");
    if (r->trace[0])
        cJSON_AddStringToObject(j, "trace", r->trace);
    else
        cJSON_AddNullToObject(j, "trace");
    if (r->shrunk[0])
        cJSON_AddStringToObject(j, "shrunk", r->shrunk);
    if (r->err[0])
        cJSON_AddStringToObject(j, "error", r->err);
    return j;
}

int campaign_json_print_line(FILE *f, cJSON *o)
{
    char *txt = o ? cJSON_PrintUnformatted(o) : NULL;
    int rc = o && !txt ? -1 : 0;
    if (txt) {
        fprintf(f, "%s\n", txt);
        if (fflush(f) != 0 || ferror(f))
            rc = -1;
        free(txt);
    }
    cJSON_Delete(o);
    return rc;
}
