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

/** Estimated cost of dml_kernel for n1 x n2 inputs of `shape` (gram: x2 == NULL, n2 == n1, each unordered
 *  pair once): pairs computed, dual (activation) evaluations, seconds on `threads` threads from per-entry
 *  costs measured on the reference machine (2 cores, AVX-512; within about 2x there), and the bytes dml_kernel
 *  allocates (outputs, self covariances, per-thread workspaces: 4 P^2 doubles for cnn-gap). A model that does
 *  not fit the shape costs 0 (dml_kernel will refuse it). */
typedef struct {
    double pairs, dual_evaluations, seconds, memory_bytes;
} dml_kernel_cost;
void dml_kernel_cost_estimate(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2, int gram, int threads,
                              dml_kernel_cost *out);

/** Bounds of one kernel request (0 = none): numbers (n1*n2 and each input's size), estimated computing time
 *  and estimated memory (dml_kernel_cost_estimate), and the model's depth and width (dml_model_admit;
 *  exceeding them is DML_ERR_LIMIT with field "model.depth" / "model.width"). Limit errors carry their
 *  dml_limit_id (dmilab/limits.h). */
typedef struct {
    size_t max_numbers;
    double max_seconds;
    double max_memory_bytes;
    int max_depth, max_width;
} dml_kernel_limits;

/** The `dmilab kernel` request/response (DESIGN section 4) as JSON, shared by the CLI and
 *  POST /api/v1/kernels. Request: {"model": {...}, "x1": {"shape": [n1, ...spatial, C], "data": [...]},
 *  "x2": {...} (optional)}. Response: {"nngp": {"shape": [n1, n2], "data": [...]}, "ntk": {...}}.
 *  `lim` (NULL: no bounds): exceeding one is DML_ERR_LIMIT, checked before any computation.
 *  Returns a new cJSON (caller frees) or NULL with `err` (field paths like "x1.shape", "model.filter"). */
#include <cjson/cJSON.h>
cJSON *dml_kernel_request(const cJSON *req, const dml_kernel_limits *lim, int threads, dml_error *err);

/** Monte Carlo settings for the empirical kernels of finite networks (`dmilab kernel --empirical`). */
typedef struct {
    int width;        /**< hidden units / channels of every hidden layer */
    int samples;      /**< independent random networks */
    int outputs;      /**< readout units averaged over */
    uint64_t seed;
} dml_empirical_opts;

/** As dml_kernel_request, but with `emp` != NULL the response holds the empirical kernels of random finite
 *  networks of the model (dml_empirical_kernel in nn.h: Monte Carlo NNGP, empirical NTK) instead of the
 *  infinite-width ones. */
cJSON *dml_kernel_request_ex(const cJSON *req, const dml_kernel_limits *lim, int threads,
                             const dml_empirical_opts *emp, dml_error *err);

/** Print a kernel response with every number as %.17g (cJSON prints 15 digits). Returns a malloc'd string. */
char *dml_kernel_response_print(const cJSON *resp);

#endif
