/*
 * model/scenario.c - the scenario file reader. See scenario.h and
 * docs/SCENARIO.md. cJSON parses; this file checks, before and after it:
 * before, control characters and a document cut short (cJSON takes every
 * byte <= 0x20 for white space); after, every field's name, type and
 * range. Messages carry the line of the offending field, found by a small
 * non-recursive scan of the text (cJSON keeps no positions).
 */
#include "model/scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hyp/hv.h"
#include "model/hcname.h"
#include "util/fsutil.h"

/* ---- Positions --------------------------------------------------------- */

/* One step of a path into the document: an object member or an array
 * element. */
struct jstep {
    const char *key;           /* member name, or NULL for an array element */
    long idx;
};

#define LOC_MAX_DEPTH 8

/* Byte offset of the value at path (for an object member: of its name),
 * in a document cJSON accepted; the deepest prefix of path that exists if
 * the whole path does not; 0 for the empty path. Iterative: no recursion
 * on the document's nesting. */
static size_t locate(const char *buf, size_t len, const struct jstep *path, int np)
{
    struct frame {
        bool obj;
        long idx;              /* element index (arrays) */
        const char *key;       /* current member name (objects), raw */
        size_t keylen, keyoff;
        bool want_key;
    } st[LOC_MAX_DEPTH + 1];
    int depth = -1;            /* frames on the stack - 1 */
    int matched = 0;           /* levels of path matched by the stack */
    size_t best = 0;

    if (np > LOC_MAX_DEPTH)
        np = LOC_MAX_DEPTH;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ':')
            continue;
        if (c == ',') {
            if (depth >= 0 && depth <= LOC_MAX_DEPTH) {
                if (st[depth].obj)
                    st[depth].want_key = true;
                else
                    st[depth].idx++;
            }
            continue;
        }
        if (c == '}' || c == ']') {
            if (depth >= 0) {
                if (matched > depth)
                    matched = depth;
                depth--;
            }
            continue;
        }
        /* a key, or the start of a value */
        if (depth >= 0 && depth <= LOC_MAX_DEPTH && st[depth].obj && st[depth].want_key && c == '"') {
            size_t s = i + 1, e = s;
            while (e < len && buf[e] != '"')
                e += buf[e] == '\\' ? 2 : 1;
            st[depth].key = buf + s;
            st[depth].keylen = e - s;
            st[depth].keyoff = i;
            st[depth].want_key = false;
            i = e;
            continue;
        }
        /* a value starts at i, in frame depth (none: the root) */
        if (depth >= 0 && depth == matched && matched < np) {
            const struct jstep *p = &path[matched];
            const struct frame *f = &st[depth];
            bool hit = p->key ? f->obj && f->keylen == strlen(p->key) &&
                                    !memcmp(f->key, p->key, f->keylen)
                              : !f->obj && f->idx == p->idx;
            if (hit) {
                matched++;
                best = p->key ? f->keyoff : i;
                if (matched == np)
                    return best;
            }
        }
        if (c == '{' || c == '[') {
            depth++;
            if (depth <= LOC_MAX_DEPTH) {
                st[depth].obj = c == '{';
                st[depth].idx = 0;
                st[depth].key = NULL;
                st[depth].keylen = 0;
                st[depth].keyoff = i;
                st[depth].want_key = c == '{';
            }
            if (matched > depth)
                matched = depth;
            continue;
        }
        if (c == '"') {
            i++;
            while (i < len && buf[i] != '"')
                i += buf[i] == '\\' ? 2 : 1;
            continue;
        }
        while (i + 1 < len && !strchr(" \n\r\t,]}:", buf[i + 1]))
            i++;                            /* number, true, false, null */
    }
    return best;
}

static unsigned line_of(const char *buf, size_t len, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        line += buf[i] == '\n';
    return line;
}

/* ---- The reader -------------------------------------------------------- */

struct rd {
    const char *name, *buf;
    size_t len;
    unsigned ncpus;
    char *err;
    size_t errlen;
};

/* Printable form of a string from the file, cut to 40 characters. */
static const char *Q(const char *s, char *b, size_t n)
{
    size_t o = 0;
    for (; *s && o + 5 < n && o < 40; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f && c != '\'')
            b[o++] = (char)c;
        else
            o += (size_t)snprintf(b + o, n - o, "\\x%02x", c);
    }
    if (*s && o + 4 < n)
        o += (size_t)snprintf(b + o, n - o, "...");
    b[o < n ? o : n - 1] = 0;
    return b;
}

/* "NAME:LINE: FIELD: what", the line found from the path (idx < 0: a
 * top-level field; key NULL: the action itself). */
static int fail(struct rd *r, long idx, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct rd *r, long idx, const char *key, const char *fmt, ...)
{
    struct jstep p[4];
    int np = 0;
    char what[256], field[96], kname[32], q[200];
    va_list ap;

    if (idx >= 0) {
        p[np++] = (struct jstep){ "actions", 0 };
        p[np++] = (struct jstep){ NULL, idx };
        if (key)
            snprintf(field, sizeof(field), "actions[%ld].%s", idx, Q(key, q, sizeof(q)));
        else
            snprintf(field, sizeof(field), "actions[%ld]", idx);
    } else {
        snprintf(field, sizeof(field), "%s", key ? Q(key, q, sizeof(q)) : "top level");
    }
    if (key) {
        /* "args[2]" is located as member args, element 2 */
        const char *br = strchr(key, '[');
        if (br && !strncmp(key, "args[", 5)) {
            snprintf(kname, sizeof(kname), "%.*s", (int)(br - key), key);
            p[np++] = (struct jstep){ kname, 0 };
            p[np++] = (struct jstep){ NULL, strtol(br + 1, NULL, 10) };
        } else {
            p[np++] = (struct jstep){ key, 0 };
        }
    }
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s:%u: %s: %s", r->name,
             line_of(r->buf, r->len, locate(r->buf, r->len, p, np)), field, what);
    return -1;
}

/* Byte offset -> "NAME:LINE:COLUMN: what" for errors in the text itself. */
static int fail_at(struct rd *r, size_t off, const char *what)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off && i < r->len; i++) {
        if (r->buf[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(r->err, r->errlen, "%s:%zu:%zu: %s", r->name, line, col, what);
    return -1;
}

/* Control characters and a document cut short, before cJSON. */
static int prescan(struct rd *r)
{
    size_t depth = 0;
    bool str = false, esc = false, any = false;
    char w[96];

    for (size_t i = 0; i < r->len; i++) {
        unsigned char c = (unsigned char)r->buf[i];
        if (c < 0x20 && !(!str && (c == '\n' || c == '\r' || c == '\t'))) {
            snprintf(w, sizeof(w), "control character 0x%02x%s (not JSON text)", c,
                     str ? " inside a string" : "");
            return fail_at(r, i, w);
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
    if (!any)
        return fail_at(r, r->len, "empty: expected a JSON object {\"format\": \"hypsim-scenario\", ...}");
    if (str || depth)
        return fail_at(r, r->len, str ? "truncated: the file ends inside a string"
                                      : "truncated: the file ends inside an object or array");
    return 0;
}

static const char *type_name(const cJSON *j)
{
    if (!j) return "nothing";
    if (cJSON_IsNull(j)) return "null";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    return "an invalid value";
}

/* Edit distance (at most 2 matters), for "did you mean". */
static unsigned distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned d[33][33];
    if (la > 32 || lb > 32)
        return 99;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            unsigned x = d[i - 1][j] + 1, y = d[i][j - 1] + 1,
                     z = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            x = x < y ? x : y;
            d[i][j] = x < z ? x : z;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;   /* transposition */
        }
    return d[la][lb];
}

/* " (did you mean 'x'?)" for the closest of words, or "". */
static const char *suggest(const char *s, const char *const *words, char *b, size_t n)
{
    const char *best = NULL;
    unsigned bd = 3;
    for (; *words; words++) {
        unsigned d = distance(s, *words);
        if (d < bd) {
            bd = d;
            best = *words;
        }
    }
    if (!best)
        return "";
    snprintf(b, n, " (did you mean '%s'?)", best);
    return b;
}

/* Members of o must be in allowed (NULL-terminated), once each. other
 * lists the names that are fields elsewhere (of another "do"), for a
 * better message. */
static int check_keys(struct rd *r, const cJSON *o, long idx, const char *const *allowed,
                      const char *const *other, const char *op)
{
    char sg[64];
    for (const cJSON *c = o->child; c; c = c->next) {
        bool ok = false;
        if (!c->string)
            return fail(r, idx, NULL, "a member without a name");
        for (const char *const *a = allowed; *a; a++)
            ok |= !strcmp(*a, c->string);
        if (!ok) {
            bool elsewhere = false;
            for (const char *const *a = other; a && *a; a++)
                elsewhere |= !strcmp(*a, c->string);
            if (elsewhere)
                return fail(r, idx, c->string, "not a field of a \"%s\" action", op);
            return fail(r, idx, c->string, "unknown field%s", suggest(c->string, allowed, sg, sizeof(sg)));
        }
        for (const cJSON *d = c->next; d; d = d->next)
            if (d->string && !strcmp(d->string, c->string))
                return fail(r, idx, c->string, "duplicate field");
    }
    return 0;
}

/* A whole number: a JSON integer below 2^53, or a string holding a C
 * integer literal (decimal, 0x hexadecimal, 0 octal) up to 2^64 - 1. */
static int get_u64(struct rd *r, const cJSON *j, long idx, const char *key, uint64_t *out)
{
    char q[200];
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        /* range first: converting an out-of-range double is undefined */
        if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d)
            return fail(r, idx, key, "%g is not an integer in 0..2^53 (write larger values as strings, \"0x...\")", d);
        *out = (uint64_t)d;
        return 0;
    }
    if (cJSON_IsString(j)) {
        const char *s = j->valuestring;
        char *end;
        unsigned long long v;
        if (!(s[0] >= '0' && s[0] <= '9'))
            return fail(r, idx, key, "\"%s\" is not a non-negative integer", Q(s, q, sizeof(q)));
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno == ERANGE)
            return fail(r, idx, key, "\"%s\" exceeds 64 bits", Q(s, q, sizeof(q)));
        if (errno || *end || end == s)
            return fail(r, idx, key, "\"%s\" is not an integer literal", Q(s, q, sizeof(q)));
        *out = v;
        return 0;
    }
    return fail(r, idx, key, "expected an integer, got %s", type_name(j));
}

static const char *const hc_words[] = { "register_vm", "register_vcpu", "set_boot_info", "verify_vm",
    "donate", "run_vcpu", "teardown", "grant", "revoke", "poweroff", "yield", NULL };

static int parse_action(struct rd *r, const cJSON *a, long i, struct scen_action *out)
{
    static const char *const hvc_keys[] = { "who", "cpu", "do", "hc", "args", "comment", NULL };
    static const char *const read_keys[] = { "who", "cpu", "do", "ipa", "cacheable", "comment", NULL };
    static const char *const write_keys[] = { "who", "cpu", "do", "ipa", "value", "cacheable", "comment", NULL };
    static const char *const idle_keys[] = { "who", "cpu", "do", "comment", NULL };
    static const char *const all_keys[] = { "who", "cpu", "do", "hc", "args", "ipa", "value",
                                            "cacheable", "comment", NULL };
    static const char *const ops[] = { "hvc", "read", "write", "idle", NULL };
    const cJSON *who, *op, *cpu, *j;
    const char *const *keys;
    char q[200], sg[64];

    memset(out, 0, sizeof(*out));
    out->cpu = -1;
    out->cacheable = true;
    if (!cJSON_IsObject(a))
        return fail(r, i, NULL, "expected an object {\"who\": ..., \"do\": ...}, got %s", type_name(a));
    {
        struct jstep p[2] = { { "actions", 0 }, { NULL, i } };
        out->line = line_of(r->buf, r->len, locate(r->buf, r->len, p, 2));
    }
    op = cJSON_GetObjectItemCaseSensitive(a, "do");
    if (!op)
        return fail(r, i, "do", "missing (hvc, read, write or idle)");
    if (!cJSON_IsString(op))
        return fail(r, i, "do", "expected a string (hvc, read, write or idle), got %s", type_name(op));
    if (!strcmp(op->valuestring, "hvc")) {
        out->op = SCEN_HVC;
        keys = hvc_keys;
    } else if (!strcmp(op->valuestring, "read")) {
        out->op = SCEN_READ;
        keys = read_keys;
    } else if (!strcmp(op->valuestring, "write")) {
        out->op = SCEN_WRITE;
        keys = write_keys;
    } else if (!strcmp(op->valuestring, "idle")) {
        out->op = SCEN_IDLE;
        keys = idle_keys;
    } else {
        return fail(r, i, "do", "\"%s\" is not hvc, read, write or idle%s", Q(op->valuestring, q, sizeof(q)),
                    suggest(op->valuestring, ops, sg, sizeof(sg)));
    }
    if (check_keys(r, a, i, keys, all_keys, op->valuestring))
        return -1;
    j = cJSON_GetObjectItemCaseSensitive(a, "comment");
    if (j && !cJSON_IsString(j))
        return fail(r, i, "comment", "expected a string, got %s", type_name(j));

    who = cJSON_GetObjectItemCaseSensitive(a, "who");
    if (!who)
        return fail(r, i, "who", "missing (\"host\" or \"vmN\")");
    if (!cJSON_IsString(who))
        return fail(r, i, "who", "expected \"host\" or \"vmN\", got %s", type_name(who));
    if (!strcmp(who->valuestring, "host")) {
        out->who = -1;
    } else {
        const char *s = who->valuestring;
        unsigned long vm = 0;
        size_t k = 2;
        if (strncmp(s, "vm", 2) != 0 || !s[2])
            return fail(r, i, "who", "\"%s\" is neither \"host\" nor \"vmN\"", Q(s, q, sizeof(q)));
        for (; s[k]; k++) {
            if (s[k] < '0' || s[k] > '9' || k > 6)
                return fail(r, i, "who", "\"%s\": N in \"vmN\" must be a VM index 0..%u",
                            Q(s, q, sizeof(q)), HV_MAX_VMS - 1);
            vm = vm * 10 + (unsigned long)(s[k] - '0');
        }
        if (vm >= HV_MAX_VMS)
            return fail(r, i, "who", "VM %lu: out of range 0..%u", vm, HV_MAX_VMS - 1);
        out->who = (int)vm;
    }
    cpu = cJSON_GetObjectItemCaseSensitive(a, "cpu");
    if (cpu) {
        uint64_t c;
        if (get_u64(r, cpu, i, "cpu", &c))
            return -1;
        if (r->ncpus && c >= r->ncpus)
            return fail(r, i, "cpu", "CPU %" PRIu64 ", but the machine has %u CPU%s (0..%u)", c,
                        r->ncpus, r->ncpus == 1 ? "" : "s", r->ncpus - 1);
        if (c >= HV_MAX_CPUS)
            return fail(r, i, "cpu", "CPU %" PRIu64 ": out of range 0..%u", c, HV_MAX_CPUS - 1);
        out->cpu = (int)c;
    }
    switch (out->op) {
    case SCEN_HVC:
        j = cJSON_GetObjectItemCaseSensitive(a, "hc");
        if (!j)
            return fail(r, i, "hc", "missing (a hypercall name or number)");
        if (cJSON_IsString(j) && !(j->valuestring[0] >= '0' && j->valuestring[0] <= '9')) {
            if (!hc_lookup(j->valuestring, &out->hc))
                return fail(r, i, "hc", "unknown hypercall '%s'%s", Q(j->valuestring, q, sizeof(q)),
                            suggest(j->valuestring, hc_words, sg, sizeof(sg)));
        } else if (get_u64(r, j, i, "hc", &out->hc)) {
            return -1;
        }
        j = cJSON_GetObjectItemCaseSensitive(a, "args");
        if (j) {
            int na;
            if (!cJSON_IsArray(j))
                return fail(r, i, "args", "expected an array of at most 4 integers, got %s", type_name(j));
            na = cJSON_GetArraySize(j);
            if (na > 4)
                return fail(r, i, "args", "%d arguments: a hypercall takes at most 4 (x1..x4)", na);
            for (int k = 0; k < na; k++) {
                char f[16];
                snprintf(f, sizeof(f), "args[%d]", k);
                if (get_u64(r, cJSON_GetArrayItem(j, k), i, f, &out->arg[k]))
                    return -1;
            }
        }
        break;
    case SCEN_READ:
    case SCEN_WRITE:
        j = cJSON_GetObjectItemCaseSensitive(a, "ipa");
        if (!j)
            return fail(r, i, "ipa", "missing (the 8-byte aligned address to %s)",
                        out->op == SCEN_READ ? "read" : "write");
        if (get_u64(r, j, i, "ipa", &out->ipa))
            return -1;
        if (out->ipa & 7)
            return fail(r, i, "ipa", "0x%" PRIx64 " is not 8-byte aligned", out->ipa);
        j = cJSON_GetObjectItemCaseSensitive(a, "cacheable");
        if (j) {
            if (!cJSON_IsBool(j))
                return fail(r, i, "cacheable", "expected true or false, got %s", type_name(j));
            out->cacheable = cJSON_IsTrue(j);
        }
        if (out->op == SCEN_WRITE) {
            j = cJSON_GetObjectItemCaseSensitive(a, "value");
            if (!j)
                return fail(r, i, "value", "missing (the value to write)");
            if (get_u64(r, j, i, "value", &out->value))
                return -1;
        }
        break;
    case SCEN_IDLE:
        break;
    }
    return 0;
}

int scenario_parse(struct scenario *s, const char *name, const char *buf, size_t len,
                   unsigned ncpus, char *err, size_t errlen)
{
    static const char *const top_keys[] = { "format", "version", "then", "actions", "comment", NULL };
    struct rd r = { name, buf, len, ncpus, err, errlen };
    const char *end = NULL;
    cJSON *root;
    const cJSON *j, *acts;
    char q[200];
    int rc = -1;
    long i = 0;

    memset(s, 0, sizeof(*s));
    if (len > SCENARIO_MAX_BYTES) {
        snprintf(err, errlen, "%s: %zu bytes: larger than the %u MiB limit", name, len,
                 SCENARIO_MAX_BYTES >> 20);
        return -1;
    }
    if (prescan(&r))
        return -1;
    root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        size_t off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len;
        return fail_at(&r, off, "malformed JSON");
    }
    if (end && end >= buf && end <= buf + len) {
        size_t off = (size_t)(end - buf);
        while (off < len && (buf[off] == ' ' || buf[off] == '\n' || buf[off] == '\r' || buf[off] == '\t'))
            off++;
        if (off < len) {
            fail_at(&r, off, "unexpected data after the JSON document");
            goto out;
        }
    }
    if (!cJSON_IsObject(root)) {
        fail(&r, -1, NULL, "expected an object {\"format\": \"hypsim-scenario\", ...}, got %s", type_name(root));
        goto out;
    }
    /* format and version first: a future file is refused before its fields */
    j = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(j) || strcmp(j->valuestring, "hypsim-scenario")) {
        if (!j)
            fail(&r, -1, "format", "missing (\"hypsim-scenario\")");
        else if (!cJSON_IsString(j))
            fail(&r, -1, "format", "expected \"hypsim-scenario\", got %s", type_name(j));
        else
            fail(&r, -1, "format", "\"%s\" is not \"hypsim-scenario\"", Q(j->valuestring, q, sizeof(q)));
        goto out;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!j) {
        fail(&r, -1, "version", "missing (1)");
        goto out;
    }
    if (!cJSON_IsNumber(j) || !(j->valuedouble >= 1 && j->valuedouble <= 1e9) ||
        j->valuedouble != (double)(long)j->valuedouble) {
        fail(&r, -1, "version", "expected a positive integer, got %s", type_name(j));
        goto out;
    }
    if (j->valuedouble != 1) {
        fail(&r, -1, "version", "%g is newer than this hypsim reads (1); upgrade hypsim", j->valuedouble);
        goto out;
    }
    if (check_keys(&r, root, -1, top_keys, NULL, NULL))
        goto out;
    j = cJSON_GetObjectItemCaseSensitive(root, "comment");
    if (j && !cJSON_IsString(j)) {
        fail(&r, -1, "comment", "expected a string, got %s", type_name(j));
        goto out;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "then");
    if (j && (!cJSON_IsString(j) || (strcmp(j->valuestring, "random") && strcmp(j->valuestring, "idle")))) {
        if (cJSON_IsString(j))
            fail(&r, -1, "then", "\"%s\" is neither \"random\" nor \"idle\"", Q(j->valuestring, q, sizeof(q)));
        else
            fail(&r, -1, "then", "expected \"random\" or \"idle\", got %s", type_name(j));
        goto out;
    }
    s->then_random = j && !strcmp(j->valuestring, "random");
    acts = cJSON_GetObjectItemCaseSensitive(root, "actions");
    if (!acts) {
        fail(&r, -1, "actions", "missing (an array of actions)");
        goto out;
    }
    if (!cJSON_IsArray(acts)) {
        fail(&r, -1, "actions", "expected an array of actions, got %s", type_name(acts));
        goto out;
    }
    s->n = (size_t)cJSON_GetArraySize(acts);
    if (s->n > SCENARIO_MAX_ACTIONS) {
        fail(&r, -1, "actions", "%zu actions: more than the limit of %u", s->n, SCENARIO_MAX_ACTIONS);
        goto out;
    }
    s->act = calloc(s->n ? s->n : 1, sizeof(*s->act));
    if (!s->act) {
        snprintf(err, errlen, "%s: out of memory for %zu actions", name, s->n);
        goto out;
    }
    cJSON_ArrayForEach(j, acts) {
        if (parse_action(&r, j, i, &s->act[i]))
            goto out;
        i++;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc)
        scenario_free(s);
    return rc;
}

int scenario_load(struct scenario *s, const char *path, unsigned ncpus, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int rc;

    memset(s, 0, sizeof(*s));
    if (fs_read_regular(path, SCENARIO_MAX_BYTES, &buf, &len, err, errlen) != 0)
        return -1;
    rc = scenario_parse(s, path, buf, len, ncpus, err, errlen);
    free(buf);
    return rc;
}

void scenario_free(struct scenario *s)
{
    free(s->act);
    memset(s, 0, sizeof(*s));
}

void scenario_describe(const struct scen_action *a, char *buf, size_t len)
{
    char who[16], cpu[24];
    const char *hn;

    if (a->who < 0)
        snprintf(who, sizeof(who), "host");
    else
        snprintf(who, sizeof(who), "vm%d", a->who);
    if (a->cpu >= 0)
        snprintf(cpu, sizeof(cpu), " on CPU %d", a->cpu);
    else
        cpu[0] = 0;
    switch (a->op) {
    case SCEN_HVC:
        hn = hc_name(a->hc);
        if (hn)
            snprintf(buf, len, "%s%s: hvc %s(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ")",
                     who, cpu, hn, a->arg[0], a->arg[1], a->arg[2], a->arg[3]);
        else
            snprintf(buf, len, "%s%s: hvc %" PRIu64 "(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ")",
                     who, cpu, a->hc, a->arg[0], a->arg[1], a->arg[2], a->arg[3]);
        break;
    case SCEN_READ:
        snprintf(buf, len, "%s%s: %sread of ipa 0x%" PRIx64, who, cpu,
                 a->cacheable ? "" : "non-cacheable ", a->ipa);
        break;
    case SCEN_WRITE:
        snprintf(buf, len, "%s%s: %swrite of 0x%" PRIx64 " to ipa 0x%" PRIx64, who, cpu,
                 a->cacheable ? "" : "non-cacheable ", a->value, a->ipa);
        break;
    case SCEN_IDLE:
        snprintf(buf, len, "%s%s: idle", who, cpu);
        break;
    }
}
