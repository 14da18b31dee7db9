/* dmilab server: SHA-256 (OpenSSL EVP) and the provenance of a run: threads, workers, BLAS, SIMD and the
 * SHA-256 of every IDX data file it reads. */
#ifndef DMILAB_SERVER_PROVENANCE_H
#define DMILAB_SERVER_PROVENANCE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "dmilab/spec.h"

#define SHA256_HEX_LEN 65   /**< 64 hex digits and a NUL */

/** SHA-256 of `n` bytes as lower-case hex. Returns 0 or -1. */
int sha256_hex(const void *data, size_t n, char out[SHA256_HEX_LEN]);

/** SHA-256 of a file's contents as lower-case hex, cached by (path, size, mtime) for the life of the
 *  process. Returns 0 or -1 (unreadable file). Thread-safe. */
int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN]);

/** {"threads", "workers", "blas": {"config", "num_threads"}, "simd": {"avx512f", "avx2", "fma",
 *  "DMILAB_SIMD"}, "data_files": [{"path", "sha256"}], "version"} for a run of `s` with `threads` threads per
 *  experiment and `workers` experiments at once, by `version` (util_version_text) (sha256 null for a file that cannot
 *  be read). Shared by the server's workers and `dmilab run`. Caller frees. */
cJSON *provenance_json(const dml_spec *s, int threads, int workers, const char *version);

#endif
