/*
 * tests/unit/test_litmus_insn.c - the A64 integer forms of the litmus
 * decoder (litmus/decode.c) and their semantics in the explorer
 * (litmus/explore.c), one single-thread test per group of instructions:
 * the one final state must satisfy the expected values, each computed by
 * hand from the Arm ARM pseudocode (C6 "A64 Base Instruction
 * Descriptions"). Then forms the architecture does not have (malformed),
 * forms outside the subset (unsupported), and EL0 threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "litmus/litmus.h"

/* "AArch64 NAME / { init } / P0 ; / one code row per line of code / exists (cond)" */
static char *one_thread(const char *init, const char *code, const char *cond)
{
    static char buf[8192];
    size_t at = (size_t)snprintf(buf, sizeof(buf), "AArch64 insn\n{ %s }\n P0 ;\n", init);
    const char *p = code;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        at += (size_t)snprintf(buf + at, sizeof(buf) - at, " %.*s ;\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    snprintf(buf + at, sizeof(buf) - at, "exists (%s)\n", cond);
    return buf;
}

/* The test runs to exactly one final state, in which cond holds. */
static void expect(const char *init, const char *code, const char *cond)
{
    char err[512];
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    const char *text = one_thread(init, code, cond);
    int rc = lit_parse("insn.litmus", text, t, err, sizeof(err));
    if (rc || t->unsupported[0]) print_error("%s%s\n%s", err, t->unsupported, text);
    assert_int_equal(rc, 0);
    assert_string_equal(t->unsupported, "");
    struct lit_result r;
    rc = lit_run(t, NULL, &r);
    if (rc || r.nfinal != 1 || !r.cond_some)
        print_error("%s\n%u final states: %s\n", text, r.nfinal, r.nfinal ? r.final[0] : r.error);
    assert_int_equal(rc, 0);
    assert_int_equal(r.nfinal, 1);
    assert_true(r.cond_some);
    lit_result_free(&r);
    free(t);
}

/* lit_decode's verdict on one instruction: 0 read, -1 malformed (a parse
 * error), 1 unsupported. */
static int decoded(const char *insn)
{
    char err[512], code[256];
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    snprintf(code, sizeof(code), "%s\nL9:", insn);
    int rc = lit_parse("insn.litmus", one_thread("0:X1=x;", code, "0:X0=0"), t, err, sizeof(err));
    int v = rc ? -1 : t->unsupported[0] ? 1 : 0;
    free(t);
    return v;
}

static void test_lit_insn_move_wide(void **st)
{
    (void)st;
    expect("0:X3=0x1111222233334444; 0:X4=0xffffffff00000000;",
           "MOVZ X0,#0x1234,LSL #16\nMOVN W1,#0\nMOVN X2,#1\nMOVK X3,#0xbeef,LSL #16\nMOVK W4,#0xffff\n"
           "MOVZ X5,#0xffff,LSL #48",
           "0:X0=0x12340000 /\\ 0:X1=0xffffffff /\\ 0:X2=0xfffffffffffffffe /\\ "
           "0:X3=0x11112222beef4444 /\\ 0:X4=0xffff /\\ 0:X5=0xffff000000000000");
}

static void test_lit_insn_shifted_and_extended_operands(void **st)
{
    (void)st;
    expect("0:X1=1; 0:X2=2; 0:X5=0x8000000000000000; 0:X7=0xff;",
           "ADD X0,X1,X2,LSL #4\nSUB W3,W1,W2,LSR #1\nADD X4,XZR,X5,ASR #4\nEOR X6,X1,X7,ROR #8\n"
           "ORR W8,WZR,W2,LSL #31\nBIC X9,X7,X1,LSL #1\nORN X10,XZR,X7\nEON W11,W7,WZR",
           "0:X0=33 /\\ 0:X3=0 /\\ 0:X4=0xf800000000000000 /\\ 0:X6=0xff00000000000001 /\\ "
           "0:X8=0 /\\ 0:X9=0xfd /\\ 0:X10=0xffffffffffffff00 /\\ 0:X11=0xffffff00");
    expect("0:X1=10; 0:X2=0xffffffff; 0:X5=0x80;",
           "ADD X0,X1,W2,SXTW\nADD X3,X1,W2,UXTW #2\nSUB X4,X1,W5,SXTB\nADD W6,W1,W5,UXTB\n"
           "ADD X7,X1,X5,UXTX #1\nADD X8,X1,#1,LSL #12",
           "0:X0=9 /\\ 0:X3=0x400000006 /\\ 0:X4=138 /\\ 0:X6=138 /\\ 0:X7=266 /\\ 0:X8=4106");
}

static void test_lit_insn_flags(void **st)
{
    (void)st;
    /* ADDS: 2^64-1 + 1 = 0, Z and C */
    expect("0:X1=0xffffffffffffffff;", "ADDS X0,X1,#1\nCSET X2,CS\nCSET X3,EQ\nCSET X4,VS",
           "0:X0=0 /\\ 0:X2=1 /\\ 0:X3=1 /\\ 0:X4=0");
    /* SUBS W: 0 - 1 = 0xffffffff, N, borrow (C clear) */
    expect("0:X5=0;", "SUBS W4,W5,#1\nCSET X6,MI\nCSET X7,LO\nCSET X8,GE",
           "0:X4=0xffffffff /\\ 0:X6=1 /\\ 0:X7=1 /\\ 0:X8=0");
    /* signed overflow of a 32-bit add: V, and N = V, so GE (the true sum is positive) */
    expect("0:X16=0x7fffffff;", "ADDS W15,W16,#1\nCSET X17,VS\nCSET X18,LT",
           "0:X15=0x80000000 /\\ 0:X17=1 /\\ 0:X18=0");
    /* CMN, TST, ANDS, BICS, CMP with a shifted register, NEGS */
    expect("0:X8=0xffffffffffffffff; 0:X10=3; 0:X13=0x80000000; 0:X2=4;",
           "CMN X8,#1\nCSET X9,EQ\nTST X10,#4\nCSET X11,EQ\nANDS W12,W13,#0x80000000\nCSET X14,MI\n"
           "BICS X15,X10,X10\nCSET X16,EQ\nCMP X2,X10,LSL #1\nCSET X17,LT\nNEGS X18,XZR\nCSET X19,CS",
           "0:X9=1 /\\ 0:X11=1 /\\ 0:X12=0x80000000 /\\ 0:X14=1 /\\ 0:X15=0 /\\ 0:X16=1 /\\ "
           "0:X17=1 /\\ 0:X18=0 /\\ 0:X19=1");
}

static void test_lit_insn_negate_shift_multiply(void **st)
{
    (void)st;
    expect("0:X1=5; 0:X3=0;", "NEG X0,X1\nMVN W2,W3\nNEG W4,W1,LSL #1",
           "0:X0=0xfffffffffffffffb /\\ 0:X2=0xffffffff /\\ 0:X4=0xfffffff6");
    expect("0:X1=0x8000000000000000; 0:X3=1; 0:X5=65; 0:X7=0x80000000; 0:X8=31; 0:X11=3; 0:X12=7; "
           "0:X14=0x10000;",
           "ASR X0,X1,#63\nROR W2,W3,#4\nLSL X4,X1,X5\nLSR W6,W7,W8\nASR W9,W7,#31\nMUL X10,X11,X12\n"
           "MUL W13,W14,W14\nRORV X15,X3,X3\nASRV X16,X1,X8",
           "0:X0=0xffffffffffffffff /\\ 0:X2=0x10000000 /\\ 0:X4=0 /\\ 0:X6=1 /\\ 0:X9=0xffffffff /\\ "
           "0:X10=21 /\\ 0:X13=0 /\\ 0:X15=0x8000000000000000 /\\ 0:X16=0xffffffff00000000");
}

static void test_lit_insn_conditional_select(void **st)
{
    (void)st;
    /* NE holds (0 != 1), EQ does not */
    expect("0:X1=7; 0:X2=3; 0:X3=0;",
           "CMP X3,#1\nCSINC X0,X1,X2,EQ\nCSINV X4,X1,X2,EQ\nCSNEG X5,X1,X2,EQ\nCSINC X6,X1,X2,NE\n"
           "CINC X7,X1,NE\nCSETM X8,NE\nCNEG X9,X1,NE\nCINV W10,W1,EQ\nCSETM W11,EQ",
           "0:X0=4 /\\ 0:X4=0xfffffffffffffffc /\\ 0:X5=0xfffffffffffffffd /\\ 0:X6=7 /\\ 0:X7=8 /\\ "
           "0:X8=0xffffffffffffffff /\\ 0:X9=0xfffffffffffffff9 /\\ 0:X10=7 /\\ 0:X11=0");
}

static void test_lit_insn_bitfield_extract(void **st)
{
    (void)st;
    expect("0:X1=0xabcd; 0:X4=0x80000000; 0:X6=0x1ff; 0:X8=0x8000;",
           "UBFX X0,X1,#4,#8\nSBFX X2,X1,#4,#8\nSXTW X3,W4\nUXTB W5,W6\nSXTH W7,W8\nUXTH W9,W6\n"
           "SXTB X10,W6\nUBFX W11,W4,#31,#1",
           "0:X0=0xbc /\\ 0:X2=0xffffffffffffffbc /\\ 0:X3=0xffffffff80000000 /\\ 0:X5=0xff /\\ "
           "0:X7=0xffff8000 /\\ 0:X9=0x1ff /\\ 0:X10=0xffffffffffffffff /\\ 0:X11=1");
}

static void test_lit_insn_test_bit_and_branch(void **st)
{
    (void)st;
    expect("0:X0=8; 0:X2=1;",
           "TBNZ X0,#3,L1\nMOV X1,#1\nL1:\nTBZ W2,#0,L2\nMOV X3,#1\nL2:\nTBZ X0,#63,L3\nMOV X4,#1\nL3:",
           "0:X1=0 /\\ 0:X3=1 /\\ 0:X4=0");
}

static void test_lit_insn_access_sizes(void **st)
{
    (void)st;
    expect("int64_t x=0x8877665544332211; 0:X1=x; 0:X6=0xaa;",
           "LDRB W0,[X1]\nLDRH W2,[X1,#2]\nLDRSB X3,[X1,#7]\nLDRSW X4,[X1,#4]\nLDRSH W5,[X1,#6]\n"
           "LDAPUR W9,[X1,#4]\nLDURSB W10,[X1,#1]\nLDARB W11,[X1]\nSTRB W6,[X1]\nSTURH W6,[X1,#6]\n"
           "LDR X7,[X1]",
           "0:X0=0x11 /\\ 0:X2=0x4433 /\\ 0:X3=0xffffffffffffff88 /\\ 0:X4=0xffffffff88776655 /\\ "
           "0:X5=0xffff8877 /\\ 0:X9=0x88776655 /\\ 0:X10=0x22 /\\ 0:X11=0x11 /\\ "
           "0:X7=0x00aa6655443322aa /\\ [x]=0x00aa6655443322aa");
    /* index register shifted by log2(size) */
    /* (SXTW of -8 from y is the last word of x's page, UXTW would fault) */
    expect("int64_t x=0x8877665544332211; int y; 0:X1=x; 0:X2=1; 0:X3=0xfffffff8; 0:X12=y; 0:X6=9;",
           "LDRH W0,[X1,X2,LSL #1]\nLDRB W4,[X1,W2,UXTW]\nLDR W5,[X1,W2,SXTW #2]\nLDR X6,[X12,W3,SXTW]",
           "0:X0=0x4433 /\\ 0:X4=0x22 /\\ 0:X5=0x88776655 /\\ 0:X6=0 /\\ ~fault(P0)");
}

static void test_lit_insn_pre_and_post_index(void **st)
{
    (void)st;
    expect("int x=5; int y=6; 0:X1=x;",
           "LDR X0,[X1],#8\nLDR X2,[X1,#-8]!\nSTR X0,[X1,#0]!\nADD X3,X1,#0",
           "0:X0=5 /\\ 0:X2=5 /\\ 0:X1=x /\\ 0:X3=x");
    /* a faulting access makes no writeback (herd: no other effect) */
    char err[512];
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    assert_int_equal(lit_parse("pi.litmus",
        "AArch64 pi\nVariant=skip\n{ int y; pte_y=(oa:phy_y, valid:0); 0:X3=y; }\n P0 ;\n"
        " LDR X4,[X3,#8]! ;\n STR X4,[X3],#16 ;\nexists (0:X3=y /\\ fault(P0,y,MMU:Translation))\n",
        t, err, sizeof(err)), 0);
    struct lit_result r;
    assert_int_equal(lit_run(t, NULL, &r), 0);
    assert_int_equal(r.nfinal, 1);
    assert_true(r.cond_all);
    lit_result_free(&r);
    free(t);
}

static void test_lit_insn_lse_and_exclusive_sizes(void **st)
{
    (void)st;
    /* byte/halfword atomics act on that many bytes only */
    expect("int64_t x=0x1ff; 0:X1=x; 0:X0=1; 0:X3=0x10000; 0:X4=0xab;",
           "LDADDB W0,W2,[X1]\nCASH W3,W4,[X1]\nSWPALB W0,W5,[X1]\nSTSETLH W0,[X1]",
           "0:X2=0xff /\\ 0:X3=0x100 /\\ 0:X5=0 /\\ [x]=0x101");
    expect("int64_t x=0x1122; 0:X1=x; 0:X6=0x33;",
           "LDXRB W0,[X1]\nSTXRB W2,W6,[X1]\nLDAXRH W3,[X1]\nSTLXRH W4,W3,[X1]",
           "0:X0=0x22 /\\ 0:X2=0 /\\ 0:X3=0x1133 /\\ 0:X4=0 /\\ [x]=0x1133");
}

static void test_lit_insn_malformed_and_unsupported(void **st)
{
    (void)st;
    /* the architecture has no such form: an error */
    static const char *bad[] = {
        "LDRB X0,[X1]", "STRB X0,[X1]", "LDRSW W0,[X1]", "MOVZ X0,#0x10000", "MOVK X0,#1,LSL #8",
        "MOVZ W0,#1,LSL #32", "UBFX X0,X1,#60,#8", "ADD X0,X1,X2,ROR #1", "LSL X0,X1,#64",
        "TBZ W0,#32,L9", "CINC X0,X1,AL", "ADD X0,X1,X2,LSL #64", "MUL X0,X1,#2",
        "LDUR X0,[X1,X2]", "LDAR X0,[X1,#8]", "ADD X0,X1,#4096,LSL #12",
        "UXTB X0,W1", "SXTW W0,W1", "LDR X0,[X1,#8]!,#8", "CSINC X0,X1,W2,EQ", "STXRB W2,X0,[X1]",
        "SWPB X0,X2,[X1]", "ADD X0,X1,X2,X3,X4,X5,X6",   /* 7 operands (was: a write past struct ops, UBSan) */
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (decoded(bad[i]) != -1) print_error("'%s' read\n", bad[i]);
        assert_int_equal(decoded(bad[i]), -1);
    }
    /* real instructions outside the subset: unsupported, never guessed
     * (as is any bracketed operand the decoder cannot read, as before) */
    static const char *unsup[] = {
        "LDRH W0,[X1,X2,LSL #3]", "LDR X0,[X1,X2,ROR #3]",
        "LDP X0,X2,[X1]", "STP X0,X2,[X1]", "UDIV X0,X1,X2", "LDR X1,[X1],#8", "STR X1,[X1,#8]!",
        "DC CIVAC,X1", "MRS X0,ESR_EL1", "CASP X0,X1,X2,X3,[X1]", "SVC #0",
    };
    for (unsigned i = 0; i < sizeof(unsup) / sizeof(unsup[0]); i++) {
        if (decoded(unsup[i]) != 1) print_error("'%s': %d\n", unsup[i], decoded(unsup[i]));
        assert_int_equal(decoded(unsup[i]), 1);
    }
    /* and the forms of before still read */
    static const char *ok[] = {
        "MOV W0,2", "LSL X0,X1,#3", "EOR W2,W0,W0", "LDR W0,[X1,W2,SXTW]", "STADDL X0,[X1]",
        "CASAL X0,X2,[X1]", "LDAPR X0,[X1]", "CMP W0,#1", "CSEL X0,X1,X2,HS",
    };
    for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (decoded(ok[i]) != 0) print_error("'%s': %d\n", ok[i], decoded(ok[i]));
        assert_int_equal(decoded(ok[i]), 0);
    }
}

/* ---- EL0 threads (header EL0=Pn) ------------------------------------------- */
static void test_lit_el0_thread_uses_el0_permissions(void **st)
{
    (void)st;
    char err[512];
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    /* herd's TST-EL0: a page without el0 faults at EL0 only (Required) */
    assert_int_equal(lit_parse("el0.litmus",
        "AArch64 el0\nVariant=precise\nEL0=P0\n{ int x=1; pte_x=(el0:0); 0:X2=x; 1:X2=x; }\n"
        " P0 | P1 ;\n LDR W0,[X2] | LDR W0,[X2] ;\n"
        "forall fault(P0,x,MMU:Permission) /\\ 0:X0=0 /\\ ~fault(P1,x) /\\ 1:X0=1\n",
        t, err, sizeof(err)), 0);
    assert_string_equal(t->unsupported, "");
    assert_true(t->th[0].el0);
    assert_false(t->th[1].el0);
    struct lit_result r;
    assert_int_equal(lit_run(t, NULL, &r), 0);
    assert_int_equal(r.nfinal, 1);
    assert_int_equal(lit_classify(LV_REQUIRED, &r), LC_SOUND);
    lit_result_free(&r);
    /* what EL0 cannot do is unsupported */
    assert_int_equal(lit_parse("el0.litmus",
        "AArch64 el0t\nEL0=P0\n{ int x; 0:X2=x; }\n P0 ;\n LSR X3,X2,#12 ;\n TLBI VAE1IS,X3 ;\nexists 0:X0=0\n",
        t, err, sizeof(err)), 0);
    assert_non_null(strstr(t->unsupported, "TLBI in EL0 thread P0"));
    assert_int_equal(lit_parse("el0.litmus",
        "AArch64 el0h\nEL0=P0\n{ int x; 0:X2=x; }\n P0 | P0.F ;\n LDR X0,[X2] | NOP ;\nexists 0:X0=0\n",
        t, err, sizeof(err)), 0);
    assert_non_null(strstr(t->unsupported, "fault handler"));
    /* a page-table entry read at EL0 (herd's TST-EL0-PTE faults it): not modelled */
    assert_int_equal(lit_parse("el0.litmus",
        "AArch64 el0p\nEL0=P0\n{ int x; 0:X2=pte_x; }\n P0 ;\n LDR X0,[X2] ;\nexists 0:X0=0\n",
        t, err, sizeof(err)), 0);
    assert_string_equal(t->unsupported, "");
    assert_int_equal(lit_run(t, NULL, &r), -1);
    assert_non_null(strstr(r.error, "page-table entry"));
    assert_int_equal(lit_classify(LV_REQUIRED, &r), LC_UNSUPPORTED);
    lit_result_free(&r);
    assert_int_equal(lit_parse("el0.litmus", "AArch64 el0x\nEL0=P3\n{ }\n P0 ;\n NOP ;\nexists 0:X0=0\n",
                               t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "el0.litmus:2: EL0: no thread 'P3'"));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lit_insn_move_wide),
        cmocka_unit_test(test_lit_insn_shifted_and_extended_operands),
        cmocka_unit_test(test_lit_insn_flags),
        cmocka_unit_test(test_lit_insn_negate_shift_multiply),
        cmocka_unit_test(test_lit_insn_conditional_select),
        cmocka_unit_test(test_lit_insn_bitfield_extract),
        cmocka_unit_test(test_lit_insn_test_bit_and_branch),
        cmocka_unit_test(test_lit_insn_access_sizes),
        cmocka_unit_test(test_lit_insn_pre_and_post_index),
        cmocka_unit_test(test_lit_insn_lse_and_exclusive_sizes),
        cmocka_unit_test(test_lit_insn_malformed_and_unsupported),
        cmocka_unit_test(test_lit_el0_thread_uses_el0_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
