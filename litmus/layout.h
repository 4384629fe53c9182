/*
 * litmus/layout.h - the address space every litmus test runs in (internal
 * to litmus/; README.md "The model a test runs on"). The one definition
 * that the reader (values such as PTE(x), PA(x), label:"P0:L") and the
 * explorer (its page tables, the ELR_EL1 of a fault, the names it prints)
 * share.
 *
 * Location number i (in order of first mention) has VA LIT_VA_BASE + i*4K
 * (L1 index 1, L2 index 0, L3 index i) and PA LIT_PA_BASE + i*4K; its
 * level-3 descriptor is the word at LIT_L3_PA + 8*i, under fixed L1 and L2
 * tables. Instruction i of thread p has the code address
 * LIT_CODE_BASE + p*64K + 4*i (never mapped: only ADR, ELR_EL1 and label
 * values hold it).
 */
#ifndef HYPSIM_LITMUS_LAYOUT_H
#define HYPSIM_LITMUS_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "litmus/litmus.h"

#define LIT_L1_PA      0x00001000ull   /* TTBR0_EL1: L1[1] -> L2 */
#define LIT_L2_PA      0x00002000ull   /* L2[0] -> L3 */
#define LIT_L3_PA      0x00003000ull   /* the leaf table: PTE(x) lives here */
#define LIT_VA_BASE    0x40000000ull   /* VA of location 0 */
#define LIT_PA_BASE    0x00100000ull   /* PA of location 0 */
#define LIT_CODE_BASE  0x00800000ull   /* code address of P0's instruction 0 */
#define LIT_CODE_SHIFT 16              /* each thread's code window: 64 KiB */

/* Is pa (or an untranslated va) a word of the leaf table? Accesses to
 * PTE(x) are not translated (herd's VMSA model without -variant pte2). */
static inline bool lit_in_leaf_table(uint64_t a) { return a >= LIT_L3_PA && a < LIT_L3_PA + 4096; }

/* Code address of instruction i of thread p, and of its instruction 0. */
static inline uint64_t lit_code_base(unsigned p) { return LIT_CODE_BASE + ((uint64_t)p << LIT_CODE_SHIFT); }
static inline uint64_t lit_code_addr(unsigned p, unsigned i) { return lit_code_base(p) + 4ull * i; }

/* Does v fall in some thread's code window (below LIT_MAX_THREADS)? */
static inline bool lit_is_code_addr(uint64_t v)
{
    return v >= LIT_CODE_BASE && v < LIT_CODE_BASE + ((uint64_t)LIT_MAX_THREADS << LIT_CODE_SHIFT);
}

#endif
