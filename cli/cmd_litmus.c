/*
 * cli/cmd_litmus.c - `hypsim litmus FILE|DIR... [--kinds KINDS] [--json]`:
 * run herd AArch64 VMSA litmus tests on the model and compare the outcomes
 * with herd's verdicts (litmus/README.md).
 *
 * Every file given or found is one test of the report, whatever happens to
 * it: run, unsupported (with the reason), or a parse error (a file that
 * cannot be read or is malformed: one line "hypsim: FILE:LINE: message" on
 * stderr too). One bad file never stops the run.
 * Exit codes: 1 if some test is unsound (whatever else happened, so that a
 * bad file never hides an unsound result); else 2 for bad usage, or when
 * some file or verdict file could not be read or parsed; else 0.
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

#define LITMUS_MAX_DIR_DEPTH 32

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
"  --kinds FILE      verdicts: herd's 'NAME VERDICT' lines or isla's 'NAME\n"
"                    allowed|forbidden SOURCE' (default: kinds.txt beside\n"
"                    each test, or in the directory above it)\n"
"  --json            print a JSON object on stdout\n"
"  --states          also list the final states reached (human output)\n"
"  --max-states N    bound on distinct states per test (default 2000000)\n"
"  --memory MODEL    sc | relaxed (default relaxed): ordinary memory\n"
"                    sequentially consistent, or Armv8's relaxed model\n"
"                    (model/hw/rlx.h, the machine's own code)\n"
"  -q, --quiet       only the summary (human output)\n"
"  -h, --help        this help\n"
"\n"
"classification: sound (Forbidden/Required never violated), complete\n"
"(Allowed reached), missed (Allowed not reached), unsound (a Forbidden\n"
"outcome reached: exit 1), no verdict (none known, or no final state\n"
"reached), unsupported, parse error (the file cannot be read or is\n"
"malformed: exit 2 unless some test is unsound; the others still run).\n");
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
    return f->v[f->n] ? (f->n++, 0) : -1;
}

static void files_free(struct files *f)
{
    for (size_t i = 0; i < f->n; i++) free(f->v[i]);
    free(f->v);
    memset(f, 0, sizeof(*f));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .litmus file under dir, recursively, in sorted order. A directory
 * that cannot be read is reported (*bad set) and skipped; the others are
 * still listed. Returns -1 only when out of memory. */
static int add_dir(struct files *f, const char *dir, unsigned depth, bool *bad)
{
    DIR *d;
    struct dirent *de;
    struct files sub = { 0 };
    if (depth > LITMUS_MAX_DIR_DEPTH) {
        fprintf(stderr, "hypsim: %s: directories nested deeper than %d (a symbolic link loop?)\n",
                dir, LITMUS_MAX_DIR_DEPTH);
        *bad = true;
        return 0;
    }
    if (!(d = opendir(dir))) {
        fprintf(stderr, "hypsim: %s: cannot open: %s\n", dir, strerror(errno));
        *bad = true;
        return 0;
    }
    while ((de = readdir(d))) {
        char p[4096];
        struct stat st;
        if (de->d_name[0] == '.') continue;
        if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p)) {
            fprintf(stderr, "hypsim: %s/%s: path too long\n", dir, de->d_name);
            *bad = true;
            continue;
        }
        if (stat(p, &st) != 0) continue;
        size_t n = strlen(de->d_name);
        if (S_ISDIR(st.st_mode) || (n > 7 && !strcmp(de->d_name + n - 7, ".litmus")))
            if (files_add(&sub, p)) { closedir(d); files_free(&sub); return -1; }
    }
    closedir(d);
    if (sub.n) qsort(sub.v, sub.n, sizeof(char *), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < sub.n && !rc; i++) {
        struct stat st;
        if (stat(sub.v[i], &st) == 0 && S_ISDIR(st.st_mode)) rc = add_dir(f, sub.v[i], depth + 1, bad);
        else rc = files_add(f, sub.v[i]);
    }
    files_free(&sub);
    return rc;
}

/* kinds files found beside the tests, loaded once each */
struct kcache { char *path; struct lit_kinds k; bool ok; };
struct kcaches { struct kcache *v; size_t n, cap; };

static const struct lit_kinds *kinds_for(struct kcaches *kc, const char *test, bool *bad)
{
    char dir[4096], cand[2][4200];
    const char *slash = strrchr(test, '/');
    if (slash) snprintf(dir, sizeof(dir), "%.*s", (int)(slash - test), test);
    else snprintf(dir, sizeof(dir), ".");
    snprintf(cand[0], sizeof(cand[0]), "%s/kinds.txt", dir);
    snprintf(cand[1], sizeof(cand[1]), "%s/../kinds.txt", dir);
    for (int c = 0; c < 2; c++) {
        struct stat st;
        for (size_t i = 0; i < kc->n; i++)
            if (!strcmp(kc->v[i].path, cand[c]))
                return kc->v[i].ok ? &kc->v[i].k : NULL;
        if (stat(cand[c], &st) != 0) continue;
        if (kc->n == kc->cap) {
            size_t nc = kc->cap ? kc->cap * 2 : 8;
            struct kcache *nv = realloc(kc->v, nc * sizeof(*nv));
            if (!nv) { *bad = true; return NULL; }
            kc->v = nv;
            kc->cap = nc;
        }
        struct kcache *e = &kc->v[kc->n];
        char err[512];
        if (!(e->path = strdup(cand[c]))) { *bad = true; return NULL; }
        kc->n++;
        e->ok = lit_kinds_load(cand[c], &e->k, err, sizeof(err)) == 0;
        if (!e->ok) {
            fprintf(stderr, "hypsim: %s\n", err);
            *bad = true;
        }
        return e->ok ? &e->k : NULL;
    }
    return NULL;
}

/* A test's name when the reader did not get as far: the file name
 * without its directory and ".litmus". */
static void name_of_file(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t l = strlen(b);
    if (l > 7 && !strcmp(b + l - 7, ".litmus")) l -= 7;
    snprintf(out, n, "%.*s", (int)l, b);
}

int cmd_litmus(int argc, char **argv)
{
    struct files files = { 0 };
    const char *kinds_path = NULL;
    bool json = false, states = false, quiet = false, bad_input = false, relaxed = true;
    uint64_t max_states = 0;
    int rc = EXIT_OK;
    unsigned npaths = 0;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int urc = -1;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage_litmus(stdout); urc = EXIT_OK; }
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--states")) states = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = true;
        else if (!strcmp(a, "--kinds")) {
            if (cli_need_value(NULL, a, i + 1 < argc ? argv[i + 1] : NULL, "a file", &kinds_path))
                urc = EXIT_USAGE;
            i++;
        } else if (!strcmp(a, "--memory")) {
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (v && !strcmp(v, "sc")) relaxed = false;
            else if (v && !strcmp(v, "relaxed")) relaxed = true;
            else urc = cli_bad_value(NULL, a, v, "sc or relaxed");
            i++;
        } else if (!strcmp(a, "--max-states")) {
            if (cli_parse_u64(NULL, a, i + 1 < argc ? argv[i + 1] : NULL, 1, UINT64_MAX, &max_states))
                urc = EXIT_USAGE;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "hypsim: unknown option '%s' (see 'hypsim litmus --help')\n", a);
            urc = EXIT_USAGE;
        } else {
            /* a directory stands for its .litmus files; anything else is
             * one test (a file that cannot be read is reported as such) */
            struct stat st;
            npaths++;
            int r = (stat(a, &st) == 0 && S_ISDIR(st.st_mode)) ? add_dir(&files, a, 0, &bad_input)
                                                                 : files_add(&files, a);
            if (r) { fprintf(stderr, "hypsim: out of memory\n"); urc = EXIT_INTERNAL; }
        }
        if (urc >= 0) { files_free(&files); return urc; }
    }
    if (!files.n) {
        if (npaths && !bad_input)
            fprintf(stderr, "hypsim: litmus: no .litmus file in the director%s given\n", npaths == 1 ? "y" : "ies");
        else if (!npaths)
            usage_litmus(stderr);
        files_free(&files);
        return EXIT_USAGE;
    }

    struct lit_kinds given = { 0 };
    bool have_given = false;
    if (kinds_path) {
        char err[512];
        if (lit_kinds_load(kinds_path, &given, err, sizeof(err))) {
            fprintf(stderr, "hypsim: %s\n", err);
            files_free(&files);
            return EXIT_USAGE;
        }
        have_given = true;
    }
    struct kcaches kc = { 0 };

    cJSON *jroot = json ? cJSON_CreateObject() : NULL, *jtests = json ? cJSON_CreateArray() : NULL;
    unsigned n_sup = 0, n_unsup = 0, n_err = 0, cnt[LC_UNSOUND + 1] = { 0 };
    unsigned miss_reorder = 0, miss_other = 0, n_allowed = 0, n_forbidden = 0, n_required = 0, n_noverdict = 0;
    unsigned n_nofinal = 0;
    bool unsound = false;
    uint64_t total_states = 0;
    double t0 = cli_now_s();
    struct lit_test *t = malloc(sizeof(*t));
    if (!t || (json && (!jroot || !jtests))) {
        fprintf(stderr, "hypsim: out of memory\n");
        free(t);
        cJSON_Delete(jroot);
        cJSON_Delete(jtests);
        if (have_given) lit_kinds_free(&given);
        files_free(&files);
        return EXIT_INTERNAL;
    }

    for (size_t fi = 0; fi < files.n; fi++) {
        const char *path = files.v[fi];
        char err[768];
        if (lit_parse_file(path, t, err, sizeof(err))) {
            char name[128];
            if (t->name[0]) snprintf(name, sizeof(name), "%s", t->name);
            else name_of_file(path, name, sizeof(name));
            fprintf(stderr, "hypsim: %s\n", err);
            n_err++;
            bad_input = true;
            if (json) {
                cJSON *o2 = cJSON_CreateObject();
                cJSON_AddStringToObject(o2, "name", name);
                cJSON_AddStringToObject(o2, "file", path);
                cJSON_AddBoolToObject(o2, "supported", false);
                cJSON_AddStringToObject(o2, "reason", err);
                cJSON_AddNullToObject(o2, "verdict");
                cJSON_AddItemToObject(o2, "reached", cJSON_CreateArray());
                cJSON_AddNullToObject(o2, "condition_reachable");
                cJSON_AddStringToObject(o2, "classification", "parse error");
                cJSON_AddNumberToObject(o2, "final_states", 0);
                cJSON_AddNumberToObject(o2, "states", 0);
                cJSON_AddItemToArray(jtests, o2);
            } else if (!quiet)
                printf("%-48s parse error: %s\n", name, err);
            continue;
        }
        const struct lit_kinds *k = have_given ? &given : kinds_for(&kc, path, &bad_input);
        enum lit_verdict v = lit_kinds_find(k, t->name);
        struct lit_result r;
        struct lit_opts o = { .max_states = max_states, .memory_relaxed = relaxed };
        lit_run(t, &o, &r);
        enum lit_class c = lit_classify(v, &r);
        bool needs_reorder = false, nofinal = r.ok && r.nfinal == 0;
        if (c == LC_MISSED) {
            struct lit_result rr;
            struct lit_opts ro = { .max_states = max_states, .relaxed = true };
            if (lit_run(t, &ro, &rr) == 0 && rr.cond_some) needs_reorder = true;
            lit_result_free(&rr);
            if (needs_reorder) miss_reorder++; else miss_other++;
        }
        cnt[c]++;
        n_nofinal += nofinal;
        total_states += r.states;
        if (r.ok) {
            n_sup++;
            n_allowed += v == LV_ALLOWED;
            n_forbidden += v == LV_FORBIDDEN;
            n_required += v == LV_REQUIRED;
            n_noverdict += v == LV_NONE;
        } else
            n_unsup++;
        unsound |= c == LC_UNSOUND;
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
            cJSON_AddNumberToObject(o2, "final_states", r.nfinal);
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
                       lit_class_name(c),
                       c == LC_MISSED ? (needs_reorder ? " (needs reordering)" : " (other)")
                       : nofinal ? " (no final state: some thread never ends)" : "",
                       (unsigned long long)r.states);
                if (states || c == LC_UNSOUND)
                    for (unsigned i = 0; i < r.nfinal; i++) printf("    %s\n", r.final[i]);
            }
        }
        lit_result_free(&r);
    }
    double el = cli_now_s() - t0;
    unsigned total = n_sup + n_unsup + n_err;
    if (json) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "memory", relaxed ? "relaxed" : "sc");
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
        cJSON_AddNumberToObject(s, "no_final_state", n_nofinal);
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
        else { fprintf(stderr, "hypsim: out of memory\n"); rc = EXIT_INTERNAL; }
        cJSON_Delete(jroot);
    } else {
        printf("summary (%s memory): %u tests, %u supported (%.1f%%), %u unsupported",
               relaxed ? "relaxed" : "SC", total, n_sup, total ? 100.0 * n_sup / total : 0.0, n_unsup);
        if (n_err) printf(", %u parse error%s", n_err, n_err == 1 ? "" : "s");
        printf("\n  verdicts of supported tests: %u Allowed, %u Forbidden, %u Required, %u none\n",
               n_allowed, n_forbidden, n_required, n_noverdict);
        printf("  sound %u, complete %u, missed %u (%u need reordering of ordinary accesses, %u other), "
               "unsound %u, no verdict %u", cnt[LC_SOUND], cnt[LC_COMPLETE], cnt[LC_MISSED], miss_reorder,
               miss_other, cnt[LC_UNSOUND], cnt[LC_NO_VERDICT]);
        if (n_nofinal) printf(" (%u with no final state)", n_nofinal);
        printf("\n  %llu states in %.2f s (%.1f tests/s)\n", (unsigned long long)total_states, el,
               el > 0 ? total / el : 0.0);
    }
    free(t);
    for (size_t i = 0; i < kc.n; i++) { free(kc.v[i].path); if (kc.v[i].ok) lit_kinds_free(&kc.v[i].k); }
    free(kc.v);
    if (have_given) lit_kinds_free(&given);
    files_free(&files);
    if (rc == EXIT_OK)
        rc = unsound ? EXIT_VIOLATION : bad_input ? EXIT_USAGE : EXIT_OK;
    return rc;
}
