/*
 * traces/campaign/run.h - one run of a campaign, as a worker performs it:
 * run g's machine to its step limit or first violation, and for a
 * violation, run it again with the recorder on (runs are deterministic)
 * to save its trace, and shrink that trace when asked.
 */
#ifndef HYPSIM_CAMPAIGN_RUN_H
#define HYPSIM_CAMPAIGN_RUN_H

#include <stdint.h>

#include "traces/campaign/campaign.h"

/* Run g of campaign c into *res (cleared first; every outcome, including an
 * internal error, is reported there, never returned). A violating run's
 * trace is saved as DIR/LABEL-runG-seedS.json when c->trace_dir is set
 * (written as FILE.part and renamed once whole)
 * (and shrunk to DIR/LABEL-runG-seedS-shrunk.json with c->shrink); a
 * violation that does not recur when recorded, or a trace that cannot be
 * written, makes the result CAMPAIGN_ERROR with res->err saying why.
 * Times: res->elapsed_s for the run, res->post_s for recording and
 * shrinking. */
void campaign_run_one(const struct campaign *c, uint64_t g, struct campaign_result *res);

#endif
