/* Activation layers, relu and erf, elementwise.
 *   finite   relu(x) = max(x, 0), relu' = [x > 0];  erf(x), erf'(x) = 2/sqrt(pi) exp(-x^2)
 *   kernel   K <- T(k11, k22, K), Theta <- Theta * T'(k11, k22, K) on every entry, with k11, k22 the
 *            pre-activation self covariances of the entry's two positions (DESIGN 2.1; the duals, with their
 *            SIMD builds, are in dual.c: Cho & Saul 2009 for relu, Williams 1997 for erf). */
#ifndef LAYER_PASS
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include "dual.h"
#include "layer.h"

static int setup(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err)
{
    (void)elt, (void)wino_allowed, (void)err;
    ly->out_numel = ly->in_numel;
    return 0;
}

static int input_full(int full_out) { return full_out; }

static int plan(dml_kstep *st, dml_error *err)
{
    (void)err;
    st->P_out = st->P_in;
    return 0;
}

void dml_act_row(const dml_kstep *st, size_t n, const double *s1, int s1_stride, const double *s2, double *K,
                 double *T)
{
    (st->f32 ? dml_dual_f32 : dml_dual)(st->d->activation, n, s1, s1_stride, s2, K, K, T);
}

/* Full: row r pairs position r of x (self covariance s1[r], broadcast) with every position of x' (s2);
 * diagonal: entry c pairs position c of both (s1[c], s2[c]). */
static void kernel(const dml_kstep *st, dml_kstate *s)
{
    double *T = s->theta_zero ? NULL : s->T;
    assert(s->s1 && s->s2);
    if (s->full)
        for (size_t r = 0; r < s->rows; r++)
            dml_act_row(st, s->cols, s->s1 + r, 0, s->s2, s->K + r * s->cols, T ? T + r * s->cols : NULL);
    else
        dml_act_row(st, s->cols, s->s1, 1, s->s2, s->K, T);
}

static void cost(const dml_layer *d, int full, double cap, dml_layer_cost *c)
{
    (void)cap;
    double P = (double)dml_layer_positions_in(d);
    c->kernel_duals = full ? P * P : P;
    c->kernel_rows = full ? P : 1;
    c->train_out = P * d->in_channels;
}

#define LAYER_PASS 32
#include "activation.c"
#undef LAYER_PASS
#define LAYER_PASS 64
#include "activation.c"
#undef LAYER_PASS

const dml_layer_ops dml_act_ops = {
    .setup = setup,
    .forward_f32 = act_forward_f32,
    .forward_f64 = act_forward_f64,
    .backward_f32 = act_backward_f32,
    .backward_f64 = act_backward_f64,
    .kernel_input_full = input_full,
    .kernel_plan = plan,
    .kernel = kernel,
    .cost = cost,
};

#else /* LAYER_PASS: the float and the double build */
#include "real.h"

NN_CLONES static void NN(relu_fwd)(const R *restrict X, R *restrict Y, size_t m)
{
    for (size_t j = 0; j < m; j++) Y[j] = X[j] > 0 ? X[j] : 0;
}

NN_CLONES static void NN(relu_bwd)(const R *restrict X, const R *restrict dY, R *restrict dX, size_t m)
{
    for (size_t j = 0; j < m; j++) dX[j] = X[j] > 0 ? dY[j] : (R)0;
}

static void NN(act_forward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, R *Y, size_t n)
{
    (void)s, (void)p;
    size_t m = n * ly->in_numel;
    if (ly->d->activation == DML_ACT_RELU)
        NN(relu_fwd)(X, Y, m);
    else
        for (size_t j = 0; j < m; j++) Y[j] = RERF(X[j]);
}

static void NN(act_backward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, const R *dY, R *dX,
                             R *gp, size_t n)
{
    (void)s, (void)p, (void)gp;
    if (!dX) return;
    size_t m = n * ly->in_numel;
    if (ly->d->activation == DML_ACT_RELU) {
        NN(relu_bwd)(X, dY, dX, m);
    } else {
        const R c = (R)1.1283791670955126;   /* 2 / sqrt(pi) */
        for (size_t j = 0; j < m; j++) dX[j] = dY[j] * c * REXP(-X[j] * X[j]);
    }
}

#endif
