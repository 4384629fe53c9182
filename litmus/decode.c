/*
 * litmus/decode.c - the A64 instruction decoder of the litmus reader
 * (decode.h): mnemonics and operands of the integer, memory and system
 * instructions litmus tests use (README.md "Supported instructions"), to
 * struct lit_insn. Operand syntax: registers, #immediates, shifted and
 * extended registers, [Xn], [Xn,#imm], [Xn,#imm]!, [Xn],#imm, [Xn,Xm{,LSL
 * #s}], [Xn,Wm,SXTW|UXTW{ #s}], condition codes, TLBI operations, labels.
 * A form the architecture does not have is malformed (an error); a real
 * instruction outside the subset is "unsupported", with its name.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "litmus/decode.h"

/* Register name: X0-X30, W0-W30, XZR, WZR. Returns 0 and sets *r, *sf. */
int lit_reg_of(const char *s, uint8_t *r, uint8_t *sf)
{
    if (!strcasecmp(s, "XZR") || !strcasecmp(s, "WZR")) {
        *r = LIT_XZR;
        *sf = (s[0] == 'X' || s[0] == 'x');
        return 0;
    }
    if ((s[0] != 'X' && s[0] != 'W' && s[0] != 'x' && s[0] != 'w') || !isdigit((unsigned char)s[1]))
        return -1;
    char *end;
    long n = strtol(s + 1, &end, 10);
    if (*end || n < 0 || n > 30)
        return -1;
    *r = (uint8_t)n;
    *sf = (s[0] == 'X' || s[0] == 'x');
    return 0;
}

struct ops { char s[6][LIT_NAME]; unsigned n; };

/* Split operands at top-level commas ("[X1,W2,SXTW]" stays one operand). */
static int split_ops(const char *s, struct ops *o)
{
    int depth = 0;
    size_t n = 0;
    o->n = 0;
    for (;; s++) {
        if (*s == '[') depth++;
        if (*s == ']') depth--;
        if (!*s || (*s == ',' && depth == 0)) {
            if (o->n >= 6) return -1;
            while (n && isspace((unsigned char)o->s[o->n][n - 1])) n--;
            o->s[o->n][n] = 0;
            if (n || *s)
                o->n++;
            n = 0;
            if (!*s) break;
            continue;
        }
        if (n == 0 && isspace((unsigned char)*s))
            continue;
        if (o->n >= 6 || n + 1 >= LIT_NAME) return -1;   /* a 7th operand: no room */
        o->s[o->n][n++] = *s;
    }
    return depth ? -1 : 0;
}

/* "#imm" or "imm": a 64-bit number, signed or not (wider: -1). */
static int parse_imm(const char *s, int64_t *v)
{
    if (*s == '#') s++;
    if (!*s) return -1;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 0);
    if (errno == ERANGE && *s != '-') {
        errno = 0;
        x = (long long)strtoull(s, &end, 0);
    }
    if (errno || *end) return -1;
    *v = x;
    return 0;
}

static int cond_of(const char *s)
{
    static const char *cc[] = { "EQ", "NE", "CS", "CC", "MI", "PL", "VS", "VC",
                                "HI", "LS", "GE", "LT", "GT", "LE", "AL" };
    if (!strcasecmp(s, "HS")) return 2;
    if (!strcasecmp(s, "LO")) return 3;
    for (int i = 0; i < 15; i++)
        if (!strcasecmp(s, cc[i])) return i;
    return -1;
}

/* "LSL #3", "SXTW", "UXTW #2": a shift or extend name and its amount
 * (0 when absent). Returns the enum lit_shift, or -1. */
static int parse_shift(const char *s, unsigned *amt)
{
    static const struct { const char *n; enum lit_shift k; } names[] = {
        { "LSL", SH_LSL }, { "LSR", SH_LSR }, { "ASR", SH_ASR }, { "ROR", SH_ROR },
        { "UXTB", EX_UXTB }, { "UXTH", EX_UXTH }, { "UXTW", EX_UXTW }, { "UXTX", EX_UXTX },
        { "SXTB", EX_SXTB }, { "SXTH", EX_SXTH }, { "SXTW", EX_SXTW }, { "SXTX", EX_SXTX },
    };
    char name[8];
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]) && s[n] != '#' && n + 1 < sizeof(name)) {
        name[n] = s[n];
        n++;
    }
    name[n] = 0;
    const char *rest = s + n;
    while (isspace((unsigned char)*rest)) rest++;
    int64_t v = 0;
    if (*rest && (parse_imm(rest, &v) || v < 0 || v > 63)) return -1;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcasecmp(name, names[i].n)) {
            if (!*rest && names[i].k <= SH_ROR) return -1;   /* a shift needs its amount */
            *amt = (unsigned)v;
            return names[i].k;
        }
    return -1;
}

/* "[Xn]", "[Xn,#imm]", "[Xn,#imm]!", "[Xn,Xm]", "[Xn,Xm,LSL #s]",
 * "[Xn,Wm,SXTW]", "[Xn,Wm,UXTW #s]" (post-index: the caller). For an
 * access of size bytes: a shifted index is shifted by 0 or log2(size). */
static int parse_mem(const char *s, struct lit_insn *in, unsigned size)
{
    char buf[LIT_NAME];
    size_t n = strlen(s);
    bool pre = n > 0 && s[n - 1] == '!';
    if (pre) n--;
    if (n < 3 || s[0] != '[' || s[n - 1] != ']')
        return -1;
    memcpy(buf, s + 1, n - 2);
    buf[n - 2] = 0;
    struct ops o;
    if (split_ops(buf, &o) || o.n < 1 || o.n > 3)
        return -1;
    uint8_t sf;
    if (lit_reg_of(o.s[0], &in->rn, &sf) || !sf || in->rn == LIT_XZR)
        return -1;
    in->amode = AM_BASE;
    if (o.n >= 2) {
        if (o.s[1][0] == '#' || isdigit((unsigned char)o.s[1][0]) || o.s[1][0] == '-') {
            if (o.n != 2 || parse_imm(o.s[1], &in->imm)) return -1;
            in->amode = pre ? AM_PRE : AM_IMM;
            return 0;
        }
        if (pre || lit_reg_of(o.s[1], &in->rm, &sf)) return -1;
        if (o.n == 3) {
            unsigned amt = 0;
            int k = parse_shift(o.s[2], &amt);
            if (k == EX_SXTW) in->amode = AM_SXTW;
            else if (k == EX_UXTW) in->amode = AM_UXTW;
            else if ((k == SH_LSL || k == EX_SXTX) && sf) in->amode = AM_REG;
            else return -1;
            unsigned lg = size == 8 ? 3 : size == 4 ? 2 : size == 2 ? 1 : 0;
            if (amt != 0 && amt != lg) return -1;
            in->shamt = (uint8_t)amt;
        } else if (!sf)
            return -1;
        else
            in->amode = AM_REG;
        return 0;
    }
    return pre ? -1 : 0;
}

static int parse_tlbi(const char *name, struct lit_insn *in)
{
    char base[LIT_NAME];
    size_t n = strlen(name);
    snprintf(base, sizeof(base), "%s", name);
    in->tlbi_crm = 7;
    if (n > 2 && !strcasecmp(name + n - 2, "IS")) { in->tlbi_crm = 3; base[n - 2] = 0; }
    else if (n > 2 && !strcasecmp(name + n - 2, "OS")) { in->tlbi_crm = 1; base[n - 2] = 0; }
    in->tlbi_op1 = 0;
    if (!strcasecmp(base, "VMALLE1")) { in->tlbi_op2 = 0; in->tlbi_xt = false; }
    else if (!strcasecmp(base, "VAE1")) { in->tlbi_op2 = 1; in->tlbi_xt = true; }
    else if (!strcasecmp(base, "ASIDE1")) { in->tlbi_op2 = 2; in->tlbi_xt = true; }
    else if (!strcasecmp(base, "VAAE1")) { in->tlbi_op2 = 3; in->tlbi_xt = true; }
    else if (!strcasecmp(base, "VALE1")) { in->tlbi_op2 = 5; in->tlbi_xt = true; }
    else if (!strcasecmp(base, "VAALE1")) { in->tlbi_op2 = 7; in->tlbi_xt = true; }
    else return -1;
    return 0;
}

/* Operands o.s[k..] of an ALU instruction after Rd, Rn: "Rm",
 * "Rm, LSL|LSR|ASR|ROR #s", "Wm|Xm, UXTB..SXTX {#s}" (arith only), "#imm",
 * "#imm, LSL #0|#12" (arith only). ror: ROR allowed (logical
 * instructions). Returns 0 or -1. */
static int parse_op2(const struct ops *o, unsigned k, struct lit_insn *in, bool arith, bool ror)
{
    uint8_t sf;
    unsigned amt = 0;
    if (o->n == k + 1) {
        if (lit_reg_of(o->s[k], &in->rm, &sf) == 0) return 0;
        if (parse_imm(o->s[k], &in->imm)) return -1;
        in->use_imm = true;
        return 0;
    }
    if (o->n != k + 2) return -1;
    int sh = parse_shift(o->s[k + 1], &amt);
    if (sh < 0) return -1;
    if (lit_reg_of(o->s[k], &in->rm, &sf) != 0) {
        /* #imm, LSL #12 */
        if (!arith || sh != SH_LSL || (amt != 0 && amt != 12) || parse_imm(o->s[k], &in->imm) ||
            in->imm < 0 || in->imm > 0xfff) return -1;
        in->imm <<= amt;
        in->use_imm = true;
        return 0;
    }
    if (sh <= SH_ROR) {
        if (sf != in->sf || amt >= (in->sf ? 64u : 32u) || (sh == SH_ROR && !ror)) return -1;
    } else {
        /* extended register: Wm for B/H/W, Xm for X (64-bit operations) */
        bool x = sh == EX_UXTX || sh == EX_SXTX;
        if (!arith || amt > 4 || (x && !sf) || (!x && sf && in->sf) || (x && !in->sf)) return -1;
    }
    in->shift = (uint8_t)sh;
    in->shamt = (uint8_t)amt;
    return 0;
}

/* The loads and stores by mnemonic: op, access size (0: by the register),
 * sign extension, and the addressing modes allowed (ANY: every mode of
 * LDR, IMM: [Xn{,#imm}], BASE: [Xn] or [Xn,#0]). */
enum am_class { AMC_ANY, AMC_IMM, AMC_BASE };
struct ldst { const char *m; uint8_t op; uint8_t size; bool sext; uint8_t amc; };
static const struct ldst ldsts[] = {
    { "LDR", LOP_LDR, 0, false, AMC_ANY }, { "LDRB", LOP_LDR, 1, false, AMC_ANY },
    { "LDRH", LOP_LDR, 2, false, AMC_ANY }, { "LDRSB", LOP_LDR, 1, true, AMC_ANY },
    { "LDRSH", LOP_LDR, 2, true, AMC_ANY }, { "LDRSW", LOP_LDR, 4, true, AMC_ANY },
    { "STR", LOP_STR, 0, false, AMC_ANY }, { "STRB", LOP_STR, 1, false, AMC_ANY },
    { "STRH", LOP_STR, 2, false, AMC_ANY },
    { "LDUR", LOP_LDR, 0, false, AMC_IMM }, { "LDURB", LOP_LDR, 1, false, AMC_IMM },
    { "LDURH", LOP_LDR, 2, false, AMC_IMM }, { "LDURSB", LOP_LDR, 1, true, AMC_IMM },
    { "LDURSH", LOP_LDR, 2, true, AMC_IMM }, { "LDURSW", LOP_LDR, 4, true, AMC_IMM },
    { "STUR", LOP_STR, 0, false, AMC_IMM }, { "STURB", LOP_STR, 1, false, AMC_IMM },
    { "STURH", LOP_STR, 2, false, AMC_IMM },
    { "LDAR", LOP_LDR, 0, false, AMC_BASE }, { "LDARB", LOP_LDR, 1, false, AMC_BASE },
    { "LDARH", LOP_LDR, 2, false, AMC_BASE },
    { "LDAPR", LOP_LDR, 0, false, AMC_BASE }, { "LDAPRB", LOP_LDR, 1, false, AMC_BASE },
    { "LDAPRH", LOP_LDR, 2, false, AMC_BASE },
    { "LDAPUR", LOP_LDR, 0, false, AMC_IMM }, { "LDAPURB", LOP_LDR, 1, false, AMC_IMM },
    { "LDAPURH", LOP_LDR, 2, false, AMC_IMM }, { "LDAPURSB", LOP_LDR, 1, true, AMC_IMM },
    { "LDAPURSH", LOP_LDR, 2, true, AMC_IMM }, { "LDAPURSW", LOP_LDR, 4, true, AMC_IMM },
    { "STLR", LOP_STR, 0, false, AMC_BASE }, { "STLRB", LOP_STR, 1, false, AMC_BASE },
    { "STLRH", LOP_STR, 2, false, AMC_BASE },
    { "STLUR", LOP_STR, 0, false, AMC_IMM }, { "STLURB", LOP_STR, 1, false, AMC_IMM },
    { "STLURH", LOP_STR, 2, false, AMC_IMM },
    { "LDXR", LOP_LDXR, 0, false, AMC_BASE }, { "LDXRB", LOP_LDXR, 1, false, AMC_BASE },
    { "LDXRH", LOP_LDXR, 2, false, AMC_BASE },
    { "LDAXR", LOP_LDXR, 0, false, AMC_BASE }, { "LDAXRB", LOP_LDXR, 1, false, AMC_BASE },
    { "LDAXRH", LOP_LDXR, 2, false, AMC_BASE },
};

/* Register width rules of a load/store of size bytes into/from rt (sf):
 * B/H: W, or X for the sign-extending loads; LDRSW: X; plain: either. */
static bool ldst_width_ok(const struct ldst *d, uint8_t sf)
{
    if (!d->size) return true;
    if (d->size == 4) return sf;                   /* LDRSW / LDURSW / LDAPURSW */
    return d->sext || !sf;
}

/* Decode one instruction. Returns 0, -1 malformed (error), 1 unsupported
 * (reason in why). Branch/ADR targets are left as label names in *lbl. */
int lit_decode(const char *text, struct lit_insn *in, char *lbl, char *why, size_t whylen)
{
    char mn[LIT_NAME];
    size_t i = 0;
    while (text[i] && !isspace((unsigned char)text[i]) && i + 1 < sizeof(mn)) {
        mn[i] = (char)toupper((unsigned char)text[i]);
        i++;
    }
    mn[i] = 0;
    struct ops o;
    if (split_ops(text + i, &o))
        return -1;
    memset(in, 0, sizeof(*in));
    in->rd = in->rn = in->rm = in->rs = LIT_XZR;
    in->target = -1;
    lbl[0] = 0;
    uint8_t sf, sf2;
    int cc;
#define REG(k, dst, w) (lit_reg_of(o.s[k], &(dst), &(w)) == 0)
#define UNSUP(...) do { snprintf(why, whylen, __VA_ARGS__); return 1; } while (0)

    if (!strcmp(mn, "NOP")) { in->op = LOP_NOP; return o.n ? -1 : 0; }
    if (!strcmp(mn, "ISB")) { in->op = LOP_ISB; return 0; }
    if (!strcmp(mn, "DMB") || !strcmp(mn, "DSB")) {
        in->op = mn[1] == 'M' ? LOP_DMB : LOP_DSB;
        in->bar_domain = 3;                    /* no option: SY */
        in->bar_types = 3;
        if (o.n > 1) return -1;
        if (o.n == 1) {
            /* Arm ARM C6.2.81 DMB: option -> CRm = domain:types */
            static const struct { const char *n; uint8_t dom, ty; } opt[] = {
                { "SY", 3, 3 }, { "ST", 3, 2 }, { "LD", 3, 1 }, { "ISH", 2, 3 },
                { "ISHST", 2, 2 }, { "ISHLD", 2, 1 }, { "NSH", 1, 3 }, { "NSHST", 1, 2 },
                { "NSHLD", 1, 1 }, { "OSH", 0, 3 }, { "OSHST", 0, 2 }, { "OSHLD", 0, 1 } };
            bool ok = false;
            for (unsigned k = 0; k < sizeof(opt) / sizeof(opt[0]); k++)
                if (!strcasecmp(o.s[0], opt[k].n)) {
                    ok = true;
                    in->bar_domain = opt[k].dom;
                    in->bar_types = opt[k].ty;
                }
            if (!ok) return -1;
        }
        return 0;
    }
    if (!strcmp(mn, "ERET")) { in->op = LOP_ERET; return o.n ? -1 : 0; }
    if (!strcmp(mn, "TLBI")) {
        in->op = LOP_TLBI;
        if (o.n < 1 || o.n > 2) return -1;
        if (parse_tlbi(o.s[0], in)) UNSUP("TLBI %s", o.s[0]);
        if (in->tlbi_xt != (o.n == 2)) return -1;
        if (o.n == 2 && (!REG(1, in->rn, sf) || !sf)) return -1;
        return 0;
    }
    if (!strcmp(mn, "MSR")) {
        if (o.n != 2) return -1;
        if (strcasecmp(o.s[0], "ELR_EL1")) UNSUP("MSR %s", o.s[0]);
        if (!REG(1, in->rn, sf) || !sf) return -1;
        in->op = LOP_MSR_ELR;
        return 0;
    }
    if (!strcmp(mn, "MRS")) {
        if (o.n != 2) return -1;
        if (strcasecmp(o.s[1], "ELR_EL1")) UNSUP("MRS %s", o.s[1]);
        if (!REG(0, in->rd, sf) || !sf) return -1;
        in->op = LOP_MRS_ELR;
        return 0;
    }
    if (!strcmp(mn, "MOV")) {
        if (o.n != 2 || !REG(0, in->rd, in->sf)) return -1;
        if (REG(1, in->rn, sf)) { in->op = LOP_MOVR; return 0; }
        if (parse_imm(o.s[1], &in->imm)) return -1;
        in->op = LOP_MOVI;
        return 0;
    }
    /* MOVZ / MOVN / MOVK Rd, #imm16 {, LSL #0|16|32|48} */
    if (!strcmp(mn, "MOVZ") || !strcmp(mn, "MOVN") || !strcmp(mn, "MOVK")) {
        unsigned amt = 0;
        if ((o.n != 2 && o.n != 3) || !REG(0, in->rd, in->sf) || in->rd == LIT_XZR ||
            parse_imm(o.s[1], &in->imm) || in->imm < 0 || in->imm > 0xffff) return -1;
        if (o.n == 3 && parse_shift(o.s[2], &amt) != SH_LSL) return -1;
        if ((amt & 15) || amt >= (in->sf ? 64u : 32u)) return -1;
        uint64_t m = in->sf ? ~0ull : 0xffffffffull;
        if (mn[3] == 'K') { in->op = LOP_MOVK; in->shamt = (uint8_t)amt; return 0; }
        in->op = LOP_MOVI;
        in->imm = (int64_t)((mn[3] == 'N' ? ~((uint64_t)in->imm << amt) : (uint64_t)in->imm << amt) & m);
        return 0;
    }
    /* MVN Rd, Rm{, shift}: ORN Rd, ZR, Rm; NEG(S) Rd, Rm{, shift}: SUB(S) Rd, ZR, Rm */
    if (!strcmp(mn, "MVN") || !strcmp(mn, "NEG") || !strcmp(mn, "NEGS")) {
        bool neg = mn[0] == 'N';
        if ((o.n != 2 && o.n != 3) || !REG(0, in->rd, in->sf) || !REG(1, in->rm, sf) || sf != in->sf) return -1;
        in->op = LOP_ALU;
        in->sub = neg ? ALU_SUB : ALU_ORN;
        in->setflags = !strcmp(mn, "NEGS");
        in->rn = LIT_XZR;
        if (parse_op2(&o, 1, in, false, !neg) || in->use_imm) return -1;
        return 0;
    }
    /* ALU: Rd, Rn, op2 */
    static const struct { const char *m; enum lit_alu a; bool flags, arith, logic; } alus[] = {
        { "ADD", ALU_ADD, false, true, false }, { "ADDS", ALU_ADD, true, true, false },
        { "SUB", ALU_SUB, false, true, false }, { "SUBS", ALU_SUB, true, true, false },
        { "AND", ALU_AND, false, false, true }, { "ANDS", ALU_AND, true, false, true },
        { "ORR", ALU_ORR, false, false, true }, { "EOR", ALU_EOR, false, false, true },
        { "BIC", ALU_BIC, false, false, true }, { "BICS", ALU_BIC, true, false, true },
        { "ORN", ALU_ORN, false, false, true }, { "EON", ALU_EON, false, false, true },
        { "LSL", ALU_LSL, false, false, false }, { "LSR", ALU_LSR, false, false, false },
        { "ASR", ALU_ASR, false, false, false }, { "ROR", ALU_ROR, false, false, false },
        { "LSLV", ALU_LSL, false, false, false }, { "LSRV", ALU_LSR, false, false, false },
        { "ASRV", ALU_ASR, false, false, false }, { "RORV", ALU_ROR, false, false, false },
        { "MUL", ALU_MUL, false, false, false },
    };
    for (unsigned k = 0; k < sizeof(alus) / sizeof(alus[0]); k++) {
        if (strcmp(mn, alus[k].m)) continue;
        if (o.n < 3 || !REG(0, in->rd, in->sf) || !REG(1, in->rn, sf)) return -1;
        in->op = LOP_ALU;
        in->sub = (uint8_t)alus[k].a;
        in->setflags = alus[k].flags;
        if (!alus[k].arith && !alus[k].logic) {
            /* shifts (by #imm or by a register, the amount modulo the
             * width) and MUL: no shifted operand */
            if (o.n != 3) return -1;
            if (REG(2, in->rm, sf)) return 0;
            if (alus[k].a == ALU_MUL || mn[3] == 'V' || parse_imm(o.s[2], &in->imm) || in->imm < 0 ||
                in->imm >= (in->sf ? 64 : 32)) return -1;
            in->use_imm = true;
            return 0;
        }
        if (parse_op2(&o, 2, in, alus[k].arith, alus[k].logic)) return -1;
        return 0;
    }
    /* compare and test: SUBS / ADDS / ANDS into the zero register */
    if (!strcmp(mn, "CMP") || !strcmp(mn, "CMN") || !strcmp(mn, "TST")) {
        if (o.n < 2 || !REG(0, in->rn, in->sf)) return -1;
        if (!strcmp(mn, "CMP") && o.n == 2) {        /* as before: LOP_CMP */
            in->op = LOP_CMP;
            if (REG(1, in->rm, sf)) return 0;
            if (parse_imm(o.s[1], &in->imm)) return -1;
            in->use_imm = true;
            return 0;
        }
        in->op = LOP_ALU;
        in->sub = mn[0] == 'T' ? ALU_AND : mn[2] == 'N' ? ALU_ADD : ALU_SUB;
        in->setflags = true;
        in->rd = LIT_XZR;
        return parse_op2(&o, 1, in, mn[0] != 'T', mn[0] == 'T');
    }
    if (!strcmp(mn, "CSEL") || !strcmp(mn, "CSINC") || !strcmp(mn, "CSINV") || !strcmp(mn, "CSNEG")) {
        if (o.n != 4 || !REG(0, in->rd, in->sf) || !REG(1, in->rn, sf) || !REG(2, in->rm, sf2) ||
            (cc = cond_of(o.s[3])) < 0) return -1;
        if (mn[2] != 'E' && (sf != in->sf || sf2 != in->sf)) return -1;
        in->op = mn[2] == 'E' ? LOP_CSEL : mn[3] == 'N' ? (mn[4] == 'C' ? LOP_CSINC : LOP_CSINV) : LOP_CSNEG;
        in->sub = (uint8_t)cc;
        return 0;
    }
    if (!strcmp(mn, "CSET")) {
        if (o.n != 2 || !REG(0, in->rd, in->sf) || (cc = cond_of(o.s[1])) < 0) return -1;
        in->op = LOP_CSET; in->sub = (uint8_t)cc;
        return 0;
    }
    /* CSETM Rd, cc = CSINV Rd, ZR, ZR, !cc; CINC/CINV/CNEG Rd, Rn, cc =
     * CSINC/CSINV/CSNEG Rd, Rn, Rn, !cc (AL and NV are not allowed) */
    if (!strcmp(mn, "CSETM") || !strcmp(mn, "CINC") || !strcmp(mn, "CINV") || !strcmp(mn, "CNEG")) {
        bool setm = mn[1] == 'S';
        if (o.n != (setm ? 2u : 3u) || !REG(0, in->rd, in->sf)) return -1;
        if (!setm && (!REG(1, in->rn, sf) || sf != in->sf)) return -1;
        if ((cc = cond_of(o.s[setm ? 1 : 2])) < 0 || cc >= 14) return -1;
        in->rm = in->rn;
        in->op = (setm || mn[3] == 'V') ? LOP_CSINV : mn[3] == 'C' ? LOP_CSINC : LOP_CSNEG;
        in->sub = (uint8_t)(cc ^ 1);
        return 0;
    }
    /* UBFX / SBFX Rd, Rn, #lsb, #width and the extend aliases */
    if (!strcmp(mn, "UBFX") || !strcmp(mn, "SBFX")) {
        int64_t lsb, width;
        if (o.n != 4 || !REG(0, in->rd, in->sf) || !REG(1, in->rn, sf) || sf != in->sf ||
            parse_imm(o.s[2], &lsb) || parse_imm(o.s[3], &width)) return -1;
        unsigned w = in->sf ? 64 : 32;
        if (lsb < 0 || width < 1 || (uint64_t)lsb + (uint64_t)width > w) return -1;
        in->op = LOP_BFX;
        in->sub = mn[0] == 'S';
        in->lsb = (uint8_t)lsb;
        in->width = (uint8_t)width;
        return 0;
    }
    if (!strcmp(mn, "UXTB") || !strcmp(mn, "UXTH") || !strcmp(mn, "SXTB") || !strcmp(mn, "SXTH") ||
        !strcmp(mn, "SXTW")) {
        if (o.n != 2 || !REG(0, in->rd, in->sf) || !REG(1, in->rn, sf) || sf) return -1;
        if ((mn[0] == 'U' || mn[3] == 'W') && in->sf != (mn[3] == 'W')) return -1;   /* UXTB/H: W; SXTW: X */
        in->op = LOP_BFX;
        in->sub = mn[0] == 'S';
        in->width = mn[3] == 'B' ? 8 : mn[3] == 'H' ? 16 : 32;
        return 0;
    }
    if (!strcmp(mn, "B") || !strncmp(mn, "B.", 2)) {
        if (o.n != 1) return -1;
        if (mn[1] == '.') {
            cc = cond_of(mn + 2);
            if (cc < 0) return -1;
            in->op = LOP_BCOND; in->sub = (uint8_t)cc;
        } else
            in->op = LOP_B;
        snprintf(lbl, LIT_NAME, "%s", o.s[0]);
        return 0;
    }
    if (!strcmp(mn, "CBZ") || !strcmp(mn, "CBNZ")) {
        if (o.n != 2 || !REG(0, in->rn, in->sf)) return -1;
        in->op = mn[2] == 'Z' ? LOP_CBZ : LOP_CBNZ;
        snprintf(lbl, LIT_NAME, "%s", o.s[1]);
        return 0;
    }
    if (!strcmp(mn, "TBZ") || !strcmp(mn, "TBNZ")) {
        if (o.n != 3 || !REG(0, in->rn, in->sf) || parse_imm(o.s[1], &in->imm) || in->imm < 0 ||
            in->imm >= (in->sf ? 64 : 32)) return -1;
        in->op = mn[2] == 'Z' ? LOP_TBZ : LOP_TBNZ;
        snprintf(lbl, LIT_NAME, "%s", o.s[2]);
        return 0;
    }
    if (!strcmp(mn, "ADR")) {
        if (o.n != 2 || !REG(0, in->rd, sf) || !sf) return -1;
        in->op = LOP_ADR;
        snprintf(lbl, LIT_NAME, "%s", o.s[1]);
        return 0;
    }
    for (unsigned k = 0; k < sizeof(ldsts) / sizeof(ldsts[0]); k++) {
        const struct ldst *d = &ldsts[k];
        if (strcmp(mn, d->m)) continue;
        if ((o.n != 2 && o.n != 3) || !REG(0, in->rd, in->sf) || !ldst_width_ok(d, in->sf)) return -1;
        in->size = d->size;
        in->sext = d->sext;
        unsigned size = lit_insn_size(in);
        if (parse_mem(o.s[1], in, size)) {
            if (o.s[1][0] == '[') UNSUP("addressing mode %s", o.s[1]);
            return -1;
        }
        if (o.n == 3) {                              /* post-index: [Xn], #imm */
            if (in->amode != AM_BASE || strchr(o.s[1], '!') || parse_imm(o.s[2], &in->imm)) return -1;
            in->amode = AM_POST;
        }
        bool ok = d->amc == AMC_ANY || in->amode == AM_BASE || (in->amode == AM_IMM && (d->amc == AMC_IMM || !in->imm));
        if (!ok) return -1;
        if (d->amc == AMC_BASE) in->amode = AM_BASE;  /* [Xn,#0] */
        in->op = d->op;
        in->acq = !strncmp(d->m, "LDAR", 4) || !strncmp(d->m, "LDAX", 4);
        in->acq_pc = !strncmp(d->m, "LDAP", 4);
        in->rel = !strncmp(d->m, "STL", 3);
        if (in->op == LOP_STR) { in->rs = in->rd; in->rd = LIT_XZR; }
        /* writeback into the register transferred: CONSTRAINED UNPREDICTABLE */
        if ((in->amode == AM_PRE || in->amode == AM_POST) &&
            in->rn == (in->op == LOP_STR ? in->rs : in->rd) && in->rn != LIT_XZR)
            UNSUP("writeback into the transfer register (%s)", text);
        return 0;
    }
    /* STXR / STLXR {B,H} Ws, Rt, [Xn] */
    if (!strncmp(mn, "STXR", 4) || !strncmp(mn, "STLXR", 5)) {
        const char *sz = mn + (mn[2] == 'L' ? 5 : 4);
        if (*sz && strcmp(sz, "B") && strcmp(sz, "H")) UNSUP("instruction %s", mn);
        if (o.n != 3 || !REG(0, in->rd, sf) || sf || !REG(1, in->rs, in->sf)) return -1;
        if (*sz && in->sf) return -1;
        in->size = *sz == 'B' ? 1 : *sz == 'H' ? 2 : 0;
        if (parse_mem(o.s[2], in, lit_insn_size(in)) ||
            !(in->amode == AM_BASE || (in->amode == AM_IMM && !in->imm))) return -1;
        in->amode = AM_BASE;
        in->op = LOP_STXR;
        in->rel = mn[2] == 'L';
        return 0;
    }
    /* LSE: SWP, CAS, LD<op>, ST<op> with A/L/AL ordering and B/H size suffixes */
    {
        const char *base = NULL, *rest = NULL;
        static const char *bases[] = { "SWP", "CAS", "LDADD", "LDCLR", "LDSET", "LDEOR",
                                       "STADD", "STCLR", "STSET", "STEOR" };
        static const char *sfx[] = { "", "A", "L", "AL", "B", "AB", "LB", "ALB", "H", "AH", "LH", "ALH" };
        for (unsigned k = 0; k < sizeof(bases) / sizeof(bases[0]); k++) {
            size_t n = strlen(bases[k]);
            if (strncmp(mn, bases[k], n)) continue;
            for (unsigned j = 0; j < sizeof(sfx) / sizeof(sfx[0]); j++)
                if (!strcmp(mn + n, sfx[j])) { base = bases[k]; rest = mn + n; }
        }
        if (base) {
            bool st = base[0] == 'S' && base[1] == 'T';
            size_t rl = strlen(rest);
            char szc = rl && (rest[rl - 1] == 'B' || rest[rl - 1] == 'H') ? rest[rl - 1] : 0;
            if (st) {
                if (o.n != 2 || !REG(0, in->rs, in->sf)) return -1;
                in->size = szc == 'B' ? 1 : szc == 'H' ? 2 : 0;
                if (parse_mem(o.s[1], in, lit_insn_size(in)) ||
                    !(in->amode == AM_BASE || (in->amode == AM_IMM && !in->imm))) return -1;
                in->no_dest = true;
            } else {
                if (o.n != 3 || !REG(0, in->rs, in->sf) || !REG(1, in->rd, sf2) || sf2 != in->sf) return -1;
                in->size = szc == 'B' ? 1 : szc == 'H' ? 2 : 0;
                if (parse_mem(o.s[2], in, lit_insn_size(in)) ||
                    !(in->amode == AM_BASE || (in->amode == AM_IMM && !in->imm))) return -1;
            }
            if (szc && in->sf) return -1;
            in->amode = AM_BASE;
            /* A: acquire (not for the ST<op> forms, which discard what they
             * read), L: release (Arm ARM C6.2 SWP, CAS, LD<op>) */
            in->acq = strchr(rest, 'A') != NULL && !st;
            in->rel = strchr(rest, 'L') != NULL;
            if (!strcmp(base, "SWP")) in->op = LOP_SWP;
            else if (!strcmp(base, "CAS")) in->op = LOP_CAS;
            else {
                in->op = LOP_LDOP;
                const char *x = base + 2;
                in->sub = !strcmp(x, "ADD") ? LD_ADD : !strcmp(x, "CLR") ? LD_CLR
                        : !strcmp(x, "SET") ? LD_SET : LD_EOR;
            }
            return 0;
        }
    }
    UNSUP("instruction %s", mn);
#undef REG
#undef UNSUP
}
