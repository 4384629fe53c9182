/*
 * tests/integration/test_mmu_qemu.c - differential test of hypsim's stage-1
 * walker (mmu_translate, EL1&0 regime, 4 KiB granule) against QEMU's own
 * walker inside Unicorn 2.0.1: an external oracle nobody here wrote.
 *
 * For each seed: random stage-1 tables (table / 1 GiB block at level 1 /
 * 2 MiB block at level 2 / page / invalid and reserved descriptors, AF set or
 * clear, every AP[2:1], hierarchical APTable/PXNTable/UXNTable, nG, DBM,
 * software bits, AttrIndx, random garbage in invalid descriptors), T0SZ
 * 25..39 (start level 1 or 2), random IPS/IRGN0/ORGN0/SH0/AS/ASID. The same
 * bytes are Unicorn's RAM (uc_mem_map_ptr) and what hypsim's walker reads
 * (a plain buffer behind struct mmu_mem_ops). Guest code at EL1h sets
 * MAIR/TCR/TTBR0_EL1, turns on SCTLR_EL1.M and C, and for every test VA does
 *     LDR x3,[va]; STR x3,[va]; LDTR x8,[va]; STTR x3,[va]
 * (privileged read, privileged write, EL0 read, EL0 write; every store
 * writes back the value just read, so memory never changes). Every 8-byte
 * word of data memory holds its own PA xor a tag, so the loaded value names
 * the PA QEMU translated to. Compared per VA: fault or not for each of the
 * four accesses (UC_HOOK_INTR intno 4 = data abort; the hook steps the PC
 * past the access and records it), and the values loaded against the word
 * at hypsim's PA.
 *
 * What this cannot check, and why:
 *  - Stage 2: not available in Unicorn 2.0.1 (its "max" CPU behaves as if it
 *    had no EL2: MSR VTTBR_EL2 is UNDEF; see shared/UNICORN-NOTES.md), so
 *    mmu_translate_s2 and nested walks have no oracle here.
 *  - Fault kind and level: ESR_EL1/FAR_EL1 are not written when a hook
 *    takes the exception, so only "fault / no fault" is compared.
 *  - Address size faults: QEMU 5.0 (Unicorn 2.0.1's base) does not honour
 *    TCR_EL1.IPS, so every output address and table address here is below
 *    4 GiB, where no IPS setting faults.
 *  - Instruction fetch permissions (PXN/UXN, WXN): only data accesses.
 * Trap found here: Unicorn 2.0.1 leaves SCR_EL3.RW clear, so QEMU walks the
 * EL1&0 regime as AArch32 LPAE (32-bit VAs, TTBCR-style T0SZ[2:0]) even
 * while A64 code runs at EL1; the test sets SCR_EL3.RW (el1_aarch64).
 * Reproduce one case: HYPSIM_DIFF_SEED=n [HYPSIM_DIFF_VA=va] test_mmu_qemu.
 * Unicorn checks a VA against its own memory map before translating it
 * (UNICORN-NOTES "VA pre-check"), so every test VA lies in a mapped 2 MiB
 * window; windows are placed at the same offsets in every GiB they occupy,
 * which keeps every output of a 1 GiB or 2 MiB block backed by memory.
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

#include "mmu/mmu.h"

/* ---- Layout ------------------------------------------------------------- */

#define CHUNK        (2ull << 20)            /* every window is 2 MiB */
#define GIB          (1ull << 30)
#define CTRL_BASE    0x01000000ull           /* code, VA list, results */
#define CODE_OFF     0x0ull
#define VALIST_OFF   0x10000ull
#define RESULT_OFF   0x40000ull
#define RESULT_WORDS 3u                      /* x3, fault flags, x8 */
#define MAX_VAS      4096u
#define TABLE_FIRST  0x1000ull               /* table pages: in chunk PA 0 */
#define TABLE_LIMIT  CHUNK
#define DATA_TAG     0x5a17000000000000ull   /* word at PA p holds p ^ tag(seed) */

#define NSEEDS       24u
#define VAS_PER_SEED 1500u
#define MAX_PRINT    20u

/* Offsets of the windows inside each GiB they occupy. */
static const uint64_t win_off[] = { 0x0, 0x400000, 0x1800000, 0x13e00000, 0x3fe00000 };
#define NOFF (sizeof win_off / sizeof win_off[0])
/* GiBs holding windows; the first NTARGET_GIB are also output targets. */
static const uint64_t win_gib[] = { 0, 1, 2, 3, 5, 130, 511, 1027 };
#define NGIB (sizeof win_gib / sizeof win_gib[0])
#define NTARGET_GIB 4u
/* One more window in the TTBR1 half (EPD1=1: always a fault). */
#define HIGH_WINDOW  0xffffffffffe00000ull
#define NREGION      (NGIB * NOFF + 2)

/* ---- The guest stub (assembled with aarch64-linux-gnu-as, verified with
 * Capstone at run time; see stub_verify). ---------------------------------- */
static const struct { uint32_t insn; const char *text; } stub[] = {
    { 0xd518a20a, "msr mair_el1, x10" },
    { 0xd518204b, "msr tcr_el1, x11" },
    { 0xd518200c, "msr ttbr0_el1, x12" },
    { 0xd5033fdf, "isb " },
    { 0xd5381000, "mrs x0, sctlr_el1" },
    { 0xaa0d0000, "orr x0, x0, x13" },
    { 0xd5181000, "msr sctlr_el1, x0" },
    { 0xd5033fdf, "isb " },
    { 0xb40001a6, "cbz x6, #0x54" },           /* loop: */
    { 0xf8408422, "ldr x2, [x1], #8" },
    { 0xd2800004, "movz x4, #0" },
    { 0xd2800003, "movz x3, #0" },
    { 0xd2800008, "movz x8, #0" },
    { 0xf9400043, "ldr x3, [x2]" },            /* ACC_LDR  */
    { 0xf9000043, "str x3, [x2]" },            /* ACC_STR  */
    { 0xf8400848, "ldtr x8, [x2]" },           /* ACC_LDTR */
    { 0xf8000843, "sttr x3, [x2]" },           /* ACC_STTR */
    { 0xa88110a3, "stp x3, x4, [x5], #0x10" },
    { 0xf80084a8, "str x8, [x5], #8" },
    { 0xd10004c6, "sub x6, x6, #1" },
    { 0x17fffff4, "b #0x20" },
    { 0xd503201f, "nop " },                    /* done: */
};
#define NSTUB       (sizeof stub / sizeof stub[0])
#define OFF_ACCESS  0x34ull     /* first of the four accesses */
#define OFF_DONE    0x54ull
#define NACC        4u
static const char *const acc_name[NACC] = { "LDR", "STR", "LDTR", "STTR" };

/* ---- Memory shared by both walkers ------------------------------------- */

struct region {
    uint64_t base, size;
    uint8_t *buf;
};

struct world {
    struct region reg[NREGION];
    unsigned nreg;
    uint64_t tag;
};

static uint8_t *world_ptr(const struct world *w, uint64_t pa, uint64_t len)
{
    for (unsigned i = 0; i < w->nreg; i++) {
        const struct region *r = &w->reg[i];
        if (pa >= r->base && pa - r->base <= r->size - len)
            return r->buf + (pa - r->base);
    }
    return NULL;
}

static int world_read64(const struct world *w, uint64_t pa, uint64_t *v)
{
    uint8_t *p = world_ptr(w, pa, 8);
    if (!p)
        return -1;
    memcpy(v, p, 8);
    return 0;
}

static void world_write64(struct world *w, uint64_t pa, uint64_t v)
{
    uint8_t *p = world_ptr(w, pa, 8);
    if (p)
        memcpy(p, &v, 8);
}

static int ops_read_desc(void *arg, uint64_t pa, bool cacheable, uint64_t *desc)
{
    (void)cacheable;
    return world_read64(arg, pa, desc) ? 1 : 0;
}

static int world_alloc(struct world *w)
{
    unsigned n = 0;
    memset(w, 0, sizeof *w);
    for (unsigned g = 0; g < NGIB; g++)
        for (unsigned o = 0; o < NOFF; o++)
            w->reg[n++].base = win_gib[g] * GIB + win_off[o];
    w->reg[n++].base = CTRL_BASE;
    w->reg[n++].base = HIGH_WINDOW;
    w->nreg = n;
    for (unsigned i = 0; i < n; i++) {
        w->reg[i].size = CHUNK;
        w->reg[i].buf = aligned_alloc(4096, CHUNK);
        if (!w->reg[i].buf)
            return -1;
    }
    return 0;
}

static void world_free(struct world *w)
{
    for (unsigned i = 0; i < w->nreg; i++)
        free(w->reg[i].buf);
}

/* Every word holds its PA xor the seed's tag: a loaded value names its PA. */
static void world_fill(struct world *w)
{
    for (unsigned i = 0; i < w->nreg; i++) {
        uint64_t *q = (uint64_t *)(void *)w->reg[i].buf;
        for (uint64_t k = 0; k < CHUNK / 8; k++)
            q[k] = (w->reg[i].base + k * 8) ^ w->tag;
    }
}

/* ---- Seeded random tables ----------------------------------------------- */

static uint64_t rng_next(uint64_t *s)   /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n) { return (unsigned)(rng_next(s) % n); }

struct gen {
    struct world *w;
    uint64_t rng;
    unsigned ia_bits;
    int start_level;
    uint64_t next_table;
    unsigned stats_leaf[4], stats_table, stats_invalid;
};

static unsigned lvl_shift(int level) { return 12u + 9u * (unsigned)(3 - level); }

/* Does [va, va + size) overlap a test window? (The control chunk is not a
 * test window: it has a fixed identity mapping.) */
static bool covers_window(uint64_t va, uint64_t size)
{
    for (unsigned g = 0; g < NGIB; g++)
        for (unsigned o = 0; o < NOFF; o++) {
            uint64_t b = win_gib[g] * GIB + win_off[o];
            if (b < va + size && va < b + CHUNK)
                return true;
        }
    return false;
}

static uint64_t rand_target_chunk(struct gen *g)
{
    return win_gib[rng_below(&g->rng, NTARGET_GIB)] * GIB + win_off[rng_below(&g->rng, NOFF)];
}

static uint64_t rand_leaf_attrs(struct gen *g)
{
    static const unsigned sh[] = { 0, 2, 3 };
    uint64_t r = rng_next(&g->rng);
    uint64_t a = MMU_S1_ATTRINDX(r & 7);
    if (rng_below(&g->rng, 100) < 88)
        a |= MMU_AF;
    a |= ((r >> 3) & 3) << 6;                 /* AP[2:1] */
    a |= (uint64_t)sh[(r >> 5) % 3] << MMU_SH_SHIFT;
    if (r & (1ull << 8))  a |= MMU_S1_NG;
    if (r & (1ull << 9))  a |= MMU_S1_PXN;
    if (r & (1ull << 10)) a |= MMU_S1_UXN;
    if ((r & (3ull << 11)) == 0) a |= MMU_DBM;
    a |= ((r >> 13) & 0xf) << 55;             /* software use, ignored */
    return a;
}

static uint64_t rand_table_attrs(struct gen *g)
{
    uint64_t r = rng_next(&g->rng);
    if (r % 5 != 0)
        return 0;
    /* APTable, PXNTable, UXNTable; bits 58:52 of a table descriptor are
     * ignored by the walk. */
    return (r & (MMU_TBL_PXN | MMU_TBL_UXN | MMU_TBL_AP_NOEL0 | MMU_TBL_AP_RO))
         | (((r >> 8) & 0x7f) << 52);
}

static uint64_t alloc_table(struct gen *g)
{
    uint64_t pa = g->next_table;
    if (pa + 4096 > TABLE_LIMIT)
        return 0;
    g->next_table += 4096;
    return pa;
}

/* Fill the table at table_pa (level `level`, covering VAs from va_base).
 * Returns 0, or -1 when the table area is exhausted. */
static int gen_table(struct gen *g, int level, uint64_t va_base, uint64_t table_pa)
{
    unsigned shift = lvl_shift(level);
    uint64_t n = level == g->start_level ? 1ull << (g->ia_bits - shift) : 512;
    uint64_t size = 1ull << shift;

    for (uint64_t i = 0; i < n; i++) {
        uint64_t va = va_base + i * size, d, sub;
        unsigned r = rng_below(&g->rng, 100);

        if (CTRL_BASE >= va && CTRL_BASE < va + size) {
            if (level == 2) {   /* the control chunk: identity, EL1 RW, Normal WB */
                d = mmu_desc_block(CTRL_BASE, MMU_S1_ATTRINDX(0) | MMU_AF | MMU_SH_INNER);
            } else {
                if (!(sub = alloc_table(g)))
                    return -1;
                d = mmu_desc_table(sub);   /* no APTable: results are stored here */
                if (gen_table(g, level + 1, va, sub))
                    return -1;
            }
        } else if (!covers_window(va, size)) {
            d = rng_next(&g->rng) & ~MMU_DESC_VALID;      /* never walked */
        } else if (level == 3) {
            uint64_t pa = rand_target_chunk(g) + (uint64_t)rng_below(&g->rng, 512) * 4096;
            if (r < 80) {
                d = mmu_desc_page(pa, rand_leaf_attrs(g));
                g->stats_leaf[3]++;
            } else if (r < 90) {           /* block-shaped at level 3: reserved */
                d = mmu_desc_block(pa, rand_leaf_attrs(g));
                g->stats_invalid++;
            } else {
                d = rng_next(&g->rng) & ~MMU_DESC_VALID;
                g->stats_invalid++;
            }
        } else if ((level == 1 && r < 20) || (level == 2 && r < 25)) {
            uint64_t oa = level == 1 ? win_gib[rng_below(&g->rng, NTARGET_GIB)] * GIB
                                     : rand_target_chunk(g);
            d = mmu_desc_block(oa, rand_leaf_attrs(g));
            g->stats_leaf[level]++;
        } else if (r < 82) {
            if (!(sub = alloc_table(g)))
                return -1;
            d = mmu_desc_table(sub) | rand_table_attrs(g);
            g->stats_table++;
            if (gen_table(g, level + 1, va, sub))
                return -1;
        } else {
            d = rng_next(&g->rng) & ~MMU_DESC_VALID;
            g->stats_invalid++;
        }
        world_write64(g->w, table_pa + i * 8, d);
    }
    return 0;
}

/* ---- One seed ------------------------------------------------------------ */

struct cfg {
    unsigned t0sz, ips;
    uint64_t tcr, mair, ttbr0, sctlr_set;
};

struct hook_state {
    uint64_t access_pc;     /* PC of the first of the four accesses */
    uint64_t unexpected;    /* count of exceptions we did not expect */
    uint32_t bad_intno;
    uint64_t bad_pc;
};

/* A data abort on one of the four accesses: record it in x4 and step over
 * the access (a handled exception does not advance the PC: without this the
 * access would fault forever). Anything else stops the run. */
static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
    struct hook_state *hs = user;
    uint64_t pc = 0, x4 = 0;

    uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
    if (intno == 4 && pc >= hs->access_pc && pc < hs->access_pc + 4 * NACC) {
        uc_reg_read(uc, UC_ARM64_REG_X4, &x4);
        x4 |= 1ull << ((pc - hs->access_pc) / 4);
        uc_reg_write(uc, UC_ARM64_REG_X4, &x4);
        pc += 4;
        uc_reg_write(uc, UC_ARM64_REG_PC, &pc);
        return;
    }
    if (hs->unexpected++ == 0) {
        hs->bad_intno = intno;
        hs->bad_pc = pc;
    }
    uc_emu_stop(uc);
}

static void dbg_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
    uint64_t pc = 0;
    (void)user;
    uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
    fprintf(stderr, "  mem type %d addr %#" PRIx64 " size %d value %#" PRIx64 " pc %#" PRIx64 "\n",
            (int)type, addr, size, (uint64_t)value, pc);
}

static int el1_aarch64(uc_engine *uc, unsigned seed)
{
    uc_arm64_cp_reg scr = { .crn = 1, .crm = 1, .op0 = 3, .op1 = 6, .op2 = 0, .val = 0 };
    uc_arm64_cp_reg hcr = { .crn = 1, .crm = 1, .op0 = 3, .op1 = 4, .op2 = 0, .val = 0 };
    uc_err err;

    if ((err = uc_reg_read(uc, UC_ARM64_REG_CP_REG, &scr)) != UC_ERR_OK) {
        fprintf(stderr, "seed %u: read SCR_EL3: %s\n", seed, uc_strerror(err));
        return -1;
    }
    scr.val |= 1ull << 10;                    /* SCR_EL3.RW */
    if ((err = uc_reg_write(uc, UC_ARM64_REG_CP_REG, &scr)) != UC_ERR_OK) {
        fprintf(stderr, "seed %u: write SCR_EL3: %s\n", seed, uc_strerror(err));
        return -1;
    }
    if (uc_reg_read(uc, UC_ARM64_REG_CP_REG, &hcr) == UC_ERR_OK) {
        hcr.val |= 1ull << 31;                /* HCR_EL2.RW */
        uc_reg_write(uc, UC_ARM64_REG_CP_REG, &hcr);
    }
    return 0;
}

static int stub_verify(void)
{
    csh cs;
    cs_insn *insn;
    uint8_t code[NSTUB * 4];
    int bad = 0;

    for (unsigned i = 0; i < NSTUB; i++)
        memcpy(code + 4 * i, &stub[i].insn, 4);
    if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK)
        return -1;
    size_t n = cs_disasm(cs, code, sizeof code, 0, 0, &insn);
    if (n != NSTUB)
        bad = 1;
    for (size_t i = 0; i < n && i < NSTUB; i++) {
        char text[sizeof insn[i].mnemonic + sizeof insn[i].op_str + 2];
        snprintf(text, sizeof text, "%s %s", insn[i].mnemonic, insn[i].op_str);
        if (strcmp(text, stub[i].text) != 0) {
            fprintf(stderr, "stub word %zu: capstone says \"%s\", expected \"%s\"\n",
                    i, text, stub[i].text);
            bad = 1;
        }
    }
    if (n)
        cs_free(insn, n);
    cs_close(&cs);
    return bad ? -1 : 0;
}

/* Print the descriptors a walk for va reads (bounded: at most 4 levels). */
static void dump_walk(const struct world *w, const struct cfg *c, unsigned ia, int sl, uint64_t va)
{
    uint64_t table = MMU_TTBR_BADDR(c->ttbr0), d = 0;
    for (int level = sl; level <= 3; level++) {
        unsigned shift = lvl_shift(level);
        uint64_t n = level == sl ? 1ull << (ia - shift) : 512;
        uint64_t pa = table + ((va >> shift) & (n - 1)) * 8;
        if (world_read64(w, pa, &d)) {
            fprintf(stderr, "      L%d desc @%#" PRIx64 ": unbacked\n", level, pa);
            return;
        }
        fprintf(stderr, "      L%d desc @%#" PRIx64 " = %#018" PRIx64 "\n", level, pa, d);
        if ((d & 3) != 3 || level == 3)
            return;
        table = mmu_desc_oa(d);
    }
}

struct totals {
    uint64_t vas, accesses, mismatches, printed, faults, hits;
};

static void report_mismatch(struct totals *t, const struct world *w, const struct cfg *c,
                            unsigned ia, int sl, unsigned seed, uint64_t va, const char *what,
                            const char *hyp, const char *qemu)
{
    t->mismatches++;
    if (t->printed >= MAX_PRINT)
        return;
    t->printed++;
    fprintf(stderr, "MISMATCH seed %u T0SZ %u VA %#" PRIx64 " %s: hypsim %s, QEMU %s\n",
            seed, c->t0sz, va, what, hyp, qemu);
    dump_walk(w, c, ia, sl, va);
}

static const char *fault_name(enum mmu_fault_type t)
{
    switch (t) {
    case MMU_FAULT_NONE:        return "none";
    case MMU_FAULT_TRANSLATION: return "translation";
    case MMU_FAULT_ACCESS_FLAG: return "access-flag";
    case MMU_FAULT_PERMISSION:  return "permission";
    case MMU_FAULT_ADDR_SIZE:   return "address-size";
    case MMU_FAULT_EXTERNAL:    return "external";
    }
    return "?";
}

static int run_seed(struct world *w, unsigned seed, struct totals *tot)
{
    struct gen g;
    struct cfg c;
    uint64_t vas[MAX_VAS];
    unsigned nva = VAS_PER_SEED;
    uc_engine *uc = NULL;
    uc_hook hh;
    struct hook_state hs;
    uc_err err;
    int rc = -1;

    memset(&g, 0, sizeof g);
    g.w = w;
    g.rng = 0x6879707369ull * (seed + 1);
    w->tag = DATA_TAG ^ ((uint64_t)seed << 40);
    world_fill(w);

    /* Registers. */
    memset(&c, 0, sizeof c);
    c.t0sz = 25 + rng_below(&g.rng, 15);
    g.ia_bits = 64 - c.t0sz;
    g.start_level = g.ia_bits > 30 ? 1 : 2;
    c.ips = rng_below(&g.rng, 6);
    {
        static const unsigned sh[] = { 0, 2, 3 };
        uint64_t r = rng_next(&g.rng);
        c.tcr = (uint64_t)c.t0sz
              | ((r & 3) << 8) | (((r >> 2) & 3) << 10)        /* IRGN0, ORGN0 */
              | ((uint64_t)sh[(r >> 4) % 3] << 12)              /* SH0 */
              | (0ull << 14)                                    /* TG0 = 4 KiB */
              | (25ull << 16)                                   /* T1SZ */
              | (1ull << 23)                                    /* EPD1 */
              | (2ull << 30)                                    /* TG1 = 4 KiB */
              | ((uint64_t)c.ips << 32)
              | (((r >> 8) & 1) << 36);                         /* AS */
    }
    {
        static const uint8_t attrs[] = { 0xff, 0x44, 0x00, 0x04, 0xbb, 0x0c, 0xee, 0x4f };
        for (unsigned i = 0; i < 8; i++)
            c.mair |= (uint64_t)attrs[rng_below(&g.rng, 8)] << (8 * i);
        c.mair = (c.mair & ~0xffull) | 0xff;    /* AttrIndx 0: the control chunk */
    }
    c.sctlr_set = 1u | (1u << 2);   /* M, C */


    g.next_table = TABLE_FIRST;
    uint64_t root = alloc_table(&g);
    if (gen_table(&g, g.start_level, 0, root)) {
        fprintf(stderr, "seed %u: table area exhausted\n", seed);
        return -1;
    }
    c.ttbr0 = root | ((rng_next(&g.rng) & 0xffff) << 48);

    /* Test VAs: mostly inside the VA range, some beyond it or in TTBR1. */
    {
        uint64_t in_range[NREGION], any[NREGION];
        unsigned nin = 0, nany = 0;
        for (unsigned i = 0; i < w->nreg; i++) {
            uint64_t b = w->reg[i].base;
            if (b == CTRL_BASE)
                continue;
            any[nany++] = b;
            if ((b >> g.ia_bits) == 0)
                in_range[nin++] = b;
        }
        for (unsigned i = 0; i < nva; i++) {
            bool pick_in = nin && rng_below(&g.rng, 100) < 88;
            uint64_t b = pick_in ? in_range[rng_below(&g.rng, nin)] : any[rng_below(&g.rng, nany)];
            vas[i] = b + (uint64_t)rng_below(&g.rng, 512) * 4096 + (uint64_t)rng_below(&g.rng, 512) * 8;
        }
    }

    /* HYPSIM_DIFF_VA=va (with HYPSIM_DIFF_SEED) runs that one VA alone. */
    if (getenv("HYPSIM_DIFF_VA")) {
        vas[0] = strtoull(getenv("HYPSIM_DIFF_VA"), NULL, 0);
        nva = 1;
    }

    /* Guest memory: code, VA list. */
    for (unsigned i = 0; i < NSTUB; i++) {
        uint8_t *p = world_ptr(w, CTRL_BASE + CODE_OFF + 4 * i, 4);
        memcpy(p, &stub[i].insn, 4);
    }
    memcpy(world_ptr(w, CTRL_BASE + VALIST_OFF, 8ull * nva), vas, 8ull * nva);

    /* The engine. */
    if ((err = uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc)) != UC_ERR_OK) {
        fprintf(stderr, "uc_open: %s\n", uc_strerror(err));
        return -1;
    }
    if ((err = uc_ctl_set_cpu_model(uc, UC_CPU_ARM64_MAX)) != UC_ERR_OK) {
        fprintf(stderr, "cpu model: %s\n", uc_strerror(err));
        goto out;
    }
    for (unsigned i = 0; i < w->nreg; i++) {
        err = uc_mem_map_ptr(uc, w->reg[i].base, w->reg[i].size, UC_PROT_ALL, w->reg[i].buf);
        if (err != UC_ERR_OK) {
            fprintf(stderr, "uc_mem_map_ptr %#" PRIx64 ": %s\n", w->reg[i].base, uc_strerror(err));
            goto out;
        }
    }
    memset(&hs, 0, sizeof hs);
    hs.access_pc = CTRL_BASE + CODE_OFF + OFF_ACCESS;
    if ((err = uc_hook_add(uc, &hh, UC_HOOK_INTR, (void *)hook_intr, &hs, 1, 0)) != UC_ERR_OK)
        goto out;
    if (getenv("HYPSIM_DIFF_VA")) {   /* one VA: trace its few accesses */
        uc_hook h2;
        uc_hook_add(uc, &h2, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)dbg_mem, NULL, 1, 0);
    }
    /* EL1 must use AArch64: SCR_EL3.RW (and HCR_EL2.RW, should the CPU
     * have EL2). At reset Unicorn leaves RW clear, and QEMU then walks the
     * EL1&0 regime as AArch32 LPAE (TTBCR: 32-bit VAs, T0SZ[2:0]). */
    if (el1_aarch64(uc, seed) != 0)
        goto out;
    {
        uint64_t pstate = 0x3c5, x1 = CTRL_BASE + VALIST_OFF, x5 = CTRL_BASE + RESULT_OFF;
        uint64_t x6 = nva;
        uc_reg_write(uc, UC_ARM64_REG_PSTATE, &pstate);
        uc_reg_write(uc, UC_ARM64_REG_X1, &x1);
        uc_reg_write(uc, UC_ARM64_REG_X5, &x5);
        uc_reg_write(uc, UC_ARM64_REG_X6, &x6);
        uc_reg_write(uc, UC_ARM64_REG_X10, &c.mair);
        uc_reg_write(uc, UC_ARM64_REG_X11, &c.tcr);
        uc_reg_write(uc, UC_ARM64_REG_X12, &c.ttbr0);
        uc_reg_write(uc, UC_ARM64_REG_X13, &c.sctlr_set);
    }
    err = uc_emu_start(uc, CTRL_BASE + CODE_OFF, CTRL_BASE + CODE_OFF + OFF_DONE,
                       20u * 1000 * 1000, 0);
    {
        uint64_t x6 = 1, pc = 0;
        uc_reg_read(uc, UC_ARM64_REG_X6, &x6);
        uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
        if (err != UC_ERR_OK || x6 != 0 || hs.unexpected) {
            fprintf(stderr, "seed %u: run incomplete: %s, %" PRIu64 " VAs left, PC %#" PRIx64
                    ", %" PRIu64 " unexpected exceptions (first intno %u at %#" PRIx64 ")\n",
                    seed, uc_strerror(err), x6, pc, hs.unexpected, hs.bad_intno, hs.bad_pc);
            goto out;
        }
    }

    /* Compare. */
    struct mmu_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.regime = MMU_REGIME_EL10;
    ctx.s1.m = true;
    ctx.s1.c = true;
    ctx.s1.ttbr0 = c.ttbr0;
    ctx.s1.tcr = c.tcr;
    ctx.s1.mair = c.mair;
    ctx.ops.read_desc = ops_read_desc;
    ctx.ops.arg = w;
    unsigned faults_by_type[6] = { 0 };
    for (unsigned i = 0; i < nva; i++) {
        const uint8_t *res = world_ptr(w, CTRL_BASE + RESULT_OFF + 8ull * RESULT_WORDS * i, 24);
        uint64_t q[RESULT_WORDS];
        memcpy(q, res, sizeof q);
        for (unsigned k = 0; k < NACC; k++) {
            struct mmu_result r;
            struct mmu_fault f;
            enum mmu_access acc = (k & 1) ? MMU_ACC_WRITE : MMU_ACC_READ;
            bool el0 = k >= 2;
            int hf = mmu_translate(&ctx, vas[i], acc, el0, &r, &f) != 0;
            int qf = (int)((q[1] >> k) & 1);
            char hyp[96], qemu[96];

            tot->accesses++;
            if (hf) {
                faults_by_type[f.type < 6 ? f.type : 0]++;
                tot->faults++;
            } else {
                tot->hits++;
            }
            if (hf != qf) {
                if (hf)
                    snprintf(hyp, sizeof hyp, "%s fault level %d", fault_name(f.type), f.level);
                else
                    snprintf(hyp, sizeof hyp, "PA %#" PRIx64 " (level %u)", r.pa, r.s1_level);
                snprintf(qemu, sizeof qemu, qf ? "data abort" : "no fault (value %#" PRIx64 " = PA %#" PRIx64 ")",
                         q[k < 2 ? 0 : 2], q[k < 2 ? 0 : 2] ^ w->tag);
                report_mismatch(tot, w, &c, g.ia_bits, g.start_level, seed, vas[i],
                                acc_name[k], hyp, qemu);
                continue;
            }
            if (hf || (k != 0 && k != 2))
                continue;
            uint64_t want, got = q[k == 0 ? 0 : 2];
            if (world_read64(w, r.pa, &want)) {
                snprintf(hyp, sizeof hyp, "PA %#" PRIx64 " (unbacked)", r.pa);
                snprintf(qemu, sizeof qemu, "value %#" PRIx64, got);
                report_mismatch(tot, w, &c, g.ia_bits, g.start_level, seed, vas[i],
                                acc_name[k], hyp, qemu);
            } else if (want != got) {
                snprintf(hyp, sizeof hyp, "PA %#" PRIx64 " value %#" PRIx64, r.pa, want);
                snprintf(qemu, sizeof qemu, "value %#" PRIx64 " (= PA %#" PRIx64 " if data)",
                         got, got ^ w->tag);
                report_mismatch(tot, w, &c, g.ia_bits, g.start_level, seed, vas[i],
                                acc_name[k], hyp, qemu);
            }
        }
    }
    tot->vas += nva;
    if (getenv("HYPSIM_DIFF_SEED"))
        printf("seed %u: TCR_EL1 %#" PRIx64 " MAIR_EL1 %#" PRIx64 " TTBR0_EL1 %#" PRIx64 "\n",
               seed, c.tcr, c.mair, c.ttbr0);
    printf("seed %2u: T0SZ %2u (start L%d) IPS %u, %3u tables, leaves L1/L2/L3 %u/%u/%u, "
           "%u VAs x %u accesses: faults transl %u AF %u perm %u other %u\n",
           seed, c.t0sz, g.start_level, c.ips, (unsigned)((g.next_table - TABLE_FIRST) / 4096),
           g.stats_leaf[1], g.stats_leaf[2], g.stats_leaf[3], nva, NACC,
           faults_by_type[MMU_FAULT_TRANSLATION], faults_by_type[MMU_FAULT_ACCESS_FLAG],
           faults_by_type[MMU_FAULT_PERMISSION],
           faults_by_type[MMU_FAULT_ADDR_SIZE] + faults_by_type[MMU_FAULT_EXTERNAL]);
    rc = 0;
out:
    uc_close(uc);
    return rc;
}

int main(void)
{
    struct world w;
    struct totals tot;
    struct timespec t0, t1;
    int failed = 0;

    if (stub_verify() != 0) {
        fprintf(stderr, "FAIL: the guest stub's encodings do not disassemble as written\n");
        return 1;
    }
    if (world_alloc(&w) != 0) {
        fprintf(stderr, "FAIL: out of memory\n");
        world_free(&w);
        return 1;
    }
    memset(&tot, 0, sizeof tot);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* HYPSIM_DIFF_SEED=n runs seed n alone (to reproduce a mismatch). */
    const char *only = getenv("HYPSIM_DIFF_SEED");
    for (unsigned s = 0; s < NSEEDS; s++) {
        if (only && (unsigned)strtoul(only, NULL, 0) != s)
            continue;
        if (run_seed(&w, s, &tot) != 0)
            failed = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    world_free(&w);

    printf("compared %" PRIu64 " VAs, %" PRIu64 " accesses (%" PRIu64 " translated, %" PRIu64
           " faulted) against QEMU in %.2f s: %" PRIu64 " mismatches\n",
           tot.vas, tot.accesses, tot.hits, tot.faults,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9,
           tot.mismatches);
    if (tot.mismatches > tot.printed)
        printf("(%" PRIu64 " mismatches not printed)\n", tot.mismatches - tot.printed);
    if (failed || tot.mismatches || (!only && tot.vas < NSEEDS * VAS_PER_SEED)) {
        printf("FAIL (stage-1 walk, Arm ARM D8: hypsim and QEMU disagree or a run failed)\n");
        return 1;
    }
    printf("PASS\n");
    return 0;
}
