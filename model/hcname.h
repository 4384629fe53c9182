/*
 * model/hcname.h - names of KCore's hypercalls (hyp/kcore/abi.h numbers), one
 * table for scenario files, logs and summaries.
 */
#ifndef HYPSIM_HCNAME_H
#define HYPSIM_HCNAME_H

#include <stdbool.h>
#include <stdint.h>

/* "register_vm", ..., or NULL for a number KCore does not define. */
const char *hc_name(uint64_t hc);
/* The number of a hypercall name; false if there is none. */
bool hc_lookup(const char *name, uint64_t *hc);

#endif
