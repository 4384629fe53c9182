/*
 * tests/unit/test_scenario.c - scenario files: good input parses, every
 * class of bad input is refused with one line naming the file, the line and
 * the field ("FILE:LINE: actions[3].cacheable: ..."), never blocking on a
 * FIFO, never reading a file over the size limit, never crashing.
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

/* Load text for a machine of ncpus CPUs; expect failure whose message
 * names the file and contains want. */
static void expect_error_cpus(const char *text, unsigned ncpus, const char *want)
{
    struct scenario s;
    char err[256] = "";
    write_file(text);
    assert_int_equal(scenario_load(&s, path, ncpus, err, sizeof(err)), -1);
    if (!strstr(err, path) || !strstr(err, want))
        fail_msg("error '%s' should name %s and say '%s'", err, path, want);
    assert_null(strchr(err, '\n'));
    remove(path);
}

static void expect_error(const char *text, const char *want)
{
    expect_error_cpus(text, 0, want);
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
    assert_int_equal(scenario_load(&s, path, 4, err, sizeof(err)), 0);
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
    expect_error("{\"format\": \"hypsim-scenario\", ", "truncated");
    expect_error("{\"format\": \"hypsim-scenario\",, }", ":1:31: malformed JSON");
    expect_error("", "empty");
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
    assert_int_equal(scenario_load(&s, "/nonexistent/s.json", 4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/s.json"));
}

/* Issue 14: a typo, an unknown field, a field of another kind of action and
 * a CPU the machine does not have were accepted; each is now refused with
 * the file, the line and the field. */
static void test_scenario_load_strict_fields(void **state)
{
    (void)state;
    expect_error("{\"format\": \"hypsim-scenario\", \"version\": 1,\n"
                 " \"actions\": [\n"
                 "  {\"who\": \"host\", \"do\": \"read\", \"ipa\": 8},\n"
                 "  {\"who\": \"host\", \"do\": \"read\", \"ipa\": 8,\n"
                 "   \"cacheble\": false}]}",
                 ":5: actions[1].cacheble: unknown field (did you mean 'cacheable'?)");
    expect_error("{\"format\": \"hypsim-scenario\", \"version\": 1,\n"
                 " \"steps\": 3, \"actions\": []}", ":2: steps: unknown field");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"read\",\"ipa\":8,\"value\":3}]}",
                 "actions[0].value: not a field of a \"read\" action");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"idle\",\"hc\":\"donate\"}]}",
                 "actions[0].hc: not a field of a \"idle\" action");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"idle\",\"who\":\"vm0\"}]}",
                 "actions[0].who: duplicate field");
    expect_error(HDR "\"actions\":[], \"actions\":[]}", "actions: duplicate field");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"hvc\",\"hc\":\"donat\"}]}",
                 "unknown hypercall 'donat' (did you mean 'donate'?)");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"raed\",\"ipa\":8}]}",
                 "actions[0].do: \"raed\" is not hvc, read, write or idle (did you mean 'read'?)");
    expect_error_cpus("{\"format\": \"hypsim-scenario\", \"version\": 1, \"actions\": [\n"
                      "  {\"who\": \"host\", \"do\": \"idle\"},\n"
                      "  {\"who\": \"host\", \"cpu\": 10, \"do\": \"idle\"}]}", 4,
                      ":3: actions[1].cpu: CPU 10, but the machine has 4 CPUs (0..3)");
    expect_error_cpus(HDR "\"actions\":[{\"who\":\"host\",\"cpu\":1,\"do\":\"idle\"}]}", 1,
                      "actions[0].cpu: CPU 1, but the machine has 1 CPU (0..0)");
    expect_error(HDR "\"actions\":[{\"who\":\"vm01x\",\"do\":\"idle\"}]}", "actions[0].who");
    expect_error(HDR "\"actions\":[{\"who\":\"vm\",\"do\":\"idle\"}]}", "actions[0].who");
    expect_error(HDR "\"then\":\"idle\",\"comment\":7,\"actions\":[]}", "comment: expected a string");
}

/* Integers: overflow, fractions, negative values and huge JSON numbers are
 * refused, never wrapped or rounded. */
static void test_scenario_load_integers(void **state)
{
    (void)state;
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"write\",\"ipa\":8,\"value\":\"0x1ffffffffffffffff\"}]}",
                 "actions[0].value: \"0x1ffffffffffffffff\" exceeds 64 bits");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"write\",\"ipa\":8,\"value\":1e300}]}",
                 "actions[0].value: 1e+300 is not an integer");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"write\",\"ipa\":8,\"value\":1.5}]}",
                 "actions[0].value: 1.5 is not an integer");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"write\",\"ipa\":8,\"value\":\" 7\"}]}",
                 "actions[0].value");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"write\",\"ipa\":8,\"value\":\"+7\"}]}",
                 "actions[0].value");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"hvc\",\"hc\":1,\"args\":[1,\"-2\"]}]}",
                 "actions[0].args[1]");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"cpu\":-1,\"do\":\"idle\"}]}", "actions[0].cpu");
    /* found by fuzz_scenario: a huge number was converted to an integer
     * before its range was checked (UBSan: outside the representable range) */
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"cpu\":7.77778e109,\"do\":\"idle\"}]}",
                 "actions[0].cpu: 7.77778e+109 is not an integer");
    expect_error("{\"format\":\"hypsim-scenario\",\"version\":1e300,\"actions\":[]}", "version: expected a positive integer");
    expect_error("{\"format\":\"hypsim-scenario\",\"version\":-1e300,\"actions\":[]}", "version: expected a positive integer");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"cpu\":\"0x100000000\",\"do\":\"idle\"}]}",
                 "actions[0].cpu");
}

/* The text itself: control characters, a cut file, data after the
 * document, a newer version, a document that is not an object. */
static void test_scenario_load_bad_text(void **state)
{
    (void)state;
    expect_error(HDR "\"actions\":[]}\n{}", ":2:1: unexpected data after the JSON document");
    expect_error(HDR "\"actions\":[{\"who\":\"host\",\"do\":\"idle\"}", "truncated: the file ends inside an object or array");
    expect_error(HDR "\"actions\":[{\"who\":\"ho", "truncated: the file ends inside a string");
    expect_error(HDR "\"actions\":[{\"who\":\"ho\001st\"}]}", "control character 0x01 inside a string");
    expect_error("{\"format\":\"hypsim-scenario\",\"version\":2,\"actions\":[]}",
                 "version: 2 is newer than this hypsim reads (1)");
    expect_error("{\"format\":\"hypsim-scenario\",\"version\":\"1\",\"actions\":[]}", "version: expected a positive integer");
    expect_error("{\"version\":1,\"actions\":[]}", "format: missing");
    expect_error(HDR "\"then\":3,\"actions\":[]}", "then: expected \"random\" or \"idle\"");
    expect_error("\"hypsim-scenario\"", "top level: expected an object");
}

/* Deep nesting is refused by cJSON's nesting limit; no stack overflow. */
static void test_scenario_load_deep(void **state)
{
    size_t n = 200000;
    char *t = malloc(2 * n + 64);
    (void)state;
    assert_non_null(t);
    strcpy(t, HDR "\"actions\":");
    size_t o = strlen(t);
    memset(t + o, '[', n);
    memset(t + o + n, ']', n);
    strcpy(t + o + 2 * n, "}");
    expect_error(t, "malformed JSON");
    free(t);
}

/* Non-regular files are refused by name, without blocking (a FIFO with no
 * writer blocked open(2) forever) and without reading; a file over the
 * limit is refused by its size (a directory was "file too large
 * (9223372036854775807 bytes)"). */
static void test_scenario_load_bad_files(void **state)
{
    struct scenario s;
    char err[256], fifo[64];
    FILE *f;
    (void)state;
    assert_int_equal(scenario_load(&s, "/tmp", 4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/tmp: is a directory, not a regular file"));
    assert_int_equal(scenario_load(&s, "/dev/zero", 4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a character device"));
    snprintf(fifo, sizeof(fifo), "/tmp/hypsim_scen_fifo_%d", (int)getpid());
    remove(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(scenario_load(&s, fifo, 4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a FIFO (named pipe), not a regular file"));
    remove(fifo);
    snprintf(path, sizeof(path), "/tmp/hypsim_scen_big_%d.json", (int)getpid());
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fseek(f, SCENARIO_MAX_BYTES, SEEK_SET), 0);
    fputc(' ', f);
    fclose(f);
    assert_int_equal(scenario_load(&s, path, 4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than the 16 MiB limit"));
    remove(path);
}

/* Lines are kept for reports ("never ran"), and scenario_describe says
 * what an action does. */
static void test_scenario_lines_and_describe(void **state)
{
    struct scenario s;
    char err[256], d[160];
    (void)state;
    write_file("{\"format\": \"hypsim-scenario\", \"version\": 1, \"comment\": \"x\", \"actions\": [\n"
               "  {\"who\": \"host\", \"do\": \"hvc\", \"hc\": \"donate\", \"args\": [0, 8200], \"comment\": \"give\"},\n"
               "\n"
               "  {\"who\": \"vm1\", \"cpu\": 2, \"do\": \"write\", \"ipa\": 16, \"value\": 5, \"cacheable\": false},\n"
               "  {\"who\": \"host\", \"do\": \"hvc\", \"hc\": 99}]}");
    assert_int_equal(scenario_load(&s, path, 4, err, sizeof(err)), 0);
    remove(path);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.act[0].line, 2);
    assert_int_equal(s.act[1].line, 4);
    assert_int_equal(s.act[2].line, 5);
    scenario_describe(&s.act[0], d, sizeof(d));
    assert_string_equal(d, "host: hvc donate(0x0, 0x2008, 0x0, 0x0)");
    scenario_describe(&s.act[1], d, sizeof(d));
    assert_string_equal(d, "vm1 on CPU 2: non-cacheable write of 0x5 to ipa 0x10");
    scenario_describe(&s.act[2], d, sizeof(d));
    assert_string_equal(d, "host: hvc 99(0x0, 0x0, 0x0, 0x0)");
    scenario_free(&s);
}

/* Every scenario shipped with the project still loads. */
static void test_scenario_load_shipped(void **state)
{
    static const char *const files[] = { "donate_no_check", "lifecycle", "no_clean",
                                         "teardown_no_tlbi", "teardown_owner_first" };
    (void)state;
    for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct scenario s;
        char p[512], err[256];
        snprintf(p, sizeof(p), "%s/hyp/kcore/scenarios/%s.json", HYPSIM_SOURCE_DIR, files[i]);
        if (scenario_load(&s, p, 4, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        scenario_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_load_good),
        cmocka_unit_test(test_scenario_load_bad_json),
        cmocka_unit_test(test_scenario_load_bad_header),
        cmocka_unit_test(test_scenario_load_bad_actions),
        cmocka_unit_test(test_scenario_load_missing_file),
        cmocka_unit_test(test_scenario_load_strict_fields),
        cmocka_unit_test(test_scenario_load_integers),
        cmocka_unit_test(test_scenario_load_bad_text),
        cmocka_unit_test(test_scenario_load_deep),
        cmocka_unit_test(test_scenario_load_bad_files),
        cmocka_unit_test(test_scenario_lines_and_describe),
        cmocka_unit_test(test_scenario_load_shipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
