/* kernel_precision float32 (docs/kernels.md): the duals in float32 against the default float64 engine.
 *
 *   - 300 seeded random models (every preset and random layer lists with conv, conv-local, avg-pool, dense,
 *     relu and erf, flatten or gap; 1D and 2D, paddings, strides, depth 0-3, random scales), Gram and cross
 *     blocks: every NNGP and NTK entry within F32_BOUND of the float64 one, relative to the entry's scale
 *     sqrt(K(x,x) K(x',x')) (Cauchy-Schwarz bounds |K(x,x')| by it); the worst errors are printed.
 *   - float32 is a different computation (some entry differs from float64) and keeps the self pairs of a Gram
 *     matrix exact in angle: its diagonal equals the self kernel of each input computed alone.
 *   - the spec field: parsed, written back by the resolved model, a bad value is an error naming
 *     model.kernel_precision, and the kernel cache key differs between the two precisions.
 * Run once per build of the duals (DMILAB_SIMD, tests/meson.build). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "dmilab/kernel.h"
#include "dmilab/model_json.h"
#include "dmilab/rng.h"
#include "dmilab/tiles.h"
#include "random_model.h"

/* The documented bound (docs/kernels.md): float32 duals round the angle and the square roots to float's 2^-24
 * relative steps, a few ULP through SLEEF, and the layers carry the error forward. */
#define F32_BOUND 2e-6

static double worst_k, worst_t;
static int differs;

/* |a - b| / sqrt(da db): the error on the entry's own scale (da, db the float64 self kernels). */
static double scaled(double a, double b, double da, double db)
{
    double s = sqrt(fabs(da) * fabs(db));
    return s > 0 ? fabs(a - b) / s : fabs(a - b);
}

/* One model on n1 x n2 random inputs: 0 when the model does not fit the shape (skipped), 1 when checked. */
static int check_model(dml_model *m, const dml_shape *sh, dml_rng *r, int k)
{
    size_t D = dml_shape_numel(sh), n1 = 2 + dml_rng_below(r, 6), n2 = 1 + dml_rng_below(r, 5);
    double *x1 = malloc(sizeof(double) * n1 * D), *x2 = malloc(sizeof(double) * n2 * D);
    double *buf = malloc(sizeof(double) * 12 * (n1 * n1 + n1 * n2 + n2 * n2 + 4));
    for (size_t i = 0; i < n1 * D; i++) x1[i] = dml_rng_normal(r);
    for (size_t i = 0; i < n2 * D; i++) x2[i] = dml_rng_normal(r);
    double *g64k = buf, *g64t = g64k + n1 * n1, *g32k = g64t + n1 * n1, *g32t = g32k + n1 * n1;
    double *c64k = g32t + n1 * n1, *c64t = c64k + n1 * n2, *c32k = c64t + n1 * n2, *c32t = c32k + n1 * n2;
    double *s64k = c32t + n1 * n2, *s64t = s64k + n2 * n2, *one_k = s64t + n2 * n2, *one_t = one_k + 1;
    dml_error err;
    m->kernel_precision = DML_KPREC_FLOAT64;
    int ok = dml_kernel(m, sh, x1, n1, NULL, 0, g64k, g64t, 1, &err) == 0;
    if (ok) {
        ok = dml_kernel(m, sh, x1, n1, x2, n2, c64k, c64t, 2, &err) == 0 &&
             dml_kernel(m, sh, x2, n2, NULL, 0, s64k, s64t, 1, &err) == 0;
        CHECK(ok, "#%d float64: %s", k, err.message);
        m->kernel_precision = DML_KPREC_FLOAT32;
        int ok32 = ok && dml_kernel(m, sh, x1, n1, NULL, 0, g32k, g32t, 2, &err) == 0 &&
                   dml_kernel(m, sh, x1, n1, x2, n2, c32k, c32t, 1, &err) == 0;
        CHECK(!ok || ok32, "#%d float32: %s", k, err.message);
        if (ok && ok32) {
            double wk = 0, wt = 0;
            for (size_t i = 0; i < n1; i++)
                for (size_t j = 0; j < n1; j++) {
                    size_t q = i * n1 + j;
                    wk = fmax(wk, scaled(g32k[q], g64k[q], g64k[i * n1 + i], g64k[j * n1 + j]));
                    wt = fmax(wt, scaled(g32t[q], g64t[q], g64t[i * n1 + i], g64t[j * n1 + j]));
                    differs |= g32k[q] != g64k[q] || g32t[q] != g64t[q];
                }
            for (size_t i = 0; i < n1; i++)
                for (size_t j = 0; j < n2; j++) {
                    size_t q = i * n2 + j;
                    wk = fmax(wk, scaled(c32k[q], c64k[q], g64k[i * n1 + i], s64k[j * n2 + j]));
                    wt = fmax(wt, scaled(c32t[q], c64t[q], g64t[i * n1 + i], s64t[j * n2 + j]));
                }
            CHECK(wk <= F32_BOUND && wt <= F32_BOUND, "#%d (%s): float32 error NNGP %.3g, NTK %.3g above %.1g", k,
                  dml_arch_name(m->arch), wk, wt, F32_BOUND);
            worst_k = fmax(worst_k, wk);
            worst_t = fmax(worst_t, wt);
            /* a self pair inside the Gram matrix is the input's own kernel, bit for bit */
            size_t i = dml_rng_below(r, n1);
            CHECK(dml_kernel(m, sh, x1 + i * D, 1, NULL, 0, one_k, one_t, 1, &err) == 0, "#%d: %s", k, err.message);
            CHECK(one_k[0] == g32k[i * n1 + i] && one_t[0] == g32t[i * n1 + i],
                  "#%d: float32 self pair %zu differs from its own kernel", k, i);
        }
    }
    free(x1);
    free(x2);
    free(buf);
    return ok;
}

static void spec_field(void)
{
    dml_error err;
    dml_model m;
    cJSON *o = cJSON_Parse("{\"arch\": \"cnn-gap\", \"kernel_precision\": \"float32\"}");
    CHECK(dml_model_parse(o, "model", &m, &err) == 0 && m.kernel_precision == DML_KPREC_FLOAT32, "parse");
    cJSON_Delete(o);
    cJSON *j = dml_model_json(&m);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "kernel_precision");
    CHECK(cJSON_IsString(p) && strcmp(p->valuestring, "float32") == 0, "resolved model writes kernel_precision");
    dml_model back;
    CHECK(dml_model_parse(j, "model", &back, &err) == 0 && back.kernel_precision == DML_KPREC_FLOAT32, "round trip");
    cJSON_Delete(j);
    o = cJSON_Parse("{\"layers\": [{\"flatten\": {}}, {\"dense\": {}}], \"kernel_precision\": \"float16\"}");
    CHECK(dml_model_parse(o, "models[0]", &m, &err) != 0 && strcmp(err.field, "models[0].kernel_precision") == 0,
          "bad value names the field (got '%s')", err.field);
    cJSON_Delete(o);
    dml_model_defaults(&m);
    CHECK(m.kernel_precision == DML_KPREC_FLOAT64, "float64 is the default");
    /* the kernel cache key depends on the precision */
    dml_shape sh = {.nd = 2, .size = {3, 3}, .channels = 1};
    double x[18] = {0};
    char a[DML_SHA256_HEX], b[DML_SHA256_HEX];
    m.arch = DML_ARCH_CNN_GAP;
    CHECK(dml_tile_key(NULL, &m, &sh, x, 1, x + 9, 1, a, &err) == 0, "key");
    m.kernel_precision = DML_KPREC_FLOAT32;
    CHECK(dml_tile_key(NULL, &m, &sh, x, 1, x + 9, 1, b, &err) == 0, "key");
    CHECK(memcmp(a, b, DML_SHA256_HEX) != 0, "the cache key includes kernel_precision");
}

int main(void)
{
    spec_field();
    dml_rng r;
    uint64_t key = 3232;
    dml_rng_seed(&r, &key, 1);
    int checked = 0;
    for (int k = 0; k < 300; k++) {
        dml_model m;
        random_model(&r, &m, 0);
        dml_shape sh = {.nd = 1 + (int)dml_rng_below(&r, 2), .channels = 1 + (int)dml_rng_below(&r, 2)};
        for (int a = 0; a < sh.nd; a++) sh.size[a] = 2 + (int)dml_rng_below(&r, sh.nd == 1 ? 12 : 6);
        checked += check_model(&m, &sh, &r, k);
    }
    CHECK(checked >= 200, "only %d of 300 random models fitted their inputs", checked);
    CHECK(differs, "float32 gave the float64 numbers bit for bit: the option did nothing");
    printf("float32 vs float64 over %d random models: worst scaled error NNGP %.3g, NTK %.3g (bound %.1g)\n", checked,
           worst_k, worst_t, F32_BOUND);
    return check_summary("kernel_f32");
}
