/* The model object of the spec and of the kernel request: parsing with defaults, and back to JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dmilab/model_json.h"
#include "../jfield.h"

static const char *const model_keys[] = {"name", "arch", "depth", "width", "activation", "w_std", "b_std",
                                         "readout_w_std", "readout_b_std", "filter", "stride", "padding",
                                         "parameterization", NULL};

int dml_model_parse(const cJSON *obj, const char *path, dml_model *m, dml_error *err)
{
    dml_model_defaults(m);
    if (jf_object(obj, path, model_keys, err)) return -1;
    static const char *const archs[] = {"fcn", "lcn", "cnn-vec", "cnn-gap"};
    static const char *const acts[] = {"relu", "erf"};
    static const char *const pads[] = {"same", "valid", "circular"};
    static const char *const params[] = {"ntk", "standard"};
    int e, rc;
    long long v;
    char f[200];
    if ((rc = jf_enum(obj, "arch", path, archs, 4, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "arch"),
                                 "%s is required (fcn, lcn, cnn-vec or cnn-gap)", f);
    m->arch = (dml_arch)e;
    rc = jf_string(obj, "name", path, m->name, sizeof m->name, err);
    if (rc < 0) return -1;
    if (rc == 1 && !jf_valid_name(m->name))
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "name"),
                        "names are 1 to 64 of letters, digits, '-', '_', '.'");
    if (jf_int(obj, "depth", path, 0, 1000000, &v, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "depth")) m->depth = (int)v;
    if (jf_int(obj, "width", path, 1, DML_WIDTH_MAX, &v, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "width")) m->width = (int)v;
    if (jf_enum(obj, "activation", path, acts, 2, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "activation")) m->activation = (dml_activation)e;
    if (jf_number(obj, "w_std", path, 0, 1e6, &m->w_std, err) < 0) return -1;
    if (jf_number(obj, "b_std", path, 0, 1e6, &m->b_std, err) < 0) return -1;
    if (jf_number(obj, "readout_w_std", path, 0, 1e6, &m->readout_w_std, err) < 0) return -1;
    if (jf_number(obj, "readout_b_std", path, 0, 1e6, &m->readout_b_std, err) < 0) return -1;
    long long lst[DML_MAX_SPATIAL];
    int n;
    if ((rc = jf_int_list(obj, "filter", path, DML_MAX_SPATIAL, 1, 64, lst, &n, err)) < 0) return -1;
    if (rc) {
        m->nfilter = n;
        for (int a = 0; a < DML_MAX_SPATIAL; a++) m->filter[a] = (int)lst[a < n ? a : 0];
    }
    if ((rc = jf_int_list(obj, "stride", path, DML_MAX_SPATIAL, 1, 64, lst, &n, err)) < 0) return -1;
    if (rc) {
        m->nstride = n;
        for (int a = 0; a < DML_MAX_SPATIAL; a++) m->stride[a] = (int)lst[a < n ? a : 0];
    }
    if (jf_enum(obj, "padding", path, pads, 3, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "padding")) m->padding = (dml_padding)e;
    if (jf_enum(obj, "parameterization", path, params, 2, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "parameterization")) m->parameterization = (dml_parameterization)e;
    return 0;
}

static cJSON *int_list(const int *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

cJSON *dml_model_json(const dml_model *m)
{
    cJSON *o = cJSON_CreateObject();
    if (m->name[0]) cJSON_AddStringToObject(o, "name", m->name);
    cJSON_AddStringToObject(o, "arch", dml_arch_name(m->arch));
    cJSON_AddNumberToObject(o, "depth", m->depth);
    cJSON_AddNumberToObject(o, "width", m->width);
    cJSON_AddStringToObject(o, "activation", dml_activation_name(m->activation));
    cJSON_AddNumberToObject(o, "w_std", m->w_std);
    cJSON_AddNumberToObject(o, "b_std", m->b_std);
    cJSON_AddNumberToObject(o, "readout_w_std", m->readout_w_std);
    cJSON_AddNumberToObject(o, "readout_b_std", m->readout_b_std);
    if (m->arch != DML_ARCH_FCN) {
        cJSON_AddItemToObject(o, "filter", int_list(m->filter, m->nfilter > 1 ? m->nfilter : 1));
        cJSON_AddItemToObject(o, "stride", int_list(m->stride, m->nstride > 1 ? m->nstride : 1));
        cJSON_AddStringToObject(o, "padding", dml_padding_name(m->padding));
    }
    cJSON_AddStringToObject(o, "parameterization", m->parameterization == DML_PARAM_NTK ? "ntk" : "standard");
    return o;
}
