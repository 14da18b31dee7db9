/* The infinite-width kernel engine: NNGP and NTK of a layer list (DESIGN 2.1), a fold over the list as Neural
 * Tangents' serial: each layer's kernel rule (core/layers/, dml_layer_table) maps the covariances of a pair of
 * inputs to the next layer's.
 *
 * The fold runs in two stages. Up to the layer that pools the positions (Flatten or GAP on spatial inputs), the
 * spatial stage runs per pair of inputs, on position-diagonal covariances or on full P x P ones, whichever the
 * rest of the list needs (chosen per layer, backwards from the end: GAP and AvgPool read off-diagonal pairs).
 * After it, the row stage runs on whole rows of the n1 x n2 matrices. Specialisations the fold selects:
 *   - an empty spatial stage (Flatten first, or flat inputs): the input covariance is one GEMM (SYRK for a
 *     Gram matrix);
 *   - a Gram matrix computes each unordered pair once and mirrors it in 64 x 64 tiles;
 *   - self covariances (which every activation reads) are propagated per input on the position diagonal with
 *     the same rules, or, when an activation follows GAP or AvgPool (whose diagonal needs off-diagonal
 *     entries), by the pair run of the input with itself; either way a self pair of a Gram matrix sees
 *     k12 == k11 == k22 bit for bit, so its ReLU angle is exactly 0;
 *   - the window sums of full covariances are fused one-pass rows and the duals SIMD (core/layers/). */
#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/blas_cpu.h"
#include "dmilab/kernel.h"
#include "../layers/layer.h"
#include "../parallel.h"
#include "plan.h"

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

typedef struct {
    const dml_kplan *pl;
    const double *x1, *x2;
    size_t n1, n2;
    int gram;
    double *s1, *s2;       /* self trajectories, n x nself */
    double *K, *T;         /* outputs n1 x n2 */
    double *f1, *f2;       /* self covariances after the pooling layer (NaN when nothing reads them) */
    double *g1, *g2;       /* self covariances before each row-stage layer */
    double **work;         /* per-thread workspace */
    int (*cancelled)(void *ctx);   /* the caller's cancel poll (NULL: none) and its context */
    void *cctx;
    atomic_int stop;       /* a poll said stop: every task returns at its next check */
    atomic_flag polling;   /* one thread at a time calls `cancelled` */
} job;

/* Pairs of a row computed between two cancel polls: a pair of cnn-gap at 28x28 takes well under a second. */
#define CANCEL_BLOCK 8

/* Whether the caller asked to stop: its poll, called by one thread at a time (the others read the last answer). */
static int stop_now(job *jb)
{
    if (!jb->cancelled) return 0;
    if (!atomic_flag_test_and_set(&jb->polling)) {
        if (jb->cancelled(jb->cctx)) atomic_store(&jb->stop, 1);
        atomic_flag_clear(&jb->polling);
    }
    return atomic_load(&jb->stop);
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
static void input_cov_full(const double *a, const double *b, size_t P, int C, double *out)
{
    for (size_t p = 0; p < P; p++) dml_input_cov_row(a, b, P, C, p, out + p * P);
}

/* The four buffers of a pair run in workspace w. */
static void pair_buffers(const dml_kplan *pl, double *w, dml_kstate *s)
{
    /* full buffers keep zero margins on both sides for the fused window (never written) */
    size_t g = pl->any_full && pl->whole ? pl->margin : 0, m = dml_kplan_buffer_doubles(pl);
    s->K = w + g;
    s->T = w + m + g;
    s->SK = w + 2 * m + g;
    s->ST = w + 3 * m + g;
}

/* The spatial stage on one pair (xi, xj) with self trajectories si, sj: NNGP and NTK after the pooling layer.
 * self_traj != NULL: the pair of an input with itself in a full self run, whose activations read their self
 * covariances from the pair's own diagonal and record them into self_traj (the NTK is not computed). */
static void pair_run(const dml_kplan *pl, const double *xi, const double *xj, const double *si, const double *sj,
                     int self_pair, double *self_traj, double *w, double *kout, double *tout)
{
    dml_kstate s = {0};
    pair_buffers(pl, w, &s);
    if (self_traj) s.T = NULL;
    s.theta_zero = 1;
    size_t P = pl->P0;
    s.full = pl->full0;
    s.rows = pl->full0 ? P : 1;
    s.cols = P;
    int l0 = 0;
    if (pl->nstage && !self_traj) {
        /* the row-streamed steps (stream.c): GAP's result, or the full covariances after them */
        dml_kstream_run(pl, xi, xj, si, sj, w + 4 * dml_kplan_buffer_doubles(pl), &s, kout, tout);
        if (pl->stream_gap) return;
        l0 = pl->stream_end;
    } else if (pl->full0) {
        input_cov_full(xi, xj, P, pl->C, s.K);
    } else if (self_pair && !pl->self_full) {
        memcpy(s.K, si, sizeof *s.K * P);   /* the very numbers of the self covariance */
    } else {
        input_cov_diag(xi, xj, P, pl->C, s.K);
    }
    for (int l = l0; l <= pl->pool; l++) {
        const dml_kstep *st = &pl->step[l];
        assert(s.cols == st->P_in && s.full == st->full_in);
        if (st->d->kind == DML_LAYER_ACT) {
            if (self_traj) {
                double *dst = self_traj + st->self_off;
                for (size_t p = 0; p < st->P_in; p++) dst[p] = s.K[s.full ? p * st->P_in + p : p];
                s.s1 = s.s2 = dst;
            } else {
                s.s1 = si + st->self_off;
                s.s2 = sj + st->self_off;
            }
        }
        dml_layer_table[st->d->kind]->kernel(st, &s);
        assert(s.full == st->full_out && s.cols <= pl->maxP);
    }
    *kout = s.K[0];
    *tout = self_traj ? NAN : s.T[0];
}

/* The self trajectory of one input: its diagonal covariance before every spatial Act, and its covariance
 * after the pooling layer (*scalar; NaN when a layer before needs off-diagonal entries and nothing reads it). */
static void self_trajectory(const dml_kplan *pl, const double *x, double *traj, double *scalar, double *w)
{
    input_cov_diag(x, x, pl->P0, pl->C, traj);
    if (pl->gemm) {
        /* the GEMM's diagonal is replaced by these numbers (kernel.c, dml_kernel) */
        double s = 0.0;
        for (size_t p = 0; p < pl->P0; p++) s += traj[p];
        *scalar = s / (double)pl->P0;
        return;
    }
    if (pl->self_full) {
        double t;
        pair_run(pl, x, x, traj, traj, 1, traj, w, scalar, &t);
        return;
    }
    dml_kstate s = {.K = w, .SK = w + DML_ROUND8(pl->maxP), .rows = 1, .cols = pl->P0};
    memcpy(s.K, traj, sizeof *s.K * pl->P0);
    for (int l = 0; l <= pl->pool; l++) {
        const dml_kstep *st = &pl->diag_step[l];
        dml_layer_kind k = st->d->kind;
        if (k == DML_LAYER_AVG_POOL) {
            *scalar = NAN;   /* nothing after it reads self covariances (else self_full) */
            return;
        }
        if (k == DML_LAYER_ACT) {
            memcpy(traj + st->self_off, s.K, sizeof *s.K * s.cols);
            s.s1 = s.s2 = s.K;
        }
        dml_layer_table[k]->kernel(st, &s);
    }
    *scalar = s.K[0];
}

static int spatial_row(size_t i, int worker, void *ctx)
{
    job *jb = ctx;
    const dml_kplan *pl = jb->pl;
    size_t D = pl->P0 * (size_t)pl->C, j0 = jb->gram ? i : 0;
    const double *xi = jb->x1 + i * D, *si = jb->s1 + i * pl->nself;
    const double *X2 = jb->gram ? jb->x1 : jb->x2, *S2 = jb->gram ? jb->s1 : jb->s2;
    for (size_t j = j0; j < jb->n2; j++) {
        if ((j - j0) % CANCEL_BLOCK == 0 && stop_now(jb)) return 1;
        pair_run(pl, xi, X2 + j * D, si, S2 + j * pl->nself, jb->gram && i == j, NULL, jb->work[worker],
                 &jb->K[i * jb->n2 + j], &jb->T[i * jb->n2 + j]);
    }
    return 0;
}

static int self_task(size_t t, int worker, void *ctx)
{
    job *jb = ctx;
    const dml_kplan *pl = jb->pl;
    size_t D = pl->P0 * (size_t)pl->C;
    if (stop_now(jb)) return 1;
    if (t < jb->n1)
        self_trajectory(pl, jb->x1 + t * D, jb->s1 + t * pl->nself, &jb->f1[t], jb->work[worker]);
    else {
        size_t j = t - jb->n1;
        self_trajectory(pl, jb->x2 + j * D, jb->s2 + j * pl->nself, &jb->f2[j], jb->work[worker]);
    }
    return 0;
}

/* Self covariances through the row stage: g[(l - pool - 1) * n + i] is input i's self covariance before
 * layer l, computed with the same rules as the matrix entries (on the diagonal: entry i is input i). */
static void row_selves(const dml_kplan *pl, const double *f, size_t n, double *g)
{
    const dml_layers *L = pl->L;
    size_t k = 0;
    for (int l = pl->pool + 1; l < L->n; l++, k++) {
        const double *src = k ? g + (k - 1) * n : f;
        double *dst = g + k * n;
        memcpy(dst, src, sizeof *dst * n);
        if (k == 0) continue;
        const dml_kstep *st = &pl->diag_step[l - 1];
        dml_kstate s = {.K = dst, .rows = 1, .cols = n, .s1 = dst, .s2 = dst};
        dml_layer_table[st->d->kind]->kernel(st, &s);
    }
}

/* The row stage, one row of n2 pairs at a time. */
static int row_task(size_t i, int worker, void *ctx)
{
    (void)worker;
    job *jb = ctx;
    if (stop_now(jb)) return 1;
    const dml_kplan *pl = jb->pl;
    const double *g2 = jb->gram ? jb->g1 : jb->g2;
    dml_kstate s = {.full = 1, .rows = 1, .cols = jb->n2, .K = jb->K + i * jb->n2, .T = jb->T + i * jb->n2};
    size_t k = 0;
    for (int l = pl->pool + 1; l < pl->L->n; l++, k++) {
        const dml_kstep *st = &pl->step[l];
        s.s1 = jb->g1 + k * jb->n1 + i;
        s.s2 = g2 + k * jb->n2;
        dml_layer_table[st->d->kind]->kernel(st, &s);
    }
    return 0;
}

int dml_kernel(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2, size_t n2,
               double *nngp, double *ntk, int threads, dml_error *err)
{
    return dml_kernel_cancellable(m, shape, x1, n1, x2, n2, nngp, ntk, threads, NULL, NULL, err);
}

int dml_kernel_cancellable(const dml_model *m, const dml_shape *shape, const double *x1, size_t n1, const double *x2,
                           size_t n2, double *nngp, double *ntk, int threads, int (*cancelled)(void *ctx), void *ctx,
                           dml_error *err)
{
    if (m->parameterization != DML_PARAM_NTK)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "model.parameterization",
                        "infinite-width kernels are defined for parameterization 'ntk' only: with 'standard' "
                        "they depend on the layer widths");
    int gram = x2 == NULL;
    if (gram) n2 = n1;
    if (threads < 1) threads = 1;
    dml_layers *L = malloc(sizeof *L);
    dml_kplan *pl = malloc(sizeof *pl);
    if (!L || !pl) {
        free(L);
        free(pl);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    }
    if (dml_model_layers(m, shape, 1, L, err)) {
        if (err) {
            char f[sizeof err->field];
            snprintf(f, sizeof f, "model%s%s", err->field[0] ? "." : "", err->field);
            memcpy(err->field, f, sizeof f);
        }
        free(L);
        free(pl);
        return -1;
    }
    if (dml_kplan_build(L, pl, err)) {
        dml_kplan_free(pl);
        free(pl);
        free(L);
        return -1;
    }
    job jb = {.pl = pl, .x1 = x1, .x2 = x2, .n1 = n1, .n2 = n2, .gram = gram, .cancelled = cancelled, .cctx = ctx};
    atomic_init(&jb.stop, 0);
    atomic_flag_clear(&jb.polling);
    size_t nn = n1 * n2;
    int own_K = nngp == NULL;
    jb.K = nngp ? nngp : malloc(sizeof(double) * (nn ? nn : 1));
    jb.T = ntk ? ntk : malloc(sizeof(double) * (nn ? nn : 1));
    jb.s1 = aligned_alloc(64, sizeof(double) * DML_ROUND8(n1 * pl->nself + 1));
    jb.s2 = gram ? NULL : aligned_alloc(64, sizeof(double) * DML_ROUND8(n2 * pl->nself + 1));
    jb.f1 = malloc(sizeof(double) * (n1 + 1));
    jb.f2 = gram ? NULL : malloc(sizeof(double) * (n2 + 1));
    jb.work = calloc((size_t)threads, sizeof *jb.work);
    size_t wn = dml_kplan_workspace_doubles(pl);
    if (wn < n2 + 4) wn = n2 + 4;
    wn = DML_ROUND8(wn);
    int ok = jb.K && jb.T && jb.s1 && (gram || jb.s2) && jb.f1 && (gram || jb.f2) && jb.work;
    /* cache-line aligned workspaces (their buffers start at multiples of eight doubles): the window sums and
     * duals load and store whole vectors, which must not straddle cache lines */
    for (int t = 0; ok && t < threads; t++) {
        ok = (jb.work[t] = aligned_alloc(64, wn * sizeof(double))) != NULL;
        if (ok) memset(jb.work[t], 0, wn * sizeof(double));
    }
    int rc = 0;
    if (!ok) {
        rc = dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a %zu x %zu kernel", n1, n2);
        goto out;
    }
    if (dml_parallel_for(gram ? n1 : n1 + n2, threads, self_task, &jb)) goto cancel;
    if (pl->gemm) {
        /* Flatten first (fcn; lcn and cnn-vec of depth 0, whose position-mean of the diagonal input covariance is
         * the same number) or flat inputs, so the kernel is x.x'/(P*C): one GEMM (SYRK for a Gram matrix). GAP
         * first (cnn-gap of depth 0) takes the spatial stage: the mean over all position pairs. */
        size_t D = pl->P0 * (size_t)pl->C;
        double alpha = 1.0 / (double)D;
        if (nn && D && dml_blas_headroom(err)) {
            rc = -1;
            goto out;
        }
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
    } else if (dml_parallel_for(n1, threads, spatial_row, &jb)) {
        goto cancel;
    }
    if (gram)   /* mirror the upper triangle, in 64 x 64 tiles to stay in cache */
        for (size_t i0 = 0; i0 < n1; i0 += 64)
            for (size_t j0 = i0; j0 < n1; j0 += 64)
                for (size_t i = i0; i < i0 + 64 && i < n1; i++)
                    for (size_t j = j0 > i + 1 ? j0 : i + 1; j < j0 + 64 && j < n1; j++) {
                        jb.K[j * n1 + i] = jb.K[i * n1 + j];
                        jb.T[j * n1 + i] = jb.T[i * n1 + j];
                    }
    size_t nrow = (size_t)(L->n - pl->pool - 1);
    jb.g1 = malloc(sizeof(double) * (nrow * n1 + 1));
    jb.g2 = gram ? NULL : malloc(sizeof(double) * (nrow * n2 + 1));
    if (!jb.g1 || (!gram && !jb.g2)) {
        rc = dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    row_selves(pl, jb.f1, n1, jb.g1);
    if (!gram) row_selves(pl, jb.f2, n2, jb.g2);
    if (dml_parallel_for(n1, threads, row_task, &jb)) goto cancel;
    for (size_t i = 0; i < nn; i++)
        if (!isfinite(jb.K[i]) || !isfinite(jb.T[i])) {
            rc = dml_fail(err, DML_ERR_NUMERIC, "x1",
                          "the kernel is not finite at entry (%zu, %zu): the inputs or the layer scales are too "
                          "large for double precision (covariances overflow); rescale the inputs",
                          i / n2, i % n2);
            break;
        }
    goto out;
cancel:
    rc = dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
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
    dml_kplan_free(pl);
    free(pl);
    free(L);
    return rc;
}
