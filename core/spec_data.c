/* The data variants of a spec (DESIGN section 3): IDX images, a user's own .npy arrays and the synthetic sources,
 * with subsets and transforms; parsed into dml_data_spec, every file opened inside the data root, and written
 * back as the resolved spec (spec_data.h); the data enums' names and a variant's shape and outputs (data_spec.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/data.h"
#include "dmilab/model_json.h"
#include "dmilab/npy.h"
#include "dmilab/data_spec.h"
#include "jfield.h"
#include "spec_data.h"

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define MAX_OUTPUTS 4096

static const char *const source_names[] = {DML_SOURCES(DML_ENUM_NAME)};
static const char *const subset_names[] = {DML_SUBSETS(DML_ENUM_NAME)};
static const char *const transform_names[] = {DML_TRANSFORMS(DML_ENUM_NAME)};
static const char *const target_names[] = {"teacher", "local-polynomial"};   /* indexed by dml_syn_target_kind */
const char *const dml_npy_file_fields[DML_NPY_FILES] = {"x_train", "y_train", "x_test", "y_test"};

const char *dml_source_name(dml_source s) { return (unsigned)s < DML_N_SOURCES ? source_names[s] : "?"; }
const char *dml_subset_name(dml_subset s) { return (unsigned)s < DML_N_SUBSETS ? subset_names[s] : "?"; }
const char *dml_transform_name(dml_transform_kind k) { return (unsigned)k < DML_N_TRANSFORMS ? transform_names[k] : "?"; }

dml_shape dml_data_shape(const dml_data_spec *d)
{
    int r = d->resize > 0 ? d->resize : 1;
    if (dml_source_is_synthetic(d->source)) return d->syn.shape;
    if (d->source == DML_SRC_NPY) {
        dml_shape sh = d->npy_shape;
        if (sh.nd == 2) sh.size[0] /= r, sh.size[1] /= r;
        return sh;
    }
    dml_shape sh = {.nd = 2, .size = {d->rows / r, d->cols / r}, .channels = 1};
    return sh;
}

int dml_data_outputs(const dml_data_spec *d) { return d->outputs > 0 ? d->outputs : d->classes ? d->classes : 10; }

/* The fields of each family of sources; a field of another family is named in its error. */
static const char *const common_keys[] = {"name", "source", "n_train", "n_test", "subset", "transform", NULL};
static const char *const idx_keys[] = {"path", "resize", "classes", NULL};
static const char *const npy_keys[] = {"x_train", "y_train", "x_test", "y_test", "resize", "standardize", "classes",
                                       NULL};
static const char *const syn_keys[] = {"shape", "target", "noise", NULL};

static int in_list(const char *const *l, const char *k)
{
    for (; *l; l++)
        if (strcmp(*l, k) == 0) return 1;
    return 0;
}


/* Unknown fields, and fields of another family of sources ("shape applies to sources sphere and gaussian only"). */
static int check_keys(const cJSON *o, const char *path, dml_source src, dml_error *err)
{
    const char *const *own = dml_source_is_idx(src) ? idx_keys : src == DML_SRC_NPY ? npy_keys : syn_keys;
    char f[200];
    for (const cJSON *it = o->child; it; it = it->next) {
        if (!it->string || in_list(common_keys, it->string) || in_list(own, it->string)) continue;
        const char *fam = in_list(idx_keys, it->string) ? "fashion-mnist and mnist"
                          : in_list(npy_keys, it->string) ? "npy"
                          : in_list(syn_keys, it->string) ? "sphere and gaussian" : NULL;
        if (fam)
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, it->string),
                            "%s applies to sources %s only, not to source %s", it->string, fam, source_names[src]);
    }
    const char *all[32];
    int n = 0;
    for (const char *const *k = common_keys; *k; k++) all[n++] = *k;
    for (const char *const *k = own; *k; k++) all[n++] = *k;
    all[n] = NULL;
    return jf_object(o, path, all, err);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_transform(const cJSON *o, const char *path, dml_transform *t, dml_error *err)
{
    static const char *const keys[] = {"kind", "seed", "per_example", "max_shift", NULL};
    if (jf_object(o, path, keys, err)) return -1;
    int e;
    char f[200];
    memset(t, 0, sizeof *t);
    int rc = jf_enum(o, "kind", path, transform_names, DML_N_TRANSFORMS, &e, err);
    if (rc < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "kind"), "%s is required", f);
    t->kind = (dml_transform_kind)e;
    long long s = 0;
    if (jf_int(o, "seed", path, 0, 9007199254740992LL, &s, err) < 0) return -1;
    t->seed = (uint64_t)s;
    if ((rc = jf_bool(o, "per_example", path, &t->per_example, err)) < 0) return -1;
    if (rc && t->per_example && t->kind != DML_TF_TRANSLATION)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "per_example"),
                        "per_example applies to kind translation only");
    if ((rc = jf_int(o, "max_shift", path, 1, 1 << 20, &s, err)) < 0) return -1;
    if (rc && !t->per_example)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "max_shift"),
                        "max_shift applies to per-example translations only (\"per_example\": true)");
    if (rc) t->max_shift = (int)s;
    return 0;
}

/* The divisors of n that leave more than one pixel, as "1, 2, 4, 7, 14" for the message of a bad `resize`. */
static void divisors(int rows, int cols, char *out, size_t size)
{
    size_t k = 0;
    out[0] = 0;
    for (int r = 1; r <= rows && k + 8 < size; r++)
        if (rows % r == 0 && cols % r == 0 && (rows / r) * (cols / r) > 1)
            k += (size_t)snprintf(out + k, size - k, "%s%d", k ? ", " : "", r);
}

/* `resize` against an image side rows x cols (IDX images, npy (n, H, W, C) arrays). */
static int check_resize(const dml_data_spec *d, const char *path, int rows, int cols, const char *what,
                        dml_error *err)
{
    char f[200], list[200];
    divisors(rows, cols, list, sizeof list);
    if (rows % d->resize || cols % d->resize)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "resize"),
                        "%s must divide the %dx%d images of %s (%s)", f, rows, cols, what, list);
    /* one pixel standardises to 0: every kernel would be 0 and every trained network constant */
    if (d->standardize && (rows / d->resize) * (cols / d->resize) < 2)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "resize"),
                        "%s %d leaves one pixel of the %dx%d images, which standardization sets to 0 (choose one "
                        "of %s)", f, d->resize, rows, cols, list);
    return 0;
}

/* The data directory inside the root and the IDX headers of its four files: the image side, the counts. */
static int probe_idx(const char *root, const char *path, dml_data_spec *d, dml_error *err)
{
    char f[200];
    jf_path(f, sizeof f, path, "path");
    if (dml_data_resolve(root, d->path, DML_PATH_DIR, f, d->path, sizeof d->path, err)) return -1;
    dml_idx_info tr, te;
    if (dml_idx_probe(root, d->path, "train", f, &tr, err) || dml_idx_probe(root, d->path, "t10k", f, &te, err))
        return -1;
    if (tr.rows != te.rows || tr.cols != te.cols)
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "the training images of %s are %dx%d but its test images %dx%d",
                        d->path, tr.rows, tr.cols, te.rows, te.cols);
    d->rows = tr.rows;
    d->cols = tr.cols;
    d->train_images = tr.n;
    d->test_images = te.n;
    return 0;
}

static int parse_idx(const cJSON *o, const char *path, const char *root, dml_data_spec *d, dml_error *err)
{
    char f[200];
    int rc;
    long long v;
    if ((rc = jf_string(o, "path", path, d->path, sizeof d->path, err)) < 0) return -1;
    if (rc == 0 && d->source == DML_SRC_MNIST)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "path"),
                        "%s is required for source mnist (Debian ships no MNIST package)", f);
    if (rc == 0) snprintf(d->path, sizeof d->path, "%s", FASHION_MNIST_DIR);
    if (root && probe_idx(root, path, d, err)) return -1;
    if ((rc = jf_int(o, "resize", path, 1, 4096, &v, err)) < 0) return -1;
    if (rc) d->resize = (int)v;
    if (d->rows && check_resize(d, path, d->rows, d->cols, d->path, err)) return -1;
    if ((rc = jf_int(o, "classes", path, 2, 10, &v, err)) < 0) return -1;
    if (rc) d->classes = (int)v;
    d->outputs = d->classes ? d->classes : 10;
    return 0;
}

/* One npy file inside the root: its canonical path and header (the file size checked against it); with `values`,
 * the whole array. npy errors become 400s naming the field. */
static int open_npy(const char *root, const char *path, const char *field, char *resolved, size_t size,
                    dml_npy_header *h, double **values, dml_error *err)
{
    int fd = dml_data_open(root, path, field, resolved, size, err);
    if (fd < 0) return -1;
    if (dml_npy_read_fd(fd, resolved, h, values, NULL, err)) {
        if (err && err->code != DML_ERR_NOMEM) {
            err->code = DML_ERR_INVALID_SPEC;
            snprintf(err->field, sizeof err->field, "%.*s", (int)sizeof err->field - 1, field);
        }
        return -1;
    }
    return 0;
}

static int same_shape(const dml_shape *a, const dml_shape *b)
{
    if (a->nd != b->nd || a->channels != b->channels) return 0;
    for (int i = 0; i < a->nd; i++)
        if (a->size[i] != b->size[i]) return 0;
    return 1;
}

static void shape_text(const dml_shape *s, size_t n, char *out, size_t size)
{
    if (s->nd == 0) snprintf(out, size, "(%zu, %d)", n, s->channels);
    else if (s->nd == 1) snprintf(out, size, "(%zu, %d, %d)", n, s->size[0], s->channels);
    else snprintf(out, size, "(%zu, %d, %d, %d)", n, s->size[0], s->size[1], s->channels);
}

/* The headers of the four arrays: shapes that agree, labels or targets, lengths; the number of outputs. */
static int probe_npy(const char *root, const char *path, const cJSON *o, dml_data_spec *d, dml_error *err)
{
    char f[DML_NPY_FILES][200], g[200];
    dml_npy_header h[DML_NPY_FILES];
    for (int k = 0; k < DML_NPY_FILES; k++) {
        jf_path(f[k], sizeof f[k], path, dml_npy_file_fields[k]);
        if (open_npy(root, d->npy[k], f[k], d->npy[k], sizeof d->npy[k], &h[k], NULL, err)) return -1;
    }
    dml_shape sx[2];
    size_t nx[2];
    for (int t = 0; t < 2; t++) {
        int k = t ? DML_NPY_X_TEST : DML_NPY_X_TRAIN;
        if (dml_npy_input_shape(&h[k], &sx[t], &nx[t], err)) {
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg, "%.200s: %.300s", d->npy[k], err->message);
            return dml_fail(err, DML_ERR_INVALID_SPEC, f[k], "%s", msg);
        }
    }
    char a[80], b[80];
    if (!same_shape(&sx[0], &sx[1])) {
        shape_text(&sx[0], nx[0], a, sizeof a);
        shape_text(&sx[1], nx[1], b, sizeof b);
        return dml_fail(err, DML_ERR_INVALID_SPEC, f[DML_NPY_X_TEST],
                        "x_test has shape %s, but x_train %s: the inputs of train and test must have one shape", b, a);
    }
    int u8 = h[DML_NPY_X_TRAIN].dtype == DML_NPY_UINT8;
    if (u8 != (h[DML_NPY_X_TEST].dtype == DML_NPY_UINT8))
        return dml_fail(err, DML_ERR_INVALID_SPEC, f[DML_NPY_X_TEST],
                        "x_test is %s but x_train %s: uint8 images are divided by 255, so both must be uint8 or neither",
                        dml_npy_dtype_name(h[DML_NPY_X_TEST].dtype), dml_npy_dtype_name(h[DML_NPY_X_TRAIN].dtype));
    int labels = dml_npy_is_integer(h[DML_NPY_Y_TRAIN].dtype);
    for (int t = 0; t < 2; t++) {
        int k = t ? DML_NPY_Y_TEST : DML_NPY_Y_TRAIN;
        const dml_npy_header *y = &h[k];
        if (dml_npy_is_integer(y->dtype) != labels)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f[k], "y_train and y_test must both hold integer labels or "
                            "both float targets (%s is %s)", f[k], dml_npy_dtype_name(y->dtype));
        if (labels ? y->ndim != 1 : y->ndim != 1 && y->ndim != 2)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f[k], labels ? "%s: integer labels have shape (n,), not %d axes"
                            : "%s: float targets have shape (n,) or (n, k), not %d axes", f[k], y->ndim);
        if (y->shape[0] != nx[t])
            return dml_fail(err, DML_ERR_INVALID_SPEC, f[k], "%s holds %zu entries but %s %zu inputs", f[k],
                            y->shape[0], t ? "x_test" : "x_train", nx[t]);
    }
    d->npy_shape = sx[0];
    d->npy_uint8 = u8;
    d->npy_labels = labels;
    d->train_images = nx[0];
    d->test_images = nx[1];
    if (!labels) {
        size_t k0 = h[DML_NPY_Y_TRAIN].ndim == 2 ? h[DML_NPY_Y_TRAIN].shape[1] : 1;
        size_t k1 = h[DML_NPY_Y_TEST].ndim == 2 ? h[DML_NPY_Y_TEST].shape[1] : 1;
        if (k0 != k1)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f[DML_NPY_Y_TEST], "y_test has %zu outputs but y_train %zu", k1, k0);
        if (k0 < 1 || k0 > MAX_OUTPUTS)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f[DML_NPY_Y_TRAIN], "float targets need 1 to %d outputs, not %zu",
                            MAX_OUTPUTS, k0);
        if (cJSON_GetObjectItemCaseSensitive(o, "classes"))
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(g, sizeof g, path, "classes"),
                            "classes applies to integer labels, but y_train holds float targets");
        d->outputs = (int)k0;
        return 0;
    }
    if (d->classes) {
        d->outputs = d->classes;
        return 0;
    }
    /* without `classes`, k is one more than the largest label of either split: read the labels */
    int top = -1;
    for (int t = 0; t < 2; t++) {
        int k = t ? DML_NPY_Y_TEST : DML_NPY_Y_TRAIN;
        double *v = NULL;
        dml_npy_header hh;
        if (open_npy(root, d->npy[k], f[k], g, sizeof g, &hh, &v, err)) return -1;
        int *lab = malloc(sizeof *lab * (hh.shape[0] + 1)), mx = -1;
        int rc = lab ? dml_npy_labels(&hh, v, lab, &mx, err) : dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        free(v);
        free(lab);
        if (rc) {
            if (err->code != DML_ERR_NOMEM) {
                char msg[sizeof err->message];
                snprintf(msg, sizeof msg, "%.200s: %.300s", d->npy[k], err->message);
                return dml_fail(err, DML_ERR_INVALID_SPEC, f[k], "%s", msg);
            }
            return -1;
        }
        if (mx >= MAX_OUTPUTS)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f[k], "%s holds label %d: at most %d classes", f[k], mx,
                            MAX_OUTPUTS);
        if (mx > top) top = mx;
    }
    if (top < 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, f[DML_NPY_Y_TRAIN], "the labels hold one class only: give float "
                        "targets for regression");
    d->outputs = top + 1;
    return 0;
}

static int parse_npy(const cJSON *o, const char *path, const char *root, dml_data_spec *d, dml_error *err)
{
    char f[200];
    int rc;
    long long v;
    for (int k = 0; k < DML_NPY_FILES; k++) {
        if ((rc = jf_string(o, dml_npy_file_fields[k], path, d->npy[k], sizeof d->npy[k], err)) < 0) return -1;
        if (rc == 0)
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, dml_npy_file_fields[k]),
                            "%s is required for source npy (x_train, y_train, x_test and y_test: .npy files)", f);
    }
    if ((rc = jf_int(o, "classes", path, 2, MAX_OUTPUTS, &v, err)) < 0) return -1;
    if (rc) d->classes = (int)v;
    if (root && probe_npy(root, path, o, d, err)) return -1;
    if ((rc = jf_int(o, "resize", path, 1, 4096, &v, err)) < 0) return -1;
    if (rc) d->resize = (int)v;
    int known = root != NULL, image = d->npy_shape.nd == 2;
    d->standardize = !known || image;
    int st = d->standardize;
    if ((rc = jf_bool(o, "standardize", path, &st, err)) < 0) return -1;
    if (rc && known && !image && st)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "standardize"),
                        "standardize applies to images, x of shape (n, H, W, C); these arrays are used as they are");
    if (rc) d->standardize = st;
    if (known && !image && d->resize != 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "resize"),
                        "resize applies to images, x of shape (n, H, W, C)");
    if (known && image && check_resize(d, path, d->npy_shape.size[0], d->npy_shape.size[1], d->npy[0], err))
        return -1;
    if (!known) d->outputs = d->classes;
    return 0;
}

static int parse_target(const cJSON *o, const char *path, dml_syn_target *t, dml_error *err)
{
    static const char *const teacher_keys[] = {"kind", "model", "seed", "width", "outputs", NULL};
    static const char *const poly_keys[] = {"kind", "degree", "support", "shared", "seed", "outputs", NULL};
    char f[200];
    int e, rc;
    long long v;
    memset(t, 0, sizeof *t);
    t->outputs = 1;
    if (!o) return dml_fail(err, DML_ERR_INVALID_SPEC, path, "%s is required for synthetic sources", path);
    if (!cJSON_IsObject(o)) return dml_fail(err, DML_ERR_INVALID_SPEC, path, "%s must be an object", path);
    if ((rc = jf_enum(o, "kind", path, target_names, 2, &e, err)) < 0) return -1;
    if (rc == 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "kind"),
                        "%s is required (teacher or local-polynomial)", f);
    t->kind = (dml_syn_target_kind)e;
    if (jf_object(o, path, t->kind == DML_TARGET_TEACHER ? teacher_keys : poly_keys, err)) return -1;
    if (jf_int(o, "seed", path, 0, 9007199254740992LL, &v, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "seed")) t->seed = (uint64_t)v;
    if ((rc = jf_int(o, "outputs", path, 1, DML_SYN_MAX_OUTPUTS, &v, err)) < 0) return -1;
    if (rc) t->outputs = (int)v;
    if (t->kind == DML_TARGET_TEACHER) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "model");
        jf_path(f, sizeof f, path, "model");
        if (!m) return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s is required for a teacher target", f);
        if (dml_model_parse(m, f, &t->model, err)) return -1;
        if ((rc = jf_int(o, "width", path, 1, DML_WIDTH_MAX, &v, err)) < 0) return -1;
        if (rc && cJSON_GetObjectItemCaseSensitive(m, "width"))
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "width"),
                            "give the teacher's width once: in target.width or in target.model.width");
        if (rc) t->model.width = (int)v;
        return 0;
    }
    t->degree = 2;
    t->support = 1;
    if ((rc = jf_int(o, "degree", path, 1, 64, &v, err)) < 0) return -1;
    if (rc) t->degree = (int)v;
    if ((rc = jf_int(o, "support", path, 1, 4096, &v, err)) < 0) return -1;
    if (rc) t->support = (int)v;
    if (jf_bool(o, "shared", path, &t->shared, err) < 0) return -1;
    return 0;
}

static int parse_synthetic(const cJSON *o, const char *path, dml_data_spec *d, dml_error *err)
{
    char f[200];
    dml_synthetic *s = &d->syn;
    s->input = d->source == DML_SRC_SPHERE ? DML_SYN_SPHERE : DML_SYN_GAUSSIAN;
    long long sh[3];
    int n, rc;
    jf_path(f, sizeof f, path, "shape");
    if ((rc = jf_int_list(o, "shape", path, 3, 1, 1 << 24, sh, &n, err)) < 0) return -1;
    if (rc == 0 || n < 2 || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "shape")))
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s is required: [L, C] (1D) or [H, W, C] (2D)", f);
    s->shape.nd = n - 1;
    for (int a = 0; a < n - 1; a++) s->shape.size[a] = (int)sh[a];
    s->shape.channels = (int)sh[n - 1];
    if (jf_number(o, "noise", path, 0, 1e6, &s->noise, err) < 0) return -1;
    jf_path(f, sizeof f, path, "target");
    if (parse_target(cJSON_GetObjectItemCaseSensitive(o, "target"), f, &s->target, err)) return -1;
    if (dml_synthetic_check(s, err)) {
        char g[sizeof err->field + 200];
        snprintf(g, sizeof g, "%s%s%s", path, err->field[0] ? "." : "", err->field);
        snprintf(err->field, sizeof err->field, "%.*s", (int)sizeof err->field - 1, g);
        return -1;
    }
    d->outputs = s->target.outputs;
    return 0;
}

int dml_spec_parse_data(const cJSON *o, const char *path, const char *root, dml_data_spec *d, dml_error *err)
{
    char f[200];
    memset(d, 0, sizeof *d);
    d->resize = 1;
    d->n_test = 1000;
    d->subset = DML_SUBSET_RANDOM;
    d->standardize = 1;
    if (!cJSON_IsObject(o)) return dml_fail(err, DML_ERR_INVALID_SPEC, path, "%s must be an object", path);
    int e, rc;
    if ((rc = jf_enum(o, "source", path, source_names, DML_N_SOURCES, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "source"), "%s is required", f);
    d->source = (dml_source)e;
    if (check_keys(o, path, d->source, err)) return -1;
    if ((rc = jf_string(o, "name", path, d->name, sizeof d->name, err)) < 0) return -1;
    if (rc && !jf_valid_name(d->name))
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "name"),
                        "names are 1 to 64 of letters, digits, '-', '_', '.', '='");
    if (dml_source_is_idx(d->source) ? parse_idx(o, path, root, d, err)
        : d->source == DML_SRC_NPY   ? parse_npy(o, path, root, d, err)
                                     : parse_synthetic(o, path, d, err))
        return -1;
    long long sizes[DML_MAX_SIZES], v;
    int n;
    if ((rc = jf_int_list(o, "n_train", path, DML_MAX_SIZES, 1, 1LL << 50, sizes, &n, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "n_train"), "%s is required", f);
    for (int i = 0; i < n; i++) d->n_train[i] = (size_t)sizes[i];
    qsort(d->n_train, (size_t)n, sizeof d->n_train[0], cmp_size);
    d->nn_train = 0;
    for (int i = 0; i < n; i++)
        if (d->nn_train == 0 || d->n_train[d->nn_train - 1] != d->n_train[i]) d->n_train[d->nn_train++] = d->n_train[i];
    if ((rc = jf_int(o, "n_test", path, 1, 1LL << 50, &v, err)) < 0) return -1;
    if (rc) d->n_test = (size_t)v;
    if (jf_enum(o, "subset", path, subset_names, DML_N_SUBSETS, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "subset")) d->subset = (dml_subset)e;
    const cJSON *tf = cJSON_GetObjectItemCaseSensitive(o, "transform");
    if (tf) {
        jf_path(f, sizeof f, path, "transform");
        int listed = cJSON_IsArray(tf);
        if (!listed && !cJSON_IsObject(tf))
            return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be an object or a list of objects", f);
        int k = listed ? cJSON_GetArraySize(tf) : 1;
        if (k > DML_MAX_TRANSFORMS)
            return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s takes at most %d transforms", f, DML_MAX_TRANSFORMS);
        int i = 0;
        char g[220];
        for (const cJSON *it = listed ? tf->child : tf; it && i < k; it = it->next, i++) {
            const char *p = listed ? jf_index(g, sizeof g, f, i) : f;
            if (parse_transform(it, p, &d->transform[i], err)) return -1;
            /* a translation needs a spatial axis: flat (n, d) arrays have none */
            dml_shape sh = dml_data_shape(d);
            if (d->transform[i].kind == DML_TF_TRANSLATION && sh.channels > 0 && sh.nd == 0) {
                char h[240];
                return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(h, sizeof h, p, "kind"),
                                "a translation needs inputs with positions; x of shape (n, d) has none");
            }
        }
        d->ntransform = k;
    }
    return 0;
}

static cJSON *shape_json(const dml_shape *s)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < s->nd; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(s->size[i]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(s->channels));
    return a;
}

static cJSON *target_json(const dml_syn_target *t)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", target_names[t->kind]);
    if (t->kind == DML_TARGET_TEACHER) {
        cJSON_AddItemToObject(j, "model", dml_model_json(&t->model));
    } else {
        cJSON_AddNumberToObject(j, "degree", t->degree);
        cJSON_AddNumberToObject(j, "support", t->support);
        cJSON_AddBoolToObject(j, "shared", t->shared);
    }
    cJSON_AddNumberToObject(j, "seed", (double)t->seed);
    cJSON_AddNumberToObject(j, "outputs", t->outputs);
    return j;
}

cJSON *dml_spec_data_json(const dml_data_spec *d)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", d->name);
    cJSON_AddStringToObject(j, "source", source_names[d->source]);
    if (dml_source_is_idx(d->source)) {
        cJSON_AddStringToObject(j, "path", d->path);
        cJSON_AddNumberToObject(j, "resize", d->resize);
    } else if (d->source == DML_SRC_NPY) {
        for (int k = 0; k < DML_NPY_FILES; k++) cJSON_AddStringToObject(j, dml_npy_file_fields[k], d->npy[k]);
        cJSON_AddNumberToObject(j, "resize", d->resize);
        cJSON_AddBoolToObject(j, "standardize", d->standardize);
    } else {
        cJSON_AddItemToObject(j, "shape", shape_json(&d->syn.shape));
        cJSON_AddItemToObject(j, "target", target_json(&d->syn.target));
        cJSON_AddNumberToObject(j, "noise", d->syn.noise);
    }
    cJSON *nt = cJSON_AddArrayToObject(j, "n_train");
    for (int k = 0; k < d->nn_train; k++) cJSON_AddItemToArray(nt, cJSON_CreateNumber((double)d->n_train[k]));
    cJSON_AddNumberToObject(j, "n_test", (double)d->n_test);
    cJSON_AddStringToObject(j, "subset", subset_names[d->subset]);
    /* labelled sources: the classes kept (npy regression targets and synthetic targets have none) */
    if (dml_source_is_idx(d->source) || (d->source == DML_SRC_NPY && (d->npy_labels || d->classes)))
        cJSON_AddNumberToObject(j, "classes", dml_data_outputs(d));
    cJSON *tf = cJSON_AddArrayToObject(j, "transform");
    for (int k = 0; k < d->ntransform; k++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "kind", transform_names[d->transform[k].kind]);
        cJSON_AddNumberToObject(t, "seed", (double)d->transform[k].seed);
        if (d->transform[k].per_example) {
            cJSON_AddBoolToObject(t, "per_example", 1);
            if (d->transform[k].max_shift) cJSON_AddNumberToObject(t, "max_shift", d->transform[k].max_shift);
        }
        cJSON_AddItemToArray(tf, t);
    }
    return j;
}
