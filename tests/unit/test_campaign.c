/*
 * tests/unit/test_campaign.c - the campaign engine's pieces
 * (traces/campaign/): run-space indexing and shards, the exhaustive tree's
 * size, the worker pool's ordering and crash handling, the summary
 * builder, JUnit escaping, and merge's refusals. No machine is run: the
 * engine end to end is tests/integration/test_explore.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "traces/campaign/campaign.h"
#include "model/sched/sched.h"
#include "traces/campaign/jsonl.h"
#include "traces/campaign/junit.h"
#include "traces/campaign/merge.h"
#include "traces/campaign/pool.h"

/* ---- Run space -------------------------------------------------------------- */

/* N shards take every run of 0..runs-1 exactly once, shard K the runs g
 * with g mod N = K-1, in increasing order. */
static void test_campaign_space_shards_cover_runs_once(void **state)
{
    (void)state;
    for (uint32_t n = 1; n <= 7; n++)
        for (uint64_t runs = 1; runs <= 30; runs++) {
            unsigned seen[30] = { 0 };
            uint64_t sum = 0;
            for (uint32_t k = 1; k <= n; k++) {
                struct campaign_space s = { .shard = { k, n } };
                uint64_t cnt = campaign_space_local_count(&s, runs);
                sum += cnt;
                for (uint64_t j = 0; j < cnt; j++) {
                    uint64_t g = campaign_space_run_of(&s, j);
                    assert_true(g < runs);
                    assert_int_equal(g % n, k - 1);
                    seen[g]++;
                }
                /* the next local run is past the end */
                assert_true(campaign_space_run_of(&s, cnt) >= runs);
            }
            assert_int_equal(sum, runs);
            for (uint64_t g = 0; g < runs; g++)
                assert_int_equal(seen[g], 1);
        }
}

static void test_campaign_space_local_count_shard_past_runs(void **state)
{
    struct campaign_space s = { .shard = { 5, 8 } };
    (void)state;
    assert_int_equal(campaign_space_local_count(&s, 4), 0);     /* runs 0..3: none is 4 mod 8 */
    assert_int_equal(campaign_space_local_count(&s, 5), 1);
    assert_true(campaign_space_local_count(&s, 0) == UINT64_MAX);   /* --time only */
}

/* Run g of random and PCT campaigns uses seed base+g; of an exhaustive one
 * seed base + g/S and schedule g mod S, on the random scheduler. */
static void test_campaign_space_run_config_seeds(void **state)
{
    struct machine_config base, cfg;
    struct campaign_space s = { .shard = { 1, 1 }, .depth = 8, .preempt = 2 };
    uint64_t sched = 99;
    (void)state;
    machine_config_default(&base);
    base.seed = 1000;
    base.sched = SCHED_RR;
    campaign_space_run_config(&s, &base, 7, &cfg, &sched);
    assert_int_equal(cfg.seed, 1007);
    assert_int_equal(cfg.sched, SCHED_RANDOM);
    assert_int_equal(sched, 0);
    s.strategy = CAMPAIGN_PCT;
    campaign_space_run_config(&s, &base, 7, &cfg, &sched);
    assert_int_equal(cfg.seed, 1007);
    assert_int_equal(cfg.sched, SCHED_PCT);
    s.strategy = CAMPAIGN_EXHAUSTIVE;
    campaign_space_set_tree(&s, 3);
    assert_int_equal(s.schedules, 129);         /* 1 + 8*2 + 28*4 */
    campaign_space_run_config(&s, &base, 129 * 2 + 5, &cfg, &sched);
    assert_int_equal(cfg.seed, 1002);
    assert_int_equal(sched, 5);
    assert_int_equal(cfg.sched, SCHED_EXHAUSTIVE);   /* the strategy itself, with its schedule */
    assert_int_equal(cfg.ex_schedule, 5);
    assert_int_equal(cfg.ex_depth, s.depth);
    assert_int_equal(cfg.ex_preempt, s.preempt);
    assert_int_equal(cfg.ncpus, base.ncpus);    /* the rest is the base config */
}

/* --shard K/N: digits only, 1 <= K <= N < 2^32; "1/-4" was read by %u as
 * 1/4294967292 (issue 14). */
static void test_campaign_shard_parse_strict(void **state)
{
    static const char *bad[] = {
        "1/-4", "-1/4", "+1/4", "1/+4", " 1/4", "1/ 4", "1/4 ", "1 /4", "1/4x", "1/4/", "0/4", "5/4",
        "1/0", "0/0", "1/4294967296", "4294967296/4294967296", "99999999999999999999/1", "1/", "/4",
        "", "1", "1//4", "0x1/4", "1/0x4", "1,4", "1\n/4",
    };
    struct campaign_shard sh = { 7, 9 };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (campaign_shard_parse(bad[i], &sh) == 0)
            fail_msg("shard '%s' accepted", bad[i]);
        assert_int_equal(sh.k, 7);              /* untouched */
    }
    assert_int_equal(campaign_shard_parse(NULL, &sh), -1);
    assert_int_equal(campaign_shard_parse("1/4", &sh), 0);
    assert_int_equal(sh.k, 1);
    assert_int_equal(sh.n, 4);
    assert_int_equal(campaign_shard_parse("4294967295/4294967295", &sh), 0);
    assert_true(sh.k == UINT32_MAX && sh.n == UINT32_MAX);
    assert_int_equal(campaign_shard_parse("007/10", &sh), 0);
    assert_int_equal(sh.k, 7);
}

/* sum_{k<=P} C(D,k) (cpus-1)^k, 1 for a single CPU, saturating. */
static void test_campaign_exhaustive_space_counts(void **state)
{
    (void)state;
    assert_int_equal(sched_exhaustive_space(64, 1, 4), 1 + 64 * 3);
    assert_int_equal(sched_exhaustive_space(64, 0, 4), 1);
    assert_int_equal(sched_exhaustive_space(8, 2, 3), 129);
    assert_int_equal(sched_exhaustive_space(10, 3, 2), 1 + 10 + 45 + 120);
    assert_int_equal(sched_exhaustive_space(64, 3, 1), 1);
    assert_int_equal(sched_exhaustive_space(0, 3, 4), 1);
    assert_true(sched_exhaustive_space(1000000000, 3, 64) == UINT64_MAX);
}

/* ---- Worker pool -------------------------------------------------------------- */

struct pool_item { uint64_t j, pid; char why[64]; };

struct pool_test {
    uint64_t crash_at, stop_at_item;
    uint64_t stop_after;                        /* set *stop once this many are emitted */
    volatile sig_atomic_t stop;
    unsigned nticks;
    uint64_t emitted[64];
    unsigned nemitted, nlost;
    char why[64];
};

static void pool_work(void *arg, uint64_t j, void *out)
{
    const struct pool_test *t = arg;
    struct pool_item *r = out;
    if (j == t->crash_at)
        raise(SIGKILL);
    {
        struct timespec ts = { 0, (long)(j % 3) * 2000000 };   /* finish out of order */
        nanosleep(&ts, NULL);
    }
    r->j = j;
    r->pid = (uint64_t)getpid();
}

static void pool_lost(void *arg, uint64_t j, void *out, const char *why)
{
    struct pool_test *t = arg;
    struct pool_item *r = out;
    r->j = j;
    snprintf(r->why, sizeof(r->why), "%s", why);
    snprintf(t->why, sizeof(t->why), "%s", why);
    t->nlost++;
}

static bool pool_arrived(void *arg, uint64_t j, void *out, double elapsed)
{
    const struct pool_test *t = arg;
    (void)out;
    (void)elapsed;
    return j == t->stop_at_item;
}

static int pool_emit(void *arg, uint64_t j, const void *out)
{
    struct pool_test *t = arg;
    const struct pool_item *r = out;
    assert_int_equal(r->j, j);
    assert_true(t->nemitted < 64);
    t->emitted[t->nemitted++] = j;
    if (t->nemitted == t->stop_after)
        t->stop = 1;                            /* as a signal handler would */
    return 0;
}

static void pool_tick(void *arg, double elapsed_s)
{
    struct pool_test *t = arg;
    (void)elapsed_s;
    t->nticks++;
}

/* Items come back in index order whatever order they finish in, each from
 * its own process; a worker that dies costs its item only. */
static void test_campaign_pool_in_order_and_crash_isolated(void **state)
{
    struct pool_test t = { .crash_at = 5, .stop_at_item = UINT64_MAX, .stop_after = UINT64_MAX };
    struct campaign_pool_ops ops = { &t, pool_work, pool_lost, pool_arrived, pool_emit, NULL };
    struct campaign_pool_limits lim = { .jobs = 3, .total = 20 };
    struct campaign_pool_end end;
    (void)state;
    assert_int_equal(campaign_pool_run(&lim, &ops, sizeof(struct pool_item), &end), 0);
    assert_int_equal(end.emitted, 20);
    assert_int_equal(t.nemitted, 20);
    for (unsigned i = 0; i < 20; i++)
        assert_int_equal(t.emitted[i], i);
    assert_int_equal(t.nlost, 1);
    assert_string_equal(t.why, "killed by signal 9");
    assert_false(end.stopped);
    assert_false(end.failed);
}

/* A stopping item ends the pool there: nothing after it is handed back,
 * everything before it is. */
static void test_campaign_pool_stops_at_lowest_stopping_item(void **state)
{
    struct pool_test t = { .crash_at = UINT64_MAX, .stop_at_item = 6, .stop_after = UINT64_MAX };
    struct campaign_pool_ops ops = { &t, pool_work, pool_lost, pool_arrived, pool_emit, NULL };
    struct campaign_pool_limits lim = { .jobs = 4, .total = UINT64_MAX };
    struct campaign_pool_end end;
    (void)state;
    assert_int_equal(campaign_pool_run(&lim, &ops, sizeof(struct pool_item), &end), 0);
    assert_true(end.stopped);
    assert_int_equal(end.stop_at, 6);
    assert_int_equal(t.nemitted, 7);
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(t.emitted[i], i);
}

/* The stop flag (a signal) ends the pool: workers in flight are killed,
 * nothing is emitted after the flag is seen, and what was emitted is a
 * prefix of the items. */
static void test_campaign_pool_stop_flag_ends_with_a_prefix(void **state)
{
    struct pool_test t = { .crash_at = UINT64_MAX, .stop_at_item = UINT64_MAX, .stop_after = 4 };
    struct campaign_pool_ops ops = { &t, pool_work, pool_lost, pool_arrived, pool_emit, pool_tick };
    struct campaign_pool_limits lim = { .jobs = 3, .total = UINT64_MAX, .stop = &t.stop };
    struct campaign_pool_end end;
    (void)state;
    assert_int_equal(campaign_pool_run(&lim, &ops, sizeof(struct pool_item), &end), 0);
    assert_true(end.interrupted);
    assert_false(end.failed);
    assert_int_equal(t.nemitted, 4);
    assert_int_equal(end.emitted, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(t.emitted[i], i);
    assert_true(t.nticks >= 1);
    assert_int_equal(t.nlost, 0);               /* killed workers are dropped, not lost */
}

/* A flag already set starts nothing. */
static void test_campaign_pool_stop_flag_before_start(void **state)
{
    struct pool_test t = { .crash_at = UINT64_MAX, .stop_at_item = UINT64_MAX, .stop_after = UINT64_MAX,
                           .stop = 1 };
    struct campaign_pool_ops ops = { &t, pool_work, pool_lost, pool_arrived, pool_emit, NULL };
    struct campaign_pool_limits lim = { .jobs = 2, .total = 10, .stop = &t.stop };
    struct campaign_pool_end end;
    (void)state;
    assert_int_equal(campaign_pool_run(&lim, &ops, sizeof(struct pool_item), &end), 0);
    assert_true(end.interrupted);
    assert_int_equal(end.started, 0);
    assert_int_equal(t.nemitted, 0);
}

/* ---- Summary -------------------------------------------------------------------- */

static struct campaign_record rec(uint64_t run, enum campaign_status st, int inv, uint64_t steps)
{
    struct campaign_record r = { .run = run, .seed = run + 1, .steps = steps, .status = st,
                                 .invariant = inv, .step = steps - 1 };
    if (st != CAMPAIGN_OK)
        r.detail = (char *)(st == CAMPAIGN_VIOLATION ? "stale TLB entry" : "worker died");
    return r;
}

/* Counts, invariants, and the first violation added (with the steps of the
 * runs before it and its own). */
static void test_campaign_summary_add_counts_and_first(void **state)
{
    struct campaign_summary s;
    struct campaign_record a = rec(0, CAMPAIGN_OK, 0, 100), b = rec(1, CAMPAIGN_VIOLATION, 3, 40),
                           c = rec(2, CAMPAIGN_VIOLATION, 7, 50), d = rec(3, CAMPAIGN_VIOLATION, 0, 5),
                           e = rec(4, CAMPAIGN_VIOLATION, 99, 5);
    (void)state;
    b.trace = (char *)"t/b.json";
    campaign_summary_init(&s);
    assert_string_equal(campaign_summary_result(&s), "ok");
    campaign_summary_add(&s, &a, 0.5);
    campaign_summary_add(&s, &b, 1.5);
    campaign_summary_add(&s, &c, 0.25);
    campaign_summary_add(&s, &d, 2);
    campaign_summary_add(&s, &e, 2);
    assert_int_equal(s.runs, 5);
    assert_int_equal(s.steps, 200);
    assert_int_equal(s.violations, 4);
    assert_int_equal(s.by_inv[4], 1);
    assert_int_equal(s.by_inv[8], 1);
    assert_int_equal(s.by_inv[1], 1);           /* invariant 0: a KCore fault */
    assert_int_equal(s.by_inv[0], 1);           /* out of range */
    assert_true(s.have_first);
    assert_int_equal(s.first_run, 1);
    assert_int_equal(s.first_seed, 2);
    assert_int_equal(s.first_step, 39);
    assert_int_equal(s.first_inv, 3);
    assert_int_equal(s.steps_before, 140);
    assert_true(s.first_time == 1.5);
    assert_string_equal(s.first_detail, "stale TLB entry");
    assert_string_equal(s.first_trace, "t/b.json");
    assert_string_equal(campaign_summary_result(&s), "violation");
    {
        struct campaign_record x = rec(5, CAMPAIGN_ERROR, 0, 1);
        campaign_summary_add(&s, &x, 3);
    }
    assert_int_equal(s.errors, 1);
    assert_string_equal(campaign_summary_result(&s), "error");   /* errors win */
}

static char *keys_of(const cJSON *o)
{
    static char buf[512];
    buf[0] = 0;
    for (const cJSON *c = o->child; c; c = c->next) {
        strncat(buf, c->string, sizeof(buf) - strlen(buf) - 2);
        strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
    }
    return buf;
}

/* explore and merge get the same summary but for shards (merge) and
 * complete / steps_per_s (explore). */
static void test_campaign_summary_json_explore_and_merge(void **state)
{
    struct campaign_summary s;
    struct campaign_record b = rec(1, CAMPAIGN_VIOLATION, 3, 40);
    struct campaign_summary_meta me = { .kind = CAMPAIGN_SUMMARY_EXPLORE, .campaign = cJSON_CreateObject(),
                                        .complete = true, .elapsed_s = 2 };
    struct campaign_summary_meta mm = { .kind = CAMPAIGN_SUMMARY_MERGE, .campaign = cJSON_CreateObject(),
                                        .shards = 3, .elapsed_s = 2 };
    cJSON *je, *jm;
    (void)state;
    campaign_summary_init(&s);
    campaign_summary_add(&s, &b, 1);
    je = campaign_summary_json(&s, &me);
    jm = campaign_summary_json(&s, &mm);
    assert_non_null(je);
    assert_non_null(jm);
    assert_string_equal(keys_of(je), "type,campaign,result,runs,steps,violations,errors,"
                                     "violations_by_invariant,first_violation,complete,partial,elapsed_s,"
                                     "steps_per_s,");
    assert_string_equal(keys_of(jm), "type,campaign,shards,result,runs,steps,violations,errors,"
                                     "violations_by_invariant,first_violation,partial,elapsed_s,");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(je, "partial")));
    assert_string_equal(keys_of(cJSON_GetObjectItem(jm, "first_violation")),
                        "run,seed,invariant,step,detail,trace,time_s,steps_before,");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(je, "violations_by_invariant"), "3")->valueint, 1);
    assert_true(cJSON_GetObjectItem(je, "steps_per_s")->valuedouble == 20);
    assert_int_equal(cJSON_GetObjectItem(jm, "shards")->valueint, 3);
    cJSON_Delete(je);
    cJSON_Delete(jm);
}

/* Numbers at or above 2^53 are written as strings, and read back. */
static void test_campaign_json_u64_round_trip(void **state)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = true;
    (void)state;
    campaign_json_add_u64(o, "small", 12345);
    campaign_json_add_u64(o, "big", UINT64_MAX - 1);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "small")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "big")));
    assert_int_equal(campaign_json_get_u64(o, "small", &ok), 12345);
    assert_true(campaign_json_get_u64(o, "big", &ok) == UINT64_MAX - 1);
    assert_true(ok);
    campaign_json_get_u64(o, "missing", &ok);
    assert_false(ok);
    cJSON_Delete(o);
}

/* ---- JUnit ----------------------------------------------------------------------- */

static char *junit_text(const struct campaign_junit *j)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(campaign_junit_write(f, j), 0);
    fclose(f);
    return buf;
}

/* Markup characters in names, details and paths are escaped; control
 * characters XML 1.0 forbids become '?'; counts match the records. */
static void test_campaign_junit_escapes_and_counts(void **state)
{
    struct campaign_record r[3] = { rec(0, CAMPAIGN_OK, 0, 10), rec(1, CAMPAIGN_VIOLATION, 4, 10),
                                    rec(2, CAMPAIGN_ERROR, 0, 1) };
    struct campaign_junit j = { "m<&>\"'", r, 3, 1.5, false };
    char *x;
    (void)state;
    r[1].detail = (char *)"word <0x10> of VM \"1\" & 'VM 2'\x01\x1f\tend";
    r[1].trace = (char *)"dir/a&b.json";
    x = junit_text(&j);
    assert_non_null(strstr(x, "<testsuite name=\"hypsim explore m&lt;&amp;&gt;&quot;&apos;\" "
                              "tests=\"3\" failures=\"1\" errors=\"1\" time=\"1.500\">"));
    assert_non_null(strstr(x, "classname=\"hypsim.explore.m&lt;&amp;&gt;&quot;&apos;\" name=\"run 1 seed 2\""));
    assert_non_null(strstr(x, "<failure message=\"invariant 4: word &lt;0x10&gt; of VM &quot;1&quot; "
                              "&amp; &apos;VM 2&apos;??\tend\" type=\"isolation violation\">"
                              "trace: dir/a&amp;b.json (hypsim replay FILE --log)</failure>"));
    assert_non_null(strstr(x, "<error message=\"worker died\" type=\"internal error\"></error>"));
    assert_non_null(strstr(x, "name=\"run 0 seed 1\" time=\"0.000\"/>"));
    assert_null(strchr(x, '\x01'));
    assert_null(strstr(x, "<properties>"));    /* a finished campaign has none */
    free(x);
}

/* An interrupted campaign's report says so (issue 14: an interrupted
 * explore must not leave a report that looks current). */
static void test_campaign_junit_partial_property(void **state)
{
    struct campaign_record r[1] = { rec(0, CAMPAIGN_OK, 0, 10) };
    struct campaign_junit j = { "kcore", r, 1, 1, true };
    char *x;
    (void)state;
    x = junit_text(&j);
    assert_non_null(strstr(x, "time=\"1.000\">\n    <properties>\n      <property name=\"partial\" "
                              "value=\"true\"/>\n    </properties>\n    <testcase "));
    free(x);
}

static void test_campaign_junit_empty_campaign(void **state)
{
    struct campaign_junit j = { "kcore", NULL, 0, 0, false };
    char *x;
    (void)state;
    x = junit_text(&j);
    assert_non_null(strstr(x, "tests=\"0\" failures=\"0\" errors=\"0\""));
    assert_non_null(strstr(x, "</testsuites>\n"));
    free(x);
}

/* ---- Merge ------------------------------------------------------------------------- */

#define CAMP(runs, shard) "\"campaign\":{\"kcore\":\"/a/" shard ".elf\",\"kcore_sha256\":\"ab\",\"sched\":\"random\"," \
                          "\"base_seed\":1,\"runs\":" runs ",\"stop_on_first\":false,\"shard\":\"" shard "\"}"
#define RUN(g, res) "{\"type\":\"run\",\"run\":" #g ",\"seed\":" #g ",\"result\":\"" res "\",\"steps\":10," \
                    "\"elapsed_s\":0.1,\"violation\":null,\"trace\":null}\n"
#define VIOL(g, inv) "{\"type\":\"run\",\"run\":" #g ",\"seed\":" #g ",\"result\":\"violation\",\"steps\":10," \
                     "\"elapsed_s\":0.1,\"violation\":{\"step\":9,\"cpu\":1,\"invariant\":" #inv \
                     ",\"detail\":\"d\"},\"trace\":\"t.json\"}\n"
#define SUMMARY(camp, t) "{\"type\":\"summary\"," camp ",\"first_violation\":{\"time_s\":" t "},\"elapsed_s\":2}\n"

/* Read text as input name; returns campaign_merge_read's code. */
static int merge_text(struct campaign_merge *mg, const char *name, const char *text, char *err, size_t n)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    int rc;
    assert_non_null(f);
    rc = campaign_merge_read(mg, name, f, err, n);
    fclose(f);
    return rc;
}

/* Two shards of one campaign merge into its runs, in order, whatever the
 * KCore's path on each machine. */
static void test_campaign_merge_two_shards(void **state)
{
    struct campaign_merge mg;
    struct campaign_summary s;
    cJSON *j = NULL;
    char err[256];
    (void)state;
    campaign_merge_init(&mg);
    assert_int_equal(merge_text(&mg, "s2", RUN(1, "ok") VIOL(3, 7) SUMMARY(CAMP("4", "2/2"), "0.5"), err, sizeof(err)), 0);
    assert_int_equal(merge_text(&mg, "s1", RUN(0, "ok") "\n" VIOL(2, 3) SUMMARY(CAMP("4", "1/2"), "0.25"), err, sizeof(err)), 0);
    assert_int_equal(campaign_merge_finish(&mg, err, sizeof(err)), 0);
    assert_int_equal(mg.runs.n, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(mg.runs.v[i].run, i);
    campaign_merge_summary(&mg, &s, &j);
    assert_int_equal(s.runs, 4);
    assert_int_equal(s.violations, 2);
    assert_int_equal(s.first_run, 2);
    assert_int_equal(s.first_inv, 3);
    assert_int_equal(s.first_step, 9);
    assert_true(s.first_time == 0.25);          /* the earliest shard's */
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "shards")->valueint, 2);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "campaign"), "shard"));
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "campaign"), "kcore"));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "partial")));
    cJSON_Delete(j);
    campaign_merge_free(&mg);
}

/* A merge of an interrupted shard is partial too. */
static void test_campaign_merge_partial_shard(void **state)
{
    struct campaign_merge mg;
    struct campaign_summary s;
    cJSON *j = NULL;
    char err[256];
    (void)state;
    campaign_merge_init(&mg);
    assert_int_equal(merge_text(&mg, "a", RUN(0, "ok") SUMMARY(CAMP("null", "1/2"), "0"), err, sizeof(err)), 0);
    assert_int_equal(merge_text(&mg, "b", RUN(1, "ok")
                                "{\"type\":\"summary\"," CAMP("null", "2/2") ",\"partial\":true}\n",
                                err, sizeof(err)), 0);
    assert_int_equal(campaign_merge_finish(&mg, err, sizeof(err)), 0);
    assert_true(mg.partial);
    campaign_merge_summary(&mg, &s, &j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "partial")));
    cJSON_Delete(j);
    campaign_merge_free(&mg);
}

struct refusal {
    const char *a, *b;                          /* inputs "a" and "b" (b NULL: one input) */
    int read_rc;                                /* of the last read (0: finish refuses) */
    const char *msg;
};

/* Each bad input is refused with a message naming the input and line (or
 * the runs), never merged. */
static void test_campaign_merge_refusals(void **state)
{
    static const struct refusal cases[] = {
        { "{\"type\":\"run\"\n", NULL, CAMPAIGN_MERGE_BAD, "a: line 1: not an explore JSON line" },
        { "[1,2]\n", NULL, CAMPAIGN_MERGE_BAD, "a: line 1: not an explore JSON line" },
        { "\n{\"type\":\"run\",\"run\":0}\n", NULL, CAMPAIGN_MERGE_BAD, "a: line 2: malformed run record" },
        { "{\"type\":\"run\",\"run\":0,\"seed\":1,\"steps\":1,\"result\":\"maybe\"}\n", NULL,
          CAMPAIGN_MERGE_BAD, "a: line 1: malformed run record" },
        { "{\"type\":\"run\",\"run\":0,\"seed\":1,\"steps\":1,\"result\":\"violation\",\"violation\":null}\n",
          NULL, CAMPAIGN_MERGE_BAD, "a: line 1: malformed run record" },
        { "{\"type\":\"bogus\"}\n", NULL, CAMPAIGN_MERGE_BAD, "a: line 1: unknown record type 'bogus'" },
        { "{\"type\":\"summary\"}\n", NULL, CAMPAIGN_MERGE_BAD, "a: line 1: summary without a campaign" },
        { RUN(0, "ok"), NULL, CAMPAIGN_MERGE_BAD, "a: no summary line (an unfinished shard?)" },
        { RUN(0, "ok") SUMMARY(CAMP("2", "1/2"), "0"),
          RUN(1, "ok") "{\"type\":\"summary\",\"campaign\":{\"kcore\":\"/a\",\"kcore_sha256\":\"cd\",\"sched\":\"random\","
          "\"base_seed\":1,\"runs\":2,\"stop_on_first\":false,\"shard\":\"2/2\"}}\n",
          CAMPAIGN_MERGE_BAD, "b: campaign differs from a's (config, KCore, strategy or seed)" },
        { RUN(0, "ok") RUN(1, "ok") SUMMARY(CAMP("2", "1/1"), "0"), RUN(1, "ok") SUMMARY(CAMP("2", "1/1"), "0"),
          0, "run 1 appears twice (a and b)" },
        { RUN(0, "ok") SUMMARY(CAMP("2", "1/2"), "0"), NULL, 0,
          "the campaign asked for runs 0..1 but the inputs hold 1 runs" },
        { RUN(0, "ok") RUN(2, "ok") SUMMARY(CAMP("2", "1/2"), "0"), NULL, 0,
          "the campaign asked for runs 0..1 but the inputs hold 2 runs" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct campaign_merge mg;
        char err[256] = "";
        int rc;
        campaign_merge_init(&mg);
        rc = merge_text(&mg, "a", cases[i].a, err, sizeof(err));
        if (cases[i].b) {
            assert_int_equal(rc, 0);
            rc = merge_text(&mg, "b", cases[i].b, err, sizeof(err));
        }
        assert_int_equal(rc, cases[i].read_rc);
        if (rc == 0)
            assert_int_equal(campaign_merge_finish(&mg, err, sizeof(err)), CAMPAIGN_MERGE_BAD);
        assert_string_equal(err, cases[i].msg);
        campaign_merge_free(&mg);
    }
}

/* No input at all is refused; a --time campaign (runs null) has no runs
 * to miss; --stop-on-first campaigns may end early. */
static void test_campaign_merge_no_input_time_and_stop(void **state)
{
    struct campaign_merge mg;
    char err[256];
    (void)state;
    campaign_merge_init(&mg);
    assert_int_equal(campaign_merge_finish(&mg, err, sizeof(err)), CAMPAIGN_MERGE_BAD);
    assert_string_equal(err, "no input files");
    campaign_merge_free(&mg);
    campaign_merge_init(&mg);
    assert_int_equal(merge_text(&mg, "a", RUN(3, "ok") SUMMARY(CAMP("null", "1/2"), "0"), err, sizeof(err)), 0);
    assert_int_equal(campaign_merge_finish(&mg, err, sizeof(err)), 0);
    campaign_merge_free(&mg);
    campaign_merge_init(&mg);
    assert_int_equal(merge_text(&mg, "a", VIOL(0, 3)
                                "{\"type\":\"summary\",\"campaign\":{\"runs\":9,\"stop_on_first\":true}}\n",
                                err, sizeof(err)), 0);
    assert_int_equal(campaign_merge_finish(&mg, err, sizeof(err)), 0);
    campaign_merge_free(&mg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_campaign_space_shards_cover_runs_once),
        cmocka_unit_test(test_campaign_space_local_count_shard_past_runs),
        cmocka_unit_test(test_campaign_space_run_config_seeds),
        cmocka_unit_test(test_campaign_shard_parse_strict),
        cmocka_unit_test(test_campaign_exhaustive_space_counts),
        cmocka_unit_test(test_campaign_pool_in_order_and_crash_isolated),
        cmocka_unit_test(test_campaign_pool_stops_at_lowest_stopping_item),
        cmocka_unit_test(test_campaign_pool_stop_flag_ends_with_a_prefix),
        cmocka_unit_test(test_campaign_pool_stop_flag_before_start),
        cmocka_unit_test(test_campaign_summary_add_counts_and_first),
        cmocka_unit_test(test_campaign_summary_json_explore_and_merge),
        cmocka_unit_test(test_campaign_json_u64_round_trip),
        cmocka_unit_test(test_campaign_junit_escapes_and_counts),
        cmocka_unit_test(test_campaign_junit_empty_campaign),
        cmocka_unit_test(test_campaign_junit_partial_property),
        cmocka_unit_test(test_campaign_merge_two_shards),
        cmocka_unit_test(test_campaign_merge_partial_shard),
        cmocka_unit_test(test_campaign_merge_refusals),
        cmocka_unit_test(test_campaign_merge_no_input_time_and_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
