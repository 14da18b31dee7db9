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

/* "path.key", or "key" when path is empty. */
static const char *field_of(char *f, size_t size, const char *path, const char *key)
{
    snprintf(f, size, "%s%s%s", path, path[0] ? "." : "", key);
    return f;
}

int dml_model_admit(const dml_model *m, const char *path, const dml_limits *lim, dml_error *err)
{
    char f[200], key[64];
    if (!lim) return 0;
    if (m->nlayers > 0) {
        /* a list: its hidden dense/conv/conv-local layers are the depth, each of their widths a width */
        int hidden = 0;
        for (int i = 0; i < m->nlayers; i++) {
            const dml_layer_spec *s = &m->layers[i];
            if (s->kind != DML_LAYER_DENSE && s->kind != DML_LAYER_CONV && s->kind != DML_LAYER_CONV_LOCAL) continue;
            hidden++;
            if (lim->max_width > 0 && s->width > lim->max_width) {
                snprintf(key, sizeof key, "layers[%d].%s.width", i, dml_layer_kind_name(s->kind));
                return dml_fail_limit(err, DML_LIMIT_WIDTH, field_of(f, sizeof f, path, key),
                                      "%s is %d, above the limit %d", f, s->width, lim->max_width);
            }
        }
        if (lim->max_depth > 0 && hidden > lim->max_depth)
            return dml_fail_limit(err, DML_LIMIT_DEPTH, field_of(f, sizeof f, path, "layers"),
                                  "%s has %d hidden dense/conv layers, above the depth limit %d", f, hidden,
                                  lim->max_depth);
        return 0;
    }
    if (lim->max_depth > 0 && m->depth > lim->max_depth)
        return dml_fail_limit(err, DML_LIMIT_DEPTH, field_of(f, sizeof f, path, "depth"), "%s is %d, above the limit %d",
                              f, m->depth, lim->max_depth);
    if (lim->max_width > 0 && m->width > lim->max_width)
        return dml_fail_limit(err, DML_LIMIT_WIDTH, field_of(f, sizeof f, path, "width"), "%s is %d, above the limit %d",
                              f, m->width, lim->max_width);
    return 0;
}
