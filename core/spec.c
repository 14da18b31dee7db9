/* The experiment specification v1 (DESIGN section 3): parse, resolve defaults, names and input shapes, and
 * print the resolved spec. Server limits are checked apart, by admission (admission.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/data.h"
#include "dmilab/json.h"
#include "dmilab/model_json.h"
#include "dmilab/audit.h"
#include "dmilab/spec.h"
#include "jfield.h"
#include "spec_data.h"
#include "spec_sweep.h"

static const char *const method_names[] = {DML_METHODS(DML_ENUM_NAME)};
static const char *const metric_names[] = {DML_METRICS(DML_ENUM_NAME)};
static const char *const op_names[] = {DML_OPS(DML_ENUM_NAME)};
static const char *const param_names[] = {"ntk", "standard"};   /* indexed by dml_parameterization */

#define NAME_OF(table, n, v) ((unsigned)(v) < (unsigned)(n) ? table[v] : "?")
const char *dml_method_name(dml_method m) { return NAME_OF(method_names, DML_N_METHODS, m); }
const char *dml_metric_name(dml_metric m) { return NAME_OF(metric_names, DML_N_METRICS, m); }
const char *dml_op_name(dml_op op) { return NAME_OF(op_names, DML_N_OPS, op); }

dml_optimizer dml_method_optimizer(dml_method m)
{
    return m == DML_INF_GD ? DML_OPT_GD : m == DML_INF_ADAM ? DML_OPT_ADAM : DML_OPT_SGD;
}

void dml_arm_train_config(const dml_inference *inf, const dml_model *m, dml_train_config *out)
{
    *out = inf->train;
    out->lr = inf->lr[m->parameterization == DML_PARAM_STANDARD];
}

const char *dml_spec_field(const dml_spec *s, const char *part, int i, const char *key, char *out, size_t size)
{
    int listed = strcmp(part, "data") == 0 ? s->data_listed : strcmp(part, "models") == 0 ? s->models_listed
                                                                                           : s->inference_listed;
    const dml_entry_origin *o = strcmp(part, "models") == 0 ? s->model_origin
                                : strcmp(part, "inference") == 0 ? s->inference_origin : NULL;
    if (o) o += i;
    char base[64];
    if (listed) snprintf(base, sizeof base, "%s[%d]", part, o ? o->index : i);
    else snprintf(base, sizeof base, "%s", part);
    if (key && key[0]) snprintf(out, size, "%s.%s", base, key);
    else snprintf(out, size, "%s", base);
    /* a swept key names the value this entry took: "models[0].width[2]" */
    for (int k = 0; o && key && k < o->nswept; k++)
        if (strcmp(o->key[k], key) == 0) {
            size_t n = strlen(out);
            snprintf(out + n, size > n ? size - n : 0, "[%d]", o->value[k]);
        }
    return out;
}

/* Give unnamed entries their default name and make every name unique with -2, -3, ... */
static void unique_name(char *name, const char *base, char (*taken)[DML_NAME_MAX], int ntaken)
{
    char cand[DML_NAME_MAX];
    snprintf(cand, sizeof cand, "%s", name[0] ? name : base);
    for (int k = 2;; k++) {
        int clash = 0;
        for (int i = 0; i < ntaken; i++) clash |= strcmp(taken[i], cand) == 0;
        if (!clash) break;
        char b[DML_NAME_MAX];
        snprintf(b, sizeof b, "%s", name[0] ? name : base);
        char suffix[16];
        int sl = snprintf(suffix, sizeof suffix, "-%d", k);
        b[DML_NAME_MAX - 1 - sl] = 0;   /* keep within 64 characters */
        snprintf(cand, sizeof cand, "%s%s", b, suffix);
    }
    memcpy(name, cand, DML_NAME_MAX);
}


/* `lr`: a number, or {"ntk": a, "standard": b} (either may be left out) for grids with both parameterizations.
 * lr[] holds the defaults on entry. */
static int parse_lr(const cJSON *o, const char *path, double lr[2], dml_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "lr");
    if (!v) return 0;
    char f[200];
    jf_path(f, sizeof f, path, "lr");
    if (cJSON_IsObject(v)) {
        static const char *const keys[] = {"ntk", "standard", NULL};
        if (jf_object(v, f, keys, err)) return -1;
        for (int p = 0; p < 2; p++)
            if (jf_number(v, param_names[p], f, 0, 1e6, &lr[p], err) < 0) return -1;
        return 0;
    }
    double x;
    if (!cJSON_IsNumber(v))
        return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be a number or {\"ntk\": number, \"standard\": number}", f);
    if (jf_number(o, "lr", path, 0, 1e6, &x, err) < 0) return -1;
    lr[0] = lr[1] = x;
    return 0;
}

static int parse_inference(const cJSON *o, const char *path, dml_inference *inf, dml_error *err)
{
    static const char *const kernel_keys[] = {"name", "method", "ridge", NULL};
    static const char *const train_keys[] = {"name", "method", "lr", "momentum", "nesterov", "beta1", "beta2", "eps",
                                             "weight_decay", "schedule", "epochs", "batch", "loss", "precision",
                                             NULL};
    char f[200];
    memset(inf, 0, sizeof *inf);
    inf->ridge = 1e-4;
    if (!cJSON_IsObject(o)) return dml_fail(err, DML_ERR_INVALID_SPEC, path, "%s must be an object", path);
    int e, rc;
    if ((rc = jf_enum(o, "method", path, method_names, DML_N_METHODS, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "method"), "%s is required", f);
    inf->method = (dml_method)e;
    int kernel = dml_method_is_kernel(inf->method);
    /* fields of the other family are named in the error, e.g. "lr applies to gd, sgd and adam" */
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *const *own = kernel ? kernel_keys : train_keys, *const *other = kernel ? train_keys : kernel_keys;
        int mine = 0, theirs = 0;
        for (const char *const *k = own; *k; k++) mine |= it->string && strcmp(*k, it->string) == 0;
        for (const char *const *k = other; *k; k++) theirs |= it->string && strcmp(*k, it->string) == 0;
        if (!mine && theirs)
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, it->string),
                            "%s applies to %s only, not to method %s", it->string,
                            kernel ? "gd, sgd and adam" : "nngp and ntk", method_names[inf->method]);
    }
    if (jf_object(o, path, kernel ? kernel_keys : train_keys, err)) return -1;
    if ((rc = jf_string(o, "name", path, inf->name, sizeof inf->name, err)) < 0) return -1;
    if (rc && !jf_valid_name(inf->name))
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "name"),
                        "names are 1 to 64 of letters, digits, '-', '_', '.', '='");
    if (kernel) return jf_number(o, "ridge", path, 0, 1e6, &inf->ridge, err) < 0 ? -1 : 0;
    dml_train_config *t = &inf->train;
    dml_optimizer opt = dml_method_optimizer(inf->method);
    dml_train_config_defaults(t, opt);
    t->lr = NAN;   /* per arm: inf->lr[parameterization] */
    inf->lr[DML_PARAM_NTK] = dml_default_lr(opt, DML_PARAM_NTK);
    inf->lr[DML_PARAM_STANDARD] = dml_default_lr(opt, DML_PARAM_STANDARD);
    long long v;
    if (parse_lr(o, path, inf->lr, err)) return -1;
    if (jf_number(o, "momentum", path, 0, 1, &t->momentum, err) < 0) return -1;
    if (jf_bool(o, "nesterov", path, &t->nesterov, err) < 0) return -1;
    if (jf_number(o, "beta1", path, 0, 1, &t->beta1, err) < 0) return -1;
    if (jf_number(o, "beta2", path, 0, 1, &t->beta2, err) < 0) return -1;
    if (jf_number(o, "eps", path, 0, 1, &t->eps, err) < 0) return -1;
    if (jf_number(o, "weight_decay", path, 0, 1e6, &t->weight_decay, err) < 0) return -1;
    if (jf_enum(o, "schedule", path, dml_schedule_names, DML_N_SCHEDULES, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "schedule")) t->schedule = (dml_schedule)e;
    if ((rc = jf_int(o, "epochs", path, 1, 100000, &v, err)) < 0) return -1;
    if (rc) t->epochs = (int)v;
    if ((rc = jf_int(o, "batch", path, 1, 1 << 20, &v, err)) < 0) return -1;
    if (rc) t->batch = (int)v;
    if (jf_enum(o, "loss", path, dml_loss_names, DML_N_LOSSES, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "loss")) t->loss = (dml_loss)e;
    if (jf_enum(o, "precision", path, dml_precision_names, DML_N_PRECISIONS, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "precision")) inf->precision = (dml_precision)e;
    if (inf->method == DML_INF_ADAM && t->beta1 >= 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "beta1"), "beta1 must be below 1");
    if (inf->method == DML_INF_ADAM && t->beta2 >= 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "beta2"), "beta2 must be below 1");
    if (inf->method == DML_INF_ADAM && t->eps <= 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "eps"), "eps must be positive");
    return 0;
}

/* `tags`: a list of at most DML_MAX_TAGS short strings. */
static int parse_tags(const cJSON *root, dml_spec *s, dml_error *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "tags");
    if (!t) return 0;
    if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) > DML_MAX_TAGS)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "tags", "tags must be a list of at most %d strings", DML_MAX_TAGS);
    int i = 0;
    for (const cJSON *it = t->child; it; it = it->next, i++) {
        char f[32];
        snprintf(f, sizeof f, "tags[%d]", i);
        size_t n = cJSON_IsString(it) && it->valuestring ? strlen(it->valuestring) : 0;
        if (n < 1 || n >= DML_TAG_MAX || !jf_valid_name(it->valuestring) || strchr(it->valuestring, '='))
            return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be 1 to %d of letters, digits, '-', '_', '.'", f,
                            DML_TAG_MAX - 1);
        memcpy(s->tags[i], it->valuestring, n + 1);
        for (int k = 0; k < i; k++)
            if (strcmp(s->tags[k], s->tags[i]) == 0)
                return dml_fail(err, DML_ERR_INVALID_SPEC, f, "tag '%s' appears twice", s->tags[i]);
    }
    s->ntags = i;
    return 0;
}

/* `"spectrum": {"n": N}` (docs/spectrum.md): needs a kernel method; N defaults to the largest n_train of the spec.
 * Called after the data and inference are parsed. */
static int parse_spectrum(const cJSON *root, dml_spec *s, dml_error *err)
{
    static const char *const keys[] = {"n", NULL};
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "spectrum");
    if (!o) return 0;
    if (!cJSON_IsObject(o)) return dml_fail(err, DML_ERR_INVALID_SPEC, "spectrum", "spectrum must be an object {\"n\": N}");
    if (jf_object(o, "spectrum", keys, err)) return -1;
    int kernel = 0;
    for (int i = 0; i < s->ninference; i++) kernel |= dml_method_is_kernel(s->inference[i].method);
    if (!kernel)
        return dml_fail(err, DML_ERR_INVALID_SPEC, "spectrum",
                        "spectrum is the eigen-analysis of a kernel arm: it needs an inference method nngp or ntk");
    long long n = 0;
    int rc = jf_int(o, "n", "spectrum", 2, 1LL << 32, &n, err);
    if (rc < 0) return -1;
    s->spectrum_n_given = rc == 1;
    if (!rc)
        for (int d = 0; d < s->ndata; d++)
            if (s->data[d].n_train[s->data[d].nn_train - 1] > (size_t)n) n = (long long)s->data[d].n_train[s->data[d].nn_train - 1];
    s->spectrum_n = (size_t)(n < 2 ? 2 : n);
    return 0;
}

int dml_spec_arm_data(const dml_spec *s, const char *arm)
{
    for (int d = 0; d < s->ndata; d++)
        for (int m = 0; m < s->nmodels; m++)
            for (int i = 0; i < s->ninference; i++) {
                char a[3 * DML_NAME_MAX + 2];
                snprintf(a, sizeof a, "%s/%s/%s", s->data[d].name, s->models[m].name, s->inference[i].name);
                if (strcmp(a, arm) == 0) return d;
            }
    return -1;
}

static int parse_check(const cJSON *o, const char *path, const dml_spec *s, dml_check *c, dml_error *err)
{
    static const char *const keys[] = {"arm", "metric", "n_train", "op", "value", "tolerance", "than_arm", NULL};
    char f[200];
    memset(c, 0, sizeof *c);
    if (jf_object(o, path, keys, err)) return -1;
    int rc, e;
    if ((rc = jf_string(o, "arm", path, c->arm, sizeof c->arm, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "arm"), "%s is required", f);
    int d = dml_spec_arm_data(s, c->arm);
    if (d < 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "arm"),
                        "arm '%s' is not in the experiment's grid (arms are <data>/<model>/<inference>)", c->arm);
    if ((rc = jf_enum(o, "metric", path, metric_names, DML_N_METRICS, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "metric"), "%s is required", f);
    c->metric = (dml_metric)e;
    if ((rc = jf_enum(o, "op", path, op_names, DML_N_OPS, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "op"), "%s is required", f);
    c->op = (dml_op)e;
    long long v;
    c->n_train = s->data[d].n_train[s->data[d].nn_train - 1];
    if ((rc = jf_int(o, "n_train", path, 1, 1LL << 50, &v, err)) < 0) return -1;
    if (rc) {
        int found = 0;
        for (int k = 0; k < s->data[d].nn_train; k++) found |= s->data[d].n_train[k] == (size_t)v;
        if (!found)
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "n_train"),
                            "n_train %lld is not one of the sizes of data '%s'", v, s->data[d].name);
        c->n_train = (size_t)v;
    }
    if ((rc = jf_string(o, "than_arm", path, c->than_arm, sizeof c->than_arm, err)) < 0) return -1;
    if (rc) {
        int d2 = dml_spec_arm_data(s, c->than_arm);
        if (d2 < 0)
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "than_arm"),
                            "arm '%s' is not in the experiment's grid", c->than_arm);
        int found = 0;
        for (int k = 0; k < s->data[d2].nn_train; k++) found |= s->data[d2].n_train[k] == c->n_train;
        if (!found)
            return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "than_arm"),
                            "arm '%s' has no n_train %zu", c->than_arm, c->n_train);
    }
    if ((rc = jf_number(o, "value", path, -1e300, 1e300, &c->value, err)) < 0) return -1;
    if (rc == 0 && !c->than_arm[0])
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "value"),
                        "%s is required (or compare with another arm with than_arm)", f);
    if (rc == 1 && c->than_arm[0])
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "value"),
                        "give either value or than_arm, not both");
    if ((rc = jf_number(o, "tolerance", path, 0, 1e300, &c->tolerance, err)) < 0) return -1;
    if (rc && c->op != DML_OP_EQ)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "tolerance"),
                        "tolerance applies to op '==' only");
    return 0;
}

/* Iterate over "one object or a list" fields. Returns the count or -1. */
static int list_size(const cJSON *v, const char *field, int max, dml_error *err)
{
    if (!v) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s is required", field);
    if (cJSON_IsObject(v)) return 1;
    if (!cJSON_IsArray(v)) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s must be an object or a list", field);
    int n = cJSON_GetArraySize(v);
    if (n < 1) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s must not be empty", field);
    if (n > max) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s has %d entries, more than %d", field, n, max);
    return n;
}

static const cJSON *list_item(const cJSON *v, int i) { return cJSON_IsObject(v) ? v : cJSON_GetArrayItem(v, i); }

/* Fields whose value is a list without being a sweep. */
static const char *const model_lists[] = {"filter", "stride", "layers", NULL};
static const char *const inference_lists[] = {NULL};

/* Expand the n entries of part `part` ("models", "inference") of v into *out (a JSON array of entries, each
 * with its origin in (*origin)[i]). Returns the number of entries, at most 64, or -1 with err. */
static int expand_part(const dml_spec *s, const cJSON *v, int n, const char *part, cJSON **out,
                       dml_entry_origin **origin, dml_error *err)
{
    int models = strcmp(part, "models") == 0, total = 0;
    const char *const *lists = models ? model_lists : inference_lists;
    *out = cJSON_CreateArray();
    *origin = calloc(64, sizeof **origin);
    if (!*out || !*origin) return dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
    for (int i = 0; i < n; i++) {
        const cJSON *o = list_item(v, i);
        char f[64];
        if (cJSON_IsArray(v)) snprintf(f, sizeof f, "%s[%d]", part, i);
        else snprintf(f, sizeof f, "%s", part);
        (void)s;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, models ? "arch" : "method");
        const char *base = cJSON_IsString(b) ? b->valuestring
                           : models && cJSON_GetObjectItemCaseSensitive(o, "layers") ? "layers" : part;
        cJSON *x;
        int k = dml_sweep_expand(o, f, base, lists, 64, &x, err);
        if (k < 0) return -1;
        if (total + k > 64) {
            cJSON_Delete(x);
            return dml_fail(err, DML_ERR_INVALID_SPEC, part, "%s expands to more than 64 entries with its sweeps", part);
        }
        for (int e = 0; e < k; e++) dml_sweep_origin(o, lists, i, e, &(*origin)[total + e]);
        while (x->child) cJSON_AddItemToArray(*out, cJSON_DetachItemFromArray(x, 0));
        cJSON_Delete(x);
        total += k;
    }
    return total;
}

void dml_spec_sweep_field(const dml_spec *s, const char *part, int i, dml_error *err)
{
    const dml_entry_origin *o = strcmp(part, "models") == 0 ? s->model_origin : s->inference_origin;
    if (!err || !o) return;
    o += i;
    for (int k = 0; k < o->nswept; k++) {
        char f[200];
        dml_spec_field(s, part, i, NULL, f, sizeof f);
        size_t n = strlen(f);
        snprintf(f + n, sizeof f - n, ".%s", o->key[k]);
        if (strcmp(err->field, f) == 0) {
            snprintf(f + strlen(f), sizeof f - strlen(f), "[%d]", o->value[k]);
            snprintf(err->field, sizeof err->field, "%s", f);
            return;
        }
    }
}

int dml_spec_parse(const char *text, size_t len, const char *data_root, dml_spec *s, dml_error *err)
{
    cJSON *root;
    memset(s, 0, sizeof *s);
    if (dml_json_parse(text, len, &root, err)) return -1;
    int rc = dml_spec_from_json(root, data_root, s, err);
    cJSON_Delete(root);
    return rc;
}

/* Whether a model object writes a width: its own, or one of its layers'. */
static int writes_width(const cJSON *o)
{
    if (cJSON_GetObjectItemCaseSensitive(o, "width")) return 1;
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(o, "layers");
    for (const cJSON *it = cJSON_IsArray(jl) ? jl->child : NULL; it; it = it->next)
        if (it->child && cJSON_GetObjectItemCaseSensitive(it->child, "width")) return 1;
    return 0;
}

int dml_spec_from_json(const cJSON *root, const char *data_root, dml_spec *s, dml_error *err)
{
    static const char *const keys[] = {"name", "seed", "data", "models", "inference", "repeats", "audit", "checks",
                                       "tags", "spectrum", NULL};
    memset(s, 0, sizeof *s);
    char f[200];
    int rc = -1;
    char(*taken)[DML_NAME_MAX] = NULL;
    cJSON *xm = NULL, *xi = NULL;
    if (jf_object(root, "", keys, err)) goto out;
    if (data_root) {
        if (strlen(data_root) >= sizeof s->data_root) {
            dml_fail(err, DML_ERR_INVALID_SPEC, NULL, "the data root is too long");
            goto out;
        }
        snprintf(s->data_root, sizeof s->data_root, "%s", data_root);
    }
    snprintf(s->name, sizeof s->name, "experiment");
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (nm && (!cJSON_IsString(nm) || !nm->valuestring[0] || strlen(nm->valuestring) >= sizeof s->name)) {
        dml_fail(err, DML_ERR_INVALID_SPEC, "name", "name must be a string of 1 to %zu characters", sizeof s->name - 1);
        goto out;
    }
    if (nm) snprintf(s->name, sizeof s->name, "%s", nm->valuestring);
    long long v;
    if (jf_int(root, "seed", "", 0, 9007199254740992LL, &v, err) < 0) goto out;
    s->seed = cJSON_GetObjectItemCaseSensitive(root, "seed") ? (uint64_t)v : 0;
    s->repeats = 1;
    if (jf_int(root, "repeats", "", 1, 1LL << 40, &v, err) < 0) goto out;
    if (cJSON_GetObjectItemCaseSensitive(root, "repeats")) s->repeats = v;
    if (parse_tags(root, s, err)) goto out;

    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(root, "models");
    const cJSON *ji = cJSON_GetObjectItemCaseSensitive(root, "inference");
    int nd = list_size(jd, "data", 64, err);
    if (nd < 0) goto out;
    int nm_ = list_size(jm, "models", 64, err);
    if (nm_ < 0) goto out;
    int ni = list_size(ji, "inference", 64, err);
    if (ni < 0) goto out;
    s->data_listed = cJSON_IsArray(jd);
    s->models_listed = cJSON_IsArray(jm);
    s->inference_listed = cJSON_IsArray(ji);
    /* sweeps: list-valued scalar fields expand into entries named by their values (DESIGN 3.1) */
    if ((nm_ = expand_part(s, jm, nm_, "models", &xm, &s->model_origin, err)) < 0) goto out;
    if ((ni = expand_part(s, ji, ni, "inference", &xi, &s->inference_origin, err)) < 0) goto out;
    s->data = calloc((size_t)nd, sizeof *s->data);
    s->models = calloc((size_t)nm_, sizeof *s->models);
    s->inference = calloc((size_t)ni, sizeof *s->inference);
    taken = calloc(64, DML_NAME_MAX);
    if (!s->data || !s->models || !s->inference || !taken) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    for (int i = 0; i < nd; i++, s->ndata++) {
        dml_spec_field(s, "data", i, NULL, f, sizeof f);
        if (dml_spec_parse_data(list_item(jd, i), f, data_root, &s->data[i], err)) goto out;
        unique_name(s->data[i].name, dml_source_name(s->data[i].source), taken, i);
        memcpy(taken[i], s->data[i].name, DML_NAME_MAX);
    }
    for (int i = 0; i < nm_; i++, s->nmodels++) {
        char p[64];
        dml_spec_field(s, "models", i, NULL, p, sizeof p);
        if (dml_model_parse(cJSON_GetArrayItem(xm, i), p, &s->models[i], err)) {
            dml_spec_sweep_field(s, "models", i, err);
            goto out;
        }
        if (writes_width(cJSON_GetArrayItem(xm, i))) s->width_given |= (uint64_t)1 << i;
        unique_name(s->models[i].name, dml_arch_name(s->models[i].arch), taken, i);
        memcpy(taken[i], s->models[i].name, DML_NAME_MAX);
    }
    int any_kernel = 0;
    for (int i = 0; i < ni; i++, s->ninference++) {
        dml_spec_field(s, "inference", i, NULL, f, sizeof f);
        if (parse_inference(cJSON_GetArrayItem(xi, i), f, &s->inference[i], err)) {
            dml_spec_sweep_field(s, "inference", i, err);
            goto out;
        }
        unique_name(s->inference[i].name, dml_method_name(s->inference[i].method), taken, i);
        memcpy(taken[i], s->inference[i].name, DML_NAME_MAX);
        any_kernel |= dml_method_is_kernel(s->inference[i].method);
    }
    /* cross-entropy trains against class labels: regression targets (synthetic, npy float targets) have none */
    for (int i = 0; i < s->ninference; i++)
        for (int d = 0; !dml_method_is_kernel(s->inference[i].method) && s->inference[i].train.loss == DML_LOSS_CROSS_ENTROPY &&
                        d < s->ndata; d++) {
            const dml_data_spec *ds = &s->data[d];
            int regression = dml_source_is_synthetic(ds->source) ||
                             (ds->source == DML_SRC_NPY && ds->npy_shape.channels > 0 && !ds->npy_labels);
            if (!regression) continue;
            dml_fail(err, DML_ERR_INVALID_SPEC, dml_spec_field(s, "inference", i, "loss", f, sizeof f),
                     "loss cross-entropy needs class labels, but data '%s' holds regression targets", ds->name);
            goto out;
        }
    for (int i = 0; any_kernel && i < s->nmodels; i++)
        if (s->models[i].parameterization != DML_PARAM_NTK) {
            dml_fail(err, DML_ERR_INVALID_SPEC, dml_spec_field(s, "models", i, "parameterization", f, sizeof f),
                     "kernel methods (nngp, ntk) need parameterization 'ntk': with 'standard' the infinite-width "
                     "kernel depends on the layer widths");
            goto out;
        }
    if (dml_audit_spec_parse(cJSON_GetObjectItemCaseSensitive(root, "audit"), s, err)) goto out;
    if (parse_spectrum(root, s, err)) goto out;
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(root, "checks");
    if (jc) {
        if (!cJSON_IsArray(jc)) {
            dml_fail(err, DML_ERR_INVALID_SPEC, "checks", "checks must be a list");
            goto out;
        }
        int nc = cJSON_GetArraySize(jc);
        if (nc > 256) {
            dml_fail(err, DML_ERR_INVALID_SPEC, "checks", "at most 256 checks");
            goto out;
        }
        s->checks = calloc((size_t)nc + 1, sizeof *s->checks);
        if (!s->checks) goto out;
        int i = 0;
        for (const cJSON *it = jc->child; it; it = it->next, i++, s->nchecks++) {
            const char *p = jf_index(f, sizeof f, "checks", i);
            if (cJSON_IsObject(it) && cJSON_GetObjectItemCaseSensitive(it, "audit")
                    ? dml_audit_check_parse(it, p, s, &s->checks[i], err)
                    : parse_check(it, p, s, &s->checks[i], err))
                goto out;
        }
    }
    rc = 0;
out:
    free(taken);
    cJSON_Delete(xm);
    cJSON_Delete(xi);
    if (rc) dml_spec_free(s);
    return rc;
}

int dml_spec_kernel_twin(const dml_spec *s, int m)
{
    for (int q = 0; q < m; q++) {
        dml_model a = s->models[q], b = s->models[m];
        memset(a.name, 0, sizeof a.name);
        memset(b.name, 0, sizeof b.name);
        a.width = b.width = 0;   /* kernels are the infinite-width limit: the widths do not enter */
        for (int l = 0; l < DML_MAX_LAYERS; l++) a.layers[l].width = b.layers[l].width = 0;
        if (memcmp(&a, &b, sizeof a) == 0) return q;
    }
    return -1;
}

long long dml_spec_arm_repeats(const dml_spec *s, int d, int i)
{
    return dml_method_is_kernel(s->inference[i].method) && s->data[d].subset == DML_SUBSET_HEAD ? 1 : s->repeats;
}

size_t dml_spec_points(const dml_spec *s)
{
    size_t n = 0;
    for (int d = 0; d < s->ndata; d++)
        for (int i = 0; i < s->ninference; i++)
            n += (size_t)s->data[d].nn_train * (size_t)dml_spec_arm_repeats(s, d, i);
    return n * (size_t)s->nmodels;
}

size_t dml_unit_train_points(const dml_spec *s, int d, int repeat)
{
    size_t n = s->data[d].n_train[s->data[d].nn_train - 1];
    return repeat == 0 && s->spectrum_n > n ? s->spectrum_n : n;   /* spectrum_n > 0 only with kernel arms */
}

void dml_spec_free(dml_spec *s)
{
    free(s->model_origin);
    free(s->inference_origin);
    s->model_origin = s->inference_origin = NULL;
    free(s->data);
    free(s->models);
    free(s->inference);
    free(s->checks);
    s->checks = NULL;
    s->nchecks = 0;
    s->data = NULL;
    s->models = NULL;
    s->inference = NULL;
    s->ndata = s->nmodels = s->ninference = 0;
}

/* The resolved `lr` of a training method: one number when every model it meets (the whole grid) would train
 * with the same rate, else the rate of each parameterization. */
static cJSON *lr_json(const dml_spec *s, const dml_inference *in)
{
    int used[2] = {0, 0};
    for (int m = 0; m < s->nmodels; m++) used[s->models[m].parameterization == DML_PARAM_STANDARD] = 1;
    if (in->lr[0] == in->lr[1] || !used[0] || !used[1]) return cJSON_CreateNumber(in->lr[used[0] ? 0 : 1]);
    cJSON *o = cJSON_CreateObject();
    for (int p = 0; p < 2; p++) cJSON_AddNumberToObject(o, param_names[p], in->lr[p]);
    return o;
}

cJSON *dml_spec_resolved_json(const dml_spec *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddNumberToObject(o, "seed", (double)s->seed);
    cJSON_AddNumberToObject(o, "repeats", s->repeats);
    cJSON *tags = cJSON_AddArrayToObject(o, "tags");
    for (int i = 0; i < s->ntags; i++) cJSON_AddItemToArray(tags, cJSON_CreateString(s->tags[i]));
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    for (int i = 0; i < s->ndata; i++) cJSON_AddItemToArray(data, dml_spec_data_json(&s->data[i]));
    cJSON *models = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; i < s->nmodels; i++) {
        /* write filter and stride out for every spatial axis when every data variant has the same number */
        dml_model m = s->models[i];
        int nd = -1;
        for (int d = 0; d < s->ndata; d++) {
            dml_shape sh = dml_data_shape(&s->data[d]);
            int known = dml_source_is_idx(s->data[d].source) || sh.channels > 0;
            int e = known ? sh.nd : -2;
            nd = nd == -1 || nd == e ? e : -2;
        }
        if (nd >= 1 && m.nfilter <= 1) {
            for (int a = 1; a < nd; a++) m.filter[a] = m.filter[0];
            m.nfilter = nd;
        }
        if (nd >= 1 && m.nstride <= 1) {
            for (int a = 1; a < nd; a++) m.stride[a] = m.stride[0];
            m.nstride = nd;
        }
        cJSON_AddItemToArray(models, dml_model_json(&m));
    }
    cJSON *inf = cJSON_AddArrayToObject(o, "inference");
    for (int i = 0; i < s->ninference; i++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", s->inference[i].name);
        const dml_inference *in = &s->inference[i];
        cJSON_AddStringToObject(j, "method", dml_method_name(in->method));
        if (dml_method_is_kernel(in->method)) {
            cJSON_AddNumberToObject(j, "ridge", in->ridge);
        } else {
            const dml_train_config *t = &in->train;
            cJSON_AddItemToObject(j, "lr", lr_json(s, in));
            if (in->method != DML_INF_ADAM) {
                cJSON_AddNumberToObject(j, "momentum", t->momentum);
                cJSON_AddBoolToObject(j, "nesterov", t->nesterov);
            } else {
                cJSON_AddNumberToObject(j, "beta1", t->beta1);
                cJSON_AddNumberToObject(j, "beta2", t->beta2);
                cJSON_AddNumberToObject(j, "eps", t->eps);
            }
            cJSON_AddNumberToObject(j, "weight_decay", t->weight_decay);
            cJSON_AddStringToObject(j, "schedule", dml_schedule_name(t->schedule));
            cJSON_AddNumberToObject(j, "epochs", t->epochs);
            if (in->method != DML_INF_GD) cJSON_AddNumberToObject(j, "batch", t->batch);
            cJSON_AddStringToObject(j, "loss", dml_loss_name(t->loss));
            cJSON_AddStringToObject(j, "precision", dml_precision_name(in->precision));
        }
        cJSON_AddItemToArray(inf, j);
    }
    cJSON *audit = dml_audit_spec_json(s);
    if (audit) cJSON_AddItemToObject(o, "audit", audit);
    if (s->spectrum_n) cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "spectrum"), "n", (double)s->spectrum_n);
    cJSON *checks = cJSON_AddArrayToObject(o, "checks");
    for (int i = 0; i < s->nchecks; i++) {
        const dml_check *c = &s->checks[i];
        cJSON *j = cJSON_CreateObject();
        if (c->audit) {
            cJSON *a = cJSON_AddObjectToObject(j, "audit");
            cJSON_AddStringToObject(a, "arm", c->arm);
            cJSON_AddStringToObject(a, "group", dml_transform_name(c->group));
            cJSON_AddStringToObject(j, "op", "==");
            cJSON_AddBoolToObject(j, "value", c->value != 0);
            cJSON_AddItemToArray(checks, j);
            continue;
        }
        cJSON_AddStringToObject(j, "arm", c->arm);
        cJSON_AddStringToObject(j, "metric", metric_names[c->metric]);
        cJSON_AddNumberToObject(j, "n_train", (double)c->n_train);
        cJSON_AddStringToObject(j, "op", op_names[c->op]);
        if (c->than_arm[0])
            cJSON_AddStringToObject(j, "than_arm", c->than_arm);
        else
            cJSON_AddNumberToObject(j, "value", c->value);
        if (c->op == DML_OP_EQ) cJSON_AddNumberToObject(j, "tolerance", c->tolerance);
        cJSON_AddItemToArray(checks, j);
    }
    return o;
}
