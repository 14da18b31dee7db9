/* dmilab server: the coordinator's side of tile shards. See cluster_tiles.h and docs/cluster.md. */
#include "cluster_tiles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "dmilab/cost.h"
#include "dmilab/kernel.h"
#include "dmilab/ridge_packed.h"
#include "dmilab/sha256.h"
#include "dmilab/tile_cache.h"
#include "shard_wire.h"
#include "store_shard_tiles.h"
#include "util.h"

int cluster_tile_groups(const app *a, const dml_spec *s, int d, int m, size_t *rows, size_t **bounds)
{
    const dml_data_spec *ds = &s->data[d];
    const dml_model *mod = &s->models[m];
    dml_shape shape = dml_data_shape(ds);
    size_t N = ds->n_train[ds->nn_train - 1];
    int threads = a->cfg->threads > 0 ? a->cfg->threads : 1;
    *rows = a->cfg->tile_rows > 0 ? (size_t)a->cfg->tile_rows : dml_tile_rows_for(mod, &shape, N, threads, 2.0);
    dml_tiling tg;
    dml_tiling_init(&tg, N, ds->n_test, *rows);
    size_t total = tg.ngram + tg.ncross, *b = malloc((total + 2) * sizeof *b);
    if (!(*bounds = b))
        return -1;
    int g = 0;
    double acc = 0;
    b[0] = 0;
    for (size_t i = 0; i < total; i++) {
        if (a->cfg->shard_tiles > 0) {
            if (i + 1 - b[g] >= (size_t)a->cfg->shard_tiles)
                b[++g] = i + 1;
            continue;
        }
        dml_tile t;
        dml_tiling_tile(&tg, i, &t);
        dml_kernel_cost c;
        dml_kernel_cost_estimate(mod, &shape, t.r1 - t.r0, t.ncols, 0, threads, &c);
        if ((acc += c.seconds) >= (double)a->cfg->shard_seconds) {
            b[++g] = i + 1;
            acc = 0;
        }
    }
    if (b[g] != total)
        b[++g] = total;
    return g;
}

double cluster_tile_share(const app *a, const dml_spec *s, int d, int m)
{
    const dml_data_spec *ds = &s->data[d];
    dml_shape shape = dml_data_shape(ds);
    size_t N = ds->n_train[ds->nn_train - 1], M = ds->n_test;
    int threads = a->cfg->threads > 0 ? a->cfg->threads : 1, nsolve = 0;
    dml_kernel_cost gc, cc;
    dml_kernel_cost_estimate(&s->models[m], &shape, N, N, 1, threads, &gc);
    dml_kernel_cost_estimate(&s->models[m], &shape, M, N, 0, threads, &cc);
    for (int i = 0; i < s->ninference; i++)
        nsolve += dml_method_is_kernel(s->inference[i].method);
    int outs = dml_data_outputs(ds);
    size_t k = (size_t)(outs > 0 ? outs : 1);
    double solve = nsolve * dml_ridge_curve_flops(M, k, ds->n_train, (size_t)ds->nn_train) * DML_SEC_PER_SOLVE_FLOP;
    double ks = gc.seconds + cc.seconds;
    return ks + solve > 0 ? ks / (ks + solve) : 0.5;
}

char *cluster_tile_unit(int d, int m, int rep, const dml_tiling *tg, size_t first, size_t end)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "{\"data\":%d,\"model\":%d,\"repeat\":%d,\"rows\":%zu,\"n\":%zu,\"m\":%zu", d, m, rep,
                     tg->rows, tg->N, tg->M);
    if (end > first)
        snprintf(buf + n, sizeof buf - (size_t)n, ",\"first\":%zu,\"end\":%zu}", first, end);
    else
        snprintf(buf + n, sizeof buf - (size_t)n, "}");
    return strdup(buf);
}

static long unit_long(const cJSON *u, const char *k, long lo)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(u, k);
    return cJSON_IsNumber(v) && v->valuedouble >= (double)lo && v->valuedouble < 1e12 &&
                   v->valuedouble == floor(v->valuedouble) ? (long)v->valuedouble : -1;
}

int cluster_tile_unit_parse(const cJSON *unit, dml_tiling *tg, size_t *first, size_t *end)
{
    long rows = unit_long(unit, "rows", 1), n = unit_long(unit, "n", 1), m = unit_long(unit, "m", 0);
    long f = unit_long(unit, "first", 0), e = unit_long(unit, "end", 1);
    if (rows < 1 || n < 1 || m < 0)
        return -1;
    dml_tiling_init(tg, (size_t)n, (size_t)m, (size_t)rows);
    *first = f >= 0 && e > f ? (size_t)f : 0;
    *end = f >= 0 && e > f ? (size_t)e : 0;
    return *end > tg->ngram + tg->ncross ? -1 : 0;
}

int cluster_claim_tiles(app *a, const store_shard *sh, cJSON *shard)
{
    int tile = strcmp(sh->kind, "tile") == 0;
    if (!tile && strcmp(sh->kind, "solve") != 0)
        return 0;
    char key[DML_SHA256_HEX];
    long *v = NULL;
    size_t n = 0;
    int r = store_shard_tiles_of(a->st, sh->experiment_id, tile ? sh->idx : sh->after_from,
                                 tile ? sh->idx + 1 : sh->after_to, key, &v, &n);
    if (r < 0)
        return r;
    cJSON *t = cJSON_AddObjectToObject(shard, "tiles");
    cJSON_AddItemToObject(t, "key", key[0] ? cJSON_CreateString(key) : cJSON_CreateNull());
    cJSON *arr = cJSON_AddArrayToObject(t, "stored");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)v[i]));
    free(v);
    return 0;
}

static int cmp_long(const void *x, const void *y)
{
    long p = *(const long *)x, q = *(const long *)y;
    return (p > q) - (p < q);
}

static int bsearch_long(const long *k, const long *v, size_t n)
{
    return bsearch(k, v, n, sizeof *v, cmp_long) != NULL;
}

static int bad(char *err, size_t cap, char field[64], const char *f, const char *msg)
{
    snprintf(field, 64, "%s", f);
    snprintf(err, cap, "%s", msg);
    return CLUSTER_BAD;
}

static const char *hex_field(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 64)
        return NULL;
    for (const char *c = v->valuestring; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return NULL;
    return v->valuestring;
}

/* The tile numbered by req's "tile" in the tiling of `unit`, within [first, end) when end > 0. */
static int tile_of(const char *unit, const cJSON *req, int in_range, dml_tile *t, long *number)
{
    cJSON *u = cJSON_Parse(unit);
    dml_tiling tg;
    size_t first, end;
    int ok = u && cluster_tile_unit_parse(u, &tg, &first, &end) == 0;
    cJSON_Delete(u);
    *number = unit_long(req, "tile", 0);
    if (!ok || *number < 0 || (size_t)*number >= tg.ngram + tg.ncross ||
        (in_range && ((size_t)*number < first || (size_t)*number >= end)))
        return -1;
    dml_tiling_tile(&tg, (size_t)*number, t);
    return 0;
}

int cluster_tile_report(app *a, const char *id, int idx, const char *worker, const cJSON *req, cJSON **answer, char *err,
                        size_t cap, char field[64])
{
    const char *key = hex_field(req, "key"), *sk = hex_field(req, "sha256_nngp"), *st = hex_field(req, "sha256_ntk");
    if (!key)
        return bad(err, cap, field, "key", "key: expected the kernel's key, 64 lowercase hex digits");
    if (!sk || !st)
        return bad(err, cap, field, sk ? "sha256_ntk" : "sha256_nngp",
                   "sha256_nngp, sha256_ntk: expected the SHA-256 of each half of the tile, 64 lowercase hex digits");
    char kind[16], *unit = NULL;
    int r = store_shard_unit(a->st, id, idx, worker, kind, &unit);
    if (r < 0) {
        snprintf(err, cap, "the database refused: %s", store_error_text(r));
        return CLUSTER_UNAVAILABLE;
    }
    if (r == 0) {
        snprintf(err, cap, "shard %d of %s is not held by %s: nothing stored", idx, id, worker);
        return CLUSTER_LOST;
    }
    dml_tile t;
    long number;
    int ok = strcmp(kind, "tile") == 0 && tile_of(unit, req, 1, &t, &number) == 0;
    free(unit);
    if (!ok)
        return bad(err, cap, field, "tile", "tile: expected the number of a tile of this tile shard's range");
    size_t half = sizeof(double) * (t.r1 - t.r0) * t.ncols, n = 0;
    dml_tile_hold hold = {.lock_fd = -1};
    dml_error de;
    char *bytes = NULL;
    if (cJSON_GetObjectItemCaseSensitive(req, "data")) {
        if (!(bytes = wire_unpack_bytes(req, 2 * half, 2 * half, &n, err, cap, field)))
            return CLUSTER_BAD;
        char hk[DML_SHA256_HEX], ht[DML_SHA256_HEX];
        if (dml_sha256_hex(bytes, half, hk) || dml_sha256_hex(bytes + half, half, ht) || strcmp(hk, sk) || strcmp(ht, st)) {
            free(bytes);
            return bad(err, cap, field, strcmp(hk, sk) ? "sha256_nngp" : "sha256_ntk",
                       "sha256_nngp, sha256_ntk: a half of the tile does not match its checksum");
        }
    }
    if (dml_tile_cache_enter(a->tile_dir, key, &hold, &de)) {
        free(bytes);
        snprintf(err, cap, "cannot store the tile: %s", de.message);
        return CLUSTER_UNAVAILABLE;
    }
    int rc = CLUSTER_OK;
    if (!dml_tile_present(hold.dir, &t)) {
        char sk2[DML_SHA256_HEX], st2[DML_SHA256_HEX];
        if (!bytes)
            rc = bad(err, cap, field, "data", "data: the server holds no file of this tile (its tile directory is not "
                     "the worker's): send the tile's halves");
        else if (dml_tile_save(hold.dir, &t, (const double *)bytes, (const double *)(bytes + half), sk2, st2, &de)) {
            snprintf(err, cap, "cannot store the tile: %s", de.message);
            rc = CLUSTER_UNAVAILABLE;
        }
    }
    dml_tile_cache_leave(&hold, 1);
    free(bytes);
    if (rc != CLUSTER_OK)
        return rc;
    r = store_shard_tile_add(a->st, id, idx, worker, key, number, sk, st);
    if (r < 0) {
        snprintf(err, cap, "the database refused: %s", store_error_text(r));
        return CLUSTER_UNAVAILABLE;
    }
    if (r == 0) {
        snprintf(err, cap, "shard %d of %s is not held by %s: nothing recorded", idx, id, worker);
        return CLUSTER_LOST;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "stored", 1);
    cJSON_AddBoolToObject(o, "again", r == 2);
    *answer = o;
    return CLUSTER_OK;
}

/* The halves of tile t in dir, read and verified, and their SHA-256: a malloc'd buffer of both (caller frees), or
 * NULL when the file is absent or fails its checksums. */
static char *read_tile(const char *dir, const dml_tile *t, char *sk, char *st)
{
    size_t half = sizeof(double) * (t->r1 - t->r0) * t->ncols;
    char *bytes = malloc(2 * half + 1);
    dml_error de;
    if (!bytes || dml_tile_load(dir, t, (double *)bytes, (double *)(bytes + half), &de) != 1 ||
        dml_sha256_hex(bytes, half, sk) || dml_sha256_hex(bytes + half, half, st)) {
        free(bytes);
        return NULL;
    }
    return bytes;
}

int cluster_tile_have(app *a, const char *id, int idx, const char *worker, const cJSON *req, cJSON **answer, char *err,
                      size_t cap, char field[64])
{
    const char *key = hex_field(req, "key");
    if (!key)
        return bad(err, cap, field, "key", "key: expected the kernel's key, 64 lowercase hex digits");
    char kind[16], *unit = NULL;
    int r = store_shard_unit(a->st, id, idx, worker, kind, &unit);
    cJSON *u = r == 1 ? cJSON_Parse(unit) : NULL;
    free(unit);
    dml_tiling tg;
    size_t first = 0, end = 0;
    int ok = u && strcmp(kind, "tile") == 0 && cluster_tile_unit_parse(u, &tg, &first, &end) == 0 && end > first;
    cJSON_Delete(u);
    if (r < 0) {
        snprintf(err, cap, "the database refused: %s", store_error_text(r));
        return CLUSTER_UNAVAILABLE;
    }
    if (r == 0) {
        snprintf(err, cap, "shard %d of %s is not held by %s", idx, id, worker);
        return CLUSTER_LOST;
    }
    if (!ok)
        return bad(err, cap, field, "index", "index: not a tile shard");
    char have[DML_SHA256_HEX];
    long *v = NULL;
    size_t n = 0;
    if ((r = store_shard_tiles_of(a->st, id, idx, idx + 1, have, &v, &n)) < 0) {
        snprintf(err, cap, "the database refused: %s", store_error_text(r));
        return CLUSTER_UNAVAILABLE;
    }
    dml_tile_hold hold = {.lock_fd = -1};
    dml_error de;
    if (dml_tile_cache_enter(a->tile_dir, key, &hold, &de) == 0) {
        for (size_t i = first; i < end; i++) {
            long num = (long)i;
            if (n && bsearch_long(&num, v, n))
                continue;
            dml_tile t;
            dml_tiling_tile(&tg, i, &t);
            char sk[DML_SHA256_HEX], st[DML_SHA256_HEX], *b = dml_tile_present(hold.dir, &t) ? read_tile(hold.dir, &t, sk, st) : NULL;
            if (b && store_shard_tile_found(a->st, id, idx, worker, key, num, sk, st) < 0)
                util_log("experiment %s: cannot record tile %ld of shard %d as found", id, num, idx);
            free(b);
        }
        dml_tile_cache_leave(&hold, 1);
    }
    free(v);
    if ((r = store_shard_tiles_of(a->st, id, idx, idx + 1, have, &v, &n)) < 0) {
        snprintf(err, cap, "the database refused: %s", store_error_text(r));
        return CLUSTER_UNAVAILABLE;
    }
    long found = store_shard_tiles_found(a->st, id, idx);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "stored");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)v[i]));
    free(v);
    cJSON_AddNumberToObject(o, "found", (double)(found > 0 ? found : 0));
    *answer = o;
    return CLUSTER_OK;
}

int cluster_tile_fetch(app *a, const cJSON *req, cJSON **answer, char *err, size_t cap, char field[64])
{
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(req, "experiment_id");
    const char *key = hex_field(req, "key"), *id = cJSON_IsString(idv) ? idv->valuestring : NULL;
    if (!id || strlen(id) > 64)
        return bad(err, cap, field, "experiment_id", "experiment_id: expected the id of the tile's experiment");
    if (!key)
        return bad(err, cap, field, "key", "key: expected the kernel's key, 64 lowercase hex digits");
    long number = unit_long(req, "tile", 0);
    if (number < 0)
        return bad(err, cap, field, "tile", "tile: expected a tile number, a non-negative integer");
    char sk[DML_SHA256_HEX], st[DML_SHA256_HEX], kind[16], *unit = NULL;
    int idx = 0, r = store_shard_tile_known(a->st, id, key, number, &idx, sk, st);
    if (r == 1)
        r = store_shard_unit(a->st, id, idx, NULL, kind, &unit);
    if (r < 0) {
        snprintf(err, cap, "the database refused: %s", store_error_text(r));
        return CLUSTER_UNAVAILABLE;
    }
    dml_tile t;
    long n2;
    if (r == 0 || tile_of(unit, req, 0, &t, &n2)) {
        free(unit);
        snprintf(err, cap, "tile %ld of kernel %.16s... is not stored for experiment %s", number, key, id);
        return CLUSTER_LOST;
    }
    free(unit);
    size_t half = sizeof(double) * (t.r1 - t.r0) * t.ncols;
    dml_tile_hold hold = {.lock_fd = -1};
    dml_error de;
    if (dml_tile_cache_enter(a->tile_dir, key, &hold, &de)) {
        snprintf(err, cap, "cannot read the tile: %s", de.message);
        return CLUSTER_UNAVAILABLE;
    }
    char hk[DML_SHA256_HEX], ht[DML_SHA256_HEX], *bytes = read_tile(hold.dir, &t, hk, ht);
    dml_tile_cache_leave(&hold, 1);
    if (!bytes || strcmp(hk, sk) || strcmp(ht, st)) {
        free(bytes);
        snprintf(err, cap, "tile %ld of kernel %.16s... is no longer stored (evicted or corrupted): compute it", number, key);
        return CLUSTER_LOST;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddNumberToObject(o, "tile", (double)number);
    cJSON_AddStringToObject(o, "sha256_nngp", sk);
    cJSON_AddStringToObject(o, "sha256_ntk", st);
    r = wire_pack_bytes(o, bytes, 2 * half, 1);
    free(bytes);
    if (r) {
        cJSON_Delete(o);
        snprintf(err, cap, "out of memory");
        return CLUSTER_UNAVAILABLE;
    }
    *answer = o;
    return CLUSTER_OK;
}
