/*
 * hyp/kcore/native.c - the native shims behind hyp/kcore/arch.h for the unit tests:
 * a physical-memory buffer, system registers per simulated CPU, a log of
 * maintenance operations (with the VMID current when each was issued),
 * DC ZVA as a memset, panic as a callback.
 */
#ifdef KC_TARGET
#error "native.c is for the native unit-test build only"
#endif

#include <stdlib.h>
#include <string.h>
#include "kcore.h"

struct kc_native kc_native;

void kc_native_op(enum kc_native_op op, u64 arg)
{
    struct kc_native *n = &kc_native;

    n->ops[op]++;
    if (n->nlog < KC_NATIVE_LOG) {
        n->log[n->nlog].op = (u8)op;
        n->log[n->nlog].vmid = (u16)((n->sr[n->cur_cpu][KC_SR_vttbr_el2] >> 48) & 0xff);
        n->log[n->nlog].arg = arg;
        n->nlog++;
    }
}

void kc_dc_zva(void *p)
{
    u64 bs = 4ull << (kc_native.sr[kc_native.cur_cpu][KC_SR_dczid_el0] & 0xf);
    u64 pa = kc_pa(p) & ~(bs - 1);

    kc_native_op(KC_OP_DC_ZVA, pa);
    memset(kc_va(pa), 0, bs);
}

void kc_panic(u64 code)
{
    if (kc_native.on_panic)
        kc_native.on_panic(code);
    abort();
}
