/* dmilab internal: the AVX-512F build of window.c's fused rows (window_avx512.c), which knows nothing of window
 * tables: window.c makes the lists of shifted rows and masks and calls it where the CPU has AVX-512F. */
#ifndef DMILAB_LAYERS_WINDOW_SIMD_H
#define DMILAB_LAYERS_WINDOW_SIMD_H

#include <stdint.h>

/* The AVX-512F build of the fused rows (window_avx512.c), `rows` output rows at once: for row r,
 * dst[r][o] = sum over its k[r] offsets j, in order from 0.0, of src[64 r + j][o] where bit o of bits[64 r + j]
 * is set (src already shifted, at most 64 per row; n entries; unset entries may be read but are never added).
 * The same numbers as the portable build bit for bit. affine NULL: dst holds the sums; else dst[r][o] =
 * affine[0] * sum + (add ? add[r][o] : affine[1]), rounded as dml_kaffine rounds it. */
void dml_window_fused_avx512(int rows, double *const *dst, const double *const *src, const uint8_t *const *bits,
                             const int *k, long n, const double *affine, const double *const *add);

#endif
