// Test program for tests/unit/test_cpu.c. Each case sits at a fixed offset
// (the test sets the PC there). Data lives at 0x100000 (KC_DATA_BASE).
.text
.global _start
_start:
.org 0x000          // case 0: data, system registers, TLBI/DSB, ERET to the host
    movz x3, #0x10, lsl #16
    movz x4, #0x1234
    str  x4, [x3]
    ldr  x5, [x3]
    msr  tpidr_el2, x5
    mrs  x6, tpidr_el2
    mrs  x7, mpidr_el1
    tlbi vmalls12e1is
    dsb  ish
    movz x8, #0x3c5
    msr  spsr_el2, x8
    movz x9, #0x8000, lsl #16
    msr  elr_el2, x9
    eret
.org 0x100          // case 1: panic
    movz x0, #42
    brk  #1
.org 0x200          // case 2: load-exclusive is refused
    movz x3, #0x10, lsl #16
    ldaxr x4, [x3]
.org 0x300          // case 3: unknown system register
    .inst 0xd5180701 // msr id_aa64mmfr0_el1, x1: a read-only register (gas warns)
.org 0x400          // case 4: access outside memory (MMU off: external abort)
    movz x3, #0x7fff, lsl #16
    ldr  x4, [x3]
.org 0x500          // case 5: reading text as data is caught
    movz x3, #0x500
    ldr  x4, [x3]
.org 0x600          // case 6: LSE atomics through the model
    movz x3, #0x10, lsl #16
    movz x4, #5
    str  x4, [x3]
    movz x5, #5
    movz x6, #9
    casal x5, x6, [x3]
    ldaddal x6, x7, [x3]
    ldr  x8, [x3]
    brk  #0
.org 0x700          // case 7: DC ZVA and DC CIVAC by VA (MMU off: non-cacheable)
    movz x3, #0x10, lsl #16
    movz x4, #7
    str  x4, [x3, #8]
    dc   zva, x3
    ldr  x5, [x3, #8]
    dc   civac, x3
    brk  #0
.org 0x800          // case 8: SEVL sets the event, WFE consumes it; the next WFE waits; SEV
    sevl
    wfe
    wfe
    sev
    brk  #0
