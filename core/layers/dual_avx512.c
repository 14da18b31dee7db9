/* Activation duals, AVX-512F build: ReLU's angle by relu_angle.h, erf with SLEEF's vectorised atan2 (1.0-ULP), 8 lanes in
 * float64, 16 in float32. Compiled with -mavx512f; called only when the CPU has it (see dual.c). Same formulas as dual_avx2.c. */
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include <sleef.h>
#include "dual.h"
#include "relu_angle.h"

/* relu_angle.h: phi = pi - theta in one division and a polynomial, the scalar build's operations. In two
 * parts, so that the loop below can start the square root and division of a later block (part a) before the
 * polynomial of an earlier one (part b): the scheduler then holds independent work while they run. */
typedef struct {
    __m512d k12, s, ax, den, z;
    __mmask8 red;
} relu_part;

static inline relu_part relu8_a(__m512d k11, __m512d k22, __m512d k12)
{
    const __m512d zero = _mm512_setzero_pd();
    relu_part r;
    __m512d det = _mm512_sub_pd(_mm512_mul_pd(k11, k22), _mm512_mul_pd(k12, k12));
    r.k12 = k12;
    r.s = _mm512_sqrt_pd(_mm512_max_pd(det, zero));
    r.ax = _mm512_abs_pd(k12);
    __m512d num = _mm512_min_pd(r.s, r.ax);
    r.den = _mm512_max_pd(r.s, r.ax);
    r.red = _mm512_cmp_pd_mask(num, _mm512_mul_pd(r.den, _mm512_set1_pd(DML_TAN_PI_8)), _CMP_GT_OQ);
    __m512d n2 = _mm512_mask_sub_pd(num, r.red, num, r.den), d2 = _mm512_mask_add_pd(r.den, r.red, num, r.den);
    r.z = _mm512_div_pd(n2, d2);
    return r;
}

static inline void relu8_b(const relu_part *r, __m512d *t, __m512d *tp)
{
    const __m512d zero = _mm512_setzero_pd();
    __m512d z = r->z, w = _mm512_mul_pd(z, z), p = _mm512_set1_pd(DML_ATAN_P[10]);
    for (int j = 9; j >= 0; j--) p = _mm512_fmadd_pd(p, w, _mm512_set1_pd(DML_ATAN_P[j]));
    __m512d a = _mm512_fmadd_pd(_mm512_mul_pd(z, w), p, z);
    a = _mm512_mask_add_pd(a, r->red, a, _mm512_set1_pd(M_PI_4));
    a = _mm512_mask_sub_pd(a, _mm512_cmp_pd_mask(r->s, r->ax, _CMP_GT_OQ), _mm512_set1_pd(M_PI_2), a);
    a = _mm512_mask_sub_pd(a, _mm512_cmp_pd_mask(r->k12, zero, _CMP_GT_OQ), _mm512_set1_pd(M_PI), a);
    __m512d phi = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(r->den, zero, _CMP_EQ_OQ), a, _mm512_set1_pd(M_PI_2));
    const __m512d inv2pi = _mm512_set1_pd(0.5 / M_PI);
    *t = _mm512_mul_pd(_mm512_fmadd_pd(phi, r->k12, r->s), inv2pi);
    *tp = _mm512_mul_pd(phi, inv2pi);
}

static inline void relu8(__m512d k11, __m512d k22, __m512d k12, __m512d *t, __m512d *tp)
{
    relu_part r = relu8_a(k11, k22, k12);
    relu8_b(&r, t, tp);
}

/* relu8 on the whole blocks of n entries, part a two blocks ahead of part b; returns the entries done. */
static size_t relu_blocks(size_t n, const double *k11, int k11_stride, const double *k22, const double *k12,
                          double *out, double *theta)
{
    size_t nb = n / 8;
    if (nb < 2) return 0;
    __m512d b11 = _mm512_set1_pd(k11[0]);
#define PART_A(o) \
    relu8_a(k11_stride ? _mm512_loadu_pd(k11 + (o)) : b11, _mm512_loadu_pd(k22 + (o)), _mm512_loadu_pd(k12 + (o)))
    relu_part q0 = PART_A(0), q1 = PART_A(8);
    for (size_t i = 0; i < nb; i++) {
        relu_part q2 = q1;
        if (i + 2 < nb) q2 = PART_A(8 * (i + 2));
        __m512d t, tp;
        relu8_b(&q0, &t, &tp);
        _mm512_storeu_pd(out + 8 * i, t);   /* out may alias k12: block i is read already */
        if (theta) _mm512_storeu_pd(theta + 8 * i, _mm512_mul_pd(_mm512_loadu_pd(theta + 8 * i), tp));
        q0 = q1;
        q1 = q2;
    }
#undef PART_A
    return 8 * nb;
}

/* erf in the stable form of dual.c (see dual_avx2.c). */
static inline void erf8(__m512d k11, __m512d k22, __m512d k12, __m512d *t, __m512d *tp)
{
    const __m512d one = _mm512_set1_pd(1.0), two = _mm512_set1_pd(2.0), four = _mm512_set1_pd(4.0);
    __m512d w = _mm512_mul_pd(k12, k12);
    __m512d det = _mm512_sub_pd(_mm512_fmsub_pd(k11, k22, w), _mm512_fmsub_pd(k12, k12, w));
    det = _mm512_max_pd(det, _mm512_setzero_pd());
    __m512d d = _mm512_add_pd(_mm512_add_pd(one, _mm512_mul_pd(two, _mm512_add_pd(k11, k22))), _mm512_mul_pd(four, det));
    __m512d s = _mm512_sqrt_pd(d);
    *t = _mm512_mul_pd(_mm512_set1_pd(2.0 / M_PI), Sleef_atan2d8_u10avx512f(_mm512_mul_pd(two, k12), s));
    *tp = _mm512_div_pd(_mm512_set1_pd(4.0 / M_PI), s);
}

static inline void apply8(dml_activation act, __m512d a, __m512d b, __m512d c, double *out, double *theta)
{
    __m512d t, tp;
    if (act == DML_ACT_RELU)
        relu8(a, b, c, &t, &tp);
    else
        erf8(a, b, c, &t, &tp);
    _mm512_storeu_pd(out, t);
    if (theta) _mm512_storeu_pd(theta, _mm512_mul_pd(_mm512_loadu_pd(theta), tp));
}

static void block8(dml_activation act, const double *a, int a_stride, const double *b, const double *c, double *out,
                   double *theta)
{
    apply8(act, a_stride ? _mm512_loadu_pd(a) : _mm512_set1_pd(a[0]), _mm512_loadu_pd(b), _mm512_loadu_pd(c), out,
           theta);
}

void dml_dual_avx512(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                     const double *k12, double *out, double *theta)
{
    size_t done = act == DML_ACT_RELU ? relu_blocks(n, k11, k11_stride, k22, k12, out, theta) : 0;
    dml_dual_blocks(block8, 8, act, n - done, k11_stride ? k11 + done : k11, k11_stride, k22 + done, k12 + done,
                    out + done, theta ? theta + done : NULL);
}

/* ---- float32 duals (dual.h, dml_dual_f32): 16 entries at a time, the determinant and erf's d in float64,
 * the square root, atan2 and erf's 1/sqrt(d) in float32 (16 lanes), T and T' assembled in float64. */

static inline __m512 narrow16(__m512d lo, __m512d hi)
{
    __m256 l = _mm512_cvtpd_ps(lo), h = _mm512_cvtpd_ps(hi);
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(l)), _mm256_castps_pd(h), 1));
}

static inline __m512d widen_lo(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
static inline __m512d widen_hi(__m512 v)
{
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

static inline void relu16_f32(const __m512d k11[2], const __m512d k22[2], const __m512d k12[2], __m512d t[2],
                              __m512d tp[2])
{
    const __m512d zero = _mm512_setzero_pd();
    __m512d det[2];
    for (int h = 0; h < 2; h++)
        det[h] = _mm512_max_pd(_mm512_sub_pd(_mm512_mul_pd(k11[h], k22[h]), _mm512_mul_pd(k12[h], k12[h])), zero);
    __m512 cf = narrow16(k12[0], k12[1]);
    __m512 sf = _mm512_sqrt_ps(narrow16(det[0], det[1]));
    __m512 thf = Sleef_atan2f16_u35avx512f(sf, cf);
    __mmask16 both0 = _mm512_cmp_ps_mask(sf, _mm512_setzero_ps(), _CMP_EQ_OQ) &
                      _mm512_cmp_ps_mask(cf, _mm512_setzero_ps(), _CMP_EQ_OQ);
    thf = _mm512_mask_blend_ps(both0, thf, _mm512_set1_ps((float)M_PI_2));
    __m512d th[2] = {widen_lo(thf), widen_hi(thf)}, s[2] = {widen_lo(sf), widen_hi(sf)};
    const __m512d inv2pi = _mm512_set1_pd(0.5 / M_PI);
    for (int h = 0; h < 2; h++) {
        __m512d a = _mm512_sub_pd(_mm512_set1_pd(M_PI), th[h]);
        t[h] = _mm512_mul_pd(_mm512_add_pd(s[h], _mm512_mul_pd(a, k12[h])), inv2pi);
        tp[h] = _mm512_mul_pd(a, inv2pi);
    }
}

static inline void erf16_f32(const __m512d k11[2], const __m512d k22[2], const __m512d k12[2], __m512d t[2],
                             __m512d tp[2])
{
    const __m512d one = _mm512_set1_pd(1.0), two = _mm512_set1_pd(2.0), four = _mm512_set1_pd(4.0);
    __m512d d[2], c2[2];
    for (int h = 0; h < 2; h++) {
        __m512d w = _mm512_mul_pd(k12[h], k12[h]);
        __m512d det = _mm512_sub_pd(_mm512_fmsub_pd(k11[h], k22[h], w), _mm512_fmsub_pd(k12[h], k12[h], w));
        det = _mm512_max_pd(det, _mm512_setzero_pd());
        d[h] = _mm512_add_pd(_mm512_add_pd(one, _mm512_mul_pd(two, _mm512_add_pd(k11[h], k22[h]))),
                             _mm512_mul_pd(four, det));
        c2[h] = _mm512_mul_pd(two, k12[h]);
    }
    __m512 sf = _mm512_sqrt_ps(narrow16(d[0], d[1]));
    __m512 atf = Sleef_atan2f16_u10avx512f(narrow16(c2[0], c2[1]), sf);
    __m512 tpf = _mm512_div_ps(_mm512_set1_ps((float)(4.0 / M_PI)), sf);
    const __m512d k = _mm512_set1_pd(2.0 / M_PI);
    t[0] = _mm512_mul_pd(k, widen_lo(atf));
    t[1] = _mm512_mul_pd(k, widen_hi(atf));
    tp[0] = widen_lo(tpf);
    tp[1] = widen_hi(tpf);
}

static inline void apply16_f32(dml_activation act, const double *a, int a_stride, const double *b, const double *c,
                               double *out, double *theta)
{
    __m512d k11[2], k22[2], k12[2], t[2], tp[2];
    for (int h = 0; h < 2; h++) {
        k11[h] = a_stride ? _mm512_loadu_pd(a + 8 * h) : _mm512_set1_pd(a[0]);
        k22[h] = _mm512_loadu_pd(b + 8 * h);
        k12[h] = _mm512_loadu_pd(c + 8 * h);
    }
    if (act == DML_ACT_RELU)
        relu16_f32(k11, k22, k12, t, tp);
    else
        erf16_f32(k11, k22, k12, t, tp);
    for (int h = 0; h < 2; h++) {
        _mm512_storeu_pd(out + 8 * h, t[h]);
        if (theta) _mm512_storeu_pd(theta + 8 * h, _mm512_mul_pd(_mm512_loadu_pd(theta + 8 * h), tp[h]));
    }
}

void dml_dual_f32_avx512(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                         const double *k12, double *out, double *theta)
{
    dml_dual_blocks(apply16_f32, 16, act, n, k11, k11_stride, k22, k12, out, theta);
}
