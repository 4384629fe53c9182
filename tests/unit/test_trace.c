/*
 * tests/unit/test_trace.c - the trace file format (traces/trace.c) and
 * SHA-256 (traces/sha256.c): round trips, and every class of bad input the
 * reader must refuse with one line naming the file and the field or byte
 * (DESIGN.md "Interfaces": exit 2 with a clear error, never a crash).
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

#include <cjson/cJSON.h>

#include "traces/trace.h"

#define NAME "t.json"

/* ---- SHA-256: FIPS 180-2 appendix B test vectors ----------------------- */

static void expect_sha(const void *msg, size_t n, const char *hex)
{
    uint8_t d[SHA256_BYTES];
    char h[SHA256_HEX];
    sha256(msg, n, d);
    sha256_hex(d, h);
    assert_string_equal(h, hex);
}

static void test_sha256_fips_abc(void **state)
{
    (void)state;
    expect_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_fips_448bit(void **state)
{
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    (void)state;
    assert_int_equal(strlen(m) * 8, 448);
    expect_sha(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_empty_and_million_a(void **state)
{
    struct sha256_ctx c;
    uint8_t d[SHA256_BYTES], a[1000];
    char h[SHA256_HEX];
    (void)state;
    expect_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    memset(a, 'a', sizeof(a));
    sha256_init(&c);
    for (int i = 0; i < 1000; i++)           /* FIPS 180-2 B.3, fed in odd pieces */
        sha256_update(&c, a, 1000), (void)0;
    sha256_final(&c, d);
    sha256_hex(d, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_hex_parse(void **state)
{
    uint8_t d[SHA256_BYTES], e[SHA256_BYTES];
    char h[SHA256_HEX];
    (void)state;
    sha256("abc", 3, d);
    sha256_hex(d, h);
    assert_int_equal(sha256_parse_hex(h, e), 0);
    assert_memory_equal(d, e, SHA256_BYTES);
    assert_int_equal(sha256_parse_hex("abc", e), -1);
    h[10] = 'g';
    assert_int_equal(sha256_parse_hex(h, e), -1);
}

/* ---- Choice encoding ---------------------------------------------------- */

static void test_choices_roundtrip_edges(void **state)
{
    uint32_t v[] = { 0, 1, 127, 128, 999, 16383, 16384, 0x7fffffff, 0xffffffff, 5 };
    size_t n;
    uint32_t *out;
    char err[256];
    char *s;
    (void)state;
    for (size_t k = 0; k <= 10; k++) {         /* every length: all padding cases */
        s = trace_encode_choices(v, k);
        assert_non_null(s);
        assert_int_equal(strlen(s) % 4, 0);
        assert_int_equal(trace_decode_choices(s, strlen(s), &out, &n, err, sizeof(err)), 0);
        assert_int_equal(n, k);
        if (k)
            assert_memory_equal(out, v, k * sizeof(*v));
        free(out);
        free(s);
    }
}

static void expect_decode_error(const char *b64, const char *want)
{
    size_t n;
    uint32_t *out;
    char err[256];
    assert_int_equal(trace_decode_choices(b64, strlen(b64), &out, &n, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("decoding \"%s\": error \"%s\" lacks \"%s\"", b64, err, want);
}

static void test_choices_bad_base64(void **state)
{
    (void)state;
    expect_decode_error("AAA", "not a multiple of 4");
    expect_decode_error("AA*A", "at character 2");
    expect_decode_error("A=AA", "at character 1");
    expect_decode_error("AAAA====", "at character 4");
    expect_decode_error("AB==", "nonzero padding bits");
}

static void test_choices_bad_varints(void **state)
{
    (void)state;
    /* 0x80 alone: truncated varint at byte 0 */
    expect_decode_error("gA==", "varint at byte 0 is truncated");
    /* 00 then ff ff ff ff 7f: 35 bits, exceeds 32 */
    expect_decode_error("AP////38", "varint at byte 1");
    /* ff ff ff ff 1f: 2^32 + ... > 32 bits */
    expect_decode_error("/////x8=", "exceeds 32 bits");
    /* 0x80 0x00: not minimal */
    expect_decode_error("gAA=", "not minimally encoded");
}

/* ---- A sample trace ------------------------------------------------------ */

static void sample(struct trace *t, bool violation)
{
    trace_init(t);
    memset(&t->cfg, 0, sizeof(t->cfg));
    t->cfg.ncpus = 3;
    t->cfg.nvms = 2;
    t->cfg.mem_mib = 128;
    t->cfg.cache_sets = 64;
    t->cfg.cache_ways = 4;
    t->cfg.tlb_entries = 32;
    t->cfg.seed = 0xfedcba9876543210ull;     /* above 2^53: stored as a string */
    t->cfg.sched = SCHED_PCT;
    t->cfg.pct_depth = 5;
    t->cfg.steps = 5000;
    t->cfg.check = CHECK_FULL;
    snprintf(t->cfg.kcore_path, sizeof(t->cfg.kcore_path), "/k/kcore.elf");
    snprintf(t->cfg.scenario_path, sizeof(t->cfg.scenario_path), "s.json");
    t->has_scenario_sha256 = true;
    sha256("scenario", 8, t->scenario_sha256);
    sha256("kcore", 5, t->kcore_sha256);
    t->hash_every = 100;
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(trace_push_choice(t, i * 7919u % 1000u), 0);
    assert_int_equal(trace_push_checkpoint(t, 0, 0x1111), 0);
    assert_int_equal(trace_push_checkpoint(t, 100, 0xffffffffffffffffull), 0);
    assert_int_equal(trace_push_checkpoint(t, 150, 0x0123456789abcdefull), 0);
    t->steps = 150;
    t->violation = violation;
    if (violation) {
        t->viol.step = 149;
        t->viol.cpu = 2;
        t->viol.invariant = 4;
        t->viol.page = 0x2345000;
        t->viol.who = 2;
        t->viol.whose = 4;
        snprintf(t->viol.detail, sizeof(t->viol.detail), "host read VM 1's \"data\"");
        snprintf(t->viol.insn, sizeof(t->viol.insn), "0x1234: ldr x0, [x1]");
    }
}

static void assert_same(const struct trace *a, const struct trace *b)
{
    assert_memory_equal(&a->cfg, &b->cfg, sizeof(a->cfg));   /* both zero-initialised */
    assert_memory_equal(a->kcore_sha256, b->kcore_sha256, SHA256_BYTES);
    assert_int_equal(a->has_scenario_sha256, b->has_scenario_sha256);
    assert_memory_equal(a->scenario_sha256, b->scenario_sha256, SHA256_BYTES);
    assert_int_equal(a->hash_every, b->hash_every);
    assert_int_equal(a->nchoice, b->nchoice);
    assert_memory_equal(a->choice, b->choice, a->nchoice * sizeof(*a->choice));
    assert_int_equal(a->nckpt, b->nckpt);
    assert_memory_equal(a->ckpt, b->ckpt, a->nckpt * sizeof(*a->ckpt));
    assert_int_equal(a->steps, b->steps);
    assert_int_equal(a->violation, b->violation);
    if (a->violation) {
        assert_int_equal(a->viol.step, b->viol.step);
        assert_int_equal(a->viol.cpu, b->viol.cpu);
        assert_int_equal(a->viol.invariant, b->viol.invariant);
        assert_int_equal(a->viol.page, b->viol.page);
        assert_int_equal(a->viol.who, b->viol.who);
        assert_int_equal(a->viol.whose, b->viol.whose);
        assert_string_equal(a->viol.detail, b->viol.detail);
        assert_string_equal(a->viol.insn, b->viol.insn);
    }
}

static void test_trace_roundtrip_violation(void **state)
{
    struct trace a, b;
    char err[512], *txt;
    (void)state;
    sample(&a, true);
    txt = trace_to_json(&a);
    assert_non_null(txt);
    if (trace_parse(&b, NAME, txt, strlen(txt), err, sizeof(err)))
        fail_msg("%s", err);
    assert_same(&a, &b);
    free(txt);
    trace_free(&a);
    trace_free(&b);
}

static void test_trace_roundtrip_ok_file(void **state)
{
    struct trace a, b;
    char err[512], path[] = "/tmp/test_trace_XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    close(fd);
    sample(&a, false);
    a.cfg.seed = 42;
    memset(a.cfg.scenario_path, 0, sizeof(a.cfg.scenario_path));
    a.has_scenario_sha256 = false;
    memset(a.scenario_sha256, 0, SHA256_BYTES);
    assert_int_equal(trace_write(&a, path, err, sizeof(err)), 0);
    if (trace_read(&b, path, err, sizeof(err)))
        fail_msg("%s", err);
    assert_same(&a, &b);
    trace_free(&a);
    trace_free(&b);
    unlink(path);
}

/* config.layers (--layers on|off, invariant 8) survives a round trip both
 * ways: a replay must check the layers exactly when the run did. */
static void test_trace_roundtrip_layers_on_off(void **state)
{
    struct trace a, b;
    char err[512], *txt;
    (void)state;
    for (int on = 0; on <= 1; on++) {
        sample(&a, true);
        a.cfg.layers = on;
        txt = trace_to_json(&a);
        assert_non_null(txt);
        assert_non_null(strstr(txt, on ? "\"layers\":\ttrue" : "\"layers\":\tfalse"));
        if (trace_parse(&b, NAME, txt, strlen(txt), err, sizeof(err)))
            fail_msg("%s", err);
        assert_int_equal(b.cfg.layers, on);
        assert_same(&a, &b);
        free(txt);
        trace_free(&a);
        trace_free(&b);
    }
}

/* ---- Bad input: each names the file and the place --------------------- */

static void expect_parse_error_text(const char *txt, size_t len, const char *want)
{
    struct trace t;
    char err[512];
    int rc = trace_parse(&t, NAME, txt, len, err, sizeof(err));
    if (rc == 0)
        fail_msg("accepted a bad trace; expected an error with \"%s\"", want);
    if (strncmp(err, NAME ": ", strlen(NAME) + 2) || !strstr(err, want) || strchr(err, '\n'))
        fail_msg("error \"%s\" should be one line starting with the file and containing \"%s\"",
                 err, want);
    assert_null(t.choice);
}

/* The sample as a cJSON tree, to be mutated. */
static cJSON *sample_json(bool violation)
{
    struct trace t;
    char *txt;
    cJSON *j;
    sample(&t, violation);
    txt = trace_to_json(&t);
    trace_free(&t);
    j = cJSON_Parse(txt);
    free(txt);
    assert_non_null(j);
    return j;
}

static void expect_json_error(cJSON *j, const char *want)
{
    char *txt = cJSON_Print(j);
    expect_parse_error_text(txt, strlen(txt), want);
    free(txt);
    cJSON_Delete(j);
}

static cJSON *cfg_of(cJSON *j) { return cJSON_GetObjectItemCaseSensitive(j, "config"); }

/* A version-1 file written before config.layers existed loads with the
 * layers on, `hypsim run`'s default (FORMAT.md "Versioning"). */
static void test_trace_layers_absent_loads_on(void **state)
{
    struct trace t;
    char err[512], *txt;
    cJSON *j = sample_json(true);
    (void)state;
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cfg_of(j), "layers")));   /* sample: off */
    cJSON_DeleteItemFromObject(cfg_of(j), "layers");
    assert_null(cJSON_GetObjectItem(cfg_of(j), "layers"));
    assert_int_equal(cJSON_GetObjectItem(j, "version")->valueint, 1);
    txt = cJSON_Print(j);
    cJSON_Delete(j);
    if (trace_parse(&t, NAME, txt, strlen(txt), err, sizeof(err)))
        fail_msg("%s", err);
    assert_true(t.cfg.layers);
    free(txt);
    trace_free(&t);
}

/* A wrong type for config.layers: one line naming the file and the field,
 * from memory and from a file. */
static void test_trace_bad_layers(void **state)
{
    char path[] = "/tmp/test_trace_XXXXXX", *txt;
    struct trace t;
    char err[512];
    cJSON *j;
    int fd;
    (void)state;
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "layers", cJSON_CreateString("off"));
    expect_json_error(j, "config.layers: expected a boolean (true or false), got a string");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "layers", cJSON_CreateNumber(0));
    expect_json_error(j, "config.layers: expected a boolean (true or false), got a number");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "layers", cJSON_CreateNull());
    expect_json_error(j, "config.layers: expected a boolean (true or false), got null");
    j = sample_json(false);
    cJSON_AddTrueToObject(cfg_of(j), "layers");
    expect_json_error(j, "config.layers: duplicate field");
    j = sample_json(false);
    cJSON_AddTrueToObject(j, "layers");          /* belongs in config */
    expect_json_error(j, "layers: unknown field");
    /* from a file: the message starts with its path */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "layers", cJSON_CreateString("on"));
    txt = cJSON_Print(j);
    cJSON_Delete(j);
    assert_int_equal(write(fd, txt, strlen(txt)), (ssize_t)strlen(txt));
    close(fd);
    free(txt);
    assert_int_equal(trace_read(&t, path, err, sizeof(err)), -1);
    if (strncmp(err, path, strlen(path)) || err[strlen(path)] != ':' ||
        !strstr(err, ": config.layers: expected a boolean") || strchr(err, '\n'))
        fail_msg("error \"%s\" should be one line naming %s and config.layers", err, path);
    unlink(path);
}

static void test_trace_bad_malformed_json(void **state)
{
    const char *s = "{\n  \"format\": \"hypsim-trace\",\n  \"version\": 1,,\n}";
    (void)state;
    expect_parse_error_text(s, strlen(s), "(line 3, column 1");
    expect_parse_error_text(s, strlen(s), "malformed JSON");
    expect_parse_error_text("[1] x", 5, "byte 4 (line 1, column 5): unexpected data after");
    expect_parse_error_text("", 0, "byte 0: empty file");
}

static void test_trace_bad_truncated(void **state)
{
    struct trace t;
    char *txt;
    (void)state;
    sample(&t, true);
    txt = trace_to_json(&t);
    trace_free(&t);
    for (size_t cut = 1; cut < strlen(txt); cut += 97)
        expect_parse_error_text(txt, cut, "truncated");
    free(txt);
}

static void test_trace_bad_format_and_version(void **state)
{
    cJSON *j;
    (void)state;
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "format", cJSON_CreateString("other"));
    expect_json_error(j, "format: \"other\" is not \"hypsim-trace\"");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "version", cJSON_CreateNumber(2));
    cJSON_AddStringToObject(j, "new_field_of_v2", "x");
    expect_json_error(j, "version: 2 is newer");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "version", cJSON_CreateString("1"));
    expect_json_error(j, "version: expected a positive integer, got a string");
    j = sample_json(false);
    cJSON_DeleteItemFromObject(j, "version");
    expect_json_error(j, "version: missing");
    expect_parse_error_text("[]", 2, "top level: expected an object, got an array");
}

static void test_trace_bad_missing_and_mistyped(void **state)
{
    cJSON *j;
    (void)state;
    j = sample_json(false);
    cJSON_DeleteItemFromObject(cfg_of(j), "cpus");
    expect_json_error(j, "config.cpus: missing");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "cpus", cJSON_CreateString("4"));
    expect_json_error(j, "config.cpus: expected an integer, got a string");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "mem_mib", cJSON_CreateNumber(64.5));
    expect_json_error(j, "config.mem_mib: 64.5 is not a non-negative integer");
    j = sample_json(false);
    cJSON_DeleteItemFromObject(j, "choices");
    expect_json_error(j, "choices: missing");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "choices", cJSON_CreateNumber(3));
    expect_json_error(j, "choices: expected a base64 string, got a number");
    j = sample_json(false);
    cJSON_DeleteItemFromObject(j, "kcore_sha256");
    expect_json_error(j, "kcore_sha256: missing");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "kcore_sha256", cJSON_CreateString("abcd"));
    expect_json_error(j, "kcore_sha256: \"abcd\" is not a SHA-256");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "outcome", cJSON_CreateArray());
    expect_json_error(j, "outcome: expected an object, got an array");
    j = sample_json(true);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "outcome"), "violation"), "invariant");
    expect_json_error(j, "outcome.violation.invariant: missing");
    j = sample_json(false);
    cJSON_AddNumberToObject(cfg_of(j), "cpu", 4);
    expect_json_error(j, "config.cpu: unknown field");
    j = sample_json(false);
    cJSON_AddNumberToObject(cfg_of(j), "cpus", 4);
    expect_json_error(j, "config.cpus: duplicate field");
    j = sample_json(false);
    cJSON_DeleteItemFromObject(cfg_of(j), "scenario_sha256");
    expect_json_error(j, "config.scenario_sha256: missing");
}

static void test_trace_bad_config_ranges(void **state)
{
    static const struct { const char *key; double v; const char *want; } cases[] = {
        { "cpus", 0, "config.cpus: 0 out of range 1..64" },
        { "cpus", 65, "config.cpus: 65 out of range 1..64" },
        { "vms", 17, "config.vms: 17 out of range 0..16" },
        { "mem_mib", 32, "config.mem_mib: 32 out of range 64..4096" },
        { "cache_sets", 3, "config.cache_sets: 3 is not a power of two" },
        { "cache_ways", 65, "config.cache_ways: 65 out of range 1..64" },
        { "tlb_entries", 0, "config.tlb_entries: 0 out of range" },
        { "pct_depth", 0, "config.pct_depth: 0 out of range 1..16" },
        { "steps", 1e300, "config.steps: 1e+300 is not a non-negative integer below 2^53" },
        { "seed", -1, "config.seed: -1 is not a non-negative integer" },
    };
    cJSON *j;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        j = sample_json(false);
        cJSON_ReplaceItemInObject(cfg_of(j), cases[i].key, cJSON_CreateNumber(cases[i].v));
        expect_json_error(j, cases[i].want);
    }
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "seed", cJSON_CreateString("18446744073709551616"));
    expect_json_error(j, "config.seed: 18446744073709551616 exceeds 64 bits");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "sched", cJSON_CreateString("fifo"));
    expect_json_error(j, "config.sched: unknown strategy \"fifo\"");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cfg_of(j), "check", cJSON_CreateString("some"));
    expect_json_error(j, "config.check: unknown mode \"some\"");
    j = sample_json(true);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "outcome"), "violation"),
                              "cpu", cJSON_CreateNumber(3));
    expect_json_error(j, "outcome.violation.cpu: 3 is not an integer in -1..2");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j, "outcome"), "steps", cJSON_CreateNumber(5001));
    expect_json_error(j, "outcome.steps: 5001 out of range 0..5000");
}

static void test_trace_bad_choices(void **state)
{
    cJSON *j;
    (void)state;
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "choices", cJSON_CreateString("AAA*"));
    expect_json_error(j, "choices: bad base64 character '*' (code 42) at character 3");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "choices", cJSON_CreateString("AP////38"));
    expect_json_error(j, "choices: varint at byte 1 is longer than 5 bytes (more than 32 bits)");
    j = sample_json(false);
    cJSON_ReplaceItemInObject(j, "choices", cJSON_CreateString("gA=="));
    expect_json_error(j, "choices: varint at byte 0 is truncated");
    j = sample_json(false);                    /* a cut inside the string: fewer choices */
    cJSON_ReplaceItemInObject(j, "choices", cJSON_CreateString("AAAA"));
    expect_json_error(j, "choices: 3 choices decoded, but choice_count says 1000");
}

static void test_trace_bad_checkpoints(void **state)
{
    cJSON *j, *a;
    (void)state;
    j = sample_json(false);
    a = cJSON_GetObjectItem(j, "checkpoints");
    cJSON_DeleteItemFromArray(a, 2);
    expect_json_error(j, "checkpoints: the last checkpoint must be the final state (step 150)");
    j = sample_json(false);
    a = cJSON_GetObjectItem(j, "checkpoints");
    cJSON_ReplaceItemInArray(cJSON_GetArrayItem(a, 1), 1, cJSON_CreateString("12345"));
    expect_json_error(j, "checkpoints[1][1]: \"12345\" is not 16 hex digits");
    j = sample_json(false);
    a = cJSON_GetObjectItem(j, "checkpoints");
    cJSON_ReplaceItemInArray(cJSON_GetArrayItem(a, 1), 0, cJSON_CreateNumber(0));
    expect_json_error(j, "checkpoints[1][0]: step 0 does not follow step 0");
    j = sample_json(false);
    a = cJSON_GetObjectItem(j, "checkpoints");
    cJSON_ReplaceItemInArray(a, 0, cJSON_CreateNumber(7));
    expect_json_error(j, "checkpoints[0]: expected [step, \"hash\"], got a number");
}

static void test_trace_bad_hostile(void **state)
{
    char *deep;
    size_t n = 200000;
    (void)state;
    /* Deep nesting: refused by the parser's nesting limit, no stack overflow. */
    deep = malloc(2 * n + 1);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = 0;
    expect_parse_error_text(deep, 2 * n, "malformed JSON");
    free(deep);
    /* NUL bytes and binary junk */
    expect_parse_error_text("{\"format\"\0:1}", 13, "byte 9 (line 1, column 10): control character 0x00");
    expect_parse_error_text("{\"a\x01\": 1}", 8, "control character 0x01 inside a string");
    expect_parse_error_text("\xff\xfe{}", 4, "byte 0 (line 1, column 1): malformed JSON");
    expect_parse_error_text("  \n ", 4, "truncated: the file ends before any JSON");
    /* over the size limit: refused before parsing */
    expect_parse_error_text("{}", TRACE_MAX_FILE_BYTES + 1, "larger than the 256 MiB limit");
}

static void expect_read_error(const char *path, const char *want)
{
    struct trace t;
    char err[512];
    assert_int_equal(trace_read(&t, path, err, sizeof(err)), -1);
    if (strncmp(err, path, strlen(path)) || !strstr(err, want))
        fail_msg("error \"%s\" should name %s and contain \"%s\"", err, path, want);
}

static void test_trace_read_bad_files(void **state)
{
    char path[] = "/tmp/test_trace_XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    expect_read_error("/nonexistent/trace.json", "No such file");
    expect_read_error("/tmp", "is a directory");
    expect_read_error(path, "byte 0: empty file");
    assert_int_equal(write(fd, "{\"format\": \"hyp", 15), 15);
    expect_read_error(path, "byte 15 (line 1, column 16): truncated: the file ends inside a string");
    /* a sparse file just over the limit: refused by size, not read */
    assert_int_equal(ftruncate(fd, (off_t)TRACE_MAX_FILE_BYTES + 1), 0);
    expect_read_error(path, "larger than the 256 MiB limit");
    close(fd);
    unlink(path);
}

/* Issue 14: `hypsim replay FIFO` blocked forever in open(2), and the digest
 * of a FIFO would too. Non-regular files are refused by name at once. */
static void test_trace_read_not_regular(void **state)
{
    char fifo[64];
    uint8_t d[SHA256_BYTES];
    char err[512];
    (void)state;
    snprintf(fifo, sizeof(fifo), "/tmp/test_trace_fifo_%d", (int)getpid());
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_read_error(fifo, "is a FIFO (named pipe), not a regular file");
    assert_int_equal(sha256_file(fifo, d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a FIFO (named pipe), not a regular file"));
    unlink(fifo);
    expect_read_error("/dev/zero", "is a character device, not a regular file");
    expect_read_error("/tmp", "/tmp: is a directory, not a regular file");
    assert_int_equal(sha256_file("/tmp", d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a directory"));
}

/* Every file of the fuzz seed corpus parses without crashing; the ones named
 * ok-* are accepted. */
static void test_trace_fuzz_corpus(void **state)
{
    static const char *const files[] = { "ok-violation.json", "ok-small.json", "ok-layers-off.json",
                                         "bad-version.json", "bad-varint.json", NULL };
    (void)state;
    for (const char *const *f = files; *f; f++) {
        char path[1024], err[512];
        struct trace t;
        int rc;
        snprintf(path, sizeof(path), "%s/%s", HYPSIM_FUZZ_CORPUS, *f);
        rc = trace_read(&t, path, err, sizeof(err));
        if (!strncmp(*f, "ok-", 3) && rc)
            fail_msg("%s", err);
        if (strncmp(*f, "ok-", 3) && !rc)
            fail_msg("%s: accepted", path);
        if (!rc && !strcmp(*f, "ok-layers-off.json"))
            assert_false(t.cfg.layers);
        if (!rc)
            trace_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_fips_abc),
        cmocka_unit_test(test_sha256_fips_448bit),
        cmocka_unit_test(test_sha256_empty_and_million_a),
        cmocka_unit_test(test_sha256_hex_parse),
        cmocka_unit_test(test_choices_roundtrip_edges),
        cmocka_unit_test(test_choices_bad_base64),
        cmocka_unit_test(test_choices_bad_varints),
        cmocka_unit_test(test_trace_roundtrip_violation),
        cmocka_unit_test(test_trace_roundtrip_ok_file),
        cmocka_unit_test(test_trace_roundtrip_layers_on_off),
        cmocka_unit_test(test_trace_layers_absent_loads_on),
        cmocka_unit_test(test_trace_bad_layers),
        cmocka_unit_test(test_trace_bad_malformed_json),
        cmocka_unit_test(test_trace_bad_truncated),
        cmocka_unit_test(test_trace_bad_format_and_version),
        cmocka_unit_test(test_trace_bad_missing_and_mistyped),
        cmocka_unit_test(test_trace_bad_config_ranges),
        cmocka_unit_test(test_trace_bad_choices),
        cmocka_unit_test(test_trace_bad_checkpoints),
        cmocka_unit_test(test_trace_bad_hostile),
        cmocka_unit_test(test_trace_read_bad_files),
        cmocka_unit_test(test_trace_read_not_regular),
        cmocka_unit_test(test_trace_fuzz_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
