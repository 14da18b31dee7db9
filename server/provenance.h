/* dmilab server: the provenance of a run: threads, workers, BLAS, SIMD, the convolution setting and the
 * SHA-256 of every data file it read (of the very bytes the runner read, reported by its on_data hook). */
#ifndef DMILAB_SERVER_PROVENANCE_H
#define DMILAB_SERVER_PROVENANCE_H

#include <cjson/cJSON.h>
#include "dmilab/experiment.h"

/** {"threads", "workers", "blas": {"config", "num_threads"}, "simd": {"avx512f", "avx2", "fma",
 *  "DMILAB_SIMD"}, "conv", "data_files": [{"path", "sha256"}], "version"} for a run with `threads` threads per
 *  experiment and `workers` experiments at once, by `version` (util_version_text), that has read the `n` data
 *  files `files` so far (dml_run_hooks.on_data; none yet: NULL, 0). Shared by the server's workers and
 *  `dmilab run`. Caller frees. */
cJSON *provenance_json(int threads, int workers, const char *version, const dml_data_file *files, int n);

#endif
