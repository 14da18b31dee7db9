/* Cost and memory model of the kernel engine: pairs, dual evaluations and seconds of dml_kernel from the
 * per-layer costs of the layer table, and the bytes of one dml_kernel call
 * (dml_kernel_memory_bytes). */
#include <math.h>
#include <stdlib.h>
#include "dmilab/kernel.h"
#include "plan.h"

/* Seconds per operation on one thread of the reference machine (2 cores, AVX-512), fitted to the CPU time of
 * dml_kernel on one thread for cnn-gap, cnn-vec, lcn, fcn and conv-only lists at 4x4 to 28x28, depth 1 to 3
 * (bench/README.md): a dual evaluation of the spatial stage (per slot of 8-lane vectors: a row of P duals
 * takes ceil(P/8) vectors), a row of duals whose length is not a multiple of 8 (its padded tail), a
 * multiply-add of a window sum, pooling or input covariance in shifted rows and in gathered ones (strides,
 * circular padding), and a pair's fixed cost; in the row stage, a dual
 * and an affine entry; a flop of the input covariance GEMM / SYRK. */
#define SEC_PER_DUAL_SLOT 3.0e-9
#define SEC_PER_DUAL_TAIL 9.4e-8
#define SEC_PER_WINDOW_MAC 0.85e-10
#define SEC_PER_GATHERED_MAC 1.85e-10
#define SEC_PER_PAIR 1.45e-7
#define SEC_PER_ROW_DUAL 5e-9
#define SEC_PER_ROW_ENTRY 0.8e-9
#define SEC_PER_FLOP 7.8e-11

/* Per pair of inputs through the spatial stage: seconds on one thread, and dual evaluations. */
static void spatial_cost(const dml_kplan *pl, double *seconds, double *duals)
{
    *duals = 0;
    *seconds = SEC_PER_PAIR;
    for (int l = 0; l <= pl->pool; l++) {
        dml_layer_cost c = {0};
        const dml_kstep *st = &pl->step[l];
        dml_layer_table[st->d->kind]->cost(st->d, st->full_in, 0, &c);
        *duals += c.kernel_duals;
        if (c.kernel_rows > 0) {
            double len = c.kernel_duals / c.kernel_rows, slots = 8 * ceil(len / 8);
            *seconds += c.kernel_rows * (slots * SEC_PER_DUAL_SLOT + (slots > len ? SEC_PER_DUAL_TAIL : 0));
        }
        *seconds += c.kernel_window * SEC_PER_WINDOW_MAC + c.kernel_gathered * SEC_PER_GATHERED_MAC;
    }
    /* the input covariance */
    double P = (double)pl->P0, n = pl->full0 ? P * P : P;
    *seconds += n * pl->C * SEC_PER_WINDOW_MAC;
}

/* Doubles dml_kernel allocates besides its two outputs, for a plan (outputs NNGP and NTK excluded). */
static double work_doubles(const dml_kplan *pl, size_t n1, size_t n2, int gram, int threads)
{
    double nrow = (double)(pl->L->n - pl->pool - 1), nin = (double)n1 + (gram ? 0.0 : (double)n2);
    double wn = (double)dml_kplan_workspace_doubles(pl);
    if (wn < (double)n2 + 4) wn = (double)n2 + 4;
    wn += 8;   /* rounded up to cache lines */
    double tables = 0;
    for (int l = 0; l <= pl->pool; l++)   /* idx, mask, shift: 1.5 doubles per tap and output position */
        tables += 1.5 * pl->step[l].win.F * (double)pl->step[l].win.P_out + pl->step[l].win.F;
    return nin * ((double)pl->nself + 1 + nrow) + threads * wn + tables +
           (double)(sizeof(dml_layers) + sizeof(dml_kplan)) / 8;
}

static int plan_of(const dml_model *m, const dml_shape *shape, dml_layers *L, dml_kplan *pl)
{
    if (dml_model_layers(m, shape, 1, L, NULL)) return -1;
    if (dml_kplan_build(L, pl, NULL)) {
        dml_kplan_free(pl);
        return -1;
    }
    return 0;
}

double dml_kernel_memory_bytes(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2, int gram, int threads)
{
    if (threads < 1) threads = 1;
    if (gram) n2 = n1;
    dml_layers *L = malloc(sizeof *L);
    dml_kplan *pl = malloc(sizeof *pl);
    double bytes = 0;
    if (L && pl && plan_of(m, shape, L, pl) == 0) {
        bytes = 8.0 * (2.0 * (double)n1 * (double)n2 + work_doubles(pl, n1, n2, gram, threads));
        dml_kplan_free(pl);
    }
    free(L);
    free(pl);
    return bytes;
}

void dml_kernel_cost_estimate(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2_in, int gram,
                              int threads, dml_kernel_cost *out)
{
    out->pairs = gram ? (double)n1 * ((double)n1 + 1) / 2 : (double)n1 * (double)n2_in;
    out->dual_evaluations = out->seconds = out->memory_bytes = 0;
    if (threads < 1) threads = 1;
    size_t n2 = gram ? n1 : n2_in;
    dml_layers *L = malloc(sizeof *L);
    dml_kplan *pl = malloc(sizeof *pl);
    if (!L || !pl || plan_of(m, shape, L, pl)) {
        free(L);
        free(pl);
        return;
    }
    double sec = 0, duals = 0, row = 0;
    if (!pl->gemm) spatial_cost(pl, &sec, &duals);
    for (int l = pl->pool + 1; l < L->n; l++) {   /* the row stage: every entry of the n1 x n2 matrices */
        dml_layer_cost c = {0};
        dml_layer_table[L->layer[l].kind]->cost(&L->layer[l], 0, 0, &c);
        duals += c.kernel_duals;
        row += c.kernel_duals * SEC_PER_ROW_DUAL + c.kernel_entries * SEC_PER_ROW_ENTRY;
    }
    double flops = pl->gemm ? 2.0 * (double)dml_shape_numel(shape) : 0;
    /* self trajectories: one pair run per input when they are full, else O(P) each */
    double selves = pl->self_full ? (double)n1 + (gram ? 0.0 : (double)n2) : 0;
    out->dual_evaluations = out->pairs * duals;
    out->seconds = ((out->pairs + selves) * sec + (double)n1 * (double)n2 * row + out->pairs * flops * SEC_PER_FLOP) /
                   threads;
    out->memory_bytes = 8.0 * (2.0 * (double)n1 * (double)n2 + work_doubles(pl, n1, n2, gram, threads));
    dml_kplan_free(pl);
    free(L);
    free(pl);
}
