/* Window sums of Conv / ConvLocal layers on covariances, diagonal and full (DESIGN 2.1). */
#include <string.h>
#include "spatial.h"

size_t dml_layer_in_positions(const dml_layer *L)
{
    size_t p = 1;
    for (int a = 0; a < L->nd; a++) p *= (size_t)L->in_size[a];
    return p;
}

size_t dml_layer_out_positions(const dml_layer *L)
{
    size_t p = 1;
    for (int a = 0; a < L->nd; a++) p *= (size_t)L->out_size[a];
    return p;
}

/* Source index of output k at window offset d, or -1 when it falls in zero padding. */
static inline long src_index(long k, long d, long s, long pad, long n, int circular)
{
    long idx = k * s + d - pad;
    if (idx >= 0 && idx < n) return idx;
    if (!circular) return -1;
    idx %= n;
    return idx < 0 ? idx + n : idx;
}

/* row[k] += in[src(k, d)] for k in [0, m): the shifted add of one window offset along one axis. */
static void add_shifted(double *restrict row, const double *restrict in, long m, long n, long s, long off,
                        int circular)
{
    if (s == 1 && !circular) {
        long lo = off < 0 ? -off : 0;          /* first k with k + off >= 0 */
        long hi = n - off;                     /* k + off < n */
        if (hi > m) hi = m;
        const double *src = in + off;
        for (long k = lo; k < hi; k++) row[k] += src[k];
        return;
    }
    for (long k = 0; k < m; k++) {
        long idx = k * s + off;
        if (idx < 0 || idx >= n) {
            if (!circular) continue;
            idx %= n;
            if (idx < 0) idx += n;
        }
        row[k] += in[idx];
    }
}

/* One axis of a diagonal window sum: in [outer][n][inner] -> out [outer][m][inner]. */
static void pass_diag(const double *in, double *out, long outer, long n, long m, long inner, long f, long s,
                      long pad, int circular)
{
    memset(out, 0, sizeof *out * (size_t)(outer * m * inner));
    for (long o = 0; o < outer; o++)
        for (long d = 0; d < f; d++) {
            if (inner == 1) {
                add_shifted(out + o * m, in + o * n, m, n, s, d - pad, circular);
                continue;
            }
            for (long k = 0; k < m; k++) {
                long r = src_index(k, d, s, pad, n, circular);
                if (r < 0) continue;
                double *dst = out + (o * m + k) * inner;
                const double *src = in + (o * n + r) * inner;
                for (long i = 0; i < inner; i++) dst[i] += src[i];
            }
        }
}

/* One axis of a full window sum: in [outer][n][inner] x [outer][n][inner] -> [outer][m][inner]^2,
 * the same offset d applied to both indices (shared weights). */
static void pass_full(const double *in, double *out, long outer, long n, long m, long inner, long f, long s,
                      long pad, int circular)
{
    long pin = outer * n * inner, pout = outer * m * inner;
    memset(out, 0, sizeof *out * (size_t)(pout * pout));
    for (long o1 = 0; o1 < outer; o1++)
        for (long k1 = 0; k1 < m; k1++)
            for (long d = 0; d < f; d++) {
                long r1 = src_index(k1, d, s, pad, n, circular);
                if (r1 < 0) continue;
                for (long i1 = 0; i1 < inner; i1++) {
                    double *dst_row = out + ((o1 * m + k1) * inner + i1) * pout;
                    const double *src_row = in + ((o1 * n + r1) * inner + i1) * pin;
                    for (long o2 = 0; o2 < outer; o2++) {
                        if (inner == 1) {
                            add_shifted(dst_row + o2 * m, src_row + o2 * n, m, n, s, d - pad, circular);
                            continue;
                        }
                        for (long k2 = 0; k2 < m; k2++) {
                            long r2 = src_index(k2, d, s, pad, n, circular);
                            if (r2 < 0) continue;
                            double *dst = dst_row + (o2 * m + k2) * inner;
                            const double *src = src_row + (o2 * n + r2) * inner;
                            for (long i = 0; i < inner; i++) dst[i] += src[i];
                        }
                    }
                }
            }
}

/* Run the per-axis passes from the last axis to the first, ping-ponging between tmp and out so that
 * the result lands in out. */
static void window(const dml_layer *L, const double *in, double *out, double *tmp, int full)
{
    int nd = L->nd;
    long size[DML_MAX_SPATIAL];
    for (int a = 0; a < nd; a++) size[a] = L->in_size[a];
    const double *src = in;
    for (int a = nd - 1; a >= 0; a--) {
        long outer = 1, inner = 1;
        for (int b = 0; b < a; b++) outer *= size[b];
        for (int b = a + 1; b < nd; b++) inner *= size[b];
        /* the last pass (a == 0) writes out; earlier ones alternate so that happens */
        double *dst = ((a & 1) == 0) ? out : tmp;
        if (full)
            pass_full(src, dst, outer, size[a], L->out_size[a], inner, L->filter[a], L->stride[a], L->pad_lo[a],
                      L->padding == DML_PAD_CIRCULAR);
        else
            pass_diag(src, dst, outer, size[a], L->out_size[a], inner, L->filter[a], L->stride[a], L->pad_lo[a],
                      L->padding == DML_PAD_CIRCULAR);
        size[a] = L->out_size[a];
        src = dst;
    }
}

void dml_window_diag(const dml_layer *L, const double *in, double *out, double *tmp)
{
    window(L, in, out, tmp, 0);
}

void dml_window_full(const dml_layer *L, const double *in, double *out, double *tmp)
{
    window(L, in, out, tmp, 1);
}
