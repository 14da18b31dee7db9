/* Checks on results (CI gates): JSON and JUnit outcomes. */
#include <math.h>
#include <stdarg.h>
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

/* The stored audit cell of an audit check, NULL when not stored. */
static const dml_audit_entry *audit_cell(const dml_check *c, const dml_audit_entry *aud, size_t na)
{
    for (size_t i = 0; i < na; i++)
        if (aud[i].group == c->group && strcmp(aud[i].arm, c->arm) == 0) return &aud[i];
    return NULL;
}

static outcome evaluate(const dml_check *c, const dml_point *pts, size_t n, const dml_audit_entry *aud, size_t na)
{
    outcome o;
    if (c->audit) {
        const dml_audit_entry *e = audit_cell(c, aud, na);
        o.actual = e ? (double)(e->invariant != 0) : NAN;
        o.target = c->value;
        o.passed = e && o.actual == o.target;
        return o;
    }
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

cJSON *dml_checks_json(const char *id, const dml_spec *s, const dml_point *pts, size_t n, const dml_audit_entry *aud,
                       size_t na, dml_checks_state state, int *verdict)
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
        outcome r = evaluate(c, pts, n, aud, na);
        all &= r.passed;
        cJSON *j = cJSON_CreateObject();
        if (c->audit) {
            const dml_audit_entry *e = audit_cell(c, aud, na);
            cJSON *a = cJSON_AddObjectToObject(j, "audit");
            cJSON_AddStringToObject(a, "arm", c->arm);
            cJSON_AddStringToObject(a, "group", dml_transform_name(c->group));
            cJSON_AddStringToObject(j, "op", "==");
            cJSON_AddBoolToObject(j, "value", c->value != 0);
            if (e) cJSON_AddBoolToObject(j, "actual", e->invariant);
            else cJSON_AddNullToObject(j, "actual");
            if (e) cJSON_AddStringToObject(j, "method", dml_audit_method_name(e->method));
            cJSON_AddItemToObject(j, "gap", num_or_null(e ? e->gap : NAN));
            cJSON_AddBoolToObject(j, "passed", r.passed);
            cJSON_AddItemToArray(arr, j);
            continue;
        }
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

char *dml_checks_junit(const char *id, const dml_spec *s, const dml_point *pts, size_t n, const dml_audit_entry *aud,
                       size_t na, dml_checks_state state, const char *error)
{
    text_buf b = {malloc(4096), 0, 4096};
    if (!b.t) return NULL;
    b.t[0] = 0;
    int failures = 0, errors = state != DML_CHECKS_FINAL;
    for (int i = 0; i < s->nchecks; i++) failures += !evaluate(&s->checks[i], pts, n, aud, na).passed;
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
        outcome r = evaluate(c, pts, n, aud, na);
        if (c->audit) {
            const char *want = c->value != 0 ? "true" : "false";
            puts_(&b, "  <testcase classname=\"");
            put_xml(&b, c->arm);
            putf(&b, "\" name=\"audit %s invariant == %s\">\n", dml_transform_name(c->group), want);
            if (!r.passed)
                putf(&b, "    <failure message=\"actual %s, expected == %s\"/>\n",
                     isnan(r.actual) ? "not measured" : r.actual != 0 ? "true" : "false", want);
            puts_(&b, "  </testcase>\n");
            continue;
        }
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
