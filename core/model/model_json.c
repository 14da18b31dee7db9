/* The model object of the spec and of the kernel request: parsing with defaults (a preset `arch`, or an
 * explicit `layers` list), and back to JSON with every default filled in. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dmilab/model_json.h"
#include "../jfield.h"

static const char *const model_keys[] = {"name", "arch", "depth", "width", "activation", "w_std", "b_std",
                                         "readout_w_std", "readout_b_std", "filter", "stride", "padding",
                                         "parameterization", "kernel_precision", "layers", NULL};

/* ---- layer lists ---- */

/* A layer's key in a spec: the kind word, and the layer kind (and activation) it stands for. */
typedef struct {
    const char *word;
    dml_layer_kind kind;
    dml_activation activation;
    const char *const *keys;   /* the fields its object takes */
} layer_word;

static const char *const dense_keys[] = {"width", "w_std", "b_std", NULL};
static const char *const readout_keys[] = {"w_std", "b_std", NULL};
static const char *const conv_keys[] = {"width", "filter", "stride", "padding", "w_std", "b_std", NULL};
static const char *const pool_keys[] = {"window", "stride", "padding", NULL};
static const char *const no_keys[] = {NULL};

#define ACT_WORD(id, name) {name, DML_LAYER_ACT, id, no_keys},
static const layer_word words[] = {
    {"dense", DML_LAYER_DENSE, 0, dense_keys},
    {"conv", DML_LAYER_CONV, 0, conv_keys},
    {"conv-local", DML_LAYER_CONV_LOCAL, 0, conv_keys},
    DML_ACTIVATIONS(ACT_WORD)
    {"flatten", DML_LAYER_FLATTEN, 0, no_keys},
    {"gap", DML_LAYER_GAP, 0, no_keys},
    {"avg-pool", DML_LAYER_AVG_POOL, 0, pool_keys},
};
#define NWORDS ((int)(sizeof words / sizeof words[0]))

static const layer_word *word_of(const dml_layer_spec *s)
{
    for (int i = 0; i < NWORDS; i++)
        if (words[i].kind == (s->kind == DML_LAYER_READOUT ? DML_LAYER_DENSE : s->kind) &&
            (s->kind != DML_LAYER_ACT || words[i].activation == s->activation))
            return &words[i];
    return NULL;
}

static int int_list_field(const cJSON *o, const char *key, const char *path, int *v, int *n, dml_error *err)
{
    long long lst[DML_MAX_SPATIAL];
    int k, rc = jf_int_list(o, key, path, DML_MAX_SPATIAL, 1, 64, lst, &k, err);
    if (rc <= 0) return rc;
    *n = k;
    for (int a = 0; a < DML_MAX_SPATIAL; a++) v[a] = (int)lst[a < k ? a : 0];
    return 1;
}

/* One layer {"<kind>": {fields}} at `path` ("models[0].layers[3]"), its fields defaulting to the model's. */
static int parse_layer(const cJSON *o, const char *path, int last, const dml_model *m, dml_layer_spec *s, dml_error *err)
{
    char f[200];
    if (!cJSON_IsObject(o) || !o->child || o->child->next)
        return dml_fail(err, DML_ERR_INVALID_SPEC, path,
                        "%s must be an object with one key, the layer's kind (dense, conv, conv-local, relu, erf, "
                        "flatten, gap, avg-pool), e.g. {\"conv\": {\"filter\": [3, 3]}}", path);
    const cJSON *body = o->child;
    const layer_word *w = NULL;
    for (int i = 0; i < NWORDS && !w; i++)
        if (strcmp(body->string, words[i].word) == 0) w = &words[i];
    if (!w)
        return dml_fail(err, DML_ERR_INVALID_SPEC, path,
                        "unknown layer kind '%s' (dense, conv, conv-local, relu, erf, flatten, gap, avg-pool)",
                        body->string);
    jf_path(f, sizeof f, path, body->string);
    int readout = last && w->kind == DML_LAYER_DENSE;
    if (last && !readout)
        return dml_fail(err, DML_ERR_INVALID_SPEC, path,
                        "the last layer must be dense: the readout to the outputs (its width is the number of outputs)");
    char g[220];
    if (readout && cJSON_GetObjectItemCaseSensitive(body, "width"))
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(g, sizeof g, f, "width"),
                        "the last dense layer is the readout: its width is the number of outputs");
    if (jf_object(body, f, readout ? readout_keys : w->keys, err)) return -1;
    *s = dml_layer_spec_from_model(m, readout ? DML_LAYER_READOUT : w->kind);
    s->activation = w->kind == DML_LAYER_ACT ? w->activation : s->activation;
    long long v;
    int rc;
    if ((rc = jf_int(body, "width", f, 1, DML_WIDTH_MAX, &v, err)) < 0) return -1;
    if (rc) s->width = (int)v;
    if (jf_number(body, "w_std", f, 0, 1e6, &s->w_std, err) < 0) return -1;
    if (jf_number(body, "b_std", f, 0, 1e6, &s->b_std, err) < 0) return -1;
    if (int_list_field(body, "filter", f, s->filter, &s->nfilter, err) < 0) return -1;
    if (int_list_field(body, "stride", f, s->stride, &s->nstride, err) < 0) return -1;
    if (w->kind == DML_LAYER_AVG_POOL) {
        /* Neural Tangents' AvgPool: the window is required (no model field gives it) */
        if ((rc = int_list_field(body, "window", f, s->filter, &s->nfilter, err)) < 0) return -1;
        if (rc == 0)
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(g, sizeof g, f, "window"),
                            "%s is required: the pooling window, one entry per spatial axis or one for all", g);
    }
    int e;
    if ((rc = jf_enum(body, "padding", f, dml_padding_names, DML_NPADDINGS, &e, err)) < 0) return -1;
    if (rc) s->padding = (dml_padding)e;
    return 0;
}

static int parse_layers(const cJSON *jl, const char *path, dml_model *m, dml_error *err)
{
    char f[200], g[220];
    jf_path(f, sizeof f, path, "layers");
    int n = cJSON_GetArraySize(jl);
    if (!cJSON_IsArray(jl) || n < 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be a non-empty list of layers", f);
    if (n > DML_MAX_LAYERS)
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s has %d layers, more than %d", f, n, DML_MAX_LAYERS);
    dml_layer_spec list[DML_MAX_LAYERS];
    int i = 0;
    for (const cJSON *it = jl->child; it; it = it->next, i++)
        if (parse_layer(it, jf_index(g, sizeof g, f, i), i == n - 1, m, &list[i], err)) return -1;
    memcpy(m->layers, list, sizeof *list * (size_t)n);
    m->nlayers = n;
    m->arch = DML_ARCH_LAYERS;
    return 0;
}

/* ---- the model ---- */

int dml_model_parse(const cJSON *obj, const char *path, dml_model *m, dml_error *err)
{
    dml_model_defaults(m);
    if (jf_object(obj, path, model_keys, err)) return -1;
    int e, rc;
    long long v;
    char f[200];
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(obj, "layers");
    if ((rc = jf_enum(obj, "arch", path, dml_arch_names, DML_NARCHS, &e, err)) < 0) return -1;
    int has_arch = rc;
    if (!has_arch && !jl)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "arch"),
                        "%s is required (fcn, lcn, cnn-vec or cnn-gap), or an explicit list of layers", f);
    if (has_arch && jl)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "layers"),
                        "give either arch (a preset) or layers (a list of one's own), not both");
    if (has_arch) m->arch = (dml_arch)e;
    if (!has_arch)
        for (int k = 0; k < 2; k++) {
            const char *preset_only = k ? "activation" : "depth";
            if (cJSON_GetObjectItemCaseSensitive(obj, preset_only))
                return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, preset_only),
                                "%s applies to an arch preset; a layer list gives its layers (and activations) "
                                "one by one", f);
        }
    rc = jf_string(obj, "name", path, m->name, sizeof m->name, err);
    if (rc < 0) return -1;
    if (rc == 1 && !jf_valid_name(m->name))
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "name"),
                        "names are 1 to 64 of letters, digits, '-', '_', '.'");
    if (jf_int(obj, "depth", path, 0, 1000000, &v, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "depth")) m->depth = (int)v;
    if (jf_int(obj, "width", path, 1, DML_WIDTH_MAX, &v, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "width")) m->width = (int)v;
    if (jf_enum(obj, "activation", path, dml_activation_names, DML_NACTIVATIONS, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "activation")) m->activation = (dml_activation)e;
    if (jf_number(obj, "w_std", path, 0, 1e6, &m->w_std, err) < 0) return -1;
    if (jf_number(obj, "b_std", path, 0, 1e6, &m->b_std, err) < 0) return -1;
    if (jf_number(obj, "readout_w_std", path, 0, 1e6, &m->readout_w_std, err) < 0) return -1;
    if (jf_number(obj, "readout_b_std", path, 0, 1e6, &m->readout_b_std, err) < 0) return -1;
    if (int_list_field(obj, "filter", path, m->filter, &m->nfilter, err) < 0) return -1;
    if (int_list_field(obj, "stride", path, m->stride, &m->nstride, err) < 0) return -1;
    if (jf_enum(obj, "padding", path, dml_padding_names, DML_NPADDINGS, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "padding")) m->padding = (dml_padding)e;
    if (jf_enum(obj, "parameterization", path, dml_parameterization_names, DML_NPARAMETERIZATIONS, &e, err) < 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "parameterization")) m->parameterization = (dml_parameterization)e;
    if (jf_enum(obj, "kernel_precision", path, dml_kernel_precision_names, DML_NKERNEL_PRECISIONS, &e, err) < 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(obj, "kernel_precision")) m->kernel_precision = (dml_kernel_precision)e;
    if (jl && parse_layers(jl, path, m, err)) return -1;
    return 0;
}

static cJSON *int_list(const int *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

/* {"<kind>": {every field the kind takes}} */
static cJSON *layer_json(const dml_layer_spec *s)
{
    const layer_word *w = word_of(s);
    cJSON *o = cJSON_CreateObject(), *b = cJSON_AddObjectToObject(o, w ? w->word : "?");
    int windowed = s->kind == DML_LAYER_CONV || s->kind == DML_LAYER_CONV_LOCAL || s->kind == DML_LAYER_AVG_POOL;
    int affine = s->kind == DML_LAYER_DENSE || s->kind == DML_LAYER_CONV || s->kind == DML_LAYER_CONV_LOCAL ||
                 s->kind == DML_LAYER_READOUT;
    if (affine && s->kind != DML_LAYER_READOUT) cJSON_AddNumberToObject(b, "width", s->width);
    if (windowed) {
        cJSON_AddItemToObject(b, s->kind == DML_LAYER_AVG_POOL ? "window" : "filter",
                              int_list(s->filter, s->nfilter > 1 ? s->nfilter : 1));
        cJSON_AddItemToObject(b, "stride", int_list(s->stride, s->nstride > 1 ? s->nstride : 1));
        cJSON_AddStringToObject(b, "padding", dml_padding_name(s->padding));
    }
    if (affine) {
        cJSON_AddNumberToObject(b, "w_std", s->w_std);
        cJSON_AddNumberToObject(b, "b_std", s->b_std);
    }
    return o;
}

cJSON *dml_model_json(const dml_model *m)
{
    cJSON *o = cJSON_CreateObject();
    if (m->name[0]) cJSON_AddStringToObject(o, "name", m->name);
    if (m->nlayers > 0) {
        /* a list of its own: every layer with every field (the model's fields are folded into them) */
        cJSON *layers = cJSON_AddArrayToObject(o, "layers");
        for (int i = 0; i < m->nlayers; i++) cJSON_AddItemToArray(layers, layer_json(&m->layers[i]));
        cJSON_AddStringToObject(o, "parameterization", dml_parameterization_name(m->parameterization));
        cJSON_AddStringToObject(o, "kernel_precision", dml_kernel_precision_name(m->kernel_precision));
        return o;
    }
    /* a preset: its arch and fields, which define its list (dml_model_layer_specs, docs/spec.md) */
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
    cJSON_AddStringToObject(o, "parameterization", dml_parameterization_name(m->parameterization));
    cJSON_AddStringToObject(o, "kernel_precision", dml_kernel_precision_name(m->kernel_precision));
    return o;
}
