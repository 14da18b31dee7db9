/* dmilab server: the worker pool. See queue.h. */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "util.h"
#include "worker.h"

#define POLL_SECONDS 2

struct queue {
    app *a;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long generation;   /* bumped by queue_notify */
    atomic_int stop;
    int nthreads;
    pthread_t *threads;
    int *done;                  /* per thread, set under mu when its loop returned */
};

typedef struct {
    queue *q;
    int index;
} worker_arg;

/* The in-process transport of the shard protocol: the coordinator's own function, no HTTP in between. */
static int local_call(void *ctx, const char *op, const cJSON *req, cJSON **answer)
{
    char err[512], field[64];
    int st = cluster_call(ctx, op, req, answer, err, sizeof err, field);
    /* a refusal of the database (locked, full) is retried: the claim by the loop below after its poll, a renewal
     * at the next renewal, a report by worker.c's backoff */
    if (st == CLUSTER_UNAVAILABLE)
        util_log("worker thread: %s: %s; retrying%s", op, err, strcmp(op, "claim") == 0 ? " after the poll" : "");
    else if (st != CLUSTER_OK && st != CLUSTER_NONE && st != CLUSTER_LOST)
        util_log("worker thread: %s: %s%s%s", op, err, field[0] ? " at " : "", field);
    return st;
}

static void *worker_main(void *p)
{
    worker_arg *wa = p;
    queue *q = wa->q;
    int index = wa->index;
    free(wa);
    /* this thread's worker id: the process's, with the thread in its role ("serve/w0@HOST:PID#..."), so that the
     * sweep of a later process knows it gone when this process is */
    char owner[LEASE_OWNER_MAX];
    const char *self = lease_owner_self(), *at = strchr(self, '@');
    snprintf(owner, sizeof owner, "%.*s/w%d%s", at ? (int)(at - self) : 0, self, index, at ? at : self);
    worker_transport t = {.ctx = q->a, .call = local_call};
    worker_opts o = {.owner = owner, .threads = q->a->cfg->threads, .data_root = q->a->cfg->data_root,
                     .tile_dir = q->a->tile_dir, .shares_tile_dir = 1, .cache_bytes = (double)q->a->cfg->cache_bytes,
                     .stopping = &q->stop, .renew_max_seconds = 1};
    while (!atomic_load(&q->stop)) {
        pthread_mutex_lock(&q->mu);
        unsigned long seen = q->generation;
        pthread_mutex_unlock(&q->mu);

        int r = worker_step(&t, &o);
        if (r == WORKER_RAN)
            continue;
        int fault = r < 0;
        /* queue empty, or a database fault: sleep until notified or the poll timeout */
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += POLL_SECONDS;
        pthread_mutex_lock(&q->mu);
        while (!atomic_load(&q->stop) && (fault || q->generation == seen))
            if (pthread_cond_timedwait(&q->cv, &q->mu, &dl) == ETIMEDOUT)
                break;
        pthread_mutex_unlock(&q->mu);
    }
    pthread_mutex_lock(&q->mu);
    q->done[index] = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

queue *queue_start(app *a, int workers)
{
    queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->a = a;
    a->q = q;   /* before any worker runs: the hooks reach the queue through the app */
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    atomic_init(&q->stop, 0);
    q->threads = calloc((size_t)workers + 1, sizeof *q->threads);
    q->done = calloc((size_t)workers + 1, sizeof *q->done);
    if (!q->threads || !q->done)
        goto fail;
    for (int i = 0; i < workers; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa)
            goto fail;
        wa->q = q;
        wa->index = i;
        if (pthread_create(&q->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            goto fail;
        }
        q->nthreads++;
    }
    return q;
fail:
    util_log("cannot start the worker threads");
    queue_stop(q, 60);
    a->q = NULL;
    return NULL;
}

void queue_notify(queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->generation++;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int queue_stop(queue *q, double grace_seconds)
{
    atomic_store(&q->stop, 1);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)grace_seconds;
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->cv);
    int busy, timed_out = 0;
    for (;;) {
        busy = 0;
        for (int i = 0; i < q->nthreads; i++)
            busy += !q->done[i];
        if (busy == 0 || timed_out)
            break;
        timed_out = pthread_cond_timedwait(&q->cv, &q->mu, &dl) == ETIMEDOUT;
    }
    pthread_mutex_unlock(&q->mu);
    if (busy)
        return busy;
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q->threads);
    free(q->done);
    free(q);
    return 0;
}
