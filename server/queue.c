/* dmilab server: the worker pool. See queue.h. */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "worker.h"

#define POLL_SECONDS 2

struct queue {
    app *a;
    lease_keeper *keeper;
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

static void *worker_main(void *p)
{
    worker_arg *wa = p;
    queue *q = wa->q;
    int index = wa->index;
    free(wa);
    while (!atomic_load(&q->stop)) {
        pthread_mutex_lock(&q->mu);
        unsigned long seen = q->generation;
        pthread_mutex_unlock(&q->mu);

        char now[UTIL_TIME_LEN];
        util_now(now);
        store_experiment e;
        int64_t lease_ms = lease_keeper_ms(q->keeper);
        int r = store_claim(q->a->st, lease_owner_self(), util_now_ms(), lease_ms, now, &e);
        int fault = r < 0;
        if (r == 1) {
            util_log("worker %d: running %s", index, e.id);
            lease_claim claim;
            memset(&claim, 0, sizeof claim);
            snprintf(claim.id, sizeof claim.id, "%s", e.id);
            lease_keeper_add(q->keeper, &claim);
            worker_env env = {.owner = lease_owner_self(), .lease_ms = lease_ms, .stopping = &q->stop, .claim = &claim};
            fault = worker_run(q->a, &e, &env);
            lease_keeper_remove(q->keeper, &claim);
            store_experiment_free(&e);
            if (!fault)
                continue;
        }
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

queue *queue_start(app *a, lease_keeper *keeper, int workers)
{
    queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->a = a;
    q->keeper = keeper;
    a->q = q;   /* before any worker runs: the hooks reach the queue through the app */
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    atomic_init(&q->stop, 0);
    q->threads = calloc((size_t)workers, sizeof *q->threads);
    q->done = calloc((size_t)workers, sizeof *q->done);
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
