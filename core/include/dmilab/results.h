/* dmilab: results of an experiment as the API shows them: points and learning curves. */
#ifndef DMILAB_RESULTS_H
#define DMILAB_RESULTS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "dmilab/experiment.h"
#include "dmilab/json.h"   /* dml_format_double: the numbers of every output */

/** Learning curves of the given points (any order): one curve per arm (in order of first appearance),
 *  sizes ascending, with mean and sample standard deviation over repeats (0 with one repeat) of test MSE
 *  and test accuracy, and the local exponent between neighbouring sizes,
 *  log(mse[i+1]/mse[i]) / log(n[i+1]/n[i]) (DESIGN section 1). Returns a JSON array (caller frees).
 *  `pts` may be NULL when n == 0 (as for every function below). */
cJSON *dml_curves_json(const dml_point *pts, size_t n);

/** `{"id": id, "points": [...], "curves": [...]}` (DESIGN section 4). */
cJSON *dml_results_json(const char *id, const dml_point *pts, size_t n);

/** One point as a JSON object with the contract field names ("training_curve" for trained arms). */
cJSON *dml_point_json(const dml_point *p);

/** A training curve as the API shows it: [{"epoch", "train_loss", "test_mse", "test_accuracy"}], the test
 *  metrics only on the epochs where they were evaluated. */
cJSON *dml_training_curve_json(const dml_train_epoch *c, int n);

/** The inverse of dml_training_curve_json: a malloc'd array in *out (count in *n). Returns 0, or -1 when
 *  `a` is not such an array (then *out is NULL). Missing numbers read as NaN. */
int dml_training_curve_parse(const cJSON *a, dml_train_epoch **out, int *n);

/** CSV, one row per point, numbers as dml_format_double (dmilab/json.h) prints them, so they equal the
 *  JSON results' digit for digit, header `arm,data,model,inference,n_train,repeat,test_mse,test_accuracy,train_mse,seconds`.
 *  Returns a malloc'd NUL-terminated string. */
char *dml_results_csv(const dml_point *pts, size_t n);

/* ---- the spectral readout (docs/spectrum.md) ---- */

/** One kernel arm's readout as the API shows it: {"arm", "data", "model", "inference", "n" (N, the spectrum's
 *  points), "outputs", "ridge", "label_noise", "trace", "target_power", "alignment", "effective_dimension",
 *  "seconds", "modes": {"thinned", "mode" (1-based mode numbers), "eigenvalue", "power", "cumulative"},
 *  "predicted": [{"n_train", "test_mse", "train_mse", "delta", "kappa", "learned", "e0"}]}. The modes are every
 *  one of the N, or with 2 <= max_points < N the dml_spectrum_thin selection (log-spaced, first and last kept).
 *  NaN prints as null. Returns NULL when out of memory. */
cJSON *dml_arm_spectrum_json(const dml_arm_spectrum *a, size_t max_points);

/** An arm's predicted curve as JSON, [{"n_train", "test_mse", "train_mse", "delta", "kappa", "learned", "e0"}]. */
cJSON *dml_predictions_json(const dml_prediction *p, int n);

/** The inverse of dml_predictions_json into out[0..max): the count, or -1 when `a` is not such an array or holds
 *  more than max entries. Missing numbers read as NaN. */
int dml_predictions_parse(const cJSON *a, dml_prediction *out, int max);

/** A JSON array of dml_arm_spectrum_json of v[0..n) (NULL when out of memory). */
cJSON *dml_spectra_json(const dml_arm_spectrum *v, size_t n, size_t max_points);

/** CSV of the modes, one row per arm and kept mode (thinned as dml_arm_spectrum_json), header
 *  `arm,data,model,inference,mode,eigenvalue,power,cumulative`, numbers as dml_format_double prints them.
 *  Returns a malloc'd string, NULL when out of memory. */
char *dml_spectra_csv(const dml_arm_spectrum *v, size_t n, size_t max_points);

/** Add "predicted_test_mse" and "predicted_train_mse" to each curve of `curves` (dml_curves_json) whose arm has a
 *  readout in v[0..n): one entry per n_train of the curve, the prediction at that size, null where there is none
 *  (n_train beyond the spectrum's N). Curves of other arms are left as they are. */
void dml_curves_add_predicted(cJSON *curves, const dml_arm_spectrum *v, size_t n);

#endif
