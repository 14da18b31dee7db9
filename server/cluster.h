/* dmilab server: the server side of the shard protocol (docs/cluster.md). Workers, the server's own threads and
 * `dmilab worker` processes alike, send three JSON requests: claim (a shard and its lease), renew (keep the lease; learn
 * of a cancel) and report (the shard's points, compressed and checksummed, or its failure). This process coordinates
 * the experiments it plans: it holds their experiment lease, splits each into shards at its first claim, re-queues
 * shards whose lease lapsed, and ends the experiment when its shards are all in (or one failed, or it was cancelled). */
#ifndef DMILAB_SERVER_CLUSTER_H
#define DMILAB_SERVER_CLUSTER_H

#include <cjson/cJSON.h>
#include "app.h"
#include "lease.h"

typedef struct cluster cluster;

/** Start the coordinator of `a` (sets a->cl): a sweep every lease_seconds / 6 re-queues shards whose lease lapsed or
 *  whose worker is a process of this machine that ended, and ends the experiments whose shards are all in.
 *  `on_requeue(ctx)` (may be NULL) is called when shards were re-queued. NULL on error. */
cluster *cluster_start(app *a, lease_keeper *keeper, void (*on_requeue)(void *ctx), void *ctx);

/** Stop the sweep and free the coordinator (after the HTTP server and the worker threads stopped). */
void cluster_stop(cluster *c);

/** Outcomes of cluster_call, as the HTTP routes answer them. */
enum {
    CLUSTER_OK = 200,         /**< *answer holds the answer */
    CLUSTER_NONE = 204,       /**< claim: no shard is queued */
    CLUSTER_BAD = 400,        /**< the request is malformed (err names the field) */
    CLUSTER_LOST = 409,       /**< renew, report: the lease is lost (re-queued, taken by another worker, ended) */
    CLUSTER_UNAVAILABLE = 503 /**< the database refused (locked, full): retry later */
};

/** Serve one protocol request `op` ("claim", "renew" or "report") with body `req` (docs/cluster.md gives the fields).
 *  Returns a CLUSTER_* status; on CLUSTER_OK *answer is set (caller frees); on an error err[cap] says why and
 *  field[64] names the offending field ("" when none). */
int cluster_call(app *a, const char *op, const cJSON *req, cJSON **answer, char *err, size_t cap, char field[64]);

/** The shards of experiment `id` for the experiment object: {"total", "queued", "running", "done", "claims",
 *  "reruns" (claims beyond the first of each shard), "lease_expiries", "slurm_jobs": [...]}; NULL when it has none
 *  (not split yet) or on a database error. */
cJSON *cluster_shards_json(store *st, const char *id);


/** provenance.kernels of experiment `id`: the kernel cache records its kernel and tile shards reported, one entry per
 *  kernel unit (data, model, repeat, key), a split kernel's tile shards summed (tiles, stored: found in a cache when
 *  the shard began, computed; "shards": how many), its kernel_cache hit | partial | miss from the sums. Caller frees;
 *  an empty array when none. */
cJSON *cluster_kernels_json(store *st, const char *id);

#endif
