/* Which OpenBLAS kernels this CPU should run: Debian 12's OpenBLAS (0.3.21, DYNAMIC_ARCH) does not recognise
 * CPUs released after it and then falls back to its generic "Prescott" (SSE3) kernels, several times slower
 * than the AVX2 or AVX-512 kernels the same library carries. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/blas_cpu.h"

extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);

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

static pthread_mutex_t single_mu = PTHREAD_MUTEX_INITIALIZER;
static int single_depth, single_saved;

void dml_blas_single_begin(void)
{
    pthread_mutex_lock(&single_mu);
    if (single_depth++ == 0) {
        single_saved = openblas_get_num_threads();
        openblas_set_num_threads(1);
    }
    pthread_mutex_unlock(&single_mu);
}

void dml_blas_single_end(void)
{
    pthread_mutex_lock(&single_mu);
    if (single_depth > 0 && --single_depth == 0) openblas_set_num_threads(single_saved);
    pthread_mutex_unlock(&single_mu);
}

int dml_blas_threads(void)
{
    pthread_mutex_lock(&single_mu);
    int t = single_depth ? single_saved : openblas_get_num_threads();
    pthread_mutex_unlock(&single_mu);
    return t;
}

int dml_blas_headroom(dml_error *err)
{
    void *p = malloc(DML_BLAS_BUFFER_BYTES);
    if (!p)
        return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory: no room for OpenBLAS's %zu MiB work buffer",
                        DML_BLAS_BUFFER_BYTES >> 20);
    free(p);
    return 0;
}
