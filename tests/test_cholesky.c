/* The tiled Cholesky (dmilab/cholesky.h) against LAPACK: its triangular-solve kernel against cblas_dtrsm, the
 * factor in the three storages against dpotrf on random SPD matrices across tile boundaries and thread counts (and
 * the same bits whatever the thread count), the failing minor and NaN reports against dpotrf's info, and the solves
 * of leading blocks against dpotrf/dpotrs on those blocks; then RFP through LAPACK's dpftrf, which dml_cholesky
 * calls from DML_CHOLESKY_RFP_LAPACK_FROM on (lowered here to 600). */
#include <cblas.h>
#include <lapacke.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/blas_cpu.h"
#include "dmilab/cholesky.h"
#include "dmilab/ridge_packed.h"
#include "dmilab/rng.h"
#include "../core/infer/cholesky_tiles.h"
#include "check.h"

static dml_rng rng;

/* column-major n x n SPD matrix, both triangles: G G^T / n + 0.05 I (condition number about 100) */
static double *random_spd(size_t n)
{
    double *G = malloc(sizeof *G * n * n), *A = malloc(sizeof *A * n * n);
    for (size_t i = 0; i < n * n; i++) G[i] = dml_rng_normal(&rng);
    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, (int)n, (int)n, 1.0 / (double)n, G, (int)n, 0.0, A, (int)n);
    for (size_t j = 0; j < n; j++) {
        A[j + j * n] += 0.05;
        for (size_t i = j + 1; i < n; i++) A[j + i * n] = A[i + j * n];
    }
    free(G);
    return A;
}

/* A (column-major, both triangles) in storage s, with leading dimension lda (dense) */
static double *store(const double *A, size_t n, dml_chol_storage s, size_t lda)
{
    if (s == DML_CHOL_RFP) {
        double *arf = malloc(sizeof *arf * dml_packed_numel(n));
        LAPACKE_dtrttf_work(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)n, A, (lapack_int)n, arf); /* no NaN check */
        return arf;
    }
    double *a = malloc(sizeof *a * lda * n);
    for (size_t i = 0; i < lda * n; i++) a[i] = -7.0; /* padding and the upper triangle: must stay as they are */
    for (size_t j = 0; j < n; j++)
        for (size_t i = j; i < n; i++) {
            if (s == DML_CHOL_COL_MAJOR)
                a[i + j * lda] = A[i + j * n];
            else
                a[i * lda + j] = A[i + j * n];
        }
    return a;
}

/* L(i, j), i >= j, from the factor in storage s */
static double get(const double *a, size_t n, dml_chol_storage s, size_t lda, size_t i, size_t j)
{
    if (s == DML_CHOL_RFP) return dml_packed_get(a, n, i, j);
    return s == DML_CHOL_COL_MAJOR ? a[i + j * lda] : a[i * lda + j];
}

static size_t numel(size_t n, dml_chol_storage s, size_t lda)
{
    return s == DML_CHOL_RFP ? dml_packed_numel(n) : lda * n;
}

static const char *name(dml_chol_storage s)
{
    return s == DML_CHOL_RFP ? "rfp" : s == DML_CHOL_COL_MAJOR ? "col-major" : "row-major";
}

/* B := B L^-T by the kernel, on both layouts of L and B with padded leading dimensions, against cblas_dtrsm */
static void test_trsm_kernel(void)
{
    const size_t ms[] = {1, 5, 16, 17, 33, 100, 301}, ws[] = {1, 2, 7, 8, 9, 16, 31, 64, 100, 256};
    double worst = 0;
    for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
        for (size_t b = 0; b < sizeof ws / sizeof *ws; b++)
            for (int lt = 0; lt < 2; lt++)
                for (int bt = 0; bt < 2; bt++) {
                    size_t m = ms[a], w = ws[b], ldl = w + 3, ldb = (bt ? w : m) + 5;
                    double *L = malloc(sizeof *L * ldl * w), *Lc = calloc(w * w, sizeof *Lc);
                    double *B = malloc(sizeof *B * ldb * (bt ? m : w)), *R = malloc(sizeof *R * m * w);
                    for (size_t i = 0; i < ldl * w; i++) L[i] = 1e300; /* the strict upper part is never read */
                    for (size_t j = 0; j < w; j++)
                        for (size_t i = j; i < w; i++) {
                            double v = i == j ? 1.0 + dml_rng_uniform(&rng) : dml_rng_normal(&rng) / (double)w;
                            Lc[i + j * w] = v;
                            L[lt ? j + i * ldl : i + j * ldl] = v;
                        }
                    for (size_t i = 0; i < ldb * (bt ? m : w); i++) B[i] = dml_rng_normal(&rng);
                    for (size_t j = 0; j < w; j++)
                        for (size_t i = 0; i < m; i++) R[i + j * m] = bt ? B[j + i * ldb] : B[i + j * ldb];
                    cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)m, (int)w, 1.0,
                                Lc, (int)w, R, (int)m);
                    double *work = malloc(sizeof *work * dml_trsm_rlt_work(w));
                    double pad = B[bt ? w : m]; /* an entry of the padding between rows / columns */
                    dml_trsm_rlt(m, w, (dml_tile){L, ldl, lt}, (dml_tile){B, ldb, bt}, work);
                    double d = 0, s = 0;
                    for (size_t j = 0; j < w; j++)
                        for (size_t i = 0; i < m; i++) {
                            double x = bt ? B[j + i * ldb] : B[i + j * ldb];
                            d = fmax(d, fabs(x - R[i + j * m]));
                            s = fmax(s, fabs(R[i + j * m]));
                        }
                    CHECK(B[bt ? w : m] == pad, "trsm kernel m %zu w %zu wrote into the padding", m, w);
                    worst = fmax(worst, d / s);
                    CHECK(d <= 1e-13 * s, "trsm kernel m %zu w %zu L%s B%s: max diff %.3g of %.3g", m, w,
                          lt ? "^T" : "", bt ? "^T" : "", d, s);
                    free(L);
                    free(Lc);
                    free(B);
                    free(R);
                    free(work);
                }
    printf("trsm kernel vs cblas_dtrsm: worst max-norm relative difference %.2e\n", worst);
}

/* the factor against dpotrf, in every storage and on 1, 2 and 3 threads (bit-identical among them) */
static void test_factor(void)
{
    const size_t ns[] = {1, 2, 3, 8, 255, 256, 257, 511, 512, 513, 700, 1031};
    const dml_chol_storage st[] = {DML_CHOL_COL_MAJOR, DML_CHOL_ROW_MAJOR, DML_CHOL_RFP};
    double worst = 0, worst_res = 0;
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++) {
        size_t n = ns[a];
        double *A = random_spd(n), *L = malloc(sizeof *L * n * n);
        memcpy(L, A, sizeof *L * n * n);
        CHECK(LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n) == 0, "dpotrf n %zu", n);
        double lmax = 0;
        for (size_t i = 0; i < n * n; i++) lmax = fmax(lmax, fabs(L[i]));
        for (size_t s = 0; s < 3; s++) {
            size_t lda = n + 3 * (s != 2);
            double *first = NULL;
            for (int threads = 1; threads <= 3; threads++) {
                double *a = store(A, n, st[s], lda);
                dml_error err = {0};
                CHECK(dml_cholesky(a, n, lda, st[s], threads, &err) == 0, "n %zu %s: %s", n, name(st[s]), err.message);
                double d = 0;
                for (size_t j = 0; j < n; j++)
                    for (size_t i = j; i < n; i++) d = fmax(d, fabs(get(a, n, st[s], lda, i, j) - L[i + j * n]));
                worst = fmax(worst, d / lmax);
                CHECK(d <= 1e-12 * lmax, "n %zu %s threads %d: max |L - L_dpotrf| %.3g (max |L| %.3g)", n, name(st[s]),
                      threads, d, lmax);
                if (st[s] != DML_CHOL_RFP) { /* the strict upper triangle and the padding are untouched */
                    int same = 1;
                    for (size_t j = 0; j < n; j++) /* column j of column-major, row j of row-major storage */
                        for (size_t i = 0; i < lda; i++) {
                            int lower_part = st[s] == DML_CHOL_COL_MAJOR ? i < n && i >= j : i <= j;
                            if (!lower_part) same &= a[i + j * lda] == -7.0;
                        }
                    CHECK(same, "n %zu %s: wrote outside the lower triangle", n, name(st[s]));
                }
                if (threads == 3 && n == 1031) { /* backward error ||A - L L^T||_F / ||A||_F */
                    double r = 0, an = 0;
                    for (size_t j = 0; j < n; j += 7)
                        for (size_t i = j; i < n; i++) {
                            double sum = 0;
                            for (size_t q = 0; q <= j; q++)
                                sum += get(a, n, st[s], lda, i, q) * get(a, n, st[s], lda, j, q);
                            r += (sum - A[i + j * n]) * (sum - A[i + j * n]);
                            an += A[i + j * n] * A[i + j * n];
                        }
                    worst_res = fmax(worst_res, sqrt(r / an));
                    CHECK(sqrt(r / an) <= 1e-14, "n %zu %s: backward error %.3g", n, name(st[s]), sqrt(r / an));
                }
                if (!first) {
                    first = a;
                } else {
                    CHECK(!memcmp(first, a, sizeof *a * numel(n, st[s], lda)), "n %zu %s: %d threads differ from 1", n,
                          name(st[s]), threads);
                    free(a);
                }
            }
            free(first);
        }
        free(A);
        free(L);
    }
    printf("factor vs dpotrf: worst max |L - L_dpotrf| / max |L| %.2e, backward error at n 1031 %.2e\n", worst,
           worst_res);
}

/* a matrix that is not positive definite at a chosen minor, and one with a NaN: the same minor as dpotrf's info */
static void test_failures(void)
{
    const size_t n = 700, bad[] = {0, 1, 255, 256, 349, 350, 351, 699};
    const dml_chol_storage st[] = {DML_CHOL_COL_MAJOR, DML_CHOL_ROW_MAJOR, DML_CHOL_RFP};
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        double *A = random_spd(n);
        A[bad[b] + bad[b] * n] = -1.0;
        double *L = malloc(sizeof *L * n * n);
        memcpy(L, A, sizeof *L * n * n);
        lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n);
        CHECK(info == (lapack_int)bad[b] + 1, "dpotrf info %d for a negative pivot at %zu", (int)info, bad[b]);
        char want[64];
        snprintf(want, sizeof want, "order %d is not", (int)info);
        for (size_t s = 0; s < 3; s++) {
            double *a = store(A, n, st[s], n);
            dml_error err = {0};
            int rc = dml_cholesky(a, n, n, st[s], 2, &err);
            CHECK(rc == -1 && err.code == DML_ERR_NUMERIC && strstr(err.message, want), "%s, bad %zu: rc %d, '%s'",
                  name(st[s]), bad[b], rc, err.message);
            free(a);
        }
        free(A);
        free(L);
    }
    const size_t where[][2] = {{600, 10}, {5, 5}, {699, 698}, {400, 399}};
    for (size_t w = 0; w < 4; w++) {
        double *A = random_spd(n);
        A[where[w][0] + where[w][1] * n] = A[where[w][1] + where[w][0] * n] = NAN;
        for (size_t s = 0; s < 3; s++) {
            double *a = store(A, n, st[s], n);
            dml_error err = {0};
            int rc = dml_cholesky(a, n, n, st[s], 2, &err);
            CHECK(rc == -1 && err.code == DML_ERR_NUMERIC && strstr(err.message, "NaN"), "%s, NaN at (%zu, %zu): '%s'",
                  name(st[s]), where[w][0], where[w][1], err.message);
            free(a);
        }
        free(A);
    }
}

/* leading-block solves with one factor against dpotrf/dpotrs on the block itself */
static void test_solve(void)
{
    const size_t N = 777, k = 3, ns[] = {1, 100, 256, 388, 389, 390, 600, 777};
    const dml_chol_storage st[] = {DML_CHOL_COL_MAJOR, DML_CHOL_ROW_MAJOR, DML_CHOL_RFP};
    double *A = random_spd(N), worst = 0;
    for (size_t s = 0; s < 3; s++) {
        double *a = store(A, N, st[s], N + 1);
        dml_error err = {0};
        CHECK(dml_cholesky(a, N, N + 1, st[s], 2, &err) == 0, "%s: %s", name(st[s]), err.message);
        for (size_t q = 0; q < sizeof ns / sizeof *ns; q++) {
            size_t n = ns[q], ldb = n + 2;
            double *An = malloc(sizeof *An * n * n), *B = malloc(sizeof *B * ldb * k), *X = malloc(sizeof *X * n * k);
            for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i < n; i++) An[i + j * n] = A[i + j * N];
            for (size_t i = 0; i < ldb * k; i++) B[i] = dml_rng_normal(&rng);
            for (size_t c = 0; c < k; c++) memcpy(X + c * n, B + c * ldb, sizeof *X * n);
            LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, An, (lapack_int)n);
            LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)n, (lapack_int)k, An, (lapack_int)n, X, (lapack_int)n);
            double pad = B[n];
            dml_cholesky_solve(a, N, N + 1, st[s], n, B, ldb, k);
            double d = 0, m = 0;
            for (size_t c = 0; c < k; c++)
                for (size_t i = 0; i < n; i++) {
                    d = fmax(d, fabs(B[i + c * ldb] - X[i + c * n]));
                    m = fmax(m, fabs(X[i + c * n]));
                }
            worst = fmax(worst, d / m);
            CHECK(d <= 1e-12 * m && B[n] == pad, "%s: solve of the leading %zu: max diff %.3g of %.3g", name(st[s]), n,
                  d, m);
            free(An);
            free(B);
            free(X);
        }
        free(a);
    }
    free(A);
    printf("leading-block solves vs dpotrs: worst relative max difference %.2e\n", worst);
}

/* single-threaded BLAS sections nest and restore the count the first found, and a factorization leaves it as it was */
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);
static void test_blas_sections(void)
{
    openblas_set_num_threads(2);
    int before = openblas_get_num_threads();
    dml_blas_single_begin();
    dml_blas_single_begin();
    CHECK(openblas_get_num_threads() == 1 && dml_blas_threads() == before,
          "inside two sections: %d threads, %d outside", openblas_get_num_threads(), dml_blas_threads());
    dml_blas_single_end();
    CHECK(openblas_get_num_threads() == 1, "one section still open: %d threads", openblas_get_num_threads());
    dml_blas_single_end();
    CHECK(openblas_get_num_threads() == before, "after both: %d threads, want %d", openblas_get_num_threads(), before);
    double *A = random_spd(300);
    dml_error err = {0};
    CHECK(dml_cholesky(A, 300, 300, DML_CHOL_COL_MAJOR, 0, &err) == 0 && openblas_get_num_threads() == before,
          "after a factorization: %d threads, want %d", openblas_get_num_threads(), before);
    free(A);
}

int main(void)
{
    const uint64_t seed = 20261202;
    dml_rng_seed(&rng, &seed, 1);
    test_blas_sections();
    test_trsm_kernel();
    test_factor();
    test_failures();
    test_solve();
    /* RFP orders from dml_cholesky_rfp_lapack_from on go to LAPACK's dpftrf: the same checks on that path */
    dml_cholesky_rfp_lapack_from = 600;
    test_factor();
    test_failures();
    test_solve();
    printf("cholesky: %d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
