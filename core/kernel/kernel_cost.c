/* Cost model of the kernel engine (dml_kernel_cost_estimate): pairs, dual evaluations and seconds. */
#include "dmilab/kernel.h"

/* Measured on the reference machine (2 cores, AVX-512; docs/kernels.md, bench/bench_kernels.c), per thread:
 * seconds per dual evaluation in the spatial stage including its window sums (cnn-gap 14x14, 3x3: 4,547
 * pairs/s on 2 threads = 5.7e-9 s per entry), per entry of the scalar stage, and per flop of the fcn GEMM. */
#define SEC_PER_SPATIAL_ENTRY 5.5e-9
#define SEC_PER_SCALAR_ENTRY 4e-9
#define SEC_PER_FLOP 3.5e-11

void dml_kernel_cost_estimate(const dml_model *m, const dml_shape *shape, size_t n1, size_t n2, int gram, int threads,
                              dml_kernel_cost *out)
{
    out->pairs = gram ? (double)n1 * ((double)n1 + 1) / 2 : (double)n1 * (double)n2;
    out->dual_evaluations = out->seconds = 0;
    if (threads < 1) threads = 1;
    dml_layers L;
    if (dml_model_layers(m, shape, 1, &L, NULL)) return;
    double spatial = 0, scalar = 0, flops = 0;
    int pooled = 0;
    for (int l = 0; l < L.n; l++) {
        const dml_layer *ly = &L.layer[l];
        if (ly->kind == DML_LAYER_FLATTEN || ly->kind == DML_LAYER_GAP) pooled = 1;
        if (ly->kind != DML_LAYER_ACT) continue;
        if (pooled) {
            scalar += 1;
        } else {
            double P = 1;
            for (int a = 0; a < ly->nd; a++) P *= ly->in_size[a];
            spatial += m->arch == DML_ARCH_CNN_GAP ? P * P : P;
        }
    }
    if (m->arch == DML_ARCH_FCN) flops = 2.0 * (double)dml_shape_numel(shape);
    out->dual_evaluations = out->pairs * (spatial + scalar);
    out->seconds = out->pairs * (spatial * SEC_PER_SPATIAL_ENTRY + (scalar + 2) * SEC_PER_SCALAR_ENTRY +
                                 flops * SEC_PER_FLOP) / threads;
}
