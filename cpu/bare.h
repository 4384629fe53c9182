/*
 * cpu/bare.h - the bare-Unicorn baseline benchmarks compare against: the
 * ceiling of a per-instruction interleaving design (UNICORN-NOTES.md).
 */
#ifndef HYPSIM_BARE_H
#define HYPSIM_BARE_H

#include <stdint.h>

/* Single-step (count = 1) `ninsns` instructions round-robin over `nengines`
 * Unicorn engines running a loop of loads, stores and ALU instructions with
 * data in plain Unicorn RAM and no model. Returns the seconds taken, or a
 * negative value if Unicorn failed. */
double bare_unicorn_run(unsigned nengines, uint64_t ninsns);

#endif
