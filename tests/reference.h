/* Shared by the tests that compare core/ with independent implementations (test_kernel_reference.c,
 * test_nn_reference.c, test_nn_winograd.c, test_layers_reference.c): the window geometry of DESIGN 2.1 written
 * without core/ (output size and low padding per axis, the input position a window tap reads), the activation
 * duals as written, uniform draws, and the relative max-norm difference. */
#ifndef DMILAB_TESTS_REFERENCE_H
#define DMILAB_TESTS_REFERENCE_H

#include <math.h>
#include <stddef.h>
#include "dmilab/model.h"
#include "dmilab/rng.h"

typedef struct {
    int nd, size[2], C;
    int filter[2], stride[2];
    dml_padding pad;
} geo;

/* Output size and low padding of one axis: same/circular out = ceil(n/s), total padding
 * max((out-1) s + f - n, 0), low side total/2; valid out = floor((n-f)/s) + 1 (0 if f > n). */
static inline int axis_out(int n, int f, int s, dml_padding pad, int *lo)
{
    if (pad == DML_PAD_VALID) {
        *lo = 0;
        return n >= f ? (n - f) / s + 1 : 0;
    }
    int out = (n + s - 1) / s;
    int total = (out - 1) * s + f - n;
    if (total < 0) total = 0;
    *lo = total / 2;
    return out;
}

/* Input position (row-major over the axes) read by output position o at window offset d (row-major over
 * the filter axes), or -1 in zero padding; circular padding wraps. osz, lo: output sizes, low paddings. */
static inline int src_pos(const geo *g, const int *osz, const int *lo, int o, int d)
{
    int oc[2], dc[2], p = 0;
    for (int a = g->nd - 1; a >= 0; a--) {
        oc[a] = o % osz[a];
        o /= osz[a];
        dc[a] = d % g->filter[a];
        d /= g->filter[a];
    }
    for (int a = 0; a < g->nd; a++) {
        int i = oc[a] * g->stride[a] + dc[a] - lo[a];
        if (i < 0 || i >= g->size[a]) {
            if (g->pad != DML_PAD_CIRCULAR) return -1;
            i %= g->size[a];
            if (i < 0) i += g->size[a];
        }
        p = p * g->size[a] + i;
    }
    return p;
}

/* The activation duals of DESIGN 2.1 as written (ReLU: Cho & Saul 2009 without the factor 2; erf: Williams
 * 1997): T and T' of (k11, k22, k12). For a ReLU pair of distinct inputs (self == 0) the smallest
 * sin(theta) seen is kept in *min_sin: where it is tiny the angle itself is known only to eps / sin(theta). */
static inline void ref_dual(dml_activation act, double k11, double k22, double k12, double *t, double *tp, int self,
                            double *min_sin)
{
    if (act == DML_ACT_RELU) {
        if (!self && k11 > 0 && k22 > 0) {
            double c = k12 / sqrt(k11 * k22), sn = 1 - c * c > 0 ? sqrt(1 - c * c) : 0;
            if (sn < *min_sin) *min_sin = sn;
        }
        double s = k11 * k22 - k12 * k12;
        double th = atan2(sqrt(s > 0 ? s : 0), k12);
        if (s <= 0 && k12 == 0) th = M_PI / 2;
        *t = (sqrt(k11 * k22) * sin(th) + (M_PI - th) * k12) / (2 * M_PI);
        *tp = (M_PI - th) / (2 * M_PI);
    } else {
        double q = (1 + 2 * k11) * (1 + 2 * k22);
        *t = 2 / M_PI * asin(2 * k12 / sqrt(q));
        *tp = 4 / M_PI / sqrt(q - 4 * k12 * k12);
    }
}

/* Uniform draw in [a, b). */
static inline double uniform(dml_rng *r, double a, double b) { return a + (b - a) * dml_rng_uniform(r); }

/* max |a - ref| / max |ref| (the plain max difference when ref is all zeros); a NaN in a counts as infinite. */
static inline double rel_err(const double *a, const double *ref, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, isnan(a[i]) ? INFINITY : fabs(a[i] - ref[i]));
        s = fmax(s, fabs(ref[i]));
    }
    return s > 0 ? d / s : d;
}

#endif
