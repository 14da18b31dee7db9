/* Input transforms g of DESIGN 2.2 as seeded group elements: draw, apply, invert, pull weights back; the
 * per-example translation; and dml_transform_apply, which the data variants call after preprocessing. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/rng.h"
#include "dmilab/transform.h"
#include "../layers/window.h"
#include "variant.h"

/* A Haar-random orthogonal d x d matrix (row-major): QR of a Gaussian matrix, columns signed by diag(R)
 * (Mezzadri 2007). Returns NULL when out of memory or LAPACK fails. */
static double *haar_orthogonal(dml_rng *r, size_t d)
{
    double *q = malloc(sizeof *q * d * d), *tau = malloc(sizeof *tau * d), *sgn = malloc(sizeof *sgn * d);
    if (!q || !tau || !sgn) goto fail;
    for (size_t i = 0; i < d * d; i++) q[i] = dml_rng_normal(r);
    if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, q, (lapack_int)d, tau)) goto fail;
    for (size_t i = 0; i < d; i++) sgn[i] = q[i * d + i] < 0 ? -1.0 : 1.0;
    if (LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)d, (lapack_int)d, q, (lapack_int)d, tau)) goto fail;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) q[i * d + j] *= sgn[j];
    free(tau);
    free(sgn);
    return q;
fail:
    free(q);
    free(tau);
    free(sgn);
    return NULL;
}

static double random_sign(dml_rng *r) { return (dml_rng_next(r) >> 63) ? -1.0 : 1.0; }

/* src[p * C + c] = position reached from p by adding `shift` on every axis (mod size), times C, plus c. */
static void translation_map(const dml_shape *s, const int *shift, size_t *src)
{
    size_t P = dml_shape_positions(s), C = (size_t)s->channels;
    for (size_t p = 0; p < P; p++) {
        size_t rem = p, sp = 0, stride = 1;
        for (int a = s->nd - 1; a >= 0; a--) {
            size_t n = (size_t)s->size[a], ia = rem % n;
            rem /= n;
            sp += ((ia + (size_t)shift[a]) % n) * stride;
            stride *= n;
        }
        for (size_t c = 0; c < C; c++) src[p * C + c] = sp * C + c;
    }
}

static int init(dml_group_elem *g, dml_transform_kind kind, const dml_shape *shape, dml_error *err)
{
    memset(g, 0, sizeof *g);
    if (shape->nd < 0 || shape->nd > DML_MAX_SPATIAL || shape->channels < 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "shape", "a transform needs 0 to %d spatial axes and >= 1 channel",
                        DML_MAX_SPATIAL);
    for (int a = 0; a < shape->nd; a++)
        if (shape->size[a] < 1) return dml_fail(err, DML_ERR_INVALID_SPEC, "shape", "spatial sizes must be >= 1");
    if (kind == DML_TF_TRANSLATION && shape->nd == 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "shape", "translation needs inputs with spatial axes");
    g->kind = kind;
    g->shape = *shape;
    g->P = dml_shape_positions(shape);
    g->C = (size_t)shape->channels;
    g->D = g->P * g->C;
    return 0;
}

int dml_group_translation(const dml_shape *shape, const int *shift, dml_group_elem *g, dml_error *err)
{
    if (init(g, DML_TF_TRANSLATION, shape, err)) return -1;
    for (int a = 0; a < shape->nd; a++) {
        int n = shape->size[a];
        g->shift[a] = ((shift[a] % n) + n) % n;
    }
    g->src = malloc(sizeof *g->src * g->D);
    if (!g->src) return dml_fail(err, DML_ERR_NOMEM, NULL, "transform: out of memory");
    translation_map(shape, g->shift, g->src);
    return 0;
}

/* The draws, in the order of the first implementation (results are kept bit for bit: examples use them). */
int dml_group_draw(dml_transform_kind kind, uint64_t seed, const dml_shape *shape, dml_group_elem *g,
                   dml_error *err)
{
    if (init(g, kind, shape, err)) return -1;
    size_t P = g->P, C = g->C, D = g->D;
    dml_rng r;
    uint64_t keys[2] = {seed, 0x7472616e73666f72ULL /* "transfor" */ + (uint64_t)kind};
    dml_rng_seed(&r, keys, 2);
    int nomem = 0;
    switch (kind) {
    case DML_TF_ORTHOGONAL:
        g->matrix = haar_orthogonal(&r, D);
        if (!g->matrix) {
            dml_group_free(g);
            return dml_fail(err, DML_ERR_NUMERIC, NULL, "orthogonal transform: out of memory or LAPACK error");
        }
        return 0;
    case DML_TF_PERMUTATION:
        g->perm = malloc(sizeof *g->perm * P);
        g->src = malloc(sizeof *g->src * D);
        if (!g->perm || !g->src) {
            nomem = 1;
            break;
        }
        dml_rng_permutation(&r, g->perm, P);
        for (size_t p = 0; p < P; p++)
            for (size_t c = 0; c < C; c++) g->src[p * C + c] = g->perm[p] * C + c;
        break;
    case DML_TF_SIGNED_PERMUTATION:
        g->src = malloc(sizeof *g->src * D);
        g->sign = malloc(sizeof *g->sign * D);
        if (!g->src || !g->sign) {
            nomem = 1;
            break;
        }
        dml_rng_permutation(&r, g->src, D);
        for (size_t i = 0; i < D; i++) g->sign[i] = random_sign(&r);
        break;
    case DML_TF_TRANSLATION: {
        /* a cyclic shift by a random offset on each spatial axis (the torus in 2D) */
        int off[DML_MAX_SPATIAL] = {0};
        for (int a = 0; a < shape->nd; a++) off[a] = (int)dml_rng_below(&r, (uint64_t)shape->size[a]);
        return dml_group_translation(shape, off, g, err);
    }
    case DML_TF_LOCAL_ORTHOGONAL:
    case DML_TF_CHANNEL_ORTHOGONAL: {
        /* block-diagonal: an O(C) block per position, independent (local) or shared (channel) */
        size_t nb = kind == DML_TF_LOCAL_ORTHOGONAL ? P : 1;
        g->blocks = calloc(nb * C * C, sizeof *g->blocks);
        if (!g->blocks) {
            nomem = 1;
            break;
        }
        for (size_t p = 0; p < nb; p++) {
            double *b = g->blocks + p * C * C;
            if (C == 1) {
                b[0] = kind == DML_TF_LOCAL_ORTHOGONAL ? random_sign(&r) : -1.0;
                continue;
            }
            double *o = haar_orthogonal(&r, C);
            if (!o) {
                dml_group_free(g);
                return dml_fail(err, DML_ERR_NUMERIC, NULL, "transform: out of memory or LAPACK error");
            }
            memcpy(b, o, sizeof *b * C * C);
            free(o);
        }
        break;
    }
    default:
        return dml_fail(err, DML_ERR_INVALID_SPEC, "kind", "unknown transform kind %d", (int)kind);
    }
    if (nomem) {
        dml_group_free(g);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "transform: out of memory");
    }
    return 0;
}

void dml_group_free(dml_group_elem *g)
{
    free(g->matrix);
    free(g->perm);
    free(g->src);
    free(g->sign);
    free(g->blocks);
    g->matrix = g->sign = g->blocks = NULL;
    g->perm = g->src = NULL;
}

/* The block of position p (local-orthogonal: its own; channel-orthogonal: the shared one). */
static const double *block(const dml_group_elem *g, size_t p)
{
    return g->blocks + (g->kind == DML_TF_LOCAL_ORTHOGONAL ? p : 0) * g->C * g->C;
}

/* v (C numbers) <- B v (transpose 0) or B^T v (transpose 1); tmp: C numbers. */
static void block_mul(const double *b, size_t C, int transpose, double *v, double *tmp)
{
    for (size_t i = 0; i < C; i++) {
        double s = 0.0;
        for (size_t j = 0; j < C; j++) s += (transpose ? b[j * C + i] : b[i * C + j]) * v[j];
        tmp[i] = s;
    }
    memcpy(v, tmp, sizeof *tmp * C);
}

/* The common body of apply and apply_inverse. */
static int act(const dml_group_elem *g, double *x, size_t n, int inverse, dml_error *err)
{
    size_t D = g->D, C = g->C;
    if (g->matrix) {
        /* x (n x D) <- x Q^T (every input multiplied by Q), or x Q for the inverse */
        double *y = malloc(sizeof *y * (n * D + 1));
        if (!y) return dml_fail(err, DML_ERR_NOMEM, NULL, "transform: out of memory for %zu inputs", n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, inverse ? CblasNoTrans : CblasTrans, (int)n, (int)D, (int)D, 1.0,
                    x, (int)D, g->matrix, (int)D, 0.0, y, (int)D);
        memcpy(x, y, sizeof *y * n * D);
        free(y);
        return 0;
    }
    double *tmp = malloc(sizeof *tmp * D);
    if (!tmp) return dml_fail(err, DML_ERR_NOMEM, NULL, "transform: out of memory");
    for (size_t k = 0; k < n; k++) {
        double *v = x + k * D;
        if (g->blocks) {
            for (size_t p = 0; p < g->P; p++) block_mul(block(g, p), C, inverse, v + p * C, tmp);
            continue;
        }
        /* a signed coordinate map: x'[i] = sign[i] * x[src[i]]; its inverse scatters (sign[i] = 1/sign[i]) */
        if (inverse)
            for (size_t i = 0; i < D; i++) tmp[g->src[i]] = (g->sign ? g->sign[i] : 1.0) * v[i];
        else
            for (size_t i = 0; i < D; i++) tmp[i] = (g->sign ? g->sign[i] : 1.0) * v[g->src[i]];
        memcpy(v, tmp, sizeof *tmp * D);
    }
    free(tmp);
    return 0;
}

int dml_group_apply(const dml_group_elem *g, double *x, size_t n, dml_error *err) { return act(g, x, n, 0, err); }

int dml_group_apply_inverse(const dml_group_elem *g, double *x, size_t n, dml_error *err)
{
    return act(g, x, n, 1, err);
}

void dml_group_matrix(const dml_group_elem *g, double *m)
{
    size_t D = g->D, C = g->C;
    if (g->matrix) {
        memcpy(m, g->matrix, sizeof *m * D * D);
        return;
    }
    memset(m, 0, sizeof *m * D * D);
    if (g->blocks) {
        for (size_t p = 0; p < g->P; p++)
            for (size_t i = 0; i < C; i++)
                for (size_t j = 0; j < C; j++) m[(p * C + i) * D + p * C + j] = block(g, p)[i * C + j];
        return;
    }
    for (size_t i = 0; i < D; i++) m[i * D + g->src[i]] = g->sign ? g->sign[i] : 1.0;
}

int dml_group_absorbed_by(dml_transform_kind kind, dml_layer_kind layer)
{
    switch (layer) {
    case DML_LAYER_DENSE: return 1;
    case DML_LAYER_CONV_LOCAL: return kind == DML_TF_LOCAL_ORTHOGONAL || kind == DML_TF_CHANNEL_ORTHOGONAL;
    case DML_LAYER_CONV: return kind == DML_TF_CHANNEL_ORTHOGONAL;
    default: return 0;
    }
}

/* W (D, out) row-major <- G W: the columns of W are vectors of input space, so G W is g applied to each. */
static int pullback_dense(const dml_group_elem *g, double *w, size_t out, dml_error *err)
{
    size_t D = g->D;
    double *t = malloc(sizeof *t * (D * out + 1));
    if (!t) return dml_fail(err, DML_ERR_NOMEM, NULL, "pull-back: out of memory");
    for (size_t i = 0; i < D; i++)
        for (size_t o = 0; o < out; o++) t[o * D + i] = w[i * out + o];
    int rc = dml_group_apply(g, t, out, err);
    if (!rc)
        for (size_t i = 0; i < D; i++)
            for (size_t o = 0; o < out; o++) w[i * out + o] = t[o * D + i];
    free(t);
    return rc;
}

/* The C x out block at w (row c, column o) <- B times it. tmp: C numbers. */
static void block_rows(const double *b, size_t C, size_t out, double *w, double *tmp)
{
    for (size_t o = 0; o < out; o++) {
        for (size_t i = 0; i < C; i++) {
            double s = 0.0;
            for (size_t j = 0; j < C; j++) s += b[i * C + j] * w[j * out + o];
            tmp[i] = s;
        }
        for (size_t i = 0; i < C; i++) w[i * out + o] = tmp[i];
    }
}

int dml_group_pullback(const dml_group_elem *g, const dml_layer *L, double *w, dml_error *err)
{
    static const char *const names[] = {"orthogonal", "permutation", "local-orthogonal", "channel-orthogonal",
                                        "translation", "signed-permutation"};
    if (!dml_group_absorbed_by(g->kind, L->kind))
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "a %s transform cannot be absorbed by this first layer",
                        (unsigned)g->kind < 6 ? names[g->kind] : "?");
    size_t out = (size_t)L->out_channels, C = g->C;
    if (L->kind == DML_LAYER_DENSE) {
        if ((size_t)L->in_channels != g->D)
            return dml_fail(err, DML_ERR_INVALID_SPEC, NULL,
                            "the Dense layer reads %d numbers, the transform acts on %zu", L->in_channels, g->D);
        return pullback_dense(g, w, out, err);
    }
    int fits = L->nd == g->shape.nd && (size_t)L->in_channels == C;
    for (int a = 0; a < L->nd && fits; a++) fits = L->in_size[a] == g->shape.size[a];
    if (!fits)
        return dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "the layer does not read inputs of the transform's shape");
    dml_window_table t;
    if (dml_window_table_build(L, &t)) return dml_fail(err, DML_ERR_NOMEM, NULL, "pull-back: out of memory");
    double *tmp = malloc(sizeof *tmp * C);
    if (!tmp) {
        dml_window_table_free(&t);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "pull-back: out of memory");
    }
    size_t F = (size_t)t.F, K = F * C;
    if (L->kind == DML_LAYER_CONV) {
        for (size_t d = 0; d < F; d++) block_rows(block(g, 0), C, out, w + d * C * out, tmp);
    } else {
        for (size_t o = 0; o < t.P_out; o++)
            for (size_t d = 0; d < F; d++)
                if (t.mask[d * t.P_out + o] != 0.0)
                    block_rows(block(g, (size_t)t.idx[d * t.P_out + o]), C, out, w + (o * K + d * C) * out, tmp);
    }
    free(tmp);
    dml_window_table_free(&t);
    return 0;
}

void dml_translate_each_shift(const dml_shape *shape, uint64_t seed, uint64_t stream, size_t index, int max_shift,
                              int *shift)
{
    dml_rng r;
    uint64_t keys[4] = {seed, 0x7065727368696674ULL /* "pershift" */, stream, (uint64_t)index};
    dml_rng_seed(&r, keys, 4);
    for (int a = 0; a < shape->nd; a++) {
        int n = shape->size[a];
        if (max_shift == 0) {
            shift[a] = (int)dml_rng_below(&r, (uint64_t)n);
        } else {
            long s = (long)dml_rng_below(&r, 2 * (uint64_t)max_shift + 1) - max_shift;
            shift[a] = (int)(((s % n) + n) % n);
        }
    }
}

int dml_translate_each(const dml_shape *shape, double *x, size_t n, uint64_t seed, uint64_t stream, size_t first,
                       int max_shift, dml_error *err)
{
    if (max_shift < 0) return dml_fail(err, DML_ERR_INVALID_SPEC, "max_shift", "max_shift must be >= 0 (0: any shift)");
    dml_group_elem g;
    if (init(&g, DML_TF_TRANSLATION, shape, err)) return -1;
    size_t D = g.D;
    size_t *src = malloc(sizeof *src * D);
    double *tmp = malloc(sizeof *tmp * D);
    if (!src || !tmp) {
        free(src);
        free(tmp);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "translation: out of memory");
    }
    for (size_t k = 0; k < n; k++) {
        int shift[DML_MAX_SPATIAL] = {0};
        dml_translate_each_shift(shape, seed, stream, first + k, max_shift, shift);
        translation_map(shape, shift, src);
        double *v = x + k * D;
        for (size_t i = 0; i < D; i++) tmp[i] = v[src[i]];
        memcpy(v, tmp, sizeof *tmp * D);
    }
    free(src);
    free(tmp);
    return 0;
}

int dml_transform_apply(const dml_transform *t, const dml_shape *shape, double *x, size_t n, dml_error *err)
{
    dml_group_elem g;
    if (dml_group_draw(t->kind, t->seed, shape, &g, err)) return -1;
    int rc = dml_group_apply(&g, x, n, err);
    dml_group_free(&g);
    return rc;
}
