/* dmilab internal: activation duals (the kernel rule of the activation layers), on arrays.
 * Every lane is computed by the same code whatever its position in the array (tails are padded to
 * a full vector), so a self pair computed inside a matrix and the same pair computed in a vector of
 * self covariances give bit-identical results (DESIGN 2.1, self pairs). */
#ifndef DMILAB_LAYERS_DUAL_H
#define DMILAB_LAYERS_DUAL_H

#include <stddef.h>
#include "dmilab/model.h"

/** Apply the dual of `act` to n covariance entries.
 *  k11: self covariance of the first input of each entry; `k11_stride` 0 broadcasts k11[0], 1 reads k11[i].
 *  k22: self covariance of the second input, n entries. k12: cross covariance, n entries.
 *  out: n outputs T(k11, k22, k12) (may alias k12).
 *  theta: when not NULL, n NTK entries multiplied in place by T'(k11, k22, k12).
 *  ReLU (Cho & Saul 2009, arc-cosine kernel of degree 1, without the factor 2):
 *    theta = atan2(sqrt(max(k11 k22 - k12^2, 0)), k12), pi/2 when both are 0;
 *    T = (sqrt(k11 k22 - k12^2) + (pi - theta) k12) / (2 pi), T' = (pi - theta) / (2 pi);
 *    pi - theta computed directly by relu_angle.h (one division and a polynomial), the same bits in every build.
 *  erf (Williams 1997): T = 2/pi asin(2 k12 / sqrt((1 + 2 k11)(1 + 2 k22))),
 *    T' = 4/pi / sqrt((1 + 2 k11)(1 + 2 k22) - 4 k12^2), evaluated in the stable form
 *    d = 1 + 2 (k11 + k22) + 4 (k11 k22 - k12^2) (the determinant by Kahan's fma algorithm, exactly 0 for a
 *    self pair), T = 2/pi atan2(2 k12, sqrt(d)), T' = 4/pi / sqrt(d): accurate at any input scale, where the
 *    product form cancels catastrophically on self pairs of large inputs (issue 9). */
void dml_dual(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
              const double *k12, double *out, double *theta);

/** dml_dual with kernel_precision float32: the same formulas, with the determinant (and for erf the whole
 *  stable-form d) in float64 as above, then the square root, the atan2 and erf's 1/sqrt(d) in float32 (SLEEF's
 *  float atan2, 3.5 ULP for relu, 1 ULP for erf), T and T' assembled in float64 again. A self pair keeps
 *  det == 0 exactly, so its angle is exactly 0. Entries are limited to float's range: a determinant or d above
 *  3.4e38 (covariances above about 1e19) gives inf, which the engine reports as non-finite. Errors against
 *  float64: docs/kernels.md. */
void dml_dual_f32(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                  const double *k12, double *out, double *theta);

/* The loop of the vector builds: blocks of W <= 16 entries through blk, the tail padded with a harmless
 * (1, 1, 0.5) entry and sent through the same block, so that every entry goes through the same code. */
typedef void (*dml_dual_block)(dml_activation act, const double *k11, int k11_stride, const double *k22,
                               const double *k12, double *out, double *theta);

static inline void dml_dual_blocks(dml_dual_block blk, size_t W, dml_activation act, size_t n, const double *k11,
                                   int k11_stride, const double *k22, const double *k12, double *out, double *theta)
{
    size_t i = 0;
    for (; i + W <= n; i += W)
        blk(act, k11_stride ? k11 + i : k11, k11_stride, k22 + i, k12 + i, out + i, theta ? theta + i : NULL);
    if (i < n) {
        double a[16], b[16], c[16], o[16] = {0}, th[16];
        for (size_t j = 0; j < W; j++) a[j] = b[j] = th[j] = 1.0, c[j] = 0.5;
        size_t r = n - i;
        for (size_t j = 0; j < r; j++) {
            a[j] = k11[k11_stride ? i + j : 0];
            b[j] = k22[i + j];
            c[j] = k12[i + j];
            if (theta) th[j] = theta[i + j];
        }
        blk(act, a, 1, b, c, o, theta ? th : NULL);
        for (size_t j = 0; j < r; j++) {
            out[i + j] = o[j];
            if (theta) theta[i + j] = th[j];
        }
    }
}

/** The instruction set dml_dual uses in this process: "avx512f", "avx2+fma" or "scalar". */
const char *dml_dual_isa(void);

/* The builds behind dml_dual (same contract). */
void dml_dual_scalar(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                     const double *k12, double *out, double *theta);
void dml_dual_avx512(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                     const double *k12, double *out, double *theta);
void dml_dual_avx2(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                   const double *k12, double *out, double *theta);
void dml_dual_f32_scalar(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                         const double *k12, double *out, double *theta);
void dml_dual_f32_avx512(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                         const double *k12, double *out, double *theta);
void dml_dual_f32_avx2(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                       const double *k12, double *out, double *theta);

#endif
