/* IDX reader, preprocessing (DESIGN section 3) and the real Fashion-MNIST files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "dmilab/data.h"
#include "check.h"

static void write_gz(const char *path, const unsigned char *b, size_t n)
{
    gzFile g = gzopen(path, "wb");
    gzwrite(g, b, (unsigned)n);
    gzclose(g);
}

static void write_plain(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *fmnist = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    char dir[] = "/tmp/dmilab-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char p[256];

    /* a 2-image 2x3 IDX3 file and its labels, gzip and plain */
    unsigned char img[16 + 12] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255};
    unsigned char lab[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 7, 3};
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    write_gz(p, img, sizeof img);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    write_gz(p, lab, sizeof lab);
    dml_idx_split s;
    dml_error err = {0};
    CHECK(dml_idx_read_split("/", dir, "train", &s, &err) == 0, "read split: %s", err.message);
    CHECK(s.n == 2 && s.rows == 2 && s.cols == 3, "dims %zu %d %d", s.n, s.rows, s.cols);
    CHECK(s.images[0] == 1 && s.images[11] == 255, "pixels");
    CHECK(s.labels[0] == 7 && s.labels[1] == 3, "labels");
    dml_idx_free(&s);
    /* plain (uncompressed) files read too */
    snprintf(p, sizeof p, "%s/plain-images", dir);
    write_plain(p, img, sizeof img);
    memset(&s, 0, sizeof s);
    CHECK(dml_idx_read_images("/", p, &s, &err) == 0 && s.n == 2, "plain IDX: %s", err.message);
    dml_idx_free(&s);
    /* truncated, wrong magic, label count mismatch */
    snprintf(p, sizeof p, "%s/short.gz", dir);
    write_gz(p, img, sizeof img - 3);
    CHECK(dml_idx_read_images("/", p, &s, &err) == -1 && err.code == DML_ERR_IO && strstr(err.message, "truncated"),
          "truncated: %s", err.message);
    unsigned char bad[16] = {0, 0, 9, 3};
    snprintf(p, sizeof p, "%s/bad.gz", dir);
    write_gz(p, bad, sizeof bad);
    CHECK(dml_idx_read_images("/", p, &s, &err) == -1 && strstr(err.message, "not an IDX"), "bad magic: %s", err.message);
    CHECK(dml_idx_read_images("/", "/nonexistent/x.gz", &s, &err) == -1 && strstr(err.message, "does not exist"), "missing file");
    memset(&s, 0, sizeof s);
    s.n = 5;
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    CHECK(dml_idx_read_labels("/", p, &s, &err) == -1 && strstr(err.message, "labels for"), "count mismatch: %s", err.message);

    /* preprocessing by hand: 4x4 -> 2x2 by average pooling, then per-example standardization */
    uint8_t im[16] = {0, 255, 0, 0, 255, 0, 0, 0, 255, 255, 51, 51, 255, 255, 51, 51};
    double out[4];
    dml_preprocess_image(im, 4, 4, 2, out);
    double pooled[4] = {0.5, 0.0, 1.0, 0.2};   /* block means of value/255 */
    double mean = 0.425, sd = sqrt((0.075 * 0.075 + 0.425 * 0.425 + 0.575 * 0.575 + 0.225 * 0.225) / 4);
    int ok = 1;
    for (int i = 0; i < 4; i++) ok &= close_rel(out[i], (pooled[i] - mean) / sd, 1e-14);
    CHECK(ok, "pool + standardize: %g %g %g %g", out[0], out[1], out[2], out[3]);
    uint8_t flat[16];
    memset(flat, 77, sizeof flat);
    dml_preprocess_image(flat, 4, 4, 1, (double[16]){0});
    double z[16];
    dml_preprocess_image(flat, 4, 4, 1, z);
    ok = 1;
    for (int i = 0; i < 16; i++) ok &= z[i] == 0.0;
    CHECK(ok, "a constant image stays at zero");
    double full[784];
    uint8_t big[784];
    for (int i = 0; i < 784; i++) big[i] = (uint8_t)(i * 7);
    dml_preprocess_image(big, 28, 28, 1, full);
    double m = 0, v = 0;
    for (int i = 0; i < 784; i++) m += full[i];
    m /= 784;
    for (int i = 0; i < 784; i++) v += (full[i] - m) * (full[i] - m);
    CHECK(fabs(m) < 1e-12 && fabs(v / 784 - 1) < 1e-12, "standardized: mean %g var %g", m, v / 784);
    int labels[2] = {2, 0};
    double y[6];
    dml_one_hot(labels, 2, 3, y);
    CHECK(y[0] == -0.1 && y[2] == 0.9 && y[3] == 0.9 && y[5] == -0.1, "one-hot minus 0.1");

    /* the real Fashion-MNIST files of the Debian package */
    const dml_idx_split *tr = dml_idx_acquire("/", fmnist, "train", &err);
    CHECK(tr != NULL, "fashion-mnist train: %s", err.message);
    const dml_idx_split *te = dml_idx_acquire("/", fmnist, "t10k", &err);
    CHECK(te != NULL, "fashion-mnist test: %s", err.message);
    if (tr && te) {
        CHECK(tr->n == 60000 && te->n == 10000 && tr->rows == 28 && tr->cols == 28, "fashion-mnist sizes");
        CHECK(tr->labels[0] == 9 && te->labels[0] == 9, "first labels are 9 (ankle boot): %d %d", tr->labels[0],
              te->labels[0]);
        int counts[10] = {0};
        for (size_t i = 0; i < tr->n; i++) counts[tr->labels[i]]++;
        ok = 1;
        for (int c = 0; c < 10; c++) ok &= counts[c] == 6000;
        CHECK(ok, "6000 training images per class");
        const dml_idx_split *again = dml_idx_acquire("/", fmnist, "train", &err);
        CHECK(again == tr, "cached split is reused");
        dml_idx_release(again);
    }
    dml_idx_release(tr);
    dml_idx_release(te);
    snprintf(p, sizeof p, "rm -rf %s", dir);
    CHECK(system(p) == 0, "cleanup");
    return check_summary("data");
}
