/* dmilab: running an experiment (the full grid of arms, sizes and repeats), independent of any
 * server: the worker boundary is the dml_run_hooks below (claim nothing, report points and
 * progress, honour cancel), so a worker can live in another process or machine. */
#ifndef DMILAB_EXPERIMENT_H
#define DMILAB_EXPERIMENT_H

#include <stddef.h>
#include "dmilab/audit.h"
#include "dmilab/error.h"
#include "dmilab/nn.h"
#include "dmilab/spec.h"
#include "dmilab/tiles.h"
#include "dmilab/spectrum.h"

#define DML_ARM_MAX (3 * DML_NAME_MAX + 2)

/** One point: one arm at one training-set size and one repeat (DESIGN section 4, results). */
typedef struct {
    char arm[DML_ARM_MAX];          /**< "<data>/<model>/<inference>" */
    char data[DML_NAME_MAX], model[DML_NAME_MAX], inference[DML_NAME_MAX];
    size_t n_train;
    int repeat;
    double test_mse;        /**< squared error summed over outputs, averaged over test points */
    double test_accuracy;   /**< fraction of test points whose argmax matches the label (NaN: regression) */
    double train_mse;       /**< same as test_mse on the training subset */
    double seconds;         /**< wall time; a shared kernel's time divided among its points */
    const dml_train_epoch *curve; /**< trained arms: the training curve (valid during on_point only), else NULL */
    int n_curve;
} dml_point;

/** The spectral readout of one kernel arm (docs/spectrum.md): the spectrum of the Gram matrix of the arm's kernel
 *  (NNGP or NTK) on the first N = spec.spectrum_n training points of repeat 0 with their targets, and the learning
 *  curve it predicts (dml_spectrum_predict) at every n_train <= N of the arm's data variant. */
typedef struct {
    char arm[DML_ARM_MAX];          /**< "<data>/<model>/<inference>" */
    char data[DML_NAME_MAX], model[DML_NAME_MAX], inference[DML_NAME_MAX];
    const dml_spectrum *spectrum;   /**< N = spectrum->n points (valid during on_spectrum only; no eigenvectors) */
    double ridge;                   /**< the arm's ridge (DESIGN 3: ridge * trace(K_n)/n on the diagonal) */
    double label_noise;             /**< label-noise variance, summed over outputs, subtracted from the predicted
                                         test MSE when the test labels are noise-free; 0 for image data, whose
                                         test labels are like the training labels */
    int npred;                      /**< sizes predicted: the arm's n_train <= N, ascending */
    dml_prediction pred[DML_MAX_SIZES];
    double seconds;                 /**< wall time: the eigendecomposition, shared evenly among the arms of one
                                         kernel, and this arm's prediction */
} dml_arm_spectrum;

/** The predicted curve of one arm from a computed spectrum: pred[j] for each n_train[j] <= sp->n (count in
 *  *npred), dml_spectrum_predict with the Gram's diagonal `diag` (sp->n entries, training order) and `ridge`, then
 *  `label_noise` subtracted from each test_mse. Returns 0, or -1 with err as dml_spectrum_predict. */
int dml_arm_spectrum_predict(const dml_spectrum *sp, const double *diag, const size_t *n_train, int nsizes,
                             double ridge, double label_noise, dml_prediction *pred, int *npred, dml_error *err);

/** The names of arm (d, m, i) of `s`: arm (DML_ARM_MAX bytes) "<data>/<model>/<inference>" and its three parts
 *  (DML_NAME_MAX bytes each). */
void dml_arm_names(const dml_spec *s, int d, int m, int i, char *arm, char *data, char *model, char *inference);

/** A data file the runner read: its canonical path and the SHA-256 (hex) of the very bytes read. */
typedef struct {
    const char *path;
    const char *sha256;
} dml_data_file;

/** The kernel of one unit (data variant, model, repeat) as the runner found it: its content address and whether
 *  the kernel cache held it (provenance: kernel_cache). */
typedef struct {
    const char *data, *model;
    int repeat;
    const char *key;            /**< dml_tile_key, hex */
    const char *cache;          /**< "hit" (every tile stored), "partial" (some: a resumed or evicted kernel), "miss" */
    size_t tiles, stored;       /**< tiles of the kernel, and how many were stored when the unit began */
} dml_kernel_info;

/** Callbacks from the runner to whoever stores results. All may be NULL. */
typedef struct {
    void *ctx;
    /** Nonzero when the experiment should stop: checked between units of work, and inside a kernel computation
     *  (a tile, the spectrum's Gram) by the engine's threads every few pairs, so it must be thread-safe and
     *  cheap (an atomic flag). */
    int (*cancelled)(void *ctx);
    /** Nonzero when this point is already stored (a resumed run skips it). */
    int (*have_point)(void *ctx, const char *arm, size_t n_train, int repeat);
    /** Store a finished point at once; nonzero aborts the run with DML_ERR_INTERNAL. */
    int (*on_point)(void *ctx, const dml_point *p);
    /** Nonzero when the spectral readout of this arm is already stored (a resumed run skips it). */
    int (*have_spectrum)(void *ctx, const char *arm);
    /** Store the spectral readout of one kernel arm at once; nonzero aborts the run with DML_ERR_INTERNAL. */
    int (*on_spectrum)(void *ctx, const dml_arm_spectrum *sp);
    /** Data files were read (before the first point computed from them): every file of this run so far, in
     *  the order read (valid during the call only). The provenance of the results. Nonzero stops the run
     *  with `err` as the hook filled it (e.g. a resumed run whose files changed since its first points). */
    int (*on_data)(void *ctx, const dml_data_file *files, int n, dml_error *err);
    /** Nonzero when the audit cell of `arm` under `group` (a transform name) is already stored. */
    int (*have_audit)(void *ctx, const char *arm, const char *group);
    /** Store a measured audit cell at once; nonzero aborts the run with DML_ERR_INTERNAL. */
    int (*on_audit)(void *ctx, const dml_audit_entry *e);
    /** Fraction of work done (points and audit cells), in [0, 1]. */
    void (*on_progress)(void *ctx, double fraction);
    /** Threads for kernels and solves (>= 1). */
    int threads;
    /** Directory of the kernel tile files (one subdirectory per kernel, named by its key; the kernel cache), or
     *  NULL: a temporary directory under $TMPDIR (or /tmp), removed when the run ends. */
    const char *tile_dir;
    /** Bytes of finished kernels kept in tile_dir for later runs (least recently used evicted first); 0 keeps none
     *  beyond their unit (a unit's tiles stay until its points are stored, so a killed run resumes from them). */
    double cache_bytes;
    /** Rows per kernel tile; 0: about 2 s of the engine per tile (dml_tile_rows_for). */
    size_t tile_rows;
    /** The engine version of the cache key; NULL: DML_KERNEL_ENGINE (tests change it). */
    const char *engine;
    /** A kernel unit begins its tiles (valid during the call): one NNGP+NTK kernel (train x train and test x
     *  train) of a data variant, model and repeat, which serves every kernel inference entry of the unit (a ridge
     *  sweep too) and every size; info->cache says whether its tiles were stored already. */
    void (*on_kernel)(void *ctx, const dml_kernel_info *info);
    /** A tile is done (computed 1: computed now, 0: found stored), with the ETA of the unit's remaining tiles in
     *  seconds (-1 before a rate is measured). */
    void (*on_tile)(void *ctx, const dml_tile *t, int computed, double eta_seconds);
    /** A tile shard (docs/cluster.md): when tile_end > tile_first, each kernel unit whose kernel points are missing
     *  computes only its tiles numbered [tile_first, tile_end) (dml_tiling order, with tile_rows rows) into tile_dir
     *  and keeps them there (no eviction), and solves nothing: no kernel point and no readout is reported. */
    size_t tile_first, tile_end;
    /** In a tile shard: nonzero when tile t of the kernel `key` is stored elsewhere (the server has it): neither
     *  computed nor looked for (dml_kernel_unit.skip). May be NULL. */
    int (*have_tile)(void *ctx, const char *key, const dml_tile *t);
} dml_run_hooks;

/** Run every point of `s` that `have_point` does not report as stored. `s` must have been parsed with a
 *  data root (dml_spec_parse): the data files are opened inside s->data_root, read once per run (the cache
 *  re-checks them, dml_idx_acquire) and held until the run ends, so every point of one run is computed from
 *  the same bytes, those reported to on_data.
 *  Kernel arms: one NNGP+NTK computation per (data variant, model, repeat) on the largest n_train
 *  serves every size and every kernel inference entry, whatever their ridge (nested subsets, leading blocks of
 *  one Gram matrix); on a `subset: head` variant only repeat 0 is computed (dml_spec_arm_repeats). It is
 *  computed in tiles (row blocks, dmilab/tiles.h), each saved to a checksummed file in tile_dir before the next
 *  begins, so that a killed run resumes from its stored tiles; a cancel stops the tile in flight
 *  within a few pairs of the engine (dml_kernel_cancellable) and discards it. Then each
 *  kernel inference is solved on its own from the tile files (dmilab/kernel_unit.h): the packed training Gram
 *  once, the test cross-kernel streamed one tile at a time (the memory model: dml_kernel_unit_bytes).
 *  With spec.spectrum_n (docs/spectrum.md), repeat 0's unit first computes a dense Gram on dml_unit_train_points
 *  (freed before the tiles) and reports each kernel arm's spectral readout (on_spectrum) that have_spectrum does
 *  not report as stored: one eigendecomposition per kernel (NNGP, NTK) serves every arm of it, before the arms'
 *  points.
 *  The kernel tiles are freed (or kept for the cache) before the unit's trained arms run.
 *  Trained arms (gd, sgd, adam): one network per point, initialised from (seed, repeat, model index) so
 *  every method and size of a repeat starts from the same weights, trained on the first n_train images.
 *  The audit (s->audit.ngroups > 0): after the points of repeat 0 of each (data variant, model), every arm
 *  of the unit is measured under each group not yet stored (have_audit), on the first audit.n_train training
 *  points and the whole test set (dml_audit_measure; the group element drawn once per run from its seed);
 *  each cell is reported through on_audit as soon as it is measured.
 *  Returns 0 when all points are done; -1 with err (DML_ERR_CANCELLED when cancelled between units,
 *  DML_ERR_IO for missing or unreadable data, DML_ERR_NUMERIC, ...). `err` may be NULL. */
int dml_experiment_run(const dml_spec *s, const dml_run_hooks *h, dml_error *err);

#endif
