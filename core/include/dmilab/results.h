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
 *  log(mse[i+1]/mse[i]) / log(n[i+1]/n[i]) (DESIGN section 1), and `repeats`, the number of points behind each
 *  mean (1 for kernel arms on a `subset: head` variant, whose repeats would be identical and are computed
 *  once: dml_spec_arm_repeats). Returns a JSON array (caller frees).
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

#endif
