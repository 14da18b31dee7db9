/* The spectral readout as the API shows it (dmilab/results.h): GET /api/v1/experiments/{id}/spectrum, its CSV,
 * `dmilab run`'s "spectra", and the predicted MSEs beside the measured ones in the results' curves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/json.h"
#include "dmilab/results.h"

/* The kept mode indices (dml_spectrum_thin; all when max_points is 0 or at least n): malloc'd, count in *count. */
static size_t *kept_modes(size_t n, size_t max_points, size_t *count)
{
    size_t cap = max_points >= 2 && max_points < n ? max_points : n;
    size_t *idx = malloc(sizeof *idx * (cap ? cap : 1));
    if (!idx) return NULL;
    if (cap < n) {
        *count = dml_spectrum_thin(n, cap, idx);
    } else {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        *count = n;
    }
    return idx;
}

cJSON *dml_arm_spectrum_json(const dml_arm_spectrum *a, size_t max_points)
{
    const dml_spectrum *sp = a->spectrum;
    size_t cnt = 0, *idx = kept_modes(sp->n, max_points, &cnt);
    if (!idx) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arm", a->arm);
    cJSON_AddStringToObject(o, "data", a->data);
    cJSON_AddStringToObject(o, "model", a->model);
    cJSON_AddStringToObject(o, "inference", a->inference);
    cJSON_AddNumberToObject(o, "n", (double)sp->n);
    cJSON_AddNumberToObject(o, "outputs", (double)sp->k);
    cJSON_AddItemToObject(o, "ridge", dml_json_number(a->ridge));
    cJSON_AddItemToObject(o, "label_noise", dml_json_number(a->label_noise));
    cJSON_AddItemToObject(o, "trace", dml_json_number(sp->trace));
    cJSON_AddItemToObject(o, "target_power", dml_json_number(sp->target_power));
    cJSON_AddItemToObject(o, "alignment", dml_json_number(sp->alignment));
    cJSON_AddItemToObject(o, "effective_dimension", dml_json_number(sp->effective_dimension));
    cJSON_AddItemToObject(o, "seconds", dml_json_number(a->seconds));
    cJSON *modes = cJSON_AddObjectToObject(o, "modes");
    cJSON_AddBoolToObject(modes, "thinned", cnt < sp->n);
    cJSON *jm = cJSON_AddArrayToObject(modes, "mode"), *je = cJSON_AddArrayToObject(modes, "eigenvalue");
    cJSON *jp = cJSON_AddArrayToObject(modes, "power"), *jc = cJSON_AddArrayToObject(modes, "cumulative");
    for (size_t q = 0; q < cnt; q++) {
        size_t i = idx[q];
        cJSON_AddItemToArray(jm, cJSON_CreateNumber((double)(i + 1)));
        cJSON_AddItemToArray(je, dml_json_number(sp->eigenvalue[i]));
        cJSON_AddItemToArray(jp, sp->power ? dml_json_number(sp->power[i]) : cJSON_CreateNull());
        cJSON_AddItemToArray(jc, sp->cumulative ? dml_json_number(sp->cumulative[i]) : cJSON_CreateNull());
    }
    cJSON_AddItemToObject(o, "predicted", dml_predictions_json(a->pred, a->npred));
    free(idx);
    return o;
}

cJSON *dml_predictions_json(const dml_prediction *pred, int n)
{
    cJSON *pr = cJSON_CreateArray();
    for (int j = 0; pr && j < n; j++) {
        const dml_prediction *p = &pred[j];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "n_train", (double)p->n_train);
        cJSON_AddItemToObject(e, "test_mse", dml_json_number(p->test_mse));
        cJSON_AddItemToObject(e, "train_mse", dml_json_number(p->train_mse));
        cJSON_AddItemToObject(e, "delta", dml_json_number(p->delta));
        cJSON_AddItemToObject(e, "kappa", dml_json_number(p->kappa));
        cJSON_AddItemToObject(e, "learned", dml_json_number(p->learned));
        cJSON_AddItemToObject(e, "e0", dml_json_number(p->e0));
        cJSON_AddItemToArray(pr, e);
    }
    return pr;
}

int dml_predictions_parse(const cJSON *a, dml_prediction *out, int max)
{
    if (!cJSON_IsArray(a)) return -1;
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (n == max) return -1;
        dml_prediction *p = &out[n++];
        double sz = dml_json_get_number(e, "n_train");
        p->n_train = isfinite(sz) && sz >= 0 ? (size_t)sz : 0;
        p->test_mse = dml_json_get_number(e, "test_mse");
        p->train_mse = dml_json_get_number(e, "train_mse");
        p->delta = dml_json_get_number(e, "delta");
        p->kappa = dml_json_get_number(e, "kappa");
        p->learned = dml_json_get_number(e, "learned");
        p->e0 = dml_json_get_number(e, "e0");
    }
    return n;
}

cJSON *dml_spectra_json(const dml_arm_spectrum *v, size_t n, size_t max_points)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = dml_arm_spectrum_json(&v[i], max_points);
        if (!o) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

char *dml_spectra_csv(const dml_arm_spectrum *v, size_t n, size_t max_points)
{
    static const char header[] = "arm,data,model,inference,mode,eigenvalue,power,cumulative\n";
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        size_t N = v[i].spectrum->n;
        rows += max_points >= 2 && max_points < N ? max_points : N;
    }
    size_t cap = sizeof header + rows * (DML_ARM_MAX * 2 + 100) + 1;
    char *out = malloc(cap), *p = out;
    if (!out) return NULL;
    p += snprintf(p, cap, "%s", header);
    for (size_t i = 0; i < n; i++) {
        const dml_spectrum *sp = v[i].spectrum;
        size_t cnt = 0, *idx = kept_modes(sp->n, max_points, &cnt);
        if (!idx) {
            free(out);
            return NULL;
        }
        for (size_t q = 0; q < cnt; q++) {
            char e[40], w[40], c[40];
            dml_csv_number(e, sizeof e, sp->eigenvalue[idx[q]]);
            dml_csv_number(w, sizeof w, sp->power ? sp->power[idx[q]] : NAN);
            dml_csv_number(c, sizeof c, sp->cumulative ? sp->cumulative[idx[q]] : NAN);
            /* names are [A-Za-z0-9._-] only: no quoting needed */
            p += snprintf(p, cap - (size_t)(p - out), "%s,%s,%s,%s,%zu,%s,%s,%s\n", v[i].arm, v[i].data, v[i].model,
                          v[i].inference, idx[q] + 1, e, w, c);
        }
        free(idx);
    }
    return out;
}

void dml_curves_add_predicted(cJSON *curves, const dml_arm_spectrum *v, size_t n)
{
    cJSON *c;
    cJSON_ArrayForEach(c, curves)
    {
        const cJSON *arm = cJSON_GetObjectItemCaseSensitive(c, "arm");
        const dml_arm_spectrum *a = NULL;
        for (size_t i = 0; i < n && !a && cJSON_IsString(arm); i++)
            if (strcmp(v[i].arm, arm->valuestring) == 0) a = &v[i];
        if (!a) continue;
        cJSON *pt = cJSON_AddArrayToObject(c, "predicted_test_mse"), *pn = cJSON_AddArrayToObject(c, "predicted_train_mse");
        const cJSON *sz;
        cJSON_ArrayForEach(sz, cJSON_GetObjectItemCaseSensitive(c, "n_train"))
        {
            const dml_prediction *p = NULL;
            for (int j = 0; j < a->npred && !p; j++)
                if ((double)a->pred[j].n_train == sz->valuedouble) p = &a->pred[j];
            cJSON_AddItemToArray(pt, p ? dml_json_number(p->test_mse) : cJSON_CreateNull());
            cJSON_AddItemToArray(pn, p ? dml_json_number(p->train_mse) : cJSON_CreateNull());
        }
    }
}
