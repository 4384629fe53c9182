/*
 * cpu/cpu.h - one simulated CPU: a Unicorn AArch64 engine running KCore,
 * with every data access, system-register access, TLBI, DC, DSB, ERET and
 * exception entry routed into the model.
 *
 * Unicorn runs with its own MMU off: KCore's text is fetched from Unicorn
 * RAM (a data read of text is caught by a read hook: Unicorn does not
 * enforce execute-only mappings), and every
 * other address is one MMIO region whose callbacks translate through the
 * model (EL2 stage 1, TLB, cache or bypass, labels). Instructions are
 * stepped one at a time; the class of each text word is known in advance
 * (cpu/image.h), so special instructions are emulated here, never by
 * Unicorn (UNICORN-NOTES.md: INSN hooks do not advance the PC, and Unicorn
 * has no EL2). When KCore ERETs to EL1 the CPU leaves KCore mode and the
 * principal whose VMID is in VTTBR_EL2 (host or a VM) runs as an actor in
 * model/; its hypercalls and stage-2 faults come back through
 * cpu_take_exception().
 * cpu/ is the only module that includes <unicorn/unicorn.h>.
 */
#ifndef HYPSIM_CPU_H
#define HYPSIM_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/image.h"
#include "model/hw/msys.h"

enum sysreg {
    SR_SCTLR_EL2, SR_HCR_EL2, SR_TTBR0_EL2, SR_TCR_EL2, SR_VTTBR_EL2,
    SR_VTCR_EL2, SR_SPSR_EL2, SR_ELR_EL2, SR_ESR_EL2, SR_FAR_EL2,
    SR_HPFAR_EL2, SR_MAIR_EL2, SR_VBAR_EL2, SR_TPIDR_EL2, SR_MPIDR_EL1,
    SR_SCTLR_EL1, SR_TTBR0_EL1, SR_TTBR1_EL1, SR_TCR_EL1, SR_SPSR_EL1,
    SR_ELR_EL1, SR_ESR_EL1, SR_FAR_EL1, SR_MAIR_EL1, SR_VBAR_EL1,
    SR_CTR_EL0, SR_DCZID_EL0, SR_CURRENTEL,
    SR_COUNT
};
const char *sysreg_name(enum sysreg r);

/* CPU_WFE: KCore executed WFE with its event register clear; the CPU is
 * not schedulable until another CPU's SEV (Arm ARM, "Wait for Event"). */
enum cpu_mode { CPU_KCORE, CPU_HOST, CPU_GUEST, CPU_HALTED, CPU_WFE };

enum trap_kind {
    TRAP_NONE = 0,
    TRAP_DATA_ABORT,    /* KCore's own access faulted (translation, permission, external) */
    TRAP_UNDEF,         /* undefined / unsupported instruction or system register */
    TRAP_PANIC,         /* BRK: KCore panicked, x0 = reason */
    TRAP_EXCLUSIVE,     /* load/store exclusive (not supported, see hyp/kcore/README.md) */
    TRAP_WFX,           /* WFI: would sleep forever (no interrupts modelled) */
    TRAP_PC,            /* PC left KCore's text */
    TRAP_UNICORN,       /* Unicorn refused (unmapped access, ...) */
    TRAP_TEXT_READ,     /* data read of KCore's text (would bypass the model) */
};
const char *trap_name(enum trap_kind k);

struct cpu_trap {
    enum trap_kind kind;
    uint64_t pc;
    uint32_t insn;
    uint64_t info;
    struct mmu_fault fault;
};

#define CPU_MAX_ACCESS 8   /* model accesses one instruction may make */

struct cpu {
    unsigned idx;
    void *uc;                          /* uc_engine * */
    const struct kimage *img;
    struct msys *ms;
    enum cpu_mode mode;
    unsigned guest_vm;                 /* VM index when mode == CPU_GUEST */
    uint64_t pc;
    uint64_t sr[SR_COUNT];
    struct mmu_ctx el2;                /* KCore's translation context */
    struct cpu_trap trap;
    uint64_t eret_elr;                 /* ELR of the last ERET to EL1 */
    bool event;                        /* the event register (WFE/SEV) */
    /* Accesses made by the last step (for logs and invariants). */
    struct msys_access acc[CPU_MAX_ACCESS];
    unsigned nacc;
    uint64_t insns;                    /* KCore instructions executed */
    uint64_t last_pc;                  /* PC of the visible instruction of the last step */
    uint64_t last_data_addr;           /* page of the last data access (TLB-fill hints) */
    uint64_t mmio_base, mmio_end;
};

enum cpu_event {
    CPU_EV_INSN,        /* one KCore instruction ran */
    CPU_EV_ERET_EL1,    /* KCore returned to EL1: mode is now HOST or GUEST */
    CPU_EV_TRAP,        /* c->trap says what; the CPU is halted */
    CPU_EV_SEV,         /* SEV ran: the machine sets every CPU's event register */
};

/* Another CPU's SEV reached this one: set its event register, and wake it
 * if it waits in WFE. */
void cpu_signal_event(struct cpu *c);

/* Create the engine for CPU idx of ncpus, at the image's entry, EL2h, MMU
 * off, x0 = idx, x1 = ncpus, x2 = memory bytes. Returns 0 or -1. */
int cpu_init(struct cpu *c, unsigned idx, unsigned ncpus, const struct kimage *img,
             struct msys *ms);
void cpu_free(struct cpu *c);

/* Run one KCore instruction (mode must be CPU_KCORE). */
enum cpu_event cpu_step(struct cpu *c);

/* Exception from EL1 (the host or a guest) to EL2, synchronous, lower EL,
 * AArch64 (Arm ARM D1.10 "Exception entry"): ELR_EL2 = elr, SPSR_EL2 =
 * EL1h with DAIF masked, ESR/FAR/HPFAR as given; PC = VBAR_EL2 + 0x400. */
void cpu_take_exception(struct cpu *c, uint64_t esr, uint64_t far, uint64_t hpfar,
                        uint64_t elr);

uint64_t cpu_xreg(const struct cpu *c, unsigned n);
void cpu_set_xreg(struct cpu *c, unsigned n, uint64_t v);

/* The EL1&0 translation context of the principal now at EL1 on this CPU
 * (stage 1 off, stage 2 from VTTBR_EL2/VTCR_EL2/HCR_EL2.VM). */
void cpu_el1_ctx(const struct cpu *c, struct mmu_ctx *ctx);

/* Disassemble the instruction at pc with Capstone into buf. */
void cpu_disasm(const struct cpu *c, uint64_t pc, char *buf, size_t len);

#endif
