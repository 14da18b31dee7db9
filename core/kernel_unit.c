/* The kernel stage of one runner unit from durable tiles: compute the missing tiles, then solve one kernel method
 * at a time from the tile files (dmilab/kernel_unit.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dmilab/kernel.h"
#include "dmilab/kernel_unit.h"
#include "dmilab/tile_cache.h"

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

size_t dml_kernel_unit_present(const dml_kernel_unit *u)
{
    size_t n = 0, total = u->tiling.ngram + u->tiling.ncross;
    dml_tile t;
    for (size_t i = 0; i < total; i++) {
        dml_tiling_tile(&u->tiling, i, &t);
        n += (size_t)dml_tile_present(u->dir, &t);
    }
    return n;
}

/* Save tile t; on a full disk evict the cache's kernels not in use, then wait for space until cancelled. */
static int save(dml_kernel_unit *u, const dml_tile *t, const double *k, const double *th, dml_error *err)
{
    double wait = 0.25;
    for (int evicted = 0;; evicted = 1) {
        errno = 0;
        if (dml_tile_save(u->dir, t, k, th, NULL, NULL, err) == 0) return 0;
        if (errno != ENOSPC && errno != EDQUOT) return -1;
        if (!evicted && u->cache) {
            dml_tile_cache_evict(u->cache, 0);
            continue;
        }
        for (double slept = 0; slept < wait; slept += 0.05) {
            if (u->cancelled && u->cancelled(u->ctx)) return dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
        wait = wait * 2 < 8 ? wait * 2 : 8;
    }
}

/* Compute tile t into the two buffers and save it; a cancel inside the tile discards it (nothing is written). */
static int compute_save(dml_kernel_unit *u, const dml_tile *t, double *k, double *th, dml_error *err)
{
    if (dml_tile_compute_cancellable(u->m, u->shape, u->x, u->xt, t, k, th, u->threads, u->cancelled, u->ctx, err) ||
        save(u, t, k, th, err))
        return -1;
    u->computed++;
    return 0;
}

int dml_kernel_unit_tiles_range(dml_kernel_unit *u, size_t first, size_t end, dml_error *err)
{
    const dml_tiling *tg = &u->tiling;
    size_t total = tg->ngram + tg->ncross, cap = tg->rows * tg->N;
    if (end > total) end = total;
    if (first > end) first = end;
    double *k = malloc(sizeof(double) * (cap + 1)), *th = malloc(sizeof(double) * (cap + 1));
    int rc = -1;
    if (!k || !th) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a kernel tile of %zu x %zu", tg->rows, tg->N);
        goto out;
    }
    /* the ETA weighs each remaining tile by its pairs (Gram tiles grow with their row index) */
    double pairs_all = dml_tiling_pairs(tg, first, end), pairs_done = 0, pairs_computed = 0, busy = 0;
    dml_tile t;
    for (size_t i = first; i < end; i++) {
        dml_tiling_tile(tg, i, &t);
        double pairs = (double)(t.r1 - t.r0) * (double)t.ncols;
        int computed = 0;
        if (!(u->skip && u->skip(u->ctx, &t)) && !dml_tile_present(u->dir, &t)) {
            if (u->cancelled && u->cancelled(u->ctx)) {
                dml_fail(err, DML_ERR_CANCELLED, NULL, "cancelled");
                goto out;
            }
            double t0 = mono();
            if (compute_save(u, &t, k, th, err)) goto out;
            busy += mono() - t0;
            pairs_computed += pairs;
            computed = 1;
        }
        pairs_done += pairs;
        double eta = pairs_computed > 0 ? busy / pairs_computed * (pairs_all - pairs_done) : -1;
        if (u->on_tile) u->on_tile(u->ctx, &t, computed, i + 1 - first, end - first, eta);
    }
    rc = 0;
out:
    free(k);
    free(th);
    return rc;
}

int dml_kernel_unit_tiles(dml_kernel_unit *u, dml_error *err)
{
    return dml_kernel_unit_tiles_range(u, 0, u->tiling.ngram + u->tiling.ncross, err);
}

typedef struct {
    dml_kernel_unit *u;
    int ntk;
    double *buf, *other;   /* one tile of the method wanted; scratch for the other when a tile is recomputed */
} reader;

/* Tile t's values of the method wanted into r->buf: read from its file, or computed again when it has gone. */
static int fetch(reader *r, const dml_tile *t, dml_error *err)
{
    double *want = r->buf;
    int got = dml_tile_load(r->u->dir, t, r->ntk ? NULL : want, r->ntk ? want : NULL, err);
    if (got < 0) return -1;
    if (got) return 0;
    return r->ntk ? compute_save(r->u, t, r->other, want, err) : compute_save(r->u, t, want, r->other, err);
}

/* dml_kernel_rows_fn over the cross tiles: rows [r0, r1) of the test-train kernel, columns [0, ncols). */
static int test_rows(void *ctx, size_t r0, size_t r1, size_t ncols, double *block, size_t ld, dml_error *err)
{
    reader *r = ctx;
    const dml_tiling *tg = &r->u->tiling;
    for (size_t row = r0; row < r1;) {
        dml_tile t;
        dml_tiling_tile(tg, tg->ngram + row / tg->rows, &t);
        if (fetch(r, &t, err)) return -1;
        size_t end = t.r1 < r1 ? t.r1 : r1;
        for (size_t i = row; i < end; i++)
            memcpy(block + (i - r0) * ld, r->buf + (i - t.r0) * t.ncols, sizeof(double) * ncols);
        row = end;
    }
    return 0;
}

int dml_kernel_unit_solve(dml_kernel_unit *u, int ntk, const double *Y, size_t k, double ridge, dml_ridge_size *sizes,
                          size_t nsizes, dml_error *err)
{
    const dml_tiling *tg = &u->tiling;
    size_t N = tg->N, cap = tg->rows * N;
    double *gram = malloc(sizeof(double) * (dml_packed_numel(N) + 1));
    reader r = {.u = u, .ntk = ntk, .buf = malloc(sizeof(double) * (cap + 1)), .other = malloc(sizeof(double) * (cap + 1))};
    int rc = -1;
    if (!gram || !r.buf || !r.other) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for the packed Gram matrix of %zu training points", N);
        goto out;
    }
    for (size_t g = 0; g < tg->ngram; g++) {
        dml_tile t;
        dml_tiling_tile(tg, g, &t);
        if (fetch(&r, &t, err)) goto out;
        dml_packed_set_rows(gram, N, t.r0, t.r1, r.buf, t.ncols);
    }
    /* A zero training kernel of the first n points (trace 0: every entry 0, K is positive semi-definite) gives the
     * zero predictor, the prediction of every solution (its test rows are 0 too), as dml_ridge_predict does. Traces
     * only grow with n, so these sizes come first. */
    size_t zero = 0;
    double trace = 0;
    for (size_t i = 0, j = 0; j < nsizes; j++) {
        for (; i < sizes[j].n; i++) trace += dml_packed_get(gram, N, i, i);
        if (trace != 0) break;
        if (sizes[j].pred_test) memset(sizes[j].pred_test, 0, sizeof(double) * tg->M * k);
        if (sizes[j].pred_train) memset(sizes[j].pred_train, 0, sizeof(double) * sizes[j].n * k);
        sizes[j].lambda = 0;
        sizes[j].reused_factor = 0;
        zero++;
    }
    /* the factorization overwrites the Gram; the test rows come one cross tile at a time */
    rc = zero == nsizes ? 0
                        : dml_ridge_curve(gram, N, Y, k, ridge, sizes + zero, nsizes - zero, test_rows, &r, tg->M,
                                          tg->rows, 0, err);
out:
    free(gram);
    free(r.buf);
    free(r.other);
    return rc;
}

double dml_kernel_unit_bytes(const dml_model *m, const dml_shape *shape, const size_t *n_train, size_t nsizes,
                             size_t n_test, int outputs, int threads, size_t rows)
{
    if (!nsizes) return 0;
    size_t N = n_train[nsizes - 1];
    if (!rows) rows = dml_tile_rows_for(m, shape, N, threads, 2.0);
    if (rows > N && N) rows = N;
    double R = (double)rows, tile = 8.0 * R * (double)N;   /* one tile of one method */
    /* the tile stage: the tile's NNGP and NTK, the diagonal block's and the left block's engine outputs (no more
     * than another tile) and the larger engine call's own memory */
    double diag = dml_kernel_memory_bytes(m, shape, rows, rows, 1, threads);
    double left = dml_kernel_memory_bytes(m, shape, rows, N, 0, threads);
    if (diag == 0 || left == 0) return 0;   /* the model does not fit the shape */
    double stage = 2 * tile + (diag > left ? diag : left);
    /* one solve: dml_ridge_curve's own model, with the tile as its test block, plus the read buffer and scratch */
    double solve = dml_ridge_curve_bytes(N, n_test, (size_t)outputs, n_train, nsizes, rows, 0) + 2 * tile;
    return stage > solve ? stage : solve;
}
