/* The names of the limits (dmilab/limits.h), generated from the one list DML_LIMITS. */
#include "dmilab/limits.h"

const char *dml_limit_name(dml_limit_id id)
{
#define NAME_(id, name) name,
    static const char *const names[] = {"", DML_LIMITS(NAME_)};
#undef NAME_
    return (unsigned)id < DML_LIMIT_COUNT ? names[id] : "";
}
