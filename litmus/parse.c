/*
 * litmus/parse.c - reader for herd's AArch64 `.litmus` format with the VMSA
 * extensions used by the aarch64-VMSA catalogue: the file's structure
 * (the "AArch64 NAME" line, header keys, the init section, the thread
 * table) and the location / value expressions. Its parts: lex.c (tokens),
 * decode.c (one instruction), cond.c (locations[...] and the final
 * condition); layout.h gives the addresses values denote.
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

#include "litmus/cond.h"
#include "litmus/decode.h"
#include "litmus/layout.h"
#include "litmus/lex.h"
#include "litmus/litmus.h"
#include "litmus/reader.h"
#include "litmus/readfile.h"

/* ---- Parse context ------------------------------------------------------ */
int lit_fail(struct lit_pctx *c, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->err, c->errlen, "%s:%u: ", c->path, c->line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

void lit_unsup(struct lit_pctx *c, const char *fmt, ...)
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

/* ---- Locations ---------------------------------------------------------- */
static int loc_index(struct lit_pctx *c, const char *name)
{
    struct lit_test *t = c->t;
    for (unsigned i = 0; i < t->nlocs; i++)
        if (!strcmp(t->loc[i].name, name))
            return (int)i;
    if (strlen(name) >= LIT_NAME) {
        lit_unsup(c, "location name too long");
        return -1;
    }
    if (t->nlocs >= LIT_MAX_LOCS) {
        lit_unsup(c, "more than %d locations", LIT_MAX_LOCS);
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
int lit_parse_locexpr(struct lit_pctx *c, struct lit_lex *l, int *what)
{
    if (l->k != TK_ID)
        return -1;
    if (lit_is_id(l, "PTE") || lit_is_id(l, "TTD") || lit_is_id(l, "PA")) {
        int w = lit_is_id(l, "PA") ? 2 : 1;
        lit_lex_next(l);
        if (!lit_is_p(l, '('))
            return -2;
        lit_lex_next(l);
        if (l->k != TK_ID)
            return -2;
        int li = loc_index(c, l->text);
        lit_lex_next(l);
        if (!lit_is_p(l, ')'))
            return -2;
        lit_lex_next(l);
        *what = w;
        return li;
    }
    if (!strncmp(l->text, "pte_", 4) && l->text[4]) {
        int li = loc_index(c, l->text + 4);
        lit_lex_next(l);
        *what = 1;
        return li;
    }
    if (!strncmp(l->text, "phy_", 4) && l->text[4]) {
        int li = loc_index(c, l->text + 4);
        lit_lex_next(l);
        *what = 2;
        return li;
    }
    int li = loc_index(c, l->text);
    lit_lex_next(l);
    *what = 0;
    return li;
}

/* Descriptor literal "(oa:PA(x), valid:1, af:0, db:1, dbm:0, el0:1)" after
 * the '(' was seen. def_oa: default output address (-1: none). */
static int parse_pteval(struct lit_pctx *c, struct lit_lex *l, int def_oa, uint64_t *out)
{
    int oa = def_oa;
    int valid = 1, af = 1, db = 1, dbm = 0, el0 = 1;
    while (!lit_is_p(l, ')')) {
        char field[LIT_NAME * 2];
        if (l->k != TK_ID)
            return lit_fail(c, "descriptor literal: expected a field name");
        snprintf(field, sizeof(field), "%s", l->text);
        lit_lex_next(l);
        if (!lit_is_p(l, ':'))
            return lit_fail(c, "descriptor literal: expected ':' after '%s'", field);
        lit_lex_next(l);
        if (!strcmp(field, "oa")) {
            int what = 0, li = lit_parse_locexpr(c, l, &what);
            if (li < -1)
                return lit_fail(c, "descriptor literal: bad output address");
            if (li < 0 || what != 2) {
                lit_unsup(c, "descriptor oa that is not PA(x)/phy_x");
                li = li < 0 ? 0 : li;
            }
            oa = li;
        } else {
            int *f = !strcmp(field, "valid") ? &valid : !strcmp(field, "af") ? &af
                   : !strcmp(field, "db") ? &db : !strcmp(field, "dbm") ? &dbm
                   : !strcmp(field, "el0") ? &el0 : NULL;
            if (!f) {
                lit_unsup(c, "descriptor field '%s'", field);
                /* skip its value */
                if (lit_is_p(l, '(')) {
                    int depth = 0;
                    do {
                        if (lit_is_p(l, '(')) depth++;
                        if (lit_is_p(l, ')')) depth--;
                        lit_lex_next(l);
                    } while (depth > 0 && l->k != TK_END);
                } else
                    lit_lex_next(l);
            } else {
                if (l->k != TK_NUM || (l->num != 0 && l->num != 1))
                    return lit_fail(c, "descriptor literal: %s must be 0 or 1", field);
                *f = (int)l->num;
                lit_lex_next(l);
            }
        }
        if (lit_is_p(l, ','))
            lit_lex_next(l);
        else if (!lit_is_p(l, ')'))
            return lit_fail(c, "descriptor literal: expected ',' or ')'");
    }
    lit_lex_next(l);
    if (oa < 0) {
        lit_unsup(c, "descriptor literal without oa outside a PTE");
        oa = 0;
    }
    *out = lit_desc_encode((unsigned)oa, valid, af, db, dbm, el0);
    return 0;
}

int lit_label_find(const struct lit_thread *th, const char *name)
{
    for (unsigned i = 0; i < th->nlabels; i++)
        if (!strcmp(th->label[i].name, name))
            return th->label[i].index;
    return -1;
}

/* "Pn" or "n" as a thread number */
int lit_proc_of(const char *s, unsigned nthreads)
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
int lit_parse_value(struct lit_pctx *c, struct lit_lex *l, int ctx_loc, uint64_t *v)
{
    if (l->k == TK_NUM) {
        if (l->overflow)
            return lit_fail(c, "integer %s out of range (more than 64 bits)", l->text);
        *v = (uint64_t)l->num;
        lit_lex_next(l);
        return 0;
    }
    if (lit_is_p(l, '(')) {
        lit_lex_next(l);
        return parse_pteval(c, l, ctx_loc, v);
    }
    if (lit_is_p(l, '&')) {
        lit_lex_next(l);
        if (l->k != TK_ID)
            return lit_fail(c, "expected a location after '&'");
        int li = loc_index(c, l->text);
        lit_lex_next(l);
        *v = li < 0 ? 0 : lit_va((unsigned)li);
        return 0;
    }
    if (lit_is_id(l, "label")) {
        lit_lex_next(l);
        if (!lit_is_p(l, ':'))
            return lit_fail(c, "expected ':' after label");
        lit_lex_next(l);
        if (l->k != TK_STR)
            return lit_fail(c, "expected \"Pn:L\" after label:");
        char buf[LIT_NAME * 2];
        snprintf(buf, sizeof(buf), "%s", l->text);
        lit_lex_next(l);
        char *colon = strchr(buf, ':');
        if (!colon)
            return lit_fail(c, "label value must be \"Pn:L\"");
        *colon = 0;
        int p = lit_proc_of(buf, c->t->nthreads);
        int idx = p < 0 ? -1 : lit_label_find(&c->t->th[p], colon + 1);
        if (idx < 0) {
            lit_unsup(c, "label value %s:%s not found in the code", buf, colon + 1);
            *v = 0;
            return 0;
        }
        *v = lit_code_addr((unsigned)p, (unsigned)idx);
        return 0;
    }
    int what = 0, li = lit_parse_locexpr(c, l, &what);
    if (li == -1 && l->k != TK_ID)
        return lit_fail(c, "expected a value");
    if (li < -1)
        return lit_fail(c, "malformed location expression");
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

static int init_item(struct lit_pctx *c, struct lit_lex *l)
{
    if (l->k == TK_END)
        return 0;
    while (l->k == TK_ID && is_type_name(l->text)) {
        struct lit_lex save = *l;
        lit_lex_next(l);
        if (l->k == TK_END || lit_is_p(l, '=')) { *l = save; break; }   /* a location named like a type */
    }
    if (lit_is_p(l, '*'))
        lit_lex_next(l);
    /* register: N:Xr */
    if (l->k == TK_NUM || (l->k == TK_ID && (l->text[0] == 'P') && isdigit((unsigned char)l->text[1]))) {
        int p;
        if (l->k == TK_NUM)
            p = (l->num >= 0 && (unsigned long long)l->num < c->t->nthreads) ? (int)l->num : -1;
        else
            p = lit_proc_of(l->text, c->t->nthreads);
        lit_lex_next(l);
        if (!lit_is_p(l, ':'))
            return lit_fail(c, "init: expected ':' after the thread number");
        lit_lex_next(l);
        uint8_t r, sf;
        if (l->k != TK_ID || lit_reg_of(l->text, &r, &sf) || r == LIT_XZR)
            return lit_fail(c, "init: bad register '%s'", l->text);
        if (p < 0)
            return lit_fail(c, "init: no such thread");
        lit_lex_next(l);
        uint64_t v = 0;
        if (lit_is_p(l, '=')) {
            lit_lex_next(l);
            if (lit_parse_value(c, l, -1, &v))
                return -1;
        }
        if (l->k != TK_END)
            return lit_fail(c, "init: unexpected text after the value of a register");
        c->t->th[p].reg[r] = v;
        return 0;
    }
    bool bracket = false;
    if (lit_is_p(l, '[')) { bracket = true; lit_lex_next(l); }
    int what = 0, li = lit_parse_locexpr(c, l, &what);
    if (!bracket && lit_is_p(l, '[')) {
        lit_unsup(c, "array locations");
        return 0;
    }
    if (li < -1 || (li == -1 && c->t->unsupported[0] == 0))
        return lit_fail(c, "init: expected a location, a register or a PTE");
    if (bracket) {
        if (!lit_is_p(l, ']'))
            return lit_fail(c, "init: expected ']'");
        lit_lex_next(l);
    }
    if (li < 0)
        return 0;
    if (what == 2)
        return lit_fail(c, "init: cannot assign to a physical address");
    uint64_t v = 0;
    bool has = false;
    if (lit_is_p(l, '=')) {
        lit_lex_next(l);
        if (what == 1 && !lit_is_p(l, '('))
            return lit_fail(c, "init: a PTE takes a descriptor literal");
        if (lit_parse_value(c, l, li, &v))
            return -1;
        has = true;
    }
    if (l->k != TK_END)
        return lit_fail(c, "init: unexpected text '%s'", l->k == TK_ID ? l->text : "");
    if (has) {
        if (what == 1)
            c->t->loc[li].pte = v;
        else
            c->t->loc[li].init = v;
    }
    return 0;
}

/* One item of the init section (between semicolons). */
static int parse_init_item(struct lit_pctx *c, const char *item)
{
    struct lit_lex l;
    lit_lex_init(&l, item);
    if (init_item(c, &l))
        return -1;
    if (l.any_overflow)
        return lit_fail(c, "integer %s out of range (more than 64 bits)", l.bad);
    return 0;
}

/* ---- Whole file ------------------------------------------------------------ */
struct colmap { int proc; bool handler; };
struct pending { char name[LIT_NAME]; int index; bool handler; };

static int set_tthm(struct lit_pctx *c, const char *v)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *tok = strtok(buf, " \t,"); tok; tok = strtok(NULL, " \t,")) {
        int p = -1;
        char *colon = strchr(tok, ':');
        const char *what = tok;
        if (colon) {
            *colon = 0;
            p = lit_proc_of(tok, c->t->nthreads ? c->t->nthreads : LIT_MAX_THREADS);
            if (p < 0)
                return lit_fail(c, "TTHM: bad thread '%s'", tok);
            what = colon + 1;
        }
        bool ha = !strcasecmp(what, "HA"), hd = !strcasecmp(what, "HD");
        if (!ha && !hd) {
            if (!strcasecmp(what, "SW"))
                continue;
            return lit_fail(c, "TTHM: unknown value '%s'", what);
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

/* EL0=P0,P2: those threads run at EL0 (their accesses are checked with
 * EL0 permissions: the el0 field, AP[1]). */
static int set_el0(struct lit_pctx *c, const char *v)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *tok = strtok(buf, " \t,"); tok; tok = strtok(NULL, " \t,")) {
        int p = lit_proc_of(tok, c->t->nthreads);
        if (p < 0)
            return lit_fail(c, "EL0: no thread '%s'", tok);
        c->t->th[p].el0 = true;
    }
    return 0;
}

/* What an EL0 thread cannot do here: a fault handler (it would run at
 * EL1), and system instructions (UNDEFINED at EL0). */
static void check_el0(struct lit_pctx *c)
{
    static const char *sys[] = { [LOP_TLBI] = "TLBI", [LOP_MSR_ELR] = "MSR ELR_EL1",
                                 [LOP_MRS_ELR] = "MRS ELR_EL1", [LOP_ERET] = "ERET" };
    for (unsigned p = 0; p < c->t->nthreads; p++) {
        const struct lit_thread *th = &c->t->th[p];
        if (!th->el0) continue;
        if (th->has_handler) {
            lit_unsup(c, "EL0 thread P%u with a fault handler", p);
            return;
        }
        for (unsigned i = 0; i < th->n; i++) {
            unsigned op = th->insn[i].op;
            if (op < sizeof(sys) / sizeof(sys[0]) && sys[op]) {
                c->line = th->insn[i].line;
                lit_unsup(c, "%s in EL0 thread P%u (UNDEFINED at EL0)", sys[op], p);
                return;
            }
        }
    }
}

static int set_variant(struct lit_pctx *c, const char *v)
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
            lit_unsup(c, "variant %s", tok);
    }
    return 0;
}

int lit_parse(const char *path, const char *text, struct lit_test *t, char *err, size_t errlen)
{
    struct lit_pctx c = { .path = path, .err = err, .errlen = errlen, .t = t };
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
    lit_strip_comments(buf);

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
    while (li < n && !*lit_trim(lines[li])) li++;
    if (li >= n) { c.line = 1; lit_fail(&c, "empty file"); goto out; }
    {
        char *s = lit_trim(CUR());
        char arch[32];
        int k = 0;
        while (*s && !isspace((unsigned char)*s) && k < 31) arch[k++] = *s++;
        arch[k] = 0;
        s = lit_trim(s);
        if (!*s) { lit_fail(&c, "expected 'AArch64 NAME'"); goto out; }
        snprintf(t->name, sizeof(t->name), "%s", s);
        if (strcmp(arch, "AArch64"))
            lit_unsup(&c, "architecture %s", arch);
        li++;
    }
    /* header keys up to '{' */
    char *tthm = NULL, *el0 = NULL;
    unsigned el0_line = 0;
    for (; li < n; li++) {
        char *s = lit_trim(CUR());
        if (!*s || *s == '"') continue;
        if (*s == '{') break;
        char *eq = strchr(s, '=');
        if (!eq) { lit_fail(&c, "expected KEY=VALUE or '{'"); goto out; }
        *eq = 0;
        char *k = lit_trim(s), *v = lit_trim(eq + 1);
        if (!strcasecmp(k, "TTHM")) tthm = v;
        else if (!strcasecmp(k, "Variant")) { if (set_variant(&c, v)) goto out; }
        else if (!strcasecmp(k, "EL0")) { el0 = v; el0_line = c.line; }
        else if (!strcasecmp(k, "Hash") || !strcasecmp(k, "Com") || !strcasecmp(k, "Orig") ||
                 !strcasecmp(k, "Generator") || !strcasecmp(k, "Prefetch") || !strcasecmp(k, "Cycle") ||
                 !strcasecmp(k, "Relax") || !strcasecmp(k, "Safe") || !strcasecmp(k, "Scopes"))
            ;
        else
            lit_unsup(&c, "header key %s", k);
    }
    if (li >= n) { lit_fail(&c, "missing init section '{ ... }'"); goto out; }
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
    if (!close) { c.line = init_line; lit_fail(&c, "unterminated init section"); goto out; }
    char *after = close + 1;
    *close = 0;

    /* thread table header: first non-blank line after '}' */
    li = init_last;
    char *hdr = lit_trim(after);
    if (!*hdr) {
        for (li = init_last + 1; li < n && !*lit_trim(lines[li]); li++) ;
        if (li >= n) { lit_fail(&c, "missing thread table"); goto out; }
        hdr = lit_trim(CUR());
    } else
        c.line = (unsigned)li + 1;
    struct colmap col[LIT_MAX_THREADS * 2];
    unsigned ncol = 0;
    {
        char *h = hdr;
        size_t hl = strlen(h);
        if (hl && h[hl - 1] == ';') h[--hl] = 0;
        for (char *cell = strtok(h, "|"); cell; cell = strtok(NULL, "|")) {
            cell = lit_trim(cell);
            bool hnd = false;
            size_t cl = strlen(cell);
            if (cl > 2 && !strcmp(cell + cl - 2, ".F")) { hnd = true; cell[cl - 2] = 0; }
            char *end;
            errno = 0;
            long p = (cell[0] == 'P' && isdigit((unsigned char)cell[1])) ? strtol(cell + 1, &end, 10) : -1;
            if (p < 0 || *end) { lit_fail(&c, "bad thread name '%s'", cell); goto out; }
            if (p >= LIT_MAX_THREADS || errno == ERANGE) {
                /* nothing below matters to a test the model cannot run */
                lit_unsup(&c, "thread %s: more than %d threads (the model runs P0-P%d)", cell,
                          LIT_MAX_THREADS, LIT_MAX_THREADS - 1);
                rc = 0;
                goto out;
            }
            for (unsigned k = 0; k < ncol; k++)
                if (col[k].proc == (int)p && col[k].handler == hnd) {
                    lit_fail(&c, "thread %s%s named twice in the thread table", cell, hnd ? ".F" : "");
                    goto out;
                }
            col[ncol].proc = (int)p;
            col[ncol].handler = hnd;
            ncol++;
            if (!hnd && (unsigned)p + 1 > t->nthreads) t->nthreads = (unsigned)p + 1;
        }
        for (unsigned k = 0; k < ncol; k++)
            if (col[k].handler && (unsigned)col[k].proc >= t->nthreads) { lit_fail(&c, "handler for a missing thread"); goto out; }
        if (!t->nthreads) { lit_fail(&c, "no threads"); goto out; }
    }
    if (el0) {
        unsigned save = c.line;
        c.line = el0_line;
        if (set_el0(&c, el0)) goto out;
        c.line = save;
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
    if (!code || !plabels || !tgt) { free(code); free(plabels); free(tgt); lit_fail(&c, "out of memory"); goto out; }
    li++;
    for (; li < n; li++) {
        char *s = lit_trim(CUR());
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
                char *cell = lit_trim(p);
                int pr = col[k].proc, hn = col[k].handler;
                /* labels */
                for (;;) {
                    char *colon = strchr(cell, ':');
                    if (!colon) break;
                    char *q = cell;
                    while (q < colon && (isalnum((unsigned char)*q) || *q == '_')) q++;
                    if (q != colon || q == cell) break;
                    *colon = 0;
                    if (npl[pr] >= LIT_MAX_LABELS) { lit_unsup(&c, "too many labels"); break; }
                    snprintf(plabels[pr][npl[pr]].name, LIT_NAME, "%s", cell);
                    plabels[pr][npl[pr]].index = (int)cnt[pr][hn];
                    plabels[pr][npl[pr]].handler = hn;
                    npl[pr]++;
                    cell = lit_trim(colon + 1);
                }
                if (*cell) {
                    if (cnt[pr][hn] >= nmax / 2) { lit_unsup(&c, "thread too long"); }
                    else {
                        char why[128];
                        struct lit_insn *in = &code[pr][hn][cnt[pr][hn]];
                        int r = lit_decode(cell, in, tgt[pr][hn][cnt[pr][hn]], why, sizeof(why));
                        if (r < 0) {
                            lit_fail(&c, "malformed instruction '%s'", cell);
                            free(code); free(plabels); free(tgt);
                            goto out;
                        }
                        if (r > 0) { lit_unsup(&c, "%s", why); in->op = LOP_NOP; }
                        in->line = c.line;
                        cnt[pr][hn]++;
                    }
                }
            } else if (*lit_trim(p)) {
                lit_fail(&c, "more columns than the thread table header names (%u)", ncol);
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
            int idx = lit_label_find(th, nm);
            if (idx < 0) {
                c.line = th->insn[i].line;
                lit_fail(&c, "undefined label '%s'", nm);
                free(code); free(plabels); free(tgt);
                goto out;
            }
            th->insn[i].target = idx;
            if (th->insn[i].op == LOP_ADR) th->insn[i].imm = (int64_t)lit_code_addr(p, (unsigned)idx);
        }
    }
    free(code); free(plabels); free(tgt);
    {
        unsigned save = c.line;
        check_el0(&c);
        c.line = save;
    }

    /* init items (after labels: label:"P:L" values need them) */
    {
        for (size_t k = init_first; k <= init_last; k++) {
            c.line = (unsigned)k + 1;
            char *s = lines[k];
            for (char *item = s;;) {
                char *semi = strchr(item, ';');
                if (semi) *semi = 0;
                if (parse_init_item(&c, lit_trim(item))) goto out;
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
        if (!tail) { lit_fail(&c, "out of memory"); goto out; }
        size_t at = 0;
        for (size_t k = li; k < n; k++) {     /* linear: no strcat from the start each time */
            size_t ll = strlen(lines[k]);
            memcpy(tail + at, lines[k], ll);
            tail[at + ll] = '\n';
            at += ll + 1;
        }
        tail[at] = 0;
        c.line = (unsigned)(li < n ? li + 1 : n);
        int r = lit_parse_tail(&c, tail);
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
    char *s;
    size_t len;
    memset(t, 0, sizeof(*t));
    if (lit_read_file(path, LIT_MAX_FILE_BYTES, &s, &len, err, errlen))
        return -1;
    if (memchr(s, 0, len)) {
        free(s);
        snprintf(err, errlen, "%s:1: not a text file (a NUL byte)", path);
        return -1;
    }
    int rc = lit_parse(path, s, t, err, errlen);
    free(s);
    return rc;
}
