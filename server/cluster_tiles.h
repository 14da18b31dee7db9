/* dmilab server: the coordinator's side of tile shards (docs/cluster.md): how a kernel unit is split into tile shards
 * and its solve, the tiles a claim answer lists as stored, the tile upload ("tile") and download ("fetch") requests. */
#ifndef DMILAB_SERVER_CLUSTER_TILES_H
#define DMILAB_SERVER_CLUSTER_TILES_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "app.h"
#include "dmilab/spec.h"
#include "dmilab/tiles.h"
#include "store_shards.h"

/** The tile shards of kernel unit (data d, model m) of `s`: its tiling (N the largest n_train, M n_test, *rows rows
 *  per tile: --tile-rows, else about 2 s of the cost model at --threads, dml_tile_rows_for) and the tile numbers
 *  that bound its shards, bounds[0] = 0 < bounds[1] < ... < bounds[g] = all tiles (malloc'd into *bounds, caller
 *  frees): consecutive tiles whose cost-model seconds reach --shard-seconds make one shard (--shard-tiles: that many
 *  tiles). Returns g, the number of tile shards (g < 2: the unit stays one kernel shard), or -1 out of memory. */
int cluster_tile_groups(const app *a, const dml_spec *s, int d, int m, size_t *rows, size_t **bounds);

/** The share of kernel unit (d, m)'s time that its tiles take, against its ridge solves (the cost model, as the
 *  runner weighs a unit's progress), in [0, 1]. */
double cluster_tile_share(const app *a, const dml_spec *s, int d, int m);

/** The unit text of a tile shard (first < end) or, end == 0, of the solve of unit (d, m, rep) tiled by `rows`
 *  ({"data", "model", "repeat", "rows", "n", "m"[, "first", "end"]}). malloc'd, NULL when out of memory. */
char *cluster_tile_unit(int d, int m, int rep, const dml_tiling *tg, size_t first, size_t end);

/** Add "tiles": {"key", "stored": [tile numbers]} to the claim answer's `shard` object of a tile shard (the tiles
 *  recorded for it by earlier claims: skipped) or a solve shard (the tiles of its tile shards: fetched where
 *  missing). Returns 0 or a negative store error. */
int cluster_claim_tiles(app *a, const store_shard *sh, cJSON *shard);

/** The "tile" request of `worker` holding tile shard (id, idx): {"key", "tile" (number), "sha256_nngp",
 *  "sha256_ntk"} and, from a worker whose tile directory is not the server's, the tile's NNGP then NTK doubles packed
 *  as wire_pack_bytes packs them. The halves are checked against their SHA-256, written into --tile-dir/key/ with
 *  dml_tile_save (unless stored there) and recorded once (store_shard_tile_add). Returns a CLUSTER_* status; 200
 *  answers {"stored": true, "again": bool (recorded before)}. */
int cluster_tile_report(app *a, const char *id, int idx, const char *worker, const cJSON *req, cJSON **answer, char *err,
                        size_t cap, char field[64]);

/** The "tiles" request of `worker` holding tile shard (id, idx), once it knows its kernel's key: {"key"}. The tiles
 *  of its range that the server's --tile-dir/key/ holds and the experiment has not recorded (a kernel cache, a claim
 *  stopped between a tile's file and its report) are recorded as found (claim 0). Answers {"stored": [the range's
 *  recorded tile numbers, ascending: the worker skips them], "found": tiles of the range found in the server's tile
 *  directory (its kernel_cache)}. Returns a CLUSTER_* status. */
int cluster_tile_have(app *a, const char *id, int idx, const char *worker, const cJSON *req, cJSON **answer, char *err,
                      size_t cap, char field[64]);

/** The "fetch" request: {"worker", "experiment_id", "key", "tile"}: a tile recorded for the experiment, read from
 *  --tile-dir (its checksums verified) and answered {"key", "tile", "sha256_nngp", "sha256_ntk"} with the halves
 *  packed as the upload packs them. 409 (CLUSTER_LOST) when it is not recorded or its file has gone (evicted). */
int cluster_tile_fetch(app *a, const cJSON *req, cJSON **answer, char *err, size_t cap, char field[64]);

/** Parse a tile shard's or solve's unit: its tiling into *tg and, for a tile shard, its tile numbers [*first, *end)
 *  (a solve: 0, 0). Returns 0, or -1 when the unit lacks them. */
int cluster_tile_unit_parse(const cJSON *unit, dml_tiling *tg, size_t *first, size_t *end);

#endif
