/* Checks on results (CI gates): JSON and JUnit outcomes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/checks.h"
#include "dmilab/json.h"
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
