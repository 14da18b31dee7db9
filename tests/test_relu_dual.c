/* The float64 ReLU dual (core/layers/relu_angle.h): its three builds and its accuracy.
 *   - the scalar, AVX2+FMA and AVX-512F builds (those this CPU runs) give the same bits, T and T', on random
 *     entries of every correlation and on the edges: self pairs, anti-parallel pairs, zero variances, tiny and
 *     huge scales, entries at the reduction point tan(pi/8) and at s == |k12|;
 *   - self pairs k11 == k22 == k12 take the angle 0 exactly (T' = pi (1 / 2 pi) as computed), anti-parallel
 *     pairs k12 = -sqrt(k11 k22) with det 0 take T = T' = 0 exactly, and s == k12 == 0 gives T = 0, T' = 1/4;
 *   - against long double (the same double determinant, then sqrtl and atan2l): T' within 8 ULP relative and
 *     T within 4 ULP of sqrt(k11 k22). The worst errors are printed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/rng.h"
#include "../core/layers/dual.h"
#include "check.h"

#define N 40000

static void reference(double k11, double k22, double k12, long double *t, long double *tp)
{
    double det = k11 * k22 - k12 * k12;
    long double s = sqrtl(det > 0.0 ? (long double)det : 0.0L), pi = acosl(-1.0L);
    long double phi = (s == 0.0L && k12 == 0.0) ? pi / 2 : atan2l(s, -(long double)k12);
    *t = (s + phi * k12) / (2 * pi);
    *tp = phi / (2 * pi);
}

int main(void)
{
    static double a[N], b[N], c[N];
    dml_rng r;
    uint64_t key = 915;
    dml_rng_seed(&r, &key, 1);
    int n = 0;
    /* edges */
    double edge[][3] = {{1, 1, 1}, {2.5, 2.5, 2.5}, {1e-300, 1e-300, 1e-300}, {1e300, 1e300, 1e300}, {4, 9, -6},
                        {1, 1, -1}, {0, 0, 0}, {0, 3, 0}, {2, 0, 0}, {1, 1, 0}, {1, 1, -0.0}, {1e-200, 1e-200, 0},
                        {1, 1, 0.70710678118654752}, {1, 1, -0.70710678118654752}, {1, 1, 0.92387953251128674},
                        {1, 1, 0.38268343236508978}, {1, 1, -0.92387953251128674}, {1, 1, 1 - 1e-15},
                        {1, 1, -1 + 1e-15}, {3, 5, 1e-300}};
    for (size_t e = 0; e < sizeof edge / sizeof edge[0]; e++, n++) a[n] = edge[e][0], b[n] = edge[e][1], c[n] = edge[e][2];
    while (n < N) {
        double k11 = exp(40 * (dml_rng_uniform(&r) - 0.5)), k22 = exp(40 * (dml_rng_uniform(&r) - 0.5));
        double rho = 2 * dml_rng_uniform(&r) - 1;
        if (n % 5 == 0) rho = 1 - 1e-9 * dml_rng_uniform(&r);
        if (n % 5 == 1) rho = -1 + 1e-9 * dml_rng_uniform(&r);
        if (n % 11 == 0) k22 = k11, rho = 1;
        a[n] = k11, b[n] = k22, c[n] = rho * sqrt(k11 * k22);
        if (n % 11 == 0) c[n] = k11;
        n++;
    }
    __builtin_cpu_init();
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), has512 = __builtin_cpu_supports("avx512f");
    static double t0[N], p0[N], t1[N], p1[N];
    for (int i = 0; i < N; i++) p0[i] = p1[i] = 1.0;
    dml_dual_scalar(DML_ACT_RELU, N, a, 1, b, c, t0, p0);
    for (int isa = 0; isa < 2; isa++) {
        if (isa == 0 ? !has2 : !has512) continue;
        for (int i = 0; i < N; i++) p1[i] = 1.0;
        (isa == 0 ? dml_dual_avx2 : dml_dual_avx512)(DML_ACT_RELU, N, a, 1, b, c, t1, p1);
        int same = memcmp(t0, t1, sizeof t0) == 0 && memcmp(p0, p1, sizeof p0) == 0;
        CHECK(same, "the %s build of the ReLU dual differs from the scalar one", isa == 0 ? "AVX2" : "AVX-512");
        /* the broadcast form (k11_stride 0) too */
        double bt0[64], bp0[64], bt1[64], bp1[64];
        for (int i = 0; i < 64; i++) bp0[i] = bp1[i] = 1.0;
        dml_dual_scalar(DML_ACT_RELU, 61, a + 7, 0, b, c, bt0, bp0);
        (isa == 0 ? dml_dual_avx2 : dml_dual_avx512)(DML_ACT_RELU, 61, a + 7, 0, b, c, bt1, bp1);
        CHECK(memcmp(bt0, bt1, sizeof *bt0 * 61) == 0 && memcmp(bp0, bp1, sizeof *bp0 * 61) == 0,
              "broadcast k11: the %s build differs", isa == 0 ? "AVX2" : "AVX-512");
    }
    printf("relu dual builds compared with the scalar one: avx2 %s, avx512 %s\n", has2 ? "yes" : "not on this CPU",
           has512 ? "yes" : "not on this CPU");
    /* exact cases */
    const double inv2pi = 0.5 / M_PI;
    CHECK(p0[0] == M_PI * inv2pi && p0[1] == M_PI * inv2pi, "self pairs: angle 0 exactly (T' %.17g)", p0[0]);
    CHECK(t0[0] == (M_PI * 1.0) * inv2pi, "self pair T = pi k / (2 pi) as rounded: %.17g", t0[0]);
    CHECK(t0[4] == 0.0 && p0[4] == 0.0 && t0[5] == 0.0 && p0[5] == 0.0, "anti-parallel pairs: T = T' = 0");
    CHECK(t0[6] == 0.0 && p0[6] == M_PI_2 * inv2pi && t0[7] == 0.0 && t0[8] == 0.0, "zero variances: T 0, T' 1/4");
    /* accuracy */
    double wt = 0, wp = 0;
    int wi = -1;
    for (int i = 0; i < N; i++) {
        long double rt, rp;
        reference(a[i], b[i], c[i], &rt, &rp);
        double scale = sqrt(a[i]) * sqrt(b[i]);
        double et = scale > 0 ? (double)(fabsl(t0[i] - rt) / scale) / 0x1p-53 : (t0[i] == 0 ? 0 : INFINITY);
        double ep = rp != 0 ? (double)(fabsl(p0[i] - rp) / rp) / 0x1p-53 : (p0[i] == 0 ? 0 : INFINITY);
        if (et > wt) wt = et;
        if (ep > wp) wp = ep, wi = i;
    }
    CHECK(wp <= 8.0, "T' error %.2f ULP above 8 (entry %d: %.17g %.17g %.17g)", wp, wi, a[wi], b[wi], c[wi]);
    CHECK(wt <= 4.0, "T error %.2f ULP of sqrt(k11 k22) above 4", wt);
    printf("relu dual against long double over %d entries: T' worst %.2f ULP, T worst %.2f ULP of sqrt(k11 k22)\n", N,
           wp, wt);
    return check_summary("relu_dual");
}
