/* Kernel ridge regression by Cholesky (DESIGN section 3). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/cholesky.h"
#include "dmilab/ridge.h"

int dml_ridge_predict(const double *K, size_t ldk, size_t n, const double *Kt, size_t ldkt, size_t m,
                      const double *Y, size_t k, double ridge, double *pred_test, double *pred_train,
                      dml_error *err)
{
    if (n == 0) return dml_fail(err, DML_ERR_NUMERIC, NULL, "kernel ridge regression needs n_train >= 1");
    double trace = 0.0;
    int zero = 1;
    for (size_t i = 0; i < n; i++) {
        trace += K[i * ldk + i];
        zero &= K[i * ldk + i] == 0.0;
    }
    if (zero) {
        /* a zero training kernel (every training input maps to the zero function, e.g. inputs that standardise
         * to all zeros with b_std 0): then K_test is 0 as well, as |K(x, x')|^2 <= K(x, x) K(x', x') for a
         * kernel, and every solution predicts 0 */
        if (m) memset(pred_test, 0, sizeof *pred_test * m * k);
        if (pred_train) memset(pred_train, 0, sizeof *pred_train * n * k);
        return 0;
    }
    double *A = malloc(sizeof *A * n * n), *alpha = malloc(sizeof *alpha * n * k);
    if (!A || !alpha) {
        free(A);
        free(alpha);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a %zu x %zu solve", n, n);
    }
    for (size_t i = 0; i < n; i++) memcpy(A + i * n, K + i * ldk, sizeof *A * n);
    double lambda = ridge * trace / (double)n;
    for (size_t i = 0; i < n; i++) A[i * n + i] += lambda;
    memcpy(alpha, Y, sizeof *alpha * n * k);
    /* row-major lower in place (dmilab/cholesky.h; LAPACKE's row-major dpotrf and dpotrs would transpose copies),
     * then L L^T alpha = Y by two triangular solves */
    dml_error why = {0};
    int rc = dml_cholesky(A, n, n, DML_CHOL_ROW_MAJOR, 0, &why);
    if (rc == 0) {
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, (int)k, 1.0, A, (int)n,
                    alpha, (int)k);
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)n, (int)k, 1.0, A, (int)n,
                    alpha, (int)k);
    }
    free(A);
    if (rc != 0) {
        free(alpha);
        if (why.code != DML_ERR_NUMERIC || strstr(why.message, "NaN"))
            return dml_fail(err, why.code, NULL, "%s", why.message);
        return dml_fail(err, DML_ERR_NUMERIC, NULL, "with ridge %g * trace/n, the %s; increase ridge", ridge,
                        why.message);
    }
    if (m)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)n, 1.0, Kt, (int)ldkt, alpha,
                    (int)k, 0.0, pred_test, (int)k);
    if (pred_train)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)n, 1.0, K, (int)ldk, alpha,
                    (int)k, 0.0, pred_train, (int)k);
    free(alpha);
    return 0;
}
