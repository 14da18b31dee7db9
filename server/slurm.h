/* dmilab server: the Slurm executor (`dmilab serve --executor slurm`): keeps a Slurm job array of
 * `dmilab worker --once` tasks sized to the claimable shards, through Slurm's own commands on the PATH (sbatch,
 * squeue, scancel), and cancels the tasks of a cancelled experiment. Tasks that Slurm kills are noticed through their
 * lapsed leases (cluster.h). */
#ifndef DMILAB_SERVER_SLURM_H
#define DMILAB_SERVER_SLURM_H

#include "app.h"

typedef struct slurm slurm;

/** Start the executor of `a` (its cfg's slurm_* settings): every 2 s, when claimable work exceeds the tasks queued or
 *  running (squeue), submit the difference (at most slurm_max_tasks in all) as one `sbatch --array` job. Sets
 *  a->slurm. NULL when sbatch is not on the PATH or the thread cannot start. */
slurm *slurm_start(app *a);

/** Stop the executor (the tasks submitted keep running: they finish their shard, or find the server gone). */
void slurm_stop(slurm *s);

/** `scancel` the Slurm tasks that claimed shards of experiment `id` (its cancel was requested). Returns the number of
 *  jobs named to scancel, or -1. A no-op 0 when `s` is NULL. */
int slurm_cancel_experiment(slurm *s, const char *id);

#endif
