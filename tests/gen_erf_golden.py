#!/usr/bin/python3
"""High-precision reference kernels of erf networks at input scales 1e-3 .. 1e8 (tests/data/erf_golden.json).

The NNGP/NTK recursion of DESIGN 2.1 (Neural Tangents stax conventions, parameterization ntk) evaluated with
mpmath at 60 significant digits on exactly the double-precision inputs written to the file, for three models
(fcn: one scalar stage; cnn-vec: position-diagonal covariances; cnn-gap: full position-by-position
covariances), each with a Gram matrix (self pairs included) and a cross block. It shares no code with dmilab:
the geometry (same / valid padding, the filter window) is written out here again.

Large inputs are where the erf dual is fragile: (1 + 2 k11)(1 + 2 k22) - 4 k12^2 cancels for self pairs, and
asin(2 k12 / sqrt(...)) is ill-conditioned near 1. mpmath evaluates the formulas as written, exactly enough
that neither matters.

Usage: /usr/bin/python3 tests/gen_erf_golden.py > tests/data/erf_golden.json   (needs python3-mpmath)
"""
import json
import random
import sys

import mpmath
from mpmath import mpf

mpmath.mp.dps = 60

SCALES = [1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]

MODELS = [
    # name, model (as in a `dmilab kernel` request), input shape per example
    ("fcn-erf-d2", {"arch": "fcn", "depth": 2, "activation": "erf", "w_std": 1.5, "b_std": 0.1,
                    "readout_w_std": 1.0, "readout_b_std": 0.05}, [6]),
    ("cnn-vec-erf-d2", {"arch": "cnn-vec", "depth": 2, "activation": "erf", "w_std": 1.3, "b_std": 0.2,
                        "readout_w_std": 0.8, "readout_b_std": 0.0, "filter": [2], "stride": [1],
                        "padding": "valid"}, [5, 2]),
    ("cnn-gap-erf-d1", {"arch": "cnn-gap", "depth": 1, "activation": "erf", "w_std": 1.2, "b_std": 0.3,
                        "readout_w_std": 1.0, "readout_b_std": 0.1, "filter": [3], "stride": [1],
                        "padding": "same"}, [4, 1]),
]


def erf_dual(k11, k22, k12):
    """T and T' of erf (Williams 1997; DESIGN 2.1), evaluated as written."""
    q = (1 + 2 * k11) * (1 + 2 * k22)
    t = 2 / mpmath.pi * mpmath.asin(2 * k12 / mpmath.sqrt(q))
    tp = 4 / mpmath.pi / mpmath.sqrt(q - 4 * k12 * k12)
    return t, tp


def window(size, f, pad):
    """Output size and, per output position, the input positions of the window (None: zero padding)."""
    if pad == "valid":
        out, lo = (size - f) + 1, 0
    else:
        out = size
        lo = max(out - 1 + f - size, 0) // 2
    return out, [[o + d - lo if 0 <= o + d - lo < size else None for d in range(f)] for o in range(out)]


def kernel_pair(m, shape, xa, xb):
    """NNGP and NTK of one pair of inputs: full covariances of the three pairs (a,a), (a,b), (b,b)."""
    xs = (xa, xb)
    if m["arch"] == "fcn":
        P, C = 1, len(xa)
        K = {(s, t): [[sum(xs[s][j] * xs[t][j] for j in range(C)) / C]] for s in range(2) for t in range(2)}
    else:
        P, C = shape
        K = {(s, t): [[sum(xs[s][a * C + c] * xs[t][b * C + c] for c in range(C)) / C for b in range(P)]
                      for a in range(P)] for s in range(2) for t in range(2)}
    T = {st: [[mpf(0)] * P for _ in range(P)] for st in K}
    w2, b2 = mpf(m["w_std"]) ** 2, mpf(m["b_std"]) ** 2
    for layer in range(m["depth"]):
        if m["arch"] == "fcn":
            Pn, win = 1, [[0]]
        else:
            Pn, win = window(P, m["filter"][0], m["padding"])
        F = len(win[0])
        for st in K:
            Kn = [[mpf(0)] * Pn for _ in range(Pn)]
            Tn = [[mpf(0)] * Pn for _ in range(Pn)]
            for a in range(Pn):
                for b in range(Pn):
                    sk = st_ = mpf(0)
                    for d in range(F):
                        i, j = win[a][d], win[b][d]
                        if i is None or j is None:
                            continue
                        sk += K[st][i][j]
                        st_ += T[st][i][j]
                    Kn[a][b] = w2 * sk / F + b2
                    Tn[a][b] = w2 * st_ / F + Kn[a][b]
            K[st], T[st] = Kn, Tn
        P = Pn
        diag = {s: [K[(s, s)][a][a] for a in range(P)] for s in range(2)}
        for (s, t) in K:
            for a in range(P):
                for b in range(P):
                    tv, tp = erf_dual(diag[s][a], diag[t][b], K[(s, t)][a][b])
                    K[(s, t)][a][b] = tv
                    T[(s, t)][a][b] *= tp
    if m["arch"] == "cnn-gap":
        rk = sum(sum(r) for r in K[(0, 1)]) / (P * P)
        rt = sum(sum(r) for r in T[(0, 1)]) / (P * P)
    else:
        rk = sum(K[(0, 1)][a][a] for a in range(P)) / P
        rt = sum(T[(0, 1)][a][a] for a in range(P)) / P
    rw2, rb2 = mpf(m["readout_w_std"]) ** 2, mpf(m["readout_b_std"]) ** 2
    nngp = rw2 * rk + rb2
    return nngp, rw2 * rt + nngp


def block(m, shape, xs1, xs2):
    nngp, ntk = [], []
    for a in xs1:
        for b in xs2:
            k, t = kernel_pair(m, shape, [mpf(v) for v in a], [mpf(v) for v in b])
            nngp.append(float(k))
            ntk.append(float(t))
    return nngp, ntk


def main():
    rng = random.Random(20261130)
    cases = []
    for name, m, shape in MODELS:
        d = 1
        for s in shape:
            d *= s
        base1 = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(3)]
        base2 = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(2)]
        for scale in SCALES:
            x1 = [[v * scale for v in row] for row in base1]
            x2 = [[v * scale for v in row] for row in base2]
            n11, t11 = block(m, shape, x1, x1)
            n12, t12 = block(m, shape, x1, x2)
            cases.append({
                "name": "%s-x%g" % (name, scale), "scale": scale, "model": m,
                "x1": {"shape": [3] + shape, "data": [v for row in x1 for v in row]},
                "x2": {"shape": [2] + shape, "data": [v for row in x2 for v in row]},
                "nngp_11": n11, "ntk_11": t11, "nngp_12": n12, "ntk_12": t12})
        print("%s: %d scales" % (name, len(SCALES)), file=sys.stderr)
    json.dump({"about": "erf kernels at input scales 1e-3..1e8 from tests/gen_erf_golden.py (mpmath, 60 digits, "
                        "DESIGN 2.1 as written); *_11 = K(x1, x1) with its self pairs, *_12 = K(x1, x2).",
               "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
