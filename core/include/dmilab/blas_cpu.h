/* dmilab: choosing OpenBLAS's kernels for this CPU, and single-threaded sections (see core/blas_cpu.c). */
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

/** Begin a section that calls single-threaded BLAS from threads of its own: OpenBLAS's thread count (process-wide)
 *  is set to 1 until the last open section ends, which restores the count the first one found. Sections may nest
 *  and overlap across threads (two experiments at once): saving and restoring around each section alone would
 *  let one restore the other's 1 for good. Pair each call with dml_blas_single_end. */
void dml_blas_single_begin(void);

/** End a section of dml_blas_single_begin. */
void dml_blas_single_end(void);

/** OpenBLAS's thread count outside single-threaded sections: the count the open ones will restore, or the current
 *  one when none is open. */
int dml_blas_threads(void);

#endif
