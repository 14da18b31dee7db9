/* dmilab: data (D): IDX files, preprocessing (DESIGN section 3), subsets and transforms. */
#ifndef DMILAB_DATA_H
#define DMILAB_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

/* ---- the data root: the one way the core opens a file a spec names ---- */

typedef enum { DML_PATH_DIR, DML_PATH_FILE } dml_path_kind;

/** Resolve `path`, a directory or regular file (`kind`) named by a spec, inside the data root `root`
 *  (relative paths are relative to the root): every symbolic link is followed, and the canonical result
 *  must lie inside the canonical root. Writes the canonical path into out[out_size] and returns 0, or -1
 *  with DML_ERR_INVALID_SPEC naming `field` (may be NULL):
 *    - "<path> is not a readable path inside the data root <root>" for a path that resolves outside the root,
 *      whether or not it exists there (the message never tells whether a file outside the root exists; a
 *      dangling link inside the root gets it too, as its target could be anywhere),
 *    - "<path> does not exist" only when the deepest existing ancestor lies inside the root,
 *    - "<path> is not a directory" / "is not a regular file" for the wrong kind,
 *    - "the data root <root> does not exist".
 *  DESIGN section 3: "the server never reads files a spec names elsewhere". */
int dml_data_resolve(const char *root, const char *path, dml_path_kind kind, const char *field, char *out,
                     size_t out_size, dml_error *err);

/** Open a regular file for reading, inside the data root: dml_data_resolve(DML_PATH_FILE), then open, then the
 *  same check on the file that was opened (its /proc/self/fd link), so that a link swapped in between cannot
 *  leave the root; opened non-blocking and switched back, so a FIFO cannot stall the caller. Every reader of
 *  data files (IDX here, npy) opens through this function. Returns the file descriptor (the caller closes it)
 *  with the canonical path in resolved[resolved_size] (may be NULL), or -1 with err as dml_data_resolve. */
int dml_data_open(const char *root, const char *path, const char *field, char *resolved, size_t resolved_size,
                  dml_error *err);

/* ---- IDX files (MNIST / Fashion-MNIST) ---- */

#define DML_DATA_PATH_MAX 4096
#define DML_DATA_SHA256_HEX 65

/** Raw uint8 images and labels of one IDX split. images: n x rows x cols, row-major. Each file's canonical
 *  path and the SHA-256 (lower-case hex) of the very bytes that were read from it, compressed as stored. */
typedef struct {
    size_t n;
    int rows, cols;
    uint8_t *images;
    uint8_t *labels;
    char images_path[DML_DATA_PATH_MAX], labels_path[DML_DATA_PATH_MAX];
    char images_sha256[DML_DATA_SHA256_HEX], labels_sha256[DML_DATA_SHA256_HEX];
} dml_idx_split;

/** The headers of one split, read without the pixels: image count and side, label count (equal). */
typedef struct {
    size_t n;
    int rows, cols;
} dml_idx_info;

/** The file names of a split: `<prefix>-images-idx3-ubyte.gz` and `<prefix>-labels-idx1-ubyte.gz`
 *  (prefix "train" or "t10k"), written into out[size]. */
void dml_idx_file_name(const char *prefix, int labels, char *out, size_t size);

/** Read an IDX3 uint8 image file (gzip-compressed or plain) opened through dml_data_open(root, path).
 *  Fills n, rows, cols, a malloc'd `images` (n*rows*cols bytes), images_path and images_sha256 and returns 0;
 *  -1 with DML_ERR_IO naming `path` when the file is truncated or not IDX3 uint8 (DML_ERR_INVALID_SPEC from
 *  dml_data_open when it is missing or outside the root). */
int dml_idx_read_images(const char *root, const char *path, dml_idx_split *out, dml_error *err);
/** Read an IDX1 uint8 label file into out->labels (n bytes), labels_path and labels_sha256; -1 as above,
 *  or when its count differs from out->n (if images were read first, out->n != 0). */
int dml_idx_read_labels(const char *root, const char *path, dml_idx_split *out, dml_error *err);
/** Read both files of a split from directory `dir`. */
int dml_idx_read_split(const char *root, const char *dir, const char *prefix, dml_idx_split *out, dml_error *err);
void dml_idx_free(dml_idx_split *s);

/** Read only the headers of a split's two files in `dir` (inside the root); a file's header is remembered while the
 *  file is the same (device, inode, size, modification time), so repeated submissions do not read it again.
 *  Returns 0, or -1 with
 *  DML_ERR_INVALID_SPEC naming `field`: a file missing or outside the root (dml_data_open), not IDX uint8 of
 *  the right rank, implausible sizes, or label and image counts that differ. */
int dml_idx_probe(const char *root, const char *dir, const char *prefix, const char *field, dml_idx_info *info,
                  dml_error *err);

/** The process-wide cache of IDX splits. Each call opens the split's two files through dml_data_open and
 *  reuses a cached split only when both files are still the same (device, inode, size and modification time
 *  of the opened files); otherwise it reads them again, so a replaced file is never served from the cache and
 *  a removed one is an error. The split is read-only and stays valid until dml_idx_release; an old version
 *  is freed when its last user releases it. Thread-safe. Returns NULL with `err` set when a file is missing
 *  or unreadable. */
const dml_idx_split *dml_idx_acquire(const char *root, const char *dir, const char *prefix, dml_error *err);
/** Release a split of dml_idx_acquire (NULL is ignored). */
void dml_idx_release(const dml_idx_split *s);

/** Real-image preprocessing of DESIGN section 3, in double precision:
 *  value/255, average pooling over resize x resize blocks, then per-example standardization
 *  (subtract the image mean, divide by the population standard deviation of its own pixels;
 *  an image with zero deviation becomes all zeros).
 *  img: rows x cols uint8, row-major. resize must divide rows and cols.
 *  out: (rows/resize) x (cols/resize) doubles, row-major (the layout of a (H, W, 1) input). */
void dml_preprocess_image(const uint8_t *img, int rows, int cols, int resize, double *out);

/** Per-example standardization of n numbers in place, as dml_preprocess_image does it: subtract their mean,
 *  divide by their population standard deviation; numbers that are all equal become zeros. */
void dml_standardize(double *x, size_t n);

/** Average pooling of one (rows, cols, channels) image (row-major, channel fastest) over resize x resize blocks
 *  per channel, in the order of dml_preprocess_image (each value divided by 255 first when u8), into
 *  out: (rows/resize, cols/resize, channels). resize must divide rows and cols. */
void dml_pool_image(const double *img, int rows, int cols, int channels, int resize, int u8, double *out);

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
