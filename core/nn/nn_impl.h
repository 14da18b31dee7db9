/* dmilab internal: the finite network's arithmetic, generic in the real type. Included once by nn_f32.c
 * (NN_SINGLE 1: float, cblas_sgemm) and once by nn_f64.c (NN_SINGLE 0: double, cblas_dgemm).
 *
 * Layouts: activations (n, P, C) row-major; im2col rows are windows of length K = F * Cin with entry
 * d * Cin + c (offset d of the window table, channel c), rows ordered image-major (i, o) for Conv (one
 * large GEMM per chunk of images) or position-major (o, i) for ConvLocal (one GEMM per position over the
 * whole batch). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nn_internal.h"

#if NN_SINGLE
typedef float R;
#define GEMM cblas_sgemm
#define NN(x) nn_f32_##x
#define RSQRT sqrtf
#define RERF erff
#define REXP expf
#else
typedef double R;
#define GEMM cblas_dgemm
#define NN(x) nn_f64_##x
#define RSQRT sqrt
#define RERF erf
#define REXP exp
#endif

/* Elementwise loops get AVX-512 / AVX2 builds next to the baseline one, picked at load time (GCC ifunc). */
#ifndef NN_CLONES
#define NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

#define RM CblasRowMajor
#define NT CblasNoTrans
#define TT CblasTrans

void NN(from_double)(R *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (R)src[i];
}

void NN(to_double)(double *dst, const R *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (double)src[i];
}

void NN(init)(dml_net *net, dml_rng *rng)
{
    R *p = net->params;
    for (int l = 0; l < net->n; l++) {
        const nn_layer *ly = &net->lay[l];
        if (!ly->has_params) continue;
        for (size_t j = 0; j < ly->nw; j++) p[ly->w_off + j] = (R)(ly->w_init * dml_rng_normal(rng));
        for (size_t j = 0; j < ly->nb; j++) p[ly->b_off + j] = (R)(ly->b_init * dml_rng_normal(rng));
    }
}

/* Windows of images [i0, i0+ni) at output positions [o0, o0+no) of layer ly, from X (n, P_in, Cin). */
static void NN(im2col)(const nn_layer *ly, const R *X, size_t i0, size_t ni, size_t o0, size_t no, int pos_major,
                       R *cols)
{
    const dml_window_table *t = &ly->win;
    size_t K = ly->K, Pin = ly->P_in, Pout = ly->P_out;
    int Cin = ly->Cin;
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
static void NN(col2im)(const nn_layer *ly, R *dX, size_t i0, size_t ni, size_t o0, size_t no, int pos_major,
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

#include "winograd_impl.h"

/* Positions per im2col block of a locally connected layer for a batch of n. */
static size_t local_block(const nn_layer *ly, size_t n)
{
    size_t ob = NN_COLS_MAX / (n * ly->K);
    if (ob < 1) ob = 1;
    if (ob > ly->P_out) ob = ly->P_out;
    return ob;
}

NN_CLONES static void NN(relu_fwd)(const R *restrict X, R *restrict Y, size_t m)
{
    for (size_t j = 0; j < m; j++) Y[j] = X[j] > 0 ? X[j] : 0;
}

NN_CLONES static void NN(relu_bwd)(const R *restrict X, const R *restrict dY, R *restrict dX, size_t m)
{
    for (size_t j = 0; j < m; j++) dX[j] = X[j] > 0 ? dY[j] : (R)0;
}

/* Y[r, c] += v[c] for r < rows (v = beta * b, per column). */
NN_CLONES static void NN(add_rows)(R *restrict Y, const R *restrict b, R beta, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) Y[r * cols + c] += beta * b[c];
}

/* db[c] = beta * sum_r dY[r, c]. */
NN_CLONES static void NN(sum_rows)(R *restrict db, const R *restrict dY, R beta, size_t rows, size_t cols)
{
    for (size_t c = 0; c < cols; c++) db[c] = 0;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) db[c] += dY[r * cols + c];
    for (size_t c = 0; c < cols; c++) db[c] *= beta;
}

static void NN(act_fwd)(dml_activation a, const R *restrict X, R *restrict Y, size_t m)
{
    if (a == DML_ACT_RELU)
        NN(relu_fwd)(X, Y, m);
    else
        for (size_t j = 0; j < m; j++) Y[j] = RERF(X[j]);
}

static void NN(act_bwd)(dml_activation a, const R *restrict X, const R *restrict dY, R *restrict dX, size_t m)
{
    if (a == DML_ACT_RELU) {
        NN(relu_bwd)(X, dY, dX, m);
    } else {
        const R c = (R)1.1283791670955126;   /* 2 / sqrt(pi) */
        for (size_t j = 0; j < m; j++) dX[j] = dY[j] * c * REXP(-X[j] * X[j]);
    }
}

void NN(forward)(const dml_net *net, nn_ws *ws, size_t n)
{
    const R *p = net->params;
    for (int l = 0; l < net->n; l++) {
        const nn_layer *ly = &net->lay[l];
        const R *X = ws->act[l];
        R *Y = ws->act[l + 1];
        R alpha = (R)ly->alpha, beta = (R)ly->beta;
        const R *W = p + ly->w_off, *b = p + ly->b_off;
        switch (ly->kind) {
        case DML_LAYER_DENSE:
        case DML_LAYER_READOUT: {
            int in = ly->Cin, out = ly->Cout;
            GEMM(RM, NT, NT, (int)n, out, in, alpha, X, in, W, out, 0, Y, out);
            NN(add_rows)(Y, b, beta, n, (size_t)out);
            break;
        }
        case DML_LAYER_CONV: {
            R *cols = ws->cols;
            size_t Po = ly->P_out;
            int Co = ly->Cout;
            if (ly->wino.on) {
                NN(wino_forward)(ly, ws, X, W, alpha, n, Y);
                NN(add_rows)(Y, b, beta, n * Po, (size_t)Co);
                break;
            }
            for (size_t i0 = 0; i0 < n; i0 += ly->chunk) {
                size_t ni = n - i0 < ly->chunk ? n - i0 : ly->chunk;
                NN(im2col)(ly, X, i0, ni, 0, Po, 0, cols);
                GEMM(RM, NT, NT, (int)(ni * Po), Co, (int)ly->K, alpha, cols, (int)ly->K, W, Co, 0,
                     Y + i0 * Po * Co, Co);
            }
            NN(add_rows)(Y, b, beta, n * Po, (size_t)Co);
            break;
        }
        case DML_LAYER_CONV_LOCAL: {
            R *cols = ws->cols;
            size_t Po = ly->P_out, K = ly->K, ob = local_block(ly, n);
            int Co = ly->Cout;
            for (size_t o0 = 0; o0 < Po; o0 += ob) {
                size_t no = Po - o0 < ob ? Po - o0 : ob;
                NN(im2col)(ly, X, 0, n, o0, no, 1, cols);
                for (size_t o = 0; o < no; o++)
                    GEMM(RM, NT, NT, (int)n, Co, (int)K, alpha, cols + o * n * K, (int)K, W + (o0 + o) * K * Co, Co,
                         0, Y + (o0 + o) * Co, (int)(Po * Co));
            }
            NN(add_rows)(Y, b, beta, n, Po * (size_t)Co);
            break;
        }
        case DML_LAYER_ACT:
            NN(act_fwd)(ly->ly->activation, X, Y, n * ly->in_numel);
            break;
        case DML_LAYER_FLATTEN:
            break;   /* act[l + 1] == act[l] */
        case DML_LAYER_GAP: {
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
            break;
        }
        }
    }
}

/* ---- empirical NTK: per-layer Gram of the parameter Jacobians ---- */

/* A[l]: (n*Po) x (n*Po) Gram of the input windows (Conv/ConvLocal) or n x n of the inputs (Dense). */
static double *NN(gram_inputs)(const nn_layer *ly, const R *X, size_t n, size_t *An)
{
    size_t rows = ly->kind == DML_LAYER_CONV || ly->kind == DML_LAYER_CONV_LOCAL ? n * ly->P_out : n;
    size_t K = ly->kind == DML_LAYER_CONV || ly->kind == DML_LAYER_CONV_LOCAL ? ly->K : (size_t)ly->Cin;
    R *cols = NULL;
    const R *M = X;
    if (ly->kind == DML_LAYER_CONV || ly->kind == DML_LAYER_CONV_LOCAL) {
        cols = malloc(sizeof *cols * rows * K);
        if (!cols) return NULL;
        NN(im2col)(ly, X, 0, n, 0, ly->P_out, 0, cols);
        M = cols;
    }
    R *G = malloc(sizeof *G * rows * rows);
    double *A = malloc(sizeof *A * rows * rows);
    if (G && A) {
        GEMM(RM, NT, TT, (int)rows, (int)rows, (int)K, 1, M, (int)K, M, (int)K, 0, G, (int)rows);
        for (size_t j = 0; j < rows * rows; j++) A[j] = G[j];
        *An = rows;
    } else {
        free(A);
        A = NULL;
    }
    free(G);
    free(cols);
    return A;
}

/* T[i,j] += alpha^2 sum A∘B + beta^2 sum B over the (o, o') pairs of examples i, j (o == o' for ConvLocal),
 * B = dY dY^T. Returns -1 when out of memory. */
static int NN(gram_layer)(const dml_net *net, const nn_ws *ws, int l, const R *dY, size_t n, nn_gram *gr)
{
    const nn_layer *ly = &net->lay[l];
    if (!gr->A[l]) {
        gr->A[l] = NN(gram_inputs)(ly, ws->act[l], n, &gr->An[l]);
        if (!gr->A[l]) return -1;
    }
    size_t P = gr->An[l] / n;
    size_t rows = gr->An[l];
    int Co = ly->Cout;
    R *G = malloc(sizeof *G * rows * rows);
    if (!G) return -1;
    GEMM(RM, NT, TT, (int)rows, (int)rows, Co, 1, dY, Co, dY, Co, 0, G, (int)rows);
    const double *A = gr->A[l];
    double a2 = ly->alpha * ly->alpha, b2 = ly->beta * ly->beta;
    int local = ly->kind == DML_LAYER_CONV_LOCAL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double sab = 0.0, sb = 0.0;
            for (size_t o = 0; o < P; o++) {
                size_t r = (i * P + o) * rows + j * P;
                if (local) {
                    sab += A[r + o] * G[r + o];
                    sb += G[r + o];
                } else {
                    for (size_t o2 = 0; o2 < P; o2++) {
                        sab += A[r + o2] * G[r + o2];
                        sb += G[r + o2];
                    }
                }
            }
            gr->T[i * n + j] += a2 * sab + b2 * sb;
        }
    free(G);
    return 0;
}

/* Backward pass after NN(forward) on the same n examples. gout (n, outputs): gradient of a scalar with
 * respect to the outputs. gparams (nparams) receives the parameter gradients (NULL: skipped), gx the input
 * gradient (NULL: skipped). gram: accumulate the empirical-NTK Gram instead (may be NULL). */
void NN(backward)(const dml_net *net, nn_ws *ws, size_t n, const R *gout, R *gparams, R *gx, nn_gram *gram)
{
    const R *p = net->params;
    R *bufs[2] = {ws->g[0], ws->g[1]};
    int cur = 0;
    R *dY = bufs[0];
    int first_param = net->n;   /* input gradients below the first parameterized layer are not needed */
    for (int l = 0; l < net->n; l++)
        if (net->lay[l].has_params) {
            first_param = l;
            break;
        }
    memcpy(dY, gout, sizeof *dY * n * (size_t)net->outputs);
    for (int l = net->n - 1; l >= 0; l--) {
        const nn_layer *ly = &net->lay[l];
        const R *X = ws->act[l];
        int need_dx = l > first_param || gx != NULL;
        R *dX = l == 0 && gx ? gx : bufs[1 - cur];
        R alpha = (R)ly->alpha, beta = (R)ly->beta;
        const R *W = p + ly->w_off;
        R *dW = gparams ? gparams + ly->w_off : NULL, *db = gparams ? gparams + ly->b_off : NULL;
        if (ly->has_params && gram && NN(gram_layer)(net, ws, l, dY, n, gram)) gram->failed = 1;
        switch (ly->kind) {
        case DML_LAYER_DENSE:
        case DML_LAYER_READOUT: {
            int in = ly->Cin, out = ly->Cout;
            if (dW) {
                GEMM(RM, TT, NT, in, out, (int)n, alpha, X, in, dY, out, 0, dW, out);
                NN(sum_rows)(db, dY, beta, n, (size_t)out);
            }
            if (need_dx) GEMM(RM, NT, TT, (int)n, in, out, alpha, dY, out, W, out, 0, dX, in);
            break;
        }
        case DML_LAYER_CONV: {
            R *cols = ws->cols, *dcols = ws->dcols;
            size_t Po = ly->P_out, K = ly->K;
            int Co = ly->Cout;
            if (need_dx) memset(dX, 0, sizeof *dX * n * ly->in_numel);
            if (ly->wino.on) {
                if (dW || need_dx) NN(wino_backward)(ly, ws, X, W, alpha, n, dY, dW, need_dx ? dX : NULL);
                if (db) NN(sum_rows)(db, dY, beta, n * Po, (size_t)Co);
                break;
            }
            for (size_t i0 = 0; i0 < n && (dW || need_dx); i0 += ly->chunk) {
                size_t ni = n - i0 < ly->chunk ? n - i0 : ly->chunk;
                const R *dYc = dY + i0 * Po * Co;
                if (dW) {
                    NN(im2col)(ly, X, i0, ni, 0, Po, 0, cols);
                    GEMM(RM, TT, NT, (int)K, Co, (int)(ni * Po), alpha, cols, (int)K, dYc, Co, i0 ? 1 : 0, dW, Co);
                }
                if (need_dx) {
                    GEMM(RM, NT, TT, (int)(ni * Po), (int)K, Co, alpha, dYc, Co, W, Co, 0, dcols, (int)K);
                    NN(col2im)(ly, dX, i0, ni, 0, Po, 0, dcols);
                }
            }
            if (db) NN(sum_rows)(db, dY, beta, n * Po, (size_t)Co);
            break;
        }
        case DML_LAYER_CONV_LOCAL: {
            R *cols = ws->cols, *dcols = ws->dcols;
            size_t Po = ly->P_out, K = ly->K, ob = local_block(ly, n);
            int Co = ly->Cout;
            int ld = (int)(Po * Co);
            if (need_dx) memset(dX, 0, sizeof *dX * n * ly->in_numel);
            for (size_t o0 = 0; o0 < Po && (dW || need_dx); o0 += ob) {
                size_t no = Po - o0 < ob ? Po - o0 : ob;
                if (dW) NN(im2col)(ly, X, 0, n, o0, no, 1, cols);
                for (size_t o = 0; o < no; o++) {
                    const R *dYo = dY + (o0 + o) * Co;
                    if (dW)
                        GEMM(RM, TT, NT, (int)K, Co, (int)n, alpha, cols + o * n * K, (int)K, dYo, ld, 0,
                             dW + (o0 + o) * K * Co, Co);
                    if (need_dx)
                        GEMM(RM, NT, TT, (int)n, (int)K, Co, alpha, dYo, ld, W + (o0 + o) * K * Co, Co, 0,
                             dcols + o * n * K, (int)K);
                }
                if (need_dx) NN(col2im)(ly, dX, 0, n, o0, no, 1, dcols);
            }
            if (db) NN(sum_rows)(db, dY, beta, n, Po * (size_t)Co);
            break;
        }
        case DML_LAYER_ACT:
            if (need_dx) NN(act_bwd)(ly->ly->activation, X, dY, dX, n * ly->in_numel);
            break;
        case DML_LAYER_FLATTEN:
            if (l == 0 && gx) memcpy(gx, dY, sizeof *gx * n * ly->in_numel);
            continue;   /* same buffer */
        case DML_LAYER_GAP: {
            if (!need_dx) break;
            size_t P = ly->P_in;
            int C = ly->Cin;
            R inv = (R)(1.0 / (double)P);
            for (size_t i = 0; i < n; i++)
                for (size_t q = 0; q < P; q++)
                    for (int c = 0; c < C; c++) dX[(i * P + q) * C + c] = dY[i * C + c] * inv;
            break;
        }
        }
        if (l == 0) break;
        cur = 1 - cur;
        dY = bufs[cur];
    }
}

/* Loss of n outputs (act[n]) against y (n, k) or labels, gradient into gout (n, k), both scaled by
 * 1/denom (the whole batch size when a batch is split into micro-batches). Returns the summed loss / denom. */
double NN(loss_grad)(const dml_net *net, const nn_ws *ws, dml_loss loss, size_t n, size_t denom, const R *y,
                     const int *lab, R *gout)
{
    const R *f = ws->act[net->n];
    int k = net->outputs;
    double total = 0.0;
    R inv = (R)(1.0 / (double)denom);
    for (size_t i = 0; i < n; i++) {
        const R *fi = f + i * k;
        R *gi = gout + i * k;
        if (loss == DML_LOSS_MSE) {
            double s = 0.0;
            for (int c = 0; c < k; c++) {
                R d = fi[c] - y[i * k + c];
                s += (double)d * d;
                gi[c] = d * inv;
            }
            total += 0.5 * s;
        } else {
            int t = 0;
            if (lab) t = lab[i];
            else
                for (int c = 1; c < k; c++)
                    if (y[i * k + c] > y[i * k + t]) t = c;
            double mx = fi[0];
            for (int c = 1; c < k; c++)
                if (fi[c] > mx) mx = fi[c];
            double z = 0.0;
            for (int c = 0; c < k; c++) z += exp((double)fi[c] - mx);
            double lz = log(z) + mx;
            total += lz - fi[t];
            for (int c = 0; c < k; c++) gi[c] = (R)((exp((double)fi[c] - lz) - (c == t ? 1.0 : 0.0)) / (double)denom);
        }
    }
    return total / (double)denom;
}

/* ---- training and prediction: data parallel over per-thread workspaces ---- */

static int nthreads(const dml_net *net) { return net->threads < NN_MAX_THREADS ? net->threads : NN_MAX_THREADS; }

typedef struct {
    dml_net *net;
    const R *X, *Y;
    const int *lab;
    size_t n, T;
    double *out;                       /* predict: (n, outputs) doubles */
    double sse[NN_MAX_THREADS];
    size_t correct[NN_MAX_THREADS];
} NN(eval_ctx);

/* Task t: examples [n t / T, n (t+1) / T) in chunks of its workspace's capacity. */
static int NN(eval_task)(size_t t, int worker, void *vc)
{
    (void)worker;
    NN(eval_ctx) *c = vc;
    const dml_net *net = c->net;
    nn_ws *ws = &c->net->ws[t];
    size_t a = c->n * t / c->T, b = c->n * (t + 1) / c->T, D = net->in_numel;
    int k = net->outputs;
    double sse = 0.0;
    size_t correct = 0;
    for (size_t i0 = a; i0 < b; i0 += ws->cap) {
        size_t m = b - i0 < ws->cap ? b - i0 : ws->cap;
        memcpy(ws->act[0], c->X + i0 * D, sizeof(R) * m * D);
        NN(forward)(net, ws, m);
        const R *f = ws->act[net->n];
        if (c->out) NN(to_double)(c->out + i0 * k, f, m * k);
        if (!c->Y) continue;
        for (size_t i = 0; i < m; i++) {
            int best = 0;
            for (int j = 0; j < k; j++) {
                double d = (double)f[i * k + j] - c->Y[(i0 + i) * k + j];
                sse += d * d;
                if (f[i * k + j] > f[i * k + best]) best = j;
            }
            if (c->lab) correct += best == c->lab[i0 + i];
        }
    }
    c->sse[t] = sse;
    c->correct[t] = correct;
    return 0;
}

/* Squared error summed over outputs (mean over examples) and argmax accuracy on X (n, in) against Y / labels. */
static void NN(evaluate)(dml_net *net, const R *X, const R *Y, const int *lab, size_t n, double *mse, double *acc)
{
    NN(eval_ctx) c = {.net = net, .X = X, .Y = Y, .lab = lab, .n = n, .T = (size_t)nthreads(net)};
    nn_parallel(net, c.T, NN(eval_task), &c);
    double sse = 0.0;
    size_t correct = 0;
    for (size_t t = 0; t < c.T; t++) {
        sse += c.sse[t];
        correct += c.correct[t];
    }
    *mse = n ? sse / (double)n : NAN;
    *acc = lab && n ? (double)correct / (double)n : NAN;
}

int NN(predict)(dml_net *net, const double *x, size_t n, double *out, dml_error *err)
{
    int T = nthreads(net);
    size_t per = (n + (size_t)T - 1) / (size_t)T;
    if (per > NN_MICRO_MAX) per = NN_MICRO_MAX;
    if (per < 1) per = 1;
    for (int t = 0; t < T; t++)
        if (nn_reserve(net, t, per, 0, err)) return -1;
    R *X = malloc(sizeof *X * (n ? n : 1) * net->in_numel);
    if (!X) return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    NN(from_double)(X, x, n * net->in_numel);
    NN(eval_ctx) c = {.net = net, .X = X, .n = n, .T = (size_t)T, .out = out};
    nn_parallel(net, c.T, NN(eval_task), &c);
    free(X);
    return 0;
}

typedef struct {
    dml_net *net;
    const R *X, *Y;
    const int *lab;
    const size_t *perm;
    size_t s0, m, T, denom;
    dml_loss loss;
    double loss_part[NN_MAX_THREADS];
} NN(step_ctx);

/* Task t: forward, loss and backward of slice t of the micro-batch perm[s0 .. s0 + m). */
static int NN(step_task)(size_t t, int worker, void *vc)
{
    (void)worker;
    NN(step_ctx) *c = vc;
    const dml_net *net = c->net;
    nn_ws *ws = &c->net->ws[t];
    size_t a = c->m * t / c->T, b = c->m * (t + 1) / c->T, D = net->in_numel, k = (size_t)net->outputs;
    c->loss_part[t] = 0.0;
    if (b == a) return 0;
    R *x0 = ws->act[0], *y = ws->y;
    for (size_t i = 0; i < b - a; i++) {
        size_t src = c->perm[c->s0 + a + i];
        memcpy(x0 + i * D, c->X + src * D, sizeof *x0 * D);
        memcpy(y + i * k, c->Y + src * k, sizeof *y * k);
        ws->lab[i] = c->lab ? c->lab[src] : 0;
    }
    NN(forward)(net, ws, b - a);
    c->loss_part[t] = NN(loss_grad)(net, ws, c->loss, b - a, c->denom, y, c->lab ? ws->lab : NULL, ws->gout);
    NN(backward)(net, ws, b - a, ws->gout, ws->grads, NULL, NULL);
    return 0;
}

int NN(train)(dml_net *net, const dml_train_config *cfg, const dml_dataset *tr, const dml_dataset *te,
              dml_train_result *res, dml_train_progress progress, void *ctx, dml_error *err)
{
    size_t N = tr->n, D = net->in_numel, np = net->nparams;
    int k = net->outputs, T = nthreads(net);
    size_t Nte = te ? te->n : 0;
    size_t B = cfg->method == DML_OPT_GD ? N : (size_t)cfg->batch;
    if (B > N) B = N;
    size_t micro = B < NN_MICRO_MAX ? B : NN_MICRO_MAX;
    size_t per = (micro + (size_t)T - 1) / (size_t)T;
    for (int t = 0; t < T; t++)
        if (nn_reserve(net, t, per, 1, err)) return -1;

    int eval_every = cfg->eval_every > 0 ? cfg->eval_every : (cfg->epochs + 9) / 10;
    if (eval_every < 1) eval_every = 1;
    R *Xtr = malloc(sizeof *Xtr * N * D), *Ytr = malloc(sizeof *Ytr * N * k);
    R *Xte = Nte ? malloc(sizeof *Xte * Nte * D) : NULL, *Yte = Nte ? malloc(sizeof *Yte * Nte * k) : NULL;
    R *m1 = calloc(np, sizeof *m1), *m2 = cfg->method == DML_OPT_ADAM ? calloc(np, sizeof *m2) : NULL;
    size_t *perm = malloc(sizeof *perm * N);
    NN(step_ctx) *sc = calloc(1, sizeof *sc);
    res->curve = calloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1), sizeof *res->curve);
    int rc = 0;
    if (!Xtr || !Ytr || (Nte && (!Xte || !Yte)) || !m1 || (cfg->method == DML_OPT_ADAM && !m2) || !perm || !sc ||
        !res->curve) {
        rc = dml_fail(err, DML_ERR_NOMEM, "", "out of memory for training");
        goto done;
    }
    NN(from_double)(Xtr, tr->x, N * D);
    NN(from_double)(Ytr, tr->y, N * k);
    if (Nte) {
        NN(from_double)(Xte, te->x, Nte * D);
        NN(from_double)(Yte, te->y, Nte * k);
    }
    for (size_t i = 0; i < N; i++) perm[i] = i;
    dml_rng rng;
    uint64_t keys[2] = {cfg->shuffle_seed, 1};
    dml_rng_seed(&rng, keys, 2);
    *sc = (NN(step_ctx)){.net = net, .X = Xtr, .Y = Ytr, .lab = tr->label, .perm = perm, .T = (size_t)T,
                         .loss = cfg->loss};

    size_t steps_per_epoch = (N + B - 1) / B;
    size_t Tsteps = steps_per_epoch * (size_t)cfg->epochs, t = 0;
    R *P = net->params, *G = net->grads;
    double b1 = cfg->beta1, b2 = cfg->beta2, b1t = 1.0, b2t = 1.0;
    R mu = (R)cfg->momentum, wd = (R)cfg->weight_decay;
    res->n_curve = 0;
    res->diverged = 0;
    for (int ep = 0; ep < cfg->epochs; ep++) {
        if (cfg->method != DML_OPT_GD) dml_rng_permutation(&rng, perm, N);
        double ep_loss = 0.0;
        for (size_t s0 = 0; s0 < N; s0 += B, t++) {
            size_t bs = N - s0 < B ? N - s0 : B;
            double bl = 0.0;
            int first = 1;
            for (size_t m0 = 0; m0 < bs; m0 += micro) {
                sc->s0 = s0 + m0;
                sc->m = bs - m0 < micro ? bs - m0 : micro;
                sc->denom = bs;
                nn_parallel(net, (size_t)T, NN(step_task), sc);
                for (int w = 0; w < T; w++) {
                    size_t a = sc->m * (size_t)w / (size_t)T, b = sc->m * (size_t)(w + 1) / (size_t)T;
                    if (a == b) continue;
                    bl += sc->loss_part[w];
                    const R *gw = net->ws[w].grads;
                    if (first) memcpy(G, gw, sizeof *G * np);
                    else
                        for (size_t j = 0; j < np; j++) G[j] += gw[j];
                    first = 0;
                }
            }
            ep_loss += bl * (double)bs;
            if (!isfinite(bl)) {
                res->diverged = 1;
                break;
            }
            double lr = cfg->lr;
            if (cfg->schedule == DML_SCHED_COSINE && Tsteps > 0)
                lr *= 0.5 * (1.0 + cos(M_PI * (double)t / (double)Tsteps));
            R rlr = (R)lr;
            if (cfg->method == DML_OPT_ADAM) {
                b1t *= b1;
                b2t *= b2;
                R c1 = (R)(1.0 / (1.0 - b1t)), c2 = (R)(1.0 / (1.0 - b2t));
                R rb1 = (R)b1, rb2 = (R)b2, eps = (R)cfg->eps;
                for (size_t j = 0; j < np; j++) {
                    R gj = G[j] + wd * P[j];
                    m1[j] = rb1 * m1[j] + (1 - rb1) * gj;
                    m2[j] = rb2 * m2[j] + (1 - rb2) * gj * gj;
                    P[j] -= rlr * (m1[j] * c1) / (RSQRT(m2[j] * c2) + eps);
                }
            } else if (mu != 0) {
                for (size_t j = 0; j < np; j++) {
                    R gj = G[j] + wd * P[j];
                    m1[j] = mu * m1[j] + gj;
                    P[j] -= rlr * (cfg->nesterov ? gj + mu * m1[j] : m1[j]);
                }
            } else {
                for (size_t j = 0; j < np; j++) P[j] -= rlr * (G[j] + wd * P[j]);
            }
        }
        dml_train_epoch *c = &res->curve[res->n_curve++];
        c->epoch = ep + 1;
        c->train_loss = ep_loss / (double)N;
        c->test_mse = c->test_accuracy = NAN;
        if (res->diverged) break;
        if (Nte && ((ep + 1) % eval_every == 0 || ep + 1 == cfg->epochs)) {
            NN(evaluate)(net, Xte, Yte, te->label, Nte, &c->test_mse, &c->test_accuracy);
            c->evaluated = 1;
        }
        if (progress && progress(ctx, ep + 1, cfg->epochs)) {
            rc = dml_fail(err, DML_ERR_CANCELLED, "", "training cancelled");
            goto done;
        }
    }
    if (res->diverged) {
        res->test_mse = res->test_accuracy = res->train_mse = res->train_accuracy = NAN;
    } else {
        if (Nte) NN(evaluate)(net, Xte, Yte, te->label, Nte, &res->test_mse, &res->test_accuracy);
        else res->test_mse = res->test_accuracy = NAN;
        NN(evaluate)(net, Xtr, Ytr, tr->label, N, &res->train_mse, &res->train_accuracy);
    }
done:
    free(Xtr);
    free(Ytr);
    free(Xte);
    free(Yte);
    free(m1);
    free(m2);
    free(perm);
    free(sc);
    if (rc) {
        free(res->curve);
        res->curve = NULL;
        res->n_curve = 0;
    }
    return rc;
}

#undef GEMM
#undef NN
#undef RSQRT
#undef RERF
#undef REXP
