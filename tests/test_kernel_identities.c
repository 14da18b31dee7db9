/* Exact identities of the kernel engine (issue 3): equalities between archs, invariances under input
 * transforms (DESIGN 2.2), Gram matrices symmetric PSD, and edge cases that must stay finite. */
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/kernel.h"
#include "dmilab/rng.h"
#include "../core/data/variant.h"
#include "check.h"

static dml_rng rng;

static double *randn(size_t n)
{
    double *x = malloc(sizeof *x * n);
    for (size_t i = 0; i < n; i++) x[i] = dml_rng_normal(&rng);
    return x;
}

static dml_model model(dml_arch arch, dml_padding pad)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = arch;
    m.padding = pad;
    m.b_std = 0.3;
    return m;
}

/* K(x1, x2) (x2 may be NULL: Gram) into freshly allocated nngp/ntk. */
static int kern(const dml_model *m, const dml_shape *s, const double *x1, size_t n1, const double *x2, size_t n2,
                double **K, double **T)
{
    size_t nn = n1 * (x2 ? n2 : n1);
    *K = malloc(sizeof **K * nn);
    *T = malloc(sizeof **T * nn);
    dml_error err = {0};
    int rc = dml_kernel(m, s, x1, n1, x2, n2, *K, *T, 2, &err);
    if (rc) fprintf(stderr, "dml_kernel: %s\n", err.message);
    return rc;
}

static double max_rel_diff(const double *a, const double *b, size_t n)
{
    double m = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (d > m) m = d;
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    return s > 0 ? m / s : m;
}

static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* Compare K(x1, x2) with K(g1 x1, g2 x2); expect equal (invariant) or not. */
static void invariance(const char *what, const dml_model *m, const dml_shape *s, const dml_transform *g1,
                       const dml_transform *g2, int expect_equal)
{
    size_t n1 = 3, n2 = 4, D = dml_shape_numel(s);
    double *x1 = randn(n1 * D), *x2 = randn(n2 * D);
    double *K, *T, *K2, *T2;
    kern(m, s, x1, n1, x2, n2, &K, &T);
    dml_error err;
    if (g1) dml_transform_apply(g1, s, x1, n1, &err);
    if (g2) dml_transform_apply(g2, s, x2, n2, &err);
    kern(m, s, x1, n1, x2, n2, &K2, &T2);
    double dk = max_rel_diff(K2, K, n1 * n2), dt = max_rel_diff(T2, T, n1 * n2);
    if (expect_equal) {
        CHECK(dk <= 1e-12 && dt <= 1e-12, "%s: invariant expected, nngp diff %.3g, ntk diff %.3g", what, dk, dt);
    } else {
        CHECK(dk > 1e-6 && dt > 1e-6, "%s: not invariant expected, nngp diff %.3g, ntk diff %.3g", what, dk, dt);
    }
    free(x1), free(x2), free(K), free(T), free(K2), free(T2);
}

static void symmetric_psd(const char *what, const dml_model *m, const dml_shape *s, size_t n)
{
    double *x = randn(n * dml_shape_numel(s)), *K, *T;
    CHECK(kern(m, s, x, n, NULL, n, &K, &T) == 0, "%s: kernel", what);
    double *mats[2] = {K, T};
    for (int k = 0; k < 2; k++) {
        double *A = mats[k];
        int sym = 1;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) sym &= A[i * n + j] == A[j * n + i];
        CHECK(sym, "%s: %s symmetric", what, k ? "ntk" : "nngp");
        double *w = malloc(sizeof *w * n), *B = malloc(sizeof *B * n * n);
        memcpy(B, A, sizeof *B * n * n);
        LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)n, B, (lapack_int)n, w);
        CHECK(w[0] >= -1e-12 * w[n - 1], "%s: %s PSD (smallest eigenvalue %.3g, largest %.3g)", what,
              k ? "ntk" : "nngp", w[0], w[n - 1]);
        free(w), free(B);
    }
    /* Gram entries equal cross entries computed with x2 = x1 */
    double *Kc, *Tc;
    kern(m, s, x, n, x, n, &Kc, &Tc);
    double dk = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j) dk = fmax(dk, fabs(Kc[i * n + j] - K[i * n + j]) / fabs(K[i * n + j]));
    CHECK(dk <= 1e-13, "%s: Gram off-diagonal equals cross kernel (%.3g)", what, dk);
    free(x), free(K), free(T), free(Kc), free(Tc);
}

static void edge(const char *what, dml_model m, dml_shape s, double scale, int expect_ok, int expect_P1)
{
    size_t n = 3, D = dml_shape_numel(&s);
    double *x = randn(n * D);
    for (size_t i = 0; i < n * D; i++) x[i] *= scale;
    double *K = malloc(sizeof *K * n * n), *T = malloc(sizeof *T * n * n);
    dml_error err = {0};
    int rc = dml_kernel(&m, &s, x, n, NULL, n, K, T, 1, &err);
    if (expect_ok) {
        CHECK(rc == 0, "%s: %s", what, err.message);
        CHECK(rc == 0 && all_finite(K, n * n) && all_finite(T, n * n), "%s: finite values", what);
    } else {
        CHECK(rc != 0 && err.message[0], "%s: expected a clear error", what);
    }
    if (expect_P1) {
        dml_layers L;
        dml_model_layers(&m, &s, 1, &L, &err);
        CHECK(L.layer[L.n - 3].out_size[0] == 1, "%s: one position left", what);
    }
    free(x), free(K), free(T);
}

int main(void)
{
    uint64_t seed = 42;
    dml_rng_seed(&rng, &seed, 1);
    dml_shape s1 = {.nd = 1, .size = {8}, .channels = 2};
    dml_shape s2 = {.nd = 2, .size = {5, 6}, .channels = 1};
    dml_shape s3 = {.nd = 2, .size = {4, 4}, .channels = 3};
    const dml_shape *shapes[] = {&s1, &s2, &s3};

    /* lcn == cnn-vec exactly (only position-diagonal covariances enter) */
    for (int k = 0; k < 3; k++)
        for (int pad = 0; pad < 3; pad++) {
            dml_model a = model(DML_ARCH_LCN, (dml_padding)pad), b = model(DML_ARCH_CNN_VEC, (dml_padding)pad);
            size_t D = dml_shape_numel(shapes[k]);
            double *x1 = randn(3 * D), *x2 = randn(2 * D), *K1, *T1, *K2, *T2;
            int r1 = kern(&a, shapes[k], x1, 3, x2, 2, &K1, &T1);
            int r2 = kern(&b, shapes[k], x1, 3, x2, 2, &K2, &T2);
            CHECK(r1 == r2, "lcn and cnn-vec accept the same geometries");
            if (!r1) CHECK(memcmp(K1, K2, 6 * sizeof *K1) == 0 && memcmp(T1, T2, 6 * sizeof *T1) == 0,
                  "lcn == cnn-vec (shape %d, padding %d)", k, pad);
            free(x1), free(x2), free(K1), free(T1), free(K2), free(T2);
        }

    dml_transform orth = {.kind = DML_TF_ORTHOGONAL, .seed = 3}, shift = {.kind = DML_TF_TRANSLATION, .seed = 5},
                  perm = {.kind = DML_TF_PERMUTATION, .seed = 7};
    dml_transform local = {.kind = DML_TF_LOCAL_ORTHOGONAL, .seed = 9}, chan = {.kind = DML_TF_CHANNEL_ORTHOGONAL, .seed = 11};
    for (int k = 0; k < 3; k++) {
        const dml_shape *s = shapes[k];
        dml_model fcn = model(DML_ARCH_FCN, DML_PAD_SAME);
        dml_model gap = model(DML_ARCH_CNN_GAP, DML_PAD_CIRCULAR);
        dml_model vec = model(DML_ARCH_CNN_VEC, DML_PAD_CIRCULAR);
        dml_model lcn = model(DML_ARCH_LCN, DML_PAD_SAME);
        invariance("fcn, orthogonal of both", &fcn, s, &orth, &orth, 1);
        invariance("fcn, permutation of both", &fcn, s, &perm, &perm, 1);
        invariance("cnn-gap circular, shift of one input", &gap, s, &shift, NULL, 1);
        invariance("cnn-gap circular, shift of both", &gap, s, &shift, &shift, 1);
        invariance("cnn-vec circular, shift of both", &vec, s, &shift, &shift, 1);
        invariance("cnn-vec circular, shift of one", &vec, s, &shift, NULL, 0);
        invariance("lcn, per-position O(C) of both", &lcn, s, &local, &local, 1);
        invariance("cnn-gap, shared O(C) of both", &gap, s, &chan, &chan, 1);
        invariance("lcn, permutation of both", &lcn, s, &perm, &perm, 0);
        invariance("cnn-gap, orthogonal of both", &gap, s, &orth, &orth, 0);
        dml_model erf = fcn;
        erf.activation = DML_ACT_ERF;
        invariance("fcn erf, orthogonal of both", &erf, s, &orth, &orth, 1);
        for (int arch = 0; arch < 4; arch++)
            for (int act = 0; act < 2; act++) {
                dml_model m = model((dml_arch)arch, DML_PAD_SAME);
                m.activation = (dml_activation)act;
                char what[64];
                snprintf(what, sizeof what, "%s %s shape %d", dml_arch_name(m.arch), dml_activation_name(m.activation), k);
                symmetric_psd(what, &m, s, 7);
            }
    }

    /* edge cases */
    dml_model v = model(DML_ARCH_CNN_GAP, DML_PAD_VALID);
    edge("valid padding down to one position", v, (dml_shape){2, {5, 5}, 1}, 1.0, 1, 1);
    v.filter[0] = v.filter[1] = 6;
    edge("valid filter larger than the input", v, (dml_shape){2, {5, 5}, 1}, 1.0, 0, 0);
    dml_model st = model(DML_ARCH_CNN_VEC, DML_PAD_SAME);
    st.stride[0] = st.stride[1] = 4;
    st.nstride = 1;
    edge("stride larger than the filter", st, (dml_shape){2, {9, 7}, 2}, 1.0, 1, 0);
    edge("1x1 inputs, cnn-gap", model(DML_ARCH_CNN_GAP, DML_PAD_SAME), (dml_shape){2, {1, 1}, 1}, 1.0, 1, 0);
    edge("1x1 inputs, lcn circular", model(DML_ARCH_LCN, DML_PAD_CIRCULAR), (dml_shape){2, {1, 1}, 1}, 1.0, 1, 0);
    edge("large inputs", model(DML_ARCH_CNN_GAP, DML_PAD_SAME), (dml_shape){1, {6}, 2}, 1e60, 1, 0);
    edge("overflowing inputs: a clear error", model(DML_ARCH_CNN_GAP, DML_PAD_SAME), (dml_shape){1, {6}, 2}, 1e100, 0, 0);
    edge("zero inputs", model(DML_ARCH_CNN_VEC, DML_PAD_SAME), (dml_shape){1, {6}, 2}, 0.0, 1, 0);
    edge("zero inputs fcn", model(DML_ARCH_FCN, DML_PAD_SAME), (dml_shape){0, {0}, 5}, 0.0, 1, 0);
    dml_model e = model(DML_ARCH_CNN_GAP, DML_PAD_SAME);
    e.activation = DML_ACT_ERF;
    e.b_std = 100.0;
    edge("erf with large b_std", e, (dml_shape){2, {4, 4}, 1}, 1.0, 1, 0);
    dml_model cv = model(DML_ARCH_CNN_GAP, DML_PAD_SAME);
    edge("conv arch on flat inputs", cv, (dml_shape){0, {0}, 5}, 1.0, 0, 0);
    dml_model sp = model(DML_ARCH_FCN, DML_PAD_SAME);
    sp.parameterization = DML_PARAM_STANDARD;
    edge("standard parameterization", sp, (dml_shape){0, {0}, 5}, 1.0, 0, 0);

    /* a zero input: theta = pi/2, so NNGP with it is exactly b^2-driven and T' = 1/4 */
    {
        dml_model m = model(DML_ARCH_FCN, DML_PAD_SAME);
        m.b_std = 0.0;
        m.depth = 1;
        double x[2 * 4] = {0, 0, 0, 0, 1, 2, 3, 4}, K[4], T[4];
        dml_shape s = {0, {0}, 4};
        dml_error err;
        dml_kernel(&m, &s, x, 2, NULL, 2, K, T, 1, &err);
        CHECK(K[0] == 0.0 && K[1] == 0.0, "zero input: NNGP 0 (%g, %g)", K[0], K[1]);
        CHECK(T[1] == 0.0, "zero input: NTK 0 against a nonzero input (%g)", T[1]);
    }
    return check_summary("kernel_identities");
}
