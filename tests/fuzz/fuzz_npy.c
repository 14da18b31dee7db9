/* Fuzzer of the .npy reader (core/data/npy.c): dml_npy_load_memory on mutated files, and every 16th input
 * also through a file with dml_npy_read_header and dml_npy_read, built with AddressSanitizer and UBSan
 * (tests/meson.build). Seeds: the .npy files of the seed directories plus built-in headers. Mutations: the
 * common byte and token mutations plus npy-aware ones (header length bytes, version bytes, dtype strings,
 * shape numbers). Invariants: a failure names a code and a message and returns no values; an accepted array
 * has a consistent header (count = product of the shape, file size = data_offset + data_bytes) and finite
 * values; the file reader agrees with the in-memory one (same header, same values, bit for bit).
 * usage: fuzz_npy SECONDS [SEED_DIR...]   (FUZZ_SEED=N changes the random sequence)
 * A crash or a broken invariant writes the input to fuzz-npy-crash.npy in the working directory. */
#include <math.h>

#include "dmilab/npy.h"
#include "fuzz_common.h"

/* A file of format `version` with `header` and `ndata` bytes of a repeating pattern after it. */
static void add_built(fz_corpus *c, int version, const char *header, size_t ndata)
{
    char buf[4096];
    size_t pre = version == 1 ? 10 : 12, hl = strlen(header) + 1;
    while ((pre + hl) % 64) hl++;
    if (pre + hl + ndata > sizeof buf) return;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (char)version;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (char)(hl >> (8 * i));
    memset(buf + pre, ' ', hl);
    memcpy(buf + pre, header, strlen(header));
    buf[pre + hl - 1] = '\n';
    for (size_t i = 0; i < ndata; i++) buf[pre + hl + i] = (char)(i * 37 + 11);
    fz_add(c, buf, pre + hl + ndata);
}

static const char *const npy_tokens[] = {
    "'descr'", "'fortran_order'", "'shape'", "'<f8'", "'>f8'", "'<f4'", "'>f4'", "'|u1'", "'|i1'", "'<i8'",
    "'>u8'", "'<i2'", "'>u4'", "'|O'", "'<O8'", "'<f2'", "'|b1'", "'<c16'", "'<U3'", "[('a', '<f4')]", "True",
    "False", "(", ")", ",", ":", "{", "}", "'", "\"", "L", "0", "1", "-1", "65535", "4294967296",
    "18446744073709551615", "18446744073709551616", "2305843009213693952", "(1,1,1,1,1,1,1,1,1)", "()", "(0,)",
    "\n", " ", "\\",
};
#define NPY_NTOKENS (sizeof npy_tokens / sizeof npy_tokens[0])

/* npy-aware mutations in place (buffer b of length *len, capacity cap). */
static void npy_mutate(char *b, size_t *len, size_t cap)
{
    switch (fz_below(5)) {
    case 0: /* the header length bytes */
        if (*len >= 12) b[8 + fz_below(4)] = (char)fz_rand();
        break;
    case 1: /* the version bytes */
        if (*len >= 8) b[6 + fz_below(2)] = (char)fz_below(5);
        break;
    case 2: { /* insert an npy token inside the header region */
        const char *t = npy_tokens[fz_below(NPY_NTOKENS)];
        size_t k = strlen(t), at = 10 + fz_below(*len > 10 ? (*len - 10 < 128 ? *len - 10 : 128) + 1 : 1);
        if (at > *len || *len + k >= cap) break;
        memmove(b + at + k, b + at, *len - at);
        memcpy(b + at, t, k);
        *len += k;
        break;
    }
    case 3: { /* a digit of the header changed */
        for (int tries = 0; tries < 16 && *len > 10; tries++) {
            size_t at = 10 + fz_below(*len - 10 < 128 ? *len - 10 : 128);
            if (at < *len && b[at] >= '0' && b[at] <= '9') {
                b[at] = (char)('0' + fz_below(10));
                break;
            }
        }
        break;
    }
    default: /* drop or duplicate the tail: lying sizes */
        if (*len && fz_below(2)) *len -= 1 + fz_below(*len < 16 ? *len : 16);
        else if (*len + 8 < cap) {
            memset(b + *len, 0, 8);
            *len += 1 + fz_below(8);
        }
        break;
    }
}

static int same_values(const double *a, const double *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_npy SECONDS [SEED_DIR...]\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    if (getenv("FUZZ_SEED")) fz_state = strtoull(getenv("FUZZ_SEED"), NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
    fz_watch("fuzz_npy", "fuzz-npy-crash.npy");
    fz_corpus c = {0};
    add_built(&c, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48);
    add_built(&c, 2, "{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", 12);
    add_built(&c, 3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2, 1), }", 8);
    add_built(&c, 1, "{\"descr\": \"<u8\", \"fortran_order\": False, \"shape\": (2L,)}", 16);
    add_built(&c, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4);
    int from_dirs = 0;
    for (int i = 2; i < argc; i++) from_dirs += fz_add_dir_ext(&c, argv[i], ".npy");
    char path[64];
    snprintf(path, sizeof path, "fuzz-npy-%d.npy", (int)getpid());
    double t0 = fz_now();
    long runs = 0, accepted = 0, through_files = 0;
    size_t seeds = c.n;
    while (fz_now() - t0 < seconds) {
        for (int inner = 0; inner < 64; inner++) {
            char *buf;
            size_t len;
            if (fz_next(&c, runs, seeds, &buf, &len, 1 << 16)) {
                size_t cap = len + 4096;
                buf = realloc(buf, cap);
                int k = (int)fz_below(4);
                for (int j = 0; j < k; j++) npy_mutate(buf, &len, cap);
            }
            fz_current = buf;
            fz_current_len = len;
            /* an allocation of exactly len bytes, so that AddressSanitizer sees any read past the end */
            char *exact = malloc(len ? len : 1);
            memcpy(exact, buf, len);
            dml_npy_header h;
            double *v = (double *)&h;   /* must be reset to NULL on failure */
            dml_error err;
            dml_error_clear(&err);
            int rc = dml_npy_load_memory(exact, len, &h, &v, &err);
            free(exact);
            runs++;
            if (rc != 0) {
                if (err.code == DML_OK || !err.message[0] || v != NULL) {
                    fz_save("a refused array without an error code, a message, or with values");
                    return 1;
                }
            } else {
                accepted++;
                size_t count = 1;
                for (int i = 0; i < h.ndim; i++) count *= h.shape[i];
                int finite = 1;
                for (size_t i = 0; i < h.count; i++) finite &= isfinite(v[i]);
                if (count != h.count || h.data_offset + h.data_bytes != len ||
                    h.data_bytes != h.count * dml_npy_itemsize(h.dtype) || !finite) {
                    fz_save("an accepted array with an inconsistent header or non-finite values");
                    return 1;
                }
                dml_shape s;
                size_t n;
                (void)dml_npy_input_shape(&h, &s, &n, &err);
                if (h.ndim == 1) {   /* count == shape[0]: bounded by the input's size */
                    int *labels = malloc(sizeof *labels * (h.count + 1)), m;
                    (void)dml_npy_labels(&h, v, labels, &m, &err);
                    free(labels);
                }
                if (c.n < 4096 && fz_below(8) == 0) fz_add(&c, buf, len);
            }
            if (runs % 16 == 0) {
                /* the file reader must agree with the in-memory reader */
                through_files++;
                FILE *f = fopen(path, "wb");
                if (f) {
                    fwrite(buf, 1, len, f);
                    fclose(f);
                }
                dml_npy_header hf, hh;
                double *vf = NULL;
                dml_error ef;
                dml_error_clear(&ef);
                int rf = dml_npy_read(path, &hf, &vf, &ef);
                int rh = dml_npy_read_header(path, &hh, &ef);
                int agree = rf == rc && (rc != 0 || (!memcmp(&hf, &h, sizeof h) && same_values(vf, v, h.count)));
                /* the header check passes on every accepted file; a refused one may fail only in its values */
                agree &= rc != 0 ? 1 : rh == 0;
                if (!agree) {
                    fz_save("the file reader disagrees with the in-memory reader");
                    return 1;
                }
                free(vf);
            }
            free(v);
            free(buf);
        }
    }
    unlink(path);
    printf("fuzz_npy: %ld inputs in %.1f s (%zu seeds, %d from files), %ld accepted, %ld also through a file; "
           "corpus %zu\n",
           runs, fz_now() - t0, seeds, from_dirs, accepted, through_files, c.n);
    fflush(stdout);
    for (size_t i = 0; i < c.n; i++) free(c.v[i].data);
    free(c.v);
    return 0;
}
