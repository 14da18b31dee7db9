/* dmilab: admission: whether a parsed spec may run on this server: its limits first, then whether the work
 * fits the data (windows of every model on every input shape, images enough for n_train and n_test). */
#ifndef DMILAB_ADMISSION_H
#define DMILAB_ADMISSION_H

#include "dmilab/cost.h"
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

#endif
