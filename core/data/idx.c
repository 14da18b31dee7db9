/* IDX files (the MNIST / Fashion-MNIST layout), gzip-compressed or plain, and a process-wide cache. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "dmilab/data.h"

static int read_all(gzFile g, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int r = gzread(g, p, chunk);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Open an IDX file and check its magic: uint8 data (0x08) with `dims` dimensions; dims[] gets the sizes. */
static gzFile open_idx(const char *path, int ndims, uint32_t *dims, dml_error *err)
{
    gzFile g = gzopen(path, "rb");
    if (!g) {
        dml_fail(err, DML_ERR_IO, NULL, "cannot open %s", path);
        return NULL;
    }
    unsigned char h[4 + 4 * 3];
    if (read_all(g, h, 4 + 4 * (size_t)ndims) || h[0] || h[1] || h[2] != 0x08 || h[3] != ndims) {
        gzclose(g);
        dml_fail(err, DML_ERR_IO, NULL, "%s is not an IDX file of uint8 with %d dimensions", path, ndims);
        return NULL;
    }
    for (int i = 0; i < ndims; i++) dims[i] = be32(h + 4 + 4 * i);
    return g;
}

int dml_idx_read_images(const char *path, dml_idx_split *out, dml_error *err)
{
    uint32_t d[3];
    gzFile g = open_idx(path, 3, d, err);
    if (!g) return -1;
    if (d[1] == 0 || d[2] == 0 || d[1] > 4096 || d[2] > 4096 || d[0] > 100000000u) {
        gzclose(g);
        return dml_fail(err, DML_ERR_IO, NULL, "%s: implausible image dimensions", path);
    }
    size_t bytes = (size_t)d[0] * d[1] * d[2];
    uint8_t *img = malloc(bytes ? bytes : 1);
    if (!img) {
        gzclose(g);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory reading %s", path);
    }
    if (read_all(g, img, bytes)) {
        free(img);
        gzclose(g);
        return dml_fail(err, DML_ERR_IO, NULL, "%s is truncated", path);
    }
    gzclose(g);
    out->n = d[0];
    out->rows = (int)d[1];
    out->cols = (int)d[2];
    out->images = img;
    return 0;
}

int dml_idx_read_labels(const char *path, dml_idx_split *out, dml_error *err)
{
    uint32_t d[1];
    gzFile g = open_idx(path, 1, d, err);
    if (!g) return -1;
    if (out->n && d[0] != out->n) {
        gzclose(g);
        return dml_fail(err, DML_ERR_IO, NULL, "%s has %u labels for %zu images", path, d[0], out->n);
    }
    uint8_t *lab = malloc(d[0] ? d[0] : 1);
    if (!lab) {
        gzclose(g);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory reading %s", path);
    }
    if (read_all(g, lab, d[0])) {
        free(lab);
        gzclose(g);
        return dml_fail(err, DML_ERR_IO, NULL, "%s is truncated", path);
    }
    gzclose(g);
    out->n = d[0];
    out->labels = lab;
    return 0;
}

int dml_idx_read_split(const char *dir, const char *prefix, dml_idx_split *out, dml_error *err)
{
    char p[2048];
    memset(out, 0, sizeof *out);
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    if (dml_idx_read_images(p, out, err)) return -1;
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    if (dml_idx_read_labels(p, out, err)) {
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

typedef struct cache_entry {
    char key[2100];
    dml_idx_split split;
    struct cache_entry *next;
} cache_entry;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_entry *cache_head;

const dml_idx_split *dml_idx_cached(const char *dir, const char *prefix, dml_error *err)
{
    char key[2100];
    snprintf(key, sizeof key, "%s\n%s", dir, prefix);
    pthread_mutex_lock(&cache_mu);
    for (cache_entry *e = cache_head; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            pthread_mutex_unlock(&cache_mu);
            return &e->split;
        }
    cache_entry *e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&cache_mu);
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    if (dml_idx_read_split(dir, prefix, &e->split, err)) {
        free(e);
        pthread_mutex_unlock(&cache_mu);
        return NULL;
    }
    memcpy(e->key, key, sizeof key);
    e->next = cache_head;
    cache_head = e;
    pthread_mutex_unlock(&cache_mu);
    return &e->split;
}
