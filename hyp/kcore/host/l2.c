/*
 * hyp/kcore/host/l2.c - KCore's L2 specification checked against L0 on
 * every run (the checker "spec"). See l2.h; the design - abstraction,
 * footprints, linearization of concurrent calls and faults, the fault
 * handlers' specification - is written up in docs/LAYERS.md. The
 * per-hypercall parts are the rows of calls.c, the footprint/taint
 * machinery is model/layers/linearize.c; this file captures the
 * abstraction at issue, tracks the calls and faults in flight and judges
 * them at their return.
 */
#include "hyp/kcore/host/kc_host.h"
#include "model/layers/refine.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ESR_ELx (Arm ARM D17.2.37): EC, and the DFSC/IFSC of an abort; a
 * translation fault at level LL is 0b0001LL. HPFAR_EL2.FIPA: bits [43:4]. */
#define L2_ESR_EC(e)        (((e) >> 26) & 0x3fu)
#define L2_EC_IABT_LOW      0x20u
#define L2_EC_DABT_LOW      0x24u
#define L2_FSC_TRANS(e)     (((e) & 0x3cu) == 0x04u)
#define L2_HPFAR_IPA(h)     ((((h) >> 4) & ((1ull << 40) - 1)) << MEM_PAGE_SHIFT)
#define L2_VECTOR_SYNC_SPX  0x200u  /* current EL with SPx, synchronous (D1.10.2) */

/* ---- Coherent view -------------------------------------------------------- */

uint64_t kc_rd(const struct machine *m, uint64_t pa)
{
    return cache_coherent_word(&m->ms.cache, pa);
}
#define rd kc_rd

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
    ctx.s2.vtcr = m->hv->layout.vtcr;
    layers_bind_coherent(m, &ctx);
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
uint64_t l2_image_hash_now(const struct machine *m, unsigned vm, uint64_t n, bool *mapped)
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

void l2_spec(const struct l2_state *pre, const struct l2_call *c, struct l2_state *post,
             struct l2_verdict *v)
{
    const struct kc_row *row = kc_row(c->hc);

    state_copy(post, pre);
    memset(v, 0, sizeof(*v));
    if (row && row->info.guest == c->guest)
        row->spec(pre, c, post, v);
    else
        v->expect = HC_ENOSYS;                 /* unknown, or the other side's call */
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

void l2_fp_read(struct l2_slot *s, uint64_t k) { lin_read(&s->fp, k); }
void l2_fp_write(struct l2_slot *s, uint64_t k) { lin_write(&s->fp, k); }

/* The first page at or after *pfn that the ownership array (coherent view)
 * gives to VM vm, outside KCore's region; ~0 if none. Reads the array a
 * page of entries at a time; *pfn is left just after the page found. */
uint64_t l2_next_vm_page(const struct machine *m, unsigned vm, uint64_t *pfn)
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

void l2_add_page(const struct machine *m, struct l2_slot *s, uint64_t pfn)
{
    if (s->pre.npages == L2_MAX_PAGES) {
        s->fp.truncated = true;
        return;
    }
    layers_l2_page(m, pfn, &s->pre.page[s->pre.npages++]);
    l2_fp_write(s, KEY(K_PAGE, 0, pfn));
}

/* The abstraction of L0 on the call's footprint, and the footprint's keys
 * (the call's row; a host call without one reads its VM's state). */
static void capture(const struct machine *m, const struct layers_state *ls, struct l2_slot *s)
{
    const struct l2_call *c = &s->call;
    const struct kc_row *row = kc_row(c->hc);
    struct l2_state *st = &s->pre;

    memset(st, 0, offsetof(struct l2_state, page));   /* l2_add_page fills each page it adds */
    st->mem_pages = m->ms.mem.size >> MEM_PAGE_SHIFT;
    for (unsigned i = 0; i < KC_MAX_VMS; i++)
        st->vm_state[i] = (unsigned)rd(m, KC_PUB_VM_STATE(i));
    memcpy(st->vcpus, ls->vcpus, sizeof(st->vcpus));
    memcpy(st->image_pages, ls->image_pages, sizeof(st->image_pages));
    memcpy(st->image_hash, ls->image_hash, sizeof(st->image_hash));
    lin_reset(&s->fp);
    s->fp.inherit = row ? row->inherit : 0;

    if (c->guest) {
        if (row && row->info.guest && row->footprint)
            row->footprint(m, ls, s);
        return;
    }
    if (row && !row->info.guest && row->footprint)
        row->footprint(m, ls, s);
    else if (c->arg[0] < KC_MAX_VMS)
        l2_fp_read(s, KEY(K_VMSTATE, c->arg[0], 0));
}

/* The abstraction of L0 on a fault's footprint, and its (read) keys. */
static void capture_fault(const struct machine *m, struct l2_slot *s)
{
    const struct l2_fault *f = &s->fault;
    struct l2_state *st = &s->pre;
    uint64_t pfn = f->ipa >> MEM_PAGE_SHIFT;

    memset(st, 0, offsetof(struct l2_state, page));   /* the page is filled below */
    st->mem_pages = m->ms.mem.size >> MEM_PAGE_SHIFT;
    lin_reset(&s->fp);
    if (f->guest && f->vm < KC_MAX_VMS) {
        /* The VM's state first: a powered-off VM's fault exits POWEROFF
         * whatever its IPA (a scenario may name one past the IPA space). */
        st->vm_state[f->vm] = (unsigned)rd(m, KC_PUB_VM_STATE(f->vm));
        l2_fp_read(s, KEY(K_VMSTATE, f->vm, 0));
    }
    if (pfn >= L2_IPA_PAGES)
        return;
    if (f->guest) {
        if (f->vm >= KC_MAX_VMS)
            return;
        st->gfn_mapped = layers_l2_vm_map(m, f->vm, pfn) != L2_PFN_NONE;
        l2_fp_read(s, KEY(K_GFN, f->vm, pfn));
        return;
    }
    layers_l2_page(m, pfn, &st->page[0]);
    st->page[0].host = layers_l2_host_map(m, pfn);
    st->npages = 1;
    l2_fp_read(s, KEY(K_PAGE, 0, pfn));
}

static void open_slot(struct layers_state *ls, struct l2_slot *s)
{
    lin_open(ls->fps, ls->nslots, &s->fp);
}

int layers_init(struct machine *m)
{
    struct layers_state *ls;

    if (2 * m->cfg.ncpus > LIN_MAX_SLOTS)
        return -1;                     /* lin_open's queue holds LIN_MAX_SLOTS */
    if (!(ls = calloc(1, sizeof(*ls))))
        return -1;
    ls->nslots = 2 * m->cfg.ncpus;
    ls->slot = calloc(ls->nslots, sizeof(*ls->slot));
    ls->fps = calloc(ls->nslots, sizeof(*ls->fps));
    if (!ls->slot || !ls->fps) {
        free(ls->slot);
        free(ls->fps);
        free(ls);
        return -1;
    }
    for (unsigned i = 0; i < ls->nslots; i++) {
        struct l2_slot *sl = &ls->slot[i];
        sl->fp.cap = L2_MAX_KEYS;
        sl->fp.rkey = sl->rkey;
        sl->fp.wkey = sl->wkey;
        ls->fps[i] = &sl->fp;
    }
    m->layers = ls;
    return 0;
}

void layers_free(struct machine *m)
{
    if (m->layers) {
        free(m->layers->slot);
        free(m->layers->fps);
        free(m->layers);
        m->layers = NULL;
    }
}

uint64_t layers_spec_skipped(const struct machine *m)
{
    return m->st.spec_skipped;
}

uint64_t layers_fault_skipped(const struct machine *m)
{
    return m->st.fault_skipped;
}

uint64_t layers_fault_refused_allowed(const struct machine *m)
{
    return m->st.fault_refused_allowed;
}

unsigned layers_faults_in_flight(const struct machine *m)
{
    unsigned n = 0;

    for (unsigned i = 0; m->layers && i < m->layers->nslots; i++)
        n += m->layers->slot[i].fp.live && m->layers->slot[i].fp.is_fault;
    return n;
}

void l2_ghost_free(struct layers_state *ls, unsigned vm)
{
    ls->gen[vm]++;
    ls->ghost_unsure[vm] = false;
    ls->vcpus[vm] = 0;
    ls->image_pages[vm] = ls->image_hash[vm] = 0;
    memset(ls->resume[vm], 0, sizeof(ls->resume[vm]));   /* vCPUs start afresh */
}

void layers_after_kcore_step(struct machine *m, unsigned cpu, const struct msys_access *acc,
                             unsigned n)
{
    (void)cpu;
    if (!m->layers || !m->cfg.layers)
        return;
    /* A TEARDOWN's linearization point for the ghost state: KCore
     * publishes the slot FREE (hyp/kcore/hypercall.c hc_teardown). */
    uint64_t seen = 0;                 /* a 64-bit store arrives as two halves */
    for (unsigned i = 0; i < n; i++) {
        const struct msys_access *a = &acc[i];
        if (a->acc != MMU_ACC_WRITE || a->pa < KC_PUB_VM_STATE(0) ||
            a->pa >= KC_PUB_VM_STATE(KC_MAX_VMS))
            continue;
        unsigned vm = (unsigned)((a->pa - KC_PUB_VM_STATE(0)) / 8);
        if (!(seen & (1ull << vm)) && rd(m, KC_PUB_VM_STATE(vm)) == VM_STATE_FREE)
            l2_ghost_free(m->layers, vm);
        seen |= 1ull << vm;
    }
}

/* Is s a live call of the host on VM vm whose spec reads ghost state? */
static bool ghost_reader(const struct l2_slot *s, uint64_t vm)
{
    const struct kc_row *row = kc_row(s->call.hc);
    return s->fp.live && !s->fp.is_fault && !s->call.guest && s->call.arg[0] == vm && row &&
           row->reads_ghost;
}

void layers_on_hvc_issue(struct machine *m, unsigned cpu, bool guest, uint64_t hc,
                         const uint64_t a[4])
{
    struct layers_state *ls = m->layers;
    struct l2_slot *s;

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    s = &ls->slot[2 * cpu + guest];
    s->fp.is_fault = false;
    memset(&s->call, 0, sizeof(s->call));
    s->call.hc = hc;
    memcpy(s->call.arg, a, sizeof(s->call.arg));
    s->call.guest = guest;
    s->call.vm = m->cpu[cpu].guest_vm;
    capture(m, ls, s);
    s->gen = !guest && a[0] < KC_MAX_VMS ? ls->gen[a[0]] : 0;
    open_slot(ls, s);
    if (!guest && a[0] < KC_MAX_VMS && ls->ghost_unsure[a[0]] && ghost_reader(s, a[0]))
        s->fp.tainted = true;          /* its ghost pre-state is unknown */
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
    s->fp.is_fault = true;
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
    const struct kc_row *row = kc_row(hc);
    return row ? row->info.sym : "unknown hypercall";
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
    const struct kc_row *row = kc_row(c->hc);
    unsigned vm = c->guest ? c->vm : (unsigned)c->arg[0];

    if (!c->guest && row && row->vm_from_result)
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
    if (!c->guest && row && !row->info.guest && row->post_check)
        return row->post_check(m, c, want, why, n);
    return true;
}

bool l2_check_call(const struct machine *m, const struct l2_call *c, const struct l2_state *pre,
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
    const struct kc_row *row = kc_row(c->hc);
    uint64_t vm = c->arg[0];

    if (c->guest || r < 0 || !row || row->info.guest || row->vm_from_result || vm >= KC_MAX_VMS)
        return;
    if (s->gen != ls->gen[vm]) {
        if (row->writes_ghost) {
            ls->ghost_unsure[vm] = true;
            for (unsigned i = 0; i < ls->nslots; i++)
                if (ghost_reader(&ls->slot[i], vm))
                    ls->slot[i].fp.tainted = true;
        }
        return;
    }
    if (row->ghost)
        row->ghost(ls, c);
}

void layers_on_hvc_return(struct machine *m, unsigned cpu, bool guest, int64_t r, bool exited)
{
    struct layers_state *ls = m->layers;
    struct l2_slot *s;
    char why[200] = "";

    if (!ls || !m->cfg.layers || 2 * cpu + 1 >= ls->nslots)
        return;
    s = &ls->slot[2 * cpu + guest];
    if (!s->fp.live || s->fp.is_fault)
        return;
    s->fp.live = false;
    if (exited) {
        const struct kc_row *row = kc_row(s->call.hc);
        if (!row || !row->info.exits) {
            m->st.spec_skipped++;                         /* abandoned: the VM was powered off */
            return;
        }
        r = HC_OK;
    }
    ghost_update(ls, s, r);
    if (s->fp.tainted) {
        m->st.spec_skipped++;
        return;
    }
    m->st.spec_checks++;
    if (l2_check_call(m, &s->call, &s->pre, r, why, sizeof(why)))
        return;
    {
        const struct kc_row *row = kc_row(s->call.hc);
        if (!s->call.guest && row && !row->info.guest && row->recheck && row->recheck(m, s, r))
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

    s->fp.live = false;
    post = malloc(sizeof(*post));
    if (!post)
        return;
    l2_spec_fault(&s->pre, f, post, &v);
    got = observe(m, cpu, f, &v, x0, x1, why, sizeof(why));
    if (f->guest && f->vm < KC_MAX_VMS && (got == L2_FAULT_EXIT_S2FAULT || got == L2_FAULT_EXIT_POWEROFF)) {
        /* The vCPU HC_RUN_VCPU entered (the host's call in flight here)
         * must re-enter at the faulting PC. */
        const struct l2_slot *h = &ls->slot[2 * cpu];
        if (h->fp.live && !h->fp.is_fault && h->call.hc == HC_RUN_VCPU && h->call.arg[0] == f->vm &&
            h->call.arg[1] < KC_MAX_VCPUS) {
            ls->resume[f->vm][h->call.arg[1]].armed = true;
            ls->resume[f->vm][h->call.arg[1]].elr = f->elr;
        }
    }
    if (s->fp.tainted && got != L2_FAULT_OTHER) {
        m->st.fault_skipped++;                       /* either serialisation is legal */
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
        m->st.fault_refused_allowed++;
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
    if (s->fp.live && s->fp.is_fault)
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
    if (h->fp.live && h->fp.is_fault) {            /* the host's fault ends in a guest */
        fault_return(m, cpu, h, 0, 0);
        return;
    }
    if (!h->fp.live || h->call.guest || h->call.hc != HC_RUN_VCPU)
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

uint64_t kc_image_hash_pfns(const struct machine *m, uint64_t pfn, unsigned n)
{
    uint64_t h = KC_FNV_OFFSET;
    for (uint64_t pa = pfn << MEM_PAGE_SHIFT; pa < (pfn + n) << MEM_PAGE_SHIFT; pa += 8) {
        uint64_t w = rd(m, pa);
        for (int b = 0; b < 8; b++)
            h = (h ^ ((w >> (8 * b)) & 0xff)) * KC_FNV_PRIME;
    }
    return h;
}

/* ---- The checker (model/checker.h): fed by the actors' events ----------- */

static void spec_event(struct machine *m, void *stp, const struct ev *e)
{
    struct layers_state *ls = stp;
    unsigned cpu = e->cpu < 0 ? 0 : (unsigned)e->cpu;

    switch (e->kind) {
    case EV_STEP_BEGIN:
        ls->nacc = 0;
        break;
    case EV_ACCESS:
        if (e->u.access.who == LABEL_HYP && ls->nacc < CPU_MAX_ACCESS)
            ls->acc[ls->nacc++] = e->u.access;
        break;
    case EV_STEP_END:
        if (!m->stop && e->u.step.ran_hyp)
            layers_after_kcore_step(m, cpu, ls->acc, ls->nacc);
        ls->nacc = 0;
        break;
    case EV_HVC_ISSUE:
        layers_on_hvc_issue(m, cpu, e->u.hvc.guest, e->u.hvc.hc, e->u.hvc.a);
        break;
    case EV_HVC_RETURN:
        layers_on_hvc_return(m, cpu, e->u.hvc.guest, e->u.hvc.r, e->u.hvc.exited);
        break;
    case EV_S2_FAULT:
        layers_on_s2_fault(m, cpu, e->u.fault.guest);
        break;
    case EV_S2_FAULT_RETURN:
        layers_on_s2_fault_return(m, cpu, e->u.fault.guest, e->u.fault.x0, e->u.fault.x1);
        break;
    case EV_VCPU_ENTRY:
        layers_on_vcpu_entry(m, cpu);
        break;
    default:
        break;
    }
}

static int spec_init(struct machine *m, void **st)
{
    if (layers_init(m) != 0)
        return -1;
    *st = m->layers;
    return 0;
}

static void spec_free(struct machine *m, void *st)
{
    (void)st;
    layers_free(m);
}

const struct checker_def kc_spec_checker = {
    .name = "spec",
    .what = "invariant 8, L2: every hypercall and stage-2 fault against KCore's specification",
    .events = EV_BIT(EV_STEP_BEGIN) | EV_BIT(EV_ACCESS) | EV_BIT(EV_STEP_END) | EV_BIT(EV_HVC_ISSUE) |
              EV_BIT(EV_HVC_RETURN) | EV_BIT(EV_S2_FAULT) | EV_BIT(EV_S2_FAULT_RETURN) |
              EV_BIT(EV_VCPU_ENTRY),
    .init = spec_init,
    .free = spec_free,
    .on_event = spec_event,
};

const struct checker_def *const kc_checkers[] = { &kc_spec_checker, NULL };
