/* dmilab internal: the finite network's passes over its layer list, generic in the real type: forward and
 * backward (each layer's own pass from the layer table, core/layers/), the empirical-NTK Gram, the loss, and
 * data-parallel training and prediction. Included once by nn_f32.c (NN_SINGLE 1: float, cblas_sgemm) and
 * once by nn_f64.c (NN_SINGLE 0: double, cblas_dgemm). Activations are (n, P, C) row-major. */
#include <assert.h>
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
        const dml_net_layer *ly = &net->lay[l];
        if (!ly->has_params) continue;
        for (size_t j = 0; j < ly->nw; j++) p[ly->w_off + j] = (R)(ly->w_init * dml_rng_normal(rng));
        for (size_t j = 0; j < ly->nb; j++) p[ly->b_off + j] = (R)(ly->b_init * dml_rng_normal(rng));
    }
}

/* The layer's pass of this precision (a row of dml_layer_table). */
#if NN_SINGLE
#define LAYER_FORWARD(ops) (ops)->forward_f32
#define LAYER_BACKWARD(ops) (ops)->backward_f32
#define IM2COL dml_im2col_f32
#else
#define LAYER_FORWARD(ops) (ops)->forward_f64
#define LAYER_BACKWARD(ops) (ops)->backward_f64
#define IM2COL dml_im2col_f64
#endif

void NN(forward)(const dml_net *net, nn_ws *ws, size_t n)
{
    assert(n <= ws->cap);
    const R *p = net->params;
    for (int l = 0; l < net->n; l++) {
        const dml_net_layer *ly = &net->lay[l];
        const dml_layer_ops *ops = dml_layer_table[ly->kind];
        if (ops->output_is_input) {
            assert(ws->act[l + 1] == ws->act[l]);
            continue;
        }
        assert(l == 0 || net->lay[l - 1].out_numel == ly->in_numel);   /* layers chain */
        LAYER_FORWARD(ops)(ly, &ws->s, p, ws->act[l], ws->act[l + 1], n);
    }
}

/* ---- empirical NTK: per-layer Gram of the parameter Jacobians ---- */

/* A[l]: (n*Po) x (n*Po) Gram of the input windows (Conv/ConvLocal) or n x n of the inputs (Dense). */
static double *NN(gram_inputs)(const dml_net_layer *ly, const R *X, size_t n, size_t *An)
{
    size_t rows = ly->kind == DML_LAYER_CONV || ly->kind == DML_LAYER_CONV_LOCAL ? n * ly->P_out : n;
    size_t K = ly->kind == DML_LAYER_CONV || ly->kind == DML_LAYER_CONV_LOCAL ? ly->K : (size_t)ly->Cin;
    R *cols = NULL;
    const R *M = X;
    if (ly->kind == DML_LAYER_CONV || ly->kind == DML_LAYER_CONV_LOCAL) {
        cols = malloc(sizeof *cols * rows * K);
        if (!cols) return NULL;
        IM2COL(ly, X, 0, n, 0, ly->P_out, 0, cols);
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
    const dml_net_layer *ly = &net->lay[l];
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
        const dml_net_layer *ly = &net->lay[l];
        const dml_layer_ops *ops = dml_layer_table[ly->kind];
        int need_dx = l > first_param || gx != NULL;
        if (ly->has_params && gram && NN(gram_layer)(net, ws, l, dY, n, gram)) gram->failed = 1;
        if (ops->output_is_input) {
            if (l == 0 && gx) memcpy(gx, dY, sizeof *gx * n * ly->in_numel);
            continue;   /* same buffer */
        }
        R *dX = l == 0 && gx ? gx : bufs[1 - cur];
        assert(dY == bufs[cur] && dX != dY);   /* ping-pong: the output gradient is never overwritten in place */
        LAYER_BACKWARD(ops)(ly, &ws->s, p, ws->act[l], dY, need_dx ? dX : NULL, gparams, n);
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
    size_t n;
    double *out;                       /* predict: (n, outputs) doubles */
    double *sse;                       /* evaluate: per slice, ceil(n / NN_SLICE) of each */
    size_t *correct;
} NN(eval_ctx);

static size_t nslices(size_t n) { return (n + NN_SLICE - 1) / NN_SLICE; }

/* Task t: examples [t NN_SLICE, (t + 1) NN_SLICE) in the workspace of the thread running it (cap >= NN_SLICE). */
static int NN(eval_task)(size_t t, int worker, void *vc)
{
    NN(eval_ctx) *c = vc;
    const dml_net *net = c->net;
    nn_ws *ws = &c->net->ws[worker];
    size_t i0 = t * NN_SLICE, m = c->n - i0 < NN_SLICE ? c->n - i0 : NN_SLICE, D = net->in_numel;
    int k = net->outputs;
    double sse = 0.0;
    size_t correct = 0;
    memcpy(ws->act[0], c->X + i0 * D, sizeof(R) * m * D);
    NN(forward)(net, ws, m);
    const R *f = ws->act[net->n];
    if (c->out) NN(to_double)(c->out + i0 * k, f, m * k);
    if (!c->Y) return 0;
    for (size_t i = 0; i < m; i++) {
        int best = 0;
        for (int j = 0; j < k; j++) {
            double d = (double)f[i * k + j] - c->Y[(i0 + i) * k + j];
            sse += d * d;
            if (f[i * k + j] > f[i * k + best]) best = j;
        }
        if (c->lab) correct += best == c->lab[i0 + i];
    }
    c->sse[t] = sse;
    c->correct[t] = correct;
    return 0;
}

/* Squared error summed over outputs (mean over examples) and argmax accuracy on X (n, in) against Y / labels;
 * sse and correct: scratch of nslices(n) entries. Needs workspaces of NN_SLICE examples for every thread. */
static void NN(evaluate)(dml_net *net, const R *X, const R *Y, const int *lab, size_t n, double *sse_part,
                         size_t *correct_part, double *mse, double *acc)
{
    NN(eval_ctx) c = {.net = net, .X = X, .Y = Y, .lab = lab, .n = n, .sse = sse_part, .correct = correct_part};
    size_t S = nslices(n);
    nn_parallel(net, S, NN(eval_task), &c);
    double sse = 0.0;
    size_t correct = 0;
    for (size_t t = 0; t < S; t++) {
        sse += c.sse[t];
        correct += c.correct[t];
    }
    *mse = n ? sse / (double)n : NAN;
    *acc = lab && n ? (double)correct / (double)n : NAN;
}

int NN(predict)(dml_net *net, const double *x, size_t n, double *out, dml_error *err)
{
    int T = nthreads(net);
    for (int t = 0; t < T; t++)
        if (nn_reserve(net, t, NN_SLICE, 0, err)) return -1;
    R *X = malloc(sizeof *X * (n ? n : 1) * net->in_numel);
    if (!X) return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    NN(from_double)(X, x, n * net->in_numel);
    NN(eval_ctx) c = {.net = net, .X = X, .n = n, .out = out};
    nn_parallel(net, nslices(n), NN(eval_task), &c);
    free(X);
    return 0;
}

typedef struct {
    dml_net *net;
    const R *X, *Y;
    const int *lab;
    const size_t *perm;
    size_t s0, m, denom;
    dml_loss loss;
    double loss_part[NN_MICRO_MAX / NN_SLICE];
} NN(step_ctx);

/* Task t: forward, loss and backward of slice t, perm[s0 + t NN_SLICE ..], of the micro-batch perm[s0 .. s0 + m),
 * in workspace t. */
static int NN(step_task)(size_t t, int worker, void *vc)
{
    (void)worker;
    NN(step_ctx) *c = vc;
    const dml_net *net = c->net;
    nn_ws *ws = &c->net->ws[t];
    size_t a = t * NN_SLICE, b = c->m - a < NN_SLICE ? c->m : a + NN_SLICE, D = net->in_numel, k = (size_t)net->outputs;
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
    /* a workspace with its gradient per slice of a micro-batch, and one per thread for the evaluations */
    int K = (int)nslices(micro);
    for (int t = 0; t < K; t++)
        if (nn_reserve(net, t, NN_SLICE, 1, err)) return -1;
    for (int t = K; t < T; t++)
        if (nn_reserve(net, t, NN_SLICE, 0, err)) return -1;

    int eval_every = cfg->eval_every > 0 ? cfg->eval_every : (cfg->epochs + 9) / 10;
    if (eval_every < 1) eval_every = 1;
    R *Xtr = malloc(sizeof *Xtr * N * D), *Ytr = malloc(sizeof *Ytr * N * k);
    R *Xte = Nte ? malloc(sizeof *Xte * Nte * D) : NULL, *Yte = Nte ? malloc(sizeof *Yte * Nte * k) : NULL;
    R *m1 = calloc(np, sizeof *m1), *m2 = cfg->method == DML_OPT_ADAM ? calloc(np, sizeof *m2) : NULL;
    size_t *perm = malloc(sizeof *perm * N), ne = nslices(N > Nte ? N : Nte);
    double *sse_part = malloc(sizeof *sse_part * ne);
    size_t *correct_part = malloc(sizeof *correct_part * ne);
    NN(step_ctx) *sc = calloc(1, sizeof *sc);
    res->curve = calloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1), sizeof *res->curve);
    int rc = 0;
    if (!Xtr || !Ytr || (Nte && (!Xte || !Yte)) || !m1 || (cfg->method == DML_OPT_ADAM && !m2) || !perm || !sc ||
        !sse_part || !correct_part || !res->curve) {
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
    *sc = (NN(step_ctx)){.net = net, .X = Xtr, .Y = Ytr, .lab = tr->label, .perm = perm, .loss = cfg->loss};

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
                size_t ns = nslices(sc->m);
                nn_parallel(net, ns, NN(step_task), sc);
                for (size_t w = 0; w < ns; w++) {
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
            NN(evaluate)(net, Xte, Yte, te->label, Nte, sse_part, correct_part, &c->test_mse, &c->test_accuracy);
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
        if (Nte)
            NN(evaluate)(net, Xte, Yte, te->label, Nte, sse_part, correct_part, &res->test_mse, &res->test_accuracy);
        else res->test_mse = res->test_accuracy = NAN;
        NN(evaluate)(net, Xtr, Ytr, tr->label, N, sse_part, correct_part, &res->train_mse, &res->train_accuracy);
    }
done:
    free(Xtr);
    free(Ytr);
    free(Xte);
    free(Yte);
    free(m1);
    free(m2);
    free(perm);
    free(sse_part);
    free(correct_part);
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
#undef LAYER_FORWARD
#undef LAYER_BACKWARD
#undef IM2COL
