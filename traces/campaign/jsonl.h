/*
 * traces/campaign/jsonl.h - the JSON Lines a campaign writes: one
 * {"type":"run", ...} object per run, and the "campaign" object (the
 * configuration that identifies a campaign across shards) that the summary
 * line carries. The summary itself is built by summary.h.
 */
#ifndef HYPSIM_CAMPAIGN_JSONL_H
#define HYPSIM_CAMPAIGN_JSONL_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "traces/campaign/campaign.h"

/* Add v to o under k: a number when JSON's doubles hold it exactly
 * (v < 2^53), else a decimal string. */
void campaign_json_add_u64(cJSON *o, const char *k, uint64_t v);

/* A u64 written by campaign_json_add_u64 (a number >= 0, or a decimal
 * string). Sets *ok = false when k is missing or of another type, and
 * returns 0 then. */
uint64_t campaign_json_get_u64(const cJSON *o, const char *k, bool *ok);

/* The "campaign" object of c's summary: KCore (path, SHA-256, mutant),
 * strategy and its bounds, base seed, the machine config, runs (null with
 * --time only), stop_on_first and the shard "K/N". NULL when out of memory. */
cJSON *campaign_config_json(const struct campaign *c);

/* The {"type":"run"} object of result r: run, seed (exhaustive: schedule,
 * departures), result, steps, elapsed_s, violation (or null), trace (or
 * null), shrunk and error when there are. NULL when out of memory. */
cJSON *campaign_run_json(const struct campaign *c, const struct campaign_result *r);

/* Write o to f as one line and flush f; then free o (o may be NULL: writes
 * nothing). Returns 0, or -1 when out of memory or f has an error. */
int campaign_json_print_line(FILE *f, cJSON *o);

#endif
