/*
 * tests/unit/test_util.c - util/: the LSE disassembler (checked against GNU
 * objdump's spelling of every form, from tests made with
 * aarch64-linux-gnu-as -march=armv8.1-a), output path checks, and the ELF
 * symbolizer on the build's KCore.
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

#include "util/a64lse.h"
#include "util/elfsym.h"
#include "util/fsutil.h"

/* Issue 14: logs printed ".inst 0xf8a20002" for LDADDA (Capstone 4). */
static void test_a64_lse_disasm_objdump(void **state)
{
    static const struct { uint32_t insn; const char *want; } t[] = {
        { 0xc8e1fc02u, "casal x1, x2, [x0]" },
        { 0x88a37ca4u, "cas w3, w4, [x5]" },
        { 0xc8e67fe7u, "casa x6, x7, [sp]" },
        { 0x88a8fd49u, "casl w8, w9, [x10]" },
        { 0x08a17c62u, "casb w1, w2, [x3]" },
        { 0x48e4fcc5u, "casalh w4, w5, [x6]" },
        { 0x08e17c62u, "casab w1, w2, [x3]" },
        { 0xf8210062u, "ldadd x1, x2, [x3]" },
        { 0xf8a20002u, "ldadda x2, x2, [x0]" },
        { 0xb8e10062u, "ldaddal w1, w2, [x3]" },
        { 0xf86400c5u, "ldaddl x4, x5, [x6]" },
        { 0x38e10062u, "ldaddalb w1, w2, [x3]" },
        { 0x78210062u, "ldaddh w1, w2, [x3]" },
        { 0xf8211062u, "ldclr x1, x2, [x3]" },
        { 0xb8e113e2u, "ldclral w1, w2, [sp]" },
        { 0xf8212062u, "ldeor x1, x2, [x3]" },
        { 0xf8213062u, "ldset x1, x2, [x3]" },
        { 0xf8e13062u, "ldsetal x1, x2, [x3]" },
        { 0xf8214062u, "ldsmax x1, x2, [x3]" },
        { 0xb8215062u, "ldsmin w1, w2, [x3]" },
        { 0xf8216062u, "ldumax x1, x2, [x3]" },
        { 0xb8e17062u, "lduminal w1, w2, [x3]" },
        { 0xf8218062u, "swp x1, x2, [x3]" },
        { 0xf8e18062u, "swpal x1, x2, [x3]" },
        { 0xb8a18062u, "swpa w1, w2, [x3]" },
        { 0xf8618062u, "swpl x1, x2, [x3]" },
        { 0x38218062u, "swpb w1, w2, [x3]" },
        { 0x78e18062u, "swpalh w1, w2, [x3]" },
        { 0xf821007fu, "stadd x1, [x3]" },
        { 0xb861007fu, "staddl w1, [x3]" },
        { 0xf821107fu, "stclr x1, [x3]" },
        { 0xb82133ffu, "stset w1, [sp]" },
        { 0x3861207fu, "steorlb w1, [x3]" },
        { 0x7822609fu, "stumaxh w2, [x4]" },
        { 0xf83f0062u, "ldadd xzr, x2, [x3]" },
        { 0xf821007fu, "stadd x1, [x3]" },
        { 0xf8a1007fu, "ldadda x1, xzr, [x3]" },
        { 0xf83f807fu, "swp xzr, xzr, [x3]" },
        { 0x48207c82u, "casp x0, x1, x2, x3, [x4]" },
        { 0x0860fc82u, "caspal w0, w1, w2, w3, [x4]" },
        { 0x48647fe6u, "caspa x4, x5, x6, x7, [sp]" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char b[80] = "";
        if (!a64_lse_disasm(t[i].insn, b, sizeof(b)) || strcmp(b, t[i].want))
            fail_msg("0x%08x: got '%s', objdump says '%s'", t[i].insn, b, t[i].want);
    }
}

static void test_a64_lse_disasm_not_lse(void **state)
{
    static const uint32_t t[] = {
        0xf9400022u,   /* ldr x2, [x1] */
        0xc85f7c01u,   /* ldxr x1, [x0] */
        0xc8dffc01u,   /* ldar x1, [x0] */
        0xf8bfc062u,   /* ldapr x2, [x3] (RCpc, not LSE) */
        0xd503201fu,   /* nop */
        0xb8216862u,   /* str w2, [x3, x1] (register offset, bit 21 set too) */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char b[80] = "untouched";
        if (a64_lse_disasm(t[i], b, sizeof(b)) || strcmp(b, "untouched"))
            fail_msg("0x%08x decoded as '%s'", t[i], b);
    }
}

static void test_fs_check_output(void **state)
{
    char err[512], fifo[64];
    (void)state;
    assert_int_equal(fs_check_output("/nonexistent/dir/x.json", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/dir/x.json: directory /nonexistent/dir: No such file"));
    assert_int_equal(fs_check_output("/tmp", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a directory"));
    assert_int_equal(fs_check_output("/etc/passwd/x", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ot a directory"));
    assert_int_equal(fs_check_output("/dev/null", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "character device"));
    snprintf(fifo, sizeof(fifo), "/tmp/test_util_fifo_%d", (int)getpid());
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(fs_check_output(fifo, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "FIFO"));
    unlink(fifo);
    assert_int_equal(fs_check_output("/tmp/test_util_new_file.json", err, sizeof(err)), 0);
    assert_int_equal(access("/tmp/test_util_new_file.json", F_OK), -1);   /* nothing created */
    assert_int_equal(fs_check_output("relative-new-file.json", err, sizeof(err)), 0);
    assert_int_equal(fs_check_output("", err, sizeof(err)), -1);
}

static void test_fs_read_regular(void **state)
{
    char path[] = "/tmp/test_util_XXXXXX", err[512], *buf;
    size_t n;
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello", 5), 5);
    close(fd);
    assert_int_equal(fs_read_regular(path, 5, &buf, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 5);
    assert_string_equal(buf, "hello");
    free(buf);
    assert_int_equal(fs_read_regular(path, 4, &buf, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "5 bytes: larger than the 4-byte limit"));
    unlink(path);
}

/* Issue 14: PCs were never symbolized although the ELF has symbols. */
static void test_elfsym_kcore(void **state)
{
    char err[256], b[160];
    struct elfsym *s;
    struct elfsym_loc l;
    (void)state;
#ifndef HYPSIM_HAVE_LIBDW
    skip();
#endif
    if (access(HYPSIM_KCORE_ELF, R_OK) != 0)
        skip();
    s = elfsym_open(HYPSIM_KCORE_ELF, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    /* the entry point is _start or its like: some symbol, offset 0 */
    assert_true(elfsym_lookup(s, 0, &l));
    assert_non_null(l.func);
    elfsym_format(s, 0, b, sizeof(b));
    assert_non_null(strstr(b, "+0x0"));
    elfsym_close(s);
    assert_null(elfsym_open("/nonexistent.elf", err, sizeof(err)));
    assert_string_equal(elfsym_format(NULL, 0x1000, b, sizeof(b)), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a64_lse_disasm_objdump),
        cmocka_unit_test(test_a64_lse_disasm_not_lse),
        cmocka_unit_test(test_fs_check_output),
        cmocka_unit_test(test_fs_read_regular),
        cmocka_unit_test(test_elfsym_kcore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
