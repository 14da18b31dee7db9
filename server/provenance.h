/* dmilab server: the provenance of a run: threads, workers, BLAS, SIMD, the convolution setting and the
 * SHA-256 of every data file it read (of the very bytes the runner read, reported by its on_data hook), and the
 * kernel cache's account of its kernels. */
#ifndef DMILAB_SERVER_PROVENANCE_H
#define DMILAB_SERVER_PROVENANCE_H

#include <cjson/cJSON.h>
#include "dmilab/experiment.h"
#include "dmilab/sha256.h"

/** {"threads", "workers", "blas": {"config", "num_threads"}, "simd": {"avx512f", "avx2", "fma",
 *  "DMILAB_SIMD"}, "conv", "data_files": [{"path", "sha256"}], "version"} for a run with `threads` threads per
 *  experiment and `workers` experiments at once, by `version` (util_version_text), that has read the `n` data
 *  files `files` so far (dml_run_hooks.on_data; none yet: NULL, 0). Shared by the server's workers and
 *  `dmilab run`. Caller frees. */
cJSON *provenance_json(int threads, int workers, const char *version, const dml_data_file *files, int n);

/** The kernels a run used (dml_run_hooks.on_kernel), copied out of the runner's callback: one entry per unit. */
typedef struct {
    struct kernel_entry {
        char data[DML_NAME_MAX], model[DML_NAME_MAX], key[DML_SHA256_HEX], cache[8];
        int repeat;
        size_t tiles, stored;
    } *v;
    size_t n, cap;
} kernel_list;

/** Append a copy of `k`; an allocation failure drops it (the provenance then lists fewer kernels). */
void kernel_list_add(kernel_list *l, const dml_kernel_info *k);
void kernel_list_free(kernel_list *l);

/** Add to provenance `prov` the kernel cache's account of the run: "kernel_cache": "hit" when every kernel was
 *  stored whole when its unit began, "miss" when none had a tile stored, "partial" otherwise, null with no
 *  kernel; and "kernels": [{"data", "model", "repeat", "key" (dml_tile_key), "kernel_cache" (hit | partial |
 *  miss), "tiles", "tiles_stored"}] in the order the units ran. Returns 0, or -1 out of memory. */
int provenance_add_kernels(cJSON *prov, const kernel_list *l);

#endif
