/* dmilab tests: the SHA-256 of a whole file, read independently of the IDX reader (core tests only). */
#ifndef DMILAB_TEST_SHA256_FILE_H
#define DMILAB_TEST_SHA256_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include "dmilab/sha256.h"

/* hex[DML_SHA256_HEX] gets the digest, "" when the file cannot be read. */
static inline void sha256_file(const char *path, char *hex)
{
    hex[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) == (size_t)n) dml_sha256_hex(b, (size_t)n, hex);
    free(b);
    fclose(f);
}

#endif
