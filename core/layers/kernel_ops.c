/* Elementwise helpers of the kernel rules (layer.h): the affine update of Dense and Conv, and sums. One copy
 * of each, so that an entry goes through the same arithmetic whichever rule or stage computes it. */
#include <string.h>
#include "layer.h"

/* Hot loops get AVX-512 and AVX2 builds next to the baseline one, picked at load time (GCC ifunc). */
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

CLONES void dml_kaffine(size_t n, double scale, double b2, const double *S, double *K, const double *ST, double *T)
{
    for (size_t i = 0; i < n; i++) K[i] = scale * S[i] + b2;
    if (T)
        for (size_t i = 0; i < n; i++) T[i] = scale * ST[i] + K[i];
}

CLONES void dml_ksum_add(double p[DML_KSUM_LANES], const double *a, size_t j0, size_t n)
{
    enum { L = DML_KSUM_LANES };
    double q[L];
    memcpy(q, p, sizeof q);
    size_t i = 0;
    for (; i < n && ((j0 + i) & (L - 1)); i++) q[(j0 + i) & (L - 1)] += a[i];
    for (; i + L <= n; i += L)
        for (int k = 0; k < L; k++) q[k] += a[i + k];
    for (; i < n; i++) q[(j0 + i) & (L - 1)] += a[i];
    memcpy(p, q, sizeof q);
}

/* pairwise: lanes k and k + h for h = 16, 8, 4, 2, 1 */
double dml_ksum_total(const double p[DML_KSUM_LANES])
{
    double q[DML_KSUM_LANES];
    memcpy(q, p, sizeof q);
    for (int h = DML_KSUM_LANES / 2; h >= 1; h /= 2)
        for (int k = 0; k < h; k++) q[k] = q[k] + q[k + h];
    return q[0];
}

double dml_ksum(const double *a, size_t n)
{
    double p[DML_KSUM_LANES] = {0};
    dml_ksum_add(p, a, 0, n);
    return dml_ksum_total(p);
}
