/* dmilab: the kernel stage of one unit of the runner, memory-lean and interruptible (issue 15): the kernel computed
 * tile by tile into durable tile files, then one kernel method at a time solved from them (packed Gram, streamed
 * test rows, dml_ridge_curve). */
#ifndef DMILAB_KERNEL_UNIT_H
#define DMILAB_KERNEL_UNIT_H

#include <stddef.h>
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "dmilab/ridge_packed.h"
#include "dmilab/tiles.h"

/** One kernel unit: model, inputs, tiling and the directory of its tile files. */
typedef struct {
    const dml_model *m;
    const dml_shape *shape;
    const double *x, *xt;   /**< N training inputs, M test inputs, row-major (n, ...spatial, C) */
    dml_tiling tiling;      /**< N, M and rows per tile */
    const char *dir;        /**< the unit's tile directory (exists) */
    const char *cache;      /**< the kernel cache holding `dir` (dmilab/tile_cache.h), or NULL: a tile write that
                                 meets a full disk evicts its kernels not in use, then waits for space */
    int threads;
    void *ctx;
    /** Nonzero stops the unit (DML_ERR_CANCELLED): before the next tile, and inside the tile in flight, which is
     *  then discarded (polled by the engine's threads every few pairs: thread-safe and cheap, e.g. an atomic
     *  flag). May be NULL. */
    int (*cancelled)(void *ctx);
    /** A tile is done: `computed` 1 when computed now, 0 when found stored; done of total tiles; eta_seconds the
     *  remaining tiles at the rate measured on the tiles computed so far in this call (-1 before the first). May
     *  be NULL. */
    void (*on_tile)(void *ctx, const dml_tile *t, int computed, size_t done, size_t total, double eta_seconds);
    /** Nonzero when tile t is stored elsewhere (a tile shard's server has it, docs/cluster.md): it is neither computed
     *  nor looked for in `dir`, and on_tile sees it as found (computed 0). May be NULL. */
    int (*skip)(void *ctx, const dml_tile *t);
    size_t computed;        /**< out: tiles computed (not found stored) by the calls below */
} dml_kernel_unit;

/** Make every tile of the unit durable: each tile whose file is absent (or invalid) is computed
 *  (dml_tile_compute_cancellable) and saved; a cancel is honoured before each tile and inside it (the tile in
 *  flight is discarded, never saved: a resumed unit computes it again). A full disk (ENOSPC, EDQUOT) does not
 *  fail the unit: the cache's kernels not in use are evicted and the write retried after 0.25 s, doubling up to
 *  8 s, until it succeeds or `cancelled` says stop (as the server's store retries its writes). Returns 0, or -1
 *  with err (DML_ERR_CANCELLED, DML_ERR_IO, the engine's errors). */
int dml_kernel_unit_tiles(dml_kernel_unit *u, dml_error *err);

/** dml_kernel_unit_tiles for the tiles numbered [first, end) of the tiling only (dml_tiling_tile order, Gram tiles
 *  first; end is clamped to the number of tiles): what a tile shard computes. on_tile counts done of end - first. */
int dml_kernel_unit_tiles_range(dml_kernel_unit *u, size_t first, size_t end, dml_error *err);

/** Number of the unit's tiles stored now (dml_tile_present), for the cache status (hit, partial, miss). */
size_t dml_kernel_unit_present(const dml_kernel_unit *u);

/** Kernel ridge regression of one kernel method (ntk 0: NNGP, 1: NTK) at the sizes `sizes` (dml_ridge_curve,
 *  DESIGN 3), from the tile files: the packed Gram of N points is filled tile by tile, the test rows are read one
 *  cross tile at a time (a tile that fails its checksum or has gone is computed again). Y: N x k targets. A size
 *  whose training kernel is zero (trace 0) gets the zero predictor, as dml_ridge_predict gives it.
 *  Returns 0 or -1 with err (DML_ERR_NUMERIC with field "ridge", DML_ERR_NOMEM, DML_ERR_IO). */
int dml_kernel_unit_solve(dml_kernel_unit *u, int ntk, const double *Y, size_t k, double ridge, dml_ridge_size *sizes,
                          size_t nsizes, dml_error *err);

/** The memory model of the kernel stage, bytes: the larger of the tile stage (one tile's NNGP and NTK, the two
 *  engine calls' outputs and their workspace, dml_kernel_memory_bytes) and one solve (dml_ridge_curve_bytes: the
 *  packed Gram N(N+1)/2, one factor copy, the test block, the outputs; plus one tile read buffer). n_train: the
 *  sizes (ascending, the largest is N), rows: rows per tile (0: dml_tile_rows_for with 2 s). */
double dml_kernel_unit_bytes(const dml_model *m, const dml_shape *shape, const size_t *n_train, size_t nsizes,
                             size_t n_test, int outputs, int threads, size_t rows);

#endif
