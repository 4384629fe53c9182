/*
 * litmus/parse.c - reader for herd's AArch64 `.litmus` format with the VMSA
 * extensions used by the aarch64-VMSA catalogue.
 *
 * Reads: the "AArch64 NAME" line; header keys TTHM, Variant, EL0 (and
 * ignorable keys such as Hash); the init section (typed or untyped
 * locations, registers, PTE(x)/[PTE(x)]/pte_x/TTD(x), PA(x)/phy_x,
 * descriptor literals, &x); the thread table (Pn and fault handlers
 * Pn.F, labels); locations[...]; exists / ~exists / forall with
 * fault(Pn[:L],x[,MMU:Type]) atoms, /\, \/, ~, not.
 * Leaves out (reported as unsupported, never guessed): other
 * architectures, EL0 threads, filter clauses, instructions outside the
 * subset in litmus.h, descriptor fields other than oa/valid/af/db/dbm/el0.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "litmus/litmus.h"
#include "mmu/mmu.h"

/* ---- Address space of a test (see README.md) --------------------------- */
#define LIT_VA_BASE   0x40000000ull   /* L1 index 1, L2 index 0, L3 index = loc */
#define LIT_PA_BASE   0x00100000ull
#define LIT_L3_PA     0x00003000ull   /* the leaf table: PTE(x) lives here */

uint64_t lit_va(unsigned loc) { return LIT_VA_BASE + ((uint64_t)loc << 12); }
uint64_t lit_pa(unsigned loc) { return LIT_PA_BASE + ((uint64_t)loc << 12); }
uint64_t lit_pte_addr(unsigned loc) { return LIT_L3_PA + 8ull * loc; }

/* herd's descriptor fields onto the VMSAv8-64 page descriptor (D8.3):
 * valid = bit 0 (bit 1 always set: a level-3 page when valid), af = AF,
 * db = dirty = NOT AP[2], dbm = DBM, el0 = AP[1]; Normal WB (AttrIndx 0),
 * Inner Shareable. */
uint64_t lit_desc_encode(unsigned oa_loc, bool valid, bool af, bool db, bool dbm, bool el0)
{
    uint64_t d = (lit_pa(oa_loc) & MMU_DESC_OA_MASK) | MMU_DESC_TABLE | MMU_SH_INNER |
                 MMU_S1_ATTRINDX(0);
    if (valid) d |= MMU_DESC_VALID;
    if (af) d |= MMU_AF;
    if (!db) d |= MMU_S1_AP_RO;
    if (dbm) d |= MMU_DBM;
    if (el0) d |= MMU_S1_AP_EL0;
    return d;
}

/* ---- Parse context ------------------------------------------------------ */
struct pctx {
    const char *path;
    unsigned line;
    char *err;
    size_t errlen;
    struct lit_test *t;
};

static int fail(struct pctx *c, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->err, c->errlen, "%s:%u: ", c->path, c->line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void unsup(struct pctx *c, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (c->t->unsupported[0])
        return;
    n = snprintf(c->t->unsupported, sizeof(c->t->unsupported), "line %u: ", c->line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof(c->t->unsupported))
        vsnprintf(c->t->unsupported + n, sizeof(c->t->unsupported) - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- A small lexer over one string ------------------------------------- */
enum tk { T_END, T_ID, T_NUM, T_STR, T_PUNCT };
struct lex {
    const char *s;
    size_t i;
    enum tk k;
    char text[LIT_NAME * 2];
    long long num;
    char p;                  /* punct char; 'A' for /\, 'O' for \/ */
};

static void lnext(struct lex *l)
{
    const char *s = l->s;
    while (s[l->i] && isspace((unsigned char)s[l->i]))
        l->i++;
    l->text[0] = 0;
    if (!s[l->i]) { l->k = T_END; return; }
    char ch = s[l->i];
    if (isalpha((unsigned char)ch) || ch == '_') {
        size_t n = 0;
        while (isalnum((unsigned char)s[l->i]) || s[l->i] == '_' || s[l->i] == '.') {
            if (n + 1 < sizeof(l->text)) l->text[n++] = s[l->i];
            l->i++;
        }
        l->text[n] = 0;
        l->k = T_ID;
        return;
    }
    if (isdigit((unsigned char)ch) || (ch == '-' && isdigit((unsigned char)s[l->i + 1]))) {
        char *end;
        errno = 0;
        l->num = strtoll(s + l->i, &end, 0);
        if (errno) { /* too large for signed: take it unsigned */
            errno = 0;
            l->num = (long long)strtoull(s + l->i, &end, 0);
        }
        l->i = (size_t)(end - s);
        l->k = T_NUM;
        return;
    }
    if (ch == '"') {
        size_t n = 0;
        l->i++;
        while (s[l->i] && s[l->i] != '"') {
            if (n + 1 < sizeof(l->text)) l->text[n++] = s[l->i];
            l->i++;
        }
        if (s[l->i] == '"') l->i++;
        l->text[n] = 0;
        l->k = T_STR;
        return;
    }
    if (ch == '/' && s[l->i + 1] == '\\') { l->i += 2; l->k = T_PUNCT; l->p = 'A'; return; }
    if (ch == '\\' && s[l->i + 1] == '/') { l->i += 2; l->k = T_PUNCT; l->p = 'O'; return; }
    l->i++;
    l->k = T_PUNCT;
    l->p = ch;
}

static void lex_init(struct lex *l, const char *s) { l->s = s; l->i = 0; lnext(l); }
static bool is_p(const struct lex *l, char p) { return l->k == T_PUNCT && l->p == p; }
static bool is_id(const struct lex *l, const char *id) { return l->k == T_ID && !strcmp(l->text, id); }
static bool is_idc(const struct lex *l, const char *id) { return l->k == T_ID && !strcasecmp(l->text, id); }

/* ---- Locations ---------------------------------------------------------- */
static int loc_index(struct pctx *c, const char *name)
{
    struct lit_test *t = c->t;
    for (unsigned i = 0; i < t->nlocs; i++)
        if (!strcmp(t->loc[i].name, name))
            return (int)i;
    if (strlen(name) >= LIT_NAME) {
        unsup(c, "location name too long");
        return -1;
    }
    if (t->nlocs >= LIT_MAX_LOCS) {
        unsup(c, "more than %d locations", LIT_MAX_LOCS);
        return -1;
    }
    unsigned i = t->nlocs++;
    memcpy(t->loc[i].name, name, strlen(name) + 1);
    t->loc[i].init = 0;
    t->loc[i].pte = lit_desc_encode(i, true, true, true, false, true);
    return (int)i;
}

/* Location expressions: x | pte_x | PTE(x) | TTD(x) | phy_x | PA(x).
 * *what: 0 location, 1 its PTE, 2 its physical address. Returns loc or -1
 * (not a location expression: cursor unchanged). */
static int parse_locexpr(struct pctx *c, struct lex *l, int *what)
{
    if (l->k != T_ID)
        return -1;
    if (is_id(l, "PTE") || is_id(l, "TTD") || is_id(l, "PA")) {
        int w = is_id(l, "PA") ? 2 : 1;
        lnext(l);
        if (!is_p(l, '('))
            return -2;
        lnext(l);
        if (l->k != T_ID)
            return -2;
        int li = loc_index(c, l->text);
        lnext(l);
        if (!is_p(l, ')'))
            return -2;
        lnext(l);
        *what = w;
        return li;
    }
    if (!strncmp(l->text, "pte_", 4) && l->text[4]) {
        int li = loc_index(c, l->text + 4);
        lnext(l);
        *what = 1;
        return li;
    }
    if (!strncmp(l->text, "phy_", 4) && l->text[4]) {
        int li = loc_index(c, l->text + 4);
        lnext(l);
        *what = 2;
        return li;
    }
    int li = loc_index(c, l->text);
    lnext(l);
    *what = 0;
    return li;
}

/* Descriptor literal "(oa:PA(x), valid:1, af:0, db:1, dbm:0, el0:1)" after
 * the '(' was seen. def_oa: default output address (-1: none). */
static int parse_pteval(struct pctx *c, struct lex *l, int def_oa, uint64_t *out)
{
    int oa = def_oa;
    int valid = 1, af = 1, db = 1, dbm = 0, el0 = 1;
    while (!is_p(l, ')')) {
        char field[LIT_NAME * 2];
        if (l->k != T_ID)
            return fail(c, "descriptor literal: expected a field name");
        snprintf(field, sizeof(field), "%s", l->text);
        lnext(l);
        if (!is_p(l, ':'))
            return fail(c, "descriptor literal: expected ':' after '%s'", field);
        lnext(l);
        if (!strcmp(field, "oa")) {
            int what = 0, li = parse_locexpr(c, l, &what);
            if (li < -1)
                return fail(c, "descriptor literal: bad output address");
            if (li < 0 || what != 2) {
                unsup(c, "descriptor oa that is not PA(x)/phy_x");
                li = li < 0 ? 0 : li;
            }
            oa = li;
        } else {
            int *f = !strcmp(field, "valid") ? &valid : !strcmp(field, "af") ? &af
                   : !strcmp(field, "db") ? &db : !strcmp(field, "dbm") ? &dbm
                   : !strcmp(field, "el0") ? &el0 : NULL;
            if (!f) {
                unsup(c, "descriptor field '%s'", field);
                /* skip its value */
                if (is_p(l, '(')) {
                    int depth = 0;
                    do {
                        if (is_p(l, '(')) depth++;
                        if (is_p(l, ')')) depth--;
                        lnext(l);
                    } while (depth > 0 && l->k != T_END);
                } else
                    lnext(l);
            } else {
                if (l->k != T_NUM || (l->num != 0 && l->num != 1))
                    return fail(c, "descriptor literal: %s must be 0 or 1", field);
                *f = (int)l->num;
                lnext(l);
            }
        }
        if (is_p(l, ','))
            lnext(l);
        else if (!is_p(l, ')'))
            return fail(c, "descriptor literal: expected ',' or ')'");
    }
    lnext(l);
    if (oa < 0) {
        unsup(c, "descriptor literal without oa outside a PTE");
        oa = 0;
    }
    *out = lit_desc_encode((unsigned)oa, valid, af, db, dbm, el0);
    return 0;
}

/* Register name: X0-X30, W0-W30, XZR, WZR. Returns 0 and sets *r, *sf. */
static int reg_of(const char *s, uint8_t *r, uint8_t *sf)
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

static int label_find(const struct lit_thread *th, const char *name)
{
    for (unsigned i = 0; i < th->nlabels; i++)
        if (!strcmp(th->label[i].name, name))
            return th->label[i].index;
    return -1;
}

/* Code address of instruction i of thread p (ADR, ELR_EL1, label:"P:L"). */
static uint64_t code_addr(unsigned p, int i) { return 0x800000ull + ((uint64_t)p << 16) + 4ull * (unsigned)i; }

/* "Pn" or "n" as a thread number */
static int proc_of(const char *s, unsigned nthreads)
{
    if (s[0] == 'P' || s[0] == 'p')
        s++;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    char *end;
    long n = strtol(s, &end, 10);
    if (*end || n < 0 || (unsigned long)n >= nthreads)
        return -1;
    return (int)n;
}

/* Values in init and conditions. ctx_loc: default oa for descriptor
 * literals (-1 none). */
static int parse_value(struct pctx *c, struct lex *l, int ctx_loc, uint64_t *v)
{
    if (l->k == T_NUM) {
        *v = (uint64_t)l->num;
        lnext(l);
        return 0;
    }
    if (is_p(l, '(')) {
        lnext(l);
        return parse_pteval(c, l, ctx_loc, v);
    }
    if (is_p(l, '&')) {
        lnext(l);
        if (l->k != T_ID)
            return fail(c, "expected a location after '&'");
        int li = loc_index(c, l->text);
        lnext(l);
        *v = li < 0 ? 0 : lit_va((unsigned)li);
        return 0;
    }
    if (is_id(l, "label")) {
        lnext(l);
        if (!is_p(l, ':'))
            return fail(c, "expected ':' after label");
        lnext(l);
        if (l->k != T_STR)
            return fail(c, "expected \"Pn:L\" after label:");
        char buf[LIT_NAME * 2];
        snprintf(buf, sizeof(buf), "%s", l->text);
        lnext(l);
        char *colon = strchr(buf, ':');
        if (!colon)
            return fail(c, "label value must be \"Pn:L\"");
        *colon = 0;
        int p = proc_of(buf, c->t->nthreads);
        int idx = p < 0 ? -1 : label_find(&c->t->th[p], colon + 1);
        if (idx < 0) {
            unsup(c, "label value %s:%s not found in the code", buf, colon + 1);
            *v = 0;
            return 0;
        }
        *v = code_addr((unsigned)p, idx);
        return 0;
    }
    int what = 0, li = parse_locexpr(c, l, &what);
    if (li == -1 && l->k != T_ID)
        return fail(c, "expected a value");
    if (li < -1)
        return fail(c, "malformed location expression");
    if (li < 0) { *v = 0; return 0; }
    *v = what == 0 ? lit_va((unsigned)li) : what == 1 ? lit_pte_addr((unsigned)li) : lit_pa((unsigned)li);
    return 0;
}

/* ---- Init section -------------------------------------------------------- */
static bool is_type_name(const char *s)
{
    size_t n = strlen(s);
    return !strcmp(s, "int") || !strcmp(s, "long") || !strcmp(s, "char") || !strcmp(s, "short") ||
           !strcmp(s, "unsigned") || !strcmp(s, "signed") || (n > 2 && !strcmp(s + n - 2, "_t"));
}

static int parse_init_item(struct pctx *c, const char *item)
{
    struct lex l;
    lex_init(&l, item);
    if (l.k == T_END)
        return 0;
    while (l.k == T_ID && is_type_name(l.text)) {
        struct lex save = l;
        lnext(&l);
        if (l.k == T_END || is_p(&l, '=')) { l = save; break; }   /* a location named like a type */
    }
    if (is_p(&l, '*'))
        lnext(&l);
    /* register: N:Xr */
    if (l.k == T_NUM || (l.k == T_ID && (l.text[0] == 'P') && isdigit((unsigned char)l.text[1]))) {
        int p;
        if (l.k == T_NUM)
            p = (l.num >= 0 && (unsigned long long)l.num < c->t->nthreads) ? (int)l.num : -1;
        else
            p = proc_of(l.text, c->t->nthreads);
        lnext(&l);
        if (!is_p(&l, ':'))
            return fail(c, "init: expected ':' after the thread number");
        lnext(&l);
        uint8_t r, sf;
        if (l.k != T_ID || reg_of(l.text, &r, &sf) || r == LIT_XZR)
            return fail(c, "init: bad register '%s'", l.text);
        if (p < 0)
            return fail(c, "init: no such thread");
        lnext(&l);
        uint64_t v = 0;
        if (is_p(&l, '=')) {
            lnext(&l);
            if (parse_value(c, &l, -1, &v))
                return -1;
        }
        if (l.k != T_END)
            return fail(c, "init: unexpected text after the value of a register");
        c->t->th[p].reg[r] = v;
        return 0;
    }
    bool bracket = false;
    if (is_p(&l, '[')) { bracket = true; lnext(&l); }
    int what = 0, li = parse_locexpr(c, &l, &what);
    if (!bracket && is_p(&l, '[')) {
        unsup(c, "array locations");
        return 0;
    }
    if (li < -1 || (li == -1 && c->t->unsupported[0] == 0))
        return fail(c, "init: expected a location, a register or a PTE");
    if (bracket) {
        if (!is_p(&l, ']'))
            return fail(c, "init: expected ']'");
        lnext(&l);
    }
    if (li < 0)
        return 0;
    if (what == 2)
        return fail(c, "init: cannot assign to a physical address");
    uint64_t v = 0;
    bool has = false;
    if (is_p(&l, '=')) {
        lnext(&l);
        if (what == 1 && !is_p(&l, '('))
            return fail(c, "init: a PTE takes a descriptor literal");
        if (parse_value(c, &l, li, &v))
            return -1;
        has = true;
    }
    if (l.k != T_END)
        return fail(c, "init: unexpected text '%s'", l.k == T_ID ? l.text : "");
    if (has) {
        if (what == 1)
            c->t->loc[li].pte = v;
        else
            c->t->loc[li].init = v;
    }
    return 0;
}

/* ---- Instructions ---------------------------------------------------------- */
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
    if (reg_of(o.s[0], &in->rn, &sf) || !sf || in->rn == LIT_XZR)
        return -1;
    in->amode = AM_BASE;
    if (o.n >= 2) {
        if (o.s[1][0] == '#' || isdigit((unsigned char)o.s[1][0])) {
            if (o.n != 2 || parse_imm(o.s[1], &in->imm)) return -1;
            in->amode = AM_IMM;
        } else {
            if (reg_of(o.s[1], &in->rm, &sf)) return -1;
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
static int decode(const char *text, struct lit_insn *in, char *lbl, char *why, size_t whylen)
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
#define REG(k, dst, w) (reg_of(o.s[k], &(dst), &(w)) == 0)
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

/* ---- Whole file ------------------------------------------------------------ */
static void strip_comments(char *s)
{
    int depth = 0;
    for (char *p = s; *p; p++) {
        if (p[0] == '(' && p[1] == '*') { depth++; p[0] = p[1] = ' '; p++; continue; }
        if (depth && p[0] == '*' && p[1] == ')') { depth--; p[0] = p[1] = ' '; p++; continue; }
        if (depth && *p != '\n') *p = ' ';
    }
    for (char *p = s; *p; p++) {       /* "// ..." to end of line */
        if (p[0] == '/' && p[1] == '/')
            while (*p && *p != '\n') *p++ = ' ';
        if (!*p) break;
    }
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

struct colmap { int proc; bool handler; };
struct pending { char name[LIT_NAME]; int index; bool handler; };

static int add_obs(struct lit_test *t, const struct lit_lhs *h)
{
    for (unsigned i = 0; i < t->nobs; i++)
        if (!memcmp(&t->obs[i], h, sizeof(*h)))
            return 0;
    if (t->nobs >= LIT_MAX_OBS)
        return -1;
    t->obs[t->nobs++] = *h;
    return 0;
}

/* lhs in conditions and locations[]: N:Xr | PN:Xr | x | [x] | pte_x | [PTE(x)] | PTE(x) */
static int parse_lhs(struct pctx *c, struct lex *l, struct lit_lhs *h)
{
    memset(h, 0, sizeof(*h));
    if (l->k == T_NUM || (l->k == T_ID && l->text[0] == 'P' && isdigit((unsigned char)l->text[1]))) {
        int p = l->k == T_NUM ? ((l->num >= 0 && (unsigned long long)l->num < c->t->nthreads) ? (int)l->num : -1)
                              : proc_of(l->text, c->t->nthreads);
        lnext(l);
        if (!is_p(l, ':'))
            return fail(c, "expected ':' after a thread number");
        lnext(l);
        uint8_t r, sf;
        if (p < 0)
            return fail(c, "no such thread in a condition");
        if (l->k != T_ID || reg_of(l->text, &r, &sf) || r == LIT_XZR)
            return fail(c, "bad register in a condition");
        if (!sf)
            unsup(c, "W register in a condition");
        lnext(l);
        h->kind = LHS_REG; h->proc = (uint8_t)p; h->reg = r;
        return 0;
    }
    bool br = false;
    if (is_p(l, '[')) { br = true; lnext(l); }
    int what = 0, li = parse_locexpr(c, l, &what);
    if (li < -1 || (li == -1 && !c->t->unsupported[0]))
        return fail(c, "expected a register or a location");
    if (br) {
        if (!is_p(l, ']'))
            return fail(c, "expected ']'");
        lnext(l);
    }
    if (what == 2)
        return fail(c, "a physical address is not a location");
    h->kind = what == 1 ? LHS_PTE : LHS_MEM;
    h->loc = (uint8_t)(li < 0 ? 0 : li);
    return 0;
}

static int new_node(struct pctx *c, struct lit_node **n)
{
    *n = &c->t->node[0];
    if (c->t->nnodes >= LIT_MAX_NODES)
        return fail(c, "condition too large");
    *n = &c->t->node[c->t->nnodes];
    memset(*n, 0, sizeof(**n));
    (*n)->flabel_index = -1;
    (*n)->floc = -1;
    return (int)c->t->nnodes++;
}

static int parse_or(struct pctx *c, struct lex *l);

static int parse_fault_atom(struct pctx *c, struct lex *l)
{
    struct lit_node *n;
    lnext(l);
    if (!is_p(l, '('))
        return fail(c, "expected '(' after fault");
    lnext(l);
    if (l->k != T_ID)
        return fail(c, "fault: expected Pn");
    int p = proc_of(l->text, c->t->nthreads);
    if (p < 0)
        return fail(c, "fault: no thread %s", l->text);
    lnext(l);
    int lab = -1;
    if (is_p(l, ':')) {
        lnext(l);
        if (l->k != T_ID)
            return fail(c, "fault: expected a label");
        lab = label_find(&c->t->th[p], l->text);
        if (lab < 0)
            return fail(c, "fault: no label %s in P%d", l->text, p);
        lnext(l);
    }
    int loc = -1;
    uint8_t type = LF_ANY;
    if (is_p(l, ',')) {
        lnext(l);
        int what = 0;
        loc = parse_locexpr(c, l, &what);
        if (loc < -1 || (loc == -1 && !c->t->unsupported[0]))
            return fail(c, "fault: expected a location");
        if (what != 0)
            unsup(c, "fault on a page-table entry");
        if (is_p(l, ',')) {
            lnext(l);
            char ty[LIT_NAME * 2] = "";
            while (l->k != T_END && !is_p(l, ')')) {
                if (l->k == T_ID) strncat(ty, l->text, sizeof(ty) - strlen(ty) - 1);
                else if (l->k == T_PUNCT) { char s2[2] = { l->p, 0 }; strncat(ty, s2, sizeof(ty) - strlen(ty) - 1); }
                lnext(l);
            }
            if (!strcmp(ty, "MMU:Translation")) type = LF_TRANSLATION;
            else if (!strcmp(ty, "MMU:AccessFlag")) type = LF_ACCESS_FLAG;
            else if (!strcmp(ty, "MMU:Permission")) type = LF_PERMISSION;
            else unsup(c, "fault type %s", ty);
        }
    }
    if (!is_p(l, ')'))
        return fail(c, "fault: expected ')'");
    lnext(l);
    int id = new_node(c, &n);
    if (id < 0) return -1;
    n->kind = LN_FAULT;
    n->fproc = (uint8_t)p;
    n->flabel_index = lab;
    n->floc = loc;
    n->ftype = type;
    return id;
}

static int parse_unary(struct pctx *c, struct lex *l)
{
    struct lit_node *n;
    if (is_p(l, '~') || is_id(l, "not")) {
        lnext(l);
        int a = parse_unary(c, l);
        if (a < 0) return -1;
        int id = new_node(c, &n);
        if (id < 0) return -1;
        n->kind = LN_NOT; n->a = a;
        return id;
    }
    if (is_p(l, '(')) {
        lnext(l);
        int a = parse_or(c, l);
        if (a < 0) return -1;
        if (!is_p(l, ')'))
            return fail(c, "expected ')' in the condition");
        lnext(l);
        return a;
    }
    if (is_id(l, "true") || is_id(l, "false")) {
        int id = new_node(c, &n);
        if (id < 0) return -1;
        n->kind = is_id(l, "true") ? LN_TRUE : LN_FALSE;
        lnext(l);
        return id;
    }
    if (is_idc(l, "fault"))
        return parse_fault_atom(c, l);
    struct lit_lhs h;
    if (parse_lhs(c, l, &h))
        return -1;
    bool neq = false;
    if (is_p(l, '!')) {
        neq = true;
        lnext(l);
    } else if (is_p(l, '<')) {          /* "<>" */
        lnext(l);
        if (!is_p(l, '>'))
            return fail(c, "expected '<>' or '=' in the condition");
        neq = true;
        lnext(l);
    }
    if (!neq && !is_p(l, '='))
        return fail(c, "expected '=' in the condition");
    if (is_p(l, '='))
        lnext(l);
    uint64_t v;
    if (parse_value(c, l, h.kind == LHS_PTE ? h.loc : -1, &v))
        return -1;
    if (add_obs(c->t, &h))
        unsup(c, "too many observed locations");
    int id = new_node(c, &n);
    if (id < 0) return -1;
    n->kind = LN_EQ; n->lhs = h; n->val = v;
    if (neq) {
        struct lit_node *m;
        int nid = new_node(c, &m);
        if (nid < 0) return -1;
        m->kind = LN_NOT; m->a = id;
        return nid;
    }
    return id;
}

static int parse_and(struct pctx *c, struct lex *l)
{
    int a = parse_unary(c, l);
    while (a >= 0 && is_p(l, 'A')) {
        lnext(l);
        int b = parse_unary(c, l);
        if (b < 0) return -1;
        struct lit_node *n;
        int id = new_node(c, &n);
        if (id < 0) return -1;
        n->kind = LN_AND; n->a = a; n->b = b;
        a = id;
    }
    return a;
}

static int parse_or(struct pctx *c, struct lex *l)
{
    int a = parse_and(c, l);
    while (a >= 0 && is_p(l, 'O')) {
        lnext(l);
        int b = parse_and(c, l);
        if (b < 0) return -1;
        struct lit_node *n;
        int id = new_node(c, &n);
        if (id < 0) return -1;
        n->kind = LN_OR; n->a = a; n->b = b;
        a = id;
    }
    return a;
}

/* The tail of the file: [locations [...]] quantifier prop */
static int parse_tail(struct pctx *c, const char *s)
{
    struct lex l;
    lex_init(&l, s);
    for (;;) {
        if (is_id(&l, "locations")) {
            lnext(&l);
            if (!is_p(&l, '['))
                return fail(c, "expected '[' after locations");
            lnext(&l);
            while (!is_p(&l, ']')) {
                if (l.k == T_END)
                    return fail(c, "unterminated locations[...]");
                if (is_p(&l, ';')) { lnext(&l); continue; }
                if (is_idc(&l, "fault")) {          /* faults are always shown */
                    if (parse_fault_atom(c, &l) < 0) return -1;
                    continue;
                }
                struct lit_lhs h;
                if (parse_lhs(c, &l, &h))
                    return -1;
                if (add_obs(c->t, &h))
                    unsup(c, "too many observed locations");
            }
            lnext(&l);
            continue;
        }
        if (is_id(&l, "filter")) {
            unsup(c, "filter clause");
            return 0;
        }
        break;
    }
    if (is_id(&l, "exists")) c->t->quant = LQ_EXISTS;
    else if (is_id(&l, "forall")) c->t->quant = LQ_FORALL;
    else if (is_p(&l, '~')) {
        lnext(&l);
        if (!is_id(&l, "exists"))
            return fail(c, "expected exists after '~'");
        c->t->quant = LQ_NOT_EXISTS;
    } else if (l.k == T_END) {
        /* no condition: observe only (herd reads it as "exists true") */
        struct lit_node *n;
        c->t->quant = LQ_EXISTS;
        c->t->root = new_node(c, &n);
        if (c->t->root < 0) return -1;
        n->kind = LN_TRUE;
        return 0;
    }
    else
        return fail(c, "unknown final condition '%s'", l.k == T_ID ? l.text : "?");
    lnext(&l);
    c->t->root = parse_or(c, &l);
    if (c->t->root < 0)
        return -1;
    if (l.k != T_END)
        return fail(c, "unexpected text after the final condition");
    return 0;
}

static int set_tthm(struct pctx *c, const char *v)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *tok = strtok(buf, " \t,"); tok; tok = strtok(NULL, " \t,")) {
        int p = -1;
        char *colon = strchr(tok, ':');
        const char *what = tok;
        if (colon) {
            *colon = 0;
            p = proc_of(tok, c->t->nthreads ? c->t->nthreads : LIT_MAX_THREADS);
            if (p < 0)
                return fail(c, "TTHM: bad thread '%s'", tok);
            what = colon + 1;
        }
        bool ha = !strcasecmp(what, "HA"), hd = !strcasecmp(what, "HD");
        if (!ha && !hd) {
            if (!strcasecmp(what, "SW"))
                continue;
            return fail(c, "TTHM: unknown value '%s'", what);
        }
        for (int q = 0; q < LIT_MAX_THREADS; q++)
            if (p < 0 || p == q) {
                /* herd: HD implies HA (a write of a DBM page with af:0
                 * under TTHM=HD sets both: catalogue SWP-AF-DB) */
                c->t->th[q].ha = true;
                if (hd) c->t->th[q].hd = true;
            }
    }
    return 0;
}

static int set_variant(struct pctx *c, const char *v)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *tok = strtok(buf, " \t,"); tok; tok = strtok(NULL, " \t,")) {
        if (!strcasecmp(tok, "vmsa") || !strcasecmp(tok, "kvm"))
            continue;
        if (!strcasecmp(tok, "fatal") || !strcasecmp(tok, "precise"))
            c->t->fault_mode = LFM_FATAL;
        else if (!strcasecmp(tok, "handled") || !strcasecmp(tok, "imprecise"))
            c->t->fault_mode = LFM_HANDLED;
        else if (!strcasecmp(tok, "skip") || !strcasecmp(tok, "faulttonext"))
            c->t->fault_mode = LFM_SKIP;
        else
            unsup(c, "variant %s", tok);
    }
    return 0;
}

int lit_parse(const char *path, const char *text, struct lit_test *t, char *err, size_t errlen)
{
    struct pctx c = { path, 0, err, errlen, t };
    char *buf = strdup(text ? text : "");
    int rc = -1;
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "%s", path);
    t->fault_mode = LFM_HANDLED;   /* herd's default: Fault.Handling.Handled */
    t->root = -1;
    strip_comments(buf);

    /* split into lines (in place) */
    size_t nl = 1;
    for (char *p = buf; *p; p++) nl += *p == '\n';
    char **lines = calloc(nl + 1, sizeof(char *));
    if (!lines) { free(buf); snprintf(err, errlen, "%s: out of memory", path); return -1; }
    size_t n = 0;
    for (char *p = buf, *s = buf;; p++) {
        if (*p == '\n' || !*p) {
            bool end = !*p;
            *p = 0;
            lines[n++] = s;
            s = p + 1;
            if (end) break;
        }
    }

    size_t li = 0;
#define CUR() (c.line = (unsigned)li + 1, lines[li])
    /* first non-blank line: arch and name */
    while (li < n && !*trim(lines[li])) li++;
    if (li >= n) { c.line = 1; fail(&c, "empty file"); goto out; }
    {
        char *s = trim(CUR());
        char arch[32];
        int k = 0;
        while (*s && !isspace((unsigned char)*s) && k < 31) arch[k++] = *s++;
        arch[k] = 0;
        s = trim(s);
        if (!*s) { fail(&c, "expected 'AArch64 NAME'"); goto out; }
        snprintf(t->name, sizeof(t->name), "%s", s);
        if (strcmp(arch, "AArch64"))
            unsup(&c, "architecture %s", arch);
        li++;
    }
    /* header keys up to '{' */
    char *tthm = NULL;
    for (; li < n; li++) {
        char *s = trim(CUR());
        if (!*s || *s == '"') continue;
        if (*s == '{') break;
        char *eq = strchr(s, '=');
        if (!eq) { fail(&c, "expected KEY=VALUE or '{'"); goto out; }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        if (!strcasecmp(k, "TTHM")) tthm = v;
        else if (!strcasecmp(k, "Variant")) { if (set_variant(&c, v)) goto out; }
        else if (!strcasecmp(k, "EL0")) unsup(&c, "EL0 threads (EL0=%s)", v);
        else if (!strcasecmp(k, "Hash") || !strcasecmp(k, "Com") || !strcasecmp(k, "Orig") ||
                 !strcasecmp(k, "Generator") || !strcasecmp(k, "Prefetch") || !strcasecmp(k, "Cycle") ||
                 !strcasecmp(k, "Relax") || !strcasecmp(k, "Safe") || !strcasecmp(k, "Scopes"))
            ;
        else
            unsup(&c, "header key %s", k);
    }
    if (li >= n) { fail(&c, "missing init section '{ ... }'"); goto out; }
    unsigned init_line = (unsigned)li + 1;
    /* gather the init section text (to the line holding '}') */
    size_t init_first = li, init_last = li;
    char *open = strchr(lines[li], '{');
    *open = ' ';
    char *close = NULL;
    for (int depth = 1; init_last < n; init_last++) {
        for (char *q = init_last == li ? open : lines[init_last]; *q; q++) {
            if (*q == '{') depth++;
            if (*q == '}' && --depth == 0) { close = q; break; }
        }
        if (close) break;
    }
    if (!close) { c.line = init_line; fail(&c, "unterminated init section"); goto out; }
    char *after = close + 1;
    *close = 0;

    /* thread table header: first non-blank line after '}' */
    li = init_last;
    char *hdr = trim(after);
    if (!*hdr) {
        for (li = init_last + 1; li < n && !*trim(lines[li]); li++) ;
        if (li >= n) { fail(&c, "missing thread table"); goto out; }
        hdr = trim(CUR());
    } else
        c.line = (unsigned)li + 1;
    struct colmap col[LIT_MAX_THREADS * 2];
    unsigned ncol = 0;
    {
        char *h = hdr;
        size_t hl = strlen(h);
        if (hl && h[hl - 1] == ';') h[--hl] = 0;
        for (char *cell = strtok(h, "|"); cell; cell = strtok(NULL, "|")) {
            cell = trim(cell);
            if (ncol >= LIT_MAX_THREADS * 2) { unsup(&c, "too many threads"); break; }
            bool hnd = false;
            size_t cl = strlen(cell);
            if (cl > 2 && !strcmp(cell + cl - 2, ".F")) { hnd = true; cell[cl - 2] = 0; }
            if ((cell[0] != 'P') || !isdigit((unsigned char)cell[1])) { fail(&c, "bad thread name '%s'", cell); goto out; }
            int p = atoi(cell + 1);
            if (p < 0 || p >= LIT_MAX_THREADS) { unsup(&c, "thread P%d", p); p = 0; }
            col[ncol].proc = p;
            col[ncol].handler = hnd;
            ncol++;
            if (!hnd && (unsigned)p + 1 > t->nthreads) t->nthreads = (unsigned)p + 1;
        }
        for (unsigned k = 0; k < ncol; k++)
            if (col[k].handler && (unsigned)col[k].proc >= t->nthreads) { fail(&c, "handler for a missing thread"); goto out; }
        if (!t->nthreads) { fail(&c, "no threads"); goto out; }
    }
    if (tthm) {
        unsigned save = c.line;
        if (set_tthm(&c, tthm)) goto out;
        c.line = save;
    }
    /* code rows */
    static const unsigned nmax = LIT_MAX_INSNS;
    struct lit_insn (*code)[2][LIT_MAX_INSNS] = calloc(LIT_MAX_THREADS, sizeof(*code));
    unsigned cnt[LIT_MAX_THREADS][2] = { { 0 } };
    struct pending (*plabels)[LIT_MAX_LABELS] = calloc(LIT_MAX_THREADS, sizeof(*plabels));
    unsigned npl[LIT_MAX_THREADS] = { 0 };
    char (*tgt)[2][LIT_MAX_INSNS][LIT_NAME] = calloc(LIT_MAX_THREADS, sizeof(*tgt));
    if (!code || !plabels || !tgt) { free(code); free(plabels); free(tgt); fail(&c, "out of memory"); goto out; }
    li++;
    for (; li < n; li++) {
        char *s = trim(CUR());
        if (!*s) continue;
        if (!strncmp(s, "exists", 6) || !strncmp(s, "forall", 6) || !strncmp(s, "locations", 9) ||
            !strncmp(s, "filter", 6) || s[0] == '~')
            break;
        size_t sl = strlen(s);
        if (s[sl - 1] != ';') break;      /* not a code row: the tail begins */
        s[--sl] = 0;
        unsigned k = 0;
        char *p = s;
        for (;;) {
            char *bar = strchr(p, '|');
            if (bar) *bar = 0;
            if (k < ncol) {
                char *cell = trim(p);
                int pr = col[k].proc, hn = col[k].handler;
                /* labels */
                for (;;) {
                    char *colon = strchr(cell, ':');
                    if (!colon) break;
                    char *q = cell;
                    while (q < colon && (isalnum((unsigned char)*q) || *q == '_')) q++;
                    if (q != colon || q == cell) break;
                    *colon = 0;
                    if (npl[pr] >= LIT_MAX_LABELS) { unsup(&c, "too many labels"); break; }
                    snprintf(plabels[pr][npl[pr]].name, LIT_NAME, "%s", cell);
                    plabels[pr][npl[pr]].index = (int)cnt[pr][hn];
                    plabels[pr][npl[pr]].handler = hn;
                    npl[pr]++;
                    cell = trim(colon + 1);
                }
                if (*cell) {
                    if (cnt[pr][hn] >= nmax / 2) { unsup(&c, "thread too long"); }
                    else {
                        char why[128];
                        struct lit_insn *in = &code[pr][hn][cnt[pr][hn]];
                        int r = decode(cell, in, tgt[pr][hn][cnt[pr][hn]], why, sizeof(why));
                        if (r < 0) {
                            fail(&c, "malformed instruction '%s'", cell);
                            free(code); free(plabels); free(tgt);
                            goto out;
                        }
                        if (r > 0) { unsup(&c, "%s", why); in->op = LOP_NOP; }
                        in->line = c.line;
                        cnt[pr][hn]++;
                    }
                }
            } else if (*trim(p)) {
                fail(&c, "more columns than threads");
                free(code); free(plabels); free(tgt);
                goto out;
            }
            k++;
            if (!bar) break;
            p = bar + 1;
        }
    }
    /* assemble threads: main ++ handler; resolve labels */
    for (unsigned p = 0; p < t->nthreads; p++) {
        struct lit_thread *th = &t->th[p];
        th->nmain = cnt[p][0];
        th->n = cnt[p][0] + cnt[p][1];
        th->has_handler = false;
        for (unsigned k = 0; k < ncol; k++)
            if (col[k].handler && (unsigned)col[k].proc == p) th->has_handler = true;
        memcpy(th->insn, code[p][0], cnt[p][0] * sizeof(struct lit_insn));
        memcpy(th->insn + cnt[p][0], code[p][1], cnt[p][1] * sizeof(struct lit_insn));
        for (unsigned k = 0; k < npl[p]; k++) {
            struct lit_label *lb = &th->label[th->nlabels++];
            snprintf(lb->name, sizeof(lb->name), "%s", plabels[p][k].name);
            int idx = plabels[p][k].index;
            if (plabels[p][k].handler) idx += (int)th->nmain;
            /* a label at the end of the main code or of the handler is
             * the end of the thread */
            if ((!plabels[p][k].handler && idx == (int)th->nmain) || idx >= (int)th->n)
                idx = (int)th->n;
            lb->index = idx;
        }
        for (unsigned i = 0; i < th->n; i++) {
            bool hn = i >= th->nmain;
            const char *nm = tgt[p][hn][hn ? i - th->nmain : i];
            if (!nm[0]) continue;
            int idx = label_find(th, nm);
            if (idx < 0) {
                c.line = th->insn[i].line;
                fail(&c, "undefined label '%s'", nm);
                free(code); free(plabels); free(tgt);
                goto out;
            }
            th->insn[i].target = idx;
            if (th->insn[i].op == LOP_ADR) th->insn[i].imm = (int64_t)code_addr(p, idx);
        }
    }
    free(code); free(plabels); free(tgt);

    /* init items (after labels: label:"P:L" values need them) */
    {
        for (size_t k = init_first; k <= init_last; k++) {
            c.line = (unsigned)k + 1;
            char *s = lines[k];
            for (char *item = s;;) {
                char *semi = strchr(item, ';');
                if (semi) *semi = 0;
                if (parse_init_item(&c, trim(item))) goto out;
                if (!semi) break;
                item = semi + 1;
            }
        }
    }

    /* tail: everything from li on */
    {
        size_t tl = 1;
        for (size_t k = li; k < n; k++) tl += strlen(lines[k]) + 1;
        char *tail = malloc(tl);
        if (!tail) { fail(&c, "out of memory"); goto out; }
        tail[0] = 0;
        for (size_t k = li; k < n; k++) { strcat(tail, lines[k]); strcat(tail, "\n"); }
        c.line = (unsigned)(li < n ? li + 1 : n);
        int r = parse_tail(&c, tail);
        free(tail);
        if (r) goto out;
    }
    rc = 0;
out:
    free(lines);
    free(buf);
    return rc;
#undef CUR
}

int lit_parse_file(const char *path, struct lit_test *t, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    while (s) {
        size_t r = fread(s + len, 1, cap - len - 1, f);
        len += r;
        if (len + 1 < cap) break;
        cap *= 2;
        char *ns = realloc(s, cap);
        if (!ns) { free(s); s = NULL; break; }
        s = ns;
    }
    bool ioerr = ferror(f);
    fclose(f);
    if (!s || ioerr) {
        free(s);
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    s[len] = 0;
    if (memchr(s, 0, len)) {
        free(s);
        snprintf(err, errlen, "%s:1: not a text file", path);
        return -1;
    }
    int rc = lit_parse(path, s, t, err, errlen);
    free(s);
    return rc;
}
