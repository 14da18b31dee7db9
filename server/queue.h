/* dmilab server: the pool of worker threads that take experiments off the queue in the database. */
#ifndef DMILAB_SERVER_QUEUE_H
#define DMILAB_SERVER_QUEUE_H

#include "app.h"

typedef struct queue queue;

/** Start `workers` threads and set a->q (before the first worker runs). Each claims the oldest queued experiment (store_claim), runs it
 *  (worker_run), and when the queue is empty sleeps until queue_notify or a poll timeout. NULL on error. */
queue *queue_start(app *a, int workers);

/** Wake the sleeping workers (a new experiment was queued). */
void queue_notify(queue *q);

/** Nonzero once queue_stop was called: running experiments abandon their work between units. */
int queue_stopping(queue *q);

/** Ask every worker to stop and wait up to `grace_seconds` for them. Returns the number of workers that
 *  are still busy (0 when all ended; then the queue is freed, otherwise it is left to the exiting process). */
int queue_stop(queue *q, double grace_seconds);

#endif
