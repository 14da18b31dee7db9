/* dmilab internal: the kernel engine's plan of a layer list (which representation each layer's covariances
 * take, the window tables, the self-trajectory layout and the workspace), shared by the engine (kernel.c) and
 * its cost and memory model (kernel_cost.c). */
#ifndef DMILAB_KERNEL_PLAN_H
#define DMILAB_KERNEL_PLAN_H

#include <stddef.h>
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "../layers/layer.h"

typedef struct {
    const dml_layers *L;
    int pool;              /* the layer that pools the positions (Flatten / GAP on spatial inputs); -1: flat inputs */
    int gemm;              /* empty spatial stage: the input covariance is x.x' / (P C), one GEMM */
    int full0;             /* the spatial stage starts from full input covariances */
    int any_full;          /* some layer of the spatial stage holds full covariances */
    int self_full;         /* self covariances from full pair runs of each input with itself */
    size_t P0;             /* input positions */
    int C;                 /* input channels */
    size_t maxP;           /* largest position count in the spatial stage */
    size_t margin;         /* doubles of zeros kept before and after each full-covariance buffer */
    size_t nself;          /* doubles of one input's self trajectory */
    dml_kstep step[DML_MAX_LAYERS];      /* the pair runs' representation */
    dml_kstep diag_step[DML_MAX_LAYERS]; /* the same layers on the position diagonal (self trajectories) */
} dml_kplan;

/** Build the plan of L (whose lifetime must cover the plan's). Returns 0, or -1 with err (no memory for the
 *  window tables; a list without a pooling layer on spatial inputs, which dml_model_layers never gives).
 *  Free with dml_kplan_free, also after a failure. */
int dml_kplan_build(const dml_layers *L, dml_kplan *pl, dml_error *err);
void dml_kplan_free(dml_kplan *pl);

/** n rounded up to a multiple of 8 (doubles of one cache line). */
#define DML_ROUND8(n) (((n) + 7) & ~(size_t)7)

/** Doubles of one of the four covariance buffers of a workspace, margins included (a multiple of 8, so that
 *  buffers of a cache-line aligned workspace start on cache lines). */
size_t dml_kplan_buffer_doubles(const dml_kplan *pl);

/** Doubles of one thread's workspace: four covariance buffers (K, T and their scratch), full ones with
 *  `margin` zeros on each side. */
size_t dml_kplan_workspace_doubles(const dml_kplan *pl);

#endif
