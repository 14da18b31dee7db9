/* dmilab internal: building the train and test sets of one data variant. */
#ifndef DMILAB_DATA_VARIANT_H
#define DMILAB_DATA_VARIANT_H

#include "dmilab/data.h"
#include "dmilab/spec.h"

#include "dmilab/npy.h"

/** One array of an npy source as the runner read it (dml_npy_read_fd): header and values as doubles. */
typedef struct {
    dml_npy_header h;
    double *v;
} dml_npy_array;

/** What a data variant is loaded from, read once per run by the runner: the IDX splits of an IDX source
 *  (dml_idx_acquire) or the four arrays of an npy source (x_train, y_train, x_test, y_test); nothing for the
 *  synthetic sources, which are generated from the seeds. */
typedef struct {
    const dml_idx_split *idx[2];
    const dml_npy_array *npy[DML_NPY_FILES];
} dml_variant_source;

/** Load a data variant for repeat `repeat` of an experiment seeded `seed` (DESIGN section 3):
 *  IDX and npy: the first n_test examples of the test split and n_train training examples (subset 'head': the
 *  first; 'random': the first of a permutation seeded by (seed, repeat), so sizes are nested and shared by
 *  every variant), of the labels kept by `classes`; preprocessed (uint8 / 255; images: average pooling by
 *  `resize` and, when d->standardize, per-example standardization); integer labels as one-hot-minus-0.1
 *  targets with k = dml_data_outputs(d), float targets as they are (label NULL). The IDX splits must have the
 *  image side d->rows x d->cols and the arrays the shapes the spec was parsed with, else DML_ERR_IO.
 *  Synthetic: dml_synthetic_load (repeat 0 for every repeat with subset 'head').
 *  Then the variant's transforms, applied to both sets: group elements drawn from their seed, per-example
 *  translations keyed by (seed, stream, index) with stream 0 for the test set and 1 + repeat (repeat 0 with
 *  subset 'head') for the training set. Returns 0 or -1 with err. */
int dml_variant_load(const dml_data_spec *d, uint64_t seed, int repeat, size_t n_train, const dml_variant_source *src,
                     dml_dataset *train, dml_dataset *test, dml_error *err);

/** Apply one transform (DESIGN 2.2) to n inputs of shape `shape` in place. The transform is drawn from
 *  t->seed alone, so train and test (and every repeat) see the same g. A per-example translation is not a
 *  group element: dml_variant_load applies it (dml_translate_each). Returns 0 or -1 with err. */
int dml_transform_apply(const dml_transform *t, const dml_shape *shape, double *x, size_t n, dml_error *err);

#endif
