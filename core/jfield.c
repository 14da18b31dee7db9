/* Typed, path-aware access to the fields of JSON objects for spec validation (jfield.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "jfield.h"

const char *jf_path(char *buf, size_t size, const char *path, const char *key)
{
    if (path && path[0])
        snprintf(buf, size, "%s.%s", path, key);
    else
        snprintf(buf, size, "%s", key);
    return buf;
}

const char *jf_index(char *buf, size_t size, const char *path, int i)
{
    snprintf(buf, size, "%s[%d]", path, i);
    return buf;
}

int jf_object(const cJSON *obj, const char *path, const char *const *allowed, dml_error *err)
{
    if (!cJSON_IsObject(obj)) return dml_fail(err, DML_ERR_INVALID_SPEC, path, "%s must be an object", path[0] ? path : "the spec");
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (it->string && strcmp(it->string, *a) == 0) ok = 1;
        char f[200];
        if (!ok) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, it->string ? it->string : "?"),
                                 "unknown field '%s'", it->string ? it->string : "?");
        for (const cJSON *o = it->next; o; o = o->next)
            if (o->string && it->string && strcmp(o->string, it->string) == 0)
                return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, it->string),
                                "field '%s' appears twice", it->string);
    }
    return 0;
}

int jf_number(const cJSON *obj, const char *key, const char *path, double lo, double hi, double *out,
              dml_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char f[200];
    jf_path(f, sizeof f, path, key);
    if (!cJSON_IsNumber(v)) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be a number", f);
    double d = v->valuedouble;
    if (!isfinite(d)) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be a finite number", f);
    if (d < lo || d > hi) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be in [%g, %g], got %g", f, lo, hi, d);
    *out = d;
    return 1;
}

static int int_value(const cJSON *v, const char *f, long long lo, long long hi, long long *out, dml_error *err)
{
    if (!cJSON_IsNumber(v)) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be an integer", f);
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > 9.007199254740992e15)
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be an integer", f);
    if (d < (double)lo || d > (double)hi)
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be in [%lld, %lld], got %.17g", f, lo, hi, d);
    *out = (long long)d;
    return 1;
}

int jf_int(const cJSON *obj, const char *key, const char *path, long long lo, long long hi, long long *out,
           dml_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char f[200];
    return int_value(v, jf_path(f, sizeof f, path, key), lo, hi, out, err);
}

int jf_bool(const cJSON *obj, const char *key, const char *path, int *out, dml_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char f[200];
    jf_path(f, sizeof f, path, key);
    if (!cJSON_IsBool(v)) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be true or false", f);
    *out = cJSON_IsTrue(v);
    return 1;
}

int jf_string(const cJSON *obj, const char *key, const char *path, char *out, size_t size, dml_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char f[200];
    jf_path(f, sizeof f, path, key);
    if (!cJSON_IsString(v) || !v->valuestring) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be a string", f);
    size_t n = strlen(v->valuestring);
    if (n == 0 || n >= size)
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must have 1 to %zu characters", f, size - 1);
    memcpy(out, v->valuestring, n + 1);
    return 1;
}

int jf_enum(const cJSON *obj, const char *key, const char *path, const char *const *names, int n, int *out,
            dml_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char f[200];
    jf_path(f, sizeof f, path, key);
    if (cJSON_IsString(v) && v->valuestring)
        for (int i = 0; i < n; i++)
            if (strcmp(v->valuestring, names[i]) == 0) {
                *out = i;
                return 1;
            }
    char list[400] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be one of: %s", f, list);
}

int jf_int_list(const cJSON *obj, const char *key, const char *path, int maxn, long long lo, long long hi,
                long long *out, int *n, dml_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char f[200], g[220];
    jf_path(f, sizeof f, path, key);
    if (cJSON_IsNumber(v)) {
        if (int_value(v, f, lo, hi, out, err) < 0) return -1;
        *n = 1;
        return 1;
    }
    if (!cJSON_IsArray(v)) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be an integer or a list of integers", f);
    int k = cJSON_GetArraySize(v);
    if (k < 1 || k > maxn) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must have 1 to %d entries", f, maxn);
    int i = 0;
    for (const cJSON *it = v->child; it; it = it->next, i++)
        if (int_value(it, jf_index(g, sizeof g, f, i), lo, hi, &out[i], err) < 0) return -1;
    *n = k;
    return 1;
}

int jf_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '='))
            return 0;
    }
    return 1;
}
