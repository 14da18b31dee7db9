/* dmilab internal: a minimal parallel-for over a pool of pthreads with dynamic scheduling. */
#ifndef DMILAB_PARALLEL_H
#define DMILAB_PARALLEL_H

#include <stddef.h>

/** Body of a parallel loop: task index, worker index in [0, threads), shared context.
 *  Returns 0, or nonzero to stop handing out further tasks (the first nonzero is returned). */
typedef int (*dml_task_fn)(size_t task, int worker, void *ctx);

/** Run fn(task, worker, ctx) for task in [0, ntasks) on `threads` threads (the caller is worker 0),
 *  tasks handed out in increasing order as workers free up. Returns 0 or the first nonzero result.
 *  When threads cannot be created (no memory for their handles, or pthread_create fails), fewer workers, down
 *  to the caller alone, run every task. */
int dml_parallel_for(size_t ntasks, int threads, dml_task_fn fn, void *ctx);

#endif
