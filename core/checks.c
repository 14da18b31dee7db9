/* Checks on results (CI gates) and the cost estimate of a spec. */
#include <math.h>
#include <stdarg.h>
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

static const char *state_word(dml_checks_state st)
{
    return st == DML_CHECKS_FAILED ? "failed" : st == DML_CHECKS_CANCELLED ? "cancelled" : "not finished";
}

cJSON *dml_checks_json(const char *id, const dml_spec *s, const dml_point *pts, size_t n, dml_checks_state state,
                       int *verdict)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    if (!o || !arr) {
        cJSON_Delete(o);
        cJSON_Delete(arr);
        return NULL;
    }
    cJSON_AddStringToObject(o, "id", id ? id : "");
    int all = 1;
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
    /* Only a succeeded experiment has a verdict of its own; a failed or cancelled one fails, whatever its checks
     * say of the points it stored, and a pending one has none yet. */
    int v = state == DML_CHECKS_FINAL ? all : state == DML_CHECKS_PENDING ? -1 : 0;
    if (v < 0) cJSON_AddNullToObject(o, "passed");
    else cJSON_AddBoolToObject(o, "passed", v);
    cJSON_AddItemToObject(o, "checks", arr);
    if (verdict) *verdict = v;
    return o;
}

/* A growable text buffer; on allocation failure `t` becomes NULL and later appends do nothing. */
typedef struct {
    char *t;
    size_t n, cap;
} text_buf;

static void put(text_buf *b, const char *s, size_t k)
{
    if (!b->t) return;
    if (b->n + k + 1 > b->cap) {
        size_t cap = b->cap * 2 > b->n + k + 1 ? b->cap * 2 : b->n + k + 1;
        char *t = realloc(b->t, cap);
        if (!t) {
            free(b->t);
            b->t = NULL;
            return;
        }
        b->t = t;
        b->cap = cap;
    }
    memcpy(b->t + b->n, s, k);
    b->n += k;
    b->t[b->n] = 0;
}

static void puts_(text_buf *b, const char *s) { put(b, s, strlen(s)); }

/* Append `src` escaped for an XML attribute value; characters XML 1.0 cannot hold become '?'. */
static void put_xml(text_buf *b, const char *src)
{
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        switch (*p) {
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        case '"': puts_(b, "&quot;"); break;
        case '\n': puts_(b, "&#10;"); break;
        case '\t': puts_(b, "&#9;"); break;
        case '\r': puts_(b, "&#13;"); break;
        default: put(b, *p < 0x20 ? "?" : (const char *)p, 1); break;
        }
    }
}

static void putf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(text_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

char *dml_checks_junit(const char *id, const dml_spec *s, const dml_point *pts, size_t n, dml_checks_state state,
                       const char *error)
{
    text_buf b = {malloc(4096), 0, 4096};
    if (!b.t) return NULL;
    b.t[0] = 0;
    int failures = 0, errors = state != DML_CHECKS_FINAL;
    for (int i = 0; i < s->nchecks; i++) failures += !evaluate(&s->checks[i], pts, n).passed;
    puts_(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"dmilab checks\" id=\"");
    put_xml(&b, id ? id : "");
    putf(&b, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\">\n", s->nchecks + errors, failures, errors);
    if (errors) {
        /* The experiment itself is a testcase that errs: a CI never reads an empty or partial suite as green. */
        puts_(&b, "  <testcase classname=\"experiment\" name=\"");
        put_xml(&b, id ? id : "");
        putf(&b, " %s\">\n    <error type=\"%s\" message=\"", state_word(state),
             state == DML_CHECKS_FAILED ? "failed" : state == DML_CHECKS_CANCELLED ? "cancelled" : "pending");
        if (state == DML_CHECKS_PENDING) puts_(&b, "the experiment has not ended: these checks are not its verdict");
        else if (error && *error) put_xml(&b, error);
        else puts_(&b, state == DML_CHECKS_CANCELLED ? "the experiment was cancelled" : "the experiment failed");
        puts_(&b, "\"/>\n  </testcase>\n");
    }
    for (int i = 0; i < s->nchecks; i++) {
        const dml_check *c = &s->checks[i];
        outcome r = evaluate(c, pts, n);
        char target[40];
        dml_format_double(target, sizeof target, c->value);
        puts_(&b, "  <testcase classname=\"");
        put_xml(&b, c->arm);
        putf(&b, "\" name=\"%s ", dml_metric_name(c->metric));
        put_xml(&b, dml_op_name(c->op));
        puts_(&b, " ");
        put_xml(&b, c->than_arm[0] ? c->than_arm : target);
        putf(&b, "%s at n_train %zu\">\n", c->op == DML_OP_EQ ? " (tolerance)" : "", c->n_train);
        if (!r.passed) {
            char act[40], tgt[40];
            dml_format_double(act, sizeof act, r.actual);
            dml_format_double(tgt, sizeof tgt, r.target);
            putf(&b, "    <failure message=\"actual %s, expected ", act);
            put_xml(&b, dml_op_name(c->op));
            putf(&b, " %s\"/>\n", tgt);
        }
        puts_(&b, "  </testcase>\n");
    }
    puts_(&b, "</testsuite>\n</testsuites>\n");
    return b.t;
}

/* Seconds per flop of the ridge solves (Cholesky and triangular solves, LAPACK on the reference machine). */
#define SEC_PER_FLOP 3.5e-11
/* Reading, decompressing and preprocessing a data set's IDX files once (Fashion-MNIST: about 0.2 s). */
#define SEC_PER_DATA_LOAD 0.25
/* Training, per thread (docs/training.md, the Fashion-MNIST examples at 14x14 on 2 threads): effective flops/s
 * of the layer kinds, counting a convolution at its direct cost (Winograd makes it cheaper) and a step as
 * 3 forward passes (forward, input gradient, weight gradient). */
#define TRAIN_FLOPS_CONV 150e9
#define TRAIN_FLOPS_DENSE 45e9
#define TRAIN_FLOPS_LOCAL 37e9
/* Seconds per parameter and step of the optimizer update and the sum of the per-thread gradients (one thread):
 * sgd with momentum, adam (lcn at 14x14: 7.3M parameters, 320 steps; adam 13 s slower than sgd). */
#define SEC_PER_PARAM_STEP_SGD 1.5e-9
#define SEC_PER_PARAM_STEP_ADAM 6e-9

/* Seconds of one forward pass of one example through L on one thread. */
static double forward_seconds(const dml_layers *L)
{
    double t = 0;
    for (int l = 0; l < L->n; l++) {
        const dml_layer *ly = &L->layer[l];
        double Pout = 1, F = 1;
        for (int a = 0; a < ly->nd; a++) {
            Pout *= ly->out_size[a];
            F *= ly->filter[a];
        }
        double macs = Pout * F * ly->in_channels * ly->out_channels;
        if (ly->kind == DML_LAYER_CONV) t += 2 * macs / TRAIN_FLOPS_CONV;
        else if (ly->kind == DML_LAYER_CONV_LOCAL) t += 2 * macs / TRAIN_FLOPS_LOCAL;
        else if (ly->kind == DML_LAYER_DENSE || ly->kind == DML_LAYER_READOUT)
            t += 2.0 * ly->in_channels * ly->out_channels / TRAIN_FLOPS_DENSE;
    }
    return t;
}

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
        double D = (double)side * side;
        dml_shape sh = {.nd = 2, .size = {side, side}, .channels = 1};
        seconds += SEC_PER_DATA_LOAD;
        /* kernel arms: one unit per (data, model, repeat), the kernel of the largest n_train shared by every
         * kernel method and size */
        double solve = 0;
        for (int k = 0; any_kernel && k < ds->nn_train; k++) {
            double n = (double)ds->n_train[k];
            solve += n * n * n / 3.0 + 2.0 * n * n * 10.0 + 2.0 * M * n * 10.0;
        }
        if (any_kernel) mem = fmax(mem, 8.0 * (3.0 * N * N + 2.0 * N * M) + 8.0 * (N + M) * D);
        for (int mi = 0; mi < s->nmodels; mi++) {
            const dml_model *mod = &s->models[mi];
            dml_layers L;
            if (dml_model_layers(mod, &sh, 10, &L, NULL)) continue;
            if (any_kernel) {
                dml_kernel_cost gram, cross;
                dml_kernel_cost_estimate(mod, &sh, (size_t)N, (size_t)N, 1, threads, &gram);
                dml_kernel_cost_estimate(mod, &sh, (size_t)M, (size_t)N, 0, threads, &cross);
                units += (size_t)s->repeats;
                pairs += (gram.pairs + cross.pairs) * s->repeats;
                duals += (gram.dual_evaluations + cross.dual_evaluations) * s->repeats;
                seconds += s->repeats * (gram.seconds + cross.seconds +
                                         solve * nkernel * SEC_PER_FLOP / (threads > 1 ? 1.6 : 1.0));
            }
            /* training arms: one unit per point; epochs of 3 passes over n_train, test metrics about 10 times
             * (docs/training.md), and a final pass over train and test */
            double fwd = forward_seconds(&L);
            for (int i = 0; i < s->ninference; i++) {
                const dml_inference *inf = &s->inference[i];
                if (dml_method_is_kernel(inf->method)) continue;
                size_t nmax = ds->n_train[ds->nn_train - 1];
                mem = fmax(mem, dml_train_memory_bytes(&L, inf->train.float64 ? DML_F64 : DML_F32,
                                                       inf->method == DML_INF_GD ? nmax : (size_t)inf->train.batch,
                                                       nmax, ds->n_test, threads));
                double prec = inf->train.float64 ? 2.0 : 1.0, np = (double)dml_layers_num_params(&L);
                double per_step = np * (inf->method == DML_INF_ADAM ? SEC_PER_PARAM_STEP_ADAM : SEC_PER_PARAM_STEP_SGD);
                int epochs = inf->train.epochs, evals = (epochs < 10 ? epochs : 10) + 1;
                for (int k = 0; k < ds->nn_train; k++) {
                    double n = (double)ds->n_train[k];
                    double steps = inf->method == DML_INF_GD ? epochs : epochs * ceil(n / inf->train.batch);
                    units += (size_t)s->repeats;
                    train_steps += s->repeats * steps;
                    seconds += s->repeats * (prec * fwd * (3.0 * n * epochs + M * evals + n) / threads +
                                             prec * per_step * steps);
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
