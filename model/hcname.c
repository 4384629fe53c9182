/*
 * model/hcname.c - hypercall names, from the hypervisor's table (hyp/hv.h).
 * See hcname.h.
 */
#include "model/hcname.h"

#include "hyp/hv.h"

const char *hc_name(uint64_t hc)
{
    const struct hv_call *c = hv_call_by_nr(hv_default(), hc);
    return c ? c->name : NULL;
}

bool hc_lookup(const char *name, uint64_t *hc)
{
    const struct hv_call *c = hv_call_by_name(hv_default(), name);
    if (c)
        *hc = c->nr;
    return c != NULL;
}
