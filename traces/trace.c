/*
 * traces/trace.c - the trace file format: strict reader, writer and the
 * choice encoding (LEB128 varints in base64). See trace.h and FORMAT.md.
 * Needs cJSON and the declaration of struct machine_config only; no
 * machine. Every error is one line naming the file and the field or byte.
 */
#include "traces/trace.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/fsutil.h"

/* The format's range of config.mem_mib (FORMAT.md); the machine refuses
 * less than its hypervisor needs (hyp/hv.h min_mem) when it starts. */
#define TRACE_MIN_MEM_MIB 64

/* ---- In-memory trace ------------------------------------------------------ */

void trace_init(struct trace *t)
{
    memset(t, 0, sizeof(*t));
    t->hash_every = TRACE_HASH_EVERY_DEFAULT;
}

void trace_free(struct trace *t)
{
    free(t->choice);
    free(t->ckpt);
    free(t->scenario_text);
    trace_init(t);
}

bool trace_mutant_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return false;
    return n < TRACE_MUTANT_MAX;
}

const char *trace_mutant_of_path(const char *path, char out[TRACE_MUTANT_MAX])
{
    const char *b = strrchr(path, '/');
    size_t n;
    b = b ? b + 1 : path;
    if (!strcmp(b, "kcore.elf")) {
        out[0] = 0;
        return out;
    }
    n = strlen(b);
    if (strncmp(b, "kcore-", 6) || n <= 10 || strcmp(b + n - 4, ".elf") || n - 10 >= TRACE_MUTANT_MAX)
        return NULL;
    memcpy(out, b + 6, n - 10);
    out[n - 10] = 0;
    return trace_mutant_valid(out) ? out : NULL;
}

int trace_copy_sources(struct trace *dst, const struct trace *src)
{
    char *txt = NULL;
    if (src->scenario_text) {
        txt = malloc(src->scenario_len + 1);
        if (!txt)
            return -1;
        memcpy(txt, src->scenario_text, src->scenario_len + 1);
    }
    free(dst->scenario_text);
    dst->scenario_text = txt;
    dst->scenario_len = src->scenario_len;
    memcpy(dst->kcore_sha256, src->kcore_sha256, SHA256_BYTES);
    dst->has_mutant = src->has_mutant;
    memcpy(dst->mutant, src->mutant, sizeof(dst->mutant));
    dst->has_scenario_sha256 = src->has_scenario_sha256;
    memcpy(dst->scenario_sha256, src->scenario_sha256, SHA256_BYTES);
    memcpy(dst->cfg.scenario_path, src->cfg.scenario_path, sizeof(dst->cfg.scenario_path));
    return 0;
}

const char *trace_invariant_name(int inv)
{
    switch (inv) {
    case 0: return "KCore fault";
    case 1: return "KCore memory isolated";
    case 2: return "stage-2 mappings owned";
    case 3: return "TLB entries owned";
    case 4: return "confidentiality";
    case 5: return "integrity";
    case 6: return "page tables well-formed";
    case 7: return "ownership bookkeeping";
    case 8: return "refinement and spec (layers)";
    default: return "unknown";
    }
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t nc;
    void *q;
    if (need <= *cap)
        return 0;
    nc = *cap ? *cap : 256;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem)
            return -1;
        nc *= 2;
    }
    q = realloc(*p, nc * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

int trace_push_choice(struct trace *t, uint32_t v)
{
    if (grow((void **)&t->choice, &t->capchoice, t->nchoice + 1, sizeof(*t->choice)))
        return -1;
    t->choice[t->nchoice++] = v;
    return 0;
}

int trace_push_checkpoint(struct trace *t, uint64_t step, uint64_t hash)
{
    if (grow((void **)&t->ckpt, &t->capckpt, t->nckpt + 1, sizeof(*t->ckpt)))
        return -1;
    t->ckpt[t->nckpt].step = step;
    t->ckpt[t->nckpt].hash = hash;
    t->nckpt++;
    return 0;
}

const char *trace_sched_name(enum sched_kind k)
{
    switch (k) {
    case SCHED_RANDOM: return "random";
    case SCHED_RR: return "rr";
    case SCHED_PCT: return "pct";
    /* An exhaustive run's choices replay like any other's (replay never
     * asks the strategy); the format has no name for it and records it as
     * random, as it always did. */
    case SCHED_EXHAUSTIVE: return "random";
    }
    return NULL;
}

const char *trace_check_name(enum check_mode c)
{
    switch (c) {
    case CHECK_INCREMENTAL: return "incremental";
    case CHECK_FULL: return "full";
    case CHECK_OFF: return "off";
    }
    return NULL;
}

/* ---- Choice encoding ----------------------------------------------------- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *trace_encode_choices(const uint32_t *v, size_t n)
{
    size_t nb = 0, cap, olen;
    uint8_t *bytes;
    char *out;

    if (n > SIZE_MAX / 5 - 3)
        return NULL;
    cap = 5 * n + 3;
    bytes = malloc(cap);
    if (!bytes)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = v[i];
        do {
            uint8_t b = x & 0x7f;
            x >>= 7;
            bytes[nb++] = (uint8_t)(b | (x ? 0x80 : 0));
        } while (x);
    }
    olen = (nb + 2) / 3 * 4;
    out = malloc(olen + 1);
    if (!out) {
        free(bytes);
        return NULL;
    }
    for (size_t i = 0, o = 0; i < nb; i += 3) {
        uint32_t w = (uint32_t)bytes[i] << 16;
        if (i + 1 < nb) w |= (uint32_t)bytes[i + 1] << 8;
        if (i + 2 < nb) w |= bytes[i + 2];
        out[o++] = b64chars[w >> 18 & 63];
        out[o++] = b64chars[w >> 12 & 63];
        out[o++] = i + 1 < nb ? b64chars[w >> 6 & 63] : '=';
        out[o++] = i + 2 < nb ? b64chars[w & 63] : '=';
    }
    out[olen] = 0;
    free(bytes);
    return out;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int trace_decode_choices(const char *s, size_t len, uint32_t **out, size_t *n,
                         char *err, size_t errlen)
{
    size_t nb = 0, cnt = 0, pad = 0;
    uint8_t *bytes;
    uint32_t *v;

    *out = NULL;
    *n = 0;
    if (len % 4) {
        snprintf(err, errlen, "bad base64: length %zu is not a multiple of 4", len);
        return -1;
    }
    if (len >= 1 && s[len - 1] == '=') pad++;
    if (len >= 2 && s[len - 2] == '=') pad++;
    bytes = malloc(len / 4 * 3 + 1);
    if (!bytes) {
        snprintf(err, errlen, "out of memory decoding %zu characters", len);
        return -1;
    }
    for (size_t i = 0; i < len; i += 4) {
        int d[4];
        uint32_t w = 0;
        for (unsigned k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            bool padpos = i + 4 == len && k >= 4 - pad;
            d[k] = padpos ? 0 : b64val(c);
            if (d[k] < 0 || (!padpos && c == '=')) {
                snprintf(err, errlen, "bad base64 character %s%c%s (code %u) at character %zu",
                         c >= 0x20 && c < 0x7f ? "'" : "", c >= 0x20 && c < 0x7f ? c : ' ',
                         c >= 0x20 && c < 0x7f ? "'" : "", c, i + k);
                free(bytes);
                return -1;
            }
            w = w << 6 | (uint32_t)d[k];
        }
        if (i + 4 == len && pad && (w & (pad == 1 ? 0xffu : 0xffffu))) {
            snprintf(err, errlen, "bad base64: nonzero padding bits at character %zu", i);
            free(bytes);
            return -1;
        }
        bytes[nb++] = (uint8_t)(w >> 16);
        if (!(i + 4 == len && pad >= 2)) bytes[nb++] = (uint8_t)(w >> 8);
        if (!(i + 4 == len && pad >= 1)) bytes[nb++] = (uint8_t)w;
    }
    /* Each varint ends with a byte < 0x80: that bounds the count. */
    for (size_t i = 0; i < nb; i++)
        cnt += bytes[i] < 0x80;
    v = malloc((cnt ? cnt : 1) * sizeof(*v));
    if (!v) {
        free(bytes);
        snprintf(err, errlen, "out of memory for %zu choices", cnt);
        return -1;
    }
    cnt = 0;
    for (size_t i = 0; i < nb;) {
        size_t start = i;
        uint64_t x = 0;
        unsigned shift = 0;
        for (;;) {
            uint8_t b;
            if (i >= nb) {
                snprintf(err, errlen, "varint at byte %zu is truncated (the data ends inside it)", start);
                goto fail;
            }
            b = bytes[i++];
            x |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80)) {
                if (b == 0 && i - start > 1) {
                    snprintf(err, errlen, "varint at byte %zu is not minimally encoded", start);
                    goto fail;
                }
                break;
            }
            shift += 7;
            if (shift >= 35) {
                snprintf(err, errlen, "varint at byte %zu is longer than 5 bytes (more than 32 bits)", start);
                goto fail;
            }
        }
        if (x > UINT32_MAX) {
            snprintf(err, errlen, "varint at byte %zu: value %llu exceeds 32 bits", start,
                     (unsigned long long)x);
            goto fail;
        }
        v[cnt++] = (uint32_t)x;
    }
    free(bytes);
    *out = v;
    *n = cnt;
    return 0;
fail:
    free(bytes);
    free(v);
    return -1;
}

/* ---- Reader ------------------------------------------------------------ */

struct rd {
    const char *name;
    char *err;
    size_t errlen;
};

static int fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct rd *r, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(r->err, r->errlen, "%s: ", r->name);
    if (k < 0 || (size_t)k >= r->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(r->err + k, r->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* A string from the file, made safe for a one-line message: at most 40
 * characters, anything but printable ASCII as \xNN. */
#define QUOTE_BUF 200
#define Q(s) quote((s), (char[QUOTE_BUF]){0})
static const char *quote(const char *s, char *buf)
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 8 < QUOTE_BUF; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 40) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, QUOTE_BUF - o, "\\x%02x", c);
    }
    buf[o] = 0;
    return buf;
}

static const char *type_name(const cJSON *j)
{
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNull(j)) return "null";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    return "invalid";
}

/* Reject keys not in `allowed` (NULL-terminated) and duplicates. */
static int check_keys(struct rd *r, const cJSON *o, const char *path, const char *const *allowed)
{
    for (const cJSON *c = o->child; c; c = c->next) {
        bool ok = false;
        if (!c->string)
            return fail(r, "%s: member without a name", path);
        for (const char *const *a = allowed; *a; a++)
            ok |= !strcmp(*a, c->string);
        if (!ok)
            return fail(r, "%s%s%s: unknown field", path, *path ? "." : "", Q(c->string));
        for (const cJSON *d = c->next; d; d = d->next)
            if (d->string && !strcmp(d->string, c->string))
                return fail(r, "%s%s%s: duplicate field", path, *path ? "." : "", Q(c->string));
    }
    return 0;
}

static const cJSON *member(struct rd *r, const cJSON *o, const char *path, const char *key,
                           bool optional, int *rc)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    *rc = 0;
    if (!j && !optional)
        *rc = fail(r, "%s%s%s: missing", path, *path ? "." : "", key);
    return j;
}

static int get_u64(struct rd *r, const cJSON *o, const char *path, const char *key,
                   uint64_t lo, uint64_t hi, bool allow_string, uint64_t *out)
{
    int rc;
    const cJSON *j = member(r, o, path, key, false, &rc);
    const char *dot = *path ? "." : "";
    if (rc)
        return rc;
    if (allow_string && cJSON_IsString(j)) {
        const char *s = j->valuestring;
        uint64_t v = 0;
        if (!*s)
            return fail(r, "%s%s%s: empty string, expected a decimal integer", path, dot, key);
        for (; *s; s++) {
            if (*s < '0' || *s > '9')
                return fail(r, "%s%s%s: \"%s\" is not a decimal integer", path, dot, key, Q(j->valuestring));
            if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                return fail(r, "%s%s%s: %s exceeds 64 bits", path, dot, key, Q(j->valuestring));
            v = v * 10 + (uint64_t)(*s - '0');
        }
        if (v < lo || v > hi)
            return fail(r, "%s%s%s: %llu out of range %llu..%llu", path, dot, key, (unsigned long long)v,
                        (unsigned long long)lo, (unsigned long long)hi);
        *out = v;
        return 0;
    }
    if (!cJSON_IsNumber(j))
        return fail(r, "%s%s%s: expected an integer, got %s", path, dot, key, type_name(j));
    double d = j->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < 0 || d > 9007199254740992.0)
        return fail(r, "%s%s%s: %g is not a non-negative integer below 2^53", path, dot, key, d);
    if ((uint64_t)d < lo || (uint64_t)d > hi)
        return fail(r, "%s%s%s: %.0f out of range %llu..%llu", path, dot, key, d,
                    (unsigned long long)lo, (unsigned long long)hi);
    *out = (uint64_t)d;
    return 0;
}

static int get_int(struct rd *r, const cJSON *o, const char *path, const char *key,
                   int lo, int hi, int *out)
{
    int rc;
    const cJSON *j = member(r, o, path, key, false, &rc);
    const char *dot = *path ? "." : "";
    if (rc)
        return rc;
    if (!cJSON_IsNumber(j))
        return fail(r, "%s%s%s: expected an integer, got %s", path, dot, key, type_name(j));
    double d = j->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < lo || d > hi)
        return fail(r, "%s%s%s: %g is not an integer in %d..%d", path, dot, key, d, lo, hi);
    *out = (int)d;
    return 0;
}

static int get_str(struct rd *r, const cJSON *o, const char *path, const char *key,
                   bool optional, const char **out)
{
    int rc;
    const cJSON *j = member(r, o, path, key, optional, &rc);
    *out = NULL;
    if (rc || !j)
        return rc;
    if (!cJSON_IsString(j) || !j->valuestring)
        return fail(r, "%s%s%s: expected a string, got %s", path, *path ? "." : "", key, type_name(j));
    *out = j->valuestring;
    return 0;
}

static int get_hex64(struct rd *r, const cJSON *j, const char *path, uint64_t *out)
{
    uint64_t v = 0;
    const char *s;
    if (!cJSON_IsString(j))
        return fail(r, "%s: expected a string of 16 hex digits, got %s", path, type_name(j));
    s = j->valuestring;
    for (unsigned i = 0; i < 16; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
                c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return fail(r, "%s: \"%s\" is not 16 hex digits", path, Q(s));
        v = v << 4 | (uint64_t)d;
    }
    if (s[16])
        return fail(r, "%s: \"%s\" is not 16 hex digits", path, Q(s));
    *out = v;
    return 0;
}

static int get_sha(struct rd *r, const cJSON *o, const char *path, const char *key, uint8_t *out)
{
    const char *s;
    if (get_str(r, o, path, key, false, &s))
        return -1;
    if (sha256_parse_hex(s, out))
        return fail(r, "%s%s%s: \"%s\" is not a SHA-256 (64 hex digits)", path, *path ? "." : "", key, Q(s));
    return 0;
}

static int copy_str(struct rd *r, const char *path, const char *s, char *dst, size_t cap)
{
    size_t n = strlen(s);
    if (n >= cap)
        return fail(r, "%s: %zu characters, longer than %zu", path, n, cap - 1);
    memcpy(dst, s, n + 1);
    return 0;
}

static int parse_config(struct rd *r, const cJSON *c, struct machine_config *cfg,
                        struct trace *t)
{
    static const char *const keys[] = { "cpus", "vms", "mem_mib", "cache_sets", "cache_ways",
        "tlb_entries", "seed", "sched", "pct_depth", "steps", "check", "layers", "kcore_path",
        "scenario", "scenario_sha256", "scenario_text", NULL };
    const char *p = "config", *s;
    const cJSON *j;
    uint64_t v;

    if (!cJSON_IsObject(c))
        return fail(r, "config: expected an object, got %s", type_name(c));
    if (check_keys(r, c, p, keys))
        return -1;
    memset(cfg, 0, sizeof(*cfg));
    if (get_u64(r, c, p, "cpus", 1, HV_MAX_CPUS, false, &v)) return -1;
    cfg->ncpus = (unsigned)v;
    if (get_u64(r, c, p, "vms", 0, HV_MAX_VMS, false, &v)) return -1;
    cfg->nvms = (unsigned)v;
    if (get_u64(r, c, p, "mem_mib", TRACE_MIN_MEM_MIB, 4096, false, &v)) return -1;
    cfg->mem_mib = v;
    if (get_u64(r, c, p, "cache_sets", 1, 1u << 20, false, &v)) return -1;
    if (v & (v - 1))
        return fail(r, "config.cache_sets: %llu is not a power of two", (unsigned long long)v);
    cfg->cache_sets = (unsigned)v;
    if (get_u64(r, c, p, "cache_ways", 1, 64, false, &v)) return -1;
    cfg->cache_ways = (unsigned)v;
    if (get_u64(r, c, p, "tlb_entries", 1, 65536, false, &v)) return -1;
    cfg->tlb_entries = (unsigned)v;
    if (get_u64(r, c, p, "seed", 0, UINT64_MAX, true, &cfg->seed)) return -1;
    if (get_str(r, c, p, "sched", false, &s)) return -1;
    if (!strcmp(s, "random")) cfg->sched = SCHED_RANDOM;
    else if (!strcmp(s, "rr")) cfg->sched = SCHED_RR;
    else if (!strcmp(s, "pct")) cfg->sched = SCHED_PCT;
    else return fail(r, "config.sched: unknown strategy \"%s\" (random, rr, pct)", Q(s));
    if (get_u64(r, c, p, "pct_depth", 1, 16, false, &v)) return -1;
    cfg->pct_depth = (unsigned)v;
    if (get_u64(r, c, p, "steps", 1, TRACE_MAX_STEPS, false, &cfg->steps)) return -1;
    if (get_str(r, c, p, "check", false, &s)) return -1;
    if (!strcmp(s, "incremental")) cfg->check = CHECK_INCREMENTAL;
    else if (!strcmp(s, "full")) cfg->check = CHECK_FULL;
    else if (!strcmp(s, "off")) cfg->check = CHECK_OFF;
    else return fail(r, "config.check: unknown mode \"%s\" (incremental, full, off)", Q(s));
    /* optional: absent in files written before the field existed, which
     * load with `hypsim run`'s default, on (FORMAT.md "Versioning") */
    j = cJSON_GetObjectItemCaseSensitive(c, "layers");
    if (!j)
        cfg->layers = true;
    else if (cJSON_IsBool(j))
        cfg->layers = cJSON_IsTrue(j);
    else
        return fail(r, "config.layers: expected a boolean (true or false), got %s", type_name(j));
    if (get_str(r, c, p, "kcore_path", false, &s)) return -1;
    if (copy_str(r, "config.kcore_path", s, cfg->kcore_path, sizeof(cfg->kcore_path))) return -1;
    if (get_str(r, c, p, "scenario", false, &s)) return -1;
    if (copy_str(r, "config.scenario", s, cfg->scenario_path, sizeof(cfg->scenario_path))) return -1;
    t->has_scenario_sha256 = cJSON_GetObjectItemCaseSensitive(c, "scenario_sha256") != NULL;
    if (cfg->scenario_path[0] && !t->has_scenario_sha256)
        return fail(r, "config.scenario_sha256: missing (required with a scenario)");
    if (!cfg->scenario_path[0] && t->has_scenario_sha256)
        return fail(r, "config.scenario_sha256: present without a scenario");
    if (t->has_scenario_sha256 && get_sha(r, c, p, "scenario_sha256", t->scenario_sha256))
        return -1;
    /* optional: absent in files written before the field, which replay
     * from the file config.scenario names (FORMAT.md "Versioning") */
    j = cJSON_GetObjectItemCaseSensitive(c, "scenario_text");
    if (j) {
        uint8_t d[SHA256_BYTES];
        size_t n;
        if (!cfg->scenario_path[0])
            return fail(r, "config.scenario_text: present without a scenario");
        if (!cJSON_IsString(j) || !j->valuestring)
            return fail(r, "config.scenario_text: expected a string, got %s", type_name(j));
        n = strlen(j->valuestring);
        sha256(j->valuestring, n, d);
        if (memcmp(d, t->scenario_sha256, SHA256_BYTES))
            return fail(r, "config.scenario_text: its SHA-256 differs from config.scenario_sha256 (edited or cut)");
        t->scenario_text = malloc(n + 1);
        if (!t->scenario_text)
            return fail(r, "config.scenario_text: out of memory");
        memcpy(t->scenario_text, j->valuestring, n + 1);
        t->scenario_len = n;
    }
    return 0;
}

static int parse_outcome(struct rd *r, const cJSON *o, struct trace *t)
{
    static const char *const keys[] = { "result", "steps", "violation", NULL };
    static const char *const vkeys[] = { "step", "cpu", "invariant", "page", "who", "whose",
                                         "detail", "insn", NULL };
    const char *p = "outcome", *s;
    const cJSON *v;
    int rc, x;

    if (!cJSON_IsObject(o))
        return fail(r, "outcome: expected an object, got %s", type_name(o));
    if (check_keys(r, o, p, keys))
        return -1;
    if (get_str(r, o, p, "result", false, &s)) return -1;
    if (!strcmp(s, "ok")) t->violation = false;
    else if (!strcmp(s, "violation")) t->violation = true;
    else return fail(r, "outcome.result: \"%s\" is neither \"ok\" nor \"violation\"", Q(s));
    if (get_u64(r, o, p, "steps", 0, t->cfg.steps, false, &t->steps)) return -1;
    v = member(r, o, p, "violation", false, &rc);
    if (rc)
        return rc;
    if (!t->violation) {
        if (!cJSON_IsNull(v))
            return fail(r, "outcome.violation: expected null for result \"ok\", got %s", type_name(v));
        return 0;
    }
    if (!cJSON_IsObject(v))
        return fail(r, "outcome.violation: expected an object, got %s", type_name(v));
    if (check_keys(r, v, "outcome.violation", vkeys))
        return -1;
    p = "outcome.violation";
    memset(&t->viol, 0, sizeof(t->viol));
    if (get_u64(r, v, p, "step", 0, t->steps ? t->steps - 1 : 0, false, &t->viol.step)) return -1;
    if (get_int(r, v, p, "cpu", -1, (int)t->cfg.ncpus - 1, &t->viol.cpu)) return -1;
    if (get_int(r, v, p, "invariant", -1, 64, &t->viol.invariant)) return -1;
    const cJSON *pg = cJSON_GetObjectItemCaseSensitive(v, "page");
    if (!pg)
        return fail(r, "outcome.violation.page: missing");
    if (cJSON_IsNull(pg))
        t->viol.page = ~0ull;
    else if (get_hex64(r, pg, "outcome.violation.page", &t->viol.page))
        return -1;
    if (get_int(r, v, p, "who", 0, 65535, &x)) return -1;
    t->viol.who = (label_t)x;
    if (get_int(r, v, p, "whose", 0, 65535, &x)) return -1;
    t->viol.whose = (label_t)x;
    if (get_str(r, v, p, "detail", false, &s)) return -1;
    snprintf(t->viol.detail, sizeof(t->viol.detail), "%s", s);
    if (get_str(r, v, p, "insn", false, &s)) return -1;
    snprintf(t->viol.insn, sizeof(t->viol.insn), "%s", s);
    return 0;
}

static int parse_checkpoints(struct rd *r, const cJSON *a, struct trace *t)
{
    size_t i = 0;
    uint64_t prev = 0;
    const cJSON *e;

    if (!cJSON_IsArray(a))
        return fail(r, "checkpoints: expected an array, got %s", type_name(a));
    cJSON_ArrayForEach(e, a) {
        char path[64];
        const cJSON *s, *h;
        uint64_t hash;
        double d;
        snprintf(path, sizeof(path), "checkpoints[%zu]", i);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
            return fail(r, "%s: expected [step, \"hash\"], got %s", path, type_name(e));
        s = cJSON_GetArrayItem(e, 0);
        h = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsNumber(s))
            return fail(r, "%s[0]: expected a step number, got %s", path, type_name(s));
        d = s->valuedouble;
        if (!isfinite(d) || d != floor(d) || d < 0 || d > (double)t->steps)
            return fail(r, "%s[0]: step %g is not an integer in 0..%llu (outcome.steps)", path, d,
                        (unsigned long long)t->steps);
        if (i > 0 && (uint64_t)d <= prev)
            return fail(r, "%s[0]: step %.0f does not follow step %llu", path, d,
                        (unsigned long long)prev);
        snprintf(path, sizeof(path), "checkpoints[%zu][1]", i);
        if (get_hex64(r, h, path, &hash))
            return -1;
        prev = (uint64_t)d;
        if (trace_push_checkpoint(t, prev, hash))
            return fail(r, "checkpoints: out of memory");
        i++;
    }
    if (t->nckpt == 0 || t->ckpt[t->nckpt - 1].step != t->steps)
        return fail(r, "checkpoints: the last checkpoint must be the final state (step %llu)",
                    (unsigned long long)t->steps);
    return 0;
}

/* Byte offset -> "byte N (line L, column C)". */
static void where(const char *buf, size_t off, char *out, size_t n)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(out, n, "byte %zu (line %zu, column %zu)", off, line, col);
}

/* Before cJSON (which takes every byte <= 0x20 for white space): refuse
 * control characters, and recognise a document cut short (the end falls
 * inside a string or an open object/array) as truncated. */
static int prescan(struct rd *r, const char *buf, size_t len)
{
    size_t depth = 0;
    bool str = false, esc = false, any = false;
    char w[80];

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 && !(!str && (c == '\n' || c == '\r' || c == '\t'))) {
            where(buf, i, w, sizeof(w));
            return fail(r, "%s: control character 0x%02x%s (not JSON text)", w, c,
                        str ? " inside a string" : "");
        }
        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
            continue;
        }
        if (c == '"')
            str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && depth)
            depth--;
        any |= c != ' ' && c != '\n' && c != '\r' && c != '\t';
    }
    if (str || depth || !any) {
        where(buf, len, w, sizeof(w));
        return fail(r, "%s: truncated: the file ends %s", w,
                    !any ? "before any JSON" : str ? "inside a string" : "inside an object or array");
    }
    return 0;
}

static int parse_doc(struct rd *r, const cJSON *root, struct trace *t)
{
    static const char *const keys[] = { "format", "version", "generator", "config",
        "kcore_sha256", "kcore_mutant", "hash_every", "choice_count", "choices", "checkpoints",
        "outcome", NULL };
    const cJSON *j;
    const char *s;
    uint64_t count;
    int rc;
    char derr[200];

    if (!cJSON_IsObject(root))
        return fail(r, "top level: expected an object, got %s", type_name(root));
    /* format and version first: a future file is refused before its fields */
    if (get_str(r, root, "", "format", false, &s)) return -1;
    if (strcmp(s, TRACE_FORMAT_NAME))
        return fail(r, "format: \"%s\" is not \"%s\"", Q(s), TRACE_FORMAT_NAME);
    j = member(r, root, "", "version", false, &rc);
    if (rc)
        return rc;
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || j->valuedouble < 1)
        return fail(r, "version: expected a positive integer, got %s", type_name(j));
    if (j->valuedouble > TRACE_FORMAT_VERSION)
        return fail(r, "version: %g is newer than this hypsim reads (%d); upgrade hypsim",
                    j->valuedouble, TRACE_FORMAT_VERSION);
    if (check_keys(r, root, "", keys)) return -1;
    if (get_str(r, root, "", "generator", true, &s)) return -1;
    j = member(r, root, "", "config", false, &rc);
    if (rc || parse_config(r, j, &t->cfg, t))
        return -1;
    if (get_sha(r, root, "", "kcore_sha256", t->kcore_sha256)) return -1;
    /* optional (FORMAT.md "Versioning"): absent = not recorded */
    if (get_str(r, root, "", "kcore_mutant", true, &s)) return -1;
    if (s) {
        if (!trace_mutant_valid(s))
            return fail(r, "kcore_mutant: \"%s\" is not a mutant name ([a-z0-9_], at most %d characters)",
                        Q(s), TRACE_MUTANT_MAX - 1);
        snprintf(t->mutant, sizeof(t->mutant), "%s", s);
        t->has_mutant = true;
    }
    if (get_u64(r, root, "", "hash_every", 1, TRACE_MAX_STEPS, false, &t->hash_every)) return -1;
    j = member(r, root, "", "outcome", false, &rc);
    if (rc || parse_outcome(r, j, t))
        return -1;
    j = member(r, root, "", "checkpoints", false, &rc);
    if (rc || parse_checkpoints(r, j, t))
        return -1;
    if (get_u64(r, root, "", "choice_count", 0, UINT32_MAX * 16ull, false, &count)) return -1;
    j = member(r, root, "", "choices", false, &rc);
    if (rc)
        return rc;
    if (!cJSON_IsString(j))
        return fail(r, "choices: expected a base64 string, got %s", type_name(j));
    if (trace_decode_choices(j->valuestring, strlen(j->valuestring), &t->choice, &t->nchoice,
                             derr, sizeof(derr)))
        return fail(r, "choices: %s", derr);
    t->capchoice = t->nchoice;
    if (t->nchoice != count)
        return fail(r, "choices: %zu choices decoded, but choice_count says %llu (truncated or corrupt)",
                    t->nchoice, (unsigned long long)count);
    return 0;
}

int trace_parse(struct trace *t, const char *name, const char *buf, size_t len,
                char *err, size_t errlen)
{
    struct rd r = { name, err, errlen };
    const char *end = NULL;
    cJSON *root;
    int rc;

    trace_init(t);
    if (len > TRACE_MAX_FILE_BYTES)
        return fail(&r, "%zu bytes: larger than the %llu MiB limit", len, TRACE_MAX_FILE_BYTES >> 20);
    if (len == 0)
        return fail(&r, "byte 0: empty file");
    if (prescan(&r, buf, len))
        return -1;
    root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        size_t off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len;
        char w[80];
        where(buf, off, w, sizeof(w));
        return fail(&r, "%s: malformed JSON", w);
    }
    if (end && end >= buf && end <= buf + len) {
        size_t off = (size_t)(end - buf);
        while (off < len && (buf[off] == ' ' || buf[off] == '\n' || buf[off] == '\r' || buf[off] == '\t'))
            off++;
        if (off < len) {
            char w[80];
            where(buf, off, w, sizeof(w));
            cJSON_Delete(root);
            return fail(&r, "%s: unexpected data after the JSON document", w);
        }
    }
    rc = parse_doc(&r, root, t);
    cJSON_Delete(root);
    if (rc)
        trace_free(t);
    return rc;
}

int trace_read(struct trace *t, const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t n;
    int rc;

    trace_init(t);
    /* regular files only (a FIFO would block, a directory has no bytes),
     * refused by size before reading */
    if (fs_read_regular(path, TRACE_MAX_FILE_BYTES, &buf, &n, err, errlen) != 0)
        return -1;
    rc = trace_parse(t, path, buf, n, err, errlen);
    free(buf);
    return rc;
}

/* ---- Writer ----------------------------------------------------------- */

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    char s[24];
    if (v < (1ull << 53)) {
        cJSON_AddNumberToObject(o, k, (double)v);
    } else {
        snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
        cJSON_AddStringToObject(o, k, s);
    }
}

char *trace_to_json(const struct trace *t)
{
    cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject(), *ck = cJSON_CreateArray(),
          *out = cJSON_CreateObject();
    char hex[SHA256_HEX], h16[20], *b64, *txt = NULL;

    if (!o || !c || !ck || !out)
        goto done;
    cJSON_AddStringToObject(o, "format", TRACE_FORMAT_NAME);
    cJSON_AddNumberToObject(o, "version", TRACE_FORMAT_VERSION);
    cJSON_AddStringToObject(o, "generator", "hypsim");
    cJSON_AddNumberToObject(c, "cpus", t->cfg.ncpus);
    cJSON_AddNumberToObject(c, "vms", t->cfg.nvms);
    cJSON_AddNumberToObject(c, "mem_mib", (double)t->cfg.mem_mib);
    cJSON_AddNumberToObject(c, "cache_sets", t->cfg.cache_sets);
    cJSON_AddNumberToObject(c, "cache_ways", t->cfg.cache_ways);
    cJSON_AddNumberToObject(c, "tlb_entries", t->cfg.tlb_entries);
    add_u64(c, "seed", t->cfg.seed);
    cJSON_AddStringToObject(c, "sched", trace_sched_name(t->cfg.sched) ? trace_sched_name(t->cfg.sched) : "?");
    cJSON_AddNumberToObject(c, "pct_depth", t->cfg.pct_depth);
    cJSON_AddNumberToObject(c, "steps", (double)t->cfg.steps);
    cJSON_AddStringToObject(c, "check", trace_check_name(t->cfg.check) ? trace_check_name(t->cfg.check) : "?");
    cJSON_AddBoolToObject(c, "layers", t->cfg.layers);
    cJSON_AddStringToObject(c, "kcore_path", t->cfg.kcore_path);
    cJSON_AddStringToObject(c, "scenario", t->cfg.scenario_path);
    if (t->cfg.scenario_path[0]) {
        sha256_hex(t->scenario_sha256, hex);
        cJSON_AddStringToObject(c, "scenario_sha256", hex);
        if (t->scenario_text)
            cJSON_AddStringToObject(c, "scenario_text", t->scenario_text);
    }
    cJSON_AddItemToObject(o, "config", c);
    c = NULL;
    sha256_hex(t->kcore_sha256, hex);
    cJSON_AddStringToObject(o, "kcore_sha256", hex);
    if (t->has_mutant)
        cJSON_AddStringToObject(o, "kcore_mutant", t->mutant);
    cJSON_AddNumberToObject(o, "hash_every", (double)t->hash_every);
    cJSON_AddStringToObject(out, "result", t->violation ? "violation" : "ok");
    cJSON_AddNumberToObject(out, "steps", (double)t->steps);
    if (t->violation) {
        cJSON *v = cJSON_AddObjectToObject(out, "violation");
        if (!v)
            goto done;
        cJSON_AddNumberToObject(v, "step", (double)t->viol.step);
        cJSON_AddNumberToObject(v, "cpu", t->viol.cpu);
        cJSON_AddNumberToObject(v, "invariant", t->viol.invariant);
        if (t->viol.page == ~0ull) {
            cJSON_AddNullToObject(v, "page");
        } else {
            snprintf(h16, sizeof(h16), "%016llx", (unsigned long long)t->viol.page);
            cJSON_AddStringToObject(v, "page", h16);
        }
        cJSON_AddNumberToObject(v, "who", t->viol.who);
        cJSON_AddNumberToObject(v, "whose", t->viol.whose);
        cJSON_AddStringToObject(v, "detail", t->viol.detail);
        cJSON_AddStringToObject(v, "insn", t->viol.insn);
    } else {
        cJSON_AddNullToObject(out, "violation");
    }
    cJSON_AddItemToObject(o, "outcome", out);
    out = NULL;
    for (size_t i = 0; i < t->nckpt; i++) {
        cJSON *e = cJSON_CreateArray();
        if (!e)
            goto done;
        cJSON_AddItemToArray(e, cJSON_CreateNumber((double)t->ckpt[i].step));
        snprintf(h16, sizeof(h16), "%016llx", (unsigned long long)t->ckpt[i].hash);
        cJSON_AddItemToArray(e, cJSON_CreateString(h16));
        cJSON_AddItemToArray(ck, e);
    }
    cJSON_AddItemToObject(o, "checkpoints", ck);
    ck = NULL;
    cJSON_AddNumberToObject(o, "choice_count", (double)t->nchoice);
    b64 = trace_encode_choices(t->choice, t->nchoice);
    if (!b64)
        goto done;
    cJSON_AddStringToObject(o, "choices", b64);
    free(b64);
    txt = cJSON_Print(o);
done:
    cJSON_Delete(o);
    cJSON_Delete(c);
    cJSON_Delete(ck);
    cJSON_Delete(out);
    return txt;
}

int trace_write(const struct trace *t, const char *path, char *err, size_t errlen)
{
    char *txt = trace_to_json(t);
    FILE *f;
    size_t n;
    int bad;

    if (!txt) {
        snprintf(err, errlen, "%s: out of memory serialising the trace", path);
        return -1;
    }
    f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(txt);
        return -1;
    }
    n = strlen(txt);
    bad = fwrite(txt, 1, n, f) != n || fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    free(txt);
    if (bad) {
        snprintf(err, errlen, "%s: write error: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
