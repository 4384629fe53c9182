/*
 * litmus/kinds.c - verdict files and the classification of an explored
 * test against its verdict.
 *
 * A verdict is about the proposition P of the final condition, whatever
 * its quantifier: Allowed (P can hold on Armv8-A), Forbidden (P never
 * holds), Required (P always holds). "Allow"/"Forbid"/"Require" are the
 * same words, in any case.
 *
 * Two line formats, after '#' comments and blank lines are dropped:
 *   NAME VERDICT            herd's kinds.txt
 *   NAME VERDICT SOURCE     isla's verdicts.txt ("CoRR0.alias+po forbidden esop22-csv")
 * and one quirk of herd's catalogue: a name glued to its verdict
 * ("MP+rel+pickdata-lrs-data-mmufault_db-poAllow"), read as NAME VERDICT.
 * Anything else is an error naming the file and line: a garbage file is
 * refused, never read as "no verdicts".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "litmus/litmus.h"
#include "litmus/readfile.h"

static enum lit_verdict verdict_of(const char *w)
{
    if (!strcasecmp(w, "Allowed") || !strcasecmp(w, "Allow")) return LV_ALLOWED;
    if (!strcasecmp(w, "Forbidden") || !strcasecmp(w, "Forbid")) return LV_FORBIDDEN;
    if (!strcasecmp(w, "Required") || !strcasecmp(w, "Require")) return LV_REQUIRED;
    return LV_NONE;
}

/* "NAMEAllow": the length of NAME when word ends with a verdict word
 * (with a non-empty NAME before it), else 0. */
static size_t glued_verdict(const char *word, enum lit_verdict *v)
{
    static const char *w[] = { "Allowed", "Allow", "Forbidden", "Forbid", "Required", "Require" };
    size_t n = strlen(word);
    for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        size_t k = strlen(w[i]);
        if (n > k && !strcmp(word + n - k, w[i])) {
            *v = verdict_of(w[i]);
            return n - k;
        }
    }
    return 0;
}

static int kind_cmp(const void *a, const void *b)
{
    const struct lit_kind *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int kinds_add(struct lit_kinds *k, const char *name, size_t len, enum lit_verdict v, unsigned line)
{
    if (k->n == k->cap) {
        unsigned nc = k->cap ? k->cap * 2 : 256;
        struct lit_kind *ne = realloc(k->e, nc * sizeof(*ne));
        if (!ne) return -1;
        k->e = ne;
        k->cap = nc;
    }
    char *s = malloc(len + 1);
    if (!s) return -1;
    memcpy(s, name, len);
    s[len] = 0;
    k->e[k->n].name = s;
    k->e[k->n].v = v;
    k->e[k->n].line = line;
    k->n++;
    return 0;
}

int lit_kinds_load(const char *path, struct lit_kinds *k, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    unsigned ln = 0;

    memset(k, 0, sizeof(*k));
    if (lit_read_file(path, LIT_MAX_KINDS_BYTES, &buf, &len, err, errlen))
        return -1;
    if (memchr(buf, 0, len)) {
        snprintf(err, errlen, "%s: not a text file (a NUL byte)", path);
        goto fail;
    }
    for (char *line = buf; line; ) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        ln++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *word[4];
        unsigned nw = 0;
        for (char *p = line; *p && nw < 4; ) {
            while (*p && isspace((unsigned char)*p)) p++;
            if (!*p) break;
            word[nw++] = p;
            while (*p && !isspace((unsigned char)*p)) p++;
            if (*p) *p++ = 0;
        }
        enum lit_verdict v = LV_NONE;
        size_t namelen = 0;
        if (nw == 1) {
            namelen = glued_verdict(word[0], &v);
            if (!namelen) {
                snprintf(err, errlen, "%s:%u: expected 'NAME VERDICT' or 'NAME VERDICT SOURCE', got '%.64s'",
                         path, ln, word[0]);
                goto fail;
            }
        } else if (nw == 2 || nw == 3) {
            v = verdict_of(word[1]);
            namelen = strlen(word[0]);
            if (v == LV_NONE) {
                snprintf(err, errlen, "%s:%u: unknown verdict '%.64s' (expected Allowed, Forbidden or "
                         "Required; Allow, Forbid, Require and any case are the same)", path, ln, word[1]);
                goto fail;
            }
        } else if (nw > 3) {
            snprintf(err, errlen, "%s:%u: more than 3 words (NAME VERDICT [SOURCE]; '#' starts a comment)",
                     path, ln);
            goto fail;
        }
        if (nw && kinds_add(k, word[0], namelen, v, ln)) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!k->n) {
        snprintf(err, errlen, "%s: no verdicts in the file", path);
        goto fail;
    }
    /* sorted for lit_kinds_find; of several lines for one name, the first wins */
    qsort(k->e, k->n, sizeof(k->e[0]), kind_cmp);
    unsigned m = 0;
    for (unsigned i = 0; i < k->n; i++) {
        if (m && !strcmp(k->e[m - 1].name, k->e[i].name)) { free(k->e[i].name); continue; }
        k->e[m++] = k->e[i];
    }
    k->n = m;
    free(buf);
    return 0;
fail:
    free(buf);
    lit_kinds_free(k);
    return -1;
}

enum lit_verdict lit_kinds_find(const struct lit_kinds *k, const char *name)
{
    if (!k || !k->n) return LV_NONE;
    unsigned lo = 0, hi = k->n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = strcmp(k->e[mid].name, name);
        if (!c) return k->e[mid].v;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return LV_NONE;
}

void lit_kinds_free(struct lit_kinds *k)
{
    if (!k) return;
    for (unsigned i = 0; i < k->n; i++) free(k->e[i].name);
    free(k->e);
    memset(k, 0, sizeof(*k));
}

const char *lit_verdict_name(enum lit_verdict v)
{
    switch (v) {
    case LV_ALLOWED: return "Allowed";
    case LV_FORBIDDEN: return "Forbidden";
    case LV_REQUIRED: return "Required";
    default: return "none";
    }
}

enum lit_class lit_classify(enum lit_verdict v, const struct lit_result *r)
{
    if (!r || !r->ok) return LC_UNSUPPORTED;
    /* No execution ended (a thread that never terminates): nothing was
     * shown either way, so no verdict can be checked, not even "never". */
    if (!r->nfinal) return LC_NO_VERDICT;
    switch (v) {
    case LV_FORBIDDEN: return r->cond_some ? LC_UNSOUND : LC_SOUND;
    case LV_REQUIRED:
        /* P must hold in every final state: one where it fails is a
         * Forbidden outcome reached */
        return !r->cond_all ? LC_UNSOUND : LC_SOUND;
    case LV_ALLOWED: return r->cond_some ? LC_COMPLETE : LC_MISSED;
    default: return LC_NO_VERDICT;
    }
}

const char *lit_class_name(enum lit_class c)
{
    switch (c) {
    case LC_SOUND: return "sound";
    case LC_COMPLETE: return "complete";
    case LC_MISSED: return "missed";
    case LC_UNSOUND: return "unsound";
    case LC_NO_VERDICT: return "no verdict";
    default: return "unsupported";
    }
}

bool lit_condition_reachable(const struct lit_test *t, const struct lit_result *r)
{
    if (!r || !r->ok) return false;
    return t->quant == LQ_FORALL ? r->cond_all : r->cond_some;
}
