/* dmilab: the cost estimate of an experiment (the dry run of POST /api/v1/experiments and admission's
 * --max-experiment-seconds): units, kernel pairs, dual evaluations, training steps, memory and seconds. */
#ifndef DMILAB_COST_H
#define DMILAB_COST_H

#include <cjson/cJSON.h>
#include "dmilab/spec.h"

/** The estimate. Kernel arms: one unit per (data, model, repeat); seconds from measured per-entry costs of the
 *  kernel engine. Training arms: one unit per point; seconds from measured per-layer-kind training rates and
 *  optimizer costs. A rough guide (within about 2x), from rates measured on the reference machine (docs/api.md,
 *  "Submitting"). */
typedef struct {
    double points, units, kernel_pairs, dual_evaluations;
    double training_steps;   /**< optimizer steps of every trained point */
    double memory_bytes;     /**< the largest unit of work (dml_unit_memory_estimate) */
    double spectra;          /**< eigendecompositions of the spectral readout: one per kernel method, data and model */
    double spectrum_flops;   /**< their floating-point operations (dml_spectrum_flops) */
    double seconds;          /**< of the whole experiment on `threads` threads */
} dml_cost;

/** Estimate the cost of `s` on `threads` threads per unit of work (< 1: 1). Models that do not fit a data
 *  variant cost nothing there (admission refuses them). */
void dml_spec_cost(const dml_spec *s, int threads, dml_cost *out);

/** {"points", "units", "kernel_pairs", "dual_evaluations", "training_steps", "memory_bytes", "spectra",
 *  "spectrum_flops", "estimated_seconds"} (caller frees). */
cJSON *dml_cost_json(const dml_cost *c);

/** dml_cost_json of dml_spec_cost(s, threads). */
cJSON *dml_spec_cost_json(const dml_spec *s, int threads);

#endif
