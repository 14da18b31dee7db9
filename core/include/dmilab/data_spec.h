/* dmilab: one data variant (D) of the experiment spec (DESIGN section 3, docs/data.md): its limits, its enums
 * (source, subset, transform) with their API names, and the parsed dml_data_spec with its input shape and outputs. */
#ifndef DMILAB_DATA_SPEC_H
#define DMILAB_DATA_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/enum.h"
#include "dmilab/model.h"
#include "dmilab/synthetic.h"

#define DML_PATH_MAX 1024       /**< bytes of a data path, canonical or as written, with the NUL */
#define DML_MAX_SIZES 64        /**< training-set sizes (n_train) of one data variant */
#define DML_MAX_TRANSFORMS 8    /**< input transforms of one data variant */

/* The data enums and their API names, each from one X-macro list X(id, "name"). */
#define DML_SOURCES(X) X(DML_SRC_FASHION_MNIST, "fashion-mnist") X(DML_SRC_MNIST, "mnist") X(DML_SRC_NPY, "npy") \
    X(DML_SRC_SPHERE, "sphere") X(DML_SRC_GAUSSIAN, "gaussian")
#define DML_SUBSETS(X) X(DML_SUBSET_RANDOM, "random") X(DML_SUBSET_HEAD, "head")
#define DML_TRANSFORMS(X)                                                                                    \
    X(DML_TF_ORTHOGONAL, "orthogonal") X(DML_TF_PERMUTATION, "permutation")                                  \
    X(DML_TF_LOCAL_ORTHOGONAL, "local-orthogonal") X(DML_TF_CHANNEL_ORTHOGONAL, "channel-orthogonal")        \
    X(DML_TF_TRANSLATION, "translation") X(DML_TF_SIGNED_PERMUTATION, "signed-permutation")

typedef enum { DML_SOURCES(DML_ENUM_ID) } dml_source;
enum { DML_N_SOURCES = 0 DML_SOURCES(DML_ENUM_COUNT) };
typedef enum { DML_SUBSETS(DML_ENUM_ID) } dml_subset;
enum { DML_N_SUBSETS = 0 DML_SUBSETS(DML_ENUM_COUNT) };
typedef enum { DML_TRANSFORMS(DML_ENUM_ID) } dml_transform_kind;
enum { DML_N_TRANSFORMS = 0 DML_TRANSFORMS(DML_ENUM_COUNT) };

/** API names of the enums above ("fashion-mnist", "head", "translation"); "?" outside the enum. */
const char *dml_source_name(dml_source s);
const char *dml_subset_name(dml_subset s);
const char *dml_transform_name(dml_transform_kind k);

/** One input transform (DESIGN 2.2), applied after preprocessing to train and test alike. */
typedef struct {
    dml_transform_kind kind;
    uint64_t seed;
    int per_example;             /**< translation only: each input its own shift (dml_translate_each) */
    int max_shift;               /**< per_example: shifts uniform over -max_shift..max_shift; 0 = every shift */
} dml_transform;

/** Nonzero for the IDX sources (fashion-mnist, mnist), which read a directory of four IDX files. */
static inline int dml_source_is_idx(dml_source s) { return s == DML_SRC_FASHION_MNIST || s == DML_SRC_MNIST; }
/** Nonzero for the synthetic sources (sphere, gaussian). */
static inline int dml_source_is_synthetic(dml_source s) { return s == DML_SRC_SPHERE || s == DML_SRC_GAUSSIAN; }

/** The four arrays of an `npy` source, in the order x_train, y_train, x_test, y_test. */
enum { DML_NPY_X_TRAIN, DML_NPY_Y_TRAIN, DML_NPY_X_TEST, DML_NPY_Y_TEST, DML_NPY_FILES };
extern const char *const dml_npy_file_fields[DML_NPY_FILES];   /**< "x_train", "y_train", "x_test", "y_test" */

/** One data variant (D). */
typedef struct {
    char name[DML_NAME_MAX];
    dml_source source;
    char path[DML_PATH_MAX];     /**< IDX sources: canonical directory of the IDX files, inside the data root */
    char npy[DML_NPY_FILES][DML_PATH_MAX];   /**< npy: the four files (canonical when parsed with a data root) */
    /** npy: the x arrays as read from the headers at parsing (0 without file access): shape (before `resize`),
     *  dtype uint8 (divided by 255) or not; y: labels (integer dtype) or regression targets of y_outputs. */
    dml_shape npy_shape;
    int npy_uint8;
    int npy_labels;              /**< 1: integer y (classification, one-hot minus 0.1); 0: float targets */
    int standardize;             /**< per-example standardization (IDX always; npy (n, H, W, C) images by default) */
    dml_synthetic syn;           /**< sphere, gaussian: input shape, target, noise */
    int outputs;                 /**< k outputs: classes, the labels' range, the targets' columns or target.outputs */
    int rows, cols;              /**< the image side read from the IDX headers at parsing (0 when parsed without
                                      file access); `resize` divides both */
    size_t train_images, test_images;   /**< images in the train and t10k files (0 without file access) */
    int resize;                  /**< average-pooling factor, divides the image side */
    size_t n_train[DML_MAX_SIZES];
    int nn_train;                /**< sizes, strictly increasing after parsing (sorted, deduplicated) */
    size_t n_test;
    dml_subset subset;
    int classes;                 /**< k classes kept (labels 0..k-1); 0 = all (labelled sources only) */
    dml_transform transform[DML_MAX_TRANSFORMS];
    int ntransform;
} dml_data_spec;

/** The input shape the models see for a data variant: IDX (rows/resize, cols/resize) positions of 1 channel
 *  (DESIGN section 3: average pooling by `resize`); npy the x arrays' shape, (H/resize, W/resize, C) for images;
 *  synthetic its `shape`. The one place this shape is computed. */
dml_shape dml_data_shape(const dml_data_spec *d);

/** The number of outputs k of a data variant: `classes`, or 10 for IDX sources; for npy `classes`, or one more
 *  than the largest training label, or the columns of float targets; synthetic: target.outputs. */
int dml_data_outputs(const dml_data_spec *d);

#endif
