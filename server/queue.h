/* dmilab server: the pool of worker threads of `dmilab serve`: shard workers (worker.h) whose requests go straight to
 * this process's coordinator (cluster.h). */
#ifndef DMILAB_SERVER_QUEUE_H
#define DMILAB_SERVER_QUEUE_H

#include "app.h"

typedef struct queue queue;

/** Start `workers` threads (0: only remote workers compute) and set a->q (before the first worker runs). Each claims
 *  a shard (worker_step through cluster_call), runs and reports it, and when no shard is queued sleeps until
 *  queue_notify or a poll timeout. NULL on error. */
queue *queue_start(app *a, int workers);

/** Wake the sleeping workers (a new experiment was queued). */
void queue_notify(queue *q);

/** Ask every worker to stop and wait up to `grace_seconds` for them: running experiments are given back to the queue
 *  after their unit of work. Returns the number of workers still busy (0 when all ended; then the queue is freed,
 *  otherwise it is left to the exiting process, which should lease_keeper_release_all first). */
int queue_stop(queue *q, double grace_seconds);

#endif
