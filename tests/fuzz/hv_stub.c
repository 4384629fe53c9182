/*
 * tests/fuzz/hv_stub.c - the hypervisor interface as the reader fuzzers
 * need it (hv_default(): KCore's layout and hypercall names), without the
 * rest of the simulator that the real registry links in (its checkers and
 * adversary need the whole machine). The names follow hyp/kcore/abi.h and
 * must match hyp/kcore/host/calls.c; test_hv checks the real table.
 */
#include <stddef.h>

#include "hyp/hv.h"
#include "hyp/kcore/abi.h"

static const struct hv_call calls[] = {
    { HC_REGISTER_VM, "register_vm", "HC_REGISTER_VM", false, false },
    { HC_REGISTER_VCPU, "register_vcpu", "HC_REGISTER_VCPU", false, false },
    { HC_SET_BOOT_INFO, "set_boot_info", "HC_SET_BOOT_INFO", false, false },
    { HC_VERIFY_VM, "verify_vm", "HC_VERIFY_VM", false, false },
    { HC_DONATE, "donate", "HC_DONATE", false, false },
    { HC_RUN_VCPU, "run_vcpu", "HC_RUN_VCPU", false, false },
    { HC_TEARDOWN, "teardown", "HC_TEARDOWN", false, false },
    { HC_GRANT, "grant", "HC_GRANT", true, false },
    { HC_REVOKE, "revoke", "HC_REVOKE", true, false },
    { HC_POWEROFF, "poweroff", "HC_POWEROFF", true, true },
    { HC_YIELD, "yield", "HC_YIELD", true, true },
};

static const struct hv_call *call(unsigned i)
{
    return i < sizeof(calls) / sizeof(calls[0]) ? &calls[i] : NULL;
}

static const struct hv_ops stub = {
    .name = "kcore", .label_name = "KCore", .default_image = "build/hyp/kcore.elf",
    .layout = { .text_base = KC_TEXT_BASE, .text_size = KC_TEXT_SIZE, .region_end = KC_END,
                .min_mem = KC_MIN_MEM, .max_vms = KC_MAX_VMS, .max_vcpus = KC_MAX_VCPUS },
    .call = call,
};

const struct hv_ops *hv_default(void)
{
    return &stub;
}
