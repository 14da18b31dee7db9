/* dmilab: the worker boundary of the runner (dml_experiment_run, experiment.h): the records it reports (points,
 * data files read, kernel units; spectral readouts, readout.h; audit cells, audit.h) and the callbacks
 * dml_run_hooks that store them, take progress and tiles, and ask for a cancel. */
#ifndef DMILAB_RUN_HOOKS_H
#define DMILAB_RUN_HOOKS_H

#include <stddef.h>
#include "dmilab/arm.h"
#include "dmilab/audit.h"
#include "dmilab/error.h"
#include "dmilab/nn.h"
#include "dmilab/readout.h"
#include "dmilab/tiles.h"

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

#endif
