/* dmilab server: the worker routes POST /api/v1/workers/{claim,renew,report,tile,tiles} and GET /api/v1/workers/tile, the
 * shard protocol over HTTP for `dmilab worker` processes (cluster.h, docs/cluster.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "routes.h"

static void answer_op(const request *rq, reply *r, const char *op, cJSON *req)
{
    cJSON *answer = NULL;
    char err[512], field[64];
    int st = cluster_call(rq->a, op, req, &answer, err, sizeof err, field);
    cJSON_Delete(req);
    switch (st) {
    case CLUSTER_OK:
        reply_json(r, 200, answer);
        return;
    case CLUSTER_NONE:
        reply_text(r, 204, "text/plain", strdup(""));
        return;
    case CLUSTER_BAD:
        reply_error(r, 400, "invalid_spec", err, field[0] ? field : NULL);
        return;
    case CLUSTER_LOST:
        reply_error(r, 409, "conflict", err, NULL);
        return;
    default:
        reply_error(r, 503, "internal", err, NULL);
    }
}

static void serve_op(const request *rq, reply *r, const char *op)
{
    cJSON *req = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!req) {
        reply_error(r, 400, "invalid_json", "the request body is not JSON", NULL);
        return;
    }
    answer_op(rq, r, op, req);
}

void h_worker_claim(const request *rq, reply *r)
{
    serve_op(rq, r, "claim");
}

void h_worker_renew(const request *rq, reply *r)
{
    serve_op(rq, r, "renew");
}

void h_worker_report(const request *rq, reply *r)
{
    serve_op(rq, r, "report");
}

void h_worker_tile(const request *rq, reply *r)
{
    serve_op(rq, r, "tile");
}

void h_worker_tiles(const request *rq, reply *r)
{
    serve_op(rq, r, "tiles");
}

/* GET /api/v1/workers/tile?worker=&experiment_id=&key=&tile=N: the protocol's "fetch" request from the query. */
void h_worker_tile_fetch(const request *rq, reply *r)
{
    cJSON *req = cJSON_CreateObject();
    const char *keys[] = {"worker", "experiment_id", "key"};
    for (int i = 0; i < 3; i++) {
        const char *v = request_query(rq, keys[i]);
        if (v)
            cJSON_AddStringToObject(req, keys[i], v);
    }
    const char *t = request_query(rq, "tile");
    char *end = NULL;
    double n = t ? strtod(t, &end) : -1;
    if (t && *t && end && !*end)
        cJSON_AddNumberToObject(req, "tile", n);
    answer_op(rq, r, "fetch", req);
}
