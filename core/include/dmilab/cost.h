/* dmilab: the cost estimate of an experiment (the dry run of POST /api/v1/experiments and admission's
 * --max-experiment-seconds and --max-memory): units, kernel pairs, dual evaluations, training steps, memory and
 * seconds. */
#ifndef DMILAB_COST_H
#define DMILAB_COST_H

#include <cjson/cJSON.h>
#include "dmilab/spec.h"

/** Seconds per flop of the ridge solves (Cholesky and triangular solves, LAPACK) on one thread of the reference
 *  machine (2 cores, AVX-512 BLAS kernels, idle; the rate at n = 4,000 in bench/README.md, "Solve benchmark"),
 *  for the dry run and the runner's progress weights. Two threads count 1.6 times as fast: true at n = 4,000,
 *  beaten by larger solves, which are therefore estimated high. */
#define DML_SEC_PER_SOLVE_FLOP 2.0e-11
/** Estimated peak memory, in bytes, of one unit of work of the runner (dml_experiment_run): data variant `d`,
 *  model `m`, one repeat, with every inference method of the grid. The runner holds, for the whole run, the
 *  cached IDX splits of every data directory of the spec (uint8 images and labels); for the unit, the
 *  preprocessed train and test sets (x and one-hot y in double, int labels); while loading, the index
 *  arrays of the subsets and a transform's temporaries (a copy of the inputs and a D x D matrix for
 *  `orthogonal`). Then the kernel stage (dml_kernel_unit_bytes, dmilab/kernel_unit.h: one tile at a time, then one
 *  kernel method's solve at a time from the tile files: packed Gram, one factor copy, streamed test rows; with a spectrum,
 *  before it, the dense Gram on dml_unit_train_points and the eigendecomposition's workspace), freed before the training stage (the largest dml_train_memory_bytes of the trained arms: network,
 *  optimizer state, per-thread workspaces, the inputs in both precisions). `threads`: threads of one unit. */
typedef struct {
    double cached;   /**< IDX splits held by the run */
    double dataset;  /**< preprocessed train and test sets of the unit */
    double loading;  /**< temporaries of loading: subset indices, transforms */
    double kernel;   /**< the kernel stage, 0 without kernel arms (the spectrum's workspace included) */
    double spectrum; /**< of which the spectral readout (dml_spectrum_bytes and one arm's arrays), 0 without */
    double train;    /**< the largest training stage, 0 without trained arms */
    int train_inference;   /**< the inference index of that training stage, -1 without */
    double audit;    /**< the audit stage (repeat 0): g.D and g.X_test, g's matrix, and the larger of its kernel
                          fits and its float64 trainings at audit.n_train; 0 without an audit */
    double total;    /**< the peak: cached + max(dataset + loading, dataset + kernel, train, dataset + audit) */
} dml_unit_memory;
void dml_unit_memory_estimate(const dml_spec *s, int d, int m, int threads, dml_unit_memory *out);

/** The estimate. Kernel arms: one unit per (data, model, repeat); seconds from dml_kernel_cost_estimate (the
 *  kernel engine's per-layer costs) and the ridge solves. Training arms: one unit per point; seconds from
 *  dml_train_seconds (the layers' own costs, core/layers/). Memory from dml_unit_memory_estimate. The
 *  per-operation times are those of the reference machine, calibrated so that the examples' estimates stay
 *  within a factor 1.5 of their measured times (bench/estimate.sh; figures in bench/README.md). */
typedef struct {
    double points, units, kernel_pairs, dual_evaluations;
    double training_steps;   /**< optimizer steps of every trained point */
    double memory_bytes;     /**< the largest unit of work (dml_unit_memory_estimate) */
    double spectra;          /**< eigendecompositions of the spectral readout: one per kernel method, data and model */
    double spectrum_flops;   /**< their floating-point operations (dml_spectrum_flops) */
    double seconds;          /**< of the whole experiment on `threads` threads, the audit included */
    double audit_seconds;    /**< of the audit alone (0 without one) */
} dml_cost;

/** Estimate the cost of `s` on `threads` threads per unit of work (< 1: 1). Models that do not fit a data
 *  variant cost nothing there (admission refuses them). */
void dml_spec_cost(const dml_spec *s, int threads, dml_cost *out);

/** {"points", "units", "kernel_pairs", "dual_evaluations", "training_steps", "memory_bytes", "spectra",
 *  "spectrum_flops", "estimated_seconds", "audit_seconds"} (caller frees). */
cJSON *dml_cost_json(const dml_cost *c);

/** dml_cost_json of dml_spec_cost(s, threads). */
cJSON *dml_spec_cost_json(const dml_spec *s, int threads);

#endif
