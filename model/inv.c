/*
 * model/inv.c - the isolation invariants of DESIGN.md (1-7), checked after
 * every step, incrementally or from scratch (machine.h, model/inv.h).
 *
 * What the checker trusts: the machine's hardware state only - memory
 * through the coherent view (cache_read_coherent: what a cacheable walk
 * sees), the TLBs, and of KCore's data only the ownership array and the
 * published page (hyp/kcore/abi.h), which name every stage-2 root. Tables are
 * walked with the mmu/ visitor (full mode) or followed descriptor by
 * descriptor (incremental mode); KCore's own bookkeeping of its tables is
 * never read.
 *
 * Reporting: a violation is reported once, under the most specific
 * invariant: a KCore page in a stage-2 table or a TLB entry is 1 (not also
 * 2 or 3); a VM page mapped by the host with a zero share count is 7 (its
 * clause "count == 0 implies no host mapping"), so 2 accepts any VM page in
 * the host's stage 2, while 3 (TLB entries, no bookkeeping clause) requires
 * count > 0.
 *
 * Incremental mode keeps: a shadow copy of every table page reachable from
 * a published root (with its level, principal, first IPA and reference
 * count), the published VTTBRs and boot flag, a saturating per-page count of
 * stage-2 leaves covering the page (1 byte per page), and per TLB slot the
 * translation it held when last checked. After a step it re-reads only the
 * words the step could have changed: KCore's writes (cpu->acc), the actors'
 * writes, the lines of non-cacheable writes made under a valid cache line
 * (an eviction changes the coherent view later), and the cache line a DC
 * ZVA allocated (DC is no access record: the instruction at cpu->last_pc
 * says a DC ran); a DC IVAC (or an unidentifiable DC ZVA) makes it re-read
 * everything it tracks. A changed descriptor is checked (invariant 6's
 * transition rules), its old subtree untracked and its new one tracked and
 * checked; a changed ownership entry re-checks the stage-2 leaves covering
 * that page (found by scanning the shadows, skipped when the page's leaf
 * count is 0), the TLB entries covering it, and the page itself if it is a
 * table; a TLB entry is checked when its slot differs from the shadow.
 *
 * Invariant 4 has two parts: each actor read (inv_check_access), and the
 * hand-back rule - a page whose ownership entry changes from a VM to the
 * host must hold no VM-labelled word, in the coherent view (a cacheable
 * read) or in memory (a non-cacheable read, or what a lost line leaves).
 * The host may read any page it owns at any moment, so data left there has
 * leaked whether or not the adversary's schedule happens to read it; the
 * rule turns a race the scheduler must hit (host fault + read inside the
 * window) into a check at the change. Both modes keep the owner each page
 * had at the last look (a byte per page): incremental updates it from the
 * ownership words a step wrote, full compares the whole array every step.
 *
 * Leaves out: stage-1 tables of the EL1&0 regime (guests run with stage 1
 * off here), KCore's EL2 stage 1 (not a host or guest context), the
 * hardware access-flag updates of walks (they change no output address).
 */
#include "model/inv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MASK      (~(MEM_PAGE_SIZE - 1))
#define DESCS_PER_PAGE 512u
#define NPRINC         (1 + KC_MAX_VMS)     /* principal slot: 0 host, n+1 VM n */
#define INV_BIT(i)     (1u << (i))
#define STRUCT_INVS    (INV_BIT(1) | INV_BIT(2) | INV_BIT(3) | INV_BIT(6) | INV_BIT(7))
#define AGREE_INVS     (STRUCT_INVS | INV_BIT(4))   /* 4: the hand-back rule */
#define OWN_LIST_MAX   32
#define ACTOR_W_MAX    16
#define WATCH_MAX      64

/* ---- Small open-addressing map u64 -> u32 ------------------------------ */

struct u64map {
    uint64_t *key;             /* key + 1; 0 = empty */
    uint32_t *val;
    uint32_t cap, n;           /* cap: power of two */
};

static uint32_t map_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (uint32_t)k;
}

static bool map_get(const struct u64map *mp, uint64_t k, uint32_t *v)
{
    if (mp->cap == 0)
        return false;
    for (uint32_t i = map_hash(k) & (mp->cap - 1);; i = (i + 1) & (mp->cap - 1)) {
        if (mp->key[i] == 0)
            return false;
        if (mp->key[i] == k + 1) {
            if (v)
                *v = mp->val[i];
            return true;
        }
    }
}

static int map_put(struct u64map *mp, uint64_t k, uint32_t v);

static int map_grow(struct u64map *mp)
{
    struct u64map nm = { 0 };
    nm.cap = mp->cap ? mp->cap * 2 : 64;
    nm.key = calloc(nm.cap, sizeof *nm.key);
    nm.val = calloc(nm.cap, sizeof *nm.val);
    if (!nm.key || !nm.val) {
        free(nm.key);
        free(nm.val);
        return -1;
    }
    for (uint32_t i = 0; i < mp->cap; i++)
        if (mp->key[i])
            map_put(&nm, mp->key[i] - 1, mp->val[i]);
    free(mp->key);
    free(mp->val);
    *mp = nm;
    return 0;
}

static int map_put(struct u64map *mp, uint64_t k, uint32_t v)
{
    if ((mp->n + 1) * 2 > mp->cap && map_grow(mp) != 0)
        return -1;
    for (uint32_t i = map_hash(k) & (mp->cap - 1);; i = (i + 1) & (mp->cap - 1)) {
        if (mp->key[i] == k + 1) {
            mp->val[i] = v;
            return 0;
        }
        if (mp->key[i] == 0) {
            mp->key[i] = k + 1;
            mp->val[i] = v;
            mp->n++;
            return 0;
        }
    }
}

/* Linear-probing deletion by backward shift (no tombstones). */
static void map_del(struct u64map *mp, uint64_t k)
{
    uint32_t mask = mp->cap - 1, i, j;

    if (mp->cap == 0)
        return;
    for (i = map_hash(k) & mask;; i = (i + 1) & mask) {
        if (mp->key[i] == 0)
            return;
        if (mp->key[i] == k + 1)
            break;
    }
    mp->key[i] = 0;
    mp->n--;
    for (j = (i + 1) & mask; mp->key[j] != 0; j = (j + 1) & mask) {
        uint32_t h = map_hash(mp->key[j] - 1) & mask;
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            mp->key[i] = mp->key[j];
            mp->val[i] = mp->val[j];
            mp->key[j] = 0;
            i = j;
        }
    }
}

static void map_clear(struct u64map *mp)
{
    if (mp->cap)
        memset(mp->key, 0, mp->cap * sizeof *mp->key);
    mp->n = 0;
}

static void map_free(struct u64map *mp)
{
    free(mp->key);
    free(mp->val);
    memset(mp, 0, sizeof *mp);
}

/* ---- Checker state ------------------------------------------------------ */

/* A stage-2 table page reachable from a published root (incremental). */
struct inv_table {
    uint64_t pa;
    uint64_t base;             /* first IPA the table covers */
    int level;
    int who;                   /* principal slot */
    unsigned refs;             /* table descriptors + roots pointing here */
    uint64_t desc[DESCS_PER_PAGE];   /* coherent view when last synced */
};

/* A snapshot of table pages (full mode's previous and current step). */
struct inv_snap {
    struct u64map map;         /* pfn -> index */
    uint64_t *words;           /* n * DESCS_PER_PAGE */
    uint32_t n, cap;
};

struct tlb_shadow {
    bool valid;
    uint8_t regime, kind;
    uint16_t vmid;
    unsigned shift;
    uint64_t in_base, pa;
};

struct watch {                 /* a line whose memory differs from the cache */
    uint64_t line;
    uint64_t w[CACHE_LINE_WORDS];
};

struct inv_state {
    struct mmu_geom geom;      /* stage 2: T0SZ=25, SL0=1 */
    /* incremental */
    bool booted, boot_pending, degraded, force_resync;
    uint64_t root[NPRINC];     /* published VTTBRs */
    struct inv_table **tab;
    uint32_t ntab, cap_tab;
    struct u64map tabmap;      /* pfn -> index in tab */
    uint8_t *mapcnt;           /* per page: stage-2 leaves covering it (saturating) */
    uint64_t npages;
    unsigned ncpus_tlb, tlb_cap;
    struct tlb_shadow *tlbsh;  /* ncpus_tlb * tlb_cap */
    uint64_t *tlb_gen;
    unsigned ncpus;
    uint8_t *prev_mode;        /* each CPU's mode before the step */
    uint64_t prev_cache_tick;
    uint64_t actor_w[ACTOR_W_MAX];
    bool actor_w_bypass[ACTOR_W_MAX];
    unsigned nactor_w;
    bool actor_w_overflow;
    bool accessed_r, accessed_w;
    struct watch watch[WATCH_MAX];
    unsigned nwatch;
    uint64_t own[OWN_LIST_MAX];
    unsigned nown;
    bool own_overflow;
    uint8_t *own_inc;          /* per page: owner when last seen (hand-back rule) */
    uint8_t *own_full;         /* the same, for the full mode */
    uint64_t nown_pages;       /* entries of own_inc/own_full */
    /* full */
    struct u64map seen;        /* scratch for a full walk */
    struct fw_page {           /* the walk's pages (one per level suffices) */
        uint64_t pa;
        bool valid;
        uint64_t w[DESCS_PER_PAGE];
    } fw_page[4];
    unsigned fw_next;
    struct inv_snap snap_prev, snap_cur;
    bool snap_valid;
    /* agreement */
    bool agree, agree_done;
    uint64_t agree_mismatch;
    char agree_last[256];
};

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

static void rep_flush(struct machine *m, const struct inv_report *r)
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
    return who == 0 ? KC_OWNER_HOST : KC_OWNER_VM((unsigned)who - 1);
}

static label_t owner_label(unsigned o)
{
    switch (o) {
    case KC_OWNER_HOST: return LABEL_HOST;
    case KC_OWNER_KCORE: return LABEL_HYP;
    case KC_OWNER_NONE: return LABEL_NONE;
    default: return (label_t)o;           /* KC_OWNER_VM(n) == LABEL_VM(n) */
    }
}

static bool owner_is_vm(unsigned o) { return o >= KC_OWNER_VM(0); }

static const char *who_name(int who, char *buf, size_t len)
{
    if (who == 0)
        snprintf(buf, len, "host");
    else
        snprintf(buf, len, "VM %d", who - 1);
    return buf;
}

static const char *owner_name(unsigned o, char *buf, size_t len)
{
    switch (o) {
    case KC_OWNER_HOST: snprintf(buf, len, "host"); break;
    case KC_OWNER_KCORE: snprintf(buf, len, "KCore"); break;
    case KC_OWNER_NONE: snprintf(buf, len, "nobody"); break;
    default: snprintf(buf, len, "VM %u", o - KC_OWNER_VM(0)); break;
    }
    return buf;
}

/* One 8-byte word of the coherent view; 0 outside memory. */
static uint64_t rd(const struct machine *m, uint64_t pa)
{
    return cache_coherent_word(&m->ms.cache, pa);
}

/* A whole page of the coherent view. Zeros outside memory. */
static void rd_page(const struct machine *m, uint64_t pa, uint64_t *out)
{
    if (cache_read_words_coherent(&m->ms.cache, pa & PAGE_MASK, out, NULL, DESCS_PER_PAGE) != MEM_OK)
        memset(out, 0, MEM_PAGE_SIZE);
}

static uint64_t owner_entry_raw(const struct machine *m, uint64_t pfn)
{
    if (pfn >= KC_OWNER_SIZE / 8)
        return KC_OWN_MAKE(KC_OWNER_NONE, 0, 0);
    return rd(m, KC_OWNER_BASE + 8 * pfn);
}

/* The owner the invariants hold KCore to. KCore's own region [0, KC_END)
 * (code, data, stacks, page-table pool, ownership array: hyp/kcore/abi.h) is
 * KCore's whatever the ownership array says: the array is KCore's say-so,
 * and a KCore that records one of its own pages as someone else's must not
 * thereby make mapping it legal. Elsewhere the array is the truth. */
static uint64_t owner_entry(const struct machine *m, uint64_t pfn)
{
    if (pfn < (KC_END >> MEM_PAGE_SHIFT))
        return KC_OWN_MAKE(KC_OWNER_KCORE, 0, 0);
    return owner_entry_raw(m, pfn);
}

/* Invariant 7 (bookkeeping), per ownership entry: once booted, the array
 * records each of KCore's own pages as KCore's. */
static void check_kcore_record(const struct machine *m, struct inv_report *r, uint64_t pfn)
{
    char on[16];
    unsigned o;

    if (pfn >= (KC_END >> MEM_PAGE_SHIFT))
        return;
    o = KC_OWN_OWNER(owner_entry_raw(m, pfn));
    if (o != KC_OWNER_KCORE)
        rep_add(r, CPU_DEFAULT, 7, pfn << MEM_PAGE_SHIFT, LABEL_HYP, owner_label(o),
                "the ownership array records KCore's page %#llx as owned by %s",
                (unsigned long long)(pfn << MEM_PAGE_SHIFT), owner_name(o, on, sizeof on));
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

static uint8_t own_code(uint64_t e)
{
    unsigned o = KC_OWN_OWNER(e);
    return o > 0xfe ? 0xff : (uint8_t)o;                /* 0xff: out of range */
}

static bool own_code_is_vm(uint8_t c) { return c >= KC_OWNER_VM(0) && c != 0xff; }

/* Page pfn's ownership entry is e now: judge a change from a VM to the host
 * (if `judge`), and remember the owner. */
static void own_seen(const struct machine *m, struct inv_report *r, uint8_t *prev, uint64_t pfn,
                     uint64_t e, bool judge)
{
    uint8_t c = own_code(e);

    if (pfn < (KC_END >> MEM_PAGE_SHIFT) || pfn >= m->inv->nown_pages)
        return;
    if (judge && c == KC_OWNER_HOST && own_code_is_vm(prev[pfn]))
        inv_check_handback(m, r, pfn);
    prev[pfn] = c;
}

/* Every entry of the ownership array, a page of it at a time. */
static void own_scan(const struct machine *m, struct inv_report *r, uint8_t *prev, bool judge)
{
    uint64_t e[DESCS_PER_PAGE];
    uint64_t n = m->inv->nown_pages;

    for (uint64_t p0 = 0; p0 < n; p0 += DESCS_PER_PAGE) {
        rd_page(m, KC_OWNER_BASE + 8 * p0, e);
        for (uint64_t i = 0; i < DESCS_PER_PAGE && p0 + i < n; i++)
            own_seen(m, r, prev, p0 + i, e[i], judge);
    }
}

bool inv_booted(const struct machine *m)
{
    return rd(m, KC_PUB_BOOTED) == 1;
}

static uint64_t root_of(uint64_t vttbr)
{
    return MMU_TTBR_BADDR(vttbr) & MMU_DESC_OA_MASK;
}

/* ---- Descriptors (Arm ARM D8.3, 4 KiB granule) -------------------------- */

enum dk { DK_INVALID, DK_TABLE, DK_BLOCK, DK_PAGE };

/* Same decoding as the walker: 0b11 is a table at levels 0-2 and a page at
 * level 3; 0b01 is a block at levels 1-2 and invalid elsewhere. */
static enum dk dk_decode(uint64_t d, int level)
{
    if (!(d & MMU_DESC_VALID))
        return DK_INVALID;
    if (d & MMU_DESC_TABLE)
        return level == 3 ? DK_PAGE : DK_TABLE;
    return (level == 1 || level == 2) ? DK_BLOCK : DK_INVALID;
}

static unsigned level_shift(int level)
{
    return 12u + 9u * (unsigned)(3 - level);
}

static bool in_pool(uint64_t pa)
{
    return pa >= KC_POOL_BASE && pa < KC_POOL_BASE + KC_POOL_SIZE;
}

/* ---- Per-item predicates (shared by full and incremental checks) -------- */

/* Invariants 1, 2 and 7 for one stage-2 leaf of principal `who` mapping
 * [oa, oa + 2^shift) at ipa. `mask` selects which invariants to evaluate;
 * each is reported at most once per leaf (its first offending page). */
static void check_leaf(const struct machine *m, struct inv_report *r, uint32_t mask, int who,
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
        uint64_t e = owner_entry(m, pa >> MEM_PAGE_SHIFT);
        unsigned o = KC_OWN_OWNER(e);
        if (o == KC_OWNER_KCORE) {
            if (!(done & INV_BIT(1)))
                rep_add(r, CPU_DEFAULT, 1, pa, who_label(who), LABEL_HYP,
                        "%s stage 2 maps KCore's page: IPA %#llx -> PA %#llx (descriptor at %#llx)",
                        who_name(who, wn, sizeof wn), (unsigned long long)pipa,
                        (unsigned long long)pa, (unsigned long long)desc_pa);
            done |= INV_BIT(1);
            continue;
        }
        if (!(done & INV_BIT(2)) && o != who_owner(who) && !(who == 0 && owner_is_vm(o))) {
            rep_add(r, CPU_DEFAULT, 2, pa, who_label(who), owner_label(o),
                    "%s stage 2 maps a page it neither owns nor shares: IPA %#llx -> PA %#llx "
                    "owned by %s (descriptor at %#llx)",
                    who_name(who, wn, sizeof wn), (unsigned long long)pipa, (unsigned long long)pa,
                    owner_name(o, on, sizeof on), (unsigned long long)desc_pa);
            done |= INV_BIT(2);
        }
        if (done & INV_BIT(7))
            continue;
        if (who == 0 && owner_is_vm(o) && KC_OWN_COUNT(e) == 0) {
            rep_add(r, CPU_DEFAULT, 7, pa, LABEL_HOST, owner_label(o),
                    "host stage 2 maps PA %#llx of %s whose share count is 0 (descriptor at %#llx)",
                    (unsigned long long)pa, owner_name(o, on, sizeof on),
                    (unsigned long long)desc_pa);
            done |= INV_BIT(7);
        } else if (who != 0 && o == who_owner(who) &&
                   KC_OWN_GFN(e) != (pipa >> MEM_PAGE_SHIFT)) {
            rep_add(r, CPU_DEFAULT, 7, pa, who_label(who), owner_label(o),
                    "%s maps its page PA %#llx at gfn %#llx but the ownership array records gfn %#llx "
                    "(descriptor at %#llx)",
                    who_name(who, wn, sizeof wn), (unsigned long long)pa,
                    (unsigned long long)(pipa >> MEM_PAGE_SHIFT), KC_OWN_GFN(e),
                    (unsigned long long)desc_pa);
            done |= INV_BIT(7);
        }
    }
}

static bool tlb_entry_relevant(const struct tlb_entry *e)
{
    return e->valid && e->regime == MMU_REGIME_EL10;
}

static uint64_t tlb_entry_base(const struct tlb_entry *e, unsigned *shift)
{
    unsigned s = e->shift < MEM_PAGE_SHIFT ? MEM_PAGE_SHIFT : e->shift;
    if (s > 48)
        s = 48;
    *shift = s;
    return e->r.pa & ~((1ull << s) - 1);
}

/* Invariants 1 and 3 for one EL1&0 TLB entry of CPU cpu, over every page it
 * spans; each reported at most once per entry. */
static void check_tlb_entry(const struct machine *m, struct inv_report *r, uint32_t mask,
                            unsigned cpu, unsigned idx, const struct tlb_entry *e)
{
    static const char *const kinds[] = { "S1", "S12", "S2" };
    unsigned shift;
    uint64_t base, npg;
    uint32_t done = ~mask & (INV_BIT(1) | INV_BIT(3));
    int who = e->vmid;
    char wn[16], on[16];
    const char *kind = e->kind < 3 ? kinds[e->kind] : "?";

    if (!tlb_entry_relevant(e))
        return;
    base = tlb_entry_base(e, &shift);
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
        uint64_t oe = owner_entry(m, pa >> MEM_PAGE_SHIFT);
        unsigned o = KC_OWN_OWNER(oe);
        if (o == KC_OWNER_KCORE) {
            if (!(done & INV_BIT(1)))
                rep_add(r, (int)cpu, 1, pa, who_label(who), LABEL_HYP,
                        "TLB entry %u (%s, VMID %d = %s, in %#llx) of CPU %u maps KCore's page %#llx",
                        idx, kind, who, who_name(who, wn, sizeof wn),
                        (unsigned long long)e->in_base, cpu, (unsigned long long)pa);
            done |= INV_BIT(1);
            continue;
        }
        bool ok = o == who_owner(who) || (who == 0 && owner_is_vm(o) && KC_OWN_COUNT(oe) > 0);
        if (!ok && !(done & INV_BIT(3))) {
            rep_add(r, (int)cpu, 3, pa, who_label(who), owner_label(o),
                    "TLB entry %u (%s, VMID %d = %s, in %#llx) of CPU %u translates to PA %#llx "
                    "owned by %s (share count %u)", idx, kind, who, who_name(who, wn, sizeof wn),
                    (unsigned long long)e->in_base, cpu, (unsigned long long)pa,
                    owner_name(o, on, sizeof on), KC_OWN_COUNT(oe));
            done |= INV_BIT(3);
        }
    }
}

/* Invariant 6, per table page: in the pool and (once booted) KCore-owned. */
static void check_table_page(const struct machine *m, struct inv_report *r, uint64_t pa,
                             int who, int level, bool booted)
{
    char wn[16], on[16];

    if (!in_pool(pa))
        rep_add(r, CPU_DEFAULT, 6, pa, who_label(who), LABEL_HYP,
                "%s level-%d stage-2 table page %#llx lies outside the pool [%#llx, %#llx)",
                who_name(who, wn, sizeof wn), level, (unsigned long long)pa,
                (unsigned long long)KC_POOL_BASE, (unsigned long long)(KC_POOL_BASE + KC_POOL_SIZE));
    if (!booted)
        return;
    /* The array itself must record table pages as KCore's (bookkeeping of
     * the table pool), so read it raw here. */
    unsigned o = page_in_mem(m, pa) ? KC_OWN_OWNER(owner_entry_raw(m, pa >> MEM_PAGE_SHIFT))
                                     : KC_OWNER_NONE;
    if (o != KC_OWNER_KCORE)
        rep_add(r, CPU_DEFAULT, 6, pa, who_label(who), owner_label(o),
                "%s level-%d stage-2 table page %#llx is owned by %s, not KCore",
                who_name(who, wn, sizeof wn), level, (unsigned long long)pa,
                owner_name(o, on, sizeof on));
}

static void report_dup_table(struct inv_report *r, uint64_t pa, int who, int level)
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
static void check_transition(const struct machine *m, struct inv_report *r, int who, int level,
                             uint64_t desc_pa, uint64_t old, uint64_t new)
{
    enum dk ko = dk_decode(old, level), kn = dk_decode(new, level);
    char wn[16];

    if (kn == DK_INVALID)
        return;
    if (ko != DK_INVALID && (ko != kn || mmu_desc_oa(old) != mmu_desc_oa(new)))
        rep_add(r, CPU_DEFAULT, 6, desc_pa & PAGE_MASK, who_label(who), LABEL_HYP,
                "break-before-make: %s level-%d descriptor at %#llx changed from valid %#llx to "
                "valid %#llx without an invalid descriptor in between",
                who_name(who, wn, sizeof wn), level, (unsigned long long)desc_pa,
                (unsigned long long)old, (unsigned long long)new);
    if (kn == DK_TABLE && !(ko == DK_TABLE && mmu_desc_oa(old) == mmu_desc_oa(new))) {
        uint64_t child = mmu_desc_oa(new), w[DESCS_PER_PAGE];
        rd_page(m, child, w);
        for (unsigned i = 0; i < DESCS_PER_PAGE; i++) {
            uint64_t d = w[i];
            if (dk_decode(d, level + 1) != DK_INVALID) {
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
    unsigned wo = who == LABEL_HOST ? KC_OWNER_HOST : (unsigned)who;  /* LABEL_VM(n) == KC_OWNER_VM(n) */
    char on[16], wn[16];

    if (!page_in_mem(m, page))
        return;                /* an external abort: nothing landed, nothing returned */
    uint64_t e = owner_entry(m, page >> MEM_PAGE_SHIFT);
    unsigned o = KC_OWN_OWNER(e);
    bool shared_to_host = who == LABEL_HOST && owner_is_vm(o) && KC_OWN_COUNT(e) > 0;

    if (write) {
        if (o != wo && !shared_to_host)
            rep_add(r, CPU_DEFAULT, 5, page, who, owner_label(o),
                    "write of %#llx by %s to PA %#llx (IPA %#llx) landed on a page owned by %s "
                    "(share count %u)", (unsigned long long)a->val,
                    mem_label_name(who, wn, sizeof wn), (unsigned long long)a->pa, (unsigned long long)a->ipa,
                    owner_name(o, on, sizeof on), KC_OWN_COUNT(e));
        return;
    }
    if (LABEL_IS_VM(a->label) && a->label != who) {
        bool ok = shared_to_host && o == (unsigned)a->label;
        if (!ok)
            rep_add(r, CPU_DEFAULT, 4, page, who, a->label,
                    "read by %s at PA %#llx (IPA %#llx) returned a word of VM %d; the page is "
                    "owned by %s with share count %u",
                    mem_label_name(who, wn, sizeof wn), (unsigned long long)a->pa, (unsigned long long)a->ipa,
                    LABEL_VM_INDEX(a->label), owner_name(o, on, sizeof on), KC_OWN_COUNT(e));
    }
}

/* ---- Full checks: walk every published root with the mmu/ visitor ------- */

struct fwalk;
typedef void (*fw_leaf_fn)(struct fwalk *w, const struct mmu_visit *v);
typedef void (*fw_table_fn)(struct fwalk *w, const struct mmu_visit *v, uint64_t child, bool dup);

struct fwalk {
    const struct machine *m;
    struct inv_report *r;
    struct u64map *seen;
    int who;
    bool skipping;             /* suppress reads of skip_page (a repeated table) */
    uint64_t skip_page;
    fw_leaf_fn leaf;
    fw_table_fn table;
    void *arg;
};

static int fw_read(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    struct fwalk *w = arg;
    struct inv_state *st = w->m->inv;
    uint64_t page = pa & PAGE_MASK;
    unsigned k;

    (void)cacheable;
    if (w->skipping) {
        if (page == w->skip_page) {
            *desc = 0;
            return 0;
        }
        w->skipping = false;
    }
    for (k = 0; k < 4; k++)
        if (st->fw_page[k].valid && st->fw_page[k].pa == page)
            break;
    if (k == 4) {
        k = st->fw_next++ & 3;
        st->fw_page[k].pa = page;
        st->fw_page[k].valid = true;
        rd_page(w->m, page, st->fw_page[k].w);
    }
    *desc = st->fw_page[k].w[(pa & ~PAGE_MASK) >> 3];
    return 0;
}

static int fw_visit(const struct mmu_visit *v, void *arg)
{
    struct fwalk *w = arg;

    w->skipping = false;
    if (v->leaf) {
        if (w->leaf)
            w->leaf(w, v);
        return 0;
    }
    uint64_t child = mmu_desc_oa(v->desc);
    bool dup = map_get(w->seen, child >> MEM_PAGE_SHIFT, NULL);
    if (dup) {
        /* Each table page is visited once: the walk reads a repeated one
         * as empty (invariant 6 reports it). */
        w->skipping = true;
        w->skip_page = child;
    } else {
        map_put(w->seen, child >> MEM_PAGE_SHIFT, 0);
    }
    if (w->table)
        w->table(w, v, child, dup);
    return 0;
}

typedef void (*fw_root_fn)(struct fwalk *w, uint64_t root, bool dup);

/* Walk every published stage-2 root, each table page once. */
static void full_walk(const struct machine *m, struct inv_report *r, fw_leaf_fn leaf,
                      fw_table_fn table, fw_root_fn rootfn, void *arg)
{
    struct inv_state *st = m->inv;
    struct fwalk w = { .m = m, .r = r, .seen = &st->seen, .leaf = leaf, .table = table, .arg = arg };
    struct mmu_mem_ops ops = { fw_read, NULL, &w };

    map_clear(&st->seen);
    for (unsigned k = 0; k < 4; k++)
        st->fw_page[k].valid = false;   /* memory may have changed since */
    for (int s = 0; s < NPRINC; s++) {
        uint64_t v = rd(m, s == 0 ? KC_PUB_HOST_VTTBR : KC_PUB_VM_VTTBR(s - 1));
        if (v == 0)
            continue;
        uint64_t root = root_of(v);
        bool dup = map_get(&st->seen, root >> MEM_PAGE_SHIFT, NULL);
        w.who = s;
        w.skipping = false;
        if (rootfn)
            rootfn(&w, root, dup);
        if (dup)
            continue;
        map_put(&st->seen, root >> MEM_PAGE_SHIFT, 0);
        mmu_walk_tables(&ops, 2, root, &st->geom, fw_visit, &w);
    }
}

static void leaf_1(struct fwalk *w, const struct mmu_visit *v)
{
    check_leaf(w->m, w->r, INV_BIT(1), w->who, v->in_addr,
               mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}
static void leaf_2(struct fwalk *w, const struct mmu_visit *v)
{
    check_leaf(w->m, w->r, INV_BIT(2), w->who, v->in_addr,
               mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}
static void leaf_7(struct fwalk *w, const struct mmu_visit *v)
{
    check_leaf(w->m, w->r, INV_BIT(7), w->who, v->in_addr,
               mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}

static void tlbs_check(const struct machine *m, struct inv_report *r, uint32_t mask)
{
    const struct tlb_system *ts = &m->ms.tlb;
    for (unsigned c = 0; c < ts->ncpus; c++)
        for (unsigned i = 0; i < ts->cpu[c].cap; i++)
            check_tlb_entry(m, r, mask, c, i, &ts->cpu[c].e[i]);
}

/* 1: KCore's pages (owner KCore in the ownership array) are mapped by no
 * stage-2 leaf and no EL1&0 TLB entry (DESIGN.md 1; SeKVM: KCore's memory
 * is never accessible to the host or a VM). */
void inv_check_kcore_unmapped(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    full_walk(m, r, leaf_1, NULL, NULL, NULL);
    tlbs_check(m, r, INV_BIT(1));
}

/* 2: every stage-2 leaf of a principal maps pages inside memory that it
 * owns, or, for the host, that a VM owns (DESIGN.md 2; SeKVM's stage-2
 * page-table invariant). */
void inv_check_s2_owned(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    full_walk(m, r, leaf_2, NULL, NULL, NULL);
}

/* 3: every EL1&0 TLB entry tagged with a principal's VMID translates only
 * to pages it owns or (host) that a VM shares with it (DESIGN.md 3; the
 * TLB must never hold a translation the page tables would now refuse). */
void inv_check_tlb_owned(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    tlbs_check(m, r, INV_BIT(3));
}

/* 7: the host's stage 2 is an identity map, maps a VM's page only while its
 * share count is nonzero, and a VM maps its own page only at the recorded
 * gfn (DESIGN.md 7; SeKVM's ownership bookkeeping). */
void inv_check_bookkeeping(const struct machine *m, struct inv_report *r)
{
    if (!m->inv || !inv_booted(m))
        return;
    full_walk(m, r, leaf_7, NULL, NULL, NULL);
}

struct tables_arg { bool booted; };

static void snap_add(struct inv_snap *s, const struct machine *m, uint64_t pa)
{
    if (map_get(&s->map, pa >> MEM_PAGE_SHIFT, NULL))
        return;
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 16;
        uint64_t *nw = realloc(s->words, (size_t)nc * DESCS_PER_PAGE * sizeof *nw);
        if (!nw)
            return;
        s->words = nw;
        s->cap = nc;
    }
    if (map_put(&s->map, pa >> MEM_PAGE_SHIFT, s->n) != 0)
        return;
    rd_page(m, pa, &s->words[(size_t)s->n * DESCS_PER_PAGE]);
    s->n++;
}

static bool snap_get(const struct inv_snap *s, uint64_t desc_pa, uint64_t *d)
{
    uint32_t idx;
    if (!map_get(&s->map, desc_pa >> MEM_PAGE_SHIFT, &idx))
        return false;
    *d = s->words[(size_t)idx * DESCS_PER_PAGE + ((desc_pa & ~PAGE_MASK) >> 3)];
    return true;
}

static void tables_root(struct fwalk *w, uint64_t root, bool dup)
{
    const struct tables_arg *a = w->arg;
    if (dup) {
        report_dup_table(w->r, root, w->who, 1);
        return;
    }
    check_table_page(w->m, w->r, root, w->who, 1, a->booted);
    snap_add(&w->m->inv->snap_cur, w->m, root);
}

static void tables_transition(struct fwalk *w, const struct mmu_visit *v)
{
    const struct inv_state *st = w->m->inv;
    uint64_t old;
    if (st->snap_valid && snap_get(&st->snap_prev, v->desc_pa, &old))
        check_transition(w->m, w->r, w->who, v->level, v->desc_pa, old, v->desc);
}

static void tables_leaf(struct fwalk *w, const struct mmu_visit *v)
{
    tables_transition(w, v);
}

static void tables_table(struct fwalk *w, const struct mmu_visit *v, uint64_t child, bool dup)
{
    const struct tables_arg *a = w->arg;
    tables_transition(w, v);
    if (dup) {
        report_dup_table(w->r, child, w->who, v->level + 1);
        return;
    }
    check_table_page(w->m, w->r, child, w->who, v->level + 1, a->booted);
    snap_add(&w->m->inv->snap_cur, w->m, child);
}

/* 6: every table page reachable from a published root lies in the pool, is
 * KCore-owned and is referenced once; descriptors change by
 * break-before-make and tables are empty when linked (DESIGN.md 6; SeKVM's
 * transactional page-table updates). The transition rules compare with the
 * previous step's snapshot, which this check refreshes (snap_cur). */
void inv_check_tables(const struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    struct tables_arg a = { inv_booted(m) };

    if (!st)
        return;
    map_clear(&st->snap_cur.map);
    st->snap_cur.n = 0;
    full_walk(m, r, tables_leaf, tables_table, tables_root, &a);
}

static void snap_commit(struct inv_state *st)
{
    struct inv_snap t = st->snap_prev;
    st->snap_prev = st->snap_cur;
    st->snap_cur = t;
    st->snap_valid = true;
}

/* Take the full mode's table snapshot of the current state (no checks). */
static void snap_take(const struct machine *m)
{
    struct inv_report junk;
    inv_report_init(&junk, -1);
    inv_check_tables(m, &junk);
    snap_commit(m->inv);
    own_scan(m, &junk, m->inv->own_full, false);
}

static void leaf_all(struct fwalk *w, const struct mmu_visit *v)
{
    const struct tables_arg *a = w->arg;

    tables_transition(w, v);
    if (a->booted)
        check_leaf(w->m, w->r, INV_BIT(1) | INV_BIT(2) | INV_BIT(7), w->who, v->in_addr,
                   mmu_desc_oa(v->desc) & ~((1ull << v->shift) - 1), v->shift, v->desc_pa);
}

/* Run every full check; returns how many ran. The same predicates as
 * inv_check_tables, inv_check_kcore_unmapped, inv_check_s2_owned,
 * inv_check_bookkeeping and inv_check_tlb_owned, with the four table walks
 * fused into one (a walk reads every descriptor of every table). */
static unsigned full_checks(const struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    struct tables_arg a = { inv_booted(m) };

    map_clear(&st->snap_cur.map);
    st->snap_cur.n = 0;
    full_walk(m, r, leaf_all, tables_table, tables_root, &a);
    snap_commit(st);
    if (!a.booted)
        return 1;
    tlbs_check(m, r, INV_BIT(1) | INV_BIT(3));
    for (uint64_t pfn = 0; pfn < (KC_END >> MEM_PAGE_SHIFT); pfn++)
        check_kcore_record(m, r, pfn);
    own_scan(m, r, st->own_full, true);
    return 6;
}

/* ---- Incremental state: tables ------------------------------------------ */

static struct inv_table *tab_find(const struct inv_state *st, uint64_t pa)
{
    uint32_t idx;
    if (!map_get(&st->tabmap, pa >> MEM_PAGE_SHIFT, &idx))
        return NULL;
    return st->tab[idx];
}

static struct inv_table *tab_new(struct inv_state *st, uint64_t pa)
{
    struct inv_table *t;

    if (st->ntab == st->cap_tab) {
        uint32_t nc = st->cap_tab ? st->cap_tab * 2 : 32;
        struct inv_table **nt = realloc(st->tab, nc * sizeof *nt);
        if (!nt)
            return NULL;
        st->tab = nt;
        st->cap_tab = nc;
    }
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (map_put(&st->tabmap, pa >> MEM_PAGE_SHIFT, st->ntab) != 0) {
        free(t);
        return NULL;
    }
    t->pa = pa;
    st->tab[st->ntab++] = t;
    return t;
}

static void tab_delete(struct inv_state *st, struct inv_table *t)
{
    uint32_t idx;
    if (!map_get(&st->tabmap, t->pa >> MEM_PAGE_SHIFT, &idx))
        return;
    map_del(&st->tabmap, t->pa >> MEM_PAGE_SHIFT);
    st->ntab--;
    if (idx != st->ntab) {
        st->tab[idx] = st->tab[st->ntab];
        map_put(&st->tabmap, st->tab[idx]->pa >> MEM_PAGE_SHIFT, idx);
    }
    free(t);
}

static void mapcnt_add(struct inv_state *st, uint64_t oa, unsigned shift, int delta)
{
    uint64_t first = oa >> MEM_PAGE_SHIFT, n = (1ull << shift) >> MEM_PAGE_SHIFT;
    for (uint64_t p = first; p < first + n && p < st->npages; p++) {
        uint8_t c = st->mapcnt[p];
        if (c == UINT8_MAX)
            continue;          /* saturated: sticky */
        if (delta > 0)
            st->mapcnt[p] = (uint8_t)(c + 1);
        else if (c > 0)
            st->mapcnt[p] = (uint8_t)(c - 1);
    }
}

static void inc_link(struct machine *m, struct inv_report *r, uint64_t pa, int level, int who,
                     uint64_t base);

static uint64_t leaf_oa(uint64_t d, unsigned shift)
{
    return mmu_desc_oa(d) & ~((1ull << shift) - 1);
}

static void inc_add_desc(struct machine *m, struct inv_report *r, struct inv_table *t,
                         unsigned idx, uint64_t d)
{
    struct inv_state *st = m->inv;
    unsigned shift = level_shift(t->level);
    uint64_t in = t->base + ((uint64_t)idx << shift);

    switch (dk_decode(d, t->level)) {
    case DK_TABLE:
        inc_link(m, r, mmu_desc_oa(d), t->level + 1, t->who, in);
        break;
    case DK_BLOCK:
    case DK_PAGE:
        mapcnt_add(st, leaf_oa(d, shift), shift, +1);
        if (st->booted)
            check_leaf(m, r, STRUCT_INVS, t->who, in, leaf_oa(d, shift), shift,
                       t->pa + 8ull * idx);
        break;
    default:
        break;
    }
}

static void inc_unlink(struct machine *m, uint64_t pa);

static void inc_remove_desc(struct machine *m, struct inv_table *t, uint64_t d)
{
    unsigned shift = level_shift(t->level);

    switch (dk_decode(d, t->level)) {
    case DK_TABLE:
        inc_unlink(m, mmu_desc_oa(d));
        break;
    case DK_BLOCK:
    case DK_PAGE:
        mapcnt_add(m->inv, leaf_oa(d, shift), shift, -1);
        break;
    default:
        break;
    }
}

/* A root or a valid table descriptor now points at pa. */
static void inc_link(struct machine *m, struct inv_report *r, uint64_t pa, int level, int who,
                     uint64_t base)
{
    struct inv_state *st = m->inv;
    struct inv_table *t = tab_find(st, pa);

    if (t) {
        t->refs++;
        report_dup_table(r, pa, who, level);
        return;
    }
    if (level > 3)
        return;
    t = tab_new(st, pa);
    if (!t) {
        st->degraded = true;
        return;
    }
    t->level = level;
    t->who = who;
    t->base = base;
    t->refs = 1;
    rd_page(m, pa, t->desc);
    check_table_page(m, r, pa, who, level, st->booted);
    for (unsigned i = 0; i < DESCS_PER_PAGE; i++)
        inc_add_desc(m, r, t, i, t->desc[i]);
}

/* A reference to table page pa went away. */
static void inc_unlink(struct machine *m, uint64_t pa)
{
    struct inv_table *t = tab_find(m->inv, pa);

    if (!t || t->refs == 0)    /* refs == 0: being deleted (a cycle) */
        return;
    if (--t->refs > 0)
        return;
    for (unsigned i = 0; i < DESCS_PER_PAGE; i++)
        inc_remove_desc(m, t, t->desc[i]);
    tab_delete(m->inv, t);
}

/* One descriptor of a tracked table page may have changed. */
static void inc_sync_desc(struct machine *m, struct inv_report *r, uint64_t pa)
{
    struct inv_state *st = m->inv;
    struct inv_table *t = tab_find(st, pa & PAGE_MASK);
    unsigned idx = (unsigned)((pa & ~PAGE_MASK) >> 3);

    if (!t)
        return;
    uint64_t old = t->desc[idx], new = rd(m, pa);
    if (old == new)
        return;
    check_transition(m, r, t->who, t->level, pa, old, new);
    if (dk_decode(old, t->level) == DK_TABLE && dk_decode(new, t->level) == DK_TABLE &&
        mmu_desc_oa(old) == mmu_desc_oa(new)) {
        t->desc[idx] = new;    /* attributes only: same subtree */
        return;
    }
    inc_remove_desc(m, t, old);
    t = tab_find(st, pa & PAGE_MASK);   /* a cycle may have released it */
    if (!t)
        return;
    t->desc[idx] = new;
    inc_add_desc(m, r, t, idx, new);
}

static void own_note(struct inv_state *st, uint64_t pfn)
{
    for (unsigned i = 0; i < st->nown; i++)
        if (st->own[i] == pfn)
            return;
    if (st->nown < OWN_LIST_MAX)
        st->own[st->nown++] = pfn;
    else
        st->own_overflow = true;
}

/* A word of the published page, the ownership array or a table page may
 * have changed: bring the incremental state up to date and check. */
static void inc_sync_word(struct machine *m, struct inv_report *r, uint64_t pa)
{
    struct inv_state *st = m->inv;

    pa &= ~7ull;
    if (pa >= KC_PUBLIC_BASE && pa < KC_PUBLIC_BASE + MEM_PAGE_SIZE) {
        uint64_t off = pa - KC_PUBLIC_BASE;
        if (pa == KC_PUB_BOOTED) {
            bool b = rd(m, pa) == 1;
            if (b && !st->booted)
                st->boot_pending = true;
            st->booted = b;
        } else if (off < 8ull * NPRINC) {
            unsigned s = (unsigned)(off / 8);
            uint64_t v = rd(m, pa);
            if (v != st->root[s]) {
                if (st->root[s])
                    inc_unlink(m, root_of(st->root[s]));
                st->root[s] = v;
                if (v)
                    inc_link(m, r, root_of(v), 1, (int)s, 0);
            }
        }
    }
    if (pa >= KC_OWNER_BASE && pa < KC_OWNER_BASE + 8 * st->npages)
        own_note(st, (pa - KC_OWNER_BASE) / 8);
    inc_sync_desc(m, r, pa);
}

/* ---- Incremental state: TLBs -------------------------------------------- */

static void tlbsh_from(struct tlb_shadow *s, const struct tlb_entry *e)
{
    memset(s, 0, sizeof *s);
    if (!e->valid)
        return;
    s->valid = true;
    s->regime = e->regime;
    s->kind = e->kind;
    s->vmid = e->vmid;
    s->shift = e->shift;
    s->in_base = e->in_base;
    s->pa = e->r.pa;
}

static bool tlbsh_same(const struct tlb_shadow *s, const struct tlb_entry *e)
{
    struct tlb_shadow n;
    tlbsh_from(&n, e);
    return memcmp(s, &n, sizeof n) == 0;
}

static bool tlb_entry_covers(const struct tlb_entry *e, uint64_t pfn)
{
    unsigned shift;
    uint64_t base = tlb_entry_base(e, &shift);
    uint64_t pa = pfn << MEM_PAGE_SHIFT;
    return pa >= base && pa - base < (1ull << shift);
}

/* Compare CPU c's TLB with its shadow; check entries that changed, and (when
 * all is set) every entry, or those covering page pfn (pfn != ~0). */
static void inc_tlb_sync(struct machine *m, struct inv_report *r, unsigned c, bool all,
                         uint64_t pfn)
{
    struct inv_state *st = m->inv;
    const struct tlb *t;

    if (c >= st->ncpus_tlb || c >= m->ms.tlb.ncpus)
        return;
    t = &m->ms.tlb.cpu[c];
    if (!all && pfn == ~0ull && st->tlb_gen[c] == t->gen)
        return;                /* no entry changed since the last look */
    st->tlb_gen[c] = t->gen;
    for (unsigned i = 0; i < t->cap && i < st->tlb_cap; i++) {
        struct tlb_shadow *s = &st->tlbsh[(size_t)c * st->tlb_cap + i];
        const struct tlb_entry *e = &t->e[i];
        bool changed = !tlbsh_same(s, e);
        if (changed)
            tlbsh_from(s, e);
        if (!tlb_entry_relevant(e))
            continue;
        if (changed || all || (pfn != ~0ull && tlb_entry_covers(e, pfn)))
            check_tlb_entry(m, r, INV_BIT(1) | INV_BIT(3), c, i, e);
    }
}

/* ---- Incremental: re-checks --------------------------------------------- */

/* Everything ownership-dependent about page pfn: leaves covering it, TLB
 * entries covering it, and the page itself if it is a table page. */
static void inc_recheck_page(struct machine *m, struct inv_report *r, uint64_t pfn)
{
    struct inv_state *st = m->inv;
    uint64_t pa = pfn << MEM_PAGE_SHIFT;
    struct inv_table *tp;

    if (pfn < st->npages && st->mapcnt[pfn] > 0) {
        for (uint32_t k = 0; k < st->ntab; k++) {
            const struct inv_table *t = st->tab[k];
            unsigned shift = level_shift(t->level);
            for (unsigned i = 0; i < DESCS_PER_PAGE; i++) {
                enum dk kd = dk_decode(t->desc[i], t->level);
                if (kd != DK_BLOCK && kd != DK_PAGE)
                    continue;
                uint64_t oa = leaf_oa(t->desc[i], shift);
                if (pa < oa || pa - oa >= (1ull << shift))
                    continue;
                check_leaf(m, r, STRUCT_INVS, t->who, t->base + ((uint64_t)i << shift), oa,
                           shift, t->pa + 8ull * i);
            }
        }
    }
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        inc_tlb_sync(m, r, c, false, pfn);
    tp = tab_find(st, pa);
    if (tp)
        check_table_page(m, r, tp->pa, tp->who, tp->level, true);
}

/* Everything ownership-dependent, for every tracked item. */
static void inc_recheck_all(struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;

    if (!st->booted)
        return;
    for (uint32_t k = 0; k < st->ntab; k++) {
        const struct inv_table *t = st->tab[k];
        unsigned shift = level_shift(t->level);
        check_table_page(m, r, t->pa, t->who, t->level, true);
        for (unsigned i = 0; i < DESCS_PER_PAGE; i++) {
            enum dk kd = dk_decode(t->desc[i], t->level);
            if (kd == DK_BLOCK || kd == DK_PAGE)
                check_leaf(m, r, STRUCT_INVS, t->who, t->base + ((uint64_t)i << shift),
                           leaf_oa(t->desc[i], shift), shift, t->pa + 8ull * i);
        }
    }
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        inc_tlb_sync(m, r, c, true, ~0ull);
    for (uint64_t pfn = 0; pfn < (KC_END >> MEM_PAGE_SHIFT); pfn++)
        check_kcore_record(m, r, pfn);
    own_scan(m, r, st->own_inc, true);
}

/* Re-read every word the checker tracks (tables, published page), then
 * re-check everything: for changes it could not see (DC IVAC, ...). */
static void inc_resync(struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    uint64_t *pas;
    uint32_t n = st->ntab;

    inc_sync_word(m, r, KC_PUB_BOOTED);
    for (unsigned s = 0; s < NPRINC; s++)
        inc_sync_word(m, r, KC_PUBLIC_BASE + 8ull * s);
    pas = malloc((n ? n : 1) * sizeof *pas);
    if (!pas) {
        st->degraded = true;
        return;
    }
    for (uint32_t k = 0; k < n; k++)
        pas[k] = st->tab[k]->pa;
    for (uint32_t k = 0; k < n; k++)
        for (unsigned i = 0; i < DESCS_PER_PAGE; i++)
            inc_sync_desc(m, r, pas[k] + 8ull * i);
    free(pas);
    st->boot_pending = false;
    st->nown = 0;
    st->own_overflow = false;
    inc_recheck_all(m, r);
}

/* ---- Incremental: what the step wrote ----------------------------------- */

static bool relevant_pa(const struct inv_state *st, uint64_t pa)
{
    return (pa >= KC_PUBLIC_BASE && pa < KC_PUBLIC_BASE + MEM_PAGE_SIZE) ||
           (pa >= KC_OWNER_BASE && pa < KC_OWNER_BASE + 8 * st->npages) ||
           tab_find(st, pa & PAGE_MASK) != NULL;
}

/* A non-cacheable write under a valid line leaves the coherent view as the
 * line; an eviction may later expose memory. Remember the line. */
static void watch_add(struct machine *m, uint64_t pa)
{
    struct inv_state *st = m->inv;
    uint64_t line = pa & ~(uint64_t)(CACHE_LINE_SIZE - 1);

    if (!cache_find(&m->ms.cache, line))
        return;
    for (unsigned i = 0; i < st->nwatch; i++)
        if (st->watch[i].line == line)
            return;
    if (st->nwatch == WATCH_MAX) {
        st->force_resync = true;
        return;
    }
    struct watch *w = &st->watch[st->nwatch++];
    w->line = line;
    for (unsigned i = 0; i < CACHE_LINE_WORDS; i++)
        w->w[i] = rd(m, line + 8ull * i);
}

static void watch_poll(struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;

    for (unsigned k = 0; k < st->nwatch;) {
        struct watch *w = &st->watch[k];
        for (unsigned i = 0; i < CACHE_LINE_WORDS; i++) {
            uint64_t v = rd(m, w->line + 8ull * i);
            if (v != w->w[i]) {
                w->w[i] = v;
                inc_sync_word(m, r, w->line + 8ull * i);
            }
        }
        if (!cache_find(&m->ms.cache, w->line))
            st->watch[k] = st->watch[--st->nwatch];   /* the view is memory again */
        else
            k++;
    }
}

/* Which DC (by VA) did KCore just execute? 0 none, 1 DC ZVA, 2 DC IVAC. */
static int dc_kind(const struct machine *m, uint64_t pc)
{
    const struct kimage *img = &m->img;

    if (!img->text || pc < img->text_base || pc + 4 > img->text_base + img->text_size || (pc & 3))
        return 0;
    uint32_t insn = kimage_insn(img, pc);
    if ((insn & 0xfff80000u) != 0xd5080000u)           /* SYS #op1, Cn, Cm, #op2, Xt */
        return 0;
    struct sysinsn s = sysinsn_decode(insn);
    if (s.crn != 7)
        return 0;
    if (s.op1 == 3 && s.crm == 4 && s.op2 == 1)
        return 1;
    if (s.op1 == 0 && s.crm == 6 && s.op2 == 1)
        return 2;
    return 0;
}

static void inc_after_dc_zva(struct machine *m, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    const struct cache *c = &m->ms.cache;

    /* A cacheable DC ZVA is the step's last cache access (after any walk of
     * KCore's stage 1): its line holds the newest tick. A non-cacheable one
     * touches no line, and then we cannot tell where it wrote. */
    if (c->tick != st->prev_cache_tick) {
        for (unsigned i = 0; i < c->sets * c->ways; i++) {
            const struct cache_line *l = &c->line[i];
            if (l->valid && l->lru == c->tick) {
                for (unsigned w = 0; w < CACHE_LINE_WORDS; w++)
                    inc_sync_word(m, r, l->pa + 8ull * w);
                return;
            }
        }
    }
    st->force_resync = true;
}

static void inc_step(struct machine *m, unsigned cpu, enum event_kind ev, struct inv_report *r)
{
    struct inv_state *st = m->inv;
    bool kstep = ev == EV_CPU && m->cpu && cpu < st->ncpus && st->prev_mode[cpu] == CPU_KCORE;

    st->nown = 0;
    st->own_overflow = false;
    if (kstep) {
        const struct cpu *c = &m->cpu[cpu];
        unsigned n = c->nacc < CPU_MAX_ACCESS ? c->nacc : CPU_MAX_ACCESS;
        if (c->nacc >= CPU_MAX_ACCESS)
            st->force_resync = true;   /* cpu/ may have dropped records */
        for (unsigned i = 0; i < n; i++) {
            const struct msys_access *a = &c->acc[i];
            if (a->acc != MMU_ACC_WRITE)
                continue;
            inc_sync_word(m, r, a->pa);
            if (a->cache == CACHE_BYPASS)
                watch_add(m, a->pa);
        }
        switch (dc_kind(m, c->last_pc)) {
        case 1: inc_after_dc_zva(m, r); break;
        case 2: st->force_resync = true; break;
        default: break;
        }
    }
    for (unsigned i = 0; i < st->nactor_w; i++) {
        inc_sync_word(m, r, st->actor_w[i]);
        if (st->actor_w_bypass[i] && relevant_pa(st, st->actor_w[i]))
            watch_add(m, st->actor_w[i]);
    }
    if (st->actor_w_overflow)
        st->force_resync = true;
    watch_poll(m, r);

    if (st->force_resync) {
        st->force_resync = false;
        inc_resync(m, r);
        return;
    }
    if (st->boot_pending) {
        st->boot_pending = false;
        inc_recheck_all(m, r);
        return;
    }
    if (!st->booted)
        return;
    if (st->own_overflow) {
        inc_recheck_all(m, r);
        return;
    }
    for (unsigned i = 0; i < st->nown; i++) {
        inc_recheck_page(m, r, st->own[i]);
        if (inv_booted(m))
            check_kcore_record(m, r, st->own[i]);
        own_seen(m, r, st->own_inc, st->own[i], owner_entry_raw(m, st->own[i]), true);
    }
    if (ev == EV_CPU || ev == EV_TLB_FILL)
        inc_tlb_sync(m, r, cpu, false, ~0ull);
}

/* Build the incremental state from the machine as it is now; judge: also
 * report hand-backs since the last look (recovery after running out of
 * memory; not at init, where nothing is judged). */
static void inc_rebuild(struct machine *m, struct inv_report *r, bool judge)
{
    struct inv_state *st = m->inv;

    for (unsigned s = 0; s < NPRINC; s++)
        if (st->root[s]) {
            inc_unlink(m, root_of(st->root[s]));
            st->root[s] = 0;
        }
    while (st->ntab)           /* cycles left behind */
        tab_delete(st, st->tab[st->ntab - 1]);
    if (st->mapcnt)
        memset(st->mapcnt, 0, st->npages);
    st->booted = inv_booted(m);
    for (unsigned s = 0; s < NPRINC; s++) {
        uint64_t v = rd(m, s == 0 ? KC_PUB_HOST_VTTBR : KC_PUB_VM_VTTBR(s - 1));
        st->root[s] = v;
        if (v)
            inc_link(m, r, root_of(v), 1, (int)s, 0);
    }
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        inc_tlb_sync(m, r, c, true, ~0ull);
    own_scan(m, r, st->own_inc, judge && st->booted);   /* a hand-back seen late */
    st->degraded = false;
}

/* ---- The machine interface --------------------------------------------- */

static void note_cpus(struct machine *m)
{
    struct inv_state *st = m->inv;
    if (m->cpu)
        for (unsigned i = 0; i < st->ncpus; i++)
            st->prev_mode[i] = (uint8_t)m->cpu[i].mode;
    st->prev_cache_tick = m->ms.cache.tick;
}

int inv_init(struct machine *m)
{
    struct inv_state *st = calloc(1, sizeof *st);
    const char *env = getenv("HYPSIM_INV_AGREE");
    struct inv_report junk;

    if (!st)
        return -1;
    m->inv = st;
    /* VTCR_EL2: T0SZ=25, SL0=1, PS=2 (hyp/kcore/abi.h). */
    if (mmu_s2_geom(25u | (1u << 6) | (2u << 16), &st->geom) != 0)
        goto fail;
    st->agree = env && env[0] && strcmp(env, "0") != 0;
    st->npages = m->ms.mem.npages;
    st->ncpus = m->cfg.ncpus < KC_MAX_CPUS ? m->cfg.ncpus : KC_MAX_CPUS;
    st->ncpus_tlb = m->ms.tlb.ncpus;
    for (unsigned c = 0; c < st->ncpus_tlb; c++)
        if (m->ms.tlb.cpu[c].cap > st->tlb_cap)
            st->tlb_cap = m->ms.tlb.cpu[c].cap;
    st->mapcnt = calloc(st->npages ? st->npages : 1, 1);
    st->tlbsh = calloc((size_t)st->ncpus_tlb * st->tlb_cap + 1, sizeof *st->tlbsh);
    st->tlb_gen = calloc(st->ncpus_tlb + 1, sizeof *st->tlb_gen);
    st->prev_mode = calloc(st->ncpus + 1, 1);
    st->nown_pages = st->npages < KC_OWNER_SIZE / 8 ? st->npages : KC_OWNER_SIZE / 8;
    st->own_inc = calloc(st->nown_pages + 1, 1);
    st->own_full = calloc(st->nown_pages + 1, 1);
    if (!st->mapcnt || !st->tlbsh || !st->tlb_gen || !st->prev_mode || !st->own_inc ||
        !st->own_full)
        goto fail;
    inv_report_init(&junk, -1);       /* the initial state is not judged */
    inc_rebuild(m, &junk, false);
    if (st->degraded)
        goto fail;
    snap_take(m);
    note_cpus(m);
    return 0;
fail:
    inv_free(m);
    return -1;
}

void inv_free(struct machine *m)
{
    struct inv_state *st = m->inv;

    if (!st)
        return;
    for (uint32_t k = 0; k < st->ntab; k++)
        free(st->tab[k]);
    free(st->tab);
    map_free(&st->tabmap);
    map_free(&st->seen);
    map_free(&st->snap_prev.map);
    map_free(&st->snap_cur.map);
    free(st->snap_prev.words);
    free(st->snap_cur.words);
    free(st->mapcnt);
    free(st->tlbsh);
    free(st->tlb_gen);
    free(st->prev_mode);
    free(st->own_inc);
    free(st->own_full);
    free(st);
    m->inv = NULL;
}

static void agree_compare(struct machine *m, const struct inv_report *inc,
                          const struct inv_report *full)
{
    struct inv_state *st = m->inv;
    uint32_t a = inc->mask & AGREE_INVS, b = full->mask & AGREE_INVS;

    if (a != b) {
        st->agree_mismatch++;
        snprintf(st->agree_last, sizeof st->agree_last,
                 "step %llu: incremental reported invariants %#x, full %#x: %.150s",
                 (unsigned long long)m->st.steps, a, b,
                 inc->n ? inc->item[0].detail : (full->n ? full->item[0].detail : ""));
    }
    if (a || b)
        st->agree_done = true;
}

void inv_after_step(struct machine *m, unsigned cpu, enum event_kind ev)
{
    struct inv_state *st = m->inv;
    struct inv_report r;
    unsigned nchecks = 0;
    int rcpu = ev == EV_CPU && cpu < m->cfg.ncpus ? (int)cpu : -1;

    if (!st || m->cfg.check == CHECK_OFF) {
        if (st) {
            st->nactor_w = 0;
            st->actor_w_overflow = false;
        }
        return;
    }
    inv_report_init(&r, rcpu);
    if (m->cfg.check == CHECK_FULL) {
        nchecks = full_checks(m, &r);
    } else {
        if (st->degraded) {
            inc_rebuild(m, &r, true);
            inc_recheck_all(m, &r);
        } else {
            inc_step(m, cpu, ev, &r);
        }
        nchecks = st->booted ? 6 : 1;
        if (st->agree && !st->agree_done) {
            struct inv_report f;
            inv_report_init(&f, rcpu);
            full_checks(m, &f);
            agree_compare(m, &r, &f);
        }
    }
    nchecks += st->accessed_r + st->accessed_w;
    m->st.invariant_checks += nchecks;
    st->accessed_r = st->accessed_w = false;
    st->nactor_w = 0;
    st->actor_w_overflow = false;
    note_cpus(m);
    rep_flush(m, &r);
}

void inv_on_actor_access(struct machine *m, unsigned cpu, label_t who,
                         const struct msys_access *a, bool write)
{
    struct inv_state *st = m->inv;
    struct inv_report r;

    if (!st || m->cfg.check == CHECK_OFF || !a)
        return;
    if (write) {
        if (st->nactor_w < ACTOR_W_MAX) {
            st->actor_w[st->nactor_w] = a->pa;
            st->actor_w_bypass[st->nactor_w] = a->cache == CACHE_BYPASS;
            st->nactor_w++;
        } else {
            st->actor_w_overflow = true;
        }
    }
    if (!inv_booted(m))
        return;
    if (write)
        st->accessed_w = true;
    else
        st->accessed_r = true;
    inv_report_init(&r, (int)cpu);
    inv_check_access(m, who, a, write, &r);
    rep_flush(m, &r);
}

void inv_set_agree(struct machine *m, bool on)
{
    if (m->inv) {
        m->inv->agree = on;
        m->inv->agree_done = false;
        snap_take(m);
    }
}

uint64_t inv_agree_mismatches(const struct machine *m, char *buf, size_t len)
{
    if (!m->inv)
        return 0;
    if (buf && len)
        snprintf(buf, len, "%s", m->inv->agree_last);
    return m->inv->agree_mismatch;
}

void inv_resync(struct machine *m)
{
    struct inv_report r;

    if (!m->inv || m->cfg.check != CHECK_INCREMENTAL)
        return;                /* full mode re-reads everything anyway */
    inv_report_init(&r, -1);
    inc_resync(m, &r);
    rep_flush(m, &r);
}
