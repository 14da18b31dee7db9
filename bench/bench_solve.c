/* dmilab solve benchmark (DESIGN section 7, issue 15): the Cholesky solve of kernel ridge regression, dense
 * or packed (RFP) storage by dmilab's tiled Cholesky and its two sweeps (dmilab/cholesky.h), against LAPACK's own
 * (methods dpotrf = dpotrf/dpotrs and dpftrf = dpftrf/dpftrs, from OpenBLAS), each as a fraction of
 * this machine's dgemm rate measured in the same run; and the spectrum's eigendecomposition against LAPACK's dsyevd
 * and dsyevr.
 *
 * Usage: bench_solve [--method dense|packed|dpotrf|dpftrf|spectrum|dsyevd|dsyevr] [--n N] [--k K] [--gemm-n G]
 *                    [--repeats R] [--pause-ms P]
 * The matrix is symmetric positive definite, A_ij in [-1, 1] from a hash of (min(i,j), max(i,j)) and A_ii = N, so
 * any row can be regenerated: the packed method fills its RFP array by row blocks through the same callback the
 * kernel engine would use (no dense copy), and the residual check ||A X - B||_F / (||A||_F ||X||_F) needs no
 * stored copy either. Prints one line of key=value pairs; exit status 1 when the residual exceeds 1e-12.
 * Rates: Cholesky n^3/3 + 2 n^2 k flops (factor and k right-hand sides), dgemm 2 G^3 (C = A B with G x G
 * operands). The solve runs R times, each between two dgemm runs (dgemm, solve, dgemm, solve, ..., dgemm), and
 * each solve's fraction is its rate over the mean of its two neighbours', so that a machine whose speed drifts
 * (other jobs) moves both alike; the medians over the R rounds are printed. After each dgemm the benchmark sleeps
 * P milliseconds (default 300) before the next fill and solve: OpenBLAS's worker threads spin for about 0.1 s after a
 * threaded call (its THREAD_TIMEOUT, 2^28 cycles), and a solve started in that window shares the cores with them;
 * the pause keeps the yardstick from slowing the subject (bench/README.md "Solve": the figures with --pause-ms 0). blas_core is the kernel set OpenBLAS chose for
 * this CPU (OPENBLAS_CORETYPE overrides it; bench/README.md).
 */
#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmilab/cholesky.h"
#include "dmilab/ridge_packed.h"
#include "dmilab/spectrum.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static size_t N_ORDER;

/* A_ij: splitmix64 of the unordered pair, to [-1, 1); A_ii = N (diagonally dominant, so SPD) */
static double entry(size_t i, size_t j)
{
    if (i == j) return (double)N_ORDER;
    if (i < j) {
        size_t t = i;
        i = j;
        j = t;
    }
    uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull + (uint64_t)j + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-52 - 1.0;
}

static int rows(void *ctx, size_t r0, size_t r1, size_t ncols, double *block, size_t ld, dml_error *err)
{
    (void)ctx;
    (void)err;
    for (size_t r = r0; r < r1; r++)
        for (size_t c = 0; c < ncols; c++) block[(r - r0) * ld + c] = entry(r, c);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* GFLOP/s of one C = A B on G x G operands (the operands made once) */
static double gemm_once(size_t G)
{
    static double *A, *B, *C;
    static size_t made;
    if (made != G) {
        free(A);
        free(B);
        free(C);
        A = malloc(sizeof *A * G * G);
        B = malloc(sizeof *B * G * G);
        C = malloc(sizeof *C * G * G);
        if (!A || !B || !C) return 0;
        for (size_t i = 0; i < G * G; i++) {
            A[i] = entry(i / G, i % G);
            B[i] = entry(i % G, i / G + 1);
        }
        made = G;
    }
    double t0 = now();
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)G, (int)G, (int)G, 1.0, A, (int)G, B, (int)G, 0.0, C,
                (int)G);
    return 2.0 * (double)G * (double)G * (double)G / (now() - t0) * 1e-9;
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* ||A X - B||_F / (||A||_F ||X||_F), X and B column-major n x k, rows of A regenerated */
static double residual(size_t n, size_t k, const double *X, const double *B)
{
    double *row = malloc(sizeof *row * n), r2 = 0, a2 = 0, x2 = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            row[j] = entry(i, j);
            a2 += row[j] * row[j];
        }
        for (size_t c = 0; c < k; c++) {
            double s = -B[c * n + i];
            for (size_t j = 0; j < n; j++) s += row[j] * X[c * n + j];
            r2 += s * s;
        }
    }
    for (size_t i = 0; i < n * k; i++) x2 += X[i] * X[i];
    free(row);
    return sqrt(r2) / (sqrt(a2) * sqrt(x2));
}

static int parse(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "bench_solve: %s: expected an integer in [%ld, %ld], got '%s'\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: bench_solve [--method dense|packed|dpotrf|dpftrf|spectrum|dsyevd|dsyevr] [--n N] [--k K]\n"
               "                   [--gemm-n G] [--repeats R] [--pause-ms P]\n"
               "Defaults: packed, N 4000, K 10 right-hand sides (outputs), G 4000 (0: no dgemm), R 3 solve rounds\n"
               "(each between two dgemm runs; the spectrum methods run once), P 300 ms of sleep after each dgemm.\n");
    return rc;
}

int main(int argc, char **argv)
{
    const char *method = "packed";
    long n = 4000, k = 10, G = 4000, R = 3, pause = 300;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout, 0);
        if (i + 1 >= argc) return usage(stderr, 2);
        const char *o = argv[i], *v = argv[++i];
        if (!strcmp(o, "--method")) method = v;
        else if ((!strcmp(o, "--n") && parse(o, v, 1, 100000, &n)) || (!strcmp(o, "--k") && parse(o, v, 1, 1000, &k)) ||
                 (!strcmp(o, "--gemm-n") && parse(o, v, 0, 20000, &G)) ||
                 (!strcmp(o, "--repeats") && parse(o, v, 1, 15, &R)) ||
                 (!strcmp(o, "--pause-ms") && parse(o, v, 0, 10000, &pause)))
            return 2;
        else if (strcmp(o, "--n") && strcmp(o, "--k") && strcmp(o, "--gemm-n") && strcmp(o, "--repeats") &&
                 strcmp(o, "--pause-ms"))
            return usage(stderr, 2);
    }
    N_ORDER = (size_t)n;
    size_t N = (size_t)n, K = (size_t)k;
    double *B = malloc(sizeof *B * N * K), *X = malloc(sizeof *X * N * K);
    if (!B || !X) return fprintf(stderr, "bench_solve: out of memory\n"), 2;
    for (size_t i = 0; i < N * K; i++) B[i] = entry(i, N + 7);
    double fill = 0, t = 0, gemm = 0, frac[16], rate[16], gemms[17], secs[16];
    dml_error err = {0};
    /* dense storage: dense (dmilab) and dpotrf (LAPACK); RFP: packed (dmilab) and dpftrf (LAPACK) */
    int ours = !strcmp(method, "dense") || !strcmp(method, "packed");
    int dense = !strcmp(method, "dense") || !strcmp(method, "dpotrf");
    if (dense || !strcmp(method, "packed") || !strcmp(method, "dpftrf")) {
        double *A = dense ? malloc(sizeof *A * N * N) : malloc(sizeof *A * dml_packed_numel(N));
        if (!A) return fprintf(stderr, "bench_solve: out of memory for the %zu x %zu matrix\n", N, N), 2;
        double flops = (double)N * (double)N * (double)N / 3.0 + 2.0 * (double)N * (double)N * (double)K;
        gemms[0] = G ? gemm_once((size_t)G) : 0;
        for (int r = 0; r < R; r++) {
            if (pause) usleep((useconds_t)pause * 1000);
            memcpy(X, B, sizeof *X * N * K);
            double t0 = now();
            if (dense) {
                for (size_t i = 0; i < N; i++)
                    for (size_t j = 0; j < N; j++) A[i * N + j] = entry(i, j);
            } else if (dml_packed_fill(A, N, rows, NULL, 0, NULL, &err)) {
                return fprintf(stderr, "%s\n", err.message), 2;
            }
            fill = now() - t0;
            t0 = now();
            lapack_int info = 0;
            if (ours) {
                if (dense ? dml_cholesky(A, N, N, DML_CHOL_COL_MAJOR, 0, &err) : dml_packed_cholesky(A, N, &err))
                    return fprintf(stderr, "bench_solve: %s\n", err.message), 2;
                if (dense) dml_cholesky_solve(A, N, N, DML_CHOL_COL_MAJOR, N, X, N, K);
                else dml_packed_solve(A, N, N, X, N, K);
            } else if (dense) {
                info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)N, A, (lapack_int)N);
                if (!info) info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)N, (lapack_int)K, A, (lapack_int)N,
                                                 X, (lapack_int)N);
            } else {
                info = LAPACKE_dpftrf(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)N, A);
                if (!info) info = LAPACKE_dpftrs(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)N, (lapack_int)K, A, X,
                                                 (lapack_int)N);
            }
            if (info) return fprintf(stderr, "bench_solve: LAPACK info %d\n", (int)info), 2;
            secs[r] = now() - t0;
            rate[r] = flops / secs[r] * 1e-9;
            gemms[r + 1] = G ? gemm_once((size_t)G) : 0;
            frac[r] = G ? rate[r] / (0.5 * (gemms[r] + gemms[r + 1])) : 0;
        }
        free(A);
        double fr = median(frac, (int)R), ra = median(rate, (int)R);
        t = median(secs, (int)R);
        gemm = median(gemms, (int)R + 1);
        double res = residual(N, K, X, B);
        printf("method=%s n=%zu k=%zu rounds=%ld fill_seconds=%.3f solve_seconds=%.3f solve_gflops=%.2f dgemm_n=%ld "
               "dgemm_gflops=%.2f fraction=%.3f residual=%.2e pause_ms=%ld threads=%d blas_core=%s\n",
               method, N, K, R, fill, t, ra, G, gemm, fr, res, pause, openblas_get_num_threads(), openblas_get_corename());
        free(B);
        free(X);
        return res <= 1e-12 ? 0 : 1;
    } else if (!strcmp(method, "spectrum") || !strcmp(method, "dsyevd") || !strcmp(method, "dsyevr")) {
        /* eigenvalues and the targets' projections on every eigenvector, as the spectral readout needs them */
        double *A = malloc(sizeof *A * N * N), *Y = malloc(sizeof *Y * N * K);
        if (!A || !Y) return fprintf(stderr, "bench_solve: out of memory for %zu^2 doubles\n", N), 2;
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) A[i * N + j] = entry(i, j);
        for (size_t i = 0; i < N * K; i++) Y[i] = B[i];
        double t0 = now(), first = 0;
        if (!strcmp(method, "spectrum")) {
            dml_spectrum s;
            if (dml_spectrum_compute(A, N, N, Y, K, 0, &s, &err)) return fprintf(stderr, "%s\n", err.message), 2;
            t = now() - t0;
            first = s.eigenvalue[0] * (double)N;
            dml_spectrum_free(&s);
        } else {
            double *w = malloc(sizeof *w * N), *P = malloc(sizeof *P * N * K), *Z = NULL;
            lapack_int info, found;
            if (!strcmp(method, "dsyevd")) {
                info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)N, A, (lapack_int)N, w);
                Z = A;
            } else {
                Z = malloc(sizeof *Z * N * N);
                lapack_int *sup = malloc(sizeof *sup * 2 * N);
                info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', 'A', 'L', (lapack_int)N, A, (lapack_int)N, 0, 0, 0, 0, 0,
                                      &found, w, Z, (lapack_int)N, sup);
                free(sup);
            }
            if (info) return fprintf(stderr, "bench_solve: LAPACK info %d\n", (int)info), 2;
            /* Y is row-major N x K: as column-major it is K x N (Y^T); P = Z^T Y */
            cblas_dgemm(CblasColMajor, CblasTrans, CblasTrans, (int)N, (int)K, (int)N, 1.0, Z, (int)N, Y, (int)K, 0.0,
                        P, (int)N);
            t = now() - t0;
            first = w[N - 1];
            if (Z != A) free(Z);
            free(w);
            free(P);
        }
        printf("method=%s n=%zu k=%zu seconds=%.3f largest_eigenvalue=%.12e threads=%d blas_core=%s\n", method, N, K, t,
               first, openblas_get_num_threads(), openblas_get_corename());
        free(A);
        free(Y);
        free(B);
        free(X);
        return 0;
    }
    return usage(stderr, 2);
}
