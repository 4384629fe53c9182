/*
 * hyp/kcore/arch.h - the only place KCore touches the architecture: system
 * registers, barriers, TLB and cache maintenance, DC ZVA, panic, and how a
 * physical address becomes a pointer.
 *
 * Built for the target (-DKC_TARGET, AArch64 EL2) these are inline
 * assembly. Built natively (unit tests on the build host) they are shims in
 * hyp/kcore/native.c: system registers live in an array per simulated CPU,
 * maintenance operations are counted in a log the tests inspect, and
 * physical memory is a buffer at kc_native_phys_base.
 */
#ifndef KC_ARCH_H
#define KC_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include "sysregs.h"

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
typedef int64_t s64;

#define KC_PAGE_SHIFT 12
#define KC_PAGE_SIZE  (1ull << KC_PAGE_SHIFT)

#ifdef KC_TARGET
#ifndef __aarch64__
#error "KC_TARGET needs the AArch64 cross compiler"
#endif

/* KCore runs on an identity map at EL2: a PA is its own VA. */
static inline void *kc_va(u64 pa) { return (void *)(uintptr_t)pa; }
static inline u64 kc_pa(const void *va) { return (u64)(uintptr_t)va; }

#define kc_read_sysreg(r) ({ u64 __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define kc_write_sysreg(v, r) __asm__ volatile("msr " #r ", %0" : : "r"((u64)(v)) : "memory")

static inline void kc_isb(void) { __asm__ volatile("isb" : : : "memory"); }
static inline void kc_dsb_ish(void) { __asm__ volatile("dsb ish" : : : "memory"); }
/* Wait for an event (WFE) / send one to every CPU (SEV) / set this CPU's
 * own event register (SEVL): lock waiters sleep instead of spinning. */
static inline void kc_wfe(void) { __asm__ volatile("wfe" : : : "memory"); }
static inline void kc_sev(void) { __asm__ volatile("sev" : : : "memory"); }
static inline void kc_sevl(void) { __asm__ volatile("sevl" : : : "memory"); }
/* TLBI IPAS2E1IS: stage-2 entries for one IPA, current VMID (VTTBR_EL2). */
static inline void kc_tlbi_ipas2e1is(u64 ipa)
{ __asm__ volatile("tlbi ipas2e1is, %0" : : "r"(ipa >> KC_PAGE_SHIFT) : "memory"); }
/* TLBI VMALLE1IS: stage-1 (and combined) entries of the current VMID. */
static inline void kc_tlbi_vmalle1is(void) { __asm__ volatile("tlbi vmalle1is" : : : "memory"); }
/* TLBI VMALLS12E1IS: every entry of the current VMID, both stages. */
static inline void kc_tlbi_vmalls12e1is(void) { __asm__ volatile("tlbi vmalls12e1is" : : : "memory"); }
static inline void kc_dc_cvac(const void *p) { __asm__ volatile("dc cvac, %0" : : "r"(p) : "memory"); }
static inline void kc_dc_civac(const void *p) { __asm__ volatile("dc civac, %0" : : "r"(p) : "memory"); }
static inline void kc_dc_zva(void *p) { __asm__ volatile("dc zva, %0" : : "r"(p) : "memory"); }

/* Panic: BRK with the reason in x0 (hyp/kcore/README.md). */
static inline __attribute__((noreturn)) void kc_panic(u64 code)
{
    register u64 x0 __asm__("x0") = code;
    __asm__ volatile("brk #0x1" : : "r"(x0) : "memory");
    __builtin_unreachable();
}

#else /* native shims */

#include <stddef.h>

enum kc_native_sr {
    KC_SR_sctlr_el2, KC_SR_tcr_el2, KC_SR_ttbr0_el2, KC_SR_mair_el2, KC_SR_vbar_el2,
    KC_SR_hcr_el2, KC_SR_vtcr_el2, KC_SR_vttbr_el2, KC_SR_esr_el2, KC_SR_far_el2,
    KC_SR_hpfar_el2, KC_SR_elr_el2, KC_SR_spsr_el2, KC_SR_tpidr_el2, KC_SR_mpidr_el1,
    KC_SR_esr_el1, KC_SR_far_el1, KC_SR_elr_el1, KC_SR_spsr_el1, KC_SR_vbar_el1,
    KC_SR_ctr_el0, KC_SR_dczid_el0,
    KC_SR_COUNT
};

enum kc_native_op {
    KC_OP_TLBI_IPAS2E1IS, KC_OP_TLBI_VMALLE1IS, KC_OP_TLBI_VMALLS12E1IS,
    KC_OP_DSB, KC_OP_ISB, KC_OP_DC_CVAC, KC_OP_DC_CIVAC, KC_OP_DC_ZVA,
    KC_OP_COUNT
};

/* The native machine the shims act on (hyp/kcore/native.c). */
#define KC_NATIVE_LOG 4096
struct kc_native {
    unsigned char *phys;                 /* physical memory buffer */
    u64 phys_size;
    unsigned cur_cpu;                    /* the "CPU" running KCore now */
    u64 sr[8][KC_SR_COUNT];              /* up to 8 native CPUs */
    u64 ops[KC_OP_COUNT];                /* how many of each */
    struct { u8 op; u16 vmid; u64 arg; } log[KC_NATIVE_LOG];
    unsigned nlog;
    void (*on_panic)(u64 code);          /* must not return (tests longjmp) */
};
extern struct kc_native kc_native;

static inline void *kc_va(u64 pa) { return kc_native.phys + pa; }
static inline u64 kc_pa(const void *va) { return (u64)((const unsigned char *)va - kc_native.phys); }

#define kc_read_sysreg(r) (kc_native.sr[kc_native.cur_cpu][KC_SR_##r])
#define kc_write_sysreg(v, r) (kc_native.sr[kc_native.cur_cpu][KC_SR_##r] = (u64)(v))

void kc_native_op(enum kc_native_op op, u64 arg);
static inline void kc_isb(void) { kc_native_op(KC_OP_ISB, 0); }
static inline void kc_dsb_ish(void) { kc_native_op(KC_OP_DSB, 0); }
static inline void kc_wfe(void) { }
static inline void kc_sev(void) { }
static inline void kc_sevl(void) { }
static inline void kc_tlbi_ipas2e1is(u64 ipa) { kc_native_op(KC_OP_TLBI_IPAS2E1IS, ipa >> KC_PAGE_SHIFT); }
static inline void kc_tlbi_vmalle1is(void) { kc_native_op(KC_OP_TLBI_VMALLE1IS, 0); }
static inline void kc_tlbi_vmalls12e1is(void) { kc_native_op(KC_OP_TLBI_VMALLS12E1IS, 0); }
static inline void kc_dc_cvac(const void *p) { kc_native_op(KC_OP_DC_CVAC, kc_pa(p)); }
static inline void kc_dc_civac(const void *p) { kc_native_op(KC_OP_DC_CIVAC, kc_pa(p)); }
void kc_dc_zva(void *p);
__attribute__((noreturn)) void kc_panic(u64 code);

#endif /* KC_TARGET */

/* Single-copy-atomic descriptor and word accesses (the compiler must not
 * split, merge or reorder them). */
static inline u64 kc_read_once(const u64 *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void kc_write_once(u64 *p, u64 v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
/* Store with release order: every earlier store (e.g. zeroing a new table
 * page) is visible before this one (STLR). */
static inline void kc_write_release(u64 *p, u64 v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

#endif
