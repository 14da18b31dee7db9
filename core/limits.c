/* The names of the limits (dmilab/limits.h), generated from the one list DML_LIMITS, and the limits of one
 * model (shared by spec admission and the kernel request). */
#include <stdio.h>
#include "dmilab/limits.h"

const char *dml_limit_name(dml_limit_id id)
{
#define NAME_(id, name) name,
    static const char *const names[] = {"", DML_LIMITS(NAME_)};
#undef NAME_
    return (unsigned)id < DML_LIMIT_COUNT ? names[id] : "";
}

int dml_model_admit(const dml_model *m, const char *path, const dml_limits *lim, dml_error *err)
{
    char f[200];
    if (lim && lim->max_depth > 0 && m->depth > lim->max_depth)
        return dml_fail_limit(err, DML_LIMIT_DEPTH, path[0] ? (snprintf(f, sizeof f, "%s.depth", path), f) : "depth",
                              "%s is %d, above the limit %d", path[0] ? f : "depth", m->depth, lim->max_depth);
    if (lim && lim->max_width > 0 && m->width > lim->max_width)
        return dml_fail_limit(err, DML_LIMIT_WIDTH, path[0] ? (snprintf(f, sizeof f, "%s.width", path), f) : "width",
                              "%s is %d, above the limit %d", path[0] ? f : "width", m->width, lim->max_width);
    return 0;
}
