/* Kernel ridge regression over nested training sizes with the training Gram held once in RFP storage and the
 * test cross-kernel streamed in row blocks (issue 15; DESIGN 3); what is reused across sizes is in the header. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/ridge_packed.h"

/* relative difference of two sizes' shifts below which one factorization serves both */
#define SHIFT_REUSE 1e-13

size_t dml_ridge_block_rows(size_t N, size_t m)
{
    size_t rows = ((size_t)32 << 20) / (sizeof(double) * (N ? N : 1));
    if (rows < 8) rows = 8;
    if (rows > m) rows = m ? m : 1;
    return rows;
}

/* The largest size that needs its own factor copy if no size can reuse the largest one's factor. */
static size_t copy_order(size_t N, const size_t *n, size_t nsizes, unsigned flags)
{
    size_t nmax = n[nsizes - 1], cap = nsizes > 1 ? n[nsizes - 2] : 0;
    if ((flags & DML_RIDGE_KEEP_GRAM) || nmax < N) cap = nmax;
    return cap;
}

double dml_ridge_curve_bytes(size_t N, size_t m, size_t k, const size_t *n_train, size_t nsizes,
                             size_t block_rows, unsigned flags)
{
    if (nsizes == 0) return (double)sizeof(double) * (double)dml_packed_numel(N);
    double d = (double)sizeof(double), sum_n = 0;
    for (size_t j = 0; j < nsizes; j++) sum_n += (double)n_train[j];
    size_t nmax = n_train[nsizes - 1];
    size_t rows = m ? (block_rows ? block_rows : dml_ridge_block_rows(N, m)) : 0;
    double copy = (double)dml_packed_numel(copy_order(N, n_train, nsizes, flags));
    double block = (double)rows * (double)nmax;
    /* the factor copy is freed before the test block is allocated */
    double peak = (double)dml_packed_numel(N) + (copy > block ? copy : block);
    double coefficients = sum_n * (double)k, outputs = (double)nsizes * (double)m * (double)k + sum_n * (double)k;
    return d * (peak + coefficients + outputs + (double)N);
}

double dml_ridge_curve_flops(size_t m, size_t k, const size_t *n_train, size_t nsizes)
{
    double f = 0;
    for (size_t j = 0; j < nsizes; j++) {
        double n = (double)n_train[j];
        f += n * n * n / 3.0 + 4.0 * n * n * (double)k + 2.0 * (double)m * n * (double)k;
    }
    return f;
}

static int fail_numeric(dml_error *err, double ridge, size_t n, const dml_error *why)
{
    dml_fail(err, DML_ERR_NUMERIC, "ridge",
             "kernel matrix plus ridge %g * trace/n is not positive definite at n_train = %zu (%s); increase ridge",
             ridge, n, why->message);
    return -1;
}

/* Factor the shifted matrix in `F` (order `order`) and solve for the coefficients of the given sizes. */
static int factor_and_solve(double *F, size_t order, double lambda, double ridge, dml_ridge_size *const *which,
                            double *const *alpha, size_t count, size_t k, dml_error *err)
{
    dml_error why = {0};
    dml_packed_add_diag(F, order, lambda);
    if (dml_packed_cholesky(F, order, &why)) return fail_numeric(err, ridge, order, &why);
    for (size_t t = 0; t < count; t++) dml_packed_solve(F, order, which[t]->n, alpha[t], which[t]->n, k);
    return 0;
}

int dml_ridge_curve(double *gram, size_t N, const double *Y, size_t k, double ridge, dml_ridge_size *sizes,
                    size_t nsizes, dml_kernel_rows_fn test_rows, void *ctx, size_t m, size_t block_rows,
                    unsigned flags, dml_error *err)
{
    if (N == 0 || nsizes == 0 || k == 0 || !gram || !Y || !sizes)
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL,
                        "kernel ridge regression needs n_train >= 1, one size and one output");
    for (size_t j = 0; j < nsizes; j++)
        if (sizes[j].n == 0 || sizes[j].n > N || (j && sizes[j].n <= sizes[j - 1].n))
            return dml_fail(err, DML_ERR_INVALID_SPEC, "n_train",
                            "training sizes must ascend strictly within [1, %zu]; size %zu is %zu", N, j, sizes[j].n);
    if (m && !test_rows) return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "%zu test points need a kernel callback", m);
    for (size_t j = 0; j < nsizes && m; j++)
        if (!sizes[j].pred_test)
            return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "size %zu has no array for its %zu test predictions", j, m);
    size_t nmax = sizes[nsizes - 1].n, last = nsizes - 1, sum_n = 0;
    for (size_t j = 0; j < nsizes; j++) sum_n += sizes[j].n;

    /* lambda_n from prefix sums of the diagonal, added in the order dml_ridge_predict adds them */
    double *diag = malloc(sizeof *diag * N), *coef = malloc(sizeof *coef * sum_n * k);
    double **alpha = malloc(sizeof *alpha * nsizes);
    dml_ridge_size **which = malloc(sizeof *which * nsizes);
    double **walpha = malloc(sizeof *walpha * nsizes);
    double *tmp = NULL, *block = NULL;
    int rc = -1;
    if (!diag || !coef || !alpha || !which || !walpha) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for kernel ridge regression at n_train = %zu", nmax);
        goto out;
    }
    dml_packed_diag(gram, N, diag);
    double trace = 0.0;
    size_t off = 0;
    for (size_t j = 0, i = 0; j < nsizes; j++) {
        for (; i < sizes[j].n; i++) trace += diag[i];
        sizes[j].lambda = ridge * trace / (double)sizes[j].n;
        alpha[j] = coef + off;
        off += sizes[j].n * k;
        for (size_t c = 0; c < k; c++)
            for (size_t r = 0; r < sizes[j].n; r++) alpha[j][c * sizes[j].n + r] = Y[r * k + c];
    }
    /* A size whose shift equals the largest size's to rounding is solved with the leading block of that size's
     * factor, and so with its shift: the relative change to its solution is at most the relative change of the
     * shift (||d alpha|| / ||alpha|| <= d lambda / lambda), here 1e-13, below the solve's own rounding
     * (condition number times 1e-16). A diagonal constant up to rounding gives shifts within about 1e-14. */
    size_t cap = 0;
    double same = SHIFT_REUSE * fabs(sizes[last].lambda);
    for (size_t j = 0; j < last; j++) {
        sizes[j].reused_factor = fabs(sizes[j].lambda - sizes[last].lambda) <= same;
        if (sizes[j].reused_factor) sizes[j].lambda = sizes[last].lambda;
        else if (sizes[j].n > cap) cap = sizes[j].n;
    }
    sizes[last].reused_factor = 0;
    int in_place = nmax == N && !(flags & DML_RIDGE_KEEP_GRAM);
    if (!in_place && nmax > cap) cap = nmax;
    if (cap && !(tmp = malloc(sizeof *tmp * dml_packed_numel(cap)))) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a packed %zu x %zu Cholesky factor", cap, cap);
        goto out;
    }
    for (size_t j = 0; j < last; j++) {
        if (sizes[j].reused_factor) continue;
        dml_packed_leading(gram, N, tmp, sizes[j].n);
        dml_ridge_size *one = &sizes[j];
        if (factor_and_solve(tmp, sizes[j].n, sizes[j].lambda, ridge, &one, &alpha[j], 1, k, err)) goto out;
    }
    double *F = gram;
    if (!in_place) {
        dml_packed_leading(gram, N, tmp, nmax);
        F = tmp;
    }
    size_t count = 0;
    for (size_t j = 0; j <= last; j++)
        if (j == last || sizes[j].reused_factor) {
            which[count] = &sizes[j];
            walpha[count++] = alpha[j];
        }
    if (factor_and_solve(F, nmax, sizes[last].lambda, ridge, which, walpha, count, k, err)) goto out;
    free(tmp);
    tmp = NULL;

    /* train predictions: K_n alpha = Y_n - lambda_n alpha */
    for (size_t j = 0; j < nsizes; j++) {
        if (!sizes[j].pred_train) continue;
        size_t n = sizes[j].n;
        for (size_t r = 0; r < n; r++)
            for (size_t c = 0; c < k; c++)
                sizes[j].pred_train[r * k + c] = Y[r * k + c] - sizes[j].lambda * alpha[j][c * n + r];
    }
    /* test predictions: each block of test rows once, into every size */
    if (m) {
        size_t rows = block_rows ? block_rows : dml_ridge_block_rows(N, m);
        if (rows > m) rows = m;
        if (!(block = malloc(sizeof *block * rows * nmax))) {
            dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a %zu x %zu test kernel block", rows, nmax);
            goto out;
        }
        for (size_t r0 = 0; r0 < m; r0 += rows) {
            size_t r1 = r0 + rows < m ? r0 + rows : m;
            if (test_rows(ctx, r0, r1, nmax, block, nmax, err)) goto out;
            for (size_t j = 0; j < nsizes; j++)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)k, (int)sizes[j].n, 1.0,
                            block, (int)nmax, alpha[j], (int)sizes[j].n, 0.0, sizes[j].pred_test + r0 * k, (int)k);
        }
    }
    rc = 0;
out:
    free(diag);
    free(coef);
    free(alpha);
    free(which);
    free(walpha);
    free(tmp);
    free(block);
    return rc;
}
