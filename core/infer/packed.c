/* Symmetric matrices in LAPACK's rectangular full packed (RFP) storage: filling from row blocks, reading back,
 * leading blocks, and the Cholesky factorization and prefix solves that keep level-3 speed in n(n+1)/2 doubles. */
#include <assert.h>
#include <lapacke.h>
#include <stdlib.h>
#include <string.h>
#include "cholesky_tiles.h"
#include "dmilab/cholesky.h"
#include "dmilab/ridge_packed.h"

/* The RFP layout (TRANSR 'N', UPLO 'L', column-major) of an order-n matrix: the first n1 columns of the lower
 * triangle as a column-major block [L11; L21] starting at o1, and the trailing lower triangle L22 stored
 * transposed (as the upper triangle U = L22^T) starting at o2, both with leading dimension ld. */
typedef struct {
    size_t n, n1, ld, o1, o2;
} rfp;

static rfp rfp_of(size_t n)
{
    /* the one definition of the geometry, shared with the tiled Cholesky */
    dml_chol_layout g = dml_chol_layout_of(NULL, n, 0, DML_CHOL_RFP);
    return (rfp){.n = n, .n1 = g.n1, .ld = g.ld, .o1 = g.o1, .o2 = g.o2};
}

/* index of A(i, j), i >= j */
static inline size_t rfp_at(const rfp *g, size_t i, size_t j)
{
    return j < g->n1 ? g->o1 + i + j * g->ld : g->o2 + (j - g->n1) + (i - g->n1) * g->ld;
}

size_t dml_packed_numel(size_t n)
{
    return n * (n + 1) / 2;
}

double dml_packed_get(const double *arf, size_t n, size_t i, size_t j)
{
    assert(i < n && j < n);
    rfp g = rfp_of(n);
    return i >= j ? arf[rfp_at(&g, i, j)] : arf[rfp_at(&g, j, i)];
}

void dml_packed_set_rows(double *arf, size_t n, size_t r0, size_t r1, const double *block, size_t ld)
{
    assert(r0 <= r1 && r1 <= n && ld >= r1);
    rfp g = rfp_of(n);
    /* columns of the leading part: contiguous in the row index, so walk each column down the block */
    size_t jend = r1 < g.n1 ? r1 : g.n1;
    for (size_t j = 0; j < jend; j++) {
        double *dst = arf + g.o1 + j * g.ld;
        for (size_t i = r0 > j ? r0 : j; i < r1; i++) dst[i] = block[(i - r0) * ld + j];
    }
    /* rows of the trailing triangle: stored transposed, so each row's columns n1..i are contiguous */
    for (size_t i = r0 > g.n1 ? r0 : g.n1; i < r1; i++)
        memcpy(arf + g.o2 + (i - g.n1) * g.ld, block + (i - r0) * ld + g.n1, sizeof(double) * (i - g.n1 + 1));
}

int dml_packed_fill(double *arf, size_t n, dml_kernel_rows_fn rows, void *ctx, size_t block_rows, double *work,
                    dml_error *err)
{
    if (block_rows == 0) block_rows = 256;
    if (block_rows > n) block_rows = n ? n : 1;
    double *w = work ? work : malloc(sizeof *w * block_rows * (n ? n : 1));
    if (!w) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory for a %zu x %zu kernel block", block_rows, n);
    int rc = 0;
    for (size_t r0 = 0; r0 < n && rc == 0; r0 += block_rows) {
        size_t r1 = r0 + block_rows < n ? r0 + block_rows : n;
        rc = rows(ctx, r0, r1, r1, w, r1, err);
        if (rc == 0) dml_packed_set_rows(arf, n, r0, r1, w, r1);
    }
    if (!work) free(w);
    return rc ? -1 : 0;
}

void dml_packed_from_dense(double *arf, const double *K, size_t ldk, size_t n)
{
    if (n == 0) return;
    /* Column-major, as LAPACKE would otherwise transpose a copy. Read column-major, the row-major K is its own
     * transpose, equal to K since K is symmetric as stored. */
    lapack_int info = LAPACKE_dtrttf_work(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)n, K, (lapack_int)ldk, arf);
    assert(info == 0);
    (void)info;
}

/* Copy the lower triangle of the leading n x n block of `src` (order N) to `dst` (order n) in tiles, so that
 * both the strided and the contiguous side stay in cache. */
#define TILE 64

void dml_packed_leading(const double *src, size_t N, double *dst, size_t n)
{
    assert(n <= N && src != dst);
    rfp gs = rfp_of(N), gd = rfp_of(n);
    for (size_t i0 = 0; i0 < n; i0 += TILE) {
        size_t i1 = i0 + TILE < n ? i0 + TILE : n;
        for (size_t j0 = 0; j0 <= i0; j0 += TILE) {
            size_t j1 = j0 + TILE < i1 ? j0 + TILE : i1;
            for (size_t j = j0; j < j1; j++)
                for (size_t i = i0 > j ? i0 : j; i < i1; i++) dst[rfp_at(&gd, i, j)] = src[rfp_at(&gs, i, j)];
        }
    }
}

void dml_packed_to_dense(const double *src, size_t N, size_t n, double *K, size_t ldk)
{
    assert(n <= N && ldk >= n);
    rfp g = rfp_of(N);
    for (size_t i0 = 0; i0 < n; i0 += TILE) {
        size_t i1 = i0 + TILE < n ? i0 + TILE : n;
        for (size_t j0 = 0; j0 <= i0; j0 += TILE) {
            size_t j1 = j0 + TILE < i1 ? j0 + TILE : i1;
            for (size_t j = j0; j < j1; j++)
                for (size_t i = i0 > j ? i0 : j; i < i1; i++) {
                    double v = src[rfp_at(&g, i, j)];
                    K[i * ldk + j] = v;
                    K[j * ldk + i] = v;
                }
        }
    }
}

void dml_packed_diag(const double *arf, size_t n, double *diag)
{
    rfp g = rfp_of(n);
    for (size_t i = 0; i < n; i++) diag[i] = arf[rfp_at(&g, i, i)];
}

void dml_packed_add_diag(double *arf, size_t n, double shift)
{
    rfp g = rfp_of(n);
    for (size_t i = 0; i < n; i++) arf[rfp_at(&g, i, i)] += shift;
}

int dml_packed_cholesky(double *arf, size_t n, dml_error *err)
{
    if (n == 0) return 0;
    if (n > DML_PACKED_MAX_ORDER)
        return dml_fail(err, DML_ERR_LIMIT, NULL, "a packed order of %zu exceeds LAPACK's 32-bit indexing (at most %d)",
                        n, DML_PACKED_MAX_ORDER);
    /* the tiled factorization (dmilab/cholesky.h) in RFP storage: the same layout dpftrf leaves */
    return dml_cholesky(arf, n, 0, DML_CHOL_RFP, 0, err);
}

void dml_packed_solve(const double *factor, size_t N, size_t n, double *B, size_t ldb, size_t k)
{
    assert(n <= N && ldb >= n);
    dml_cholesky_solve(factor, N, 0, DML_CHOL_RFP, n, B, ldb, k);
}
