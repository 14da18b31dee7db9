/* dmilab: NumPy .npy files (format versions 1.0, 2.0, 3.0), the arrays of the `npy` data source (DESIGN 3). */
#ifndef DMILAB_NPY_H
#define DMILAB_NPY_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/error.h"
#include "dmilab/model.h"

/* The format (numpy.lib.format, NEP 1): the magic "\x93NUMPY", a major and a minor version byte, the header
 * length (uint16 little-endian in version 1.0, uint32 in 2.0 and 3.0), then the header: a Python dict literal
 * {'descr': '<f8', 'fortran_order': False, 'shape': (n, d)} padded with spaces and a newline (latin-1 text in
 * 1.0 and 2.0, UTF-8 in 3.0), then the count * itemsize bytes of the array in C order. */

#define DML_NPY_MAX_DIMS 8
#define DML_NPY_MAX_HEADER (1u << 20)   /**< longest header accepted (numpy writes well under 1 KiB) */
#define DML_NPY_MAX_LABEL 65535         /**< largest class label dml_npy_labels accepts */

/** The supported dtypes: the integers (class labels, uint8 images) and float32 / float64. */
typedef enum {
    DML_NPY_INT8, DML_NPY_INT16, DML_NPY_INT32, DML_NPY_INT64,
    DML_NPY_UINT8, DML_NPY_UINT16, DML_NPY_UINT32, DML_NPY_UINT64,
    DML_NPY_FLOAT32, DML_NPY_FLOAT64
} dml_npy_dtype;

/** A parsed header. */
typedef struct {
    int version;                      /**< major version: 1, 2 or 3 */
    dml_npy_dtype dtype;
    int big_endian;                   /**< the file's byte order ('>'); 0 for '<' and for 1-byte types ('|') */
    int ndim;                         /**< 0 (a scalar) to DML_NPY_MAX_DIMS */
    size_t shape[DML_NPY_MAX_DIMS];
    size_t count;                     /**< product of the shape (1 for a scalar) */
    size_t data_offset;               /**< bytes before the array: magic, versions, length and header */
    size_t data_bytes;                /**< count * itemsize, checked against overflow */
} dml_npy_header;

/** "int8" .. "uint64", "float32", "float64". */
const char *dml_npy_dtype_name(dml_npy_dtype t);
/** Bytes per value: 1, 2, 4 or 8. */
size_t dml_npy_itemsize(dml_npy_dtype t);
/** Nonzero for the integer dtypes. */
int dml_npy_is_integer(dml_npy_dtype t);

/** Parse the header at the start of `buf` (the first `len` bytes of a file, at least data_offset of them).
 *  Refused, with a message saying why: a bad magic or version, a header longer than the buffer or than
 *  DML_NPY_MAX_HEADER, a header that is not the dict of the three keys 'descr', 'fortran_order', 'shape'
 *  (unknown, missing or repeated keys, syntax), object arrays ('O': pickled Python objects), structured and
 *  other unsupported dtypes, a byte order other than '<', '>' or '|' ('|' for 1-byte types only),
 *  Fortran order, more than DML_NPY_MAX_DIMS axes, and shapes whose size overflows. The file size is not
 *  checked here. Returns 0, or -1 with DML_ERR_IO (err->field empty: callers name their field). */
int dml_npy_parse_header(const void *buf, size_t len, dml_npy_header *h, dml_error *err);

/** Read the header of the file `path` (an already resolved path: the caller checks that it lies inside the
 *  data root) and check the file size: exactly data_offset + data_bytes bytes, else a truncated file or
 *  one whose shape lies about its size. Reads at most the header; for validation at submission.
 *  Returns 0, or -1 with DML_ERR_IO naming the path. */
int dml_npy_read_header(const char *path, dml_npy_header *h, dml_error *err);

/** Convert the array bytes `data` (h->data_bytes of them, in the file's byte order) into h->count doubles:
 *  every supported value is exact in double except 64-bit integers beyond 2^53, which are refused, as are
 *  NaN and infinite floats (no experiment can use them). uint8 stays 0..255 (the `npy` source divides
 *  by 255 in its preprocessing). Returns 0, or -1 with DML_ERR_IO naming the index of the first bad value. */
int dml_npy_decode(const dml_npy_header *h, const void *data, double *out, dml_error *err);

/** Parse and decode a whole file held in memory (len bytes): dml_npy_parse_header, the size check of
 *  dml_npy_read_header, dml_npy_decode. *values: malloc'd h->count doubles (free with free()).
 *  Returns 0, or -1 with err (DML_ERR_IO; DML_ERR_NOMEM). */
int dml_npy_load_memory(const void *buf, size_t len, dml_npy_header *h, double **values, dml_error *err);

/** Read the file `path` (resolved as for dml_npy_read_header): the header, the size check, and the values
 *  as doubles (dml_npy_decode), converted in blocks as they are read, so memory is the values alone
 *  (at most 8 times the file size). *values: malloc'd h->count doubles. Returns 0, or -1 with err
 *  (DML_ERR_IO naming the path; DML_ERR_NOMEM). */
int dml_npy_read(const char *path, dml_npy_header *h, double **values, dml_error *err);

/** dml_npy_read_header (values NULL) or dml_npy_read on an open file descriptor (from dml_data_open, which
 *  checks the data root on the opened file), named `path` in messages. With values and sha256_hex
 *  (DML_SHA256_HEX bytes), the SHA-256 of every byte read (header and array: the whole file) is written there,
 *  for the provenance of the results. Takes ownership of fd (closed on return). Returns 0 or -1 with err. */
int dml_npy_read_fd(int fd, const char *path, dml_npy_header *h, double **values, char *sha256_hex, dml_error *err);

/** The input shape of an x array: (n, d) -> nd 0 with d channels, (n, L, C) -> 1D, (n, H, W, C) -> 2D
 *  (the layouts of dml_dataset.x: row-major, position-major, channel fastest). Sizes must fit an int.
 *  Returns 0 with *n and *shape, or -1 with DML_ERR_IO saying which shapes are accepted. */
int dml_npy_input_shape(const dml_npy_header *h, dml_shape *shape, size_t *n, dml_error *err);

/** Class labels from a y array of an integer dtype and shape (n,): labels[i] = values[i], each in
 *  0..DML_NPY_MAX_LABEL; *max_label receives the largest (-1 when n = 0). labels: h->shape[0] ints.
 *  Float y arrays are regression targets of shape (n,) or (n, k) and need no conversion.
 *  Returns 0, or -1 with DML_ERR_IO (not integer, not one axis, a negative or too large label). */
int dml_npy_labels(const dml_npy_header *h, const double *values, int *labels, int *max_label, dml_error *err);

#endif
