/* Activation duals (the kernel rule of relu and erf, DESIGN 2.1): the portable scalar build and the run-time
 * dispatch to the AVX2 and AVX-512 builds. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "dual.h"
#include "relu_angle.h"

/* phi = pi - theta of relu_angle.h, the same operations as the vector builds. */
static inline double relu_phi(double s, double k12)
{
    double ax = fabs(k12);
    double num = s < ax ? s : ax, den = s > ax ? s : ax;
    int red = num > den * DML_TAN_PI_8;
    double n2 = red ? num - den : num, d2 = red ? num + den : den;
    double z = n2 / d2, w = z * z, p = DML_ATAN_P[10];
    for (int j = 9; j >= 0; j--) p = fma(p, w, DML_ATAN_P[j]);
    double a = fma(z * w, p, z);
    if (red) a = a + M_PI_4;
    if (s > ax) a = M_PI_2 - a;
    if (k12 > 0.0) a = M_PI - a;
    return den == 0.0 ? M_PI_2 : a;
}

static inline void relu_one(double k11, double k22, double k12, double *t, double *tp)
{
    double det = k11 * k22 - k12 * k12;
    double s = sqrt(det > 0.0 ? det : 0.0);
    double phi = relu_phi(s, k12);
    *t = fma(phi, k12, s) * (0.5 / M_PI);
    *tp = phi * (0.5 / M_PI);
}

/* k11 k22 - k12^2 without cancellation (Kahan's 2x2 determinant: the rounding error of k12^2, recovered with
 * an fma, is subtracted again), clamped at 0; exactly 0 for a self pair (k11 == k22 == k12). */
static inline double det2(double k11, double k22, double k12)
{
    double w = k12 * k12, e = fma(k12, k12, -w), f = fma(k11, k22, -w), d = f - e;
    return d > 0.0 ? d : 0.0;
}

/* erf in the stable form: (1 + 2 k11)(1 + 2 k22) - 4 k12^2 = 1 + 2 (k11 + k22) + 4 (k11 k22 - k12^2), and
 * asin(2 k12 / sqrt(that + 4 k12^2)) = atan2(2 k12, sqrt(that)), well conditioned at any scale. */
static inline void erf_one(double k11, double k22, double k12, double *t, double *tp)
{
    double d = 1.0 + 2.0 * (k11 + k22) + 4.0 * det2(k11, k22, k12), s = sqrt(d);
    *t = (2.0 / M_PI) * atan2(2.0 * k12, s);
    *tp = (4.0 / M_PI) / s;
}

/* The float32 duals (dual.h, dml_dual_f32): determinant and d in float64, sqrt and atan2 in float. */
static inline void relu_one_f32(double k11, double k22, double k12, double *t, double *tp)
{
    double det = k11 * k22 - k12 * k12;
    float sf = sqrtf((float)(det > 0.0 ? det : 0.0)), cf = (float)k12;
    float thf = (sf == 0.0f && cf == 0.0f) ? (float)M_PI_2 : atan2f(sf, cf);
    double a = M_PI - (double)thf;
    *t = ((double)sf + a * k12) * (0.5 / M_PI);
    *tp = a * (0.5 / M_PI);
}

static inline void erf_one_f32(double k11, double k22, double k12, double *t, double *tp)
{
    double d = 1.0 + 2.0 * (k11 + k22) + 4.0 * det2(k11, k22, k12);
    float sf = sqrtf((float)d);
    *t = (2.0 / M_PI) * (double)atan2f((float)(2.0 * k12), sf);
    *tp = (double)((float)(4.0 / M_PI) / sf);
}

void dml_dual_f32_scalar(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                         const double *k12, double *out, double *theta)
{
    for (size_t i = 0; i < n; i++) {
        double a = k11[k11_stride ? i : 0], t, tp;
        if (act == DML_ACT_RELU)
            relu_one_f32(a, k22[i], k12[i], &t, &tp);
        else
            erf_one_f32(a, k22[i], k12[i], &t, &tp);
        out[i] = t;
        if (theta) theta[i] *= tp;
    }
}

void dml_dual_scalar(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                     const double *k12, double *out, double *theta)
{
    for (size_t i = 0; i < n; i++) {
        double a = k11[k11_stride ? i : 0], t, tp;
        if (act == DML_ACT_RELU)
            relu_one(a, k22[i], k12[i], &t, &tp);
        else
            erf_one(a, k22[i], k12[i], &t, &tp);
        out[i] = t;
        if (theta) theta[i] *= tp;
    }
}

typedef void (*dual_fn)(dml_activation, size_t, const double *, int, const double *, const double *, double *,
                        double *);

/* The widest build this CPU runs, chosen once per process: every call of a process uses the same code,
 * which keeps self pairs bit-identical across calls. DMILAB_SIMD=scalar|avx2|avx512 caps the choice.
 * pthread_once: kernel threads may make the first call at the same time. */
static dual_fn chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    __builtin_cpu_init();
    const char *cap = getenv("DMILAB_SIMD");
    int allow512 = !cap || strcmp(cap, "avx512") == 0, allow2 = allow512 || (cap && strcmp(cap, "avx2") == 0);
    dual_fn f = dml_dual_scalar;
    if (allow2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f = dml_dual_avx2;
    if (allow512 && __builtin_cpu_supports("avx512f")) f = dml_dual_avx512;
    chosen = f;
}

static dual_fn pick(void)
{
    pthread_once(&chosen_once, choose);
    return chosen;
}

const char *dml_dual_isa(void)
{
    dual_fn f = pick();
    return f == dml_dual_avx512 ? "avx512f" : f == dml_dual_avx2 ? "avx2+fma" : "scalar";
}

void dml_dual(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
              const double *k12, double *out, double *theta)
{
    pick()(act, n, k11, k11_stride, k22, k12, out, theta);
}

void dml_dual_f32(dml_activation act, size_t n, const double *k11, int k11_stride, const double *k22,
                  const double *k12, double *out, double *theta)
{
    dual_fn f = pick();
    f = f == dml_dual_avx512 ? dml_dual_f32_avx512 : f == dml_dual_avx2 ? dml_dual_f32_avx2 : dml_dual_f32_scalar;
    f(act, n, k11, k11_stride, k22, k12, out, theta);
}
