/* Activation duals, AVX2 + FMA build: ReLU's angle by relu_angle.h, erf with SLEEF's vectorised atan2 (1.0-ULP).
 * Compiled with -mavx2 -mfma; called only when the CPU has both (see dual.c). */
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include <sleef.h>
#include "dual.h"
#include "relu_angle.h"

/* relu_angle.h: phi = pi - theta in one division and a polynomial, the scalar build's operations */
static inline void relu4(__m256d k11, __m256d k22, __m256d k12, __m256d *t, __m256d *tp)
{
    const __m256d zero = _mm256_setzero_pd();
    __m256d det = _mm256_sub_pd(_mm256_mul_pd(k11, k22), _mm256_mul_pd(k12, k12));
    __m256d s = _mm256_sqrt_pd(_mm256_max_pd(det, zero));
    __m256d ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), k12);
    __m256d num = _mm256_min_pd(s, ax), den = _mm256_max_pd(s, ax);
    __m256d red = _mm256_cmp_pd(num, _mm256_mul_pd(den, _mm256_set1_pd(DML_TAN_PI_8)), _CMP_GT_OQ);
    __m256d n2 = _mm256_blendv_pd(num, _mm256_sub_pd(num, den), red);
    __m256d d2 = _mm256_blendv_pd(den, _mm256_add_pd(num, den), red);
    __m256d z = _mm256_div_pd(n2, d2), w = _mm256_mul_pd(z, z), p = _mm256_set1_pd(DML_ATAN_P[10]);
    for (int j = 9; j >= 0; j--) p = _mm256_fmadd_pd(p, w, _mm256_set1_pd(DML_ATAN_P[j]));
    __m256d a = _mm256_fmadd_pd(_mm256_mul_pd(z, w), p, z);
    a = _mm256_blendv_pd(a, _mm256_add_pd(a, _mm256_set1_pd(M_PI_4)), red);
    a = _mm256_blendv_pd(a, _mm256_sub_pd(_mm256_set1_pd(M_PI_2), a), _mm256_cmp_pd(s, ax, _CMP_GT_OQ));
    a = _mm256_blendv_pd(a, _mm256_sub_pd(_mm256_set1_pd(M_PI), a), _mm256_cmp_pd(k12, zero, _CMP_GT_OQ));
    __m256d phi = _mm256_blendv_pd(a, _mm256_set1_pd(M_PI_2), _mm256_cmp_pd(den, zero, _CMP_EQ_OQ));
    const __m256d inv2pi = _mm256_set1_pd(0.5 / M_PI);
    *t = _mm256_mul_pd(_mm256_fmadd_pd(phi, k12, s), inv2pi);
    *tp = _mm256_mul_pd(phi, inv2pi);
}

/* erf in the stable form of dual.c: d = 1 + 2 (k11 + k22) + 4 det, det = k11 k22 - k12^2 by Kahan's fma
 * algorithm (exactly 0 for a self pair), T = 2/pi atan2(2 k12, sqrt(d)), T' = 4/pi / sqrt(d). */
static inline void erf4(__m256d k11, __m256d k22, __m256d k12, __m256d *t, __m256d *tp)
{
    const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0), four = _mm256_set1_pd(4.0);
    __m256d w = _mm256_mul_pd(k12, k12);
    __m256d det = _mm256_sub_pd(_mm256_fmsub_pd(k11, k22, w), _mm256_fmsub_pd(k12, k12, w));
    det = _mm256_max_pd(det, _mm256_setzero_pd());
    __m256d d = _mm256_add_pd(_mm256_add_pd(one, _mm256_mul_pd(two, _mm256_add_pd(k11, k22))), _mm256_mul_pd(four, det));
    __m256d s = _mm256_sqrt_pd(d);
    *t = _mm256_mul_pd(_mm256_set1_pd(2.0 / M_PI), Sleef_atan2d4_u10avx2(_mm256_mul_pd(two, k12), s));
    *tp = _mm256_div_pd(_mm256_set1_pd(4.0 / M_PI), s);
}

static inline void apply4(dml_activation act, __m256d a, __m256d b, __m256d c, double *out, double *theta)
{
    __m256d t, tp;
    if (act == DML_ACT_RELU)
        relu4(a, b, c, &t, &tp);
    else
        erf4(a, b, c, &t, &tp);
    _mm256_storeu_pd(out, t);
    if (theta) _mm256_storeu_pd(theta, _mm256_mul_pd(_mm256_loadu_pd(theta), tp));
}

static void block4(dml_activation act, const double *a, int a_stride, const double *b, const double *c, double *out,
                   double *theta)
{
    apply4(act, a_stride ? _mm256_loadu_pd(a) : _mm256_set1_pd(a[0]), _mm256_loadu_pd(b), _mm256_loadu_pd(c), out,
           theta);
}

void dml_dual_avx2(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                   const double *k12, double *out, double *theta)
{
    dml_dual_blocks(block4, 4, act, n, k11, k11_stride, k22, k12, out, theta);
}

/* ---- float32 duals (dual.h, dml_dual_f32): 8 entries at a time, the determinant and erf's d in float64, the
 * square root, atan2 and erf's 1/sqrt(d) in float32 (8 lanes), T and T' assembled in float64. */

static inline __m256 narrow8(__m256d lo, __m256d hi)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}

static inline __m256d widen_lo(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
static inline __m256d widen_hi(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

static inline void apply8_f32(dml_activation act, const double *a, int a_stride, const double *b, const double *c,
                              double *out, double *theta)
{
    __m256d k11[2], k22[2], k12[2], t[2], tp[2];
    for (int h = 0; h < 2; h++) {
        k11[h] = a_stride ? _mm256_loadu_pd(a + 4 * h) : _mm256_set1_pd(a[0]);
        k22[h] = _mm256_loadu_pd(b + 4 * h);
        k12[h] = _mm256_loadu_pd(c + 4 * h);
    }
    const __m256d zero = _mm256_setzero_pd();
    if (act == DML_ACT_RELU) {
        __m256d det[2];
        for (int h = 0; h < 2; h++)
            det[h] = _mm256_max_pd(_mm256_sub_pd(_mm256_mul_pd(k11[h], k22[h]), _mm256_mul_pd(k12[h], k12[h])), zero);
        __m256 cf = narrow8(k12[0], k12[1]);
        __m256 sf = _mm256_sqrt_ps(narrow8(det[0], det[1]));
        __m256 thf = Sleef_atan2f8_u35avx2(sf, cf);
        __m256 both0 = _mm256_and_ps(_mm256_cmp_ps(sf, _mm256_setzero_ps(), _CMP_EQ_OQ),
                                     _mm256_cmp_ps(cf, _mm256_setzero_ps(), _CMP_EQ_OQ));
        thf = _mm256_blendv_ps(thf, _mm256_set1_ps((float)M_PI_2), both0);
        __m256d th[2] = {widen_lo(thf), widen_hi(thf)}, s[2] = {widen_lo(sf), widen_hi(sf)};
        const __m256d inv2pi = _mm256_set1_pd(0.5 / M_PI);
        for (int h = 0; h < 2; h++) {
            __m256d al = _mm256_sub_pd(_mm256_set1_pd(M_PI), th[h]);
            t[h] = _mm256_mul_pd(_mm256_add_pd(s[h], _mm256_mul_pd(al, k12[h])), inv2pi);
            tp[h] = _mm256_mul_pd(al, inv2pi);
        }
    } else {
        const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0), four = _mm256_set1_pd(4.0);
        __m256d d[2], c2[2];
        for (int h = 0; h < 2; h++) {
            __m256d w = _mm256_mul_pd(k12[h], k12[h]);
            __m256d det = _mm256_sub_pd(_mm256_fmsub_pd(k11[h], k22[h], w), _mm256_fmsub_pd(k12[h], k12[h], w));
            det = _mm256_max_pd(det, zero);
            d[h] = _mm256_add_pd(_mm256_add_pd(one, _mm256_mul_pd(two, _mm256_add_pd(k11[h], k22[h]))),
                                 _mm256_mul_pd(four, det));
            c2[h] = _mm256_mul_pd(two, k12[h]);
        }
        __m256 sf = _mm256_sqrt_ps(narrow8(d[0], d[1]));
        __m256 atf = Sleef_atan2f8_u10avx2(narrow8(c2[0], c2[1]), sf);
        __m256 tpf = _mm256_div_ps(_mm256_set1_ps((float)(4.0 / M_PI)), sf);
        const __m256d k = _mm256_set1_pd(2.0 / M_PI);
        t[0] = _mm256_mul_pd(k, widen_lo(atf));
        t[1] = _mm256_mul_pd(k, widen_hi(atf));
        tp[0] = widen_lo(tpf);
        tp[1] = widen_hi(tpf);
    }
    for (int h = 0; h < 2; h++) {
        _mm256_storeu_pd(out + 4 * h, t[h]);
        if (theta) _mm256_storeu_pd(theta + 4 * h, _mm256_mul_pd(_mm256_loadu_pd(theta + 4 * h), tp[h]));
    }
}

void dml_dual_f32_avx2(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                       const double *k12, double *out, double *theta)
{
    dml_dual_blocks(apply8_f32, 8, act, n, k11, k11_stride, k22, k12, out, theta);
}
