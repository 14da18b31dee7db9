/* dmilab tests: small IDX data directories written on the fly (the MNIST layout: train and t10k images and
 * labels, gzip), for images of any side, constant images, and replaced or missing files. */
#ifndef DMILAB_TEST_IDX_FIXTURE_H
#define DMILAB_TEST_IDX_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static void fx_be32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24), b[1] = (unsigned char)(v >> 16), b[2] = (unsigned char)(v >> 8), b[3] = (unsigned char)v;
}

/* One gzip file of `n` bytes after an IDX header of `nd` dimensions. Returns 0 or -1. */
static int fx_write_gz(const char *path, const uint32_t *dims, int nd, const unsigned char *data, size_t n)
{
    unsigned char h[16] = {0, 0, 8, (unsigned char)nd};
    for (int i = 0; i < nd; i++) fx_be32(h + 4 + 4 * i, dims[i]);
    gzFile g = gzopen(path, "wb");
    if (!g) return -1;
    int ok = gzwrite(g, h, (unsigned)(4 + 4 * nd)) > 0 && (n == 0 || gzwrite(g, data, (unsigned)n) == (int)n);
    return gzclose(g) == Z_OK && ok ? 0 : -1;
}

/* The split `prefix` ("train" or "t10k") of `n` images rows x cols in `dir`: label i % 10; pixels a class
 * pattern (a bright band whose row depends on the label) plus noise from `seed`, or all equal to `constant`
 * when constant >= 0 (such images standardise to zeros). Returns 0 or -1. */
static int fx_write_split(const char *dir, const char *prefix, size_t n, int rows, int cols, uint32_t seed, int constant)
{
    size_t px = (size_t)rows * (size_t)cols;
    unsigned char *img = malloc(n * px + 1), *lab = malloc(n + 1);
    if (!img || !lab) return -1;
    uint32_t r = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        lab[i] = (unsigned char)(i % 10);
        for (size_t p = 0; p < px; p++) {
            r = r * 1664525u + 1013904223u;
            int band = (int)(p / (size_t)cols) == (int)(lab[i] % (unsigned)rows);
            img[i * px + p] = constant >= 0 ? (unsigned char)constant : (unsigned char)((band ? 160 : 0) + (r >> 26));
        }
    }
    char path[1400];
    uint32_t d3[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols}, d1[1] = {(uint32_t)n};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    int rc = fx_write_gz(path, d3, 3, img, n * px);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    rc |= fx_write_gz(path, d1, 1, lab, n);
    free(img);
    free(lab);
    return rc;
}

/* A data directory (created if missing) with `ntrain` training and `ntest` test images. */
static int fx_write_dir(const char *dir, size_t ntrain, size_t ntest, int rows, int cols, uint32_t seed, int constant)
{
    mkdir(dir, 0755);
    return fx_write_split(dir, "train", ntrain, rows, cols, seed, constant) ||
           fx_write_split(dir, "t10k", ntest, rows, cols, seed + 1, constant);
}

#endif
