/* The names of an arm of a spec's grid (arm.h). */
#include <stdio.h>
#include "dmilab/arm.h"

void dml_arm_names(const dml_spec *s, int d, int m, int i, char *arm, char *data, char *model, char *inference)
{
    snprintf(data, DML_NAME_MAX, "%s", s->data[d].name);
    snprintf(model, DML_NAME_MAX, "%s", s->models[m].name);
    snprintf(inference, DML_NAME_MAX, "%s", s->inference[i].name);
    snprintf(arm, DML_ARM_MAX, "%s/%s/%s", data, model, inference);
}
