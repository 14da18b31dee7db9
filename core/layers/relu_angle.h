/* dmilab internal: the angle of the ReLU dual in float64, shared by the three builds of the duals (dual.c's
 * scalar one, dual_avx2.c, dual_avx512.c). The duals need phi = pi - theta = atan2(s, -k12), s >= 0, the angle
 * between the two inputs' feature directions measured from the anti-parallel side (T' = phi / (2 pi)); it is
 * computed directly, so that T' keeps its relative accuracy where theta is near pi (pi - theta from an atan2
 * loses it there):
 *   num = min(s, |k12|), den = max(s, |k12|);
 *   reduction to |z| <= tan(pi/8): when num > tan(pi/8) den, z = (num - den) / (num + den) and a = pi/4 + atan(z),
 *   else z = num / den and a = atan(z); atan(z) = z + z w P(w), w = z^2, P of degree 10 (Horner with fma);
 *   a = pi/2 - a when s > |k12|; phi = pi - a when k12 > 0; phi = pi/2 when s == k12 == 0.
 * One division and no other transcendental (SLEEF's vectorised atan2, used before, spent about two thirds of the
 * duals' time). Every build runs these IEEE operations in this order (each rounded once, fma fused), so all three
 * give the same bits on any x86-64 CPU. Error (tests/test_relu_dual.c, against long double): phi within 8 ULP, T within
 * 4 ULP of sqrt(k11 k22).
 * P: weighted least squares of (atan(sqrt(w)) - sqrt(w)) / w^(3/2) on w in [0, tan^2(pi/8)] at 60 digits
 * (tests/gen_atan_poly.py); its own error is at most 0.06 ULP of atan(z). */
#ifndef DMILAB_LAYERS_RELU_ANGLE_H
#define DMILAB_LAYERS_RELU_ANGLE_H

#define DML_TAN_PI_8 0.41421356237309503

/* P(w) = sum_j DML_ATAN_P[j] w^j */
static const double DML_ATAN_P[11] = {
    -0.33333333333333187, 0.19999999999951815,  -0.14285714280044026, 0.11111110776759447,
    -0.09090897585414695, 0.07692057439988456,  -0.06663075229586649, 0.05847696323165607,
    -0.05038499894536994, 0.03804554892856584, -0.017887779925664465,
};

#endif
