/* Which OpenBLAS kernels this CPU should run: Debian 12's OpenBLAS (0.3.21, DYNAMIC_ARCH) does not recognise
 * CPUs released after it and then falls back to its generic "Prescott" (SSE3) kernels, several times slower
 * than the AVX2 or AVX-512 kernels the same library carries. */
#include <string.h>
#include "dmilab/blas_cpu.h"

extern char *openblas_get_corename(void);

const char *dml_blas_better_coretype(void)
{
    const char *core = openblas_get_corename();
    if (!core || strcmp(core, "Prescott") != 0) return NULL;
    __builtin_cpu_init();
    /* OpenBLAS's SkylakeX kernels use AVX-512 F/CD/BW/DQ/VL; its Haswell kernels AVX2 and FMA */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return NULL;
}

const char *dml_blas_corename(void)
{
    const char *core = openblas_get_corename();
    return core ? core : "unknown";
}
