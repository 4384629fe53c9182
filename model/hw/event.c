/*
 * model/hw/event.c - the step-event bus. See event.h.
 */
#include "model/hw/event.h"

#include <stddef.h>

int ev_subscribe(struct ev_bus *b, uint64_t mask, ev_fn fn, void *arg)
{
    if (b->n == EV_MAX_SUBSCRIBERS || !fn)
        return -1;
    b->sub[b->n].mask = mask;
    b->sub[b->n].fn = fn;
    b->sub[b->n].arg = arg;
    b->n++;
    b->any |= mask;
    return 0;
}

void ev_unsubscribe(struct ev_bus *b, ev_fn fn, void *arg)
{
    unsigned k = 0;

    b->any = 0;
    for (unsigned i = 0; i < b->n; i++) {
        if (b->sub[i].fn == fn && b->sub[i].arg == arg)
            continue;
        b->sub[k++] = b->sub[i];
        b->any |= b->sub[i].mask;
    }
    b->n = k;
}

void ev_dispatch(const struct ev_bus *b, const struct ev *e)
{
    uint64_t bit = EV_BIT(e->kind);

    for (unsigned i = 0; i < b->n; i++)
        if (b->sub[i].mask & bit)
            b->sub[i].fn(b->sub[i].arg, e);
}

const char *ev_kind_name(enum ev_kind k)
{
    static const char *const n[EV_KIND_COUNT] = {
        [EV_STEP_BEGIN] = "step-begin", [EV_STEP_END] = "step-end", [EV_ACCESS] = "access",
        [EV_WALK_DESC] = "walk-desc", [EV_TLB_FILL] = "tlb-fill", [EV_TLB_EVICT] = "tlb-evict",
        [EV_TLBI_ISSUE] = "tlbi", [EV_TLBI_COMPLETE] = "tlbi-complete", [EV_DC] = "dc",
        [EV_CACHE_EVICT] = "cache-evict", [EV_BARRIER] = "barrier", [EV_SYSREG_WRITE] = "msr",
        [EV_EXC_ENTRY] = "exception", [EV_ERET] = "eret", [EV_HVC_ISSUE] = "hvc",
        [EV_HVC_RETURN] = "hvc-return", [EV_S2_FAULT] = "s2-fault",
        [EV_S2_FAULT_RETURN] = "s2-fault-return", [EV_VCPU_ENTRY] = "vcpu-entry",
        [EV_INSN] = "insn",
    };
    return (unsigned)k < EV_KIND_COUNT && n[k] ? n[k] : "?";
}
