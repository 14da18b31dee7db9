/* dmilab server: a background thread that calls a function at a fixed period until stopped (the lease keeper, the
 * self-checks, the read-deadline reaper). */
#ifndef DMILAB_SERVER_TICKER_H
#define DMILAB_SERVER_TICKER_H

#include <pthread.h>

typedef struct ticker ticker;

/** Start a thread that calls tick(ctx) every `period_seconds` (> 0; CLOCK_MONOTONIC) until ticker_stop. NULL on
 *  error. */
ticker *ticker_start(double period_seconds, void (*tick)(void *ctx), void *ctx);

/** Wake the thread, wait for the tick in progress to end, join it and free it (NULL allowed). */
void ticker_stop(ticker *t);

/** Initialize `cv` to time its waits on CLOCK_MONOTONIC (immune to changes of the wall clock). */
void cond_init_monotonic(pthread_cond_t *cv);

#endif
