/* dmilab server: Prometheus metrics (GET /metrics). Counters are relaxed atomics: recording a request
 * takes no lock; rendering reads them while requests go on. */
#ifndef DMILAB_SERVER_METRICS_H
#define DMILAB_SERVER_METRICS_H

#include "app.h"

/** Route slots besides the route table's indices (routes_index): a static file, and no route at all. */
#define METRICS_ROUTE_STATIC (-1)
#define METRICS_ROUTE_NONE (-2)

/** Count one answered request: its method, route (routes_index or METRICS_ROUTE_*), status and duration. */
void metrics_request(const char *method, int route, unsigned status, double seconds);

/** Count an experiment that ended with `status` (succeeded, failed, cancelled). */
void metrics_finished(const char *status);

/** A connection opened (+1) or closed (-1). */
void metrics_connection(int delta);

/** Count `n` connections closed at the read deadline. */
void metrics_read_timeouts(int n);

/** Count `n` shard leases that lapsed (their shards re-queued by the cluster's sweep). */
void metrics_lease_expiries(int n);

/** A long-poll started (+1) or ended (-1); `client_gone`: it ended because its client closed the connection. */
void metrics_long_poll(int delta, int client_gone);

/** The Prometheus text exposition (version 0.0.4), malloc'd: dmilab_queue_depth, dmilab_experiments_running,
 *  dmilab_experiments_finished_total{status}, dmilab_workers, dmilab_shards{status}, dmilab_shard_leases,
 *  dmilab_shard_lease_expiries_total, dmilab_http_connections, dmilab_http_read_timeouts_total,
 *  dmilab_http_long_polls, dmilab_http_long_polls_abandoned_total, dmilab_http_requests_total{method,route,code},
 *  dmilab_http_request_duration_seconds{route} (histogram). NULL when out of memory. */
char *metrics_render(app *a);

#endif
