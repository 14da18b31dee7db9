/* dmilab: choosing OpenBLAS's kernels for this CPU (see core/blas_cpu.c). */
#ifndef DMILAB_BLAS_CPU_H
#define DMILAB_BLAS_CPU_H

/** The OpenBLAS core type (a value for the OPENBLAS_CORETYPE environment variable) that this CPU should use
 *  when the loaded OpenBLAS fell back to its generic "Prescott" kernels on a CPU it does not recognise:
 *  "SkylakeX" when the CPU has AVX-512 F, CD, BW, DQ and VL, "Haswell" when it has AVX2 and FMA; NULL when
 *  OpenBLAS chose another core itself or the CPU has neither. OpenBLAS reads OPENBLAS_CORETYPE once, when it
 *  is loaded: a program applies the answer by setting the variable and executing itself again
 *  (server/main.c). The kernels compute the same functions; results differ in rounding only. */
const char *dml_blas_better_coretype(void);

/** The kernels OpenBLAS runs in this process ("SkylakeX", "Haswell", "Prescott", ...). */
const char *dml_blas_corename(void);

#endif
