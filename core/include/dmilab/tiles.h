/* dmilab: kernel tiles, the unit of work of a kernel computation (issue 15): row blocks of a Gram or cross
 * kernel, computed by a function that needs no database, stored as checksummed files, content-addressed. */
#ifndef DMILAB_TILES_H
#define DMILAB_TILES_H

#include <stddef.h>
#include <stdint.h>
#include "dmilab/error.h"
#include "dmilab/model.h"
#include "dmilab/sha256.h"

/** Version of the kernel engine's arithmetic: part of every kernel's cache key, so that tiles computed by an
 *  engine whose per-pair arithmetic changed are never reused. Bump it with any change of core/kernel or
 *  core/layers that changes a kernel value by even one bit. */
#define DML_KERNEL_ENGINE "dmilab-kernel-2"

/** The two kinds of tile of one kernel unit (train set x of N points, test set t of M points). */
typedef enum {
    DML_TILE_GRAM = 0,   /**< rows [r0, r1) of the N x N Gram of x, columns [0, r1): the lower triangle with the
                              diagonal block (entries right of the diagonal are computed too and ignored) */
    DML_TILE_CROSS = 1   /**< rows [r0, r1) of the M x N test-train kernel K(t, x), all N columns */
} dml_tile_kind;

/** One tile: kind, index within its kind, rows [r0, r1), ncols columns. Values row-major, leading dimension ncols. */
typedef struct {
    dml_tile_kind kind;
    size_t index, r0, r1, ncols;
} dml_tile;

/** The tiling of one unit: `rows` rows per tile (the last tile of a kind may have fewer). */
typedef struct {
    size_t N, M, rows;
    size_t ngram, ncross;   /**< tiles of each kind: ceil(N / rows), ceil(M / rows) */
} dml_tiling;

/** Tiling of an N-point Gram and an M x N cross kernel in tiles of `rows` rows (rows >= 1). */
void dml_tiling_init(dml_tiling *tg, size_t N, size_t M, size_t rows);

/** Tile number `i` of the tiling, counting Gram tiles first (0 <= i < ngram + ncross). */
void dml_tiling_tile(const dml_tiling *tg, size_t i, dml_tile *t);

/** Kernel entries (pairs) of tiles [first, end) of the tiling (end clamped to its tile count): the weight of a
 *  tile range in progress, ETA and shard plans (Gram tiles grow with their row). */
double dml_tiling_pairs(const dml_tiling *tg, size_t first, size_t end);

/** Rows per tile so that the widest tile (N columns) takes about `seconds` on `threads` threads by the kernel
 *  engine's cost model (dml_kernel_cost_estimate), at least `threads` rows (each thread takes rows), at most
 *  N, and at most what 256 MiB holds for its NNGP and NTK. This bounds the time a cancel waits. */
size_t dml_tile_rows_for(const dml_model *m, const dml_shape *shape, size_t N, int threads, double seconds);

/** Compute tile `t` of the NNGP and NTK of model `m`. x: the N training inputs, xt: the M test inputs (shape
 *  `shape`, row-major (n, ...spatial, C)). nngp, ntk: (r1 - r0) x ncols row-major outputs.
 *  A Gram tile is two engine calls: its diagonal block as a Gram (so that self pairs see k12 == k11 == k22 bit for
 *  bit, exactly as in one whole Gram call) and the block left of it as the cross kernel of points [0, r0) against
 *  rows [r0, r1), transposed (each pair in the order a whole Gram computes it: the sums over full P x P
 *  covariances, as in GAP, depend on it). Entries then agree bit for bit with one untiled dml_kernel call
 *  (tests/test_tiles.c: cnn-vec, lcn, cnn-gap) except where BLAS may block a sum differently: the GEMM path (a
 *  model whose first layer flattens, e.g. fcn) takes its input covariance from SYRK in a Gram and from GEMM in a
 *  cross block (the test bounds the difference by 1e-15 relative; bit for bit on the test's inputs).
 *  Needs no database and no files: this is what a worker runs. Returns 0 or -1 with err. */
int dml_tile_compute(const dml_model *m, const dml_shape *shape, const double *x, const double *xt,
                     const dml_tile *t, double *nngp, double *ntk, int threads, dml_error *err);

/** dml_tile_compute that stops inside the tile when `cancelled(ctx)` returns nonzero, polled by the engine's
 *  threads every few pairs (dml_kernel_cancellable: it must be thread-safe and cheap): returns -1 with
 *  DML_ERR_CANCELLED, and the partly written outputs must be discarded (a cancelled tile is never saved).
 *  cancelled NULL: dml_tile_compute. */
int dml_tile_compute_cancellable(const dml_model *m, const dml_shape *shape, const double *x, const double *xt,
                                 const dml_tile *t, double *nngp, double *ntk, int threads,
                                 int (*cancelled)(void *ctx), void *ctx, dml_error *err);

/** Content address of a kernel unit: SHA-256 (hex) over the engine version `engine` (NULL: DML_KERNEL_ENGINE),
 *  the model with every field (dml_model_json), the input shape, N, M and the very bytes of the prepared training
 *  and test inputs. The inputs carry everything they came from (data files' bytes, preprocessing, transform,
 *  subset and its seed), so two units share a key exactly when their kernels are the same. */
int dml_tile_key(const char *engine, const dml_model *m, const dml_shape *shape, const double *x, size_t N,
                 const double *xt, size_t M, char key[DML_SHA256_HEX], dml_error *err);

/* ---- the tile files ----
 * One file per tile in the unit's directory: "g-<index>.tile" or "c-<index>.tile", written as
 * "<name>.tmp.<pid>.<n>" (a name of its writer's own), flushed to disk (fsync) and renamed, so a file that exists
 * is whole even when two processes write the same tile. Layout (little-endian host order):
 * the magic "DMLTILE1", uint32 kind, uint32 0, uint64 r0, r1, ncols, the SHA-256 hex of the NNGP values and a NUL
 * (65 bytes) padded with zeros to 72, the same for the NTK values (header: 184 bytes), then the payload:
 * (r1 - r0) * ncols NNGP doubles, then as many NTK doubles. Each half has its own checksum, so that a solve of
 * one kernel method reads and verifies only its own half. */

/** Path of tile `t` in directory `dir` into out[size]. */
void dml_tile_path(const char *dir, const dml_tile *t, char *out, size_t size);

/** Bytes of the file of tile `t`. */
size_t dml_tile_file_bytes(const dml_tile *t);

/** Write tile `t` durably (see above). sha_nngp, sha_ntk (either may be NULL) receive the checksums of the two
 *  halves, DML_SHA256_HEX bytes each: what a worker reports with its tile. Returns 0 or -1 with DML_ERR_IO and
 *  errno that of the failing call (ENOSPC: the disk is full). */
int dml_tile_save(const char *dir, const dml_tile *t, const double *nngp, const double *ntk, char *sha_nngp,
                  char *sha_ntk, dml_error *err);

/** Whether the file of tile `t` exists with a header that matches it and its full length (the payload's checksum
 *  is checked by dml_tile_load). 1 yes, 0 no. */
int dml_tile_present(const char *dir, const dml_tile *t);

/** Read tile `t` into nngp and ntk ((r1 - r0) * ncols doubles each; either may be NULL when not wanted: only
 *  the halves read are read from disk and verified against their checksums). Returns 1 when read and verified; 0 when the file is absent, short, of another
 *  tile or fails its checksum (then it is removed: the caller computes the tile again); -1 with err when
 *  out of memory. */
int dml_tile_load(const char *dir, const dml_tile *t, double *nngp, double *ntk, dml_error *err);

#endif
