/* Finite-width networks: construction from a layer list, workspace, the public API (dispatching to the
 * float or double arithmetic of nn_impl.h), training entry point and empirical kernels. */
#include <cblas.h>
#include <pthread.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/blas_cpu.h"
#include "dmilab/nn.h"
#include "dmilab/rng.h"
#include "nn_internal.h"
#include "../parallel.h"

#define F32(net) ((net)->prec == DML_F32)

static void free_ws(dml_net *net, nn_ws *ws)
{
    free(ws->act[0]);
    for (int l = 0; l < net->n; l++)
        if (!dml_layer_table[net->lay[l].kind]->output_is_input) free(ws->act[l + 1]);
    free(ws->g[0]);
    free(ws->g[1]);
    free(ws->s.cols);
    free(ws->s.dcols);
    free(ws->s.wv);
    free(ws->s.wm);
    free(ws->s.wu);
    free(ws->s.wdu);
    free(ws->s.wzero);
    free(ws->s.wscratch);
    free(ws->grads);
    free(ws->y);
    free(ws->gout);
    free(ws->lab);
    memset(ws, 0, sizeof *ws);
}

int nn_reserve(dml_net *net, int w, size_t cap, int train, dml_error *err)
{
    nn_ws *ws = &net->ws[w];
    if (train) {
        /* training holds its workspaces for the whole run: exactly cap examples, not a larger earlier size */
        if (cap == ws->cap && ws->grads) return 0;
    } else {
        if (cap <= ws->cap) return 0;
    }
    free_ws(net, ws);
    size_t e = net->elt;
    int ok = (ws->act[0] = malloc(e * cap * net->in_numel)) != NULL;
    dml_scratch_need most = {0};
    for (int l = 0; ok && l < net->n; l++) {
        dml_net_layer *ly = &net->lay[l];
        const dml_layer_ops *ops = dml_layer_table[ly->kind];
        if (ops->output_is_input) ws->act[l + 1] = ws->act[l];
        else ok = (ws->act[l + 1] = malloc(e * cap * ly->out_numel)) != NULL;
        dml_scratch_need need = {0};
        if (ops->scratch) ops->scratch(ly, cap, &need);
        if (need.cols > most.cols) most.cols = need.cols;
        if (need.wv > most.wv) most.wv = need.wv;
        if (need.wm > most.wm) most.wm = need.wm;
        if (need.wu > most.wu) most.wu = need.wu;
        if (need.wzero > most.wzero) most.wzero = need.wzero;
    }
    dml_net_scratch *sc = &ws->s;
    if (ok) ok = (ws->g[0] = malloc(e * cap * net->max_numel)) && (ws->g[1] = malloc(e * cap * net->max_numel));
    if (ok && most.cols) ok = (sc->cols = malloc(e * most.cols)) && (sc->dcols = malloc(e * most.cols));
    if (ok && most.wv)
        ok = (sc->wv = malloc(e * most.wv)) && (sc->wm = malloc(e * most.wm)) && (sc->wu = malloc(e * most.wu)) &&
             (sc->wdu = malloc(e * most.wu)) && (sc->wzero = calloc(most.wzero, e)) &&
             (sc->wscratch = malloc(e * 16 * most.wzero));
    sc->cols_cap = most.cols;
    sc->wv_cap = most.wv;
    sc->wm_cap = most.wm;
    if (ok && train) {
        size_t no = cap * (size_t)net->outputs;
        ok = (ws->grads = malloc(e * (net->nparams ? net->nparams : 1))) && (ws->y = malloc(e * no)) &&
             (ws->gout = malloc(e * no)) && (ws->lab = malloc(sizeof(int) * cap));
    }
    if (!ok) {
        free_ws(net, ws);
        return dml_fail(err, DML_ERR_NOMEM, "", "out of memory for a network workspace of %zu examples", cap);
    }
    ws->cap = cap;
    return 0;
}

/* Persistent workers for the length of a dml_train call. Each parallel step bumps a generation counter
 * under a mutex; worker w runs tasks w, w + T, ... (T = live participants, the caller being worker 0) and
 * the caller waits until every worker has finished. Tasks are fixed slices of examples (NN_SLICE) whose
 * results are combined in task order, so results do not depend on which thread ran what, nor on T. */
struct nn_pool {
    int T;                              /* participants: the caller and T - 1 workers */
    pthread_t tid[NN_MAX_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen;
    int pending, quit;
    int (*fn)(size_t, int, void *);
    void *ctx;
    size_t ntasks;
    int wid[NN_MAX_THREADS];
};

static void run_share(struct nn_pool *p, int w)
{
    for (size_t t = (size_t)w; t < p->ntasks; t += (size_t)p->T) p->fn(t, w, p->ctx);
}

static void *pool_main(void *arg)
{
    int *wp = arg;
    struct nn_pool *p = (struct nn_pool *)((char *)(wp - *wp) - offsetof(struct nn_pool, wid));
    int w = *wp;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->gen == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        seen = p->gen;
        int quit = p->quit;
        pthread_mutex_unlock(&p->mu);
        if (quit) break;
        run_share(p, w);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

int nn_pool_start(dml_net *net, dml_error *err)
{
    if (net->threads <= 1 || net->pool) return 0;
    struct nn_pool *p = calloc(1, sizeof *p);
    if (!p) return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->T = 1;
    for (int w = 1; w < net->threads; w++) {
        p->wid[w] = w;
        if (pthread_create(&p->tid[w], NULL, pool_main, &p->wid[w])) break;   /* run with fewer threads */
        p->T = w + 1;
    }
    net->pool = p;
    return 0;
}

void nn_pool_stop(dml_net *net)
{
    struct nn_pool *p = net->pool;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int w = 1; w < p->T; w++) pthread_join(p->tid[w], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p);
    net->pool = NULL;
}

int nn_parallel(const dml_net *net, size_t ntasks, int (*fn)(size_t, int, void *), void *ctx)
{
    struct nn_pool *p = net->pool;
    if (!p) return dml_parallel_for(ntasks, net->threads, fn, ctx);
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    p->pending = p->T - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static dml_net *create_keys(const dml_layers *L, dml_parameterization par, dml_precision prec,
                            const uint64_t *keys, size_t nkeys, int threads, size_t max_batch, dml_error *err)
{
    dml_net *net = calloc(1, sizeof *net);
    if (!net) {
        dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    net->L = *L;
    net->n = L->n;
    net->par = par;
    net->prec = prec;
    net->elt = prec == DML_F32 ? sizeof(float) : sizeof(double);
    net->threads = threads < 1 ? 1 : threads > NN_MAX_THREADS ? NN_MAX_THREADS : threads;
    net->outputs = L->outputs;
    net->in_numel = dml_shape_numel(&L->input);
    net->max_numel = net->in_numel;
    size_t numel = net->in_numel, off = 0;
    const char *conv = getenv("DMILAB_CONV");
    int wino_allowed = !(conv && strcmp(conv, "im2col") == 0);
    for (int l = 0; l < net->n; l++) {
        const dml_layer *d = &net->L.layer[l];
        dml_net_layer *ly = &net->lay[l];
        ly->kind = d->kind;
        ly->d = d;
        ly->in_numel = numel;
        ly->P_in = ly->P_out = 1;
        ly->F = 1;
        if ((unsigned)d->kind >= DML_NLAYER_KINDS) goto bad;
        if (dml_layer_table[d->kind]->setup(ly, net->elt, wino_allowed, err)) {
            dml_net_free(net);
            return NULL;
        }
        if (ly->nw) {
            ly->has_params = 1;
            ly->w_off = off;
            off += ly->nw;
            ly->b_off = off;
            off += ly->nb;
            if (par == DML_PARAM_NTK) {
                ly->alpha = d->w_std / sqrt(ly->fan_in);
                ly->beta = d->b_std;
                ly->w_init = ly->b_init = 1.0;
            } else {
                ly->alpha = ly->beta = 1.0;
                ly->w_init = d->w_std / sqrt(ly->fan_in);
                ly->b_init = d->b_std;
            }
        }
        numel = ly->out_numel;
        if (numel > net->max_numel) net->max_numel = numel;
    }
    if (numel != (size_t)net->outputs) goto bad;
    net->nparams = off;
    net->params = malloc(net->elt * (off ? off : 1));
    net->grads = malloc(net->elt * (off ? off : 1));
    if (!net->params || !net->grads) {
        dml_fail(err, DML_ERR_NOMEM, "", "out of memory for %zu parameters", off);
        dml_net_free(net);
        return NULL;
    }
    dml_rng rng;
    dml_rng_seed(&rng, keys, nkeys);
    if (F32(net)) nn_f32_init(net, &rng);
    else nn_f64_init(net, &rng);
    if (nn_reserve(net, 0, max_batch ? max_batch : 64, 0, err)) {
        dml_net_free(net);
        return NULL;
    }
    return net;
bad:
    dml_fail(err, DML_ERR_INVALID_SPEC, "model", "inconsistent layer list for a finite network");
    dml_net_free(net);
    return NULL;
}

dml_net *dml_net_create(const dml_layers *L, dml_parameterization par, dml_precision prec, uint64_t seed,
                        int threads, size_t max_batch, dml_error *err)
{
    return create_keys(L, par, prec, &seed, 1, threads, max_batch, err);
}

size_t dml_layers_num_params(const dml_layers *L)
{
    size_t params = 0;
    for (int l = 0; l < L->n; l++) params += dml_layer_num_params(&L->layer[l]);
    return params;
}

double dml_train_memory_bytes(const dml_layers *L, dml_precision prec, size_t batch, size_t n_train, size_t n_test,
                              int threads)
{
    double e = prec == DML_F32 ? 4.0 : 8.0;
    int T = threads < 1 ? 1 : threads > NN_MAX_THREADS ? NN_MAX_THREADS : threads;
    double micro = (double)(batch < n_train ? batch : n_train);
    if (micro > NN_MICRO_MAX) micro = NN_MICRO_MAX;
    double cap = NN_SLICE, slices = ceil(micro / NN_SLICE);   /* workspaces of a slice each */
    double spaces = slices > T ? slices : T;                   /* one per slice, and one per thread */
    double in = (double)dml_shape_numel(&L->input), acts = in, maxn = in, cols = 0;
    double params = (double)dml_layers_num_params(L);
    for (int l = 0; l < L->n; l++) {
        const dml_layer *d = &L->layer[l];
        const dml_layer_ops *ops = dml_layer_table[d->kind];
        dml_layer_cost c = {0};
        ops->cost(d, 0, cap, &c);
        if (!ops->output_is_input) acts += c.train_out;
        maxn = fmax(maxn, c.train_out);
        cols = fmax(cols, c.train_scratch);
    }
    double per_space = cap * (acts + 2 * maxn + 2.0 * L->outputs) + 2 * cols;
    double model = 4 * params;                         /* parameters, gradient, two optimizer moments */
    double data = (double)(n_train + n_test) * (in + L->outputs) * (8.0 + e);
    /* + 10% and 256 MiB for what is not counted (allocator slack, the cached IDX files, the process) */
    return 1.1 * (e * (model + spaces * per_space + slices * params /* the slices' gradients */) + data) +
           256.0 * (1 << 20);
}

/* Seconds per parameter and step of the optimizer update and the sum of the per-thread gradients (one
 * thread): sgd with momentum, adam (bench/estimate.sh). */
#define SEC_PER_PARAM_STEP_SGD 1.5e-9
#define SEC_PER_PARAM_STEP_ADAM 6e-9

/* One float32 forward pass of one example on one thread: the layers' own costs. */
static double forward_seconds(const dml_layers *L)
{
    double fwd = 0;
    for (int l = 0; l < L->n; l++) {
        dml_layer_cost c = {0};
        dml_layer_table[L->layer[l].kind]->cost(&L->layer[l], 0, 1, &c);
        fwd += c.train_seconds;
    }
    return fwd;
}

double dml_train_seconds(const dml_layers *L, dml_precision prec, dml_optimizer method, size_t n_train, size_t n_test,
                         int epochs, int batch, int threads)
{
    if (threads < 1) threads = 1;
    double fwd = forward_seconds(L);
    double n = (double)n_train, M = (double)n_test, np = (double)dml_layers_num_params(L);
    /* a micro-batch's slices are the unit of parallel work (NN_SLICE): no more threads than slices help */
    double micro = fmin(fmin(method == DML_OPT_GD || batch < 1 ? n : (double)batch, n), NN_MICRO_MAX);
    double par = fmax(1.0, fmin((double)threads, ceil(micro / NN_SLICE)));
    double p = prec == DML_F64 ? 2.0 : 1.0;
    double steps = method == DML_OPT_GD ? epochs : epochs * ceil(n / (batch > 0 ? batch : 1));
    int evals = (epochs < 10 ? epochs : 10) + 1;
    double per_step = np * (method == DML_OPT_ADAM ? SEC_PER_PARAM_STEP_ADAM : SEC_PER_PARAM_STEP_SGD);
    /* epochs of 3 passes over n_train (forward, input and weight gradients), the test metrics about 10 times,
     * and a final pass over train and test */
    return p * fwd * (3.0 * n * epochs / par + (M * evals + n) / threads) + p * per_step * steps;
}

const char *dml_net_conv_algorithm(const dml_net *net, int i)
{
    if (i < 0 || i >= net->n) return NULL;
    const dml_net_layer *ly = &net->lay[i];
    if (ly->kind == DML_LAYER_CONV_LOCAL) return "local";
    if (ly->kind != DML_LAYER_CONV) return NULL;
    return ly->wino.on ? "winograd" : "im2col";
}

void dml_net_free(dml_net *net)
{
    if (!net) return;
    for (int w = 0; w < NN_MAX_THREADS; w++) free_ws(net, &net->ws[w]);
    for (int l = 0; l < net->n; l++) dml_window_table_free(&net->lay[l].win);
    free(net->params);
    free(net->grads);
    free(net);
}

const dml_layers *dml_net_layers(const dml_net *net) { return &net->L; }
size_t dml_net_num_params(const dml_net *net) { return net->nparams; }
size_t dml_net_input_size(const dml_net *net) { return net->in_numel; }
int dml_net_outputs(const dml_net *net) { return net->outputs; }
dml_precision dml_net_precision(const dml_net *net) { return net->prec; }
void dml_net_set_threads(dml_net *net, int threads)
{
    net->threads = threads < 1 ? 1 : threads > NN_MAX_THREADS ? NN_MAX_THREADS : threads;
}

int dml_net_layer_params(const dml_net *net, int i, size_t *w_off, size_t *nw, size_t *b_off, size_t *nb)
{
    if (i < 0 || i >= net->n || !net->lay[i].has_params) return -1;
    const dml_net_layer *ly = &net->lay[i];
    if (w_off) *w_off = ly->w_off;
    if (nw) *nw = ly->nw;
    if (b_off) *b_off = ly->b_off;
    if (nb) *nb = ly->nb;
    return 0;
}

/* conversions between the public doubles and the network's reals */
static void to_real(const dml_net *net, void *dst, const double *src, size_t n)
{
    if (F32(net)) nn_f32_from_double(dst, src, n);
    else memcpy(dst, src, sizeof(double) * n);
}

static void from_real(const dml_net *net, double *dst, const void *src, size_t n)
{
    if (F32(net)) nn_f32_to_double(dst, src, n);
    else memcpy(dst, src, sizeof(double) * n);
}

void dml_net_get_params(const dml_net *net, double *out) { from_real(net, out, net->params, net->nparams); }
void dml_net_set_params(dml_net *net, const double *in) { to_real(net, net->params, in, net->nparams); }

static void forward(dml_net *net, size_t n)
{
    if (F32(net)) nn_f32_forward(net, &net->ws[0], n);
    else nn_f64_forward(net, &net->ws[0], n);
}

/* Single-workspace calls (backward, loss gradients, empirical kernels) use OpenBLAS's threads; the
 * data-parallel ones (training, prediction) run single-threaded GEMMs on every thread and restore
 * OpenBLAS's previous thread count afterwards. */
static void set_threads(const dml_net *net) { openblas_set_num_threads(net->threads); }

int dml_net_forward(dml_net *net, const double *x, size_t n, double *out, dml_error *err)
{
    dml_blas_single_begin();
    int rc = F32(net) ? nn_f32_predict(net, x, n, out, err) : nn_f64_predict(net, x, n, out, err);
    dml_blas_single_end();
    return rc;
}

int dml_net_predict(dml_net *net, const double *x, size_t n, double *out, dml_error *err)
{
    return dml_net_forward(net, x, n, out, err);
}

/* Backward of n examples already forwarded: gout (reals, n x outputs) -> gparams/gx doubles. */
static int backward_out(dml_net *net, size_t n, const void *gout, double *gparams, double *gx, dml_error *err)
{
    void *gxr = NULL;
    if (gx && !(gxr = malloc(net->elt * n * net->in_numel)))
        return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    if (F32(net)) nn_f32_backward(net, &net->ws[0], n, gout, gparams ? net->grads : NULL, gxr, NULL);
    else nn_f64_backward(net, &net->ws[0], n, gout, gparams ? net->grads : NULL, gxr, NULL);
    if (gparams) from_real(net, gparams, net->grads, net->nparams);
    if (gx) from_real(net, gx, gxr, n * net->in_numel);
    free(gxr);
    return 0;
}

int dml_net_backward(dml_net *net, const double *x, size_t n, const double *gout, double *out, double *gparams,
                     double *gx, dml_error *err)
{
    if (nn_reserve(net, 0, n, 0, err)) return -1;
    set_threads(net);
    size_t no = n * (size_t)net->outputs;
    void *g = malloc(net->elt * (no ? no : 1));
    if (!g) return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    to_real(net, net->ws[0].act[0], x, n * net->in_numel);
    forward(net, n);
    if (out) from_real(net, out, net->ws[0].act[net->n], no);
    to_real(net, g, gout, no);
    int rc = backward_out(net, n, g, gparams, gx, err);
    free(g);
    return rc;
}

int dml_net_loss_grad(dml_net *net, dml_loss loss, const double *x, size_t n, const double *y, const int *labels,
                      double *value, double *gparams, double *gx, dml_error *err)
{
    if (nn_reserve(net, 0, n, 0, err)) return -1;
    set_threads(net);
    size_t no = n * (size_t)net->outputs;
    void *g = malloc(net->elt * (no ? no : 1)), *yr = malloc(net->elt * (no ? no : 1));
    if (!g || !yr) {
        free(g);
        free(yr);
        return dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
    }
    to_real(net, net->ws[0].act[0], x, n * net->in_numel);
    forward(net, n);
    if (y) to_real(net, yr, y, no);
    else memset(yr, 0, net->elt * no);
    double v = F32(net) ? nn_f32_loss_grad(net, &net->ws[0], loss, n, n, yr, labels, g)
                        : nn_f64_loss_grad(net, &net->ws[0], loss, n, n, yr, labels, g);
    if (value) *value = v;
    int rc = backward_out(net, n, g, gparams, gx, err);
    free(g);
    free(yr);
    return rc;
}

/* ---- training ---- */

void dml_train_result_free(dml_train_result *r)
{
    free(r->curve);
    r->curve = NULL;
    r->n_curve = 0;
}

static int check_data(const dml_net *net, const dml_dataset *d, const char *what, dml_error *err)
{
    if (dml_shape_numel(&d->shape) != net->in_numel || d->k != net->outputs)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "", "%s data: %zu numbers x %d outputs per example, the network "
                        "takes %zu x %d", what, dml_shape_numel(&d->shape), d->k, net->in_numel, net->outputs);
    return 0;
}

int dml_train(dml_net *net, const dml_train_config *cfg, const dml_dataset *train, const dml_dataset *test,
              dml_train_result *res, dml_train_progress progress, void *progress_ctx, dml_error *err)
{
    memset(res, 0, sizeof *res);
    if (check_data(net, train, "training", err) || (test && check_data(net, test, "test", err))) return -1;
    if (train->n == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, "", "empty training set");
    if (cfg->epochs < 0 || (cfg->method != DML_OPT_GD && cfg->batch < 1) || !(cfg->lr >= 0))
        return dml_fail(err, DML_ERR_INVALID_SPEC, "", "bad training configuration");
    if (nn_pool_start(net, err)) return -1;
    dml_blas_single_begin();
    int rc = F32(net) ? nn_f32_train(net, cfg, train, test, res, progress, progress_ctx, err)
                      : nn_f64_train(net, cfg, train, test, res, progress, progress_ctx, err);
    dml_blas_single_end();
    nn_pool_stop(net);
    return rc;
}

/* ---- empirical kernels ---- */

/* Per-entry Monte Carlo spread of the per-network estimates e_s (entry i of sample s), by sums shifted by the
 * first sample (stable when the spread is small against the mean). */
typedef struct {
    double *first, *sum, *sq;
} mc_spread;

static int spread_alloc(mc_spread *m, size_t n)
{
    m->first = malloc(sizeof(double) * (n ? n : 1));
    m->sum = calloc(n ? n : 1, sizeof(double));
    m->sq = calloc(n ? n : 1, sizeof(double));
    return m->first && m->sum && m->sq ? 0 : -1;
}

static void spread_free(mc_spread *m)
{
    free(m->first);
    free(m->sum);
    free(m->sq);
}

static inline void spread_add(mc_spread *m, int s, size_t i, double e)
{
    if (s == 0) m->first[i] = e;
    double d = e - m->first[i];
    m->sum[i] += d;
    m->sq[i] += d * d;
}

/* Standard error of the mean of S >= 2 estimates: sample standard deviation / sqrt(S). */
static void spread_se(const mc_spread *m, size_t n, int S, double *se)
{
    for (size_t i = 0; i < n; i++) {
        double v = (m->sq[i] - m->sum[i] * m->sum[i] / S) / (S - 1);
        se[i] = sqrt(v > 0 ? v / S : 0.0);
    }
}

int dml_empirical_kernel(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2,
                         size_t n2, int width, int outputs, int samples, int exact_readout, uint64_t seed,
                         double *nngp, double *ntk, int threads, dml_error *err)
{
    return dml_empirical_kernel_se(m, shape, x1, n1, x2, n2, width, outputs, samples, exact_readout, seed, nngp, ntk,
                                   NULL, NULL, threads, err);
}

int dml_empirical_kernel_se(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2,
                            size_t n2, int width, int outputs, int samples, int exact_readout, uint64_t seed,
                            double *nngp, double *ntk, double *nngp_se, double *ntk_se, int threads, dml_error *err)
{
    if (width < 1 || outputs < 1 || samples < 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "", "width, outputs and samples must be >= 1");
    if ((nngp_se && !nngp) || (ntk_se && !ntk))
        return dml_fail(err, DML_ERR_INVALID_SPEC, "", "a standard error needs its kernel");
    if ((nngp_se || ntk_se) && samples < 2)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "", "a standard error needs at least 2 samples");
    if (!x2) {
        if (n2 != n1) return dml_fail(err, DML_ERR_INVALID_SPEC, "", "x2 == NULL needs n2 == n1");
        n2 = 0;
    }
    dml_model mm = *m;
    mm.width = width;
    for (int l = 0; l < mm.nlayers; l++) mm.layers[l].width = width;   /* an explicit list's hidden layers too */
    dml_layers L;
    if (dml_model_layers(&mm, shape, outputs, &L, err)) return -1;
    size_t D = dml_shape_numel(shape), n = n1 + n2, N2 = x2 ? n2 : n1;
    size_t off2 = x2 ? n1 : 0;   /* row of x2's first example in the stacked batch */
    double *X = malloc(sizeof *X * n * D), *f = malloc(sizeof *f * n * (size_t)outputs);
    double *g = malloc(sizeof *g * n * (size_t)outputs), *T = malloc(sizeof *T * n * n);
    mc_spread sk = {0}, st = {0};
    int rc = 0;
    if (!X || !f || !g || !T || (nngp_se && spread_alloc(&sk, n1 * N2)) || (ntk_se && spread_alloc(&st, n1 * N2))) {
        rc = dml_fail(err, DML_ERR_NOMEM, "", "out of memory");
        goto done;
    }
    memcpy(X, x1, sizeof *X * n1 * D);
    if (x2) memcpy(X + n1 * D, x2, sizeof *X * n2 * D);
    if (nngp) memset(nngp, 0, sizeof *nngp * n1 * N2);
    if (ntk) memset(ntk, 0, sizeof *ntk * n1 * N2);
    double w = 1.0 / ((double)samples * outputs);
    for (int s = 0; s < samples && !rc; s++) {
        uint64_t keys[3] = {seed, (uint64_t)s, 0x6b65726e656cULL};
        dml_net *net = create_keys(&L, m->parameterization, DML_F64, keys, 3, threads, n, err);
        if (!net) {
            rc = -1;
            break;
        }
        set_threads(net);
        nn_ws *ws = &net->ws[0];
        memcpy(ws->act[0], X, sizeof *X * n * D);
        nn_f64_forward(net, ws, n);
        memcpy(f, ws->act[net->n], sizeof *f * n * (size_t)outputs);
        if (nngp && exact_readout) {
            const dml_net_layer *ro = &net->lay[net->n - 1];
            const double *h = ws->act[net->n - 1];
            size_t hd = (size_t)ro->Cin;
            double a2 = ro->alpha * ro->alpha, b2 = ro->beta * ro->beta;
            for (size_t a = 0; a < n1; a++)
                for (size_t b = 0; b < N2; b++) {
                    double acc = 0.0;
                    for (size_t c = 0; c < hd; c++) acc += h[a * hd + c] * h[(off2 + b) * hd + c];
                    nngp[a * N2 + b] += (a2 * acc + b2) / samples;
                    if (nngp_se) spread_add(&sk, s, a * N2 + b, a2 * acc + b2);
                }
        } else if (nngp)
            for (size_t a = 0; a < n1; a++)
                for (size_t b = 0; b < N2; b++) {
                    double acc = 0.0;
                    for (int k = 0; k < outputs; k++) acc += f[a * outputs + k] * f[(off2 + b) * outputs + k];
                    nngp[a * N2 + b] += w * acc;
                    if (nngp_se) spread_add(&sk, s, a * N2 + b, acc / outputs);
                }
        if (ntk) {
            nn_gram gr = {.n = n, .T = T};
            memset(T, 0, sizeof *T * n * n);
            for (int k = 0; k < outputs; k++) {
                memset(g, 0, sizeof *g * n * (size_t)outputs);
                for (size_t i = 0; i < n; i++) g[i * outputs + k] = 1.0;
                nn_f64_backward(net, ws, n, g, NULL, NULL, &gr);
            }
            for (int l = 0; l < DML_MAX_LAYERS; l++) free(gr.A[l]);
            if (gr.failed) {
                rc = dml_fail(err, DML_ERR_NOMEM, "", "out of memory for the empirical NTK");
                dml_net_free(net);
                break;
            }
            for (size_t a = 0; a < n1; a++)
                for (size_t b = 0; b < N2; b++) {
                    ntk[a * N2 + b] += w * T[a * n + off2 + b];
                    if (ntk_se) spread_add(&st, s, a * N2 + b, T[a * n + off2 + b] / outputs);
                }
        }
        dml_net_free(net);
    }
    if (rc == 0 && nngp_se) spread_se(&sk, n1 * N2, samples, nngp_se);
    if (rc == 0 && ntk_se) spread_se(&st, n1 * N2, samples, ntk_se);
done:
    spread_free(&sk);
    spread_free(&st);
    free(X);
    free(f);
    free(g);
    free(T);
    return rc;
}

/* Effective flops per second of one thread in the double-precision GEMMs of the empirical NTK's Grams. */
#define EMPIRICAL_GRAM_FLOPS 10e9

void dml_empirical_kernel_cost(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2, int gram, int width,
                               int outputs, int samples, int threads, double *seconds, double *bytes)
{
    *seconds = *bytes = 0;
    if (threads < 1) threads = 1;
    dml_model mm = *m;
    mm.width = width;
    for (int l = 0; l < mm.nlayers; l++) mm.layers[l].width = width;
    dml_layers *L = malloc(sizeof *L);
    if (!L || dml_model_layers(&mm, shape, outputs, L, NULL)) {
        free(L);
        return;
    }
    double n = (double)n1 + (gram ? 0.0 : (double)n2), N2 = gram ? (double)n1 : (double)n2;
    double D = (double)dml_shape_numel(shape), held = 0, peak = 0, flops = 0;
    for (int l = 0; l < L->n; l++) {
        const dml_layer *d = &L->layer[l];
        if (!dml_layer_num_params(d)) continue;
        int windowed = d->kind == DML_LAYER_CONV || d->kind == DML_LAYER_CONV_LOCAL;
        double rows = windowed ? n * (double)dml_layer_positions_out(d) : n;
        double K = windowed ? dml_layer_filter_size(d) * d->in_channels : d->in_channels;
        held += rows * rows;                              /* the input-window Gram A, kept for the sample */
        peak = fmax(peak, rows * rows * 1.5 + rows * K);  /* dY dY^T (in the network's reals) and the windows */
        flops += 2 * rows * rows * K + outputs * (2 * rows * rows * d->out_channels + 2 * rows * rows);
    }
    double fwd = 2 * forward_seconds(L);   /* float64 */
    double net = dml_train_memory_bytes(L, DML_F64, (size_t)n, (size_t)n, 0, 1);
    /* a forward pass, and a backward pass (about two forward passes) per output unit */
    *seconds = samples * (fwd * n * (1 + 2.0 * outputs) + flops / EMPIRICAL_GRAM_FLOPS) / threads;
    *bytes = 8.0 * (n * D + 2 * n * outputs + n * n + held + peak + 6 * (double)n1 * N2) + net;
    free(L);
}
