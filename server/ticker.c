/* dmilab server: periodic background threads. See ticker.h. */
#include "ticker.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct ticker {
    double period;
    void (*tick)(void *ctx);
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    pthread_t thread;
};

void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void *ticker_main(void *p)
{
    ticker *t = p;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        long long ns = (long long)dl.tv_nsec + (long long)(t->period * 1e9);
        dl.tv_sec += (time_t)(ns / 1000000000LL);
        dl.tv_nsec = (long)(ns % 1000000000LL);
        while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &dl) != ETIMEDOUT) {
        }
        if (t->stop)
            break;
        pthread_mutex_unlock(&t->mu);
        t->tick(t->ctx);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

ticker *ticker_start(double period_seconds, void (*tick)(void *ctx), void *ctx)
{
    ticker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->period = period_seconds;
    t->tick = tick;
    t->ctx = ctx;
    pthread_mutex_init(&t->mu, NULL);
    cond_init_monotonic(&t->cv);
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return NULL;
    }
    return t;
}

void ticker_stop(ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
