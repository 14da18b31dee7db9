/* Window tables, and window sums of Conv / ConvLocal / AvgPool layers on covariances, diagonal and full
 * (DESIGN 2.1), driven by per-layer index tables so every geometry (padding, stride, 1D/2D) shares one fast
 * loop. */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "window.h"
#include "window_simd.h"

/* Hot loops get AVX-512 and AVX2 builds next to the baseline one, picked at load time (GCC ifunc). */
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

int dml_window_table_build(const dml_layer *L, dml_window_table *t)
{
    memset(t, 0, sizeof *t);
    int nd = L->nd;
    size_t Pin = 1, Pout = 1;
    int F = 1;
    for (int a = 0; a < nd; a++) {
        Pin *= (size_t)L->in_size[a];
        Pout *= (size_t)L->out_size[a];
        F *= L->filter[a];
    }
    t->P_in = Pin;
    t->P_out = Pout;
    t->F = F;
    t->idx = malloc(sizeof *t->idx * (size_t)F * Pout);
    t->mask = malloc(sizeof *t->mask * (size_t)F * Pout);
    t->shift = malloc(sizeof *t->shift * (size_t)F);
    size_t nb = (Pout + 7) / 8;
    t->bits = calloc((size_t)F * nb, 1);
    if (!t->idx || !t->mask || !t->shift || !t->bits) {
        dml_window_table_free(t);
        return -1;
    }
    int circular = L->padding == DML_PAD_CIRCULAR;
    for (int d = 0; d < F; d++) {
        /* offsets along each axis, row-major over the filter */
        int off[DML_MAX_SPATIAL], rem = d;
        for (int a = nd - 1; a >= 0; a--) {
            off[a] = rem % L->filter[a];
            rem /= L->filter[a];
        }
        long shift = LONG_MIN;
        int affine = 1;
        for (size_t o = 0; o < Pout; o++) {
            size_t r = o, src = 0, stride = 1;
            int real = 1;
            for (int a = nd - 1; a >= 0; a--) {
                long oa = (long)(r % (size_t)L->out_size[a]);
                r /= (size_t)L->out_size[a];
                long n = L->in_size[a];
                long ia = oa * L->stride[a] + off[a] - L->pad_lo[a];
                if (ia < 0 || ia >= n) {
                    if (circular) {
                        ia %= n;
                        if (ia < 0) ia += n;
                    } else {
                        real = 0;
                        ia = 0;
                    }
                }
                src += (size_t)ia * stride;
                stride *= (size_t)n;
            }
            assert(src < Pin);
            t->idx[(size_t)d * Pout + o] = real ? (int32_t)src : 0;
            t->mask[(size_t)d * Pout + o] = real ? 1.0 : 0.0;
            if (real) t->bits[(size_t)d * nb + o / 8] |= (uint8_t)(1u << (o % 8));
            if (real) {
                long s = (long)src - (long)o;
                if (shift == LONG_MIN) shift = s;
                else if (s != shift) affine = 0;
            }
        }
        t->shift[d] = affine && shift != LONG_MIN ? shift : LONG_MIN;
    }
    t->all_affine = 1;
    t->max_shift = 0;
    for (int d = 0; d < F; d++) {
        if (t->shift[d] == LONG_MIN) t->all_affine = 0;
        else if (labs(t->shift[d]) > t->max_shift) t->max_shift = labs(t->shift[d]);
    }
    return 0;
}

void dml_window_table_free(dml_window_table *t)
{
    free(t->idx);
    free(t->mask);
    free(t->shift);
    free(t->bits);
    memset(t, 0, sizeof *t);
}

/* dst[o] += src[o] * mask[o]: a contiguous shifted row (the shift is applied by the caller). */
CLONES static void add_contiguous(double *restrict dst, const double *restrict src, const double *restrict mask,
                                  long n)
{
    for (long o = 0; o < n; o++) dst[o] += src[o] * mask[o];
}

/* dst[o] += row[idx[o]] * mask[o]: the general gathered row. */
CLONES static void add_gathered(double *restrict dst, const double *restrict row, const int32_t *restrict idx,
                                const double *restrict mask, long n)
{
    for (long o = 0; o < n; o++) dst[o] += row[idx[o]] * mask[o];
}

/* dst (P_out) += mask_d * row[idx_d]: x + 0.0 == x, so masked terms change nothing. */
static void add_row(const dml_window_table *t, int d, double *dst, const double *row)
{
    long Pout = (long)t->P_out, Pin = (long)t->P_in;
    const double *mk = t->mask + (size_t)d * t->P_out;
    long s = t->shift[d];
    if (s != LONG_MIN) {
        /* entries whose source falls outside the input row are padding (mask 0): skip them */
        long lo = s < 0 ? -s : 0, hi = Pin - s < Pout ? Pin - s : Pout;
        if (hi > lo) add_contiguous(dst + lo, row + lo + s, mk + lo, hi - lo);
    } else {
        add_gathered(dst, row, t->idx + (size_t)d * t->P_out, mk, Pout);
    }
}

void dml_window_diag(const dml_window_table *t, const double *in, double *out)
{
    memset(out, 0, sizeof *out * t->P_out);
    for (int d = 0; d < t->F; d++) add_row(t, d, out, in);
}

/* One output row: dst[o] = sum over the k listed offsets of src[j][o] * mask[j][o], in list order starting
 * from 0.0, 8 entries at a time. src[j] is already shifted; reads past the row ends hit finite neighbours or
 * margins and are multiplied by 0. The offsets go three at a time through the row (six row pointers held in
 * registers, the partial sums kept in dst between groups), each entry's additions in the same order. */
/* 8 doubles with 8-byte alignment: GCC's generic vectors, one zmm in the AVX-512 clone. */
typedef double v8d __attribute__((vector_size(64), aligned(8)));
#define V8(p) (*(const v8d *)(p))

CLONES static void fused_three(double *restrict dst, const double *const *src, const double *const *mask, int m,
                               int first, long n)
{
    const double *s0 = src[0], *m0 = mask[0], *s1 = src[m > 1], *m1 = mask[m > 1], *s2 = src[m > 2 ? 2 : 0],
                 *m2 = mask[m > 2 ? 2 : 0];
    long o = 0;
    if (m == 3) {
        for (; o + 8 <= n; o += 8) {
            v8d acc = first ? (v8d){0, 0, 0, 0, 0, 0, 0, 0} : V8(dst + o);
            acc += V8(s0 + o) * V8(m0 + o);
            acc += V8(s1 + o) * V8(m1 + o);
            acc += V8(s2 + o) * V8(m2 + o);
            *(v8d *)(dst + o) = acc;
        }
    } else if (m == 2) {
        for (; o + 8 <= n; o += 8) {
            v8d acc = first ? (v8d){0, 0, 0, 0, 0, 0, 0, 0} : V8(dst + o);
            acc += V8(s0 + o) * V8(m0 + o);
            acc += V8(s1 + o) * V8(m1 + o);
            *(v8d *)(dst + o) = acc;
        }
    } else {
        for (; o + 8 <= n; o += 8) {
            v8d acc = first ? (v8d){0, 0, 0, 0, 0, 0, 0, 0} : V8(dst + o);
            acc += V8(s0 + o) * V8(m0 + o);
            *(v8d *)(dst + o) = acc;
        }
    }
    for (; o < n; o++) {
        double acc = first ? 0.0 : dst[o];
        for (int j = 0; j < m; j++) acc += src[j][o] * mask[j][o];
        dst[o] = acc;
    }
}

/* The AVX-512F build of the fused rows when the CPU has it and DMILAB_SIMD (dual.c) does not cap it: the same
 * numbers either way, the portable build is only slower. */
static int use_avx512;
static pthread_once_t use_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    __builtin_cpu_init();
    const char *cap = getenv("DMILAB_SIMD");
    use_avx512 = (!cap || strcmp(cap, "avx512") == 0) && __builtin_cpu_supports("avx512f");
}

static void fused_row(double *dst, const double *const *src, const double *const *mask, int k, long n)
{
    if (k == 0) {
        memset(dst, 0, sizeof *dst * (size_t)n);
        return;
    }
    for (int j = 0; j < k; j += 3) fused_three(dst, src + j, mask + j, k - j < 3 ? k - j : 3, j == 0, n);
}

/* out[o] = scale * out[o] + (add ? add[o] : b2): dml_kaffine's K and T updates (layer.h), the same roundings. */
CLONES static void affine_row(double *restrict out, size_t n, double scale, double b2, const double *restrict add)
{
    if (add)
        for (size_t o = 0; o < n; o++) out[o] = scale * out[o] + add[o];
    else
        for (size_t o = 0; o < n; o++) out[o] = scale * out[o] + b2;
}

/* The offsets real at row o1 of a table with one shift per offset: their shifted source rows and masks. */
static int fused_list(const dml_window_table *t, const double *in, size_t cap, size_t o1, const double **src,
                      const double **mk, const uint8_t **bits)
{
    size_t Pin = t->P_in, Pout = t->P_out, nb = (Pout + 7) / 8;
    int k = 0;
    for (int d = 0; d < t->F; d++) {
        size_t q = (size_t)d * Pout + o1;
        if (t->mask[q] == 0.0) continue;
        src[k] = in + ((size_t)t->idx[q] % cap) * Pin + t->shift[d];
        mk[k] = t->mask + (size_t)d * Pout;
        bits[k] = t->bits + (size_t)d * nb;
        k++;
    }
    return k;
}

void dml_window_full_row(const dml_window_table *t, const double *in, size_t cap, size_t o1, double *out)
{
    size_t Pin = t->P_in, Pout = t->P_out;
    if (t->all_affine && t->F <= 64) {
        const double *src[64], *mk[64];
        const uint8_t *bits[64];
        int k = fused_list(t, in, cap, o1, src, mk, bits);
        pthread_once(&use_once, choose);
        if (use_avx512)
            dml_window_fused_avx512(1, &out, src, bits, &k, (long)Pout, NULL, NULL);
        else
            fused_row(out, src, mk, k, (long)Pout);
        return;
    }
    memset(out, 0, sizeof *out * Pout);
    for (int d = 0; d < t->F; d++) {
        size_t k = (size_t)d * Pout + o1;
        if (t->mask[k] == 0.0) continue;
        add_row(t, d, out, in + ((size_t)t->idx[k] % cap) * Pin);
    }
}

void dml_window_full_rows_affine(const dml_window_table *t, const double *in, size_t cap, size_t o0, int rows,
                                 double scale, double b2, double *const *add, double *const *out)
{
    assert(rows >= 1 && rows <= DML_WINDOW_ROWS && o0 + (size_t)rows <= t->P_out);
    pthread_once(&use_once, choose);
    if (use_avx512 && t->all_affine && t->F <= 64) {
        const double *src[64 * DML_WINDOW_ROWS], *mk[64];
        const uint8_t *bits[64 * DML_WINDOW_ROWS];
        int k[DML_WINDOW_ROWS];
        for (int r = 0; r < rows; r++) k[r] = fused_list(t, in, cap, o0 + (size_t)r, src + 64 * r, mk, bits + 64 * r);
        double affine[2] = {scale, b2};
        dml_window_fused_avx512(rows, out, src, bits, k, (long)t->P_out, affine, (const double *const *)add);
        return;
    }
    for (int r = 0; r < rows; r++) {
        dml_window_full_row(t, in, cap, o0 + (size_t)r, out[r]);
        affine_row(out[r], t->P_out, scale, b2, add ? add[r] : NULL);
    }
}

void dml_window_input_gather(const dml_window_table *t, const double *xj, double *X, size_t ld)
{
    for (int d = 0; d < t->F; d++) {
        const int32_t *ix = t->idx + (size_t)d * t->P_out;
        const double *mk = t->mask + (size_t)d * t->P_out;
        double *row = X + (size_t)d * ld;
        for (size_t o = 0; o < t->P_out; o++) row[o] = mk[o] != 0.0 ? xj[ix[o]] : 0.0;
    }
}

/* For each of `rows` rows r: dst[r][o] = sum over its k[r] offsets j, in order from 0.0, of a[64 r + j] *
 * x[64 r + j][o], each product rounded, then added; 32 entries at a time in four vector sums held in registers,
 * all rows through one block of 32 columns before the next (the rows share x's rows). */
CLONES static void scaled_rows(int rows, double *const *dst, const double *a, const double *const *x, const int *k,
                               long n)
{
    long o = 0;
    for (; o + 32 <= n; o += 32)
        for (int r = 0; r < rows; r++) {
            v8d s0 = {0, 0, 0, 0, 0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
            for (int j = 0; j < k[r]; j++) {
                const double *p = x[64 * r + j] + o;
                double c = a[64 * r + j];
                s0 += c * V8(p);
                s1 += c * V8(p + 8);
                s2 += c * V8(p + 16);
                s3 += c * V8(p + 24);
            }
            double *d = dst[r] + o;
            *(v8d *)d = s0;
            *(v8d *)(d + 8) = s1;
            *(v8d *)(d + 16) = s2;
            *(v8d *)(d + 24) = s3;
        }
    for (int r = 0; r < rows; r++)
        for (long q = o; q < n; q++) {
            double s = 0.0;
            for (int j = 0; j < k[r]; j++) s += a[64 * r + j] * x[64 * r + j][q];
            dst[r][q] = s;
        }
}

void dml_window_input_rows(const dml_window_table *t, const double *xi, const double *X, size_t ld, size_t o0,
                           int rows, double *const *out)
{
    assert(rows >= 1 && rows <= DML_WINDOW_ROWS && t->F <= 64);
    double a[64 * DML_WINDOW_ROWS];
    const double *x[64 * DML_WINDOW_ROWS];
    int k[DML_WINDOW_ROWS];
    for (int r = 0; r < rows; r++) {
        k[r] = 0;
        for (int d = 0; d < t->F; d++) {
            size_t q = (size_t)d * t->P_out + o0 + (size_t)r;
            if (t->mask[q] == 0.0) continue;
            a[64 * r + k[r]] = xi[t->idx[q]];
            x[64 * r + k[r]] = X + (size_t)d * ld;
            k[r]++;
        }
    }
    scaled_rows(rows, out, a, x, k, (long)t->P_out);
}

void dml_window_input_row(const dml_window_table *t, const double *xi, const double *X, size_t ld, size_t o1,
                          double *out)
{
    dml_window_input_rows(t, xi, X, ld, o1, 1, &out);
}

void dml_window_full(const dml_window_table *t, const double *in, double *out)
{
    for (size_t o1 = 0; o1 < t->P_out; o1++) dml_window_full_row(t, in, t->P_in, o1, out + o1 * t->P_out);
}

void dml_window_rows_needed(const dml_window_table *t, size_t o1, size_t *lo, size_t *hi)
{
    size_t l = SIZE_MAX, h = 0;
    for (int d = 0; d < t->F; d++) {
        size_t k = (size_t)d * t->P_out + o1;
        if (t->mask[k] == 0.0) continue;
        size_t r = (size_t)t->idx[k];
        if (r < l) l = r;
        if (r > h) h = r;
    }
    *lo = l;
    *hi = h;
}

/* dst[q] += src[q]: a whole row of the input (pooling's first pass). */
CLONES static void add_plain(double *restrict dst, const double *restrict src, size_t n)
{
    for (size_t q = 0; q < n; q++) dst[q] += src[q];
}

void dml_window_pool_full_row(const dml_window_table *t, const double *in, size_t cap, size_t o1, double *tmp,
                              double *out)
{
    size_t Pin = t->P_in, Pout = t->P_out;
    /* first axis of the pair: tmp[q] = sum_d1 in[idx[d1][o1], q] */
    memset(tmp, 0, sizeof *tmp * Pin);
    for (int d = 0; d < t->F; d++) {
        size_t k = (size_t)d * Pout + o1;
        if (t->mask[k] != 0.0) add_plain(tmp, in + ((size_t)t->idx[k] % cap) * Pin, Pin);
    }
    /* second axis: out[o2] = sum_d2 tmp[idx[d2][o2]] */
    memset(out, 0, sizeof *out * Pout);
    for (int d = 0; d < t->F; d++) add_row(t, d, out, tmp);
}

void dml_window_pool_full(const dml_window_table *t, const double *in, double *tmp, double *out)
{
    for (size_t o1 = 0; o1 < t->P_out; o1++)
        dml_window_pool_full_row(t, in, t->P_in, o1, tmp + o1 * t->P_in, out + o1 * t->P_out);
}

void dml_window_pool_diag(const dml_window_table *t, const double *in, double *out)
{
    size_t Pin = t->P_in, Pout = t->P_out;
    for (size_t o = 0; o < Pout; o++) {
        double s = 0.0;
        for (int d1 = 0; d1 < t->F; d1++) {
            size_t k1 = (size_t)d1 * Pout + o;
            if (t->mask[k1] == 0.0) continue;
            const double *row = in + (size_t)t->idx[k1] * Pin;
            for (int d2 = 0; d2 < t->F; d2++) {
                size_t k2 = (size_t)d2 * Pout + o;
                if (t->mask[k2] != 0.0) s += row[t->idx[k2]];
            }
        }
        out[o] = s;
    }
}
