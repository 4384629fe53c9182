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
 * of L0 on the footprint must equal it.
 *
 * Linearization. A hypercall takes effect somewhere between its issue and
 * its return (at the KCore lock that guards what it changes). The check
 * uses the state captured at issue as the state at that point, which is
 * right when no other call changed the footprint in between. Every other
 * state change of the abstraction is itself a hypercall (host stage-2
 * faults and guest accesses change no owner, count, gfn or VM state; only
 * KCore writes the ownership array, the published page and the stage-2
 * tables, inside hypercalls), so it is enough to know which calls overlap
 * in time: when call Y writes an item call X reads or writes and their
 * [issue, return] intervals overlap, X is checked no further ("skipped",
 * counted by layers_spec_skipped()); KCore's locks make the two calls
 * serialisable in some order, and either order is legal. Non-overlapping
 * calls are checked exactly (deterministic result, apart from the loose
 * results HC_ENOMEM of table allocation).
 */
#include "model/layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* VTCR_EL2 of every stage 2 KCore builds (hyp/abi.h: T0SZ = 25, SL0 = 1,
 * 4 KiB granule, PS = 2, inner/outer write-back walks, RES1 bit 31). */
#define L2_VTCR      0x80023559ull
#define L2_IPA_PAGES (1ull << (KC_IPA_BITS - MEM_PAGE_SHIFT))
#define L2_KC_END_PFN (KC_END >> MEM_PAGE_SHIFT)
#define LOOSE(e)     (1u << (unsigned)(-(e)))
#define L2_MAX_KEYS  (L2_MAX_PAGES + 2 * KC_MAX_IMAGE_PAGES + 2 * KC_MAX_VMS + 8)

/* ---- Coherent view -------------------------------------------------------- */

static uint64_t rd(const struct machine *m, uint64_t pa)
{
    uint64_t v = 0;
    label_t l;

    if (cache_read_coherent(&m->ms.cache, pa & ~7ull, 8, &v, &l) != MEM_OK)
        return 0;
    return v;
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
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_KCORE, LABEL_KCORE,
                              "L1 refinement: KCore read VA %#llx at PA %#llx (value %#llx%s) but "
                              "the flat walk of the current tables faults: stale TLB entry",
                              (unsigned long long)a->va, (unsigned long long)a->pa,
                              (unsigned long long)a->val, a->tlb_hit ? ", TLB hit" : "");
            return n;
        }
        if (pa1 != a->pa) {
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_KCORE, LABEL_KCORE,
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
            machine_violation(m, (int)cpu, 8, a->pa & ~(MEM_PAGE_SIZE - 1), LABEL_KCORE, a->label,
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

uint64_t layers_l2_vm_map(const struct machine *m, unsigned vm, uint64_t gfn)
{
    struct mmu_ctx ctx;
    struct mmu_result r;
    struct mmu_fault f;
    uint64_t vttbr;

    if (vm >= KC_MAX_VMS || gfn >= L2_IPA_PAGES || !(vttbr = rd(m, KC_PUB_VM_VTTBR(vm))))
        return L2_PFN_NONE;
    memset(&ctx, 0, sizeof(ctx));
    ctx.regime = MMU_REGIME_EL10;
    ctx.s2.vm = true;
    ctx.s2.vttbr = vttbr;
    ctx.s2.vtcr = L2_VTCR;
    bind_coherent(m, &ctx);
    if (mmu_translate_s2(&ctx, gfn << MEM_PAGE_SHIFT, MMU_ACC_READ, true, &r, &f) != 0 ||
        r.s2_level != 3)
        return L2_PFN_NONE;
    return r.pa >> MEM_PAGE_SHIFT;
}

void layers_l2_page(const struct machine *m, uint64_t pfn, struct l2_page *p)
{
    uint64_t e = pfn < KC_OWNER_SIZE / 8 ? rd(m, KC_OWNER_BASE + 8 * pfn)
                                         : KC_OWN_MAKE(KC_OWNER_NONE, 0, 0);
    p->pfn = pfn;
    p->owner = KC_OWN_OWNER(e);
    p->count = KC_OWN_COUNT(e);
    p->gfn = 0;
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

    *post = *pre;
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
    struct l2_call call;
    struct l2_state pre;
    unsigned nr, nw;
    uint64_t rkey[L2_MAX_KEYS], wkey[L2_MAX_KEYS];
};

struct layers_state {
    struct l2_slot *slot;          /* 2 per CPU: [2 * cpu] host, [2 * cpu + 1] guest */
    unsigned nslots;
    uint32_t vcpus[KC_MAX_VMS];    /* ghost state, updated at each call's return */
    uint64_t image_pages[KC_MAX_VMS], image_hash[KC_MAX_VMS];
    uint64_t skipped;
};

static bool key_meets(uint64_t a, uint64_t b)
{
    if (a == b)
        return true;
    if (KEY_KIND(a) == K_VMALL && KEY_KIND(b) != K_PAGE && KEY_VM(a) == KEY_VM(b))
        return true;
    return KEY_KIND(b) == K_VMALL && KEY_KIND(a) != K_PAGE && KEY_VM(a) == KEY_VM(b);
}

/* Does y write something x reads or writes? */
static bool writes_into(const struct l2_slot *y, const struct l2_slot *x)
{
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
}

static void add_w(struct l2_slot *s, uint64_t k)
{
    if (s->nw < L2_MAX_KEYS)
        s->wkey[s->nw++] = k;
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

    memset(st, 0, sizeof(*st));
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
        uint64_t pages = st->mem_pages < KC_OWNER_SIZE / 8 ? st->mem_pages : KC_OWNER_SIZE / 8;
        add_w(s, KEY(K_VMALL, vm, 0));
        add_w(s, KEY(K_VMSTATE, vm, 0));
        for (uint64_t pfn = L2_KC_END_PFN; pfn < pages; pfn++)
            if (KC_OWN_OWNER(rd(m, KC_OWNER_BASE + 8 * pfn)) == KC_OWNER_VM(vm))
                add_page(m, s, pfn);
        break;
    }
    default:
        break;
    }
}

int layers_init(struct machine *m)
{
    struct layers_state *ls = calloc(1, sizeof(*ls));

    if (!ls)
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

void layers_after_kcore_step(struct machine *m, unsigned cpu)
{
    if (!m->layers || !m->cfg.layers)
        return;
    m->st.refinement_checks += layers_check_refinement(m, cpu);
}

void layers_on_hvc_issue(struct machine *m, unsigned cpu, bool guest, uint64_t hc,
                         const uint64_t a[4])
{
    struct layers_state *ls = m->layers;
    struct l2_slot *s;

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    s = &ls->slot[2 * cpu + guest];
    memset(&s->call, 0, sizeof(s->call));
    s->call.hc = hc;
    memcpy(s->call.arg, a, sizeof(s->call.arg));
    s->call.guest = guest;
    s->call.vm = m->cpu[cpu].guest_vm;
    capture(m, ls, s);
    s->live = true;
    s->tainted = s->truncated;
    for (unsigned i = 0; i < ls->nslots; i++) {
        struct l2_slot *y = &ls->slot[i];
        if (y == s || !y->live)
            continue;
        if (writes_into(y, s))
            s->tainted = true;
        if (writes_into(s, y))
            y->tainted = true;
    }
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

static void page_str(const struct l2_page *p, char *b, size_t n)
{
    char o[16];
    owner_str(p->owner, o, sizeof(o));
    if (owner_is_vm(p->owner) && p->gfn == L2_GFN_UNMAPPED)
        snprintf(b, n, "owner %s, count %u, unmapped", o, p->count);
    else if (owner_is_vm(p->owner))
        snprintf(b, n, "owner %s, count %u, gfn %#llx", o, p->count, (unsigned long long)p->gfn);
    else
        snprintf(b, n, "owner %s, count %u", o, p->count);
}

static bool page_eq(const struct l2_page *a, const struct l2_page *b)
{
    return a->owner == b->owner && a->count == b->count &&
           (!owner_is_vm(a->owner) || a->gfn == b->gfn);
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
        char a[64], b[64];
        layers_l2_page(m, want->page[i].pfn, &p);
        if (!page_eq(&p, &want->page[i])) {
            page_str(&p, a, sizeof(a));
            page_str(&want->page[i], b, sizeof(b));
            snprintf(why, n, "page %#llx: %s, the spec says %s",
                     (unsigned long long)(p.pfn << MEM_PAGE_SHIFT), a, b);
            return false;
        }
    }
    if (!c->guest && c->hc == HC_TEARDOWN && vm < KC_MAX_VMS && want->vm_state[vm] == VM_STATE_FREE) {
        uint64_t pages = want->mem_pages < KC_OWNER_SIZE / 8 ? want->mem_pages : KC_OWNER_SIZE / 8;
        for (uint64_t pfn = L2_KC_END_PFN; pfn < pages; pfn++)
            if (KC_OWN_OWNER(rd(m, KC_OWNER_BASE + 8 * pfn)) == KC_OWNER_VM(vm)) {
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

static void ghost_update(struct layers_state *ls, const struct l2_call *c, int64_t r)
{
    uint64_t vm = c->arg[0];

    if (c->guest || r < 0)
        return;
    if (c->hc == HC_REGISTER_VM && r < KC_MAX_VMS)
        vm = (uint64_t)r;
    else if (vm >= KC_MAX_VMS)
        return;
    switch (c->hc) {
    case HC_REGISTER_VM:
    case HC_TEARDOWN:
        ls->vcpus[vm] = 0;
        ls->image_pages[vm] = ls->image_hash[vm] = 0;
        break;
    case HC_REGISTER_VCPU:
        if (c->arg[1] < KC_MAX_VCPUS)
            ls->vcpus[vm] |= 1u << c->arg[1];
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
    if (!s->live)
        return;
    s->live = false;
    if (exited) {
        if (s->call.hc != HC_YIELD && s->call.hc != HC_POWEROFF) {
            ls->skipped++;                         /* abandoned: the VM was powered off */
            return;
        }
        r = HC_OK;
    }
    ghost_update(ls, &s->call, r);
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
                          c->guest ? LABEL_VM(c->vm) : LABEL_HOST, LABEL_KCORE,
                          "L2 spec: %s %s(%#llx, %#llx, %#llx, %#llx) returned %lld: %s",
                          who, hc_str(c->hc), (unsigned long long)c->arg[0],
                          (unsigned long long)c->arg[1], (unsigned long long)c->arg[2],
                          (unsigned long long)c->arg[3], (long long)r, why);
    }
}
