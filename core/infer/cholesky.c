/* The tiled Cholesky factorization (dmilab/cholesky.h): column blocks, a task scheduler on pthreads, single-threaded
 * BLAS on each task.
 *
 * The matrix is seen as its logical lower triangle whatever the storage: a view maps a block's top-left corner to a
 * tile (cholesky_tiles.h). Column blocks never straddle the two halves of an RFP array, so the rows below a
 * diagonal tile are one tile in every storage: in RFP the first n1 columns are one column-major block of n rows,
 * and the trailing triangle is one transposed block.
 *
 * Tasks, for column blocks j > k:
 *   FACTOR(j)     when the k < j updates of block j are done: dpotrf on its diagonal tile, then the rows below by
 *                 dml_trsm_rlt;
 *   UPDATE(j, k)  when block k is factored and block j has had the updates of blocks 0..k-1: the diagonal tile of
 *                 j minus L_jk L_jk^T (dsyrk), the rows below minus L_{>j,k} L_jk^T (dgemm).
 * A block is worked on by one task at a time and takes its updates in the order k = 0, 1, ..., so the result does
 * not depend on the schedule. A free thread takes the ready task of the leftmost block. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include "cholesky_tiles.h"
#include "dmilab/blas_cpu.h"
#include "dmilab/cholesky.h"

dml_chol_layout dml_chol_layout_of(double *a, size_t n, size_t lda, int storage)
{
    dml_chol_layout g = {.base = a, .n = n, .n1 = n, .ld = lda, .trans1 = storage == DML_CHOL_ROW_MAJOR};
    if (storage == DML_CHOL_RFP) {
        g.n1 = (n + 1) / 2;
        g.ld = n % 2 ? n : n + 1;
        g.o1 = n % 2 ? 0 : 1;
        g.o2 = n % 2 ? n : 0;
    }
    return g;
}

dml_tile dml_chol_view(const dml_chol_layout *g, size_t r, size_t c)
{
    if (c < g->n1)
        return g->trans1 ? (dml_tile){g->base + g->o1 + c + r * g->ld, g->ld, 1}
                         : (dml_tile){g->base + g->o1 + r + c * g->ld, g->ld, 0};
    return (dml_tile){g->base + g->o2 + (c - g->n1) + (r - g->n1) * g->ld, g->ld, 1};
}

size_t dml_chol_cut(size_t *bound, size_t n1, size_t n)
{
    size_t q1 = (n1 + DML_CHOLESKY_NB - 1) / DML_CHOLESKY_NB, q2 = (n - n1 + DML_CHOLESKY_NB - 1) / DML_CHOLESKY_NB;
    bound[0] = 0;
    for (size_t i = 1; i <= q1; i++) bound[i] = n1 * i / q1;
    for (size_t i = 1; i <= q2; i++) bound[q1 + i] = n1 + (n - n1) * i / q2;
    return q1 + q2;
}

/* C (m x n) -= A (m x k) B^T (B: n x k), every operand a tile of either layout */
static void gemm_sub(size_t m, size_t n, size_t k, dml_tile A, dml_tile B, dml_tile C)
{
    if (!C.trans)
        cblas_dgemm(CblasColMajor, A.trans ? CblasTrans : CblasNoTrans, B.trans ? CblasNoTrans : CblasTrans, (int)m,
                    (int)n, (int)k, -1.0, A.a, (int)A.ld, B.a, (int)B.ld, 1.0, C.a, (int)C.ld);
    else /* the memory holds C^T: C^T -= B A^T */
        cblas_dgemm(CblasColMajor, B.trans ? CblasTrans : CblasNoTrans, A.trans ? CblasNoTrans : CblasTrans, (int)n,
                    (int)m, (int)k, -1.0, B.a, (int)B.ld, A.a, (int)A.ld, 1.0, C.a, (int)C.ld);
}

/* lower triangle of C (n x n) -= A A^T (A: n x k); a transposed C holds its lower triangle in its upper one */
static void syrk_sub(size_t n, size_t k, dml_tile A, dml_tile C)
{
    cblas_dsyrk(CblasColMajor, C.trans ? CblasUpper : CblasLower, A.trans ? CblasTrans : CblasNoTrans, (int)n, (int)k,
                -1.0, A.a, (int)A.ld, 1.0, C.a, (int)C.ld);
}

typedef struct {
    dml_chol_layout g;
    size_t nt, *bound; /* column block j is columns [bound[j], bound[j+1]) */
    size_t *applied;   /* updates applied to block j: blocks 0 .. applied[j]-1 */
    char *factored, *busy;
    size_t nfactored, wmax;
    int failed; /* 1: not positive definite at minor `minor`; 2: a NaN there; 3: out of memory */
    size_t minor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} dag;

static int has_nan(dml_tile t, size_t w)
{
    for (size_t c = 0; c < w; c++)
        for (size_t r = c; r < w; r++)
            if (isnan(t.trans ? t.a[c + r * t.ld] : t.a[r + c * t.ld])) return 1;
    return 0;
}

/* 0, or the failure code of dag.failed with *minor set */
static int factor(dag *d, size_t j, double *work, size_t *minor)
{
    size_t r0 = d->bound[j], w = d->bound[j + 1] - r0, n = d->g.n;
    dml_tile T = dml_chol_view(&d->g, r0, r0);
    /* a NaN in rows [r0, r0 + w) reaches this diagonal tile (updates move values along rows only) */
    int nan = has_nan(T, w);
    lapack_int info =
        nan ? 1 : LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, T.trans ? 'U' : 'L', (lapack_int)w, T.a, (lapack_int)T.ld);
    if (info) {
        *minor = r0 + (size_t)info;
        return nan ? 2 : 1;
    }
    if (r0 + w < n) dml_trsm_rlt(n - r0 - w, w, T, dml_chol_view(&d->g, r0 + w, r0), work);
    return 0;
}

static void update(dag *d, size_t j, size_t k)
{
    size_t r0 = d->bound[j], w = d->bound[j + 1] - r0, n = d->g.n, c0 = d->bound[k], wk = d->bound[k + 1] - c0;
    syrk_sub(w, wk, dml_chol_view(&d->g, r0, c0), dml_chol_view(&d->g, r0, r0));
    if (r0 + w < n)
        gemm_sub(n - r0 - w, w, wk, dml_chol_view(&d->g, r0 + w, c0), dml_chol_view(&d->g, r0, c0),
                 dml_chol_view(&d->g, r0 + w, r0));
}

static void *worker(void *arg)
{
    dag *d = arg;
    double *work = malloc(sizeof *work * dml_trsm_rlt_work(d->wmax));
    pthread_mutex_lock(&d->mu);
    if (!work) {
        d->failed = 3;
        pthread_cond_broadcast(&d->cv);
    }
    while (!d->failed && d->nfactored < d->nt) {
        size_t j, k = 0;
        int kind = 0;
        for (j = 0; j < d->nt && !kind; j++) {
            if (d->busy[j] || d->factored[j]) continue;
            k = d->applied[j];
            kind = k == j ? 1 : d->factored[k] ? 2 : 0;
        }
        if (!kind) {
            pthread_cond_wait(&d->cv, &d->mu);
            continue;
        }
        j--;
        d->busy[j] = 1;
        pthread_mutex_unlock(&d->mu);
        size_t minor = 0;
        int rc = 0;
        if (kind == 1)
            rc = factor(d, j, work, &minor);
        else
            update(d, j, k);
        pthread_mutex_lock(&d->mu);
        d->busy[j] = 0;
        if (rc) {
            if (!d->failed || minor < d->minor) d->minor = minor;
            d->failed = rc;
        } else if (kind == 1) {
            d->factored[j] = 1;
            d->nfactored++;
        } else {
            d->applied[j]++;
        }
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    free(work);
    return NULL;
}

size_t dml_cholesky_rfp_lapack_from = DML_CHOLESKY_RFP_LAPACK_FROM;

/* LAPACK's dpftrf on OpenBLAS's threads, with the same error reports */
static int rfp_lapack(double *arf, size_t n, dml_error *err)
{
    lapack_int info = LAPACKE_dpftrf(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)n, arf);
    if (info == -5) return dml_fail(err, DML_ERR_NUMERIC, NULL, "kernel matrix has a NaN entry");
    if (info > 0)
        return dml_fail(err, DML_ERR_NUMERIC, NULL,
                        "kernel matrix is not positive definite (its leading minor of order %d is not)", (int)info);
    if (info < 0) return dml_fail(err, DML_ERR_INTERNAL, NULL, "dpftrf: argument %d is invalid", (int)-info);
    return 0;
}

int dml_cholesky(double *a, size_t n, size_t lda, dml_chol_storage storage, int threads, dml_error *err)
{
    if (n == 0) return 0;
    if (storage == DML_CHOL_RFP && n >= dml_cholesky_rfp_lapack_from) return rfp_lapack(a, n, err);
    dml_chol_layout g = dml_chol_layout_of(a, n, lda, (int)storage);
    dag d = {.g = g};
    size_t maxblocks = 2 * (n / DML_CHOLESKY_NB + 2);
    d.bound = malloc(sizeof *d.bound * (maxblocks + 1));
    d.applied = calloc(maxblocks, sizeof *d.applied);
    d.factored = calloc(maxblocks, 1);
    d.busy = calloc(maxblocks, 1);
    if (!d.bound || !d.applied || !d.factored || !d.busy) {
        free(d.bound);
        free(d.applied);
        free(d.factored);
        free(d.busy);
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the Cholesky task table");
    }
    d.nt = dml_chol_cut(d.bound, g.n1, n);
    for (size_t j = 0; j < d.nt; j++)
        if (d.bound[j + 1] - d.bound[j] > d.wmax) d.wmax = d.bound[j + 1] - d.bound[j];
    if (threads <= 0) threads = dml_blas_threads();
    if ((size_t)threads > d.nt) threads = (int)d.nt;
    if (threads < 1) threads = 1;
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    dml_blas_single_begin();
    pthread_t *th = malloc(sizeof *th * (size_t)threads);
    int started = 0;
    for (int i = 1; th && i < threads; i++, started++)
        if (pthread_create(&th[i], NULL, worker, &d)) break; /* fewer threads: the caller does the rest */
    worker(&d);
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
    dml_blas_single_end();
    free(th);
    pthread_mutex_destroy(&d.mu);
    pthread_cond_destroy(&d.cv);
    int failed = d.failed;
    size_t minor = d.minor;
    free(d.bound);
    free(d.applied);
    free(d.factored);
    free(d.busy);
    if (failed == 3) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the Cholesky workspace");
    if (failed == 2) return dml_fail(err, DML_ERR_NUMERIC, NULL, "kernel matrix has a NaN entry");
    if (failed == 1)
        return dml_fail(err, DML_ERR_NUMERIC, NULL,
                        "kernel matrix is not positive definite (its leading minor of order %zu is not)", minor);
    return 0;
}
