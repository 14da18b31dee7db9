/* dmilab: the Cholesky factorization of kernel ridge regression (DESIGN 7, issue 15), as tiles on a pool of threads.
 *
 * A = L L^T of a symmetric positive definite order-n matrix, in place, for the three storages dmilab solves in:
 * column-major lower (LAPACK's dpotrf 'L'), row-major lower (dpotrf 'U' on the same memory) and rectangular full
 * packed (LAPACK's RFP, TRANSR 'N', UPLO 'L': dpftrf; dmilab/ridge_packed.h). The matrix is cut into column blocks
 * of about DML_CHOLESKY_NB columns, and each thread takes the next ready task of a right-looking blocked Cholesky:
 * factor a column block (LAPACK dpotrf on its diagonal tile, then the triangular solve of the rows below it by
 * dml's own kernel), or apply one factored block to a later column block (dsyrk on the diagonal tile, dgemm below
 * it). Each task runs single-threaded BLAS, the most urgent ready task goes first (the leftmost column block), so the
 * next block is factored while the other threads still update the rest (look-ahead, as in PLASMA: Buttari et al.,
 * "A class of parallel tiled linear algebra algorithms for multicore architectures", Parallel Computing 35, 2009).
 *
 * Why not LAPACK's own: on this project's 2-core machine OpenBLAS 0.3.21's dpotrf and dpftrf reach 0.6-0.67 of
 * its dgemm rate at n = 4,000 (fork-join at every block, and its dtrsm runs at a third of dgemm's rate on a tall
 * panel); bench/README.md "Solve" has the side-by-side measurements.
 *
 * Same bits whatever the thread count (tiled orders): every update of a column block is applied in the same order
 * (block 0, 1, ...) by the same single-threaded calls, so the factor does not depend on how tasks were scheduled.
 * It differs from LAPACK's in the last bits (a different blocking); tests/test_cholesky.c bounds both against each
 * other. */
#ifndef DMILAB_CHOLESKY_H
#define DMILAB_CHOLESKY_H

#include <stddef.h>
#include "dmilab/error.h"

/** Columns per block (tile width); the last block of each half of an RFP matrix may be narrower. */
#define DML_CHOLESKY_NB 256

/** From this order on, RFP storage is factored by LAPACK's dpftrf instead (on OpenBLAS's threads): there the tiles'
 *  column updates of the transposed trailing half, dgemm calls with one block's rows of output, fall behind
 *  OpenBLAS's large dsyrk and dtrsm (measured, bench/README.md "The tiled Cholesky": 1.09x dpftrf's speed at
 *  8,000, 0.93x at 16,000, 0.90x at 20,000, as fractions of dgemm). Dense storage is tiled at every order (as fast
 *  as dpotrf at 20,000). */
#define DML_CHOLESKY_RFP_LAPACK_FROM 12000

/** Storage of the order-n symmetric matrix handed to dml_cholesky. */
typedef enum {
    DML_CHOL_COL_MAJOR, /**< lower triangle, column-major, A(i, j) = a[i + j * lda] for i >= j */
    DML_CHOL_ROW_MAJOR, /**< lower triangle, row-major, A(i, j) = a[i * lda + j] for i >= j */
    DML_CHOL_RFP,       /**< RFP, TRANSR 'N', UPLO 'L' (dml_packed_get documents the mapping); lda is ignored */
} dml_chol_storage;

/** Factor A = L L^T in place: L overwrites the lower triangle (for RFP, the same RFP layout, as dpftrf leaves
 *  it). The strict upper triangle of the dense storages is neither read nor written. `threads` <= 0 means
 *  OpenBLAS's thread count (dml_blas_threads); OpenBLAS runs single-threaded for the duration (a section of
 *  dml_blas_single_begin/end, dmilab/blas_cpu.h: its thread count is process-wide). RFP orders from
 *  DML_CHOLESKY_RFP_LAPACK_FROM on go to LAPACK's dpftrf on OpenBLAS's threads (`threads` unused).
 *  Cost n^3/3 flops.
 *  Returns 0, or -1 with `err`: DML_ERR_NUMERIC when A is not positive definite (the message names the order of
 *  the first leading minor that is not, as LAPACK's info does) or holds a NaN, DML_ERR_NOMEM. */
int dml_cholesky(double *a, size_t n, size_t lda, dml_chol_storage storage, int threads, dml_error *err);

/** Solve A_n X = B for the leading n x n block A_n of the order-N matrix (n <= N) whose factor L dml_cholesky left
 *  in `l` (same N, lda and storage): L_n L_n^T X = B, as L_n, the leading block of L, is A_n's Cholesky factor.
 *  B: n x k, column-major with leading dimension ldb >= n (column j is right-hand side j), overwritten by X.
 *  A forward and a backward sweep, each reading the factor's leading block once; single-threaded BLAS (the sweeps
 *  are bound by memory bandwidth for a few right-hand sides). Cost 2 n^2 k flops. */
void dml_cholesky_solve(const double *l, size_t N, size_t lda, dml_chol_storage storage, size_t n, double *B,
                        size_t ldb, size_t k);

#endif
