/* dmilab: the names of an arm, one (data variant, model, inference) cell of a spec's grid (DESIGN section 4),
 * as the runner reports them and the results, the store and the checks key on them. */
#ifndef DMILAB_ARM_H
#define DMILAB_ARM_H

#include "dmilab/model.h"
#include "dmilab/spec.h"

/** Bytes of an arm's name "<data>/<model>/<inference>": three names and two slashes, with the NUL. */
#define DML_ARM_MAX (3 * DML_NAME_MAX + 2)

/** The names of arm (d, m, i) of `s` (data variant d, model m, inference entry i, indices after sweep
 *  expansion): arm (DML_ARM_MAX bytes) "<data>/<model>/<inference>" and its three parts (DML_NAME_MAX bytes
 *  each). No error: the names of a parsed spec always fit. */
void dml_arm_names(const dml_spec *s, int d, int m, int i, char *arm, char *data, char *model, char *inference);

#endif
