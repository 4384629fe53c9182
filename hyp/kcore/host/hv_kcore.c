/*
 * hyp/kcore/host/hv_kcore.c - KCore as a hypervisor under test (hyp/hv.h):
 * its layout and boot contract (hyp/kcore/abi.h), how its VMIDs name
 * principals, and its abstraction function - the ownership array (one
 * 8-byte entry per page frame: owner | share count << 16 | gfn << 32) and
 * the published page (the VTTBR of the host and of each VM slot, VM
 * states, the boot flag).
 */
#include "hyp/kcore/host/kc_host.h"

#ifndef HYPSIM_KCORE_DEFAULT
#define HYPSIM_KCORE_DEFAULT "build/hyp/kcore.elf"
#endif

/* VTCR_EL2 of every stage 2 KCore builds (abi.h: T0SZ = 25, SL0 = 1,
 * 4 KiB granule, PS = 2, inner/outer write-back walks, RES1 bit 31). */
#define KC_VTCR 0x80023559ull

static label_t kc_vmid_principal(unsigned vmid)
{
    return vmid == KC_VMID_HOST ? LABEL_HOST : LABEL_VM(vmid - KC_VMID_VM(0));
}

/* KC_OWNER_* is the interface's numbering (hyp/hv.h): host 0, KCore 1,
 * none 2, VM n 3 + n. */
static void kc_page_decode(uint64_t e, struct hv_page *p)
{
    p->owner = KC_OWN_OWNER(e);
    p->count = KC_OWN_COUNT(e);
    p->gfn = KC_OWN_GFN(e);
}

static uint64_t kc_root(const struct hv_mem *mm, unsigned slot)
{
    if (slot >= HV_SLOT_VM(KC_MAX_VMS))
        return 0;
    return mm->word(mm->arg, slot == HV_SLOT_HOST ? KC_PUB_HOST_VTTBR : KC_PUB_VM_VTTBR(slot - 1));
}

static bool kc_booted(const struct hv_mem *mm)
{
    return mm->word(mm->arg, KC_PUB_BOOTED) == 1;
}

static enum hv_word_kind kc_word_kind(uint64_t pa, uint64_t *index)
{
    pa &= ~7ull;
    if (pa >= KC_OWNER_BASE && pa < KC_OWNER_BASE + KC_OWNER_SIZE) {
        *index = (pa - KC_OWNER_BASE) / 8;
        return HV_WORD_OWNER;
    }
    if (pa < KC_PUBLIC_BASE || pa >= KC_PUBLIC_BASE + 0x1000)
        return HV_WORD_NONE;
    if (pa == KC_PUB_HOST_VTTBR) {
        *index = HV_SLOT_HOST;
        return HV_WORD_ROOT;
    }
    if (pa >= KC_PUB_VM_VTTBR(0) && pa < KC_PUB_VM_VTTBR(KC_MAX_VMS)) {
        *index = HV_SLOT_VM((pa - KC_PUB_VM_VTTBR(0)) / 8);
        return HV_WORD_ROOT;
    }
    if (pa == KC_PUB_BOOTED)
        return HV_WORD_BOOTED;
    return HV_WORD_PUBLIC;
}

const struct hv_ops hv_kcore = {
    .name = "kcore",
    .label_name = "KCore",
    .default_image = HYPSIM_KCORE_DEFAULT,
    .layout = {
        .text_base = KC_TEXT_BASE,
        .text_size = KC_TEXT_SIZE,
        .region_end = KC_END,
        .pool_base = KC_POOL_BASE,
        .pool_size = KC_POOL_SIZE,
        .own_base = KC_OWNER_BASE,
        .own_entries = KC_OWNER_SIZE / 8,
        .min_mem = KC_MIN_MEM,
        .max_vms = KC_MAX_VMS,
        .max_vcpus = KC_MAX_VCPUS,
        .vtcr = KC_VTCR,
        .ipa_bits = KC_IPA_BITS,
    },
    .boot = {
        .host_vbar_el1 = KC_HOST_VBAR_EL1,
        .host_entry = KC_HOST_ENTRY,
        .inject_offset = 0x200,
    },
    .vmid_principal = kc_vmid_principal,
    .page_decode = kc_page_decode,
    .root = kc_root,
    .booted = kc_booted,
    .word_kind = kc_word_kind,
    .call = kc_call_info,
    .adversary = &kc_adversary,
    .checkers = kc_checkers,
};
