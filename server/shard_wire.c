/* dmilab server: points and report payloads on the wire. See shard_wire.h. */
#include "shard_wire.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dmilab/json.h"
#include "dmilab/results.h"
#include "dmilab/sha256.h"

cJSON *wire_point_json(const dml_point *p, int arm_index)
{
    cJSON *o = dml_point_json(p);
    if (o)
        cJSON_AddNumberToObject(o, "arm_index", arm_index);
    return o;
}

static int text_field(const cJSON *o, const char *k, char *dst, size_t cap, char *err, size_t ecap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) {
        snprintf(err, ecap, "point.%s: expected a string of at most %zu bytes", k, cap - 1);
        return -1;
    }
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

static double number_field(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int wire_point_parse(const cJSON *o, point_list *out, char *err, size_t cap)
{
    dml_point p;
    memset(&p, 0, sizeof p);
    if (!cJSON_IsObject(o)) {
        snprintf(err, cap, "point: expected an object");
        return -1;
    }
    if (text_field(o, "arm", p.arm, sizeof p.arm, err, cap) || text_field(o, "data", p.data, sizeof p.data, err, cap) ||
        text_field(o, "model", p.model, sizeof p.model, err, cap) ||
        text_field(o, "inference", p.inference, sizeof p.inference, err, cap))
        return -1;
    double n = number_field(o, "n_train"), r = number_field(o, "repeat"), ai = number_field(o, "arm_index");
    if (!(n >= 1 && n <= 1e12 && n == floor(n)) || !(r >= 0 && r <= 1e9 && r == floor(r)) ||
        !(ai >= 0 && ai <= 1e9 && ai == floor(ai))) {
        snprintf(err, cap, "point: n_train, repeat and arm_index must be non-negative integers");
        return -1;
    }
    p.n_train = (size_t)n;
    p.repeat = (int)r;
    p.test_mse = number_field(o, "test_mse");
    p.test_accuracy = number_field(o, "test_accuracy");
    p.train_mse = number_field(o, "train_mse");
    p.seconds = number_field(o, "seconds");
    dml_train_epoch *curve = NULL;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "training_curve");
    if (c && dml_training_curve_parse(c, &curve, &p.n_curve) != 0) {
        snprintf(err, cap, "point.training_curve: expected an array of epochs");
        return -1;
    }
    p.curve = curve;
    int rc = point_list_add(out, &p, (int)ai);   /* copies the curve */
    free(curve);
    if (rc)
        snprintf(err, cap, "out of memory");
    return rc;
}

static cJSON *doubles(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; v && a && i < n; i++)
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

cJSON *wire_spectrum_json(const dml_arm_spectrum *a, int arm_index)
{
    const dml_spectrum *sp = a->spectrum;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arm", a->arm);
    cJSON_AddStringToObject(o, "data", a->data);
    cJSON_AddStringToObject(o, "model", a->model);
    cJSON_AddStringToObject(o, "inference", a->inference);
    cJSON_AddNumberToObject(o, "arm_index", arm_index);
    cJSON_AddNumberToObject(o, "ridge", a->ridge);
    cJSON_AddNumberToObject(o, "label_noise", a->label_noise);
    cJSON_AddNumberToObject(o, "seconds", a->seconds);
    cJSON_AddItemToObject(o, "predicted", dml_predictions_json(a->pred, a->npred));
    cJSON_AddNumberToObject(o, "n", (double)sp->n);
    cJSON_AddNumberToObject(o, "k", (double)sp->k);
    cJSON_AddNumberToObject(o, "target_power", sp->target_power);
    cJSON_AddNumberToObject(o, "trace", sp->trace);
    cJSON_AddNumberToObject(o, "alignment", sp->alignment);
    cJSON_AddNumberToObject(o, "effective_dimension", sp->effective_dimension);
    cJSON_AddItemToObject(o, "eigenvalue", doubles(sp->eigenvalue, sp->n));
    if (sp->power)
        cJSON_AddItemToObject(o, "power", doubles(sp->power, sp->n));
    if (sp->cumulative)
        cJSON_AddItemToObject(o, "cumulative", doubles(sp->cumulative, sp->n));
    return o;
}

/* An array of n numbers (null as NaN), malloc'd; NULL when absent (ok) or malformed (*bad). */
static double *parse_doubles(const cJSON *a, size_t n, int *bad)
{
    if (!a)
        return NULL;
    double *v = cJSON_IsArray(a) && (size_t)cJSON_GetArraySize(a) == n ? malloc(n * sizeof *v + 1) : NULL;
    size_t i = 0;
    for (const cJSON *x = v ? a->child : NULL; x; x = x->next)
        v[i++] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
    if (!v)
        *bad = 1;
    return v;
}

int wire_spectrum_parse(const cJSON *o, spectrum_list *out, char *err, size_t cap)
{
    dml_arm_spectrum a;
    dml_spectrum sp;
    memset(&a, 0, sizeof a);
    memset(&sp, 0, sizeof sp);
    if (text_field(o, "arm", a.arm, sizeof a.arm, err, cap) || text_field(o, "data", a.data, sizeof a.data, err, cap) ||
        text_field(o, "model", a.model, sizeof a.model, err, cap) ||
        text_field(o, "inference", a.inference, sizeof a.inference, err, cap))
        return -1;
    double n = number_field(o, "n"), k = number_field(o, "k"), ai = number_field(o, "arm_index");
    if (!(n >= 1 && n <= (double)(1 << 27) && n == floor(n)) || !(k >= 0 && k <= 1e6 && k == floor(k)) ||
        !(ai >= 0 && ai <= 1e9 && ai == floor(ai))) {
        snprintf(err, cap, "spectrum: n, k and arm_index must be integers in range");
        return -1;
    }
    sp.n = (size_t)n;
    sp.k = (size_t)k;
    sp.target_power = number_field(o, "target_power");
    sp.trace = number_field(o, "trace");
    sp.alignment = number_field(o, "alignment");
    sp.effective_dimension = number_field(o, "effective_dimension");
    a.ridge = number_field(o, "ridge");
    a.label_noise = number_field(o, "label_noise");
    a.seconds = number_field(o, "seconds");
    int bad = 0;
    sp.eigenvalue = parse_doubles(cJSON_GetObjectItemCaseSensitive(o, "eigenvalue"), sp.n, &bad);
    sp.power = parse_doubles(cJSON_GetObjectItemCaseSensitive(o, "power"), sp.n, &bad);
    sp.cumulative = parse_doubles(cJSON_GetObjectItemCaseSensitive(o, "cumulative"), sp.n, &bad);
    int np = dml_predictions_parse(cJSON_GetObjectItemCaseSensitive(o, "predicted"), a.pred, DML_MAX_SIZES);
    if (bad || !sp.eigenvalue || np < 0) {
        free(sp.eigenvalue);
        free(sp.power);
        free(sp.cumulative);
        snprintf(err, cap, "spectrum: eigenvalue, power, cumulative (n numbers each) and predicted are required");
        return -1;
    }
    a.npred = np;
    a.spectrum = &sp;
    if (spectrum_list_adopt(out, &a, &sp, (int)ai) != 0) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

int wire_pack_bytes(cJSON *body, const void *bytes, size_t n, int level)
{
    uLongf zn = compressBound((uLong)n);
    unsigned char *z = malloc(zn);
    char *b64 = NULL;
    char hex[DML_SHA256_HEX];
    int rc = -1;
    if (!z || compress2(z, &zn, (const Bytef *)bytes, (uLong)n, level) != Z_OK || dml_sha256_hex(bytes, n, hex))
        goto out;
    b64 = malloc(4 * ((zn + 2) / 3) + 1);
    if (!b64)
        goto out;
    EVP_EncodeBlock((unsigned char *)b64, z, (int)zn);
    cJSON_AddStringToObject(body, "encoding", "zlib+base64");
    cJSON_AddNumberToObject(body, "size", (double)n);
    cJSON_AddStringToObject(body, "sha256", hex);
    rc = cJSON_AddStringToObject(body, "data", b64) ? 0 : -1;
out:
    free(b64);
    free(z);
    return rc;
}

int wire_pack(cJSON *body, const cJSON *result)
{
    char *text = dml_json_print(result);
    if (!text)
        return -1;
    int rc = wire_pack_bytes(body, text, strlen(text), 6);
    cJSON_free(text);
    return rc;
}

void *wire_unpack_bytes(const cJSON *body, size_t min_size, size_t max_size, size_t *len, char *err, size_t cap,
                        char field[64])
{
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(body, "encoding"), *size = cJSON_GetObjectItemCaseSensitive(body, "size"),
                *sha = cJSON_GetObjectItemCaseSensitive(body, "sha256"), *data = cJSON_GetObjectItemCaseSensitive(body, "data");
    field[0] = '\0';
#define BAD(f, ...) do { snprintf(field, 64, "%s", f); snprintf(err, cap, __VA_ARGS__); goto fail; } while (0)
    unsigned char *z = NULL;
    char *text = NULL;
    if (!cJSON_IsString(enc) || strcmp(enc->valuestring, "zlib+base64") != 0)
        BAD("encoding", "encoding: expected \"zlib+base64\"");
    if (!cJSON_IsNumber(size) || size->valuedouble < (double)min_size || size->valuedouble > (double)max_size)
        BAD("size", "size: expected the byte length of the payload, %zu to %zu", min_size, max_size);
    if (!cJSON_IsString(sha) || strlen(sha->valuestring) != 64)
        BAD("sha256", "sha256: expected 64 hex digits");
    if (!cJSON_IsString(data))
        BAD("data", "data: expected base64 text");
    size_t blen = strlen(data->valuestring), n = (size_t)size->valuedouble;
    if (blen % 4 != 0)
        BAD("data", "data: base64 text whose length is not a multiple of 4 (truncated?)");
    z = malloc(blen / 4 * 3 + 1);
    text = malloc(n + 1);
    if (!z || !text)
        BAD("data", "out of memory");
    int zn = EVP_DecodeBlock(z, (const unsigned char *)data->valuestring, (int)blen);
    if (zn < 0)
        BAD("data", "data: not base64");
    while (blen > 0 && data->valuestring[blen - 1] == '=') {   /* EVP_DecodeBlock counts the padding as zeros */
        blen--;
        zn--;
    }
    uLongf tn = (uLongf)n;
    if (uncompress((Bytef *)text, &tn, z, (uLong)zn) != Z_OK || tn != n)
        BAD("data", "data: not a zlib stream of %zu bytes (corrupt or truncated)", n);
    text[n] = '\0';
    char hex[DML_SHA256_HEX];
    if (dml_sha256_hex(text, n, hex) || strcmp(hex, sha->valuestring) != 0)
        BAD("sha256", "sha256: the payload's checksum does not match its data (corrupted in transit)");
#undef BAD
    free(z);
    *len = n;
    return text;
fail:
    free(z);
    free(text);
    return NULL;
}

cJSON *wire_unpack(const cJSON *body, size_t max_size, char *err, size_t cap, char field[64])
{
    size_t n;
    char *text = wire_unpack_bytes(body, 2, max_size, &n, err, cap, field);
    if (!text)
        return NULL;
    cJSON *out = cJSON_ParseWithLength(text, n);
    free(text);
    if (!out) {
        snprintf(field, 64, "data");
        snprintf(err, cap, "data: the result is not JSON");
    }
    return out;
}

cJSON *wire_audit_json(const dml_audit_entry *e, int arm_index)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "arm", e->arm);
    cJSON_AddStringToObject(o, "data", e->data);
    cJSON_AddStringToObject(o, "model", e->model);
    cJSON_AddStringToObject(o, "inference", e->inference);
    cJSON_AddNumberToObject(o, "arm_index", arm_index);
    cJSON_AddStringToObject(o, "group", dml_transform_name(e->group));
    cJSON_AddStringToObject(o, "method", dml_audit_method_name(e->method));
    cJSON_AddNumberToObject(o, "n_train", (double)e->n_train);
    /* a gap may be +inf (dml_audit_gap): JSON has no infinity, so it travels as the string "inf" */
    if (isinf(e->gap))
        cJSON_AddStringToObject(o, "gap", "inf");
    else
        cJSON_AddNumberToObject(o, "gap", e->gap);
    cJSON_AddNumberToObject(o, "seed_gap", e->seed_gap);
    cJSON_AddNumberToObject(o, "threshold", e->threshold);
    cJSON_AddBoolToObject(o, "invariant", e->invariant != 0);
    cJSON_AddNumberToObject(o, "seconds", e->seconds);
    return o;
}

int wire_audit_parse(const cJSON *o, audit_list *out, char *err, size_t cap)
{
    dml_audit_entry e;
    memset(&e, 0, sizeof e);
    if (!cJSON_IsObject(o)) {
        snprintf(err, cap, "audit: expected an object");
        return -1;
    }
    if (text_field(o, "arm", e.arm, sizeof e.arm, err, cap) || text_field(o, "data", e.data, sizeof e.data, err, cap) ||
        text_field(o, "model", e.model, sizeof e.model, err, cap) ||
        text_field(o, "inference", e.inference, sizeof e.inference, err, cap))
        return -1;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "group"), *m = cJSON_GetObjectItemCaseSensitive(o, "method");
    const cJSON *inv = cJSON_GetObjectItemCaseSensitive(o, "invariant"), *gap = cJSON_GetObjectItemCaseSensitive(o, "gap");
    int gk = -1, mk = -1;
    for (int k = 0; cJSON_IsString(g) && k < DML_N_TRANSFORMS; k++)
        if (strcmp(g->valuestring, dml_transform_name((dml_transform_kind)k)) == 0)
            gk = k;
    for (int k = 0; cJSON_IsString(m) && k < 3; k++)
        if (strcmp(m->valuestring, dml_audit_method_name((dml_audit_method)k)) == 0)
            mk = k;
    double n = number_field(o, "n_train"), ai = number_field(o, "arm_index");
    if (gk < 0 || mk < 0 || !cJSON_IsBool(inv) || !(n >= 1 && n <= 1e12 && n == floor(n)) ||
        !(ai >= 0 && ai <= 1e9 && ai == floor(ai))) {
        snprintf(err, cap, "audit: group, method, invariant, n_train and arm_index are required");
        return -1;
    }
    e.group = (dml_transform_kind)gk;
    e.method = (dml_audit_method)mk;
    e.n_train = (size_t)n;
    e.gap = cJSON_IsString(gap) && strcmp(gap->valuestring, "inf") == 0 ? INFINITY : number_field(o, "gap");
    e.seed_gap = number_field(o, "seed_gap");
    e.threshold = number_field(o, "threshold");
    e.invariant = cJSON_IsTrue(inv);
    e.seconds = number_field(o, "seconds");
    if (audit_list_add(out, &e, (int)ai) != 0) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

int audit_list_add(audit_list *l, const dml_audit_entry *e, int arm_index)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        dml_audit_entry *v = realloc(l->v, cap * sizeof *v);
        int *ai = v ? realloc(l->arm_index, cap * sizeof *ai) : NULL;
        if (v)
            l->v = v;
        if (!ai)
            return -1;
        l->arm_index = ai;
        l->cap = cap;
    }
    l->v[l->n] = *e;
    l->arm_index[l->n++] = arm_index;
    return 0;
}

void audit_list_free(audit_list *l)
{
    free(l->v);
    free(l->arm_index);
    memset(l, 0, sizeof *l);
}
