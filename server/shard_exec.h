/* dmilab server: computing one shard where a worker runs (a thread of the server or `dmilab worker` on another
 * machine): the experiment's stored resolved spec, run by the core for the shard's points only, its data checked
 * against the experiment's provenance. */
#ifndef DMILAB_SERVER_SHARD_EXEC_H
#define DMILAB_SERVER_SHARD_EXEC_H

#include <cjson/cJSON.h>
#include "dmilab/error.h"
#include "points.h"
#include "shard_wire.h"
#include "spectra.h"

/** What a tile or solve shard needs beyond its unit (the claim answer's "tiles"), and what a kernel or tile shard
 *  reports of its kernel. */
typedef struct {
    const char *key;         /**< in: the kernel key of the unit's tiles the server holds (NULL or "": none yet) */
    long *stored;            /**< in: their tile numbers (dml_tiling order), ascending, nstored of them: skipped */
    size_t nstored;
    size_t found;            /**< in: of a tile shard's range, tiles the server found in its tile directory (a cache) */
    /** in: a tile shard's kernel key is known (before its first tile): ask the server which tiles of the range it
     *  holds, setting key, stored, nstored and found. Nonzero stops the shard (DML_ERR_CANCELLED). May be NULL. */
    int (*on_key)(void *ctx, const char *key);
    /** in: a tile shard's tile is done, computed now (computed 1) or found in tile_dir/key (0): report it; nonzero
     *  stops the shard (DML_ERR_CANCELLED). May be NULL. */
    int (*on_tile)(void *ctx, const char *key, const dml_tile *t, long number, int computed);
    void *ctx;
    cJSON *kernel;           /**< out: the kernel record for provenance.kernels ({"data", "model", "repeat", "key",
                                  "kernel_cache", "tiles", "stored", "computed"}) of a kernel or tile shard, else NULL */
    size_t computed;         /**< out: tiles computed by this shard */
} shard_tiles;

/** A claimed shard as the claim answer describes it (shard.kind, shard.unit, experiment.resolved_spec, ...). */
typedef struct {
    const char *kind;              /**< "kernel" (data, model, repeat: every kernel method and size, their solves),
                                        "tile" (a range of the tiles of such a unit), "solve" (the unit's solves from
                                        its tiles), "train" (one trained point) or "audit" (one arm's audit cells) */
    const cJSON *unit;             /**< {"data", "model", "repeat"} indices; "train": "inference", "n_train"; "audit":
                                        "inference"; "tile" and "solve": "rows" (per tile), "n", "m" (the tiling), and
                                        "tile": "first", "end" (its tile numbers) */
    shard_tiles *tiles;            /**< may be NULL */
    const char *spec;              /**< the experiment's resolved spec (JSON text) */
    const cJSON *data_files;       /**< the experiment's provenance data_files [{"path", "sha256"}], or NULL */
    const char *server_data_root;  /**< the server's data root: data paths under it are read under data_root instead */
} shard_job;

/** Compute the points (or tiles, or audit cells) of `job` with `threads` threads, reading data under `data_root`. `stop(ctx)` (may be NULL) is
 *  asked between units and epochs; nonzero stops the run (DML_ERR_CANCELLED). A data file whose SHA-256 differs from
 *  job->data_files fails the shard (DML_ERR_IO, naming the file). Kernel tiles go to `tile_dir` (NULL: a temporary
 *  directory of the run), which keeps `cache_bytes` of finished kernels for later shards (dml_run_hooks). After each
 *  tile, `on_tiles(ctx, fraction, eta_seconds)` (may be NULL) gets the done fraction of the unit's tiles and the
 *  seconds left of them (-1 before a rate is measured). On success returns 0 with the points in `out`
 *  (zero-initialized by the caller), a kernel shard of repeat 0 the spectral readouts of its arms in `spectra`
 *  (zero-initialized; when the spec asks for them) and the audit cells of its (data, model) in `audits`
 *  (zero-initialized; when the spec has an `audit`), and the data files read in *files ([{"path", "sha256"}], caller frees); else -1
 *  with `err` filled. */
int shard_exec(const shard_job *job, const char *data_root, const char *tile_dir, double cache_bytes, int threads,
               int (*stop)(void *ctx), void (*on_tiles)(void *ctx, double fraction, double eta_seconds), void *ctx,
               point_list *out, spectrum_list *spectra, audit_list *audits, cJSON **files, dml_error *err);

#endif
