/* The audit as the API serves it (DESIGN 4): JSON and CSV, one entry per arm and group. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/audit.h"
#include "dmilab/json.h"
#include "dmilab/results.h"

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

/* Part `k` (0 data, 1 model, 2 inference) of an arm "<data>/<model>/<inference>" (names hold no '/'). */
static void arm_part(const char *arm, int k, char *out, size_t size)
{
    const char *p = arm;
    for (int i = 0; i < k && p; i++) p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL;
    if (!p) p = "";
    size_t n = strcspn(p, "/");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

cJSON *dml_audit_json(const char *id, const dml_audit_entry *e, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id ? id : "");
    cJSON *arr = cJSON_AddArrayToObject(o, "audit");
    static const char *const parts[3] = {"data", "model", "inference"};
    for (size_t i = 0; i < n; i++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "arm", e[i].arm);
        for (int k = 0; k < 3; k++) {
            char part[DML_NAME_MAX];
            arm_part(e[i].arm, k, part, sizeof part);
            cJSON_AddStringToObject(j, parts[k], part);
        }
        cJSON_AddStringToObject(j, "group", dml_transform_name(e[i].group));
        cJSON_AddStringToObject(j, "method", dml_audit_method_name(e[i].method));
        cJSON_AddNumberToObject(j, "n_train", (double)e[i].n_train);
        cJSON_AddItemToObject(j, "gap", num_or_null(e[i].gap));
        cJSON_AddItemToObject(j, "seed_gap", num_or_null(e[i].seed_gap));
        cJSON_AddItemToObject(j, "threshold", num_or_null(e[i].threshold));
        cJSON_AddBoolToObject(j, "invariant", e[i].invariant);
        cJSON_AddItemToObject(j, "seconds", num_or_null(e[i].seconds));
        cJSON_AddItemToArray(arr, j);
    }
    return o;
}

char *dml_audit_csv(const dml_audit_entry *e, size_t n)
{
    size_t cap = 128 + n * (sizeof e->arm + 240);
    char *out = malloc(cap), *p = out;
    if (!out) return NULL;
    p += snprintf(p, cap, "arm,group,method,n_train,gap,seed_gap,threshold,invariant,seconds\n");
    for (size_t i = 0; i < n; i++) {
        char a[40], b[40], c[40], d[40];
        dml_csv_number(a, sizeof a, e[i].gap);
        dml_csv_number(b, sizeof b, e[i].seed_gap);
        dml_csv_number(c, sizeof c, e[i].threshold);
        dml_csv_number(d, sizeof d, e[i].seconds);
        /* names are [A-Za-z0-9._-] only: no quoting needed */
        p += snprintf(p, cap - (size_t)(p - out), "%s,%s,%s,%zu,%s,%s,%s,%s,%s\n", e[i].arm,
                      dml_transform_name(e[i].group), dml_audit_method_name(e[i].method), e[i].n_train, a, b, c,
                      e[i].invariant ? "true" : "false", d);
    }
    return out;
}
