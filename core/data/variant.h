/* dmilab internal: building the train and test sets of one data variant. */
#ifndef DMILAB_DATA_VARIANT_H
#define DMILAB_DATA_VARIANT_H

#include "dmilab/data.h"
#include "dmilab/spec.h"

/** Load a data variant for repeat `repeat` of an experiment seeded `seed` from its IDX splits `tr` and `te`
 *  (dml_idx_acquire; they must have the image side d->rows x d->cols the spec was parsed with, else
 *  DML_ERR_IO): the first n_test images of the test split and n_train training images (subset 'head': the first; 'random': the first of a permutation
 *  seeded by (seed, repeat), so sizes are nested), preprocessed, with k = classes (or 10) one-hot-minus-0.1
 *  targets, and the variant's transforms applied to both. Returns 0 or -1 with err. */
int dml_variant_load(const dml_data_spec *d, uint64_t seed, int repeat, size_t n_train, const dml_idx_split *tr,
                     const dml_idx_split *te, dml_dataset *train, dml_dataset *test, dml_error *err);

/** Apply one transform (DESIGN 2.2) to n inputs of shape `shape` in place. The transform is drawn from
 *  t->seed alone, so train and test (and every repeat) see the same g. Returns 0 or -1 with err. */
int dml_transform_apply(const dml_transform *t, const dml_shape *shape, double *x, size_t n, dml_error *err);

#endif
