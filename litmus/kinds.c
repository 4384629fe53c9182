/*
 * litmus/kinds.c - herd's verdict files (kinds.txt) and the classification
 * of an explored test against its verdict.
 *
 * A verdict is about the proposition P of the final condition, whatever
 * its quantifier: Allowed (P can hold on Armv8-A), Forbidden (P never
 * holds), Required (P always holds). "Allow"/"Forbid"/"Require" are the
 * same words. Lines of one word (the catalogue has a name glued to its
 * verdict) and other words (a few comment-like lines)
 * are ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "litmus/litmus.h"

static enum lit_verdict verdict_of(const char *w)
{
    if (!strcasecmp(w, "Allowed") || !strcasecmp(w, "Allow")) return LV_ALLOWED;
    if (!strcasecmp(w, "Forbidden") || !strcasecmp(w, "Forbid")) return LV_FORBIDDEN;
    if (!strcasecmp(w, "Required") || !strcasecmp(w, "Require")) return LV_REQUIRED;
    return LV_NONE;
}

int lit_kinds_load(const char *path, struct lit_kinds *k, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    unsigned ln = 0;

    memset(k, 0, sizeof(*k));
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char name[512], word[64];
        ln++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line too long", path, ln);
            fclose(f);
            lit_kinds_free(k);
            return -1;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        int n = sscanf(line, "%511s %63s", name, word);
        if (n <= 1) continue;   /* blank, or a stray word (the catalogue has some) */
        enum lit_verdict v = verdict_of(word);
        if (v == LV_NONE || lit_kinds_find(k, name) != LV_NONE) continue;
        if (k->n == k->cap) {
            unsigned nc = k->cap ? k->cap * 2 : 256;
            struct lit_kind *ne = realloc(k->e, nc * sizeof(*ne));
            if (!ne) { fclose(f); lit_kinds_free(k); snprintf(err, errlen, "%s: out of memory", path); return -1; }
            k->e = ne;
            k->cap = nc;
        }
        k->e[k->n].name = strdup(name);
        if (!k->e[k->n].name) { fclose(f); lit_kinds_free(k); snprintf(err, errlen, "%s: out of memory", path); return -1; }
        k->e[k->n].v = v;
        k->n++;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        lit_kinds_free(k);
        return -1;
    }
    return 0;
}

enum lit_verdict lit_kinds_find(const struct lit_kinds *k, const char *name)
{
    for (unsigned i = 0; k && i < k->n; i++)
        if (!strcmp(k->e[i].name, name))
            return k->e[i].v;
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
    switch (v) {
    case LV_FORBIDDEN: return r->cond_some ? LC_UNSOUND : LC_SOUND;
    case LV_REQUIRED:
        /* P must hold in every final state: one where it fails is a
         * Forbidden outcome reached */
        return (r->nfinal && !r->cond_all) ? LC_UNSOUND : LC_SOUND;
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
