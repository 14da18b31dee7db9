/* dmilab internal: the tile views and the triangular-solve kernel of the tiled Cholesky (dmilab/cholesky.h). */
#ifndef DMILAB_CHOLESKY_TILES_H
#define DMILAB_CHOLESKY_TILES_H

#include <stddef.h>

/** A rectangular block of a matrix: logical element (r, c) is a[r + c * ld] (column-major), or a[c + r * ld] when
 *  `trans` (the memory holds the block's transpose, column-major: a row-major block, or the transposed trailing
 *  triangle of an RFP array). */
typedef struct {
    double *a;
    size_t ld;
    int trans;
} dml_tile;

/** The logical lower triangle of an order-n matrix in one of the storages of dmilab/cholesky.h: the first n1
 *  columns are one block of rows [0, n) (origin o1, transposed when trans1), the columns from n1 on one transposed
 *  block of rows [n1, n) (origin o2; RFP only, where n1 = ceil(n/2)); both with leading dimension ld. */
typedef struct {
    double *base;
    size_t n, n1, ld, o1, o2;
    int trans1;
} dml_chol_layout;

/** The layout of `a` (order n, leading dimension lda; storage is a dml_chol_storage). */
dml_chol_layout dml_chol_layout_of(double *a, size_t n, size_t lda, int storage);

/** The tile whose top-left corner is logical (r, c), r >= c: it extends down to row n and right to the end of c's
 *  half (column n1 or n). */
dml_tile dml_chol_view(const dml_chol_layout *g, size_t r, size_t c);

/** Cut [0, n1) and [n1, n) evenly into column blocks of at most DML_CHOLESKY_NB columns: bound[0..nt] with
 *  block j = [bound[j], bound[j+1]); returns nt. `bound` holds 2 (n / DML_CHOLESKY_NB + 2) + 1 entries. */
size_t dml_chol_cut(size_t *bound, size_t n1, size_t n);

/** The RFP order from which dml_cholesky calls LAPACK's dpftrf (DML_CHOLESKY_RFP_LAPACK_FROM; tests lower it). */
extern size_t dml_cholesky_rfp_lapack_from;

/** Doubles of work dml_trsm_rlt needs for a w-column solve (about w^2/2 + 17 w). */
size_t dml_trsm_rlt_work(size_t w);

/** B := B L^-T (BLAS dtrsm side 'R', uplo 'L', transa 'T', diag 'N'): B is m x w, L is w x w lower triangular
 *  (its strict upper part is not read), both given as tiles of any layout. Each row of B is solved on its own
 *  (x L^T = b, forward substitution: x_j = (b_j - sum_{i<j} x_i L_ji) / L_jj, the division done as a product with
 *  1 / L_jj), 16 rows at a time in vector registers against L packed into 8-column panels. `work` holds
 *  dml_trsm_rlt_work(w) doubles. Compiled for AVX-512, AVX2 and the baseline (target_clones). */
void dml_trsm_rlt(size_t m, size_t w, dml_tile L, dml_tile B, double *work);

#endif
