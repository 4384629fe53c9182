/*
 * tests/unit/test_litmus.c - litmus/: the herd .litmus reader (inline
 * tests, malformed input naming file:line, unsupported features), the
 * explorer's TLB/fault semantics on small inline tests, verdicts and
 * classification, and a handful of catalogue tests end to end (skipped
 * when ../shared/litmus is absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "litmus/litmus.h"
#include "mmu/mmu.h"

#ifndef HYPSIM_LITMUS_DIR
#define HYPSIM_LITMUS_DIR "../shared/litmus/herd-vmsa"
#endif

static struct lit_test *parse_ok(const char *text)
{
    char err[512] = "";
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    int rc = lit_parse("inline.litmus", text, t, err, sizeof(err));
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return t;
}

/* Parse and explore; returns the result (caller frees). */
static void run_ok(const char *text, struct lit_test **tp, struct lit_result *r)
{
    struct lit_test *t = parse_ok(text);
    assert_string_equal(t->unsupported, "");
    assert_int_equal(lit_run(t, NULL, r), 0);
    assert_true(r->ok);
    *tp = t;
}

static bool reached(const struct lit_result *r, const char *state)
{
    for (unsigned i = 0; i < r->nfinal; i++)
        if (!strcmp(r->final[i], state)) return true;
    return false;
}

/* ---- reader ------------------------------------------------------------- */
static void test_lit_parse_basic(void **st)
{
    (void)st;
    struct lit_test *t = parse_ok(
        "AArch64 basic\n"
        "TTHM=P1:HA\n"
        "{\n"
        " int x=1; int y;\n"
        " pte_x=(oa:phy_y, af:0);\n"
        " 0:X1=x; 0:X2=PTE(x); 1:X3=(oa:PA(x), valid:0);\n"
        "}\n"
        " P0          | P1          ;\n"
        " MOV W0,#2   | L0:         ;\n"
        " STR W0,[X1] | LDR W5,[X1] ;\n"
        "locations [y;]\n"
        "exists (0:X0=2 /\\ ~fault(P1:L0,x))\n");
    assert_string_equal(t->name, "basic");
    assert_int_equal(t->nthreads, 2);
    assert_int_equal(t->th[0].n, 2);
    assert_int_equal(t->th[1].n, 1);
    assert_false(t->th[0].ha);
    assert_true(t->th[1].ha);
    assert_int_equal(t->nlocs, 2);
    assert_int_equal(t->loc[0].init, 1);
    /* pte_x = (oa:phy_y, af:0): valid, not AF, dirty (writable) */
    assert_int_equal(t->loc[0].pte, lit_desc_encode(1, true, false, true, false, true));
    assert_int_equal(t->th[0].reg[1], lit_va(0));
    assert_int_equal(t->th[0].reg[2], lit_pte_addr(0));
    assert_int_equal(t->th[1].reg[3], lit_desc_encode(0, false, true, true, false, true));
    assert_int_equal(t->quant, LQ_EXISTS);
    assert_int_equal(t->th[1].label[0].index, 0);
    free(t);
}

static void test_lit_desc_encode_fields(void **st)
{
    (void)st;
    uint64_t d = lit_desc_encode(2, true, true, true, false, true);
    assert_true(d & MMU_DESC_VALID);
    assert_true(d & MMU_AF);
    assert_false(d & MMU_S1_AP_RO);                    /* db:1 = dirty = writable */
    assert_int_equal(mmu_desc_oa(d), lit_pa(2));
    d = lit_desc_encode(2, false, false, false, true, true);
    assert_false(d & MMU_DESC_VALID);
    assert_true(d & MMU_DESC_TABLE);                   /* a page once made valid */
    assert_true(d & MMU_S1_AP_RO);                     /* db:0 = clean: read-only */
    assert_true(d & MMU_DBM);
}

static void expect_error(const char *text, const char *where)
{
    char err[512] = "";
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    assert_int_equal(lit_parse("bad.litmus", text, t, err, sizeof(err)), -1);
    if (!strstr(err, where)) print_error("got: %s\n", err);
    assert_non_null(strstr(err, where));
    free(t);
}

static void test_lit_parse_malformed_names_file_and_line(void **st)
{
    (void)st;
    expect_error("AArch64 m1\n{\n 0:X1=x;\n", "bad.litmus:2:");                 /* no '}' */
    expect_error("AArch64 m2\n{ 0:X1=x; }\n P0 ;\n LDR W0,[X1 ;\nexists 0:X0=0\n",
                 "bad.litmus:4:");                                               /* bad operand */
    expect_error("AArch64 m3\n{ 0:X1=x; }\n P0 ;\n B L9 ;\nexists 0:X0=0\n",
                 "bad.litmus:4: undefined label");
    expect_error("AArch64 m4\n{ 0:X1=x; }\n P0 ;\n LDR W0,[X1] ;\nexists 0:X0=\n",
                 "bad.litmus:5:");                                               /* no value */
    expect_error("AArch64 m5\n{\n 0:X1=x;\n 0:X2=(oa:phy_x, valid:2);\n}\n P0 ;\n NOP ;\nexists 0:X0=0\n",
                 "bad.litmus:4:");                                               /* field value */
    expect_error("", "bad.litmus:1: empty file");
}

static void test_lit_parse_unsupported_is_not_an_error(void **st)
{
    (void)st;
    struct lit_test *t = parse_ok("AArch64 u1\n{ 0:X1=x; }\n P0 ;\n MSR SCTLR_EL1,X1 ;\nexists 0:X1=0\n");
    assert_non_null(strstr(t->unsupported, "MSR SCTLR_EL1"));
    struct lit_result r;
    assert_int_equal(lit_run(t, NULL, &r), -1);
    assert_false(r.ok);
    assert_int_equal(lit_classify(LV_FORBIDDEN, &r), LC_UNSUPPORTED);
    lit_result_free(&r);
    free(t);
    /* EL0 threads run (test_litmus_insn.c), but not system instructions */
    t = parse_ok("AArch64 u2\nEL0=P0\n{ 0:X1=x; }\n P0 ;\n MSR ELR_EL1,X1 ;\nexists 0:X0=0\n");
    assert_non_null(strstr(t->unsupported, "EL0"));
    free(t);
}

/* ---- explorer ------------------------------------------------------------ */
/* Without TLBI, a translation cached before a remap may still be used
 * (Arm ARM D8.13: a TLB may hold a stale entry until invalidated). */
static void test_lit_run_stale_tlb_entry_without_tlbi(void **st)
{
    (void)st;
    struct lit_test *t;
    struct lit_result r;
    run_ok("AArch64 stale\n{ x=1; y=2; 0:X1=pte_x; 0:X2=(oa:phy_y); 0:X4=x; }\n"
           " P0 ;\n LDR W6,[X4] ;\n STR X2,[X1] ;\n DSB ISH ;\n ISB ;\n LDR W5,[X4] ;\n"
           "exists (0:X5=1)\n", &t, &r);
    assert_true(r.cond_some);
    assert_true(reached(&r, "0:X5=1"));
    assert_true(reached(&r, "0:X5=2"));
    lit_result_free(&r);
    free(t);
}

/* TLBI + DSB completes the invalidation: the old translation is gone. */
static void test_lit_run_tlbi_dsb_removes_stale_entry(void **st)
{
    (void)st;
    struct lit_test *t;
    struct lit_result r;
    run_ok("AArch64 tlbi\n{ x=1; y=2; 0:X1=pte_x; 0:X2=(oa:phy_y); 0:X4=x; }\n"
           " P0 ;\n LDR W6,[X4] ;\n STR X2,[X1] ;\n DSB ISH ;\n LSR X3,X4,#12 ;\n"
           " TLBI VAAE1IS,X3 ;\n DSB ISH ;\n ISB ;\n LDR W5,[X4] ;\n"
           "exists (0:X5=1)\n", &t, &r);
    assert_false(r.cond_some);
    assert_int_equal(r.nfinal, 1);
    assert_true(reached(&r, "0:X5=2"));
    assert_int_equal(lit_classify(LV_FORBIDDEN, &r), LC_SOUND);
    lit_result_free(&r);
    free(t);
}

/* A broadcast TLBI not yet completed (no DSB on the issuer) may leave the
 * other CPU's entry in place. */
static void test_lit_run_pending_tlbi_without_dsb(void **st)
{
    (void)st;
    struct lit_test *t;
    struct lit_result r;
    run_ok("AArch64 pend\n{ x=1; y=2; 0:X1=pte_x; 0:X2=(oa:phy_y); 0:X4=x; 1:X4=x; 0:X7=z; 1:X7=z; }\n"
           " P0              | P1          ;\n"
           " STR X2,[X1]     | LDR W6,[X7] ;\n"
           " DSB ISH         | LDR W5,[X4] ;\n"
           " LSR X3,X4,#12   |             ;\n"
           " TLBI VAAE1IS,X3 |             ;\n"
           " MOV W0,#1       |             ;\n"
           " STR W0,[X7]     |             ;\n"
           "exists (1:X6=1 /\\ 1:X5=1)\n", &t, &r);
    assert_true(r.cond_some);
    lit_result_free(&r);
    free(t);
}

/* A translation fault ends the thread without a handler (herd's default
 * Handled mode), and is recorded against the label and the location. */
static void test_lit_run_fault_ends_thread(void **st)
{
    (void)st;
    struct lit_test *t;
    struct lit_result r;
    run_ok("AArch64 flt\n{ pte_x=(valid:0); 0:X4=x; }\n P0 ;\n L0: LDR W5,[X4] ;\n MOV W6,#1 ;\n"
           "exists (fault(P0:L0,x,MMU:Translation) /\\ 0:X6=0)\n", &t, &r);
    assert_true(r.cond_all);
    assert_true(reached(&r, "0:X6=0; fault(P0:L0,x,MMU:Translation)"));
    lit_result_free(&r);
    free(t);
}

/* With a handler Pn.F, ELR_EL1 holds the faulting instruction and ERET
 * returns where the handler says. */
static void test_lit_run_fault_handler_eret(void **st)
{
    (void)st;
    struct lit_test *t;
    struct lit_result r;
    run_ok("AArch64 fh\n{ pte_x=(valid:0); 0:X4=x; }\n"
           " P0          | P0.F           ;\n"
           " L0:         | MRS X8,ELR_EL1 ;\n"
           " LDR W5,[X4] | ADR X9,L1      ;\n"
           " MOV W6,#1   | MSR ELR_EL1,X9 ;\n"
           " L1:         | ERET           ;\n"
           " MOV W7,#1   |                ;\n"
           "exists (0:X6=0 /\\ 0:X7=1 /\\ 0:X8=label:\"P0:L0\" /\\ fault(P0,x))\n", &t, &r);
    assert_true(r.cond_all);
    lit_result_free(&r);
    free(t);
}

/* TTHM=HA: a load sets the Access flag instead of faulting; without it,
 * an Access flag fault. */
static void test_lit_run_hardware_access_flag(void **st)
{
    (void)st;
    struct lit_test *t;
    struct lit_result r;
    run_ok("AArch64 ha\nTTHM=HA\n{ x=3; pte_x=(af:0); 0:X4=x; }\n P0 ;\n L0: LDR W5,[X4] ;\n"
           "forall (0:X5=3 /\\ pte_x=(oa:phy_x) /\\ ~fault(P0:L0,x))\n", &t, &r);
    assert_true(r.cond_all);
    lit_result_free(&r);
    free(t);
    run_ok("AArch64 noha\n{ x=3; pte_x=(af:0); 0:X4=x; }\n P0 ;\n L0: LDR W5,[X4] ;\n"
           "forall (fault(P0:L0,x,MMU:AccessFlag) /\\ pte_x=(oa:phy_x,af:0))\n", &t, &r);
    assert_true(r.cond_all);
    lit_result_free(&r);
    free(t);
}

/* TTHM=HD: a store to a writable-clean (dbm:1, db:0) page sets it dirty. */
static void test_lit_run_hardware_dirty_state(void **st)
{
    (void)st;
    struct lit_test *t;
    struct lit_result r;
    run_ok("AArch64 hd\nTTHM=HD\n{ pte_x=(db:0,dbm:1); 0:X4=x; }\n P0 ;\n MOV W0,#1 ;\n L0: STR W0,[X4] ;\n"
           "forall (x=1 /\\ pte_x=(oa:phy_x,dbm:1))\n", &t, &r);
    assert_true(r.cond_all);
    lit_result_free(&r);
    free(t);
    run_ok("AArch64 nohd\n{ pte_x=(db:0,dbm:1); 0:X4=x; }\n P0 ;\n MOV W0,#1 ;\n L0: STR W0,[X4] ;\n"
           "forall (x=0 /\\ fault(P0:L0,x,MMU:Permission))\n", &t, &r);
    assert_true(r.cond_all);
    lit_result_free(&r);
    free(t);
}

/* Ordinary memory is sequentially consistent: store buffering is not
 * reachable, and the relaxed diagnostic says it needs reordering. */
static void test_lit_run_sc_and_relaxed_diagnostic(void **st)
{
    (void)st;
    struct lit_test *t = parse_ok(
        "AArch64 SB\n{ 0:X1=x; 0:X2=y; 1:X1=x; 1:X2=y; }\n"
        " P0          | P1          ;\n"
        " MOV W0,#1   | MOV W0,#1   ;\n"
        " STR W0,[X1] | STR W0,[X2] ;\n"
        " LDR W3,[X2] | LDR W3,[X1] ;\n"
        "exists (0:X3=0 /\\ 1:X3=0)\n");
    struct lit_result r;
    struct lit_opts relaxed = { .max_states = 0, .relaxed = true };
    assert_int_equal(lit_run(t, NULL, &r), 0);
    assert_false(r.cond_some);
    assert_int_equal(lit_classify(LV_ALLOWED, &r), LC_MISSED);
    lit_result_free(&r);
    assert_int_equal(lit_run(t, &relaxed, &r), 0);
    assert_true(r.cond_some);
    lit_result_free(&r);
    free(t);
}

static void test_lit_run_bound_is_reported(void **st)
{
    (void)st;
    struct lit_test *t = parse_ok(
        "AArch64 loop\n{ 0:X1=x; }\n P0 ;\n L0: ;\n ADD W2,W2,#1 ;\n B L0 ;\nexists 0:X2=0\n");
    struct lit_result r;
    struct lit_opts o = { .max_states = 1000, .relaxed = false };
    assert_int_equal(lit_run(t, &o, &r), -1);
    assert_non_null(strstr(r.error, "bound"));
    assert_int_equal(lit_classify(LV_ALLOWED, &r), LC_UNSUPPORTED);
    lit_result_free(&r);
    free(t);
}

/* ---- verdicts --------------------------------------------------------------- */
static void test_lit_kinds_and_classify(void **st)
{
    (void)st;
    char path[] = "/tmp/hypsim_kinds_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\nA   Allowed\nB Forbid # note\nC Required\nA Forbidden\nGluedAllow\n", f);
    fclose(f);
    struct lit_kinds k;
    char err[256];
    assert_int_equal(lit_kinds_load(path, &k, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(lit_kinds_find(&k, "A"), LV_ALLOWED);      /* the first wins */
    assert_int_equal(lit_kinds_find(&k, "B"), LV_FORBIDDEN);
    assert_int_equal(lit_kinds_find(&k, "C"), LV_REQUIRED);
    assert_int_equal(lit_kinds_find(&k, "D"), LV_NONE);
    assert_int_equal(lit_kinds_find(&k, "E"), LV_NONE);
    lit_kinds_free(&k);
    assert_int_equal(lit_kinds_load("/nonexistent/kinds.txt", &k, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/kinds.txt"));

    struct lit_result r;
    memset(&r, 0, sizeof(r));
    r.ok = true;
    r.nfinal = 2;
    r.cond_some = true;
    r.cond_all = false;
    assert_int_equal(lit_classify(LV_FORBIDDEN, &r), LC_UNSOUND);
    assert_int_equal(lit_classify(LV_REQUIRED, &r), LC_UNSOUND);
    assert_int_equal(lit_classify(LV_ALLOWED, &r), LC_COMPLETE);
    assert_int_equal(lit_classify(LV_NONE, &r), LC_NO_VERDICT);
    r.cond_some = false;
    assert_int_equal(lit_classify(LV_FORBIDDEN, &r), LC_SOUND);
    assert_int_equal(lit_classify(LV_ALLOWED, &r), LC_MISSED);
}

/* ---- catalogue, end to end ---------------------------------------------------- */
static void run_catalogue(const char *file, enum lit_verdict v, enum lit_class want)
{
    char path[1024], err[512];
    snprintf(path, sizeof(path), "%s/%s", HYPSIM_LITMUS_DIR, file);
    if (access(path, R_OK) != 0) {
        print_message("skipped: %s not found (../shared/litmus absent)\n", path);
        skip();
    }
    struct lit_test *t = malloc(sizeof(*t));
    assert_non_null(t);
    int rc = lit_parse_file(path, t, err, sizeof(err));
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
    struct lit_result r;
    assert_int_equal(lit_run(t, NULL, &r), 0);
    assert_int_equal(lit_classify(v, &r), want);
    lit_result_free(&r);
    free(t);
}

static void test_lit_catalogue_A031_forbidden_is_sound(void **st)
{ (void)st; run_catalogue("A031.litmus", LV_FORBIDDEN, LC_SOUND); }
static void test_lit_catalogue_CAS_AF_required_is_sound(void **st)
{ (void)st; run_catalogue("CAS-AF.litmus", LV_REQUIRED, LC_SOUND); }
static void test_lit_catalogue_IRIW_I2Ipte_64_forbidden_is_sound(void **st)
{ (void)st; run_catalogue("IRIW-I2Ipte+64.litmus", LV_FORBIDDEN, LC_SOUND); }
static void test_lit_catalogue_coW_TLBI_W_allowed_is_complete(void **st)
{ (void)st; run_catalogue("coW-TLBI-W.litmus", LV_ALLOWED, LC_COMPLETE); }
static void test_lit_catalogue_CASAL_FAIL_FH_handler_is_sound(void **st)
{ (void)st; run_catalogue("CASAL+FAIL+FH.litmus", LV_FORBIDDEN, LC_SOUND); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lit_parse_basic),
        cmocka_unit_test(test_lit_desc_encode_fields),
        cmocka_unit_test(test_lit_parse_malformed_names_file_and_line),
        cmocka_unit_test(test_lit_parse_unsupported_is_not_an_error),
        cmocka_unit_test(test_lit_run_stale_tlb_entry_without_tlbi),
        cmocka_unit_test(test_lit_run_tlbi_dsb_removes_stale_entry),
        cmocka_unit_test(test_lit_run_pending_tlbi_without_dsb),
        cmocka_unit_test(test_lit_run_fault_ends_thread),
        cmocka_unit_test(test_lit_run_fault_handler_eret),
        cmocka_unit_test(test_lit_run_hardware_access_flag),
        cmocka_unit_test(test_lit_run_hardware_dirty_state),
        cmocka_unit_test(test_lit_run_sc_and_relaxed_diagnostic),
        cmocka_unit_test(test_lit_run_bound_is_reported),
        cmocka_unit_test(test_lit_kinds_and_classify),
        cmocka_unit_test(test_lit_catalogue_A031_forbidden_is_sound),
        cmocka_unit_test(test_lit_catalogue_CAS_AF_required_is_sound),
        cmocka_unit_test(test_lit_catalogue_IRIW_I2Ipte_64_forbidden_is_sound),
        cmocka_unit_test(test_lit_catalogue_coW_TLBI_W_allowed_is_complete),
        cmocka_unit_test(test_lit_catalogue_CASAL_FAIL_FH_handler_is_sound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
