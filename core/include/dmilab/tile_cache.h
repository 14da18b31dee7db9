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

/** Create (if needed) base and `<base>/<key>/`, lock it shared and mark it used now (the mtime of its .lock file
 *  orders eviction). Returns 0, or -1 with DML_ERR_IO. */
int dml_tile_cache_enter(const char *base, const char key[DML_SHA256_HEX], dml_tile_hold *h, dml_error *err);

/** Release the hold: keep the directory (keep != 0: a finished kernel, for reuse) or remove it. */
void dml_tile_cache_leave(dml_tile_hold *h, int keep);

/** Evict least recently used kernel directories of `base` not in use until their total size is at most
 *  `budget_bytes`. Returns the bytes left. */
double dml_tile_cache_evict(const char *base, double budget_bytes);

/** Remove every kernel directory of `base` not in use, then base itself when it is empty. */
void dml_tile_cache_remove_all(const char *base);

#endif
