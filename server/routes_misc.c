/* dmilab server: /healthz, /metrics, /api/v1/openapi.json and POST /api/v1/kernels. */
#include <stdlib.h>
#include <string.h>

#include "dmilab/json.h"
#include "dmilab/kernel.h"
#include "api_error.h"
#include "metrics.h"
#include "routes.h"

void h_healthz(const request *rq, reply *r)
{
    char why[400];
    int k = store_health(rq->a->st, why, sizeof why);
    if (k < 0) {   /* a live process with a database it cannot read is not healthy */
        cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(o, "status", "unavailable");
        cJSON_AddStringToObject(e, "code", "internal");
        cJSON_AddStringToObject(e, "message", why);
        cJSON_AddNullToObject(e, "field");
        reply_json(r, 503, o);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    reply_json(r, 200, o);
}

void h_post_kernels(const request *rq, reply *r)
{
    dml_error err;
    dml_error_clear(&err);
    cJSON *req = NULL;
    /* the spec's parser: one JSON value, no NUL byte, no \u0000 in a string (cJSON would cut it short) */
    if (dml_json_parse(rq->body, rq->body_len, &req, &err) != 0) {
        reply_dml_error(r, &err, NULL);
        return;
    }
    const serve_config *c = rq->a->cfg;
    const dml_limits *l = &c->limits;
    dml_kernel_limits lim = {.max_numbers = l->max_kernel_numbers, .max_seconds = l->max_kernel_seconds,
                             .max_memory_bytes = (double)l->max_memory_bytes, .max_depth = l->max_depth,
                             .max_width = l->max_width, .request_bytes = rq->body_len};
    /* the response is printed straight into the reply buffer (no tree of every number) */
    char *text = dml_kernel_request_text(req, &lim, c->threads, NULL, &err);
    cJSON_Delete(req);
    if (!text) {
        switch (err.code) {
        case DML_ERR_LIMIT: {
            /* the size of the work (numbers, time, memory) is 413; a model beyond the spec limits is 400 */
            char msg[sizeof err.message + 96], hint[96];
            limit_hint(rq->a, &err, hint, sizeof hint);
            snprintf(msg, sizeof msg, "%s%s", err.message, hint);
            if (strncmp(err.field, "model", 5) == 0 || strncmp(err.field, "empirical", 9) == 0)
                reply_error(r, 400, "limit_exceeded", msg, err.field);
            else
                reply_error(r, 413, "payload_too_large", msg, err.field);
            break;
        }
        default:
            reply_dml_error(r, &err, NULL);
            break;
        }
        return;
    }
    reply_json_text(r, 200, text);
}

void h_metrics(const request *rq, reply *r)
{
    reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", metrics_render(rq->a));
}

/* server/openapi.json, embedded at build time (embed_text.c). */
extern const char openapi_json[];
extern const unsigned long openapi_json_len;

void h_openapi(const request *rq, reply *r)
{
    (void)rq;
    char *text = malloc(openapi_json_len + 1);
    if (text)
        memcpy(text, openapi_json, openapi_json_len + 1);
    reply_json_text(r, 200, text);
    r->no_store = 0;
}
