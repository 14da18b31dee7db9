/* dmilab server: running one claimed experiment with the core, storing its points as they come. */
#ifndef DMILAB_SERVER_WORKER_H
#define DMILAB_SERVER_WORKER_H

#include "app.h"

/** Run experiment `e` (already 'running' in the store) to its end: parse the stored spec, run
 *  dml_experiment_run with hooks that skip stored points, store each new point at once, update the
 *  progress and honour cancellation; then mark it succeeded, failed (with the error message) or
 *  cancelled. When the service stops meanwhile the experiment is left 'running' (re-queued at the next
 *  start). Never exits the process. */
void worker_run(app *a, const store_experiment *e);

#endif
