/* Conv (shared weights) and ConvLocal (locally connected: the same windows, unshared weights), on 1D and 2D
 * inputs with same / valid / circular padding and strides (window tables, window.h).
 *   finite   Conv:      y[o] = alpha sum_d x[win(o, d)] W[d] + beta b,  W (F Cin, Cout) row d Cin + c, b (Cout)
 *            ConvLocal: the same with W (P_out, F Cin, Cout) and b (P_out, Cout);  fan_in = F Cin.
 *            Conv computes by im2col + GEMM (one GEMM per chunk of images), or by Winograd F(2x2, 3x3)
 *            (winograd.h) when 2D with a 3x3 filter, stride 1 and at least NN_WINO_MIN_CIN input channels;
 *            ConvLocal by one GEMM per output position over the batch.
 *   kernel   K <- w^2 A(K) + b^2, Theta <- w^2 A(Theta) + K, A = the window mean with the same offset on both
 *            positions (DESIGN 2.1). Conv keeps off-diagonal position pairs; ConvLocal's outputs at distinct
 *            positions are independent (unshared weights and biases), so its off-diagonal entries are 0 and
 *            its diagonal is that of Conv (NT's ConvLocal).
 * Layouts: activations (n, P, C) row-major; im2col rows are windows of length K = F Cin with entry d Cin + c,
 * ordered image-major (i, o) for Conv or position-major (o, i) for ConvLocal. */
#ifndef LAYER_PASS
#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "layer.h"

/* Winograd F(2x2, 3x3) for a Conv layer when it is 2D with a 3x3 filter and stride 1 and has at least
 * NN_WINO_MIN_CIN input channels: with fewer, the transforms cost more than the multiplications they save
 * (the measured crossover is in docs/training.md). Blocks hold about NN_WINO_BLOCK bytes of transformed planes
 * (V and M), sized for the L2 cache. */
#define NN_WINO_MIN_CIN 8
#define NN_WINO_BLOCK ((size_t)1 << 20)

static void wino_setup(dml_net_layer *ly, const dml_layer *d, size_t elt)
{
    if (d->nd != 2 || d->filter[0] != 3 || d->filter[1] != 3 || d->stride[0] != 1 || d->stride[1] != 1 ||
        d->in_channels < NN_WINO_MIN_CIN)
        return;
    nn_wino *g = &ly->wino;
    g->H = d->in_size[0];
    g->W = d->in_size[1];
    g->Ho = d->out_size[0];
    g->Wo = d->out_size[1];
    g->pad_y = d->pad_lo[0];
    g->pad_x = d->pad_lo[1];
    g->circular = d->padding == DML_PAD_CIRCULAR;
    g->ty = (g->Ho + 1) / 2;
    g->tx = (g->Wo + 1) / 2;
    g->tiles = (size_t)g->ty * g->tx;
    g->chunk = NN_WINO_BLOCK / (16 * elt * (size_t)(d->in_channels + d->out_channels));
    if (g->chunk < 16) g->chunk = 16;
    const char *env = getenv("DMILAB_WINO_CHUNK");
    if (env && atoi(env) > 0) g->chunk = (size_t)atoi(env);
    g->on = 1;
}

static int setup(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err)
{
    const dml_layer *d = ly->d;
    int local = d->kind == DML_LAYER_CONV_LOCAL;
    ly->P_in = dml_layer_positions_in(d);
    ly->P_out = dml_layer_positions_out(d);
    ly->Cin = d->in_channels;
    ly->Cout = d->out_channels;
    if (ly->P_in * ly->Cin != ly->in_numel)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "model", "inconsistent layer list for a finite network");
    if (dml_window_table_build(d, &ly->win)) return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    ly->F = ly->win.F;
    ly->K = (size_t)ly->F * ly->Cin;
    ly->out_numel = ly->P_out * ly->Cout;
    ly->nw = ly->K * ly->Cout * (local ? ly->P_out : 1);
    ly->nb = (size_t)ly->Cout * (local ? ly->P_out : 1);
    ly->chunk = NN_COLS_MAX / (ly->P_out * ly->K);
    if (ly->chunk < 1) ly->chunk = 1;
    if (!local && wino_allowed) wino_setup(ly, d, elt);
    ly->fan_in = (double)ly->K;
    return 0;
}

static void scratch(const dml_net_layer *ly, size_t cap, dml_scratch_need *need)
{
    if (ly->wino.on) {
        size_t tc = ly->wino.chunk, ch = (size_t)(ly->Cin > ly->Cout ? ly->Cin : ly->Cout);
        need->wv = 16 * tc * ly->Cin;
        need->wm = 16 * tc * ly->Cout;
        need->wu = 16 * (size_t)ly->Cin * ly->Cout;
        need->wzero = ch;
    } else if (ly->kind == DML_LAYER_CONV) {
        size_t c = cap < ly->chunk ? cap : ly->chunk;
        need->cols = c * ly->P_out * ly->K;
    } else {
        size_t n = ly->P_out * cap * ly->K;
        if (n > NN_COLS_MAX) n = NN_COLS_MAX;
        if (n < cap * ly->K) n = cap * ly->K;
        need->cols = n;
    }
}

/* ---- kernel rule ---- */

static int input_full(int full_out) { return full_out; }
static int local_input_full(int full_out)
{
    (void)full_out;
    return 0;   /* the diagonal determines ConvLocal's output, full or not */
}

static int plan(dml_kstep *st, dml_error *err)
{
    if (dml_window_table_build(st->d, &st->win))
        return dml_fail(err, DML_ERR_NOMEM, "model", "out of memory for window tables");
    st->P_out = st->win.P_out;
    st->scale = st->d->w_std * st->d->w_std / dml_layer_filter_size(st->d);
    st->b2 = st->d->b_std * st->d->b_std;
    return 0;
}

/* Window sums of K (and T) into SK (ST), then the affine update back into K (T), on the state's
 * representation; the first parameterized layer's NTK is its NNGP (the input has no parameters). */
static void window_affine(const dml_kstep *st, dml_kstate *s, int full)
{
    const dml_window_table *wt = &st->win;
    size_t n = full ? st->P_out * st->P_out : st->P_out;
    double *T = s->T && !s->theta_zero ? s->T : NULL;
    assert(full ? s->rows == st->P_in && s->cols == st->P_in : s->cols == st->P_in);
    if (full) {
        dml_window_full(wt, s->K, s->SK);
        if (T) dml_window_full(wt, T, s->ST);
    } else {
        dml_window_diag(wt, s->K, s->SK);
        if (T) dml_window_diag(wt, T, s->ST);
    }
    dml_kaffine(n, st->scale, st->b2, s->SK, s->K, T ? s->ST : NULL, T);
    if (s->T && s->theta_zero) memcpy(s->T, s->K, sizeof *s->T * n);
    s->theta_zero = 0;
    s->rows = full ? st->P_out : 1;
    s->cols = st->P_out;
}

static void conv_kernel(const dml_kstep *st, dml_kstate *s) { window_affine(st, s, st->full_in); }

static void local_kernel(const dml_kstep *st, dml_kstate *s)
{
    window_affine(st, s, 0);
    if (!st->full_out) return;
    /* the diagonal on a zero full matrix: SK, ST are free after the update */
    size_t P = st->P_out;
    memcpy(s->SK, s->K, sizeof *s->K * P);
    memset(s->K, 0, sizeof *s->K * P * P);
    for (size_t a = 0; a < P; a++) s->K[a * P + a] = s->SK[a];
    if (s->T) {
        memcpy(s->ST, s->T, sizeof *s->T * P);
        memset(s->T, 0, sizeof *s->T * P * P);
        for (size_t a = 0; a < P; a++) s->T[a * P + a] = s->ST[a];
    }
    s->full = 1;
    s->rows = P;
}

/* Effective flops per second of one thread in training, counting a convolution at its direct (im2col) cost
 * (Winograd makes shared-weight layers cheaper) (bench/estimate.sh). */
#define TRAIN_FLOPS_CONV 150e9
#define TRAIN_FLOPS_LOCAL 37e9

/* Per pair: the window sums of K and Theta (F multiply-adds per entry each) and two affine entries. Training:
 * one GEMM of P_out x (F Cin) x Cout per example; scratch: an im2col block, or Winograd planes. */
static void cost(const dml_layer *d, int full, double cap, dml_layer_cost *c)
{
    double Pout = (double)dml_layer_positions_out(d), F = dml_layer_filter_size(d);
    double n = full && d->kind == DML_LAYER_CONV ? Pout * Pout : Pout, K = F * d->in_channels;
    /* window tables have a constant shift per offset (the fused rows) with stride 1 and no wrap-around */
    int gathered = F > 1 && d->padding == DML_PAD_CIRCULAR;
    for (int a = 0; a < d->nd; a++) gathered |= d->stride[a] > 1;
    if (gathered) c->kernel_gathered = 2 * F * n;
    else c->kernel_window = 2 * F * n;
    c->kernel_entries = 2 * n + (full && d->kind == DML_LAYER_CONV_LOCAL ? 2 * Pout * Pout : 0);
    double flops = 2.0 * Pout * K * d->out_channels;
    c->train_seconds = flops / (d->kind == DML_LAYER_CONV ? TRAIN_FLOPS_CONV : TRAIN_FLOPS_LOCAL);
    c->train_out = Pout * d->out_channels;
    if (d->kind == DML_LAYER_CONV)
        c->train_scratch = fmin(cap * Pout * K, (double)NN_COLS_MAX) + 16.0 * 128 * (d->in_channels + d->out_channels);
    else
        c->train_scratch = fmax(fmin(Pout * cap * K, (double)NN_COLS_MAX), cap * K);
}

/* The counts of setup, without building the layer: (F Cin Cout + Cout) weights and biases, times P_out for
 * ConvLocal. */
static size_t num_params(const dml_layer *d)
{
    size_t K = (size_t)dml_layer_filter_size(d) * (size_t)d->in_channels, co = (size_t)d->out_channels;
    return (K * co + co) * (d->kind == DML_LAYER_CONV_LOCAL ? dml_layer_positions_out(d) : 1);
}

#define LAYER_PASS 32
#include "conv.c"
#undef LAYER_PASS
#define LAYER_PASS 64
#include "conv.c"
#undef LAYER_PASS

const dml_layer_ops dml_conv_ops = {
    .setup = setup,
    .scratch = scratch,
    .forward_f32 = conv_forward_f32,
    .forward_f64 = conv_forward_f64,
    .backward_f32 = conv_backward_f32,
    .backward_f64 = conv_backward_f64,
    .kernel_input_full = input_full,
    .kernel_plan = plan,
    .kernel = conv_kernel,
    .cost = cost,
    .num_params = num_params,
};

const dml_layer_ops dml_conv_local_ops = {
    .setup = setup,
    .scratch = scratch,
    .forward_f32 = local_forward_f32,
    .forward_f64 = local_forward_f64,
    .backward_f32 = local_backward_f32,
    .backward_f64 = local_backward_f64,
    .kernel_input_full = local_input_full,
    .kernel_plan = plan,
    .kernel = local_kernel,
    .cost = cost,
    .num_params = num_params,
};

#else /* LAYER_PASS: the float and the double build */
#include "real.h"

void NN(dml_im2col)(const dml_net_layer *ly, const R *X, size_t i0, size_t ni, size_t o0, size_t no, int pos_major,
                    R *cols)
{
    const dml_window_table *t = &ly->win;
    size_t K = ly->K, Pin = ly->P_in, Pout = ly->P_out;
    int Cin = ly->Cin;
    assert(o0 + no <= Pout);
    for (size_t i = 0; i < ni; i++) {
        const R *x = X + (i0 + i) * Pin * (size_t)Cin;
        for (size_t o = 0; o < no; o++) {
            size_t row = pos_major ? o * ni + i : i * no + o;
            R *dst = cols + row * K;
            for (int d = 0; d < t->F; d++) {
                size_t q = (size_t)d * Pout + o0 + o;
                R *c = dst + (size_t)d * Cin;
                if (t->mask[q] != 0.0) {
                    const R *s = x + (size_t)t->idx[q] * Cin;
                    for (int k = 0; k < Cin; k++) c[k] = s[k];
                } else {
                    for (int k = 0; k < Cin; k++) c[k] = 0;
                }
            }
        }
    }
}

/* The adjoint of im2col: dX[window entries] += dcols. */
static void NN(col2im)(const dml_net_layer *ly, R *dX, size_t i0, size_t ni, size_t o0, size_t no, int pos_major,
                       const R *dcols)
{
    const dml_window_table *t = &ly->win;
    size_t K = ly->K, Pin = ly->P_in, Pout = ly->P_out;
    int Cin = ly->Cin;
    for (size_t i = 0; i < ni; i++) {
        R *x = dX + (i0 + i) * Pin * (size_t)Cin;
        for (size_t o = 0; o < no; o++) {
            size_t row = pos_major ? o * ni + i : i * no + o;
            const R *src = dcols + row * K;
            for (int d = 0; d < t->F; d++) {
                size_t q = (size_t)d * Pout + o0 + o;
                if (t->mask[q] == 0.0) continue;
                R *s = x + (size_t)t->idx[q] * Cin;
                const R *c = src + (size_t)d * Cin;
                for (int k = 0; k < Cin; k++) s[k] += c[k];
            }
        }
    }
}

#include "winograd.h"

/* Positions per im2col block of a locally connected layer for a batch of n. */
static size_t NN(local_block)(const dml_net_layer *ly, size_t n)
{
    size_t ob = NN_COLS_MAX / (n * ly->K);
    if (ob < 1) ob = 1;
    if (ob > ly->P_out) ob = ly->P_out;
    return ob;
}

static void NN(conv_forward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, R *Y, size_t n)
{
    R alpha = (R)ly->alpha, beta = (R)ly->beta;
    const R *W = p + ly->w_off, *b = p + ly->b_off;
    size_t Po = ly->P_out;
    int Co = ly->Cout;
    if (ly->wino.on) {
        NN(wino_forward)(ly, s, X, W, alpha, n, Y);
        NN(dml_add_rows)(Y, b, beta, n * Po, (size_t)Co);
        return;
    }
    R *cols = s->cols;
    for (size_t i0 = 0; i0 < n; i0 += ly->chunk) {
        size_t ni = n - i0 < ly->chunk ? n - i0 : ly->chunk;
        assert(ni * Po * ly->K <= s->cols_cap);   /* the workspace holds the chunk's windows */
        NN(dml_im2col)(ly, X, i0, ni, 0, Po, 0, cols);
        GEMM(RM, NT, NT, (int)(ni * Po), Co, (int)ly->K, alpha, cols, (int)ly->K, W, Co, 0, Y + i0 * Po * Co, Co);
    }
    NN(dml_add_rows)(Y, b, beta, n * Po, (size_t)Co);
}

static void NN(conv_backward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, const R *dY, R *dX,
                              R *gp, size_t n)
{
    R alpha = (R)ly->alpha, beta = (R)ly->beta;
    const R *W = p + ly->w_off;
    R *dW = gp ? gp + ly->w_off : NULL, *db = gp ? gp + ly->b_off : NULL;
    R *cols = s->cols, *dcols = s->dcols;
    size_t Po = ly->P_out, K = ly->K;
    int Co = ly->Cout;
    if (dX) memset(dX, 0, sizeof *dX * n * ly->in_numel);
    if (ly->wino.on) {
        if (dW || dX) NN(wino_backward)(ly, s, X, W, alpha, n, dY, dW, dX);
        if (db) NN(dml_sum_rows)(db, dY, beta, n * Po, (size_t)Co);
        return;
    }
    for (size_t i0 = 0; i0 < n && (dW || dX); i0 += ly->chunk) {
        size_t ni = n - i0 < ly->chunk ? n - i0 : ly->chunk;
        assert(ni * Po * K <= s->cols_cap);
        const R *dYc = dY + i0 * Po * Co;
        if (dW) {
            NN(dml_im2col)(ly, X, i0, ni, 0, Po, 0, cols);
            GEMM(RM, TT, NT, (int)K, Co, (int)(ni * Po), alpha, cols, (int)K, dYc, Co, i0 ? 1 : 0, dW, Co);
        }
        if (dX) {
            GEMM(RM, NT, TT, (int)(ni * Po), (int)K, Co, alpha, dYc, Co, W, Co, 0, dcols, (int)K);
            NN(col2im)(ly, dX, i0, ni, 0, Po, 0, dcols);
        }
    }
    if (db) NN(dml_sum_rows)(db, dY, beta, n * Po, (size_t)Co);
}

static void NN(local_forward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, R *Y, size_t n)
{
    R alpha = (R)ly->alpha, beta = (R)ly->beta;
    const R *W = p + ly->w_off, *b = p + ly->b_off;
    R *cols = s->cols;
    size_t Po = ly->P_out, K = ly->K, ob = NN(local_block)(ly, n);
    int Co = ly->Cout;
    for (size_t o0 = 0; o0 < Po; o0 += ob) {
        size_t no = Po - o0 < ob ? Po - o0 : ob;
        assert(no * n * K <= s->cols_cap);
        NN(dml_im2col)(ly, X, 0, n, o0, no, 1, cols);
        for (size_t o = 0; o < no; o++)
            GEMM(RM, NT, NT, (int)n, Co, (int)K, alpha, cols + o * n * K, (int)K, W + (o0 + o) * K * Co, Co, 0,
                 Y + (o0 + o) * Co, (int)(Po * Co));
    }
    NN(dml_add_rows)(Y, b, beta, n, Po * (size_t)Co);
}

static void NN(local_backward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, const R *dY,
                               R *dX, R *gp, size_t n)
{
    R alpha = (R)ly->alpha, beta = (R)ly->beta;
    const R *W = p + ly->w_off;
    R *dW = gp ? gp + ly->w_off : NULL, *db = gp ? gp + ly->b_off : NULL;
    R *cols = s->cols, *dcols = s->dcols;
    size_t Po = ly->P_out, K = ly->K, ob = NN(local_block)(ly, n);
    int Co = ly->Cout;
    int ld = (int)(Po * Co);
    if (dX) memset(dX, 0, sizeof *dX * n * ly->in_numel);
    for (size_t o0 = 0; o0 < Po && (dW || dX); o0 += ob) {
        size_t no = Po - o0 < ob ? Po - o0 : ob;
        assert(no * n * K <= s->cols_cap);
        if (dW) NN(dml_im2col)(ly, X, 0, n, o0, no, 1, cols);
        for (size_t o = 0; o < no; o++) {
            const R *dYo = dY + (o0 + o) * Co;
            if (dW)
                GEMM(RM, TT, NT, (int)K, Co, (int)n, alpha, cols + o * n * K, (int)K, dYo, ld, 0,
                     dW + (o0 + o) * K * Co, Co);
            if (dX)
                GEMM(RM, NT, TT, (int)n, (int)K, Co, alpha, dYo, ld, W + (o0 + o) * K * Co, Co, 0, dcols + o * n * K,
                     (int)K);
        }
        if (dX) NN(col2im)(ly, dX, 0, n, o0, no, 1, dcols);
    }
    if (db) NN(dml_sum_rows)(db, dY, beta, n, Po * (size_t)Co);
}

#endif
