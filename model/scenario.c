/*
 * model/scenario.c - scenario file reader. See scenario.h, docs/SCENARIO.md.
 */
#include "model/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hyp/hv.h"
#include "model/hcname.h"

#define MAX_SCENARIO_BYTES (16u << 20)


static int err_at(char *err, size_t n, const char *path, long idx, const char *field, const char *msg)
{
    if (idx >= 0)
        snprintf(err, n, "%s: actions[%ld].%s: %s", path, idx, field, msg);
    else
        snprintf(err, n, "%s: %s: %s", path, field, msg);
    return -1;
}

/* A number, or a string with a C integer literal (hex allowed) for 64-bit values. */
static int get_u64(const cJSON *j, uint64_t *out)
{
    if (cJSON_IsNumber(j)) {
        if (j->valuedouble < 0 || j->valuedouble > 9007199254740992.0 ||
            j->valuedouble != (double)(uint64_t)j->valuedouble)
            return -1;
        *out = (uint64_t)j->valuedouble;
        return 0;
    }
    if (cJSON_IsString(j)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(j->valuestring, &end, 0);
        if (errno || *end || end == j->valuestring || j->valuestring[0] == '-')
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

static int parse_action(const cJSON *a, long i, struct scen_action *out, const char *path,
                        char *err, size_t n)
{
    const cJSON *who = cJSON_GetObjectItemCaseSensitive(a, "who");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(a, "do");
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(a, "cpu");
    const cJSON *j;

    memset(out, 0, sizeof(*out));
    out->cpu = -1;
    out->cacheable = true;
    if (!cJSON_IsObject(a))
        return err_at(err, n, path, i, "", "expected an object");
    if (!cJSON_IsString(who))
        return err_at(err, n, path, i, "who", "missing or not a string (\"host\" or \"vmN\")");
    if (!strcmp(who->valuestring, "host"))
        out->who = -1;
    else {
        char *end;
        long vm;
        if (strncmp(who->valuestring, "vm", 2) != 0)
            return err_at(err, n, path, i, "who", "expected \"host\" or \"vmN\"");
        vm = strtol(who->valuestring + 2, &end, 10);
        if (*end || end == who->valuestring + 2 || vm < 0 || vm >= (long)HV_MAX_VMS)
            return err_at(err, n, path, i, "who", "VM index out of range 0..15");
        out->who = (int)vm;
    }
    if (cpu) {
        uint64_t c;
        if (get_u64(cpu, &c) || c >= HV_MAX_CPUS)
            return err_at(err, n, path, i, "cpu", "expected a CPU index 0..63");
        out->cpu = (int)c;
    }
    if (!cJSON_IsString(op))
        return err_at(err, n, path, i, "do", "missing or not a string (hvc, read, write, idle)");
    if (!strcmp(op->valuestring, "hvc")) {
        out->op = SCEN_HVC;
        j = cJSON_GetObjectItemCaseSensitive(a, "hc");
        if (!cJSON_IsString(j) && !cJSON_IsNumber(j))
            return err_at(err, n, path, i, "hc", "missing (a hypercall name or number)");
        if (cJSON_IsString(j)) {
            if (!hc_lookup(j->valuestring, &out->hc)) {
                char msg[96];
                snprintf(msg, sizeof(msg), "unknown hypercall '%.40s'", j->valuestring);
                return err_at(err, n, path, i, "hc", msg);
            }
        } else if (get_u64(j, &out->hc)) {
            return err_at(err, n, path, i, "hc", "not a valid number");
        }
        j = cJSON_GetObjectItemCaseSensitive(a, "args");
        if (j) {
            int na = cJSON_GetArraySize(j);
            if (!cJSON_IsArray(j) || na > 4)
                return err_at(err, n, path, i, "args", "expected an array of at most 4 numbers");
            for (int k = 0; k < na; k++)
                if (get_u64(cJSON_GetArrayItem(j, k), &out->arg[k])) {
                    char f[16];
                    snprintf(f, sizeof(f), "args[%d]", k);
                    return err_at(err, n, path, i, f, "not a non-negative integer");
                }
        }
    } else if (!strcmp(op->valuestring, "read") || !strcmp(op->valuestring, "write")) {
        out->op = op->valuestring[0] == 'r' ? SCEN_READ : SCEN_WRITE;
        j = cJSON_GetObjectItemCaseSensitive(a, "ipa");
        if (!j || get_u64(j, &out->ipa) || (out->ipa & 7))
            return err_at(err, n, path, i, "ipa", "missing, not an integer, or not 8-byte aligned");
        j = cJSON_GetObjectItemCaseSensitive(a, "cacheable");
        if (j) {
            if (!cJSON_IsBool(j))
                return err_at(err, n, path, i, "cacheable", "expected true or false");
            out->cacheable = cJSON_IsTrue(j);
        }
        j = cJSON_GetObjectItemCaseSensitive(a, "value");
        if (out->op == SCEN_WRITE && (!j || get_u64(j, &out->value)))
            return err_at(err, n, path, i, "value", "missing or not an integer");
    } else if (!strcmp(op->valuestring, "idle")) {
        out->op = SCEN_IDLE;
    } else {
        return err_at(err, n, path, i, "do", "expected hvc, read, write or idle");
    }
    return 0;
}

int scenario_load(struct scenario *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;
    cJSON *root;
    const cJSON *j, *acts;
    int rc = -1;

    memset(s, 0, sizeof(*s));
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        fclose(f);
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    if ((unsigned long)len > MAX_SCENARIO_BYTES) {
        fclose(f);
        snprintf(err, errlen, "%s: file too large (%ld bytes, limit %u)", path, len, MAX_SCENARIO_BYTES);
        return -1;
    }
    buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    fclose(f);
    buf[len] = 0;
    root = cJSON_ParseWithLength(buf, (size_t)len);
    if (!root) {
        const char *ep = cJSON_GetErrorPtr();
        long off = ep && ep >= buf && ep <= buf + len ? (long)(ep - buf) : 0;
        snprintf(err, errlen, "%s: offset %ld: malformed JSON", path, off);
        free(buf);
        return -1;
    }
    free(buf);
    j = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsObject(root) || !cJSON_IsString(j) || strcmp(j->valuestring, "hypsim-scenario")) {
        err_at(err, errlen, path, -1, "format", "expected \"hypsim-scenario\"");
        goto out;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(j) || j->valuedouble != 1) {
        err_at(err, errlen, path, -1, "version", "unsupported (this hypsim reads version 1)");
        goto out;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "then");
    if (j && (!cJSON_IsString(j) || (strcmp(j->valuestring, "random") && strcmp(j->valuestring, "idle")))) {
        err_at(err, errlen, path, -1, "then", "expected \"random\" or \"idle\"");
        goto out;
    }
    s->then_random = j && !strcmp(j->valuestring, "random");
    acts = cJSON_GetObjectItemCaseSensitive(root, "actions");
    if (!cJSON_IsArray(acts)) {
        err_at(err, errlen, path, -1, "actions", "missing or not an array");
        goto out;
    }
    s->n = (size_t)cJSON_GetArraySize(acts);
    s->act = calloc(s->n ? s->n : 1, sizeof(*s->act));
    if (!s->act) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    long i = 0;
    cJSON_ArrayForEach(j, acts) {
        if (parse_action(j, i, &s->act[i], path, err, errlen))
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

void scenario_free(struct scenario *s)
{
    free(s->act);
    memset(s, 0, sizeof(*s));
}
