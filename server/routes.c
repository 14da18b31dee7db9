/* dmilab server: the route table and its matching, and the helpers its handlers share. See routes.h. */
#include "routes.h"
#include "api_error.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

/* Every route the server serves, with the query parameters it takes (any other is a 400 naming it). The OpenAPI
 * document must describe exactly these: tests/test_api_ops.c reads this table (one route per line) and compares. */
static const route table[] = {
    {"GET", "/healthz", h_healthz, 0, ""},
    {"GET", "/metrics", h_metrics, 0, ""},
    {"GET", "/api/v1/openapi.json", h_openapi, 0, ""},
    {"GET", "/api/v1/experiments", h_list_experiments, 0, "status limit cursor q tag"},
    {"POST", "/api/v1/experiments", h_post_experiments, 1, "dry_run"},
    {"GET", "/api/v1/experiments/{id}", h_get_experiment, 0, ""},
    {"DELETE", "/api/v1/experiments/{id}", h_delete_experiment, 0, ""},
    {"GET", "/api/v1/experiments/{id}/results", h_get_results, 0, "format"},
    {"GET", "/api/v1/experiments/{id}/checks", h_get_checks, 0, "format"},
    {"GET", "/api/v1/experiments/{id}/audit", h_get_audit, 0, "format"},
    {"GET", "/api/v1/experiments/{id}/spectrum", h_get_spectrum, 0, "format max_points"},
    {"GET", "/api/v1/experiments/{id}/wait", h_wait_experiment, 0, "timeout"},
    {"POST", "/api/v1/experiments/{id}/cancel", h_cancel_experiment, 0, ""},
    {"POST", "/api/v1/kernels", h_post_kernels, 1, ""},
    {"POST", "/api/v1/workers/claim", h_worker_claim, 1, ""},
    {"POST", "/api/v1/workers/renew", h_worker_renew, 1, ""},
    {"POST", "/api/v1/workers/report", h_worker_report, 1, ""},
    {"POST", "/api/v1/workers/tile", h_worker_tile, ROUTE_TILE_BODY, ""},
    {"POST", "/api/v1/workers/tiles", h_worker_tiles, 1, ""},
    {"GET", "/api/v1/workers/tile", h_worker_tile_fetch, 0, "worker experiment_id key tile"},
};
#define NROUTES (sizeof table / sizeof table[0])

/* Whether `path` matches `pattern`; copies the {id} segment. */
static int match(const char *pattern, const char *path, char id[ROUTE_ID_MAX])
{
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = strcspn(s, "/");
            if (n == 0 || n >= ROUTE_ID_MAX)
                return 0;
            memcpy(id, s, n);
            id[n] = '\0';
            p += 4;
            s += n;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

route_match routes_find(const char *method, const char *path, const route **out, char id[ROUTE_ID_MAX],
                        char *allow, size_t allow_len)
{
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    int path_known = 0;
    char tmp[ROUTE_ID_MAX];
    allow[0] = '\0';
    for (size_t i = 0; i < NROUTES; i++) {
        tmp[0] = '\0';
        if (!match(table[i].pattern, path, tmp))
            continue;
        if (strcmp(table[i].method, m) == 0) {
            *out = &table[i];
            memcpy(id, tmp, ROUTE_ID_MAX);
            return ROUTE_FOUND;
        }
        size_t n = strlen(allow);
        snprintf(allow + n, allow_len - n, "%s%s", n ? ", " : "",
                 strcmp(table[i].method, "GET") == 0 ? "GET, HEAD" : table[i].method);
        path_known = 1;
    }
    return path_known ? ROUTE_BAD_METHOD : ROUTE_NONE;
}

int routes_count(void)
{
    return (int)NROUTES;
}

const route *routes_at(int i)
{
    return i >= 0 && i < (int)NROUTES ? &table[i] : NULL;
}

int routes_index(const route *rt)
{
    return rt ? (int)(rt - table) : -1;
}

const char *request_header(const request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *request_query(const request *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

int request_client_gone(const request *rq)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return 0;
    struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

typedef struct {
    const char *key;
    const char **out;
    int max, n;
} query_all;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_all *q = cls;
    if (key && strcmp(key, q->key) == 0) {
        if (q->n < q->max)
            q->out[q->n] = value ? value : "";
        q->n++;
    }
    return MHD_YES;
}

int request_query_all(const request *rq, const char *key, const char **out, int max)
{
    query_all q = {key, out, max, 0};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect, &q);
    return q.n;
}

typedef struct {
    const route *rt;
    const char *unknown;
} query_check;

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    query_check *q = cls;
    size_t n = strlen(key);
    for (const char *p = q->rt->query; *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && strncmp(p, key, n) == 0)
            return MHD_YES;
        p += k;
        while (*p == ' ')
            p++;
    }
    q->unknown = key;
    return MHD_NO;   /* stop at the first unknown one */
}

const char *routes_unknown_query(const route *rt, struct MHD_Connection *c)
{
    query_check q = {rt, NULL};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_param, &q);
    return q.unknown;
}

int request_format(const request *rq, reply *r, const char *other)
{
    const char *format = request_query(rq, "format");
    if (!format || !*format || strcmp(format, "json") == 0)
        return 0;
    if (strcmp(format, other) == 0)
        return 1;
    char msg[64];
    snprintf(msg, sizeof msg, "format must be json or %s", other);
    reply_error(r, 400, "invalid_spec", msg, "format");
    return -1;
}

int request_experiment(const request *rq, reply *r, store_experiment *e)
{
    int k = store_get_experiment(rq->a->st, rq->id, e);
    if (k < 0) {
        reply_store_error(r, k, store_path(rq->a->st));
    } else if (k == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "no experiment '%s'", rq->id);
        reply_error(r, 404, "not_found", msg, NULL);
    }
    return k > 0;
}

/* Write " (limit set by --flag=value)" for the limit that `err` exceeded (its id, looked up in the configuration
 * table), or "" when it is not one of them. */
void limit_hint(const app *a, const dml_error *err, char *out, size_t cap)
{
    config_limit_hint(a->cfg, err->limit, out, cap);
}
