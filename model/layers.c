/*
 * model/layers.c - L1 refinement and the L2 specification, checked against
 * L0 on every run. See layers.h and docs/LAYERS.md.
 *
 * L1 (flat): after each KCore step, every read the step made is replayed on
 * the flat machine - an atomic walk of the current EL2 stage-1 tables read
 * through the coherent view, then the coherent value at the PA found.
 *
 * L2 (spec): each hypercall's footprint (the pages, VM states, gfn mappings
 * and vCPUs it reads or writes) is captured at issue, the pure spec
 * l2_spec() gives the post-state, and at the call's return the abstraction
 * of L0 on the footprint must equal it. Stage-2 faults are checked the same
 * way, as calls: a fault is issued when the principal's access faults (the
 * exception entry to EL2, model/actor.c) and returns at KCore's ERET to EL1
 * on that CPU (the host resumes; a guest's fault returns when its vCPU's
 * exit reaches the host); l2_spec_fault() gives the post-state and the
 * legal outcomes, read from the CPU (the ERET's ELR, ELR/ESR/FAR/SPSR_EL1
 * of an injected exception, the host's x0/x1 after a guest's exit). A
 * fault uses its CPU's slot for that principal: a principal has one
 * hypercall or one faulting access in flight at a time. That a vCPU
 * re-enters at its faulting PC is checked at its next entry.
 *
 * Linearization. A hypercall takes effect somewhere between its issue and
 * its return (at the KCore lock that guards what it changes). The check
 * uses the state captured at issue as the state at that point, which is
 * right when no other call changed the footprint in between. Every change
 * of owners, counts, gfns and VM states is itself a hypercall (only KCore
 * writes the ownership array, the published page and the stage-2 tables,
 * inside hypercalls and fault handlers, and the fault handlers change only
 * the host's stage 2), so it is enough to know which calls overlap in
 * time: when call Y writes an item call X reads or writes and their
 * [issue, return] intervals overlap, X is checked no further ("skipped",
 * counted by layers_spec_skipped() / layers_fault_skipped()); KCore's locks
 * make the two calls serialisable in some order, and either order is
 * legal. Non-overlapping calls are checked exactly (deterministic result,
 * apart from the loose results HC_ENOMEM of table allocation).
 *
 * A footprint is captured at issue, so a call tainted by another may touch
 * pages its footprint misses: a GRANT of a gfn that a concurrent DONATE
 * maps counts the donated page; a TEARDOWN reclaims a page a concurrent
 * DONATE gives its VM; a REGISTER_VM takes a slot a concurrent TEARDOWN
 * frees. Such an item is in the tainting call's footprint, so a tainted
 * GRANT, REVOKE or TEARDOWN inherits the tainting call's written pages, a
 * tainted REGISTER_VM its written VM slots (taint()), and
 * the calls its larger write set now reaches are tainted in turn, until
 * nothing changes (open_slot()). A campaign on the correct KCore found the
 * GRANT case (a host fault on the page, checked against the pre-grant
 * state) before this rule.
 *
 * Faults in that scheme: a host fault reads its page (owner, count, and
 * the host's mapping of it); a guest fault reads the VM's state and the
 * gfn's mapping. A fault writes no footprint item: its one effect, the
 * host's mapping of its page, is read only by the specs of the calls that
 * take the page from the host (DONATE, SET_BOOT_INFO, the last REVOKE),
 * and those end with it unmapped in either order (KCore checks the owner
 * and maps under host_lock; those calls change the owner and unmap under
 * it); and it is idempotent (two faults on one page both end with it
 * mapped: KCore's map finds EEXIST). So faults taint nothing, and a hypercall that writes the
 * page, the VM state or the gfn taints a fault in flight. One exception:
 * when the host's handler refuses a mapping it could have made (the loose
 * outcome: out of table memory), a concurrent fault on the same page may
 * have mapped it, so the check accepts the host's mapping before or after.
 * An outcome no serialisation allows (an ERET anywhere else, a wrong
 * syndrome or exit reason) is reported even for a fault that is skipped.
 */
#include "model/layers.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* VTCR_EL2 of every stage 2 KCore builds (hyp/kcore/abi.h: T0SZ = 25, SL0 = 1,
 * 4 KiB granule, PS = 2, inner/outer write-back walks, RES1 bit 31). */
#define L2_VTCR      0x80023559ull
#define L2_IPA_PAGES (1ull << (KC_IPA_BITS - MEM_PAGE_SHIFT))
#define L2_KC_END_PFN (KC_END >> MEM_PAGE_SHIFT)
#define LOOSE(e)     (1u << (unsigned)(-(e)))
#define L2_MAX_KEYS  (L2_MAX_PAGES + 2 * KC_MAX_IMAGE_PAGES + 2 * KC_MAX_VMS + 8)
/* ESR_ELx (Arm ARM D17.2.37): EC, and the DFSC/IFSC of an abort; a
 * translation fault at level LL is 0b0001LL. HPFAR_EL2.FIPA: bits [43:4]. */
#define L2_ESR_EC(e)        (((e) >> 26) & 0x3fu)
#define L2_EC_IABT_LOW      0x20u
#define L2_EC_DABT_LOW      0x24u
#define L2_FSC_TRANS(e)     (((e) & 0x3cu) == 0x04u)
#define L2_HPFAR_IPA(h)     ((((h) >> 4) & ((1ull << 40) - 1)) << MEM_PAGE_SHIFT)
#define L2_VECTOR_SYNC_SPX  0x200u  /* current EL with SPx, synchronous (D1.10.2) */

/* ---- Coherent view -------------------------------------------------------- */

static uint64_t rd(const struct machine *m, uint64_t pa)
{
    return cache_coherent_word(&m->ms.cache, pa);
}

static int coh_read_desc(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    const struct machine *m = arg;
    label_t l;

    (void)cacheable;                       /* L1 has no cache: every walk is coherent */
    return cache_read_coherent(&m->ms.cache, pa, 8, desc, &l) == MEM_OK ? 0 : -1;
}

static void bind_coherent(const struct machine *m, struct mmu_ctx *ctx)
{
    ctx->ops.read_desc = coh_read_desc;
    ctx->ops.write_desc = NULL;            /* L1 observes, never updates AF/DBM */
    ctx->ops.arg = (void *)(uintptr_t)m;
    ctx->ha = ctx->hd = false;
}

/* ---- L1 refinement -------------------------------------------------------- */

int layers_l1_read(const struct machine *m, const struct mmu_ctx *ctx, uint64_t va,
                   unsigned size, uint64_t *pa, uint64_t *val)
{
    struct mmu_ctx c = *ctx;
    struct mmu_result r;
    struct mmu_fault f;
    label_t l;

    bind_coherent(m, &c);
    if (mmu_translate(&c, va, MMU_ACC_READ, false, &r, &f) != 0)
        return -1;
    if (cache_read_coherent(&m->ms.cache, r.pa, size, val, &l) != MEM_OK)
        return -1;
    *pa = r.pa;
    return 0;
}

static bool overlaps(uint64_t a, unsigned an, uint64_t b, unsigned bn)
{
    return a < b + bn && b < a + an;
}

unsigned layers_check_refinement(struct machine *m, unsigned cpu)
{
    const struct cpu *c = &m->cpu[cpu];
    unsigned n = 0;

    for (unsigned i = 0; i < c->nacc; i++) {
        const struct msys_access *a = &c->acc[i];
        uint64_t pa1 = 0, v1 = 0;
        bool rmw = false;

        if (a->acc != MMU_ACC_READ)
            continue;
        for (unsigned j = i + 1; j < c->nacc; j++)
            if (c->acc[j].acc == MMU_ACC_WRITE && overlaps(a->pa, a->size, c->acc[j].pa, c->acc[j].size))
                rmw = true;
        n++;
        if (layers_l1_read(m, &c->el2, a->va, a->size, &pa1, &v1) != 0) {
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_HYP, LABEL_HYP,
                              "L1 refinement: KCore read VA %#llx at PA %#llx (value %#llx%s) but "
                              "the flat walk of the current tables faults: stale TLB entry",
                              (unsigned long long)a->va, (unsigned long long)a->pa,
                              (unsigned long long)a->val, a->tlb_hit ? ", TLB hit" : "");
            return n;
        }
        if (pa1 != a->pa) {
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_HYP, LABEL_HYP,
                              "L1 refinement: KCore read VA %#llx at PA %#llx (value %#llx%s), the flat "
                              "machine at PA %#llx (value %#llx): stale TLB entry",
                              (unsigned long long)a->va, (unsigned long long)a->pa,
                              (unsigned long long)a->val, a->tlb_hit ? ", TLB hit" : "",
                              (unsigned long long)pa1, (unsigned long long)v1);
            return n;
        }
        if (!rmw && v1 != a->val) {
            const struct cache_line *l = cache_find(&m->ms.cache, a->pa);
            const char *cause =
                a->cache != CACHE_BYPASS ? "the cache returned a value other than the coherent one"
                : l && l->dirty ? "stale memory under a dirty line read with the cache bypassed"
                : l ? "memory differs from a clean line (non-cacheable write under it), read with the cache bypassed"
                    : "memory changed under the read";
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_HYP, a->label,
                              "L1 refinement: KCore read VA %#llx = PA %#llx (%u bytes): value %#llx, "
                              "the flat machine %#llx: %s",
                              (unsigned long long)a->va, (unsigned long long)a->pa, a->size,
                              (unsigned long long)a->val, (unsigned long long)v1, cause);
            return n;
        }
    }
    return n;
}

/* ---- L2: the abstraction of L0 -------------------------------------------- */

static bool owner_is_vm(unsigned o) { return o >= KC_OWNER_VM(0) && o < KC_OWNER_VM(KC_MAX_VMS); }

/* A read of ipa through the stage 2 rooted at vttbr, walked atomically
 * through the coherent view. 0 or -1 (*f says why). */
static int coh_walk_s2(const struct machine *m, uint64_t vttbr, uint64_t ipa, struct mmu_result *r,
                       struct mmu_fault *f)
{
    struct mmu_ctx ctx;

    memset(&ctx, 0, sizeof(ctx));
    ctx.regime = MMU_REGIME_EL10;
    ctx.s2.vm = true;
    ctx.s2.vttbr = vttbr;
    ctx.s2.vtcr = L2_VTCR;
    bind_coherent(m, &ctx);
    return mmu_translate_s2(&ctx, ipa, MMU_ACC_READ, true, r, f);
}

uint64_t layers_l2_vm_map(const struct machine *m, unsigned vm, uint64_t gfn)
{
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t vttbr;

    if (vm >= KC_MAX_VMS || gfn >= L2_IPA_PAGES || !(vttbr = rd(m, KC_PUB_VM_VTTBR(vm))))
        return L2_PFN_NONE;
    if (coh_walk_s2(m, vttbr, gfn << MEM_PAGE_SHIFT, &r, &f) != 0 || r.s2_level != 3)
        return L2_PFN_NONE;
    return r.pa >> MEM_PAGE_SHIFT;
}

enum l2_host_map layers_l2_host_map(const struct machine *m, uint64_t pfn)
{
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t vttbr;

    if (pfn >= L2_IPA_PAGES || !(vttbr = rd(m, KC_PUB_HOST_VTTBR)))
        return L2_HOST_UNMAPPED;
    if (coh_walk_s2(m, vttbr, pfn << MEM_PAGE_SHIFT, &r, &f) != 0)
        return f.type == MMU_FAULT_TRANSLATION ? L2_HOST_UNMAPPED : L2_HOST_OTHER;
    if (r.s2_level == 3 && r.pa >> MEM_PAGE_SHIFT == pfn &&
        (r.s2_perms & (MMU_P_R | MMU_P_W)) == (MMU_P_R | MMU_P_W))
        return L2_HOST_IDENTITY;
    return L2_HOST_OTHER;
}

void layers_l2_page(const struct machine *m, uint64_t pfn, struct l2_page *p)
{
    uint64_t e = pfn < KC_OWNER_SIZE / 8 ? rd(m, KC_OWNER_BASE + 8 * pfn)
                                         : KC_OWN_MAKE(KC_OWNER_NONE, 0, 0);
    p->pfn = pfn;
    p->owner = KC_OWN_OWNER(e);
    p->count = KC_OWN_COUNT(e);
    p->gfn = 0;
    p->host = L2_HOST_UNTRACKED;
    if (owner_is_vm(p->owner)) {
        uint64_t g = KC_OWN_GFN(e);
        p->gfn = layers_l2_vm_map(m, p->owner - KC_OWNER_VM(0), g) == pfn ? g : L2_GFN_UNMAPPED;
    }
}

/* FNV-1a over the VM's gfns [0, n) as mapped now (abi.h image hash);
 * *mapped = every gfn is mapped. */
static uint64_t image_hash_now(const struct machine *m, unsigned vm, uint64_t n, bool *mapped)
{
    uint64_t h = KC_FNV_OFFSET;

    *mapped = true;
    for (uint64_t g = 0; g < n; g++) {
        uint64_t pfn = layers_l2_vm_map(m, vm, g);
        if (pfn == L2_PFN_NONE) {
            *mapped = false;
            return h;
        }
        for (uint64_t pa = pfn << MEM_PAGE_SHIFT; pa < (pfn + 1) << MEM_PAGE_SHIFT; pa += 8) {
            uint64_t w = rd(m, pa);
            for (int b = 0; b < 8; b++)
                h = (h ^ ((w >> (8 * b)) & 0xff)) * KC_FNV_PRIME;
        }
    }
    return h;
}

/* ---- L2: the specification ------------------------------------------------- */

/* post = pre, pages past npages left alone (nothing reads them). */
static void state_copy(struct l2_state *post, const struct l2_state *pre)
{
    memcpy(post, pre, offsetof(struct l2_state, page) + pre->npages * sizeof(pre->page[0]));
}

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

static void spec_guest(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
                       struct l2_verdict *v)
{
    struct l2_page *p = post->npages ? &post->page[0] : NULL;

    switch (c->hc) {
    case HC_GRANT:
    case HC_REVOKE:
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
        break;
    case HC_POWEROFF:
        v->expect = HC_OK;
        if (c->vm < KC_MAX_VMS)
            post->vm_state[c->vm] = VM_STATE_POWEROFF;
        break;
    case HC_YIELD:
        v->expect = HC_OK;
        break;
    default:
        v->expect = HC_ENOSYS;
        break;
    }
}

void l2_spec(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
             struct l2_verdict *v)
{
    uint64_t vm = c->arg[0], pfn = c->arg[1], n = c->arg[2];

    state_copy(post, pre);
    memset(v, 0, sizeof(*v));
    if (c->guest) {
        spec_guest(pre, c, post, v);
        return;
    }
    switch (c->hc) {
    case HC_REGISTER_VM:
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
        break;
    case HC_REGISTER_VCPU:
        if (c->arg[1] >= KC_MAX_VCPUS || (v->expect = vm_check(pre, vm)) != HC_OK)
            v->expect = HC_EINVAL;
        else if (pre->vm_state[vm] != VM_STATE_REGISTERED && pre->vm_state[vm] != VM_STATE_VERIFIED)
            v->expect = HC_ESTATE;
        else if (pre->vcpus[vm] & (1u << c->arg[1]))
            v->expect = HC_EINVAL;                 /* already registered */
        else
            post->vcpus[vm] |= 1u << c->arg[1];
        break;
    case HC_SET_BOOT_INFO:
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
        break;
    case HC_VERIFY_VM:
        if ((v->expect = vm_check(pre, vm)) != HC_OK)
            break;
        if (pre->vm_state[vm] != VM_STATE_REGISTERED || !pre->image_pages[vm])
            v->expect = HC_ESTATE;
        else if (pre->image_mapped && pre->image_now_hash == pre->image_hash[vm])
            post->vm_state[vm] = VM_STATE_VERIFIED;
        else {
            v->expect = HC_EHASH;                  /* never runs: powered off */
            post->vm_state[vm] = VM_STATE_POWEROFF;
        }
        break;
    case HC_DONATE: {
        uint64_t gfn = c->arg[2];
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
        break;
    }
    case HC_RUN_VCPU:
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
        break;
    case HC_TEARDOWN:
        if ((v->expect = vm_check(pre, vm)) != HC_OK)
            break;
        if (pre->vm_state[vm] != VM_STATE_POWEROFF) {
            v->expect = HC_ESTATE;
            break;
        }
        for (unsigned i = 0; i < post->npages; i++) {
            post->page[i].owner = KC_OWNER_HOST;
            post->page[i].count = 0;
            post->page[i].gfn = 0;
        }
        post->vm_state[vm] = VM_STATE_FREE;
        post->vcpus[vm] = 0;
        post->image_pages[vm] = post->image_hash[vm] = 0;
        break;
    default:
        v->expect = HC_ENOSYS;                     /* includes the guests' calls */
        break;
    }
}

bool l2_result_legal(const struct l2_verdict *v, int64_t r)
{
    if (r == v->expect || (v->exit_any && r >= RUN_EXIT_YIELD && r <= RUN_EXIT_S2FAULT))
        return true;
    return r < 0 && r >= -31 && (v->loose & LOOSE(r));
}

/* ---- L2: the stage-2 fault handlers' specification -------------------------- */

/* May the host's stage 2 map page p (hyp/kcore/hypercall.c host_s2_fault)? Its
 * own pages outside KCore's region, and pages a VM shares with it. */
static bool host_may_map(const struct l2_page *p)
{
    return (p->owner == KC_OWNER_HOST && p->pfn >= L2_KC_END_PFN) ||
           (owner_is_vm(p->owner) && p->count > 0);
}

void l2_spec_fault(const struct l2_state *pre, const struct l2_fault *f, struct l2_state *post,
                   struct l2_fault_verdict *v)
{
    uint64_t pfn = f->ipa >> MEM_PAGE_SHIFT, ec = L2_ESR_EC(f->esr);
    bool translation = (ec == L2_EC_DABT_LOW || ec == L2_EC_IABT_LOW) && L2_FSC_TRANS(f->esr);
    struct l2_page *p;

    state_copy(post, pre);
    memset(v, 0, sizeof(*v));
    if (f->guest) {
        /* Whatever the fault: the vCPU exits to the host, which may donate
         * the gfn; a VM powered off meanwhile stops instead. */
        v->info = f->ipa;
        v->expect = f->vm < KC_MAX_VMS && pre->vm_state[f->vm] == VM_STATE_POWEROFF
                        ? L2_FAULT_EXIT_POWEROFF : L2_FAULT_EXIT_S2FAULT;
        return;
    }
    p = page_of(post, pfn);
    if (translation && pfn < pre->mem_pages && p && host_may_map(p)) {
        v->expect = L2_FAULT_MAPPED;
        v->loose = 1u << L2_FAULT_REFUSED;         /* no table page for the mapping */
        p->host = L2_HOST_IDENTITY;
    } else {
        v->expect = L2_FAULT_REFUSED;
    }
}

bool l2_fault_legal(const struct l2_fault_verdict *v, enum l2_fault_outcome o)
{
    return o == v->expect || (o != L2_FAULT_OTHER && (v->loose & (1u << o)));
}

/* ---- L2: hypercalls in flight ---------------------------------------------- */

/* Footprint items: what a call reads or writes. VMALL(vm) stands for every
 * non-page item of the VM. Ghost state counts: IMAGE(vm) is the boot info
 * SET_BOOT_INFO records and VERIFY_VM reads, VCPU(vm, v) a registration. */
enum { K_PAGE = 1, K_VMSTATE, K_GFN, K_VCPU, K_RUN, K_IMAGE, K_VMALL };
#define KEY(k, vm, x) ((uint64_t)(k) << 60 | (uint64_t)((vm) & 0xff) << 52 | ((x) & ((1ull << 52) - 1)))
#define KEY_KIND(k)   ((unsigned)((k) >> 60))
#define KEY_VM(k)     ((unsigned)(((k) >> 52) & 0xff))

struct l2_slot {
    bool live, tainted, truncated;
    bool is_fault;                 /* a stage-2 fault (`fault`), else a hypercall (`call`) */
    uint64_t gen;                  /* ghost generation of VM arg[0] at issue */
    struct l2_call call;
    struct l2_fault fault;
    struct l2_state pre;
    unsigned nr, nw;
    uint64_t rkey[L2_MAX_KEYS], wkey[L2_MAX_KEYS];
};

struct layers_state {
    struct l2_slot *slot;          /* 2 per CPU: [2 * cpu] host, [2 * cpu + 1] guest */
    unsigned nslots;
    uint32_t vcpus[KC_MAX_VMS];    /* ghost state (per incarnation: gen) */
    uint64_t image_pages[KC_MAX_VMS], image_hash[KC_MAX_VMS];
    /* One per incarnation of a VM slot: bumped when KCore publishes the
     * slot FREE (a TEARDOWN's effect). A call returning after that point
     * with an older generation updates no ghost state. */
    uint64_t gen[KC_MAX_VMS];
    /* A call issued in an older incarnation succeeded: KCore may have
     * applied it to the new one (a SET_BOOT_INFO issued while the VM was
     * being torn down, run after the slot was registered again) or to the
     * old one; the ghost state is unknown until the next FREE, and calls
     * that read it are not checked. */
    bool ghost_unsure[KC_MAX_VMS];
    uint64_t skipped, fault_skipped;
    uint64_t fault_refused_allowed;   /* checked host faults refused though mappable */
    /* A vCPU that exited on a stage-2 fault re-enters at its faulting PC. */
    struct { bool armed; uint64_t elr; } resume[KC_MAX_VMS][KC_MAX_VCPUS];
};

static bool key_meets(uint64_t a, uint64_t b)
{
    if (a == b)
        return true;
    if (KEY_KIND(a) == K_VMALL && KEY_KIND(b) != K_PAGE && KEY_VM(a) == KEY_VM(b))
        return true;
    return KEY_KIND(b) == K_VMALL && KEY_KIND(a) != K_PAGE && KEY_VM(a) == KEY_VM(b);
}

static bool touches_pages(const struct l2_slot *x)
{
    for (unsigned j = 0; j < x->nr; j++)
        if (KEY_KIND(x->rkey[j]) == K_PAGE)
            return true;
    for (unsigned j = 0; j < x->nw; j++)
        if (KEY_KIND(x->wkey[j]) == K_PAGE)
            return true;
    return false;
}

/* Does y write something x reads or writes? A call whose footprint was
 * truncated counts as writing every page. A fault writes no abstract item. */
static bool writes_into(const struct l2_slot *y, const struct l2_slot *x)
{
    if (y->truncated && !y->is_fault && touches_pages(x))
        return true;
    for (unsigned i = 0; i < y->nw; i++) {
        for (unsigned j = 0; j < x->nr; j++)
            if (key_meets(y->wkey[i], x->rkey[j]))
                return true;
        for (unsigned j = 0; j < x->nw; j++)
            if (key_meets(y->wkey[i], x->wkey[j]))
                return true;
    }
    return false;
}

static void add_r(struct l2_slot *s, uint64_t k)
{
    if (s->nr < L2_MAX_KEYS)
        s->rkey[s->nr++] = k;
    else
        s->truncated = true;
}

static void add_w(struct l2_slot *s, uint64_t k)
{
    if (s->nw < L2_MAX_KEYS)
        s->wkey[s->nw++] = k;
    else
        s->truncated = true;
}

/* y writes into x: x's check is skipped, and x may now write what y's
 * pages become to it. A footprint captured while another call changes it
 * misses exactly the pages that call moves: a GRANT whose gfn a DONATE
 * maps meanwhile counts the donated page; a TEARDOWN whose VM a DONATE
 * gives one more page reclaims it too. Both pages are in the other call's
 * footprint, so x inherits y's written pages (and is looked at again). */
static void taint(struct l2_slot *x, const struct l2_slot *y)
{
    bool pages = x->call.hc == HC_GRANT || x->call.hc == HC_REVOKE || x->call.hc == HC_TEARDOWN;
    bool slots = x->call.hc == HC_REGISTER_VM;

    x->tainted = true;
    if (x->is_fault || y->is_fault)
        return;                        /* a fault changes no abstract item */
    /* Only these find what they change in the state (the others' items
     * come from their arguments): GRANT, REVOKE and TEARDOWN their pages,
     * REGISTER_VM its slot (one y frees meanwhile). */
    for (unsigned i = 0; i < y->nw && (pages || slots); i++) {
        uint64_t k = y->wkey[i];
        bool have = false;
        if (pages && KEY_KIND(k) == K_PAGE)
            ;
        else if (slots && (KEY_KIND(k) == K_VMSTATE || KEY_KIND(k) == K_VMALL))
            k = KEY(K_VMALL, KEY_VM(k), 0);
        else
            continue;
        for (unsigned j = 0; j < x->nw && !have; j++)
            have = x->wkey[j] == k;
        if (!have)
            add_w(x, k);
    }
}

/* The first page at or after *pfn that the ownership array (coherent view)
 * gives to VM vm, outside KCore's region; ~0 if none. Reads the array a
 * page of entries at a time; *pfn is left just after the page found. */
static uint64_t next_vm_page(const struct machine *m, unsigned vm, uint64_t *pfn)
{
    uint64_t pages = m->ms.mem.size >> MEM_PAGE_SHIFT, e[512];

    if (pages > KC_OWNER_SIZE / 8)
        pages = KC_OWNER_SIZE / 8;
    if (*pfn < L2_KC_END_PFN)
        *pfn = L2_KC_END_PFN;
    while (*pfn < pages) {
        uint64_t base = *pfn & ~511ull, n = pages - base < 512 ? pages - base : 512;
        if (cache_read_words_coherent(&m->ms.cache, KC_OWNER_BASE + 8 * base, e, NULL,
                                      (unsigned)n) != MEM_OK)
            return ~0ull;
        for (uint64_t i = *pfn - base; i < n; i++)
            if (KC_OWN_OWNER(e[i]) == KC_OWNER_VM(vm)) {
                *pfn = base + i + 1;
                return base + i;
            }
        *pfn = base + n;
    }
    return ~0ull;
}

static void add_page(const struct machine *m, struct l2_slot *s, uint64_t pfn)
{
    if (s->pre.npages == L2_MAX_PAGES) {
        s->truncated = true;
        return;
    }
    layers_l2_page(m, pfn, &s->pre.page[s->pre.npages++]);
    add_w(s, KEY(K_PAGE, 0, pfn));
}

/* The abstraction of L0 on the call's footprint, and the footprint's keys. */
static void capture(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    const struct l2_call *c = &s->call;
    struct l2_state *st = &s->pre;
    uint64_t vm = c->arg[0];

    memset(st, 0, offsetof(struct l2_state, page));   /* add_page fills each page it adds */
    st->mem_pages = m->ms.mem.size >> MEM_PAGE_SHIFT;
    for (unsigned i = 0; i < KC_MAX_VMS; i++)
        st->vm_state[i] = (unsigned)rd(m, KC_PUB_VM_STATE(i));
    memcpy(st->vcpus, ls->vcpus, sizeof(st->vcpus));
    memcpy(st->image_pages, ls->image_pages, sizeof(st->image_pages));
    memcpy(st->image_hash, ls->image_hash, sizeof(st->image_hash));
    s->nr = s->nw = 0;
    s->truncated = false;

    if (c->guest) {
        if (c->hc == HC_GRANT || c->hc == HC_REVOKE) {
            uint64_t pfn = layers_l2_vm_map(m, c->vm, c->arg[0]);
            add_r(s, KEY(K_GFN, c->vm, c->arg[0]));
            st->gfn_mapped = pfn != L2_PFN_NONE;
            if (st->gfn_mapped)
                add_page(m, s, pfn);
        } else if (c->hc == HC_POWEROFF) {
            add_w(s, KEY(K_VMSTATE, c->vm, 0));
        }
        return;
    }
    if (c->hc == HC_REGISTER_VM) {
        for (unsigned i = 0; i < KC_MAX_VMS; i++) {
            add_r(s, KEY(K_VMSTATE, i, 0));
            if (st->vm_state[i] == VM_STATE_FREE)
                add_w(s, KEY(K_VMALL, i, 0));
        }
        return;
    }
    if (vm >= KC_MAX_VMS)
        return;                                    /* EINVAL: nothing read */
    add_r(s, KEY(K_VMSTATE, vm, 0));
    switch (c->hc) {
    case HC_REGISTER_VCPU:
        add_w(s, KEY(K_VCPU, vm, c->arg[1]));
        break;
    case HC_SET_BOOT_INFO: {
        uint64_t pfn = c->arg[1], n = c->arg[2];
        add_w(s, KEY(K_IMAGE, vm, 0));
        if (n == 0 || n > KC_MAX_IMAGE_PAGES || pfn >= st->mem_pages || n > st->mem_pages - pfn)
            break;
        for (uint64_t i = 0; i < n; i++) {
            add_page(m, s, pfn + i);
            add_w(s, KEY(K_GFN, vm, i));
            if (layers_l2_vm_map(m, (unsigned)vm, i) != L2_PFN_NONE)
                st->gfn_mapped = true;
        }
        break;
    }
    case HC_VERIFY_VM:
        add_w(s, KEY(K_VMSTATE, vm, 0));
        add_r(s, KEY(K_IMAGE, vm, 0));
        for (uint64_t i = 0; i < ls->image_pages[vm] && i < KC_MAX_IMAGE_PAGES; i++)
            add_r(s, KEY(K_GFN, vm, i));
        st->image_now_hash = image_hash_now(m, (unsigned)vm, ls->image_pages[vm], &st->image_mapped);
        break;
    case HC_DONATE:
        if (c->arg[1] < st->mem_pages)
            add_page(m, s, c->arg[1]);
        if (c->arg[2] < L2_IPA_PAGES) {
            add_w(s, KEY(K_GFN, vm, c->arg[2]));
            st->gfn_mapped = layers_l2_vm_map(m, (unsigned)vm, c->arg[2]) != L2_PFN_NONE;
        }
        break;
    case HC_RUN_VCPU:
        add_r(s, KEY(K_VCPU, vm, c->arg[1]));
        add_w(s, KEY(K_RUN, vm, c->arg[1]));
        break;
    case HC_TEARDOWN: {
        uint64_t at = 0, pfn;
        add_w(s, KEY(K_VMALL, vm, 0));
        add_w(s, KEY(K_VMSTATE, vm, 0));
        while ((pfn = next_vm_page(m, (unsigned)vm, &at)) != ~0ull)
            add_page(m, s, pfn);
        break;
    }
    default:
        break;
    }
}

/* The abstraction of L0 on a fault's footprint, and its (read) keys. */
static void capture_fault(const struct machine *m, struct l2_slot *s)
{
    const struct l2_fault *f = &s->fault;
    struct l2_state *st = &s->pre;
    uint64_t pfn = f->ipa >> MEM_PAGE_SHIFT;

    memset(st, 0, offsetof(struct l2_state, page));   /* the page is filled below */
    st->mem_pages = m->ms.mem.size >> MEM_PAGE_SHIFT;
    s->nr = s->nw = 0;
    s->truncated = false;
    if (f->guest && f->vm < KC_MAX_VMS) {
        /* The VM's state first: a powered-off VM's fault exits POWEROFF
         * whatever its IPA (a scenario may name one past the IPA space). */
        st->vm_state[f->vm] = (unsigned)rd(m, KC_PUB_VM_STATE(f->vm));
        add_r(s, KEY(K_VMSTATE, f->vm, 0));
    }
    if (pfn >= L2_IPA_PAGES)
        return;
    if (f->guest) {
        if (f->vm >= KC_MAX_VMS)
            return;
        st->gfn_mapped = layers_l2_vm_map(m, f->vm, pfn) != L2_PFN_NONE;
        add_r(s, KEY(K_GFN, f->vm, pfn));
        return;
    }
    layers_l2_page(m, pfn, &st->page[0]);
    st->page[0].host = layers_l2_host_map(m, pfn);
    st->npages = 1;
    add_r(s, KEY(K_PAGE, 0, pfn));
}

/* s has just been issued: a live call that writes what s reads or writes
 * taints s, and s taints a live call it writes into. Tainting widens what
 * a call may write (taint()), so a call whose write set grew is looked at
 * again, until nothing changes. */
static void open_slot(struct layers_state *ls, struct l2_slot *s)
{
    struct l2_slot *work[2 * KC_MAX_CPUS];
    bool queued[2 * KC_MAX_CPUS] = { false };
    unsigned n = 0;

    s->live = true;
    s->tainted = s->truncated;
    for (unsigned i = 0; i < ls->nslots; i++) {
        struct l2_slot *y = &ls->slot[i];
        if (y != s && y->live && writes_into(y, s))
            taint(s, y);
    }
    work[n++] = s;                     /* a queue of distinct slots: n <= nslots */
    queued[s - ls->slot] = true;
    while (n) {
        struct l2_slot *y = work[--n];
        queued[y - ls->slot] = false;
        for (unsigned i = 0; i < ls->nslots; i++) {
            struct l2_slot *x = &ls->slot[i];
            unsigned nw;
            bool trunc;
            if (x == y || !x->live || !writes_into(y, x))
                continue;
            nw = x->nw;
            trunc = x->truncated;
            taint(x, y);
            if ((x->nw != nw || x->truncated != trunc) && !queued[i]) {
                work[n++] = x;         /* x writes more now: whom does it reach? */
                queued[i] = true;
            }
        }
    }
}

int layers_init(struct machine *m)
{
    struct layers_state *ls;

    if (m->cfg.ncpus > KC_MAX_CPUS)
        return -1;                     /* open_slot's queue holds 2 * KC_MAX_CPUS */
    if (!(ls = calloc(1, sizeof(*ls))))
        return -1;
    ls->nslots = 2 * m->cfg.ncpus;
    ls->slot = calloc(ls->nslots, sizeof(*ls->slot));
    if (!ls->slot) {
        free(ls);
        return -1;
    }
    m->layers = ls;
    return 0;
}

void layers_free(struct machine *m)
{
    if (m->layers) {
        free(m->layers->slot);
        free(m->layers);
        m->layers = NULL;
    }
}

uint64_t layers_spec_skipped(const struct machine *m)
{
    return m->layers ? m->layers->skipped : 0;
}

uint64_t layers_fault_skipped(const struct machine *m)
{
    return m->layers ? m->layers->fault_skipped : 0;
}

uint64_t layers_fault_refused_allowed(const struct machine *m)
{
    return m->layers ? m->layers->fault_refused_allowed : 0;
}

unsigned layers_faults_in_flight(const struct machine *m)
{
    unsigned n = 0;

    for (unsigned i = 0; m->layers && i < m->layers->nslots; i++)
        n += m->layers->slot[i].live && m->layers->slot[i].is_fault;
    return n;
}

/* VM slot vm ends an incarnation: its ghost state starts afresh. */
static void ghost_free(struct layers_state *ls, unsigned vm)
{
    ls->gen[vm]++;
    ls->ghost_unsure[vm] = false;
    ls->vcpus[vm] = 0;
    ls->image_pages[vm] = ls->image_hash[vm] = 0;
    memset(ls->resume[vm], 0, sizeof(ls->resume[vm]));   /* vCPUs start afresh */
}

void layers_after_kcore_step(struct machine *m, unsigned cpu)
{
    const struct cpu *c = &m->cpu[cpu];
    unsigned n;

    if (!m->layers || !m->cfg.layers)
        return;
    m->st.refinement_checks += layers_check_refinement(m, cpu);
    /* A TEARDOWN's linearization point for the ghost state: KCore
     * publishes the slot FREE (hyp/kcore/hypercall.c hc_teardown). */
    n = c->nacc < CPU_MAX_ACCESS ? c->nacc : CPU_MAX_ACCESS;
    uint64_t seen = 0;                 /* a 64-bit store arrives as two halves */
    for (unsigned i = 0; i < n; i++) {
        const struct msys_access *a = &c->acc[i];
        if (a->acc != MMU_ACC_WRITE || a->pa < KC_PUB_VM_STATE(0) ||
            a->pa >= KC_PUB_VM_STATE(KC_MAX_VMS))
            continue;
        unsigned vm = (unsigned)((a->pa - KC_PUB_VM_STATE(0)) / 8);
        if (!(seen & (1ull << vm)) && rd(m, KC_PUB_VM_STATE(vm)) == VM_STATE_FREE)
            ghost_free(m->layers, vm);
        seen |= 1ull << vm;
    }
}

/* Is s a live call of the host on VM vm whose spec reads ghost state? */
static bool ghost_reader(const struct l2_slot *s, uint64_t vm)
{
    return s->live && !s->is_fault && !s->call.guest && s->call.arg[0] == vm &&
           (s->call.hc == HC_REGISTER_VCPU || s->call.hc == HC_SET_BOOT_INFO ||
            s->call.hc == HC_VERIFY_VM || s->call.hc == HC_RUN_VCPU);
}

void layers_on_hvc_issue(struct machine *m, unsigned cpu, bool guest, uint64_t hc,
                         const uint64_t a[4])
{
    struct layers_state *ls = m->layers;
    struct l2_slot *s;

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    s = &ls->slot[2 * cpu + guest];
    s->is_fault = false;
    memset(&s->call, 0, sizeof(s->call));
    s->call.hc = hc;
    memcpy(s->call.arg, a, sizeof(s->call.arg));
    s->call.guest = guest;
    s->call.vm = m->cpu[cpu].guest_vm;
    capture(m, ls, s);
    s->gen = !guest && a[0] < KC_MAX_VMS ? ls->gen[a[0]] : 0;
    open_slot(ls, s);
    if (!guest && a[0] < KC_MAX_VMS && ls->ghost_unsure[a[0]] && ghost_reader(s, a[0]))
        s->tainted = true;             /* its ghost pre-state is unknown */
}

void layers_on_s2_fault(struct machine *m, unsigned cpu, bool guest)
{
    struct layers_state *ls = m->layers;
    const struct cpu *c;
    struct l2_slot *s;

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    c = &m->cpu[cpu];
    s = &ls->slot[2 * cpu + guest];
    s->is_fault = true;
    memset(&s->fault, 0, sizeof(s->fault));
    s->fault.guest = guest;
    s->fault.vm = guest ? c->guest_vm : KC_MAX_VMS;
    s->fault.esr = c->sr[SR_ESR_EL2];
    s->fault.far = c->sr[SR_FAR_EL2];
    s->fault.ipa = L2_HPFAR_IPA(c->sr[SR_HPFAR_EL2]);
    s->fault.elr = c->sr[SR_ELR_EL2];
    s->fault.spsr = c->sr[SR_SPSR_EL2];
    capture_fault(m, s);
    open_slot(ls, s);
}

/* ---- L2: the check at return ------------------------------------------------ */

static const char *hc_str(uint64_t hc)
{
    switch (hc) {
    case HC_REGISTER_VM: return "HC_REGISTER_VM";
    case HC_REGISTER_VCPU: return "HC_REGISTER_VCPU";
    case HC_SET_BOOT_INFO: return "HC_SET_BOOT_INFO";
    case HC_VERIFY_VM: return "HC_VERIFY_VM";
    case HC_DONATE: return "HC_DONATE";
    case HC_RUN_VCPU: return "HC_RUN_VCPU";
    case HC_TEARDOWN: return "HC_TEARDOWN";
    case HC_GRANT: return "HC_GRANT";
    case HC_REVOKE: return "HC_REVOKE";
    case HC_POWEROFF: return "HC_POWEROFF";
    case HC_YIELD: return "HC_YIELD";
    default: return "unknown hypercall";
    }
}

static void owner_str(unsigned o, char *b, size_t n)
{
    if (o == KC_OWNER_HOST)
        snprintf(b, n, "host");
    else if (o == KC_OWNER_KCORE)
        snprintf(b, n, "KCore");
    else if (o == KC_OWNER_NONE)
        snprintf(b, n, "none");
    else
        snprintf(b, n, "VM %u", o - KC_OWNER_VM(0));
}

static const char *host_map_str(enum l2_host_map h)
{
    switch (h) {
    case L2_HOST_UNMAPPED: return "host: unmapped";
    case L2_HOST_IDENTITY: return "host: mapped";
    case L2_HOST_OTHER: return "host: mapped otherwise";
    default: return "";
    }
}

static void page_str(const struct l2_page *p, char *b, size_t n)
{
    char o[16];
    const char *sep = p->host != L2_HOST_UNTRACKED ? ", " : "";
    owner_str(p->owner, o, sizeof(o));
    if (owner_is_vm(p->owner) && p->gfn == L2_GFN_UNMAPPED)
        snprintf(b, n, "owner %s, count %u, unmapped%s%s", o, p->count, sep, host_map_str(p->host));
    else if (owner_is_vm(p->owner))
        snprintf(b, n, "owner %s, count %u, gfn %#llx%s%s", o, p->count, (unsigned long long)p->gfn,
                 sep, host_map_str(p->host));
    else
        snprintf(b, n, "owner %s, count %u%s%s", o, p->count, sep, host_map_str(p->host));
}

/* Does L0's page a agree with the spec's b? (The host mapping only where
 * the spec tracks it.) */
static bool page_eq(const struct l2_page *a, const struct l2_page *b)
{
    return a->owner == b->owner && a->count == b->count &&
           (!owner_is_vm(a->owner) || a->gfn == b->gfn) &&
           (b->host == L2_HOST_UNTRACKED || a->host == b->host);
}

/* Compare L0's abstraction now with the expected state on the footprint of
 * call c; describe the first difference in why. Returns true when equal. */
static bool matches(const struct machine *m, const struct l2_call *c, int64_t r,
                    const struct l2_state *want, char *why, size_t n)
{
    unsigned vm = c->guest ? c->vm : (unsigned)c->arg[0];

    if (!c->guest && c->hc == HC_REGISTER_VM)
        vm = r >= 0 && r < KC_MAX_VMS ? (unsigned)r : KC_MAX_VMS;
    if (vm < KC_MAX_VMS) {
        unsigned now = (unsigned)rd(m, KC_PUB_VM_STATE(vm));
        if (now != want->vm_state[vm]) {
            snprintf(why, n, "VM %u is in state %u, the spec says %u", vm, now, want->vm_state[vm]);
            return false;
        }
    }
    for (unsigned i = 0; i < want->npages; i++) {
        struct l2_page p;
        char a[96], b[96];
        layers_l2_page(m, want->page[i].pfn, &p);
        if (want->page[i].host != L2_HOST_UNTRACKED)
            p.host = layers_l2_host_map(m, p.pfn);
        if (!page_eq(&p, &want->page[i])) {
            page_str(&p, a, sizeof(a));
            page_str(&want->page[i], b, sizeof(b));
            snprintf(why, n, "page %#llx: %.72s, the spec says %.72s",
                     (unsigned long long)(p.pfn << MEM_PAGE_SHIFT), a, b);
            return false;
        }
    }
    if (!c->guest && c->hc == HC_TEARDOWN && vm < KC_MAX_VMS && want->vm_state[vm] == VM_STATE_FREE) {
        uint64_t at = 0, pfn = next_vm_page(m, vm, &at);
        if (pfn != ~0ull) {
            snprintf(why, n, "page %#llx is still owned by VM %u, the spec says it owns nothing",
                     (unsigned long long)(pfn << MEM_PAGE_SHIFT), vm);
            return false;
        }
    }
    return true;
}

/* Check one returned call against pre. Returns true if L0 agrees. */
static bool check_call(const struct machine *m, const struct l2_call *c, const struct l2_state *pre,
                       int64_t r, char *why, size_t n)
{
    struct l2_state *post = malloc(sizeof(*post));
    struct l2_verdict v;
    bool ok;

    if (!post) {
        snprintf(why, n, "out of memory");
        return true;
    }
    l2_spec(pre, c, post, &v);
    if (!l2_result_legal(&v, r)) {
        snprintf(why, n, "the spec says %lld", (long long)v.expect);
        ok = false;
    } else {
        bool as_expected = r == v.expect || (v.exit_any && r >= 0);
        ok = matches(m, c, r, as_expected ? post : pre, why, n);
    }
    free(post);
    return ok;
}

/* The ghost effect of call s returning r. The ghost state belongs to a
 * VM's incarnation: a call of an older one (it returns after a TEARDOWN
 * freed the slot, perhaps after a REGISTER_VM reused it) changes nothing.
 * A REGISTER_VM needs no reset: its slot was FREE, so ghost_free ran. */
static void ghost_update(struct layers_state *ls, const struct l2_slot *s, int64_t r)
{
    const struct l2_call *c = &s->call;
    uint64_t vm = c->arg[0];

    if (c->guest || r < 0 || c->hc == HC_REGISTER_VM || vm >= KC_MAX_VMS)
        return;
    if (s->gen != ls->gen[vm]) {
        if (c->hc == HC_REGISTER_VCPU || c->hc == HC_SET_BOOT_INFO) {
            ls->ghost_unsure[vm] = true;
            for (unsigned i = 0; i < ls->nslots; i++)
                if (ghost_reader(&ls->slot[i], vm))
                    ls->slot[i].tainted = true;
        }
        return;
    }
    switch (c->hc) {
    case HC_TEARDOWN:           /* seen as no FREE publication: hand-built states */
        ghost_free(ls, (unsigned)vm);
        break;
    case HC_REGISTER_VCPU:
        if (c->arg[1] < KC_MAX_VCPUS) {
            ls->vcpus[vm] |= 1u << c->arg[1];
            ls->resume[vm][c->arg[1]].armed = false;
        }
        break;
    case HC_SET_BOOT_INFO:
        ls->image_pages[vm] = c->arg[2];
        ls->image_hash[vm] = c->arg[3];
        break;
    default:
        break;
    }
}

void layers_on_hvc_return(struct machine *m, unsigned cpu, bool guest, int64_t r, bool exited)
{
    struct layers_state *ls = m->layers;
    struct l2_slot *s;
    char why[200] = "";

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    s = &ls->slot[2 * cpu + guest];
    if (!s->live || s->is_fault)
        return;
    s->live = false;
    if (exited) {
        if (s->call.hc != HC_YIELD && s->call.hc != HC_POWEROFF) {
            ls->skipped++;                         /* abandoned: the VM was powered off */
            return;
        }
        r = HC_OK;
    }
    ghost_update(ls, s, r);
    if (s->tainted) {
        ls->skipped++;
        return;
    }
    m->st.spec_checks++;
    if (check_call(m, &s->call, &s->pre, r, why, sizeof(why)))
        return;
    if (s->call.hc == HC_VERIFY_VM && !s->call.guest && s->call.arg[0] < KC_MAX_VMS) {
        /* The image may have changed under the call without a write: a
         * clean line over memory the host wrote non-cacheably, evicted (the
         * coherent view of a page the host gave away). Either hash is legal. */
        struct l2_state *alt = malloc(sizeof(*alt));
        char why2[200];
        bool ok = false;
        if (alt) {
            *alt = s->pre;
            alt->image_now_hash = image_hash_now(m, (unsigned)s->call.arg[0],
                                                 alt->image_pages[s->call.arg[0]], &alt->image_mapped);
            ok = (alt->image_now_hash != s->pre.image_now_hash || alt->image_mapped != s->pre.image_mapped) &&
                 check_call(m, &s->call, alt, r, why2, sizeof(why2));
            free(alt);
        }
        if (ok)
            return;
    }
    {
        const struct l2_call *c = &s->call;
        char who[16];
        snprintf(who, sizeof(who), c->guest ? "VM %u" : "host", c->vm);
        machine_violation(m, (int)cpu, 8, s->pre.npages ? s->pre.page[0].pfn << MEM_PAGE_SHIFT : ~0ull,
                          c->guest ? LABEL_VM(c->vm) : LABEL_HOST, LABEL_HYP,
                          "L2 spec: %s %s(%#llx, %#llx, %#llx, %#llx) returned %lld: %s",
                          who, hc_str(c->hc), (unsigned long long)c->arg[0],
                          (unsigned long long)c->arg[1], (unsigned long long)c->arg[2],
                          (unsigned long long)c->arg[3], (long long)r, why);
    }
}

/* ---- L2: the check at the end of a fault's handling ------------------------- */

static const char *outcome_str(enum l2_fault_outcome o)
{
    switch (o) {
    case L2_FAULT_MAPPED: return "mapped (the host retries)";
    case L2_FAULT_REFUSED: return "refused (an exception injected into the host)";
    case L2_FAULT_EXIT_S2FAULT: return "exit to the host with RUN_EXIT_S2FAULT";
    case L2_FAULT_EXIT_POWEROFF: return "exit to the host with RUN_EXIT_POWEROFF";
    default: return "something else";
    }
}

/* What KCore's handling of fault f on cpu came to, read from the CPU after
 * the ERET (x0, x1: the host's registers if it is back at the host). Any
 * register that differs from the spec's result is described in why (and
 * the outcome is L2_FAULT_OTHER). */
static enum l2_fault_outcome observe(const struct machine *m, unsigned cpu, const struct l2_fault *f,
                                     const struct l2_fault_verdict *v, uint64_t x0, uint64_t x1,
                                     char *why, size_t n)
{
    const struct cpu *c = &m->cpu[cpu];
    uint64_t pc = c->eret_elr, vec = c->sr[SR_VBAR_EL1] + L2_VECTOR_SYNC_SPX;

    if (f->guest) {
        if (c->mode != CPU_HOST) {
            snprintf(why, n, "KCore ERETs to %s at %#llx", c->mode == CPU_GUEST ? "the guest" : "EL1",
                     (unsigned long long)pc);
            return L2_FAULT_OTHER;
        }
        if (x0 == RUN_EXIT_POWEROFF)
            return L2_FAULT_EXIT_POWEROFF;
        if (x0 != RUN_EXIT_S2FAULT) {
            snprintf(why, n, "the host's HC_RUN_VCPU returns %lld", (long long)x0);
            return L2_FAULT_OTHER;
        }
        if (x1 != v->info) {
            snprintf(why, n, "RUN_EXIT_S2FAULT with x1 = %#llx, the spec says the IPA page %#llx",
                     (unsigned long long)x1, (unsigned long long)v->info);
            return L2_FAULT_OTHER;
        }
        return L2_FAULT_EXIT_S2FAULT;
    }
    if (c->mode != CPU_HOST) {
        snprintf(why, n, "KCore ERETs into %s at %#llx",
                 c->mode == CPU_GUEST ? "a guest" : "another mode", (unsigned long long)pc);
        return L2_FAULT_OTHER;
    }
    if (pc == f->elr && !(pc == vec && v->expect == L2_FAULT_REFUSED))
        return L2_FAULT_MAPPED;
    if (pc != vec) {
        snprintf(why, n, "KCore ERETs to %#llx (neither the faulting PC %#llx nor VBAR_EL1 + 0x200)",
                 (unsigned long long)pc, (unsigned long long)f->elr);
        return L2_FAULT_OTHER;
    }
    /* An injected exception (Arm ARM D1.10): the host sees the fault as
     * if its own stage 1 had taken it. */
    {
        const struct { const char *name; uint64_t got, want; } regs[] = {
            { "ELR_EL1", c->sr[SR_ELR_EL1], f->elr },
            { "ESR_EL1", c->sr[SR_ESR_EL1], f->esr },
            { "FAR_EL1", c->sr[SR_FAR_EL1], f->far },
            { "SPSR_EL1", c->sr[SR_SPSR_EL1], f->spsr },
        };
        for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
            if (regs[i].got != regs[i].want) {
                snprintf(why, n, "exception injected with %s = %#llx, the spec says %#llx", regs[i].name,
                         (unsigned long long)regs[i].got, (unsigned long long)regs[i].want);
                return L2_FAULT_OTHER;
            }
    }
    return L2_FAULT_REFUSED;
}

/* Compare L0's abstraction now with the expected state on fault f's
 * footprint; host_alt: a second legal host mapping of the page (or
 * L2_HOST_UNTRACKED). Describes the first difference in why. */
static bool fault_matches(const struct machine *m, const struct l2_fault *f, const struct l2_state *want,
                          enum l2_host_map host_alt, char *why, size_t n)
{
    uint64_t pfn = f->ipa >> MEM_PAGE_SHIFT;

    if (f->guest && f->vm < KC_MAX_VMS && pfn < L2_IPA_PAGES) {
        unsigned now = (unsigned)rd(m, KC_PUB_VM_STATE(f->vm));
        bool mapped = layers_l2_vm_map(m, f->vm, pfn) != L2_PFN_NONE;
        if (now != want->vm_state[f->vm]) {
            snprintf(why, n, "VM %u is in state %u, the spec says %u", f->vm, now, want->vm_state[f->vm]);
            return false;
        }
        if (mapped != want->gfn_mapped) {
            snprintf(why, n, "gfn %#llx of VM %u is %s, the spec says %s", (unsigned long long)pfn, f->vm,
                     mapped ? "mapped" : "unmapped", want->gfn_mapped ? "mapped" : "unmapped");
            return false;
        }
    }
    for (unsigned i = 0; i < want->npages; i++) {
        const struct l2_page *w = &want->page[i];
        struct l2_page p, alt = *w;
        char a[80], b[80];
        layers_l2_page(m, w->pfn, &p);
        if (w->host != L2_HOST_UNTRACKED)
            p.host = layers_l2_host_map(m, w->pfn);
        alt.host = host_alt;
        if (page_eq(&p, w) || (host_alt != L2_HOST_UNTRACKED && page_eq(&p, &alt)))
            continue;
        page_str(&p, a, sizeof(a));
        page_str(w, b, sizeof(b));
        snprintf(why, n, "page %#llx: %s; the spec says %s", (unsigned long long)(p.pfn << MEM_PAGE_SHIFT), a, b);
        return false;
    }
    return true;
}

/* Report fault f's handling: outcome got (why: what was wrong with it or
 * with the state after it); spec: the outcome the spec expects, when got
 * is not legal, else NULL. */
static void fault_violation(struct machine *m, unsigned cpu, const struct l2_fault *f,
                            enum l2_fault_outcome got, const char *why, const char *spec)
{
    char who[16];

    snprintf(who, sizeof(who), f->guest ? "VM %u" : "host", f->vm);
    machine_violation(m, (int)cpu, 8, f->ipa, f->guest ? LABEL_VM(f->vm) : LABEL_HOST, LABEL_HYP,
                      "L2 spec: %s stage-2 fault at IPA %#llx (ESR %#llx, ELR %#llx): %s%s%s%s%s", who,
                      (unsigned long long)f->ipa, (unsigned long long)f->esr, (unsigned long long)f->elr,
                      outcome_str(got), why[0] ? ": " : "", why, spec ? "; the spec says " : "",
                      spec ? spec : "");
}

/* The end of the fault in slot s (cpu's). */
static void fault_return(struct machine *m, unsigned cpu, struct l2_slot *s, uint64_t x0, uint64_t x1)
{
    struct layers_state *ls = m->layers;
    const struct l2_fault *f = &s->fault;
    struct l2_state *post;
    struct l2_fault_verdict v;
    enum l2_fault_outcome got;
    char why[256] = "";

    s->live = false;
    post = malloc(sizeof(*post));
    if (!post)
        return;
    l2_spec_fault(&s->pre, f, post, &v);
    got = observe(m, cpu, f, &v, x0, x1, why, sizeof(why));
    if (f->guest && f->vm < KC_MAX_VMS && (got == L2_FAULT_EXIT_S2FAULT || got == L2_FAULT_EXIT_POWEROFF)) {
        /* The vCPU HC_RUN_VCPU entered (the host's call in flight here)
         * must re-enter at the faulting PC. */
        const struct l2_slot *h = &ls->slot[2 * cpu];
        if (h->live && !h->is_fault && h->call.hc == HC_RUN_VCPU && h->call.arg[0] == f->vm &&
            h->call.arg[1] < KC_MAX_VCPUS) {
            ls->resume[f->vm][h->call.arg[1]].armed = true;
            ls->resume[f->vm][h->call.arg[1]].elr = f->elr;
        }
    }
    if (s->tainted && got != L2_FAULT_OTHER) {
        ls->fault_skipped++;                       /* either serialisation is legal */
        free(post);
        return;
    }
    m->st.fault_checks++;                          /* (OTHER is illegal in any order) */
    if (!l2_fault_legal(&v, got))
        fault_violation(m, cpu, f, got, why, outcome_str(v.expect));
    else if (got == v.expect) {
        if (!fault_matches(m, f, post, L2_HOST_UNTRACKED, why, sizeof(why)))
            fault_violation(m, cpu, f, got, why, NULL);
    } else {
        /* Refused a mapping it could make: nothing changed, but another
         * CPU's fault on the page may have mapped it meanwhile. Legal only
         * out of table memory, which the checker cannot see (KCore's pool
         * is private): counted, so that a KCore refusing what it should
         * map shows in every summary. */
        ls->fault_refused_allowed++;
        if (!fault_matches(m, f, &s->pre, post->npages ? post->page[0].host : L2_HOST_UNTRACKED, why,
                           sizeof(why)))
            fault_violation(m, cpu, f, got, why, NULL);
    }
    free(post);
}

void layers_on_s2_fault_return(struct machine *m, unsigned cpu, bool guest, uint64_t x0, uint64_t x1)
{
    struct layers_state *ls = m->layers;
    struct l2_slot *s;

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    s = &ls->slot[2 * cpu + guest];
    if (s->live && s->is_fault)
        fault_return(m, cpu, s, x0, x1);
}

void layers_on_vcpu_entry(struct machine *m, unsigned cpu)
{
    struct layers_state *ls = m->layers;
    const struct cpu *c = &m->cpu[cpu];
    struct l2_slot *h;
    uint64_t vm, vcpu;

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    h = &ls->slot[2 * cpu];
    if (h->live && h->is_fault) {                  /* the host's fault ends in a guest */
        fault_return(m, cpu, h, 0, 0);
        return;
    }
    if (!h->live || h->call.guest || h->call.hc != HC_RUN_VCPU)
        return;
    vm = h->call.arg[0];
    vcpu = h->call.arg[1];
    if (vm >= KC_MAX_VMS || vcpu >= KC_MAX_VCPUS || !ls->resume[vm][vcpu].armed)
        return;
    ls->resume[vm][vcpu].armed = false;
    if (c->eret_elr != ls->resume[vm][vcpu].elr)
        machine_violation(m, (int)cpu, 8, ~0ull, LABEL_VM(vm), LABEL_HYP,
                          "L2 spec: VM %u vCPU %u re-enters at ELR %#llx after its stage-2 fault exit: "
                          "the spec says at the faulting PC %#llx (the access is retried)",
                          (unsigned)vm, (unsigned)vcpu, (unsigned long long)c->eret_elr,
                          (unsigned long long)ls->resume[vm][vcpu].elr);
}
