/* Spec validation (DESIGN section 3): every error names its field path; defaults are filled in. */
#include <stdlib.h>
#include <string.h>
#include "dmilab/admission.h"
#include "dmilab/json.h"
#include "dmilab/spec.h"
#include "check.h"
#include "idx_fixture.h"

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


/* Every number dmilab prints reads back as the same double (issue 9: cJSON prints 15 significant digits
 * when they are "close enough"), integers as integers; strings come back as they were. */
static void test_numbers(void)
{
    const double v[] = {0.1 + 0.2, 1.0 / 3, 9007199254740991.0, -9007199254740991.0, 1e300, 5e-324, -0.0, 2.5e-7,
                        0.8180000000000001, 1152921504606846976.0, -123456789.125, 4.35, 1e21, 0.0};
    int n = (int)(sizeof v / sizeof v[0]);
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
    cJSON_AddItemToArray(a, cJSON_CreateString("q\"b\\s/\n\t\x01 \xc3\xa9"));
    char *t = dml_json_print(a);
    cJSON *b = t ? cJSON_Parse(t) : NULL;
    int same = b && cJSON_GetArraySize(b) == n + 2;
    for (int i = 0; same && i < n; i++) {
        double x = cJSON_GetArrayItem(b, i)->valuedouble;
        same &= x == v[i] && signbit(x) == signbit(v[i]);
    }
    CHECK(same, "every number reads back exactly: %s", t ? t : "(null)");
    CHECK(b && cJSON_IsNull(cJSON_GetArrayItem(b, n)) &&
              strcmp(cJSON_GetArrayItem(b, n + 1)->valuestring, "q\"b\\s/\n\t\x01 \xc3\xa9") == 0,
          "NaN prints null; a string with quotes, escapes and UTF-8 comes back: %s", t ? t : "");
    CHECK(t && strstr(t, "[0.30000000000000004,0.3333333333333333,9007199254740991,-9007199254740991,1e+300,") &&
              strstr(t, ",-0,") && strstr(t, ",1152921504606846976,-123456789.125,4.35,1e+21,0,null,"),
          "shortest round-trip forms, integers as integers: %s", t ? t : "");
    free(t);
    cJSON_Delete(a);
    cJSON_Delete(b);
    char buf[40];
    dml_format_double(buf, sizeof buf, 0.1 + 0.2);
    CHECK(strcmp(buf, "0.30000000000000004") == 0, "dml_format_double: %s", buf);

    /* a seed of 2^53 - 1 survives the resolved spec: the server computes the experiment `dmilab run` does */
    const char *sj = "{\"seed\": 9007199254740991, \"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"n_test\": 10},"
                     " \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\", \"ridge\": 0.30000000000000004}}";
    dml_spec s, s2;
    dml_error err = {0};
    CHECK(parse_admit(sj, &defaults, &s, &err) == 0, "seed 2^53 - 1: %s", err.message);
    cJSON *r = dml_spec_resolved_json(&s);
    char *rt = dml_json_print(r);
    CHECK(rt && strstr(rt, "\"seed\":9007199254740991,") && dml_spec_parse(rt, strlen(rt), ROOT, &s2, &err) == 0 &&
              s2.seed == 9007199254740991ULL && s2.inference[0].ridge == 0.1 + 0.2,
          "the resolved spec keeps the seed and the ridge: %s", rt ? rt : "");
    if (rt && s2.data) dml_spec_free(&s2);
    free(rt);
    cJSON_Delete(r);
    dml_spec_free(&s);
}

/* "\u0000" would cut a C string there ("nul\u0000byte" stored as "nul", a path cut): refused naming the field. */
static void test_nul(void)
{
    expect_error("{\"name\": \"nul\\u0000byte\", \"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, "
                 "\"inference\": {\"method\": \"ntk\"}}", DML_ERR_INVALID_SPEC, "name");
    expect_error("{\"data\": [" BASE_DATA ", {\"source\": \"fashion-mnist\", \"n_train\": 10, "
                 "\"path\": \"/usr/share/datasets/fashion-mnist\\u0000/../../../etc\"}], \"models\": {\"arch\": \"fcn\"}, "
                 "\"inference\": {\"method\": \"ntk\"}}", DML_ERR_INVALID_SPEC, "data[1].path");
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"transform\": [{\"kind\": \"permutation\"},"
                 " {\"kind\": \"trans\\u0000lation\"}]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_INVALID_SPEC, "data.transform[1].kind");
    expect_error("{\"na\\u0000me\": \"x\", \"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, "
                 "\"inference\": {\"method\": \"ntk\"}}", DML_ERR_INVALID_SPEC, "na");
    /* an escaped backslash before u0000 is two characters '\' 'u', not a NUL */
    const char *ok = "{\"name\": \"a\\\\u0000b\", \"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, "
                     "\"inference\": {\"method\": \"ntk\"}}";
    dml_spec s;
    dml_error err = {0};
    CHECK(parse_admit(ok, &defaults, &s, &err) == 0 && strcmp(s.name, "a\\u0000b") == 0, "escaped backslash: %s",
          err.message);
    if (s.data) dml_spec_free(&s);
    CHECK(dml_spec_parse("{\"a\": 1} x", 10, ROOT, &s, &err) == -1 && err.code == DML_ERR_INVALID_JSON,
          "one JSON value only: %s", err.message);
    CHECK(dml_spec_parse("{\"a\": 1}\0", 9, ROOT, &s, &err) == -1 && err.code == DML_ERR_INVALID_JSON, "a NUL byte");
}

/* resize against the real image side (read from the IDX headers at parsing), never one pixel. */
static void test_resize(const char *tmp)
{
    char dir[600], json[1200];
    snprintf(dir, sizeof dir, "%s/d16", tmp);
    CHECK(fx_write_dir(dir, 50, 20, 16, 16, 3, -1) == 0, "write a 16x16 data directory");
    const char *fmt = "{\"data\": {\"source\": \"mnist\", \"path\": \"%s\", \"resize\": %d, \"n_train\": [%d], \"n_test\": 20},"
                      " \"models\": {\"arch\": \"cnn-gap\", \"filter\": 2}, \"inference\": {\"method\": \"ntk\"}}";
    dml_spec s;
    dml_error err = {0};
    snprintf(json, sizeof json, fmt, dir, 8, 40);
    int rc = dml_spec_parse(json, strlen(json), tmp, &s, &err) || dml_spec_admit(&s, &defaults, &err);
    dml_shape sh = rc ? (dml_shape){0} : dml_data_shape(&s.data[0]);
    CHECK(rc == 0 && s.data[0].rows == 16 && s.data[0].train_images == 50 && sh.size[0] == 2 && sh.size[1] == 2 &&
              sh.channels == 1,
          "16x16 images, resize 8: 2x2 inputs (%s)", err.message);
    if (s.data) dml_spec_free(&s);
    snprintf(json, sizeof json, fmt, dir, 7, 40);
    CHECK(dml_spec_parse(json, strlen(json), tmp, &s, &err) == -1 && strcmp(err.field, "data.resize") == 0 &&
              strstr(err.message, "16x16") && strstr(err.message, "1, 2, 4, 8"),
          "resize 7 does not divide 16: %s", err.message);
    snprintf(json, sizeof json, fmt, dir, 16, 40);
    CHECK(dml_spec_parse(json, strlen(json), tmp, &s, &err) == -1 && strcmp(err.field, "data.resize") == 0 &&
              strstr(err.message, "one pixel"),
          "resize 16 leaves one pixel: %s", err.message);
    snprintf(json, sizeof json, fmt, dir, 8, 60);
    CHECK(dml_spec_parse(json, strlen(json), tmp, &s, &err) == 0 && dml_spec_admit(&s, &defaults, &err) == -1 &&
              err.code == DML_ERR_INVALID_SPEC && strcmp(err.field, "data.n_train") == 0 && strstr(err.message, "50 training"),
          "n_train 60 of 50 images: %s", err.message);
    if (s.data) dml_spec_free(&s);
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"resize\": 28, \"n_train\": 10}, \"models\": {\"arch\": \"fcn\"},"
                 " \"inference\": {\"method\": \"ntk\"}}", DML_ERR_INVALID_SPEC, "data.resize");
    /* without file access (reading a stored resolved spec) nothing is checked against the images */
    snprintf(json, sizeof json, fmt, "/nowhere", 5, 40);
    CHECK(dml_spec_parse(json, strlen(json), NULL, &s, &err) == 0 && s.data[0].rows == 0 && !s.data_root[0] &&
              strcmp(s.data[0].path, "/nowhere") == 0,
          "parsed without a data root: %s", err.message);
    if (s.data) dml_spec_free(&s);
}

/* `tags`: at most 16 names of 1..32 characters, kept in the resolved spec. */
static void test_tags(void)
{
    const char *ok = "{\"tags\": [\"ci\", \"nightly-2.1\", \"A_b.c\"], \"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"},"
                     " \"inference\": {\"method\": \"ntk\"}}";
    dml_spec s;
    dml_error err = {0};
    CHECK(parse_admit(ok, &defaults, &s, &err) == 0 && s.ntags == 3 && strcmp(s.tags[1], "nightly-2.1") == 0, "tags: %s",
          err.message);
    cJSON *r = dml_spec_resolved_json(&s);
    char *t = dml_json_print(r);
    CHECK(t && strstr(t, "\"tags\":[\"ci\",\"nightly-2.1\",\"A_b.c\"]"), "resolved tags: %s", t ? t : "");
    free(t);
    cJSON_Delete(r);
    if (s.data) dml_spec_free(&s);
#define TAGS(t) "{\"tags\": " t ", \"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}"
    expect_error(TAGS("\"ci\""), DML_ERR_INVALID_SPEC, "tags");
    expect_error(TAGS("[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]"),
                 DML_ERR_INVALID_SPEC, "tags");
    expect_error(TAGS("[\"ok\", \"a b\"]"), DML_ERR_INVALID_SPEC, "tags[1]");
    expect_error(TAGS("[\"\"]"), DML_ERR_INVALID_SPEC, "tags[0]");
    expect_error(TAGS("[\"x23456789012345678901234567890123\"]"), DML_ERR_INVALID_SPEC, "tags[0]");
    expect_error(TAGS("[1]"), DML_ERR_INVALID_SPEC, "tags[0]");
    expect_error(TAGS("[\"ci\", \"ci\"]"), DML_ERR_INVALID_SPEC, "tags[1]");
}

/* Admission: a limit error carries its limit's id; memory counts the data too; the estimated time has a cap. */
static void test_admission(void)
{
    struct {
        const char *json;
        int limit;
        const char *field;
    } cases[] = {
        {"{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [10, 70000]}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
         DML_LIMIT_N_TRAIN, "data.n_train[1]"},
        {"{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": 10, \"n_test\": 20000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
         DML_LIMIT_N_TEST, "data.n_test"},
        {"{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}, \"repeats\": 1000}",
         DML_LIMIT_REPEATS, "repeats"},
        {WITH("[{\"arch\": \"fcn\"}, {\"arch\": \"fcn\", \"depth\": 31}]"), DML_LIMIT_DEPTH, "models[1].depth"},
        {WITH("{\"arch\": \"fcn\", \"width\": 20000}"), DML_LIMIT_WIDTH, "models.width"},
        /* the packed Gram of 60000 and a factor copy of 30000 (docs/tiles.md): about 18.9 GB over 16 GiB */
        {"{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [30000, 60000], \"n_test\": 10000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
         DML_LIMIT_MEMORY, "data.n_train"},
        /* about 2e9 s on one thread by the dry-run estimate (issue 9 saw 28,226 years accepted) */
        {"{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [20000], \"n_test\": 10000}, \"models\": {\"arch\": \"cnn-gap\","
         " \"depth\": 30}, \"inference\": {\"method\": \"ntk\"}, \"repeats\": 100}", DML_LIMIT_EXPERIMENT_SECONDS, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dml_spec s;
        dml_error err = {0};
        int rc = parse_admit(cases[i].json, &defaults, &s, &err);
        CHECK(rc == -1 && err.code == DML_ERR_LIMIT && err.limit == cases[i].limit && strcmp(err.field, cases[i].field) == 0,
              "case %zu: want %s at '%s', got %s (%s) at '%s': %s", i, dml_limit_name(cases[i].limit), cases[i].field,
              dml_code_name(err.code), dml_limit_name(err.limit), err.field, err.message);
    }
    /* other errors carry no limit id */
    {
        dml_spec s;
        dml_error err = {0};
        CHECK(parse_admit(WITH("{\"arch\": \"fcn\", \"depth\": -1}"), &defaults, &s, &err) == -1 && err.limit == 0,
              "an invalid value is not a limit");
    }
    /* --max-memory counts the data the runner holds: 100 x 100 kernel matrices are 400 KB, but the cached
     * Fashion-MNIST files (70000 images of 28 x 28 and their labels) are 55 MB */
    const char *small = "{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [100], \"n_test\": 100}, \"models\": {\"arch\": \"fcn\"},"
                        " \"inference\": {\"method\": \"ntk\"}}";
    dml_limits lim = defaults;
    lim.max_memory_bytes = 10 << 20;
    dml_spec s;
    dml_error err = {0};
    CHECK(parse_admit(small, &lim, &s, &err) == -1 && err.limit == DML_LIMIT_MEMORY, "10 MB is too little: %s",
          err.message);
    CHECK(parse_admit(small, &defaults, &s, &err) == 0, "the default limits: %s", err.message);
    if (s.data) {
        dml_unit_memory u;
        dml_unit_memory_estimate(&s, 0, 0, 1, &u);
        double cached = 70000.0 * (784 + 1), dataset = 200.0 * (8 * (784 + 10) + 4);
        CHECK(u.cached == cached && u.dataset == dataset && u.kernel >= 8.0 * (2 * 100 * 100 + 2 * 100 * 100) &&
                  u.train == 0 && u.total == u.cached + u.dataset + fmax(u.loading, u.kernel),
              "unit memory: cached %.0f (want %.0f), dataset %.0f (want %.0f), kernel %.0f, total %.0f", u.cached, cached,
              u.dataset, dataset, u.kernel, u.total);
        dml_spec_free(&s);
    }
    /* no limits at all (NULL) still checks the fit to the data */
    CHECK(dml_spec_parse(WITH("[{\"arch\": \"cnn-gap\", \"padding\": \"valid\", \"filter\": 29}]"),
                         strlen(WITH("[{\"arch\": \"cnn-gap\", \"padding\": \"valid\", \"filter\": 29}]")), ROOT, &s, &err) == 0 &&
              dml_spec_admit(&s, NULL, &err) == -1 && strcmp(err.field, "models[0].filter") == 0,
          "geometry without limits: %s", err.message);
    if (s.data) dml_spec_free(&s);
}

/* Default learning rates per parameterization, resolved per arm (DESIGN 3: the standard values are DESIGN's,
 * the ntk ones chosen by the sweep of docs/training.md); the resolved spec writes one number per method, or one
 * per parameterization when the method trains models of both. */
static void test_lr_defaults(void)
{
    const char *j = "{\"data\": " BASE_DATA ", \"models\": [{\"arch\": \"fcn\"}, {\"arch\": \"fcn\", \"parameterization\": \"standard\"}],"
                    " \"inference\": [{\"method\": \"gd\"}, {\"method\": \"sgd\"}, {\"method\": \"adam\"}, {\"method\": \"sgd\", \"lr\": 0.5},"
                    " {\"method\": \"adam\", \"lr\": {\"standard\": 0.002}}]}";
    dml_spec s, s2;
    dml_error err = {0};
    CHECK(parse_admit(j, &defaults, &s, &err) == 0, "mixed parameterizations: %s", err.message);
    if (!s.data) return;
    const double want[5][2] = {{1.0, 0.1}, {1.0, 0.1}, {0.01, 0.001}, {0.5, 0.5}, {0.01, 0.002}};
    int ok = 1;
    for (int i = 0; i < 5; i++)
        for (int m = 0; m < 2; m++) {
            dml_train_config c;
            dml_arm_train_config(&s.inference[i], &s.models[m], &c);
            ok &= c.lr == want[i][m];
        }
    CHECK(ok, "per arm: ntk gd 1, sgd 1, adam 0.01; standard 0.1, 0.1, 0.001; a given lr wins");
    cJSON *r = dml_spec_resolved_json(&s);
    char *t = dml_json_print(r);
    CHECK(t && strstr(t, "\"method\":\"gd\",\"lr\":{\"ntk\":1,\"standard\":0.1}") &&
              strstr(t, "\"method\":\"adam\",\"lr\":{\"ntk\":0.01,\"standard\":0.001}") &&
              strstr(t, "\"method\":\"sgd\",\"lr\":0.5,") && strstr(t, "\"lr\":{\"ntk\":0.01,\"standard\":0.002}"),
          "the resolved spec shows the rate of each parameterization: %s", t ? t : "");
    CHECK(t && dml_spec_parse(t, strlen(t), ROOT, &s2, &err) == 0, "it parses again: %s", err.message);
    if (t && s2.data) {
        ok = 1;
        for (int i = 0; i < 5; i++) ok &= s2.inference[i].lr[0] == s.inference[i].lr[0] && s2.inference[i].lr[1] == s.inference[i].lr[1];
        CHECK(ok, "to the same rates");
        dml_spec_free(&s2);
    }
    free(t);
    cJSON_Delete(r);
    dml_spec_free(&s);
    /* one parameterization in the grid: plain numbers */
    const char *k = "{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"cnn-vec\"}, \"inference\": [{\"method\": \"sgd\"}, {\"method\": \"adam\"}]}";
    CHECK(parse_admit(k, &defaults, &s, &err) == 0, "ntk only: %s", err.message);
    r = dml_spec_resolved_json(&s);
    t = dml_json_print(r);
    CHECK(t && strstr(t, "\"method\":\"sgd\",\"lr\":1,") && strstr(t, "\"method\":\"adam\",\"lr\":0.01,"),
          "ntk only: lr 1 and 0.01: %s", t ? t : "");
    free(t);
    cJSON_Delete(r);
    if (s.data) dml_spec_free(&s);
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"sgd\", \"lr\": {\"ntk\": -1}}}",
                 DML_ERR_INVALID_SPEC, "inference.lr.ntk");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"sgd\", \"lr\": {\"std\": 1}}}",
                 DML_ERR_INVALID_SPEC, "inference.lr.std");
    expect_error("{\"data\": " BASE_DATA ", \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"sgd\", \"lr\": \"1\"}}",
                 DML_ERR_INVALID_SPEC, "inference.lr");
}

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
                 DML_ERR_INVALID_SPEC, "data.target");
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
    expect_error("{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [30000, 60000], \"n_test\": 10000}, \"models\": {\"arch\": \"fcn\"}, \"inference\": {\"method\": \"ntk\"}}",
                 DML_ERR_LIMIT, "data.n_train");
    {
        /* the memory-lean kernel stage (issue 15): NNGP and NTK on all 60000 images fit 16 GiB (the packed Gram, about
         * 14.4 GB, one method at a time; the kernels themselves stay in tile files) */
        const char *full = "{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [60000], \"n_test\": 10000}, "
                           "\"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"ntk\"}, {\"method\": \"nngp\"}]}";
        int rc = parse_admit(full, &defaults, &s, &err);
        CHECK(rc == 0, "NNGP and NTK on n_train 60000 are admitted under 16 GiB: %s (%s)", err.message, err.field);
        if (rc == 0) dml_spec_free(&s);
    }
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
    test_numbers();
    test_nul();
    test_tags();
    test_admission();
    test_lr_defaults();
    char tmp[64];
    CHECK(check_tmpdir("spec", tmp, sizeof tmp) != NULL, "mkdtemp");
    test_resize(tmp);
    CHECK(check_rmdir(tmp) == 0, "cleanup");
    return check_summary("spec");
}
