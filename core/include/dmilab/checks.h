/* dmilab: user-declared checks on results, for CI (DESIGN sections 3 and 4). */
#ifndef DMILAB_CHECKS_H
#define DMILAB_CHECKS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "dmilab/experiment.h"
#include "dmilab/spec.h"

/** Evaluate every check of `s` on the stored points (any order; NULL allowed when n == 0).
 *  A check's `actual` is the mean over repeats of its metric for its arm at its n_train; with `than_arm`
 *  it is compared with the same mean of the other arm, otherwise with `value`. `==` passes when
 *  |actual - value| <= tolerance. A check whose points are missing fails with "actual": null.
 *  Returns {"id": id, "passed": bool, "checks": [{"arm", "metric", "n_train", "op", "value", "actual",
 *  "passed", ["than_arm", "tolerance"]}]} (caller frees); *all_passed (may be NULL) gets the verdict. */
cJSON *dml_checks_json(const char *id, const dml_spec *s, const dml_point *pts, size_t n, int *all_passed);

/** The same outcome as JUnit XML: one <testsuite name="dmilab checks"> with one <testcase> per check
 *  (classname = arm, name = "metric op value at n_train"), <failure> for failed ones. malloc'd string. */
char *dml_checks_junit(const char *id, const dml_spec *s, const dml_point *pts, size_t n);

/* The cost estimate of a spec (dry run) is in dmilab/cost.h. */

#endif
