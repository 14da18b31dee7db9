/* The runner's spectral readout stage (readout_stage.h) and an arm's predicted curve (dmilab/readout.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dmilab/arm.h"
#include "dmilab/readout.h"
#include "readout_stage.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int dml_arm_spectrum_predict(const dml_spectrum *sp, const double *diag, const size_t *n_train, int nsizes,
                             double ridge, double label_noise, dml_prediction *pred, int *npred, dml_error *err)
{
    size_t sizes[DML_MAX_SIZES];
    int n = 0;
    for (int j = 0; j < nsizes && n < DML_MAX_SIZES; j++)
        if (n_train[j] <= sp->n) sizes[n++] = n_train[j];
    *npred = 0;
    if (n && dml_spectrum_predict(sp, sizes, (size_t)n, ridge, diag, pred, err)) return -1;
    for (int j = 0; j < n; j++) pred[j].test_mse -= label_noise;
    *npred = n;
    return 0;
}

int dml_readout_missing(const dml_spec *s, int d, int m, int repeat, const dml_run_hooks *h)
{
    if (repeat != 0 || !s->spectrum_n) return 0;
    for (int i = 0; i < s->ninference; i++) {
        if (!dml_method_is_kernel(s->inference[i].method)) continue;
        char arm[DML_ARM_MAX], a[DML_NAME_MAX], b[DML_NAME_MAX], c[DML_NAME_MAX];
        dml_arm_names(s, d, m, i, arm, a, b, c);
        if (!h->have_spectrum || !h->have_spectrum(h->ctx, arm)) return 1;
    }
    return 0;
}

int dml_readout_stage(const dml_spec *s, int d, int m, const double *Knn, const double *Tnn, size_t ldk,
                      const dml_dataset *tr, const dml_run_hooks *h, dml_error *err)
{
    if (!s->spectrum_n) return 0;
    size_t N = s->spectrum_n;
    if (ldk < N || tr->n < N)   /* the unit must have loaded dml_unit_train_points */
        return dml_fail(err, DML_ERR_INTERNAL, NULL, "the spectrum needs %zu training points, the unit has %zu", N, tr->n);
    const dml_data_spec *ds = &s->data[d];
    int ninf = s->ninference;
    char *need = calloc((size_t)ninf + 1, 1);
    double *diag = malloc(sizeof *diag * N);
    dml_arm_spectrum *out = calloc(1, sizeof *out);
    int rc = -1;
    if (!need || !diag || !out) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    for (int i = 0; i < ninf; i++) {
        if (!dml_method_is_kernel(s->inference[i].method)) continue;
        dml_arm_names(s, d, m, i, out->arm, out->data, out->model, out->inference);
        need[i] = !h->have_spectrum || !h->have_spectrum(h->ctx, out->arm);
    }
    for (int method = DML_INF_NNGP; method <= DML_INF_NTK; method++) {
        int users = 0;
        for (int i = 0; i < ninf; i++) users += need[i] && s->inference[i].method == (dml_method)method;
        if (!users) continue;
        if (h->cancelled && h->cancelled(h->ctx)) {
            dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
            goto done;
        }
        const double *K = method == DML_INF_NTK ? Tnn : Knn;
        double t0 = now();
        dml_spectrum sp;
        memset(&sp, 0, sizeof sp);
        if (dml_spectrum_compute(K, ldk, N, tr->y, (size_t)tr->k, 0, &sp, err)) {
            if (err) snprintf(err->field, sizeof err->field, "spectrum");
            goto done;
        }
        for (size_t a = 0; a < N; a++) diag[a] = K[a * ldk + a];
        double share = (now() - t0) / users;
        for (int i = 0; i < ninf; i++) {
            const dml_inference *inf = &s->inference[i];
            if (!need[i] || inf->method != (dml_method)method) continue;
            double t1 = now();
            dml_arm_names(s, d, m, i, out->arm, out->data, out->model, out->inference);
            out->spectrum = &sp;
            out->ridge = inf->ridge;
            /* the measured test MSE is against noise-free test targets for synthetic sources (their training
             * targets carry noise^2 per output, summed over the k outputs); image and npy labels carry none */
            out->label_noise = dml_source_is_synthetic(ds->source) ? (double)tr->k * ds->syn.noise * ds->syn.noise : 0;
            if (dml_arm_spectrum_predict(&sp, diag, ds->n_train, ds->nn_train, inf->ridge, out->label_noise, out->pred,
                                         &out->npred, err)) {
                if (err) dml_spec_field(s, "inference", i, "ridge", err->field, sizeof err->field);
                dml_spectrum_free(&sp);
                goto done;
            }
            out->seconds = share + (now() - t1);
            if (h->on_spectrum && h->on_spectrum(h->ctx, out)) {
                dml_spectrum_free(&sp);
                dml_fail(err, DML_ERR_INTERNAL, NULL, "storing a spectrum failed");
                goto done;
            }
        }
        dml_spectrum_free(&sp);
    }
    rc = 0;
done:
    free(need);
    free(diag);
    free(out);
    return rc;
}
