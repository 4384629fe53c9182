/*
 * cpu/peek.h - a CPU's registers as a debugger sees them (the gdb stub of
 * `hypsim replay --gdb`, traces/gdbstub.c), including the state part-way
 * through a step.
 *
 * One step of a KCore CPU runs a straight-line group of register-only
 * instructions and the visible instruction that ends it (cpu/image.h,
 * kimage.run). The register-only ones touch nothing but the CPU's
 * registers and commute with every other CPU's events, which is why they
 * share a step; a debugger still wants to stop between them.
 * cpu_peek_regs() gives the registers after the first k of them, by
 * running those k instructions on the CPU's engine and then restoring the
 * engine's saved context: the CPU, the memory system and every later step
 * are as if nothing had run (tests/unit/test_cpu_peek.c).
 */
#ifndef HYPSIM_CPU_PEEK_H
#define HYPSIM_CPU_PEEK_H

#include <stdint.h>
#include "cpu/cpu.h"

struct cpu_regs {
    uint64_t x[31];
    uint64_t sp;               /* the current SP (SP_EL2 in EL2h) */
    uint64_t pc;
    uint32_t pstate;           /* NZCV, DAIF, EL and SP selection, as in SPSR */
};

/* The registers of c now (pc = c->pc). */
void cpu_read_regs(const struct cpu *c, struct cpu_regs *r);

/* Number of instructions the next step of c runs from c->pc (>= 1): the
 * group length, 1 for an instruction the model emulates; 0 when c is not
 * in KCore mode or its PC is outside KCore's text. */
unsigned cpu_group_len(const struct cpu *c);

/* The registers c would have after the first k instructions of its next
 * step's group (0 <= k < cpu_group_len(c); those k are register-only). k = 0
 * is cpu_read_regs. Changes nothing observable: the engine's context is
 * saved and restored around the run. Returns 0, or -1 (k out of range, or
 * Unicorn refused; *r then holds cpu_read_regs). */
int cpu_peek_regs(const struct cpu *c, unsigned k, struct cpu_regs *r);

#endif
