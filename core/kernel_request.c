/* The `dmilab kernel` request/response (DESIGN section 4), shared by the CLI and POST /api/v1/kernels: the
 * request parsed, bounded by the limits (with everything the request holds counted), the kernels computed by
 * either engine, and the response printed with %.17g straight into one buffer (no tree of every number). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/kernel.h"
#include "dmilab/limits.h"
#include "dmilab/nn.h"
#include "dmilab/model_json.h"
#include "jfield.h"

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

/* ---- the response, printed straight into one growing buffer ---- */

/* Longest "%.17g" (sign, 17 digits, point, e-308) plus ", ": the bound of the memory estimate. */
#define NUMBER_CHARS 26
/* What a number usually takes (17 digits, point, ", "): the buffer's first size. */
#define NUMBER_CHARS_TYPICAL 20

/* Bytes of the response text, an upper bound (the memory estimate's). */
static size_t response_chars(size_t n1, size_t n2, int se) { return 2 * (se ? 2 : 1) * n1 * n2 * NUMBER_CHARS + 512; }

typedef struct {
    char *p;
    size_t n, cap;
    int failed;
} text_buf;

/* Room for `more` bytes; grows by a quarter at least (a large realloc is an mremap: no copy, no second peak). */
static char *room(text_buf *b, size_t more)
{
    if (b->failed) return NULL;
    if (b->n + more + 1 > b->cap) {
        size_t cap = b->cap + b->cap / 4;
        if (cap < b->n + more + 1) cap = b->n + more + 1;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return NULL;
        }
        b->p = q;
        b->cap = cap;
    }
    return b->p + b->n;
}

static void put_text(text_buf *b, const char *s)
{
    size_t k = strlen(s);
    char *p = room(b, k);
    if (!p) return;
    memcpy(p, s, k + 1);
    b->n += k;
}

static void put_numbers(text_buf *b, const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *p = room(b, NUMBER_CHARS);
        if (!p) return;
        b->n += (size_t)snprintf(p, NUMBER_CHARS + 1, i ? ", %.17g" : "%.17g", a[i]);
    }
}

/* "name": {"shape": [n1, n2], "data": [...], "standard_error": [...]}; frees a and se once printed, so that the
 * text and both kernels are never held at once. */
static void put_matrix(text_buf *b, const char *name, double **a, double **se, size_t n1, size_t n2)
{
    char head[96];
    snprintf(head, sizeof head, "\"%s\": {\"shape\": [%zu, %zu], \"data\": [", name, n1, n2);
    put_text(b, head);
    put_numbers(b, *a, n1 * n2);
    free(*a);
    *a = NULL;
    if (*se) {
        put_text(b, "], \"standard_error\": [");
        put_numbers(b, *se, n1 * n2);
        free(*se);
        *se = NULL;
    }
    put_text(b, "]}");
}

static char *print_response(double **K, double **T, double **Kse, double **Tse, size_t n1, size_t n2,
                            const dml_empirical_opts *emp, dml_error *err)
{
    text_buf b = {0};
    b.cap = 2 * (*Kse ? 2 : 1) * n1 * n2 * NUMBER_CHARS_TYPICAL + 512;
    b.p = malloc(b.cap);
    b.failed = b.p == NULL;
    put_text(&b, "{");
    put_matrix(&b, "nngp", K, Kse, n1, n2);
    put_text(&b, ", ");
    put_matrix(&b, "ntk", T, Tse, n1, n2);
    if (emp) {
        char tail[160];
        snprintf(tail, sizeof tail, ", \"empirical\": {\"width\": %d, \"samples\": %d, \"outputs\": %d, \"seed\": %llu}",
                 emp->width, emp->samples, emp->outputs, (unsigned long long)emp->seed);
        put_text(&b, tail);
    }
    put_text(&b, "}\n");
    if (b.failed) {
        free(b.p);
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a response of %zu x %zu kernels", n1, n2);
        return NULL;
    }
    return b.p;
}

/* ---- the request ---- */

/* The request's "empirical" object; its width's limit is checked with the --empirical option's below. */
static int parse_empirical(const cJSON *o, dml_empirical_opts *emp, dml_error *err)
{
    static const char *const keys[] = {"width", "samples", "outputs", "seed", NULL};
    if (jf_object(o, "empirical", keys, err)) return -1;
    long long v;
    int rc;
    if ((rc = jf_int(o, "width", "empirical", 1, DML_WIDTH_MAX, &v, err)) < 0) return -1;
    if (rc) emp->width = (int)v;
    if ((rc = jf_int(o, "samples", "empirical", 1, 100000, &v, err)) < 0) return -1;
    if (rc) emp->samples = (int)v;
    if ((rc = jf_int(o, "outputs", "empirical", 1, 4096, &v, err)) < 0) return -1;
    if (rc) emp->outputs = (int)v;
    if ((rc = jf_int(o, "seed", "empirical", 0, 9007199254740992LL, &v, err)) < 0) return -1;
    if (rc) emp->seed = (uint64_t)v;
    return 0;
}

char *dml_kernel_request_text(const cJSON *req, const dml_kernel_limits *lim, int threads,
                              const dml_empirical_opts *emp_in, dml_error *err)
{
    static const dml_kernel_limits none = {0};
    if (!lim) lim = &none;
    if (threads < 1) threads = 1;
    size_t max_numbers = lim->max_numbers;
    static const char *const keys[] = {"model", "x1", "x2", "empirical", NULL};
    if (jf_object(req, "", keys, err)) return NULL;
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(req, "model");
    if (!jm) {
        dml_fail(err, DML_ERR_INVALID_SPEC, "model", "model is required");
        return NULL;
    }
    dml_model m;
    dml_limits ml = {.max_depth = lim->max_depth, .max_width = lim->max_width};
    if (dml_model_parse(jm, "model", &m, err) || dml_model_admit(&m, "model", &ml, err)) return NULL;
    dml_empirical_opts emp_body = DML_EMPIRICAL_DEFAULTS;
    const dml_empirical_opts *emp = emp_in;
    const cJSON *je = cJSON_GetObjectItemCaseSensitive(req, "empirical");
    if (je && !emp) {
        if (parse_empirical(je, &emp_body, err)) return NULL;
        emp = &emp_body;
    }
    if (emp && lim->max_width > 0 && emp->width > lim->max_width) {
        dml_fail_limit(err, DML_LIMIT_WIDTH, "empirical.width", "empirical.width is %d, above the limit %d",
                       emp->width, lim->max_width);
        return NULL;
    }
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
    char *text = NULL;
    double *K = NULL, *T = NULL, *Kse = NULL, *Tse = NULL;
    int se = emp && emp->samples >= 2;
    const char *sizes = j2 ? "x2.shape" : "x1.shape";
    if (max_numbers && (double)n1 * (double)n2 > (double)max_numbers) {
        dml_fail_limit(err, DML_LIMIT_KERNEL_NUMBERS, sizes, "the kernel would have %zu x %zu entries, more than the limit %zu",
                       n1, n2, max_numbers);
        goto out;
    }
    if (lim->max_seconds > 0 || lim->max_memory_bytes > 0) {
        /* everything the request holds at once: its text and parsed tree (the caller's), the inputs, the
         * computation (dml_kernel_memory_bytes, outputs included), and the response text */
        double seconds, kernel_bytes, inputs = (double)(n1 + (j2 ? n2 : 0)) * (double)dml_shape_numel(&s1);
        if (emp) {
            dml_empirical_kernel_cost(&m, &s1, n1, n2, !j2, emp->width, emp->outputs, emp->samples, threads, &seconds,
                                      &kernel_bytes);
            kernel_bytes += 8.0 * 2 * (double)n1 * n2 * (se ? 2 : 1);
        } else {
            dml_kernel_cost c;
            dml_kernel_cost_estimate(&m, &s1, n1, n2, !j2, threads, &c);
            seconds = c.seconds;
            kernel_bytes = c.memory_bytes;
        }
        double text_bytes = (double)response_chars(n1, n2, se);
        double request_bytes = (double)lim->request_bytes + inputs * (sizeof(cJSON) + 16);
        double total = kernel_bytes + 8.0 * inputs + text_bytes + request_bytes;
        if (lim->max_seconds > 0 && seconds > lim->max_seconds) {
            dml_fail_limit(err, DML_LIMIT_KERNEL_SECONDS, sizes,
                     "the kernel would take about %.0f s to compute (%zu x %zu %s kernels of %s inputs on %d threads, "
                     "estimated), more than the limit of %.0f s; split the request or run `dmilab kernel`, which has no "
                     "limit",
                     seconds, n1, n2, emp ? "empirical" : "infinite-width", dml_arch_name(m.arch), threads,
                     lim->max_seconds);
            goto out;
        }
        if (lim->max_memory_bytes > 0 && total > lim->max_memory_bytes) {
            dml_fail_limit(err, DML_LIMIT_MEMORY, sizes,
                     "the kernel request would need about %.3g GiB (kernels and workspaces %.3g, response text %.3g, "
                     "request %.3g), more than the limit of %.3g GiB",
                     total / (1 << 30), kernel_bytes / (1 << 30), text_bytes / (1 << 30),
                     (request_bytes + 8.0 * inputs) / (1 << 30), lim->max_memory_bytes / (1 << 30));
            goto out;
        }
    }
    size_t nn = n1 * n2 + 1;
    K = malloc(sizeof *K * nn);
    T = malloc(sizeof *T * nn);
    if (se) {
        Kse = malloc(sizeof *Kse * nn);
        Tse = malloc(sizeof *Tse * nn);
    }
    if (!K || !T || (se && (!Kse || !Tse))) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a %zu x %zu kernel", n1, n2);
        goto out;
    }
    int rc = emp ? dml_empirical_kernel_se(&m, &s1, x1, n1, x2, n2, emp->width, emp->outputs, emp->samples, 0,
                                           emp->seed, K, T, Kse, Tse, threads, err)
                 : dml_kernel(&m, &s1, x1, n1, x2, n2, K, T, threads, err);
    if (rc == 0) text = print_response(&K, &T, &Kse, &Tse, n1, n2, emp, err);
out:
    free(K);
    free(T);
    free(Kse);
    free(Tse);
    free(x1);
    free(x2);
    return text;
}

cJSON *dml_kernel_request(const cJSON *req, const dml_kernel_limits *lim, int threads, dml_error *err)
{
    char *text = dml_kernel_request_text(req, lim, threads, NULL, err);
    if (!text) return NULL;
    cJSON *o = cJSON_Parse(text);
    free(text);
    if (!o) dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the response tree");
    return o;
}
