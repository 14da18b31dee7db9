/* Train and test sets of one data variant: subsets, preprocessing, targets and transforms. */
#include <stdlib.h>
#include <string.h>
#include "dmilab/rng.h"
#include "variant.h"

/* Indices of a split's images whose label is kept (all, or labels < classes). */
static size_t *eligible(const dml_idx_split *s, int classes, size_t *count)
{
    size_t *idx = malloc(sizeof *idx * (s->n ? s->n : 1)), k = 0;
    if (!idx) return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (!classes || s->labels[i] < classes) idx[k++] = i;
    *count = k;
    return idx;
}

static int fill(const dml_idx_split *s, const size_t *idx, size_t n, const dml_data_spec *d, int k, dml_dataset *out,
                dml_error *err)
{
    int resize = d->resize;
    memset(out, 0, sizeof *out);
    out->shape = dml_data_shape(d);
    out->n = n;
    out->k = k;
    size_t D = dml_shape_numel(&out->shape);
    out->x = malloc(sizeof *out->x * (n * D + 1));
    out->y = malloc(sizeof *out->y * (n * (size_t)k + 1));
    out->label = malloc(sizeof *out->label * (n + 1));
    if (!out->x || !out->y || !out->label) {
        dml_dataset_free(out);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for %zu images", n);
    }
    size_t isz = (size_t)s->rows * (size_t)s->cols;
    for (size_t i = 0; i < n; i++) {
        dml_preprocess_image(s->images + idx[i] * isz, s->rows, s->cols, resize, out->x + i * D);
        out->label[i] = s->labels[idx[i]];
    }
    dml_one_hot(out->label, n, k, out->y);
    return 0;
}

int dml_variant_load(const dml_data_spec *d, uint64_t seed, int repeat, size_t n_train, const dml_idx_split *tr,
                     const dml_idx_split *te, dml_dataset *train, dml_dataset *test, dml_error *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    /* the spec was checked against the headers at submission: the files must still have those images */
    if (tr->rows != d->rows || tr->cols != d->cols || te->rows != d->rows || te->cols != d->cols)
        return dml_fail(err, DML_ERR_IO, NULL, "the images of %s are now %dx%d (train) and %dx%d (test), not the %dx%d "
                        "the spec was checked against", d->path, tr->rows, tr->cols, te->rows, te->cols, d->rows, d->cols);
    int k = dml_data_outputs(d);
    size_t ntr = 0, nte = 0;
    size_t *itr = eligible(tr, d->classes, &ntr), *ite = eligible(te, d->classes, &nte);
    int rc = -1;
    if (!itr || !ite) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < tr->n; i++)
        if (!d->classes && tr->labels[i] >= k) {
            dml_fail(err, DML_ERR_IO, NULL, "%s holds label %d, outside 0..%d", d->path, tr->labels[i], k - 1);
            goto out;
        }
    if (n_train > ntr || d->n_test > nte) {
        dml_fail(err, DML_ERR_INVALID_SPEC, n_train > ntr ? "n_train" : "n_test",
                 "the data has %zu training and %zu test images, fewer than asked (%zu, %zu)", ntr, nte, n_train,
                 d->n_test);
        goto out;
    }
    if (d->subset == DML_SUBSET_RANDOM) {
        /* the first n of a permutation seeded by (seed, repeat): nested sizes, shared by all variants */
        size_t *perm = malloc(sizeof *perm * (ntr ? ntr : 1));
        if (!perm) {
            dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
            goto out;
        }
        dml_rng r;
        uint64_t keys[3] = {seed, (uint64_t)repeat, 0x73756273657473ULL /* "subsets" */};
        dml_rng_seed(&r, keys, 3);
        dml_rng_permutation(&r, perm, ntr);
        for (size_t i = 0; i < n_train; i++) perm[i] = itr[perm[i]];
        free(itr);
        itr = perm;
    }
    if (fill(tr, itr, n_train, d, k, train, err)) goto out;
    if (fill(te, ite, d->n_test, d, k, test, err)) {
        dml_dataset_free(train);
        goto out;
    }
    for (int t = 0; t < d->ntransform; t++)
        if (dml_transform_apply(&d->transform[t], &train->shape, train->x, train->n, err) ||
            dml_transform_apply(&d->transform[t], &test->shape, test->x, test->n, err)) {
            dml_dataset_free(train);
            dml_dataset_free(test);
            goto out;
        }
    rc = 0;
out:
    free(itr);
    free(ite);
    return rc;
}
