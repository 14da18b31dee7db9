/* The experiment specification v1 (DESIGN section 3): parse, validate, fill defaults, print resolved. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dmilab/nn.h"
#include "dmilab/spec.h"
#include "jfield.h"

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

void dml_limits_defaults(dml_limits *l)
{
    memset(l, 0, sizeof *l);
    snprintf(l->data_root, sizeof l->data_root, "/usr/share/datasets");
    l->max_points = 10000;
    l->max_n_train = 60000;
    l->max_n_test = 10000;
    l->max_repeats = 100;
    l->max_depth = 30;   /* (DML_MAX_LAYERS - 3) / 2: the deepest layer list */
    l->max_width = 16384;
    l->max_memory_bytes = (size_t)16 << 30;
    l->threads = 1;
}

const char *dml_method_name(dml_method m)
{
    static const char *const n[] = {"nngp", "ntk", "gd", "sgd", "adam"};
    return (unsigned)m < 5 ? n[m] : "?";
}

static const char *const metric_names[] = {"test_accuracy", "test_mse", "train_mse"};
static const char *const op_names[] = {"<", "<=", ">", ">=", "=="};

const char *dml_metric_name(dml_metric m) { return (unsigned)m < 3 ? metric_names[m] : "?"; }
const char *dml_op_name(dml_op op) { return (unsigned)op < 5 ? op_names[op] : "?"; }

static const char *const source_names[] = {"fashion-mnist", "mnist"};
static const char *const subset_names[] = {"random", "head"};
static const char *const transform_names[] = {"orthogonal", "permutation", "local-orthogonal",
                                              "channel-orthogonal", "translation", "signed-permutation"};

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

/* Resolve `path` and require it inside the data root. */
static int resolve_path(const char *path, const char *root, const char *field, char *out, dml_error *err)
{
    char rroot[PATH_MAX], rpath[PATH_MAX];
    if (!realpath(root, rroot))
        return dml_fail(err, DML_ERR_INVALID_SPEC, field, "the server's data root %s does not exist", root);
    if (!realpath(path, rpath)) return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s does not exist", path);
    size_t n = strlen(rroot);
    if (strncmp(rpath, rroot, n) != 0 || (rpath[n] != '/' && rpath[n] != 0 && strcmp(rroot, "/") != 0))
        return dml_fail(err, DML_ERR_INVALID_SPEC, field, "%s is outside the data root %s", path, root);
    snprintf(out, DML_PATH_MAX, "%s", rpath);
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_transform(const cJSON *o, const char *path, dml_transform *t, dml_error *err)
{
    static const char *const keys[] = {"kind", "seed", NULL};
    if (jf_object(o, path, keys, err)) return -1;
    int e;
    char f[200];
    int rc = jf_enum(o, "kind", path, transform_names, 6, &e, err);
    if (rc < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "kind"), "%s is required", f);
    t->kind = (dml_transform_kind)e;
    long long s = 0;
    if (jf_int(o, "seed", path, 0, 9007199254740992LL, &s, err) < 0) return -1;
    t->seed = (uint64_t)s;
    return 0;
}

static int parse_data(const cJSON *o, const char *path, const dml_limits *lim, dml_data_spec *d, dml_error *err)
{
    static const char *const keys[] = {"name", "source", "path", "resize", "n_train", "n_test", "subset",
                                       "classes", "transform", NULL};
    static const char *const later[] = {"npy", "sphere", "gaussian"};
    char f[200];
    memset(d, 0, sizeof *d);
    d->resize = 1;
    d->n_test = 1000;
    d->subset = DML_SUBSET_RANDOM;
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
    if (cJSON_IsObject(o) && cJSON_IsString(src))
        for (int i = 0; i < 3; i++)
            if (strcmp(src->valuestring, later[i]) == 0)
                return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "source"),
                                "source '%s' is not supported yet by this server (supported: fashion-mnist, mnist)",
                                later[i]);
    if (jf_object(o, path, keys, err)) return -1;
    int e, rc;
    if ((rc = jf_enum(o, "source", path, source_names, 2, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "source"), "%s is required", f);
    d->source = (dml_source)e;
    if ((rc = jf_string(o, "name", path, d->name, sizeof d->name, err)) < 0) return -1;
    if (rc && !jf_valid_name(d->name))
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "name"),
                        "names are 1 to 64 of letters, digits, '-', '_', '.'");
    char p[DML_PATH_MAX] = "";
    if ((rc = jf_string(o, "path", path, p, sizeof p, err)) < 0) return -1;
    if (rc == 0 && d->source == DML_SRC_MNIST)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "path"),
                        "%s is required for source mnist (Debian ships no MNIST package)", f);
    if (rc == 0) snprintf(p, sizeof p, "%s", FASHION_MNIST_DIR);
    if (resolve_path(p, lim->data_root, jf_path(f, sizeof f, path, "path"), d->path, err)) return -1;
    long long v;
    if ((rc = jf_int(o, "resize", path, 1, 28, &v, err)) < 0) return -1;
    if (rc) d->resize = (int)v;
    if (28 % d->resize)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "resize"),
                        "%s must divide the image side 28 (1, 2, 4, 7, 14, 28)", f);
    long long sizes[DML_MAX_SIZES];
    int n;
    if ((rc = jf_int_list(o, "n_train", path, DML_MAX_SIZES, 1, 1LL << 50, sizes, &n, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "n_train"), "%s is required", f);
    for (int i = 0; i < n; i++)
        if (sizes[i] > (long long)lim->max_n_train) {
            char g[220];
            snprintf(g, sizeof g, "%s[%d]", jf_path(f, sizeof f, path, "n_train"), i);
            return dml_fail(err, DML_ERR_LIMIT, g, "%s is %lld, above the limit %zu", g, sizes[i],
                            lim->max_n_train);
        }
    for (int i = 0; i < n; i++) d->n_train[i] = (size_t)sizes[i];
    qsort(d->n_train, (size_t)n, sizeof d->n_train[0], cmp_size);
    d->nn_train = 0;
    for (int i = 0; i < n; i++)
        if (d->nn_train == 0 || d->n_train[d->nn_train - 1] != d->n_train[i]) d->n_train[d->nn_train++] = d->n_train[i];
    if ((rc = jf_int_limited(o, "n_test", path, 1, 1LL << 50, (long long)lim->max_n_test, &v, err)) < 0) return -1;
    if (rc) d->n_test = (size_t)v;
    if (jf_enum(o, "subset", path, subset_names, 2, &e, err) < 0) return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "subset")) d->subset = (dml_subset)e;
    if ((rc = jf_int(o, "classes", path, 2, 10, &v, err)) < 0) return -1;
    if (rc) d->classes = (int)v;
    const cJSON *tf = cJSON_GetObjectItemCaseSensitive(o, "transform");
    if (tf) {
        jf_path(f, sizeof f, path, "transform");
        if (cJSON_IsObject(tf)) {
            d->ntransform = 1;
            if (parse_transform(tf, f, &d->transform[0], err)) return -1;
        } else if (cJSON_IsArray(tf)) {
            int k = cJSON_GetArraySize(tf);
            if (k > DML_MAX_TRANSFORMS)
                return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s takes at most %d transforms", f, DML_MAX_TRANSFORMS);
            int i = 0;
            char g[220];
            for (const cJSON *it = tf->child; it; it = it->next, i++)
                if (parse_transform(it, jf_index(g, sizeof g, f, i), &d->transform[i], err)) return -1;
            d->ntransform = k;
        } else {
            return dml_fail(err, DML_ERR_INVALID_SPEC, f, "%s must be an object or a list of objects", f);
        }
    }
    return 0;
}

static const char *const method_names[] = {"nngp", "ntk", "gd", "sgd", "adam"};

static int parse_inference(const cJSON *o, const char *path, dml_inference *inf, dml_error *err)
{
    static const char *const kernel_keys[] = {"name", "method", "ridge", NULL};
    static const char *const train_keys[] = {"name", "method", "lr", "momentum", "nesterov", "beta1", "beta2", "eps",
                                             "weight_decay", "schedule", "epochs", "batch", "loss", "precision",
                                             NULL};
    static const char *const schedules[] = {"constant", "cosine"};
    static const char *const losses[] = {"mse", "cross-entropy"};
    static const char *const precisions[] = {"float32", "float64"};
    char f[200];
    memset(inf, 0, sizeof *inf);
    inf->ridge = 1e-4;
    if (!cJSON_IsObject(o)) return dml_fail(err, DML_ERR_INVALID_SPEC, path, "%s must be an object", path);
    int e, rc;
    if ((rc = jf_enum(o, "method", path, method_names, 5, &e, err)) < 0) return -1;
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
                        "names are 1 to 64 of letters, digits, '-', '_', '.'");
    if (kernel) return jf_number(o, "ridge", path, 0, 1e6, &inf->ridge, err) < 0 ? -1 : 0;
    dml_training *t = &inf->train;
    t->lr = inf->method == DML_INF_ADAM ? 1e-3 : 0.1;
    t->momentum = inf->method == DML_INF_SGD ? 0.9 : 0.0;
    t->beta1 = 0.9;
    t->beta2 = 0.999;
    t->eps = 1e-8;
    t->epochs = 20;
    t->batch = 64;
    long long v;
    if (jf_number(o, "lr", path, 0, 1e6, &t->lr, err) < 0) return -1;
    if (jf_number(o, "momentum", path, 0, 1, &t->momentum, err) < 0) return -1;
    if (jf_bool(o, "nesterov", path, &t->nesterov, err) < 0) return -1;
    if (jf_number(o, "beta1", path, 0, 1, &t->beta1, err) < 0) return -1;
    if (jf_number(o, "beta2", path, 0, 1, &t->beta2, err) < 0) return -1;
    if (jf_number(o, "eps", path, 0, 1, &t->eps, err) < 0) return -1;
    if (jf_number(o, "weight_decay", path, 0, 1e6, &t->weight_decay, err) < 0) return -1;
    if (jf_enum(o, "schedule", path, schedules, 2, &t->cosine, err) < 0) return -1;
    if ((rc = jf_int(o, "epochs", path, 1, 100000, &v, err)) < 0) return -1;
    if (rc) t->epochs = (int)v;
    if ((rc = jf_int(o, "batch", path, 1, 1 << 20, &v, err)) < 0) return -1;
    if (rc) t->batch = (int)v;
    if (jf_enum(o, "loss", path, losses, 2, &t->cross_entropy, err) < 0) return -1;
    if (jf_enum(o, "precision", path, precisions, 2, &t->float64, err) < 0) return -1;
    if (inf->method == DML_INF_ADAM && t->beta1 >= 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "beta1"), "beta1 must be below 1");
    if (inf->method == DML_INF_ADAM && t->beta2 >= 1)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "beta2"), "beta2 must be below 1");
    if (inf->method == DML_INF_ADAM && t->eps <= 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "eps"), "eps must be positive");
    return 0;
}

/* Find the data variant of an arm "<data>/<model>/<inference>"; -1 when the arm is not in the grid. */
static int arm_data(const dml_spec *s, const char *arm)
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
    int d = arm_data(s, c->arm);
    if (d < 0)
        return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "arm"),
                        "arm '%s' is not in the experiment's grid (arms are <data>/<model>/<inference>)", c->arm);
    if ((rc = jf_enum(o, "metric", path, metric_names, 3, &e, err)) < 0) return -1;
    if (rc == 0) return dml_fail(err, DML_ERR_INVALID_SPEC, jf_path(f, sizeof f, path, "metric"), "%s is required", f);
    c->metric = (dml_metric)e;
    if ((rc = jf_enum(o, "op", path, op_names, 5, &e, err)) < 0) return -1;
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
        int d2 = arm_data(s, c->than_arm);
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
    if (n > max) return dml_fail(err, DML_ERR_LIMIT, field, "%s has %d entries, more than %d", field, n, max);
    return n;
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
        if (n < 1 || n >= DML_TAG_MAX || !jf_valid_name(it->valuestring))
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

static const cJSON *list_item(const cJSON *v, int i) { return cJSON_IsObject(v) ? v : cJSON_GetArrayItem(v, i); }

int dml_spec_parse(const char *text, size_t len, const dml_limits *lim, dml_spec *s, dml_error *err)
{
    static const char *const keys[] = {"name", "seed", "data", "models", "inference", "repeats", "audit", "checks",
                                       "tags", NULL};
    dml_limits dl;
    if (!lim) {
        dml_limits_defaults(&dl);
        lim = &dl;
    }
    memset(s, 0, sizeof *s);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) return dml_fail(err, DML_ERR_INVALID_JSON, NULL, "the body is not valid JSON (near byte %ld)",
                               end ? (long)(end - text) : 0L);
    char f[200];
    int rc = -1;
    if (jf_object(root, "", keys, err)) goto out;
    if (cJSON_GetObjectItemCaseSensitive(root, "audit")) {
        dml_fail(err, DML_ERR_INVALID_SPEC, "audit", "symmetry audits are not supported yet by this server");
        goto out;
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
    if ((rc = jf_int_limited(root, "repeats", "", 1, 1LL << 40, lim->max_repeats, &v, err)) < 0) goto out;
    if (rc) s->repeats = (int)v;
    rc = -1;
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
    s->data = calloc((size_t)nd, sizeof *s->data);
    s->models = calloc((size_t)nm_, sizeof *s->models);
    s->inference = calloc((size_t)ni, sizeof *s->inference);
    if (!s->data || !s->models || !s->inference) {
        dml_fail(err, DML_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    char(*taken)[DML_NAME_MAX] = calloc(64, DML_NAME_MAX);
    if (!taken) goto out;
    for (int i = 0; i < nd; i++, s->ndata++) {
        const char *p = cJSON_IsObject(jd) ? "data" : jf_index(f, sizeof f, "data", i);
        if (parse_data(list_item(jd, i), p, lim, &s->data[i], err)) goto out_taken;
        unique_name(s->data[i].name, source_names[s->data[i].source], taken, i);
        memcpy(taken[i], s->data[i].name, DML_NAME_MAX);
    }
    for (int i = 0; i < nm_; i++, s->nmodels++) {
        const char *p = cJSON_IsObject(jm) ? "models" : jf_index(f, sizeof f, "models", i);
        if (dml_model_parse(list_item(jm, i), p, lim, &s->models[i], err)) goto out_taken;
        unique_name(s->models[i].name, dml_arch_name(s->models[i].arch), taken, i);
        memcpy(taken[i], s->models[i].name, DML_NAME_MAX);
        /* the model must fit every data variant's input shape */
        for (int d = 0; d < s->ndata; d++) {
            dml_shape sh = {.nd = 2, .size = {28 / s->data[d].resize, 28 / s->data[d].resize}, .channels = 1};
            dml_layers *L = malloc(sizeof *L);
            if (!L) goto out_taken;
            int bad = dml_model_layers(&s->models[i], &sh, 10, L, err);
            free(L);
            if (bad) {
                char g[sizeof err->field];
                snprintf(g, sizeof g, "%s%s%s", p, err->field[0] ? "." : "", err->field);
                snprintf(err->field, sizeof err->field, "%s", g);
                goto out_taken;
            }
        }
    }
    for (int i = 0; i < ni; i++, s->ninference++) {
        const char *p = cJSON_IsObject(ji) ? "inference" : jf_index(f, sizeof f, "inference", i);
        if (parse_inference(list_item(ji, i), p, &s->inference[i], err)) goto out_taken;
        unique_name(s->inference[i].name, dml_method_name(s->inference[i].method), taken, i);
        memcpy(taken[i], s->inference[i].name, DML_NAME_MAX);
    }
    int any_kernel = 0;
    for (int i = 0; i < s->ninference; i++) any_kernel |= dml_method_is_kernel(s->inference[i].method);
    for (int i = 0; any_kernel && i < s->nmodels; i++)
        if (s->models[i].parameterization != DML_PARAM_NTK) {
            char g[220], h[220];
            dml_fail(err, DML_ERR_INVALID_SPEC,
                     jf_path(g, sizeof g, cJSON_IsObject(jm) ? "models" : jf_index(h, sizeof h, "models", i),
                             "parameterization"),
                     "kernel methods (nngp, ntk) need parameterization 'ntk': with 'standard' the infinite-width "
                     "kernel depends on the layer widths");
            goto out_taken;
        }
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(root, "checks");
    if (jc) {
        if (!cJSON_IsArray(jc)) {
            dml_fail(err, DML_ERR_INVALID_SPEC, "checks", "checks must be a list");
            goto out_taken;
        }
        int nc = cJSON_GetArraySize(jc);
        if (nc > 256) {
            dml_fail(err, DML_ERR_LIMIT, "checks", "at most 256 checks");
            goto out_taken;
        }
        s->checks = calloc((size_t)nc + 1, sizeof *s->checks);
        if (!s->checks) goto out_taken;
        int i = 0;
        for (const cJSON *it = jc->child; it; it = it->next, i++, s->nchecks++)
            if (parse_check(it, jf_index(f, sizeof f, "checks", i), s, &s->checks[i], err)) goto out_taken;
    }
    size_t pts = dml_spec_points(s);
    if (pts > lim->max_points) {
        dml_fail(err, DML_ERR_LIMIT, "data", "the grid has %zu points, more than the limit of %zu", pts,
                 lim->max_points);
        goto out_taken;
    }
    for (int d = 0; any_kernel && d < s->ndata; d++) {
        /* memory of one unit: train Gram and test-train kernel (NNGP and NTK), the Cholesky factor */
        double N = (double)s->data[d].n_train[s->data[d].nn_train - 1], M = (double)s->data[d].n_test;
        double bytes = 8.0 * (3.0 * N * N + 2.0 * N * M);
        if (bytes > (double)lim->max_memory_bytes) {
            char g[64];
            snprintf(g, sizeof g, s->ndata == 1 && cJSON_IsObject(jd) ? "data.n_train" : "data[%d].n_train", d);
            dml_fail(err, DML_ERR_LIMIT, g, "kernel matrices for n_train %.0f and n_test %.0f need %.1f GiB, more than "
                     "the limit of %.1f GiB", N, M, bytes / (1 << 30), (double)lim->max_memory_bytes / (1 << 30));
            goto out_taken;
        }
    }
    /* memory of one training unit: the finite network at its width, its workspaces and the data */
    for (int i = 0; i < s->ninference; i++) {
        const dml_inference *inf = &s->inference[i];
        if (dml_method_is_kernel(inf->method)) continue;
        for (int m = 0; m < s->nmodels; m++)
            for (int d = 0; d < s->ndata; d++) {
                const dml_data_spec *ds = &s->data[d];
                size_t N = ds->n_train[ds->nn_train - 1];
                dml_shape sh = {.nd = 2, .size = {28 / ds->resize, 28 / ds->resize}, .channels = 1};
                dml_layers *L = malloc(sizeof *L);
                if (!L) goto out_taken;
                int bad = dml_model_layers(&s->models[m], &sh, 10, L, NULL);
                double bytes = bad ? 0 : dml_train_memory_bytes(L, inf->train.float64 ? DML_F64 : DML_F32,
                                                                 inf->method == DML_INF_GD ? N : (size_t)inf->train.batch,
                                                                 N, ds->n_test, lim->threads);
                free(L);
                if (bytes > (double)lim->max_memory_bytes) {
                    char g[64];
                    if (cJSON_IsObject(jm)) snprintf(g, sizeof g, "models.width");
                    else snprintf(g, sizeof g, "models[%d].width", m);
                    dml_fail(err, DML_ERR_LIMIT, g,
                             "training %s (width %d) with %s on %s (n_train %zu) needs about %.1f GiB, more than the "
                             "limit of %.1f GiB; reduce the width or the batch",
                             s->models[m].name, s->models[m].width, inf->name, ds->name, N, bytes / (1 << 30),
                             (double)lim->max_memory_bytes / (1 << 30));
                    goto out_taken;
                }
            }
    }
    rc = 0;
out_taken:
    free(taken);
out:
    cJSON_Delete(root);
    if (rc) dml_spec_free(s);
    return rc;
}

size_t dml_spec_points(const dml_spec *s)
{
    size_t n = 0;
    for (int d = 0; d < s->ndata; d++) n += (size_t)s->data[d].nn_train;
    return n * (size_t)s->nmodels * (size_t)s->ninference * (size_t)s->repeats;
}

void dml_spec_free(dml_spec *s)
{
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

cJSON *dml_spec_resolved_json(const dml_spec *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddNumberToObject(o, "seed", (double)s->seed);
    cJSON_AddNumberToObject(o, "repeats", s->repeats);
    cJSON *tags = cJSON_AddArrayToObject(o, "tags");
    for (int i = 0; i < s->ntags; i++) cJSON_AddItemToArray(tags, cJSON_CreateString(s->tags[i]));
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    for (int i = 0; i < s->ndata; i++) {
        const dml_data_spec *d = &s->data[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", d->name);
        cJSON_AddStringToObject(j, "source", source_names[d->source]);
        cJSON_AddStringToObject(j, "path", d->path);
        cJSON_AddNumberToObject(j, "resize", d->resize);
        cJSON *nt = cJSON_AddArrayToObject(j, "n_train");
        for (int k = 0; k < d->nn_train; k++) cJSON_AddItemToArray(nt, cJSON_CreateNumber((double)d->n_train[k]));
        cJSON_AddNumberToObject(j, "n_test", (double)d->n_test);
        cJSON_AddStringToObject(j, "subset", subset_names[d->subset]);
        if (d->classes)
            cJSON_AddNumberToObject(j, "classes", d->classes);
        else
            cJSON_AddNumberToObject(j, "classes", 10);
        cJSON *tf = cJSON_AddArrayToObject(j, "transform");
        for (int k = 0; k < d->ntransform; k++) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "kind", transform_names[d->transform[k].kind]);
            cJSON_AddNumberToObject(t, "seed", (double)d->transform[k].seed);
            cJSON_AddItemToArray(tf, t);
        }
        cJSON_AddItemToArray(data, j);
    }
    cJSON *models = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; i < s->nmodels; i++) {
        /* every source is 2D images: write filter and stride out for both axes */
        dml_model m = s->models[i];
        if (m.nfilter <= 1) m.filter[1] = m.filter[0], m.nfilter = 2;
        if (m.nstride <= 1) m.stride[1] = m.stride[0], m.nstride = 2;
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
            const dml_training *t = &in->train;
            cJSON_AddNumberToObject(j, "lr", t->lr);
            if (in->method != DML_INF_ADAM) {
                cJSON_AddNumberToObject(j, "momentum", t->momentum);
                cJSON_AddBoolToObject(j, "nesterov", t->nesterov);
            } else {
                cJSON_AddNumberToObject(j, "beta1", t->beta1);
                cJSON_AddNumberToObject(j, "beta2", t->beta2);
                cJSON_AddNumberToObject(j, "eps", t->eps);
            }
            cJSON_AddNumberToObject(j, "weight_decay", t->weight_decay);
            cJSON_AddStringToObject(j, "schedule", t->cosine ? "cosine" : "constant");
            cJSON_AddNumberToObject(j, "epochs", t->epochs);
            if (in->method != DML_INF_GD) cJSON_AddNumberToObject(j, "batch", t->batch);
            cJSON_AddStringToObject(j, "loss", t->cross_entropy ? "cross-entropy" : "mse");
            cJSON_AddStringToObject(j, "precision", t->float64 ? "float64" : "float32");
        }
        cJSON_AddItemToArray(inf, j);
    }
    cJSON *checks = cJSON_AddArrayToObject(o, "checks");
    for (int i = 0; i < s->nchecks; i++) {
        const dml_check *c = &s->checks[i];
        cJSON *j = cJSON_CreateObject();
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
