/*
 * tlb/tlb.c - per-CPU TLBs tagged by regime, VMID and ASID; TLBI decoding
 * and matching; pending (not yet completed) invalidations per CPU.
 *
 * Models what tlb/tlb.h describes: leaf-only unified TLBs, replacement by a
 * scheduler-chosen victim or a deterministic LRU tick, and the TLB
 * maintenance instructions of Arm ARM D8.13 that KCore and guests use.
 * Calls nothing in mmu/ (only its types), so it links without mmu.c.
 * Leaves out: what tlb.h leaves out; TLB conflict aborts (a fill that would
 * duplicate an identically tagged entry reuses that entry's slot instead).
 */
#include "tlb/tlb.h"

#include <stdlib.h>
#include <string.h>

#define TLB_EINVAL (-2)
#define TLB_ENOMEM (-3)           /* same value as MEM_ENOMEM */
#define TLB_MAX_PENDING (1u << 24) /* bound on the pending list */

/* Xt fields of TLBI operands (D8.13, "TLBI VAE1, TLBI IPAS2E1" operand
 * descriptions): VA[55:12] in Xt[43:0], ASID in Xt[63:48], IPA[47:12] in
 * Xt[35:0]. */
#define TLBI_XT_VA_MASK   ((1ull << 44) - 1)
#define TLBI_XT_IPA_MASK  ((1ull << 36) - 1)
#define TLBI_XT_ASID(xt)  ((uint16_t)((xt) >> 48))

/* sys-instruction fields (op0=1, CRn=8) */
#define TLBI_OP1_EL1 0u
#define TLBI_OP1_EL2 4u
#define TLBI_CRM_IPA_IS  0u  /* IPAS2*IS */
#define TLBI_CRM_OS      1u  /* non-range, Outer Shareable (FEAT_TLBIOS) */
#define TLBI_CRM_IS      3u  /* non-range, Inner Shareable */
#define TLBI_CRM_IPA_NS  4u  /* IPAS2* local, and IPAS2*OS with op2 0/4 */
#define TLBI_CRM_LOCAL   7u  /* non-range, local */

/* ---- Address ranges ---------------------------------------------------- */

/* Shifts arrive as 12/21/30 or 64 (stage disabled); never shift by >= 64. */
static unsigned clamp_shift(unsigned shift)
{
    return shift > 64 ? 64 : shift;
}

/* Bits below the entry's size. */
static uint64_t low_mask(unsigned shift)
{
    return shift >= 64 ? ~0ull : (1ull << shift) - 1;
}

/* Does [base, base + 2^shift) contain addr? */
static bool range_covers(uint64_t base, unsigned shift, uint64_t addr)
{
    return ((base ^ addr) & ~low_mask(shift)) == 0;
}

/* VA[55:12] from Xt, with bits [63:56] copied from bit 55 so that the upper
 * (TTBR1) range matches the entries' full 64-bit VAs. */
static uint64_t xt_to_va(uint64_t xt)
{
    uint64_t va = (xt & TLBI_XT_VA_MASK) << 12;
    if (va & (1ull << 55))
        va |= 0xff00000000000000ull;
    return va;
}

/* ---- TLBI decoding ---------------------------------------------------- */

int tlbi_decode(unsigned op1, unsigned crm, unsigned op2, uint64_t xt,
                uint16_t cur_vmid, struct tlbi_op *op)
{
    struct tlbi_op o;
    bool va_op = false, ipa_op = false, asid_op = false;

    if (!op)
        return -1;
    memset(&o, 0, sizeof o);
    o.vmid = cur_vmid;

    if (op1 == TLBI_OP1_EL1) {
        if (crm == TLBI_CRM_IS || crm == TLBI_CRM_OS)
            o.broadcast = true;
        else if (crm != TLBI_CRM_LOCAL)
            return -1;
        switch (op2) {
        case 0: o.type = TLBI_VMALLE1; break;
        case 1: /* VAE1 */
        case 5: /* VALE1: as VAE1 (no walk caches) */
            o.type = TLBI_VAE1; va_op = asid_op = true; break;
        case 2: o.type = TLBI_ASIDE1; asid_op = true; break;
        case 3: /* VAAE1 */
        case 7: /* VAALE1 */
            o.type = TLBI_VAAE1; va_op = true; break;
        default: return -1;
        }
    } else if (op1 == TLBI_OP1_EL2) {
        if (crm == TLBI_CRM_IPA_IS || crm == TLBI_CRM_IPA_NS) {
            /* IPAS2E1IS (0,1) IPAS2LE1IS (0,5); IPAS2E1 (4,1) IPAS2LE1
             * (4,5); IPAS2E1OS (4,0) IPAS2LE1OS (4,4). */
            if (crm == TLBI_CRM_IPA_IS && (op2 == 1 || op2 == 5))
                o.broadcast = true;
            else if (crm == TLBI_CRM_IPA_NS && (op2 == 1 || op2 == 5))
                o.broadcast = false;
            else if (crm == TLBI_CRM_IPA_NS && (op2 == 0 || op2 == 4))
                o.broadcast = true;
            else
                return -1;
            o.type = TLBI_IPAS2E1;
            ipa_op = true;
        } else {
            if (crm == TLBI_CRM_IS || crm == TLBI_CRM_OS)
                o.broadcast = true;
            else if (crm != TLBI_CRM_LOCAL)
                return -1;
            switch (op2) {
            case 0: o.type = TLBI_ALLE2; break;
            case 1: /* VAE2 */
            case 5: /* VALE2 */
                o.type = TLBI_VAE2; va_op = true; break;
            case 4: o.type = TLBI_ALLE1; break;
            case 6: o.type = TLBI_VMALLS12E1; break;
            default: return -1;
            }
        }
    } else {
        return -1;
    }

    if (va_op)
        o.addr = xt_to_va(xt);
    if (ipa_op)
        o.addr = (xt & TLBI_XT_IPA_MASK) << 12;
    if (asid_op)
        o.asid = TLBI_XT_ASID(xt);
    *op = o;
    return 0;
}

const char *tlbi_name(const struct tlbi_op *op)
{
    static const char *const local[] = {
        [TLBI_VMALLS12E1] = "VMALLS12E1", [TLBI_IPAS2E1] = "IPAS2E1",
        [TLBI_VMALLE1] = "VMALLE1",       [TLBI_VAE1] = "VAE1",
        [TLBI_VAAE1] = "VAAE1",           [TLBI_ASIDE1] = "ASIDE1",
        [TLBI_ALLE1] = "ALLE1",           [TLBI_ALLE2] = "ALLE2",
        [TLBI_VAE2] = "VAE2",
    };
    static const char *const is[] = {
        [TLBI_VMALLS12E1] = "VMALLS12E1IS", [TLBI_IPAS2E1] = "IPAS2E1IS",
        [TLBI_VMALLE1] = "VMALLE1IS",       [TLBI_VAE1] = "VAE1IS",
        [TLBI_VAAE1] = "VAAE1IS",           [TLBI_ASIDE1] = "ASIDE1IS",
        [TLBI_ALLE1] = "ALLE1IS",           [TLBI_ALLE2] = "ALLE2IS",
        [TLBI_VAE2] = "VAE2IS",
    };
    unsigned t;

    if (!op)
        return "?";
    t = (unsigned)op->type;
    if (t >= sizeof local / sizeof local[0])
        return "?";
    return op->broadcast ? is[t] : local[t];
}

/* ---- One TLB ----------------------------------------------------------- */

int tlb_init(struct tlb *t, unsigned cap)
{
    if (!t)
        return TLB_EINVAL;
    memset(t, 0, sizeof *t);
    if (cap == 0)
        return TLB_EINVAL;
    t->e = calloc(cap, sizeof *t->e);
    t->key = calloc(cap, sizeof *t->key);
    if (!t->e || !t->key) {
        free(t->e);
        free(t->key);
        t->e = NULL;
        t->key = NULL;
        return TLB_ENOMEM;
    }
    t->cap = cap;
    return 0;
}

/* Bring key[i] in step with e[i]. */
static void key_sync(struct tlb *t, unsigned i)
{
    const struct tlb_entry *e = &t->e[i];
    struct tlb_key *k = &t->key[i];

    memset(k, 0, sizeof *k);
    if (!e->valid)
        return;
    k->base = e->in_base;
    k->mask = ~low_mask(e->shift);
    k->vmid = e->vmid;
    k->asid = e->asid;
    k->global = e->global;
    if (e->regime == MMU_REGIME_EL2)
        k->cls = e->kind == TLB_KIND_S1 ? TLB_KEY_EL2 : TLB_KEY_INVALID;
    else if (e->kind == TLB_KIND_S2)
        k->cls = TLB_KEY_S2;
    else
        k->cls = TLB_KEY_EL10_S1;
}

void tlb_free(struct tlb *t)
{
    if (!t)
        return;
    free(t->e);
    free(t->key);
    memset(t, 0, sizeof *t);
}

int tlb_clone(struct tlb *dst, const struct tlb *src)
{
    if (!dst || !src || src->cap == 0 || !src->e)
        return TLB_EINVAL;
    memset(dst, 0, sizeof *dst);
    dst->e = malloc((size_t)src->cap * sizeof *dst->e);
    dst->key = malloc((size_t)src->cap * sizeof *dst->key);
    if (!dst->e || !dst->key) {
        free(dst->e);
        free(dst->key);
        memset(dst, 0, sizeof *dst);
        return TLB_ENOMEM;
    }
    memcpy(dst->e, src->e, (size_t)src->cap * sizeof *dst->e);
    memcpy(dst->key, src->key, (size_t)src->cap * sizeof *dst->key);
    dst->cap = src->cap;
    dst->used = src->used;
    dst->tick = src->tick;
    dst->gen = src->gen;
    return 0;
}

static struct tlb_entry *touch(struct tlb *t, struct tlb_entry *e)
{
    e->lru = ++t->tick;
    return e;
}

/* First valid entry (lowest index) satisfying the tags; refreshes its LRU
 * stamp. */
struct tlb_entry *tlb_lookup_el2(struct tlb *t, uint64_t va)
{
    if (!t)
        return NULL;
    for (unsigned i = 0; i < t->cap; i++) {
        const struct tlb_key *k = &t->key[i];
        if (k->cls == TLB_KEY_EL2 && (va & k->mask) == k->base)
            return touch(t, &t->e[i]);
    }
    return NULL;
}

struct tlb_entry *tlb_lookup_el10(struct tlb *t, uint16_t vmid, uint16_t asid, uint64_t va)
{
    if (!t)
        return NULL;
    for (unsigned i = 0; i < t->cap; i++) {
        const struct tlb_key *k = &t->key[i];
        if (k->cls == TLB_KEY_EL10_S1 && (va & k->mask) == k->base && k->vmid == vmid &&
            (k->global || k->asid == asid))
            return touch(t, &t->e[i]);
    }
    return NULL;
}

struct tlb_entry *tlb_lookup_s2(struct tlb *t, uint16_t vmid, uint64_t ipa)
{
    if (!t)
        return NULL;
    for (unsigned i = 0; i < t->cap; i++) {
        const struct tlb_key *k = &t->key[i];
        if (k->cls == TLB_KEY_S2 && (ipa & k->mask) == k->base && k->vmid == vmid)
            return touch(t, &t->e[i]);
    }
    return NULL;
}

static bool same_tags(const struct tlb_entry *a, const struct tlb_entry *b)
{
    return a->regime == b->regime && a->kind == b->kind &&
           a->global == b->global && a->asid == b->asid && a->vmid == b->vmid &&
           a->in_base == b->in_base && a->shift == b->shift;
}

/* Build the entry for a translation. Tags: EL2 entries are global with VMID
 * 0 (the EL2 regime has neither); EL1&0 stage-1 and combined entries carry
 * the result's VMID and, when nG, its ASID; stage-2-only entries carry the
 * VMID and count as global (no ASID). */
static int make_entry(struct tlb_entry *e, enum mmu_regime regime,
                      enum tlb_kind kind, const struct mmu_result *r)
{
    unsigned shift;
    uint64_t in;

    if (regime == MMU_REGIME_EL2) {
        if (kind != TLB_KIND_S1)
            return -1;
    } else if (regime != MMU_REGIME_EL10) {
        return -1;
    }
    switch (kind) {
    case TLB_KIND_S1:
        shift = clamp_shift(r->s1_shift);
        in = r->va;
        break;
    case TLB_KIND_S12: {
        unsigned s1 = clamp_shift(r->s1_shift), s2 = clamp_shift(r->s2_shift);
        shift = s1 < s2 ? s1 : s2;
        in = r->va;
        break;
    }
    case TLB_KIND_S2:
        shift = clamp_shift(r->s2_shift);
        in = r->ipa;
        break;
    default:
        return -1;
    }
    memset(e, 0, sizeof *e);
    e->valid = true;
    e->regime = (uint8_t)regime;
    e->kind = (uint8_t)kind;
    e->shift = shift;
    e->in_base = in & ~low_mask(shift);
    if (regime == MMU_REGIME_EL2) {
        e->global = true;
    } else if (kind == TLB_KIND_S2) {
        e->global = true;
        e->vmid = r->vmid;
    } else {
        e->global = !r->ng;
        e->asid = r->ng ? r->asid : 0;
        e->vmid = r->vmid;
    }
    e->r = *r;
    return 0;
}

int tlb_fill(struct tlb *t, enum mmu_regime regime, enum tlb_kind kind,
             const struct mmu_result *r, int victim)
{
    struct tlb_entry ne;
    int slot = -1;

    if (!t || !t->e || !r || victim < -1 || (victim >= 0 && (unsigned)victim >= t->cap))
        return -1;
    if (make_entry(&ne, regime, kind, r) != 0)
        return -1;

    if (victim >= 0) {
        slot = victim;
    } else {
        /* An identically tagged entry is replaced in place (no duplicates),
         * else the first free slot, else the least recently used. */
        for (unsigned i = 0; i < t->cap && slot < 0; i++)
            if (t->e[i].valid && same_tags(&t->e[i], &ne))
                slot = (int)i;
        for (unsigned i = 0; i < t->cap && slot < 0; i++)
            if (!t->e[i].valid)
                slot = (int)i;
        if (slot < 0) {
            slot = 0;
            for (unsigned i = 1; i < t->cap; i++)
                if (t->e[i].lru < t->e[slot].lru)
                    slot = (int)i;
        }
    }
    if (!t->e[slot].valid)
        t->used++;
    t->e[slot] = ne;
    key_sync(t, (unsigned)slot);
    t->gen++;
    touch(t, &t->e[slot]);
    return slot;
}

void tlb_evict(struct tlb *t, unsigned idx)
{
    if (!t || !t->e || idx >= t->cap || !t->e[idx].valid)
        return;
    memset(&t->e[idx], 0, sizeof t->e[idx]);
    key_sync(t, idx);
    t->used--;
    t->gen++;
}

int tlb_nth_valid(const struct tlb *t, unsigned n)
{
    if (!t || !t->e)
        return -1;
    for (unsigned i = 0; i < t->cap; i++) {
        if (!t->e[i].valid)
            continue;
        if (n == 0)
            return (int)i;
        n--;
    }
    return -1;
}

/* ---- TLBI matching (Arm ARM D8.13 "TLB maintenance instructions") ----- */

bool tlb_entry_matches(const struct tlb_entry *e, const struct tlbi_op *op)
{
    bool el10, s1_or_s12;

    if (!e || !op || !e->valid)
        return false;
    el10 = e->regime == MMU_REGIME_EL10;
    s1_or_s12 = e->kind == TLB_KIND_S1 || e->kind == TLB_KIND_S12;

    switch (op->type) {
    case TLBI_VMALLS12E1:   /* stage 1 and stage 2 of the current VMID */
        return el10 && e->vmid == op->vmid;
    case TLBI_IPAS2E1:      /* stage-2-only entries; combined ones survive */
        return el10 && e->kind == TLB_KIND_S2 && e->vmid == op->vmid &&
               range_covers(e->in_base, e->shift, op->addr);
    case TLBI_VMALLE1:      /* stage 1 (incl. combined) of the current VMID */
        return el10 && s1_or_s12 && e->vmid == op->vmid;
    case TLBI_VAE1:         /* by VA, ASID-matching or global */
        return el10 && s1_or_s12 && e->vmid == op->vmid &&
               (e->global || e->asid == op->asid) &&
               range_covers(e->in_base, e->shift, op->addr);
    case TLBI_VAAE1:        /* by VA, every ASID */
        return el10 && s1_or_s12 && e->vmid == op->vmid &&
               range_covers(e->in_base, e->shift, op->addr);
    case TLBI_ASIDE1:       /* non-global entries of the ASID */
        return el10 && s1_or_s12 && e->vmid == op->vmid &&
               !e->global && e->asid == op->asid;
    case TLBI_ALLE1:        /* every EL1&0 entry, every VMID */
        return el10;
    case TLBI_ALLE2:        /* every EL2-regime entry */
        return e->regime == MMU_REGIME_EL2;
    case TLBI_VAE2:
        return e->regime == MMU_REGIME_EL2 &&
               range_covers(e->in_base, e->shift, op->addr);
    }
    return false;
}

unsigned tlb_invalidate(struct tlb *t, const struct tlbi_op *op)
{
    unsigned n = 0;

    if (!t || !t->e || !op)
        return 0;
    for (unsigned i = 0; i < t->cap; i++) {
        if (tlb_entry_matches(&t->e[i], op)) {
            tlb_evict(t, i);
            n++;
        }
    }
    return n;
}

/* FNV-1a over explicit fields (never raw struct bytes: padding). */
static uint64_t mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t tlb_hash(const struct tlb *t)
{
    uint64_t h = 0xcbf29ce484222325ull;

    if (!t || !t->e)
        return h;
    h = mix(h, t->cap);
    h = mix(h, t->used);
    for (unsigned i = 0; i < t->cap; i++) {
        const struct tlb_entry *e = &t->e[i];
        const struct mmu_result *r = &e->r;
        if (!e->valid)
            continue;
        h = mix(h, i);
        h = mix(h, (uint64_t)e->regime | (uint64_t)e->kind << 8 |
                       (uint64_t)e->global << 16 | (uint64_t)e->asid << 24 |
                       (uint64_t)e->vmid << 40);
        h = mix(h, e->in_base);
        h = mix(h, e->shift);
        h = mix(h, e->lru);
        h = mix(h, r->va);
        h = mix(h, r->ipa);
        h = mix(h, r->pa);
        h = mix(h, (uint64_t)r->s1_level | (uint64_t)r->s2_level << 8 |
                       (uint64_t)r->s1_shift << 16 | (uint64_t)r->s2_shift << 24 |
                       (uint64_t)r->s1_perms << 32 | (uint64_t)r->s2_perms << 40 |
                       (uint64_t)r->ng << 48);
        h = mix(h, (uint64_t)r->attrs.device | (uint64_t)r->attrs.cacheable << 1 |
                       (uint64_t)r->attrs.s1_attr << 8 |
                       (uint64_t)r->attrs.s2_memattr << 16 |
                       (uint64_t)r->asid << 24 | (uint64_t)r->vmid << 40);
        h = mix(h, r->s1_desc_pa);
        h = mix(h, r->s2_desc_pa);
    }
    return h;
}

/* ---- The machine's TLBs and pending invalidations -------------------- */

int tlb_sys_init(struct tlb_system *s, unsigned ncpus, unsigned cap_per_cpu)
{
    if (!s)
        return TLB_EINVAL;
    memset(s, 0, sizeof *s);
    if (ncpus == 0 || cap_per_cpu == 0)
        return TLB_EINVAL;
    s->cpu = calloc(ncpus, sizeof *s->cpu);
    if (!s->cpu)
        return TLB_ENOMEM;
    s->ncpus = ncpus;
    for (unsigned i = 0; i < ncpus; i++) {
        int rc = tlb_init(&s->cpu[i], cap_per_cpu);
        if (rc != 0) {
            tlb_sys_free(s);
            return rc;
        }
    }
    return 0;
}

void tlb_sys_free(struct tlb_system *s)
{
    if (!s)
        return;
    if (s->cpu)
        for (unsigned i = 0; i < s->ncpus; i++)
            tlb_free(&s->cpu[i]);
    free(s->cpu);
    free(s->pending);
    memset(s, 0, sizeof *s);
}

int tlb_sys_clone(struct tlb_system *dst, const struct tlb_system *src)
{
    if (!dst || !src || src->ncpus == 0 || !src->cpu)
        return TLB_EINVAL;
    memset(dst, 0, sizeof *dst);
    dst->cpu = calloc(src->ncpus, sizeof *dst->cpu);
    if (!dst->cpu)
        return TLB_ENOMEM;
    dst->ncpus = src->ncpus;
    for (unsigned i = 0; i < src->ncpus; i++) {
        int rc = tlb_clone(&dst->cpu[i], &src->cpu[i]);
        if (rc != 0) {
            tlb_sys_free(dst);
            return rc;
        }
    }
    if (src->npending > 0) {
        dst->pending = malloc((size_t)src->npending * sizeof *dst->pending);
        if (!dst->pending) {
            tlb_sys_free(dst);
            return TLB_ENOMEM;
        }
        memcpy(dst->pending, src->pending, (size_t)src->npending * sizeof *dst->pending);
        dst->npending = dst->cap_pending = src->npending;
    }
    return 0;
}

/* Room for `extra` more pending entries: doubling, bounded. */
static int reserve_pending(struct tlb_system *s, unsigned extra)
{
    unsigned need, ncap;
    struct tlb_pending *p;

    if (extra > TLB_MAX_PENDING || s->npending > TLB_MAX_PENDING - extra)
        return TLB_ENOMEM;
    need = s->npending + extra;
    if (need <= s->cap_pending)
        return 0;
    ncap = s->cap_pending ? s->cap_pending : 8;
    while (ncap < need)
        ncap *= 2;   /* need <= 2^24, so no overflow */
    p = realloc(s->pending, (size_t)ncap * sizeof *p);
    if (!p)
        return TLB_ENOMEM;
    s->pending = p;
    s->cap_pending = ncap;
    return 0;
}

/* Either every target's pending entry is recorded, or none (on error). */
int tlb_sys_issue(struct tlb_system *s, unsigned issuer, const struct tlbi_op *op)
{
    unsigned n;
    int rc;

    if (!s || !op || issuer >= s->ncpus)
        return TLB_EINVAL;
    n = op->broadcast ? s->ncpus : 1;
    rc = reserve_pending(s, n);
    if (rc != 0)
        return rc;
    for (unsigned i = 0; i < s->ncpus; i++) {
        if (!op->broadcast && i != issuer)
            continue;
        s->pending[s->npending].op = *op;
        s->pending[s->npending].issuer = issuer;
        s->pending[s->npending].target = i;
        s->pending[s->npending].view = 0;
        s->npending++;
    }
    return 0;
}

unsigned tlb_sys_complete(struct tlb_system *s, unsigned idx)
{
    struct tlb_pending p;
    unsigned removed = 0;

    if (!s || idx >= s->npending)
        return 0;
    p = s->pending[idx];
    if (p.target < s->ncpus)
        removed = tlb_invalidate(&s->cpu[p.target], &p.op);
    memmove(&s->pending[idx], &s->pending[idx + 1],
            (size_t)(s->npending - idx - 1) * sizeof *s->pending);
    s->npending--;
    return removed;
}

unsigned tlb_sys_dsb_notify(struct tlb_system *s, unsigned issuer,
                            void (*done)(void *arg, const struct tlb_pending *p, unsigned removed),
                            void *arg)
{
    unsigned n = 0, i = 0;

    if (!s)
        return 0;
    while (i < s->npending) {
        if (s->pending[i].issuer == issuer) {
            struct tlb_pending p = s->pending[i];
            unsigned removed = tlb_sys_complete(s, i);   /* the rest shift down into i */
            if (done)
                done(arg, &p, removed);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

unsigned tlb_sys_dsb(struct tlb_system *s, unsigned issuer)
{
    return tlb_sys_dsb_notify(s, issuer, NULL, NULL);
}

bool tlb_sys_entry_doomed(const struct tlb_system *s, unsigned target,
                          const struct tlb_entry *e)
{
    if (!s || !e)
        return false;
    for (unsigned i = 0; i < s->npending; i++)
        if (s->pending[i].target == target && tlb_entry_matches(e, &s->pending[i].op))
            return true;
    return false;
}
