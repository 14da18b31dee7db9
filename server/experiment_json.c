/* dmilab server: the experiment object of the API. See experiment_json.h. */
#include "experiment_json.h"

#include <math.h>
#include <string.h>

#include "cluster.h"

static void add_text_or_null(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* Stored JSON text (validated when it was written) is added raw: printed as is, never parsed again. */
static void add_json_or_null(cJSON *o, const char *key, const char *text)
{
    cJSON *v = text && *text ? cJSON_CreateRaw(text) : NULL;
    cJSON_AddItemToObject(o, key, v ? v : cJSON_CreateNull());
}

cJSON *experiment_json(const store_experiment *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", e->id);
    add_text_or_null(o, "name", e->name);
    cJSON_AddStringToObject(o, "status", e->status);
    cJSON_AddNumberToObject(o, "progress", e->progress);
    cJSON_AddBoolToObject(o, "cancel_requested", e->cancel_requested != 0);
    if (strcmp(e->status, "running") == 0 && isfinite(e->eta_seconds))
        cJSON_AddNumberToObject(o, "eta_seconds", e->eta_seconds);
    else
        cJSON_AddNullToObject(o, "eta_seconds");
    add_text_or_null(o, "created_at", e->created_at);
    add_text_or_null(o, "started_at", e->started_at);
    add_text_or_null(o, "finished_at", e->finished_at);
    add_text_or_null(o, "error", e->error);
    cJSON *det = e->error_code ? cJSON_CreateObject() : NULL;
    if (det) {
        cJSON_AddStringToObject(det, "code", e->error_code);
        add_text_or_null(det, "message", e->error);
        add_text_or_null(det, "field", e->error_field);
    }
    cJSON_AddItemToObject(o, "error_detail", det ? det : cJSON_CreateNull());
    add_json_or_null(o, "spec", e->spec);
    add_json_or_null(o, "resolved_spec", e->resolved_spec);
    add_text_or_null(o, "version", e->version);
    add_json_or_null(o, "provenance", e->provenance);
    cJSON *lease = e->lease_owner ? cJSON_CreateObject() : NULL;
    if (lease) {
        char t[UTIL_TIME_LEN];
        util_format_ms(e->lease_expires_ms, t);
        cJSON_AddStringToObject(lease, "owner", e->lease_owner);
        cJSON_AddStringToObject(lease, "expires_at", t);
    }
    cJSON_AddItemToObject(o, "lease", lease ? lease : cJSON_CreateNull());
    return o;
}

cJSON *experiment_json_shards(store *st, const store_experiment *e)
{
    cJSON *o = experiment_json(e), *sh = o ? cluster_shards_json(st, e->id) : NULL;
    if (o)
        cJSON_AddItemToObject(o, "shards", sh ? sh : cJSON_CreateNull());
    /* the kernel cache records its shards reported (docs/tiles.md): provenance.kernels */
    cJSON *k = sh && e->provenance ? cluster_kernels_json(st, e->id) : NULL;
    cJSON *prov = k && cJSON_GetArraySize(k) > 0 ? cJSON_Parse(e->provenance) : NULL;
    if (cJSON_IsObject(prov)) {
        cJSON_DeleteItemFromObjectCaseSensitive(prov, "kernels");
        cJSON_AddItemToObject(prov, "kernels", k);
        k = NULL;
        cJSON_ReplaceItemInObjectCaseSensitive(o, "provenance", prov);
        prov = NULL;
    }
    cJSON_Delete(prov);
    cJSON_Delete(k);
    return o;
}
