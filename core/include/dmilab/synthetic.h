/* dmilab: synthetic data with known symmetries (DESIGN 3 sources `sphere` and `gaussian`): inputs, the
 * `teacher` and `local-polynomial` targets, label noise, and the nested training sets of a data variant. */
#ifndef DMILAB_SYNTHETIC_H
#define DMILAB_SYNTHETIC_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/data.h"
#include "dmilab/error.h"
#include "dmilab/model.h"

/* Inputs have shape [L, C] (1D) or [H, W, C] (2D): P = L or H * W positions of C channels, stored as
 * dml_dataset.x (row-major, position-major, channel fastest).
 *   sphere    every position's C-vector uniform on the sphere of radius sqrt(C) (a normalised Gaussian
 *             vector), independently across positions: |x_p|^2 = C exactly (to rounding), E x = 0,
 *             E x_pc^2 = 1, E x_pc^4 = 3C / (C + 2), E x_pc^2 x_pc'^2 = C / (C + 2) for c != c'.
 *   gaussian  every number iid N(0, 1).
 *
 * Targets (k = `outputs` of them per input):
 *   teacher           the outputs of a random finite network (dml_net) of `model` (any arch; its width,
 *                     w_std, b_std and parameterization) for the input shape, with k readout units, created
 *                     in float64 with dml_net_create(seed = target.seed). Not rescaled.
 *   local-polynomial  y_o(x) = P^(-1/2) * sum over positions p of f_{o,p}(u_p), where u_p holds the m = s^nd * C
 *                     numbers of the window of s positions per spatial axis starting at p and wrapping around
 *                     (s = `support`; offsets row-major, channels fastest), and f is a random degree-r
 *                     (r = `degree`) polynomial from the family
 *                         f(u) = sum over r-subsets S of {0..m-1} of a_S * prod_{j in S} u_j / sd_S,
 *                     the products of r distinct coordinates of the window. For both input distributions these
 *                     products are orthogonal (each changes sign when one of its coordinates does, which leaves
 *                     both distributions unchanged) with mean 0; sd_S is the standard deviation of
 *                     prod_{j in S} u_j (1 for gaussian; for sphere the product over the window's positions q
 *                     of sqrt(C^t / (C (C+2) ... (C+2(t-1)))), t = how many of S's coordinates lie at q), so the
 *                     basis is orthonormal. The coefficient vector a, N(0, 1) draws normalised to |a| = 1, makes
 *                     E f(u_p)^2 = 1 exactly. shared = 1: the same a at every position (one per output), so y is
 *                     invariant under circular translations; the P terms are summed exactly (one correct rounding
 *                     of their exact sum, Shewchuk's algorithm), which makes that invariance exact, bit for bit,
 *                     and y(-x) = (-1)^r y(x), y(2x) = 2^r y(x) exact too. shared = 0: an independent a for
 *                     each position. y is homogeneous of degree r, has mean 0, and has variance 1 when the
 *                     position terms are uncorrelated (support 1); with overlapping windows the cross terms are 0
 *                     on average over the coefficient draws. At most DML_POLY_MAX_TERMS products per polynomial
 *                     and DML_POLY_MAX_COEFFS coefficients in all (k x products, times P when not shared).
 * Label noise: training targets get noise * N(0, 1) added to each output; test targets are noise-free, so a
 * test MSE measures the learned function (its Bayes error is 0).
 *
 * Randomness (dml_rng): input i of stream t from {seed, "synthinp", t, i}; its noise from
 * {seed, "synthnoi", t, i}; teacher weights from target.seed; polynomial coefficients from
 * {target.seed, "localpol", output[, position]}. Inputs and noise are keyed by their index, so a training set
 * of size n is the first n of any larger one (nested), bit for bit, targets included. */

#define DML_POLY_MAX_TERMS 65536             /**< products of r distinct coordinates per polynomial, C(m, r) */
#define DML_POLY_MAX_COEFFS ((size_t)1 << 24)  /**< coefficients of a local-polynomial target in all */
#define DML_SYN_MAX_OUTPUTS 4096

typedef enum { DML_SYN_SPHERE, DML_SYN_GAUSSIAN } dml_syn_input;
typedef enum { DML_TARGET_TEACHER, DML_TARGET_LOCAL_POLYNOMIAL } dml_syn_target_kind;

/** The target function of a synthetic source. */
typedef struct {
    dml_syn_target_kind kind;
    int outputs;          /**< k >= 1 */
    uint64_t seed;        /**< the teacher's weights, or the polynomial's coefficients */
    dml_model model;      /**< teacher: the architecture of the random network (with its width) */
    int degree;           /**< local-polynomial: r, 1 <= r <= m */
    int support;          /**< local-polynomial: s >= 1 positions per spatial axis, at most the axis size */
    int shared;           /**< local-polynomial: 1 = one polynomial for every position (translation-invariant) */
} dml_syn_target;

/** A synthetic source: input distribution, input shape, target and label noise. */
typedef struct {
    dml_syn_input input;
    dml_shape shape;      /**< nd 1 ([L, C]) or 2 ([H, W, C]) */
    dml_syn_target target;
    double noise;         /**< standard deviation of the noise on training targets, >= 0 */
} dml_synthetic;

/** Validate a source (for submission): the shape (nd 1 or 2, sizes >= 1, at most 2^24 numbers per input),
 *  noise finite and >= 0, outputs 1..DML_SYN_MAX_OUTPUTS, the teacher's model against the shape
 *  (dml_model_layers), degree, support and the number of products for local-polynomial. Returns 0, or -1
 *  with DML_ERR_INVALID_SPEC and err->field relative to the source ("shape", "noise", "target.outputs",
 *  "target.degree", "target.support", "target.model.<field>"): callers prefix their path. */
int dml_synthetic_check(const dml_synthetic *s, dml_error *err);

/** Inputs first..first+n-1 of stream `stream` into x (n x P*C). Cannot fail. */
void dml_synthetic_inputs(const dml_synthetic *s, uint64_t seed, uint64_t stream, size_t first, size_t n, double *x);

/** Noise-free targets y (n x k, row-major) of the inputs x (n x P*C). The teacher computes one input at a
 *  time, so that an input's target never depends on the batch it is computed in or on the thread count.
 *  Returns 0, or -1 with err (DML_ERR_NOMEM, or the check's errors). */
int dml_synthetic_targets(const dml_synthetic *s, const double *x, size_t n, double *y, dml_error *err);

/** Add the label noise of inputs first..first+n-1 of stream `stream` to y (n x k). */
void dml_synthetic_add_noise(const dml_synthetic *s, uint64_t seed, uint64_t stream, size_t first, size_t n,
                             double *y);

/** The train and test sets of a synthetic data variant for repeat `repeat` of an experiment seeded `seed`:
 *  the test set is inputs 0..n_test-1 of stream 0 with noise-free targets (the same in every repeat); the
 *  training set is inputs 0..n_train-1 of stream 1 + repeat with noisy targets, so the sizes of one repeat are
 *  nested and every variant with the same source and seed sees the same data (variants differ by their
 *  transforms, applied by the caller). A `subset: head` experiment passes repeat 0 for every repeat.
 *  label is NULL (regression targets), k = outputs. Returns 0, or -1 with err; free with dml_dataset_free. */
int dml_synthetic_load(const dml_synthetic *s, uint64_t seed, int repeat, size_t n_train, size_t n_test,
                       dml_dataset *train, dml_dataset *test, dml_error *err);

#endif
