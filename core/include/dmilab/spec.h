/* dmilab: the experiment specification v1 (DESIGN section 3): parsing, validation, defaults. */
#ifndef DMILAB_SPEC_H
#define DMILAB_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

#define DML_PATH_MAX 1024
#define DML_MAX_SIZES 64
#define DML_MAX_TRANSFORMS 8
#define DML_MAX_TAGS 16
#define DML_TAG_MAX 33     /**< tags are 1..32 of [A-Za-z0-9._-] */

typedef enum { DML_SRC_FASHION_MNIST, DML_SRC_MNIST } dml_source;
typedef enum { DML_SUBSET_RANDOM, DML_SUBSET_HEAD } dml_subset;
typedef enum {
    DML_TF_ORTHOGONAL, DML_TF_PERMUTATION, DML_TF_LOCAL_ORTHOGONAL,
    DML_TF_CHANNEL_ORTHOGONAL, DML_TF_TRANSLATION, DML_TF_SIGNED_PERMUTATION
} dml_transform_kind;

/** One input transform (DESIGN 2.2), applied after preprocessing to train and test alike. */
typedef struct {
    dml_transform_kind kind;
    uint64_t seed;
} dml_transform;

/** One data variant (D). */
typedef struct {
    char name[DML_NAME_MAX];
    dml_source source;
    char path[DML_PATH_MAX];     /**< resolved directory of the IDX files */
    int resize;                  /**< average-pooling factor, divides the image side */
    size_t n_train[DML_MAX_SIZES];
    int nn_train;                /**< sizes, strictly increasing after parsing (sorted, deduplicated) */
    size_t n_test;
    dml_subset subset;
    int classes;                 /**< k classes kept (labels 0..k-1); 0 = all */
    dml_transform transform[DML_MAX_TRANSFORMS];
    int ntransform;
} dml_data_spec;

typedef enum { DML_INF_NNGP, DML_INF_NTK, DML_INF_GD, DML_INF_SGD, DML_INF_ADAM } dml_method;

/** Training hyper-parameters of gd / sgd / adam (DESIGN section 3; defaults there). */
typedef struct {
    double lr, momentum, beta1, beta2, eps, weight_decay;
    int nesterov;
    int cosine;                  /**< schedule: 0 constant, 1 cosine */
    int epochs, batch;
    int cross_entropy;           /**< loss: 0 mse, 1 cross-entropy */
    int float64;                 /**< precision: 0 float32 (default), 1 float64 */
} dml_training;

/** One inference method (I). */
typedef struct {
    char name[DML_NAME_MAX];
    dml_method method;
    double ridge;                /**< kernel ridge: ridge * trace(K)/n on the diagonal (nngp, ntk) */
    dml_training train;          /**< gd, sgd, adam */
} dml_inference;

/** Nonzero for the infinite-width kernel methods nngp and ntk. */
static inline int dml_method_is_kernel(dml_method m) { return m == DML_INF_NNGP || m == DML_INF_NTK; }

typedef enum { DML_METRIC_TEST_ACCURACY, DML_METRIC_TEST_MSE, DML_METRIC_TRAIN_MSE } dml_metric;
typedef enum { DML_OP_LT, DML_OP_LE, DML_OP_GT, DML_OP_GE, DML_OP_EQ } dml_op;

/** One check (DESIGN section 4): `metric` of `arm` at `n_train`, mean over repeats, compared by `op` with
 *  `value` or with the same mean of `than_arm` (when than_arm[0] != 0). */
typedef struct {
    char arm[3 * DML_NAME_MAX + 2];
    char than_arm[3 * DML_NAME_MAX + 2];
    dml_metric metric;
    size_t n_train;          /**< defaults to the largest n_train of the arm's data variant */
    dml_op op;
    double value;
    double tolerance;        /**< for ==; default 0 */
} dml_check;

/** A parsed, validated experiment with every default filled in. */
typedef struct {
    char name[256];
    uint64_t seed;
    int repeats;
    dml_data_spec *data;      int ndata;
    dml_model *models;        int nmodels;
    dml_inference *inference; int ninference;
    dml_check *checks;        int nchecks;
    char tags[DML_MAX_TAGS][DML_TAG_MAX];
    int ntags;
} dml_spec;

/** Server-side limits, checked during parsing (exceeding one is DML_ERR_LIMIT naming the field). */
typedef struct {
    char data_root[DML_PATH_MAX];  /**< every data `path` must resolve inside it */
    size_t max_points;             /**< grid size: data x models x inference x sizes x repeats */
    size_t max_n_train;
    size_t max_n_test;
    int max_repeats;
    int max_depth;
    int max_width;
    size_t max_memory_bytes;       /**< estimated memory of one unit of work: kernel matrices (nngp, ntk) or
                                        a finite network with its workspaces and data (gd, sgd, adam) */
    int threads;                   /**< threads one unit of work runs on (training keeps per-thread copies) */
} dml_limits;

/** Defaults: data root /usr/share/datasets, 10000 points, n_train <= 60000, n_test <= 10000,
 *  repeats <= 100, depth <= 30, width <= 16384, 16 GiB per unit of work, 1 thread. */
void dml_limits_defaults(dml_limits *l);

/** Parse and validate a spec from JSON text (not NUL-terminated; `len` bytes).
 *  Returns 0 and fills `out` (free with dml_spec_free), or -1 with `err`:
 *  DML_ERR_INVALID_JSON (not JSON), DML_ERR_INVALID_SPEC (field path in err->field, e.g.
 *  "models[1].filter", for unknown fields, wrong types, out-of-range or not yet supported values),
 *  DML_ERR_LIMIT (beyond `lim`). */
int dml_spec_parse(const char *text, size_t len, const dml_limits *lim, dml_spec *out, dml_error *err);

/** Parse a model object (as in spec "models" or the `dmilab kernel` request). `path` is the field path
 *  used in errors ("models[0]", "model"). Unknown fields are errors. Fills defaults first. */
int dml_model_parse(const cJSON *obj, const char *path, const dml_limits *lim, dml_model *m, dml_error *err);

/** The spec with every default filled in, as JSON (caller frees with cJSON_Delete). */
cJSON *dml_spec_resolved_json(const dml_spec *s);
/** One model as JSON with every field. */
cJSON *dml_model_json(const dml_model *m);

/** Number of points of the full grid: sum over data variants of sizes, times models, inference and repeats. */
size_t dml_spec_points(const dml_spec *s);

void dml_spec_free(dml_spec *s);

const char *dml_metric_name(dml_metric m);
const char *dml_op_name(dml_op op);

/** Method name ("nngp", "ntk", "gd", "sgd", "adam"). */
const char *dml_method_name(dml_method m);

#endif
