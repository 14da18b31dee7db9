/* dmilab: data (D): IDX files, preprocessing (DESIGN section 3), subsets and transforms. */
#ifndef DMILAB_DATA_H
#define DMILAB_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

/** Raw uint8 images and labels of one IDX split. images: n x rows x cols, row-major. */
typedef struct {
    size_t n;
    int rows, cols;
    uint8_t *images;
    uint8_t *labels;
} dml_idx_split;

/** Read an IDX3 uint8 image file (gzip-compressed or plain; zlib reads both).
 *  On success fills n, rows, cols and a malloc'd `images` (n*rows*cols bytes) and returns 0;
 *  -1 with DML_ERR_IO naming `path` when the file is missing, truncated or not IDX3 uint8. */
int dml_idx_read_images(const char *path, dml_idx_split *out, dml_error *err);
/** Read an IDX1 uint8 label file into out->labels (n bytes); -1 with DML_ERR_IO as above,
 *  or when its count differs from out->n (if images were read first, out->n != 0). */
int dml_idx_read_labels(const char *path, dml_idx_split *out, dml_error *err);
/** Read `<dir>/<prefix>-images-idx3-ubyte.gz` and `<dir>/<prefix>-labels-idx1-ubyte.gz`
 *  (prefix "train" or "t10k"). */
int dml_idx_read_split(const char *dir, const char *prefix, dml_idx_split *out, dml_error *err);
void dml_idx_free(dml_idx_split *s);

/** The process-wide cache of IDX splits: the first call for (dir, prefix) reads the files, later calls
 *  return the same read-only split. Thread-safe. The split lives until the process ends.
 *  Returns NULL with `err` set when reading fails. */
const dml_idx_split *dml_idx_cached(const char *dir, const char *prefix, dml_error *err);

/** Real-image preprocessing of DESIGN section 3, in double precision:
 *  value/255, average pooling over resize x resize blocks, then per-example standardization
 *  (subtract the image mean, divide by the population standard deviation of its own pixels;
 *  an image with zero deviation becomes all zeros).
 *  img: rows x cols uint8, row-major. resize must divide rows and cols.
 *  out: (rows/resize) x (cols/resize) doubles, row-major (the layout of a (H, W, 1) input). */
void dml_preprocess_image(const uint8_t *img, int rows, int cols, int resize, double *out);

/** Regression targets from class labels: one-hot minus 0.1. y: n x k row-major. labels in [0, k). */
void dml_one_hot(const int *labels, size_t n, int k, double *y);

/** A prepared data set: n inputs of shape `shape` (row-major (n, ...spatial, C) in `x`), targets `y`
 *  (n x k), and class labels (`label`, NULL for pure regression). */
typedef struct {
    size_t n;
    dml_shape shape;
    int k;
    double *x;
    double *y;
    int *label;
} dml_dataset;

void dml_dataset_free(dml_dataset *d);

#endif
