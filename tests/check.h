/* dmilab tests: a minimal assertion layer. Each test program counts its checks and prints
 * "<name>: N passed, N failed" at the end; the exit status is nonzero when any check failed. */
#ifndef DMILAB_TEST_CHECK_H
#define DMILAB_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (cond) {                                                              \
            check_passed++;                                                      \
        } else {                                                                 \
            check_failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
        }                                                                        \
    } while (0)

/* |a - b| <= rel * max(|a|, |b|) (and exact equality passes). */
static inline int close_rel(double a, double b, double rel)
{
    if (a == b) return 1;
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= rel * m;
}

/* The whole file as a NUL-terminated string (malloc'd), or NULL when it cannot be opened. */
static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* A new directory /tmp/dmilab-<name>-XXXXXX in dir[size] (size >= 64); returns dir or NULL. */
static inline char *check_tmpdir(const char *name, char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/dmilab-%s-XXXXXX", name);
    return mkdtemp(dir);
}

/* Remove a directory made by check_tmpdir with everything in it; 0 on success. */
static inline int check_rmdir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
