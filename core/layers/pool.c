/* The parameter-free linear layers: Flatten, global average pooling (GAP) and average pooling (AvgPool).
 *   Flatten  finite: (P, C) -> P C numbers (position-major: the same buffer).
 *            kernel: the mean of the position diagonal (NT's stax.Flatten), a number per pair.
 *   GAP      finite: y[c] = mean over positions of x[., c].
 *            kernel: the mean over all position pairs (NT's stax.GlobalAvgPool): needs full covariances.
 *   AvgPool  finite: y[o, c] = (1/F) sum_d x[win(o, d), c], F the window size: padding adds zeros that count
 *            in the mean ('same'), or wraps around ('circular'), or there is none ('valid'); Neural Tangents'
 *            stax.AvgPool with normalize_edges=False, its default. Window, stride and padding follow the
 *            geometry of Conv (DESIGN 2.1, window.h).
 *            kernel: K[o1, o2] <- (1/F^2) sum_{d1, d2} K[win(o1, d1), win(o2, d2)], Theta likewise (no
 *            parameters, so nothing is added): the offsets on the two positions are independent, so the
 *            layer reads off-diagonal entries even to give the diagonal. */
#ifndef LAYER_PASS
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "layer.h"

/* ---- Flatten ---- */

static int flatten_setup(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err)
{
    (void)elt, (void)wino_allowed, (void)err;
    ly->out_numel = ly->in_numel;
    return 0;
}

static int flatten_input_full(int full_out)
{
    (void)full_out;
    return 0;
}

static int pooled_plan(dml_kstep *st, dml_error *err)
{
    (void)err;
    st->P_out = 1;
    return 0;
}

/* The pooled state: one number per pair in K[0] (and T[0]); the NTK is from now on a value (0 when no
 * parameterized layer came before). */
static void pooled(dml_kstate *s, double k, double t)
{
    s->K[0] = k;
    if (s->T) {
        s->T[0] = s->theta_zero ? 0.0 : t;
        s->theta_zero = 0;
    }
    s->full = 0;
    s->rows = s->cols = 1;
}

static void flatten_kernel(const dml_kstep *st, dml_kstate *s)
{
    if (st->d->nd == 0) return;   /* flat already (the row stage, flat data): the identity */
    assert(!s->full && s->cols == st->P_in);
    size_t n = s->cols;
    pooled(s, dml_ksum(s->K, n) / (double)n, s->T && !s->theta_zero ? dml_ksum(s->T, n) / (double)n : 0.0);
}

static void flatten_cost(const dml_layer *d, int full, double cap, dml_layer_cost *c)
{
    (void)full, (void)cap;
    c->kernel_entries = 2.0 * (double)dml_layer_positions_in(d);
    c->train_out = (double)dml_layer_positions_in(d) * d->in_channels;
}

/* ---- GAP ---- */

static int gap_setup(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err)
{
    (void)elt, (void)wino_allowed;
    ly->P_in = dml_layer_positions_in(ly->d);
    ly->Cin = ly->Cout = ly->d->in_channels;
    if (ly->P_in * ly->Cin != ly->in_numel)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "model", "inconsistent layer list for a finite network");
    ly->out_numel = (size_t)ly->Cin;
    return 0;
}

static int gap_input_full(int full_out)
{
    (void)full_out;
    return 1;
}

static void gap_kernel(const dml_kstep *st, dml_kstate *s)
{
    (void)st;
    if (!s->full) {
        /* a self trajectory on the diagonal only: GAP's self covariance needs all pairs (the engine then runs
         * full self trajectories when a later layer needs it) */
        pooled(s, NAN, NAN);
        return;
    }
    size_t n = s->rows * s->cols;
    pooled(s, dml_ksum(s->K, n) / (double)n, s->T && !s->theta_zero ? dml_ksum(s->T, n) / (double)n : 0.0);
}

static void gap_cost(const dml_layer *d, int full, double cap, dml_layer_cost *c)
{
    (void)cap;
    double P = (double)dml_layer_positions_in(d);
    c->kernel_entries = 2.0 * (full ? P * P : P);
    c->train_out = d->in_channels;
}

/* ---- AvgPool ---- */

static int avg_setup(dml_net_layer *ly, size_t elt, int wino_allowed, dml_error *err)
{
    (void)elt, (void)wino_allowed;
    const dml_layer *d = ly->d;
    ly->P_in = dml_layer_positions_in(d);
    ly->P_out = dml_layer_positions_out(d);
    ly->Cin = ly->Cout = d->in_channels;
    if (ly->P_in * ly->Cin != ly->in_numel)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "model", "inconsistent layer list for a finite network");
    if (dml_window_table_build(d, &ly->win)) return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    ly->F = ly->win.F;
    ly->out_numel = ly->P_out * (size_t)ly->Cout;
    return 0;
}

static int avg_input_full(int full_out)
{
    (void)full_out;
    return 1;
}

static int avg_plan(dml_kstep *st, dml_error *err)
{
    if (dml_window_table_build(st->d, &st->win))
        return dml_fail(err, DML_ERR_NOMEM, "model", "out of memory for window tables");
    st->P_out = st->win.P_out;
    double F = dml_layer_filter_size(st->d);
    st->scale = 1.0 / (F * F);
    return 0;
}

/* Pool one matrix `*m` of the state into `*spare` and swap the two; tmp: P_out x P_in scratch. */
static void avg_one(const dml_kstep *st, double **m, double **spare, double *tmp)
{
    size_t n = st->full_out ? st->P_out * st->P_out : st->P_out;
    if (st->full_out) dml_window_pool_full(&st->win, *m, tmp, *spare);
    else dml_window_pool_diag(&st->win, *m, *spare);
    dml_kaffine(n, st->scale, 0.0, *spare, *spare, NULL, NULL);
    double *t = *m;
    *m = *spare;
    *spare = t;
}

static void avg_kernel(const dml_kstep *st, dml_kstate *s)
{
    assert(s->full && s->rows == st->P_in && s->cols == st->P_in);
    avg_one(st, &s->K, &s->SK, s->ST);
    if (s->T && !s->theta_zero) avg_one(st, &s->T, &s->ST, s->SK);
    s->full = st->full_out;
    s->rows = st->full_out ? st->P_out : 1;
    s->cols = st->P_out;
}

static void avg_cost(const dml_layer *d, int full, double cap, dml_layer_cost *c)
{
    (void)full, (void)cap;
    double Pin = (double)dml_layer_positions_in(d), Pout = (double)dml_layer_positions_out(d);
    double F = dml_layer_filter_size(d);
    c->kernel_window = 2 * (Pout * F * Pin + Pout * Pout * F);
    c->kernel_entries = 2 * Pout * Pout;
    c->train_out = Pout * d->in_channels;
}

#define LAYER_PASS 32
#include "pool.c"
#undef LAYER_PASS
#define LAYER_PASS 64
#include "pool.c"
#undef LAYER_PASS

const dml_layer_ops dml_flatten_ops = {
    .output_is_input = 1,
    .setup = flatten_setup,
    .kernel_input_full = flatten_input_full,
    .kernel_plan = pooled_plan,
    .kernel = flatten_kernel,
    .cost = flatten_cost,
};

const dml_layer_ops dml_gap_ops = {
    .setup = gap_setup,
    .forward_f32 = gap_forward_f32,
    .forward_f64 = gap_forward_f64,
    .backward_f32 = gap_backward_f32,
    .backward_f64 = gap_backward_f64,
    .kernel_input_full = gap_input_full,
    .kernel_plan = pooled_plan,
    .kernel = gap_kernel,
    .cost = gap_cost,
};

const dml_layer_ops dml_avg_pool_ops = {
    .setup = avg_setup,
    .forward_f32 = avg_forward_f32,
    .forward_f64 = avg_forward_f64,
    .backward_f32 = avg_backward_f32,
    .backward_f64 = avg_backward_f64,
    .kernel_input_full = avg_input_full,
    .kernel_plan = avg_plan,
    .kernel = avg_kernel,
    .cost = avg_cost,
};

#else /* LAYER_PASS: the float and the double build */
#include "real.h"

static void NN(gap_forward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, R *Y, size_t n)
{
    (void)s, (void)p;
    size_t P = ly->P_in;
    int C = ly->Cin;
    R inv = (R)(1.0 / (double)P);
    for (size_t i = 0; i < n; i++) {
        const R *x = X + i * P * C;
        R *y = Y + i * C;
        for (int c = 0; c < C; c++) y[c] = 0;
        for (size_t q = 0; q < P; q++)
            for (int c = 0; c < C; c++) y[c] += x[q * C + c];
        for (int c = 0; c < C; c++) y[c] *= inv;
    }
}

static void NN(gap_backward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, const R *dY, R *dX,
                             R *gp, size_t n)
{
    (void)s, (void)p, (void)X, (void)gp;
    if (!dX) return;
    size_t P = ly->P_in;
    int C = ly->Cin;
    R inv = (R)(1.0 / (double)P);
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < P; q++)
            for (int c = 0; c < C; c++) dX[(i * P + q) * C + c] = dY[i * C + c] * inv;
}

/* y[i, o, c] = (1/F) sum over the real taps d of x[i, idx[d][o], c]. */
static void NN(avg_forward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, R *Y, size_t n)
{
    (void)s, (void)p;
    const dml_window_table *t = &ly->win;
    size_t Pin = ly->P_in, Pout = ly->P_out;
    int C = ly->Cin;
    R inv = (R)(1.0 / (double)t->F);
    for (size_t i = 0; i < n; i++) {
        const R *x = X + i * Pin * C;
        R *y = Y + i * Pout * C;
        for (size_t o = 0; o < Pout; o++) {
            R *yo = y + o * C;
            for (int c = 0; c < C; c++) yo[c] = 0;
            for (int d = 0; d < t->F; d++) {
                size_t q = (size_t)d * Pout + o;
                if (t->mask[q] == 0.0) continue;
                const R *xs = x + (size_t)t->idx[q] * C;
                for (int c = 0; c < C; c++) yo[c] += xs[c];
            }
            for (int c = 0; c < C; c++) yo[c] *= inv;
        }
    }
}

/* The adjoint: dx[i, idx[d][o], c] += dy[i, o, c] / F. */
static void NN(avg_backward)(const dml_net_layer *ly, dml_net_scratch *s, const R *p, const R *X, const R *dY, R *dX,
                             R *gp, size_t n)
{
    (void)s, (void)p, (void)X, (void)gp;
    if (!dX) return;
    const dml_window_table *t = &ly->win;
    size_t Pin = ly->P_in, Pout = ly->P_out;
    int C = ly->Cin;
    R inv = (R)(1.0 / (double)t->F);
    memset(dX, 0, sizeof *dX * n * Pin * C);
    for (size_t i = 0; i < n; i++) {
        R *dx = dX + i * Pin * C;
        const R *dy = dY + i * Pout * C;
        for (size_t o = 0; o < Pout; o++)
            for (int d = 0; d < t->F; d++) {
                size_t q = (size_t)d * Pout + o;
                if (t->mask[q] == 0.0) continue;
                R *xs = dx + (size_t)t->idx[q] * C;
                for (int c = 0; c < C; c++) xs[c] += dy[o * C + c] * inv;
            }
    }
}

#endif
