/* Cost model of the kernel engine (dml_kernel_cost_estimate): pairs, dual evaluations and seconds. */
#include "dmilab/kernel.h"

/* Measured on the reference machine (2 cores, AVX-512; docs/kernels.md, bench/bench_kernels.c), per thread:
 * seconds per dual evaluation in the spatial stage including its window sums (cnn-gap 14x14, 3x3: 4,547
 * pairs/s on 2 threads = 5.7e-9 s per entry), per entry of the scalar stage, and per flop of the fcn GEMM. */
#define SEC_PER_SPATIAL_ENTRY 5.5e-9
#define SEC_PER_SCALAR_ENTRY 4e-9
#define SEC_PER_FLOP 3.5e-11

void dml_kernel_cost_estimate(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2_in, int gram,
                              int threads, dml_kernel_cost *out)
{
    out->pairs = gram ? (double)n1 * ((double)n1 + 1) / 2 : (double)n1 * (double)n2_in;
    out->dual_evaluations = out->seconds = out->memory_bytes = 0;
    if (threads < 1) threads = 1;
    dml_layers L;
    if (dml_model_layers(m, shape, 1, &L, NULL)) return;
    double spatial = 0, scalar = 0, flops = 0, P0 = (double)dml_shape_positions(shape), maxP = P0, self = P0;
    int pooled = 0, full = m->arch == DML_ARCH_CNN_GAP;
    for (int l = 0; l < L.n; l++) {
        const dml_layer *ly = &L.layer[l];
        if (ly->kind == DML_LAYER_FLATTEN || ly->kind == DML_LAYER_GAP) pooled = 1;
        double P = 1;
        for (int a = 0; a < ly->nd; a++) P *= ly->in_size[a];
        if (!pooled) maxP = P > maxP ? P : maxP;
        if (ly->kind != DML_LAYER_ACT) continue;
        if (pooled) {
            scalar += 1;
        } else {
            spatial += full ? P * P : P;
            self += P;
        }
    }
    /* outputs (NNGP, NTK), self trajectories, scalar-stage selves, per-thread workspaces (kernel.c) */
    double n2 = gram ? (double)n1 : (double)n2_in;
    out->memory_bytes = 8.0 * (2.0 * n1 * n2 + ((double)n1 + (gram ? 0 : n2)) * (self + L.n + 2) +
                               threads * ((full ? 4.0 * (maxP * maxP + 2 * maxP) : 4.0 * maxP) + n2 + 8));
    if (m->arch == DML_ARCH_FCN) flops = 2.0 * (double)dml_shape_numel(shape);
    out->dual_evaluations = out->pairs * (spatial + scalar);
    out->seconds = out->pairs * (spatial * SEC_PER_SPATIAL_ENTRY + (scalar + 2) * SEC_PER_SCALAR_ENTRY +
                                 flops * SEC_PER_FLOP) / threads;
}
