/* dmilab internal: the kernel engine's plan of a layer list (which representation each layer's covariances
 * take, the window tables, the self-trajectory layout and the workspace), shared by the engine (kernel.c) and
 * its cost and memory model (kernel_cost.c). */
#ifndef DMILAB_KERNEL_PLAN_H
#define DMILAB_KERNEL_PLAN_H

#include <stddef.h>
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "../layers/layer.h"

/** One producing stage of the row-streamed spatial stage (stream.c): the input covariance (step -1) or a Conv /
 *  AvgPool step on full covariances, with the activations that follow it applied to each row it produces. Its
 *  rows live in a ring of `cap` rows (row r in slot r % cap), K then T, each with `margin` zeros around. */
typedef struct {
    int step;              /* the producing step; -1: the input covariance */
    int act0, act1;        /* activation steps [act0, act1) applied in place to each produced row */
    int theta_zero;        /* the NTK is identically 0 at the stage's output (T holds nothing) */
    size_t P;              /* positions of its output: rows of P entries, P rows */
    size_t cap;            /* rows its ring holds */
    size_t off;            /* doubles from the stream area to its K ring (its T ring follows, ring doubles on) */
    size_t ring;           /* doubles of one ring, margins included */
    long *hi;              /* P entries: the last row of this stage that the next stage's row o reads, running max
                            * (-1: none yet); NULL for the last stage */
} dml_kstage;

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
    /* the row-streamed spatial stage (stream.c): steps [0, stream_end) run row by row through rings that stay in
     * cache, then either GAP (stream_gap, step stream_end, summed row by row) or the last stage's rows fill the
     * state's full buffers and the fold goes on from stream_end; nstage 0: not streamed */
    int nstage, stream_end, stream_gap;
    int input_fused;       /* stage 1 (a Conv on one-channel inputs) makes its rows from the inputs
                            * (dml_window_input_row, from xj gathered under its window once per pair after the
                            * scratch rows): stage 0, the input covariance, is never made */
    dml_kstage stage[DML_MAX_LAYERS + 1];
    size_t stream_doubles; /* doubles of one thread's stream area: the rings and three scratch rows */
    int whole;             /* pair runs need whole full-covariance buffers (not when every pair streams to GAP) */
} dml_kplan;

/** Build the plan of L (whose lifetime must cover the plan's). Returns 0, or -1 with err (no memory for the
 *  window tables; a list without a pooling layer on spatial inputs, which dml_model_layers never gives).
 *  Free with dml_kplan_free, also after a failure. */
int dml_kplan_build(const dml_layers *L, dml_kplan *pl, dml_error *err);
void dml_kplan_free(dml_kplan *pl);

/** n rounded up to a multiple of 8 (doubles of one cache line). */
#define DML_ROUND8(n) (((n) + 7) & ~(size_t)7)

/** Doubles of one of the four covariance buffers of a workspace, margins included (a multiple of 8, so that
 *  buffers of a cache-line aligned workspace start on cache lines): P x P with margins when the plan holds
 *  full covariances outside the streamed stage, else P (the self trajectories' diagonals). */
size_t dml_kplan_buffer_doubles(const dml_kplan *pl);

/** Plan the row-streamed stage of pl (plan.c calls it last); -1 with err when out of memory. */
int dml_kplan_stream(dml_kplan *pl, dml_error *err);

/** The spatial stage of one pair through the streamed steps (stream.c): xi, xj the inputs, si, sj their self
 *  trajectories, w the thread's stream area (dml_kplan.stream_doubles). With stream_gap, returns the pair's
 *  NNGP and NTK after GAP in *kout, *tout; else leaves the last stage's full covariances in s->K, s->T (full,
 *  rows = cols = its P, theta_zero set) for the fold to continue from step stream_end. */
void dml_kstream_run(const dml_kplan *pl, const double *xi, const double *xj, const double *si, const double *sj,
                     double *w, dml_kstate *s, double *kout, double *tout);

/** Row p of the input covariance: out[q] = (sum_c a[p,c] b[q,c]) * (1/C), q < P (stream.c; the engine's one
 *  definition of it, whole matrices included). */
void dml_input_cov_row(const double *a, const double *b, size_t P, int C, size_t p, double *out);

/** Doubles of one thread's workspace: four covariance buffers (K, T and their scratch), full ones with
 *  `margin` zeros on each side. */
size_t dml_kplan_workspace_doubles(const dml_kplan *pl);

#endif
