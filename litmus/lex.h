/*
 * litmus/lex.h - the lexer of the litmus reader (internal to litmus/):
 * tokens of one string (identifiers, numbers, "strings", punctuation,
 * with /\ and \/ as single tokens), and the text-level helpers that run
 * before it (comment removal, trimming).
 */
#ifndef HYPSIM_LITMUS_LEX_H
#define HYPSIM_LITMUS_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "litmus/litmus.h"

enum lit_tok { TK_END, TK_ID, TK_NUM, TK_STR, TK_PUNCT };
struct lit_lex {
    const char *s;
    size_t i;
    enum lit_tok k;
    char text[LIT_NAME * 2]; /* TK_ID, TK_STR, TK_NUM: the token's text (cut) */
    long long num;           /* TK_NUM: the value (as 64 bits) */
    bool overflow;           /* TK_NUM: wider than 64 bits (num is 0) */
    bool any_overflow;       /* some TK_NUM so far overflowed ... */
    char bad[32];            /* ... the first such, for the message */
    char p;                  /* punct char; 'A' for /\, 'O' for \/ */
};

/* Start on s (kept, not copied) and read the first token. */
void lit_lex_init(struct lit_lex *l, const char *s);
/* Read the next token into l (TK_END at the end of the string). */
void lit_lex_next(struct lit_lex *l);

static inline bool lit_is_p(const struct lit_lex *l, char p) { return l->k == TK_PUNCT && l->p == p; }
static inline bool lit_is_id(const struct lit_lex *l, const char *id) { return l->k == TK_ID && !strcmp(l->text, id); }
static inline bool lit_is_idc(const struct lit_lex *l, const char *id) { return l->k == TK_ID && !strcasecmp(l->text, id); }

/* Blank out herd's (* ... *) comments (nested; newlines kept, so line
 * numbers hold) and // comments to the end of the line, in place. */
void lit_strip_comments(char *s);
/* s without leading and trailing white space (trailing cut in place). */
char *lit_trim(char *s);

#endif
