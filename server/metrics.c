/* dmilab server: Prometheus metrics. See metrics.h. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"
#include "store_shards.h"
#include "util.h"

#define MAX_ROUTES 32                    /* route table entries + static + none */
#define CODE_MIN 100
#define CODE_N 500                       /* 100..599 */
static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};
#define NMETHODS (sizeof methods / sizeof methods[0])
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])
static const char *const finished_status[] = {"succeeded", "failed", "cancelled"};

static atomic_ulong requests[MAX_ROUTES][NMETHODS][CODE_N];
static atomic_ulong buckets[MAX_ROUTES][NBOUNDS + 1];   /* not cumulative; last = above every bound */
static atomic_ullong sum_ns[MAX_ROUTES];
static atomic_ulong finished[3];

static int route_slot(int route)
{
    int n = routes_count();
    int slot = route >= 0 ? route : route == METRICS_ROUTE_STATIC ? n : n + 1;
    return slot < MAX_ROUTES ? slot : -1;
}

static const char *slot_name(int slot)
{
    int n = routes_count();
    return slot < n ? routes_at(slot)->pattern : slot == n ? "static" : "none";
}

/* The method of a slot's route: the histogram is per (method, route) so no two series share labels. */
static const char *slot_method(int slot)
{
    int n = routes_count();
    return slot < n ? routes_at(slot)->method : "any";
}

void metrics_request(const char *method, int route, unsigned status, double seconds)
{
    int slot = route_slot(route);
    if (slot < 0)
        return;
    size_t m = NMETHODS - 1;
    for (size_t i = 0; i + 1 < NMETHODS; i++)
        if (strcmp(method, methods[i]) == 0) {
            m = i;
            break;
        }
    if (status >= CODE_MIN && status < CODE_MIN + CODE_N)
        atomic_fetch_add_explicit(&requests[slot][m][status - CODE_MIN], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(&buckets[slot][b], 1, memory_order_relaxed);
    if (seconds < 0)
        seconds = 0;
    atomic_fetch_add_explicit(&sum_ns[slot], (unsigned long long)(seconds * 1e9), memory_order_relaxed);
}

static atomic_long connections, long_polls;
static atomic_ulong read_timeouts, long_polls_gone, lease_expiries;

void metrics_connection(int delta)
{
    atomic_fetch_add_explicit(&connections, delta, memory_order_relaxed);
}

void metrics_read_timeouts(int n)
{
    atomic_fetch_add_explicit(&read_timeouts, (unsigned long)n, memory_order_relaxed);
}

void metrics_lease_expiries(int n)
{
    atomic_fetch_add_explicit(&lease_expiries, (unsigned long)n, memory_order_relaxed);
}

void metrics_long_poll(int delta, int client_gone)
{
    atomic_fetch_add_explicit(&long_polls, delta, memory_order_relaxed);
    if (client_gone)
        atomic_fetch_add_explicit(&long_polls_gone, 1, memory_order_relaxed);
}

void metrics_finished(const char *status)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(status, finished_status[i]) == 0)
            atomic_fetch_add_explicit(&finished[i], 1, memory_order_relaxed);
}

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = 2 * b->cap + (size_t)k;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* One metric without labels: its HELP and TYPE lines and its sample. */
static void scalar(buf *b, const char *name, const char *type, const char *help, double v)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

char *metrics_render(app *a)
{
    buf b = {malloc(16384), 0, 16384, 0};
    if (!b.s)
        return NULL;
    b.s[0] = '\0';
    long queued = store_count_status(a->st, "queued"), running = store_count_status(a->st, "running");
    put(&b, "# HELP dmilab_queue_depth Experiments waiting in the queue.\n# TYPE dmilab_queue_depth gauge\n"
            "dmilab_queue_depth %ld\n", queued < 0 ? 0 : queued);
    put(&b, "# HELP dmilab_experiments_running Experiments being run by a worker.\n"
            "# TYPE dmilab_experiments_running gauge\ndmilab_experiments_running %ld\n", running < 0 ? 0 : running);
    put(&b, "# HELP dmilab_experiments_finished_total Experiments that ended since the service started, by final status.\n"
            "# TYPE dmilab_experiments_finished_total counter\n");
    for (int i = 0; i < 3; i++)
        put(&b, "dmilab_experiments_finished_total{status=\"%s\"} %lu\n", finished_status[i],
            atomic_load_explicit(&finished[i], memory_order_relaxed));
    /* the shard protocol (docs/cluster.md) */
    long sh[3] = {0, 0, 0};
    store_shards_count(a->st, NULL, sh, NULL, NULL);
    long seen = store_workers_seen(a->st, util_now_ms() - 2000LL * a->cfg->lease_seconds);
    scalar(&b, "dmilab_workers", "gauge", "Workers (threads of this server and dmilab worker processes) that claimed or "
           "renewed a shard within two lease periods.", (double)(seen < 0 ? 0 : seen));
    put(&b, "# HELP dmilab_shards Shards of experiments by status (running: each holds a lease).\n"
            "# TYPE dmilab_shards gauge\n");
    for (int i = 0; i < 3; i++)
        put(&b, "dmilab_shards{status=\"%s\"} %ld\n", i == 0 ? "queued" : i == 1 ? "running" : "done", sh[i]);
    scalar(&b, "dmilab_shard_leases", "gauge", "Shard leases held now.", (double)sh[1]);
    scalar(&b, "dmilab_shard_lease_expiries_total", "counter",
           "Shard leases that lapsed (worker killed, machine gone, network cut) since the start: each shard re-queued.",
           (double)atomic_load_explicit(&lease_expiries, memory_order_relaxed));
    scalar(&b, "dmilab_http_connections", "gauge", "Open HTTP connections (each has a thread).",
           (double)atomic_load_explicit(&connections, memory_order_relaxed));
    scalar(&b, "dmilab_http_read_timeouts_total", "counter",
           "Connections closed because their request did not arrive whole within --read-timeout.",
           (double)atomic_load_explicit(&read_timeouts, memory_order_relaxed));
    scalar(&b, "dmilab_http_long_polls", "gauge", "Long-polls (GET .../wait) waiting now.",
           (double)atomic_load_explicit(&long_polls, memory_order_relaxed));
    scalar(&b, "dmilab_http_long_polls_abandoned_total", "counter",
           "Long-polls ended because their client closed the connection.",
           (double)atomic_load_explicit(&long_polls_gone, memory_order_relaxed));
    int nslots = routes_count() + 2;
    if (nslots > MAX_ROUTES)
        nslots = MAX_ROUTES;
    put(&b, "# HELP dmilab_http_requests_total HTTP requests answered, by method, route pattern and status code.\n"
            "# TYPE dmilab_http_requests_total counter\n");
    for (int r = 0; r < nslots; r++)
        for (size_t m = 0; m < NMETHODS; m++)
            for (int c = 0; c < CODE_N; c++) {
                unsigned long v = atomic_load_explicit(&requests[r][m][c], memory_order_relaxed);
                if (v)
                    put(&b, "dmilab_http_requests_total{method=\"%s\",route=\"%s\",code=\"%d\"} %lu\n", methods[m],
                        slot_name(r), c + CODE_MIN, v);
            }
    put(&b, "# HELP dmilab_http_request_duration_seconds Time from the request's headers to its response, by method and route.\n"
            "# TYPE dmilab_http_request_duration_seconds histogram\n");
    for (int r = 0; r < nslots; r++) {
        unsigned long cum = 0, counts[NBOUNDS + 1];
        for (size_t k = 0; k <= NBOUNDS; k++)
            counts[k] = atomic_load_explicit(&buckets[r][k], memory_order_relaxed);
        unsigned long total = 0;
        for (size_t k = 0; k <= NBOUNDS; k++)
            total += counts[k];
        if (total == 0)
            continue;
        const char *name = slot_name(r), *meth = slot_method(r);
        for (size_t k = 0; k < NBOUNDS; k++) {
            cum += counts[k];
            put(&b, "dmilab_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %lu\n", meth, name,
                bounds[k], cum);
        }
        put(&b, "dmilab_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %lu\n", meth, name,
            total);
        put(&b, "dmilab_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.9f\n", meth, name,
            (double)atomic_load_explicit(&sum_ns[r], memory_order_relaxed) * 1e-9);
        put(&b, "dmilab_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %lu\n", meth, name, total);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
