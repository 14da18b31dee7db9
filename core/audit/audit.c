/* The symmetry audit's measurements (DESIGN 2.2): the gap, the kernel arms' rounding threshold, the choice of
 * measurement, kernel ridge predictions and float64 trainings with weights pulled back through g. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/audit.h"
#include "dmilab/kernel.h"
#include "dmilab/nn.h"
#include "dmilab/ridge.h"
#include "dmilab/rng.h"

static const char *const method_names[] = {DML_AUDIT_METHODS(DML_ENUM_NAME)};

const char *dml_audit_method_name(dml_audit_method m)
{
    return (unsigned)m < sizeof method_names / sizeof *method_names ? method_names[m] : "?";
}

double dml_audit_gap(const double *a, const double *b, size_t count)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = b[i] - a[i];
        num += d * d;
        den += a[i] * a[i];
    }
    if (isnan(num) || isnan(den)) return NAN;
    if (den == 0.0) return num == 0.0 ? 0.0 : INFINITY;
    return num / den;
}

double dml_audit_kernel_threshold(size_t n, double ridge, size_t P, size_t C, int depth)
{
    double kappa = 1.0 + (double)n / (ridge > 0 ? ridge : DBL_MIN);
    double m = (double)(depth + 1) * ((double)(P * C) + (double)P * (double)P);
    double e = kappa * m * DBL_EPSILON / 2;
    double t = e * e;
    return t > 1e-9 ? 1e-9 : t < 1e-24 ? 1e-24 : t;
}

/* Nonzero when the network of L computes a translation-invariant function with any weights: only Convs with
 * circular padding and stride 1 and activations before a global average pooling. */
static int translation_invariant_net(const dml_layers *L)
{
    for (int i = 0; i < L->n; i++) {
        const dml_layer *l = &L->layer[i];
        switch (l->kind) {
        case DML_LAYER_GAP: return L->input.nd >= 1;
        case DML_LAYER_ACT: break;
        case DML_LAYER_CONV:
            if (l->padding != DML_PAD_CIRCULAR) return 0;
            for (int a = 0; a < l->nd; a++)
                if (l->stride[a] != 1) return 0;
            break;
        default: return 0;
        }
    }
    return 0;
}

/* The index of the first layer with parameters, -1 when none. */
static int first_param_layer(const dml_layers *L)
{
    for (int i = 0; i < L->n; i++) {
        dml_layer_kind k = L->layer[i].kind;
        if (k == DML_LAYER_DENSE || k == DML_LAYER_CONV || k == DML_LAYER_CONV_LOCAL || k == DML_LAYER_READOUT)
            return i;
    }
    return -1;
}

dml_audit_method dml_audit_method_for(const dml_layers *L, dml_method method, dml_transform_kind kind)
{
    if (dml_method_is_kernel(method)) return DML_AUDIT_EXACT;
    int f = first_param_layer(L);
    if (f >= 0 && dml_group_absorbed_by(kind, L->layer[f].kind)) return DML_AUDIT_COUPLED;
    if (kind == DML_TF_TRANSLATION && translation_invariant_net(L)) return DML_AUDIT_COUPLED;
    return DML_AUDIT_DISTRIBUTIONAL;
}

void dml_audit_verdict(dml_audit_entry *e)
{
    if (isnan(e->gap)) {
        e->invariant = 0;
        return;
    }
    if (e->method == DML_AUDIT_DISTRIBUTIONAL)
        e->invariant = !isnan(e->seed_gap) && e->gap <= e->threshold * e->seed_gap;
    else
        e->invariant = e->gap <= e->threshold;
}

int dml_audit_kernel_predict(const dml_model *m, const dml_dataset *tr, size_t n, const dml_dataset *te, int ninf,
                             const dml_method *methods, const double *ridges, double *const *pred, int threads,
                             dml_error *err)
{
    size_t M = te->n, k = (size_t)tr->k;
    double *Knn = malloc(sizeof(double) * (n * n + 1)), *Tnn = malloc(sizeof(double) * (n * n + 1));
    double *Kmn = malloc(sizeof(double) * (M * n + 1)), *Tmn = malloc(sizeof(double) * (M * n + 1));
    double *pn = malloc(sizeof(double) * (n * k + 1));
    int rc = -1;
    if (!Knn || !Tnn || !Kmn || !Tmn || !pn) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory for kernels of %zu training and %zu test points", n,
                 M);
        goto out;
    }
    if (dml_kernel(m, &tr->shape, tr->x, n, NULL, n, Knn, Tnn, threads, err) ||
        dml_kernel(m, &tr->shape, te->x, M, tr->x, n, Kmn, Tmn, threads, err))
        goto out;
    for (int i = 0; i < ninf; i++) {
        int ntk = methods[i] == DML_INF_NTK;
        if (dml_ridge_predict(ntk ? Tnn : Knn, n, n, ntk ? Tmn : Kmn, n, M, tr->y, k, ridges[i], pred[i], pn, err))
            goto out;
    }
    rc = 0;
out:
    free(Knn);
    free(Tnn);
    free(Kmn);
    free(Tmn);
    free(pn);
    return rc;
}

int dml_audit_train_predict(const dml_layers *L, dml_parameterization par, const dml_train_config *cfg,
                            uint64_t init_seed, const dml_group_elem *pull, int antithetic, const dml_dataset *tr,
                            size_t n, const dml_dataset *te, double *pred, int threads, dml_error *err)
{
    int batch = cfg->method == DML_OPT_GD ? (int)n : cfg->batch;
    dml_net *net = dml_net_create(L, par, DML_F64, init_seed, threads, (size_t)(batch < 1024 ? batch : 1024), err);
    if (!net) return -1;
    int rc = -1, f = first_param_layer(L);
    double *theta = NULL;
    int absorb = pull && f >= 0 && dml_group_absorbed_by(pull->kind, L->layer[f].kind);
    if (absorb || antithetic) {
        size_t w_off, nw, b_off, nb;
        theta = malloc(sizeof *theta * (dml_net_num_params(net) + 1));
        if (!theta) {
            dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory");
            goto out;
        }
        dml_net_get_params(net, theta);
        if (absorb && (dml_net_layer_params(net, f, &w_off, &nw, NULL, NULL) ||
                       dml_group_pullback(pull, &L->layer[f], theta + w_off, err)))
            goto out;
        if (antithetic && dml_net_layer_params(net, L->n - 1, &w_off, &nw, &b_off, &nb) == 0) {
            for (size_t i = 0; i < nw; i++) theta[w_off + i] = -theta[w_off + i];
            for (size_t i = 0; i < nb; i++) theta[b_off + i] = -theta[b_off + i];
        }
        dml_net_set_params(net, theta);
    }
    dml_dataset sub = *tr;
    sub.n = n;
    dml_train_result res;
    memset(&res, 0, sizeof res);
    rc = dml_train(net, cfg, &sub, NULL, &res, NULL, NULL, err);
    int diverged = res.diverged;
    dml_train_result_free(&res);
    if (rc) goto out;
    if (diverged) {
        for (size_t i = 0; i < te->n * (size_t)te->k; i++) pred[i] = NAN;
    } else if (dml_net_predict(net, te->x, te->n, pred, err)) {
        rc = -1;
    }
out:
    free(theta);
    dml_net_free(net);
    return rc;
}

int dml_audit_transform_dataset(const dml_dataset *src, size_t n, const dml_group_elem *g, dml_dataset *dst,
                                dml_error *err)
{
    memset(dst, 0, sizeof *dst);
    size_t D = dml_shape_numel(&src->shape), k = (size_t)src->k;
    dst->n = n;
    dst->shape = src->shape;
    dst->k = src->k;
    dst->x = malloc(sizeof(double) * (n * D + 1));
    dst->y = malloc(sizeof(double) * (n * k + 1));
    if (src->label) dst->label = malloc(sizeof(int) * (n + 1));
    if (!dst->x || !dst->y || (src->label && !dst->label)) {
        dml_dataset_free(dst);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "audit: out of memory for the transformed data");
    }
    memcpy(dst->x, src->x, sizeof(double) * n * D);
    memcpy(dst->y, src->y, sizeof(double) * n * k);
    if (src->label) memcpy(dst->label, src->label, sizeof(int) * n);
    if (dml_group_apply(g, dst->x, n, err)) {
        dml_dataset_free(dst);
        return -1;
    }
    return 0;
}

uint64_t dml_audit_group_seed(uint64_t seed, dml_transform_kind kind)
{
    uint64_t keys[3] = {seed, 0x6175646974ULL /* "audit" */, (uint64_t)kind};
    dml_rng r;
    dml_rng_seed(&r, keys, 3);
    return dml_rng_next(&r) >> 11;   /* 53 bits: a seed the spec can write back exactly */
}
