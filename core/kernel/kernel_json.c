/* The `dmilab kernel` request/response (DESIGN section 4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/kernel.h"
#include "dmilab/nn.h"
#include "dmilab/limits.h"
#include "dmilab/model_json.h"
#include "../jfield.h"

/* Read {"shape": [n, ...spatial, C], "data": [...]} into a malloc'd array. */
static double *read_input(const cJSON *obj, const char *name, size_t max_numbers, size_t *n, dml_shape *shape,
                          dml_error *err)
{
    static const char *const keys[] = {"shape", "data", NULL};
    char f[64];
    if (jf_object(obj, name, keys, err)) return NULL;
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(obj, "shape");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
    snprintf(f, sizeof f, "%s.shape", name);
    int k = cJSON_GetArraySize(sh);
    if (!cJSON_IsArray(sh) || k < 2 || k > 2 + DML_MAX_SPATIAL) {
        dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be [n, C], [n, L, C] or [n, H, W, C]", f);
        return NULL;
    }
    long long dims[2 + DML_MAX_SPATIAL];
    double total = 1.0;
    int i = 0;
    for (const cJSON *it = sh->child; it; it = it->next, i++) {
        if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < 1 ||
            it->valuedouble > 1e9) {
            dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s entries must be positive integers", f);
            return NULL;
        }
        dims[i] = (long long)it->valuedouble;
        total *= (double)dims[i];
    }
    if (max_numbers && total > (double)max_numbers) {
        dml_fail_limit(err, DML_LIMIT_KERNEL_NUMBERS, f, "%s holds %.0f numbers, more than the limit %zu", f, total,
                       max_numbers);
        return NULL;
    }
    *n = (size_t)dims[0];
    shape->nd = k - 2;
    for (int a = 0; a < shape->nd; a++) shape->size[a] = (int)dims[1 + a];
    shape->channels = (int)dims[k - 1];
    snprintf(f, sizeof f, "%s.data", name);
    if (!cJSON_IsArray(data) || (double)cJSON_GetArraySize(data) != total) {
        dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be a list of %.0f numbers (the product of the shape)", f, total);
        return NULL;
    }
    double *x = malloc(sizeof *x * (size_t)total);
    if (!x) {
        dml_fail(err, DML_ERR_NOMEM, f, "out of memory");
        return NULL;
    }
    i = 0;
    for (const cJSON *it = data->child; it; it = it->next, i++) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
            snprintf(f, sizeof f, "%s.data[%d]", name, i);
            dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be a finite number", f);
            free(x);
            return NULL;
        }
        x[i] = it->valuedouble;
    }
    return x;
}

static cJSON *matrix(const double *a, size_t n1, size_t n2)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *sh = cJSON_AddArrayToObject(o, "shape");
    cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)n1));
    cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)n2));
    cJSON *d = cJSON_AddArrayToObject(o, "data");
    cJSON *last = NULL;
    for (size_t i = 0; i < n1 * n2; i++) {   /* append in O(1): cJSON_AddItemToArray walks the list */
        cJSON *v = cJSON_CreateNumber(a[i]);
        if (!last)
            d->child = v;
        else {
            last->next = v;
            v->prev = last;
        }
        last = v;
    }
    if (d->child) d->child->prev = last;
    return o;
}

cJSON *dml_kernel_request(const cJSON *req, const dml_kernel_limits *lim, int threads, dml_error *err)
{
    return dml_kernel_request_ex(req, lim, threads, NULL, err);
}

cJSON *dml_kernel_request_ex(const cJSON *req, const dml_kernel_limits *lim, int threads,
                             const dml_empirical_opts *emp, dml_error *err)
{
    static const dml_kernel_limits none = {0, 0, 0, 0, 0};
    if (!lim) lim = &none;
    size_t max_numbers = lim->max_numbers;
    static const char *const keys[] = {"model", "x1", "x2", NULL};
    if (jf_object(req, "", keys, err)) return NULL;
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(req, "model");
    if (!jm) {
        dml_fail(err, DML_ERR_INVALID_SPEC, "model", "model is required");
        return NULL;
    }
    dml_model m;
    dml_limits ml = {.max_depth = lim->max_depth, .max_width = lim->max_width};
    if (dml_model_parse(jm, "model", &m, err) || dml_model_admit(&m, "model", &ml, err)) return NULL;
    const cJSON *j1 = cJSON_GetObjectItemCaseSensitive(req, "x1");
    const cJSON *j2 = cJSON_GetObjectItemCaseSensitive(req, "x2");
    if (!j1) {
        dml_fail(err, DML_ERR_INVALID_SPEC, "x1", "x1 is required");
        return NULL;
    }
    size_t n1 = 0, n2 = 0;
    dml_shape s1, s2;
    double *x1 = read_input(j1, "x1", max_numbers, &n1, &s1, err), *x2 = NULL;
    if (!x1) return NULL;
    if (j2) {
        x2 = read_input(j2, "x2", max_numbers, &n2, &s2, err);
        if (!x2) {
            free(x1);
            return NULL;
        }
        if (s1.nd != s2.nd || s1.channels != s2.channels || memcmp(s1.size, s2.size, sizeof(int) * (size_t)s1.nd)) {
            dml_fail(err, DML_ERR_INVALID_SPEC, "x2.shape", "x2.shape must match x1.shape except for n");
            free(x1);
            free(x2);
            return NULL;
        }
    } else {
        n2 = n1;
    }
    cJSON *resp = NULL;
    if (max_numbers && (double)n1 * (double)n2 > (double)max_numbers) {
        dml_fail_limit(err, DML_LIMIT_KERNEL_NUMBERS, j2 ? "x2.shape" : "x1.shape", "the kernel would have %zu x %zu entries, more than the limit %zu",
                 n1, n2, max_numbers);
        goto out;
    }
    if ((lim->max_seconds > 0 || lim->max_memory_bytes > 0) && !emp) {
        dml_kernel_cost c;
        dml_kernel_cost_estimate(&m, &s1, n1, n2, !j2, threads, &c);
        if (lim->max_seconds > 0 && c.seconds > lim->max_seconds) {
            dml_fail_limit(err, DML_LIMIT_KERNEL_SECONDS, j2 ? "x2.shape" : "x1.shape",
                     "the kernel would take about %.0f s to compute (%.3g pairs of %s inputs on %d threads, estimated), "
                     "more than the limit of %.0f s; split the request or run `dmilab kernel`, which has no limit",
                     c.seconds, c.pairs, dml_arch_name(m.arch), threads, lim->max_seconds);
            goto out;
        }
        if (lim->max_memory_bytes > 0 && c.memory_bytes > lim->max_memory_bytes) {
            dml_fail_limit(err, DML_LIMIT_MEMORY, "x1.shape",
                     "the kernel would need about %.1f GiB (%s: %s), more than the limit of %.1f GiB",
                     c.memory_bytes / (1 << 30), dml_arch_name(m.arch),
                     m.arch == DML_ARCH_CNN_GAP ? "4 x positions^2 doubles per thread" : "outputs and workspaces",
                     lim->max_memory_bytes / (1 << 30));
            goto out;
        }
    }
    double *K = malloc(sizeof *K * (n1 * n2 + 1)), *T = malloc(sizeof *T * (n1 * n2 + 1));
    if (!K || !T) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    } else if ((emp ? dml_empirical_kernel(&m, &s1, x1, n1, x2, n2, emp->width, emp->outputs, emp->samples, 0,
                                           emp->seed, K, T, threads, err)
                    : dml_kernel(&m, &s1, x1, n1, x2, n2, K, T, threads, err)) == 0) {
        resp = cJSON_CreateObject();
        cJSON_AddItemToObject(resp, "nngp", matrix(K, n1, n2));
        cJSON_AddItemToObject(resp, "ntk", matrix(T, n1, n2));
    }
    free(K);
    free(T);
out:
    free(x1);
    free(x2);
    return resp;
}

/* Append to a growing buffer. */
typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void put_matrix(sbuf *b, const char *name, const cJSON *mtx)
{
    char tmp[64];
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(mtx, "shape");
    int len = snprintf(tmp, sizeof tmp, "\"%s\": {\"shape\": [%.0f, %.0f], \"data\": [", name,
                       cJSON_GetArrayItem(sh, 0)->valuedouble, cJSON_GetArrayItem(sh, 1)->valuedouble);
    put(b, tmp, (size_t)len);
    int first = 1;
    for (const cJSON *it = cJSON_GetObjectItemCaseSensitive(mtx, "data")->child; it; it = it->next) {
        len = snprintf(tmp, sizeof tmp, "%s%.17g", first ? "" : ", ", it->valuedouble);
        put(b, tmp, (size_t)len);
        first = 0;
    }
    put(b, "]}", 2);
}

char *dml_kernel_response_print(const cJSON *resp)
{
    sbuf b = {0};
    put(&b, "{", 1);
    put_matrix(&b, "nngp", cJSON_GetObjectItemCaseSensitive(resp, "nngp"));
    put(&b, ", ", 2);
    put_matrix(&b, "ntk", cJSON_GetObjectItemCaseSensitive(resp, "ntk"));
    put(&b, "}\n", 2);
    return b.p;
}
