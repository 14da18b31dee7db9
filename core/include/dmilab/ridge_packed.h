/* dmilab: memory-lean kernel ridge regression (issue 15): the training Gram stored once in LAPACK's rectangular
 * full packed format and factored at level-3 speed, the test cross-kernel streamed in row blocks, and learning
 * curves over nested training sizes that reuse what the mathematics allows. */
#ifndef DMILAB_RIDGE_PACKED_H
#define DMILAB_RIDGE_PACKED_H

#include <stddef.h>
#include "dmilab/error.h"

/* ---- symmetric matrices in rectangular full packed (RFP) storage ----
 * An order-n symmetric matrix A is held as its lower triangle in n(n+1)/2 doubles, LAPACK's RFP format with
 * TRANSR = 'N', UPLO = 'L' in column-major terms (LAPACK Working Note 199, Gustavson et al. 2010; routines
 * dtrttf, dpftrf, dpftrs). Let n1 = ceil(n/2). Columns 0..n1-1 of the lower triangle are stored as columns of a
 * column-major array with leading dimension n+1 (n even; starting one element in) or n (n odd); the trailing
 * n-n1 by n-n1 lower triangle is stored transposed in the space left above them. dml_packed_get documents the
 * element mapping. Because A is symmetric, a row-major caller may read "lower" as its own lower triangle. */

/** Doubles of an order-n RFP array: n(n+1)/2. */
size_t dml_packed_numel(size_t n);

/** Callback producing rows [r0, r1) and columns [0, ncols) of a kernel matrix into `block`, row-major with
 *  leading dimension ld >= ncols: block[(r - r0) * ld + c] = K(r, c). Returns 0, or -1 with `err` set (for
 *  example DML_ERR_CANCELLED, which the caller passes on) to stop. This is how the kernel engine hands over
 *  tiles computed on demand: a Gram matrix is asked for rows [r0, r1) with ncols = r1 (its lower triangle and
 *  diagonal block; entries right of the diagonal are not read), a test cross-kernel for all training columns. */
typedef int (*dml_kernel_rows_fn)(void *ctx, size_t r0, size_t r1, size_t ncols, double *block, size_t ld,
                                  dml_error *err);

/** Element (i, j) of the order-n RFP array `arf` (either triangle: A is symmetric), i, j < n. With
 *  n1 = ceil(n/2) and i >= j: for j < n1 it is arf[o1 + i + j * ld], otherwise arf[o2 + (j - n1) + (i - n1) * ld],
 *  where (ld, o1, o2) = (n + 1, 1, 0) for even n and (n, 0, n) for odd n. */
double dml_packed_get(const double *arf, size_t n, size_t i, size_t j);

/** Store the lower triangle of rows [r0, r1) of an order-n symmetric matrix: block[(r - r0) * ld + c] = A(r, c)
 *  for r0 <= r < r1 <= n and c <= r (row-major, ld >= r1; entries with c > r are not read). */
void dml_packed_set_rows(double *arf, size_t n, size_t r0, size_t r1, const double *block, size_t ld);

/** Fill the order-n RFP array `arf` by asking `rows` for row blocks of at most `block_rows` rows (0: 256), each
 *  with ncols = r1 (so each block covers the lower triangle). `work` holds block_rows * n doubles, or is NULL
 *  (then allocated and freed here). Returns 0, or -1 with the callback's error or DML_ERR_NOMEM. */
int dml_packed_fill(double *arf, size_t n, dml_kernel_rows_fn rows, void *ctx, size_t block_rows, double *work,
                    dml_error *err);

/** The leading n x n block of a row-major symmetric matrix K (leading dimension ldk >= n) into the order-n RFP
 *  array `arf` (LAPACK dtrttf). K must hold both triangles, as dml_kernel writes them: dtrttf reads one. */
void dml_packed_from_dense(double *arf, const double *K, size_t ldk, size_t n);

/** The leading n x n block (n <= N) of the order-N RFP array `src` as a full symmetric row-major matrix
 *  K (both triangles written, leading dimension ldk >= n). */
void dml_packed_to_dense(const double *src, size_t N, size_t n, double *K, size_t ldk);

/** The leading n x n block (n <= N) of the order-N RFP array `src` as the order-n RFP array `dst` (distinct
 *  arrays): the Gram of the first n points, from the Gram of all N. */
void dml_packed_leading(const double *src, size_t N, double *dst, size_t n);

/** diag[0..n) = the diagonal of the order-n RFP array. */
void dml_packed_diag(const double *arf, size_t n, double *diag);

/** Add `shift` to every diagonal entry of the order-n RFP array. */
void dml_packed_add_diag(double *arf, size_t n, double shift);

/** The largest order LAPACK's 32-bit integers can index in RFP storage: n(n+1)/2 < 2^31. */
#define DML_PACKED_MAX_ORDER 65535

/** Cholesky factorization A = L L^T in place, in the layout LAPACK's dpftrf leaves: dmilab's tiled factorization
 *  on OpenBLAS's thread count (dml_cholesky with DML_CHOL_RFP, dmilab/cholesky.h).
 *  Returns 0, or -1 with DML_ERR_NUMERIC when A is not positive definite (the message gives the order of the
 *  failing leading minor), DML_ERR_LIMIT when n > DML_PACKED_MAX_ORDER. */
int dml_packed_cholesky(double *arf, size_t n, dml_error *err);

/** Solve L_n L_n^T X = B, where L is the Cholesky factor of an order-N matrix A in RFP storage (from
 *  dml_packed_cholesky) and L_n its leading n x n block (n <= N), which is the Cholesky factor of the leading
 *  block A_n of A: one factorization serves every prefix of the same shifted matrix (dml_cholesky_solve).
 *  B: n x k, column-major with leading dimension ldb >= n (column j is right-hand side j), overwritten by X. */
void dml_packed_solve(const double *factor, size_t N, size_t n, double *B, size_t ldb, size_t k);

/* ---- kernel ridge regression over nested training sizes ----
 * DESIGN 3: the ridge of size n is lambda_n = ridge * trace(K_n)/n added to the diagonal of the n x n Gram
 * K_n of the first n training points; alpha_n = (K_n + lambda_n I)^-1 Y_n, pred_test = K_test[:, :n] alpha_n.
 *
 * What one may reuse across sizes, and what this does:
 * - The Gram of the first n points is the leading n x n block of the Gram of all N: the kernel of the largest
 *   size serves every size (exact). Likewise the first n columns of the test cross-kernel: each block of test
 *   rows is produced once and multiplied into the predictions of every size (exact).
 * - trace(K_n) is a prefix sum of the diagonal (exact, and summed in the order dml_ridge_predict sums it, so
 *   lambda_n is the same double).
 * - The Cholesky factor of the leading block of a matrix is the leading block of its factor, so one
 *   factorization would serve every size if the shift were the same. It differs in general (trace(K_n)/n is
 *   the mean self-kernel of the first n points), and a diagonal shift of a Cholesky factor has no exact cheap
 *   update. The factor of the largest size is reused for the sizes whose lambda_n equals its lambda to 1e-13
 *   relative (kernels whose diagonal is constant up to rounding: dot-product kernels on the sphere, fcn on
 *   per-image standardized data), which changes their solutions by at most that relative amount, below the
 *   solve's own rounding (the condition number times 1e-16); every other size is factored on its own copy of its leading block,
 *   smallest first, all before the largest, which is then factored in place (no copy) unless
 *   DML_RIDGE_KEEP_GRAM. With sizes that double, refactoring costs at most 1/7 of the largest factorization.
 * - Train predictions come from the identity K_n alpha_n = Y_n - lambda_n alpha_n, with no product by K_n. */

/** Leave the packed Gram unchanged (costs a copy of the largest size's block). Without it the Gram is
 *  overwritten (by the Cholesky factor of the largest size when that size is N). */
#define DML_RIDGE_KEEP_GRAM 1u

/** One training size of a learning curve: n in, lambda and reuse out, predictions into caller-owned arrays. */
typedef struct {
    size_t n;           /**< training size: the first n points, 1 <= n <= N; sizes strictly ascending */
    double lambda;      /**< out: the shift added to the diagonal: ridge * trace(K_n)/n, or the largest
                             size's shift when reused_factor (they then agree to rounding) */
    int reused_factor;  /**< out: 1 when solved with the leading block of a larger size's Cholesky factor */
    double *pred_test;  /**< m x k, row-major, caller-owned; may be NULL when m == 0 */
    double *pred_train; /**< n x k, row-major, caller-owned, or NULL when not wanted */
} dml_ridge_size;

/** Kernel ridge regression at every size of `sizes` (DESIGN 3), from the training Gram of N points held once
 *  in RFP storage (`gram`, order N; see DML_RIDGE_KEEP_GRAM for what is left in it) and test rows streamed from
 *  `test_rows`, which is asked for rows [r0, r1) of the m x N test-train cross-kernel with ncols = the largest
 *  size, in blocks of `block_rows` rows (0: dml_ridge_block_rows(N, m)). The same as dml_ridge_predict(K, ., n,
 *  K_test, ., m, Y, k, ridge, ...) for each n (equal to rounding; tests/test_ridge_packed.c).
 *  Y: N x k targets, row-major (only the first `largest size` rows are read).
 *  Returns 0, or -1 with `err`: DML_ERR_INVALID_SPEC (bad sizes), DML_ERR_NUMERIC (K_n + lambda_n I not
 *  positive definite; field "ridge"), DML_ERR_NOMEM, or the callback's error. */
int dml_ridge_curve(double *gram, size_t N, const double *Y, size_t k, double ridge, dml_ridge_size *sizes,
                    size_t nsizes, dml_kernel_rows_fn test_rows, void *ctx, size_t m, size_t block_rows,
                    unsigned flags, dml_error *err);

/** Default test rows per block: as many as fit in 32 MiB at N columns, at least 8, at most m (and 1 if m == 0). */
size_t dml_ridge_block_rows(size_t N, size_t m);

/** Memory model of dml_ridge_curve, in bytes: the packed Gram N(N+1)/2, one factor copy of the largest size
 *  below N (or of N itself with DML_RIDGE_KEEP_GRAM or when the largest size is below N), since which sizes can
 *  reuse the largest factor is known only once the kernel is, the test block (block_rows x N, 0: the default),
 *  the coefficients (sum of n k), the caller's outputs (pred_test per size, m k; pred_train per size, n k), and
 *  O(N) more. Not included: the targets, the data and the kernel engine's own workspace. */
double dml_ridge_curve_bytes(size_t N, size_t m, size_t k, const size_t *n_train, size_t nsizes,
                             size_t block_rows, unsigned flags);

/** Floating-point operations of dml_ridge_curve, for a dry-run cost: a factorization n^3/3 at every size (the
 *  upper bound: sizes that reuse the largest factor skip theirs, which is known only once the kernel is), the
 *  solves 4 n^2 k (forward and back substitution) and the test predictions 2 m n k. Seconds are this over the
 *  machine's Cholesky rate (bench/bench_solve; docs/ridge.md). */
double dml_ridge_curve_flops(size_t m, size_t k, const size_t *n_train, size_t nsizes);

#endif
