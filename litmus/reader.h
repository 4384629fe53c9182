/*
 * litmus/reader.h - what the parts of the litmus reader share (internal to
 * litmus/): the parse context with its error and "unsupported" reports,
 * thread numbers and labels, and the location and value expressions that
 * both the init section (parse.c) and the final condition (cond.c) use.
 */
#ifndef HYPSIM_LITMUS_READER_H
#define HYPSIM_LITMUS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "litmus/lex.h"
#include "litmus/litmus.h"

struct lit_pctx {
    const char *path;
    unsigned line;           /* current source line (messages) */
    unsigned depth;          /* nesting of the condition being parsed */
    char *err;
    size_t errlen;
    struct lit_test *t;
};

/* Malformed input: "path:line: message" into c->err; returns -1. */
int lit_fail(struct lit_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A feature outside the subset: "line N: reason" into t->unsupported
 * (the first reason wins); parsing goes on. */
void lit_unsup(struct lit_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Index of label name in th (its instruction; th->n: the end), or -1. */
int lit_label_find(const struct lit_thread *th, const char *name);
/* "Pn" or "n" as a thread number below nthreads, or -1. */
int lit_proc_of(const char *s, unsigned nthreads);

/* Location expressions: x | pte_x | PTE(x) | TTD(x) | phy_x | PA(x).
 * *what: 0 location, 1 its PTE, 2 its physical address. Returns loc, -1
 * (not a location expression: cursor unchanged, or an unsupported one)
 * or -2 (malformed). */
int lit_parse_locexpr(struct lit_pctx *c, struct lit_lex *l, int *what);
/* A value of the init section or a condition: number, descriptor literal,
 * &x, label:"Pn:L", location expression. ctx_loc: default oa for
 * descriptor literals (-1 none). Returns 0 or -1 (lit_fail). */
int lit_parse_value(struct lit_pctx *c, struct lit_lex *l, int ctx_loc, uint64_t *v);

#endif
