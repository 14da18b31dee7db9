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

/* One unit: data variant d, model m, repeat r, all kernel inference methods and sizes. */
static int run_unit(runner *R, int d, int m, int rep, dml_error *err)
{
    const dml_spec *s = R->s;
    const dml_run_hooks *h = R->h;
    const dml_data_spec *ds = &s->data[d];
    int nsz = ds->nn_train, ninf = s->ninference;
    /* which points are missing? */
    char *need = calloc((size_t)(nsz * ninf), 1);
    if (!need) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    int missing = 0;
    for (int i = 0; i < ninf; i++)
        for (int k = 0; k < nsz; k++) {
            dml_point p;
            arm_name(s, d, m, i, &p);
            int have = h->have_point && h->have_point(h->ctx, p.arm, ds->n_train[k], rep);
            need[i * nsz + k] = (char)!have;
            missing += !have;
            if (have) R->done++;
        }
    progress(R);
    if (!missing) {
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
    int k = tr.k, rc = -1;
    double *Knn = malloc(sizeof(double) * N * N), *Tnn = malloc(sizeof(double) * N * N);
    double *Kmn = malloc(sizeof(double) * M * N), *Tmn = malloc(sizeof(double) * M * N);
    double *pt = malloc(sizeof(double) * M * (size_t)k), *pn = malloc(sizeof(double) * N * (size_t)k);
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
    double share = (now() - t0) / (double)missing;
    for (int i = 0; i < ninf; i++) {
        const dml_inference *inf = &s->inference[i];
        const double *K = inf->method == DML_INF_NTK ? Tnn : Knn;
        const double *Kt = inf->method == DML_INF_NTK ? Tmn : Kmn;
        for (int j = 0; j < nsz; j++) {
            if (!need[i * nsz + j]) continue;
            if (h->cancelled && h->cancelled(h->ctx)) {
                dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                goto out;
            }
            size_t n = ds->n_train[j];
            double t1 = now();
            if (dml_ridge_predict(K, N, n, Kt, N, M, tr.y, (size_t)k, inf->ridge, pt, pn, err)) {
                snprintf(err->field, sizeof err->field, "inference[%d].ridge", i);
                goto out;
            }
            dml_point p;
            memset(&p, 0, sizeof p);
            arm_name(s, d, m, i, &p);
            p.n_train = n;
            p.repeat = rep;
            metrics(pt, te.y, te.label, M, k, &p.test_mse, &p.test_accuracy);
            metrics(pn, tr.y, tr.label, n, k, &p.train_mse, NULL);
            p.seconds = share + (now() - t1);
            if (h->on_point && h->on_point(h->ctx, &p)) {
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
