/* dmilab server: the API routes (method, path pattern, handler) and the request they receive. */
#ifndef DMILAB_SERVER_ROUTES_H
#define DMILAB_SERVER_ROUTES_H

#include <stddef.h>
#include <microhttpd.h>
#include "app.h"
#include "reply.h"

#define ROUTE_ID_MAX 64

/** A request as the handlers see it: complete, body included. */
typedef struct {
    app *a;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    char id[ROUTE_ID_MAX];   /**< the {id} segment of the path, "" when the route has none */
    const char *body;        /**< NUL-terminated, body_len bytes (may contain no NUL before) */
    size_t body_len;
} request;

typedef void (*route_handler)(const request *rq, reply *r);

/** One route. `json_body`: the request must carry a JSON body (Content-Type checked, size bounded by --max-body;
 *  ROUTE_TILE_BODY: by --max-tile-body, the tile upload). */
typedef struct {
    const char *method;
    const char *pattern;     /**< segments; "{id}" matches one non-empty segment */
    route_handler handler;
    int json_body;
    const char *query;       /**< the query parameters it takes, separated by spaces ("" for none) */
} route;

#define ROUTE_TILE_BODY 2

/** Outcome of routes_find. */
typedef enum { ROUTE_FOUND, ROUTE_BAD_METHOD, ROUTE_NONE } route_match;

/** Find the route of (method, path); HEAD matches GET routes. On ROUTE_FOUND sets *out and `id`;
 *  on ROUTE_BAD_METHOD writes the allowed methods ("GET, HEAD, POST") into `allow`. */
route_match routes_find(const char *method, const char *path, const route **out, char id[ROUTE_ID_MAX],
                        char *allow, size_t allow_len);

/** The first query parameter of the request on `c` that route `rt` does not take, or NULL (valid until the request
 *  ends). */
const char *routes_unknown_query(const route *rt, struct MHD_Connection *c);

/** Number of routes in the table, the route at index i (NULL outside), and the index of a route. */
int routes_count(void);
const route *routes_at(int i);
int routes_index(const route *rt);

/** A request header (case-insensitive name), or NULL. */
const char *request_header(const request *rq, const char *name);

/** A query-string argument of the request, or NULL. */
const char *request_query(const request *rq, const char *key);

/** Whether the client of the request closed its side of the connection (poll() for POLLRDHUP, without waiting):
 *  a long-poll whose client went away ends at once. */
int request_client_gone(const request *rq);

/** Every value of the query-string argument `key` (it may be repeated) into out[0..max); returns their number
 *  (counting on past max). */
int request_query_all(const request *rq, const char *key, const char **out, int max);

/** Write " (limit set by --flag=value)" naming the `dmilab serve` flag of the limit that `err`
 *  (DML_ERR_LIMIT) exceeded, from its err->limit id (config_limit_hint), or "" when it is not one of them. */
void limit_hint(const app *a, const dml_error *err, char *out, size_t cap);

/** The ?format= of a route that answers JSON or `other` ("csv"): 0 for json (or none), 1 for `other`, -1 after a 400
 *  naming `format`. */
int request_format(const request *rq, reply *r, const char *other);

/** Read the experiment of the route's {id} into `e`: 1 when found (free it with store_experiment_free), 0 after a 404
 *  not_found or a store error reply. */
int request_experiment(const request *rq, reply *r, store_experiment *e);

/** Reply with the stored experiment `id` and this status; 404 not_found or 500 internal. */
void reply_experiment(const request *rq, reply *r, unsigned status, const char *id);

/* Handlers (routes_experiments.c, routes_ops.c, routes_misc.c). */
/** POST /api/v1/experiments: validate the spec (400 invalid_json / invalid_spec / limit_exceeded), store it
 *  queued, wake the workers; 201 with the experiment and a Location header. */
void h_post_experiments(const request *rq, reply *r);
/** GET /api/v1/experiments?status=&limit=&cursor=: newest first, {"experiments": [...], "next_cursor"}. */
void h_list_experiments(const request *rq, reply *r);
/** GET /api/v1/experiments/{id}: the experiment, or 404 not_found. */
void h_get_experiment(const request *rq, reply *r);
/** GET /api/v1/experiments/{id}/results[?format=csv]: stored points in grid order and their curves (with the
 *  predicted MSEs of the arms that have a spectral readout). */
void h_get_results(const request *rq, reply *r);
/** POST /api/v1/experiments/{id}/cancel: 202 with the experiment (queued: cancelled at once; running: the
 *  worker stops between units of work); 200 no-op for an ended one; 404. */
void h_cancel_experiment(const request *rq, reply *r);
/** DELETE /api/v1/experiments/{id}: 204 (queued or ended, points deleted too); 409 conflict while running; 404. */
void h_delete_experiment(const request *rq, reply *r);
/** GET /api/v1/experiments/{id}/wait?timeout=S: 200 with the experiment when it ends or S seconds pass. */
void h_wait_experiment(const request *rq, reply *r);
/** GET /api/v1/experiments/{id}/checks[?format=junit]: the check outcomes on the stored points. */
void h_get_checks(const request *rq, reply *r);
/** GET /api/v1/experiments/{id}/spectrum[?format=csv][&max_points=M]: the kernel arms' spectral readouts
 *  (docs/spectrum.md), modes thinned to at most M (default 2000) per arm; 404 for an experiment whose spec asks for
 *  no spectrum. */
void h_get_spectrum(const request *rq, reply *r);
/** GET /api/v1/experiments/{id}/audit: {"id", "audit": [...]} (empty until the core runs audits). */
void h_get_audit(const request *rq, reply *r);
/** GET /metrics: Prometheus text format. */
void h_metrics(const request *rq, reply *r);
/** GET /api/v1/openapi.json: the OpenAPI 3.1 document embedded at build time. */
void h_openapi(const request *rq, reply *r);
/** POST /api/v1/kernels: the `dmilab kernel` request over HTTP (413 above --max-kernel-numbers). */
void h_post_kernels(const request *rq, reply *r);
/** POST /api/v1/workers/claim, renew, report: the shard protocol (cluster_call; docs/cluster.md): 200 with the answer,
 *  204 (claim: nothing queued), 400 naming the field, 409 conflict (the lease is lost), 503 (the database refused). */
void h_worker_claim(const request *rq, reply *r);
void h_worker_renew(const request *rq, reply *r);
void h_worker_report(const request *rq, reply *r);
void h_worker_tile(const request *rq, reply *r);
void h_worker_tiles(const request *rq, reply *r);
void h_worker_tile_fetch(const request *rq, reply *r);
/** GET /healthz: {"status": "ok"}. */
void h_healthz(const request *rq, reply *r);

#endif
