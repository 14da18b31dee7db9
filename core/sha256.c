/* SHA-256 through OpenSSL's EVP interface (dmilab/sha256.h). */
#include <openssl/evp.h>
#include "dmilab/sha256.h"

dml_sha256 *dml_sha256_new(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return (dml_sha256 *)ctx;   /* the state is the EVP context itself */
}

int dml_sha256_update(dml_sha256 *h, const void *data, size_t n)
{
    return h && EVP_DigestUpdate((EVP_MD_CTX *)h, data, n) ? 0 : -1;
}

int dml_sha256_final(dml_sha256 *h, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int ok = h && EVP_DigestFinal_ex((EVP_MD_CTX *)h, md, &len) && len == 32;
    EVP_MD_CTX_free((EVP_MD_CTX *)h);
    if (!ok) return -1;
    if (hex) {
        for (unsigned i = 0; i < 32; i++) {
            hex[2 * i] = digits[md[i] >> 4];
            hex[2 * i + 1] = digits[md[i] & 15];
        }
        hex[64] = 0;
    }
    return 0;
}

int dml_sha256_hex(const void *data, size_t n, char *hex)
{
    dml_sha256 *h = dml_sha256_new();
    if (!h) return -1;
    if (dml_sha256_update(h, data, n)) {
        dml_sha256_final(h, NULL);
        return -1;
    }
    return dml_sha256_final(h, hex);
}
