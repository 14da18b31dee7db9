/* Input transforms g of DESIGN 2.2, seeded, applied after preprocessing. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/rng.h"
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

/* x (n x d, row-major) <- x Q^T, i.e. every input multiplied by Q. */
static int apply_matrix(double *x, size_t n, size_t d, const double *q)
{
    double *y = malloc(sizeof *y * n * d);
    if (!y) return -1;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)d, 1.0, x, (int)d, q, (int)d, 0.0, y,
                (int)d);
    memcpy(x, y, sizeof *y * n * d);
    free(y);
    return 0;
}

/* Every input's coordinates gathered through `src` and multiplied by `sign`: x'[i] = sign[i] * x[src[i]]. */
static int gather(double *x, size_t n, size_t d, const size_t *src, const double *sign)
{
    double *tmp = malloc(sizeof *tmp * d);
    if (!tmp) return -1;
    for (size_t k = 0; k < n; k++) {
        double *v = x + k * d;
        for (size_t i = 0; i < d; i++) tmp[i] = (sign ? sign[i] : 1.0) * v[src[i]];
        memcpy(v, tmp, sizeof *tmp * d);
    }
    free(tmp);
    return 0;
}

int dml_transform_apply(const dml_transform *t, const dml_shape *shape, double *x, size_t n, dml_error *err)
{
    size_t P = dml_shape_positions(shape), C = (size_t)shape->channels, D = P * C;
    dml_rng r;
    uint64_t keys[2] = {t->seed, 0x7472616e73666f72ULL /* "transfor" */ + (uint64_t)t->kind};
    dml_rng_seed(&r, keys, 2);
    size_t *src = malloc(sizeof *src * D);
    double *sign = malloc(sizeof *sign * D);
    double *q = NULL;
    int rc = -1;
    if (!src || !sign) goto out;
    switch (t->kind) {
    case DML_TF_ORTHOGONAL:
        q = haar_orthogonal(&r, D);
        rc = q ? apply_matrix(x, n, D, q) : -1;
        break;
    case DML_TF_PERMUTATION: {
        size_t *perm = malloc(sizeof *perm * P);
        if (!perm) break;
        dml_rng_permutation(&r, perm, P);
        for (size_t p = 0; p < P; p++)
            for (size_t c = 0; c < C; c++) src[p * C + c] = perm[p] * C + c;
        free(perm);
        rc = gather(x, n, D, src, NULL);
        break;
    }
    case DML_TF_SIGNED_PERMUTATION:
        dml_rng_permutation(&r, src, D);
        for (size_t i = 0; i < D; i++) sign[i] = (dml_rng_next(&r) >> 63) ? -1.0 : 1.0;
        rc = gather(x, n, D, src, sign);
        break;
    case DML_TF_TRANSLATION: {
        /* cyclic shift by a random offset on each spatial axis (the torus in 2D) */
        int off[DML_MAX_SPATIAL] = {0};
        for (int a = 0; a < shape->nd; a++) off[a] = (int)dml_rng_below(&r, (uint64_t)shape->size[a]);
        for (size_t p = 0; p < P; p++) {
            size_t rem = p, sp = 0, stride = 1;
            for (int a = shape->nd - 1; a >= 0; a--) {
                size_t ia = rem % (size_t)shape->size[a];
                rem /= (size_t)shape->size[a];
                sp += ((ia + (size_t)off[a]) % (size_t)shape->size[a]) * stride;
                stride *= (size_t)shape->size[a];
            }
            for (size_t c = 0; c < C; c++) src[p * C + c] = sp * C + c;
        }
        rc = gather(x, n, D, src, NULL);
        break;
    }
    case DML_TF_LOCAL_ORTHOGONAL:
    case DML_TF_CHANNEL_ORTHOGONAL: {
        /* block-diagonal: an O(C) block per position, independent (local) or shared (channel) */
        int local = t->kind == DML_TF_LOCAL_ORTHOGONAL;
        double *blocks = calloc(local ? P * C * C : C * C, sizeof *blocks);
        if (!blocks) break;
        for (size_t p = 0; p < (local ? P : 1); p++) {
            double *b = blocks + p * C * C;
            if (C == 1) {
                b[0] = local ? ((dml_rng_next(&r) >> 63) ? -1.0 : 1.0) : -1.0;
            } else {
                double *o = haar_orthogonal(&r, C);
                if (!o) {
                    free(blocks);
                    goto out;
                }
                memcpy(b, o, sizeof *b * C * C);
                free(o);
            }
        }
        double *tmp = malloc(sizeof *tmp * C);
        if (!tmp) {
            free(blocks);
            break;
        }
        for (size_t k = 0; k < n; k++)
            for (size_t p = 0; p < P; p++) {
                const double *b = blocks + (local ? p : 0) * C * C;
                double *v = x + k * D + p * C;
                for (size_t i = 0; i < C; i++) {
                    double s = 0.0;
                    for (size_t j = 0; j < C; j++) s += b[i * C + j] * v[j];
                    tmp[i] = s;
                }
                memcpy(v, tmp, sizeof *tmp * C);
            }
        free(tmp);
        free(blocks);
        rc = 0;
        break;
    }
    }
out:
    free(src);
    free(sign);
    free(q);
    if (rc) return dml_fail(err, DML_ERR_NOMEM, NULL, "transform failed: out of memory or LAPACK error");
    return 0;
}
