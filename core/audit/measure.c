/* One audit cell (an arm under a group g, DESIGN 2.2): the exact, coupled or distributional measurement, with
 * the arm's fits on D cached across its groups. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/audit.h"
#include "dmilab/rng.h"

int dml_audit_trainings(dml_audit_method method, int seeds, int per_arm)
{
    switch (method) {
    case DML_AUDIT_EXACT: return 0;
    case DML_AUDIT_COUPLED: return 1;
    case DML_AUDIT_DISTRIBUTIONAL: return per_arm ? 2 * seeds : seeds;
    }
    return 0;
}

static size_t outputs_size(const dml_audit_arm *a) { return a->test->n * (size_t)a->test->k; }

/* The training configuration of the arm (its learning rate for the model's parameterization). */
static void arm_config(const dml_audit_arm *a, dml_train_config *cfg)
{
    dml_arm_train_config(a->inf, a->model, cfg);
}

/* The layer list, built once. */
static int layers(dml_audit_arm *a, dml_error *err)
{
    if (a->layers) return 0;
    a->layers = malloc(sizeof *a->layers);
    if (!a->layers) return dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory");
    if (dml_model_layers(a->model, &a->train->shape, a->train->k, a->layers, err)) {
        free(a->layers);
        a->layers = NULL;
        return -1;
    }
    return 0;
}

/* The mean prediction of ensemble e (S trainings seeded {ensemble_seed, e, s}) on data tr, test te. */
static int ensemble_mean(dml_audit_arm *a, int e, const dml_dataset *tr, const dml_dataset *te, double *mean,
                         dml_error *err)
{
    size_t cnt = outputs_size(a);
    double *p = malloc(sizeof *p * (cnt + 1));
    if (!p) return dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory");
    memset(mean, 0, sizeof *mean * cnt);
    dml_train_config cfg;
    arm_config(a, &cfg);
    for (int s = 0; s < a->seeds; s++) {
        uint64_t keys[3] = {a->ensemble_seed, (uint64_t)e, (uint64_t)(s / 2)};
        dml_rng r;
        dml_rng_seed(&r, keys, 3);
        uint64_t init = dml_rng_next(&r);
        cfg.shuffle_seed = dml_rng_next(&r);
        if (dml_audit_train_predict(a->layers, a->model->parameterization, &cfg, init, NULL, s % 2, tr, a->n_train, te, p,
                                    a->threads, err)) {
            free(p);
            return -1;
        }
        for (size_t i = 0; i < cnt; i++) mean[i] += p[i] / a->seeds;
    }
    free(p);
    return 0;
}

/* f on (tr, te): kernel ridge, or one coupled training (pulled back through `pull` when not NULL). */
static int fit(dml_audit_arm *a, const dml_group_elem *pull, const dml_dataset *tr, const dml_dataset *te,
               double *out, dml_error *err)
{
    if (dml_method_is_kernel(a->inf->method)) {
        dml_method m = a->inf->method;
        return dml_audit_kernel_predict(a->model, tr, a->n_train, te, 1, &m, &a->inf->ridge, &out, a->threads, err);
    }
    dml_train_config cfg;
    arm_config(a, &cfg);
    cfg.shuffle_seed = a->shuffle_seed;
    return dml_audit_train_predict(a->layers, a->model->parameterization, &cfg, a->init_seed, pull, 0, tr, a->n_train,
                                   te, out, a->threads, err);
}

int dml_audit_measure(dml_audit_arm *a, const dml_group_elem *g, dml_audit_entry *e, dml_error *err)
{
    if (layers(a, err)) return -1;
    size_t cnt = outputs_size(a);
    e->group = g->kind;
    e->n_train = a->n_train;
    e->method = dml_audit_method_for(a->layers, a->inf->method, g->kind);
    e->seed_gap = NAN;
    dml_dataset gtr, gte;
    if (dml_audit_transform_dataset(a->train, a->n_train, g, &gtr, err)) return -1;
    if (dml_audit_transform_dataset(a->test, a->test->n, g, &gte, err)) {
        dml_dataset_free(&gtr);
        return -1;
    }
    int rc = -1;
    double *f = malloc(sizeof *f * (cnt + 1));
    if (!f) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory");
        goto out;
    }
    if (e->method == DML_AUDIT_DISTRIBUTIONAL) {
        for (int k = 0; k < 2; k++) {
            if (a->ens[k]) continue;
            if (!(a->ens[k] = malloc(sizeof(double) * (cnt + 1)))) {
                dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory");
                goto out;
            }
            if (ensemble_mean(a, k, a->train, a->test, a->ens[k], err)) {
                free(a->ens[k]);
                a->ens[k] = NULL;
                goto out;
            }
        }
        if (ensemble_mean(a, 2, &gtr, &gte, f, err)) goto out;
        e->gap = dml_audit_gap(a->ens[0], f, cnt);
        e->seed_gap = dml_audit_gap(a->ens[0], a->ens[1], cnt);
        e->threshold = DML_AUDIT_SEED_FACTOR;
    } else {
        if (!a->base) {
            if (!(a->base = malloc(sizeof(double) * (cnt + 1)))) {
                dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory");
                goto out;
            }
            if (fit(a, NULL, a->train, a->test, a->base, err)) {
                free(a->base);
                a->base = NULL;
                goto out;
            }
        }
        if (fit(a, g, &gtr, &gte, f, err)) goto out;
        e->gap = dml_audit_gap(a->base, f, cnt);
        if (e->method == DML_AUDIT_EXACT) {
            int depth = 0;
            for (int i = 0; i < a->layers->n; i++) depth += a->layers->layer[i].kind == DML_LAYER_ACT;
            e->threshold = dml_audit_kernel_threshold(a->n_train, a->inf->ridge, dml_shape_positions(&g->shape),
                                                      (size_t)g->shape.channels, depth);
        } else {
            e->threshold = DML_AUDIT_COUPLED_THRESHOLD;
        }
    }
    dml_audit_verdict(e);
    rc = 0;
out:
    free(f);
    dml_dataset_free(&gtr);
    dml_dataset_free(&gte);
    return rc;
}

void dml_audit_arm_free(dml_audit_arm *a)
{
    free(a->layers);
    free(a->base);
    free(a->ens[0]);
    free(a->ens[1]);
    a->layers = NULL;
    a->base = a->ens[0] = a->ens[1] = NULL;
}
