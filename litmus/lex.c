/*
 * litmus/lex.c - the lexer of the litmus reader (lex.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "litmus/lex.h"

void lit_lex_next(struct lit_lex *l)
{
    const char *s = l->s;
    while (s[l->i] && isspace((unsigned char)s[l->i]))
        l->i++;
    l->text[0] = 0;
    if (!s[l->i]) { l->k = TK_END; return; }
    char ch = s[l->i];
    if (isalpha((unsigned char)ch) || ch == '_') {
        size_t n = 0;
        while (isalnum((unsigned char)s[l->i]) || s[l->i] == '_' || s[l->i] == '.') {
            if (n + 1 < sizeof(l->text)) l->text[n++] = s[l->i];
            l->i++;
        }
        l->text[n] = 0;
        l->k = TK_ID;
        return;
    }
    if (isdigit((unsigned char)ch) || (ch == '-' && isdigit((unsigned char)s[l->i + 1]))) {
        /* a 64-bit number, signed or not (0x... up to 2^64-1); anything
         * wider is flagged, never clamped */
        char *end;
        size_t n = 0;
        errno = 0;
        l->num = strtoll(s + l->i, &end, 0);
        l->overflow = false;
        if (errno == ERANGE) {
            errno = 0;
            if (ch != '-')
                l->num = (long long)strtoull(s + l->i, &end, 0);
            if (ch == '-' || errno == ERANGE) {
                l->overflow = l->any_overflow = true;
                l->num = 0;
            }
        }
        for (size_t k = l->i; k < (size_t)(end - s) && n + 1 < sizeof(l->text); k++)
            l->text[n++] = s[k];
        l->text[n] = 0;
        if (l->overflow && !l->bad[0])
            snprintf(l->bad, sizeof(l->bad), "%.*s", (int)(sizeof(l->bad) - 1), l->text);
        l->i = (size_t)(end - s);
        l->k = TK_NUM;
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
        l->k = TK_STR;
        return;
    }
    if (ch == '/' && s[l->i + 1] == '\\') { l->i += 2; l->k = TK_PUNCT; l->p = 'A'; return; }
    if (ch == '\\' && s[l->i + 1] == '/') { l->i += 2; l->k = TK_PUNCT; l->p = 'O'; return; }
    l->i++;
    l->k = TK_PUNCT;
    l->p = ch;
}

void lit_lex_init(struct lit_lex *l, const char *s)
{
    l->s = s;
    l->i = 0;
    l->overflow = l->any_overflow = false;
    l->bad[0] = 0;
    lit_lex_next(l);
}

void lit_strip_comments(char *s)
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

char *lit_trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}
