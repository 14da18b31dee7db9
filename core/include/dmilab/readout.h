/* dmilab: the spectral readout of a kernel arm (docs/spectrum.md): the record the runner reports for it and the
 * learning curve an arm's spectrum predicts. */
#ifndef DMILAB_READOUT_H
#define DMILAB_READOUT_H

#include <stddef.h>
#include "dmilab/arm.h"
#include "dmilab/error.h"
#include "dmilab/spec.h"
#include "dmilab/spectrum.h"

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

#endif
