/* Solves with the factor of dml_cholesky (dmilab/cholesky.h): L_n L_n^T X = B by a forward and a backward sweep over
 * the column blocks of the factor, each block's rows below the diagonal read once per sweep as one dgemm on the
 * right-hand sides, the diagonal tiles by dtrsm. Memory-bound for a few right-hand sides: two reads of the
 * factor, which LAPACK's dpotrs and dpftrs need too, but in long contiguous runs. */
#include <cblas.h>
#include "cholesky_tiles.h"
#include "dmilab/blas_cpu.h"
#include "dmilab/cholesky.h"

/* B (w x k) := T^-1 B or T^-T B, T the leading w x w of a lower-triangular tile */
static void tri_solve(dml_tile T, size_t w, int transposed, double *B, size_t ldb, size_t k)
{
    int up = T.trans; /* the memory holds L^T: an upper triangle */
    cblas_dtrsm(CblasColMajor, CblasLeft, up ? CblasUpper : CblasLower, (transposed != up) ? CblasTrans : CblasNoTrans,
                CblasNonUnit, (int)w, (int)k, 1.0, T.a, (int)T.ld, B, (int)ldb);
}

void dml_cholesky_solve(const double *l, size_t N, size_t lda, dml_chol_storage storage, size_t n, double *B,
                        size_t ldb, size_t k)
{
    if (n == 0 || k == 0) return;
    dml_chol_layout g = dml_chol_layout_of((double *)l, N, lda, (int)storage);
    size_t bound[2 * (N / DML_CHOLESKY_NB + 2) + 1];
    size_t nt = dml_chol_cut(bound, g.n1, N);
    while (nt > 0 && bound[nt - 1] >= n) nt--; /* the blocks that hold rows of the leading n */
    dml_blas_single_begin();          /* two memory-bound sweeps: one thread streams as fast, and wakes no pool */
    for (size_t j = 0; j < nt; j++) { /* L Y = B: Y_j = L_jj^-1 B_j, then B_below -= L_below,j Y_j */
        size_t r0 = bound[j], w = (bound[j + 1] < n ? bound[j + 1] : n) - r0, m = n - r0 - w;
        tri_solve(dml_chol_view(&g, r0, r0), w, 0, B + r0, ldb, k);
        if (m == 0) continue;
        dml_tile P = dml_chol_view(&g, r0 + w, r0);
        cblas_dgemm(CblasColMajor, P.trans ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)w, -1.0, P.a,
                    (int)P.ld, B + r0, (int)ldb, 1.0, B + r0 + w, (int)ldb);
    }
    for (size_t j = nt; j-- > 0;) { /* L^T X = Y: X_j = L_jj^-T (Y_j - L_below,j^T X_below) */
        size_t r0 = bound[j], w = (bound[j + 1] < n ? bound[j + 1] : n) - r0, m = n - r0 - w;
        if (m) {
            dml_tile P = dml_chol_view(&g, r0 + w, r0);
            cblas_dgemm(CblasColMajor, P.trans ? CblasNoTrans : CblasTrans, CblasNoTrans, (int)w, (int)k, (int)m, -1.0,
                        P.a, (int)P.ld, B + r0 + w, (int)ldb, 1.0, B + r0, (int)ldb);
        }
        tri_solve(dml_chol_view(&g, r0, r0), w, 1, B + r0, ldb, k);
    }
    dml_blas_single_end();
}
