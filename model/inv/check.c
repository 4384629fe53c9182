/*
 * model/inv/check.c - reports, principals and ownership decoding, the hand-back
 * rule (invariant 4) and the per-item predicates of invariants 1-7 that the
 * full and the incremental checks share.
 */
#include "model/inv/inv_int.h"

/* ---- Reports ------------------------------------------------------------ */

void inv_report_init(struct inv_report *r, int cpu)
{
    /* Only the header: items [0, n) are written before they are read, and
     * clearing the whole array every step cost more than the checks. */
    r->n = r->total = 0;
    r->mask = 0;
    r->cpu = cpu;
}

#define CPU_DEFAULT (-2)

__attribute__((format(printf, 7, 8)))
static void rep_add(struct inv_report *r, int cpu, int inv, uint64_t page, label_t who,
                    label_t whose, const char *fmt, ...)
{
    va_list ap;

    r->total++;
    r->mask |= INV_BIT(inv);
    if (r->n >= INV_REPORT_MAX)
        return;
    struct inv_item *it = &r->item[r->n++];
    it->cpu = cpu == CPU_DEFAULT ? r->cpu : cpu;
    it->invariant = inv;
    it->page = page;
    it->who = who;
    it->whose = whose;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof it->detail, fmt, ap);
    va_end(ap);
}

void inv_rep_flush(struct machine *m, const struct inv_report *r)
{
    for (unsigned i = 0; i < r->n; i++) {
        const struct inv_item *it = &r->item[i];
        machine_violation(m, it->cpu, it->invariant, it->page, it->who, it->whose, "%s",
                          it->detail);
    }
}

/* ---- Principals, ownership, memory -------------------------------------- */

static label_t who_label(int who)
{
    return who == 0 ? LABEL_HOST : LABEL_VM(who - 1);
}

static unsigned who_owner(int who)
{
    return who == 0 ? HV_OWNER_HOST : HV_OWNER_VM((unsigned)who - 1);
}

#define owner_label hv_owner_label
#define owner_is_vm HV_OWNER_IS_VM

static const char *who_name(int who, char *buf, size_t len)
{
    if (who == 0)
        snprintf(buf, len, "host");
    else
        snprintf(buf, len, "VM %d", who - 1);
    return buf;
}


/* One 8-byte word of the coherent view; 0 outside memory. */
uint64_t inv_rd(const struct machine *m, uint64_t pa)
{
    return cache_coherent_word(&m->ms.cache, pa);
}

/* A whole page of the coherent view. Zeros outside memory. */
void inv_rd_page(const struct machine *m, uint64_t pa, uint64_t *out)
{
    if (cache_read_words_coherent(&m->ms.cache, pa & PAGE_MASK, out, NULL, DESCS_PER_PAGE) != MEM_OK)
        memset(out, 0, MEM_PAGE_SIZE);
}

/* The ownership array's entry of page frame pfn, decoded. */
struct hv_page inv_owner_entry_raw(const struct machine *m, uint64_t pfn)
{
    struct hv_mem mm;
    struct hv_page p;
    machine_view(m, &mm);
    hv_page(m->hv, &mm, pfn, &p);
    return p;
}

/* The owner the invariants hold the hypervisor to. Its own region (code,
 * data, stacks, page-table pool, ownership array) is its own whatever the
 * ownership array says: the array is the hypervisor's say-so, and one that
 * records one of its own pages as someone else's must not thereby make
 * mapping it legal. Elsewhere the array is the truth. */
static struct hv_page owner_entry(const struct machine *m, uint64_t pfn)
{
    struct hv_mem mm;
    struct hv_page p;
    machine_view(m, &mm);
    hv_page_effective(m->hv, &mm, pfn, &p);
    return p;
}

uint64_t inv_region_pages(const struct machine *m)
{
    return m->hv->layout.region_end >> MEM_PAGE_SHIFT;
}

/* Invariant 7 (bookkeeping), per ownership entry: once booted, the array
 * records each of KCore's own pages as KCore's. */
void inv_check_kcore_record(const struct machine *m, struct inv_report *r, uint64_t pfn)
{
    char on[16];
    unsigned o;

    if (pfn >= inv_region_pages(m))
        return;
    o = inv_owner_entry_raw(m, pfn).owner;
    if (o != HV_OWNER_HYP)
        rep_add(r, CPU_DEFAULT, 7, pfn << MEM_PAGE_SHIFT, LABEL_HYP, owner_label(o),
                "the ownership array records %s's page %#llx as owned by %s", m->hv->label_name,
                (unsigned long long)(pfn << MEM_PAGE_SHIFT), hv_owner_name(m->hv, o, on, sizeof on));
}

static bool page_in_mem(const struct machine *m, uint64_t pa)
{
    return mem_in_range(&m->ms.mem, pa, MEM_PAGE_SIZE);
}

/* ---- The hand-back rule (invariant 4) ------------------------------------ */

void inv_check_handback(const struct machine *m, struct inv_report *r, uint64_t pfn)
{
    uint64_t pa = pfn << MEM_PAGE_SHIFT, val[DESCS_PER_PAGE];
    label_t lab[DESCS_PER_PAGE];
    unsigned at = DESCS_PER_PAGE, mem_at = DESCS_PER_PAGE;
    label_t bad = LABEL_NONE, mem_bad = LABEL_NONE;

    if (!page_in_mem(m, pa) || mem_read_words(&m->ms.mem, pa, val, lab, DESCS_PER_PAGE) != MEM_OK)
        return;
    for (unsigned i = 0; i < DESCS_PER_PAGE && mem_at == DESCS_PER_PAGE; i++)
        if (LABEL_IS_VM(lab[i])) {
            mem_at = i;
            mem_bad = lab[i];
        }
    if (cache_read_words_coherent(&m->ms.cache, pa, val, lab, DESCS_PER_PAGE) != MEM_OK)
        return;
    for (unsigned i = 0; i < DESCS_PER_PAGE && at == DESCS_PER_PAGE; i++)
        if (LABEL_IS_VM(lab[i])) {
            at = i;
            bad = lab[i];
        }
    if (at < DESCS_PER_PAGE)
        rep_add(r, CPU_DEFAULT, 4, pa, LABEL_HOST, bad,
                "page %#llx was handed back to the host still holding VM %d's data at PA %#llx "
                "(a cacheable host read returns it)", (unsigned long long)pa,
                LABEL_VM_INDEX(bad), (unsigned long long)(pa + 8ull * at));
    else if (mem_at < DESCS_PER_PAGE)
        rep_add(r, CPU_DEFAULT, 4, pa, LABEL_HOST, mem_bad,
                "page %#llx was handed back to the host with VM %d's data in memory at PA %#llx "
                "under a cache line (a non-cacheable host read returns it)", (unsigned long long)pa,
                LABEL_VM_INDEX(mem_bad), (unsigned long long)(pa + 8ull * mem_at));
}

static uint8_t own_code(unsigned o)
{
    return o > 0xfe ? 0xff : (uint8_t)o;                /* 0xff: out of range */
}

static bool own_code_is_vm(uint8_t c) { return HV_OWNER_IS_VM(c) && c != 0xff; }

/* Page pfn's owner is o now: judge a change from a VM to the host (if
 * `judge`), and remember the owner. */
void inv_own_seen(const struct machine *m, struct inv_report *r, uint8_t *prev, uint64_t pfn,
                     unsigned o, bool judge)
{
    uint8_t c = own_code(o);

    if (pfn < inv_region_pages(m) || pfn >= m->inv->nown_pages)
        return;
    if (judge && c == HV_OWNER_HOST && own_code_is_vm(prev[pfn]))
        inv_check_handback(m, r, pfn);
    prev[pfn] = c;
}

/* Every entry of the ownership array, a page of it at a time. */
void inv_own_scan(const struct machine *m, struct inv_report *r, uint8_t *prev, bool judge)
{
    uint64_t e[DESCS_PER_PAGE];
    uint64_t n = m->inv->nown_pages;

    for (uint64_t p0 = 0; p0 < n; p0 += DESCS_PER_PAGE) {
        inv_rd_page(m, m->hv->layout.own_base + 8 * p0, e);
        for (uint64_t i = 0; i < DESCS_PER_PAGE && p0 + i < n; i++) {
            struct hv_page p;
            m->hv->page_decode(e[i], &p);
            inv_own_seen(m, r, prev, p0 + i, p.owner, judge);
        }
    }
}

bool inv_booted(const struct machine *m)
{
    struct hv_mem mm;
    machine_view(m, &mm);
    return m->hv->booted(&mm);
}

/* The published stage-2 root (VTTBR) of principal slot s. */
uint64_t inv_published_root(const struct machine *m, unsigned s)
{
    struct hv_mem mm;
    machine_view(m, &mm);
    return m->hv->root(&mm, s);
}

uint64_t inv_root_of(uint64_t vttbr)
{
    return MMU_TTBR_BADDR(vttbr) & MMU_DESC_OA_MASK;
}

/* ---- Descriptors (Arm ARM D8.3, 4 KiB granule: the walker's decoder) ---- */

unsigned inv_level_shift(int level)
{
    return 12u + 9u * (unsigned)(3 - level);
}


/* ---- Per-item predicates (shared by full and incremental checks) -------- */

/* Invariants 1, 2 and 7 for one stage-2 leaf of principal `who` mapping
 * [oa, oa + 2^shift) at ipa. `mask` selects which invariants to evaluate;
 * each is reported at most once per leaf (its first offending page). */
void inv_check_leaf(const struct machine *m, struct inv_report *r, uint32_t mask, int who,
                       uint64_t ipa, uint64_t oa, unsigned shift, uint64_t desc_pa)
{
    uint64_t npg = (1ull << shift) >> MEM_PAGE_SHIFT;
    uint32_t done = ~mask & (INV_BIT(1) | INV_BIT(2) | INV_BIT(7));
    char wn[16], on[16];

    if ((mask & INV_BIT(7)) && who == 0 && ipa != oa) {
        rep_add(r, CPU_DEFAULT, 7, oa, LABEL_HOST, LABEL_HOST,
                "host stage 2 is not an identity map: IPA %#llx -> PA %#llx (descriptor at %#llx)",
                (unsigned long long)ipa, (unsigned long long)oa, (unsigned long long)desc_pa);
        done |= INV_BIT(7);
    }
    for (uint64_t i = 0; i < npg && done != (INV_BIT(1) | INV_BIT(2) | INV_BIT(7)); i++) {
        uint64_t pa = oa + (i << MEM_PAGE_SHIFT), pipa = ipa + (i << MEM_PAGE_SHIFT);
        if (!page_in_mem(m, pa)) {
            if (!(done & INV_BIT(2)))
                rep_add(r, CPU_DEFAULT, 2, pa, who_label(who), LABEL_NONE,
                        "%s stage 2 maps IPA %#llx to PA %#llx outside memory (descriptor at %#llx)",
                        who_name(who, wn, sizeof wn), (unsigned long long)pipa,
                        (unsigned long long)pa, (unsigned long long)desc_pa);
            break;
        }
        struct hv_page e = owner_entry(m, pa >> MEM_PAGE_SHIFT);
        unsigned o = e.owner;
        if (o == HV_OWNER_HYP) {
            if (!(done & INV_BIT(1)))
                rep_add(r, CPU_DEFAULT, 1, pa, who_label(who), LABEL_HYP,
                        "%s stage 2 maps %s's page: IPA %#llx -> PA %#llx (descriptor at %#llx)",
                        who_name(who, wn, sizeof wn), m->hv->label_name, (unsigned long long)pipa,
                        (unsigned long long)pa, (unsigned long long)desc_pa);
            done |= INV_BIT(1);
            continue;
        }
        if (!(done & INV_BIT(2)) && o != who_owner(who) && !(who == 0 && owner_is_vm(o))) {
            rep_add(r, CPU_DEFAULT, 2, pa, who_label(who), owner_label(o),
                    "%s stage 2 maps a page it neither owns nor shares: IPA %#llx -> PA %#llx "
                    "owned by %s (descriptor at %#llx)",
                    who_name(who, wn, sizeof wn), (unsigned long long)pipa, (unsigned long long)pa,
                    hv_owner_name(m->hv, o, on, sizeof on), (unsigned long long)desc_pa);
            done |= INV_BIT(2);
        }
        if (done & INV_BIT(7))
            continue;
        if (who == 0 && owner_is_vm(o) && e.count == 0) {
            rep_add(r, CPU_DEFAULT, 7, pa, LABEL_HOST, owner_label(o),
                    "host stage 2 maps PA %#llx of %s whose share count is 0 (descriptor at %#llx)",
                    (unsigned long long)pa, hv_owner_name(m->hv, o, on, sizeof on),
                    (unsigned long long)desc_pa);
            done |= INV_BIT(7);
        } else if (who != 0 && o == who_owner(who) &&
                   e.gfn != (pipa >> MEM_PAGE_SHIFT)) {
            rep_add(r, CPU_DEFAULT, 7, pa, who_label(who), owner_label(o),
                    "%s maps its page PA %#llx at gfn %#llx but the ownership array records gfn %#llx "
                    "(descriptor at %#llx)",
                    who_name(who, wn, sizeof wn), (unsigned long long)pa,
                    (unsigned long long)(pipa >> MEM_PAGE_SHIFT), (unsigned long long)e.gfn,
                    (unsigned long long)desc_pa);
            done |= INV_BIT(7);
        }
    }
}

bool inv_tlb_entry_relevant(const struct tlb_entry *e)
{
    return e->valid && e->regime == MMU_REGIME_EL10;
}

uint64_t inv_tlb_entry_base(const struct tlb_entry *e, unsigned *shift)
{
    unsigned s = e->shift < MEM_PAGE_SHIFT ? MEM_PAGE_SHIFT : e->shift;
    if (s > 48)
        s = 48;
    *shift = s;
    return e->r.pa & ~((1ull << s) - 1);
}

/* Invariants 1 and 3 for one EL1&0 TLB entry of CPU cpu, over every page it
 * spans; each reported at most once per entry. */
void inv_check_tlb_entry(const struct machine *m, struct inv_report *r, uint32_t mask,
                            unsigned cpu, unsigned idx, const struct tlb_entry *e)
{
    static const char *const kinds[] = { "S1", "S12", "S2" };
    unsigned shift;
    uint64_t base, npg;
    uint32_t done = ~mask & (INV_BIT(1) | INV_BIT(3));
    int who = e->vmid;
    char wn[16], on[16];
    const char *kind = e->kind < 3 ? kinds[e->kind] : "?";

    if (!inv_tlb_entry_relevant(e))
        return;
    base = inv_tlb_entry_base(e, &shift);
    npg = (1ull << shift) >> MEM_PAGE_SHIFT;
    for (uint64_t i = 0; i < npg && done != (INV_BIT(1) | INV_BIT(3)); i++) {
        uint64_t pa = base + (i << MEM_PAGE_SHIFT);
        if (!page_in_mem(m, pa)) {
            if (!(done & INV_BIT(3)))
                rep_add(r, (int)cpu, 3, pa, who_label(who), LABEL_NONE,
                        "TLB entry %u (%s, VMID %d, in %#llx) of CPU %u translates to PA %#llx "
                        "outside memory", idx, kind, who, (unsigned long long)e->in_base, cpu,
                        (unsigned long long)pa);
            break;
        }
        struct hv_page oe = owner_entry(m, pa >> MEM_PAGE_SHIFT);
        unsigned o = oe.owner;
        if (o == HV_OWNER_HYP) {
            if (!(done & INV_BIT(1)))
                rep_add(r, (int)cpu, 1, pa, who_label(who), LABEL_HYP,
                        "TLB entry %u (%s, VMID %d = %s, in %#llx) of CPU %u maps %s's page %#llx",
                        idx, kind, who, who_name(who, wn, sizeof wn),
                        (unsigned long long)e->in_base, cpu, m->hv->label_name, (unsigned long long)pa);
            done |= INV_BIT(1);
            continue;
        }
        bool ok = o == who_owner(who) || (who == 0 && owner_is_vm(o) && oe.count > 0);
        if (!ok && !(done & INV_BIT(3))) {
            rep_add(r, (int)cpu, 3, pa, who_label(who), owner_label(o),
                    "TLB entry %u (%s, VMID %d = %s, in %#llx) of CPU %u translates to PA %#llx "
                    "owned by %s (share count %u)", idx, kind, who, who_name(who, wn, sizeof wn),
                    (unsigned long long)e->in_base, cpu, (unsigned long long)pa,
                    hv_owner_name(m->hv, o, on, sizeof on), oe.count);
            done |= INV_BIT(3);
        }
    }
}

/* Invariant 6, per table page: in the pool and (once booted) KCore-owned. */
void inv_check_table_page(const struct machine *m, struct inv_report *r, uint64_t pa,
                             int who, int level, bool booted)
{
    char wn[16], on[16];

    if (!hv_in_pool(m->hv, pa))
        rep_add(r, CPU_DEFAULT, 6, pa, who_label(who), LABEL_HYP,
                "%s level-%d stage-2 table page %#llx lies outside the pool [%#llx, %#llx)",
                who_name(who, wn, sizeof wn), level, (unsigned long long)pa,
                (unsigned long long)m->hv->layout.pool_base,
                (unsigned long long)(m->hv->layout.pool_base + m->hv->layout.pool_size));
    if (!booted)
        return;
    /* The array itself must record table pages as KCore's (bookkeeping of
     * the table pool), so read it raw here. */
    unsigned o = page_in_mem(m, pa) ? inv_owner_entry_raw(m, pa >> MEM_PAGE_SHIFT).owner
                                     : HV_OWNER_NONE;
    if (o != HV_OWNER_HYP)
        rep_add(r, CPU_DEFAULT, 6, pa, who_label(who), owner_label(o),
                "%s level-%d stage-2 table page %#llx is owned by %s, not %s",
                who_name(who, wn, sizeof wn), level, (unsigned long long)pa,
                hv_owner_name(m->hv, o, on, sizeof on), m->hv->label_name);
}

void inv_report_dup_table(struct inv_report *r, uint64_t pa, int who, int level)
{
    char wn[16];
    rep_add(r, CPU_DEFAULT, 6, pa, who_label(who), LABEL_HYP,
            "table page %#llx is referenced more than once (again as a level-%d table of %s)",
            (unsigned long long)pa, level, who_name(who, wn, sizeof wn));
}

/* Invariant 6, per descriptor write (Arm ARM D8.16 "Translation table
 * updates", break-before-make): a valid descriptor only becomes another
 * valid one with the same kind and output address; a table newly linked
 * holds no valid descriptor (KCore fills tables after linking them). */
void inv_check_transition(const struct machine *m, struct inv_report *r, int who, int level,
                             uint64_t desc_pa, uint64_t old, uint64_t new)
{
    enum mmu_desc_kind ko = mmu_desc_kind(old, level), kn = mmu_desc_kind(new, level);
    char wn[16];

    if (kn == MMU_DK_INVALID)
        return;
    if (ko != MMU_DK_INVALID && (ko != kn || mmu_desc_oa(old) != mmu_desc_oa(new)))
        rep_add(r, CPU_DEFAULT, 6, desc_pa & PAGE_MASK, who_label(who), LABEL_HYP,
                "break-before-make: %s level-%d descriptor at %#llx changed from valid %#llx to "
                "valid %#llx without an invalid descriptor in between",
                who_name(who, wn, sizeof wn), level, (unsigned long long)desc_pa,
                (unsigned long long)old, (unsigned long long)new);
    if (kn == MMU_DK_TABLE && !(ko == MMU_DK_TABLE && mmu_desc_oa(old) == mmu_desc_oa(new))) {
        uint64_t child = mmu_desc_oa(new), w[DESCS_PER_PAGE];
        inv_rd_page(m, child, w);
        for (unsigned i = 0; i < DESCS_PER_PAGE; i++) {
            uint64_t d = w[i];
            if (mmu_desc_kind(d, level + 1) != MMU_DK_INVALID) {
                rep_add(r, CPU_DEFAULT, 6, child, who_label(who), LABEL_HYP,
                        "%s table page %#llx linked at %#llx (level %d) while not empty: "
                        "entry %u is %#llx", who_name(who, wn, sizeof wn),
                        (unsigned long long)child, (unsigned long long)desc_pa, level + 1, i,
                        (unsigned long long)d);
                break;
            }
        }
    }
}

/* Invariants 4 and 5 for one actor access. */
void inv_check_access(const struct machine *m, label_t who, const struct msys_access *a,
                      bool write, struct inv_report *r)
{
    uint64_t page = a->pa & PAGE_MASK;
    unsigned wo = who == LABEL_HOST ? HV_OWNER_HOST : HV_OWNER_VM(LABEL_VM_INDEX(who));
    char on[16], wn[16];

    if (!page_in_mem(m, page))
        return;                /* an external abort: nothing landed, nothing returned */
    struct hv_page e = owner_entry(m, page >> MEM_PAGE_SHIFT);
    unsigned o = e.owner;
    bool shared_to_host = who == LABEL_HOST && owner_is_vm(o) && e.count > 0;

    if (write) {
        if (o != wo && !shared_to_host)
            rep_add(r, CPU_DEFAULT, 5, page, who, owner_label(o),
                    "write of %#llx by %s to PA %#llx (IPA %#llx) landed on a page owned by %s "
                    "(share count %u)", (unsigned long long)a->val,
                    hv_label_name(m->hv, who, wn, sizeof wn), (unsigned long long)a->pa, (unsigned long long)a->ipa,
                    hv_owner_name(m->hv, o, on, sizeof on), e.count);
        return;
    }
    if (LABEL_IS_VM(a->label) && a->label != who) {
        bool ok = shared_to_host && o == HV_OWNER_VM(LABEL_VM_INDEX(a->label));
        if (!ok)
            rep_add(r, CPU_DEFAULT, 4, page, who, a->label,
                    "read by %s at PA %#llx (IPA %#llx) returned a word of VM %d; the page is "
                    "owned by %s with share count %u",
                    hv_label_name(m->hv, who, wn, sizeof wn), (unsigned long long)a->pa, (unsigned long long)a->ipa,
                    LABEL_VM_INDEX(a->label), hv_owner_name(m->hv, o, on, sizeof on), e.count);
    }
}
