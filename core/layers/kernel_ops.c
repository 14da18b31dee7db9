/* Elementwise helpers of the kernel rules (layer.h): the affine update of Dense and Conv, and sums. One copy
 * of each, so that an entry goes through the same arithmetic whichever rule or stage computes it. */
#include "layer.h"

/* Hot loops get AVX-512 and AVX2 builds next to the baseline one, picked at load time (GCC ifunc). */
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

CLONES void dml_kaffine(size_t n, double scale, double b2, const double *S, double *K, const double *ST, double *T)
{
    for (size_t i = 0; i < n; i++) K[i] = scale * S[i] + b2;
    if (T)
        for (size_t i = 0; i < n; i++) T[i] = scale * ST[i] + K[i];
}

CLONES void dml_ksum_add(double p[8], const double *a, size_t j0, size_t n)
{
    size_t i = 0;
    for (; i < n && ((j0 + i) & 7); i++) p[(j0 + i) & 7] += a[i];
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) p[k] += a[i + k];
    for (; i < n; i++) p[(j0 + i) & 7] += a[i];
}

double dml_ksum_total(const double p[8]) { return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])); }

double dml_ksum(const double *a, size_t n)
{
    double p[8] = {0};
    dml_ksum_add(p, a, 0, n);
    return dml_ksum_total(p);
}
