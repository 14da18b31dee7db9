/* dmilab server: the kernel tiles of tile shards in the store (migration 0011): which tile of which kernel key each
 * tile shard reported, under which claim, with its checksums (the files themselves are in the server's --tile-dir). */
#ifndef DMILAB_SERVER_STORE_SHARD_TILES_H
#define DMILAB_SERVER_STORE_SHARD_TILES_H

#include "dmilab/sha256.h"
#include "store.h"

/** Record tile number `tile` (dml_tiling order) of kernel `key` (hex), reported by `worker` for shard (id, idx) that
 *  it holds, with the SHA-256 (hex) of its NNGP and NTK halves. A tile already recorded for the experiment is not
 *  recorded again: the shard's tiles_again count grows instead. Returns 1 recorded, 2 recorded before (counted), 0
 *  the shard is not held by `worker` (nothing recorded), or a negative error. */
int store_shard_tile_add(store *st, const char *id, int idx, const char *worker, const char *key, long tile,
                         const char *sha_nngp, const char *sha_ntk);

/** Record tile `tile` of kernel `key` for shard (id, idx), held by `worker`, as found in the server's tile directory
 *  (a kernel cache, or a claim that stored its file and was stopped before reporting it): claim 0. Returns 1
 *  recorded, 2 recorded before, 0 not held, or a negative error. */
int store_shard_tile_found(store *st, const char *id, int idx, const char *worker, const char *key, long tile,
                           const char *sha_nngp, const char *sha_ntk);

/** Tiles of shard (id, idx) recorded as found in the server's tile directory (claim 0). Returns that or a negative
 *  error. */
long store_shard_tiles_found(store *st, const char *id, int idx);

/** The tiles recorded by the shards [from, to) of experiment `id`: their kernel key into key[DML_SHA256_HEX] ("" when
 *  none) and their tile numbers, ascending, into *tiles (malloc'd, caller frees; NULL when none), *n of them.
 *  Returns 0 or a negative error. */
int store_shard_tiles_of(store *st, const char *id, int from, int to, char key[DML_SHA256_HEX], long **tiles, size_t *n);

/** Whether tile `tile` of kernel `key` was recorded for experiment `id`: 1 (the shard that reported it into *idx, its
 *  checksums into sha_nngp, sha_ntk, DML_SHA256_HEX bytes each), 0, or a negative error. */
int store_shard_tile_known(store *st, const char *id, const char *key, long tile, int *idx, char *sha_nngp,
                           char *sha_ntk);

/** Tiles recorded for experiment `id` (*stored), of them those reported by a rerun, a claim after the first
 *  (*rerun) or found in the server's tile directory (*found), and tile reports of tiles recorded before (*again).
 *  Returns 0 or a negative error. */
int store_shard_tiles_count(store *st, const char *id, long *stored, long *rerun, long *found, long *again);

#endif
