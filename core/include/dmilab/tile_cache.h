/* dmilab: the kernel cache (issue 15): the tile directories of finished kernels, content-addressed by their key
 * (dml_tile_key), kept under a byte budget with least-recently-used eviction; a directory in use is locked. */
#ifndef DMILAB_TILE_CACHE_H
#define DMILAB_TILE_CACHE_H

#include <stddef.h>
#include "dmilab/error.h"
#include "dmilab/sha256.h"

/** A unit's hold on its tile directory `<base>/<key>/`. */
typedef struct {
    char dir[1200];
    int lock_fd;   /**< a shared flock(2) on `<dir>/.lock` while in use: eviction (any process) skips it */
} dml_tile_hold;

/** Create (if needed) base and `<base>/<key>/`, lock it shared, mark it used now (the mtime of its .lock file
 *  orders eviction) and remove its stale temporary tile files (dml_tile_cache_sweep_tmp). Returns 0, or -1 with
 *  DML_ERR_IO. */
int dml_tile_cache_enter(const char *base, const char key[DML_SHA256_HEX], dml_tile_hold *h, dml_error *err);

/** A writer's temporary tile file (`<tile>.tmp.<pid>.<n>`, dml_tile_save) is left behind when its writer is killed
 *  between creating and renaming it. One not modified for DML_TILE_TMP_IDLE_SECONDS whose writer has ended on this
 *  machine, or not modified for DML_TILE_TMP_STALE_SECONDS whatever its pid (a writer on another machine sharing the
 *  directory, or a pid reused since), is stale: a live writer writes its file in one go and renames it at once. */
#define DML_TILE_TMP_IDLE_SECONDS 60.0
#define DML_TILE_TMP_STALE_SECONDS 3600.0

/** Remove the stale temporary tile files of kernel directory `dir` (above), judged at `now` (seconds since the
 *  epoch, CLOCK_REALTIME, as file mtimes are); *removed counts them. dml_tile_cache_enter calls it on the directory
 *  it enters. Returns 0, or -1 when `dir` cannot be read. */
int dml_tile_cache_sweep_tmp(const char *dir, double now, int *removed);

/** Release the hold: keep the directory (keep != 0: a finished kernel, for reuse) or remove it. */
void dml_tile_cache_leave(dml_tile_hold *h, int keep);

/** Evict least recently used kernel directories of `base` not in use until their total size is at most
 *  `budget_bytes`. Returns the bytes left. */
double dml_tile_cache_evict(const char *base, double budget_bytes);

/** Remove every kernel directory of `base` not in use, then base itself when it is empty. */
void dml_tile_cache_remove_all(const char *base);

#endif
