#!/usr/bin/env python3
"""The polynomial of the ReLU dual's angle (core/layers/relu_angle.h): atan(z) = z + z w P(w), w = z^2, on
|z| <= tan(pi/8), P of degree 10, by weighted least squares (weight w: the error of z w P relative to atan(z))
at 120 Chebyshev nodes in mpmath at 60 digits. Prints the coefficients (shortest round-trip decimals) and the
worst relative error of the polynomial with those float64 coefficients, in ULP (2^-53), evaluated exactly.
Usage: /usr/bin/python3 tests/gen_atan_poly.py   (needs python3-mpmath)"""
import mpmath as mp

mp.mp.dps = 60
D = 10
r = mp.tan(mp.pi / 8)
W = r * r


def target(w):
    s = mp.sqrt(w)
    return (mp.atan(s) - s) / (w * s)


M = 12 * (D + 1)
nodes = [W * (1 - mp.cos(mp.pi * (k + mp.mpf(1) / 2) / M)) / 2 for k in range(M)]
A = mp.matrix(M, D + 1)
b = mp.matrix(M, 1)
for i, w in enumerate(nodes):
    for j in range(D + 1):
        A[i, j] = w * w ** j
    b[i] = w * target(w)
c = mp.qr_solve(A, b)[0]
cs = [float(c[j]) for j in range(D + 1)]
worst = mp.mpf(0)
for k in range(1, 4001):
    z = r * k / 4000
    w = z * z
    p = mp.mpf(0)
    for j in reversed(range(D + 1)):
        p = p * w + cs[j]
    worst = max(worst, abs(z + z * w * p - mp.atan(z)) / mp.atan(z))
print("coefficients:", ", ".join(repr(x) for x in cs))
print("worst relative error: %.3f ULP" % float(worst / mp.mpf(2) ** -53))
