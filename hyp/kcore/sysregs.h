/*
 * hyp/kcore/sysregs.h - the EL2 system-register values KCore programs, as plain
 * #defines so boot.S and the C code share them. Field layouts: Arm ARM
 * D17.2 (TCR_EL2, VTCR_EL2, SCTLR_EL2, HCR_EL2, MAIR_EL2, ESR_EL2).
 */
#ifndef KC_SYSREGS_H
#define KC_SYSREGS_H

/* MAIR_EL2: Attr0 = Normal WB (0xff), Attr1 = Device-nGnRnE, Attr2 = Normal NC. */
#define KC_MT_NORMAL        0
#define KC_MT_DEVICE        1
#define KC_MT_NORMAL_NC     2
#define KC_MAIR_EL2_VAL     0x00000000004400ff

/* TCR_EL2: T0SZ=16 (48-bit VA, start level 0), IRGN0=ORGN0=WB (01),
 * SH0=inner (11), TG0=4K (00), PS=2 (40-bit), RES1 bits 23 and 31. */
#define KC_TCR_EL2_VAL      0x0000000080823510

/* VTCR_EL2: T0SZ=25 (39-bit IPA), SL0=1 (start at level 1), IRGN0=ORGN0=WB,
 * SH0=inner, TG0=4K, PS=2 (40-bit), RES1 bit 31. */
#define KC_VTCR_EL2_VAL     0x0000000080023559

/* SCTLR_EL2: M | C | I plus the RES1 bits 4,5,11,16,18,22,23,28,29. */
#define KC_SCTLR_EL2_RES1   0x0000000030c50830
#define KC_SCTLR_EL2_VAL    0x0000000030c51835

/* HCR_EL2: VM (stage 2 on) | RW (EL1 is AArch64). */
#define KC_HCR_EL2_VAL      0x0000000080000001

/* SPSR for an ERET to EL1h with DAIF masked. */
#define KC_SPSR_EL1H        0x3c5

#define KC_VTTBR_VMID_SHIFT 48

/* ESR_EL2 exception classes KCore handles. */
#define KC_ESR_EC_SHIFT     26
#define KC_EC_HVC64         0x16
#define KC_EC_IABT_LOW      0x20
#define KC_EC_DABT_LOW      0x24
#define KC_ESR_FSC_MASK     0x3f
#define KC_FSC_TRANS_MASK   0x3c     /* DFSC 0b0001LL: translation fault, level LL */
#define KC_FSC_TRANS        0x04

/* Exception frame (boot.S <-> struct kc_regs): x0..x30, ELR, SPSR, pad. */
#define KC_FRAME_ELR        (31 * 8)
#define KC_FRAME_SPSR       (32 * 8)
#define KC_FRAME_SIZE       (34 * 8)

/* abi.h values boot.S needs (abi.h uses C suffixes; boot.c checks these
 * copies against it at compile time). */
#define KC_ASM_STACK_BASE   0x00200000
#define KC_ASM_STACK_SHIFT  14            /* KC_STACK_SIZE = 16 KiB */
#define KC_ASM_MAX_CPUS     64
#define KC_ASM_HOST_ENTRY   0x0000000080000000
#define KC_ASM_PANIC_VECTOR 0x100

#endif
