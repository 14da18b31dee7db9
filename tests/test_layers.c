/* Explicit layer lists (model.layers, DESIGN 3.1): the four archs are presets of them, bit for bit in both
 * engines; the grammar's errors name the layer; the resolved model writes the list and parses back to itself.
 *
 *   - For 200 seeded random preset models (every arch, 1D and 2D, paddings, strides, depth 0-3, relu and erf,
 *     random scales and widths), the same model written as an explicit list (by hand here, not by the
 *     resolved-spec writer) gives the same dml_layers, the same NNGP and NTK (memcmp, cross and Gram), and
 *     finite networks with the same parameters, forward outputs and backward gradients (memcmp, float64 and
 *     float32, same seed).
 *   - Lists the presets cannot express (avg-pool, conv-local before gap, an activation after gap, dense on
 *     spatial inputs, flat inputs without flatten) are accepted by both engines.
 *   - Errors: the layer index in the field path (models[1].layers[3]), through dml_spec_parse and
 *     dml_spec_admit (a list that does not fit the data's input shape is admission's error); arch and layers
 *     together are one too many. */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "dmilab/admission.h"
#include "dmilab/kernel.h"
#include "dmilab/nn.h"
#include "dmilab/rng.h"
#include "dmilab/spec.h"
#include "reference.h"

#define DATA_ROOT "/usr/share/datasets"
/* the depth and width limits of a default server (server/config.c) */
static const dml_limits server_limits = {.max_depth = 30, .max_width = 16384};

static const char *act_word(dml_activation a) { return a == DML_ACT_ERF ? "erf" : "relu"; }

/* The preset of m as a JSON layer list with every field given, written from DESIGN 2.1's definitions. */
static char *preset_as_list(const dml_model *m)
{
    char filt[64], str[64], hid[512], buf[16384];
    if (m->nfilter > 1) snprintf(filt, sizeof filt, "[%d, %d]", m->filter[0], m->filter[1]);
    else snprintf(filt, sizeof filt, "[%d]", m->filter[0]);
    if (m->nstride > 1) snprintf(str, sizeof str, "[%d, %d]", m->stride[0], m->stride[1]);
    else snprintf(str, sizeof str, "[%d]", m->stride[0]);
    const char *pad = m->padding == DML_PAD_SAME ? "same" : m->padding == DML_PAD_VALID ? "valid" : "circular";
    if (m->arch == DML_ARCH_FCN)
        snprintf(hid, sizeof hid, "{\"dense\": {\"width\": %d, \"w_std\": %.17g, \"b_std\": %.17g}}", m->width, m->w_std,
                 m->b_std);
    else
        snprintf(hid, sizeof hid,
                 "{\"%s\": {\"width\": %d, \"filter\": %s, \"stride\": %s, \"padding\": \"%s\", \"w_std\": %.17g, "
                 "\"b_std\": %.17g}}",
                 m->arch == DML_ARCH_LCN ? "conv-local" : "conv", m->width, filt, str, pad, m->w_std, m->b_std);
    int n = snprintf(buf, sizeof buf, "{\"layers\": [%s", m->arch == DML_ARCH_FCN ? "{\"flatten\": {}}, " : "");
    for (int d = 0; d < m->depth; d++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s, {\"%s\": {}}, ", hid, act_word(m->activation));
    if (m->arch != DML_ARCH_FCN)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "{\"%s\": {}}, ", m->arch == DML_ARCH_CNN_GAP ? "gap" : "flatten");
    snprintf(buf + n, sizeof buf - (size_t)n, "{\"dense\": {\"w_std\": %.17g, \"b_std\": %.17g}}]}", m->readout_w_std,
             m->readout_b_std);
    return strdup(buf);
}

static int parse_model(const char *json, dml_model *m, dml_error *err)
{
    cJSON *o = cJSON_Parse(json);
    if (!o) return dml_fail(err, DML_ERR_INVALID_JSON, "", "bad test JSON: %s", json);
    int rc = dml_model_parse(o, "model", m, err);
    cJSON_Delete(o);
    return rc;
}

/* Finite network of model m: parameters, outputs and gradients, into one buffer. */
static double *net_numbers(const dml_model *m, const dml_shape *s, dml_precision prec, const double *x, size_t n,
                           const double *g, size_t *count)
{
    dml_layers L;
    dml_error err;
    if (dml_model_layers(m, s, 3, &L, &err)) return NULL;
    dml_net *net = dml_net_create(&L, m->parameterization, prec, 17, 2, 0, &err);
    if (!net) return NULL;
    size_t np = dml_net_num_params(net), D = dml_net_input_size(net);
    *count = np + n * 3 + np + n * D;
    double *out = malloc(sizeof *out * *count);
    dml_net_get_params(net, out);
    if (dml_net_backward(net, x, n, g, out + np, out + np + n * 3, out + 2 * np + n * 3, &err)) {
        free(out);
        out = NULL;
    }
    dml_net_free(net);
    return out;
}

static void preset_equals_list(dml_rng *r, int k)
{
    dml_model m;
    dml_model_defaults(&m);
    m.arch = (dml_arch)dml_rng_below(r, 4);
    m.activation = dml_rng_below(r, 2) ? DML_ACT_ERF : DML_ACT_RELU;
    m.depth = (int)dml_rng_below(r, 4);
    m.width = 1 + (int)dml_rng_below(r, 9);
    m.w_std = uniform(r, 0.5, 2.0);
    m.b_std = dml_rng_below(r, 2) ? uniform(r, 0.0, 0.6) : 0.0;
    m.readout_w_std = uniform(r, 0.5, 1.5);
    m.readout_b_std = dml_rng_below(r, 2) ? uniform(r, 0.0, 0.5) : 0.0;
    m.padding = (dml_padding)dml_rng_below(r, 3);
    m.parameterization = dml_rng_below(r, 2) ? DML_PARAM_NTK : DML_PARAM_STANDARD;
    dml_shape s = {.nd = 1 + (int)dml_rng_below(r, 2), .channels = 1 + (int)dml_rng_below(r, 3)};
    m.nfilter = m.nstride = dml_rng_below(r, 2) ? s.nd : 1;
    for (int a = 0; a < DML_MAX_SPATIAL; a++) {
        m.filter[a] = 1 + (int)dml_rng_below(r, 3);
        m.stride[a] = dml_rng_below(r, 3) ? 1 : 2;
    }
    if (m.nfilter == 1) m.filter[1] = m.filter[0], m.stride[1] = m.stride[0];
    for (int a = 0; a < s.nd; a++) {
        int need = 1;
        for (int l = 0; l < m.depth; l++) need = (need - 1) * m.stride[a] + m.filter[a];
        s.size[a] = need + (int)dml_rng_below(r, 4);
    }
    char *json = preset_as_list(&m);
    dml_model e;
    dml_error err;
    char label[96];
    snprintf(label, sizeof label, "#%d %s depth %d %dD", k, dml_arch_name(m.arch), m.depth, s.nd);
    int rc = parse_model(json, &e, &err);
    CHECK(rc == 0, "%s: %s: %s (%s)", label, json, err.message, err.field);
    if (rc) {
        free(json);
        return;
    }
    e.parameterization = m.parameterization;
    CHECK(e.nlayers == 2 * m.depth + 2 && e.arch == DML_ARCH_LAYERS, "%s: an explicit list of %d layers", label,
          e.nlayers);
    dml_layers L1, L2;
    CHECK(dml_model_layers(&m, &s, 3, &L1, &err) == 0 && dml_model_layers(&e, &s, 3, &L2, &err) == 0 &&
              memcmp(&L1, &L2, sizeof L1) == 0,
          "%s: the same layer list", label);
    size_t D = dml_shape_numel(&s), n1 = 3, n2 = 2;
    double *x1 = malloc(sizeof *x1 * n1 * D), *x2 = malloc(sizeof *x2 * n2 * D), g[3 * 3];
    for (size_t j = 0; j < n1 * D; j++) x1[j] = dml_rng_normal(r);
    for (size_t j = 0; j < n2 * D; j++) x2[j] = dml_rng_normal(r);
    for (int j = 0; j < 9; j++) g[j] = dml_rng_normal(r);
    if (m.parameterization == DML_PARAM_NTK) {
        double K1[9], T1[9], K2[9], T2[9];
        for (int gram = 0; gram < 2; gram++) {
            int a = dml_kernel(&m, &s, x1, n1, gram ? NULL : x2, gram ? n1 : n2, K1, T1, 2, &err);
            int b = dml_kernel(&e, &s, x1, n1, gram ? NULL : x2, gram ? n1 : n2, K2, T2, 2, &err);
            size_t nn = n1 * (gram ? n1 : n2);
            CHECK(a == 0 && b == 0 && memcmp(K1, K2, sizeof *K1 * nn) == 0 && memcmp(T1, T2, sizeof *T1 * nn) == 0,
                  "%s: %s kernels bit for bit", label, gram ? "Gram" : "cross");
        }
    }
    for (int prec = 0; prec < 2; prec++) {
        size_t c1 = 0, c2 = 0;
        double *a = net_numbers(&m, &s, prec ? DML_F32 : DML_F64, x1, n1, g, &c1);
        double *b = net_numbers(&e, &s, prec ? DML_F32 : DML_F64, x1, n1, g, &c2);
        CHECK(a && b && c1 == c2 && memcmp(a, b, sizeof *a * c1) == 0,
              "%s: finite network %s: parameters, forward and backward bit for bit", label, prec ? "f32" : "f64");
        free(a);
        free(b);
    }
    /* the resolved model writes the list and parses back to the same model */
    cJSON *j1 = dml_model_json(&e);
    char *t1 = cJSON_PrintUnformatted(j1);
    dml_model e2;
    cJSON *o = cJSON_Parse(t1);
    rc = dml_model_parse(o, "model", &e2, &err);
    cJSON *j2 = rc ? NULL : dml_model_json(&e2);
    char *t2 = j2 ? cJSON_PrintUnformatted(j2) : NULL;
    CHECK(t2 && strcmp(t1, t2) == 0, "%s: resolved model round-trips: %s / %s", label, t1, t2 ? t2 : err.message);
    /* and the preset's resolved form parses back to the same preset */
    cJSON *j3 = dml_model_json(&m);
    char *t3 = cJSON_PrintUnformatted(j3);
    dml_model m3;
    cJSON *o3 = cJSON_Parse(t3);
    rc = dml_model_parse(o3, "model", &m3, &err);
    CHECK(rc == 0 && m3.nlayers == 0 && m3.arch == m.arch && !strstr(t3, "\"layers\""),
          "%s: a preset resolves to its arch and fields and parses back to itself: %s (%s)", label, t3,
          rc ? err.message : "");
    cJSON_Delete(o3);
    cJSON_Delete(j3);
    free(t3);
    cJSON_Delete(o);
    cJSON_Delete(j1);
    cJSON_Delete(j2);
    free(t1);
    free(t2);
    free(json);
    free(x1);
    free(x2);
}

/* Lists beyond the presets: both engines accept them, and kernels come out finite and symmetric. */
static void beyond_presets(void)
{
    static const struct {
        const char *json;
        dml_shape s;
    } cases[] = {
        {"{\"layers\": [{\"conv\": {\"filter\": [3, 3]}}, {\"relu\": {}}, {\"avg-pool\": {\"window\": [2, 2]}}, "
         "{\"conv\": {}}, {\"relu\": {}}, {\"gap\": {}}, {\"dense\": {}}]}", {2, {6, 5}, 2}},
        {"{\"layers\": [{\"conv-local\": {\"filter\": [2]}}, {\"erf\": {}}, {\"gap\": {}}, {\"dense\": {}}]}",
         {1, {7, 0}, 2}},
        {"{\"layers\": [{\"conv\": {\"filter\": [3]}}, {\"relu\": {}}, {\"gap\": {}}, {\"dense\": {}}, {\"relu\": {}}, "
         "{\"dense\": {}}]}", {1, {6, 0}, 1}},
        {"{\"layers\": [{\"dense\": {\"width\": 5}}, {\"relu\": {}}, {\"flatten\": {}}, {\"dense\": {}}]}",
         {2, {3, 3}, 2}},
        {"{\"layers\": [{\"dense\": {}}, {\"erf\": {}}, {\"dense\": {}}]}", {0, {0, 0}, 6}},
        {"{\"layers\": [{\"relu\": {}}, {\"avg-pool\": {\"window\": [3], \"stride\": [2], \"padding\": \"valid\"}}, "
         "{\"flatten\": {}}, {\"dense\": {}}, {\"relu\": {}}, {\"dense\": {}}]}", {1, {9, 0}, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dml_model m;
        dml_error err;
        int rc = parse_model(cases[c].json, &m, &err);
        CHECK(rc == 0, "%s: %s (%s)", cases[c].json, err.message, err.field);
        if (rc) continue;
        m.width = 16;
        for (int l = 0; l < m.nlayers; l++) m.layers[l].width = 16;
        const dml_shape *s = &cases[c].s;
        size_t D = dml_shape_numel(s), n = 4;
        double x[4 * 64], K[16], T[16], f[12];
        dml_rng r;
        uint64_t key = 90 + c;
        dml_rng_seed(&r, &key, 1);
        for (size_t j = 0; j < n * D; j++) x[j] = dml_rng_normal(&r);
        rc = dml_kernel(&m, s, x, n, NULL, n, K, T, 2, &err);
        CHECK(rc == 0, "%s: kernel: %s", cases[c].json, err.message);
        int good = rc == 0;
        for (size_t a = 0; good && a < n; a++)
            for (size_t b = 0; b < n; b++)
                good &= isfinite(K[a * n + b]) && K[a * n + b] == K[b * n + a] && T[a * n + b] == T[b * n + a];
        CHECK(good, "%s: finite symmetric Gram matrices", cases[c].json);
        dml_layers L;
        rc = dml_model_layers(&m, s, 3, &L, &err);
        dml_net *net = rc ? NULL : dml_net_create(&L, DML_PARAM_NTK, DML_F64, 1, 1, 0, &err);
        CHECK(net && dml_net_forward(net, x, n, f, &err) == 0 && isfinite(f[0]), "%s: finite network: %s",
              cases[c].json, err.message);
        dml_net_free(net);
    }
}

static void expect(const char *models, dml_code code, const char *field)
{
    char spec[4096];
    snprintf(spec, sizeof spec,
             "{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [10], \"resize\": 4}, \"models\": %s, "
             "\"inference\": {\"method\": \"ntk\"}}", models);
    dml_spec s;
    dml_error err = {0};
    /* as a server does: parse within the data root, then admit against its default limits */
    int rc = dml_spec_parse(spec, strlen(spec), DATA_ROOT, &s, &err);
    if (rc == 0 && (rc = dml_spec_admit(&s, &server_limits, &err)) != 0) dml_spec_free(&s);
    CHECK(rc == -1 && err.code == code && strcmp(err.field, field) == 0,
          "%s: want %s at '%s', got rc %d %s at '%s' (%s)", models, dml_code_name(code), field, rc,
          dml_code_name(err.code), err.field, err.message);
    if (rc == 0) dml_spec_free(&s);
}

static void errors(void)
{
    const char *fcn = "{\"arch\": \"fcn\"}";
    char buf[1024];
#define TWO(second) (snprintf(buf, sizeof buf, "[%s, %s]", fcn, second), buf)
    expect(TWO("{\"layers\": [{\"conv\": {}}, {\"relu\": {}}, {\"flatten\": {}}, {\"conv\": {}}, {\"dense\": {}}]}"),
           DML_ERR_INVALID_SPEC, "models[1].layers[3]");
    expect(TWO("{\"layers\": [{\"conv\": {}}, {\"relu\": {}}, {\"dense\": {}}]}"), DML_ERR_INVALID_SPEC,
           "models[1].layers[2]");
    expect(TWO("{\"layers\": [{\"conv\": {}}, {\"relu\": {}}, {\"gap\": {}}]}"), DML_ERR_INVALID_SPEC,
           "models[1].layers[2]");
    expect(TWO("{\"layers\": [{\"conv\": {\"filter\": [3, 3, 3]}}, {\"gap\": {}}, {\"dense\": {}}]}"),
           DML_ERR_INVALID_SPEC, "models[1].layers[0].conv.filter");
    expect(TWO("{\"layers\": [{\"conv\": {\"stride\": [1, 2, 1]}}, {\"gap\": {}}, {\"dense\": {}}]}"),
           DML_ERR_INVALID_SPEC, "models[1].layers[0].conv.stride");
    expect(TWO("{\"layers\": [{\"conv\": {\"padding\": \"valid\", \"filter\": [9]}}, {\"gap\": {}}, {\"dense\": {}}]}"),
           DML_ERR_INVALID_SPEC, "models[1].layers[0].conv.filter");
    expect(TWO("{\"layers\": [{\"avg-pool\": {\"window\": [9], \"padding\": \"valid\"}}, {\"gap\": {}}, "
               "{\"dense\": {}}]}"), DML_ERR_INVALID_SPEC, "models[1].layers[0].avg-pool.window");
    expect(TWO("{\"layers\": [{\"avg-pool\": {}}, {\"gap\": {}}, {\"dense\": {}}]}"), DML_ERR_INVALID_SPEC,
           "models[1].layers[0].avg-pool.window");
    expect(TWO("{\"layers\": [{\"maxpool\": {}}, {\"dense\": {}}]}"), DML_ERR_INVALID_SPEC, "models[1].layers[0]");
    expect(TWO("{\"layers\": [{\"relu\": {}, \"gap\": {}}, {\"dense\": {}}]}"), DML_ERR_INVALID_SPEC,
           "models[1].layers[0]");
    expect(TWO("{\"layers\": [{\"relu\": {\"width\": 3}}, {\"flatten\": {}}, {\"dense\": {}}]}"), DML_ERR_INVALID_SPEC,
           "models[1].layers[0].relu.width");
    expect(TWO("{\"layers\": [{\"flatten\": {}}, {\"dense\": {\"width\": 10}}]}"), DML_ERR_INVALID_SPEC,
           "models[1].layers[1].dense.width");
    expect(TWO("{\"layers\": []}"), DML_ERR_INVALID_SPEC, "models[1].layers");
    expect(TWO("{\"layers\": [{\"flatten\": {}}, {\"dense\": {\"width\": 100000}}, {\"dense\": {}}]}"), DML_ERR_LIMIT,
           "models[1].layers[1].dense.width");
    expect(TWO("{\"layers\": [{\"flatten\": {}}, {\"dense\": {}}], \"depth\": 3}"), DML_ERR_INVALID_SPEC,
           "models[1].depth");
    expect(TWO("{\"arch\": \"cnn-gap\", \"layers\": [{\"flatten\": {}}, {\"dense\": {}}]}"), DML_ERR_INVALID_SPEC,
           "models[1].layers");
    expect(TWO("{\"depth\": 2}"), DML_ERR_INVALID_SPEC, "models[1].arch");
    expect(TWO("{\"arch\": \"cnn-vec\", \"depth\": 1, \"layers\": [{\"conv\": {}}, {\"relu\": {}}, "
               "{\"flatten\": {}}, {\"dense\": {}}]}"), DML_ERR_INVALID_SPEC, "models[1].layers");
    /* accepted: a preset, and a list alone; their resolved specs parse back to themselves */
    const char *ok[] = {
        "[{\"arch\": \"cnn-vec\", \"depth\": 1, \"filter\": [3, 3]}]",
        "[{\"layers\": [{\"conv\": {\"width\": 8}}, {\"relu\": {}}, {\"avg-pool\": {\"window\": 2, \"stride\": 2}}, "
        "{\"flatten\": {}}, {\"dense\": {}}]}]",
    };
    for (int i = 0; i < 2; i++) {
        char spec[2048];
        snprintf(spec, sizeof spec,
                 "{\"data\": {\"source\": \"fashion-mnist\", \"n_train\": [10], \"resize\": 4}, \"models\": %s, "
                 "\"inference\": [{\"method\": \"ntk\"}, {\"method\": \"sgd\"}]}", ok[i]);
        dml_spec s;
        dml_error err = {0};
        int rc = dml_spec_parse(spec, strlen(spec), NULL, &s, &err);
        CHECK(rc == 0, "%s: %s (%s)", ok[i], err.message, err.field);
        if (rc) continue;
        CHECK(strcmp(s.models[0].name, i ? "layers" : "cnn-vec") == 0, "default name %s", s.models[0].name);
        cJSON *res = dml_spec_resolved_json(&s);
        char *t = cJSON_PrintUnformatted(res);
        dml_spec s2;
        rc = dml_spec_parse(t, strlen(t), NULL, &s2, &err);
        cJSON *res2 = rc ? NULL : dml_spec_resolved_json(&s2);
        char *t2 = res2 ? cJSON_PrintUnformatted(res2) : NULL;
        CHECK(t2 && strcmp(t, t2) == 0 && (i == 0) == !strstr(t, "\"layers\":["),
              "resolved spec round-trips (a list writes its layers, a preset its arch): %s / %s", t, t2 ? t2 : err.message);
        if (!rc) dml_spec_free(&s2);
        cJSON_Delete(res);
        cJSON_Delete(res2);
        free(t);
        free(t2);
        dml_spec_free(&s);
    }
}

int main(void)
{
    dml_rng r;
    uint64_t key = 31;
    dml_rng_seed(&r, &key, 1);
    for (int k = 0; k < 200; k++) preset_equals_list(&r, k);
    beyond_presets();
    errors();
    return check_summary("layers");
}
