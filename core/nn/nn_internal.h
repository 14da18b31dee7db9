/* dmilab internal: the finite network's data structures, shared by the precision-generic passes over the
 * layer list (nn_impl.h, compiled for float in nn_f32.c and for double in nn_f64.c) and the public API (nn.c).
 * The layers themselves (their forward, backward and scratch) are in core/layers/. */
#ifndef DMILAB_NN_INTERNAL_H
#define DMILAB_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/nn.h"
#include "../layers/layer.h"

/* Largest number of examples one forward/backward pass holds (training accumulates gradients over
 * micro-batches of at most this many examples). */
#define NN_MICRO_MAX 256

/* Examples per slice. Training and prediction split each (micro-)batch into slices of NN_SLICE examples
 * counted from its start, whatever the thread count; each slice runs the whole network with single-threaded
 * GEMMs in a workspace, and the slices' gradients, losses and errors are summed in slice order. The threads
 * only share out the slices, so a result does not depend on how many there are (bit for bit). */
#define NN_SLICE 32

/* Workspace: buffers for `cap` examples; in training, one per slice of a micro-batch (with its gradient),
 * in prediction one per thread. */
typedef struct {
    size_t cap;
    void *act[DML_MAX_LAYERS + 1];   /* act[l]: input of layer l (act[0] the network input, act[n] the output) */
    void *g[2];                       /* ping-pong gradient buffers, cap * max_numel reals */
    dml_net_scratch s;                /* the layers' scratch: im2col blocks, Winograd planes */
    void *grads;                      /* nparams reals: this slice's parameter gradients (training) */
    void *y, *gout;                   /* cap * outputs reals: targets, loss gradient */
    int *lab;                         /* cap labels */
} nn_ws;

#define NN_MAX_THREADS 64

struct dml_net {
    dml_layers L;
    dml_net_layer lay[DML_MAX_LAYERS];
    int n;
    dml_parameterization par;
    dml_precision prec;
    size_t elt;                   /* sizeof(float) or sizeof(double) */
    int threads;
    size_t nparams, in_numel, max_numel;
    int outputs;
    void *params, *grads;         /* nparams reals each */
    nn_ws ws[NN_MAX_THREADS];     /* ws[0] also serves the single-workspace calls (backward, kernels) */
    struct nn_pool *pool;         /* persistent worker threads while dml_train runs (NULL otherwise) */
};

/* Start / stop the persistent workers used by nn_parallel during training (threads - 1 of them, the caller
 * is worker 0): each parallel step then costs two barrier waits instead of thread creation and malloc. */
int nn_pool_start(dml_net *net, dml_error *err);
void nn_pool_stop(dml_net *net);

/* Gram accumulator of the empirical NTK (per-example parameter-Jacobian inner products). */
typedef struct {
    size_t n;                        /* examples */
    double *T;                       /* n x n, accumulated */
    double *A[DML_MAX_LAYERS];       /* per layer: input-window Gram, computed on first use */
    size_t An[DML_MAX_LAYERS];
    int failed;                      /* set when a Gram could not be allocated */
} nn_gram;

/* Grow workspace w to hold cap examples; with train != 0, size it to exactly cap examples (shrinking a larger
 * one) with its gradient and loss buffers. */
int nn_reserve(dml_net *net, int w, size_t cap, int train, dml_error *err);
/* Run fn(task, worker, ctx) for task < ntasks on up to net->threads threads: on the persistent pool when
 * one runs (task t on worker t mod threads), else with dml_parallel_for. */
int nn_parallel(const dml_net *net, size_t ntasks, int (*fn)(size_t, int, void *), void *ctx);

#define NN_DECLARE(P, R)                                                                                      \
    void P##forward(const dml_net *net, nn_ws *ws, size_t n);                                                 \
    void P##backward(const dml_net *net, nn_ws *ws, size_t n, const R *gout, R *gparams, R *gx, nn_gram *gram); \
    double P##loss_grad(const dml_net *net, const nn_ws *ws, dml_loss loss, size_t n, size_t denom, const R *y, \
                        const int *lab, R *gout);                                                             \
    void P##init(dml_net *net, dml_rng *rng);                                                                 \
    int P##predict(dml_net *net, const double *x, size_t n, double *out, dml_error *err);                    \
    int P##train(dml_net *net, const dml_train_config *cfg, const dml_dataset *tr, const dml_dataset *te,     \
                 dml_train_result *res, dml_train_progress progress, void *ctx, dml_error *err);             \
    void P##from_double(R *dst, const double *src, size_t n);                                                 \
    void P##to_double(double *dst, const R *src, size_t n);

#include "dmilab/rng.h"
NN_DECLARE(nn_f32_, float)
NN_DECLARE(nn_f64_, double)

#endif
