/*
 * hyp/kcore/boot.c - the C half of boot (boot.S calls it): the EL2 stage-1
 * identity map, the ownership of KCore's pages, the host stage 2, the
 * published state, per-CPU state.
 *
 * CPU 0 runs kc_boot_build_s1 with the MMU off (every access is
 * Device-nGnRnE, straight to memory: no cache line exists yet, so nothing
 * written here can be hidden under a stale line), then kc_boot_finish with
 * the MMU on. Secondaries wait for kc_bootinfo.flag (MMU off), turn their
 * MMU on with kc_bootinfo.ttbr0 and call kc_boot_cpu.
 */
#include "kcore.h"

struct kc_state kc;

_Static_assert(KC_ASM_STACK_BASE == KC_STACK_BASE, "sysregs.h copy of KC_STACK_BASE");
_Static_assert((1ull << KC_ASM_STACK_SHIFT) == KC_STACK_SIZE, "sysregs.h copy of KC_STACK_SIZE");
_Static_assert(KC_ASM_MAX_CPUS == KC_MAX_CPUS, "sysregs.h copy of KC_MAX_CPUS");
_Static_assert(KC_ASM_HOST_ENTRY == KC_HOST_ENTRY, "sysregs.h copy of KC_HOST_ENTRY");
_Static_assert(KC_ASM_PANIC_VECTOR == KC_PANIC_VECTOR, "sysregs.h copy of KC_PANIC_VECTOR");
_Static_assert(sizeof(struct kc_regs) == KC_FRAME_SIZE, "exception frame layout");
_Static_assert(__builtin_offsetof(struct kc_regs, elr) == KC_FRAME_ELR, "frame ELR");
_Static_assert(__builtin_offsetof(struct kc_regs, spsr) == KC_FRAME_SPSR, "frame SPSR");
_Static_assert(__builtin_offsetof(struct kc_bootinfo, ttbr0) == 8, "boot.S reads ttbr0 at +8");

/* Read by secondaries with the MMU off (non-cacheable): on a page of its
 * own (kcore.ld) that KCore maps Normal Non-cacheable, so CPU 0's writes go
 * to memory and every CPU's view of it is the flat machine's (L1
 * refinement, docs/LAYERS.md); it is still cleaned to the point of
 * coherency (hyp/kcore/README.md, "Start"). */
struct kc_bootinfo kc_bootinfo __attribute__((aligned(64), section(".data.boot")));

#ifdef KC_MUTANT_NO_BOOTFLAG_CLEAN
#define KC_S1_BOOT KC_S1_DATA          /* the boot line cacheable, like the rest of .data */
#else
#define KC_S1_BOOT KC_S1_DATA_NC
#endif

static void map_or_panic(u64 addr, u64 size, u64 attrs, int min_level)
{
    if (size && kc_pgt_map(&kc.s1, addr, size, addr, attrs, min_level) != KC_PGT_OK)
        kc_panic(KC_PANIC_BOOT);
}

u64 kc_boot_build_s1(u64 ncpus, u64 mem_size)
{
    u64 ctr = kc_read_sysreg(ctr_el0);
    u64 mem_2m;

    if (ncpus == 0 || ncpus > KC_MAX_CPUS || mem_size < KC_MIN_MEM ||
        mem_size > (KC_OWNER_PAGES << KC_PAGE_SHIFT))
        kc_panic(KC_PANIC_BOOT);
    kc.ncpus = ncpus;
    kc.mem_size = mem_size & ~(KC_PAGE_SIZE - 1);
    kc.mem_pages = kc.mem_size >> KC_PAGE_SHIFT;
    kc.zva_size = 0;                                   /* no DC ZVA to Device memory */
    kc.line_size = 4ull << ((ctr >> 16) & 0xf);        /* CTR_EL0.DminLine, in words */
    kc.pool.base = KC_POOL_BASE;
    kc.pool.npages = KC_POOL_PAGES;

    /* EL2 stage 1: 48-bit VA, start at level 0 (TCR_EL2.T0SZ = 16). */
    if (kc_pgt_init(&kc.s1, 0, 48, &kc_pool_ops) != KC_PGT_OK)
        kc_panic(KC_PANIC_BOOT);
    /* Text and data share the first 2 MiB, so they need pages: only as many
     * as the image occupies (each page costs simulated steps at boot), and
     * the published page. The stacks, [2 MiB, 4 MiB), take one block. */
    map_or_panic(KC_TEXT_BASE, KC_IMAGE_TEXT_END - KC_TEXT_BASE, KC_S1_TEXT, 3); /* RO, executable */
    map_or_panic(KC_DATA_BASE, KC_IMAGE_BOOT_START - KC_DATA_BASE, KC_S1_DATA, 3);
    map_or_panic(KC_IMAGE_BOOT_START, KC_IMAGE_BOOT_END - KC_IMAGE_BOOT_START, KC_S1_BOOT, 3);
    map_or_panic(KC_IMAGE_BOOT_END, KC_IMAGE_DATA_END - KC_IMAGE_BOOT_END, KC_S1_DATA, 3);
    map_or_panic(KC_PUBLIC_BASE, KC_PAGE_SIZE, KC_S1_DATA, 3);
    map_or_panic(2ull << 20, KC_POOL_BASE - (2ull << 20), KC_S1_DATA, 2);
    mem_2m = kc.mem_size & ~((1ull << 21) - 1);
    map_or_panic(KC_POOL_BASE, mem_2m - KC_POOL_BASE, KC_S1_DATA, 2);     /* 2 MiB blocks */
    map_or_panic(mem_2m, kc.mem_size - mem_2m, KC_S1_DATA, 3);
    return kc.s1.root;
}

void kc_boot_cpu(u64 idx)
{
    struct kc_cpu *c = &kc.cpu[idx];

    c->idx = idx;
    c->vm = KC_NO_VM;
    kc_write_sysreg((u64)(uintptr_t)c, tpidr_el2);
    kc_write_sysreg(KC_VTCR_EL2_VAL, vtcr_el2);
    kc_write_sysreg(kc.host_vttbr, vttbr_el2);
    kc_write_sysreg(KC_HCR_EL2_VAL, hcr_el2);
    kc_write_sysreg(kc_bootinfo.vbar, vbar_el2);
    kc_isb();
}

void kc_boot_finish(u64 vbar)
{
    u64 dczid = kc_read_sysreg(dczid_el0);

    /* The MMU is on: DC ZVA may zero pages from now on (DCZID_EL0.DZP clear,
     * block size BS in words). */
    if (!(dczid & 0x10) && (4ull << (dczid & 0xf)) <= KC_PAGE_SIZE)
        kc.zva_size = 4ull << (dczid & 0xf);

    /* Ownership: KCore's pages; everything else reads as host-owned (0). */
    /* Plain stores, eight entries per iteration, so the compiler pairs them
     * into STP (each store instruction is a simulated step). No other CPU
     * reads the array before the boot flag is published. */
    {
        u64 *e = kc_owner_entry(0);
        const u64 v = KC_OWN_MAKE(KC_OWNER_KCORE, 0, KC_GFN_NONE);
        for (u64 pfn = 0; pfn < KC_END_PFN; pfn += 8, e += 8) {
            e[0] = v; e[1] = v; e[2] = v; e[3] = v;
            e[4] = v; e[5] = v; e[6] = v; e[7] = v;
        }
    }

    /* Host stage 2: empty, filled lazily with identity pages on faults. */
    if (kc_pgt_init(&kc.host_s2, 1, KC_IPA_BITS, &kc_pool_ops) != KC_PGT_OK)
        kc_panic(KC_PANIC_BOOT);
    kc.host_vttbr = kc.host_s2.root | ((u64)KC_VMID_HOST << KC_VTTBR_VMID_SHIFT);
#ifdef KC_MUTANT_KCORE_IN_HOST_MAP
    /* The host's identity map starts one page too low: KCore's last page. */
    if (kc_pgt_map(&kc.host_s2, KC_END - KC_PAGE_SIZE, KC_PAGE_SIZE, KC_END - KC_PAGE_SIZE,
                   KC_S2_RAM, 3) != KC_PGT_OK)
        kc_panic(KC_PANIC_BOOT);
#endif

    kc_publish(KC_PUB_HOST_VTTBR, kc.host_vttbr);
    for (unsigned i = 0; i < KC_MAX_VMS; i++) {
        kc_publish(KC_PUB_VM_VTTBR(i), 0);
        kc_publish(KC_PUB_VM_STATE(i), VM_STATE_FREE);
    }

    kc_bootinfo.ttbr0 = kc_read_sysreg(ttbr0_el2);
    kc_bootinfo.vttbr = kc.host_vttbr;
    kc_bootinfo.vbar = vbar;
    kc_boot_cpu(0);
    kc_publish(KC_PUB_BOOTED, 1);

    /* Secondaries read the boot line with the MMU off: put the values in
     * memory before the flag, then the flag. */
#ifndef KC_MUTANT_NO_BOOTFLAG_CLEAN
    kc_dc_cvac(&kc_bootinfo);
#endif
    kc_dsb_ish();
    kc_write_release(&kc_bootinfo.flag, 1);
#ifndef KC_MUTANT_NO_BOOTFLAG_CLEAN
    kc_dc_cvac(&kc_bootinfo);
#endif
    kc_dsb_ish();
}
