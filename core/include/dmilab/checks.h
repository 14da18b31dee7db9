/* dmilab: user-declared checks on results, for CI (DESIGN sections 3 and 4). */
#ifndef DMILAB_CHECKS_H
#define DMILAB_CHECKS_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "dmilab/experiment.h"
#include "dmilab/audit.h"
#include "dmilab/spec.h"

/** Where the experiment whose checks are evaluated stands (DESIGN section 4, experiment status). */
typedef enum {
    DML_CHECKS_FINAL = 0,    /**< it succeeded: the checks are its verdict */
    DML_CHECKS_FAILED,       /**< it failed: the verdict is false whatever the checks say of the stored points */
    DML_CHECKS_CANCELLED,    /**< it was cancelled: the verdict is false */
    DML_CHECKS_PENDING       /**< queued or running: no verdict yet */
} dml_checks_state;

/** Evaluate every check of `s` on the stored points (any order; NULL allowed when n == 0).
 *  A check's `actual` is the mean over repeats of its metric for its arm at its n_train; with `than_arm`
 *  it is compared with the same mean of the other arm, otherwise with `value`. `==` passes when
 *  |actual - value| <= tolerance. A check whose points are missing fails with "actual": null.
 *  Returns {"id": id, "passed": true | false | null, "checks": [{"arm", "metric", "n_train", "op", "value", "actual",
 *  "passed", ["than_arm", "tolerance"]}]} (caller frees; NULL when out of memory). "passed" is the verdict: with
 *  DML_CHECKS_FINAL whether every check passed, false for DML_CHECKS_FAILED and DML_CHECKS_CANCELLED (also with no
 *  checks at all), null for DML_CHECKS_PENDING. *verdict (may be NULL) gets 1, 0 or -1 (null).
 *  An audit check (c->audit) is evaluated on the audit cells `aud` (na of them; NULL allowed when na == 0): its
 *  entry is {"audit": {"arm", "group"}, "op": "==", "value": bool, "actual": the verdict (null when the cell is
 *  not stored), "method", "gap", "passed"}. */
cJSON *dml_checks_json(const char *id, const dml_spec *s, const dml_point *pts, size_t n, const dml_audit_entry *aud,
                       size_t na, dml_checks_state state, int *verdict);

/** The same outcome as JUnit XML: one <testsuite name="dmilab checks"> with one <testcase> per check
 *  (classname = arm, name = "metric op value at n_train"), <failure message="actual A, expected OP V"> for failed
 *  ones; unless `state` is DML_CHECKS_FINAL, one more testcase (classname "experiment") holding an <error> whose
 *  message is `error` (the experiment's error message; NULL allowed) or says that it was cancelled or has not ended,
 *  so that a CI never reads an unfinished or failed experiment as green. malloc'd string, NULL when out of memory. */
char *dml_checks_junit(const char *id, const dml_spec *s, const dml_point *pts, size_t n, const dml_audit_entry *aud,
                       size_t na, dml_checks_state state, const char *error);

/* The cost estimate of a spec (dry run) is in dmilab/cost.h. */

#endif
