/* Spec validation (DESIGN section 3): every error names its field path; defaults are filled in. */
#include <stdlib.h>
#include <string.h>
#include "dmilab/admission.h"
#include "dmilab/json.h"
#include "dmilab/spec.h"
#include "check.h"

#define ROOT "/usr/share/datasets"

/* the limits of a default server (server/config.c) */
static const dml_limits defaults = {.max_points = 10000, .max_n_train = 60000, .max_n_test = 10000, .max_repeats = 100,
                                    .max_depth = 30, .max_width = 16384, .max_memory_bytes = (size_t)16 << 30,
                                    .max_experiment_seconds = 7 * 24 * 3600, .threads = 1};

/* What a server does with a submission: parse (with the data root), then admit. */
static int parse_admit(const char *json, const dml_limits *lim, dml_spec *s, dml_error *err)
{
    if (dml_spec_parse(json, strlen(json), ROOT, s, err)) return -1;
    if (dml_spec_admit(s, lim, err) == 0) return 0;
    dml_spec_free(s);
    return -1;
}

static const char *good =
    "{\"name\": \"t\", \"data\": {\"source\": \"fashion-mnist\", \"resize\": 4, \"n_train\": [200, 100, 200],"
    " \"n_test\": 50}, \"models\": [{\"arch\": \"fcn\"}, {\"arch\": \"fcn\", \"depth\": 3},"
    " {\"arch\": \"cnn-gap\", \"filter\": [3, 3], \"padding\": \"circular\"}],"
    " \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"nngp\", \"ridge\": 0.01}], \"repeats\": 2}";

static void expect_error(const char *json, dml_code code, const char *field)
{
    dml_spec s;
    dml_error err = {0};
    int rc = parse_admit(json, &defaults, &s, &err);
    CHECK(rc == -1 && err.code == code && strcmp(err.field, field) == 0 && err.message[0],
          "%s: want %s at '%s', got rc %d %s at '%s' (%s)", json, dml_code_name(code), field, rc,
          dml_code_name(err.code), err.field, err.message);
    if (rc == 0) dml_spec_free(&s);
}

#define BASE_DATA "{\"source\": \"fashion-mnist\", \"n_train\": [10]}"
#define WITH(models) "{\"data\": " BASE_DATA ", \"models\": " models ", \"inference\": {\"method\": \"ntk\"}}"

int main(void)
{
    dml_spec s;
    dml_error err = {0};
    CHECK(parse_admit(good, &defaults, &s, &err) == 0, "good spec: %s (%s)", err.message, err.field);
    CHECK(s.ndata == 1 && s.nmodels == 3 && s.ninference == 2 && s.repeats == 2, "grid sizes");
    CHECK(s.data[0].nn_train == 2 && s.data[0].n_train[0] == 100 && s.data[0].n_train[1] == 200, "sizes sorted, deduplicated");
    CHECK(strcmp(s.data[0].name, "fashion-mnist") == 0, "data named after its source: %s", s.data[0].name);
    CHECK(strcmp(s.models[0].name, "fcn") == 0 && strcmp(s.models[1].name, "fcn-2") == 0 &&
          strcmp(s.models[2].name, "cnn-gap") == 0, "model names %s %s %s", s.models[0].name, s.models[1].name,
          s.models[2].name);
    CHECK(s.models[0].depth == 2 && s.models[0].width == 128 && fabs(s.models[0].w_std - sqrt(2)) < 1e-16 &&
          s.models[0].b_std == 0 && s.models[0].readout_w_std == 1, "model defaults");
    CHECK(s.inference[0].ridge == 1e-4 && s.inference[1].ridge == 0.01, "ridge default and value");
    CHECK(dml_spec_points(&s) == 2 * 3 * 2 * 2, "points %zu", dml_spec_points(&s));
    CHECK(s.data[0].subset == DML_SUBSET_RANDOM && s.data[0].n_test == 50 && s.seed == 0, "data defaults");
    cJSON *r = dml_spec_resolved_json(&s);
    char *txt = dml_json_print(r);
    CHECK(strstr(txt, "\"subset\":\"random\"") && strstr(txt, "\"padding\":\"circular\"") && strstr(txt, "\"width\":128") &&
          strstr(txt, "\"path\":\"/usr/share/datasets/fashion-mnist\""), "resolved spec: %s", txt);
    /* the resolved spec parses back to the same grid */
    dml_spec s2;
    CHECK(parse_admit(txt, &defaults, &s2, &err) == 0 && dml_spec_points(&s2) == dml_spec_points(&s),
          "resolved spec round-trips: %s (%s)", err.message, err.field);
    dml_spec_free(&s2);
    free(txt);
    cJSON_Delete(r);
    dml_spec_free(&s);

    expect_error("not json", DML_ERR_INVALID_JSON, "");
    expect_error("[1, 2]", DML_ERR_INVALID_SPEC, "");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}, \"colour\": 1}",
                 DML_ERR_INVALID_SPEC, "colour");
    expect_error(WITH("[{\"arch\": \"fcn\"}, {\"arch\": \"cnn-vec\", \"filter\": [3, 3, 3]}]"), DML_ERR_INVALID_SPEC,
                 "models[1].filter");
    expect_error(WITH("[{\"arch\": \"fcn\"}, {\"arch\": \"cnn-vec\", \"filter\": 0}]"), DML_ERR_INVALID_SPEC, "models[1].filter");
    expect_error(WITH("{\"arch\": \"resnet\"}"), DML_ERR_INVALID_SPEC, "models.arch");
    expect_error(WITH("[{\"depth\": 2}]"), DML_ERR_INVALID_SPEC, "models[0].arch");
    expect_error(WITH("[{\"arch\": \"fcn\", \"depth\": \"2\"}]"), DML_ERR_INVALID_SPEC, "models[0].depth");
    expect_error(WITH("[{\"arch\": \"fcn\", \"depth\": 2.5}]"), DML_ERR_INVALID_SPEC, "models[0].depth");
    expect_error(WITH("[{\"arch\": \"fcn\", \"w_std\": 1e400}]"), DML_ERR_INVALID_SPEC, "models[0].w_std");
    expect_error(WITH("[{\"arch\": \"fcn\", \"w_std\": -1}]"), DML_ERR_INVALID_SPEC, "models[0].w_std");
    expect_error(WITH("[{\"arch\": \"fcn\", \"name\": \"a b\"}]"), DML_ERR_INVALID_SPEC, "models[0].name");
    expect_error(WITH("[{\"arch\": \"fcn\", \"parameterization\": \"standard\"}]"), DML_ERR_INVALID_SPEC,
                 "models[0].parameterization");
    expect_error(WITH("[{\"arch\": \"cnn-gap\", \"padding\": \"valid\", \"filter\": 29}]"), DML_ERR_INVALID_SPEC, "models[0].filter");
    expect_error(WITH("[{\"arch\": \"cnn-gap\", \"padding\": \"valid\", \"filter\": 8, \"depth\": 4}]"), DML_ERR_INVALID_SPEC, "models[0].filter");
    expect_error(WITH("[{\"arch\": \"fcn\", \"width\": 100000000}]"), DML_ERR_LIMIT, "models[0].width");
    expect_error(WITH("[{\"arch\": \"fcn\", \"width\": 0}]"), DML_ERR_INVALID_SPEC, "models[0].width");
    expect_error(WITH("[{\"arch\": \"fcn\", \"depth\": 33}]"), DML_ERR_LIMIT, "models[0].depth");
    /* the default depth limit is the deepest layer list: 31 is a limit error, 30 builds */
    expect_error(WITH("[{\"arch\": \"cnn-gap\", \"depth\": 31}]"), DML_ERR_LIMIT, "models[0].depth");
    {
        const char *deep30 = WITH("[{\"arch\": \"cnn-gap\", \"depth\": 30, \"filter\": [1]}]");
        int rc = parse_admit(deep30, &defaults, &s, &err);
        CHECK(rc == 0, "depth 30 is accepted: %s (%s)", err.message, err.field);
        if (rc == 0) dml_spec_free(&s);
    }
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [10, 70000]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_LIMIT, "data.n_train[1]");
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"n_test\": 20000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_LIMIT, "data.n_test");
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [-5]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data.n_train[0]");
    expect_error("{\"data\": [" BASE_DATA ", {\"source\": \"fashion-mnist\", \"n_train\": 10, \"resize\": 3}], \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data[1].resize");
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"path\": \"/etc\"}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data.path");
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"path\": \"/usr/share/datasets/../../../etc\"}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data.path");
    expect_error("{\"data\": {\"source\": \"mnist\", \"n_train\": 10}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data.path");
    expect_error("{\"data\": {\"source\": \"sphere\", \"shape\": [8, 1]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data.source");
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"transform\": [{\"kind\": \"flip\"}]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data.transform[0].kind");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"rmsprop\"}]}",
                 DML_ERR_INVALID_SPEC, "inference[1].method");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"sgd\", \"ridge\": 1}]}",
                 DML_ERR_INVALID_SPEC, "inference[1].ridge");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\", \"lr\": 0.1}}",
                 DML_ERR_INVALID_SPEC, "inference.lr");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"adam\", \"schedule\": \"linear\"}}",
                 DML_ERR_INVALID_SPEC, "inference.schedule");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"sgd\", \"epochs\": 0}}",
                 DML_ERR_INVALID_SPEC, "inference.epochs");
    {
        const char *tr = "{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"cnn-gap\", \"parameterization\": \"standard\"},"
                         " \"inference\": [{\"method\": \"sgd\"}, {\"method\": \"adam\", \"loss\": \"cross-entropy\"}, {\"method\": \"gd\"}]}";
        CHECK(parse_admit(tr, &defaults, &s, &err) == 0, "training methods with standard parameterization: %s (%s)",
              err.message, err.field);
        dml_train_config c0, c1;
        dml_arm_train_config(&s.inference[0], &s.models[0], &c0);
        dml_arm_train_config(&s.inference[1], &s.models[0], &c1);
        CHECK(c0.lr == 0.1 && c0.momentum == 0.9 && c1.lr == 1e-3 && c1.loss == DML_LOSS_CROSS_ENTROPY &&
                  s.inference[2].train.momentum == 0 && c0.epochs == 20 && c0.batch == 64,
              "training defaults");
        cJSON *r2 = dml_spec_resolved_json(&s);
        char *t2 = dml_json_print(r2);
        dml_spec s3;
        CHECK(parse_admit(t2, &defaults, &s3, &err) == 0, "resolved training spec round-trips: %s (%s)", err.message,
              err.field);
        dml_spec_free(&s3);
        free(t2);
        cJSON_Delete(r2);
        dml_spec_free(&s);
    }
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\", \"ridge\": -1}}",
                 DML_ERR_INVALID_SPEC, "inference.ridge");
    expect_error("{\"data\": " BASE_DATA ", \"models\": [], \"inference\": {\"method\": \"ntk\"}}", DML_ERR_INVALID_SPEC, "models");
    expect_error("{\"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}", DML_ERR_INVALID_SPEC, "data");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}, \"repeats\": 0}",
                 DML_ERR_INVALID_SPEC, "repeats");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}, \"repeats\": 101}",
                 DML_ERR_LIMIT, "repeats");
#define CHECKS(c) "{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"nngp\"}], \"checks\": " c "}"
    expect_error(CHECKS("{}"), DML_ERR_INVALID_SPEC, "checks");
    expect_error(CHECKS("[{\"arm\": \"fashion-mnist/fcn/sgd\", \"metric\": \"test_mse\", \"op\": \"<\", \"value\": 1}]"),
                 DML_ERR_INVALID_SPEC, "checks[0].arm");
    expect_error(CHECKS("[{\"arm\": \"fashion-mnist/fcn/ntk\", \"metric\": \"loss\", \"op\": \"<\", \"value\": 1}]"),
                 DML_ERR_INVALID_SPEC, "checks[0].metric");
    expect_error(CHECKS("[{\"arm\": \"fashion-mnist/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"=<\", \"value\": 1}]"),
                 DML_ERR_INVALID_SPEC, "checks[0].op");
    expect_error(CHECKS("[{\"arm\": \"fashion-mnist/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"value\": 1, \"n_train\": 11}]"),
                 DML_ERR_INVALID_SPEC, "checks[0].n_train");
    expect_error(CHECKS("[{\"arm\": \"fashion-mnist/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\"}]"),
                 DML_ERR_INVALID_SPEC, "checks[0].value");
    expect_error(CHECKS("[{\"arm\": \"fashion-mnist/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"value\": 1, \"than_arm\": \"fashion-mnist/fcn/nngp\"}]"),
                 DML_ERR_INVALID_SPEC, "checks[0].value");
    expect_error(CHECKS("[{\"arm\": \"fashion-mnist/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"value\": 1, \"tolerance\": 0.1}]"),
                 DML_ERR_INVALID_SPEC, "checks[0].tolerance");
    {
        const char *ok = CHECKS("[{\"arm\": \"fashion-mnist/fcn/ntk\", \"metric\": \"test_mse\", \"op\": \"<\", \"than_arm\": \"fashion-mnist/fcn/nngp\"}]");
        CHECK(parse_admit(ok, &defaults, &s, &err) == 0 && s.nchecks == 1 && s.checks[0].n_train == 10,
              "a check against another arm, n_train defaulting to the largest: %s", err.message);
        dml_spec_free(&s);
    }
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [60000], \"n_test\": 10000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_LIMIT, "data.n_train");
    {
        /* kernel matrices only count when a kernel method runs: training on all 60000 images is fine */
        const char *train_all = "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 2, \"n_train\": [60000], "
                                "\"n_test\": 10000}, \"models\": {\"arch\": \"fcn\", \"width\": 64}, "
                                "\"inference\": {\"method\": \"sgd\", \"epochs\": 1}}";
        int rc = parse_admit(train_all, &defaults, &s, &err);
        CHECK(rc == 0, "sgd on 60000 images is not limited by kernel-matrix memory: %s (%s)", err.message, err.field);
        if (rc == 0) dml_spec_free(&s);
    }
    /* a finite network whose training would not fit the memory limit is refused before it runs (16384
     * channels of 28x28 activations: about 50 MB per example and layer) */
    expect_error("{\"data\": " BASE_DATA ", \"models\": [{\"arch\": \"fcn\"}, {\"arch\": \"cnn-vec\", \"width\": 16384}], "
                 "\"inference\": {\"method\": \"sgd\", \"batch\": 256}}",
                 DML_ERR_LIMIT, "models[1].width");
    {
        /* ... the same model with a kernel method only has no width to hold */
        const char *k = "{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"cnn-vec\", \"width\": 16384}, "
                        "\"inference\": {\"method\": \"ntk\"}}";
        int rc = parse_admit(k, &defaults, &s, &err);
        CHECK(rc == 0, "width is ignored by kernel methods: %s (%s)", err.message, err.field);
        if (rc == 0) dml_spec_free(&s);
    }
    /* limits are configurable */
    dml_limits lim = defaults;
    lim.max_points = 3;
    const char *four = "{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [1,2,3,4]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}";
    CHECK(parse_admit(four, &lim, &s, &err) == -1 && err.code == DML_ERR_LIMIT, "max_points");
    /* deep nesting is rejected as not JSON (cJSON nesting limit), not a crash */
    char deep[4000];
    memset(deep, '[', 3000);
    deep[3000] = 0;
    expect_error(deep, DML_ERR_INVALID_JSON, "");
    return check_summary("spec");
}
