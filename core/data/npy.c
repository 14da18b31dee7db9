/* NumPy .npy reader: header parsing (versions 1-3), size checks, and conversion of every supported dtype and
 * byte order to doubles. Hostile files are errors, never a crash: all sizes are checked before use. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dmilab/npy.h"
#include "dmilab/sha256.h"

static const char *const dtype_names[] = {"int8",  "int16",  "int32",  "int64",   "uint8",
                                          "uint16", "uint32", "uint64", "float32", "float64"};
static const size_t dtype_size[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};

const char *dml_npy_dtype_name(dml_npy_dtype t) { return (unsigned)t <= DML_NPY_FLOAT64 ? dtype_names[t] : "?"; }
size_t dml_npy_itemsize(dml_npy_dtype t) { return (unsigned)t <= DML_NPY_FLOAT64 ? dtype_size[t] : 0; }
int dml_npy_is_integer(dml_npy_dtype t) { return t <= DML_NPY_UINT64; }

/* ---- the header: a Python dict literal ---- */

typedef struct {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

/* Consume `ch` after optional spaces; 1 if it was there. */
static int eat(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string of printable ASCII without escapes ('...' or "..."), copied into out (at most cap - 1 bytes):
 * every key and dtype numpy writes, and safe to quote in an error message. */
static int string_literal(cursor *c, char *out, size_t cap)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    char q = *c->p++;
    size_t k = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p < 0x20 || *c->p > 0x7e || k + 1 >= cap) return -1;
        out[k++] = *c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[k] = 0;
    return 0;
}

/* A word of letters (True, False). */
static int word(cursor *c, char *out, size_t cap)
{
    skip_space(c);
    size_t k = 0;
    while (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z'))) {
        if (k + 1 >= cap) return -1;
        out[k++] = *c->p++;
    }
    out[k] = 0;
    return k ? 0 : -1;
}

/* A non-negative decimal integer that fits size_t (Python 2 numpy wrote a trailing L). 0, -1 bad, -2 overflow. */
static int dimension(cursor *c, size_t *v)
{
    skip_space(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
    size_t x = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        size_t d = (size_t)(*c->p++ - '0');
        if (x > (SIZE_MAX - d) / 10) return -2;
        x = x * 10 + d;
    }
    if (c->p < c->end && *c->p == 'L') c->p++;
    *v = x;
    return 0;
}

static int bad(dml_error *err, const char *what)
{
    return dml_fail(err, DML_ERR_IO, NULL, "not a valid .npy file: %s", what);
}

static int parse_descr(const char *d, dml_npy_header *h, dml_error *err)
{
    char order = d[0];
    const char *t = d;
    if (order == '<' || order == '>' || order == '|' || order == '=') t++;
    else order = 0;
    if (t[0] == 'O')
        return dml_fail(err, DML_ERR_IO, NULL, "object arrays ('%s': pickled Python objects) are not supported", d);
    static const struct {
        const char *code;
        dml_npy_dtype type;
    } codes[] = {{"i1", DML_NPY_INT8},   {"i2", DML_NPY_INT16},  {"i4", DML_NPY_INT32},   {"i8", DML_NPY_INT64},
                 {"u1", DML_NPY_UINT8},  {"u2", DML_NPY_UINT16}, {"u4", DML_NPY_UINT32},  {"u8", DML_NPY_UINT64},
                 {"f4", DML_NPY_FLOAT32}, {"f8", DML_NPY_FLOAT64}};
    int found = -1;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (!strcmp(t, codes[i].code)) found = (int)codes[i].type;
    if (found < 0)
        return dml_fail(err, DML_ERR_IO, NULL,
                        "dtype '%s' is not supported (int8..int64, uint8..uint64, float32, float64 are)", d);
    h->dtype = (dml_npy_dtype)found;
    size_t sz = dtype_size[found];
    if (order == 0 || order == '=')
        return dml_fail(err, DML_ERR_IO, NULL, "dtype '%s' must start with a byte order '<', '>' or '|'", d);
    if (order == '|' && sz > 1)
        return dml_fail(err, DML_ERR_IO, NULL, "dtype '%s': '|' (no byte order) is only for 1-byte types", d);
    h->big_endian = order == '>' && sz > 1;
    return 0;
}

static int parse_dict(cursor *c, dml_npy_header *h, dml_error *err)
{
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!eat(c, '{')) return bad(err, "the header is not a dict");
    for (;;) {
        if (eat(c, '}')) break;
        char key[32], val[64];
        if (string_literal(c, key, sizeof key) || !eat(c, ':')) return bad(err, "a header key is malformed");
        if (!strcmp(key, "descr")) {
            if (have_descr++) return bad(err, "'descr' appears twice");
            skip_space(c);
            if (c->p < c->end && *c->p == '[')
                return dml_fail(err, DML_ERR_IO, NULL, "structured dtypes (a list 'descr') are not supported");
            if (string_literal(c, val, sizeof val)) return bad(err, "'descr' is not a dtype string");
            if (parse_descr(val, h, err)) return -1;
        } else if (!strcmp(key, "fortran_order")) {
            if (have_order++) return bad(err, "'fortran_order' appears twice");
            if (word(c, val, sizeof val)) return bad(err, "'fortran_order' is not True or False");
            if (!strcmp(val, "True"))
                return dml_fail(err, DML_ERR_IO, NULL,
                                "Fortran-order arrays are not supported: save a C-order array "
                                "(numpy.ascontiguousarray)");
            if (strcmp(val, "False")) return bad(err, "'fortran_order' is not True or False");
        } else if (!strcmp(key, "shape")) {
            if (have_shape++) return bad(err, "'shape' appears twice");
            if (!eat(c, '(')) return bad(err, "'shape' is not a tuple");
            h->ndim = 0;
            while (!eat(c, ')')) {
                if (h->ndim == DML_NPY_MAX_DIMS)
                    return dml_fail(err, DML_ERR_IO, NULL, "arrays of more than %d axes are not supported",
                                    DML_NPY_MAX_DIMS);
                int rc = dimension(c, &h->shape[h->ndim]);
                if (rc == -2) return dml_fail(err, DML_ERR_IO, NULL, "a dimension of the shape overflows");
                if (rc) return bad(err, "'shape' holds something other than non-negative integers");
                h->ndim++;
                if (!eat(c, ',')) {
                    if (!eat(c, ')')) return bad(err, "'shape' is malformed");
                    break;
                }
            }
        } else {
            return dml_fail(err, DML_ERR_IO, NULL, "not a valid .npy file: unknown header key '%s'", key);
        }
        if (!eat(c, ',')) {
            if (!eat(c, '}')) return bad(err, "the header dict is malformed");
            break;
        }
    }
    skip_space(c);
    if (c->p != c->end) return bad(err, "text after the header dict");
    if (!have_descr || !have_order || !have_shape)
        return bad(err, "the header lacks one of 'descr', 'fortran_order', 'shape'");
    return 0;
}

/* Magic, version and header length: the header is bytes [start, start + hl) of the file. */
static int header_extent(const unsigned char *b, size_t len, int *version, size_t *start, size_t *hl, dml_error *err)
{
    if (len < 10) return bad(err, "shorter than the npy prefix");
    if (memcmp(b, "\x93NUMPY", 6)) return bad(err, "no \\x93NUMPY magic");
    if ((b[6] != 1 && b[6] != 2 && b[6] != 3) || b[7] != 0)
        return dml_fail(err, DML_ERR_IO, NULL, "npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)", b[6],
                        b[7]);
    *version = b[6];
    if (*version == 1) {
        *hl = (size_t)b[8] | (size_t)b[9] << 8;
        *start = 10;
    } else {
        if (len < 12) return bad(err, "shorter than the npy prefix");
        *hl = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        *start = 12;
    }
    if (*hl > DML_NPY_MAX_HEADER)
        return dml_fail(err, DML_ERR_IO, NULL, "the npy header claims %zu bytes (at most %u accepted)", *hl,
                        DML_NPY_MAX_HEADER);
    return 0;
}

int dml_npy_parse_header(const void *buf, size_t len, dml_npy_header *h, dml_error *err)
{
    const unsigned char *b = buf;
    memset(h, 0, sizeof *h);
    size_t hl, start;
    if (header_extent(b, len, &h->version, &start, &hl, err)) return -1;
    if (len < start + hl) return bad(err, "truncated header");
    cursor c = {(const char *)b + start, (const char *)b + start + hl};
    if (parse_dict(&c, h, err)) return -1;
    size_t count = 1, sz = dtype_size[h->dtype];
    for (int i = 0; i < h->ndim; i++) {
        if (h->shape[i] && count > SIZE_MAX / h->shape[i])
            return dml_fail(err, DML_ERR_IO, NULL, "the shape's size overflows");
        count *= h->shape[i];
    }
    if (count > (SIZE_MAX - start - hl) / sz) return dml_fail(err, DML_ERR_IO, NULL, "the shape's size overflows");
    h->count = count;
    h->data_offset = start + hl;
    h->data_bytes = count * sz;
    return 0;
}

/* The file size must be exactly the header plus the array. */
static int check_size(const dml_npy_header *h, size_t file_size, const char *path, dml_error *err)
{
    size_t want = h->data_offset + h->data_bytes;
    if (file_size < want)
        return dml_fail(err, DML_ERR_IO, NULL, "%s is truncated: %zu bytes, its shape and dtype need %zu", path,
                        file_size, want);
    if (file_size > want)
        return dml_fail(err, DML_ERR_IO, NULL, "%s has %zu bytes, but its shape and dtype account for %zu", path,
                        file_size, want);
    return 0;
}

/* ---- values ---- */

static uint64_t load(const unsigned char *p, size_t sz, int big)
{
    uint64_t v = 0;
    for (size_t i = 0; i < sz; i++) v |= (uint64_t)p[big ? i : sz - 1 - i] << (8 * (sz - 1 - i));
    return v;
}

/* Values first..first+n of the array, whose bytes start at data. */
static int decode(const dml_npy_header *h, const void *data, size_t first, size_t n, double *out, dml_error *err)
{
    const unsigned char *p = data;
    size_t sz = dtype_size[h->dtype];
    int big = h->big_endian;
    const uint64_t exact = (uint64_t)1 << 53;
    for (size_t i = first; i < first + n; i++, p += sz) {
        uint64_t u = load(p, sz, big);
        double v;
        switch (h->dtype) {
        case DML_NPY_INT8: v = (int8_t)u; break;
        case DML_NPY_INT16: v = (int16_t)u; break;
        case DML_NPY_INT32: v = (int32_t)u; break;
        case DML_NPY_INT64: {
            int64_t s = (int64_t)u;
            if (s > (int64_t)exact || s < -(int64_t)exact)
                return dml_fail(err, DML_ERR_IO, NULL, "value %zu (%lld) is beyond 2^53: not exact as a double", i,
                                (long long)s);
            v = (double)s;
            break;
        }
        case DML_NPY_UINT8:
        case DML_NPY_UINT16:
        case DML_NPY_UINT32: v = (double)u; break;
        case DML_NPY_UINT64:
            if (u > exact)
                return dml_fail(err, DML_ERR_IO, NULL, "value %zu (%llu) is beyond 2^53: not exact as a double", i,
                                (unsigned long long)u);
            v = (double)u;
            break;
        case DML_NPY_FLOAT32: {
            uint32_t w = (uint32_t)u;
            float f;
            memcpy(&f, &w, sizeof f);
            v = f;
            break;
        }
        default: memcpy(&v, &u, sizeof v); break;
        }
        if (!isfinite(v)) return dml_fail(err, DML_ERR_IO, NULL, "value %zu is %s", i, isnan(v) ? "NaN" : "infinite");
        out[i - first] = v;
    }
    return 0;
}

int dml_npy_decode(const dml_npy_header *h, const void *data, double *out, dml_error *err)
{
    return decode(h, data, 0, h->count, out, err);
}

/* Put `path: ` in front of err's message. */
static void name_path(dml_error *err, const char *path)
{
    if (!err) return;
    char msg[sizeof err->message];
    snprintf(msg, sizeof msg, "%.200s: %.300s", path, err->message);
    memcpy(err->message, msg, sizeof msg);
}

static double *alloc_values(size_t count, dml_error *err)
{
    double *v = count <= SIZE_MAX / sizeof(double) - 1 ? malloc(sizeof *v * (count + 1)) : NULL;
    if (!v) dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for %zu values", count);
    return v;
}

int dml_npy_load_memory(const void *buf, size_t len, dml_npy_header *h, double **values, dml_error *err)
{
    *values = NULL;
    if (dml_npy_parse_header(buf, len, h, err) || check_size(h, len, "the array", err)) return -1;
    double *v = alloc_values(h->count, err);
    if (!v) return -1;
    if (dml_npy_decode(h, (const unsigned char *)buf + h->data_offset, v, err)) {
        free(v);
        return -1;
    }
    *values = v;
    return 0;
}

/* Read and parse the header of the open stream f (named `path` in messages), check the size; the header's bytes
 * go into `sha` when given. Leaves the stream at the data. Returns 0, or -1 with err (f stays open). */
static int read_npy_header(FILE *f, const char *path, dml_npy_header *h, dml_sha256 *sha, dml_error *err)
{
    struct stat st;
    unsigned char pre[12], *head = NULL;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
        return dml_fail(err, DML_ERR_IO, NULL, "%s is not a regular file", path);
    /* the header's extent from the prefix, bounded (DML_NPY_MAX_HEADER) before anything is allocated */
    size_t got = fread(pre, 1, sizeof pre, f), start, hl;
    int version;
    if (header_extent(pre, got, &version, &start, &hl, err)) {
        name_path(err, path);
        return -1;
    }
    if ((size_t)st.st_size < start + hl)
        return dml_fail(err, DML_ERR_IO, NULL, "%s is truncated: %lld bytes, shorter than its %zu-byte header", path,
                        (long long)st.st_size, start + hl);
    head = malloc(start + hl);
    if (!head) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    memcpy(head, pre, start);
    int rc = -1;
    if (fseek(f, (long)start, SEEK_SET) || fread(head + start, 1, hl, f) != hl) {
        dml_fail(err, DML_ERR_IO, NULL, "cannot read %s", path);
        goto out;
    }
    if (dml_npy_parse_header(head, start + hl, h, err)) {
        name_path(err, path);
        goto out;
    }
    if (check_size(h, (size_t)st.st_size, path, err)) goto out;
    if (sha && dml_sha256_update(sha, head, start + hl)) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    free(head);
    return rc;
}

/* Open path, read and parse its header, check the size. Leaves the stream at the data. */
static FILE *open_npy(const char *path, dml_npy_header *h, dml_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dml_fail(err, DML_ERR_IO, NULL, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (read_npy_header(f, path, h, NULL, err)) {
        fclose(f);
        return NULL;
    }
    return f;
}

int dml_npy_read_header(const char *path, dml_npy_header *h, dml_error *err)
{
    FILE *f = open_npy(path, h, err);
    if (!f) return -1;
    fclose(f);
    return 0;
}

/* The values of a stream left at its data by read_npy_header, converted in blocks; the bytes go into `sha`. */
static int read_values(FILE *f, const char *path, const dml_npy_header *h, dml_sha256 *sha, double **values,
                       dml_error *err)
{
    *values = NULL;
    double *v = alloc_values(h->count, err);
    size_t sz = dtype_size[h->dtype], block = (1u << 16) / sz;
    unsigned char *raw = malloc(block * sz);
    if (!v || !raw) {
        if (v && !raw) dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    for (size_t done = 0; done < h->count;) {
        size_t n = h->count - done < block ? h->count - done : block;
        if (fread(raw, sz, n, f) != n) {
            dml_fail(err, DML_ERR_IO, NULL, "%s is truncated", path);
            goto fail;
        }
        if (sha && dml_sha256_update(sha, raw, n * sz)) {
            dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
            goto fail;
        }
        if (decode(h, raw, done, n, v + done, err)) {
            name_path(err, path);
            goto fail;
        }
        done += n;
    }
    free(raw);
    *values = v;
    return 0;
fail:
    free(v);
    free(raw);
    return -1;
}

int dml_npy_read(const char *path, dml_npy_header *h, double **values, dml_error *err)
{
    *values = NULL;
    FILE *f = open_npy(path, h, err);
    if (!f) return -1;
    int rc = read_values(f, path, h, NULL, values, err);
    fclose(f);
    return rc;
}

int dml_npy_read_fd(int fd, const char *path, dml_npy_header *h, double **values, char *sha256_hex, dml_error *err)
{
    if (values) *values = NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return dml_fail(err, DML_ERR_IO, NULL, "cannot read %s: %s", path, strerror(errno));
    }
    dml_sha256 *sha = values && sha256_hex ? dml_sha256_new() : NULL;
    int rc = -1;
    if (values && sha256_hex && !sha) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (read_npy_header(f, path, h, sha, err)) goto out;
    if (values && read_values(f, path, h, sha, values, err)) goto out;
    rc = 0;
out:
    if (sha && dml_sha256_final(sha, rc ? NULL : sha256_hex)) rc = -1;
    if (rc && values) {
        free(*values);
        *values = NULL;
    }
    fclose(f);
    return rc;
}

int dml_npy_input_shape(const dml_npy_header *h, dml_shape *shape, size_t *n, dml_error *err)
{
    memset(shape, 0, sizeof *shape);
    if (h->ndim < 2 || h->ndim > 2 + DML_MAX_SPATIAL)
        return dml_fail(err, DML_ERR_IO, NULL, "inputs of %d axes: x must have shape (n, d), (n, L, C) or (n, H, W, C)",
                        h->ndim);
    for (int i = 1; i < h->ndim; i++)
        if (h->shape[i] < 1 || h->shape[i] > (size_t)1 << 30)
            return dml_fail(err, DML_ERR_IO, NULL, "axis %d of x has size %zu (1 to 2^30 accepted)", i, h->shape[i]);
    shape->nd = h->ndim - 2;
    for (int a = 0; a < shape->nd; a++) shape->size[a] = (int)h->shape[1 + a];
    shape->channels = (int)h->shape[h->ndim - 1];
    *n = h->shape[0];
    return 0;
}

int dml_npy_labels(const dml_npy_header *h, const double *values, int *labels, int *max_label, dml_error *err)
{
    if (!dml_npy_is_integer(h->dtype))
        return dml_fail(err, DML_ERR_IO, NULL, "class labels need an integer dtype, not %s",
                        dml_npy_dtype_name(h->dtype));
    if (h->ndim != 1)
        return dml_fail(err, DML_ERR_IO, NULL, "class labels need shape (n,), not %d axes", h->ndim);
    int m = -1;
    for (size_t i = 0; i < h->shape[0]; i++) {
        if (values[i] < 0 || values[i] > DML_NPY_MAX_LABEL)
            return dml_fail(err, DML_ERR_IO, NULL, "label %zu is %.0f: labels are 0..%d", i, values[i],
                            DML_NPY_MAX_LABEL);
        labels[i] = (int)values[i];
        if (labels[i] > m) m = labels[i];
    }
    *max_label = m;
    return 0;
}
