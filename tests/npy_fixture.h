/* dmilab tests: .npy files (format 1.0) written on the fly, for specs on a user's own arrays. */
#ifndef DMILAB_TEST_NPY_FIXTURE_H
#define DMILAB_TEST_NPY_FIXTURE_H

#include <stdio.h>

/* dir/name: a .npy file (format 1.0) of `bytes` bytes of data, with the dtype descr and shape text as numpy
 * writes them ("<f8", "(10, 4)"), optionally claiming Fortran order. Returns 0 or -1. */
static int fx_write_npy(const char *dir, const char *name, const char *descr, const char *shape, int fortran,
                        const void *data, size_t bytes)
{
    char path[512], head[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int n = snprintf(head, sizeof head, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                     fortran ? "True" : "False", shape);
    int total = 10 + n + 1, pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)((n + pad + 1) & 255),
                             (unsigned char)((n + pad + 1) >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(head, 1, (size_t)n, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    if (bytes) fwrite(data, 1, bytes, f);
    return fclose(f);
}

#endif
