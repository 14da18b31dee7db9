/* dmilab: the experiment specification v1 (DESIGN section 3): parsing and resolving (defaults, names, input
 * shapes) into dml_spec, and the resolved spec as JSON. Server limits are admission's (admission.h). */
#ifndef DMILAB_SPEC_H
#define DMILAB_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "dmilab/enum.h"
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "dmilab/model_json.h"
#include "dmilab/training.h"

#define DML_PATH_MAX 1024
#define DML_MAX_SIZES 64
#define DML_MAX_TRANSFORMS 8
#define DML_MAX_TAGS 16
#define DML_TAG_MAX 33     /**< tags are 1..32 of [A-Za-z0-9._-] */

/* The spec's enums and their API names, each from one X-macro list X(id, "name"). */
#define DML_SOURCES(X) X(DML_SRC_FASHION_MNIST, "fashion-mnist") X(DML_SRC_MNIST, "mnist")
#define DML_SUBSETS(X) X(DML_SUBSET_RANDOM, "random") X(DML_SUBSET_HEAD, "head")
#define DML_TRANSFORMS(X)                                                                                    \
    X(DML_TF_ORTHOGONAL, "orthogonal") X(DML_TF_PERMUTATION, "permutation")                                  \
    X(DML_TF_LOCAL_ORTHOGONAL, "local-orthogonal") X(DML_TF_CHANNEL_ORTHOGONAL, "channel-orthogonal")        \
    X(DML_TF_TRANSLATION, "translation") X(DML_TF_SIGNED_PERMUTATION, "signed-permutation")
#define DML_METHODS(X) X(DML_INF_NNGP, "nngp") X(DML_INF_NTK, "ntk") X(DML_INF_GD, "gd") X(DML_INF_SGD, "sgd") \
    X(DML_INF_ADAM, "adam")
#define DML_METRICS(X) X(DML_METRIC_TEST_ACCURACY, "test_accuracy") X(DML_METRIC_TEST_MSE, "test_mse")       \
    X(DML_METRIC_TRAIN_MSE, "train_mse")
#define DML_OPS(X) X(DML_OP_LT, "<") X(DML_OP_LE, "<=") X(DML_OP_GT, ">") X(DML_OP_GE, ">=") X(DML_OP_EQ, "==")

typedef enum { DML_SOURCES(DML_ENUM_ID) } dml_source;
enum { DML_N_SOURCES = 0 DML_SOURCES(DML_ENUM_COUNT) };
typedef enum { DML_SUBSETS(DML_ENUM_ID) } dml_subset;
enum { DML_N_SUBSETS = 0 DML_SUBSETS(DML_ENUM_COUNT) };
typedef enum { DML_TRANSFORMS(DML_ENUM_ID) } dml_transform_kind;
enum { DML_N_TRANSFORMS = 0 DML_TRANSFORMS(DML_ENUM_COUNT) };
typedef enum { DML_METHODS(DML_ENUM_ID) } dml_method;
enum { DML_N_METHODS = 0 DML_METHODS(DML_ENUM_COUNT) };
typedef enum { DML_METRICS(DML_ENUM_ID) } dml_metric;
enum { DML_N_METRICS = 0 DML_METRICS(DML_ENUM_COUNT) };
typedef enum { DML_OPS(DML_ENUM_ID) } dml_op;
enum { DML_N_OPS = 0 DML_OPS(DML_ENUM_COUNT) };

/** API names of the enums above ("fashion-mnist", "head", "translation", "adam", "test_mse", "<=");
 *  "?" outside the enum. */
const char *dml_source_name(dml_source s);
const char *dml_subset_name(dml_subset s);
const char *dml_transform_name(dml_transform_kind k);
const char *dml_method_name(dml_method m);
const char *dml_metric_name(dml_metric m);
const char *dml_op_name(dml_op op);

/** One input transform (DESIGN 2.2), applied after preprocessing to train and test alike. */
typedef struct {
    dml_transform_kind kind;
    uint64_t seed;
} dml_transform;

/** One data variant (D). */
typedef struct {
    char name[DML_NAME_MAX];
    dml_source source;
    char path[DML_PATH_MAX];     /**< canonical directory of the IDX files, inside the data root */
    int rows, cols;              /**< the image side read from the IDX headers at parsing (0 when parsed without
                                      file access); `resize` divides both */
    size_t train_images, test_images;   /**< images in the train and t10k files (0 without file access) */
    int resize;                  /**< average-pooling factor, divides the image side */
    size_t n_train[DML_MAX_SIZES];
    int nn_train;                /**< sizes, strictly increasing after parsing (sorted, deduplicated) */
    size_t n_test;
    dml_subset subset;
    int classes;                 /**< k classes kept (labels 0..k-1); 0 = all */
    dml_transform transform[DML_MAX_TRANSFORMS];
    int ntransform;
} dml_data_spec;

/** The input shape the models see for a data variant: (rows/resize, cols/resize) positions of 1 channel
 *  (DESIGN section 3: average pooling by `resize`). The one place this shape is computed. */
dml_shape dml_data_shape(const dml_data_spec *d);

/** The number of outputs (classes) of a data variant: `classes`, or 10. */
int dml_data_outputs(const dml_data_spec *d);

/** Nonzero for the infinite-width kernel methods nngp and ntk. */
static inline int dml_method_is_kernel(dml_method m) { return m == DML_INF_NNGP || m == DML_INF_NTK; }

/** The optimizer of a training method (gd, sgd, adam); DML_OPT_SGD for kernel methods (unused). */
dml_optimizer dml_method_optimizer(dml_method m);

/** One inference method (I). */
typedef struct {
    char name[DML_NAME_MAX];
    dml_method method;
    double ridge;                /**< kernel ridge: ridge * trace(K)/n on the diagonal (nngp, ntk) */
    /** gd, sgd, adam: every hyper-parameter but the learning rate, which depends on the parameterization
     *  of the model it trains (dml_default_lr): lr[DML_PARAM_NTK] and lr[DML_PARAM_STANDARD]. `train.lr`
     *  is NaN; dml_arm_train_config gives one arm's full configuration. */
    dml_train_config train;
    double lr[2];
    dml_precision precision;     /**< float32 (default) or float64 */
} dml_inference;

/** The training configuration of inference `inf` on model `m`: inf->train with the learning rate of the
 *  model's parameterization. */
void dml_arm_train_config(const dml_inference *inf, const dml_model *m, dml_train_config *out);

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

/** A parsed experiment with every default filled in. */
typedef struct {
    char name[256];
    uint64_t seed;
    long long repeats;           /**< 1 .. 2^40 (a server's --max-repeats is checked by admission) */
    char tags[DML_MAX_TAGS][DML_TAG_MAX];
    int ntags;
    dml_data_spec *data;      int ndata;
    dml_model *models;        int nmodels;
    dml_inference *inference; int ninference;
    dml_check *checks;        int nchecks;
    /** The data root the paths were resolved in, "" when parsed without file access; the runner opens every
     *  data file inside it. */
    char data_root[DML_PATH_MAX];
    /** Whether `data`, `models`, `inference` were given as lists (field paths "models[1]") or as one object
     *  ("models"), for errors that name a field after parsing (admission, the runner). */
    int data_listed, models_listed, inference_listed;
    /** Bit m: model m's `width`, or a width of one of its layers, was written in the spec (kernels ignore a
     *  defaulted width; see admission). */
    uint64_t width_given;
    /** The spectral readout (`"spectrum": {"n": N}`, docs/spectrum.md): 0 when not asked for, else N, the
     *  training points of repeat 0 whose Gram every kernel arm eigendecomposes (the largest n_train of the spec
     *  when `n` is not given). */
    size_t spectrum_n;
    int spectrum_n_given;        /**< `spectrum.n` was written in the spec (admission's messages) */
} dml_spec;

/** Parse and resolve a spec from a JSON tree (see dml_json_parse for the text).
 *  With a `data_root`, every data `path` is resolved inside it (dml_data_resolve), the IDX headers are read
 *  (dml_idx_probe) and `resize` is checked against the real image side (whether the models' windows fit the
 *  images and the data holds n_train and n_test images is admission's, after the limits). With data_root NULL no file is touched: paths are kept as written and checks that need the
 *  images are skipped (for reading the checks of a stored resolved spec). Returns 0 and fills `out` (free with
 *  dml_spec_free), or -1 with DML_ERR_INVALID_SPEC and the field path in err->field (e.g. "models[1].filter")
 *  for unknown fields, wrong types, out-of-range or not yet supported values. Limits are not checked here. */
int dml_spec_from_json(const cJSON *root, const char *data_root, dml_spec *out, dml_error *err);

/** dml_json_parse of `len` bytes of text (not NUL-terminated), then dml_spec_from_json. Errors as those two
 *  (DML_ERR_INVALID_JSON for text that is not one JSON value, DML_ERR_INVALID_SPEC for \u0000 in a string). */
int dml_spec_parse(const char *text, size_t len, const char *data_root, dml_spec *out, dml_error *err);

/** The field path of entry `i` of a spec part ("data", "models" or "inference") with an optional key:
 *  "models[1].width", or "models.width" when the part was one object. Writes into out[size], returns out. */
const char *dml_spec_field(const dml_spec *s, const char *part, int i, const char *key, char *out, size_t size);

/** The spec with every default filled in, as JSON (caller frees with cJSON_Delete). It parses back to the
 *  same dml_spec. A training method's `lr` is a number, or {"ntk": a, "standard": b} when it trains models of
 *  both parameterizations without an lr of its own. */
cJSON *dml_spec_resolved_json(const dml_spec *s);

/** Number of points of the full grid: sum over data variants of sizes, times models, inference and repeats. */
size_t dml_spec_points(const dml_spec *s);

/** Training points a unit of data variant d and repeat `repeat` loads: the largest n_train, or in repeat 0 of a
 *  spec with kernel arms and a spectrum on more points, spectrum_n (the spectrum's Gram is computed on them). */
size_t dml_unit_train_points(const dml_spec *s, int d, int repeat);

void dml_spec_free(dml_spec *s);

#endif
