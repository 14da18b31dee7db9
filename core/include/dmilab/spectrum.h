/* dmilab: the spectral readout of a kernel (issue 13): eigenvalues of a training Gram matrix as estimates of the
 * kernel operator's, the target's power over the eigenvectors, kernel-target alignment, effective dimension, and
 * the learning curve they predict (eigenlearning). docs/spectrum.md gives the formulas and their assumptions. */
#ifndef DMILAB_SPECTRUM_H
#define DMILAB_SPECTRUM_H

#include <stddef.h>
#include "dmilab/error.h"

/** The spectrum of an N x N Gram matrix K of N training points and its targets Y (N x k).
 *  With K = sum_i mu_i u_i u_i^T (u_i orthonormal, mu_i descending): */
typedef struct {
    size_t n;                   /**< N, the points */
    size_t k;                   /**< outputs of the targets (0: eigenvalues only) */
    double *eigenvalue;         /**< N, descending: mu_i / N, estimates of the eigenvalues of the kernel's integral
                                     operator on the data distribution (E_x' k(x, x') phi(x') = l phi(x)). As
                                     computed: the smallest may be rounding-level negatives */
    double *power;              /**< N (NULL when k == 0): sum_j (u_i . y_j)^2 / ||Y||_F^2, the fraction of the
                                     target's power on eigenvector i (they sum to 1; all 0 for a zero target) */
    double *cumulative;         /**< N (NULL when k == 0): power[0] + ... + power[i], the fraction captured by the
                                     top i + 1 modes */
    double target_power;        /**< ||Y||_F^2 / N: the mean over points of the squared target norm summed over
                                     outputs; power[i] * target_power estimates v_i^2, the squared coefficient of
                                     the target on eigenfunction i (summed over outputs) */
    double trace;               /**< trace(K) / N = the sum of the eigenvalues */
    double alignment;           /**< kernel-target alignment <K, Y Y^T>_F / (||K||_F ||Y Y^T||_F) (Cristianini,
                                     Shawe-Taylor, Elisseeff & Kandola, NIPS 2002; uncentered), in [-1, 1];
                                     0 for a zero target or k == 0 */
    double effective_dimension; /**< participation ratio (sum_i mu_i)^2 / sum_i mu_i^2 = trace(K)^2 / ||K||_F^2, in
                                     [1, N] for a PSD K: the number of modes of a flat spectrum of the same
                                     trace and Frobenius norm */
    double *vectors;            /**< N x N row-major, row i the unit eigenvector u_i; NULL unless asked for */
} dml_spectrum;

/** Eigendecompose the leading n x n block of the row-major symmetric matrix K (leading dimension ldk >= n;
 *  not modified; both triangles must be stored, one is read) and fill `out`. Y: n x k targets, row-major, or
 *  NULL with k == 0. want_vectors: also return the eigenvectors (costs n^2 more doubles and a back-
 *  transformation; the readout does not need them).
 *  Method: LAPACK's MRRR path (the algorithm of dsyevr): Householder tridiagonalisation (dsytrd), eigenvalues and
 *  eigenvectors of the tridiagonal matrix by dstemr, and instead of the back-transformation of the eigenvectors
 *  (dormtr on n x n, 2 n^3 flops) the targets are transformed (dormtr on n x k), which gives the projections
 *  u_i . y_j directly. Memory: dml_spectrum_bytes. Returns 0, or -1 with `err` (DML_ERR_NOMEM; DML_ERR_NUMERIC
 *  when LAPACK fails, e.g. on NaN entries). Free with dml_spectrum_free. */
int dml_spectrum_compute(const double *K, size_t ldk, size_t n, const double *Y, size_t k, int want_vectors,
                         dml_spectrum *out, dml_error *err);

/** As dml_spectrum_compute, for the leading n x n block (n <= N) of an order-N Gram held in RFP storage
 *  (dmilab/ridge_packed.h): the spectrum of the first n training points, with no dense copy besides the
 *  workspace. */
int dml_spectrum_compute_packed(const double *arf, size_t N, size_t n, const double *Y, size_t k,
                                int want_vectors, dml_spectrum *out, dml_error *err);

/** Bytes dml_spectrum_compute allocates for n points and k outputs: an n x n workspace (the tridiagonal
 *  reduction, then the tridiagonal eigenvectors in the same place), a second one with want_vectors, and O(n k)
 *  more (outputs included). */
double dml_spectrum_bytes(size_t n, size_t k, int want_vectors);

/** Floating-point operations of dml_spectrum_compute, for a dry-run cost: 4 n^3/3 for the tridiagonal reduction
 *  (half of it matrix-vector products, bound by memory bandwidth: its rate is well below dgemm's; bench/bench_solve
 *  --method spectrum), 4 n^2 k for transforming the targets, 2 n^2 k for the projections, and 2 n^3 more for the
 *  eigenvectors with want_vectors. The tridiagonal eigenproblem's O(n^2) is left out. */
double dml_spectrum_flops(size_t n, size_t k, int want_vectors);

/** Free the arrays of `s` (not `s` itself); safe on a zeroed struct. */
void dml_spectrum_free(dml_spectrum *s);

/** Indices of at most max_points modes out of n (max_points >= 2), log-spaced in the mode number i + 1 from 1 to
 *  n, strictly ascending, always with 0 and n - 1 (all of 0..n-1 when n <= max_points), for plotting an
 *  eigenvalue decay or a cumulative power curve on log axes. index: room for max_points entries (or n if less).
 *  Returns the count written. */
size_t dml_spectrum_thin(size_t n, size_t max_points, size_t *index);

/* ---- the predicted learning curve (eigenlearning) ----
 * Simon, Dickens, Karkada & DeWeese, "The eigenlearning framework" (2021, arXiv:2110.03922); Bordelon, Canatar &
 * Pehlevan, ICML 2020; Jacot, Simsek, Spadaro, Hongler & Gabriel, "Kernel alignment risk estimator" (NeurIPS
 * 2020). For ridge delta added to the n x n Gram, kappa > 0 solves n = sum_i l_i / (l_i + kappa) + delta / kappa;
 * L_i = l_i / (l_i + kappa); E0 = n / (n - sum_i L_i^2);
 * test MSE = E0 * (sum_i (1 - L_i)^2 v_i^2 + noise),  train MSE = (delta / (n kappa))^2 * test MSE,
 * with l_i the kernel operator's eigenvalues, v_i the target's coefficients on its eigenfunctions, noise the
 * label-noise variance; the test MSE is against test labels that carry the same noise. dmilab's ridge (DESIGN 3)
 * is delta = ridge * trace(K_n)/n. MSEs are summed over outputs and averaged over points (docs/spectrum.md). */

/** One predicted point. */
typedef struct {
    size_t n_train;
    double delta;      /**< the ridge added to the diagonal of the n x n Gram */
    double kappa;      /**< the effective regularisation, in units of the operator's eigenvalues */
    double learned;    /**< sum_i L_i, the number of modes learned (n - delta / kappa) */
    double e0;         /**< the overfitting coefficient n / (n - sum_i L_i^2) */
    double test_mse;   /**< predicted test MSE, summed over outputs, averaged over test points */
    double train_mse;  /**< predicted train MSE */
} dml_prediction;

/** Eigenlearning at one size n from a known population spectrum: l[0..nmodes) the operator's eigenvalues
 *  (negative values count as 0), v2 the target's squared coefficients on them (summed over outputs), noise the
 *  label-noise variance (summed over outputs) and delta >= 0 the ridge added to the n x n Gram. kappa is found by
 *  safeguarded Newton steps on log kappa to relative precision 1e-15. Returns 0, or -1 with DML_ERR_NUMERIC when
 *  no kappa > 0 exists (delta == 0 and n at least the number of positive eigenvalues). */
int dml_eigenlearning(const double *l, const double *v2, size_t nmodes, double noise, double delta, size_t n,
                      dml_prediction *out, dml_error *err);

/** The predicted learning curve of kernel ridge regression with dmilab's ridge at each n_train[j] <= s->n, from
 *  the spectrum of the Gram of N = s->n training points with their targets (k >= 1).
 *  Eigenlearning needs the operator's eigenvalues and the target's coefficients; the N-point spectrum estimates
 *  them, but plugging its eigenvalues in directly fails once n is a sizeable fraction of N (its tail holds the
 *  operator's unresolved modes). Instead the three sums the formula needs at kappa (sum L_i, sum L_i^2 and
 *  sum (1 - L_i)^2 v_i^2 + noise) are taken from their deterministic equivalents on the N-point problem: with
 *  mu_i = N eigenvalue_i, c_i = N target_power power_i and S_p(d) = sum_i (mu_i + d)^-p, the N-point problem with
 *  ridge d has kappa = 1 / S_1, sum L_i = N - d S_1, sum L_i^2 = N - S_1^2 / S_2 and sum (1 - L_i)^2 v_i^2 + noise =
 *  sum_i c_i (mu_i + d)^-2 / S_2. Size n with ridge delta_n has the kappa of the d* >= delta_n solving
 *  (d - delta_n) S_1(d) = N - n, so test MSE(n) = n Q / (S_1 W), with Q = sum_i c_i (mu_i + d*)^-2 and
 *  W = sum_i (mu_i + delta_n) (mu_i + d*)^-2. At n = N this is the kernel alignment risk estimator (Jacot et al.
 *  2020). It includes the label noise (test labels as noisy as the training labels) without knowing it.
 *  Assumptions and where it fails: docs/spectrum.md. diag: the Gram's diagonal on the training points in
 *  training order (at least max n_train entries), giving delta_n = ridge * trace(K_n)/n exactly as the solve
 *  does; NULL estimates trace(K_n)/n by s->trace. out: nsizes entries. Returns 0, or -1 with `err` (field
 *  "n_train": a size beyond s->n, or a ridgeless n = N on a singular Gram). */
int dml_spectrum_predict(const dml_spectrum *s, const size_t *n_train, size_t nsizes, double ridge,
                         const double *diag, dml_prediction *out, dml_error *err);

#endif
