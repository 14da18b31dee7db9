/* The .npy reader: files written by NumPy (tests/make_npy_fixtures.py) in every supported dtype, shape, byte
 * order and format version read back exactly; arrays NumPy writes that dmilab refuses; hostile headers built
 * here (truncations at every byte, lying sizes, huge shapes, bad magic, syntax) are errors, never crashes.
 * usage: test_npy FIXTURE_DIR */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dmilab/npy.h"
#include "check.h"

static char tmpdir[] = "/tmp/dmilab-npy-XXXXXX";

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

/* One manifest line: "file version dtype big_endian ndim shape... values..." or "file error fragment". */
static void fixture(const char *dir, char *line)
{
    char *save = NULL, *name = strtok_r(line, " \n", &save), *tok = strtok_r(NULL, " \n", &save);
    if (!name || !tok) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    dml_npy_header h, hh, hm;
    double *v = NULL, *vm = NULL;
    dml_error err = {0}, em = {0};
    size_t len = 0;
    unsigned char *bytes = read_file(path, &len);
    CHECK(bytes != NULL, "%s: fixture missing", path);
    if (!bytes) return;
    int rc = dml_npy_read(path, &h, &v, &err);
    int rm = dml_npy_load_memory(bytes, len, &hm, &vm, &em);
    if (!strcmp(tok, "error")) {
        const char *fragment = save + strspn(save, " ");
        char frag[128];
        snprintf(frag, sizeof frag, "%.*s", (int)strcspn(fragment, "\n"), fragment);
        CHECK(rc == -1 && err.code == DML_ERR_IO && strstr(err.message, frag) && strstr(err.message, name),
              "%s refused with '%s' naming the file: %s", name, frag, err.message);
        CHECK(rm == -1 && em.code == DML_ERR_IO && strstr(em.message, frag), "%s refused in memory: %s", name,
              em.message);
        CHECK(v == NULL && vm == NULL, "%s: no values on error", name);
        free(bytes);
        return;
    }
    int version = atoi(tok);
    const char *dtype = strtok_r(NULL, " \n", &save);
    int big = atoi(strtok_r(NULL, " \n", &save)), ndim = atoi(strtok_r(NULL, " \n", &save));
    size_t shape[DML_NPY_MAX_DIMS], count = 1;
    for (int i = 0; i < ndim; i++) count *= shape[i] = strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
    CHECK(rc == 0, "%s: %s", name, err.message);
    CHECK(rm == 0, "%s in memory: %s", name, em.message);
    if (rc || rm) {
        free(bytes);
        return;
    }
    CHECK(h.version == version && !strcmp(dml_npy_dtype_name(h.dtype), dtype) && h.big_endian == big &&
              h.ndim == ndim && h.count == count,
          "%s: header v%d %s big %d ndim %d count %zu", name, h.version, dml_npy_dtype_name(h.dtype), h.big_endian,
          h.ndim, h.count);
    int ok = 1;
    for (int i = 0; i < ndim; i++) ok &= h.shape[i] == shape[i];
    CHECK(ok, "%s: shape", name);
    CHECK(h.data_offset + h.data_bytes == len && h.data_bytes == count * dml_npy_itemsize(h.dtype),
          "%s: sizes", name);
    CHECK(!memcmp(&h, &hm, sizeof h), "%s: the same header from memory", name);
    CHECK(dml_npy_read_header(path, &hh, &err) == 0 && !memcmp(&h, &hh, sizeof h), "%s: the header alone", name);
    if (h.version > 1) CHECK(h.data_offset % 64 == 0, "%s: numpy aligns the data at 64 bytes", name);
    size_t bad = count;
    for (size_t i = 0; i < count; i++) {
        double want = strtod(strtok_r(NULL, " \n", &save), NULL);
        /* exact, bit for bit (the sign of zero too) */
        if (memcmp(&v[i], &want, sizeof want) || memcmp(&vm[i], &want, sizeof want)) {
            if (bad == count) bad = i;
        }
    }
    CHECK(bad == count, "%s: value %zu read back exactly (%a, want another)", name, bad, bad < count ? v[bad] : 0.0);
    free(v);
    free(vm);
    free(bytes);
}

/* A .npy file in memory with the given version and header text (padded as numpy pads it) and data bytes. */
static unsigned char *make_npy(int version, const char *header, const void *data, size_t ndata, size_t *len)
{
    size_t pre = version == 1 ? 10 : 12, hl = strlen(header) + 1;
    while ((pre + hl) % 64) hl++;
    unsigned char *b = calloc(pre + hl + ndata + 1, 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)version;
    b[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) b[8 + i] = (unsigned char)(hl >> (8 * i));
    memset(b + pre, ' ', hl);
    memcpy(b + pre, header, strlen(header));
    b[pre + hl - 1] = '\n';
    if (ndata) memcpy(b + pre + hl, data, ndata);
    *len = pre + hl + ndata;
    return b;
}

/* The in-memory and the file reader both refuse `b` with a message holding `fragment`. */
static void refused(const char *what, const unsigned char *b, size_t len, const char *fragment)
{
    dml_npy_header h;
    double *v = (double *)1;
    dml_error err = {0};
    int rc = dml_npy_load_memory(b, len, &h, &v, &err);
    CHECK(rc == -1 && err.code == DML_ERR_IO && err.message[0] && (!fragment || strstr(err.message, fragment)) &&
              v == NULL,
          "%s: refused in memory (%s)", what, err.message);
    char path[256];
    snprintf(path, sizeof path, "%s/hostile.npy", tmpdir);
    write_file(path, b, len);
    dml_error e2 = {0};
    v = (double *)1;
    rc = dml_npy_read(path, &h, &v, &e2);
    CHECK(rc == -1 && e2.code == DML_ERR_IO && (!fragment || strstr(e2.message, fragment)) && v == NULL &&
              strstr(e2.message, path),
          "%s: refused from a file, naming it (%s)", what, e2.message);
    CHECK(dml_npy_read_header(path, &h, &e2) == -1, "%s: the header check refuses it too", what);
}

static void hostile(void)
{
    double data[6] = {1, 2, 3, 4, 5, 6};
    size_t len;
    const char *good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    for (int version = 1; version <= 3; version++) {
        unsigned char *b = make_npy(version, good, data, sizeof data, &len);
        dml_npy_header h;
        double *v;
        dml_error err = {0};
        CHECK(dml_npy_load_memory(b, len, &h, &v, &err) == 0 && v[5] == 6.0, "hand-made v%d file: %s", version,
              err.message);
        free(v);
        /* every truncation is an error, in memory and from a file */
        int all = 1;
        char path[256];
        snprintf(path, sizeof path, "%s/cut.npy", tmpdir);
        for (size_t cut = 0; cut < len; cut++) {
            dml_error e = {0};
            double *w = NULL;
            all &= dml_npy_load_memory(b, cut, &h, &w, &e) == -1 && e.message[0] && !w;
            write_file(path, b, cut);
            all &= dml_npy_read(path, &h, &w, &e) == -1 && e.message[0] && !w;
        }
        CHECK(all, "v%d: all %zu truncations are errors", version, len);
        /* one byte more than the shape accounts for */
        unsigned char *c = malloc(len + 1);
        memcpy(c, b, len);
        c[len] = 0;
        refused("one extra byte", c, len + 1, "account for");
        free(c);
        /* a header length past the end of the file, or beyond the limit */
        unsigned char *d = malloc(len);
        memcpy(d, b, len);
        if (version == 1) d[9] = 0xff;
        else d[11] = 0x7f;
        refused(version == 1 ? "header length past the end" : "header length beyond the limit", d, len,
                version == 1 ? "truncated" : "claims");
        free(d);
        free(b);
    }
    /* magic and versions */
    unsigned char *b = make_npy(1, good, data, sizeof data, &len);
    b[1] = 'X';
    refused("bad magic", b, len, "magic");
    b[1] = 'N';
    b[6] = 4;
    refused("version 4.0", b, len, "version 4.0");
    b[6] = 1;
    b[7] = 1;
    refused("version 1.1", b, len, "version 1.1");
    free(b);
    refused("an empty file", (const unsigned char *)"", 0, NULL);

    struct {
        const char *what, *header, *fragment;
        size_t ndata;
    } cases[] = {
        {"object dtype", "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", "object arrays", 24},
        {"Fortran order", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", "Fortran-order", 48},
        {"structured dtype", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", "structured", 12},
        {"no byte order", "{'descr': 'f8', 'fortran_order': False, 'shape': (6,), }", "byte order", 48},
        {"native '=' order", "{'descr': '=f8', 'fortran_order': False, 'shape': (6,), }", "byte order", 48},
        {"'|' on 8 bytes", "{'descr': '|f8', 'fortran_order': False, 'shape': (6,), }", "1-byte", 48},
        {"float16", "{'descr': '<f2', 'fortran_order': False, 'shape': (6,), }", "not supported", 12},
        {"unknown key", "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), 'extra': 1}", "unknown header key",
         48},
        {"missing key", "{'descr': '<f8', 'shape': (6,)}", "lacks", 48},
        {"repeated key", "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (6,)}", "twice", 48},
        {"not a dict", "['descr', '<f8']", "not a dict", 48},
        {"unterminated", "{'descr': '<f8', 'fortran_order': False, 'shape': (6,", "shape", 48},
        {"negative dimension", "{'descr': '<f8', 'fortran_order': False, 'shape': (-6,), }", "non-negative", 48},
        {"fractional dimension", "{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,), }", "shape", 48},
        {"text after the dict", "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), } x", "after", 48},
        {"escapes", "{'descr': '<f\\8', 'fortran_order': False, 'shape': (6,), }", "descr", 48},
        {"9 axes", "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }", "axes", 48},
        {"dimension beyond 2^64", "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616,), }",
         "overflows", 48},
        {"size beyond 2^64", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
         "overflows", 48},
        {"bytes beyond 2^64", "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }",
         "overflows", 48},
        /* a shape that claims 8 TB over 48 bytes of data: refused before anything is allocated */
        {"lying size, huge", "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }", "truncated",
         48},
        {"lying size, small", "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", "account for", 48},
        {"True misspelt", "{'descr': '<f8', 'fortran_order': Flase, 'shape': (6,), }", "True or False", 48},
        {"a byte beyond ASCII in a key", "{'d\xffscr': '<f8', 'fortran_order': False, 'shape': (6,), }",
         "key is malformed", 48},
        {"a control character in the dtype", "{'descr': '<f\n8', 'fortran_order': False, 'shape': (6,), }", "descr",
         48},
    };
    unsigned char zeros[48] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *c = make_npy(1 + (int)(i % 3), cases[i].header, zeros, cases[i].ndata, &len);
        refused(cases[i].what, c, len, cases[i].fragment);
        free(c);
    }
    /* Python 2 numpy wrote long dimensions with an L, and no trailing comma, and double quotes are Python too */
    unsigned char *c = make_npy(1, "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2L, 3L)}", data,
                                sizeof data, &len);
    dml_npy_header h;
    double *v;
    dml_error err = {0};
    CHECK(dml_npy_load_memory(c, len, &h, &v, &err) == 0 && h.shape[0] == 2 && h.shape[1] == 3, "Python 2 header: %s",
          err.message);
    if (!err.message[0]) free(v);
    free(c);
    /* not regular files, missing files */
    CHECK(dml_npy_read(tmpdir, &h, &v, &err) == -1 && strstr(err.message, "not a regular file"), "a directory: %s",
          err.message);
    CHECK(dml_npy_read("/nonexistent/x.npy", &h, &v, &err) == -1 && strstr(err.message, "cannot open"),
          "a missing file: %s", err.message);
}

/* A file larger than the reader's block, big-endian float64: every value back, and an error index past the
 * first block. */
static void large(void)
{
    size_t n = 20000;
    unsigned char *data = malloc(n * 8);
    for (size_t i = 0; i < n; i++) {
        double x = (double)i * 0.25 - 7.0;
        uint64_t u;
        memcpy(&u, &x, 8);
        for (int k = 0; k < 8; k++) data[i * 8 + k] = (unsigned char)(u >> (8 * (7 - k)));
    }
    char header[128], path[256];
    snprintf(header, sizeof header, "{'descr': '>f8', 'fortran_order': False, 'shape': (%zu, 2), }", n / 2);
    size_t len;
    unsigned char *b = make_npy(2, header, data, n * 8, &len);
    snprintf(path, sizeof path, "%s/large.npy", tmpdir);
    write_file(path, b, len);
    dml_npy_header h;
    double *v;
    dml_error err = {0};
    CHECK(dml_npy_read(path, &h, &v, &err) == 0, "large: %s", err.message);
    int ok = !err.message[0];
    for (size_t i = 0; ok && i < n; i++) ok = v[i] == (double)i * 0.25 - 7.0;
    CHECK(ok, "large: %zu big-endian values back", n);
    if (!err.message[0]) free(v);
    dml_shape s;
    size_t rows;
    CHECK(dml_npy_input_shape(&h, &s, &rows, &err) == 0 && rows == n / 2 && s.nd == 0 && s.channels == 2,
          "(n, d) inputs: flat vectors of d numbers");
    /* a NaN far into the file */
    memset(b + len - 8 * (n - 15000), 0xff, 8);
    write_file(path, b, len);
    CHECK(dml_npy_read(path, &h, &v, &err) == -1 && strstr(err.message, "value 15000 is NaN"), "NaN at 15000: %s",
          err.message);
    free(b);
    free(data);
}

static void shapes_and_labels(const char *dir)
{
    struct {
        const char *file;
        int ok, nd, size0, size1, channels;
        size_t n;
    } xs[] = {{"x_f4_le_flat_v1.npy", 1, 0, 0, 0, 4, 3}, {"x_f4_le_1d_v2.npy", 1, 1, 3, 0, 2, 2},
              {"x_u1_na_2d_v2.npy", 1, 2, 2, 3, 2, 2},   {"y_targets_f64.npy", 0, 0, 0, 0, 0, 0},
              {"scalar.npy", 0, 0, 0, 0, 0, 0}};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, xs[i].file);
        dml_npy_header h;
        dml_error err = {0};
        dml_shape s;
        size_t n = 0;
        int rc = dml_npy_read_header(path, &h, &err);
        CHECK(rc == 0, "%s: %s", xs[i].file, err.message);
        rc = dml_npy_input_shape(&h, &s, &n, &err);
        if (xs[i].ok)
            CHECK(rc == 0 && s.nd == xs[i].nd && s.size[0] == xs[i].size0 && s.size[1] == xs[i].size1 &&
                      s.channels == xs[i].channels && n == xs[i].n,
                  "%s: input shape nd %d %dx%d C %d n %zu", xs[i].file, s.nd, s.size[0], s.size[1], s.channels, n);
        else
            CHECK(rc == -1 && strstr(err.message, "(n, d), (n, L, C) or (n, H, W, C)"), "%s: not an input shape: %s",
                  xs[i].file, err.message);
    }
    char path[1024];
    dml_npy_header h;
    double *v;
    dml_error err = {0};
    int labels[8], m = -2;
    snprintf(path, sizeof path, "%s/y_labels_int64.npy", dir);
    CHECK(dml_npy_read(path, &h, &v, &err) == 0 && dml_npy_labels(&h, v, labels, &m, &err) == 0 && m == 9 &&
              labels[0] == 3 && labels[2] == 9 && labels[5] == 7,
          "int64 labels: max %d (%s)", m, err.message);
    free(v);
    snprintf(path, sizeof path, "%s/y_targets_f64.npy", dir);
    CHECK(dml_npy_read(path, &h, &v, &err) == 0, "float targets: %s", err.message);
    CHECK(dml_npy_labels(&h, v, labels, &m, &err) == -1 && strstr(err.message, "integer"),
          "float y arrays are not labels: %s", err.message);
    free(v);
    snprintf(path, sizeof path, "%s/x_i2_le_flat_v3.npy", dir);
    CHECK(dml_npy_read(path, &h, &v, &err) == 0, "int16 x: %s", err.message);
    CHECK(dml_npy_labels(&h, v, labels, &m, &err) == -1 && strstr(err.message, "shape (n,)"),
          "labels of two axes: %s", err.message);
    free(v);
    double neg[3] = {0, -1, 2};
    dml_npy_header hn = {.version = 1, .dtype = DML_NPY_INT8, .ndim = 1, .shape = {3}, .count = 3};
    CHECK(dml_npy_labels(&hn, neg, labels, &m, &err) == -1 && strstr(err.message, "label 1 is -1"),
          "negative labels: %s", err.message);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_npy FIXTURE_DIR\n");
        return 2;
    }
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", argv[1]);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "%s", path);
    int files = 0;
    if (f) {
        static char line[1 << 16];
        while (fgets(line, sizeof line, f))
            if (line[0] != '#') {
                fixture(argv[1], line);
                files++;
            }
        fclose(f);
    }
    CHECK(files >= 70, "%d fixtures in the manifest", files);
    shapes_and_labels(argv[1]);
    hostile();
    large();
    snprintf(path, sizeof path, "rm -rf %s", tmpdir);
    CHECK(system(path) == 0, "cleanup");
    return check_summary("npy");
}
