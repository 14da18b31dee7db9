/* The spec's `audit` field (DESIGN 3, 3.1) and audit checks: parsing with defaults, and the resolved JSON. */
#include <stdio.h>
#include <string.h>
#include "dmilab/audit.h"
#include "../jfield.h"

static const char *const tf_names[] = {DML_TRANSFORMS(DML_ENUM_NAME)};

/* One group: "kind" or {"kind", "seed"}. */
static int parse_group(const cJSON *it, const char *path, uint64_t seed, dml_transform *t, dml_error *err)
{
    if (cJSON_IsString(it)) {
        for (int k = 0; k < DML_N_TRANSFORMS; k++)
            if (strcmp(it->valuestring, tf_names[k]) == 0) {
                t->kind = (dml_transform_kind)k;
                t->seed = dml_audit_group_seed(seed, t->kind);
                return 0;
            }
        return dml_fail(err, DML_ERR_INVALID_SPEC, path,
                        "%s: unknown group '%.40s' (orthogonal, permutation, local-orthogonal, channel-orthogonal, "
                        "translation, signed-permutation)", path, it->valuestring);
    }
    static const char *const keys[] = {"kind", "seed", NULL};
    if (!cJSON_IsObject(it))
        return dml_fail(err, DML_ERR_INVALID_SPEC, path, "%s must be a transform name or {\"kind\", \"seed\"}", path);
    if (jf_object(it, path, keys, err)) return -1;
    int e;
    char f[200];
    int rc = jf_enum(it, "kind", path, tf_names, DML_N_TRANSFORMS, &e, err);
    if (rc < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "kind"), "%s is required", f);
    t->kind = (dml_transform_kind)e;
    long long v;
    if ((rc = jf_int(it, "seed", path, 0, 9007199254740992LL, &v, err)) < 0) return -1;
    t->seed = rc ? (uint64_t)v : dml_audit_group_seed(seed, t->kind);
    return 0;
}

int dml_audit_spec_parse(const cJSON *o, dml_spec *s, dml_error *err)
{
    dml_audit_spec *a = &s->audit;
    memset(a, 0, sizeof *a);
    if (!o) return 0;
    static const char *const keys[] = {"groups", "n_train", "seeds", NULL};
    if (jf_object(o, "audit", keys, err)) return -1;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "groups");
    if (!cJSON_IsArray(g) || cJSON_GetArraySize(g) < 1 || cJSON_GetArraySize(g) > DML_N_TRANSFORMS)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "audit.groups", "audit.groups must be a list of 1 to %d groups",
                        DML_N_TRANSFORMS);
    char f[64];
    for (const cJSON *it = g->child; it; it = it->next, a->ngroups++) {
        snprintf(f, sizeof f, "audit.groups[%d]", a->ngroups);
        if (parse_group(it, f, s->seed, &a->groups[a->ngroups], err)) return -1;
        for (int k = 0; k < a->ngroups; k++)
            if (a->groups[k].kind == a->groups[a->ngroups].kind)
                return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s: group '%s' appears twice", f,
                                tf_names[a->groups[k].kind]);
    }
    /* n_train: at most every variant's largest size */
    size_t cap = (size_t)-1, dflt = (size_t)-1;
    for (int d = 0; d < s->ndata; d++) {
        const dml_data_spec *ds = &s->data[d];
        size_t best = ds->n_train[0];
        for (int k = 0; k < ds->nn_train; k++)
            if (ds->n_train[k] <= 1000) best = ds->n_train[k];
        if (best < dflt) dflt = best;
        if (ds->n_train[ds->nn_train - 1] < cap) cap = ds->n_train[ds->nn_train - 1];
    }
    long long v;
    int rc = jf_int(o, "n_train", "audit", 1, 1LL << 50, &v, err);
    if (rc < 0) return -1;
    if (rc && (size_t)v > cap)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "audit.n_train",
                        "audit.n_train %lld is above the largest n_train of a data variant (%zu)", v, cap);
    a->n_train = rc ? (size_t)v : dflt;
    a->seeds = 8;
    if ((rc = jf_int(o, "seeds", "audit", 1, 256, &v, err)) < 0) return -1;
    if (rc) a->seeds = (int)v;
    return 0;
}

cJSON *dml_audit_spec_json(const dml_spec *s)
{
    const dml_audit_spec *a = &s->audit;
    if (!a->ngroups) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *g = cJSON_AddArrayToObject(o, "groups");
    for (int k = 0; k < a->ngroups; k++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "kind", tf_names[a->groups[k].kind]);
        cJSON_AddNumberToObject(t, "seed", (double)a->groups[k].seed);
        cJSON_AddItemToArray(g, t);
    }
    cJSON_AddNumberToObject(o, "n_train", (double)a->n_train);
    cJSON_AddNumberToObject(o, "seeds", a->seeds);
    return o;
}

int dml_audit_check_parse(const cJSON *o, const char *path, const dml_spec *s, dml_check *c, dml_error *err)
{
    static const char *const keys[] = {"audit", "op", "value", NULL};
    static const char *const akeys[] = {"arm", "group", NULL};
    char f[200], ap[200];
    memset(c, 0, sizeof *c);
    c->audit = 1;
    c->op = DML_OP_EQ;
    if (jf_object(o, path, keys, err)) return -1;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "audit");
    jf_path(ap, sizeof ap, path, "audit");
    if (!s->audit.ngroups)
        return dml_fail(err, DML_ERR_INVALID_SPEC, ap, "%s: the experiment has no audit (add an \"audit\" field)", ap);
    if (jf_object(a, ap, akeys, err)) return -1;
    int rc = jf_string(a, "arm", ap, c->arm, sizeof c->arm, err);
    if (rc < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, ap, "arm"), "%s is required", f);
    if (dml_spec_arm_data(s, c->arm) < 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, ap, "arm"),
                        "arm '%s' is not in the experiment's grid (arms are <data>/<model>/<inference>)", c->arm);
    int e;
    if ((rc = jf_enum(a, "group", ap, tf_names, DML_N_TRANSFORMS, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, ap, "group"), "%s is required", f);
    c->group = (dml_transform_kind)e;
    int found = 0;
    for (int k = 0; k < s->audit.ngroups; k++) found |= s->audit.groups[k].kind == c->group;
    if (!found)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, ap, "group"),
                        "group '%s' is not among audit.groups", tf_names[e]);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(o, "op");
    if (!cJSON_IsString(op) || strcmp(op->valuestring, "==") != 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "op"),
                        "%s must be \"==\" for an audit check", f);
    int b;
    if ((rc = jf_bool(o, "value", path, &b, err)) < 0) return -1;
    if (rc == 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "value"),
                        "%s is required: true (invariant) or false", f);
    c->value = b;
    return 0;
}
