/*
 * tests/unit/test_litmus_input.c - litmus/ on bad input (issue 14): every
 * reader is bounded and strict. Nesting, integer widths, file kinds and
 * sizes, thread limits and verdict files each have a case that failed on
 * the reader before the issue (a crash, a hang, a silently wrong value or
 * an error that blamed the wrong thing), and the classification of a
 * test that reaches no final state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>

#include "litmus/litmus.h"

#ifndef HYPSIM_LITMUS_REGRESS
#define HYPSIM_LITMUS_REGRESS "tests/fuzz/litmus-regress"
#endif

/* Parse text: returns lit_parse's result, err holds the message. */
static int parse(const char *text, struct lit_test **tp, char *err, size_t errlen)
{
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    err[0] = 0;
    int rc = lit_parse("in.litmus", text, t, err, errlen);
    *tp = t;
    return rc;
}

/* "AArch64 t / init / P0 / LDR X0,[X1] / exists COND" with COND given */
static char *with_condition(const char *prefix, size_t n, const char *atom, const char *suffix)
{
    size_t pl = strlen(prefix), al = strlen(atom), sl = strlen(suffix);
    const char *head = "AArch64 t\n{ int x; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists ";
    size_t hl = strlen(head);
    char *s = malloc(hl + n * (pl + sl) + al + 2);
    assert_non_null(s);
    char *p = s;
    memcpy(p, head, hl); p += hl;
    for (size_t i = 0; i < n; i++) { memcpy(p, prefix, pl); p += pl; }
    memcpy(p, atom, al); p += al;
    for (size_t i = 0; i < n; i++) { memcpy(p, suffix, sl); p += sl; }
    *p++ = '\n';
    *p = 0;
    return s;
}

/* ---- recursion ----------------------------------------------------------- */
static void test_lit_parse_deep_condition_is_an_error(void **st)
{
    (void)st;
    static const struct { const char *pre, *suf; } nest[] = {
        { "(", ")" }, { "~", "" }, { "not ", "" }, { "~(", ")" },
    };
    char err[512];
    for (unsigned k = 0; k < sizeof(nest) / sizeof(nest[0]); k++) {
        struct lit_test *t;
        char *s = with_condition(nest[k].pre, 100000, "0:X0=0", nest[k].suf);
        assert_int_equal(parse(s, &t, err, sizeof(err)), -1);   /* was: SIGSEGV */
        assert_non_null(strstr(err, "in.litmus:5: condition nested deeper than"));
        free(s);
        free(t);
    }
    /* nesting within the limit is read as before */
    struct lit_test *t;
    char *s = with_condition("(", LIT_MAX_DEPTH - 1, "0:X0=0", ")");
    assert_int_equal(parse(s, &t, err, sizeof(err)), 0);
    assert_string_equal(t->unsupported, "");
    free(s);
    free(t);
}

/* ---- integers ------------------------------------------------------------ */
static void test_lit_parse_integer_overflow_is_an_error(void **st)
{
    (void)st;
    static const struct { const char *text; const char *where; } cases[] = {
        /* init value (was: 0xffffffffffffffff) */
        { "AArch64 t\n{ int x=100000000000000000000000000; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists 0:X0=0\n",
          "in.litmus:2: integer 100000000000000000000000000 out of range" },
        /* condition value */
        { "AArch64 t\n{ int x; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists 0:X0=100000000000000000000000000\n",
          "in.litmus:5: integer 100000000000000000000000000 out of range" },
        /* below INT64_MIN (was: silently 2^63-1) */
        { "AArch64 t\n{ int x=-100000000000000000000; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists 0:X0=0\n",
          "in.litmus:2: integer -100000000000000000000 out of range" },
        /* a thread number (was: thread 0) */
        { "AArch64 t\n{ int x; 100000000000000000000000000:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists 0:X0=0\n",
          "in.litmus:2: " },
        /* a descriptor field (was: 0) */
        { "AArch64 t\n{ int x; pte_x=(af:100000000000000000000000000); 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\n"
          "exists 0:X0=0\n", "in.litmus:2: " },
        { "AArch64 t\n{ int x; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists 100000000000000000000000000:X0=0\n",
          "in.litmus:5: " },
    };
    char err[512];
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct lit_test *t;
        int rc = parse(cases[k].text, &t, err, sizeof(err));
        if (rc != -1 || !strstr(err, cases[k].where))
            print_error("case %u: rc %d, '%s'\n", k, rc, err);
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err, cases[k].where));
        free(t);
    }
    /* the widest values still read: 2^64-1 and INT64_MIN */
    struct lit_test *t;
    assert_int_equal(parse("AArch64 t\n{ int x=0xffffffffffffffff; int y=-9223372036854775808; 0:X1=x; }\n"
                           " P0 ;\n LDR X0,[X1] ;\nexists 0:X0=0\n", &t, err, sizeof(err)), 0);
    assert_true(t->loc[0].init == UINT64_MAX);
    assert_true(t->loc[1].init == (uint64_t)INT64_MIN);
    free(t);
}

/* ---- files ------------------------------------------------------------------ */
static void test_lit_parse_file_refuses_fifo_device_directory(void **st)
{
    (void)st;
    char dir[] = "/tmp/hypsim_litmus_XXXXXX", fifo[64], err[512];
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/f.litmus", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* a FIFO without a writer: refused at once (was: blocked for ever) */
    assert_int_equal(lit_parse_file(fifo, t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
    /* a device without end (was: read until memory ran out) */
    assert_int_equal(lit_parse_file("/dev/zero", t, err, sizeof(err)), -1);
    assert_string_equal(err, "/dev/zero: not a regular file");
    assert_int_equal(lit_parse_file(dir, t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a directory"));
    unlink(fifo);
    rmdir(dir);
    free(t);
}

static void test_lit_parse_file_size_cap(void **st)
{
    (void)st;
    char path[] = "/tmp/hypsim_litmus_big_XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    const char *head = "AArch64 big\n{ int x; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\nexists 0:X0=0\n";
    fputs(head, f);
    for (size_t n = strlen(head); n <= LIT_MAX_FILE_BYTES; n += 64)
        fputs("(* padding, padding, padding, padding, padding, padding, pad *)\n", f);
    fclose(f);
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    assert_int_equal(lit_parse_file(path, t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "file too large"));
    /* just under the cap: read */
    assert_int_equal(truncate(path, LIT_MAX_FILE_BYTES - 10), 0);
    f = fopen(path, "a");
    fputs("\n", f);
    fclose(f);
    int rc = lit_parse_file(path, t, err, sizeof(err));
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
    unlink(path);
    free(t);
}

/* ---- threads ----------------------------------------------------------------- */
static void test_lit_parse_thread_limit_is_named(void **st)
{
    (void)st;
    char err[512];
    struct lit_test *t;
    /* 7 threads: unsupported, with the limit */
    assert_int_equal(parse("AArch64 t\n{ int x; 0:X1=x; }\n P0 | P1 | P2 | P3 | P4 | P5 | P6 ;\n"
                           " LDR X0,[X1] | NOP | NOP | NOP | NOP | NOP | NOP ;\nexists 0:X0=0\n",
                           &t, err, sizeof(err)), 0);
    assert_non_null(strstr(t->unsupported, "more than 6 threads"));
    free(t);
    /* 13 threads (was: "more columns than threads", a parse error) */
    char text[1024] = "AArch64 t13\n{ int x; 0:X1=x; }\n P0";
    for (int i = 1; i < 13; i++) snprintf(text + strlen(text), sizeof(text) - strlen(text), " | P%d", i);
    strcat(text, " ;\n NOP");
    for (int i = 1; i < 13; i++) strcat(text, " | NOP");
    strcat(text, " ;\nexists (fault(P12))\n");
    assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
    assert_string_equal(t->name, "t13");
    assert_non_null(strstr(t->unsupported, "more than 6 threads (the model runs P0-P5)"));
    free(t);
    /* a row wider than the header: says what the header has */
    assert_int_equal(parse("AArch64 t\n{ int x; 0:X1=x; }\n P0 | P1 ;\n NOP | NOP | NOP ;\nexists 0:X0=0\n",
                           &t, err, sizeof(err)), -1);
    assert_string_equal(err, "in.litmus:4: more columns than the thread table header names (2)");
    free(t);
    /* one thread named twice (was: both columns merged into one thread) */
    assert_int_equal(parse("AArch64 t\n{ int x; 0:X1=x; }\n P0 | P0 ;\n NOP | NOP ;\nexists 0:X0=0\n",
                           &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "in.litmus:3: thread P0 named twice"));
    free(t);
    /* a thread number too wide for atoi (was: undefined behaviour) */
    assert_int_equal(parse("AArch64 t\n{ }\n P0 | P99999999999999999999 ;\n NOP | NOP ;\nexists 0:X0=0\n",
                           &t, err, sizeof(err)), 0);
    assert_non_null(strstr(t->unsupported, "more than 6 threads"));
    free(t);
}

/* ---- verdict files --------------------------------------------------------- */
static int kinds_from(const char *text, struct lit_kinds *k, char *err, size_t errlen)
{
    char path[] = "/tmp/hypsim_kinds_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    int rc = lit_kinds_load(path, k, err, errlen);
    /* messages name the file */
    if (rc) assert_non_null(strstr(err, path));
    unlink(path);
    return rc;
}

static void test_lit_kinds_garbage_is_an_error(void **st)
{
    (void)st;
    static const struct { const char *text, *msg; } bad[] = {
        { "garbage here\n", ":1: unknown verdict 'here'" },
        { "A Allowed\nB Forbidden\nthis is not a verdict line\n", ":3: more than 3 words" },
        { "A Allowed\nlonely\n", ":2: expected 'NAME VERDICT'" },
        { "A Allowed\nB Maybe src\n", ":2: unknown verdict 'Maybe'" },
        { "", "no verdicts" },
        { "# only comments\n\n", "no verdicts" },
        { "A Allowed\n\x01\x02\x03 \x04\n", ":2: unknown verdict" },
    };
    char err[512];
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct lit_kinds k;
        int rc = kinds_from(bad[i].text, &k, err, sizeof(err));
        if (rc != -1 || !strstr(err, bad[i].msg)) print_error("case %u: rc %d '%s'\n", i, rc, err);
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err, bad[i].msg));
        assert_int_equal(k.n, 0);
    }
    struct lit_kinds k;
    assert_int_equal(lit_kinds_load("/dev/zero", &k, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
}

static void test_lit_kinds_herd_and_isla_formats(void **st)
{
    (void)st;
    char err[512];
    struct lit_kinds k;
    int rc = kinds_from(
        "# herd\nA   Allowed\nB Forbid # note\nC Required\nA Forbidden\nGluedAllow\n"
        "# isla: NAME allowed|forbidden SOURCE\n"
        "CoRR0.alias+po forbidden esop22-csv\nCoRpteT+addr allowed regression-2022-12-21\n",
        &k, err, sizeof(err));
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(lit_kinds_find(&k, "A"), LV_ALLOWED);     /* the first wins */
    assert_int_equal(lit_kinds_find(&k, "B"), LV_FORBIDDEN);
    assert_int_equal(lit_kinds_find(&k, "C"), LV_REQUIRED);
    assert_int_equal(lit_kinds_find(&k, "Glued"), LV_ALLOWED);   /* herd's catalogue has two */
    assert_int_equal(lit_kinds_find(&k, "CoRR0.alias+po"), LV_FORBIDDEN);
    assert_int_equal(lit_kinds_find(&k, "CoRpteT+addr"), LV_ALLOWED);
    assert_int_equal(lit_kinds_find(&k, "D"), LV_NONE);
    assert_int_equal(lit_kinds_find(NULL, "A"), LV_NONE);
    lit_kinds_free(&k);
}

/* ---- classification --------------------------------------------------------- */
static void test_lit_classify_no_final_state_is_no_verdict(void **st)
{
    (void)st;
    char err[512];
    struct lit_test *t;
    /* P0 spins for ever: no final state. Forbidden must not become "sound"
     * (nor Required, nor Allowed "missed") */
    assert_int_equal(parse("AArch64 spin\n{ int x; 0:X1=x; }\n P0 ;\n L0: ;\n B L0 ;\nexists 0:X0=1\n",
                           &t, err, sizeof(err)), 0);
    struct lit_result r;
    assert_int_equal(lit_run(t, NULL, &r), 0);
    assert_true(r.ok);
    assert_int_equal(r.nfinal, 0);
    assert_int_equal(lit_classify(LV_FORBIDDEN, &r), LC_NO_VERDICT);
    assert_int_equal(lit_classify(LV_REQUIRED, &r), LC_NO_VERDICT);
    assert_int_equal(lit_classify(LV_ALLOWED, &r), LC_NO_VERDICT);
    assert_int_equal(lit_classify(LV_NONE, &r), LC_NO_VERDICT);
    lit_result_free(&r);
    free(t);
    /* a loop that ends is explored as before */
    assert_int_equal(parse("AArch64 loop\n{ int x=3; 0:X1=x; }\n P0 ;\n LDR X0,[X1] ;\n L0: ;\n"
                           " SUB X0,X0,#1 ;\n CBNZ X0,L0 ;\nexists 0:X0=0\n", &t, err, sizeof(err)), 0);
    assert_int_equal(lit_run(t, NULL, &r), 0);
    assert_int_equal(r.nfinal, 1);
    assert_int_equal(lit_classify(LV_REQUIRED, &r), LC_SOUND);
    lit_result_free(&r);
    free(t);
}

/* ---- inputs the fuzzer found (tests/fuzz/litmus-regress/) -------------------- */
static void test_lit_fuzz_regressions_read_and_run(void **st)
{
    (void)st;
    DIR *d = opendir(HYPSIM_LITMUS_REGRESS);
    struct dirent *de;
    unsigned n = 0;
    char path[1024], err[768];
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(d);
    assert_non_null(t);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        snprintf(path, sizeof(path), "%s/%s", HYPSIM_LITMUS_REGRESS, de->d_name);
        /* each once crashed or hung: now read (or refused with one line)
         * and, if read, explored within a small bound */
        if (lit_parse_file(path, t, err, sizeof(err)) == 0) {
            struct lit_opts o = { .max_states = 300, .relaxed = false };
            struct lit_result r;
            lit_run(t, &o, &r);
            lit_result_free(&r);
            o.relaxed = true;
            lit_run(t, &o, &r);
            lit_result_free(&r);
        } else
            assert_null(strchr(err, '\n'));
        n++;
    }
    closedir(d);
    free(t);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lit_parse_deep_condition_is_an_error),
        cmocka_unit_test(test_lit_parse_integer_overflow_is_an_error),
        cmocka_unit_test(test_lit_parse_file_refuses_fifo_device_directory),
        cmocka_unit_test(test_lit_parse_file_size_cap),
        cmocka_unit_test(test_lit_parse_thread_limit_is_named),
        cmocka_unit_test(test_lit_kinds_garbage_is_an_error),
        cmocka_unit_test(test_lit_kinds_herd_and_isla_formats),
        cmocka_unit_test(test_lit_classify_no_final_state_is_no_verdict),
        cmocka_unit_test(test_lit_fuzz_regressions_read_and_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
