/* dmilab server: GET /api/v1/experiments/{id}/spectrum, the spectral readout of the kernel arms (docs/spectrum.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmilab/results.h"
#include "api_error.h"
#include "routes.h"
#include "spectra.h"

/* The largest ?max_points= (modes per arm; SPECTRUM_POINTS by default). */
#define SPECTRUM_POINTS_MAX 1000000

void h_get_spectrum(const request *rq, reply *r)
{
    const char *mp = request_query(rq, "max_points");
    int csv = request_format(rq, r, "csv"), k;
    if (csv < 0)
        return;
    size_t max_points = SPECTRUM_POINTS;
    if (mp && *mp) {
        char *end;
        long v = strtol(mp, &end, 10);
        if (*end || v < 2 || v > SPECTRUM_POINTS_MAX) {
            reply_error(r, 400, "invalid_spec", "max_points must be an integer from 2 to 1000000", "max_points");
            return;
        }
        max_points = (size_t)v;
    }
    store_experiment e;
    if (!request_experiment(rq, r, &e))
        return;
    /* the stored resolved spec says whether it asked for a spectrum, and on how many points */
    cJSON *rs = e.resolved_spec ? cJSON_Parse(e.resolved_spec) : NULL;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rs, "spectrum"), "n");
    double N = cJSON_IsNumber(n) ? n->valuedouble : 0;
    cJSON_Delete(rs);
    store_experiment_free(&e);
    if (N <= 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "experiment '%s' has no spectrum: its spec does not ask for one (\"spectrum\": {\"n\": N})",
                 rq->id);
        reply_error(r, 404, "not_found", msg, NULL);
        return;
    }
    spectrum_list sl = {0};
    if ((k = store_spectra(rq->a->st, rq->id, 1, &sl)) != 0) {
        spectrum_list_free(&sl);
        reply_store_error(r, k, store_path(rq->a->st));
        return;
    }
    dml_arm_spectrum dummy, *arr = spectrum_list_array(&sl);
    if (sl.n > 0 && !arr) {
        spectrum_list_free(&sl);
        reply_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    const dml_arm_spectrum *v = arr ? arr : &dummy;
    if (csv) {
        reply_text(r, 200, "text/csv; charset=utf-8", dml_spectra_csv(v, sl.n, max_points));
    } else {
        cJSON *o = cJSON_CreateObject(), *a = dml_spectra_json(v, sl.n, max_points);
        if (o && a) {
            cJSON_AddStringToObject(o, "id", rq->id);
            cJSON_AddNumberToObject(o, "n", N);
            cJSON_AddNumberToObject(o, "max_points", (double)max_points);
            cJSON_AddItemToObject(o, "spectra", a);
            reply_json(r, 200, o);
        } else {
            cJSON_Delete(o);
            cJSON_Delete(a);
            reply_error(r, 500, "internal", "out of memory", NULL);
        }
    }
    free(arr);
    spectrum_list_free(&sl);
}
