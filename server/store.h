/* dmilab server: the SQLite store (WAL mode) of experiments, their queue, their leases and their points.
 * Thread-safe: every call borrows a connection from a pool (one connection is used by one thread at a time), so
 * readers run concurrently with the single writer that WAL allows. Several processes may share one database file:
 * running work is owned through a lease (claim, renew, report, release, finish, expire below): the experiment's, held
 * by the server that coordinates it, and each shard's (store_shards.h), held by the worker computing it. */
#ifndef DMILAB_SERVER_STORE_H
#define DMILAB_SERVER_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/experiment.h"
#include "points.h"
#include "spectra.h"
#include "util.h"

typedef struct store store;

/** Error results of the store functions (every function returns a negative value on an error). */
enum {
    STORE_ERROR = -1,     /**< an SQL error, out of memory, ... (logged) */
    STORE_BUSY = -2,      /**< the database is locked by another connection or process beyond the busy timeout */
    STORE_FULL = -3,      /**< the disk (or the file system holding the database) is full */
    STORE_CORRUPT = -4    /**< the database file is malformed or not a database (remembered: see store_health) */
};

/** A short English text for a negative store result ("the database is locked", ...). */
const char *store_error_text(int rc);

/** One experiment row. Strings are malloc'd (NULL for SQL NULL); free with store_experiment_free. */
typedef struct {
    char id[UTIL_ID_LEN + 8];
    char *name;
    char status[16];
    double progress;
    char *created_at, *started_at, *finished_at;
    char *error;           /**< message of a failure */
    char *error_code;      /**< the core's code of a failure ("numerical_error", ...) */
    char *error_field;     /**< the spec field a failure names */
    char *spec;            /**< the JSON text as submitted */
    char *resolved_spec;   /**< JSON text with every default filled in */
    char *version;
    char *provenance;      /**< JSON text written when a worker starts it; NULL before */
    char *lease_owner;     /**< owner id of the process running it; NULL unless running */
    int64_t lease_expires_ms;   /**< Unix ms when its lease lapses unless renewed (0 without a lease) */
    int cancel_requested;
    double eta_seconds;    /**< estimated seconds left of the kernel tiles in flight; NaN when unknown */
} store_experiment;

/** Open (or create) the database at `path`: check its integrity (PRAGMA quick_check; a malformed file is refused),
 *  switch it to WAL mode and apply every embedded migration not yet recorded in schema_migrations, in order.
 *  Returns NULL with a message naming the file in `errbuf` on failure. */
store *store_open(const char *path, char *errbuf, size_t errlen);

/** Close every pooled connection and free the store. No call may be in flight. */
void store_close(store *st);

/** The database file's path, as given to store_open. */
const char *store_path(const store *st);

/* ---- experiments: submission and the routes ---- */

/** Outcome of store_insert. */
typedef enum {
    STORE_INSERTED = 0,    /**< a new experiment was stored (with the key, when one was given) */
    STORE_ID_TAKEN = 1,    /**< the new id exists already (draw another) */
    STORE_KEY_SAME = 2,    /**< the key is known with the same body hash: *existing is its experiment */
    STORE_KEY_CONFLICT = 3 /**< the key is known with another body hash: *existing is its experiment */
} store_idem;

/** Insert a new queued experiment, and when `key` is not NULL record (key, body_sha256) with it, in one transaction:
 *  a key seen before is not inserted again (see store_idem; `existing` gets its experiment id, UTIL_ID_LEN + 8 bytes).
 *  `tags` (NULL-terminated, may be NULL) are stored for the list filter ?tag=. Waits at most 2 s for a lock.
 *  Returns a store_idem value or a negative error (STORE_BUSY when the database stays locked). */
int store_insert(store *st, const char *id, const char *name, const char *created_at, const char *spec, size_t spec_len,
                 const char *resolved_spec, const char *version, const char *const *tags, const char *key,
                 const char *body_sha256, char *existing);

/** Outcome of store_cancel. */
typedef enum {
    STORE_CANCEL_NOT_FOUND = 0,
    STORE_CANCEL_QUEUED = 1,    /**< was queued: now 'cancelled' (finished_at = now) */
    STORE_CANCEL_RUNNING = 2,   /**< is running: cancel_requested set, its owner stops between units */
    STORE_CANCEL_ENDED = 3      /**< had ended already: nothing changed */
} store_cancel_result;

/** Cancel an experiment atomically (see store_cancel_result). Waits at most 2 s for a lock. Returns a
 *  store_cancel_result or a negative error. */
int store_cancel(store *st, const char *id, const char *now);

/** Delete an experiment that is not running, with its points, tags and idempotency keys. Waits at most 2 s for a
 *  lock. Returns 1 deleted, 0 not found, 2 running (nothing deleted), or a negative error. */
int store_delete(store *st, const char *id);

/** Number of experiments with this status, or a negative error. */
long store_count_status(store *st, const char *status);

/** Fetch one experiment. Returns 1 when found, 0 when not, or a negative error. */
int store_get_experiment(store *st, const char *id, store_experiment *out);

/** Filters of store_list_experiments; NULL members do not filter. */
typedef struct {
    const char *status;              /**< this status only */
    const char *name_contains;       /**< names containing this text, ASCII case-insensitive, no wildcards */
    const char *const *tags;         /**< NULL-terminated: experiments carrying every one of these tags */
    const char *after_created, *after_id;   /**< the cursor: start strictly after this (created_at, id) */
} store_filter;

/** List experiments newest first (created_at, id descending) that pass `f`. Fills a malloc'd array of at most
 *  `limit` rows. Returns 0 or a negative error. Free with store_experiments_free. */
int store_list_experiments(store *st, const store_filter *f, int limit, store_experiment **out, int *n);

/** Every stored point of the experiment in grid order (arm, n_train, repeat) into `out` (zero-initialized by the
 *  caller). Returns 0 or a negative error. */
int store_points(store *st, const char *id, point_list *out);

/** Whether the point (experiment, arm, n_train, repeat) is stored: 1 yes, 0 no, or a negative error. */
int store_have_point(store *st, const char *id, const char *arm, size_t n_train, int repeat);

/** Whether the audit cell (experiment, arm, group) is stored: 1 yes, 0 no, or a negative error. */
int store_have_audit(store *st, const char *id, const char *arm, const char *group);

/** Every stored audit cell of the experiment, in grid order (arm index, then group name), into a malloc'd
 *  array *out of *n entries (NULL when none; the caller frees). Returns 0 or a negative error. */
int store_audit(store *st, const char *id, dml_audit_entry **out, size_t *n);

/** Store one audit cell for the lease holder `owner`, renewing the lease as store_report_point does: 1 stored
 *  (or already there), 0 when the lease is lost, or a negative error. */
int store_report_audit(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int arm_index,
                       const dml_audit_entry *e);

/** Whether cancellation of the experiment was requested: 1 yes, 0 no, or a negative error. */
int store_cancel_requested(store *st, const char *id);

/* ---- running work: the lease protocol (owner ids are opaque strings of at most 255 bytes) ---- */

/** Claim the oldest queued experiment for `owner`: in one transaction set it 'running' (started_at = `now` unless it
 *  was started before) with a lease lapsing at now_ms + lease_ms, and return it. Returns 1 when one was claimed,
 *  0 when the queue is empty, or a negative error. */
int store_claim(store *st, const char *owner, int64_t now_ms, int64_t lease_ms, const char *now, store_experiment *out);

/** Renew the lease of `owner` on experiment `id` to now_ms + lease_ms. Returns 1 when it still holds the lease (then
 *  *cancel_requested, when not NULL, tells whether a cancel was asked for), 0 when it lost it (re-queued, finished or
 *  claimed by another owner: stop working on it and write nothing more), or a negative error. */
int store_renew(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int *cancel_requested);

/** Report a finished point: renew the lease as store_renew does and store the point once (INSERT OR IGNORE on
 *  (experiment, arm, n_train, repeat); NaN is stored as NULL), in one transaction. Returns 1 when stored (or stored
 *  before), 0 when the lease is lost (nothing stored), or a negative error (nothing stored: retry). */
int store_report_point(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int arm_index,
                       const dml_point *p);

/** Whether the spectral readout of (experiment, arm) is stored: 1 yes, 0 no, or a negative error. */
int store_have_spectrum(store *st, const char *id, const char *arm);

/** Report a kernel arm's spectral readout (docs/spectrum.md) as store_report_point reports a point: renew the lease
 *  and store it once (INSERT OR IGNORE on (experiment, arm); its N eigenvalues, powers and cumulative powers as
 *  little-endian doubles, its predictions as JSON text), in one transaction. Returns 1 stored (or stored before),
 *  0 lease lost (nothing stored), or a negative error (nothing stored: retry). */
int store_report_spectrum(store *st, const char *id, const char *owner, int64_t now_ms, int64_t lease_ms, int arm_index,
                          const dml_arm_spectrum *a);

/** Every stored readout of the experiment in grid order into `out` (zero-initialized by the caller); with arrays == 0
 *  without the per-mode arrays (the scalars and predictions only, for the results' curves). Returns 0 or a negative
 *  error. */
int store_spectra(store *st, const char *id, int arrays, spectrum_list *out);

/** Set the progress of an experiment `owner` runs. Returns 1, 0 (lease lost) or a negative error. */
int store_set_progress(store *st, const char *id, const char *owner, double progress);

/** Set the progress and the estimated seconds left of the kernel tiles (eta_seconds < 0: unknown, stored as NULL) of
 *  an experiment `owner` runs. Returns 1, 0 (lease lost) or a negative error. */
int store_set_tile_progress(store *st, const char *id, const char *owner, double progress, double eta_seconds);

/** Record the provenance JSON text of the run of an experiment `owner` runs. Returns 1, 0 or a negative error. */
int store_set_provenance(store *st, const char *id, const char *owner, const char *provenance);

/** Give an experiment back: 'queued' again without a lease (or 'cancelled' when a cancel was requested meanwhile),
 *  for another owner to resume; its points stay. Returns 1, 0 (not held by `owner`) or a negative error. */
int store_release(store *st, const char *id, const char *owner);

/** The end of an experiment `owner` runs: status (succeeded, failed or cancelled), the error's code, field and
 *  message (NULL for none), finished_at = now; progress becomes 1 on success; the lease ends. Written only while
 *  `owner` holds the lease, so an experiment is finished once. Returns 1, 0 (lease lost: nothing written) or a
 *  negative error. */
int store_finish(store *st, const char *id, const char *owner, const char *status, const char *code, const char *field,
                 const char *message, const char *now);

/** Whether the owner of a lease is known to be gone (a process of this machine that no longer runs): 1 gone,
 *  0 alive or unknown. */
typedef int (*store_owner_gone)(void *ctx, const char *owner);

/** Re-queue running experiments whose owner is gone: the lease lapsed (lease_expires_ms < now_ms), there is none
 *  (a row from before leases), or `gone` (may be NULL) says so. An experiment whose cancel was requested becomes
 *  'cancelled' instead. Returns the number re-queued or cancelled, or a negative error. */
int store_expire_leases(store *st, int64_t now_ms, store_owner_gone gone, void *ctx, const char *now);

/* ---- health ---- */

/** Whether the database can be read: the corruption remembered from any earlier call or integrity check, then a
 *  cheap read (the newest experiment, through its index). Returns 0 when healthy, else a negative error with the
 *  reason in `reason`. */
int store_health(store *st, char *reason, size_t cap);

/** Run PRAGMA quick_check on a fresh connection (no cached pages). Returns 0 when the file is sound, else
 *  STORE_CORRUPT (remembered for store_health) or another negative error, with the reason in `reason`. */
int store_check_integrity(store *st, char *reason, size_t cap);

/** Free the strings of one experiment row. */
void store_experiment_free(store_experiment *e);

/** Free an array from store_list_experiments. */
void store_experiments_free(store_experiment *v, int n);

#endif
