/* dmilab server: the libmicrohttpd daemon. See http.h.
 * A request goes through: route lookup (404/405), bearer token for mutating methods (401),
 * JSON content type and size for routes with a body (415, 413), then the route's handler. */
#include "http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <pthread.h>
#include <sys/resource.h>

#include "metrics.h"
#include "reply.h"
#include "routes.h"
#include "static_files.h"
#include "ticker.h"
#include "util.h"

/* One open connection, for the read deadline: while `reading`, its request must arrive complete (headers and body)
 * before `deadline`, measured from when it opened or its previous reply was sent. */
typedef struct conn {
    struct conn *prev, *next;
    MHD_socket fd;
    int reading, reaped;
    double deadline;
} conn;

struct http_server {
    struct MHD_Daemon *d;
    app *a;
    atomic_int inflight;    /* requests between their headers and their completion */
    pthread_mutex_t mu;     /* the list of connections */
    conn *conns;
    ticker *reaper;
};

/* A connection whose client sends nothing and reads nothing for this long is closed (a client that stops reading
 * its reply; requests themselves have the read deadline). */
#define IDLE_TIMEOUT_SECONDS 60

/* A body is allowed this many bytes a second on top of the read deadline (a 1 MiB spec: 16 s more). */
#define BODY_MIN_RATE 65536.0

/* Per-request state kept between the calls of the access handler. */
typedef struct {
    int checked;            /* the first call (headers) was handled */
    const route *rt;        /* NULL: a static file */
    char id[ROUTE_ID_MAX];
    char *body;
    size_t len, cap;
    int too_big;
    int matched;            /* the route table matched (rt valid), else a static file or no route */
    double t0;              /* CLOCK_MONOTONIC seconds at the headers */
} req_state;

/* Bodies above --max-body but below this are read and discarded before the 413, so that a client still
 * sending never sees the connection reset instead of the reply. */
#define DRAIN_MAX (64ull << 20)

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int is_mutating(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "DELETE") == 0;
}

/* Constant-time comparison of the Authorization header with "Bearer <token>". */
static int authorized(struct MHD_Connection *c, const char *token)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h), m = strlen(token);
    unsigned char diff = n != m;
    for (size_t i = 0; i < m; i++)
        diff |= (unsigned char)(token[i] ^ (i < n ? h[i] : 0));
    return diff == 0;
}

static int is_json_type(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, reply *r, const req_state *s, const char *method)
{
    if (r->drop) {   /* nobody to answer: close the connection */
        reply_clear(r);
        return MHD_NO;
    }
    metrics_request(method, s->matched ? routes_index(s->rt) : s->rt == NULL && s->checked ? METRICS_ROUTE_STATIC
                                                                                              : METRICS_ROUTE_NONE,
                    r->status, mono_now() - s->t0);
    struct MHD_Response *resp;
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd64(r->fd_size, r->fd);
        if (resp)
            r->fd = -1;   /* owned by the response now */
    } else {
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (resp)
            r->body = NULL;
    }
    if (!resp) {
        reply_clear(r);
        return MHD_NO;
    }
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->no_store ? "no-store" : "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    if (r->status >= 500)
        util_log("reply %u", r->status);
    reply_clear(r);
    return ret;
}

/* The largest body route `rt` takes. */
static size_t body_max(const app *a, const route *rt)
{
    return rt && rt->json_body == ROUTE_TILE_BODY ? a->cfg->max_tile_body : a->cfg->max_body;
}

/* Checks on the headers alone. Returns 1 and fills `r` when the request is answered already. */
static int precheck(app *a, struct MHD_Connection *c, const char *method, const char *url, req_state *s, reply *r)
{
    char allow[64];
    route_match m = routes_find(method, url, &s->rt, s->id, allow, sizeof allow);
    s->matched = m == ROUTE_FOUND;
    if (m == ROUTE_BAD_METHOD || (m == ROUTE_NONE && strncmp(url, "/api/", 5) != 0 && strcmp(method, "GET") != 0
                                  && strcmp(method, "HEAD") != 0)) {
        reply_error(r, 405, "not_found", "method not allowed", NULL);
        snprintf(r->allow, sizeof r->allow, "%s", m == ROUTE_BAD_METHOD ? allow : "GET, HEAD");
        return 1;
    }
    if (m == ROUTE_NONE && (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0)) {
        reply_error(r, 404, "not_found", "no such route", NULL);
        return 1;
    }
    if (m == ROUTE_NONE)
        s->rt = NULL;   /* a static file */
    /* the worker routes take the worker token (when one is set), which opens nothing else */
    int worker_route = strncmp(url, "/api/v1/workers/", 16) == 0 && a->cfg->worker_token[0];
    if (worker_route ? !authorized(c, a->cfg->worker_token) && !(a->cfg->token[0] && authorized(c, a->cfg->token))
                     : a->cfg->token[0] && is_mutating(method) && !authorized(c, a->cfg->token)) {
        reply_error(r, 401, "unauthorized",
                    worker_route ? "this request needs the header Authorization: Bearer <worker token>"
                                 : "this request needs the header Authorization: Bearer <token>", NULL);
        return 1;
    }
    const char *unknown = s->rt ? routes_unknown_query(s->rt, c) : NULL;
    if (unknown) {   /* a misspelt parameter must not be silently ignored (?name= is not a filter) */
        char msg[200];
        snprintf(msg, sizeof msg, "unknown query parameter '%.100s' (this route takes: %s)", unknown,
                 *s->rt->query ? s->rt->query : "none");
        reply_error(r, 400, "invalid_spec", msg, unknown);
        return 1;
    }
    if (s->rt && s->rt->json_body) {
        if (!is_json_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
            reply_error(r, 415, "unsupported_media_type", "the body must be sent as Content-Type: application/json",
                        NULL);
            return 1;
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
        size_t max = body_max(a, s->rt);
        if (len > max && len > DRAIN_MAX) {
            /* far too large: answer at once (the client may see the connection close while it sends) */
            char msg[128];
            snprintf(msg, sizeof msg, "the body is larger than %zu bytes (limit set by --%s)", max,
                     s->rt->json_body == ROUTE_TILE_BODY ? "max-tile-body" : "max-body");
            reply_error(r, 413, "payload_too_large", msg, NULL);
            return 1;
        }
        if (len > max)
            s->too_big = 1;   /* read and discard the body, then answer 413: the client always gets the reply */
    }
    return 0;
}

static void append_body(app *a, req_state *s, const char *data, size_t n)
{
    if (s->too_big || !s->rt || !s->rt->json_body)
        return;   /* bodies of other routes are ignored */
    if (s->len + n > body_max(a, s->rt)) {
        s->too_big = 1;
        free(s->body);
        s->body = NULL;
        s->len = s->cap = 0;
        return;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *b = realloc(s->body, cap);
        if (!b) {
            s->too_big = 1;
            return;
        }
        s->body = b;
        s->cap = cap;
    }
    memcpy(s->body + s->len, data, n);
    s->len += n;
    s->body[s->len] = '\0';
}

/* ---- the read deadline ---- */

static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request on `c` is complete: it is handled and answered without a read deadline. */
static void conn_handling(http_server *h, struct MHD_Connection *c)
{
    conn *k = conn_of(c);
    pthread_mutex_lock(&h->mu);
    if (k)
        k->reading = 0;
    pthread_mutex_unlock(&h->mu);
}

/* A reply was sent (or the request ended): the next request on `c` must arrive within the deadline. */
static void conn_reading(http_server *h, struct MHD_Connection *c)
{
    conn *k = conn_of(c);
    pthread_mutex_lock(&h->mu);
    if (k) {
        k->reading = 1;
        k->deadline = mono_now() + h->a->cfg->read_timeout;
    }
    pthread_mutex_unlock(&h->mu);
}

static void conn_extend(http_server *h, struct MHD_Connection *c, double seconds)
{
    conn *k = conn_of(c);
    pthread_mutex_lock(&h->mu);
    if (k)
        k->deadline += seconds;
    pthread_mutex_unlock(&h->mu);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_server *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn *k = calloc(1, sizeof *k);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!k || !ci) {
            free(k);
            *socket_context = NULL;
            return;
        }
        k->fd = ci->connect_fd;
        k->reading = 1;
        k->deadline = mono_now() + h->a->cfg->read_timeout;
        pthread_mutex_lock(&h->mu);
        k->next = h->conns;
        if (h->conns)
            h->conns->prev = k;
        h->conns = k;
        pthread_mutex_unlock(&h->mu);
        *socket_context = k;
        metrics_connection(1);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn *k = *socket_context;
        if (!k)
            return;
        pthread_mutex_lock(&h->mu);   /* before MHD closes the socket: the reaper never shuts down a reused fd */
        if (k->prev)
            k->prev->next = k->next;
        else
            h->conns = k->next;
        if (k->next)
            k->next->prev = k->prev;
        pthread_mutex_unlock(&h->mu);
        free(k);
        *socket_context = NULL;
        metrics_connection(-1);
    }
}

/* Every half second: shut down the connections whose request did not arrive within the read deadline (a client
 * sending its headers a byte at a time resets an idle timeout forever, not this one). Its thread then sees the
 * socket end and closes it. */
static void reaper_tick(void *p)
{
    http_server *h = p;
    double now = mono_now();
    int n = 0;
    pthread_mutex_lock(&h->mu);
    for (conn *k = h->conns; k; k = k->next)
        if (k->reading && !k->reaped && now > k->deadline) {
            shutdown(k->fd, SHUT_RDWR);
            k->reaped = 1;
            n++;
        }
    pthread_mutex_unlock(&h->mu);
    if (n) {
        metrics_read_timeouts(n);
        util_log("closed %d connection(s) that did not send a whole request within --read-timeout=%d s", n,
                 h->a->cfg->read_timeout);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    http_server *h = cls;
    req_state *s = *con_cls;
    reply r;
    reply_init(&r);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return MHD_NO;
        s->t0 = mono_now();
        *con_cls = s;
        atomic_fetch_add(&h->inflight, 1);
        /* the headers are in: a declared body gets time in proportion to its size */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        double len = cl ? strtod(cl, NULL) : 0;
        if (len > 0)
            conn_extend(h, c, (len < 1e12 ? len : 1e12) / BODY_MIN_RATE);
        if (precheck(h->a, c, method, url, s, &r)) {
            s->checked = 2;   /* answered: ignore any body */
            conn_handling(h, c);
            return send_reply(c, &r, s, method);
        }
        s->checked = 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (s->checked == 1)
            append_body(h->a, s, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (s->checked == 2)
        return MHD_YES;
    conn_handling(h, c);   /* the request is complete: no read deadline while it is handled and answered */
    if (s->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes (limit set by --%s)", body_max(h->a, s->rt),
                 s->rt && s->rt->json_body == ROUTE_TILE_BODY ? "max-tile-body" : "max-body");
        reply_error(&r, 413, "payload_too_large", msg, NULL);
        return send_reply(c, &r, s, method);
    }
    if (!s->rt) {
        static_serve(h->a->web_root, url, &r);
        return send_reply(c, &r, s, method);
    }
    request rq = {.a = h->a, .conn = c, .method = method, .path = url, .body = s->body ? s->body : "",
                  .body_len = s->len};
    memcpy(rq.id, s->id, sizeof rq.id);
    s->rt->handler(&rq, &r);
    return send_reply(c, &r, s, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    http_server *h = cls;
    (void)c;
    (void)toe;
    req_state *s = *con_cls;
    conn_reading(h, c);   /* keep-alive: the next request has a deadline of its own */
    if (s) {
        atomic_fetch_sub(&h->inflight, 1);
        free(s->body);
        free(s);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    util_log("http: %s", line);
}

http_server *http_start(app *a, char *errbuf, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", a->cfg->port);
    int gai = getaddrinfo(a->cfg->bind, port, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(errbuf, errlen, "cannot resolve bind address '%s': %s", a->cfg->bind, gai_strerror(gai));
        return NULL;
    }
    http_server *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(res);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    h->a = a;
    pthread_mutex_init(&h->mu, NULL);
    /* Every connection is a descriptor (and a thread): raise the soft limit to what --max-connections needs, within
     * the hard limit, keeping room for the database, data files and pipes. */
    unsigned max_conn = (unsigned)a->cfg->max_connections;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t need = (rlim_t)max_conn + 256;
        if (rl.rlim_cur < need) {
            rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur < need) {
            max_conn = rl.rlim_cur > 512 ? (unsigned)(rl.rlim_cur - 256) : 256;
            util_log("warning: the open-file limit (%llu) allows %u connections, not --max-connections=%d",
                     (unsigned long long)rl.rlim_cur, max_conn, a->cfg->max_connections);
        }
    }
    /* A thread per connection, so that a handler that blocks (a long-poll, a kernel request, a write waiting for a
     * locked database) blocks only its own connection; poll(), not select(), past 1024 descriptors. A pool of
     * threads with suspend/resume would not do better here: a suspended connection is not watched, so its client's
     * close goes unseen (libmicrohttpd's documentation), and every blocking handler would need a thread of its own
     * anyway. What bounds the threads: --max-connections in all, --max-connections-per-client from one address, the
     * read deadline (reaper_main), long-polls that end when their client closes (routes_ops.c), and an idle
     * timeout for a client that stops reading its reply. */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (res->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, (uint16_t)a->cfg->port, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                            MHD_OPTION_SOCK_ADDR, res->ai_addr,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_CONNECTION_LIMIT, max_conn,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)a->cfg->max_connections_per_client,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_SECONDS,
                            MHD_OPTION_END);
    freeaddrinfo(res);
    if (!h->d) {
        snprintf(errbuf, errlen, "cannot listen on %s port %d (address in use or not available?)", a->cfg->bind,
                 a->cfg->port);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    if (!(h->reaper = ticker_start(0.5, reaper_tick, h))) {
        snprintf(errbuf, errlen, "cannot start a thread");
        MHD_stop_daemon(h->d);
        free(h);
        return NULL;
    }
    return h;
}

void http_stop(http_server *h)
{
    if (!h)
        return;
    /* Close the listening socket, let the requests in flight send their replies (long-polls answer at once
     * when the app is stopping), then close every connection. */
    MHD_socket ls = MHD_quiesce_daemon(h->d);
    for (int i = 0; i < 300 && atomic_load(&h->inflight) > 0; i++)
        usleep(10000);
    MHD_stop_daemon(h->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    ticker_stop(h->reaper);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
