/* dmilab: infinite-width NNGP and NTK kernels (parameterization 'ntk'), DESIGN section 2.1. */
#ifndef DMILAB_KERNEL_H
#define DMILAB_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/model.h"

/** Compute the NNGP kernel K(x1, x2) and the NTK Theta(x1, x2) of the infinite-width limit of `m`
 *  (Neural Tangents stax conventions, parameterization 'ntk'; Jacot et al. 2018, Lee et al. 2019;
 *  ReLU/erf duals: Cho & Saul 2009, Williams 1997; conventions in DESIGN 2.1).
 *
 *  x1: n1 inputs of shape `shape`, row-major (n1, ...spatial, C), doubles.
 *  x2: n2 inputs of the same shape, or NULL for the Gram matrix of x1 with itself (then n2 must
 *      equal n1; the matrix is computed once per unordered pair, and self pairs use the self
 *      covariances so that their ReLU angle is exactly 0).
 *  nngp, ntk: outputs, row-major (n1, n2); either may be NULL when not wanted.
 *  threads: worker threads (>= 1).
 *  Returns 0, or -1 with `err` set (unsupported model for kernels: parameterization 'standard';
 *  shape mismatch; out of memory). Memory: the outputs plus a workspace bounded per thread
 *  (O(P^2) doubles for cnn-gap, O(block * P) otherwise). */
int dml_kernel(const dml_model *m, const dml_shape *shape,
               const double *x1, size_t n1, const double *x2, size_t n2,
               double *nngp, double *ntk, int threads, dml_error *err);

/** dml_kernel that stops early when `cancelled(ctx)` returns nonzero (issue 15: a cancel inside a kernel tile).
 *  The engine's threads poll it before every input's self covariances, every CANCEL_BLOCK (8) pairs of a row
 *  and every row of the row stage, one thread at a time (it need not be reentrant, but is called from the
 *  engine's threads: it must be safe to call from any thread, e.g. read an atomic flag, and cheap). A single
 *  BLAS call of the GEMM path (fcn) is not interrupted. cancelled NULL: dml_kernel. Returns 0, or -1 with err:
 *  DML_ERR_CANCELLED when stopped (the outputs are then partly written and must be discarded), or dml_kernel's
 *  errors. */
int dml_kernel_cancellable(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2,
                           size_t n2, double *nngp, double *ntk, int threads, int (*cancelled)(void *ctx), void *ctx,
                           dml_error *err);

/** Estimated cost of dml_kernel for n1 x n2 inputs of `shape` (gram: x2 == NULL, n2 == n1, each unordered
 *  pair once): pairs computed, dual (activation) evaluations, seconds on `threads` threads from the per-layer
 *  costs of the layer table (core/layers/) and per-operation times calibrated on the reference machine
 *  (bench/estimate.sh), and memory_bytes = dml_kernel_memory_bytes. A model that does not fit the shape costs 0
 *  (dml_kernel will refuse it). */
typedef struct {
    double pairs, dual_evaluations, seconds, memory_bytes;
} dml_kernel_cost;
void dml_kernel_cost_estimate(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2, int gram, int threads,
                              dml_kernel_cost *out);

/** The memory model of kernel computations (the one the admission step, the dry run and POST /api/v1/kernels
 *  use). Bytes of one dml_kernel call of `m` on n1 x n2 inputs of `shape` (gram: x2 == NULL, n2 == n1) on
 *  `threads` threads: the two outputs (NNGP, NTK: 2 n1 n2 doubles), the self trajectories of every input (its
 *  diagonal covariance before every activation of the spatial stage), the self covariances through the row
 *  stage, one workspace per thread (four covariance buffers: 4 P^2 doubles when the plan holds full
 *  position-by-position covariances, as cnn-gap and avg-pool do, else 4 P), and the plan's window tables.
 *  The inputs (the caller's) are not counted. 0 when the model does not fit the shape. */
double dml_kernel_memory_bytes(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2, int gram, int threads);

/** Bounds of one kernel request (0 = none): numbers (n1*n2 and each input's size), estimated computing time
 *  and estimated memory, and the model's depth and width (dml_model_admit; exceeding them is DML_ERR_LIMIT with
 *  field "model.depth" / "model.width"; empirical.width is bounded by max_width). Limit errors carry their
 *  dml_limit_id (dmilab/limits.h). The memory estimate counts everything the request holds at once:
 *  `request_bytes` (the caller's request text) and its parsed tree, the inputs, the computation
 *  (dml_kernel_memory_bytes, outputs included; for empirical kernels dml_empirical_kernel_cost), and the
 *  response text. */
typedef struct {
    size_t max_numbers;
    double max_seconds;
    double max_memory_bytes;
    int max_depth, max_width;
    size_t request_bytes;
} dml_kernel_limits;

/** Monte Carlo settings for the empirical kernels of finite networks (`dmilab kernel --empirical`, or the
 *  request's "empirical": {"width", "samples", "outputs", "seed"}). */
typedef struct {
    int width;        /**< hidden units / channels of every hidden layer */
    int samples;      /**< independent random networks */
    int outputs;      /**< readout units averaged over */
    uint64_t seed;
} dml_empirical_opts;
#define DML_EMPIRICAL_DEFAULTS {.width = 512, .samples = 8, .outputs = 1, .seed = 0}

/** The `dmilab kernel` request/response (DESIGN section 4), shared by the CLI and POST /api/v1/kernels.
 *  Request: {"model": {...}, "x1": {"shape": [n1, ...spatial, C], "data": [...]}, "x2": {...} (optional),
 *  "empirical": {...} (optional)}. Response text: {"nngp": {"shape": [n1, n2], "data": [...]}, "ntk": {...}}
 *  with every number printed %.17g; empirical kernels (the request's "empirical", or `emp` != NULL, which
 *  wins) are those of random finite networks of the model (dml_empirical_kernel_se: Monte Carlo NNGP,
 *  empirical NTK), with "standard_error": [...] beside "data" in each matrix when samples >= 2 and
 *  "empirical": {"width", "samples", "outputs", "seed"} at the end.
 *  `lim` (NULL: no bounds): exceeding one is DML_ERR_LIMIT, checked before any computation.
 *  Returns the malloc'd text (ending in a newline), or NULL with `err` (field paths like "x1.shape",
 *  "model.filter"; DML_ERR_NOMEM when an allocation fails). */
#include <cjson/cJSON.h>
char *dml_kernel_request_text(const cJSON *req, const dml_kernel_limits *lim, int threads,
                              const dml_empirical_opts *emp, dml_error *err);

/** dml_kernel_request_text parsed back into a cJSON tree (caller frees), for small requests and tests. */
cJSON *dml_kernel_request(const cJSON *req, const dml_kernel_limits *lim, int threads, dml_error *err);

#endif
