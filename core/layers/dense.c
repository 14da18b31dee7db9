/* Dense: a fully connected layer on flat inputs (on spatial inputs dml_model_layers makes it a Conv with a
 * filter of 1, Neural Tangents' Dense on the channel axis).
 *   finite   y = alpha x W + beta b,  W (Cin, Cout), b (Cout), fan_in = Cin;
 *            ntk: W, b ~ N(0, 1), alpha = w_std / sqrt(fan_in), beta = b_std;
 *            standard: W ~ N(0, w_std^2 / fan_in), b ~ N(0, b_std^2), alpha = beta = 1   (nn.c draws them)
 *   kernel   K <- w_std^2 K + b_std^2,  Theta <- w_std^2 Theta + K   (DESIGN 2.1, NT's stax.Dense)
 * Readout, the list's final dense layer from the last hidden features to the outputs (its width is the number
 * of outputs: classes or targets; readout_w_std / readout_b_std), is a Dense layer in every respect and runs
 * this file's row of the layer table. It is a kind of its own because it is where the finite networks'
 * outputs and the empirical NNGP's exact readout average (dml_empirical_kernel) are read, and the only layer
 * whose width the model does not set. This file also holds the bias helpers of every parameterized layer. */
#ifndef LAYER_PASS
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "layer.h"

int dml_dense_setup(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err)
{
    (void)elt, (void)wino_allowed;
    const dml_layer *d = ly->d;
    if ((size_t)d->in_channels != ly->in_numel)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "model", "inconsistent layer list for a finite network");
    ly->Cin = d->in_channels;
    ly->Cout = d->out_channels;
    ly->K = (size_t)ly->Cin;
    ly->out_numel = (size_t)ly->Cout;
    ly->nw = (size_t)ly->Cin * ly->Cout;
    ly->nb = (size_t)ly->Cout;
    ly->fan_in = ly->Cin;
    return 0;
}

int dml_dense_input_full(int full_out) { return full_out; }

int dml_dense_plan(dml_kstep *st, dml_error *err)
{
    (void)err;
    st->P_out = st->P_in;
    st->scale = st->d->w_std * st->d->w_std;
    st->b2 = st->d->b_std * st->d->b_std;
    return 0;
}

/* Elementwise on every entry of the state, full or diagonal. */
void dml_dense_kernel(const dml_kstep *st, dml_kstate *s)
{
    size_t n = s->full ? s->rows * s->cols : s->cols;
    if (s->T && !s->theta_zero) {
        dml_kaffine(n, st->scale, st->b2, s->K, s->K, s->T, s->T);
    } else {
        /* the first parameterized layer: its NTK is its NNGP */
        dml_kaffine(n, st->scale, st->b2, s->K, s->K, NULL, NULL);
        if (s->T) memcpy(s->T, s->K, sizeof *s->T * n);
        s->theta_zero = 0;
    }
}

/* Effective flops per second of one thread in the training GEMMs of dense layers (bench/estimate.sh). */
#define TRAIN_FLOPS_DENSE 45e9

void dml_dense_cost(const dml_layer *d, int full, double cap, dml_layer_cost *c)
{
    (void)full, (void)cap;
    c->kernel_entries = 1;
    c->train_seconds = 2.0 * d->in_channels * d->out_channels / TRAIN_FLOPS_DENSE;
    c->train_out = d->out_channels;
}

size_t dml_dense_num_params(const dml_layer *d) { return (size_t)d->in_channels * d->out_channels + d->out_channels; }

#define LAYER_PASS 32
#include "dense.c"
#undef LAYER_PASS
#define LAYER_PASS 64
#include "dense.c"
#undef LAYER_PASS

const dml_layer_ops dml_dense_ops = {
    .setup = dml_dense_setup,
    .forward_f32 = dml_dense_forward_f32,
    .forward_f64 = dml_dense_forward_f64,
    .backward_f32 = dml_dense_backward_f32,
    .backward_f64 = dml_dense_backward_f64,
    .kernel_input_full = dml_dense_input_full,
    .kernel_plan = dml_dense_plan,
    .kernel = dml_dense_kernel,
    .cost = dml_dense_cost,
    .num_params = dml_dense_num_params,
};

#else /* LAYER_PASS: the float and the double build */
#include "real.h"

/* Y[r, c] += beta * b[c] for r < rows. */
NN_CLONES void NN(dml_add_rows)(R *restrict Y, const R *restrict b, R beta, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) Y[r * cols + c] += beta * b[c];
}

/* db[c] = beta * sum_r dY[r, c]. */
NN_CLONES void NN(dml_sum_rows)(R *restrict db, const R *restrict dY, R beta, size_t rows, size_t cols)
{
    for (size_t c = 0; c < cols; c++) db[c] = 0;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) db[c] += dY[r * cols + c];
    for (size_t c = 0; c < cols; c++) db[c] *= beta;
}

void NN(dml_dense_forward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, R *Y, size_t n)
{
    (void)s;
    int in = ly->Cin, out = ly->Cout;
    GEMM(RM, NT, NT, (int)n, out, in, (R)ly->alpha, X, in, p + ly->w_off, out, 0, Y, out);
    NN(dml_add_rows)(Y, p + ly->b_off, (R)ly->beta, n, (size_t)out);
}

void NN(dml_dense_backward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, const R *dY, R *dX,
                            R *gp, size_t n)
{
    (void)s;
    int in = ly->Cin, out = ly->Cout;
    R alpha = (R)ly->alpha;
    if (gp) {
        GEMM(RM, TT, NT, in, out, (int)n, alpha, X, in, dY, out, 0, gp + ly->w_off, out);
        NN(dml_sum_rows)(gp + ly->b_off, dY, (R)ly->beta, n, (size_t)out);
    }
    if (dX) GEMM(RM, NT, TT, (int)n, in, out, alpha, dY, out, p + ly->w_off, out, 0, dX, in);
}

#endif
