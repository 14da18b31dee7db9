/* dmilab: admission: whether a parsed spec may run on this server: its limits first, then whether the work
 * fits the data (windows of every model on every input shape, images enough for n_train and n_test). */
#ifndef DMILAB_ADMISSION_H
#define DMILAB_ADMISSION_H

#include "dmilab/error.h"
#include "dmilab/limits.h"
#include "dmilab/model.h"
#include "dmilab/spec.h"

/** Check a parsed spec (dml_spec_parse) against `lim` (NULL: no limits; a 0 in it: that limit is off) and
 *  against its data. In order: repeats, every n_train and n_test, every model's depth and width (the width of
 *  a trained model, or one the spec writes out: kernels ignore a defaulted width), the grid's
 *  points, then (DML_ERR_INVALID_SPEC) every model's geometry on every data variant's input shape and the
 *  image counts of the data (when the spec was parsed with file access), then the estimated memory of every
 *  unit of work (dml_unit_memory_estimate) and the estimated seconds of the experiment (dml_spec_cost).
 *  Returns 0, or -1 with DML_ERR_LIMIT, err->limit the dml_limit_id and err->field the field that set it
 *  ("repeats", "data[0].n_train[1]", "models.width", "data" for the grid, "data[1].n_train" for kernel
 *  matrices, "models[0].width" for a network, "" for the estimated time), or DML_ERR_INVALID_SPEC as above.
 *  A stored spec that was admitted once is run without admission (the limits may change in between). */
int dml_spec_admit(const dml_spec *s, const dml_limits *lim, dml_error *err);

/** Estimated peak memory, in bytes, of one unit of work of the runner (dml_experiment_run): data variant `d`,
 *  model `m`, one repeat, with every inference method of the grid. The runner holds, for the whole run, the
 *  cached IDX splits of every data directory of the spec (uint8 images and labels); for the unit, the
 *  preprocessed train and test sets (x and one-hot y in double, int labels); while loading, the index
 *  arrays of the subsets and a transform's temporaries (a copy of the inputs and a D x D matrix for
 *  `orthogonal`). Then the kernel stage (dml_kernel_unit_memory_bytes, the kernel engine's memory model: NNGP
 *  and NTK of train x train and test x train, the predictions, and the larger of the engine's own workspaces
 *  and the ridge solve's matrix), freed before the training stage (the largest dml_train_memory_bytes of the trained arms: network,
 *  optimizer state, per-thread workspaces, the inputs in both precisions). `threads`: threads of one unit. */
typedef struct {
    double cached;   /**< IDX splits held by the run */
    double dataset;  /**< preprocessed train and test sets of the unit */
    double loading;  /**< temporaries of loading: subset indices, transforms */
    double kernel;   /**< the kernel stage, 0 without kernel arms */
    double train;    /**< the largest training stage, 0 without trained arms */
    int train_inference;   /**< the inference index of that training stage, -1 without */
    double total;    /**< the peak: cached + max(dataset + loading, dataset + kernel, train) */
} dml_unit_memory;
void dml_unit_memory_estimate(const dml_spec *s, int d, int m, int threads, dml_unit_memory *out);

#endif
