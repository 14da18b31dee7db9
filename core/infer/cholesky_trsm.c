/* The triangular solve of a tall panel by a factored diagonal tile, B := B L^-T (cholesky_tiles.h): the step of the
 * tiled Cholesky that OpenBLAS 0.3.21's dtrsm runs at about a third of its dgemm rate on this shape (21 GFLOP/s
 * single-threaded for 3,750 x 256 on this project's machine, against 58 here; bench/README.md "Solve").
 *
 * Rows of B are independent: a strip of 16 rows is copied into a column-major 16 x w scratch (zero rows pad the
 * last strip, and a transposed B is gathered here), then solved 8 columns at a time. For columns j0..j0+7 the 16 x 8
 * accumulators (sixteen 8-lane vectors) start from B's columns, take the updates of every earlier column i < j0
 * (two vector loads, eight broadcasts of L packed contiguously for this column block, sixteen fused multiply-adds),
 * and then the 8 x 8 triangle inside the block is finished in registers. */
#include <string.h>
#include "cholesky_tiles.h"

typedef double v8 __attribute__((vector_size(64), aligned(64)));

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define STRIP 16
#define COLS 8

static inline double at(dml_tile t, size_t r, size_t c) { return t.trans ? t.a[c + r * t.ld] : t.a[r + c * t.ld]; }

static inline double *align64(double *p) { return (double *)(((size_t)p + 63) & ~(size_t)63); }

/* work layout: 1/L_jj (w rounded up to 8), the in-block triangles (64 per block), the panels of L left of each
 * block (block b holds L[j0 + c, i] for i < j0 = 8 b at P + 32 b (b - 1) + 8 i + c), the 16 x w strip */
size_t dml_trsm_rlt_work(size_t w)
{
    size_t nb = (w + COLS - 1) / COLS;
    return nb * COLS + nb * 64 + 32 * nb * (nb ? nb - 1 : 0) + STRIP * w + 24;
}

CLONES void dml_trsm_rlt(size_t m, size_t w, dml_tile L, dml_tile B, double *work)
{
    if (m == 0 || w == 0) return;
    size_t nb = (w + COLS - 1) / COLS;
    double *dinv = work, *D = dinv + nb * COLS, *P = align64(D + nb * 64), *S = align64(P + 32 * nb * (nb - 1));
    for (size_t j = 0; j < w; j++) dinv[j] = 1.0 / at(L, j, j);
    for (size_t j = w; j < nb * COLS; j++) dinv[j] = 0.0;
    for (size_t b = 0; b < nb; b++) {
        size_t j0 = b * COLS, cj = w - j0 < COLS ? w - j0 : COLS;
        double *Db = D + 64 * b, *Pb = P + 32 * b * (b ? b - 1 : 0);
        for (size_t c = 0; c < COLS; c++)
            for (size_t c2 = 0; c2 < COLS; c2++) Db[c * COLS + c2] = c2 > c && c2 < cj ? at(L, j0 + c2, j0 + c) : 0.0;
        for (size_t i = 0; i < j0; i++)
            for (size_t c = 0; c < COLS; c++) Pb[i * COLS + c] = c < cj ? at(L, j0 + c, i) : 0.0;
    }
    for (size_t r0 = 0; r0 < m; r0 += STRIP) {
        size_t rm = m - r0 < STRIP ? m - r0 : STRIP;
        if (!B.trans) {
            for (size_t c = 0; c < w; c++) {
                const double *src = B.a + r0 + c * B.ld;
                for (size_t r = 0; r < STRIP; r++) S[c * STRIP + r] = r < rm ? src[r] : 0.0;
            }
        } else {
            if (rm < STRIP) memset(S, 0, sizeof *S * STRIP * w);
            for (size_t r = 0; r < rm; r++) {
                const double *src = B.a + (r0 + r) * B.ld;
                for (size_t c = 0; c < w; c++) S[c * STRIP + r] = src[c];
            }
        }
        /* the next strip into L2 while this one is solved: its rows are w lines apart (the panel was just updated,
         * often by the other core), too many streams for the hardware prefetcher */
        size_t n0 = r0 + STRIP, nm = n0 < m ? (m - n0 < STRIP ? m - n0 : STRIP) : 0;
        if (nm && !B.trans) {
            for (size_t c = 0; c < w; c++) {
                __builtin_prefetch(B.a + n0 + c * B.ld, 0, 2);
                __builtin_prefetch(B.a + n0 + nm - 1 + c * B.ld, 0, 2);
            }
        } else if (nm) {
            for (size_t r = 0; r < nm; r++)
                for (size_t c = 0; c < w; c += 8) __builtin_prefetch(B.a + (n0 + r) * B.ld + c, 0, 2);
        }
        for (size_t b = 0; b < nb; b++) {
            size_t j0 = b * COLS, cj = w - j0 < COLS ? w - j0 : COLS;
            const double *Pb = P + 32 * b * (b ? b - 1 : 0), *Db = D + 64 * b;
            v8 a0[COLS], a1[COLS];
#pragma GCC unroll 8
            for (size_t c = 0; c < COLS; c++) {
                size_t cc = c < cj ? j0 + c : j0; /* columns past w: any finite values, never stored */
                a0[c] = *(const v8 *)(S + cc * STRIP);
                a1[c] = *(const v8 *)(S + cc * STRIP + 8);
            }
            for (size_t i = 0; i < j0; i++) {
                v8 x0 = *(const v8 *)(S + i * STRIP), x1 = *(const v8 *)(S + i * STRIP + 8);
                const double *p = Pb + i * COLS;
#pragma GCC unroll 8
                for (size_t c = 0; c < COLS; c++) {
                    a0[c] -= x0 * p[c];
                    a1[c] -= x1 * p[c];
                }
            }
#pragma GCC unroll 8
            for (size_t c = 0; c < COLS; c++) {
                a0[c] *= dinv[j0 + c];
                a1[c] *= dinv[j0 + c];
#pragma GCC unroll 8
                for (size_t c2 = c + 1; c2 < COLS; c2++) {
                    a0[c2] -= a0[c] * Db[c * COLS + c2];
                    a1[c2] -= a1[c] * Db[c * COLS + c2];
                }
            }
            for (size_t c = 0; c < cj; c++) {
                *(v8 *)(S + (j0 + c) * STRIP) = a0[c];
                *(v8 *)(S + (j0 + c) * STRIP + 8) = a1[c];
            }
        }
        if (!B.trans) {
            for (size_t c = 0; c < w; c++) memcpy(B.a + r0 + c * B.ld, S + c * STRIP, sizeof *S * rm);
        } else {
            for (size_t r = 0; r < rm; r++) {
                double *dst = B.a + (r0 + r) * B.ld;
                for (size_t c = 0; c < w; c++) dst[c] = S[c * STRIP + r];
            }
        }
    }
}
