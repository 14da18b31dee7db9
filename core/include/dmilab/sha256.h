/* dmilab: SHA-256 (OpenSSL's EVP), for the provenance of data files and the idempotency of submissions. */
#ifndef DMILAB_SHA256_H
#define DMILAB_SHA256_H

#include <stddef.h>

#define DML_SHA256_HEX 65   /**< 64 lower-case hex digits and a NUL */

/** An incremental SHA-256: dml_sha256_new, any number of dml_sha256_update, then dml_sha256_final, which
 *  writes the digest and frees the state (call it also on failure paths; `hex` may then be NULL). */
typedef struct dml_sha256 dml_sha256;
dml_sha256 *dml_sha256_new(void);                                  /**< NULL when out of memory */
int dml_sha256_update(dml_sha256 *h, const void *data, size_t n); /**< 0 or -1 */
int dml_sha256_final(dml_sha256 *h, char *hex);                    /**< 0 or -1; frees h */

/** SHA-256 of `n` bytes as lower-case hex into hex[DML_SHA256_HEX]. Returns 0 or -1. */
int dml_sha256_hex(const void *data, size_t n, char *hex);

#endif
