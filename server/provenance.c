/* dmilab server: SHA-256 and provenance. See provenance.h. */
#include "provenance.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* OpenBLAS's own entry points (declared in its cblas.h, whose include directory depends on the variant). */
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

static void to_hex(const unsigned char *md, unsigned n, char out[SHA256_HEX_LEN])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32)
        return -1;
    to_hex(md, len, out);
    return 0;
}

static int digest_file(const char *path, char out[SHA256_HEX_LEN])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char buf[1 << 16];
    size_t k;
    while (ok && (k = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, k);
    ok = ok && !ferror(f);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) && len == 32;
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok)
        return -1;
    to_hex(md, len, out);
    return 0;
}

typedef struct cached {
    char *path;
    off_t size;
    struct timespec mtime;
    char hex[SHA256_HEX_LEN];
    struct cached *next;
} cached;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cached *cache;

int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN])
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    pthread_mutex_lock(&cache_mu);
    for (cached *c = cache; c; c = c->next)
        if (strcmp(c->path, path) == 0 && c->size == sb.st_size && c->mtime.tv_sec == sb.st_mtim.tv_sec
            && c->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
            memcpy(out, c->hex, SHA256_HEX_LEN);
            pthread_mutex_unlock(&cache_mu);
            return 0;
        }
    pthread_mutex_unlock(&cache_mu);
    if (digest_file(path, out) != 0)
        return -1;
    cached *c = calloc(1, sizeof *c);
    if (c && (c->path = strdup(path))) {
        c->size = sb.st_size;
        c->mtime = sb.st_mtim;
        memcpy(c->hex, out, SHA256_HEX_LEN);
        pthread_mutex_lock(&cache_mu);
        c->next = cache;
        cache = c;
        pthread_mutex_unlock(&cache_mu);
    } else {
        free(c);
    }
    return 0;
}

cJSON *provenance_json(const dml_spec *s, int threads, int workers, const char *version)
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
    cJSON *files = cJSON_AddArrayToObject(o, "data_files");
    static const char *const names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int d = 0; d < s->ndata; d++) {
        int seen = 0;
        for (int e = 0; e < d && !seen; e++)
            seen = strcmp(s->data[e].path, s->data[d].path) == 0;
        if (seen)
            continue;
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            char path[DML_PATH_MAX + 64], hex[SHA256_HEX_LEN];
            snprintf(path, sizeof path, "%s/%s", s->data[d].path, names[k]);
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "path", path);
            if (sha256_file_hex(path, hex) == 0)
                cJSON_AddStringToObject(f, "sha256", hex);
            else
                cJSON_AddNullToObject(f, "sha256");
            cJSON_AddItemToArray(files, f);
        }
    }
    cJSON_AddStringToObject(o, "version", version);
    return o;
}
