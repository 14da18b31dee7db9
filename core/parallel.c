/* A minimal parallel-for over a pool of pthreads with dynamic scheduling (parallel.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "parallel.h"

typedef struct {
    size_t ntasks;
    atomic_size_t next;
    atomic_int status;
    dml_task_fn fn;
    void *ctx;
} pool;

typedef struct {
    pool *p;
    int worker;
} worker_arg;

static void *run(void *arg)
{
    worker_arg *w = arg;
    pool *p = w->p;
    for (;;) {
        if (atomic_load(&p->status)) break;
        size_t t = atomic_fetch_add(&p->next, 1);
        if (t >= p->ntasks) break;
        int rc = p->fn(t, w->worker, p->ctx);
        if (rc) {
            int zero = 0;
            atomic_compare_exchange_strong(&p->status, &zero, rc);
        }
    }
    return NULL;
}

int dml_parallel_for(size_t ntasks, int threads, dml_task_fn fn, void *ctx)
{
    pool p = {.ntasks = ntasks, .fn = fn, .ctx = ctx};
    atomic_init(&p.next, 0);
    atomic_init(&p.status, 0);
    if (threads < 1) threads = 1;
    if ((size_t)threads > ntasks) threads = ntasks ? (int)ntasks : 1;
    pthread_t *tid = threads > 1 ? malloc(sizeof *tid * (size_t)(threads - 1)) : NULL;
    worker_arg *args = threads > 1 ? malloc(sizeof *args * (size_t)threads) : NULL;
    worker_arg self = {&p, 0};
    int started = 0;
    /* out of memory for the thread handles: every task on the caller's thread, which is still correct
     * (workers only pick tasks; results do not depend on which thread ran them) */
    if (tid && args) {
        for (int i = 0; i < threads; i++) args[i] = (worker_arg){&p, i};
        for (int i = 1; i < threads; i++)
            if (pthread_create(&tid[i - 1], NULL, run, &args[i]) == 0) started = i;
            else break;
    }
    run(&self);
    for (int i = 1; i <= started; i++) pthread_join(tid[i - 1], NULL);
    free(tid);
    free(args);
    return atomic_load(&p.status);
}
