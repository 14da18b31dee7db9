/* dmilab server: the state shared by the HTTP routes and the workers of one `dmilab serve`. */
#ifndef DMILAB_SERVER_APP_H
#define DMILAB_SERVER_APP_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "dmilab/spec.h"
#include "config.h"
#include "store.h"

struct queue;
struct cluster;
struct slurm;

/** One running service: configuration (with its limits), store, worker queue. */
typedef struct {
    const serve_config *cfg;
    store *st;
    struct queue *q;
    struct cluster *cl;        /**< the coordinator of shards (cluster.h) */
    struct slurm *slurm;       /**< the Slurm executor (slurm.h), NULL unless --executor slurm */
    char web_root[PATH_MAX];   /**< resolved (realpath) web root; "" when it does not exist */
    char version[160];         /**< "dmilab <version> (<commit>)" */
    char tile_dir[PATH_MAX + 8];   /**< kernel tiles and the kernel cache: cfg->tile_dir or "<db>.tiles" */
    atomic_int stopping;       /**< set at SIGTERM/SIGINT: new submissions get 503, long-polls return */
    /* State changes of experiments (started, progress, ended, cancelled, deleted): a generation counter
     * bumped under ev_mu with a broadcast on ev_cv, for the long-poll of GET .../wait. */
    pthread_mutex_t ev_mu;
    pthread_cond_t ev_cv;      /**< uses CLOCK_MONOTONIC */
    unsigned long ev_gen;
} app;

/** Initialize the change notifier of `a` (once, before any thread uses it). */
void app_events_init(app *a);

/** Something changed (an experiment started, ended, was cancelled or deleted, or the service stops):
 *  wake every long-poll. */
void app_changed(app *a);

/** The current change generation (read before looking at the state, then wait for a newer one). */
unsigned long app_generation(app *a);

/** Wait until the generation differs from `seen`, the service stops, or the CLOCK_MONOTONIC `deadline`
 *  passes. Returns 1 on a change, 0 on timeout. */
int app_wait_change(app *a, unsigned long seen, const struct timespec *deadline);

#endif
