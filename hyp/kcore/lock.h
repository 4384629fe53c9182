/*
 * hyp/kcore/lock.h - KCore's spinlock: a ticket lock on LSE atomics (LDADDA to
 * take a ticket, LDAR to wait (sleeping in WFE), STLR + SEV to release). FIFO, so no CPU starves
 * under an adversarial schedule; the wait is bounded (KC_SPIN_MAX polls),
 * after which KCore panics with KC_PANIC_DEADLOCK rather than hang.
 * No load/store-exclusive instruction is used (hyp/kcore/README.md).
 */
#ifndef KC_LOCK_H
#define KC_LOCK_H

#include "abi.h"
#include "arch.h"
#include "mutants.h"

#define KC_SPIN_MAX (1u << 20)

typedef struct {
    u64 next;    /* next ticket to hand out */
    u64 owner;   /* ticket now holding the lock */
} kc_lock_t;

static inline void kc_lock(kc_lock_t *l)
{
#ifdef KC_MUTANT_LOCK_NOP
    (void)l;
#else
    u64 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
    /* Sleep in WFE between polls; kc_unlock sends SEV. The event register
     * latches, so an SEV between the poll and the WFE is not lost; SEVL
     * makes the first WFE fall through. */
    kc_sevl();
    for (u32 i = 0; i < KC_SPIN_MAX; i++) {
        kc_wfe();
        if (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) == me)
            return;
    }
    kc_panic(KC_PANIC_DEADLOCK);
#endif
}

static inline void kc_unlock(kc_lock_t *l)
{
#ifdef KC_MUTANT_LOCK_NOP
    (void)l;
#else
    /* Only the holder writes owner: a plain read then a release store. */
    __atomic_store_n(&l->owner, __atomic_load_n(&l->owner, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELEASE);
    kc_sev();
#endif
}

#endif
