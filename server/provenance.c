/* dmilab server: the provenance of a run. See provenance.h. */
#include "provenance.h"

#include <stdlib.h>
#include <string.h>

/* OpenBLAS's own entry points (declared in its cblas.h, whose include directory depends on the variant). */
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

cJSON *provenance_json(int threads, int workers, const char *version, const dml_data_file *files, int n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "workers", workers);
    cJSON *blas = cJSON_AddObjectToObject(o, "blas");
    const char *bc = openblas_get_config();
    cJSON_AddStringToObject(blas, "config", bc ? bc : "");
    cJSON_AddNumberToObject(blas, "num_threads", openblas_get_num_threads());
    cJSON *simd = cJSON_AddObjectToObject(o, "simd");
    __builtin_cpu_init();
    cJSON_AddBoolToObject(simd, "avx512f", __builtin_cpu_supports("avx512f") != 0);
    cJSON_AddBoolToObject(simd, "avx2", __builtin_cpu_supports("avx2") != 0);
    cJSON_AddBoolToObject(simd, "fma", __builtin_cpu_supports("fma") != 0);
    const char *cap = getenv("DMILAB_SIMD");
    if (cap && *cap)
        cJSON_AddStringToObject(simd, "DMILAB_SIMD", cap);
    else
        cJSON_AddNullToObject(simd, "DMILAB_SIMD");
    const char *conv = getenv("DMILAB_CONV");
    cJSON_AddStringToObject(o, "conv", conv && strcmp(conv, "im2col") == 0 ? "im2col" : "auto");
    cJSON *jf = cJSON_AddArrayToObject(o, "data_files");
    for (int i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", files[i].path);
        cJSON_AddStringToObject(f, "sha256", files[i].sha256);
        cJSON_AddItemToArray(jf, f);
    }
    cJSON_AddStringToObject(o, "version", version);
    return o;
}
