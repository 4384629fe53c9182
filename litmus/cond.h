/*
 * litmus/cond.h - the final-condition parser of the litmus reader
 * (internal to litmus/).
 */
#ifndef HYPSIM_LITMUS_COND_H
#define HYPSIM_LITMUS_COND_H

#include "litmus/reader.h"

/* The tail of a test, s: [locations [...]] then exists / ~exists / forall
 * and a proposition (or nothing: "exists true"). Fills c->t's quant, root,
 * node[] and obs[]. Returns 0 or -1 (lit_fail). */
int lit_parse_tail(struct lit_pctx *c, const char *s);

#endif
