/* Checks on results (CI gates) and the cost estimate of a spec. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/checks.h"
#include "dmilab/kernel.h"
#include "dmilab/nn.h"
#include "dmilab/results.h"

/* Mean over repeats of a metric for an arm at a size; NaN when no finite value is stored. */
static double mean_metric(const dml_point *pts, size_t n, const char *arm, size_t n_train, dml_metric m)
{
    double s = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (pts[i].n_train != n_train || strcmp(pts[i].arm, arm) != 0) continue;
        double v = m == DML_METRIC_TEST_ACCURACY ? pts[i].test_accuracy
                 : m == DML_METRIC_TEST_MSE      ? pts[i].test_mse
                                                 : pts[i].train_mse;
        if (!isfinite(v)) continue;
        s += v;
        k++;
    }
    return k ? s / (double)k : NAN;
}

static int compare(double a, dml_op op, double b, double tol)
{
    if (!isfinite(a) || !isfinite(b)) return 0;
    switch (op) {
    case DML_OP_LT: return a < b;
    case DML_OP_LE: return a <= b;
    case DML_OP_GT: return a > b;
    case DML_OP_GE: return a >= b;
    case DML_OP_EQ: return fabs(a - b) <= tol;
    }
    return 0;
}

typedef struct {
    double actual, target;
    int passed;
} outcome;

static outcome evaluate(const dml_check *c, const dml_point *pts, size_t n)
{
    outcome o;
    o.actual = mean_metric(pts, n, c->arm, c->n_train, c->metric);
    o.target = c->than_arm[0] ? mean_metric(pts, n, c->than_arm, c->n_train, c->metric) : c->value;
    o.passed = compare(o.actual, c->op, o.target, c->tolerance);
    return o;
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

cJSON *dml_checks_json(const char *id, const dml_spec *s, const dml_point *pts, size_t n, int *all_passed)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id ? id : "");
    int all = 1;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < s->nchecks; i++) {
        const dml_check *c = &s->checks[i];
        outcome r = evaluate(c, pts, n);
        all &= r.passed;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "arm", c->arm);
        cJSON_AddStringToObject(j, "metric", dml_metric_name(c->metric));
        cJSON_AddNumberToObject(j, "n_train", (double)c->n_train);
        cJSON_AddStringToObject(j, "op", dml_op_name(c->op));
        cJSON_AddItemToObject(j, "value", num_or_null(r.target));
        if (c->than_arm[0]) cJSON_AddStringToObject(j, "than_arm", c->than_arm);
        if (c->op == DML_OP_EQ) cJSON_AddNumberToObject(j, "tolerance", c->tolerance);
        cJSON_AddItemToObject(j, "actual", num_or_null(r.actual));
        cJSON_AddBoolToObject(j, "passed", r.passed);
        cJSON_AddItemToArray(arr, j);
    }
    cJSON_AddBoolToObject(o, "passed", all);
    cJSON_AddItemToObject(o, "checks", arr);
    if (all_passed) *all_passed = all;
    return o;
}

/* Append XML-escaped text. */
static size_t xml_escape(char *dst, size_t cap, const char *src)
{
    size_t k = 0;
    for (; *src && k + 7 < cap; src++) {
        const char *rep = *src == '&' ? "&amp;" : *src == '<' ? "&lt;" : *src == '>' ? "&gt;" : *src == '"' ? "&quot;" : NULL;
        if (rep) {
            size_t l = strlen(rep);
            memcpy(dst + k, rep, l);
            k += l;
        } else {
            dst[k++] = *src;
        }
    }
    dst[k] = 0;
    return k;
}

char *dml_checks_junit(const char *id, const dml_spec *s, const dml_point *pts, size_t n)
{
    size_t cap = 512 + (size_t)s->nchecks * 2048;
    char *out = malloc(cap), *p = out;
    if (!out) return NULL;
    int failures = 0;
    for (int i = 0; i < s->nchecks; i++) failures += !evaluate(&s->checks[i], pts, n).passed;
    char eid[256];
    xml_escape(eid, sizeof eid, id ? id : "");
    p += snprintf(p, cap, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
                  "<testsuite name=\"dmilab checks\" id=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\">\n", eid,
                  s->nchecks, failures);
    for (int i = 0; i < s->nchecks; i++) {
        const dml_check *c = &s->checks[i];
        outcome r = evaluate(c, pts, n);
        char arm[512], than[512], name[1024], target[64];
        xml_escape(arm, sizeof arm, c->arm);
        xml_escape(than, sizeof than, c->than_arm);
        if (c->than_arm[0])
            snprintf(target, sizeof target, "%s", "");
        else
            dml_format_double(target, sizeof target, c->value);
        snprintf(name, sizeof name, "%s %s %s%s at n_train %zu", dml_metric_name(c->metric),
                 c->op == DML_OP_LT ? "&lt;" : c->op == DML_OP_LE ? "&lt;=" : c->op == DML_OP_GT ? "&gt;"
                 : c->op == DML_OP_GE ? "&gt;=" : "==",
                 c->than_arm[0] ? than : target, c->op == DML_OP_EQ ? " (tolerance)" : "", c->n_train);
        p += snprintf(p, cap - (size_t)(p - out), "  <testcase classname=\"%s\" name=\"%s\">\n", arm, name);
        if (!r.passed) {
            char act[40], tgt[40];
            dml_format_double(act, sizeof act, r.actual);
            dml_format_double(tgt, sizeof tgt, r.target);
            p += snprintf(p, cap - (size_t)(p - out), "    <failure message=\"actual %s, expected %s %s\"/>\n", act,
                          c->op == DML_OP_LT ? "&lt;" : c->op == DML_OP_LE ? "&lt;=" : c->op == DML_OP_GT ? "&gt;"
                          : c->op == DML_OP_GE ? "&gt;=" : "==", tgt);
        }
        p += snprintf(p, cap - (size_t)(p - out), "  </testcase>\n");
    }
    snprintf(p, cap - (size_t)(p - out), "</testsuite>\n</testsuites>\n");
    return out;
}

/* Seconds per flop of the ridge solves (Cholesky and triangular solves, LAPACK on the reference machine). */
#define SEC_PER_FLOP 3.5e-11
/* Reading, decompressing and preprocessing a data set's IDX files once (bench/estimate.sh). */
#define SEC_PER_DATA_LOAD 0.4

cJSON *dml_spec_cost_json(const dml_spec *s, int threads)
{
    if (threads < 1) threads = 1;
    double pairs = 0, duals = 0, seconds = 0, mem = 0, train_steps = 0;
    size_t units = 0;
    int nkernel = 0;   /* kernel methods: they share one kernel per (data, model, repeat) */
    for (int i = 0; i < s->ninference; i++) nkernel += dml_method_is_kernel(s->inference[i].method);
    int any_kernel = nkernel > 0;
    for (int d = 0; d < s->ndata; d++) {
        const dml_data_spec *ds = &s->data[d];
        double N = (double)ds->n_train[ds->nn_train - 1], M = (double)ds->n_test;
        int side = 28 / ds->resize;
        dml_shape sh = {.nd = 2, .size = {side, side}, .channels = 1};
        seconds += SEC_PER_DATA_LOAD;
        /* kernel arms: one unit per (data, model, repeat), the kernel of the largest n_train shared by every
         * kernel method and size */
        double solve = 0;
        for (int k = 0; any_kernel && k < ds->nn_train; k++) {
            double n = (double)ds->n_train[k];
            solve += n * n * n / 3.0 + 2.0 * n * n * 10.0 + 2.0 * M * n * 10.0;
        }
        for (int mi = 0; mi < s->nmodels; mi++) {
            const dml_model *mod = &s->models[mi];
            dml_layers L;
            if (dml_model_layers(mod, &sh, 10, &L, NULL)) continue;
            if (any_kernel) {
                mem = fmax(mem, dml_kernel_unit_memory_bytes(mod, &sh, (size_t)N, (size_t)M, 10, threads));
                dml_kernel_cost gram, cross;
                dml_kernel_cost_estimate(mod, &sh, (size_t)N, (size_t)N, 1, threads, &gram);
                dml_kernel_cost_estimate(mod, &sh, (size_t)M, (size_t)N, 0, threads, &cross);
                units += (size_t)s->repeats;
                pairs += (gram.pairs + cross.pairs) * s->repeats;
                duals += (gram.dual_evaluations + cross.dual_evaluations) * s->repeats;
                seconds += s->repeats * (gram.seconds + cross.seconds +
                                         solve * nkernel * SEC_PER_FLOP / (threads > 1 ? 1.6 : 1.0));
            }
            /* training arms: one unit per point (dml_train_seconds: the layers' own costs) */
            for (int i = 0; i < s->ninference; i++) {
                const dml_inference *inf = &s->inference[i];
                if (dml_method_is_kernel(inf->method)) continue;
                size_t nmax = ds->n_train[ds->nn_train - 1];
                dml_precision prec = inf->train.float64 ? DML_F64 : DML_F32;
                mem = fmax(mem, dml_train_memory_bytes(&L, prec, inf->method == DML_INF_GD ? nmax : (size_t)inf->train.batch,
                                                       nmax, ds->n_test, threads));
                dml_optimizer opt = inf->method == DML_INF_GD ? DML_OPT_GD : inf->method == DML_INF_SGD ? DML_OPT_SGD
                                                                                                      : DML_OPT_ADAM;
                for (int k = 0; k < ds->nn_train; k++) {
                    double n = (double)ds->n_train[k];
                    units += (size_t)s->repeats;
                    train_steps += s->repeats * (inf->method == DML_INF_GD ? inf->train.epochs
                                                                            : inf->train.epochs * ceil(n / inf->train.batch));
                    seconds += s->repeats * dml_train_seconds(&L, prec, opt, ds->n_train[k], ds->n_test,
                                                              inf->train.epochs, inf->train.batch, threads);
                }
            }
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "points", (double)dml_spec_points(s));
    cJSON_AddNumberToObject(o, "units", (double)units);
    cJSON_AddNumberToObject(o, "kernel_pairs", pairs);
    cJSON_AddNumberToObject(o, "dual_evaluations", duals);
    cJSON_AddNumberToObject(o, "training_steps", train_steps);
    cJSON_AddNumberToObject(o, "memory_bytes", ceil(mem));
    cJSON_AddNumberToObject(o, "estimated_seconds", seconds);
    return o;
}
