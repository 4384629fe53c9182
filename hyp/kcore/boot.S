/*
 * hyp/kcore/boot.S - KCore's entry, the secondary CPUs' wait, the MMU switch-on,
 * the EL2 vector table and the save/restore around the C dispatcher.
 *
 * Entry (hyp/kcore/README.md): every CPU at EL2h, MMU off, x0 = CPU index,
 * x1 = CPU count, x2 = memory bytes. No literal pools: constants are built
 * with MOVZ/MOVK (mov64), addresses with ADR/ADRP.
 */
#include "sysregs.h"

/* Name this file in the symbol table: without a .file the linker names it
 * after the compiler's random temporary object, and no two builds of KCore
 * would be bit-identical (traces pin the ELF's SHA-256). */
    .file "boot.S"

.macro mov64 reg, val
    movz    \reg, #((\val) & 0xffff)
    movk    \reg, #(((\val) >> 16) & 0xffff), lsl #16
    movk    \reg, #(((\val) >> 32) & 0xffff), lsl #32
    movk    \reg, #(((\val) >> 48) & 0xffff), lsl #48
.endm

    .section .text.entry, "ax"
    .global _start
_start:
    mov     x19, x0                         // CPU index
    mov     x20, x1                         // CPU count
    mov     x21, x2                         // memory bytes
    cmp     x19, #KC_ASM_MAX_CPUS
    b.hs    bad_cpu
    // SP = top of this CPU's stack: KC_STACK_BASE + (cpu + 1) * KC_STACK_SIZE
    mov64   x3, KC_ASM_STACK_BASE
    add     x4, x19, #1
    add     x3, x3, x4, lsl #KC_ASM_STACK_SHIFT
    mov     sp, x3
    cbnz    x19, secondary

    // CPU 0. .bss is already zero: the loader zero-fills each segment's
    // memsz beyond its filesz, as an ELF loader does (hyp/kcore/README.md).
2:  mov     x0, x20
    mov     x1, x21
    bl      kc_boot_build_s1                // -> x0 = TTBR0_EL2
    bl      mmu_on
    adr     x0, kc_vectors
    bl      kc_boot_finish                  // ends by publishing the boot flag
    sev                                     // wake the secondaries (WFE)
    b       enter_host

secondary:
    // Wait for CPU 0 (MMU off: these reads go to memory, past any cache).
    adrp    x3, kc_bootinfo
    add     x3, x3, :lo12:kc_bootinfo
1:  ldr     x4, [x3]
    cbnz    x4, 2f
    wfe                                     // CPU 0 ends its boot with SEV
    b       1b
2:
    ldr     x0, [x3, #8]                    // kc_bootinfo.ttbr0
    bl      mmu_on
    mov     x0, x19
    bl      kc_boot_cpu                     // TPIDR, VTCR, VTTBR, HCR, VBAR
    b       enter_host

bad_cpu:
    mov64   x0, KC_ASM_PANIC_VECTOR + 0x10
    brk     #0x2

// x0 = TTBR0_EL2. Clobbers x1.
mmu_on:
    mov64   x1, KC_MAIR_EL2_VAL
    msr     mair_el2, x1
    mov64   x1, KC_TCR_EL2_VAL
    msr     tcr_el2, x1
    msr     ttbr0_el2, x0
    isb
    mov64   x1, KC_SCTLR_EL2_VAL
    msr     sctlr_el2, x1
    isb
    ret

// First entry into the host at EL1h. SP is this CPU's stack top again.
enter_host:
    mov64   x0, KC_ASM_HOST_ENTRY
    msr     elr_el2, x0
    mov     x0, #KC_SPSR_EL1H
    msr     spsr_el2, x0
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    mov     x\n, xzr
    .endr
    eret

// ---- Vector table (VBAR_EL2): only "lower EL, AArch64, synchronous" is
// expected; anything else is a panic with x0 = KC_PANIC_VECTOR + index.
    .text
    .balign 2048
    .global kc_vectors
kc_vectors:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .balign 128
    .if \i == 8
    b       el1_sync
    .else
    mov     x0, #(KC_ASM_PANIC_VECTOR + \i)
    brk     #0x2
    .endif
    .endr

// Save the interrupted principal's x0-x30, ELR_EL2, SPSR_EL2 on this
// CPU's stack (struct kc_regs), call kc_handle_sync(frame), restore the
// (possibly rewritten) frame, ERET.
    .balign 64
el1_sync:
    sub     sp, sp, #KC_FRAME_SIZE
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x0, elr_el2
    mrs     x1, spsr_el2
    stp     x30, x0, [sp, #240]
    str     x1, [sp, #KC_FRAME_SPSR]
    mov     x0, sp
    bl      kc_handle_sync
    ldr     x1, [sp, #KC_FRAME_SPSR]
    ldp     x30, x0, [sp, #240]
    msr     elr_el2, x0
    msr     spsr_el2, x1
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    add     sp, sp, #KC_FRAME_SIZE
    eret
