/* dmilab server: the pool of worker threads that claim experiments off the queue in the database, under a lease. */
#ifndef DMILAB_SERVER_QUEUE_H
#define DMILAB_SERVER_QUEUE_H

#include "app.h"
#include "lease.h"

typedef struct queue queue;

/** Start `workers` threads and set a->q (before the first worker runs). Each claims the oldest queued experiment for
 *  this process (store_claim with the keeper's lease), registers it with `keeper` (which renews the lease), runs it
 *  (worker_run), and when the queue is empty sleeps until queue_notify or a poll timeout. NULL on error. */
queue *queue_start(app *a, lease_keeper *keeper, int workers);

/** Wake the sleeping workers (a new experiment was queued). */
void queue_notify(queue *q);

/** Ask every worker to stop and wait up to `grace_seconds` for them: running experiments are given back to the queue
 *  after their unit of work. Returns the number of workers still busy (0 when all ended; then the queue is freed,
 *  otherwise it is left to the exiting process, which should lease_keeper_release_all first). */
int queue_stop(queue *q, double grace_seconds);

#endif
