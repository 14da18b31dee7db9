/* The infinite-width kernel engine: NNGP and NTK of a layer list (DESIGN 2.1).
 *
 * A layer list is split in two stages. The spatial stage (Conv / ConvLocal / Act before Flatten or GAP)
 * runs per pair of inputs on position-diagonal covariances (when the pooling layer is Flatten: lcn,
 * cnn-vec) or on full P x P covariances (GAP: cnn-gap). The scalar stage (Dense / Act / Readout after
 * Flatten or GAP) runs on whole n1 x n2 matrices, row by row; for fcn the spatial stage is empty and the
 * input covariance is one GEMM. Self covariances of each input are propagated alongside with the same
 * array functions, so self pairs of a Gram matrix see k12 == k11 == k22 exactly. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/kernel.h"
#include "dual.h"
#include "spatial.h"
#include "../parallel.h"

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

typedef struct {
    const dml_layers *L;
    int pool;              /* index of the Flatten / GAP layer */
    int full;              /* pool is GAP: full covariances */
    size_t P0;             /* input positions */
    int C;                 /* input channels */
    size_t maxP;           /* largest position count in the spatial stage */
    size_t margin;         /* doubles of zeros kept before and after each full-covariance buffer */
    size_t nself;          /* doubles of one input's self trajectory */
    size_t self_off[DML_MAX_LAYERS];   /* offset of the pre-activation self diagonal at each Act */
    dml_window_table win[DML_MAX_LAYERS]; /* window tables of the spatial Conv / ConvLocal layers */
} plan;

typedef struct {
    const plan *pl;
    const double *x1, *x2;
    size_t n1, n2;
    int gram;
    double *s1, *s2;       /* self trajectories, n x nself */
    double *K, *T;         /* outputs n1 x n2 */
    double *f1, *f2;       /* scalar self covariances after the pooling layer (NaN after GAP) */
    double *g1, *g2;       /* self covariances before each scalar-stage layer */
    double **work;         /* per-thread workspace */
} job;

static int build_plan(const dml_layers *L, plan *pl, dml_error *err)
{
    memset(pl, 0, sizeof *pl);
    pl->L = L;
    pl->pool = -1;
    for (int i = 0; i < L->n; i++)
        if (L->layer[i].kind == DML_LAYER_FLATTEN || L->layer[i].kind == DML_LAYER_GAP) {
            pl->pool = i;
            break;
        }
    if (pl->pool < 0) return dml_fail(err, DML_ERR_INTERNAL, "model", "layer list without Flatten or GAP");
    pl->full = L->layer[pl->pool].kind == DML_LAYER_GAP;
    pl->P0 = dml_shape_positions(&L->input);
    pl->C = L->input.channels;
    pl->maxP = pl->P0;
    size_t off = pl->P0;   /* slot 0: the input covariance diagonal */
    for (int i = 0; i < pl->pool; i++) {
        const dml_layer *ly = &L->layer[i];
        if (ly->kind == DML_LAYER_ACT) {
            pl->self_off[i] = off;
            size_t np = 1;
            for (int a = 0; a < ly->nd; a++) np *= (size_t)ly->in_size[a];
            off += np;
        } else if (ly->kind == DML_LAYER_CONV || ly->kind == DML_LAYER_CONV_LOCAL) {
            if (pl->full && ly->kind == DML_LAYER_CONV_LOCAL)
                return dml_fail(err, DML_ERR_INVALID_SPEC, "model",
                                "locally connected layers followed by global average pooling have no "
                                "position-diagonal kernel; not supported");
            if (dml_window_table_build(ly, &pl->win[i]))
                return dml_fail(err, DML_ERR_NOMEM, "model", "out of memory for window tables");
            size_t p = pl->win[i].P_out;
            if (p > pl->maxP) pl->maxP = p;
            if ((size_t)pl->win[i].max_shift + 8 > pl->margin) pl->margin = (size_t)pl->win[i].max_shift + 8;
        } else {
            return dml_fail(err, DML_ERR_INTERNAL, "model", "unexpected layer before pooling");
        }
    }
    pl->nself = off;
    for (int i = pl->pool + 1; i < L->n; i++) {
        dml_layer_kind k = L->layer[i].kind;
        if (k == DML_LAYER_ACT && pl->full)
            return dml_fail(err, DML_ERR_INVALID_SPEC, "model", "activation after global average pooling not supported");
        if (k != DML_LAYER_DENSE && k != DML_LAYER_ACT && k != DML_LAYER_READOUT)
            return dml_fail(err, DML_ERR_INTERNAL, "model", "unexpected layer after pooling");
    }
    return 0;
}

/* Input covariance on the position diagonal: out[p] = (sum_c a[p,c] b[p,c]) * (1/C). */
static void input_cov_diag(const double *a, const double *b, size_t P, int C, double *out)
{
    double inv = 1.0 / C;
    for (size_t p = 0; p < P; p++) {
        double s = 0.0;
        for (int c = 0; c < C; c++) s += a[p * C + c] * b[p * C + c];
        out[p] = s * inv;
    }
}

/* Full input covariance: out[p, q] = (sum_c a[p,c] b[q,c]) * (1/C); the same arithmetic as
 * input_cov_diag, so its diagonal is bit-identical (0.0 + x == x for the one-channel case). */
CLONES static void input_cov_full(const double *restrict a, const double *restrict b, size_t P, int C,
                                  double *restrict out)
{
    double inv = 1.0 / C;
    if (C == 1) {
        for (size_t p = 0; p < P; p++)
            for (size_t q = 0; q < P; q++) out[p * P + q] = (a[p] * b[q]) * inv;
        return;
    }
    for (size_t p = 0; p < P; p++)
        for (size_t q = 0; q < P; q++) {
            double s = 0.0;
            for (int c = 0; c < C; c++) s += a[p * C + c] * b[q * C + c];
            out[p * P + q] = s * inv;
        }
}

/* Sum with eight independent partial sums (vectorisable, and more accurate than one running sum). */
CLONES static double sum(const double *a, size_t n)
{
    double p[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) p[k] += a[i + k];
    for (; i < n; i++) p[i & 7] += a[i];
    return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

/* K <- w^2/F * S + b^2 and, when T != NULL, T <- w^2/F * ST + K (the Conv / Dense update). */
CLONES static void affine(size_t n, double scale, double b2, const double *S, double *K, const double *ST, double *T)
{
    for (size_t i = 0; i < n; i++) K[i] = scale * S[i] + b2;
    if (T)
        for (size_t i = 0; i < n; i++) T[i] = scale * ST[i] + K[i];
}

static double filter_size(const dml_layer *ly)
{
    double F = 1.0;
    for (int a = 0; a < ly->nd; a++) F *= ly->filter[a];
    return F;
}

/* The self trajectory of one input: its diagonal covariance before every spatial Act, and the
 * scalar self covariance after Flatten (NaN after GAP: not needed by the supported layer lists). */
static void self_trajectory(const plan *pl, const double *x, double *traj, double *scalar, double *w)
{
    const dml_layers *L = pl->L;
    double *cur = w, *nxt = w + pl->maxP;
    input_cov_diag(x, x, pl->P0, pl->C, traj);
    memcpy(cur, traj, sizeof *cur * pl->P0);
    size_t P = pl->P0;
    for (int i = 0; i < pl->pool; i++) {
        const dml_layer *ly = &L->layer[i];
        if (ly->kind == DML_LAYER_ACT) {
            memcpy(traj + pl->self_off[i], cur, sizeof *cur * P);
            dml_dual(ly->activation, P, cur, 1, cur, cur, cur, NULL);
        } else {
            dml_window_diag(&pl->win[i], cur, nxt);
            P = pl->win[i].P_out;
            affine(P, ly->w_std * ly->w_std / filter_size(ly), ly->b_std * ly->b_std, nxt, cur, NULL, NULL);
        }
    }
    if (pl->full) {
        *scalar = NAN;
    } else {
        double s = 0.0;
        for (size_t p = 0; p < P; p++) s += cur[p];
        *scalar = s / (double)P;
    }
}

static size_t workspace_doubles(const plan *pl)
{
    size_t P = pl->maxP;
    return pl->full ? 4 * (P * P + 2 * pl->margin) + 4 : 4 * P + 4;
}

/* One pair in the spatial stage: returns K and Theta after the pooling layer. */
static void pair_spatial(const job *jb, size_t i, size_t j, double *w, double *kout, double *tout)
{
    const plan *pl = jb->pl;
    const dml_layers *L = pl->L;
    const double *xi = jb->x1 + i * pl->P0 * (size_t)pl->C;
    const double *xj = (jb->gram ? jb->x1 : jb->x2) + j * pl->P0 * (size_t)pl->C;
    const double *si = jb->s1 + i * pl->nself;
    const double *sj = (jb->gram ? jb->s1 : jb->s2) + j * pl->nself;
    /* full buffers keep zero margins on both sides for the fused window (never written) */
    size_t g = pl->full ? pl->margin : 0, m = (pl->full ? pl->maxP * pl->maxP : pl->maxP) + 2 * g;
    double *K = w + g, *T = w + m + g, *SK = w + 2 * m + g, *ST = w + 3 * m + g;
    size_t P = pl->P0;
    int self_pair = jb->gram && i == j;
    if (pl->full)
        input_cov_full(xi, xj, P, pl->C, K);
    else if (self_pair)
        memcpy(K, si, sizeof *K * P);      /* the very numbers of the self covariance */
    else
        input_cov_diag(xi, xj, P, pl->C, K);
    int theta_zero = 1;
    for (int l = 0; l < pl->pool; l++) {
        const dml_layer *ly = &L->layer[l];
        if (ly->kind == DML_LAYER_ACT) {
            const double *a = si + pl->self_off[l], *b = sj + pl->self_off[l];
            if (pl->full)
                for (size_t p = 0; p < P; p++)
                    dml_dual(ly->activation, P, a + p, 0, b, K + p * P, K + p * P, theta_zero ? NULL : T + p * P);
            else
                dml_dual(ly->activation, P, a, 1, b, K, K, theta_zero ? NULL : T);
            if (theta_zero) memset(T, 0, sizeof *T * (pl->full ? P * P : P));
        } else {
            const dml_window_table *wt = &pl->win[l];
            size_t Pn = wt->P_out;
            size_t n = pl->full ? Pn * Pn : Pn;
            double scale = ly->w_std * ly->w_std / filter_size(ly);
            if (pl->full) {
                dml_window_full(wt, K, SK);
                if (!theta_zero) dml_window_full(wt, T, ST);
            } else {
                dml_window_diag(wt, K, SK);
                if (!theta_zero) dml_window_diag(wt, T, ST);
            }
            /* the first layer's NTK is its NNGP (the input has no parameters to differentiate) */
            affine(n, scale, ly->b_std * ly->b_std, SK, K, theta_zero ? SK : ST, theta_zero ? NULL : T);
            if (theta_zero) memcpy(T, K, sizeof *T * n);
            theta_zero = 0;
            P = Pn;
        }
    }
    size_t n = pl->full ? P * P : P;
    *kout = sum(K, n) / (double)n;
    *tout = theta_zero ? 0.0 : sum(T, n) / (double)n;
}

static int spatial_row(size_t i, int worker, void *ctx)
{
    job *jb = ctx;
    size_t j0 = jb->gram ? i : 0;
    for (size_t j = j0; j < jb->n2; j++)
        pair_spatial(jb, i, j, jb->work[worker], &jb->K[i * jb->n2 + j], &jb->T[i * jb->n2 + j]);
    return 0;
}

static int self_task(size_t t, int worker, void *ctx)
{
    job *jb = ctx;
    const plan *pl = jb->pl;
    size_t D = pl->P0 * (size_t)pl->C;
    if (t < jb->n1)
        self_trajectory(pl, jb->x1 + t * D, jb->s1 + t * pl->nself, &jb->f1[t], jb->work[worker]);
    else {
        size_t j = t - jb->n1;
        self_trajectory(pl, jb->x2 + j * D, jb->s2 + j * pl->nself, &jb->f2[j], jb->work[worker]);
    }
    return 0;
}

/* Self covariances through the scalar stage: g[(l - pool - 1) * n + i] is input i's self covariance
 * before layer l, computed with the same array functions as the matrix entries. */
static void scalar_selves(const plan *pl, const double *f, size_t n, double *g)
{
    const dml_layers *L = pl->L;
    size_t k = 0;
    for (int l = pl->pool + 1; l < L->n; l++, k++) {
        const double *src = k ? g + (k - 1) * n : f;
        double *dst = g + k * n;
        memcpy(dst, src, sizeof *dst * n);
        if (k == 0) continue;
        const dml_layer *ly = &L->layer[l - 1];
        if (ly->kind == DML_LAYER_ACT)
            dml_dual(ly->activation, n, dst, 1, dst, dst, dst, NULL);
        else
            affine(n, ly->w_std * ly->w_std, ly->b_std * ly->b_std, dst, dst, NULL, NULL);
    }
}

/* The scalar stage, one row at a time. */
static int scalar_row(size_t i, int worker, void *ctx)
{
    (void)worker;
    job *jb = ctx;
    const dml_layers *L = jb->pl->L;
    double *K = jb->K + i * jb->n2, *T = jb->T + i * jb->n2;
    const double *g2 = jb->gram ? jb->g1 : jb->g2;
    size_t k = 0;
    for (int l = jb->pl->pool + 1; l < L->n; l++, k++) {
        const dml_layer *ly = &L->layer[l];
        if (ly->kind == DML_LAYER_ACT)
            dml_dual(ly->activation, jb->n2, jb->g1 + k * jb->n1 + i, 0, g2 + k * jb->n2, K, K, T);
        else
            affine(jb->n2, ly->w_std * ly->w_std, ly->b_std * ly->b_std, K, K, T, T);
    }
    return 0;
}

int dml_kernel(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2, size_t n2,
               double *nngp, double *ntk, int threads, dml_error *err)
{
    if (m->parameterization != DML_PARAM_NTK)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "model.parameterization",
                        "infinite-width kernels are defined for parameterization 'ntk' only: with 'standard' "
                        "they depend on the layer widths");
    int gram = x2 == NULL;
    if (gram) n2 = n1;
    if (threads < 1) threads = 1;
    dml_layers *L = malloc(sizeof *L);
    if (!L) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    plan pl;
    if (dml_model_layers(m, shape, 1, L, err)) {
        if (err) {
            char f[sizeof err->field];
            snprintf(f, sizeof f, "model%s%s", err->field[0] ? "." : "", err->field);
            memcpy(err->field, f, sizeof f);
        }
        free(L);
        return -1;
    }
    if (build_plan(L, &pl, err)) {
        for (int i = 0; i < L->n; i++) dml_window_table_free(&pl.win[i]);
        free(L);
        return -1;
    }
    job jb = {.pl = &pl, .x1 = x1, .x2 = x2, .n1 = n1, .n2 = n2, .gram = gram};
    size_t nn = n1 * n2;
    int own_K = nngp == NULL;
    jb.K = nngp ? nngp : malloc(sizeof(double) * (nn ? nn : 1));
    jb.T = ntk ? ntk : malloc(sizeof(double) * (nn ? nn : 1));
    jb.s1 = malloc(sizeof(double) * (n1 * pl.nself + 1));
    jb.s2 = gram ? NULL : malloc(sizeof(double) * (n2 * pl.nself + 1));
    jb.f1 = malloc(sizeof(double) * (n1 + 1));
    jb.f2 = gram ? NULL : malloc(sizeof(double) * (n2 + 1));
    jb.work = calloc((size_t)threads, sizeof *jb.work);
    size_t wn = workspace_doubles(&pl);
    if (wn < n2 + 4) wn = n2 + 4;
    int ok = jb.K && jb.T && jb.s1 && (gram || jb.s2) && jb.f1 && (gram || jb.f2) && jb.work;
    for (int t = 0; ok && t < threads; t++) ok = (jb.work[t] = calloc(wn, sizeof(double))) != NULL;
    int rc = 0;
    if (!ok) {
        rc = dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a %zu x %zu kernel", n1, n2);
        goto out;
    }
    dml_parallel_for(gram ? n1 : n1 + n2, threads, self_task, &jb);
    if (pl.pool == 0 && !pl.full) {
        /* Flatten first (fcn; lcn and cnn-vec of depth 0, whose position-mean of the diagonal input covariance is
         * the same number), so the kernel is x.x'/(P*C): one GEMM (SYRK for a Gram matrix). GAP first (cnn-gap of
         * depth 0) takes the spatial stage: the mean over all position pairs. */
        size_t D = pl.P0 * (size_t)pl.C;
        double alpha = 1.0 / (double)D;
        if (nn && D) {
            if (gram) {
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n1, (int)D, alpha, x1, (int)D, 0.0, jb.K, (int)n1);
            } else {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n1, (int)n2, (int)D, alpha, x1, (int)D, x2,
                            (int)D, 0.0, jb.K, (int)n2);
            }
        } else if (nn) {
            memset(jb.K, 0, sizeof(double) * nn);
        }
        memset(jb.T, 0, sizeof(double) * nn);
        if (gram)
            for (size_t i = 0; i < n1; i++) jb.K[i * n1 + i] = jb.f1[i];
    } else {
        dml_parallel_for(n1, threads, spatial_row, &jb);
    }
    if (gram)   /* mirror the upper triangle, in 64 x 64 tiles to stay in cache */
        for (size_t i0 = 0; i0 < n1; i0 += 64)
            for (size_t j0 = i0; j0 < n1; j0 += 64)
                for (size_t i = i0; i < i0 + 64 && i < n1; i++)
                    for (size_t j = j0 > i + 1 ? j0 : i + 1; j < j0 + 64 && j < n1; j++) {
                        jb.K[j * n1 + i] = jb.K[i * n1 + j];
                        jb.T[j * n1 + i] = jb.T[i * n1 + j];
                    }
    size_t npost = (size_t)(L->n - pl.pool - 1);
    jb.g1 = malloc(sizeof(double) * (npost * n1 + 1));
    jb.g2 = gram ? NULL : malloc(sizeof(double) * (npost * n2 + 1));
    if (!jb.g1 || (!gram && !jb.g2)) {
        rc = dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    scalar_selves(&pl, jb.f1, n1, jb.g1);
    if (!gram) scalar_selves(&pl, jb.f2, n2, jb.g2);
    dml_parallel_for(n1, threads, scalar_row, &jb);
    for (size_t i = 0; i < nn; i++)
        if (!isfinite(jb.K[i]) || !isfinite(jb.T[i])) {
            rc = dml_fail(err, DML_ERR_NUMERIC, "x1",
                          "the kernel is not finite at entry (%zu, %zu): the inputs or the layer scales are too "
                          "large for double precision (covariances overflow); rescale the inputs",
                          i / n2, i % n2);
            break;
        }
out:
    free(jb.g1);
    free(jb.g2);
    if (jb.work)
        for (int t = 0; t < threads; t++) free(jb.work[t]);
    free(jb.work);
    if (own_K) free(jb.K);
    if (!ntk) free(jb.T);
    free(jb.s1);
    free(jb.s2);
    free(jb.f1);
    free(jb.f2);
    for (int i = 0; i < L->n; i++) dml_window_table_free(&pl.win[i]);
    free(L);
    return rc;
}
