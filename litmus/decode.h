/*
 * litmus/decode.h - the A64 instruction decoder of the litmus reader
 * (internal to litmus/): one line of assembly text, as the catalogue
 * writes it, into a struct lit_insn (litmus.h). The subset is listed in
 * README.md; anything else is "unsupported", with the instruction named.
 */
#ifndef HYPSIM_LITMUS_DECODE_H
#define HYPSIM_LITMUS_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "litmus/litmus.h"

/* Register name: X0-X30, W0-W30, XZR, WZR (either case). Returns 0 with
 * *r (LIT_XZR for the zero register) and *sf (1 for X), or -1. */
int lit_reg_of(const char *s, uint8_t *r, uint8_t *sf);

/* Decode one instruction. Returns 0, -1 malformed (error), 1 unsupported
 * (reason in why). Branch/ADR targets are left as label names in lbl
 * (LIT_NAME bytes; empty when the instruction has none): the caller
 * resolves them once the whole thread is read. */
int lit_decode(const char *text, struct lit_insn *in, char *lbl, char *why, size_t whylen);

#endif
