/*
 * hyp/registry.c - the hypervisors hypsim can run. A new implementation
 * adds its folder under hyp/ and one line here (hyp/CONTRACT.md).
 */
#include <string.h>

#include "hyp/hv.h"

extern const struct hv_ops hv_kcore;

static const struct hv_ops *const registry[] = {
    &hv_kcore,
};

const struct hv_ops *hv_nth(unsigned n)
{
    return n < sizeof(registry) / sizeof(registry[0]) ? registry[n] : NULL;
}

const struct hv_ops *hv_default(void)
{
    return registry[0];
}

const struct hv_ops *hv_find(const char *name)
{
    for (unsigned i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}
