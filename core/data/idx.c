/* IDX files (the MNIST / Fashion-MNIST layout), gzip-compressed or plain, read inside the data root while
 * hashing the bytes read, and a process-wide cache that re-checks the files on every use. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "dmilab/data.h"
#include "dmilab/sha256.h"

/* A reader of one open file: hashes every byte read from it (when h != NULL) and hands out the decompressed
 * stream (gzip, possibly several members, or the plain bytes). */
typedef struct {
    int fd, gz, eof, z_live;
    size_t chunk;   /* bytes per read: the whole buffer, or a little when only the header is wanted */
    dml_sha256 *h;
    z_stream z;
    unsigned char in[1 << 16];
    size_t in_len, in_pos;
} reader;

static int refill(reader *r)
{
    if (r->eof) return 0;
    ssize_t k;
    do k = read(r->fd, r->in, r->chunk);
    while (k < 0 && errno == EINTR);
    if (k < 0) return -1;
    if (k == 0) r->eof = 1;
    if (k > 0 && r->h && dml_sha256_update(r->h, r->in, (size_t)k)) return -1;
    r->in_len = (size_t)k;
    r->in_pos = 0;
    return 0;
}

static int reader_open(reader *r, int fd, int hash)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    /* reading a whole file hashes it; a header alone needs the first few hundred compressed bytes */
    r->chunk = hash ? sizeof r->in : 4096;
    if (hash && !(r->h = dml_sha256_new())) return -1;
    if (refill(r)) return -1;
    r->gz = r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b;
    if (r->gz) {
        if (inflateInit2(&r->z, 15 + 16) != Z_OK) return -1;
        r->z_live = 1;
    }
    return 0;
}

/* Read exactly n decompressed bytes into dst. Returns 0, or -1 when the stream ends first or is corrupt. */
static int reader_get(reader *r, void *dst, size_t n)
{
    unsigned char *out = dst;
    while (n) {
        if (r->in_pos == r->in_len) {
            if (refill(r) || r->in_len == 0) return -1;
        }
        if (!r->gz) {
            size_t k = r->in_len - r->in_pos < n ? r->in_len - r->in_pos : n;
            memcpy(out, r->in + r->in_pos, k);
            r->in_pos += k;
            out += k;
            n -= k;
            continue;
        }
        r->z.next_in = r->in + r->in_pos;
        r->z.avail_in = (uInt)(r->in_len - r->in_pos);
        r->z.next_out = out;
        r->z.avail_out = n > (1u << 30) ? (1u << 30) : (uInt)n;
        uInt before = r->z.avail_out;
        int z = inflate(&r->z, Z_NO_FLUSH);
        size_t got = before - r->z.avail_out;
        r->in_pos = r->in_len - r->z.avail_in;
        out += got;
        n -= got;
        if (z == Z_STREAM_END) {
            /* gzip files may hold several members, as gzread reads them */
            if (r->in_pos == r->in_len && (refill(r) || r->in_len == 0)) return n ? -1 : 0;
            if (inflateReset(&r->z) != Z_OK) return -1;
        } else if (z != Z_OK && !(z == Z_BUF_ERROR && got)) {
            return -1;
        }
    }
    return 0;
}

/* Hash the rest of the file (the digest covers every byte of it) and close; hex may be NULL. */
static int reader_close(reader *r, char *hex)
{
    int rc = 0;
    while (r->h && !r->eof && rc == 0) rc = refill(r);
    if (r->z_live) inflateEnd(&r->z);
    if (r->h && dml_sha256_final(r->h, rc ? NULL : hex)) rc = -1;
    r->h = NULL;
    close(r->fd);
    return rc;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Start reading the open file fd (closed by the reader) and check its IDX header: uint8 data (0x08) with
 * `ndims` dimensions into dims[]. On success *r is open (the caller closes it); `path` names it in errors. */
static int start_idx(reader *r, int fd, int ndims, int hash, uint32_t *dims, const char *path, const char *field,
                     dml_code code, dml_error *err)
{
    if (reader_open(r, fd, hash)) {
        reader_close(r, NULL);
        return dml_fail(err, DML_ERR_NOMEM, field, "cannot read %s", path);
    }
    unsigned char h[4 + 4 * 3];
    if (reader_get(r, h, 4 + 4 * (size_t)ndims) || h[0] || h[1] || h[2] != 0x08 || h[3] != ndims) {
        reader_close(r, NULL);
        return dml_fail(err, code, field, "%s is not an IDX file of uint8 with %d dimensions", path, ndims);
    }
    for (int i = 0; i < ndims; i++) dims[i] = be32(h + 4 + 4 * i);
    if (ndims == 3 && (dims[1] == 0 || dims[2] == 0 || dims[1] > 4096 || dims[2] > 4096 || dims[0] > 100000000u)) {
        reader_close(r, NULL);
        return dml_fail(err, code, field, "%s: implausible image dimensions", path);
    }
    if (ndims == 1 && dims[0] > 100000000u) {
        reader_close(r, NULL);
        return dml_fail(err, code, field, "%s: implausible label count", path);
    }
    return 0;
}

/* Open `path` inside the root and start reading it (start_idx). */
static int open_idx(const char *root, const char *path, int ndims, int hash, reader *r, uint32_t *dims,
                    char *resolved, const char *field, dml_code code, dml_error *err)
{
    int fd = dml_data_open(root, path, field, resolved, DML_DATA_PATH_MAX, err);
    if (fd < 0) return -1;
    return start_idx(r, fd, ndims, hash, dims, path, field, code, err);
}

/* Read `bytes` bytes of payload into a malloc'd buffer and close the reader with the file's hash. */
static uint8_t *read_payload(reader *r, size_t bytes, const char *path, char *hex, dml_error *err)
{
    uint8_t *p = malloc(bytes ? bytes : 1);
    if (!p) {
        reader_close(r, NULL);
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory reading %s", path);
        return NULL;
    }
    if (reader_get(r, p, bytes)) {
        free(p);
        reader_close(r, NULL);
        dml_fail(err, DML_ERR_IO, NULL, "%s is truncated", path);
        return NULL;
    }
    if (reader_close(r, hex)) {
        free(p);
        dml_fail(err, DML_ERR_IO, NULL, "cannot read %s", path);
        return NULL;
    }
    return p;
}

int dml_idx_read_images(const char *root, const char *path, dml_idx_split *out, dml_error *err)
{
    uint32_t d[3];
    reader *r = malloc(sizeof *r);
    if (!r) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    if (open_idx(root, path, 3, 1, r, d, out->images_path, NULL, DML_ERR_IO, err)) {
        free(r);
        return -1;
    }
    uint8_t *img = read_payload(r, (size_t)d[0] * d[1] * d[2], path, out->images_sha256, err);
    free(r);
    if (!img) return -1;
    out->n = d[0];
    out->rows = (int)d[1];
    out->cols = (int)d[2];
    out->images = img;
    return 0;
}

int dml_idx_read_labels(const char *root, const char *path, dml_idx_split *out, dml_error *err)
{
    uint32_t d[1];
    reader *r = malloc(sizeof *r);
    if (!r) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    if (open_idx(root, path, 1, 1, r, d, out->labels_path, NULL, DML_ERR_IO, err)) {
        free(r);
        return -1;
    }
    if (out->n && d[0] != out->n) {
        reader_close(r, NULL);
        free(r);
        return dml_fail(err, DML_ERR_IO, NULL, "%s has %u labels for %zu images", path, d[0], out->n);
    }
    uint8_t *lab = read_payload(r, d[0], path, out->labels_sha256, err);
    free(r);
    if (!lab) return -1;
    out->n = d[0];
    out->labels = lab;
    return 0;
}

void dml_idx_file_name(const char *prefix, int labels, char *out, size_t size)
{
    snprintf(out, size, labels ? "%s-labels-idx1-ubyte.gz" : "%s-images-idx3-ubyte.gz", prefix);
}

static void file_path(const char *dir, const char *prefix, int labels, char *out, size_t size)
{
    char name[64];
    dml_idx_file_name(prefix, labels, name, sizeof name);
    snprintf(out, size, "%s/%s", dir, name);
}

int dml_idx_read_split(const char *root, const char *dir, const char *prefix, dml_idx_split *out, dml_error *err)
{
    char p[DML_DATA_PATH_MAX + 64];
    memset(out, 0, sizeof *out);
    file_path(dir, prefix, 0, p, sizeof p);
    if (dml_idx_read_images(root, p, out, err)) return -1;
    file_path(dir, prefix, 1, p, sizeof p);
    if (dml_idx_read_labels(root, p, out, err)) {
        dml_idx_free(out);
        return -1;
    }
    return 0;
}

void dml_idx_free(dml_idx_split *s)
{
    free(s->images);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

/* Identity of a file: the caches serve what they hold only while the file is the same. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id;

static void id_of(const struct stat *st, file_id *id)
{
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
}

static int same_id(const file_id *a, const file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The headers read so far, by file: a submission reads them again only when the file changed. */
typedef struct header_entry {
    char path[DML_DATA_PATH_MAX];
    file_id id;
    uint32_t dims[3];
    struct header_entry *next;
} header_entry;

static pthread_mutex_t header_mu = PTHREAD_MUTEX_INITIALIZER;
static header_entry *header_head;

/* The IDX header (ndims dimensions) of the file `path` inside the root, from the header cache when the file
 * (resolved inside the root) is the same file as when it was read. */
static int probe_file(const char *root, const char *path, int ndims, uint32_t *dims, const char *field, dml_error *err)
{
    char rp[DML_DATA_PATH_MAX];
    struct stat st;
    if (dml_data_resolve(root, path, DML_PATH_FILE, field, rp, sizeof rp, err)) return -1;
    if (stat(rp, &st) != 0) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s cannot be read", path);
    file_id id;
    id_of(&st, &id);
    pthread_mutex_lock(&header_mu);
    for (header_entry *e = header_head; e; e = e->next)
        if (strcmp(e->path, rp) == 0 && same_id(&e->id, &id)) {
            memcpy(dims, e->dims, sizeof e->dims[0] * (size_t)ndims);
            pthread_mutex_unlock(&header_mu);
            return 0;
        }
    pthread_mutex_unlock(&header_mu);
    reader *r = malloc(sizeof *r);
    if (!r) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    char opened[DML_DATA_PATH_MAX];
    int rc = open_idx(root, path, ndims, 0, r, dims, opened, field, DML_ERR_INVALID_SPEC, err);
    struct stat ost;
    int same = rc == 0 && fstat(r->fd, &ost) == 0;
    if (rc == 0) reader_close(r, NULL);
    free(r);
    if (rc) return -1;
    header_entry *e = same ? calloc(1, sizeof *e) : NULL;
    if (e) {   /* keyed by the identity of the file that was read */
        memcpy(e->path, opened, sizeof e->path);
        id_of(&ost, &e->id);
        memcpy(e->dims, dims, sizeof e->dims[0] * (size_t)ndims);
        pthread_mutex_lock(&header_mu);
        for (header_entry **pp = &header_head; *pp;)
            if (strcmp((*pp)->path, e->path) == 0) {
                header_entry *old = *pp;
                *pp = old->next;
                free(old);
            } else {
                pp = &(*pp)->next;
            }
        e->next = header_head;
        header_head = e;
        pthread_mutex_unlock(&header_mu);
    }
    return 0;
}

int dml_idx_probe(const char *root, const char *dir, const char *prefix, const char *field, dml_idx_info *info,
                  dml_error *err)
{
    char p[DML_DATA_PATH_MAX + 64], name[64];
    uint32_t d[3] = {0}, l[1] = {0};
    file_path(dir, prefix, 0, p, sizeof p);
    if (probe_file(root, p, 3, d, field, err)) goto missing;
    file_path(dir, prefix, 1, p, sizeof p);
    if (probe_file(root, p, 1, l, field, err)) goto missing;
    if (l[0] != d[0]) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s has %u labels for %u images", p, l[0], d[0]);
    info->n = d[0];
    info->rows = (int)d[1];
    info->cols = (int)d[2];
    return 0;
missing:
    /* name the file the directory lacks, as a directory of this layout must hold all four */
    if (err && strstr(err->message, "does not exist")) {
        dml_idx_file_name(prefix, strstr(p, "-labels-") != NULL, name, sizeof name);
        dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s has no file %s (an IDX data directory holds "
                 "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                 "t10k-labels-idx1-ubyte.gz)", dir, name);
    }
    return -1;
}

/* ---- the cache ---- */

typedef struct cache_entry {
    dml_idx_split split;
    file_id id[2];        /* images, labels */
    int refs, stale;      /* stale: a newer version of the files replaced it; freed at its last release */
    struct cache_entry *next;
} cache_entry;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_entry *cache_head;

/* Free entries that are stale and unused (cache_mu held). */
static void sweep(void)
{
    for (cache_entry **pp = &cache_head; *pp;) {
        cache_entry *e = *pp;
        if (e->stale && e->refs == 0) {
            *pp = e->next;
            dml_idx_free(&e->split);
            free(e);
        } else {
            pp = &e->next;
        }
    }
}

/* Read a split from its two files, already opened inside the root (both descriptors are closed). */
static int read_opened(reader *r, int fd[2], const char *path[2], dml_idx_split *s, dml_error *err)
{
    uint32_t d[3];
    if (start_idx(r, fd[0], 3, 1, d, path[0], NULL, DML_ERR_IO, err)) {
        close(fd[1]);
        return -1;
    }
    s->n = d[0];
    s->rows = (int)d[1];
    s->cols = (int)d[2];
    if (!(s->images = read_payload(r, s->n * (size_t)s->rows * (size_t)s->cols, path[0], s->images_sha256, err))) {
        close(fd[1]);
        return -1;
    }
    if (start_idx(r, fd[1], 1, 1, d, path[1], NULL, DML_ERR_IO, err)) return -1;
    if (d[0] != s->n) {
        reader_close(r, NULL);
        return dml_fail(err, DML_ERR_IO, NULL, "%s has %u labels for %zu images", path[1], d[0], s->n);
    }
    if (!(s->labels = read_payload(r, s->n, path[1], s->labels_sha256, err))) return -1;
    return 0;
}

const dml_idx_split *dml_idx_acquire(const char *root, const char *dir, const char *prefix, dml_error *err)
{
    char p[2][DML_DATA_PATH_MAX + 64], rp[2][DML_DATA_PATH_MAX];
    int fd[2] = {-1, -1};
    file_id id[2];
    for (int k = 0; k < 2; k++) {
        file_path(dir, prefix, k, p[k], sizeof p[k]);
        struct stat st;
        fd[k] = dml_data_open(root, p[k], NULL, rp[k], sizeof rp[k], err);
        if (fd[k] < 0 || fstat(fd[k], &st) != 0) {
            if (fd[k] >= 0) dml_fail(err, DML_ERR_IO, NULL, "cannot read %s", p[k]);
            if (err) err->code = DML_ERR_IO;   /* at run time a missing file is a failure to read the data */
            for (int j = 0; j <= k; j++)
                if (fd[j] >= 0) close(fd[j]);
            return NULL;
        }
        id_of(&st, &id[k]);
    }
    pthread_mutex_lock(&cache_mu);
    for (cache_entry *e = cache_head; e; e = e->next)
        if (!e->stale && strcmp(e->split.images_path, rp[0]) == 0 && strcmp(e->split.labels_path, rp[1]) == 0 &&
            same_id(&e->id[0], &id[0]) && same_id(&e->id[1], &id[1])) {
            e->refs++;
            pthread_mutex_unlock(&cache_mu);
            close(fd[0]);
            close(fd[1]);
            return &e->split;
        }
    pthread_mutex_unlock(&cache_mu);
    /* read outside the lock: other experiments keep using the cache meanwhile */
    cache_entry *e = calloc(1, sizeof *e);
    reader *r = malloc(sizeof *r);
    if (!e || !r) {
        free(e);
        free(r);
        close(fd[0]);
        close(fd[1]);
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    const char *names[2] = {p[0], p[1]};
    int rc = read_opened(r, fd, names, &e->split, err);
    free(r);
    if (rc) {
        dml_idx_free(&e->split);
        free(e);
        return NULL;
    }
    memcpy(e->split.images_path, rp[0], sizeof rp[0]);
    memcpy(e->split.labels_path, rp[1], sizeof rp[1]);
    memcpy(e->id, id, sizeof id);
    e->refs = 1;
    pthread_mutex_lock(&cache_mu);
    for (cache_entry *o = cache_head; o; o = o->next)
        if (strcmp(o->split.images_path, rp[0]) == 0 && strcmp(o->split.labels_path, rp[1]) == 0) o->stale = 1;
    sweep();
    e->next = cache_head;
    cache_head = e;
    pthread_mutex_unlock(&cache_mu);
    return &e->split;
}

void dml_idx_release(const dml_idx_split *s)
{
    if (!s) return;
    pthread_mutex_lock(&cache_mu);
    for (cache_entry *e = cache_head; e; e = e->next)
        if (&e->split == s) {
            e->refs--;
            break;
        }
    sweep();
    pthread_mutex_unlock(&cache_mu);
}
