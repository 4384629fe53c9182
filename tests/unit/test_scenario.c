/*
 * tests/unit/test_scenario.c - scenario files: good input parses, every
 * class of bad input is refused with one line naming the file and field.
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

#include "hyp/kcore/abi.h"
#include "model/scenario.h"

static char path[64];

static void write_file(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/hypsim_scen_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Load text; expect failure whose message names the file and contains want. */
static void expect_error(const char *text, const char *want)
{
    struct scenario s;
    char err[256] = "";
    write_file(text);
    assert_int_equal(scenario_load(&s, path, err, sizeof(err)), -1);
    if (!strstr(err, path) || !strstr(err, want))
        fail_msg("error '%s' should name %s and say '%s'", err, path, want);
    assert_null(strchr(err, '\n'));
    remove(path);
}

#define HDR "{\"format\":\"hypsim-scenario\",\"version\":1,"

static void test_scenario_load_good(void **state)
{
    struct scenario s;
    char err[256];
    (void)state;
    write_file(HDR "\"then\":\"random\",\"actions\":["
               "{\"who\":\"host\",\"do\":\"hvc\",\"hc\":\"donate\",\"args\":[0,8200,\"0x3\"]},"
               "{\"who\":\"vm2\",\"cpu\":1,\"do\":\"write\",\"ipa\":\"0x3000\",\"value\":\"0xffffffffffffffff\",\"cacheable\":false},"
               "{\"who\":\"host\",\"do\":\"read\",\"ipa\":4096},"
               "{\"who\":\"host\",\"do\":\"hvc\",\"hc\":63},"
               "{\"who\":\"vm0\",\"do\":\"idle\"}]}");
    assert_int_equal(scenario_load(&s, path, err, sizeof(err)), 0);
    remove(path);
    assert_true(s.then_random);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.act[0].who, -1);
    assert_int_equal(s.act[0].op, SCEN_HVC);
    assert_int_equal(s.act[0].hc, HC_DONATE);
    assert_int_equal(s.act[0].arg[1], 8200);
    assert_int_equal(s.act[0].arg[2], 3);
    assert_int_equal(s.act[1].who, 2);
    assert_int_equal(s.act[1].cpu, 1);
    assert_int_equal(s.act[1].op, SCEN_WRITE);
    assert_int_equal(s.act[1].value, UINT64_MAX);
    assert_false(s.act[1].cacheable);
    assert_true(s.act[2].cacheable);
    assert_int_equal(s.act[2].ipa, 4096);
    assert_int_equal(s.act[3].hc, 63);
    assert_int_equal(s.act[4].op, SCEN_IDLE);
    scenario_free(&s);
}

static void test_scenario_load_bad_json(void **state)
{
    (void)state;
    expect_error("{\"format\": \"hypsim-scenario\", ", "malformed JSON");
    expect_error("", "malformed JSON");
}

static void test_scenario_load_bad_header(void **state)
{
    (void)state;
    expect_error("{\"format\":\"other\",\"version\":1,\"actions\":[]}", "format");
    expect_error("{\"format\":\"hypsim-scenario\",\"version\":2,\"actions\":[]}", "version");
    expect_error(HDR "\"then\":\"later\",\"actions\":[]}", "then");
    expect_error(HDR "\"actions\":{}}", "actions");
    expect_error("[1,2,3]", "format");
}

static void test_scenario_load_bad_actions(void **state)
{
    (void)state;
    expect_error(HDR "\"actions\":[7]}", "actions[0]");
    expect_error(HDR "\"actions\":[{\"do\":\"idle\"}]}", "actions[0].who");
    expect_error(HDR "\"actions\":[{\"who\":\"vm16\",\"do\":\"idle\"}]}", "actions[0].who");
    expect_error(HDR "\"actions\":[{\"who\":\"guest\",\"do\":\"idle\"}]}", "actions[0].who");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"idle\"},{\"who\":\"host\",\"do\":\"jump\"}]}", "actions[1].do");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"hvc\",\"hc\":\"donat\"}]}", "unknown hypercall 'donat'");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"hvc\"}]}", "actions[0].hc");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"hvc\",\"hc\":1,\"args\":[1,2,3,4,5]}]}", "actions[0].args");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"hvc\",\"hc\":1,\"args\":[-1]}]}", "actions[0].args[0]");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"read\"}]}", "actions[0].ipa");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"read\",\"ipa\":4}]}", "actions[0].ipa");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"write\",\"ipa\":8}]}", "actions[0].value");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"read\",\"ipa\":8,\"cacheable\":1}]}", "actions[0].cacheable");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"cpu\":64,\"do\":\"idle\"}]}", "actions[0].cpu");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"read\",\"ipa\":\"0x1000zz\"}]}", "actions[0].ipa");
}

static void test_scenario_load_missing_file(void **state)
{
    struct scenario s;
    char err[256];
    (void)state;
    assert_int_equal(scenario_load(&s, "/nonexistent/s.json", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/s.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_load_good),
        cmocka_unit_test(test_scenario_load_bad_json),
        cmocka_unit_test(test_scenario_load_bad_header),
        cmocka_unit_test(test_scenario_load_bad_actions),
        cmocka_unit_test(test_scenario_load_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
