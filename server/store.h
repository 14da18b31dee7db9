/* dmilab server: the SQLite store (WAL mode) of experiments, their queue and their points.
 * Thread-safe: every call borrows a connection from a pool (one connection is used by one thread
 * at a time), so readers run concurrently with the single writer that WAL allows. */
#ifndef DMILAB_SERVER_STORE_H
#define DMILAB_SERVER_STORE_H

#include <stddef.h>
#include "dmilab/experiment.h"
#include "points.h"
#include "util.h"

typedef struct store store;

/** One experiment row. Strings are malloc'd (NULL for SQL NULL); free with store_experiment_free. */
typedef struct {
    char id[UTIL_ID_LEN + 8];
    char *name;
    char status[16];
    double progress;
    char *created_at, *started_at, *finished_at;
    char *error;
    char *spec;            /**< the JSON text as submitted */
    char *resolved_spec;   /**< JSON text with every default filled in */
    char *version;
    char *provenance;      /**< JSON text written when a worker starts it; NULL before */
    int cancel_requested;
} store_experiment;

/** Open (or create) the database at `path`, switch it to WAL mode and apply every embedded migration
 *  not yet recorded in schema_migrations, in order. Returns NULL with a message in `errbuf` on failure. */
store *store_open(const char *path, char *errbuf, size_t errlen);

/** Close every pooled connection and free the store. No call may be in flight. */
void store_close(store *st);

/** Set experiments left 'running' (by a crash or a kill) back to 'queued'. Returns their number or -1. */
int store_requeue_running(store *st);

/** Insert a new queued experiment. Returns 0, 1 when the id is already taken, -1 on error. */
int store_insert_experiment(store *st, const char *id, const char *name, const char *created_at,
                            const char *spec, size_t spec_len, const char *resolved_spec,
                            const char *version);

/** Outcome of store_insert_idempotent. */
typedef enum {
    STORE_INSERTED = 0,    /**< a new experiment was stored with the key */
    STORE_ID_TAKEN = 1,    /**< the new id exists already (draw another) */
    STORE_KEY_SAME = 2,    /**< the key is known with the same body hash: *existing is its experiment */
    STORE_KEY_CONFLICT = 3 /**< the key is known with another body hash: *existing is its experiment */
} store_idem;

/** Like store_insert_experiment, and when `key` is not NULL record (key, body_sha256) with it, in one
 *  transaction: a key seen before is not inserted again (see store_idem; `existing` gets its experiment id,
 *  UTIL_ID_LEN + 8 bytes). Returns a store_idem value or -1 on error. */
int store_insert_idempotent(store *st, const char *id, const char *name, const char *created_at, const char *spec,
                            size_t spec_len, const char *resolved_spec, const char *version, const char *key,
                            const char *body_sha256, char *existing);

/** Outcome of store_cancel. */
typedef enum {
    STORE_CANCEL_NOT_FOUND = 0,
    STORE_CANCEL_QUEUED = 1,    /**< was queued: now 'cancelled' (finished_at = now) */
    STORE_CANCEL_RUNNING = 2,   /**< is running: cancel_requested set, the worker stops between units */
    STORE_CANCEL_ENDED = 3      /**< had ended already: nothing changed */
} store_cancel_result;

/** Cancel an experiment atomically (see store_cancel_result). Returns a store_cancel_result or -1. */
int store_cancel(store *st, const char *id, const char *now);

/** Delete an experiment that is not running, with its points and idempotency keys.
 *  Returns 1 deleted, 0 not found, 2 running (nothing deleted), -1 on error. */
int store_delete(store *st, const char *id);

/** Record the provenance JSON text of a run. Returns 0 or -1. */
int store_set_provenance(store *st, const char *id, const char *provenance);

/** Number of experiments with this status, or -1. */
long store_count_status(store *st, const char *status);

/** Fetch one experiment. Returns 1 when found, 0 when not, -1 on error. */
int store_get_experiment(store *st, const char *id, store_experiment *out);

/** List experiments newest first (created_at, id descending), optionally only those with `status`
 *  (NULL = all), starting strictly after the cursor (`after_created`, `after_id`; NULL = from the top).
 *  Fills a malloc'd array of at most `limit` rows. Returns 0 or -1. Free with store_experiments_free. */
int store_list_experiments(store *st, const char *status, const char *after_created, const char *after_id,
                           int limit, store_experiment **out, int *n);

/** Claim the oldest queued experiment: in one transaction set it 'running' (started_at = `now` unless
 *  it was started before) and return it. Returns 1 when one was claimed, 0 when the queue is empty, -1. */
int store_claim(store *st, const char *now, store_experiment *out);

/** Whether the point (experiment, arm, n_train, repeat) is stored: 1 yes, 0 no, -1 error. */
int store_have_point(store *st, const char *id, const char *arm, size_t n_train, int repeat);

/** Store a point once (INSERT OR IGNORE on (experiment, arm, n_train, repeat)); NaN is stored as NULL.
 *  Returns 0 or -1. */
int store_insert_point(store *st, const char *id, int arm_index, const dml_point *p);

/** Set the progress of a running experiment. Returns 0 or -1. */
int store_set_progress(store *st, const char *id, double progress);

/** End an experiment: status (succeeded, failed or cancelled), error message (NULL for none) and
 *  finished_at; progress becomes 1 on success. Returns 0 or -1. */
int store_finish(store *st, const char *id, const char *status, const char *error, const char *now);

/** Whether cancellation of the experiment was requested: 1 yes, 0 no, -1 error. */
int store_cancel_requested(store *st, const char *id);

/** Every stored point of the experiment in grid order (arm, n_train, repeat) into `out`
 *  (zero-initialized by the caller). Returns 0 or -1. */
int store_points(store *st, const char *id, point_list *out);

/** Free the strings of one experiment row. */
void store_experiment_free(store_experiment *e);

/** Free an array from store_list_experiments. */
void store_experiments_free(store_experiment *v, int n);

#endif
