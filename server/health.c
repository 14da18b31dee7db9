/* dmilab server: the self-checks thread. See health.h. */
#include "health.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

struct health {
    store *st;
    int db_check_seconds;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    pthread_t thread;
};

static void *health_main(void *p)
{
    health *h = p;
    int since_check = 0, reported = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += 1;
        while (!h->stop && pthread_cond_timedwait(&h->cv, &h->mu, &dl) != ETIMEDOUT) {
        }
        if (h->stop)
            break;
        pthread_mutex_unlock(&h->mu);
        util_log_flush();
        if (h->db_check_seconds > 0 && ++since_check >= h->db_check_seconds && !reported) {
            since_check = 0;
            char why[600];
            if (store_check_integrity(h->st, why, sizeof why) == STORE_CORRUPT) {
                util_log("%s: /healthz answers 503 and submissions are refused until the database is restored", why);
                reported = 1;   /* a corrupted file does not heal: one line, and no more checks */
            }
        }
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

health *health_start(store *st, int db_check_seconds)
{
    health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->st = st;
    h->db_check_seconds = db_check_seconds;
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&h->thread, NULL, health_main, h) != 0) {
        free(h);
        return NULL;
    }
    return h;
}

void health_stop(health *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    util_log_flush();
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
