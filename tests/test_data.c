/* IDX reader, preprocessing (DESIGN section 3) and the real Fashion-MNIST files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "dmilab/data.h"
#include "check.h"
#include "idx_fixture.h"
#include "sha256_file.h"

/* The message of err with every occurrence of `path` replaced by "P". */
static void masked(const dml_error *err, const char *path, char *out, size_t size)
{
    const char *m = err->message, *hit;
    size_t k = 0, pl = strlen(path);
    while ((hit = strstr(m, path)) && k + (size_t)(hit - m) + 2 < size) {
        memcpy(out + k, m, (size_t)(hit - m));
        k += (size_t)(hit - m);
        out[k++] = 'P';
        m = hit + pl;
    }
    snprintf(out + k, size - k, "%s", m);
}

/* The data root is a boundary: every path and every opened file resolves inside it (DESIGN section 3), and
 * no message tells whether a path outside it exists. */
static void test_root(const char *tmp)
{
    char root[512], out[512], p[1024], q[1024], res[4096], m1[1024], m2[1024];
    dml_error err = {0};
    snprintf(root, sizeof root, "%s/root", tmp);
    snprintf(out, sizeof out, "%s/outside", tmp);
    mkdir(root, 0755);
    mkdir(out, 0755);
    snprintf(p, sizeof p, "%s/good", root);
    CHECK(fx_write_dir(p, 20, 10, 4, 4, 1, -1) == 0, "write %s", p);
    snprintf(p, sizeof p, "%s/secret", out);
    CHECK(fx_write_dir(p, 20, 10, 4, 4, 9, -1) == 0, "write %s", p);
    /* a data directory inside the root whose training images are a link to a file outside it */
    snprintf(p, sizeof p, "%s/evil", root);
    CHECK(fx_write_dir(p, 20, 10, 4, 4, 1, -1) == 0, "write %s", p);
    snprintf(p, sizeof p, "%s/evil/train-images-idx3-ubyte.gz", root);
    snprintf(q, sizeof q, "%s/secret/train-images-idx3-ubyte.gz", out);
    CHECK(unlink(p) == 0 && symlink(q, p) == 0, "link %s -> %s", p, q);
    dml_idx_info info;
    snprintf(p, sizeof p, "%s/evil", root);
    CHECK(dml_idx_probe(root, p, "train", "data.path", &info, &err) == -1 && err.code == DML_ERR_INVALID_SPEC &&
              strcmp(err.field, "data.path") == 0 && strstr(err.message, "inside the data root"),
          "a file link out of the root is refused: %s", err.message);
    dml_idx_split sp;
    CHECK(dml_idx_read_split(root, p, "train", &sp, &err) == -1 && dml_idx_acquire(root, p, "train", &err) == NULL,
          "... when reading and through the cache too");
    snprintf(p, sizeof p, "%s/good", root);
    CHECK(dml_idx_probe(root, p, "train", "data.path", &info, &err) == 0 && info.n == 20 && info.rows == 4 &&
              info.cols == 4,
          "the headers of a good directory: %s", err.message);
    /* the same words for a file outside the root that exists and one that does not */
    CHECK(dml_data_open(root, q, "f", res, sizeof res, &err) == -1, "an existing file outside the root is refused");
    masked(&err, q, m1, sizeof m1);
    snprintf(q, sizeof q, "%s/secret/no-such-file.gz", out);
    CHECK(dml_data_open(root, q, "f", res, sizeof res, &err) == -1, "a missing file outside the root is refused");
    masked(&err, q, m2, sizeof m2);
    CHECK(strcmp(m1, m2) == 0, "the messages do not tell whether it exists: '%s' vs '%s'", m1, m2);
    snprintf(q, sizeof q, "/etc/shadow");
    CHECK(dml_data_open(root, q, "f", res, sizeof res, &err) == -1 && (masked(&err, q, m1, sizeof m1), strcmp(m1, m2) == 0),
          "/etc/shadow: '%s'", m1);
    /* a directory link out of the root, and '..' */
    snprintf(p, sizeof p, "%s/linkdir", root);
    CHECK(symlink(out, p) == 0, "link %s", p);
    snprintf(q, sizeof q, "%s/linkdir/secret/no-such-file.gz", root);
    CHECK(dml_data_open(root, q, "f", res, sizeof res, &err) == -1 && (masked(&err, q, m1, sizeof m1), strcmp(m1, m2) == 0),
          "a missing file behind a link out of the root: '%s'", m1);
    snprintf(q, sizeof q, "%s/linkdir/secret", root);
    CHECK(dml_data_resolve(root, q, DML_PATH_DIR, "f", res, sizeof res, &err) == -1, "a directory behind a link out");
    snprintf(q, sizeof q, "%s/good/../../outside/secret", root);
    CHECK(dml_data_resolve(root, q, DML_PATH_DIR, "f", res, sizeof res, &err) == -1 && strstr(err.message, "inside"),
          "'..' out of the root: %s", err.message);
    /* a dangling link inside the root could point anywhere: the same words */
    snprintf(p, sizeof p, "%s/dangling", root);
    snprintf(q, sizeof q, "%s/nothing-here", out);
    CHECK(symlink(q, p) == 0, "link %s", p);
    CHECK(dml_data_open(root, p, "f", res, sizeof res, &err) == -1 && (masked(&err, p, m1, sizeof m1), strcmp(m1, m2) == 0),
          "a dangling link: '%s'", m1);
    /* inside the root, the messages say what is wrong */
    snprintf(p, sizeof p, "%s/good/missing", root);
    CHECK(dml_data_resolve(root, p, DML_PATH_DIR, "data.path", res, sizeof res, &err) == -1 &&
              strstr(err.message, "does not exist") && strcmp(err.field, "data.path") == 0,
          "a missing directory inside the root: %s", err.message);
    snprintf(p, sizeof p, "%s/good/train-images-idx3-ubyte.gz", root);
    CHECK(dml_data_resolve(root, p, DML_PATH_DIR, "data.path", res, sizeof res, &err) == -1 &&
              strstr(err.message, "is not a directory"),
          "a file where a directory is wanted: %s", err.message);
    CHECK(dml_data_resolve(root, "good", DML_PATH_DIR, "data.path", res, sizeof res, &err) == 0 &&
              strstr(res, "/root/good") && res[0] == '/',
          "a relative path is relative to the root: %s", res);
    snprintf(p, sizeof p, "%s/good/t10k-labels-idx1-ubyte.gz", root);
    CHECK(unlink(p) == 0, "remove a file");
    snprintf(p, sizeof p, "%s/good", root);
    CHECK(dml_idx_probe(root, p, "t10k", "data[1].path", &info, &err) == -1 && strcmp(err.field, "data[1].path") == 0 &&
              strstr(err.message, "has no file t10k-labels-idx1-ubyte.gz"),
          "a directory missing a file names it: %s", err.message);
}

/* The cache serves a split only while its files are the same files, and the hashes are of the bytes read. */
static void test_cache(const char *tmp)
{
    char root[512], dir[600], img[700], lab[700], hex[DML_SHA256_HEX];
    dml_error err = {0};
    snprintf(root, sizeof root, "%s/root", tmp);
    snprintf(dir, sizeof dir, "%s/cache", root);
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
    CHECK(fx_write_dir(dir, 30, 10, 5, 5, 1, -1) == 0, "write %s", dir);
    const dml_idx_split *a = dml_idx_acquire(root, dir, "train", &err);
    CHECK(a && a->n == 30 && a->rows == 5, "acquire: %s", err.message);
    if (!a) return;
    sha256_file(img, hex);
    CHECK(strcmp(a->images_sha256, hex) == 0, "images hash %s is the file's %s", a->images_sha256, hex);
    sha256_file(lab, hex);
    CHECK(strcmp(a->labels_sha256, hex) == 0 && strstr(a->images_path, "/cache/train-images"), "labels hash, paths");
    const dml_idx_split *same = dml_idx_acquire(root, dir, "train", &err);
    CHECK(same == a, "the same files: the cached split");
    dml_idx_release(same);
    uint8_t first = a->images[0];
    char old_hash[DML_SHA256_HEX];
    memcpy(old_hash, a->images_sha256, sizeof old_hash);
    /* the files replaced under the same names (other images): read again, never the old bytes */
    CHECK(fx_write_split(dir, "train", 30, 5, 5, 77, 200) == 0, "rewrite %s", dir);
    const dml_idx_split *b = dml_idx_acquire(root, dir, "train", &err);
    sha256_file(img, hex);
    CHECK(b && b != a && b->images[0] == 200 && strcmp(b->images_sha256, hex) == 0 && strcmp(b->images_sha256, old_hash),
          "replaced files are read again: %s", b ? b->images_sha256 : err.message);
    CHECK(a->images[0] == first, "a run holding the old split keeps its bytes until it releases them");
    /* the headers too: a replaced file of another image side is probed again */
    dml_idx_info info;
    CHECK(dml_idx_probe(root, dir, "train", "data.path", &info, &err) == 0 && info.rows == 5, "probe 5x5");
    CHECK(fx_write_split(dir, "train", 40, 8, 6, 3, -1) == 0, "rewrite as 40 images of 8x6");
    CHECK(dml_idx_probe(root, dir, "train", "data.path", &info, &err) == 0 && info.n == 40 && info.rows == 8 &&
              info.cols == 6,
          "the probe sees the new headers: %zu of %dx%d", info.n, info.rows, info.cols);
    dml_idx_release(a);
    dml_idx_release(b);
    /* a moved-away file is an error, not the cached split */
    char moved[800];
    snprintf(moved, sizeof moved, "%s.moved", lab);
    CHECK(rename(lab, moved) == 0, "move %s", lab);
    CHECK(dml_idx_acquire(root, dir, "train", &err) == NULL && err.code == DML_ERR_IO &&
              strstr(err.message, "train-labels-idx1-ubyte.gz does not exist"),
          "a missing file fails with a clear message: %s", err.message);
}

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
    test_root(dir);
    test_cache(dir);
    snprintf(p, sizeof p, "rm -rf %s", dir);
    CHECK(system(p) == 0, "cleanup");
    return check_summary("data");
}
