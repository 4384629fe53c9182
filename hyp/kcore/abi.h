/*
 * hyp/kcore/abi.h - the one header KCore (AArch64 guest code) shares with the
 * host-side simulator (actors, invariants, spec). Plain C, no includes, so it
 * builds freestanding for AArch64 and natively for the simulator.
 *
 * Calling convention (SMCCC-like): the caller puts the hypercall number in
 * x0 and arguments in x1..x4, executes HVC #0; KCore returns the result in
 * x0 (HC_OK or a negative HC_E* code) and, where documented, a value in x1.
 * Other registers are preserved.
 */
#ifndef HYPSIM_ABI_H
#define HYPSIM_ABI_H

/* ---- Physical memory layout (identity-mapped by KCore at EL2) --------- */
#define KC_TEXT_BASE      0x00000000ull  /* .text: fetched from Unicorn RAM   */
#define KC_TEXT_SIZE      0x00100000ull  /* 1 MiB                             */
#define KC_DATA_BASE      0x00100000ull  /* .rodata .data .bss, boot flag     */
#define KC_STACK_BASE     0x00200000ull  /* per-CPU stacks, KC_STACK_SIZE each */
#define KC_STACK_SIZE     0x00004000ull  /* 16 KiB x 64 CPUs = 1 MiB          */
#define KC_POOL_BASE      0x00400000ull  /* page-table pool                   */
#define KC_POOL_SIZE      0x00800000ull  /* 8 MiB = 2048 table pages          */
#define KC_OWNER_BASE     0x00c00000ull  /* ownership array                   */
#define KC_OWNER_SIZE     0x00800000ull  /* 8 MiB: 1 M entries = 4 GiB       */
#define KC_END            0x02000000ull  /* [0, KC_END) is KCore's (32 MiB)  */
#define KC_MIN_MEM        0x04000000ull  /* 64 MiB                            */
#define KC_MAX_CPUS       64
#define KC_MAX_VMS        16
#define KC_MAX_VCPUS      8              /* per VM */

/* ---- Ownership array: one 8-byte entry per physical page frame -------- */
/* entry = owner (bits 15:0) | share count (bits 31:16) | gfn (bits 63:32) */
/* Owner 0 is the host, so never-written entries (memory reads as zero)
 * mean "host-owned, not shared": boot marks only KCore's own pages. */
#define KC_OWNER_HOST     0u
#define KC_OWNER_KCORE    1u
#define KC_OWNER_NONE     2u
#define KC_OWNER_VM(n)    (3u + (n))     /* VM index n (0-based) */
#define KC_OWN_OWNER(e)   ((unsigned)((e) & 0xffffu))
#define KC_OWN_COUNT(e)   ((unsigned)(((e) >> 16) & 0xffffu))
#define KC_OWN_GFN(e)     ((unsigned long long)((e) >> 32))
#define KC_OWN_MAKE(o, c, g) ((unsigned long long)(o) | ((unsigned long long)(c) << 16) | ((unsigned long long)(g) << 32))
#define KC_GFN_NONE       0ull          /* gfn is meaningful only for VM pages */

/* ---- Published state: a page at a fixed address where KCore records the
 * VTTBR_EL2 value (stage-2 root | VMID << 48) of the host and of every VM
 * as soon as it allocates the root (0 = no VM in that slot), and each VM's
 * state. The simulator's invariant checkers find the stage-2 tables here and
 * then walk them with their own walker; they trust nothing else KCore says. */
#define KC_PUBLIC_BASE    0x001ff000ull
#define KC_PUB_HOST_VTTBR (KC_PUBLIC_BASE + 0x0)                 /* u64 */
#define KC_PUB_VM_VTTBR(n) (KC_PUBLIC_BASE + 0x8 + 8ull * (n))     /* u64 */
#define KC_PUB_VM_STATE(n) (KC_PUBLIC_BASE + 0x100 + 8ull * (n))   /* u64: VM_STATE_* */
#define KC_PUB_BOOTED     (KC_PUBLIC_BASE + 0x200)               /* u64: 1 once boot is done */

/* ---- VMIDs ------------------------------------------------------------ */
#define KC_VMID_HOST      0u
#define KC_VMID_VM(n)     (1u + (n))

/* ---- Stage 2 geometry: VTCR_EL2 T0SZ=25 (39-bit IPA), SL0=1 (start at
 * level 1), 4 KiB granule, PS=2 (40-bit PA), inner/outer WB walks. ------ */
#define KC_IPA_BITS       39

/* ---- Boot: every CPU enters the ELF entry point at EL2h, MMU off, with
 * x0 = CPU index, x1 = number of CPUs, x2 = memory size in bytes.
 * When a CPU finishes boot it ERETs to the host at EL1h: ELR_EL2 =
 * KC_HOST_ENTRY, with HCR_EL2.VM=1 and VTTBR_EL2 = host stage 2, VMID 0. */
#define KC_HOST_ENTRY     0x0000000080000000ull  /* a marker, not code */
#define KC_HOST_VBAR_EL1  0x0000000090000000ull  /* host's EL1 vectors (marker) */

/* ---- Host hypercalls -------------------------------------------------- */
#define HC_REGISTER_VM     0x01  /* ()                      -> x0 = VM index  */
#define HC_REGISTER_VCPU   0x02  /* (vm, vcpu)                                 */
#define HC_SET_BOOT_INFO   0x03  /* (vm, host pfn, npages, hash): donate the
                                    image pages pfn..pfn+n-1 at gfn 0..n-1     */
#define HC_VERIFY_VM       0x04  /* (vm): hash of the image == boot-info hash  */
#define HC_DONATE          0x05  /* (vm, host pfn, gfn)                        */
#define HC_RUN_VCPU        0x06  /* (vm, vcpu) -> x0 = exit reason, x1 = info  */
#define HC_TEARDOWN        0x07  /* (vm): VM must be powered off               */
/* ---- Guest hypercalls ------------------------------------------------- */
#define HC_GRANT           0x10  /* (gfn): share the page with the host        */
#define HC_REVOKE          0x11  /* (gfn): undo one grant                      */
#define HC_POWEROFF        0x12  /* ()                                         */
#define HC_YIELD           0x13  /* (): exit to the host                       */

/* Results (x0). */
#define HC_OK              0
#define HC_EINVAL          (-1)  /* bad argument (range, unknown VM/vCPU)      */
#define HC_EPERM           (-2)  /* ownership check failed                     */
#define HC_EBUSY           (-3)  /* vCPU running elsewhere, lock contention    */
#define HC_ENOMEM          (-4)  /* page-table pool or VM slots exhausted      */
#define HC_ESTATE          (-5)  /* wrong VM state for this call               */
#define HC_ENOSYS          (-6)  /* unknown hypercall                          */
#define HC_EHASH           (-7)  /* image hash mismatch                        */

/* Exit reasons of HC_RUN_VCPU (x0 >= 0), x1 = info. */
#define RUN_EXIT_YIELD     0
#define RUN_EXIT_POWEROFF  1
#define RUN_EXIT_S2FAULT   2     /* x1 = faulting IPA (page aligned) */

/* VM states. */
#define VM_STATE_FREE       0
#define VM_STATE_REGISTERED 1
#define VM_STATE_VERIFIED   2
#define VM_STATE_POWEROFF   3

/* Image hash (FNV-1a 64 over the image's bytes in gfn order), computed the
 * same way by KCore and by the host actor. */
#define KC_FNV_OFFSET      0xcbf29ce484222325ull
#define KC_FNV_PRIME       0x100000001b3ull

/* ---- Additions by KCore (hyp/): limits and panic reasons -------------- */
#define KC_MAX_IMAGE_PAGES 64            /* HC_SET_BOOT_INFO npages: 1..64   */
/* x0 at a KCore panic (BRK). */
#define KC_PANIC_VECTOR    0x100u        /* + vector offset / 0x80: unexpected exception */
#define KC_PANIC_DEADLOCK  0x200u        /* a spinlock was not acquired within its bound */
#define KC_PANIC_BOOT      0x300u        /* bad boot arguments or no pool pages at boot  */
#define KC_PANIC_BUG       0x400u        /* an internal consistency check failed         */

#endif
