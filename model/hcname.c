/*
 * model/hcname.c - hypercall names. See hcname.h.
 */
#include "model/hcname.h"

#include <string.h>

#include "hyp/kcore/abi.h"

static const struct { uint64_t hc; const char *name; } names[] = {
    {HC_REGISTER_VM, "register_vm"}, {HC_REGISTER_VCPU, "register_vcpu"},
    {HC_SET_BOOT_INFO, "set_boot_info"}, {HC_VERIFY_VM, "verify_vm"},
    {HC_DONATE, "donate"}, {HC_RUN_VCPU, "run_vcpu"}, {HC_TEARDOWN, "teardown"},
    {HC_GRANT, "grant"}, {HC_REVOKE, "revoke"}, {HC_POWEROFF, "poweroff"},
    {HC_YIELD, "yield"},
};

const char *hc_name(uint64_t hc)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].hc == hc)
            return names[i].name;
    return NULL;
}

bool hc_lookup(const char *name, uint64_t *hc)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(names[i].name, name)) {
            *hc = names[i].hc;
            return true;
        }
    return false;
}
