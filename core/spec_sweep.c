/* Sweeps (DESIGN 3.1): a scalar field of a model or inference entry given as a list expands the grid; the
 * generated entries are named by their values ("fcn.width=256"). */
#include <stdio.h>
#include <string.h>
#include "dmilab/json.h"
#include "jfield.h"
#include "spec_sweep.h"

/* Fields that select which other fields apply, or name the entry: never swept. */
static const char *const fixed[] = {"name", "arch", "method", NULL};

static int listed(const char *const *l, const char *k)
{
    for (; l && *l; l++)
        if (strcmp(*l, k) == 0) return 1;
    return 0;
}

static int is_swept(const cJSON *it, const char *const *lists)
{
    return cJSON_IsArray(it) && it->string && !listed(lists, it->string);
}

/* A value as it appears in a generated name: numbers in shortest round-trip form without '+' (1e21, not 1e+21),
 * strings as they are, booleans true / false. */
static void value_text(const cJSON *v, char *out, size_t size)
{
    if (cJSON_IsNumber(v)) {
        char b[40];
        dml_format_double(b, sizeof b, v->valuedouble);
        size_t k = 0;
        for (const char *p = b; *p && k + 1 < size; p++)
            if (*p != '+') out[k++] = *p;
        out[k] = 0;
    } else if (cJSON_IsString(v)) {
        snprintf(out, size, "%s", v->valuestring);
    } else {
        snprintf(out, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
    }
}

int dml_sweep_expand(const cJSON *o, const char *path, const char *base, const char *const *lists, int max,
                     cJSON **out, dml_error *err)
{
    *out = NULL;
    char f[200], g[220];
    const cJSON *keys[DML_SWEPT_MAX];
    int nk = 0;
    long long total = 1;
    for (const cJSON *it = cJSON_IsObject(o) ? o->child : NULL; it; it = it->next) {
        if (!is_swept(it, lists)) continue;
        jf_path(f, sizeof f, path, it->string);
        if (listed(fixed, it->string))
            return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s cannot be swept (give one entry per %s)", f, it->string);
        int n = cJSON_GetArraySize(it);
        if (n < 1) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s: a swept field needs at least one value", f);
        if (n > DML_SWEEP_MAX)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s sweeps %d values, more than %d", f, n, DML_SWEEP_MAX);
        int i = 0;
        for (const cJSON *v = it->child; v; v = v->next, i++)
            if (!cJSON_IsNumber(v) && !cJSON_IsString(v) && !cJSON_IsBool(v))
                return dml_fail(err, DML_ERR_INVALID_SPEC, jf_index(g, sizeof g, f, i),
                                "%s: a swept field takes a list of numbers, strings or booleans", g);
        if (nk == DML_SWEPT_MAX)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f, "at most %d swept fields per entry", nk);
        keys[nk++] = it;
        total *= n;
        if (total > max)
            return dml_fail(err, DML_ERR_INVALID_SPEC, path, "the swept fields of %s expand to more than %d entries", path,
                            max);
    }
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
    const char *stem = cJSON_IsString(nm) ? nm->valuestring : base;
    for (long long e = 0; e < total; e++) {
        cJSON *c = cJSON_Duplicate(o, 1);
        if (!c) {
            cJSON_Delete(arr);
            return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        }
        char name[512];
        size_t len = (size_t)snprintf(name, sizeof name, "%s", stem);
        long long rest = e, stride = total;
        for (int k = 0; k < nk; k++) {
            int n = cJSON_GetArraySize(keys[k]);
            stride /= n;
            int idx = (int)(rest / stride);
            rest %= stride;
            const cJSON *v = cJSON_GetArrayItem(keys[k], idx);
            char t[128];
            value_text(v, t, sizeof t);
            if (len < sizeof name) len += (size_t)snprintf(name + len, sizeof name - len, ".%s=%s", keys[k]->string, t);
            for (const char *p = t; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p)) {
                    cJSON_Delete(c);
                    cJSON_Delete(arr);
                    jf_path(f, sizeof f, path, keys[k]->string);
                    return dml_fail(err, DML_ERR_INVALID_SPEC, jf_index(g, sizeof g, f, idx),
                                    "%s: '%s' cannot be part of an entry's name", g, t);
                }
            cJSON_ReplaceItemInObjectCaseSensitive(c, keys[k]->string, cJSON_Duplicate(v, 1));
        }
        if (nk) {
            if (len > DML_NAME_MAX - 1) {
                cJSON_Delete(c);
                cJSON_Delete(arr);
                return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "name"),
                                "the generated name %.100s... is longer than %d characters: give the entry a shorter "
                                "name", name, DML_NAME_MAX - 1);
            }
            if (nm) cJSON_ReplaceItemInObjectCaseSensitive(c, "name", cJSON_CreateString(name));
            else cJSON_AddItemToObject(c, "name", cJSON_CreateString(name));
        }
        cJSON_AddItemToArray(arr, c);
    }
    *out = arr;
    return (int)total;
}

void dml_sweep_origin(const cJSON *o, const char *const *lists, int index, int e, dml_entry_origin *out)
{
    memset(out, 0, sizeof *out);
    out->index = index;
    if (!cJSON_IsObject(o)) return;
    long long total = 1;
    for (const cJSON *it = o->child; it; it = it->next)
        if (is_swept(it, lists)) total *= cJSON_GetArraySize(it);
    long long rest = e, stride = total;
    for (const cJSON *it = o->child; it && total > 0 && out->nswept < DML_SWEPT_MAX; it = it->next) {
        if (!is_swept(it, lists)) continue;
        int n = cJSON_GetArraySize(it);
        stride /= n;
        out->value[out->nswept] = (int)(rest / stride);
        rest %= stride;
        snprintf(out->key[out->nswept], sizeof out->key[0], "%s", it->string);
        out->nswept++;
    }
}
