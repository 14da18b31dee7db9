/* dmilab: kernel ridge regression (the infinite-width inference of NNGP and NTK). */
#ifndef DMILAB_RIDGE_H
#define DMILAB_RIDGE_H

#include <stddef.h>
#include "dmilab/error.h"

/** Kernel ridge regression by Cholesky (LAPACK dpotrf/dpotrs).
 *  Solves (K + lambda I) A = Y with lambda = ridge * trace(K)/n (DESIGN section 3), then
 *  pred_test = K_test A and, when pred_train is not NULL, pred_train = K A.
 *
 *  K:      the leading n x n block of a row-major matrix with leading dimension ldk (>= n);
 *          only read, never modified.
 *  Kt:     m x n test-train kernel, row-major with leading dimension ldkt (>= n); may be NULL if m == 0.
 *  Y:      n x k targets, row-major (leading dimension k).
 *  pred_test: m x k output, row-major. pred_train: n x k output or NULL.
 *  A zero training kernel (every diagonal entry 0, hence every entry) gives the zero predictor:
 *  pred_test = 0 and pred_train = 0, the prediction of every solution (K_test is 0 too), instead of a failed
 *  factorization that no ridge could fix.
 *  Returns 0, or -1 with DML_ERR_NUMERIC when K + lambda I is not positive definite. */
int dml_ridge_predict(const double *K, size_t ldk, size_t n,
                      const double *Kt, size_t ldkt, size_t m,
                      const double *Y, size_t k, double ridge,
                      double *pred_test, double *pred_train, dml_error *err);

#endif
