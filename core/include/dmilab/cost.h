/* dmilab: the cost estimate of an experiment (the dry run of POST /api/v1/experiments and admission's
 * --max-experiment-seconds): units, kernel pairs, dual evaluations, training steps, memory and seconds. */
#ifndef DMILAB_COST_H
#define DMILAB_COST_H

#include <cjson/cJSON.h>
#include "dmilab/spec.h"

/** Seconds per flop of the ridge solves (Cholesky and triangular solves, LAPACK) on the reference machine
 *  (bench/estimate.sh), for the dry run and the runner's progress weights. */
#define DML_SEC_PER_SOLVE_FLOP 3.5e-11

/** The estimate. Kernel arms: one unit per (data, model, repeat); seconds from dml_kernel_cost_estimate (the
 *  kernel engine's per-layer costs) and the ridge solves. Training arms: one unit per point; seconds from
 *  dml_train_seconds (the layers' own costs, core/layers/). Memory from dml_unit_memory_estimate. The
 *  per-operation times are those of the reference machine, calibrated so that the examples' estimates stay
 *  within a factor 1.5 of their measured times (bench/estimate.sh; figures in bench/README.md). */
typedef struct {
    double points, units, kernel_pairs, dual_evaluations;
    double training_steps;   /**< optimizer steps of every trained point */
    double memory_bytes;     /**< the largest unit of work (dml_unit_memory_estimate) */
    double seconds;          /**< of the whole experiment on `threads` threads */
} dml_cost;

/** Estimate the cost of `s` on `threads` threads per unit of work (< 1: 1). Models that do not fit a data
 *  variant cost nothing there (admission refuses them). */
void dml_spec_cost(const dml_spec *s, int threads, dml_cost *out);

/** {"points", "units", "kernel_pairs", "dual_evaluations", "training_steps", "memory_bytes",
 *  "estimated_seconds"} (caller frees). */
cJSON *dml_cost_json(const dml_cost *c);

/** dml_cost_json of dml_spec_cost(s, threads). */
cJSON *dml_spec_cost_json(const dml_spec *s, int threads);

#endif
