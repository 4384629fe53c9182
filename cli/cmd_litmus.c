/*
 * cli/cmd_litmus.c - `hypsim litmus FILE|DIR... [--kinds KINDS] [--json]`:
 * run herd AArch64 VMSA litmus tests on the model and compare the outcomes
 * with herd's verdicts (litmus/README.md).
 * Exit codes: 0 ok, 1 a Forbidden outcome was reached (unsound), 2 bad
 * usage or input (one line naming the file and line).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "litmus/litmus.h"

static void usage_litmus(FILE *f)
{
    fprintf(f,
"usage: hypsim litmus FILE|DIR... [options]\n"
"\n"
"Run herd7 AArch64 VMSA litmus tests on the model: every interleaving of\n"
"the threads with TLB fills, evictions and pending-TLBI completions, and\n"
"compare the reachable final states with herd's verdicts. A directory\n"
"stands for every .litmus file under it.\n"
"\n"
"  --kinds FILE      verdicts (default: kinds.txt beside each test, or in\n"
"                    the directory above it)\n"
"  --json            print a JSON object on stdout\n"
"  --states          also list the final states reached (human output)\n"
"  --max-states N    bound on distinct states per test (default 2000000)\n"
"  -q, --quiet       only the summary (human output)\n"
"  -h, --help        this help\n"
"\n"
"classification: sound (Forbidden/Required never violated), complete\n"
"(Allowed reached), missed (Allowed not reached), unsound (a Forbidden\n"
"outcome reached: exit 1).\n");
}

struct files { char **v; size_t n, cap; };

static int files_add(struct files *f, const char *p)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 64;
        char **nv = realloc(f->v, nc * sizeof(*nv));
        if (!nv) return -1;
        f->v = nv;
        f->cap = nc;
    }
    f->v[f->n] = strdup(p);
    return f->v[f->n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .litmus file under dir, recursively, in sorted order. */
static int add_dir(struct files *f, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct files sub = { 0 };
    if (!d) {
        fprintf(stderr, "hypsim: %s: cannot open: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        char p[4096];
        struct stat st;
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (stat(p, &st) != 0) continue;
        size_t n = strlen(de->d_name);
        if (S_ISDIR(st.st_mode) || (n > 7 && !strcmp(de->d_name + n - 7, ".litmus")))
            if (files_add(&sub, p)) { closedir(d); return -1; }
    }
    closedir(d);
    qsort(sub.v, sub.n, sizeof(char *), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < sub.n; i++) {
        struct stat st;
        if (!rc && stat(sub.v[i], &st) == 0 && S_ISDIR(st.st_mode)) rc = add_dir(f, sub.v[i]);
        else if (!rc) rc = files_add(f, sub.v[i]);
        free(sub.v[i]);
    }
    free(sub.v);
    return rc;
}

/* kinds files found beside the tests, loaded once each */
struct kcache { char *path; struct lit_kinds k; bool ok; };

static const struct lit_kinds *kinds_for(struct kcache *kc, size_t *nkc, size_t cap, const char *test)
{
    char dir[4096], cand[2][4200];
    const char *slash = strrchr(test, '/');
    if (slash) snprintf(dir, sizeof(dir), "%.*s", (int)(slash - test), test);
    else snprintf(dir, sizeof(dir), ".");
    snprintf(cand[0], sizeof(cand[0]), "%s/kinds.txt", dir);
    snprintf(cand[1], sizeof(cand[1]), "%s/../kinds.txt", dir);
    for (int c = 0; c < 2; c++) {
        for (size_t i = 0; i < *nkc; i++)
            if (!strcmp(kc[i].path, cand[c]))
                return kc[i].ok ? &kc[i].k : NULL;
        FILE *f = fopen(cand[c], "r");
        if (!f) continue;
        fclose(f);
        if (*nkc >= cap) return NULL;
        struct kcache *e = &kc[(*nkc)++];
        char err[512];
        e->path = strdup(cand[c]);
        e->ok = e->path && lit_kinds_load(cand[c], &e->k, err, sizeof(err)) == 0;
        if (!e->ok) fprintf(stderr, "hypsim: %s\n", err);
        return e->ok ? &e->k : NULL;
    }
    return NULL;
}

int cmd_litmus(int argc, char **argv)
{
    struct files files = { 0 };
    const char *kinds_path = NULL;
    bool json = false, states = false, quiet = false;
    uint64_t max_states = 0;
    int rc = 0;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage_litmus(stdout); return 0; }
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--states")) states = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = true;
        else if (!strcmp(a, "--kinds")) {
            if (cli_need_value(NULL, a, i + 1 < argc ? argv[i + 1] : NULL, "a file", &kinds_path))
                return EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--max-states")) {
            if (cli_parse_u64(NULL, a, i + 1 < argc ? argv[i + 1] : NULL, 1, UINT64_MAX, &max_states))
                return EXIT_USAGE;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "hypsim: unknown option '%s' (see 'hypsim litmus --help')\n", a);
            return EXIT_USAGE;
        } else {
            struct stat st;
            if (stat(a, &st) != 0) {
                fprintf(stderr, "hypsim: %s: cannot open: %s\n", a, strerror(errno));
                rc = 2;
                continue;
            }
            if (S_ISDIR(st.st_mode) ? add_dir(&files, a) : files_add(&files, a)) rc = 2;
        }
    }
    if (!files.n) {
        if (!rc) { usage_litmus(stderr); rc = 2; }
        free(files.v);
        return rc;
    }

    struct lit_kinds given = { 0 };
    bool have_given = false;
    if (kinds_path) {
        char err[512];
        if (lit_kinds_load(kinds_path, &given, err, sizeof(err))) {
            fprintf(stderr, "hypsim: %s\n", err);
            for (size_t i = 0; i < files.n; i++) free(files.v[i]);
            free(files.v);
            return EXIT_USAGE;
        }
        have_given = true;
    }
    struct kcache kc[16];
    size_t nkc = 0;

    cJSON *jroot = json ? cJSON_CreateObject() : NULL, *jtests = json ? cJSON_CreateArray() : NULL;
    unsigned n_sup = 0, n_unsup = 0, n_err = 0, cnt[LC_UNSOUND + 1] = { 0 };
    unsigned miss_reorder = 0, miss_other = 0, n_allowed = 0, n_forbidden = 0, n_required = 0, n_noverdict = 0;
    uint64_t total_states = 0;
    double t0 = cli_now_s();
    struct lit_test *t = malloc(sizeof(*t));
    if (!t) { fprintf(stderr, "hypsim: out of memory\n"); return EXIT_INTERNAL; }

    for (size_t fi = 0; fi < files.n; fi++) {
        const char *path = files.v[fi];
        char err[768];
        if (lit_parse_file(path, t, err, sizeof(err))) {
            fprintf(stderr, "hypsim: %s\n", err);
            n_err++;
            rc = 2;
            continue;
        }
        const struct lit_kinds *k = have_given ? &given : kinds_for(kc, &nkc, 16, path);
        enum lit_verdict v = lit_kinds_find(k, t->name);
        struct lit_result r;
        struct lit_opts o = { max_states, false };
        lit_run(t, &o, &r);
        enum lit_class c = lit_classify(v, &r);
        bool needs_reorder = false;
        if (c == LC_MISSED) {
            struct lit_result rr;
            struct lit_opts ro = { max_states, true };
            if (lit_run(t, &ro, &rr) == 0 && rr.cond_some) needs_reorder = true;
            lit_result_free(&rr);
            if (needs_reorder) miss_reorder++; else miss_other++;
        }
        cnt[c]++;
        total_states += r.states;
        if (r.ok) {
            n_sup++;
            n_allowed += v == LV_ALLOWED;
            n_forbidden += v == LV_FORBIDDEN;
            n_required += v == LV_REQUIRED;
            n_noverdict += v == LV_NONE;
        } else
            n_unsup++;
        if (c == LC_UNSOUND && rc == 0) rc = 1;
        bool reach = lit_condition_reachable(t, &r);
        if (json) {
            cJSON *o2 = cJSON_CreateObject(), *ra = cJSON_CreateArray();
            cJSON_AddStringToObject(o2, "name", t->name);
            cJSON_AddStringToObject(o2, "file", path);
            cJSON_AddBoolToObject(o2, "supported", r.ok);
            if (r.ok) cJSON_AddNullToObject(o2, "reason");
            else cJSON_AddStringToObject(o2, "reason", r.error);
            if (v == LV_NONE) cJSON_AddNullToObject(o2, "verdict");
            else cJSON_AddStringToObject(o2, "verdict", lit_verdict_name(v));
            for (unsigned i = 0; i < r.nfinal; i++)
                cJSON_AddItemToArray(ra, cJSON_CreateString(r.final[i]));
            cJSON_AddItemToObject(o2, "reached", ra);
            if (r.ok) cJSON_AddBoolToObject(o2, "condition_reachable", reach);
            else cJSON_AddNullToObject(o2, "condition_reachable");
            cJSON_AddStringToObject(o2, "classification", lit_class_name(c));
            if (c == LC_MISSED) cJSON_AddBoolToObject(o2, "needs_reordering", needs_reorder);
            cJSON_AddNumberToObject(o2, "states", (double)r.states);
            cJSON_AddItemToArray(jtests, o2);
        } else if (!quiet || c == LC_UNSOUND) {
            if (!r.ok)
                printf("%-48s unsupported: %s\n", t->name, r.error);
            else {
                printf("%-48s %-9s %3u final state%s, condition %s, %s%s (%llu states)\n", t->name,
                       lit_verdict_name(v), r.nfinal, r.nfinal == 1 ? " " : "s",
                       t->quant == LQ_FORALL ? (reach ? "always holds" : "can fail")
                                             : (r.cond_some ? "reachable" : "never"),
                       lit_class_name(c), c == LC_MISSED ? (needs_reorder ? " (needs reordering)" : " (other)") : "",
                       (unsigned long long)r.states);
                if (states || c == LC_UNSOUND)
                    for (unsigned i = 0; i < r.nfinal; i++) printf("    %s\n", r.final[i]);
            }
        }
        lit_result_free(&r);
    }
    double el = cli_now_s() - t0;
    unsigned total = n_sup + n_unsup;
    if (json) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "tests", total);
        cJSON_AddNumberToObject(s, "parse_errors", n_err);
        cJSON_AddNumberToObject(s, "supported", n_sup);
        cJSON_AddNumberToObject(s, "unsupported", n_unsup);
        cJSON_AddNumberToObject(s, "sound", cnt[LC_SOUND]);
        cJSON_AddNumberToObject(s, "complete", cnt[LC_COMPLETE]);
        cJSON_AddNumberToObject(s, "missed", cnt[LC_MISSED]);
        cJSON_AddNumberToObject(s, "missed_needs_reordering", miss_reorder);
        cJSON_AddNumberToObject(s, "missed_other", miss_other);
        cJSON_AddNumberToObject(s, "unsound", cnt[LC_UNSOUND]);
        cJSON_AddNumberToObject(s, "no_verdict", cnt[LC_NO_VERDICT]);
        cJSON_AddNumberToObject(s, "allowed", n_allowed);
        cJSON_AddNumberToObject(s, "forbidden", n_forbidden);
        cJSON_AddNumberToObject(s, "required", n_required);
        cJSON_AddNumberToObject(s, "states", (double)total_states);
        cJSON_AddNumberToObject(s, "elapsed_s", el);
        cJSON_AddNumberToObject(s, "tests_per_s", el > 0 ? total / el : 0);
        cJSON_AddItemToObject(jroot, "tests", jtests);
        cJSON_AddItemToObject(jroot, "summary", s);
        char *txt = cJSON_PrintUnformatted(jroot);
        if (txt) { puts(txt); free(txt); }
        cJSON_Delete(jroot);
    } else {
        printf("summary: %u tests, %u supported (%.1f%%), %u unsupported%s\n", total, n_sup,
               total ? 100.0 * n_sup / total : 0.0, n_unsup, n_err ? ", some files malformed" : "");
        printf("  verdicts of supported tests: %u Allowed, %u Forbidden, %u Required, %u none\n",
               n_allowed, n_forbidden, n_required, n_noverdict);
        printf("  sound %u, complete %u, missed %u (%u need reordering of ordinary accesses, %u other), "
               "unsound %u, no verdict %u\n", cnt[LC_SOUND], cnt[LC_COMPLETE], cnt[LC_MISSED], miss_reorder,
               miss_other, cnt[LC_UNSOUND], cnt[LC_NO_VERDICT]);
        printf("  %llu states in %.2f s (%.1f tests/s)\n", (unsigned long long)total_states, el,
               el > 0 ? total / el : 0.0);
    }
    free(t);
    for (size_t i = 0; i < nkc; i++) { free(kc[i].path); if (kc[i].ok) lit_kinds_free(&kc[i].k); }
    if (have_given) lit_kinds_free(&given);
    for (size_t i = 0; i < files.n; i++) free(files.v[i]);
    free(files.v);
    return rc;
}
