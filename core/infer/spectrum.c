/* The spectral readout of a training Gram matrix (issue 13): eigenvalues by LAPACK's MRRR path with the targets
 * transformed instead of the eigenvectors, target power, kernel-target alignment, effective dimension, thinning. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/ridge_packed.h"
#include "dmilab/spectrum.h"

void dml_spectrum_free(dml_spectrum *s)
{
    if (!s) return;
    free(s->eigenvalue);
    free(s->power);
    free(s->cumulative);
    free(s->vectors);
    memset(s, 0, sizeof *s);
}

double dml_spectrum_bytes(size_t n, size_t k, int want_vectors)
{
    /* A (and Z in its place), Z apart with want_vectors, Q^T Y and its projections (n x k each), d e tau w and
     * the three outputs, isuppz, and LAPACK's own workspaces (dsytrd n * nb, dstemr 18 n + 10 n ints) */
    double nn = (double)n * (double)n;
    return (double)sizeof(double) * (nn * (want_vectors ? 2.0 : 1.0) + 2.0 * (double)n * (double)k + 128.0 * (double)n);
}

double dml_spectrum_flops(size_t n, size_t k, int want_vectors)
{
    double x = (double)n;
    return 4.0 * x * x * x / 3.0 + 6.0 * x * x * (double)k + (want_vectors ? 2.0 * x * x * x : 0.0);
}

/* A: n x n workspace holding the symmetric matrix (both triangles), destroyed. */
static int spectrum_of(double *A, size_t n, const double *Y, size_t k, int want_vectors, dml_spectrum *out,
                       dml_error *err)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->k = Y ? k : 0;
    k = out->k;
    lapack_int N = (lapack_int)n, found = 0, tryrac = 1;
    double *d = malloc(sizeof *d * n), *e = malloc(sizeof *e * n), *tau = malloc(sizeof *tau * n);
    double *w = malloc(sizeof *w * n), *W = k ? malloc(sizeof *W * n * k) : NULL;
    double *P = k ? malloc(sizeof *P * n * k) : NULL, *Z = want_vectors ? malloc(sizeof *Z * n * n) : A;
    lapack_int *isuppz = malloc(sizeof *isuppz * 2 * n);
    out->eigenvalue = malloc(sizeof(double) * n);
    if (k) {
        out->power = malloc(sizeof(double) * n);
        out->cumulative = malloc(sizeof(double) * n);
    }
    int rc = -1;
    if (!d || !e || !tau || !w || (k && (!W || !P || !out->power || !out->cumulative)) || !Z || !isuppz ||
        !out->eigenvalue) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the spectrum of a %zu x %zu kernel matrix", n, n);
        goto out;
    }
    /* A = Q T Q^T; the targets go to the tridiagonal basis (W = Q^T Y) while Q is still in A */
    lapack_int info = LAPACKE_dsytrd(LAPACK_COL_MAJOR, 'L', N, A, N, d, e, tau);
    if (info == 0 && k) {
        for (size_t c = 0; c < k; c++)
            for (size_t r = 0; r < n; r++) W[c * n + r] = Y[r * k + c];
        info = LAPACKE_dormtr(LAPACK_COL_MAJOR, 'L', 'L', 'T', N, (lapack_int)k, A, N, tau, W, N);
    }
    /* T = Z diag(w) Z^T by MRRR, ascending; Z overwrites A unless the eigenvectors are wanted */
    if (info == 0) info = LAPACKE_dstemr(LAPACK_COL_MAJOR, 'V', 'A', N, d, e, 0.0, 0.0, 0, 0, &found, w, Z, N, N,
                                         isuppz, &tryrac);
    if (info != 0 || found != N) {
        dml_fail(err, DML_ERR_NUMERIC, NULL,
                 "eigendecomposition of the %zu x %zu kernel matrix failed (LAPACK info %d%s)", n, n, (int)info,
                 info < 0 ? ": a NaN entry?" : "");
        goto out;
    }
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < n; i++) {
        double mu = w[n - 1 - i];
        out->eigenvalue[i] = mu / (double)n;
        sum += mu;
        sum2 += mu * mu;
    }
    out->trace = sum / (double)n;
    out->effective_dimension = sum2 > 0 ? sum * sum / sum2 : 0.0;
    if (k) {
        /* P = Z^T Q^T Y: column c of P holds u_i . y_c for the ascending eigenvalues */
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, N, (int)k, N, 1.0, Z, N, W, N, 0.0, P, N);
        double total = 0, yy = 0, num = 0;
        for (size_t i = 0; i < n * k; i++) total += Y[i] * Y[i];
        for (size_t a = 0; a < k; a++)   /* ||Y^T Y||_F^2 */
            for (size_t b = 0; b < k; b++) {
                double g = 0;
                for (size_t r = 0; r < n; r++) g += Y[r * k + a] * Y[r * k + b];
                yy += g * g;
            }
        double acc = 0;
        for (size_t i = 0; i < n; i++) {
            size_t col = n - 1 - i;
            double c2 = 0;
            for (size_t c = 0; c < k; c++) c2 += P[c * n + col] * P[c * n + col];
            num += w[col] * c2;
            out->power[i] = total > 0 ? c2 / total : 0.0;
            acc += out->power[i];
            out->cumulative[i] = acc;
        }
        out->target_power = total / (double)n;
        out->alignment = total > 0 && sum2 > 0 ? num / (sqrt(sum2) * sqrt(yy)) : 0.0;
    }
    if (want_vectors) {
        /* V = Q Z, then the columns in descending order: read row-major, row i is then eigenvector i */
        info = LAPACKE_dormtr(LAPACK_COL_MAJOR, 'L', 'L', 'N', N, N, A, N, tau, Z, N);
        if (info != 0) {
            dml_fail(err, DML_ERR_NUMERIC, NULL, "back-transformation of the eigenvectors failed (LAPACK info %d)",
                     (int)info);
            goto out;
        }
        for (size_t c = 0; c < n / 2; c++) {
            double *x = Z + c * n, *y = Z + (n - 1 - c) * n;
            for (size_t r = 0; r < n; r++) {
                double t = x[r];
                x[r] = y[r];
                y[r] = t;
            }
        }
        out->vectors = Z;
        Z = NULL;
    }
    rc = 0;
out:
    free(d);
    free(e);
    free(tau);
    free(w);
    free(W);
    free(P);
    free(isuppz);
    if (want_vectors) free(Z);
    if (rc) dml_spectrum_free(out);
    return rc;
}

int dml_spectrum_compute(const double *K, size_t ldk, size_t n, const double *Y, size_t k, int want_vectors,
                         dml_spectrum *out, dml_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || ldk < n)
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "a spectrum of %zu points needs a leading dimension >= n", n);
    double *A = malloc(sizeof *A * n * n);
    if (!A) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the spectrum of a %zu x %zu kernel", n, n);
    for (size_t i = 0; i < n; i++) memcpy(A + i * n, K + i * ldk, sizeof *A * n);
    int rc = spectrum_of(A, n, Y, k, want_vectors, out, err);
    free(A);
    return rc;
}

int dml_spectrum_compute_packed(const double *arf, size_t N, size_t n, const double *Y, size_t k,
                                int want_vectors, dml_spectrum *out, dml_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || n > N) return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "a spectrum of %zu of %zu points", n, N);
    double *A = malloc(sizeof *A * n * n);
    if (!A) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the spectrum of a %zu x %zu kernel", n, n);
    dml_packed_to_dense(arf, N, n, A, n);
    int rc = spectrum_of(A, n, Y, k, want_vectors, out, err);
    free(A);
    return rc;
}

/* Distinct indices from T log-spaced mode numbers 1..n (written to index when not NULL). */
static size_t thin_with(size_t n, size_t T, size_t *index)
{
    double ln = log((double)n);
    size_t c = 0, prev = 0;
    for (size_t t = 0; t < T; t++) {
        double mode = t + 1 == T ? (double)n : exp(ln * (double)t / (double)(T - 1));
        size_t i = (size_t)llround(mode);
        i = i < 1 ? 0 : (i > n ? n - 1 : i - 1);
        if (c == 0 || i > prev) {
            if (index) index[c] = i;
            prev = i;
            c++;
        }
    }
    return c;
}

size_t dml_spectrum_thin(size_t n, size_t max_points, size_t *index)
{
    if (n == 0) return 0;
    if (max_points < 2) max_points = 2;
    if (n <= max_points) {
        for (size_t i = 0; i < n; i++) index[i] = i;
        return n;
    }
    /* The first modes are closer than one index apart: their duplicates drop out, so take as many log-spaced
     * candidates as leave at most max_points distinct ones (the count grows with the candidates). */
    size_t lo = max_points, hi = max_points;
    while (thin_with(n, hi, NULL) <= max_points) {   /* ends: the count tends to n > max_points */
        lo = hi;
        hi *= 2;
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (thin_with(n, mid, NULL) <= max_points) lo = mid;
        else hi = mid;
    }
    return thin_with(n, lo, index);
}
