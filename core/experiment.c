/* Running an experiment's grid: one kernel computation per (data variant, model, repeat) serves every
 * training-set size and both kernel methods. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dmilab/experiment.h"
#include "dmilab/kernel.h"
#include "dmilab/ridge.h"
#include "dmilab/rng.h"
#include "data/variant.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Sum over outputs of squared errors, averaged over points; accuracy of the argmax against labels. */
static void metrics(const double *pred, const double *y, const int *label, size_t n, int k, double *mse, double *acc)
{
    double se = 0.0;
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 0; c < k; c++) {
            double d = pred[i * (size_t)k + c] - y[i * (size_t)k + c];
            se += d * d;
            if (pred[i * (size_t)k + c] > pred[i * (size_t)k + best]) best = c;
        }
        if (label && best == label[i]) right++;
    }
    *mse = n ? se / (double)n : NAN;
    if (acc) *acc = label && n ? (double)right / (double)n : NAN;
}

typedef struct {
    const dml_spec *s;
    const dml_run_hooks *h;
    size_t total, done;
} runner;

static void progress(runner *r)
{
    if (r->h->on_progress) r->h->on_progress(r->h->ctx, r->total ? (double)r->done / (double)r->total : 1.0);
}

static void arm_name(const dml_spec *s, int d, int m, int i, dml_point *p)
{
    snprintf(p->data, sizeof p->data, "%s", s->data[d].name);
    snprintf(p->model, sizeof p->model, "%s", s->models[m].name);
    snprintf(p->inference, sizeof p->inference, "%s", s->inference[i].name);
    snprintf(p->arm, sizeof p->arm, "%s/%s/%s", p->data, p->model, p->inference);
}

typedef struct {
    runner *R;
    double base;
} epoch_ctx;

/* Per-epoch progress inside one trained point; nonzero cancels. */
static int on_epoch(void *ctx, int epoch, int epochs)
{
    epoch_ctx *e = ctx;
    const dml_run_hooks *h = e->R->h;
    if (h->on_progress && e->R->total)
        h->on_progress(h->ctx, (e->base + (double)epoch / (double)epochs) / (double)e->R->total);
    return h->cancelled && h->cancelled(h->ctx);
}

/* Train one network of model m with inference i on the first n training images and evaluate it. */
static int train_point(runner *R, int m, int i, int rep, const dml_dataset *tr, size_t n, const dml_dataset *te,
                       dml_train_result *res, dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_inference *inf = &s->inference[i];
    const dml_training *t = &inf->train;
    dml_layers *L = malloc(sizeof *L);
    if (!L) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    int threads = R->h->threads > 0 ? R->h->threads : 1;
    if (dml_model_layers(&s->models[m], &tr->shape, tr->k, L, err)) {
        free(L);
        return -1;
    }
    uint64_t keys[4] = {s->seed, (uint64_t)rep, 0x6e6574776f726bULL /* "network" */, (uint64_t)m};
    dml_rng r;
    dml_rng_seed(&r, keys, 4);
    uint64_t init_seed = dml_rng_next(&r), shuffle_seed = dml_rng_next(&r);
    int batch = inf->method == DML_INF_GD ? (int)n : t->batch;
    dml_net *net = dml_net_create(L, s->models[m].parameterization, t->float64 ? DML_F64 : DML_F32, init_seed, threads,
                                  (size_t)(batch < 1024 ? batch : 1024), err);
    free(L);
    if (!net) return -1;
    dml_train_config cfg;
    dml_train_config_defaults(&cfg, inf->method == DML_INF_GD ? DML_OPT_GD : inf->method == DML_INF_SGD ? DML_OPT_SGD
                                                                                                      : DML_OPT_ADAM);
    cfg.lr = t->lr;
    cfg.momentum = t->momentum;
    cfg.nesterov = t->nesterov;
    cfg.beta1 = t->beta1;
    cfg.beta2 = t->beta2;
    cfg.eps = t->eps;
    cfg.weight_decay = t->weight_decay;
    cfg.schedule = t->cosine ? DML_SCHED_COSINE : DML_SCHED_CONSTANT;
    cfg.epochs = t->epochs;
    cfg.batch = t->batch;
    cfg.loss = t->cross_entropy ? DML_LOSS_CROSS_ENTROPY : DML_LOSS_MSE;
    cfg.shuffle_seed = shuffle_seed;
    dml_dataset sub = *tr;   /* the first n images: a view, nested like the kernel arms' subsets */
    sub.n = n;
    epoch_ctx ec = {R, (double)R->done};
    int rc = dml_train(net, &cfg, &sub, te, res, on_epoch, &ec, err);
    dml_net_free(net);
    if (rc == 0 && res->diverged) {
        /* a diverged run is a result (NaN metrics), not a failure of the experiment */
        res->test_mse = res->test_accuracy = res->train_mse = NAN;
    }
    return rc;
}

/* One unit: data variant d, model m, repeat r, all kernel inference methods and sizes. */
static int run_unit(runner *R, int d, int m, int rep, dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_run_hooks *h = R->h;
    const dml_data_spec *ds = &s->data[d];
    int nsz = ds->nn_train, ninf = s->ninference;
    /* which points are missing? (kernel methods share one kernel computation; trained ones do not) */
    char *need = calloc((size_t)(nsz * ninf), 1);
    if (!need) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    int missing = 0, train_missing = 0;
    for (int i = 0; i < ninf; i++)
        for (int k = 0; k < nsz; k++) {
            dml_point p;
            arm_name(s, d, m, i, &p);
            int have = h->have_point && h->have_point(h->ctx, p.arm, ds->n_train[k], rep);
            need[i * nsz + k] = (char)!have;
            if (dml_method_is_kernel(s->inference[i].method)) missing += !have;
            else train_missing += !have;
            if (have) R->done++;
        }
    progress(R);
    if (!missing && !train_missing) {
        free(need);
        return 0;
    }
    size_t N = ds->n_train[nsz - 1], M = ds->n_test;
    dml_dataset tr, te;
    double t0 = now();
    if (dml_variant_load(ds, s->seed, rep, N, &tr, &te, err)) {
        free(need);
        if (err && err->field[0]) {   /* point the field at this data variant */
            char f[sizeof err->field];
            snprintf(f, sizeof f, "data[%d].%s", d, err->field);
            snprintf(err->field, sizeof err->field, "%s", f);
        }
        return -1;
    }
    double load = now() - t0;   /* loading and preprocessing, shared by the points of this unit */
    int k = tr.k, rc = -1;
    double *Knn = NULL, *Tnn = NULL, *Kmn = NULL, *Tmn = NULL, *pt = NULL, *pn = NULL;
    if (missing) {
        Knn = malloc(sizeof(double) * N * N);
        Tnn = malloc(sizeof(double) * N * N);
        Kmn = malloc(sizeof(double) * M * N);
        Tmn = malloc(sizeof(double) * M * N);
        pt = malloc(sizeof(double) * M * (size_t)k);
        pn = malloc(sizeof(double) * N * (size_t)k);
        if (!Knn || !Tnn || !Kmn || !Tmn || !pt || !pn) {
            dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for kernels of %zu training and %zu test points", N, M);
            goto out;
        }
        int threads = h->threads > 0 ? h->threads : 1;
        if (dml_kernel(&s->models[m], &tr.shape, tr.x, N, NULL, N, Knn, Tnn, threads, err) ||
            dml_kernel(&s->models[m], &tr.shape, te.x, M, tr.x, N, Kmn, Tmn, threads, err)) {
            snprintf(err->field, sizeof err->field, "models[%d]", m);
            goto out;
        }
    }
    double share = missing ? (now() - t0) / (double)missing : 0.0;
    for (int i = 0; i < ninf; i++) {
        const dml_inference *inf = &s->inference[i];
        for (int j = 0; j < nsz; j++) {
            if (!need[i * nsz + j]) continue;
            if (h->cancelled && h->cancelled(h->ctx)) {
                dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                goto out;
            }
            size_t n = ds->n_train[j];
            double t1 = now();
            dml_point p;
            memset(&p, 0, sizeof p);
            arm_name(s, d, m, i, &p);
            p.n_train = n;
            p.repeat = rep;
            dml_train_result res;
            memset(&res, 0, sizeof res);
            if (dml_method_is_kernel(inf->method)) {
                const double *K = inf->method == DML_INF_NTK ? Tnn : Knn;
                const double *Kt = inf->method == DML_INF_NTK ? Tmn : Kmn;
                if (dml_ridge_predict(K, N, n, Kt, N, M, tr.y, (size_t)k, inf->ridge, pt, pn, err)) {
                    snprintf(err->field, sizeof err->field, "inference[%d].ridge", i);
                    goto out;
                }
                metrics(pt, te.y, te.label, M, k, &p.test_mse, &p.test_accuracy);
                metrics(pn, tr.y, tr.label, n, k, &p.train_mse, NULL);
                p.seconds = share + (now() - t1);
            } else {
                if (train_point(R, m, i, rep, &tr, n, &te, &res, err)) {
                    dml_train_result_free(&res);
                    goto out;
                }
                p.test_mse = res.test_mse;
                p.test_accuracy = res.test_accuracy;
                p.train_mse = res.train_mse;
                p.curve = res.curve;
                p.n_curve = res.n_curve;
                p.seconds = now() - t1 + (missing ? 0.0 : load / (double)train_missing);
            }
            int bad = h->on_point && h->on_point(h->ctx, &p);
            dml_train_result_free(&res);
            if (bad) {
                dml_fail(err, DML_ERR_INTERNAL, NULL, "storing a point failed");
                goto out;
            }
            R->done++;
            progress(R);
        }
    }
    rc = 0;
out:
    free(Knn);
    free(Tnn);
    free(Kmn);
    free(Tmn);
    free(pt);
    free(pn);
    free(need);
    dml_dataset_free(&tr);
    dml_dataset_free(&te);
    return rc;
}

int dml_experiment_run(const dml_spec *s, const dml_run_hooks *h, dml_error *err)
{
    dml_run_hooks none = {0};
    if (!h) h = &none;
    runner R = {.s = s, .h = h, .total = dml_spec_points(s)};
    for (int d = 0; d < s->ndata; d++)
        for (int m = 0; m < s->nmodels; m++)
            for (int r = 0; r < s->repeats; r++) {
                if (h->cancelled && h->cancelled(h->ctx)) return dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                if (run_unit(&R, d, m, r, err)) return -1;
            }
    R.done = R.total;
    progress(&R);
    return 0;
}
