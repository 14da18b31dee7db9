/* dmilab server: the experiment object of the API. See experiment_json.h. */
#include "experiment_json.h"

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
    add_text_or_null(o, "created_at", e->created_at);
    add_text_or_null(o, "started_at", e->started_at);
    add_text_or_null(o, "finished_at", e->finished_at);
    add_text_or_null(o, "error", e->error);
    add_json_or_null(o, "spec", e->spec);
    add_json_or_null(o, "resolved_spec", e->resolved_spec);
    add_text_or_null(o, "version", e->version);
    add_json_or_null(o, "provenance", e->provenance);
    return o;
}
