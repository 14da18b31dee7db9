/* dmilab: finite-width neural networks (inference methods gd, sgd, adam; DESIGN sections 1-3).
 *
 * A network is built from the same layer list (dml_layers, from dml_model_layers) that drives the
 * infinite-width kernel engine, as Neural Tangents pairs apply_fn with kernel_fn:
 *   Dense / Readout   y = alpha * x W + beta * b                 W: (in, out), b: (out)
 *   Conv              y[o] = alpha * sum_d x[win(o, d)] W[d] + beta * b
 *                     shared W: (F*Cin, Cout) (row d*Cin + c), b: (Cout)
 *   ConvLocal         as Conv with unshared weights per output position o:
 *                     W: (P_out, F*Cin, Cout), b: (P_out, Cout)
 *   Act               relu or erf, elementwise
 *   Flatten           (positions, C) -> vector (a no-op on the position-major layout)
 *   GAP               mean over positions
 * Conv layers compute by im2col + GEMM, or by Winograd F(2x2, 3x3) when 2D with a 3x3 filter, stride 1 and
 * at least 8 input channels (the same function up to rounding; dml_net_conv_algorithm tells which).
 * Windows (same / valid / circular padding, strides, 1D and 2D) are those of the kernel engine's window
 * tables (core/layers/window.h), so both read exactly the same input positions; padded entries are zeros
 * (same) or wrap around (circular). F = product of the filter sizes, fan_in = Cin * F for Conv/ConvLocal
 * and the input length for Dense/Readout (Neural Tangents stax):
 *   parameterization 'ntk':      W, b ~ N(0, 1); alpha = w_std / sqrt(fan_in), beta = b_std
 *   parameterization 'standard': W ~ N(0, w_std^2 / fan_in), b ~ N(0, b_std^2); alpha = beta = 1
 *
 * Parameters form one flat vector: layer by layer in list order, for each parameterized layer W then b in
 * the layouts above. Inputs are row-major (n, ...spatial, C), position-major with channel fastest (the
 * layout of dml_dataset.x); outputs are (n, outputs) row-major.
 *
 * Precision: DML_F32 (default for training) or DML_F64 (tests, audits). The public API always takes and
 * returns doubles; a float32 network converts on the way in and out. The arithmetic is compiled twice from
 * one source (core/nn/nn_impl.h), for float and for double.
 *
 * Threads: training and prediction are data parallel: each batch is cut into `threads` contiguous slices,
 * each thread runs the network on its slice in its own workspace with single-threaded OpenBLAS GEMMs, and
 * the slices' gradients are summed in slice order; these calls set OpenBLAS to 1 thread while they run
 * (dml_blas_single_begin/end, dmilab/blas_cpu.h: openblas_set_num_threads is process-wide). dml_net_backward,
 * dml_net_loss_grad and dml_empirical_kernel run one workspace with OpenBLAS using `threads` threads.
 * Results are deterministic for a given seed and thread count (bit-identical reruns).
 * Memory: per-thread workspaces hold the activations of every layer for their slice, two gradient buffers
 * and an im2col block of at most 2^22 reals (conv layers process their slice in chunks of images, locally
 * connected layers in blocks of positions) or Winograd planes of about 1 MB. They are allocated when the network is created or before
 * training starts and grown (never inside the training loop) when a call needs a larger batch; a training
 * step allocates nothing.
 */
#ifndef DMILAB_NN_H
#define DMILAB_NN_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/data.h"
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "dmilab/training.h"

typedef struct dml_net dml_net;

/** Create a randomly initialized network for the layer list `L` (from dml_model_layers; the list is
 *  copied). Parameters are drawn from a dml_rng seeded with {seed}, layer by layer, W then b, in double
 *  precision (then rounded for DML_F32), so the same seed gives the same network in both precisions up
 *  to that rounding. `max_batch` sizes the workspace (0: 64; larger batches grow it on demand).
 *  Returns NULL with `err` set (DML_ERR_INVALID_SPEC for a layer list it cannot run, DML_ERR_NOMEM). */
dml_net *dml_net_create(const dml_layers *L, dml_parameterization par, dml_precision prec, uint64_t seed,
                        int threads, size_t max_batch, dml_error *err);
void dml_net_free(dml_net *net);

/** The layer list, parameter count, input numbers per example (P*C) and outputs. */
const dml_layers *dml_net_layers(const dml_net *net);
size_t dml_net_num_params(const dml_net *net);
size_t dml_net_input_size(const dml_net *net);
int dml_net_outputs(const dml_net *net);
dml_precision dml_net_precision(const dml_net *net);
void dml_net_set_threads(dml_net *net, int threads);

/** Offset and count of the weights (and biases) of layer `i` in the flat parameter vector; returns 0,
 *  or -1 when layer i has no parameters. Any pointer may be NULL. */
int dml_net_layer_params(const dml_net *net, int i, size_t *w_off, size_t *nw, size_t *b_off, size_t *nb);

/** The convolution algorithm layer `i` runs: "winograd" (F(2x2, 3x3), Lavin & Gray 2016: 2D Conv layers with a
 *  3x3 filter, stride 1 and at least 8 input channels), "im2col" (other Conv layers, and every Conv layer when
 *  the environment variable DMILAB_CONV=im2col was set at dml_net_create), "local" (ConvLocal: batched GEMM per
 *  position), or NULL (layers without windows, or i out of range). Both algorithms compute the same function;
 *  they differ in rounding. */
const char *dml_net_conv_algorithm(const dml_net *net, int i);

/** Copy the parameters out of / into the network (num_params doubles, the layout above). */
void dml_net_get_params(const dml_net *net, double *out);
void dml_net_set_params(dml_net *net, const double *in);

/** Forward pass: x (n, ...spatial, C) doubles -> out (n, outputs) doubles, data parallel in slices of at
 *  most 256 examples per thread. Returns 0 or -1 (NOMEM). */
int dml_net_forward(dml_net *net, const double *x, size_t n, double *out, dml_error *err);

/** Forward then backward pass (one workspace, grown to n examples) for an upstream gradient `gout`
 *  (n, outputs): computes
 *  gparams[j] = sum_{i,k} gout[i,k] d f_k(x_i) / d theta_j  (num_params doubles, may be NULL) and
 *  gx[i, ...] = sum_k gout[i,k] d f_k(x_i) / d x_i  (n x input_size doubles, may be NULL).
 *  out (n, outputs) receives the forward outputs when not NULL. Returns 0 or -1. */
int dml_net_backward(dml_net *net, const double *x, size_t n, const double *gout, double *out, double *gparams,
                     double *gx, dml_error *err);

/** Loss of a batch and its gradients (DESIGN section 3): mse = mean over the batch of
 *  1/2 * sum_k (f_k - y_k)^2; cross-entropy = mean over the batch of -log softmax(f)[label].
 *  y (n, outputs) is used by mse; labels (n) by cross-entropy (NULL: the argmax of y).
 *  *loss receives the value; gparams and gx (may be NULL) the gradients of the loss (no weight decay).
 *  Returns 0 or -1. */
int dml_net_loss_grad(dml_net *net, dml_loss loss, const double *x, size_t n, const double *y, const int *labels,
                      double *value, double *gparams, double *gx, dml_error *err);

/* ---- training ---- */

/** Number of parameters (weights and biases) of a finite network with layer list L, as dml_net_num_params
 *  of a network created from it, without creating one. */
size_t dml_layers_num_params(const dml_layers *L);

/** Estimated peak memory in bytes of training a network with layer list `L` (dml_train through the experiment
 *  runner): parameters with their gradient and two optimizer moments, one gradient copy and one workspace
 *  per thread (activations and gradients of min(batch, n_train, 256) examples in all, im2col or Winograd
 *  blocks), and the train and test inputs in double and in the compute precision. `batch` is the minibatch
 *  (the whole n_train for gd). Used to refuse, before it runs, a spec that cannot fit (DESIGN section 4
 *  limits). The count of what the code allocates, plus 10% and 256 MiB (its check against a measured peak
 *  resident size is in docs/training.md). */
double dml_train_memory_bytes(const dml_layers *L, dml_precision prec, size_t batch, size_t n_train, size_t n_test,
                              int threads);


/* The training hyper-parameters (dml_train_config) and their defaults: dmilab/training.h. */

/** Estimated seconds of one training point (dml_train through the experiment runner) of a network with layer
 *  list L: `epochs` epochs over n_train examples in minibatches of `batch` (gd: the whole set per step), the
 *  test metrics on n_test examples about 10 times and at the end, on `threads` threads. A step costs three
 *  forward passes (forward, input gradients, weight gradients) of each layer's own forward cost
 *  (core/layers/, measured rates of the reference machine, bench/estimate.sh) plus the optimizer's update per
 *  parameter; float64 costs twice float32. */
double dml_train_seconds(const dml_layers *L, dml_precision prec, dml_optimizer method, size_t n_train, size_t n_test,
                         int epochs, int batch, int threads);

typedef struct {
    int epoch;              /**< 1-based */
    double train_loss;      /**< mean of the minibatch losses seen during the epoch (weighted by size) */
    int evaluated;          /**< 1 when the test metrics below were computed after this epoch */
    double test_mse, test_accuracy;
} dml_train_epoch;

typedef struct {
    double test_mse;        /**< squared error summed over outputs, mean over test points (DESIGN 4) */
    double test_accuracy;   /**< argmax of the outputs against the test labels (NaN without labels) */
    double train_mse;       /**< the same on the training set after training */
    double train_accuracy;
    int n_curve;            /**< epochs */
    dml_train_epoch *curve; /**< malloc'd, n_curve entries; free with dml_train_result_free */
    int diverged;           /**< 1 if the loss became non-finite (training stopped; metrics are NaN) */
} dml_train_result;

void dml_train_result_free(dml_train_result *r);

/** Progress callback: called after every epoch; return nonzero to cancel (dml_train then fails with
 *  DML_ERR_CANCELLED). */
typedef int (*dml_train_progress)(void *ctx, int epoch, int epochs);

/** Train `net` in place on `train` (x, y; label used by cross-entropy, or the argmax of y when NULL) and
 *  evaluate on `test` (may be NULL: no test metrics, NaN). Data shapes must match the network's input
 *  shape and outputs (train->k == outputs). Minibatches: every epoch a fresh seeded permutation of the
 *  training set cut into consecutive batches (the last one may be smaller); gd: one full-batch step per
 *  epoch. Returns 0 and fills `res`, or -1 with err (shape mismatch: INVALID_SPEC; NOMEM; CANCELLED).
 *  A run whose loss becomes NaN/inf stops early and returns 0 with res->diverged = 1. */
int dml_train(dml_net *net, const dml_train_config *cfg, const dml_dataset *train, const dml_dataset *test,
              dml_train_result *res, dml_train_progress progress, void *progress_ctx, dml_error *err);

/** Predict: out (n, outputs) for inputs x, in batches. Same as dml_net_forward. */
int dml_net_predict(dml_net *net, const double *x, size_t n, double *out, dml_error *err);

/* ---- empirical kernels of finite networks ---- */

/** Monte Carlo NNGP and empirical NTK of random finite networks of model `m` with every hidden layer's
 *  width set to `width` (m->width is ignored), `outputs` readout units, `samples` independent networks
 *  (network s seeded {seed, s}), in float64:
 *    nngp[a,b] = mean over samples and output units k of f_k(x1_a) f_k(x2_b)
 *    ntk[a,b]  = mean over samples and k of sum_j d f_k(x1_a)/d theta_j * d f_k(x2_b)/d theta_j
 *  exact_readout != 0 replaces the NNGP's mean over the sampled output units by its exact conditional
 *  expectation over the readout weights given the last hidden features h (the mean over infinitely many
 *  output units): nngp[a,b] = mean over samples of alpha_r^2 h(x1_a).h(x2_b) + beta_r^2, which removes the
 *  readout's sampling noise (relative sd sqrt(2 / (outputs * samples)) on the diagonal). The NTK's readout
 *  term is the same for every output unit, so it is exact either way.
 *  The parameter-Jacobian inner products are computed per layer from the layer's inputs and output
 *  gradients without forming the Jacobians (for Dense (x.x')(g.g'); for Conv
 *  sum_{o,o'} (win_o(x).win_o'(x'))(g_o.g'_o'); for ConvLocal the o = o' terms), exactly equal to
 *  the inner product of the Jacobians. Uses m->parameterization (for 'ntk' these estimate dml_kernel).
 *  x1 (n1, ...), x2 (n2, ...) or NULL (x1 with itself; n2 must equal n1); nngp, ntk (n1, n2) row-major,
 *  either may be NULL. Returns 0 or -1 with err. */
int dml_empirical_kernel(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2,
                         size_t n2, int width, int outputs, int samples, int exact_readout, uint64_t seed,
                         double *nngp, double *ntk, int threads, dml_error *err);

/** dml_empirical_kernel, and the Monte Carlo standard error of every entry: nngp_se / ntk_se (n1, n2) (NULL:
 *  not wanted; each needs its kernel and samples >= 2) receive the sample standard deviation of the `samples`
 *  per-network estimates of the entry divided by sqrt(samples) (each network's estimate is its mean over the
 *  output units, or the exact readout average). The error of the mean over networks only: the finite-width
 *  bias of O(1/width) (Hanin & Nica 2019) is not in it. */
int dml_empirical_kernel_se(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2,
                            size_t n2, int width, int outputs, int samples, int exact_readout, uint64_t seed,
                            double *nngp, double *ntk, double *nngp_se, double *ntk_se, int threads, dml_error *err);

/** Estimated seconds and bytes of dml_empirical_kernel_se for n1 x n2 inputs (gram: x2 == NULL): the networks'
 *  forward and backward passes, the per-layer Grams of the parameter Jacobians (held for every parameterized
 *  layer while a sample runs: (n P_out)^2 doubles for a conv layer), the network and its workspace, and the
 *  outputs with their standard errors. Both 0 when the model does not fit the shape. */
void dml_empirical_kernel_cost(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2, int gram, int width,
                               int outputs, int samples, int threads, double *seconds, double *bytes);

#endif
