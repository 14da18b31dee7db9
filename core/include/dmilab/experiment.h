/* dmilab: running an experiment (the full grid of arms, sizes and repeats), independent of any
 * server: the worker boundary is dml_run_hooks (run_hooks.h: claim nothing, report points and
 * progress, honour cancel), so a worker can live in another process or machine. */
#ifndef DMILAB_EXPERIMENT_H
#define DMILAB_EXPERIMENT_H

#include <stddef.h>
#include "dmilab/arm.h"
#include "dmilab/error.h"
#include "dmilab/readout.h"
#include "dmilab/run_hooks.h"
#include "dmilab/spec.h"

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
