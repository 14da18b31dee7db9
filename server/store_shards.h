/* dmilab server: the shards of running experiments in the store (migrations 0008, 0011): planning an experiment's
 * shards, and the shard lease protocol of workers (claim, renew, report, release, expire), as store.h does for
 * experiments. The tiles of tile shards: store_shard_tiles.h. */
#ifndef DMILAB_SERVER_STORE_SHARDS_H
#define DMILAB_SERVER_STORE_SHARDS_H

#include <stdint.h>
#include "store.h"

/** One shard to plan: its kind ("kernel", "tile", "solve", "train", "audit"), its unit as JSON text, the number of
 *  points it reports, whether they are all stored already (a resumed experiment: the shard is planned done), and
 *  the shards [after_from, after_to) it waits for (a solve: its tile shards; after_to <= after_from: none). The
 *  experiment's progress counts the done shards' weights over all weights. */
typedef struct {
    const char *kind;
    char *unit;
    int points;
    int done;
    int after_from, after_to;
    double weight;   /**< its share of the experiment's progress, in points (> 0), else (0) its points */
} store_shard_plan;

/** Insert the shard list of experiment `id` unless it has one (an experiment is planned once; a re-queued one keeps
 *  its shards and their states). Returns 1 when inserted, 0 when it had shards, or a negative error. */
int store_shards_plan(store *st, const char *id, const store_shard_plan *v, int n);

/** Queue shard (id, idx) again if it is done and its unit is `unit` (its results were found incomplete; a shard list
 *  planned under other settings is left alone). Returns 1, 0 (not done) or a negative error. */
int store_shard_reopen(store *st, const char *id, int idx, const char *unit);

/** A claimed shard. Strings are malloc'd; free with store_shard_free. */
typedef struct {
    char experiment_id[UTIL_ID_LEN + 8];
    int idx;
    char kind[16];
    char *unit;            /**< JSON text */
    int points;
    int claims;            /**< including this one: 2 means a rerun */
    char *resolved_spec;   /**< of its experiment */
    char *provenance;      /**< of its experiment (NULL before its first data files were reported) */
    int after_from, after_to;   /**< the shards it waited for (a solve: its tile shards), else 0, 0 */
} store_shard;

void store_shard_free(store_shard *s);

/** Claim the first queued shard whose dependencies are done (after_from, after_to) of the oldest running experiment
 *  not being cancelled, for `worker` (an owner id), in
 *  one transaction: running, leased to now_ms + lease_ms, claims + 1, slurm_job recorded (may be NULL). Also records
 *  the worker as seen. Returns 1 claimed, 0 none queued, or a negative error. */
int store_shard_claim(store *st, const char *worker, int threads, const char *slurm_job, int64_t now_ms, int64_t lease_ms,
                      store_shard *out);

/** Renew `worker`'s lease on shard (id, idx). `fraction` in [0, 1] (negative: unknown) is how much of the shard is
 *  done (its kernel tiles): the experiment's progress becomes at least the done shards' points plus that fraction of
 *  this shard's, over all points; `eta_seconds` (negative: unknown) is the time left of the shard's tiles at their
 *  measured rate; the experiment's eta_seconds becomes the time left of the shard's kernel: for a tile shard of a
 *  split kernel, that eta plus the same rate (seconds per weight) applied to the kernel's queued tile shards
 *  (divided among its running ones) and its solve; for any other shard, that eta. Returns 1 held (then *cancel tells whether a cancel of its experiment
 *  was requested), 0 lost (re-queued, done, or its experiment no longer running), or a negative error. */
int store_shard_renew(store *st, const char *id, int idx, const char *worker, int64_t now_ms, int64_t lease_ms,
                      double fraction, double eta_seconds, int *cancel);

/** Store the points of a shard `worker` holds, exactly once: in one transaction the points (INSERT OR IGNORE, with
 *  their arm_index), the shard done with its kernel cache record `kernel` (JSON text, or NULL: none; see
 *  store_shards_kernels), the experiment's progress (points of done shards / all points), the worker's
 *  count. Returns 1 stored, 0 lost (nothing stored: another worker has it, or it is done), or a negative error. */
int store_shard_report(store *st, const char *id, int idx, const char *worker, const point_list *pts,
                       const char *kernel);

/** The kind (into kind[16]) and unit (JSON text, malloc'd into *unit, caller frees) of shard (id, idx) when it is
 *  running under `worker`'s lease (worker NULL: in any state). Returns 1, 0 (no such shard, or not held) or a negative
 *  error. */
int store_shard_unit(store *st, const char *id, int idx, const char *worker, char kind[16], char **unit);

/** The kernel records of experiment `id`'s shards, in shard order, as a JSON array text (caller frees; "[]" when
 *  none), or NULL on error. */
char *store_shards_kernels(store *st, const char *id);

/** Give a shard back to the queue (its worker stops, or was cancelled). Returns 1, 0 (not held) or a negative error. */
int store_shard_release(store *st, const char *id, int idx, const char *worker);

/** Re-queue running shards whose lease lapsed (lease_expires_ms < now_ms) or whose owner `gone` says is gone (may be
 *  NULL), counting an expiry on each. Returns the number re-queued, or a negative error. */
int store_shards_expire(store *st, int64_t now_ms, store_owner_gone gone, void *ctx);

/** The shards of experiment `id` (or of every experiment when NULL) by status: counts[0] queued, [1] running, [2]
 *  done; *claims and *expiries (may be NULL) their sums. Returns the number of shards, or a negative error. */
long store_shards_count(store *st, const char *id, long counts[3], long *claims, long *expiries);

/** The distinct Slurm jobs of experiment `id`'s shards, comma-separated into out[cap] ("" when none). Returns their
 *  number or a negative error. */
int store_shards_slurm_jobs(store *st, const char *id, char *out, size_t cap);

/** Workers seen (claim or renewal) since `since_ms`. Returns their number or a negative error. */
long store_workers_seen(store *st, int64_t since_ms);

/** Running experiments whose lease `owner` holds, ids into out[max] (UTIL_ID_LEN + 8 bytes each). Returns their
 *  number or a negative error. */
int store_running_of(store *st, const char *owner, char (*out)[UTIL_ID_LEN + 8], int max);

/** Work a new worker could claim now: queued shards of running experiments not being cancelled whose dependencies are
 *  done, plus queued
 *  experiments (each is split at its first claim). Returns that number or a negative error. */
long store_shards_claimable(store *st);

#endif
