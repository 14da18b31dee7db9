/* dmilab server: the provenance of a run. See provenance.h. */
#include "provenance.h"

#include <stdio.h>
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

void kernel_list_add(kernel_list *l, const dml_kernel_info *k)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        struct kernel_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    struct kernel_entry *e = &l->v[l->n++];
    snprintf(e->data, sizeof e->data, "%s", k->data ? k->data : "");
    snprintf(e->model, sizeof e->model, "%s", k->model ? k->model : "");
    snprintf(e->key, sizeof e->key, "%s", k->key ? k->key : "");
    snprintf(e->cache, sizeof e->cache, "%s", k->cache ? k->cache : "");
    e->repeat = k->repeat;
    e->tiles = k->tiles;
    e->stored = k->stored;
}

void kernel_list_free(kernel_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

int provenance_add_kernels(cJSON *prov, const kernel_list *l)
{
    size_t hits = 0, misses = 0;
    cJSON *arr = cJSON_AddArrayToObject(prov, "kernels");
    if (!arr)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        const struct kernel_entry *e = &l->v[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return -1;
        cJSON_AddItemToArray(arr, o);
        if (!cJSON_AddStringToObject(o, "data", e->data) || !cJSON_AddStringToObject(o, "model", e->model) ||
            !cJSON_AddNumberToObject(o, "repeat", e->repeat) || !cJSON_AddStringToObject(o, "key", e->key) ||
            !cJSON_AddStringToObject(o, "kernel_cache", e->cache) ||
            !cJSON_AddNumberToObject(o, "tiles", (double)e->tiles) ||
            !cJSON_AddNumberToObject(o, "tiles_stored", (double)e->stored))
            return -1;
        hits += strcmp(e->cache, "hit") == 0;
        misses += strcmp(e->cache, "miss") == 0;
    }
    cJSON *all = !l->n ? cJSON_CreateNull()
                       : cJSON_CreateString(hits == l->n ? "hit" : misses == l->n ? "miss" : "partial");
    if (!all)
        return -1;
    cJSON_AddItemToObject(prov, "kernel_cache", all);
    return 0;
}
