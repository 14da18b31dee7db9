/* dmilab: choosing OpenBLAS's kernels for this CPU, and single-threaded sections (see core/blas_cpu.c). */
#ifndef DMILAB_BLAS_CPU_H
#define DMILAB_BLAS_CPU_H

#include "dmilab/error.h"

/** The OpenBLAS core type (a value for the OPENBLAS_CORETYPE environment variable) that this CPU should use
 *  when the loaded OpenBLAS fell back to its generic "Prescott" kernels on a CPU it does not recognise:
 *  "SkylakeX" when the CPU has AVX-512 F, CD, BW, DQ and VL, "Haswell" when it has AVX2 and FMA; NULL when
 *  OpenBLAS chose another core itself or the CPU has neither. OpenBLAS reads OPENBLAS_CORETYPE once, when it
 *  is loaded: a program applies the answer by setting the variable and executing itself again
 *  (server/main.c). The kernels compute the same functions; results differ in rounding only. */
const char *dml_blas_better_coretype(void);

/** The kernels OpenBLAS runs in this process ("SkylakeX", "Haswell", "Prescott", ...). */
const char *dml_blas_corename(void);

/** Bytes OpenBLAS 0.3.21 mallocs for the work buffer of a thread's first BLAS-3 call: its BUFFER_SIZE on x86-64
 *  (32 << 22 = 128 MiB) and one page for alignment (134,221,824 bytes, as seen in a debugger). */
#define DML_BLAS_BUFFER_BYTES (((size_t)128 << 20) + 4096)

/** Whether a work buffer of OpenBLAS's still fits in the address space: 0, or -1 with DML_ERR_NOMEM in `err`.
 *  OpenBLAS 0.3.21 retries a failed buffer allocation forever (driver/others/memory.c, blas_memory_alloc), so a
 *  BLAS call near a memory limit (RLIMIT_AS) hangs instead of failing; callers that may meet one probe first
 *  (malloc and free of DML_BLAS_BUFFER_BYTES, untouched: no page is written). A probe that passes does not
 *  guarantee the call (another thread may take the room meanwhile); it turns the steady case into a clean error. */
int dml_blas_headroom(dml_error *err);

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
