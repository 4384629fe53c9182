/*
 * hyp/kcore/hypercall.c - KCore's exception handling: hypercalls from the host
 * and from guests, host stage-2 faults (lazy identity map, or a fault
 * injected back into the host), guest exits, and the world switch between
 * the host and a vCPU.
 *
 * Every argument comes from an adversary and is checked before use. Each
 * hypercall either fails with nothing changed or completes; the order of
 * the steps inside one keeps the isolation invariants at every instruction
 * (DESIGN.md): a page leaves a principal's stage 2 and TLBs (unmap, TLBI,
 * DSB) before its owner changes, and is mapped for its new owner after.
 */
#include "kcore.h"

#define IPA_PAGES (1ull << (KC_IPA_BITS - KC_PAGE_SHIFT))

struct kc_cpu *kc_this_cpu(void)
{
    return (struct kc_cpu *)(uintptr_t)kc_read_sysreg(tpidr_el2);
}

static void regs_copy(struct kc_regs *d, const struct kc_regs *s)
{
    u64 *dw = (u64 *)d;
    const u64 *sw = (const u64 *)s;
    for (unsigned i = 0; i < sizeof(*d) / 8; i++)
        kc_write_once(&dw[i], kc_read_once(&sw[i]));
}

static void regs_reset(struct kc_regs *r, u64 elr)
{
    u64 *w = (u64 *)r;
    for (unsigned i = 0; i < sizeof(*r) / 8; i++)
        kc_write_once(&w[i], 0);
    r->elr = elr;
    r->spsr = KC_SPSR_EL1H;
}

static bool pfn_in_memory(u64 pfn) { return pfn < kc.mem_pages; }
static __attribute__((unused)) bool owner_is_vm(unsigned o) { return o >= KC_OWNER_VM(0) && o < KC_OWNER_VM(KC_MAX_VMS); }

/* ---- TLB maintenance for the host's stage 2 ---------------------------- */
/* Invalidate the host's translations of ipa: TLBI IPAS2E1IS, DSB, TLBI
 * VMALLE1IS (combined stage-1+2 entries), DSB, all under VMID 0. From a
 * guest's context VTTBR_EL2 is switched to the host's for the TLBIs. */
static void host_tlb_flush_ipa(u64 ipa)
{
    u64 cur = kc_read_sysreg(vttbr_el2);
#ifdef KC_MUTANT_TLBI_WRONG_VMID
    bool sw = false;                   /* TLBIs go to whatever VMID is current */
#else
    bool sw = cur != kc.host_vttbr;
#endif

    if (sw) {
        kc_write_sysreg(kc.host_vttbr, vttbr_el2);
        kc_isb();
    }
    kc_tlbi_ipas2e1is(ipa);
    kc_dsb_ish();
    kc_tlbi_vmalle1is();
    kc_dsb_ish();
    if (sw) {
        kc_write_sysreg(cur, vttbr_el2);
        kc_isb();
    }
}

/* ---- Host hypercalls ---------------------------------------------------- */
static s64 hc_register_vm(void)
{
    s64 ret = HC_ENOMEM;

    kc_lock(&kc.vms_lock);
    for (unsigned i = 0; i < KC_MAX_VMS; i++) {
        struct kc_vm *vm = &kc.vm[i];
        if (kc_read_once(&vm->state) != VM_STATE_FREE)
            continue;
        kc_lock(&vm->lock);
        if (kc_pgt_init(&vm->s2, 1, KC_IPA_BITS, &kc_pool_ops) != KC_PGT_OK) {
            kc_unlock(&vm->lock);
            break;                                    /* pool empty: HC_ENOMEM */
        }
        vm->vttbr = vm->s2.root | ((u64)KC_VMID_VM(i) << KC_VTTBR_VMID_SHIFT);
        vm->busy = false;
        vm->image_pages = 0;
        vm->image_hash = 0;
        vm->ipa_end = 0;
        vm->nrunning = 0;
        for (unsigned v = 0; v < KC_MAX_VCPUS; v++) {
            vm->vcpu[v].registered = false;
            vm->vcpu[v].running_on = 0;
        }
        vm->state = VM_STATE_REGISTERED;
        kc_publish(KC_PUB_VM_VTTBR(i), vm->vttbr);
        kc_publish(KC_PUB_VM_STATE(i), VM_STATE_REGISTERED);
        kc_unlock(&vm->lock);
        ret = (s64)i;
        break;
    }
    kc_unlock(&kc.vms_lock);
    return ret;
}

/* Lock VM idx and check it exists and is not busy. Returns the VM locked,
 * or NULL with *err set (and nothing locked). */
static struct kc_vm *vm_lock_checked(u64 idx, s64 *err)
{
    struct kc_vm *vm;

    if (idx >= KC_MAX_VMS) {
        *err = HC_EINVAL;
        return NULL;
    }
    vm = &kc.vm[idx];
    kc_lock(&vm->lock);
    if (vm->state == VM_STATE_FREE)
        *err = HC_EINVAL;
    else if (vm->busy)
        *err = HC_EBUSY;
    else
        return vm;
    kc_unlock(&vm->lock);
    return NULL;
}

static s64 hc_register_vcpu(u64 idx, u64 vcpu)
{
    s64 ret = HC_OK;
    struct kc_vm *vm;

    if (vcpu >= KC_MAX_VCPUS)
        return HC_EINVAL;
    if (!(vm = vm_lock_checked(idx, &ret)))
        return ret;
    if (vm->state != VM_STATE_REGISTERED && vm->state != VM_STATE_VERIFIED)
        ret = HC_ESTATE;
    else if (vm->vcpu[vcpu].registered)
        ret = HC_EINVAL;
    else {
        regs_reset(&vm->vcpu[vcpu].regs, 0);          /* guest entry: IPA 0 */
        vm->vcpu[vcpu].running_on = 0;
        vm->vcpu[vcpu].registered = true;
    }
    kc_unlock(&vm->lock);
    return ret;
}

/* Can the host give page pfn away? (host_lock held) */
static s64 host_page_donatable(u64 pfn)
{
#ifdef KC_MUTANT_DONATE_NO_CHECK
    (void)pfn;
    return HC_OK;
#else
    u64 e = kc_owner_get(pfn);
    if (pfn < KC_END_PFN || KC_OWN_OWNER(e) != KC_OWNER_HOST || KC_OWN_COUNT(e) != 0)
        return HC_EPERM;
    return HC_OK;
#endif
}

/* Take pfn out of the host's stage 2 and TLBs (host_lock held, VTTBR is
 * the host's). The caller completes the TLBI with host_tlb_finish(). */
static void host_unmap_start(u64 pfn)
{
#ifdef KC_MUTANT_TLBI_BEFORE_UNMAP
    kc_tlbi_ipas2e1is(pfn << KC_PAGE_SHIFT);          /* invalidate, then unmap: */
    kc_dsb_ish();                                      /* a walk in between refills */
    kc_pgt_unmap(&kc.host_s2, pfn << KC_PAGE_SHIFT, KC_PAGE_SIZE);
#elif defined(KC_MUTANT_TLBI_WRONG_IPA)
    kc_pgt_unmap(&kc.host_s2, pfn << KC_PAGE_SHIFT, KC_PAGE_SIZE);
    kc_tlbi_ipas2e1is(pfn);                            /* a frame number, not an IPA */
#else
    kc_pgt_unmap(&kc.host_s2, pfn << KC_PAGE_SHIFT, KC_PAGE_SIZE);
#ifndef KC_MUTANT_NO_TLBI_DONATE
    kc_tlbi_ipas2e1is(pfn << KC_PAGE_SHIFT);
#endif
#endif
}

static void host_tlb_finish(void)
{
#if defined(KC_MUTANT_TLBI_NO_DSB)
    kc_tlbi_vmalle1is();                               /* left pending: no DSB */
#elif !defined(KC_MUTANT_NO_TLBI_DONATE)
    kc_dsb_ish();
    kc_tlbi_vmalle1is();
    kc_dsb_ish();
#endif
}

/* Give pfn (already out of the host's stage 2 and TLBs) to VM idx at gfn
 * (host_lock and the VM's lock held; the VM's tables for gfn exist). */
/* Tables for [0, end) of the VM's IPA space may exist from now on. */
static void vm_note_ipa_end(struct kc_vm *vm, u64 end)
{
    if (end > vm->ipa_end)
        vm->ipa_end = end;
}

static void give_to_vm(struct kc_vm *vm, u64 idx, u64 pfn, u64 gfn)
{
    kc_owner_set(pfn, KC_OWN_MAKE(KC_OWNER_VM(idx), 0, gfn));
    if (kc_pgt_map(&vm->s2, gfn << KC_PAGE_SHIFT, KC_PAGE_SIZE, pfn << KC_PAGE_SHIFT,
                   KC_S2_RAM, 3) != KC_PGT_OK)
        kc_panic(KC_PANIC_BUG);                        /* checked and preallocated */
}

static s64 hc_set_boot_info(u64 idx, u64 pfn, u64 n, u64 hash)
{
    s64 ret = HC_OK;
    struct kc_vm *vm;

    if (n == 0 || n > KC_MAX_IMAGE_PAGES || !pfn_in_memory(pfn) || n > kc.mem_pages - pfn)
        return HC_EINVAL;
    if (!(vm = vm_lock_checked(idx, &ret)))
        return ret;
    if (vm->state != VM_STATE_REGISTERED || vm->image_pages) {
        ret = HC_ESTATE;
        goto out;
    }
    for (u64 i = 0; i < n; i++)
        if (kc_pgt_lookup(&vm->s2, i << KC_PAGE_SHIFT, NULL)) {
            ret = HC_EINVAL;                           /* gfn already mapped */
            goto out;
        }
    vm_note_ipa_end(vm, n << KC_PAGE_SHIFT);
    if (kc_pgt_prealloc(&vm->s2, 0, n << KC_PAGE_SHIFT) != KC_PGT_OK) {
        ret = HC_ENOMEM;
        goto out;
    }
    kc_lock(&kc.host_lock);
    for (u64 i = 0; i < n && ret == HC_OK; i++)
        ret = host_page_donatable(pfn + i);
    if (ret == HC_OK) {
        for (u64 i = 0; i < n; i++)
            host_unmap_start(pfn + i);
        host_tlb_finish();
        for (u64 i = 0; i < n; i++)
            give_to_vm(vm, idx, pfn + i, i);
        vm->image_pages = n;
        vm->image_hash = hash;
    }
    kc_unlock(&kc.host_lock);
out:
    kc_unlock(&vm->lock);
    return ret;
}

/* FNV-1a 64 over one page, read through KCore's own (identity) mapping. */
static u64 fnv_page(u64 h, u64 pa)
{
    const u64 *w = kc_va(pa);
    /* Unrolled: register-only instructions run in the step of the next
     * load or branch (cpu/image.h), so a loop branch per byte would cost a
     * simulated step per byte. */
#pragma GCC unroll 4
    for (unsigned i = 0; i < KC_PAGE_SIZE / 8; i++) {
        u64 v = kc_read_once(&w[i]);
#pragma GCC unroll 8
        for (unsigned b = 0; b < 8; b++) {
            h = (h ^ (v & 0xff)) * KC_FNV_PRIME;
            v >>= 8;
        }
    }
    return h;
}

static s64 hc_verify_vm(u64 idx)
{
    s64 ret = HC_OK;
    struct kc_vm *vm;
    u64 n, want, h = KC_FNV_OFFSET;
    bool ok = true;

    if (!(vm = vm_lock_checked(idx, &ret)))
        return ret;
    if (vm->state != VM_STATE_REGISTERED || !vm->image_pages) {
        kc_unlock(&vm->lock);
        return HC_ESTATE;
    }
    /* Hashing is long: do it unlocked with the VM marked busy (every
     * hypercall that could change the VM's memory refuses a busy VM). */
    vm->busy = true;
    n = vm->image_pages;
    want = vm->image_hash;
    kc_unlock(&vm->lock);

    for (u64 gfn = 0; gfn < n && ok; gfn++) {
        int level;
        u64 pte = kc_pgt_lookup(&vm->s2, gfn << KC_PAGE_SHIFT, &level);
        if (!pte || level != 3)
            ok = false;
        else
            h = fnv_page(h, kc_pte_addr(pte));
    }
    ok = ok && h == want;

    kc_lock(&vm->lock);
    vm->busy = false;
    /* A VM whose image does not match can never run: it is left powered
     * off, so the host can only tear it down. */
#ifdef KC_MUTANT_VERIFY_NO_POWEROFF                    /* a refused image stays registered */
    vm->state = ok ? VM_STATE_VERIFIED : VM_STATE_REGISTERED;
#else
    vm->state = ok ? VM_STATE_VERIFIED : VM_STATE_POWEROFF;
#endif
    kc_publish(KC_PUB_VM_STATE(idx), vm->state);
    kc_unlock(&vm->lock);
    return ok ? HC_OK : HC_EHASH;
}

static s64 hc_donate(u64 idx, u64 pfn, u64 gfn)
{
    s64 ret = HC_OK;
    struct kc_vm *vm;

    if (!pfn_in_memory(pfn) || gfn >= IPA_PAGES)
        return HC_EINVAL;
    if (!(vm = vm_lock_checked(idx, &ret)))
        return ret;
    if (vm->state != VM_STATE_REGISTERED && vm->state != VM_STATE_VERIFIED)
        ret = HC_ESTATE;
    else if (kc_pgt_lookup(&vm->s2, gfn << KC_PAGE_SHIFT, NULL))
        ret = HC_EINVAL;                               /* gfn already mapped */
    else if ((vm_note_ipa_end(vm, (gfn + 1) << KC_PAGE_SHIFT),
              kc_pgt_prealloc(&vm->s2, gfn << KC_PAGE_SHIFT, KC_PAGE_SIZE)) != KC_PGT_OK)
        ret = HC_ENOMEM;
    if (ret != HC_OK)
        goto out;
#ifndef KC_MUTANT_OWNER_NO_LOCK
    kc_lock(&kc.host_lock);
#endif
    ret = host_page_donatable(pfn);
    if (ret == HC_OK) {
        host_unmap_start(pfn);
        host_tlb_finish();
        give_to_vm(vm, idx, pfn, gfn);
    }
#ifndef KC_MUTANT_OWNER_NO_LOCK
    kc_unlock(&kc.host_lock);
#endif
out:
    kc_unlock(&vm->lock);
    return ret;
}

/* Enter vCPU (idx, vcpu) on this CPU: on success the frame holds the
 * guest's registers and VTTBR_EL2 is the VM's; the host's frame waits in
 * the per-CPU state until the guest exits. */
static s64 hc_run_vcpu(struct kc_cpu *cpu, struct kc_regs *f, u64 idx, u64 vcpu)
{
    s64 ret = HC_OK;
    struct kc_vm *vm;
    struct kc_vcpu *v;

    if (vcpu >= KC_MAX_VCPUS)
        return HC_EINVAL;
    if (!(vm = vm_lock_checked(idx, &ret)))
        return ret;
    v = &vm->vcpu[vcpu];
    if (vm->state != VM_STATE_VERIFIED)
        ret = HC_ESTATE;
    else if (!v->registered)
        ret = HC_EINVAL;
    else if (v->running_on)
        ret = HC_EBUSY;
    else {
        v->running_on = (u32)cpu->idx + 1;
        vm->nrunning++;
    }
    kc_unlock(&vm->lock);
    if (ret != HC_OK)
        return ret;

    regs_copy(&cpu->host, f);
    cpu->vcpu = (u32)vcpu;
    cpu->vm = (u32)idx;
    kc_write_sysreg(vm->vttbr, vttbr_el2);
    kc_isb();
    regs_copy(f, &v->regs);
    return HC_OK;
}

/* ---- Teardown ------------------------------------------------------------ */
/* Pass 1 (VTTBR = host's): shared pages leave the host's stage 2. */
static int teardown_unshare(struct kc_walk_ctx *ctx, enum kc_walk_flags visit)
{
    u64 pfn, e;

    (void)visit;
    if (!kc_pte_is_leaf(ctx->old, ctx->level))
        return 0;
    pfn = kc_pte_addr(ctx->old) >> KC_PAGE_SHIFT;
    kc_lock(&kc.host_lock);
    e = kc_owner_get(pfn);
    if (KC_OWN_COUNT(e)) {
        /* Unmap and invalidate before the count says "not shared". */
        kc_pgt_unmap(&kc.host_s2, pfn << KC_PAGE_SHIFT, KC_PAGE_SIZE);
        host_tlb_flush_ipa(pfn << KC_PAGE_SHIFT);
        kc_owner_set(pfn, KC_OWN_MAKE(KC_OWN_OWNER(e), 0, KC_OWN_GFN(e)));
    }
    kc_unlock(&kc.host_lock);
    return 0;
}

/* Pass 2 (VTTBR = the VM's): unmap, invalidate, scrub, clean, give back;
 * table pages are unlinked and freed after their subtree. */
#ifdef KC_MUTANT_TABLE_ZERO_LATE
static void reclaim_page(u64 pfn)
{
    kc_zero_page(pfn << KC_PAGE_SHIFT);
    kc_clean_inval_page(pfn << KC_PAGE_SHIFT);
    kc_dsb_ish();
    kc_lock(&kc.host_lock);
    kc_owner_set(pfn, KC_OWN_MAKE(KC_OWNER_HOST, 0, KC_GFN_NONE));
    kc_unlock(&kc.host_lock);
}

/* Teardown by whole leaf tables: unlink the level-3 table, invalidate,
 * then reclaim every page it maps and free it with its descriptors left
 * in place (the allocator is trusted to clear it). */
static int teardown_reclaim_table(struct kc_walk_ctx *ctx)
{
    u64 *t = kc_va(kc_pte_addr(ctx->old));

    kc_write_once(ctx->ptep, 0);
    kc_tlbi_vmalls12e1is();
    kc_dsb_ish();
    for (unsigned i = 0; i < KC_PTRS_PER_TABLE; i++) {
        u64 pte = kc_read_once(&t[i]);
        if (kc_pte_is_leaf(pte, 3))
            reclaim_page(kc_pte_addr(pte) >> KC_PAGE_SHIFT);
    }
    kc_pool_free(kc_pte_addr(ctx->old));
    return 0;
}
#endif

static int teardown_reclaim(struct kc_walk_ctx *ctx, enum kc_walk_flags visit)
{
    u64 pfn;

#ifdef KC_MUTANT_TABLE_ZERO_LATE
    if (visit == KC_WALK_TABLE_POST && ctx->level == 2)
        return teardown_reclaim_table(ctx);
    if (visit == KC_WALK_LEAF && ctx->level == 3)
        return 0;                                      /* reclaimed with its table */
#endif
    if (visit == KC_WALK_TABLE_POST) {
        kc_write_once(ctx->ptep, 0);
        kc_pool_free(kc_pte_addr(ctx->old));
        return 0;
    }
    if (!kc_pte_is_leaf(ctx->old, ctx->level))
        return 0;
    if (ctx->level != 3)
        kc_panic(KC_PANIC_BUG);                        /* VMs have pages only */
    pfn = kc_pte_addr(ctx->old) >> KC_PAGE_SHIFT;
    kc_write_once(ctx->ptep, 0);
#ifndef KC_MUTANT_TEARDOWN_NO_TLBI
    kc_tlbi_vmalls12e1is();
    kc_dsb_ish();
#endif
#ifdef KC_MUTANT_TEARDOWN_OWNER_FIRST
    kc_lock(&kc.host_lock);
    kc_owner_set(pfn, KC_OWN_MAKE(KC_OWNER_HOST, 0, KC_GFN_NONE));
    kc_unlock(&kc.host_lock);
#endif
#ifndef KC_MUTANT_NO_SCRUB
    kc_zero_page(pfn << KC_PAGE_SHIFT);
#endif
#ifndef KC_MUTANT_NO_CLEAN
    kc_clean_inval_page(pfn << KC_PAGE_SHIFT);
#endif
    kc_dsb_ish();
    kc_lock(&kc.host_lock);
    kc_owner_set(pfn, KC_OWN_MAKE(KC_OWNER_HOST, 0, KC_GFN_NONE));
    kc_unlock(&kc.host_lock);
    return 0;
}

static s64 hc_teardown(u64 idx)
{
    s64 ret = HC_OK;
    struct kc_vm *vm;
    struct kc_walker w = { .cb = teardown_unshare, .flags = KC_WALK_LEAF };
    u64 space;

    if (!(vm = vm_lock_checked(idx, &ret)))
        return ret;
    if (vm->state != VM_STATE_POWEROFF)
        ret = HC_ESTATE;
    else if (vm->nrunning)
        ret = HC_EBUSY;
    else
        vm->busy = true;                               /* long: work unlocked */
    /* Nothing is mapped at or above ipa_end: walk only below it (the
     * table pages covering it are all below it too). */
    space = vm->ipa_end;
    kc_unlock(&vm->lock);
    if (ret != HC_OK)
        return ret;

    kc_pgt_walk(&vm->s2, 0, space, &w);

    kc_write_sysreg(vm->vttbr, vttbr_el2);
    kc_isb();
    w.cb = teardown_reclaim;
    w.flags = KC_WALK_LEAF | KC_WALK_TABLE_POST;
    kc_pgt_walk(&vm->s2, 0, space, &w);
#ifndef KC_MUTANT_TEARDOWN_NO_TLBI
    kc_tlbi_vmalls12e1is();
    kc_dsb_ish();
#endif
    kc_write_sysreg(kc.host_vttbr, vttbr_el2);
    kc_isb();

    /* The checkers stop walking the VM's tables before the root goes. */
    kc_lock(&kc.vms_lock);
    kc_lock(&vm->lock);
    kc_publish(KC_PUB_VM_VTTBR(idx), 0);
    kc_pool_free(vm->s2.root);
    vm->s2.root = 0;
    vm->vttbr = 0;
    vm->image_pages = 0;
    vm->image_hash = 0;
    vm->ipa_end = 0;
    for (unsigned v = 0; v < KC_MAX_VCPUS; v++)
        vm->vcpu[v].registered = false;
    vm->busy = false;
    vm->state = VM_STATE_FREE;
    kc_publish(KC_PUB_VM_STATE(idx), VM_STATE_FREE);
    kc_unlock(&vm->lock);
    kc_unlock(&kc.vms_lock);
    return HC_OK;
}

/* ---- Host stage-2 faults -------------------------------------------------- */
static u64 hpfar_ipa(void)
{
    u64 hpfar = kc_read_sysreg(hpfar_el2);
    return ((hpfar >> 4) & ((1ull << 40) - 1)) << KC_PAGE_SHIFT;   /* FIPA */
}

/* Refuse the host's access: a synchronous exception at the host's EL1
 * vector (Arm ARM D1.10), with ESR/FAR as KCore saw them. */
static void inject_host(struct kc_regs *f, u64 esr)
{
    kc_write_sysreg(esr, esr_el1);
    kc_write_sysreg(kc_read_sysreg(far_el2), far_el1);
    kc_write_sysreg(f->elr, elr_el1);
    kc_write_sysreg(f->spsr, spsr_el1);
    f->elr = kc_read_sysreg(vbar_el1) + 0x200;        /* current EL, SPx, synchronous */
    f->spsr = KC_SPSR_EL1H;
}

static void host_s2_fault(struct kc_regs *f, u64 esr)
{
    u64 ipa = hpfar_ipa(), pfn = ipa >> KC_PAGE_SHIFT, e;
    bool ok = false;

    if ((esr & KC_FSC_TRANS_MASK) == KC_FSC_TRANS && pfn_in_memory(pfn)) {
        kc_lock(&kc.host_lock);
        e = kc_owner_get(pfn);
#ifdef KC_MUTANT_HOST_FAULT_NO_CHECK
        (void)e;
        ok = true;
#else
        ok = (KC_OWN_OWNER(e) == KC_OWNER_HOST && pfn >= KC_END_PFN) ||
             (owner_is_vm(KC_OWN_OWNER(e)) && KC_OWN_COUNT(e) > 0);
#endif
        if (ok) {
            int r = kc_pgt_map(&kc.host_s2, ipa, KC_PAGE_SIZE, ipa, KC_S2_RAM, 3);
            ok = r == KC_PGT_OK || r == KC_PGT_EEXIST;    /* EEXIST: another CPU mapped it */
        }
        kc_unlock(&kc.host_lock);
    }
    if (!ok)
        inject_host(f, esr);
    /* else: ELR unchanged, the host retries the access. */
}

static void handle_host(struct kc_cpu *cpu, struct kc_regs *f, u64 esr)
{
    u64 ec = esr >> KC_ESR_EC_SHIFT;
    s64 ret;

    if (ec == KC_EC_DABT_LOW || ec == KC_EC_IABT_LOW) {
        host_s2_fault(f, esr);
        return;
    }
    if (ec != KC_EC_HVC64) {
        inject_host(f, esr);
        return;
    }
    switch (f->x[0]) {
    case HC_REGISTER_VM:   ret = hc_register_vm(); break;
    case HC_REGISTER_VCPU: ret = hc_register_vcpu(f->x[1], f->x[2]); break;
    case HC_SET_BOOT_INFO: ret = hc_set_boot_info(f->x[1], f->x[2], f->x[3], f->x[4]); break;
    case HC_VERIFY_VM:     ret = hc_verify_vm(f->x[1]); break;
    case HC_DONATE:        ret = hc_donate(f->x[1], f->x[2], f->x[3]); break;
    case HC_RUN_VCPU:
        ret = hc_run_vcpu(cpu, f, f->x[1], f->x[2]);
        if (ret == HC_OK)
            return;                                    /* the frame is the guest's now */
        break;
    case HC_TEARDOWN:      ret = hc_teardown(f->x[1]); break;
    default:               ret = HC_ENOSYS; break;
    }
    f->x[0] = (u64)ret;
}

/* ---- Guests ---------------------------------------------------------------- */
/* Leave the guest: save its registers, switch back to the host's stage 2,
 * then let the vCPU go (so a teardown never frees tables a CPU still has
 * in VTTBR_EL2), and return from the host's HC_RUN_VCPU. */
static void guest_exit(struct kc_cpu *cpu, struct kc_regs *f, u64 reason, u64 info)
{
    struct kc_vm *vm = &kc.vm[cpu->vm];
    struct kc_vcpu *v = &vm->vcpu[cpu->vcpu];

    regs_copy(&v->regs, f);
    kc_write_sysreg(kc.host_vttbr, vttbr_el2);
    kc_isb();
    kc_lock(&vm->lock);
    v->running_on = 0;
    vm->nrunning--;
    kc_unlock(&vm->lock);
    cpu->vm = KC_NO_VM;
    regs_copy(f, &cpu->host);
    f->x[0] = reason;
    f->x[1] = info;
}

/* Find the page a guest's gfn maps (VM lock held): its pfn, or ~0. */
static u64 guest_pfn(struct kc_vm *vm, u64 gfn)
{
    int level;
    u64 pte;

    if (gfn >= IPA_PAGES)
        return ~0ull;
    pte = kc_pgt_lookup(&vm->s2, gfn << KC_PAGE_SHIFT, &level);
    if (!pte || level != 3)
        return ~0ull;
    return kc_pte_addr(pte) >> KC_PAGE_SHIFT;
}

static void share_end(struct kc_vm *vm)
{
    kc_unlock(&kc.host_lock);
    kc_unlock(&vm->lock);
}

/* GRANT and REVOKE: lock the VM, then the ownership array, and find the
 * page VM idx owns at gfn. Returns its pfn (entry in *e) with both locks
 * held, or ~0 with *ret set and no lock held. */
static u64 share_begin(struct kc_vm *vm, u64 idx, u64 gfn, u64 *e, s64 *ret)
{
    u64 pfn;

    kc_lock(&vm->lock);
    pfn = guest_pfn(vm, gfn);
    if (pfn == ~0ull) {
        *ret = HC_EINVAL;
        kc_unlock(&vm->lock);
        return ~0ull;
    }
    kc_lock(&kc.host_lock);
    *e = kc_owner_get(pfn);
    if (KC_OWN_OWNER(*e) != KC_OWNER_VM(idx) || KC_OWN_GFN(*e) != gfn) {
        *ret = HC_EPERM;
        share_end(vm);
        return ~0ull;
    }
    return pfn;
}

static s64 hc_grant(u64 idx, u64 gfn)
{
    struct kc_vm *vm = &kc.vm[idx];
    s64 ret = HC_OK;
    u64 pfn, e;

    if ((pfn = share_begin(vm, idx, gfn, &e, &ret)) == ~0ull)
        return ret;
#ifdef KC_MUTANT_GRANT_OVERFLOW                        /* 2-bit count, no overflow check */
    kc_owner_set(pfn, KC_OWN_MAKE(KC_OWNER_VM(idx), (KC_OWN_COUNT(e) + 1) & 3u, gfn));
#else
    if (KC_OWN_COUNT(e) >= 0xffffu)
        ret = HC_EINVAL;                               /* share count would overflow */
#ifndef KC_MUTANT_GRANT_NOOP                           /* success without counting the grant */
    else
        kc_owner_set(pfn, KC_OWN_MAKE(KC_OWNER_VM(idx), KC_OWN_COUNT(e) + 1, gfn));
#endif
#endif
    share_end(vm);
    return ret;
}

static s64 hc_revoke(u64 idx, u64 gfn)
{
    struct kc_vm *vm = &kc.vm[idx];
    s64 ret = HC_OK;
    u64 pfn, e;

    if ((pfn = share_begin(vm, idx, gfn, &e, &ret)) == ~0ull)
        return ret;
    if (KC_OWN_COUNT(e) == 0) {
#ifndef KC_MUTANT_REVOKE_ZERO_OK                       /* revoking nothing "succeeds" */
        ret = HC_EINVAL;                               /* nothing to revoke */
#endif
    } else {
        /* The last grant: the host loses the page (mapping, then TLB
         * entries) while the count still allows it, then the count drops. */
#ifndef KC_MUTANT_REVOKE_NO_UNMAP
        if (KC_OWN_COUNT(e) == 1) {
            kc_pgt_unmap(&kc.host_s2, pfn << KC_PAGE_SHIFT, KC_PAGE_SIZE);
            host_tlb_flush_ipa(pfn << KC_PAGE_SHIFT);
        }
#endif
        kc_owner_set(pfn, KC_OWN_MAKE(KC_OWNER_VM(idx), KC_OWN_COUNT(e) - 1, gfn));
    }
    share_end(vm);
    return ret;
}

static void handle_guest(struct kc_cpu *cpu, struct kc_regs *f, u64 esr)
{
    u64 ec = esr >> KC_ESR_EC_SHIFT;
    u64 idx = cpu->vm;
    struct kc_vm *vm = &kc.vm[idx];

    /* Another vCPU powered the VM off: this one stops at its next exit. */
    if (kc_read_once(&vm->state) == VM_STATE_POWEROFF) {
        guest_exit(cpu, f, RUN_EXIT_POWEROFF, 0);
        return;
    }
    if (ec == KC_EC_DABT_LOW || ec == KC_EC_IABT_LOW) {
        guest_exit(cpu, f, RUN_EXIT_S2FAULT, hpfar_ipa());   /* ELR kept: retried */
        return;
    }
    if (ec != KC_EC_HVC64) {
        guest_exit(cpu, f, RUN_EXIT_YIELD, 0);
        return;
    }
    switch (f->x[0]) {
    case HC_GRANT:
        f->x[0] = (u64)hc_grant(idx, f->x[1]);
        return;
    case HC_REVOKE:
        f->x[0] = (u64)hc_revoke(idx, f->x[1]);
        return;
    case HC_POWEROFF:
        kc_lock(&vm->lock);
        vm->state = VM_STATE_POWEROFF;
        kc_publish(KC_PUB_VM_STATE(idx), VM_STATE_POWEROFF);
        kc_unlock(&vm->lock);
        f->x[0] = HC_OK;
        guest_exit(cpu, f, RUN_EXIT_POWEROFF, 0);
        return;
    case HC_YIELD:
        f->x[0] = HC_OK;
        guest_exit(cpu, f, RUN_EXIT_YIELD, 0);
        return;
    default:
        f->x[0] = (u64)HC_ENOSYS;
        return;
    }
}

void kc_handle_sync(struct kc_regs *f)
{
    struct kc_cpu *cpu = kc_this_cpu();
    u64 esr = kc_read_sysreg(esr_el2);

    if (cpu->vm == KC_NO_VM)
        handle_host(cpu, f, esr);
    else
        handle_guest(cpu, f, esr);
}
