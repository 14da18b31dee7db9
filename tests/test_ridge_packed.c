/* Packed (RFP) storage, Cholesky and solves against LAPACK's dense dpotrf/dpotrs, and the streamed learning-curve
 * solve against dml_ridge_predict (issue 15). */
#include <cblas.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/kernel.h"
#include "dmilab/ridge.h"
#include "dmilab/ridge_packed.h"
#include "dmilab/rng.h"
#include "check.h"

static dml_rng rng;

static double *randn(size_t n)
{
    double *x = malloc(sizeof *x * n);
    for (size_t i = 0; i < n; i++) x[i] = dml_rng_normal(&rng);
    return x;
}

/* A random symmetric positive definite n x n matrix, row-major: G G^T / n + 0.05 I, G n x n gaussian. */
static double *random_spd(size_t n)
{
    double *G = randn(n * n), *A = malloc(sizeof *A * n * n);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)n, 1.0 / (double)n, G, (int)n, 0.0, A, (int)n);
    for (size_t i = 0; i < n; i++) {
        A[i * n + i] += 0.05;
        for (size_t j = 0; j < i; j++) A[j * n + i] = A[i * n + j];
    }
    free(G);
    return A;
}

/* ||a - b||_F / ||b||_F: the normwise relative difference (Higham, "Accuracy and Stability", 2002) */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += (a[i] - b[i]) * (a[i] - b[i]);
        s += b[i] * b[i];
    }
    return s > 0 ? sqrt(d / s) : sqrt(d);
}

/* Test predictions K_test (K_n + lambda I)^-1 Y by a long-double Cholesky (64-bit mantissa, 2^11 times more
 * precise than double), the reference both double-precision solves are measured against. */
static void reference_predict(const double *K, size_t N, size_t n, const double *Kt, size_t M, const double *Y,
                              size_t k, double lambda, long double *pred)
{
    long double *A = malloc(sizeof *A * n * n), *x = malloc(sizeof *x * n * k);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) A[i * n + j] = K[i * N + j] + (i == j ? (long double)lambda : 0.0L);
    for (size_t j = 0; j < n; j++) {
        long double s = A[j * n + j];
        for (size_t p = 0; p < j; p++) s -= A[j * n + p] * A[j * n + p];
        A[j * n + j] = sqrtl(s);
        for (size_t i = j + 1; i < n; i++) {
            long double t = A[i * n + j];
            for (size_t p = 0; p < j; p++) t -= A[i * n + p] * A[j * n + p];
            A[i * n + j] = t / A[j * n + j];
        }
    }
    for (size_t c = 0; c < k; c++) {
        long double *v = x + c * n;
        for (size_t i = 0; i < n; i++) {
            long double t = Y[i * k + c];
            for (size_t p = 0; p < i; p++) t -= A[i * n + p] * v[p];
            v[i] = t / A[i * n + i];
        }
        for (size_t i = n; i-- > 0;) {
            long double t = v[i];
            for (size_t p = i + 1; p < n; p++) t -= A[p * n + i] * v[p];
            v[i] = t / A[i * n + i];
        }
    }
    for (size_t r = 0; r < M; r++)
        for (size_t c = 0; c < k; c++) {
            long double p = 0;
            for (size_t i = 0; i < n; i++) p += Kt[r * N + i] * x[c * n + i];
            pred[r * k + c] = p;
        }
    free(A);
    free(x);
}

static double rel_diff_ref(const double *a, const long double *ref, size_t n)
{
    long double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += (a[i] - ref[i]) * (a[i] - ref[i]);
        s += ref[i] * ref[i];
    }
    return (double)sqrtl(d / s);
}

/* the callback of dml_packed_fill / dml_ridge_curve over a dense row-major matrix with `cols` columns */
typedef struct {
    const double *K;
    size_t cols, calls, rows_seen, last_ncols;
    int fail_at;   /* fail with DML_ERR_CANCELLED on this call (1-based), 0 never */
} dense_rows;

static int rows_of(void *ctx, size_t r0, size_t r1, size_t ncols, double *block, size_t ld, dml_error *err)
{
    dense_rows *d = ctx;
    d->calls++;
    if (d->fail_at && (int)d->calls == d->fail_at) return dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
    d->rows_seen += r1 - r0;
    d->last_ncols = ncols;
    for (size_t r = r0; r < r1; r++) memcpy(block + (r - r0) * ld, d->K + r * d->cols, sizeof(double) * ncols);
    return 0;
}

/* RFP layout: the element map, set_rows, fill, leading blocks and dense copies agree with LAPACK's dtrttf. */
static void test_layout(void)
{
    size_t orders[] = {1, 2, 3, 4, 5, 8, 9, 64, 65, 130, 131};
    for (size_t t = 0; t < sizeof orders / sizeof *orders; t++) {
        size_t n = orders[t], np = dml_packed_numel(n);
        double *A = random_spd(n), *ref = malloc(sizeof *ref * np), *arf = malloc(sizeof *arf * np);
        CHECK(np == n * (n + 1) / 2, "numel %zu", np);
        CHECK(LAPACKE_dtrttf(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)n, A, (lapack_int)n, ref) == 0, "dtrttf");
        int bad = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) bad += dml_packed_get(ref, n, i, j) != A[i * n + j];
        CHECK(bad == 0, "n %zu: %d elements of the RFP map differ from dtrttf", n, bad);
        dml_packed_from_dense(arf, A, n, n);
        CHECK(memcmp(arf, ref, sizeof *arf * np) == 0, "n %zu: from_dense", n);
        /* row blocks of uneven sizes, the upper triangle poisoned (it must not be read) */
        double *P = malloc(sizeof *P * n * n);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) P[i * n + j] = j > i ? NAN : A[i * n + j];
        memset(arf, 0, sizeof *arf * np);
        for (size_t r0 = 0, b = 1; r0 < n; r0 += b, b = b * 2 + 1) {
            size_t r1 = r0 + b < n ? r0 + b : n;
            dml_packed_set_rows(arf, n, r0, r1, P + r0 * n, n);
        }
        CHECK(memcmp(arf, ref, sizeof *arf * np) == 0, "n %zu: set_rows", n);
        dense_rows src = {.K = P, .cols = n};
        memset(arf, 0, sizeof *arf * np);
        dml_error err = {0};
        CHECK(dml_packed_fill(arf, n, rows_of, &src, 7, NULL, &err) == 0, "fill: %s", err.message);
        CHECK(memcmp(arf, ref, sizeof *arf * np) == 0 && src.rows_seen == n, "n %zu: fill", n);
        /* leading blocks of every order, as RFP and as dense */
        int lead_bad = 0, dense_bad = 0;
        double *sub = malloc(sizeof *sub * np), *subref = malloc(sizeof *subref * np), *D = malloc(sizeof *D * n * n);
        for (size_t m = 1; m <= n; m += (n > 20 ? 13 : 1)) {
            dml_packed_leading(ref, n, sub, m);
            LAPACKE_dtrttf(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)m, A, (lapack_int)n, subref);
            lead_bad += memcmp(sub, subref, sizeof *sub * dml_packed_numel(m)) != 0;
            dml_packed_to_dense(ref, n, m, D, m);
            for (size_t i = 0; i < m; i++) dense_bad += memcmp(D + i * m, A + i * n, sizeof *D * m) != 0;
        }
        CHECK(lead_bad == 0 && dense_bad == 0, "n %zu: leading %d, dense %d", n, lead_bad, dense_bad);
        double *dg = malloc(sizeof *dg * n);
        dml_packed_diag(ref, n, dg);
        dml_packed_add_diag(ref, n, 0.25);
        for (size_t i = 0; i < n; i++) bad += dg[i] != A[i * n + i] || dml_packed_get(ref, n, i, i) != A[i * n + i] + 0.25;
        CHECK(bad == 0, "n %zu: diagonal", n);
        free(A);
        free(ref);
        free(arf);
        free(P);
        free(sub);
        free(subref);
        free(D);
        free(dg);
    }
}

/* Packed Cholesky and solves against dense dpotrf/dpotrs, and the leading-block solves against the dense
 * factorization of each leading block. The matrices have condition numbers of about 100, so the two
 * factorizations, which order their operations differently, agree to about 100 * 1e-16; 1e-12 leaves room. */
static void test_cholesky(void)
{
    size_t orders[] = {1, 2, 3, 7, 50, 51, 300, 301, 600};
    size_t k = 3;
    for (size_t t = 0; t < sizeof orders / sizeof *orders; t++) {
        size_t n = orders[t], np = dml_packed_numel(n);
        double *A = random_spd(n), *L = malloc(sizeof *L * n * n), *arf = malloc(sizeof *arf * np);
        double *Lp = malloc(sizeof *Lp * n * n), *B = randn(n * k), *X = malloc(sizeof *X * n * k);
        double *Xd = malloc(sizeof *Xd * n * k);
        memcpy(L, A, sizeof *L * n * n);
        dml_packed_from_dense(arf, A, n, n);
        dml_error err = {0};
        CHECK(LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n) == 0, "dpotrf");
        CHECK(dml_packed_cholesky(arf, n, &err) == 0, "packed cholesky n %zu: %s", n, err.message);
        /* the factor's lower triangle, column-major, both ways */
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                Lp[j * n + i] = i >= j ? dml_packed_get(arf, n, i, j) : 0.0;
                if (i < j) L[j * n + i] = 0.0;
            }
        double dl = rel_diff(Lp, L, n * n);
        CHECK(dl <= 1e-12, "n %zu: packed factor vs dpotrf %.3g", n, dl);
        /* solves: B is column-major n x k */
        memcpy(X, B, sizeof *X * n * k);
        memcpy(Xd, B, sizeof *Xd * n * k);
        dml_packed_solve(arf, n, n, X, n, k);
        LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)n, (lapack_int)k, L, (lapack_int)n, Xd, (lapack_int)n);
        double ds = rel_diff(X, Xd, n * k);
        CHECK(ds <= 1e-12, "n %zu: dpftrs vs dpotrs %.3g", n, ds);
        /* prefixes of the same factor: both inside the leading half and across it */
        double worst = 0;
        for (size_t m = 1; m < n; m += (n > 20 ? n / 7 : 1)) {
            double *Am = malloc(sizeof *Am * m * m);
            for (size_t j = 0; j < m; j++) memcpy(Am + j * m, A + j * n, sizeof *Am * m);
            LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)m, Am, (lapack_int)m);
            memcpy(X, B, sizeof *X * m * k);   /* column-major m x k with ld m: the first m k entries of B */
            memcpy(Xd, B, sizeof *Xd * m * k);
            dml_packed_solve(arf, n, m, X, m, k);
            LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)m, (lapack_int)k, Am, (lapack_int)m, Xd, (lapack_int)m);
            double d = rel_diff(X, Xd, m * k);
            if (d > worst) worst = d;
            free(Am);
        }
        CHECK(worst <= 1e-12, "n %zu: leading-block solves vs dpotrs on the block %.3g", n, worst);
        free(A);
        free(L);
        free(arf);
        free(Lp);
        free(B);
        free(X);
        free(Xd);
    }
    /* not positive definite: a numeric error naming the minor */
    double B2[4] = {1, 2, 2, 1}, arf[3];
    dml_packed_from_dense(arf, B2, 2, 2);
    dml_error err = {0};
    CHECK(dml_packed_cholesky(arf, 2, &err) == -1 && err.code == DML_ERR_NUMERIC && strstr(err.message, "order 2"),
          "indefinite: %s", err.message);
    CHECK(dml_packed_cholesky(arf, DML_PACKED_MAX_ORDER + 1, &err) == -1 && err.code == DML_ERR_LIMIT,
          "beyond 32-bit indexing: %s", err.message);
    CHECK(dml_packed_numel(DML_PACKED_MAX_ORDER) <= 2147483647u && dml_packed_numel(DML_PACKED_MAX_ORDER + 1) > 2147483647u,
          "the limit is where n(n+1)/2 leaves 32 bits");
    double nan3[3] = {1, NAN, 1};
    CHECK(dml_packed_cholesky(nan3, 2, &err) == -1 && err.code == DML_ERR_NUMERIC, "NaN: %s", err.message);
}

/* One experiment's kernels: fcn NNGP on inputs x (n_all points of dimension d), Gram over the first N and the
 * cross-kernel of the other M against them. */
static void kernels(const double *x, size_t N, size_t M, size_t d, double b_std, double *K, double *Kt)
{
    dml_model m;
    dml_model_defaults(&m);
    m.b_std = b_std;
    dml_shape s = {.nd = 0, .channels = (int)d};
    dml_error err = {0};
    CHECK(dml_kernel(&m, &s, x, N, NULL, N, K, NULL, 2, &err) == 0, "gram: %s", err.message);
    CHECK(dml_kernel(&m, &s, x + N * d, M, x, N, Kt, NULL, 2, &err) == 0, "cross: %s", err.message);
}

/* The streamed curve equals dml_ridge_predict at every size.
 * Both solves are backward stable, so each lies within about cond(K_n + lambda I) * 1e-16 of the exact
 * predictions, and they differ by as much. At ridge 1e-2 (condition numbers of a few 1e4 on these data) that
 * is below 1e-12, normwise relative, which is required. At the default ridge 1e-4 (condition numbers up to
 * about 1e5) the worst case is 1e-11; there the packed solve must be as accurate as the dense one against a
 * long-double reference (within 1.5 times its error plus 1e-13, and within 2e-12) and the two within 2e-12. */
static void test_curve(int sphere, unsigned flags, size_t block_rows, double ridge)
{
    size_t N = 400, M = 123, d = 6, k = 3;
    size_t ns[] = {37, 128, 201, 400};
    size_t nsz = sizeof ns / sizeof *ns;
    double *x = randn((N + M) * d), *Y = randn(N * k);
    if (sphere)   /* every input on the sphere of radius sqrt(d): the fcn kernel's diagonal is constant */
        for (size_t i = 0; i < N + M; i++) {
            double s = 0;
            for (size_t c = 0; c < d; c++) s += x[i * d + c] * x[i * d + c];
            for (size_t c = 0; c < d; c++) x[i * d + c] *= sqrt((double)d / s);
        }
    double *K = malloc(sizeof *K * N * N), *Kt = malloc(sizeof *Kt * M * N);
    kernels(x, N, M, d, 0.2, K, Kt);
    double *arf = malloc(sizeof *arf * dml_packed_numel(N)), *keep = malloc(sizeof *keep * dml_packed_numel(N));
    dml_packed_from_dense(arf, K, N, N);
    memcpy(keep, arf, sizeof *keep * dml_packed_numel(N));
    dml_ridge_size sz[4];
    for (size_t j = 0; j < nsz; j++) {
        sz[j] = (dml_ridge_size){.n = ns[j]};
        sz[j].pred_test = malloc(sizeof(double) * M * k);
        sz[j].pred_train = malloc(sizeof(double) * ns[j] * k);
    }
    dense_rows src = {.K = Kt, .cols = N};
    dml_error err = {0};
    int rc = dml_ridge_curve(arf, N, Y, k, ridge, sz, nsz, rows_of, &src, M, block_rows, flags, &err);
    CHECK(rc == 0, "curve: %s", err.message);
    size_t expect_calls = (M + (block_rows ? block_rows : M) - 1) / (block_rows ? block_rows : M);
    CHECK(src.rows_seen == M && src.last_ncols == N && (!block_rows || src.calls == expect_calls),
          "streamed %zu rows in %zu calls of %zu columns", src.rows_seen, src.calls, src.last_ncols);
    if (flags & DML_RIDGE_KEEP_GRAM)
        CHECK(memcmp(arf, keep, sizeof *arf * dml_packed_numel(N)) == 0, "DML_RIDGE_KEEP_GRAM left the Gram as it was");
    double worst_test = 0, worst_train = 0, worst_ref = 0, worst_dense_ref = 0;
    int reused = 0, strict = ridge >= 1e-2;
    double *pt = malloc(sizeof *pt * M * k), *pn = malloc(sizeof *pn * N * k);
    long double *ref = malloc(sizeof *ref * M * k);
    for (size_t j = 0; j < nsz && rc == 0; j++) {
        size_t n = ns[j];
        CHECK(dml_ridge_predict(K, N, n, Kt, N, M, Y, k, ridge, pt, pn, &err) == 0, "dense: %s", err.message);
        double t = 0;
        for (size_t i = 0; i < n; i++) t += K[i * N + i];
        if (sz[j].reused_factor) CHECK(close_rel(sz[j].lambda, ridge * t / (double)n, 1e-13), "reused lambda, n %zu", n);
        else CHECK(sz[j].lambda == ridge * t / (double)n, "lambda of n %zu is the solve's", n);
        double dt = rel_diff(sz[j].pred_test, pt, M * k), dn = rel_diff(sz[j].pred_train, pn, n * k);
        if (dt > worst_test) worst_test = dt;
        if (dn > worst_train) worst_train = dn;
        if (!strict) {
            reference_predict(K, N, n, Kt, M, Y, k, sz[j].lambda, ref);
            double e = rel_diff_ref(sz[j].pred_test, ref, M * k), ed = rel_diff_ref(pt, ref, M * k);
            CHECK(e <= 2e-12 && e <= 1.5 * ed + 1e-13, "n %zu: packed %.3g, dense %.3g from the reference", n, e, ed);
            if (e > worst_ref) worst_ref = e;
            if (ed > worst_dense_ref) worst_dense_ref = ed;
        }
        reused += sz[j].reused_factor;
    }
    CHECK(worst_test <= (strict ? 1e-12 : 2e-12), "test predictions vs dml_ridge_predict %.3g", worst_test);
    /* train predictions: Y - lambda alpha here against K alpha there, the same rounding */
    CHECK(worst_train <= (strict ? 1e-12 : 2e-12), "train predictions vs dml_ridge_predict %.3g", worst_train);
    /* a constant diagonal gives every size the same shift: one factorization serves all */
    if (sphere) CHECK(reused == (int)nsz - 1, "sphere inputs: %d of %zu sizes reused the factor", reused, nsz - 1);
    else CHECK(reused == 0, "gaussian inputs: no size can reuse the factor (%d did)", reused);
    printf("curve (%s inputs, flags %u, block %zu, ridge %g): vs dml_ridge_predict test %.2e, train %.2e",
           sphere ? "sphere" : "gaussian", flags, block_rows, ridge, worst_test, worst_train);
    if (!strict) printf("; vs reference packed %.2e, dense %.2e", worst_ref, worst_dense_ref);
    printf("; %d sizes reused the factor\n", reused);
    for (size_t j = 0; j < nsz; j++) {
        free(sz[j].pred_test);
        free(sz[j].pred_train);
    }
    free(x);
    free(Y);
    free(K);
    free(Kt);
    free(arf);
    free(keep);
    free(pt);
    free(pn);
    free(ref);
}

/* errors: bad sizes, a failing callback, an indefinite matrix */
static void test_curve_errors(void)
{
    size_t N = 20, k = 1;
    double *A = random_spd(N), *Y = randn(N), *Kt = randn(5 * N), pred[5 * 1];
    double *arf = malloc(sizeof *arf * dml_packed_numel(N));
    dml_packed_from_dense(arf, A, N, N);
    dml_error err = {0};
    dml_ridge_size bad[2] = {{.n = 10, .pred_test = pred}, {.n = 10, .pred_test = pred}};
    CHECK(dml_ridge_curve(arf, N, Y, k, 1e-3, bad, 2, rows_of, NULL, 5, 0, 0, &err) == -1 &&
              err.code == DML_ERR_INVALID_SPEC && !strcmp(err.field, "n_train"),
          "sizes must ascend: %s", err.message);
    dml_ridge_size big = {.n = N + 1, .pred_test = pred};
    CHECK(dml_ridge_curve(arf, N, Y, k, 1e-3, &big, 1, rows_of, NULL, 5, 0, 0, &err) == -1 &&
              err.code == DML_ERR_INVALID_SPEC, "n above N: %s", err.message);
    dml_ridge_size nowhere = {.n = N};
    CHECK(dml_ridge_curve(arf, N, Y, k, 1e-3, &nowhere, 1, rows_of, NULL, 5, 0, 0, &err) == -1 &&
              err.code == DML_ERR_INVALID_SPEC, "test predictions need an array: %s", err.message);
    dense_rows src = {.K = Kt, .cols = N, .fail_at = 2};
    dml_ridge_size one = {.n = N, .pred_test = pred};
    CHECK(dml_ridge_curve(arf, N, Y, k, 1e-3, &one, 1, rows_of, &src, 5, 2, DML_RIDGE_KEEP_GRAM, &err) == -1 &&
              err.code == DML_ERR_CANCELLED, "the callback's error passes through: %s", err.message);
    for (size_t i = 0; i < N; i++) A[i * N + i] = -1.0 - (double)i;   /* a shift of its own at each size */
    dml_packed_from_dense(arf, A, N, N);
    dml_ridge_size two[2] = {{.n = 5, .pred_test = pred}, {.n = N, .pred_test = pred}};
    CHECK(dml_ridge_curve(arf, N, Y, k, 1e-3, two, 2, rows_of, &src, 5, 0, 0, &err) == -1 &&
              err.code == DML_ERR_NUMERIC && !strcmp(err.field, "ridge") && strstr(err.message, "n_train = 5"),
          "indefinite at the first size: %s", err.message);
    free(A);
    free(Y);
    free(Kt);
    free(arf);
}

/* The memory model: the packed Gram, one factor copy, the test block, coefficients and outputs. */
static void test_memory_model(void)
{
    size_t N = 1000, M = 200, k = 2, ns[] = {250, 500, 1000};
    double b = dml_ridge_curve_bytes(N, M, k, ns, 3, 50, 0);
    double expect = 8.0 * (N * (N + 1) / 2 + 500 * 501 / 2 + 2 * (250 + 500 + 1000) + 3 * 200 * 2 + 2 * 1750 + N);
    CHECK(b == expect, "bytes %.0f, expected %.0f", b, expect);
    double keep = dml_ridge_curve_bytes(N, M, k, ns, 3, 50, DML_RIDGE_KEEP_GRAM);
    CHECK(keep == expect + 8.0 * (N * (N + 1) / 2 - 500 * 501 / 2), "keep the Gram: a copy of all of it (%.0f)", keep);
    /* issue 15's goal: fcn on full Fashion-MNIST, sizes doubling up to 60,000, 10,000 test points, 10 outputs,
     * one kernel method at a time, fits in 20 GiB (with the data and the engine's workspace to spare) */
    size_t fm[] = {1875, 3750, 7500, 15000, 30000, 60000};
    double full = dml_ridge_curve_bytes(60000, 10000, 10, fm, 6, 0, 0);
    CHECK(full < 20.0 * (1 << 30) && full > 8.0 * 60000.0 * 60001.0 / 2, "n = 60,000: %.2f GiB", full / (1 << 30));
    printf("memory model at n = 60,000 (sizes doubling), M = 10,000: %.2f GiB\n", full / (1 << 30));
    size_t one = 3000;
    CHECK(dml_ridge_curve_flops(100, 2, &one, 1) == 9e9 + 4.0 * 9e6 * 2 + 2.0 * 100 * 3000 * 2, "flops of one size");
}

int main(void)
{
    uint64_t seed[] = {15, 1};
    dml_rng_seed(&rng, seed, 2);
    test_layout();
    test_cholesky();
    test_curve(0, 0, 0, 1e-2);
    test_curve(0, DML_RIDGE_KEEP_GRAM, 17, 1e-2);
    test_curve(1, 0, 50, 1e-2);
    test_curve(1, DML_RIDGE_KEEP_GRAM, 0, 1e-4);
    test_curve(0, 0, 0, 1e-4);
    test_curve_errors();
    test_memory_model();
    return check_summary("ridge_packed");
}
