/* The fused window rows of window.c in an AVX-512F build: the padding mask of each window offset as one bit per
 * entry in a mask register instead of a vector of 0.0 / 1.0 loaded beside every shifted row, and every offset of
 * an output row summed in registers in one pass (window.c's portable build goes three offsets at a time through
 * the row and keeps its partial sums in dst). Compiled with -mavx512f; called only when the CPU has it. */
#include <immintrin.h>
#include "window.h"

/* A masked-off entry is skipped where the portable build adds src * 0.0: the same result, since the running sum
 * starts at +0.0 and so is never -0.0, and x + (+-0.0) == x for every other x. */
void dml_window_fused_avx512(double *restrict dst, const double *const *src, const uint8_t *const *bits, int k,
                             long n)
{
    long o = 0, c = 0;
    /* four chunks of 8 entries at a time: four independent sums hide the latency of the additions, and every
     * entry still takes its offsets in order */
    for (; o + 32 <= n; o += 32, c += 4) {
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < k; j++) {
            const double *p = src[j] + o;
            const uint8_t *b = bits[j] + c;
            a0 = _mm512_mask_add_pd(a0, (__mmask8)b[0], a0, _mm512_loadu_pd(p));
            a1 = _mm512_mask_add_pd(a1, (__mmask8)b[1], a1, _mm512_loadu_pd(p + 8));
            a2 = _mm512_mask_add_pd(a2, (__mmask8)b[2], a2, _mm512_loadu_pd(p + 16));
            a3 = _mm512_mask_add_pd(a3, (__mmask8)b[3], a3, _mm512_loadu_pd(p + 24));
        }
        _mm512_storeu_pd(dst + o, a0);
        _mm512_storeu_pd(dst + o + 8, a1);
        _mm512_storeu_pd(dst + o + 16, a2);
        _mm512_storeu_pd(dst + o + 24, a3);
    }
    for (; o + 8 <= n; o += 8, c++) {
        __m512d acc = _mm512_setzero_pd();
        for (int j = 0; j < k; j++)
            acc = _mm512_mask_add_pd(acc, (__mmask8)bits[j][c], acc, _mm512_loadu_pd(src[j] + o));
        _mm512_storeu_pd(dst + o, acc);
    }
    if (o < n) {
        __mmask8 tail = (__mmask8)((1u << (n - o)) - 1u);
        __m512d acc = _mm512_setzero_pd();
        for (int j = 0; j < k; j++)
            acc = _mm512_mask_add_pd(acc, (__mmask8)bits[j][c] & tail, acc,
                                     _mm512_maskz_loadu_pd((__mmask8)bits[j][c] & tail, src[j] + o));
        _mm512_mask_storeu_pd(dst + o, tail, acc);
    }
}

