/*
 * hyp/kcore/kcore.h - KCore's state and its internal interfaces: the page-table
 * pool, the ownership array, VMs and vCPUs, per-CPU state, boot and the
 * exception dispatcher.
 *
 * All state is in one struct (kc, in .bss): the unit tests reset it
 * between cases. Locks and their order (outer first): a VM's lock ->
 * host_lock (host stage 2 and the ownership array) -> pool.lock.
 * vms_lock only guards handing out VM slots.
 */
#ifndef KC_KCORE_H
#define KC_KCORE_H

#include <stdbool.h>
#include "abi.h"
#include "arch.h"
#include "lock.h"
#include "mutants.h"
#include "pgtable.h"

#define KC_POOL_PAGES   (KC_POOL_SIZE / KC_PAGE_SIZE)
#define KC_OWNER_PAGES  (KC_OWNER_SIZE / 8)        /* frames the array can describe */
#define KC_END_PFN      (KC_END >> KC_PAGE_SHIFT)

/* What the image occupies (kcore.ld); boot maps only that much of the text
 * and data regions with pages. The native unit-test build has no linker
 * script: it maps the whole regions. */
#ifdef KC_TARGET
extern char __text_end[], __data_end[], __boot_start[], __boot_end[];
#define KC_IMAGE_TEXT_END ((u64)(uintptr_t)__text_end)
#define KC_IMAGE_DATA_END ((u64)(uintptr_t)__data_end)
#define KC_IMAGE_BOOT_START ((u64)(uintptr_t)__boot_start)   /* the boot line's page */
#define KC_IMAGE_BOOT_END ((u64)(uintptr_t)__boot_end)
#else
#define KC_IMAGE_TEXT_END (KC_TEXT_BASE + KC_TEXT_SIZE)
#define KC_IMAGE_DATA_END KC_PUBLIC_BASE
#define KC_IMAGE_BOOT_START KC_DATA_BASE
#define KC_IMAGE_BOOT_END KC_DATA_BASE
#endif
#define KC_NO_VM        0xffffffffu

/* ---- Page-table pool: a locked allocator of zeroed pages --------------- */
struct kc_pool {
    kc_lock_t lock;
    u64 base;                      /* PA of the first pool page */
    u64 npages;
    u64 next;                      /* pages below next have been handed out once */
    u64 nfree;                     /* entries in free[] */
    u16 free[KC_POOL_PAGES];       /* page indices given back */
};
u64 kc_pool_alloc(void);           /* zeroed page or 0 */
void kc_pool_free(u64 pa);
u64 kc_pool_available(void);
extern const struct kc_pgt_ops kc_pool_ops;

/* Zero one page (DC ZVA once the MMU is on, stores before) and clean one
 * page to the point of coherency (DC CIVAC per line). */
void kc_zero_page(u64 pa);
void kc_clean_inval_page(u64 pa);

/* ---- Ownership array (abi.h layout), under host_lock -------------------- */
static inline u64 *kc_owner_entry(u64 pfn)
{ return (u64 *)kc_va(KC_OWNER_BASE) + pfn; }
static inline u64 kc_owner_get(u64 pfn) { return kc_read_once(kc_owner_entry(pfn)); }
static inline void kc_owner_set(u64 pfn, u64 e) { kc_write_once(kc_owner_entry(pfn), e); }

/* ---- VMs ---------------------------------------------------------------- */
/* Exception frame saved by boot.S (layout: sysregs.h KC_FRAME_*). */
struct kc_regs {
    u64 x[31];
    u64 elr;
    u64 spsr;
    u64 pad;
};

struct kc_vcpu {
    bool registered;
    u32 running_on;                /* CPU index + 1, 0 when not running */
    struct kc_regs regs;           /* saved while not running */
};

struct kc_vm {
    kc_lock_t lock;
    u64 state;                     /* VM_STATE_* */
    bool busy;                     /* a long hypercall works on it unlocked */
    u64 vttbr;                     /* stage-2 root | VMID << 48 */
    struct kc_pgt s2;
    u64 image_pages;               /* 0: no boot info yet */
    u64 ipa_end;                   /* above every IPA ever mapped: walks of the
                                      whole VM stop here (each entry visited
                                      costs simulated steps) */
    u64 image_hash;
    u32 nrunning;                  /* vCPUs running now */
    struct kc_vcpu vcpu[KC_MAX_VCPUS];
};

/* ---- Per-CPU state ------------------------------------------------------ */
struct kc_cpu {
    u64 idx;
    u32 vm;                        /* KC_NO_VM: the host runs here */
    u32 vcpu;
    struct kc_regs host;           /* the host's registers while a vCPU runs */
};

struct kc_state {
    u64 mem_size;                  /* bytes of physical memory */
    u64 mem_pages;
    u64 ncpus;
    u64 zva_size;                  /* DC ZVA block bytes, 0: use stores */
    u64 line_size;                 /* data cache line bytes */
    struct kc_pool pool;
    struct kc_pgt s1;              /* EL2 stage 1 */
    kc_lock_t host_lock;           /* host stage 2 + ownership array */
    struct kc_pgt host_s2;
    u64 host_vttbr;
    kc_lock_t vms_lock;
    struct kc_vm vm[KC_MAX_VMS];
    struct kc_cpu cpu[KC_MAX_CPUS];
};
extern struct kc_state kc;

/* Published state for the simulator's checkers (abi.h KC_PUB_*). */
static inline void kc_publish(u64 pa, u64 v) { kc_write_once((u64 *)kc_va(pa), v); }

/* ---- Boot (boot.c) ------------------------------------------------------ */
/* What secondaries read with the MMU off: one cache line, cleaned to PoC. */
struct kc_bootinfo {
    u64 flag;                      /* 1 when CPU 0 is done */
    u64 ttbr0, vttbr, vbar;
    u64 pad[4];
};
extern struct kc_bootinfo kc_bootinfo;

/* CPU 0, MMU off: reset state, build the EL2 stage 1, return TTBR0_EL2. */
u64 kc_boot_build_s1(u64 ncpus, u64 mem_size);
/* CPU 0, MMU on: ownership, host stage 2, published state; fills
 * kc_bootinfo (vbar is the vector table address). */
void kc_boot_finish(u64 vbar);
/* Every CPU, MMU on: per-CPU state, TPIDR_EL2. */
void kc_boot_cpu(u64 idx);

/* ---- Exceptions (hypercall.c) ------------------------------------------ */
/* Synchronous exception from EL1 (host or guest): regs is the saved frame,
 * modified in place; boot.S restores it and ERETs. */
void kc_handle_sync(struct kc_regs *regs);
struct kc_cpu *kc_this_cpu(void);

#endif
