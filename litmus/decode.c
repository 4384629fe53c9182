/*
 * litmus/decode.c - the A64 instruction decoder of the litmus reader
 * (decode.h): mnemonics and operands of the catalogue's subset (README.md
 * "Why not Unicorn"), to struct lit_insn. Operand syntax: registers,
 * #immediates, [Xn], [Xn,#imm], [Xn,Xm], [Xn,Wm,SXTW|UXTW], condition
 * codes, TLBI operations, labels.
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
        if (n + 1 >= LIT_NAME) return -1;
        o->s[o->n][n++] = *s;
    }
    return depth ? -1 : 0;
}

static int parse_imm(const char *s, int64_t *v)
{
    if (*s == '#') s++;
    if (!*s) return -1;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 0);
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

/* "[Xn]", "[Xn,#imm]", "[Xn,Xm]", "[Xn,Wm,SXTW]" */
static int parse_mem(const char *s, struct lit_insn *in)
{
    char buf[LIT_NAME];
    size_t n = strlen(s);
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
        if (o.s[1][0] == '#' || isdigit((unsigned char)o.s[1][0])) {
            if (o.n != 2 || parse_imm(o.s[1], &in->imm)) return -1;
            in->amode = AM_IMM;
        } else {
            if (lit_reg_of(o.s[1], &in->rm, &sf)) return -1;
            if (o.n == 3) {
                if (!strcasecmp(o.s[2], "SXTW")) in->amode = AM_SXTW;
                else if (!strcasecmp(o.s[2], "UXTW")) in->amode = AM_UXTW;
                else return -1;
            } else if (!sf)
                return -1;
            else
                in->amode = AM_REG;
        }
    }
    return 0;
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
#define REG(k, dst, w) (lit_reg_of(o.s[k], &(dst), &(w)) == 0)
#define UNSUP(...) do { snprintf(why, whylen, __VA_ARGS__); return 1; } while (0)

    if (!strcmp(mn, "NOP")) { in->op = LOP_NOP; return o.n ? -1 : 0; }
    if (!strcmp(mn, "ISB")) { in->op = LOP_ISB; return 0; }
    if (!strcmp(mn, "DMB") || !strcmp(mn, "DSB")) {
        in->op = mn[1] == 'M' ? LOP_DMB : LOP_DSB;
        if (o.n > 1) return -1;
        if (o.n == 1) {
            static const char *opt[] = { "SY", "ST", "LD", "ISH", "ISHST", "ISHLD",
                                         "NSH", "NSHST", "NSHLD", "OSH", "OSHST", "OSHLD" };
            bool ok = false;
            for (unsigned k = 0; k < sizeof(opt) / sizeof(opt[0]); k++)
                ok |= !strcasecmp(o.s[0], opt[k]);
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
    static const struct { const char *m; enum lit_alu a; } alus[] = {
        { "ADD", ALU_ADD }, { "SUB", ALU_SUB }, { "AND", ALU_AND }, { "ORR", ALU_ORR },
        { "EOR", ALU_EOR }, { "BIC", ALU_BIC }, { "LSL", ALU_LSL }, { "LSR", ALU_LSR } };
    for (unsigned k = 0; k < sizeof(alus) / sizeof(alus[0]); k++) {
        if (strcmp(mn, alus[k].m)) continue;
        if (o.n != 3 || !REG(0, in->rd, in->sf) || !REG(1, in->rn, sf)) return -1;
        in->op = LOP_ALU;
        in->sub = (uint8_t)alus[k].a;
        if (REG(2, in->rm, sf)) {
            if (alus[k].a == ALU_LSL || alus[k].a == ALU_LSR) UNSUP("%s by register", mn);
            return 0;
        }
        if (parse_imm(o.s[2], &in->imm)) return -1;
        in->use_imm = true;
        return 0;
    }
    if (!strcmp(mn, "CMP")) {
        if (o.n != 2 || !REG(0, in->rn, in->sf)) return -1;
        in->op = LOP_CMP;
        if (REG(1, in->rm, sf)) return 0;
        if (parse_imm(o.s[1], &in->imm)) return -1;
        in->use_imm = true;
        return 0;
    }
    if (!strcmp(mn, "CSEL")) {
        int cc;
        if (o.n != 4 || !REG(0, in->rd, in->sf) || !REG(1, in->rn, sf) || !REG(2, in->rm, sf) ||
            (cc = cond_of(o.s[3])) < 0) return -1;
        in->op = LOP_CSEL; in->sub = (uint8_t)cc;
        return 0;
    }
    if (!strcmp(mn, "CSET")) {
        int cc;
        if (o.n != 2 || !REG(0, in->rd, in->sf) || (cc = cond_of(o.s[1])) < 0) return -1;
        in->op = LOP_CSET; in->sub = (uint8_t)cc;
        return 0;
    }
    if (!strcmp(mn, "B") || !strncmp(mn, "B.", 2)) {
        if (o.n != 1) return -1;
        if (mn[1] == '.') {
            int cc = cond_of(mn + 2);
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
    if (!strcmp(mn, "ADR")) {
        if (o.n != 2 || !REG(0, in->rd, sf) || !sf) return -1;
        in->op = LOP_ADR;
        snprintf(lbl, LIT_NAME, "%s", o.s[1]);
        return 0;
    }
    if (!strcmp(mn, "LDR") || !strcmp(mn, "LDAR") || !strcmp(mn, "LDAPR") ||
        !strcmp(mn, "STR") || !strcmp(mn, "STLR") || !strcmp(mn, "LDXR") || !strcmp(mn, "LDAXR")) {
        if (o.n != 2 || !REG(0, in->rd, in->sf)) return -1;
        if (parse_mem(o.s[1], in)) {
            if (strchr(o.s[1], '!') || o.s[1][0] == '[') UNSUP("addressing mode %s", o.s[1]);
            return -1;
        }
        in->op = mn[0] == 'S' ? LOP_STR : (!strcmp(mn, "LDXR") || !strcmp(mn, "LDAXR")) ? LOP_LDXR : LOP_LDR;
        if (in->op == LOP_STR) { in->rs = in->rd; in->rd = LIT_XZR; }
        if (in->op == LOP_LDXR && in->amode != AM_BASE) return -1;
        if ((in->op == LOP_LDR || in->op == LOP_STR) && strlen(mn) > 3 && in->amode != AM_BASE) return -1;
        return 0;
    }
    if (!strcmp(mn, "STXR") || !strcmp(mn, "STLXR")) {
        if (o.n != 3 || !REG(0, in->rd, sf) || sf || !REG(1, in->rs, in->sf)) return -1;
        if (parse_mem(o.s[2], in) || in->amode != AM_BASE) return -1;
        in->op = LOP_STXR;
        return 0;
    }
    /* LSE: SWP, CAS, LD<op>, ST<op> with A/L/AL ordering suffixes */
    {
        const char *base = NULL;
        size_t bl = 0;
        static const char *bases[] = { "SWP", "CAS", "LDADD", "LDCLR", "LDSET", "LDEOR",
                                       "STADD", "STCLR", "STSET", "STEOR" };
        for (unsigned k = 0; k < sizeof(bases) / sizeof(bases[0]); k++) {
            size_t n = strlen(bases[k]);
            if (!strncmp(mn, bases[k], n) && (!strcmp(mn + n, "") || !strcmp(mn + n, "A") ||
                                              !strcmp(mn + n, "L") || !strcmp(mn + n, "AL"))) {
                base = bases[k];
                bl = n;
            }
        }
        (void)bl;
        if (base) {
            bool st = base[0] == 'S' && base[1] == 'T';
            if (st) {
                if (o.n != 2 || !REG(0, in->rs, in->sf)) return -1;
                if (parse_mem(o.s[1], in) || in->amode != AM_BASE) return -1;
                in->no_dest = true;
            } else {
                if (o.n != 3 || !REG(0, in->rs, in->sf) || !REG(1, in->rd, sf2) || sf2 != in->sf) return -1;
                if (parse_mem(o.s[2], in) || in->amode != AM_BASE) return -1;
            }
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
