/* dmilab internal: the runner's spectral readout stage (docs/spectrum.md): the spectrum of each kernel arm of one
 * unit and the learning curve it predicts, reported through the run hooks. */
#ifndef DMILAB_READOUT_STAGE_H
#define DMILAB_READOUT_STAGE_H

#include <stddef.h>
#include "dmilab/data.h"
#include "dmilab/error.h"
#include "dmilab/run_hooks.h"
#include "dmilab/spec.h"

/** The spectral readout of the kernel arms of unit (data d, model m) in repeat 0, from the unit's Gram matrices
 *  Knn (NNGP) and Tnn (NTK), row-major with leading dimension ldk >= s->spectrum_n, on the training set tr (its
 *  first spectrum_n points and targets). Arms that h->have_spectrum reports stored are skipped; a kernel no
 *  missing arm uses is not decomposed. Each arm's readout goes to h->on_spectrum at once. Returns 0 (also when
 *  the spec asks for no spectrum), or -1 with err: DML_ERR_CANCELLED, the spectrum's errors (field "spectrum"),
 *  a prediction's (field of the arm's ridge), DML_ERR_INTERNAL when on_spectrum fails. */
int dml_readout_stage(const dml_spec *s, int d, int m, const double *Knn, const double *Tnn, size_t ldk,
                      const dml_dataset *tr, const dml_run_hooks *h, dml_error *err);

/** Whether unit (d, m) of repeat `repeat` has a kernel arm whose readout is not stored. */
int dml_readout_missing(const dml_spec *s, int d, int m, int repeat, const dml_run_hooks *h);

#endif
