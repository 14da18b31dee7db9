/* The fused window rows of window.c in an AVX-512F build: the padding mask of each window offset as one bit per
 * entry in a mask register instead of a vector of 0.0 / 1.0 loaded beside every shifted row, and every offset of
 * an output row summed in registers in one pass (window.c's portable build goes three offsets at a time through
 * the row and keeps its partial sums in dst). Several output rows go through the columns together, 32 at a
 * time, so that the input rows they share are read from L1 rather than L2 (the sums are L2-bound otherwise).
 * Compiled with -mavx512f; called only when the CPU has it. */
#include <immintrin.h>
#include "window_simd.h"

/* A masked-off entry is skipped where the portable build adds src * 0.0: the same result, since the running sum
 * starts at +0.0 and so is never -0.0, and x + (+-0.0) == x for every other x. mode 0 stores the sums, 1
 * scale * sum + b2, 2 scale * sum + add[o] (dml_kaffine's K and T updates, the same two roundings). */
static inline __m512d epilogue(int mode, __m512d acc, __m512d scale, __m512d b2, const double *add)
{
    if (mode == 0) return acc;
    return _mm512_add_pd(_mm512_mul_pd(scale, acc), mode == 1 ? b2 : _mm512_loadu_pd(add));
}

/* Columns [o, o + 32) of one row (c = o / 8): four independent sums hide the latency of the additions, and every
 * entry still takes its offsets in order. */
static inline void group32(int mode, double *dst, const double *const *src, const uint8_t *const *bits, int k,
                           long o, long c, __m512d scale, __m512d b2, const double *add)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < k; j++) {
        const double *p = src[j] + o;
        const uint8_t *b = bits[j] + c;
        a0 = _mm512_mask_add_pd(a0, (__mmask8)b[0], a0, _mm512_loadu_pd(p));
        a1 = _mm512_mask_add_pd(a1, (__mmask8)b[1], a1, _mm512_loadu_pd(p + 8));
        a2 = _mm512_mask_add_pd(a2, (__mmask8)b[2], a2, _mm512_loadu_pd(p + 16));
        a3 = _mm512_mask_add_pd(a3, (__mmask8)b[3], a3, _mm512_loadu_pd(p + 24));
    }
    _mm512_storeu_pd(dst + o, epilogue(mode, a0, scale, b2, add + o));
    _mm512_storeu_pd(dst + o + 8, epilogue(mode, a1, scale, b2, add + o + 8));
    _mm512_storeu_pd(dst + o + 16, epilogue(mode, a2, scale, b2, add + o + 16));
    _mm512_storeu_pd(dst + o + 24, epilogue(mode, a3, scale, b2, add + o + 24));
}

/* Columns [o, n) of one row, 8 at a time and a masked tail. */
static inline void rest(int mode, double *dst, const double *const *src, const uint8_t *const *bits, int k, long o,
                        long n, __m512d scale, __m512d b2, const double *add)
{
    long c = o / 8;
    for (; o + 8 <= n; o += 8, c++) {
        __m512d acc = _mm512_setzero_pd();
        for (int j = 0; j < k; j++)
            acc = _mm512_mask_add_pd(acc, (__mmask8)bits[j][c], acc, _mm512_loadu_pd(src[j] + o));
        _mm512_storeu_pd(dst + o, epilogue(mode, acc, scale, b2, add + o));
    }
    if (o < n) {
        __mmask8 tail = (__mmask8)((1u << (n - o)) - 1u);
        __m512d acc = _mm512_setzero_pd();
        for (int j = 0; j < k; j++)
            acc = _mm512_mask_add_pd(acc, (__mmask8)bits[j][c] & tail, acc,
                                     _mm512_maskz_loadu_pd((__mmask8)bits[j][c] & tail, src[j] + o));
        if (mode == 1) acc = _mm512_add_pd(_mm512_mul_pd(scale, acc), b2);
        if (mode == 2) acc = _mm512_add_pd(_mm512_mul_pd(scale, acc), _mm512_maskz_loadu_pd(tail, add + o));
        _mm512_mask_storeu_pd(dst + o, tail, acc);
    }
}

static inline void fused_rows(int mode, int rows, double *const *dst, const double *const *src, const uint8_t *const *bits,
                              const int *k, long n, double scale_, double b2_, const double *const *add)
{
    const __m512d scale = _mm512_set1_pd(scale_), b2 = _mm512_set1_pd(b2_);
    long o = 0;
    for (; o + 32 <= n; o += 32)
        for (int r = 0; r < rows; r++)
            group32(mode, dst[r], src + 64 * r, bits + 64 * r, k[r], o, o / 8, scale, b2, mode == 2 ? add[r] : dst[r]);
    for (int r = 0; r < rows; r++)
        rest(mode, dst[r], src + 64 * r, bits + 64 * r, k[r], o, n, scale, b2, mode == 2 ? add[r] : dst[r]);
}

void dml_window_fused_avx512(int rows, double *const *dst, const double *const *src, const uint8_t *const *bits,
                             const int *k, long n, const double *affine, const double *const *add)
{
    if (!affine)
        fused_rows(0, rows, dst, src, bits, k, n, 0.0, 0.0, add);
    else if (!add)
        fused_rows(1, rows, dst, src, bits, k, n, affine[0], affine[1], add);
    else
        fused_rows(2, rows, dst, src, bits, k, n, affine[0], 0.0, add);
}
