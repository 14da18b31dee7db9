/* The window rows of the kernel engine (core/layers/window.c, window_avx512.c) against a plain reference
 * written here from the window tables: out[o1, o2] = sum over the offsets d where both positions are real, in
 * offset order from +0.0, of in[idx[d][o1], idx[d][o2]]. Bit for bit, on 400 random Conv geometries (1D and 2D,
 * same / valid / circular, strides 1-3, filters 1-5, sizes 1-13), inputs with negative entries and -0.0, and
 * finite garbage in the margins (a read that is not masked off shows):
 *   - dml_window_full_row, through the whole matrix (cap = P_in) and through a ring of rows;
 *   - dml_window_diag equals the diagonal of dml_window_full;
 *   - dml_window_input_gather + dml_window_input_row (the first window straight from one-channel inputs)
 *     equal the window of the input covariance xi[p] xj[q];
 *   - the multi-row forms (1 to DML_WINDOW_ROWS rows at once): dml_window_full_rows_affine equals
 *     scale * row + b2 and scale * row + add (dml_kaffine's roundings), dml_window_input_rows the rows.
 * Run once per build (DMILAB_SIMD, tests/meson.build): the AVX-512 rows and the portable ones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/rng.h"
#include "../core/layers/window.h"
#include "check.h"

static double entry(dml_rng *r)
{
    int k = (int)dml_rng_below(r, 10);
    return k == 0 ? -0.0 : k == 1 ? 0.0 : dml_rng_normal(r);
}

static int random_layer(dml_rng *r, dml_layer *L)
{
    memset(L, 0, sizeof *L);
    L->kind = DML_LAYER_CONV;
    L->nd = 1 + (int)dml_rng_below(r, 2);
    L->padding = (dml_padding)dml_rng_below(r, 3);
    for (int a = 0; a < L->nd; a++) {
        int n = 1 + (int)dml_rng_below(r, L->nd == 1 ? 13 : 9), f = 1 + (int)dml_rng_below(r, 5);
        int s = dml_rng_below(r, 3) ? 1 : 2 + (int)dml_rng_below(r, 2);
        L->in_size[a] = n;
        L->filter[a] = f;
        L->stride[a] = s;
        if (L->padding == DML_PAD_VALID) {
            if (f > n) return 0;
            L->out_size[a] = (n - f) / s + 1;
            L->pad_lo[a] = 0;
        } else {
            int out = (n + s - 1) / s, total = (out - 1) * s + f - n;
            L->out_size[a] = out;
            L->pad_lo[a] = total > 0 ? total / 2 : 0;
        }
    }
    return 1;
}

static void reference_row(const dml_window_table *t, const double *in, size_t o1, double *out)
{
    size_t Pin = t->P_in, Pout = t->P_out;
    for (size_t o2 = 0; o2 < Pout; o2++) {
        double s = 0.0;
        for (int d = 0; d < t->F; d++) {
            size_t q1 = (size_t)d * Pout + o1, q2 = (size_t)d * Pout + o2;
            if (t->mask[q1] != 0.0 && t->mask[q2] != 0.0) s += in[(size_t)t->idx[q1] * Pin + t->idx[q2]];
        }
        out[o2] = s;
    }
}

int main(void)
{
    dml_rng r;
    uint64_t key = 2027;
    dml_rng_seed(&r, &key, 1);
    int geometries = 0, fused = 0, bad_full = 0, bad_ring = 0, bad_diag = 0, bad_input = 0, bad_multi = 0, multi = 0;
    for (int k = 0; k < 400; k++) {
        dml_layer L;
        if (!random_layer(&r, &L)) continue;
        dml_window_table t;
        CHECK(dml_window_table_build(&L, &t) == 0, "table");
        size_t Pin = t.P_in, Pout = t.P_out, g = (size_t)t.max_shift + 64;
        geometries++;
        fused += t.all_affine;
        /* the input covariance of one-channel inputs, and a random full matrix, each inside margins */
        double *xi = malloc(sizeof(double) * Pin), *xj = malloc(sizeof(double) * Pin);
        double *buf = malloc(sizeof(double) * (Pin * Pin + 2 * g)), *in = buf + g;
        double *ref = malloc(sizeof(double) * Pout), *got = malloc(sizeof(double) * Pout);
        double *full = malloc(sizeof(double) * Pout * Pout), *dg = malloc(sizeof(double) * Pout);
        double *X = malloc(sizeof(double) * (size_t)t.F * Pout), *diag_in = malloc(sizeof(double) * Pin);
        for (size_t i = 0; i < Pin * Pin + 2 * g; i++) buf[i] = 7.25;   /* margins: finite, never to be added */
        for (size_t p = 0; p < Pin; p++) xi[p] = entry(&r), xj[p] = entry(&r);
        for (int pass = 0; pass < 2; pass++) {
            for (size_t p = 0; p < Pin; p++)
                for (size_t q = 0; q < Pin; q++) in[p * Pin + q] = pass == 0 ? xi[p] * xj[q] : entry(&r);
            for (size_t o1 = 0; o1 < Pout; o1++) {
                reference_row(&t, in, o1, ref);
                dml_window_full_row(&t, in, Pin, o1, got);
                bad_full += memcmp(ref, got, sizeof *ref * Pout) != 0;
                if (pass == 0 && t.F <= 64) {
                    dml_window_input_gather(&t, xj, X, Pout);
                    dml_window_input_row(&t, xi, X, Pout, o1, got);
                    bad_input += memcmp(ref, got, sizeof *ref * Pout) != 0;
                }
                /* through a ring: the rows this output row reads, copied into slots r % cap of a small buffer */
                size_t lo, hi;
                dml_window_rows_needed(&t, o1, &lo, &hi);
                if (lo != SIZE_MAX) {
                    size_t cap = hi - lo + 1 + dml_rng_below(&r, 3);
                    double *rb = malloc(sizeof(double) * (cap * Pin + 2 * g)), *ring = rb + g;
                    for (size_t i = 0; i < cap * Pin + 2 * g; i++) rb[i] = -3.5;
                    for (size_t row = lo; row <= hi; row++)
                        memcpy(ring + (row % cap) * Pin, in + row * Pin, sizeof *ring * Pin);
                    dml_window_full_row(&t, ring, cap, o1, got);
                    bad_ring += memcmp(ref, got, sizeof *ref * Pout) != 0;
                    free(rb);
                }
            }
            /* the multi-row forms, in groups of 1 .. DML_WINDOW_ROWS rows */
            for (size_t o0 = 0; o0 < Pout;) {
                int rows = 1 + (int)dml_rng_below(&r, DML_WINDOW_ROWS);
                if (o0 + (size_t)rows > Pout) rows = (int)(Pout - o0);
                double *outs[DML_WINDOW_ROWS], *adds[DML_WINDOW_ROWS], *refs[DML_WINDOW_ROWS];
                double scale = 0.5 + dml_rng_uniform(&r), b2 = dml_rng_uniform(&r);
                for (int b = 0; b < rows; b++) {
                    outs[b] = malloc(sizeof(double) * Pout);
                    adds[b] = malloc(sizeof(double) * Pout);
                    refs[b] = malloc(sizeof(double) * Pout);
                    for (size_t q = 0; q < Pout; q++) adds[b][q] = entry(&r);
                    reference_row(&t, in, o0 + (size_t)b, refs[b]);
                }
                for (int withadd = 0; withadd < 2; withadd++) {
                    dml_window_full_rows_affine(&t, in, Pin, o0, rows, scale, b2, withadd ? adds : NULL, outs);
                    for (int b = 0; b < rows; b++)
                        for (size_t q = 0; q < Pout; q++) {
                            double want = scale * refs[b][q] + (withadd ? adds[b][q] : b2);
                            bad_multi += memcmp(&want, &outs[b][q], sizeof want) != 0;
                        }
                }
                if (pass == 0 && t.F <= 64) {
                    dml_window_input_gather(&t, xj, X, Pout);
                    dml_window_input_rows(&t, xi, X, Pout, o0, rows, outs);
                    for (int b = 0; b < rows; b++) bad_multi += memcmp(outs[b], refs[b], sizeof(double) * Pout) != 0;
                }
                for (int b = 0; b < rows; b++) free(outs[b]), free(adds[b]), free(refs[b]);
                multi++;
                o0 += (size_t)rows;
            }
            dml_window_full(&t, in, full);
            for (size_t p = 0; p < Pin; p++) diag_in[p] = in[p * Pin + p];
            dml_window_diag(&t, diag_in, dg);
            for (size_t o = 0; o < Pout; o++) bad_diag += memcmp(&dg[o], &full[o * Pout + o], sizeof *dg) != 0;
        }
        free(xi), free(xj), free(buf), free(ref), free(got), free(full), free(dg), free(X), free(diag_in);
        dml_window_table_free(&t);
    }
    CHECK(geometries >= 300, "only %d geometries", geometries);
    CHECK(fused >= 100, "only %d geometries took the fused rows", fused);
    CHECK(bad_full == 0, "%d rows of dml_window_full_row differ from the reference", bad_full);
    CHECK(bad_ring == 0, "%d rows through a ring differ from the reference", bad_ring);
    CHECK(bad_diag == 0, "%d diagonal entries differ from dml_window_full's", bad_diag);
    CHECK(bad_input == 0, "%d rows of dml_window_input_row differ from the reference", bad_input);
    CHECK(multi > 1000 && bad_multi == 0, "%d entries of %d multi-row groups differ from the reference", bad_multi,
          multi);
    printf("window rows (DMILAB_SIMD=%s): %d geometries (%d with one shift per offset), bit for bit\n",
           getenv("DMILAB_SIMD") ? getenv("DMILAB_SIMD") : "default", geometries, fused);
    return check_summary("window_rows");
}
