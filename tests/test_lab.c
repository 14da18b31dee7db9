/* The symmetry lab's spec (issue 11): npy and synthetic sources, transforms on every source, sweeps. Errors name
 * their field; npy arrays give the results of the same images read from IDX files; synthetic experiments are
 * reproducible from their seeds; ridge-only differences share one kernel computation; identical head repeats of
 * kernel arms are computed once; npy files obey the data root. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dmilab/admission.h"
#include "dmilab/experiment.h"
#include "dmilab/json.h"
#include "dmilab/results.h"
#include "dmilab/spec.h"
#include "check.h"
#include "idx_fixture.h"
#include "npy_fixture.h"

static char root[256];

static const dml_limits limits = {.max_points = 10000, .max_n_train = 60000, .max_n_test = 10000, .max_repeats = 100,
                                  .max_depth = 30, .max_width = 16384, .max_memory_bytes = (size_t)16 << 30,
                                  .max_experiment_seconds = 7 * 24 * 3600, .threads = 1};

static int parse_admit(const char *json, dml_spec *s, dml_error *err)
{
    dml_error_clear(err);
    if (dml_spec_parse(json, strlen(json), root, s, err)) return -1;
    if (dml_spec_admit(s, &limits, err) == 0) return 0;
    dml_spec_free(s);
    return -1;
}

static void expect_error(const char *json, const char *field, const char *fragment)
{
    dml_spec s;
    dml_error err;
    int rc = parse_admit(json, &s, &err);
    CHECK(rc == -1 && strcmp(err.field, field) == 0 && (!fragment || strstr(err.message, fragment)),
          "%s: want an error at '%s' (%s), got rc %d %s at '%s': %s", json, field, fragment ? fragment : "", rc,
          dml_code_name(err.code), err.field, err.message);
    if (rc == 0) dml_spec_free(&s);
}

/* ---- running experiments: the points, and the kernel computations counted ---- */
typedef struct {
    dml_point p[512];
    int n, kernels;
} collected;

static int on_point(void *ctx, const dml_point *p)
{
    collected *c = ctx;
    if (c->n < 512) {
        c->p[c->n] = *p;
        c->p[c->n].curve = NULL;
        c->p[c->n].n_curve = 0;
        c->n++;
    }
    return 0;
}

static void on_kernel(void *ctx, const dml_kernel_info *k)
{
    (void)k;
    ((collected *)ctx)->kernels++;
}

static int run(const char *json, collected *c, dml_error *err)
{
    dml_spec s;
    memset(c, 0, sizeof *c);
    if (parse_admit(json, &s, err)) return -1;
    dml_run_hooks h = {.ctx = c, .on_point = on_point, .on_kernel = on_kernel, .threads = 1};
    int rc = dml_experiment_run(&s, &h, err);
    dml_spec_free(&s);
    return rc;
}

static const dml_point *find(const collected *c, const char *arm, size_t n, int rep)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->p[i].arm, arm) == 0 && c->p[i].n_train == n && c->p[i].repeat == rep) return &c->p[i];
    return NULL;
}

/* ---- fixtures: an IDX directory and the same images as npy arrays ---- */
static void write_fixtures(void)
{
    char dir[400], npy[400];
    snprintf(dir, sizeof dir, "%s/idx", root);
    CHECK(fx_write_dir(dir, 60, 30, 8, 8, 5, -1) == 0, "IDX fixture");
    dml_idx_split tr, te;
    dml_error err;
    memset(&tr, 0, sizeof tr);
    memset(&te, 0, sizeof te);
    CHECK(dml_idx_read_split(root, dir, "train", &tr, &err) == 0 && dml_idx_read_split(root, dir, "t10k", &te, &err) == 0,
          "read the IDX fixture: %s", err.message);
    snprintf(npy, sizeof npy, "%s/npy", root);
    mkdir(npy, 0755);
    char sh[64];
    snprintf(sh, sizeof sh, "(%zu, 8, 8, 1)", tr.n);
    fx_write_npy(npy, "x_train.npy", "|u1", sh, 0, tr.images, tr.n * 64);
    snprintf(sh, sizeof sh, "(%zu, 8, 8, 1)", te.n);
    fx_write_npy(npy, "x_test.npy", "|u1", sh, 0, te.images, te.n * 64);
    /* labels as int64, little-endian, and big-endian for the test split: either byte order reads the same */
    long long *l = malloc(sizeof *l * tr.n);
    for (size_t i = 0; i < tr.n; i++) l[i] = tr.labels[i];
    snprintf(sh, sizeof sh, "(%zu,)", tr.n);
    fx_write_npy(npy, "y_train.npy", "<i8", sh, 0, l, 8 * tr.n);
    unsigned char *b = malloc(8 * te.n);
    for (size_t i = 0; i < te.n; i++)
        for (int k = 0; k < 8; k++) b[8 * i + k] = k == 7 ? te.labels[i] : 0;
    snprintf(sh, sizeof sh, "(%zu,)", te.n);
    fx_write_npy(npy, "y_test.npy", ">i8", sh, 0, b, 8 * te.n);
    /* regression targets (n, 2) float64, and hostile files */
    double *y = malloc(sizeof *y * 2 * tr.n);
    for (size_t i = 0; i < 2 * tr.n; i++) y[i] = 0.25 * (double)(i % 7) - 0.5;
    snprintf(sh, sizeof sh, "(%zu, 2)", tr.n);
    fx_write_npy(npy, "t_train.npy", "<f8", sh, 0, y, 16 * tr.n);
    snprintf(sh, sizeof sh, "(%zu, 2)", te.n);
    fx_write_npy(npy, "t_test.npy", "<f8", sh, 0, y, 16 * te.n);
    snprintf(sh, sizeof sh, "(%zu, 64)", tr.n);
    fx_write_npy(npy, "flat_train.npy", "<f8", sh, 0, NULL, 0);   /* lying size: no data */
    double *fx = calloc(64 * tr.n, sizeof *fx);
    for (size_t i = 0; i < 64 * tr.n; i++) fx[i] = tr.images[i] / 255.0;
    fx_write_npy(npy, "flatx_train.npy", "<f8", sh, 0, fx, 8 * 64 * tr.n);
    snprintf(sh, sizeof sh, "(%zu, 64)", te.n);
    fx_write_npy(npy, "flatx_test.npy", "<f8", sh, 0, fx, 8 * 64 * te.n);
    free(fx);
    fx_write_npy(npy, "object.npy", "|O", "(3,)", 0, "abc", 3);
    fx_write_npy(npy, "fortran.npy", "|u1", "(60, 8, 8, 1)", 1, tr.images, tr.n * 64);
    snprintf(sh, sizeof sh, "(%zu, 4, 4, 1)", te.n);
    fx_write_npy(npy, "small_test.npy", "|u1", sh, 0, te.images, te.n * 16);
    /* a link out of the root, and a directory outside it with a real file */
    char out[400], link[500];
    snprintf(out, sizeof out, "%s-outside", root);
    mkdir(out, 0755);
    fx_write_npy(out, "x.npy", "|u1", "(60, 8, 8, 1)", 0, tr.images, tr.n * 64);
    snprintf(link, sizeof link, "%s/escape.npy", npy);
    snprintf(out, sizeof out, "%s-outside/x.npy", root);
    CHECK(symlink(out, link) == 0, "symlink");
    free(l);
    free(b);
    free(y);
    dml_idx_free(&tr);
    dml_idx_free(&te);
}

#define NPY(x, y, xt, yt) \
    "\"source\": \"npy\", \"x_train\": \"npy/" x "\", \"y_train\": \"npy/" y "\", \"x_test\": \"npy/" xt \
    "\", \"y_test\": \"npy/" yt "\""
#define NPY_OK NPY("x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy")
#define KERNEL_SPEC(data) \
    "{\"data\": {" data "}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}"

static void test_npy_errors(void)
{
    expect_error(KERNEL_SPEC("\"source\": \"npy\", \"n_train\": 10, \"y_train\": \"npy/y_train.npy\""), "data.x_train",
                 "required");
    expect_error(KERNEL_SPEC(NPY("object.npy", "y_train.npy", "x_test.npy", "y_test.npy") ", \"n_train\": 10"),
                 "data.x_train", "object");
    expect_error(KERNEL_SPEC(NPY("fortran.npy", "y_train.npy", "x_test.npy", "y_test.npy") ", \"n_train\": 10"),
                 "data.x_train", "Fortran");
    expect_error(KERNEL_SPEC(NPY("flat_train.npy", "y_train.npy", "x_test.npy", "y_test.npy") ", \"n_train\": 10"),
                 "data.x_train", "truncated");
    expect_error(KERNEL_SPEC(NPY("x_train.npy", "y_train.npy", "small_test.npy", "y_test.npy") ", \"n_train\": 10"),
                 "data.x_test", "shape");
    expect_error(KERNEL_SPEC(NPY("x_train.npy", "y_test.npy", "x_test.npy", "y_test.npy") ", \"n_train\": 10"),
                 "data.y_train", "entries");
    expect_error(KERNEL_SPEC(NPY("x_train.npy", "t_train.npy", "x_test.npy", "y_test.npy") ", \"n_train\": 10"),
                 "data.y_test", "labels");
    expect_error(KERNEL_SPEC(NPY("x_train.npy", "t_train.npy", "x_test.npy", "t_test.npy") ", \"n_train\": 10, "
                                                                                          "\"classes\": 3"),
                 "data.classes", "float targets");
    expect_error(KERNEL_SPEC(NPY_OK ", \"n_train\": 61"), "data.n_train", "60 training examples");
    expect_error(KERNEL_SPEC(NPY_OK ", \"n_train\": 10, \"n_test\": 31"), "data.n_test", "30 test examples");
    expect_error(KERNEL_SPEC(NPY_OK ", \"n_train\": 10, \"resize\": 3"), "data.resize", "divide");
    expect_error(KERNEL_SPEC(NPY_OK ", \"n_train\": 10, \"path\": \"npy\""), "data.path", "applies to");
    expect_error(KERNEL_SPEC(NPY_OK ", \"n_train\": 10, \"shape\": [8, 1]"), "data.shape", "applies to");
    expect_error(KERNEL_SPEC(NPY_OK ", \"n_train\": 10, \"standardize\": 1"), "data.standardize", "true or false");
    /* the data root: a link out of it, and a path outside it, get the same message whether or not it exists */
    char j[1024];
    dml_spec s;
    dml_error e1, e2;
    expect_error(KERNEL_SPEC(NPY("escape.npy", "y_train.npy", "x_test.npy", "y_test.npy") ", \"n_train\": 10"),
                 "data.x_train", "not a readable path inside the data root");
    snprintf(j, sizeof j, KERNEL_SPEC("\"source\": \"npy\", \"x_train\": \"%s-outside/x.npy\", \"y_train\": "
                                      "\"npy/y_train.npy\", \"x_test\": \"npy/x_test.npy\", \"y_test\": "
                                      "\"npy/y_test.npy\", \"n_train\": 10"), root);
    int r1 = parse_admit(j, &s, &e1);
    snprintf(j, sizeof j, KERNEL_SPEC("\"source\": \"npy\", \"x_train\": \"%s-outside/nothing.npy\", \"y_train\": "
                                      "\"npy/y_train.npy\", \"x_test\": \"npy/x_test.npy\", \"y_test\": "
                                      "\"npy/y_test.npy\", \"n_train\": 10"), root);
    int r2 = parse_admit(j, &s, &e2);
    char *m1 = strstr(e1.message, " is not"), *m2 = strstr(e2.message, " is not");
    CHECK(r1 == -1 && r2 == -1 && m1 && m2 && strcmp(m1, m2) == 0 && strcmp(e1.field, "data.x_train") == 0,
          "outside the root: one message whether the file exists or not: '%s' / '%s'", e1.message, e2.message);
}

static void test_synthetic_errors(void)
{
#define SYN(extra) KERNEL_SPEC("\"source\": \"sphere\", \"n_train\": 10, \"n_test\": 5" extra)
#define TARGET ", \"shape\": [8, 2], \"target\": {\"kind\": \"local-polynomial\"}"
    expect_error(SYN(", \"target\": {\"kind\": \"local-polynomial\"}"), "data.shape", "required");
    expect_error(SYN(", \"shape\": [8], \"target\": {\"kind\": \"local-polynomial\"}"), "data.shape", NULL);
    expect_error(SYN(", \"shape\": [8, 2]"), "data.target", "required");
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"oracle\"}"), "data.target.kind", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"teacher\"}"), "data.target.model", "required");
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"teacher\", \"model\": {\"arch\": \"mlp\"}}"),
                 "data.target.model.arch", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"teacher\", \"model\": {\"arch\": \"fcn\", "
                     "\"width\": 8}, \"width\": 16}"),
                 "data.target.width", "once");
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"teacher\", \"model\": {\"arch\": \"fcn\"}, "
                     "\"degree\": 2}"),
                 "data.target.degree", "unknown");
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"local-polynomial\", \"degree\": 40}"),
                 "data.target.degree", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"local-polynomial\", \"support\": 9}"),
                 "data.target.support", NULL);
    expect_error(SYN(TARGET ", \"noise\": -1"), "data.noise", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"local-polynomial\", \"outputs\": 0}"),
                 "data.target.outputs", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"local-polynomial\", \"shared\": 1}"),
                 "data.target.shared", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"local-polynomial\", \"seed\": -1}"),
                 "data.target.seed", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"teacher\", \"model\": {\"arch\": \"fcn\"}, "
                     "\"width\": 0}"),
                 "data.target.width", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"teacher\", \"model\": {\"arch\": \"cnn-gap\", "
                     "\"padding\": \"valid\", \"filter\": 9}}"),
                 "data.target.model.filter", NULL);
    expect_error(SYN(", \"shape\": [8, 2], \"target\": {\"kind\": \"teacher\", \"model\": {\"arch\": \"fcn\", "
                     "\"depth\": 40}}"),
                 "data.target.model.depth", NULL);
    expect_error(SYN(TARGET ", \"transform\": {\"kind\": \"translation\", \"per_example\": true, \"max_shift\": -1}"),
                 "data.transform.max_shift", NULL);
    expect_error("{\"data\": {\"source\": \"sphere\", \"n_train\": 10, \"n_test\": 5" TARGET "}, \"models\": "
                 "{\"arch\": \"fcn\"}, \"inference\": {\"method\": \"sgd\", \"loss\": [\"mse\", \"cross-entropy\"]}}",
                 "inference.loss[1]", "class labels");
    expect_error(SYN(TARGET ", \"classes\": 3"), "data.classes", "applies to");
    expect_error(SYN(TARGET ", \"resize\": 2"), "data.resize", "applies to");
    expect_error(SYN(TARGET ", \"transform\": {\"kind\": \"orthogonal\", \"per_example\": true}"),
                 "data.transform.per_example", "translation");
    expect_error(SYN(TARGET ", \"transform\": [{\"kind\": \"translation\", \"max_shift\": 2}]"),
                 "data.transform[0].max_shift", "per_example");
    /* flat (n, d) arrays: no positions to translate, no image to pool or standardize */
#define FLAT NPY("flatx_train.npy", "y_train.npy", "flatx_test.npy", "y_test.npy") ", \"n_train\": 10"
    expect_error(KERNEL_SPEC(FLAT ", \"transform\": {\"kind\": \"translation\", \"per_example\": true}"),
                 "data.transform.kind", "positions");
    expect_error(KERNEL_SPEC(FLAT ", \"standardize\": true"), "data.standardize", "images");
    expect_error(KERNEL_SPEC(FLAT ", \"resize\": 2"), "data.resize", "images");
}

static void test_sweep_parse(void)
{
    const char *j = "{\"data\": {\"source\": \"gaussian\", \"shape\": [4, 2], \"target\": {\"kind\": "
                    "\"local-polynomial\"}, \"n_train\": [4, 8], \"n_test\": 4},"
                    " \"models\": [{\"arch\": \"fcn\", \"width\": [64, 256, 1024], \"depth\": [1, 2]},"
                    " {\"name\": \"gap\", \"arch\": \"cnn-gap\", \"padding\": \"circular\", \"filter\": [3]}],"
                    " \"inference\": [{\"method\": \"ntk\", \"ridge\": [1e-6, 0.01]}, {\"method\": \"sgd\", \"lr\": [0.5, 1],"
                    " \"epochs\": 1}], \"repeats\": 2}";
    dml_spec s;
    dml_error err;
    int rc = parse_admit(j, &s, &err);
    CHECK(rc == 0, "a spec with sweeps parses: %s (%s)", err.message, err.field);
    if (rc) return;
    CHECK(s.nmodels == 7 && s.ninference == 4, "grid: 3 x 2 + 1 models, 2 + 2 inference entries (%d, %d)", s.nmodels,
          s.ninference);
    CHECK(strcmp(s.models[0].name, "fcn.width=64.depth=1") == 0 && strcmp(s.models[1].name, "fcn.width=64.depth=2") == 0 &&
              strcmp(s.models[5].name, "fcn.width=1024.depth=2") == 0 && s.models[5].width == 1024 &&
              s.models[5].depth == 2 && strcmp(s.models[6].name, "gap") == 0,
          "models named by their values, first field slowest: %s %s %s %s", s.models[0].name, s.models[1].name,
          s.models[5].name, s.models[6].name);
    CHECK(strcmp(s.inference[0].name, "ntk.ridge=1e-06") == 0 && s.inference[0].ridge == 1e-6 &&
              strcmp(s.inference[1].name, "ntk.ridge=0.01") == 0 && strcmp(s.inference[3].name, "sgd.lr=1") == 0,
          "inference named by values: %s %s %s", s.inference[0].name, s.inference[1].name, s.inference[3].name);
    /* kernel arms on random subsets: every repeat; 7 models x (2 kernel + 2 trained) x 2 sizes x 2 repeats */
    CHECK(dml_spec_points(&s) == 7 * 4 * 2 * 2, "points of the expanded grid: %zu", dml_spec_points(&s));
    /* the resolved spec parses back to the same entries */
    cJSON *r = dml_spec_resolved_json(&s);
    char *t = dml_json_print(r);
    dml_spec s2;
    rc = parse_admit(t, &s2, &err);
    CHECK(rc == 0 && s2.nmodels == 7 && s2.ninference == 4 && strcmp(s2.models[3].name, s.models[3].name) == 0 &&
              strcmp(s2.inference[0].name, s.inference[0].name) == 0,
          "the resolved spec parses back: %s", rc ? err.message : "");
    if (rc == 0) dml_spec_free(&s2);
    free(t);
    cJSON_Delete(r);
    dml_spec_free(&s);
    /* errors name the swept value */
#define SWEEP(models, inference)                                                                                  \
    "{\"data\": {\"source\": \"gaussian\", \"shape\": [4, 2], \"target\": {\"kind\": \"local-polynomial\"}, "     \
    "\"n_train\": 4, \"n_test\": 4}, \"models\": " models ", \"inference\": " inference "}"
    expect_error(SWEEP("{\"arch\": \"fcn\", \"width\": []}", "{\"method\": \"ntk\"}"), "models.width", "at least one");
    expect_error(SWEEP("[{\"arch\": \"fcn\"}, {\"arch\": \"fcn\", \"depth\": [1, -1]}]", "{\"method\": \"ntk\"}"),
                 "models[1].depth[1]", NULL);
    expect_error(SWEEP("{\"arch\": \"fcn\", \"depth\": [[1]]}", "{\"method\": \"ntk\"}"), "models.depth[0]", "list of");
    expect_error(SWEEP("{\"arch\": [\"fcn\", \"lcn\"]}", "{\"method\": \"ntk\"}"), "models.arch", "cannot be swept");
    expect_error(SWEEP("{\"arch\": \"fcn\"}", "[{\"method\": \"sgd\", \"lr\": [0.1, \"fast\"]}]"), "inference[0].lr[1]",
                 NULL);
    expect_error(SWEEP("{\"arch\": \"fcn\", \"width\": [1, 2, 3, 4, 5, 6, 7, 8, 9], \"depth\": [1, 2, 3, 4, 5, 6, 7, 8]}",
                       "{\"method\": \"ntk\"}"),
                 "models", "more than 64");
    expect_error(SWEEP("{\"name\": \"a-rather-long-model-name-for-a-sweep-of-widths-and-depths-x\", \"arch\": \"fcn\", "
                       "\"width\": [64, 128]}",
                       "{\"method\": \"ntk\"}"),
                 "models.name", "longer than 64");
    /* admission names the swept value too (a width above --max-width, trained) */
    expect_error(SWEEP("{\"arch\": \"fcn\", \"width\": [64, 100000]}", "{\"method\": \"sgd\"}"), "models.width[1]",
                 NULL);
}

/* npy arrays written from the IDX files give the same results, bit for bit, as the IDX source. */
static void test_npy_equals_idx(void)
{
    char a[2048], b[2048];
    snprintf(a, sizeof a, "{\"data\": {\"name\": \"d\", \"source\": \"mnist\", \"path\": \"idx\", \"resize\": 2, "
                          "\"n_train\": [20, 40], \"n_test\": 30, \"transform\": {\"kind\": \"permutation\", \"seed\": 3}},"
                          " \"models\": [{\"arch\": \"fcn\"}, {\"arch\": \"cnn-vec\", \"depth\": 1}],"
                          " \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"nngp\", \"ridge\": 0.01}], \"repeats\": 2}");
    snprintf(b, sizeof b, "{\"data\": {\"name\": \"d\", " NPY_OK ", \"resize\": 2, "
                          "\"n_train\": [20, 40], \"n_test\": 30, \"transform\": {\"kind\": \"permutation\", \"seed\": 3}},"
                          " \"models\": [{\"arch\": \"fcn\"}, {\"arch\": \"cnn-vec\", \"depth\": 1}],"
                          " \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"nngp\", \"ridge\": 0.01}], \"repeats\": 2}");
    static collected ci, cn;
    dml_error err;
    CHECK(run(a, &ci, &err) == 0, "IDX run: %s", err.message);
    CHECK(run(b, &cn, &err) == 0, "npy run: %s", err.message);
    int same = ci.n == cn.n && ci.n == 2 * 2 * 2 * 2;
    for (int i = 0; same && i < ci.n; i++) {
        const dml_point *q = find(&cn, ci.p[i].arm, ci.p[i].n_train, ci.p[i].repeat);
        same = q && q->test_mse == ci.p[i].test_mse && q->test_accuracy == ci.p[i].test_accuracy &&
               q->train_mse == ci.p[i].train_mse;
    }
    CHECK(same, "npy arrays give the IDX source's points exactly (%d and %d points)", ci.n, cn.n);
    CHECK(ci.n && ci.p[0].test_accuracy > 0.3, "the points are real results (accuracy %g)", ci.n ? ci.p[0].test_accuracy : 0);
    /* float targets: regression, accuracy null */
    snprintf(b, sizeof b, KERNEL_SPEC(NPY("x_train.npy", "t_train.npy", "x_test.npy", "t_test.npy")
                                      ", \"n_train\": 20, \"n_test\": 10, \"standardize\": false"));
    CHECK(run(b, &cn, &err) == 0 && cn.n == 1 && isnan(cn.p[0].test_accuracy) && cn.p[0].test_mse > 0,
          "float targets: a regression (accuracy NaN, MSE %g): %s", cn.n ? cn.p[0].test_mse : -1, err.message);
}

#define SYN_RUN(seed, input, transform)                                                                          \
    "{\"seed\": " seed ", \"data\": {\"source\": \"" input "\", \"shape\": [6, 2], \"target\": {\"kind\": \"teacher\", " \
    "\"model\": {\"arch\": \"cnn-gap\", \"depth\": 1, \"padding\": \"circular\"}, \"width\": 16, \"seed\": 4, "     \
    "\"outputs\": 2}, \"noise\": 0.1, \"n_train\": [10, 20], \"n_test\": 15" transform "}, \"models\": {\"arch\": "   \
    "\"fcn\", \"depth\": 1, \"width\": 8}, \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"gd\", \"epochs\": 2}]," \
    " \"repeats\": 2}"

static int same_points(const collected *a, const collected *b)
{
    if (a->n != b->n || a->n == 0) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->p[i].test_mse != b->p[i].test_mse || a->p[i].train_mse != b->p[i].train_mse ||
            strcmp(a->p[i].arm, b->p[i].arm))
            return 0;
    return 1;
}

/* Synthetic experiments are reproducible from the seeds and change with them. */
static void test_synthetic_runs(void)
{
    static collected a, b, c, d, e;
    dml_error err;
    CHECK(run(SYN_RUN("3", "sphere", ""), &a, &err) == 0, "synthetic run: %s", err.message);
    CHECK(run(SYN_RUN("3", "sphere", ""), &b, &err) == 0, "again: %s", err.message);
    CHECK(run(SYN_RUN("4", "sphere", ""), &c, &err) == 0, "another seed: %s", err.message);
    CHECK(run(SYN_RUN("3", "gaussian", ", \"transform\": {\"kind\": \"translation\", \"per_example\": true, "
                                       "\"seed\": 2}"),
              &d, &err) == 0,
          "per-example translation: %s", err.message);
    CHECK(run(SYN_RUN("3", "gaussian", ""), &e, &err) == 0, "gaussian: %s", err.message);
    CHECK(same_points(&a, &b), "the same seeds give the same points, bit for bit (%d points)", a.n);
    CHECK(a.n == 2 * 2 * 2 && !same_points(&a, &c), "another experiment seed gives other data");
    CHECK(!same_points(&d, &e) && d.n == e.n, "per-example translations change the data");
    CHECK(a.n && isnan(a.p[0].test_accuracy) && a.p[0].test_mse > 0, "regression targets: accuracy NaN");
    /* a teacher given as a layer list, and a width sweep over layer lists: one kernel per repeat */
    const char *lj = "{\"data\": {\"source\": \"gaussian\", \"shape\": [3, 3, 2], \"target\": {\"kind\": \"teacher\", "
                     "\"model\": {\"layers\": [{\"conv\": {\"filter\": [3, 3], \"padding\": \"circular\"}}, {\"relu\": {}}, "
                     "{\"gap\": {}}, {\"dense\": {}}]}, \"width\": 8}, \"n_train\": [6, 12], \"n_test\": 6},"
                     " \"models\": {\"layers\": [{\"conv\": {}}, {\"erf\": {}}, {\"flatten\": {}}, {\"dense\": {}}], "
                     "\"width\": [4, 8]}, \"inference\": [{\"method\": \"nngp\"}, {\"method\": \"gd\", \"epochs\": 1}]}";
    CHECK(run(lj, &a, &err) == 0 && a.n == 2 * 2 * 2 && a.kernels == 1 && find(&a, "gaussian/layers.width=8/gd", 12, 0),
          "a teacher layer list and a width sweep of a layer list: %d points, %d kernels (%s)", a.n, a.kernels,
          err.message);
}

/* Ridge-only differences share one kernel computation; identical head repeats of kernel arms are computed once. */
static void test_shared_kernels(void)
{
    static collected c;
    dml_error err;
    const char *j = "{\"data\": {\"source\": \"gaussian\", \"shape\": [4, 2], \"target\": {\"kind\": "
                    "\"local-polynomial\"}, \"n_train\": [8, 16], \"n_test\": 8},"
                    " \"models\": [{\"arch\": \"fcn\", \"depth\": [1, 2]}],"
                    " \"inference\": [{\"method\": \"ntk\", \"ridge\": [1e-6, 1e-3, 1]}, {\"method\": \"nngp\"}],"
                    " \"repeats\": 3}";
    CHECK(run(j, &c, &err) == 0, "ridge sweep: %s", err.message);
    CHECK(c.kernels == 2 * 3, "one kernel computation per (model, repeat) serves 4 kernel entries: %d", c.kernels);
    CHECK(c.n == 2 * 4 * 2 * 3, "every point is there: %d", c.n);
    const dml_point *p1 = find(&c, "gaussian/fcn.depth=1/ntk.ridge=1e-06", 16, 2),
                    *p2 = find(&c, "gaussian/fcn.depth=1/ntk.ridge=1", 16, 2);
    CHECK(p1 && p2 && p1->train_mse < p2->train_mse, "the ridges differ in their results");
    const char *h = "{\"data\": {\"source\": \"gaussian\", \"shape\": [4, 2], \"target\": {\"kind\": "
                    "\"local-polynomial\"}, \"n_train\": [8, 16], \"n_test\": 8, \"subset\": \"head\"},"
                    " \"models\": {\"arch\": \"fcn\", \"depth\": 1, \"width\": 8},"
                    " \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"sgd\", \"epochs\": 1}], \"repeats\": 3}";
    /* a width sweep: kernels ignore the width, so its kernel arms share one computation per repeat */
    const char *w = "{\"data\": {\"source\": \"gaussian\", \"shape\": [4, 2], \"target\": {\"kind\": "
                    "\"local-polynomial\"}, \"n_train\": [8, 16], \"n_test\": 8},"
                    " \"models\": [{\"arch\": \"fcn\", \"depth\": 1, \"width\": [8, 16, 32]}],"
                    " \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"sgd\", \"epochs\": 1}], \"repeats\": 2}";
    CHECK(run(w, &c, &err) == 0, "width sweep: %s", err.message);
    const dml_point *w8 = find(&c, "gaussian/fcn.width=8/ntk", 16, 1), *w32 = find(&c, "gaussian/fcn.width=32/ntk", 16, 1),
                    *s8 = find(&c, "gaussian/fcn.width=8/sgd", 16, 1), *s32 = find(&c, "gaussian/fcn.width=32/sgd", 16, 1);
    CHECK(c.kernels == 2 && c.n == 3 * 2 * 2 * 2 && w8 && w32 && w8->test_mse == w32->test_mse && s8 && s32 &&
              s8->test_mse != s32->test_mse,
          "a width sweep computes its kernel once per repeat (%d kernels, %d points); the trained widths differ",
          c.kernels, c.n);
    dml_spec s;
    CHECK(parse_admit(h, &s, &err) == 0 && dml_spec_points(&s) == 2 * 1 + 2 * 3, "head: kernel arms count 1 repeat");
    if (!err.code) dml_spec_free(&s);
    CHECK(run(h, &c, &err) == 0, "head repeats: %s", err.message);
    CHECK(c.kernels == 1 && c.n == 2 + 6 && find(&c, "gaussian/fcn/ntk", 16, 0) && !find(&c, "gaussian/fcn/ntk", 16, 1) &&
              find(&c, "gaussian/fcn/sgd", 16, 2),
          "identical head repeats of the kernel arm computed once (%d kernels, %d points), trained arms every repeat",
          c.kernels, c.n);
    cJSON *cv = dml_curves_json(c.p, (size_t)c.n);
    char *t = dml_json_print(cv);
    CHECK(t && strstr(t, "\"arm\":\"gaussian/fcn/ntk\"") && strstr(t, "\"repeats\":[1,1]") && strstr(t, "\"repeats\":[3,3]"),
          "the curves say how many repeats each mean holds: %s", t ? t : "");
    free(t);
    cJSON_Delete(cv);
}

int main(void)
{
    CHECK(check_tmpdir("lab", root, sizeof root) != NULL, "mkdtemp");
    write_fixtures();
    test_npy_errors();
    test_synthetic_errors();
    test_sweep_parse();
    test_npy_equals_idx();
    test_synthetic_runs();
    test_shared_kernels();
    char out[300];
    snprintf(out, sizeof out, "%s-outside", root);
    check_rmdir(out);
    check_rmdir(root);
    return check_summary("lab");
}
