/* dmilab server: a worker of the shard protocol, whatever carries its requests: claim a shard, renew its lease from a
 * second thread while computing it (shard_exec), report its points or its failure. The server's own worker threads
 * call the coordinator directly (cluster_call), `dmilab worker` over HTTP: the same requests, the same answers. */
#ifndef DMILAB_SERVER_WORKER_H
#define DMILAB_SERVER_WORKER_H

#include <cjson/cJSON.h>
#include <stdatomic.h>

/** How a worker's requests reach the coordinator. `call` sends protocol request `op` ("claim", "renew", "report",
 *  "tile": a tile shard's tile, "fetch": a tile for a solve)
 *  with body `req` and returns a CLUSTER_* status (cluster.h: 200 with *answer set, 204, 400, 409, 503), or a negative
 *  number when the server cannot be reached (then the request is retried). */
typedef struct {
    void *ctx;
    int (*call)(void *ctx, const char *op, const cJSON *req, cJSON **answer);
} worker_transport;

/** A worker's settings. */
typedef struct {
    const char *owner;            /**< its id (lease.h: "ROLE@HOST:PID#..."), unique among the cluster's workers */
    int threads;                  /**< threads for kernels, solves and training (>= 1) */
    const char *data_root;        /**< where it reads data files */
    const char *tile_dir;         /**< its kernel tiles and kernel cache (dmilab/tiles.h); NULL: a temporary directory
                                       of each shard */
    int shares_tile_dir;          /**< tile_dir is the server's --tile-dir (its own worker threads): a tile shard reports
                                       its tiles without their data, a solve finds them there */
    double cache_bytes;           /**< bytes of finished kernels kept in tile_dir for later shards; 0 keeps none */
    const char *slurm_job;        /**< "JOB_TASK" under Slurm, else NULL */
    const atomic_int *stopping;   /**< nonzero: stop after the current unit of work and give the shard back */
    double renew_max_seconds;     /**< > 0: renew at least this often (the server's own workers: a cancel is seen within
                                       about this time; a renewal is one small write), else every renew_seconds */
} worker_opts;

/** Outcome of worker_step. */
enum { WORKER_IDLE = 0, WORKER_RAN = 1, WORKER_UNREACHABLE = -1 };

/** Claim one shard and run it to its end (a solve shard first fetches the tiles the server holds and its tile
 *  directory lacks; a tile shard reports each tile as it is done, skipping those the server has): compute it while a
 *  second thread renews its lease every renew_seconds
 *  (a lost lease or a cancel stops the computation at the next unit or epoch), then report it: "done" with its
 *  points (compressed, checksummed), "failed" with the core's error, "cancelled", or "released" (stopping or the lease
 *  lost). A report the server cannot take is retried with backoff (0.25 s doubling to 8 s) for one lease period.
 *  Returns WORKER_RAN, WORKER_IDLE (no shard queued) or WORKER_UNREACHABLE (the claim failed). */
int worker_step(const worker_transport *t, const worker_opts *o);

#endif
