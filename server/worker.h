/* dmilab server: running one claimed experiment with the core: its points reported under its lease as they come, its
 * store writes retried through database faults, its end written once (or the experiment given back to the queue). */
#ifndef DMILAB_SERVER_WORKER_H
#define DMILAB_SERVER_WORKER_H

#include <stdatomic.h>
#include <stdint.h>
#include "app.h"
#include "lease.h"

/** What a worker needs besides the experiment: its lease and when to stop. */
typedef struct {
    const char *owner;            /**< the lease owner id (lease_owner_self()) */
    int64_t lease_ms;             /**< the lease duration; a write that keeps failing is retried this long */
    const atomic_int *stopping;   /**< nonzero once the service stops: the experiment is given back between units */
    lease_claim *claim;           /**< renewed by the lease keeper, which sets its lost and cancel flags */
} worker_env;

/** Run experiment `e`, claimed by w->owner, to its end: parse the stored spec, run dml_experiment_run with hooks that
 *  skip stored points, report each new point at once (store_report_point, retried with backoff from 0.25 s to 8 s for
 *  up to one lease period when the database is locked or full), update the progress and honour cancellation; then
 *  finish it succeeded, failed (the core's error code, field and message) or cancelled. It is given back to the queue
 *  (store_release) when the service stops, and when a write still fails after its retries (then, if even the release
 *  fails, its lease is left to lapse). Nothing is written once the lease is lost. Returns 0, or 1 after a database
 *  fault (the caller should wait before claiming again). Never exits the process. */
int worker_run(app *a, const store_experiment *e, const worker_env *w);

#endif
