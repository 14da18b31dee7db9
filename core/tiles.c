/* Kernel tiles: their geometry, their computation by the kernel engine (no database), their content address and
 * their checksummed files (dmilab/tiles.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dmilab/json.h"
#include "dmilab/kernel.h"
#include "dmilab/model_json.h"
#include "dmilab/tiles.h"

#define HEADER_BYTES 184
#define SHA_SLOT 72

void dml_tiling_init(dml_tiling *tg, size_t N, size_t M, size_t rows)
{
    if (rows < 1) rows = 1;
    tg->N = N;
    tg->M = M;
    tg->rows = rows;
    tg->ngram = (N + rows - 1) / rows;
    tg->ncross = (M + rows - 1) / rows;
}

void dml_tiling_tile(const dml_tiling *tg, size_t i, dml_tile *t)
{
    int gram = i < tg->ngram;
    size_t j = gram ? i : i - tg->ngram, n = gram ? tg->N : tg->M;
    t->kind = gram ? DML_TILE_GRAM : DML_TILE_CROSS;
    t->index = j;
    t->r0 = j * tg->rows;
    t->r1 = t->r0 + tg->rows < n ? t->r0 + tg->rows : n;
    t->ncols = gram ? t->r1 : tg->N;
}

double dml_tiling_pairs(const dml_tiling *tg, size_t first, size_t end)
{
    double pairs = 0;
    if (end > tg->ngram + tg->ncross) end = tg->ngram + tg->ncross;
    for (size_t i = first; i < end; i++) {
        dml_tile t;
        dml_tiling_tile(tg, i, &t);
        pairs += (double)(t.r1 - t.r0) * (double)t.ncols;
    }
    return pairs;
}

size_t dml_tile_rows_for(const dml_model *m, const dml_shape *shape, size_t N, int threads, double seconds)
{
    if (threads < 1) threads = 1;
    if (N == 0) return 1;
    dml_kernel_cost c;
    dml_kernel_cost_estimate(m, shape, 1, N, 0, threads, &c);   /* one row of N pairs */
    double per_row = c.seconds > 0 ? c.seconds : 1e-9;
    double rows = seconds / per_row;
    double cap = (256.0 * 1024 * 1024) / (16.0 * (double)N);
    if (rows > cap) rows = cap;
    if (rows < threads) rows = threads;
    if (rows > (double)N) rows = (double)N;
    return rows < 1 ? 1 : (size_t)rows;
}

int dml_tile_compute(const dml_model *m, const dml_shape *shape, const double *x, const double *xt,
                     const dml_tile *t, double *nngp, double *ntk, int threads, dml_error *err)
{
    return dml_tile_compute_cancellable(m, shape, x, xt, t, nngp, ntk, threads, NULL, NULL, err);
}

int dml_tile_compute_cancellable(const dml_model *m, const dml_shape *shape, const double *x, const double *xt,
                                 const dml_tile *t, double *nngp, double *ntk, int threads,
                                 int (*cancelled)(void *ctx), void *ctx, dml_error *err)
{
    size_t D = dml_shape_numel(shape), h = t->r1 - t->r0, w = t->ncols;
    if (t->kind == DML_TILE_CROSS)
        return dml_kernel_cancellable(m, shape, xt + t->r0 * D, h, x, w, nngp, ntk, threads, cancelled, ctx, err);
    /* the diagonal block as a Gram, then the block left of it as a cross kernel; both into the tile's rows */
    size_t r0 = t->r0;
    double *dk = malloc(sizeof(double) * (h * h + 1)), *dt = malloc(sizeof(double) * (h * h + 1));
    double *lk = r0 ? malloc(sizeof(double) * h * r0) : NULL, *lt = r0 ? malloc(sizeof(double) * h * r0) : NULL;
    int rc = -1;
    if (!dk || !dt || (r0 && (!lk || !lt))) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a kernel tile of %zu x %zu", h, w);
        goto out;
    }
    if (dml_kernel_cancellable(m, shape, x + r0 * D, h, NULL, h, dk, dt, threads, cancelled, ctx, err)) goto out;
    /* the left block as K(x[0, r0), x[r0, r1)), transposed: a Gram computes each pair (i, j), i < j, in that
     * order and mirrors it, and the order matters where covariances are full (GAP sums P x P entries) */
    if (r0 && dml_kernel_cancellable(m, shape, x, r0, x + r0 * D, h, lk, lt, threads, cancelled, ctx, err)) goto out;
    for (size_t i = 0; i < h; i++) {
        for (size_t j = 0; j < r0; j++) {
            nngp[i * w + j] = lk[j * h + i];
            ntk[i * w + j] = lt[j * h + i];
        }
        memcpy(nngp + i * w + r0, dk + i * h, sizeof(double) * h);
        memcpy(ntk + i * w + r0, dt + i * h, sizeof(double) * h);
    }
    rc = 0;
out:
    free(dk);
    free(dt);
    free(lk);
    free(lt);
    return rc;
}

int dml_tile_key(const char *engine, const dml_model *m, const dml_shape *shape, const double *x, size_t N,
                 const double *xt, size_t M, char key[DML_SHA256_HEX], dml_error *err)
{
    cJSON *mj = dml_model_json(m);
    char *mtext = mj ? dml_json_print(mj) : NULL;
    cJSON_Delete(mj);
    dml_sha256 *hs = mtext ? dml_sha256_new() : NULL;
    if (!hs) {
        free(mtext);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    }
    char head[512];
    int len = snprintf(head, sizeof head, "%s\n", engine ? engine : DML_KERNEL_ENGINE);
    dml_sha256_update(hs, head, (size_t)len);
    dml_sha256_update(hs, mtext, strlen(mtext));
    len = snprintf(head, sizeof head, "\nshape %d:", shape->nd);
    for (int a = 0; a < shape->nd && a < DML_MAX_SPATIAL; a++)
        len += snprintf(head + len, sizeof head - (size_t)len, " %d", shape->size[a]);
    len += snprintf(head + len, sizeof head - (size_t)len, " C %d\nN %zu M %zu\n", shape->channels, N, M);
    dml_sha256_update(hs, head, (size_t)len);
    size_t D = dml_shape_numel(shape);
    int rc = dml_sha256_update(hs, x, sizeof(double) * N * D);
    rc |= dml_sha256_update(hs, xt, sizeof(double) * M * D);
    free(mtext);
    if (dml_sha256_final(hs, key) || rc) return dml_fail(err, DML_ERR_INTERNAL, NULL, "SHA-256 failed");
    return 0;
}

void dml_tile_path(const char *dir, const dml_tile *t, char *out, size_t size)
{
    snprintf(out, size, "%s/%c-%06zu.tile", dir, t->kind == DML_TILE_GRAM ? 'g' : 'c', t->index);
}

size_t dml_tile_file_bytes(const dml_tile *t)
{
    return HEADER_BYTES + 2 * sizeof(double) * (t->r1 - t->r0) * t->ncols;
}

static void header_of(const dml_tile *t, const char *sk, const char *st, unsigned char *h)
{
    memset(h, 0, HEADER_BYTES);
    memcpy(h, "DMLTILE1", 8);
    uint32_t kind = (uint32_t)t->kind;
    uint64_t v[3] = {t->r0, t->r1, t->ncols};
    memcpy(h + 8, &kind, 4);
    memcpy(h + 16, v, sizeof v);
    if (sk) memcpy(h + 40, sk, DML_SHA256_HEX);
    if (st) memcpy(h + 40 + SHA_SLOT, st, DML_SHA256_HEX);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

int dml_tile_save(const char *dir, const dml_tile *t, const double *nngp, const double *ntk, char *sha_nngp,
                  char *sha_ntk, dml_error *err)
{
    size_t n = sizeof(double) * (t->r1 - t->r0) * t->ncols;
    char sk[DML_SHA256_HEX], st[DML_SHA256_HEX], path[1200], tmp[1240];
    if (dml_sha256_hex(nngp, n, sk) || dml_sha256_hex(ntk, n, st))
        return dml_fail(err, DML_ERR_INTERNAL, NULL, "SHA-256 failed");
    unsigned char h[HEADER_BYTES];
    header_of(t, sk, st, h);
    dml_tile_path(dir, t, path, sizeof path);
    /* a name of this writer's own: two processes that compute the same kernel into one cache (two experiments, two
     * `dmilab run`) each rename a whole file of the same bytes */
    static atomic_uint seq;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&seq, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        dml_fail(err, DML_ERR_IO, NULL, "cannot write the kernel tile %s: %s", tmp, strerror(e));
        errno = e;
        return -1;
    }
    int bad = write_all(fd, h, sizeof h) || write_all(fd, nngp, n) || write_all(fd, ntk, n) || fsync(fd);
    int e = errno;
    if (close(fd)) bad = 1;
    if (bad || rename(tmp, path)) {
        if (!bad) e = errno;
        unlink(tmp);
        dml_fail(err, DML_ERR_IO, NULL, "cannot write the kernel tile %s: %s", path, strerror(e));
        errno = e;   /* the caller tells a full disk from other failures */
        return -1;
    }
    if (sha_nngp) memcpy(sha_nngp, sk, DML_SHA256_HEX);
    if (sha_ntk) memcpy(sha_ntk, st, DML_SHA256_HEX);
    return 0;
}

/* Open the file of `t` and check its header against the tile: the fd, or -1; the header into h. */
static int open_checked(const char *dir, const dml_tile *t, unsigned char *h, char *path, size_t size)
{
    dml_tile_path(dir, t, path, size);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat sb;
    unsigned char want[HEADER_BYTES];
    header_of(t, NULL, NULL, want);
    if (fstat(fd, &sb) || (size_t)sb.st_size != dml_tile_file_bytes(t) || read_all(fd, h, HEADER_BYTES) ||
        memcmp(h, want, 40) || h[40 + 64] || h[40 + SHA_SLOT + 64]) {
        close(fd);
        return -1;
    }
    return fd;
}

int dml_tile_present(const char *dir, const dml_tile *t)
{
    unsigned char h[HEADER_BYTES];
    char path[1200];
    int fd = open_checked(dir, t, h, path, sizeof path);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

int dml_tile_load(const char *dir, const dml_tile *t, double *nngp, double *ntk, dml_error *err)
{
    (void)err;
    unsigned char h[HEADER_BYTES];
    char path[1200], sha[DML_SHA256_HEX];
    int fd = open_checked(dir, t, h, path, sizeof path);
    if (fd < 0) {
        if (access(path, F_OK) == 0) unlink(path);   /* of another tiling or cut short: computed again */
        return 0;
    }
    size_t n = sizeof(double) * (t->r1 - t->r0) * t->ncols;
    int ok = 1;
    double *dst[2] = {nngp, ntk};
    for (int half = 0; half < 2 && ok; half++) {
        if (!dst[half]) continue;
        if (lseek(fd, (off_t)(HEADER_BYTES + half * n), SEEK_SET) < 0 || read_all(fd, dst[half], n) ||
            dml_sha256_hex(dst[half], n, sha) || memcmp(sha, h + 40 + half * SHA_SLOT, DML_SHA256_HEX))
            ok = 0;
    }
    close(fd);
    if (!ok) unlink(path);   /* a corrupted tile is computed again */
    return ok;
}
