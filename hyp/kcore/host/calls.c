/*
 * hyp/kcore/host/calls.c - KCore's hypercall table: one row per call with
 * everything the simulator knows of it - its number and names, how the
 * adversary makes its arguments, its footprint in the abstract state, its
 * pure L2 specification, its return check and its ghost effect (kc_host.h
 * struct kc_row). A new hypercall is its guest code (hyp/kcore/abi.h,
 * hypercall.c) and one row here.
 *
 * The specification (docs/LAYERS.md): the abstract state is per page owner,
 * share count and gfn, per VM its state, registered vCPUs and boot info.
 * Each spec is pure: (pre, call) -> (post, legal results); any legal result
 * other than `expect` means "failed, nothing changed"; HC_ENOMEM is loose
 * wherever KCore may need a table page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp/kcore/host/kc_host.h"


/* ---- Shared pieces ---------------------------------------------------------- */

static struct l2_page *page_of(struct l2_state *s, uint64_t pfn)
{
    for (unsigned i = 0; i < s->npages; i++)
        if (s->page[i].pfn == pfn)
            return &s->page[i];
    return NULL;
}

static bool donatable(const struct l2_page *p)
{
    return p && p->pfn >= L2_KC_END_PFN && p->owner == KC_OWNER_HOST && p->count == 0;
}

/* A host call naming VM vm: it must exist. */
static int64_t vm_check(const struct l2_state *s, uint64_t vm)
{
    if (vm >= KC_MAX_VMS || s->vm_state[vm] == VM_STATE_FREE)
        return HC_EINVAL;
    return HC_OK;
}

/* The footprint every host call naming a VM starts with: that VM's state.
 * False when the VM is out of range (EINVAL: nothing read). */
static bool fp_host_vm(struct l2_slot *s)
{
    uint64_t vm = s->call.arg[0];
    if (vm >= KC_MAX_VMS)
        return false;
    l2_fp_read(s, KEY(K_VMSTATE, vm, 0));
    return true;
}

static bool args_vm(struct machine *m, struct kc_adv *a, bool (*pred)(const struct host_vm *),
                    uint64_t arg[4])
{
    int vm = kc_pick_vm(m, a, pred);
    if (vm < 0)
        return false;
    arg[0] = (uint64_t)vm;
    return true;
}

/* ---- HC_REGISTER_VM ----------------------------------------------------------- */

static bool gen_register_vm(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint,
                            uint64_t arg[4])
{
    unsigned nused = 0;
    (void)cpu;
    (void)hint;
    (void)arg;
    for (int i = 0; i < KC_MAX_VMS; i++)
        nused += a->vm[i].used;
    return nused + a->registering < m->cfg.nvms;
}

static void fp_register_vm(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    (void)m;
    (void)ls;
    for (unsigned i = 0; i < KC_MAX_VMS; i++) {
        l2_fp_read(s, KEY(K_VMSTATE, i, 0));
        if (s->pre.vm_state[i] == VM_STATE_FREE)
            l2_fp_write(s, KEY(K_VMALL, i, 0));
    }
}

static void spec_register_vm(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                             struct l2_verdict *v)
{
    (void)c;
    v->expect = HC_ENOMEM;                     /* no free slot */
    v->loose = LOOSE(HC_ENOMEM);               /* or no table page for the root */
    for (unsigned i = 0; i < KC_MAX_VMS; i++)
        if (pre->vm_state[i] == VM_STATE_FREE) {
            v->expect = (int64_t)i;
            post->vm_state[i] = VM_STATE_REGISTERED;
            post->vcpus[i] = 0;
            post->image_pages[i] = post->image_hash[i] = 0;
            break;
        }
}

/* ---- HC_REGISTER_VCPU ---------------------------------------------------------- */

static bool gen_register_vcpu(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint,
                              uint64_t arg[4])
{
    (void)cpu;
    (void)hint;
    return args_vm(m, a, kc_vm_needs_vcpu, arg);
}

static void fp_register_vcpu(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    (void)m;
    (void)ls;
    if (fp_host_vm(s))
        l2_fp_write(s, KEY(K_VCPU, s->call.arg[0], s->call.arg[1]));
}

static void spec_register_vcpu(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                               struct l2_verdict *v)
{
    uint64_t vm = c->arg[0];
    if (c->arg[1] >= KC_MAX_VCPUS || (v->expect = vm_check(pre, vm)) != HC_OK)
        v->expect = HC_EINVAL;
    else if (pre->vm_state[vm] != VM_STATE_REGISTERED && pre->vm_state[vm] != VM_STATE_VERIFIED)
        v->expect = HC_ESTATE;
    else if (pre->vcpus[vm] & (1u << c->arg[1]))
        v->expect = HC_EINVAL;                 /* already registered */
    else
        post->vcpus[vm] |= 1u << c->arg[1];
}

static void ghost_register_vcpu(struct layers_state *ls, const struct l2_call *c)
{
    uint64_t vm = c->arg[0];
    if (c->arg[1] < KC_MAX_VCPUS) {
        ls->vcpus[vm] |= 1u << c->arg[1];
        ls->resume[vm][c->arg[1]].armed = false;
    }
}

/* ---- HC_SET_BOOT_INFO ------------------------------------------------------------ */

static bool gen_set_boot_info(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint,
                              uint64_t arg[4])
{
    uint64_t mem_pages = m->ms.mem.size >> MEM_PAGE_SHIFT;
    unsigned n;
    uint64_t pfn;

    (void)cpu;
    (void)hint;
    if (!args_vm(m, a, kc_vm_needs_image, arg))
        return false;
    n = 1 + machine_choose(m, 2);
    pfn = a->next_free_pfn;
    if (pfn + n > mem_pages)
        pfn = a->next_free_pfn = KC_HOST_FIRST_FREE_PFN;
    for (unsigned i = 0; i < n; i++)
        kc_host_alloc_pfn(m, a);
    arg[1] = pfn;
    arg[2] = n;
    arg[3] = kc_image_hash_pfns(m, pfn, n);
    return true;
}

static void fp_set_boot_info(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    uint64_t vm = s->call.arg[0], pfn = s->call.arg[1], n = s->call.arg[2];
    struct l2_state *st = &s->pre;

    (void)ls;
    if (!fp_host_vm(s))
        return;
    l2_fp_write(s, KEY(K_IMAGE, vm, 0));
    if (n == 0 || n > KC_MAX_IMAGE_PAGES || pfn >= st->mem_pages || n > st->mem_pages - pfn)
        return;
    for (uint64_t i = 0; i < n; i++) {
        l2_add_page(m, s, pfn + i);
        l2_fp_write(s, KEY(K_GFN, vm, i));
        if (layers_l2_vm_map(m, (unsigned)vm, i) != L2_PFN_NONE)
            st->gfn_mapped = true;
    }
}

static void spec_set_boot_info(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                               struct l2_verdict *v)
{
    uint64_t vm = c->arg[0], pfn = c->arg[1], n = c->arg[2];
    if (n == 0 || n > KC_MAX_IMAGE_PAGES || pfn >= pre->mem_pages || n > pre->mem_pages - pfn ||
        vm_check(pre, vm) != HC_OK)
        v->expect = HC_EINVAL;
    else if (pre->vm_state[vm] != VM_STATE_REGISTERED || pre->image_pages[vm])
        v->expect = HC_ESTATE;
    else if (pre->gfn_mapped)
        v->expect = HC_EINVAL;                 /* a gfn of the image is mapped */
    else {
        v->loose = LOOSE(HC_ENOMEM);
        v->expect = HC_OK;
        for (uint64_t i = 0; i < n; i++)
            if (!donatable(page_of(post, pfn + i)))
                v->expect = HC_EPERM;
        if (v->expect == HC_OK) {
            for (uint64_t i = 0; i < n; i++) {
                struct l2_page *p = page_of(post, pfn + i);
                p->owner = KC_OWNER_VM(vm);
                p->count = 0;
                p->gfn = i;
                p->host = L2_HOST_UNMAPPED;
            }
            post->image_pages[vm] = n;
            post->image_hash[vm] = c->arg[3];
        }
    }
}

static void ghost_set_boot_info(struct layers_state *ls, const struct l2_call *c)
{
    ls->image_pages[c->arg[0]] = c->arg[2];
    ls->image_hash[c->arg[0]] = c->arg[3];
}

/* ---- HC_VERIFY_VM ----------------------------------------------------------------- */

static bool gen_verify_vm(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint,
                          uint64_t arg[4])
{
    (void)cpu;
    (void)hint;
    return args_vm(m, a, kc_vm_needs_verify, arg);
}

static void fp_verify_vm(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    uint64_t vm = s->call.arg[0];
    struct l2_state *st = &s->pre;

    if (!fp_host_vm(s))
        return;
    l2_fp_write(s, KEY(K_VMSTATE, vm, 0));
    l2_fp_read(s, KEY(K_IMAGE, vm, 0));
    for (uint64_t i = 0; i < ls->image_pages[vm] && i < KC_MAX_IMAGE_PAGES; i++)
        l2_fp_read(s, KEY(K_GFN, vm, i));
    st->image_now_hash = l2_image_hash_now(m, (unsigned)vm, ls->image_pages[vm], &st->image_mapped);
}

static void spec_verify_vm(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                           struct l2_verdict *v)
{
    uint64_t vm = c->arg[0];
    if ((v->expect = vm_check(pre, vm)) != HC_OK)
        return;
    if (pre->vm_state[vm] != VM_STATE_REGISTERED || !pre->image_pages[vm])
        v->expect = HC_ESTATE;
    else if (pre->image_mapped && pre->image_now_hash == pre->image_hash[vm])
        post->vm_state[vm] = VM_STATE_VERIFIED;
    else {
        v->expect = HC_EHASH;                  /* never runs: powered off */
        post->vm_state[vm] = VM_STATE_POWEROFF;
    }
}

/* The image may have changed under the call without a write: a clean line
 * over memory the host wrote non-cacheably, evicted (the coherent view of a
 * page the host gave away). Either hash is legal. */
static bool recheck_verify_vm(const struct machine *m, const struct l2_slot *s, int64_t r)
{
    struct l2_state *alt;
    char why[200];
    bool ok = false;

    if (s->call.arg[0] >= KC_MAX_VMS || !(alt = malloc(sizeof(*alt))))
        return false;
    *alt = s->pre;
    alt->image_now_hash = l2_image_hash_now(m, (unsigned)s->call.arg[0], alt->image_pages[s->call.arg[0]],
                                            &alt->image_mapped);
    ok = (alt->image_now_hash != s->pre.image_now_hash || alt->image_mapped != s->pre.image_mapped) &&
         l2_check_call(m, &s->call, alt, r, why, sizeof(why));
    free(alt);
    return ok;
}

/* ---- HC_DONATE ---------------------------------------------------------------------- */

static bool gen_donate(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint,
                       uint64_t arg[4])
{
    struct host_vm *v;
    int vm;

    (void)cpu;
    (void)hint;
    if ((vm = kc_pick_vm(m, a, kc_vm_wants_page)) < 0 && (vm = kc_pick_vm(m, a, kc_vm_runnable)) < 0)
        return false;
    v = &a->vm[vm];
    arg[2] = v->want_donate ? v->next_gfn_fault : machine_choose(m, KC_GUEST_GFNS);
    v->want_donate = false;
    arg[0] = (uint64_t)vm;
    arg[1] = kc_host_alloc_pfn(m, a);
    return true;
}

static void fp_donate(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    uint64_t vm = s->call.arg[0];
    struct l2_state *st = &s->pre;

    (void)ls;
    if (!fp_host_vm(s))
        return;
    if (s->call.arg[1] < st->mem_pages)
        l2_add_page(m, s, s->call.arg[1]);
    if (s->call.arg[2] < L2_IPA_PAGES) {
        l2_fp_write(s, KEY(K_GFN, vm, s->call.arg[2]));
        st->gfn_mapped = layers_l2_vm_map(m, (unsigned)vm, s->call.arg[2]) != L2_PFN_NONE;
    }
}

static void spec_donate(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                        struct l2_verdict *v)
{
    uint64_t vm = c->arg[0], pfn = c->arg[1], gfn = c->arg[2];
    if (pfn >= pre->mem_pages || gfn >= L2_IPA_PAGES || vm_check(pre, vm) != HC_OK)
        v->expect = HC_EINVAL;
    else if (pre->vm_state[vm] != VM_STATE_REGISTERED && pre->vm_state[vm] != VM_STATE_VERIFIED)
        v->expect = HC_ESTATE;
    else if (pre->gfn_mapped)
        v->expect = HC_EINVAL;                 /* gfn already mapped */
    else {
        struct l2_page *p = page_of(post, pfn);
        v->loose = LOOSE(HC_ENOMEM);
        if (!donatable(p))
            v->expect = HC_EPERM;
        else {
            p->owner = KC_OWNER_VM(vm);
            p->count = 0;
            p->gfn = gfn;
            p->host = L2_HOST_UNMAPPED;        /* the host loses what it gave */
        }
    }
}

/* ---- HC_RUN_VCPU ---------------------------------------------------------------------- */

static bool gen_run_vcpu(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint,
                         uint64_t arg[4])
{
    (void)cpu;
    (void)hint;
    return args_vm(m, a, kc_vm_runnable, arg);
}

static void fp_run_vcpu(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    (void)m;
    (void)ls;
    if (!fp_host_vm(s))
        return;
    l2_fp_read(s, KEY(K_VCPU, s->call.arg[0], s->call.arg[1]));
    l2_fp_write(s, KEY(K_RUN, s->call.arg[0], s->call.arg[1]));
}

static void spec_run_vcpu(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                          struct l2_verdict *v)
{
    uint64_t vm = c->arg[0];
    (void)post;
    if (c->arg[1] >= KC_MAX_VCPUS || vm_check(pre, vm) != HC_OK)
        v->expect = HC_EINVAL;
    else if (pre->vm_state[vm] != VM_STATE_VERIFIED)
        v->expect = HC_ESTATE;
    else if (!(pre->vcpus[vm] & (1u << c->arg[1])))
        v->expect = HC_EINVAL;                 /* vCPU not registered */
    else {
        v->expect = RUN_EXIT_YIELD;
        v->exit_any = true;                    /* whichever exit the guest took */
    }
}

/* ---- HC_TEARDOWN ------------------------------------------------------------------------ */

static bool gen_teardown(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t hint,
                         uint64_t arg[4])
{
    (void)cpu;
    (void)hint;
    return args_vm(m, a, kc_vm_off, arg);
}

static void fp_teardown(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    uint64_t vm = s->call.arg[0], at = 0, pfn;

    (void)ls;
    if (!fp_host_vm(s))
        return;
    l2_fp_write(s, KEY(K_VMALL, vm, 0));
    l2_fp_write(s, KEY(K_VMSTATE, vm, 0));
    while ((pfn = l2_next_vm_page(m, (unsigned)vm, &at)) != ~0ull)
        l2_add_page(m, s, pfn);
}

static void spec_teardown(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                          struct l2_verdict *v)
{
    uint64_t vm = c->arg[0];
    if ((v->expect = vm_check(pre, vm)) != HC_OK)
        return;
    if (pre->vm_state[vm] != VM_STATE_POWEROFF) {
        v->expect = HC_ESTATE;
        return;
    }
    for (unsigned i = 0; i < post->npages; i++) {
        post->page[i].owner = KC_OWNER_HOST;
        post->page[i].count = 0;
        post->page[i].gfn = 0;
    }
    post->vm_state[vm] = VM_STATE_FREE;
    post->vcpus[vm] = 0;
    post->image_pages[vm] = post->image_hash[vm] = 0;
}

/* A freed VM owns nothing, not even a page its footprint missed. */
static bool post_teardown(const struct machine *m, const struct l2_call *c, const struct l2_state *want,
                          char *why, size_t n)
{
    unsigned vm = (unsigned)c->arg[0];
    if (vm < KC_MAX_VMS && want->vm_state[vm] == VM_STATE_FREE) {
        uint64_t at = 0, pfn = l2_next_vm_page(m, vm, &at);
        if (pfn != ~0ull) {
            snprintf(why, n, "page %#llx is still owned by VM %u, the spec says it owns nothing",
                     (unsigned long long)(pfn << MEM_PAGE_SHIFT), vm);
            return false;
        }
    }
    return true;
}

static void ghost_teardown(struct layers_state *ls, const struct l2_call *c)
{
    l2_ghost_free(ls, (unsigned)c->arg[0]);  /* seen as no FREE publication: hand-built states */
}

/* ---- Guests: HC_GRANT, HC_REVOKE, HC_POWEROFF, HC_YIELD -------------------------------------- */

/* grant a page it has used (so it is mapped), mostly */
static bool gen_grant(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t gfn, uint64_t arg[4])
{
    unsigned vm = m->cpu[cpu].guest_vm;
    if (vm < KC_MAX_VMS && a->guest_mapped[vm] && machine_choose(m, 8)) {
        uint64_t mask = a->guest_mapped[vm];
        unsigned k = machine_choose(m, (uint32_t)__builtin_popcountll(mask));
        while (k--)
            mask &= mask - 1;
        gfn = (uint64_t)__builtin_ctzll(mask);
    }
    arg[0] = gfn;
    return true;
}

/* revoke what it granted, mostly */
static bool gen_revoke(struct machine *m, struct kc_adv *a, unsigned cpu, uint64_t gfn, uint64_t arg[4])
{
    unsigned vm = m->cpu[cpu].guest_vm;
    if (vm < KC_MAX_VMS && gfn < 64 && !a->guest_granted[vm][gfn] && machine_choose(m, 8))
        for (unsigned g = 0; g < KC_GUEST_GFNS; g++)
            if (a->guest_granted[vm][g]) {
                gfn = g;
                break;
            }
    arg[0] = gfn;
    return true;
}

static void fp_share(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    const struct l2_call *c = &s->call;
    uint64_t pfn = layers_l2_vm_map(m, c->vm, c->arg[0]);

    (void)ls;
    l2_fp_read(s, KEY(K_GFN, c->vm, c->arg[0]));
    s->pre.gfn_mapped = pfn != L2_PFN_NONE;
    if (s->pre.gfn_mapped)
        l2_add_page(m, s, pfn);
}

static void spec_share(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                       struct l2_verdict *v)
{
    struct l2_page *p = post->npages ? &post->page[0] : NULL;

    if (!p || !pre->gfn_mapped)
        v->expect = HC_EINVAL;                 /* gfn not mapped */
    else if (p->owner != KC_OWNER_VM(c->vm) || p->gfn != c->arg[0])
        v->expect = HC_EPERM;
    else if (c->hc == HC_GRANT && p->count >= 0xffffu)
        v->expect = HC_EINVAL;                 /* count would overflow */
    else if (c->hc == HC_REVOKE && p->count == 0)
        v->expect = HC_EINVAL;                 /* nothing to revoke */
    else {
        v->expect = HC_OK;
        p->count = c->hc == HC_GRANT ? p->count + 1 : p->count - 1;
        if (p->count == 0)
            p->host = L2_HOST_UNMAPPED;        /* the last grant gone: the host loses it */
    }
}

static void fp_poweroff(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    (void)m;
    (void)ls;
    l2_fp_write(s, KEY(K_VMSTATE, s->call.vm, 0));
}

static void spec_poweroff(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                          struct l2_verdict *v)
{
    (void)pre;
    v->expect = HC_OK;
    if (c->vm < KC_MAX_VMS)
        post->vm_state[c->vm] = VM_STATE_POWEROFF;
}

static void spec_yield(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                       struct l2_verdict *v)
{
    (void)pre;
    (void)c;
    (void)post;
    v->expect = HC_OK;
}

/* ---- The table ------------------------------------------------------------------------------ */

static const struct kc_row rows[] = {
    { .info = { HC_REGISTER_VM, "register_vm", "HC_REGISTER_VM", false, false },
      .gen = gen_register_vm, .footprint = fp_register_vm, .inherit = LIN_INHERIT_SLOTS,
      .spec = spec_register_vm, .vm_from_result = true },
    { .info = { HC_REGISTER_VCPU, "register_vcpu", "HC_REGISTER_VCPU", false, false },
      .gen = gen_register_vcpu, .adversarial = true, .footprint = fp_register_vcpu,
      .spec = spec_register_vcpu, .reads_ghost = true, .writes_ghost = true, .ghost = ghost_register_vcpu },
    { .info = { HC_SET_BOOT_INFO, "set_boot_info", "HC_SET_BOOT_INFO", false, false },
      .gen = gen_set_boot_info, .adversarial = true, .footprint = fp_set_boot_info,
      .spec = spec_set_boot_info, .reads_ghost = true, .writes_ghost = true, .ghost = ghost_set_boot_info },
    { .info = { HC_VERIFY_VM, "verify_vm", "HC_VERIFY_VM", false, false },
      .gen = gen_verify_vm, .adversarial = true, .footprint = fp_verify_vm, .spec = spec_verify_vm,
      .recheck = recheck_verify_vm, .reads_ghost = true },
    { .info = { HC_DONATE, "donate", "HC_DONATE", false, false },
      .gen = gen_donate, .adversarial = true, .footprint = fp_donate, .spec = spec_donate },
    { .info = { HC_RUN_VCPU, "run_vcpu", "HC_RUN_VCPU", false, false },
      .gen = gen_run_vcpu, .adversarial = true, .footprint = fp_run_vcpu, .spec = spec_run_vcpu,
      .reads_ghost = true },
    { .info = { HC_TEARDOWN, "teardown", "HC_TEARDOWN", false, false },
      .gen = gen_teardown, .adversarial = true, .footprint = fp_teardown, .inherit = LIN_INHERIT_PAGES,
      .spec = spec_teardown, .post_check = post_teardown, .ghost = ghost_teardown },
    { .info = { HC_GRANT, "grant", "HC_GRANT", true, false },
      .gen = gen_grant, .adversarial = true, .footprint = fp_share, .inherit = LIN_INHERIT_PAGES,
      .spec = spec_share },
    { .info = { HC_REVOKE, "revoke", "HC_REVOKE", true, false },
      .gen = gen_revoke, .footprint = fp_share, .inherit = LIN_INHERIT_PAGES, .spec = spec_share },
    { .info = { HC_POWEROFF, "poweroff", "HC_POWEROFF", true, true },
      .footprint = fp_poweroff, .spec = spec_poweroff },
    { .info = { HC_YIELD, "yield", "HC_YIELD", true, true },
      .spec = spec_yield },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

const struct kc_row *kc_row(uint64_t nr)
{
    for (unsigned i = 0; i < NROWS; i++)
        if (rows[i].info.nr == nr)
            return &rows[i];
    return NULL;
}

const struct hv_call *kc_call_info(unsigned i)
{
    return i < NROWS ? &rows[i].info : NULL;
}

unsigned kc_adversarial(const struct kc_row **out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < NROWS && n < max; i++)
        if (rows[i].adversarial)
            out[n++] = &rows[i];
    return n;
}
