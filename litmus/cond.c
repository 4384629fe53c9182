/*
 * litmus/cond.c - the final-condition parser of the litmus reader
 * (cond.h): locations[...], the quantifier (exists, ~exists, forall) and
 * the proposition: /\, \/, ~, not, parentheses, =, <>, !=, true, false,
 * atoms N:Xr, x, [x], pte_x, [PTE(x)] and fault(Pn[:L][,x[,MMU:Type]]),
 * into the node array of struct lit_test.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "litmus/cond.h"
#include "litmus/decode.h"

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
static int parse_lhs(struct lit_pctx *c, struct lit_lex *l, struct lit_lhs *h)
{
    memset(h, 0, sizeof(*h));
    if (l->k == TK_NUM || (l->k == TK_ID && l->text[0] == 'P' && isdigit((unsigned char)l->text[1]))) {
        int p = l->k == TK_NUM ? ((l->num >= 0 && (unsigned long long)l->num < c->t->nthreads) ? (int)l->num : -1)
                              : lit_proc_of(l->text, c->t->nthreads);
        lit_lex_next(l);
        if (!lit_is_p(l, ':'))
            return lit_fail(c, "expected ':' after a thread number");
        lit_lex_next(l);
        uint8_t r, sf;
        if (p < 0)
            return lit_fail(c, "no such thread in a condition");
        if (l->k != TK_ID || lit_reg_of(l->text, &r, &sf) || r == LIT_XZR)
            return lit_fail(c, "bad register in a condition");
        if (!sf)
            lit_unsup(c, "W register in a condition");
        lit_lex_next(l);
        h->kind = LHS_REG; h->proc = (uint8_t)p; h->reg = r;
        return 0;
    }
    bool br = false;
    if (lit_is_p(l, '[')) { br = true; lit_lex_next(l); }
    /* not even a name: an error, unsupported test or not (the
     * locations[...] loop must always move on) */
    if (l->k != TK_ID)
        return lit_fail(c, "expected a register or a location");
    int what = 0, li = lit_parse_locexpr(c, l, &what);
    if (li < -1 || (li == -1 && !c->t->unsupported[0]))
        return lit_fail(c, "expected a register or a location");
    if (br) {
        if (!lit_is_p(l, ']'))
            return lit_fail(c, "expected ']'");
        lit_lex_next(l);
    }
    if (what == 2)
        return lit_fail(c, "a physical address is not a location");
    h->kind = what == 1 ? LHS_PTE : LHS_MEM;
    h->loc = (uint8_t)(li < 0 ? 0 : li);
    return 0;
}

static int new_node(struct lit_pctx *c, struct lit_node **n)
{
    *n = &c->t->node[0];
    if (c->t->nnodes >= LIT_MAX_NODES)
        return lit_fail(c, "condition too large");
    *n = &c->t->node[c->t->nnodes];
    memset(*n, 0, sizeof(**n));
    (*n)->flabel_index = -1;
    (*n)->floc = -1;
    return (int)c->t->nnodes++;
}

static int parse_or(struct lit_pctx *c, struct lit_lex *l);

static int parse_fault_atom(struct lit_pctx *c, struct lit_lex *l)
{
    struct lit_node *n;
    lit_lex_next(l);
    if (!lit_is_p(l, '('))
        return lit_fail(c, "expected '(' after fault");
    lit_lex_next(l);
    if (l->k != TK_ID)
        return lit_fail(c, "fault: expected Pn");
    int p = lit_proc_of(l->text, c->t->nthreads);
    if (p < 0)
        return lit_fail(c, "fault: no thread %s", l->text);
    lit_lex_next(l);
    int lab = -1;
    if (lit_is_p(l, ':')) {
        lit_lex_next(l);
        if (l->k != TK_ID)
            return lit_fail(c, "fault: expected a label");
        lab = lit_label_find(&c->t->th[p], l->text);
        if (lab < 0)
            return lit_fail(c, "fault: no label %s in P%d", l->text, p);
        lit_lex_next(l);
    }
    int loc = -1;
    uint8_t type = LF_ANY;
    if (lit_is_p(l, ',')) {
        lit_lex_next(l);
        int what = 0;
        loc = lit_parse_locexpr(c, l, &what);
        if (loc < -1 || (loc == -1 && !c->t->unsupported[0]))
            return lit_fail(c, "fault: expected a location");
        if (what != 0)
            lit_unsup(c, "fault on a page-table entry");
        if (lit_is_p(l, ',')) {
            lit_lex_next(l);
            char ty[LIT_NAME * 2] = "";
            while (l->k != TK_END && !lit_is_p(l, ')')) {
                if (l->k == TK_ID) strncat(ty, l->text, sizeof(ty) - strlen(ty) - 1);
                else if (l->k == TK_PUNCT) { char s2[2] = { l->p, 0 }; strncat(ty, s2, sizeof(ty) - strlen(ty) - 1); }
                lit_lex_next(l);
            }
            if (!strcmp(ty, "MMU:Translation")) type = LF_TRANSLATION;
            else if (!strcmp(ty, "MMU:AccessFlag")) type = LF_ACCESS_FLAG;
            else if (!strcmp(ty, "MMU:Permission")) type = LF_PERMISSION;
            else lit_unsup(c, "fault type %s", ty);
        }
    }
    if (!lit_is_p(l, ')'))
        return lit_fail(c, "fault: expected ')'");
    lit_lex_next(l);
    int id = new_node(c, &n);
    if (id < 0) return -1;
    n->kind = LN_FAULT;
    n->fproc = (uint8_t)p;
    n->flabel_index = lab;
    n->floc = loc;
    n->ftype = type;
    return id;
}

static int parse_unary(struct lit_pctx *c, struct lit_lex *l);

static int unary(struct lit_pctx *c, struct lit_lex *l)
{
    struct lit_node *n;
    if (lit_is_p(l, '~') || lit_is_id(l, "not")) {
        lit_lex_next(l);
        int a = parse_unary(c, l);
        if (a < 0) return -1;
        int id = new_node(c, &n);
        if (id < 0) return -1;
        n->kind = LN_NOT; n->a = a;
        return id;
    }
    if (lit_is_p(l, '(')) {
        lit_lex_next(l);
        int a = parse_or(c, l);
        if (a < 0) return -1;
        if (!lit_is_p(l, ')'))
            return lit_fail(c, "expected ')' in the condition");
        lit_lex_next(l);
        return a;
    }
    if (lit_is_id(l, "true") || lit_is_id(l, "false")) {
        int id = new_node(c, &n);
        if (id < 0) return -1;
        n->kind = lit_is_id(l, "true") ? LN_TRUE : LN_FALSE;
        lit_lex_next(l);
        return id;
    }
    if (lit_is_idc(l, "fault"))
        return parse_fault_atom(c, l);
    struct lit_lhs h;
    if (parse_lhs(c, l, &h))
        return -1;
    bool neq = false;
    if (lit_is_p(l, '!')) {
        neq = true;
        lit_lex_next(l);
    } else if (lit_is_p(l, '<')) {          /* "<>" */
        lit_lex_next(l);
        if (!lit_is_p(l, '>'))
            return lit_fail(c, "expected '<>' or '=' in the condition");
        neq = true;
        lit_lex_next(l);
    }
    if (!neq && !lit_is_p(l, '='))
        return lit_fail(c, "expected '=' in the condition");
    if (lit_is_p(l, '='))
        lit_lex_next(l);
    uint64_t v;
    if (lit_parse_value(c, l, h.kind == LHS_PTE ? h.loc : -1, &v))
        return -1;
    if (add_obs(c->t, &h))
        lit_unsup(c, "too many observed locations");
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

/* Every nesting (~, not, parentheses) passes here: the recursion is
 * bounded by LIT_MAX_DEPTH, whatever the input. */
static int parse_unary(struct lit_pctx *c, struct lit_lex *l)
{
    if (c->depth >= LIT_MAX_DEPTH)
        return lit_fail(c, "condition nested deeper than %d levels", LIT_MAX_DEPTH);
    c->depth++;
    int r = unary(c, l);
    c->depth--;
    return r;
}

static int parse_and(struct lit_pctx *c, struct lit_lex *l)
{
    int a = parse_unary(c, l);
    while (a >= 0 && lit_is_p(l, 'A')) {
        lit_lex_next(l);
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

static int parse_or(struct lit_pctx *c, struct lit_lex *l)
{
    int a = parse_and(c, l);
    while (a >= 0 && lit_is_p(l, 'O')) {
        lit_lex_next(l);
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

static int tail(struct lit_pctx *c, struct lit_lex *l)
{
    for (;;) {
        if (lit_is_id(l, "locations")) {
            lit_lex_next(l);
            if (!lit_is_p(l, '['))
                return lit_fail(c, "expected '[' after locations");
            lit_lex_next(l);
            while (!lit_is_p(l, ']')) {
                if (l->k == TK_END)
                    return lit_fail(c, "unterminated locations[...]");
                if (lit_is_p(l, ';')) { lit_lex_next(l); continue; }
                if (lit_is_idc(l, "fault")) {          /* faults are always shown */
                    if (parse_fault_atom(c, l) < 0) return -1;
                    continue;
                }
                struct lit_lhs h;
                if (parse_lhs(c, l, &h))
                    return -1;
                if (add_obs(c->t, &h))
                    lit_unsup(c, "too many observed locations");
            }
            lit_lex_next(l);
            continue;
        }
        if (lit_is_id(l, "filter")) {
            lit_unsup(c, "filter clause");
            return 0;
        }
        break;
    }
    if (lit_is_id(l, "exists")) c->t->quant = LQ_EXISTS;
    else if (lit_is_id(l, "forall")) c->t->quant = LQ_FORALL;
    else if (lit_is_p(l, '~')) {
        lit_lex_next(l);
        if (!lit_is_id(l, "exists"))
            return lit_fail(c, "expected exists after '~'");
        c->t->quant = LQ_NOT_EXISTS;
    } else if (l->k == TK_END) {
        /* no condition: observe only (herd reads it as "exists true") */
        struct lit_node *n;
        c->t->quant = LQ_EXISTS;
        c->t->root = new_node(c, &n);
        if (c->t->root < 0) return -1;
        n->kind = LN_TRUE;
        return 0;
    }
    else
        return lit_fail(c, "unknown final condition '%s'", l->k == TK_ID ? l->text : "?");
    lit_lex_next(l);
    c->t->root = parse_or(c, l);
    if (c->t->root < 0)
        return -1;
    if (l->k != TK_END)
        return lit_fail(c, "unexpected text after the final condition");
    return 0;
}

/* The tail of the file: [locations [...]] quantifier prop */
int lit_parse_tail(struct lit_pctx *c, const char *s)
{
    struct lit_lex l;
    lit_lex_init(&l, s);
    if (tail(c, &l))
        return -1;
    if (l.any_overflow)
        return lit_fail(c, "integer %s out of range (more than 64 bits)", l.bad);
    return 0;
}
