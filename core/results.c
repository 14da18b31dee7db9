/* Points and learning curves as the API shows them (DESIGN section 4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/json.h"
#include "dmilab/results.h"

cJSON *dml_point_json(const dml_point *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arm", p->arm);
    cJSON_AddStringToObject(o, "data", p->data);
    cJSON_AddStringToObject(o, "model", p->model);
    cJSON_AddStringToObject(o, "inference", p->inference);
    cJSON_AddNumberToObject(o, "n_train", (double)p->n_train);
    cJSON_AddNumberToObject(o, "repeat", p->repeat);
    cJSON_AddItemToObject(o, "test_mse", dml_json_number(p->test_mse));
    cJSON_AddItemToObject(o, "test_accuracy", dml_json_number(p->test_accuracy));
    cJSON_AddItemToObject(o, "train_mse", dml_json_number(p->train_mse));
    cJSON_AddItemToObject(o, "seconds", dml_json_number(p->seconds));
    if (p->curve && p->n_curve > 0) cJSON_AddItemToObject(o, "training_curve", dml_training_curve_json(p->curve, p->n_curve));
    return o;
}

cJSON *dml_training_curve_json(const dml_train_epoch *c, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "epoch", c[i].epoch);
        cJSON_AddItemToObject(e, "train_loss", dml_json_number(c[i].train_loss));
        if (c[i].evaluated) {
            cJSON_AddItemToObject(e, "test_mse", dml_json_number(c[i].test_mse));
            cJSON_AddItemToObject(e, "test_accuracy", dml_json_number(c[i].test_accuracy));
        }
        cJSON_AddItemToArray(a, e);
    }
    return a;
}

int dml_training_curve_parse(const cJSON *a, dml_train_epoch **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a)) return -1;
    int k = cJSON_GetArraySize(a);
    dml_train_epoch *c = calloc((size_t)k + 1, sizeof *c);
    if (!c) return -1;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        c[i].epoch = (int)dml_json_get_number(e, "epoch");
        c[i].train_loss = dml_json_get_number(e, "train_loss");
        c[i].evaluated = cJSON_HasObjectItem(e, "test_mse");
        c[i].test_mse = dml_json_get_number(e, "test_mse");
        c[i].test_accuracy = dml_json_get_number(e, "test_accuracy");
    }
    *out = c;
    *n = k;
    return 0;
}

/* Mean and sample standard deviation of the finite values (std 0 with fewer than two). */
static void mean_std(const double *v, size_t n, double *mean, double *sd)
{
    double s = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    *mean = k ? s / (double)k : NAN;
    double q = 0.0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) q += (v[i] - *mean) * (v[i] - *mean);
    *sd = k > 1 ? sqrt(q / (double)(k - 1)) : (k ? 0.0 : NAN);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

cJSON *dml_curves_json(const dml_point *pts, size_t n)
{
    cJSON *curves = cJSON_CreateArray();
    char *seen = calloc(n + 1, 1);
    size_t *sizes = malloc(sizeof *sizes * (n + 1));
    double *mse = malloc(sizeof *mse * (n + 1)), *acc = malloc(sizeof *acc * (n + 1));
    if (!seen || !sizes || !mse || !acc) goto out;
    for (size_t a = 0; a < n; a++) {
        if (seen[a]) continue;
        const char *arm = pts[a].arm;
        size_t ns = 0;
        for (size_t b = a; b < n; b++)
            if (strcmp(pts[b].arm, arm) == 0) {
                seen[b] = 1;
                int dup = 0;
                for (size_t q = 0; q < ns; q++) dup |= sizes[q] == pts[b].n_train;
                if (!dup) sizes[ns++] = pts[b].n_train;
            }
        qsort(sizes, ns, sizeof *sizes, cmp_size);
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "arm", arm);
        cJSON *jn = cJSON_AddArrayToObject(c, "n_train");
        cJSON *mm = cJSON_AddArrayToObject(c, "test_mse_mean"), *ms = cJSON_AddArrayToObject(c, "test_mse_std");
        cJSON *am = cJSON_AddArrayToObject(c, "test_accuracy_mean"), *as = cJSON_AddArrayToObject(c, "test_accuracy_std");
        cJSON *le = cJSON_AddArrayToObject(c, "local_exponent");
        double prev_mean = NAN;
        for (size_t q = 0; q < ns; q++) {
            size_t k = 0;
            for (size_t b = a; b < n; b++)
                if (pts[b].n_train == sizes[q] && strcmp(pts[b].arm, arm) == 0) {
                    mse[k] = pts[b].test_mse;
                    acc[k] = pts[b].test_accuracy;
                    k++;
                }
            double m1, s1, m2, s2;
            mean_std(mse, k, &m1, &s1);
            mean_std(acc, k, &m2, &s2);
            cJSON_AddItemToArray(jn, cJSON_CreateNumber((double)sizes[q]));
            cJSON_AddItemToArray(mm, dml_json_number(m1));
            cJSON_AddItemToArray(ms, dml_json_number(s1));
            cJSON_AddItemToArray(am, dml_json_number(m2));
            cJSON_AddItemToArray(as, dml_json_number(s2));
            if (q > 0) {
                double e = log(m1 / prev_mean) / log((double)sizes[q] / (double)sizes[q - 1]);
                cJSON_AddItemToArray(le, dml_json_number(e));
            }
            prev_mean = m1;
        }
        cJSON_AddItemToArray(curves, c);
    }
out:
    free(seen);
    free(sizes);
    free(mse);
    free(acc);
    return curves;
}

cJSON *dml_results_json(const char *id, const dml_point *pts, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id ? id : "");
    cJSON *arr = cJSON_AddArrayToObject(o, "points");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(arr, dml_point_json(&pts[i]));
    cJSON_AddItemToObject(o, "curves", dml_curves_json(pts, n));
    return o;
}

char *dml_results_csv(const dml_point *pts, size_t n)
{
    size_t cap = 128 + n * (DML_ARM_MAX * 2 + 200);
    char *out = malloc(cap), *p = out;
    if (!out) return NULL;
    p += snprintf(p, cap, "arm,data,model,inference,n_train,repeat,test_mse,test_accuracy,train_mse,seconds\n");
    for (size_t i = 0; i < n; i++) {
        char a[40], b[40], c[40], d[40];
        dml_csv_number(a, sizeof a, pts[i].test_mse);
        dml_csv_number(b, sizeof b, pts[i].test_accuracy);
        dml_csv_number(c, sizeof c, pts[i].train_mse);
        dml_csv_number(d, sizeof d, pts[i].seconds);
        /* names are [A-Za-z0-9._-] only: no quoting needed */
        p += snprintf(p, cap - (size_t)(p - out), "%s,%s,%s,%s,%zu,%d,%s,%s,%s,%s\n", pts[i].arm, pts[i].data,
                      pts[i].model, pts[i].inference, pts[i].n_train, pts[i].repeat, a, b, c, d);
    }
    return out;
}
