/*
 * util/a64lse.h - disassembly of the Armv8.1 LSE atomics, which Capstone
 * 4.0.2 (Debian 12) does not know (it gives up on CASAL, LDADDAL, SWPAL...,
 * and logs showed ".inst 0xf8a20002"): CAS{A,L,AL}{B,H}, CASP{A,L,AL},
 * LD<op>{A,L,AL}{B,H} for op ADD CLR EOR SET SMAX SMIN UMAX UMIN, their
 * ST<op> aliases, SWP{A,L,AL}{B,H}. Spelled as GNU objdump spells them.
 * Encodings: Arm ARM C4.1.94 "Atomic memory operations" and C4.1.91
 * "Compare and swap" (DDI 0487).
 */
#ifndef HYPSIM_A64LSE_H
#define HYPSIM_A64LSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Write "casal x1, x2, [x0]" for insn into buf and return true, or return
 * false (buf untouched) when insn is not one of these instructions. */
bool a64_lse_disasm(uint32_t insn, char *buf, size_t len);

#endif
