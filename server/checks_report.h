/* dmilab: the failing checks of a checks object on a stream, one line each, for `dmilab run` and `dmilab submit`. */
#ifndef DMILAB_SERVER_CHECKS_REPORT_H
#define DMILAB_SERVER_CHECKS_REPORT_H

#include <stdio.h>
#include <cjson/cJSON.h>

/** For each check of `checks` ({"checks": [{"arm", "metric", "n_train", "op", "value", "actual", "passed", ...}]}, as
 *  dml_checks_json and GET /checks give it) that did not pass, print
 *  "PROG: check failed: ARM METRIC at n_train N: actual A, expected OP V" (with "than ARM2" for a comparison of two
 *  arms, "(tolerance T)" for ==, "actual none" when its points are missing), and for an audit check
 *  "PROG: check failed: ARM invariant under GROUP: actual A, expected V". Returns the number printed. */
int checks_report(FILE *f, const char *prog, const cJSON *checks);

#endif
