/* Train and test sets of one data variant: subsets, preprocessing, targets and transforms, for IDX images,
 * npy arrays and the synthetic sources. */
#include <stdlib.h>
#include <string.h>
#include "dmilab/rng.h"
#include "dmilab/synthetic.h"
#include "dmilab/transform.h"
#include "variant.h"

/* The examples of one split as the variant sees them: n examples, their labels (NULL: regression targets). */
typedef struct {
    size_t n;
    const int *label;
} split_view;

/* Indices of the examples whose label is kept (all, or labels < classes). */
static size_t *eligible(const split_view *s, int classes, size_t *count)
{
    size_t *idx = malloc(sizeof *idx * (s->n ? s->n : 1)), k = 0;
    if (!idx) return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (!classes || !s->label || s->label[i] < classes) idx[k++] = i;
    *count = k;
    return idx;
}

/* Allocate a dataset of n examples of shape sh and k outputs (labels when `labelled`). */
static int alloc_set(dml_dataset *out, size_t n, dml_shape sh, int k, int labelled, dml_error *err)
{
    memset(out, 0, sizeof *out);
    out->shape = sh;
    out->n = n;
    out->k = k;
    size_t D = dml_shape_numel(&sh);
    out->x = malloc(sizeof *out->x * (n * D + 1));
    out->y = malloc(sizeof *out->y * (n * (size_t)k + 1));
    out->label = labelled ? malloc(sizeof *out->label * (n + 1)) : NULL;
    if (!out->x || !out->y || (labelled && !out->label)) {
        dml_dataset_free(out);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for %zu examples", n);
    }
    return 0;
}

/* IDX: the images idx[0..n) of split s, preprocessed, with one-hot targets. */
static int fill_idx(const dml_idx_split *s, const size_t *idx, size_t n, const dml_data_spec *d, int k,
                    dml_dataset *out, dml_error *err)
{
    if (alloc_set(out, n, dml_data_shape(d), k, 1, err)) return -1;
    size_t D = dml_shape_numel(&out->shape), isz = (size_t)s->rows * (size_t)s->cols;
    for (size_t i = 0; i < n; i++) {
        dml_preprocess_image(s->images + idx[i] * isz, s->rows, s->cols, d->resize, out->x + i * D);
        out->label[i] = s->labels[idx[i]];
    }
    dml_one_hot(out->label, n, k, out->y);
    return 0;
}

/* npy: the examples idx[0..n) of arrays x and y (labels lab, or NULL for float targets), preprocessed. */
static int fill_npy(const dml_npy_array *x, const dml_npy_array *y, const int *lab, const size_t *idx, size_t n,
                    const dml_data_spec *d, int k, dml_dataset *out, dml_error *err)
{
    if (alloc_set(out, n, dml_data_shape(d), k, lab != NULL, err)) return -1;
    const dml_shape *raw = &d->npy_shape;
    size_t D = dml_shape_numel(&out->shape), Draw = dml_shape_numel(raw);
    for (size_t i = 0; i < n; i++) {
        const double *src = x->v + idx[i] * Draw;
        double *dst = out->x + i * D;
        if (raw->nd == 2) {
            dml_pool_image(src, raw->size[0], raw->size[1], raw->channels, d->resize, d->npy_uint8, dst);
            if (d->standardize) dml_standardize(dst, D);
        } else {
            for (size_t j = 0; j < D; j++) dst[j] = d->npy_uint8 ? src[j] / 255.0 : src[j];
        }
        if (lab) out->label[i] = lab[idx[i]];
        else memcpy(out->y + i * (size_t)k, y->v + idx[i] * (size_t)k, sizeof(double) * (size_t)k);
    }
    if (lab) dml_one_hot(out->label, n, k, out->y);
    return 0;
}

/* The first n of a permutation of the eligible training examples seeded by (seed, repeat): nested sizes,
 * shared by all variants. Replaces *itr (ntr entries). */
static int random_subset(size_t **itr, size_t ntr, size_t n, uint64_t seed, int repeat, dml_error *err)
{
    size_t *perm = malloc(sizeof *perm * (ntr ? ntr : 1));
    if (!perm) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    dml_rng r;
    uint64_t keys[3] = {seed, (uint64_t)repeat, 0x73756273657473ULL /* "subsets" */};
    dml_rng_seed(&r, keys, 3);
    dml_rng_permutation(&r, perm, ntr);
    for (size_t i = 0; i < n; i++) perm[i] = (*itr)[perm[i]];
    free(*itr);
    *itr = perm;
    return 0;
}

/* Labels of an npy y array into a malloc'd array, each checked against k (and `classes`, which filters). */
static int npy_labels(const dml_npy_array *y, const dml_data_spec *d, int k, int **out, dml_error *err)
{
    size_t n = y->h.ndim ? y->h.shape[0] : 0;
    int *lab = malloc(sizeof *lab * (n + 1)), mx;
    if (!lab) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    if (dml_npy_labels(&y->h, y->v, lab, &mx, err)) {
        free(lab);
        return -1;
    }
    for (size_t i = 0; !d->classes && i < n; i++)
        if (lab[i] >= k) {
            free(lab);
            return dml_fail(err, DML_ERR_IO, NULL, "the labels hold %d, outside 0..%d", mx, k - 1);
        }
    *out = lab;
    return 0;
}

/* The runner must hold arrays of the shapes the spec was checked against. */
static int npy_agrees(const dml_data_spec *d, const dml_variant_source *src, dml_error *err)
{
    for (int t = 0; t < 2; t++) {
        const dml_npy_array *x = src->npy[t ? DML_NPY_X_TEST : DML_NPY_X_TRAIN];
        const dml_npy_array *y = src->npy[t ? DML_NPY_Y_TEST : DML_NPY_Y_TRAIN];
        dml_shape sh;
        size_t n;
        if (!x || !y || dml_npy_input_shape(&x->h, &sh, &n, NULL) || sh.nd != d->npy_shape.nd ||
            sh.channels != d->npy_shape.channels || (sh.nd && sh.size[0] != d->npy_shape.size[0]) ||
            (sh.nd == 2 && sh.size[1] != d->npy_shape.size[1]) || y->h.ndim < 1 || y->h.shape[0] != n ||
            dml_npy_is_integer(y->h.dtype) != d->npy_labels ||
            (!d->npy_labels && (y->h.ndim == 2 ? y->h.shape[1] : 1) != (size_t)dml_data_outputs(d)))
            return dml_fail(err, DML_ERR_IO, NULL, "the arrays of %s are not the shapes the spec was checked against",
                            d->npy[t ? DML_NPY_X_TEST : DML_NPY_X_TRAIN]);
    }
    return 0;
}

static int load_real(const dml_data_spec *d, uint64_t seed, int repeat, size_t n_train, const dml_variant_source *src,
                     dml_dataset *train, dml_dataset *test, dml_error *err)
{
    int k = dml_data_outputs(d), npy = d->source == DML_SRC_NPY, rc = -1;
    int *lab[2] = {NULL, NULL};
    size_t *itr = NULL, *ite = NULL, ntr = 0, nte = 0;
    split_view sv[2];
    if (npy) {
        if (npy_agrees(d, src, err)) return -1;
        for (int t = 0; t < 2 && d->npy_labels; t++)
            if (npy_labels(src->npy[t ? DML_NPY_Y_TEST : DML_NPY_Y_TRAIN], d, k, &lab[t], err)) goto out;
        for (int t = 0; t < 2; t++)
            sv[t] = (split_view){src->npy[t ? DML_NPY_Y_TEST : DML_NPY_Y_TRAIN]->h.shape[0], lab[t]};
    } else {
        const dml_idx_split *tr = src->idx[0], *te = src->idx[1];
        /* the spec was checked against the headers at submission: the files must still have those images */
        if (tr->rows != d->rows || tr->cols != d->cols || te->rows != d->rows || te->cols != d->cols)
            return dml_fail(err, DML_ERR_IO, NULL, "the images of %s are now %dx%d (train) and %dx%d (test), not the "
                            "%dx%d the spec was checked against", d->path, tr->rows, tr->cols, te->rows, te->cols,
                            d->rows, d->cols);
        for (size_t i = 0; i < tr->n; i++)
            if (!d->classes && tr->labels[i] >= k)
                return dml_fail(err, DML_ERR_IO, NULL, "%s holds label %d, outside 0..%d", d->path, tr->labels[i], k - 1);
        for (int t = 0; t < 2; t++) {
            const dml_idx_split *s = t ? te : tr;
            int *l = malloc(sizeof *l * (s->n + 1));
            if (!l) {
                dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
                goto out;
            }
            for (size_t i = 0; i < s->n; i++) l[i] = s->labels[i];
            lab[t] = l;
            sv[t] = (split_view){s->n, l};
        }
    }
    itr = eligible(&sv[0], d->classes, &ntr);
    ite = eligible(&sv[1], d->classes, &nte);
    if (!itr || !ite) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (n_train > ntr || d->n_test > nte) {
        dml_fail(err, DML_ERR_INVALID_SPEC, n_train > ntr ? "n_train" : "n_test",
                 "the data has %zu training and %zu test examples, fewer than asked (%zu, %zu)", ntr, nte, n_train,
                 d->n_test);
        goto out;
    }
    if (d->subset == DML_SUBSET_RANDOM && random_subset(&itr, ntr, n_train, seed, repeat, err)) goto out;
    if (npy ? fill_npy(src->npy[DML_NPY_X_TRAIN], src->npy[DML_NPY_Y_TRAIN], lab[0], itr, n_train, d, k, train, err)
            : fill_idx(src->idx[0], itr, n_train, d, k, train, err))
        goto out;
    if (npy ? fill_npy(src->npy[DML_NPY_X_TEST], src->npy[DML_NPY_Y_TEST], lab[1], ite, d->n_test, d, k, test, err)
            : fill_idx(src->idx[1], ite, d->n_test, d, k, test, err)) {
        dml_dataset_free(train);
        goto out;
    }
    rc = 0;
out:
    free(lab[0]);
    free(lab[1]);
    free(itr);
    free(ite);
    return rc;
}

int dml_variant_load(const dml_data_spec *d, uint64_t seed, int repeat, size_t n_train, const dml_variant_source *src,
                     dml_dataset *train, dml_dataset *test, dml_error *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    /* with subset 'head' every repeat sees the same examples, and the same per-example shifts */
    int stream_rep = d->subset == DML_SUBSET_HEAD ? 0 : repeat;
    if (dml_source_is_synthetic(d->source)) {
        if (dml_synthetic_load(&d->syn, seed, stream_rep, n_train, d->n_test, train, test, err)) return -1;
    } else if (load_real(d, seed, repeat, n_train, src, train, test, err)) {
        return -1;
    }
    for (int t = 0; t < d->ntransform; t++) {
        const dml_transform *tf = &d->transform[t];
        int bad = tf->per_example
                      ? dml_translate_each(&train->shape, train->x, train->n, tf->seed, 1 + (uint64_t)stream_rep, 0,
                                           tf->max_shift, err) ||
                            dml_translate_each(&test->shape, test->x, test->n, tf->seed, 0, 0, tf->max_shift, err)
                      : dml_transform_apply(tf, &train->shape, train->x, train->n, err) ||
                            dml_transform_apply(tf, &test->shape, test->x, test->n, err);
        if (bad) {
            dml_dataset_free(train);
            dml_dataset_free(test);
            return -1;
        }
    }
    return 0;
}
